//! The operations console in a real browser (headless chromium driven by
//! `browser/console.mjs`) against a real gateway, with real WebSocket
//! viewers here: the operator creates and starts a room; a viewer's comment
//! shows in the console within 1 s; a deletion and a mute from the console
//! reach the viewers; a notice and a goods card reach them; a dashboard
//! figure moves; an assistant's token is refused operator actions by the
//! server. The co-stream controls (`browser/console-costream.mjs`): the
//! anchor's page switches co-stream on, sees a real-name viewer's
//! application, accepts and confirms, mutes and ends the live co-stream,
//! and links with another room whose anchor accepts; an operator sees the
//! public state read-only, a sub-anchor only the switch. Screenshots of
//! every page go to `$CONSOLE_SCREENSHOTS` or
//! `target/console-screenshots/`. Also: the embedded files are served, and
//! `GET /api/node` answers on every backend.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use protocol::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn console_files_are_served_from_the_binary() {
    let gw = TestGateway::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{}", gw.addr);
    let r = http.get(format!("{base}/console")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/console/");
    for (path, ctype, needle) in [
        ("/console/", "text/html", "/console/app.js"),
        ("/console/app.js", "text/javascript", "export function h("),
        ("/console/i18n.js", "text/javascript", "直播网关控制台"),
        (
            "/console/costream.js",
            "text/javascript",
            "export function costreamSection(",
        ),
        (
            "/console/pk.js",
            "text/javascript",
            "export function pkCard(",
        ),
        ("/console/style.css", "text/css", "--accent"),
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ctype),
            "{path}"
        );
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    let r = http
        .get(format!("{base}/console/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!("{base}/console/secrets.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn node_route_reports_this_node() {
    let gw = TestGateway::start().await;
    gw.room("n1", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("n1").await;
    let (st, body) = gw.api("GET", "/api/node", None).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["node"], gw.node().settings.node_id.as_str());
    assert_eq!(body["readiness"], "ready");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["connections"], 1);
    assert_eq!(body["rooms"], 1);
    assert_eq!(body["hubs"][0]["room"], "n1");
    assert_eq!(body["hubs"][0]["online"], 1);
    let backend = test_backend();
    let expected = match backend.as_str() {
        "memory" => "memory",
        "cluster" => "redis_cluster",
        _ => "redis",
    };
    assert_eq!(body["backend"], expected);
    // Behind the admin key like every /api route.
    let r = reqwest::get(format!("http://{}/api/node", gw.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Reads `/api/nodes` on `gw` until `done` holds (10 s at most).
async fn nodes_until(
    gw: &TestGateway,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (st, body) = gw.api("GET", "/api/nodes", None).await;
        assert_eq!(st, 200, "{body}");
        let nodes = body["nodes"].as_array().cloned().unwrap_or_default();
        if done(&nodes) {
            return nodes;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn nodes_route_lists_every_live_node() {
    let gw = TestGateway::start().await;
    gw.room("n2", "anna", true).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("n2").await;
    let me = gw.node().settings.node_id.clone();
    let nodes = nodes_until(&gw, |n| {
        n.iter()
            .any(|x| x["node"] == me.as_str() && x["connections"] == 1)
    })
    .await;
    let mine = nodes.iter().find(|x| x["node"] == me.as_str()).unwrap();
    assert_eq!(mine["readiness"], "ready");
    assert_eq!(mine["rooms"], 1);
    assert!(mine["reported_at"].as_i64().unwrap() > 0);
    if test_backend() == "memory" {
        assert_eq!(nodes.len(), 1, "{nodes:?}");
        return;
    }
    // A second node on the same store shows up, and goes once it stops reporting.
    let mut peer = gw.start_peer().await;
    let other = peer.node().settings.node_id.clone();
    nodes_until(&gw, |n| n.iter().any(|x| x["node"] == other.as_str())).await;
    peer.shutdown().await;
    nodes_until(&gw, |n| {
        n.iter().all(|x| x["node"] != other.as_str()) && n.len() == 1
    })
    .await;
    // Behind the admin key like every /api route.
    let r = reqwest::get(format!("http://{}/api/nodes", gw.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn comment_offset(c: &mut Client, text: &str) -> u64 {
    match c.comment(text).await {
        ServerFrame::Ack(Ack { event: Some(e), .. }) => e.offset,
        other => panic!("comment refused: {other:?}"),
    }
}

#[tokio::test]
async fn console_in_a_real_browser() {
    // A curve point a second, so the dashboard has a curve to draw.
    let gw = TestGateway::start_with(|s| s.dashboard_curve_ms = 1000).await;
    let shots = shots_dir();
    let mut child = browser_script(
        &gw,
        "browser/console.mjs",
        &[("ASSISTANT_TOKEN", gw.token("helen"))],
    );
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vic: Option<Client> = None;
    let mut troll: Option<Client> = None;
    let mut vic_offset = 0;
    let mut log = vec![];
    let run = async {
        while let Some(line) = out.next_line().await.unwrap() {
            log.push(line.clone());
            let Some(step) = line.strip_prefix('@') else {
                continue;
            };
            let mut words = step.split_whitespace();
            let name = words.next().unwrap_or_default();
            let arg = words.collect::<Vec<_>>().join(" ");
            let mut reply = "ok".to_string();
            match name {
                "room_started" => {
                    let (st, room) = gw.api("GET", "/api/rooms/r1", None).await;
                    assert_eq!(st, 200);
                    assert_eq!(room["status"], 101, "the console started the room");
                    assert_eq!(room["anchor"], "anna");
                    assert_eq!(room["moderation"]["assistants"][0]["user"], "helen");
                    let mut v = gw.connect(Some("vic")).await;
                    v.join("r1").await;
                    let mut t = gw.connect(Some("troll")).await;
                    t.join("r1").await;
                    vic = Some(v);
                    troll = Some(t);
                }
                "comment" => {
                    let sent = std::time::Instant::now();
                    vic_offset = comment_offset(vic.as_mut().unwrap(), "hello-from-vic").await;
                    reply = format!("ok {}", sent.elapsed().as_millis());
                }
                "deleted" => {
                    assert_eq!(arg, vic_offset.to_string());
                    vic.as_mut()
                        .unwrap()
                        .events_until(|es| {
                            es.iter().any(|e| {
                                matches!(&e.kind,
                                EventKind::CommentDeleted(d) if d.offsets.contains(&vic_offset))
                            })
                        })
                        .await;
                }
                "troll_comment" => {
                    comment_offset(troll.as_mut().unwrap(), "troll-says-hi").await;
                }
                "muted" => {
                    let f = troll.as_mut().unwrap().comment("still here").await;
                    assert_eq!(error_code(&f), Some(ErrorCode::Muted), "{f:?}");
                }
                "notice" => {
                    vic.as_mut()
                        .unwrap()
                        .events_until(|es| {
                            es.iter().any(|e| {
                                matches!(&e.kind,
                                EventKind::Notice(n) if n.notice.text == arg)
                            })
                        })
                        .await;
                }
                "card" => {
                    vic.as_mut()
                        .unwrap()
                        .events_until(|es| {
                            es.iter().any(|e| matches!(&e.kind,
                                EventKind::Card(c) if c.card.as_ref().is_some_and(|c| c.goods.id == arg)))
                        })
                        .await;
                }
                "dashboard" => {
                    let f = vic
                        .as_mut()
                        .unwrap()
                        .request(Request::Like(Like { count: 5 }))
                        .await;
                    assert!(matches!(f, ServerFrame::Ack(_)), "{f:?}");
                }
                "assistant_refused" => {
                    let (_, room) = gw.api("GET", "/api/rooms/r1", None).await;
                    assert_eq!(room["status"], 101, "the assistant's end was refused");
                    let (_, notice) = gw.api("GET", "/api/rooms/r1/notice", None).await;
                    assert_eq!(notice["notice"]["notice"]["id"], 1, "no second notice");
                }
                other => panic!("unknown step {other}"),
            }
            stdin
                .write_all(format!("{reply}\n").as_bytes())
                .await
                .unwrap();
            stdin.flush().await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the browser run finished in time");
    let status = child.wait().await.unwrap();
    let text = log.join("\n");
    assert!(status.success(), "browser/console.mjs failed:\n{text}");
    assert!(text.contains("console: ok"), "{text}");
    println!("{text}");
    for page in [
        "01-signin",
        "02-rooms",
        "03-room-control",
        "04-moderation",
        "05-dashboard",
        "06-cluster",
        "08-assistant-control",
    ] {
        assert!(shots.join(format!("{page}.png")).exists(), "{page}");
    }
}

fn costream_token(gw: &TestGateway, user: &str, real_name: bool) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    gw.node()
        .keys
        .mint(user, &format!("nick-{user}"), real_name, now, 600)
        .unwrap()
}

fn cs_request(
    action: costream::CostreamAction,
    session: Option<u64>,
    media: Option<costream::Media>,
) -> Request {
    Request::Costream(costream::CostreamRequest {
        action,
        user: None,
        media,
        session,
        muted: None,
    })
}

/// The first `costream_step` in `events` that `pred` accepts.
fn cs_step(
    events: &[RoomEvent],
    pred: impl Fn(&costream::CostreamStep) -> bool,
) -> Option<costream::CostreamStep> {
    events.iter().find_map(|e| match &e.kind {
        EventKind::CostreamStep(s) if pred(s) => Some(s.clone()),
        _ => None,
    })
}

fn link_step(
    events: &[RoomEvent],
    pred: impl Fn(&costream::LinkStep) -> bool,
) -> Option<costream::LinkStep> {
    events.iter().find_map(|e| match &e.kind {
        EventKind::LinkStep(s) if pred(s) => Some((**s).clone()),
        _ => None,
    })
}

#[tokio::test]
async fn console_costream_in_a_real_browser() {
    use costream::{CostreamAction as A, CostreamPhase as P, LinkAction, LinkRequest, Media};
    let gw = TestGateway::start().await;
    gw.room("c1", "anna", true).await;
    gw.room("c2", "bob", true).await;
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/c1/roles/sam",
            Some(serde_json::json!({"role": "sub_anchor"})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let tokens = [
        ("ANCHOR_TOKEN", costream_token(&gw, "anna", false)),
        ("SUB_ANCHOR_TOKEN", costream_token(&gw, "sam", false)),
    ];
    let shots = shots_dir();
    let mut child = browser_script(&gw, "browser/console-costream.mjs", &tokens);
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vic: Option<Client> = None;
    let mut bob: Option<Client> = None;
    let mut session = 0;
    let mut log = vec![];
    let run = async {
        while let Some(line) = out.next_line().await.unwrap() {
            log.push(line.clone());
            let Some(step) = line.strip_prefix('@') else {
                continue;
            };
            let name = step.split_whitespace().next().unwrap_or_default();
            let mut reply = "ok".to_string();
            match name {
                "apply" => {
                    let mut v = gw.connect_token(&costream_token(&gw, "vic", true)).await;
                    v.join("c1").await;
                    let f = v
                        .request(cs_request(A::Apply, None, Some(Media::Video)))
                        .await;
                    assert!(matches!(f, ServerFrame::Ack(_)), "{f:?}");
                    vic = Some(v);
                }
                "guest_confirm" => {
                    let v = vic.as_mut().unwrap();
                    let got = v
                        .events_until(|e| cs_step(e, |s| s.phase == P::AnchorConfirmed).is_some())
                        .await;
                    let s = cs_step(&got, |s| s.phase == P::AnchorConfirmed).unwrap();
                    assert_eq!((s.anchor.as_str(), s.media), ("anna", Media::Video));
                    session = s.session;
                    let f = v.request(cs_request(A::Confirm, Some(session), None)).await;
                    assert!(matches!(f, ServerFrame::Ack(_)), "{f:?}");
                    reply = format!("ok {session}");
                }
                "muted" => {
                    vic.as_mut()
                        .unwrap()
                        .events_until(|e| cs_step(e, |s| s.session == session && s.muted).is_some())
                        .await;
                }
                "ended" => {
                    let got = vic
                        .as_mut()
                        .unwrap()
                        .events_until(|e| cs_step(e, |s| s.phase == P::Ended).is_some())
                        .await;
                    let s = cs_step(&got, |s| s.phase == P::Ended).unwrap();
                    assert_eq!(
                        (s.session, s.reason.as_deref()),
                        (session, Some("ended_by_anchor"))
                    );
                }
                "bob_joins" => {
                    let mut b = gw.connect_token(&costream_token(&gw, "bob", false)).await;
                    b.join("c2").await;
                    bob = Some(b);
                }
                "link_accept" => {
                    let b = bob.as_mut().unwrap();
                    let got = b
                        .events_until(|e| link_step(e, |s| s.phase == P::Invited).is_some())
                        .await;
                    let s = link_step(&got, |s| s.phase == P::Invited).unwrap();
                    assert_eq!(
                        (s.link.from_room.as_str(), s.link.from_anchor.as_str()),
                        ("c1", "anna")
                    );
                    let f = b
                        .request(Request::Link(LinkRequest {
                            action: LinkAction::Accept,
                            room: Some("c1".into()),
                            link: Some(s.link.link),
                            duration_s: None,
                        }))
                        .await;
                    assert!(matches!(f, ServerFrame::Ack(_)), "{f:?}");
                }
                "bob_invites" => {
                    let f = bob
                        .as_mut()
                        .unwrap()
                        .request(Request::Link(LinkRequest {
                            action: LinkAction::Invite,
                            room: Some("c1".into()),
                            link: None,
                            duration_s: None,
                        }))
                        .await;
                    assert!(matches!(f, ServerFrame::Ack(_)), "{f:?}");
                }
                "bob_declined" | "bob_linked" => {
                    let want = if name == "bob_linked" {
                        P::Live
                    } else {
                        P::Ended
                    };
                    let got = bob
                        .as_mut()
                        .unwrap()
                        .events_until(|e| link_step(e, |s| s.phase == want).is_some())
                        .await;
                    let s = link_step(&got, |s| s.phase == want).unwrap();
                    assert_eq!(s.link.from_room, "c2");
                    if want == P::Ended {
                        assert_eq!(s.reason.as_deref(), Some("declined"));
                    }
                }
                "link_ended" => {
                    let got = bob
                        .as_mut()
                        .unwrap()
                        .events_until(|e| link_step(e, |s| s.phase == P::Ended).is_some())
                        .await;
                    let s = link_step(&got, |s| s.phase == P::Ended).unwrap();
                    assert_eq!(s.reason.as_deref(), Some("ended_by_anchor"));
                    let r1 = gw.node().store.room("c1").await.unwrap();
                    assert_eq!(r1.costream.link, None);
                }
                other => panic!("unknown step {other}"),
            }
            stdin
                .write_all(format!("{reply}\n").as_bytes())
                .await
                .unwrap();
            stdin.flush().await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the browser run finished in time");
    let status = child.wait().await.unwrap();
    let text = log.join("\n");
    assert!(
        status.success(),
        "browser/console-costream.mjs failed:\n{text}"
    );
    assert!(text.contains("console-costream: ok"), "{text}");
    println!("{text}");
    for page in [
        "20-costream-applicant",
        "21-costream-live",
        "22-costream-admin",
        "23-link-live",
        "24-costream-en",
        "25-costream-sub-anchor",
    ] {
        assert!(shots.join(format!("{page}.png")).exists(), "{page}");
    }
}

/// Runs a browser script (`node browser/...`) against `gw`, with the
/// gateway's URL, the admin key, the screenshot folder and `env`; its
/// stdin and stdout are the step protocol.
fn browser_script(gw: &TestGateway, script: &str, env: &[(&str, String)]) -> tokio::process::Child {
    tokio::process::Command::new("node")
        .arg(script)
        .current_dir(repo_root())
        .env("GATEWAY_URL", format!("http://{}", gw.addr))
        .env("ADMIN_KEY", &gw.admin_key)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CONSOLE_SCREENSHOTS", shots_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (scripts/browser-setup.sh installs the browser tests)")
}

/// Where the browser scripts save their screenshots.
fn shots_dir() -> PathBuf {
    std::env::var("CONSOLE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target/console-screenshots"))
}

//! Co-stream proven in real browsers: two nodes on one redis-server, a
//! tiny page served here, and `browser/costream.mjs` driving two headless
//! chromium pages (one per node) through apply → accept → confirm →
//! confirm and a WebRTC data channel whose only signalling is the
//! gateway's `signal` relay, with a message each way; and the same for an
//! anchor-to-anchor link between two rooms (`browser/link.mjs`).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../browser")
}

/// Whether chromium and playwright-core are installed
/// (`scripts/browser-setup.sh`, run by `scripts/test.sh`).
fn browser_available() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    std::path::Path::new(&chromium).exists()
        && browser_dir().join("node_modules/playwright-core").exists()
}

/// Serves `browser/costream.html` on a free loopback port; returns its URL.
async fn serve_page() -> String {
    let html = std::fs::read(browser_dir().join("costream.html")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    html.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&html).await;
            });
        }
    });
    format!("http://{addr}/costream.html")
}

fn real_name_token(gw: &TestGateway, user: &str) -> String {
    let now = gateway::clock::now_ms() as u64 / 1000;
    gw.node()
        .keys
        .mint(user, &format!("nick-{user}"), true, now, 600)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_on_two_nodes_open_a_data_channel_through_the_gateway() {
    if !browser_available() {
        eprintln!("SKIPPED: chromium or playwright-core missing (run scripts/browser-setup.sh)");
        return;
    }
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|_| {}).await else {
        return;
    };
    a.room("r1", "anna", true).await;
    let page = serve_page().await;
    let script = browser_dir().join("costream.mjs");
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&page)
        .arg("r1")
        .arg(format!("ws://{}/ws", a.addr))
        .arg(real_name_token(&a, "anna"))
        .arg(format!("ws://{}/ws", b.addr))
        .arg(real_name_token(&b, "vic"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the browser test ran past 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(r#"guest got "hello from the anchor", anchor got "hello from the guest""#),
        "{stdout}"
    );
    // The offer went one way, the answer the other, and candidates each way
    // ended by end_of_candidates.
    assert!(stdout.contains("signals to guest: offer,"), "{stdout}");
    assert!(stdout.contains("to anchor: answer,"), "{stdout}");
    assert!(stdout.contains("end_of_candidates"), "{stdout}");
    // Signalling never entered the room log: a replay of all of it holds
    // the co-stream's public events and no signal.
    let mut late = a.connect(None).await;
    let epoch = late.join("r1").await.epoch;
    let resume = protocol::Resume { epoch, offset: 0 };
    let join = protocol::Request::Join(protocol::Join {
        room: "r1".into(),
        resume: Some(resume),
    });
    let protocol::ServerFrame::Joined(j) = late.request(join).await else {
        panic!("no joined")
    };
    let kinds: Vec<_> = j.missed.iter().map(|e| e.kind.tag()).collect();
    assert!(kinds.contains(&"costream"), "{kinds:?}");
    assert!(!kinds.contains(&"signal"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_anchors_in_browsers_on_two_nodes_link_their_rooms() {
    if !browser_available() {
        eprintln!("SKIPPED: chromium or playwright-core missing (run scripts/browser-setup.sh)");
        return;
    }
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|_| {}).await else {
        return;
    };
    a.room("r1", "anna", true).await;
    a.room("r2", "bob", true).await;
    let page = serve_page().await;
    let run = tokio::process::Command::new("node")
        .arg(browser_dir().join("link.mjs"))
        .arg(&page)
        .arg("r1")
        .arg(format!("ws://{}/ws", a.addr))
        .arg(real_name_token(&a, "anna"))
        .arg("r2")
        .arg(format!("ws://{}/ws", b.addr))
        .arg(real_name_token(&b, "bob"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the browser test ran past 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(r#"B got "hello from room A", A got "hello from room B""#),
        "{stdout}"
    );
    // Both rooms' logs hold the link's start, and its end once the
    // anchors' pages closed (the rooms went abnormal).
    for room in ["r1", "r2"] {
        let mut late = b.connect(None).await;
        let epoch = late.join(room).await.epoch;
        let join = protocol::Request::Join(protocol::Join {
            room: room.into(),
            resume: Some(protocol::Resume { epoch, offset: 0 }),
        });
        let protocol::ServerFrame::Joined(j) = late.request(join).await else {
            panic!("no joined")
        };
        let reasons: Vec<_> = j
            .missed
            .iter()
            .filter_map(|e| match &e.kind {
                protocol::EventKind::Link(l) => l.reason.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons.first().map(String::as_str),
            Some("started"),
            "{room}: {reasons:?}"
        );
    }
}

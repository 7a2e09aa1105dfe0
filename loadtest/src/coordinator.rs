//! The coordinator: sets up rooms and tokens, splits a scenario over
//! worker processes (the same binary, `loadtest worker`), shows progress,
//! runs timed actions, samples local gateway processes, and merges what the
//! workers report.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::admin::Admin;
use crate::plan::{
    PairPlan, Progress, RoomShare, SenderPlan, WorkerLine, WorkerPlan, WorkerReport,
};
use crate::procstat::ProcWatch;
use crate::scenario::{ActionKind, Costream, Scenario, guard_targets, room_sizes};
use crate::worker::{DRAIN_S, interleave};

/// Options of `loadtest run` beyond the scenario.
#[derive(Debug, Clone)]
pub struct RunOpts {
    /// Local gateway pids to sample (added to the scenario's).
    pub gateway_pids: Vec<u32>,
    /// Allow targets outside 127.0.0.0/8.
    pub allow_remote: bool,
    /// Show the progress bar.
    pub progress: bool,
    /// The binary to start workers from.
    pub exe: PathBuf,
    /// Admin key overriding the scenario's.
    pub admin_key: Option<String>,
    /// Shell command run (`sh -c`) when the traffic phase begins.
    pub on_window_start: Option<String>,
    /// Shell command run when the drain after the traffic phase ends (every
    /// reply to the traffic's requests is in by then).
    pub on_window_end: Option<String>,
}

/// Longest a window hook may run before it is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a window hook with `LOADTEST_WINDOW` = `which` in its environment.
async fn run_hook(which: &'static str, cmd: String) -> String {
    let child = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .env("LOADTEST_WINDOW", which)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status();
    match tokio::time::timeout(HOOK_TIMEOUT, child).await {
        Ok(Ok(st)) if st.success() => format!("window {which} hook: ok"),
        Ok(Ok(st)) => format!("window {which} hook: {st}"),
        Ok(Err(e)) => format!("window {which} hook: {e}"),
        Err(_) => format!("window {which} hook: killed after {HOOK_TIMEOUT:?}"),
    }
}

/// What the coordinator collected, before it is turned into a report.
pub struct Collected {
    /// The scenario run.
    pub scenario: Scenario,
    /// One report per worker.
    pub workers: Vec<WorkerReport>,
    /// Gateway and worker processes.
    pub procs: Vec<ProcWatch>,
    /// Timed actions and probes, as they happened.
    pub log: Vec<String>,
    /// High-lane probes sent successfully.
    pub probes: u64,
    /// Workers that did not report.
    pub missing_workers: usize,
    /// Whole-machine CPU over the traffic window (co-tenants included).
    pub machine_cpu: Option<crate::procstat::MachineCpu>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Splits `n` into `parts` nearly equal shares.
pub fn split(n: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| n / parts + usize::from(i < n % parts))
        .collect()
}

/// The item grab scenarios grab.
pub const GRAB_GOODS: &str = "lt-goods";

/// The targets of pair `k`'s anchor and guest among `t` targets: anchors
/// round-robin, each guest on another target, every ordered pair of two
/// targets in turn (one target: both on it).
pub fn pair_targets(k: usize, t: usize) -> (usize, usize) {
    if t <= 1 {
        return (0, 0);
    }
    let anchor = k % t;
    let offset = 1 + (k / t) % (t - 1);
    (anchor, (anchor + offset) % t)
}

/// The co-stream pairs of a scenario, with the parties' tokens (in pair
/// order; empty strings for `check`).
pub fn pair_plans(
    s: &Scenario,
    anchor_tokens: &[String],
    guest_tokens: &[String],
) -> Vec<PairPlan> {
    let Some(c) = &s.costream else {
        return vec![];
    };
    (0..c.pairs)
        .map(|k| {
            let (anchor_target, guest_target) = pair_targets(k, s.targets.len());
            PairPlan {
                index: k,
                room: c.room_id(k),
                anchor: Costream::anchor(k),
                anchor_token: anchor_tokens.get(k).cloned().unwrap_or_default(),
                anchor_target,
                guest: Costream::guest(k),
                guest_token: guest_tokens.get(k).cloned().unwrap_or_default(),
                guest_target,
            }
        })
        .collect()
}

/// Builds the worker plans of a scenario (tokens already minted); pair `k`
/// goes to worker `k % workers`, both its parties in that worker.
pub fn plans(
    s: &Scenario,
    sender_tokens: &[String],
    liker_tokens: &[String],
    grabber_tokens: &[String],
    pairs: &[PairPlan],
    start_unix_ms: u64,
) -> Vec<WorkerPlan> {
    let senders = sender_tokens.len();
    let likers = liker_tokens.len();
    let grabbers = grabber_tokens.len();
    let total = s.viewers + senders + likers + grabbers + 2 * pairs.len();
    let n = total.div_ceil(s.per_worker).max(1);
    let sizes = room_sizes(s.viewers, s.rooms.count, s.rooms.zipf_s);
    let per_room: Vec<Vec<usize>> = sizes.iter().map(|&v| split(v, n)).collect();
    let sender_rooms = interleave(&room_sizes(senders, s.rooms.count, s.rooms.zipf_s));
    let ramp = split(s.viewers, n);
    let mut first_index = 0;
    (0..n)
        .map(|w| {
            let rooms: Vec<RoomShare> = per_room
                .iter()
                .enumerate()
                .filter(|(_, shares)| shares[w] > 0)
                .map(|(k, shares)| RoomShare {
                    room: s.room_id(k),
                    viewers: shares[w],
                })
                .collect();
            let mine = |i: &usize| i % n == w;
            let sp: Vec<SenderPlan> = (0..senders)
                .filter(mine)
                .map(|i| SenderPlan {
                    room: s.room_id(sender_rooms.get(i).copied().unwrap_or(0)),
                    token: sender_tokens[i].clone(),
                    rate: s.comment_rate / senders as f64,
                })
                .collect();
            let lp: Vec<SenderPlan> = (0..likers)
                .filter(mine)
                .map(|i| SenderPlan {
                    room: s.room_id(i % s.rooms.count),
                    token: liker_tokens[i].clone(),
                    rate: s.like_rate / likers as f64,
                })
                .collect();
            let gp: Vec<SenderPlan> = (0..grabbers)
                .filter(mine)
                .map(|i| SenderPlan {
                    room: s.room_id(0),
                    token: grabber_tokens[i].clone(),
                    rate: s.grab_rate / grabbers as f64,
                })
                .collect();
            let share = ramp[w] as f64 / s.viewers.max(1) as f64;
            let plan = WorkerPlan {
                worker: w,
                targets: s.targets.clone(),
                placement: s.placement,
                codec: s.codec,
                binary_percent: s.binary_percent,
                viewer_token_secret: s
                    .viewer_token_secret
                    .clone()
                    .or_else(|| std::env::var("LOADTEST_VIEWER_TOKEN_SECRET").ok()),
                like_count: s.like_count,
                wire: s.wire,
                start_unix_ms,
                ramp_s: s.ramp_s(),
                duration_s: s.duration_s,
                ramp_per_s: (s.ramp_per_s * share).max(0.001),
                connect_concurrency: s.connect_concurrency,
                source_ips: s.source_ip_count(),
                first_index,
                rooms,
                churn_per_s: s.churn_per_s * share,
                senders: sp,
                likers: lp,
                grabbers: gp,
                grab_retry_percent: s.grab_retry_percent,
                shelf_on_join: s.shelf_on_join,
                pairs: pairs.iter().filter(|p| p.index % n == w).cloned().collect(),
                costream: s.costream.clone(),
            };
            first_index += ramp[w] + plan.senders.len() + plan.likers.len() + plan.grabbers.len();
            plan
        })
        .collect()
}

/// Runs a scenario to completion.
pub async fn run(mut s: Scenario, opts: RunOpts) -> anyhow::Result<Collected> {
    if let Some(k) = &opts.admin_key {
        s.admin_key = Some(k.clone());
    }
    let admin_base = s.admin_base()?;
    guard_targets(
        s.targets
            .iter()
            .map(String::as_str)
            .chain([admin_base.as_str()]),
        opts.allow_remote,
    )?;
    let mut log = vec![];
    let admin = match &s.admin_key {
        Some(k) => Some(Admin::new(&admin_base, k)?),
        None => None,
    };
    let (mut sender_tokens, mut liker_tokens, mut grabber_tokens) = (vec![], vec![], vec![]);
    let (mut anchor_tokens, mut guest_tokens) = (vec![], vec![]);
    if let Some(a) = &admin {
        if s.rooms.create {
            let mut set = JoinSet::new();
            for k in 0..s.rooms.count {
                let (a, room) = (a.clone(), s.room_id(k));
                set.spawn(async move { a.ensure_live(&room).await });
                if set.len() >= 16 {
                    set.join_next().await.context("join")???;
                }
            }
            while let Some(r) = set.join_next().await {
                r??;
            }
            log.push(format!("created and started {} room(s)", s.rooms.count));
        }
        sender_tokens = mint(a, "lt-sender", s.sender_count()).await?;
        liker_tokens = mint(a, "lt-liker", s.liker_count()).await?;
        grabber_tokens = mint(a, "lt-grabber", s.grabber_count()).await?;
        if let Some(c) = &s.costream {
            let mut set = JoinSet::new();
            for k in 0..c.pairs {
                let (a, room) = (a.clone(), c.room_id(k));
                set.spawn(async move { a.ensure_live_as(&room, &Costream::anchor(k)).await });
                if set.len() >= 16 {
                    set.join_next().await.context("join")???;
                }
            }
            while let Some(r) = set.join_next().await {
                r??;
            }
            let anchors: Vec<String> = (0..c.pairs).map(Costream::anchor).collect();
            let guests: Vec<String> = (0..c.pairs).map(Costream::guest).collect();
            anchor_tokens = mint_users(a, &anchors, false).await?;
            guest_tokens = mint_users(a, &guests, true).await?;
            log.push(format!(
                "created and started {} co-stream room(s), minted their anchors' and guests' tokens",
                c.pairs
            ));
        }
        for n in 0..s.shelf_goods {
            a.put_goods(&s.room_id(0), &format!("lt-item-{n}"), 100)
                .await?;
        }
        if s.shelf_goods > 0 {
            log.push(format!(
                "put {} goods on the shelf of {}",
                s.shelf_goods,
                s.room_id(0)
            ));
        }
        if s.grab_rate > 0.0 {
            a.put_goods(&s.room_id(0), GRAB_GOODS, s.grab_quota).await?;
            log.push(format!(
                "put {GRAB_GOODS} ({} units, 1 per order) in {}",
                s.grab_quota,
                s.room_id(0)
            ));
        }
    }

    let start_unix_ms = unix_ms() + 1500;
    let pairs = pair_plans(&s, &anchor_tokens, &guest_tokens);
    let plans = plans(
        &s,
        &sender_tokens,
        &liker_tokens,
        &grabber_tokens,
        &pairs,
        start_unix_ms,
    );
    let start = Instant::now() + Duration::from_millis(1500);
    let traffic_start = start + Duration::from_secs(s.ramp_s());
    let traffic_end = traffic_start + Duration::from_secs(s.duration_s);
    let hard_end = traffic_end + Duration::from_secs_f64(DRAIN_S) + Duration::from_secs(60);

    let (tx, mut rx) = mpsc::channel::<(usize, WorkerLine)>(1024);
    let mut children: Vec<Child> = vec![];
    let mut procs = vec![];
    let mut pids: Vec<u32> = s.gateway_pids.clone();
    pids.extend(&opts.gateway_pids);
    pids.dedup();
    for &p in &pids {
        procs.push(ProcWatch::new(p, "gateway"));
    }
    for plan in &plans {
        let mut child = Command::new(&opts.exe)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a worker")?;
        let mut stdin = child.stdin.take().context("worker stdin")?;
        stdin.write_all(&serde_json::to_vec(plan)?).await?;
        drop(stdin);
        let stdout = child.stdout.take().context("worker stdout")?;
        if let Some(pid) = child.id() {
            procs.push(ProcWatch::new(pid, "worker"));
        }
        let (tx, w) = (tx.clone(), plan.worker);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(l) = serde_json::from_str::<WorkerLine>(&line) {
                    if tx.send((w, l)).await.is_err() {
                        break;
                    }
                } else {
                    eprintln!("worker {w}: {line}");
                }
            }
        });
        children.push(child);
    }
    drop(tx);

    let action_log = Arc::new(Mutex::new(vec![]));
    let probes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut background = JoinSet::new();
    for a in s.actions.clone() {
        let (admin, log, room) = (admin.clone(), action_log.clone(), s.room_id(a.room));
        let pid = pids.get(a.node).copied();
        background.spawn(async move {
            tokio::time::sleep_until(traffic_start + Duration::from_secs_f64(a.at_s)).await;
            let what = run_action(a.action, admin.as_ref(), &room, pid).await;
            if let Ok(mut l) = log.lock() {
                l.push(format!("t={:.1}s {:?}: {what}", a.at_s, a.action));
            }
        });
    }
    if s.high_probe_per_s > 0.0
        && let Some(a) = admin.clone()
    {
        let (rooms, rate, probes) = (s.rooms.count, s.high_probe_per_s, probes.clone());
        let prefix = s.rooms.prefix.clone();
        background.spawn(async move {
            let mut tick =
                tokio::time::interval_at(traffic_start, Duration::from_secs_f64(1.0 / rate));
            let mut n = 0usize;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(traffic_end) => break,
                    _ = tick.tick() => {
                        let room = format!("{prefix}-{}", n % rooms);
                        if a.probe(&room, (n / rooms) % 2 == 1).await.is_ok() {
                            probes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        n += 1;
                    }
                }
            }
        });
    }

    let bar = progress_bar(opts.progress, s.viewers as u64);
    let mut progress: Vec<Progress> = vec![Progress::default(); plans.len()];
    let mut reports: Vec<Option<WorkerReport>> = vec![None; plans.len()];
    let mut sample = tokio::time::interval(Duration::from_secs(1));
    let (mut marked_start, mut marked_end) = (false, false);
    let (mut machine0, mut machine_cpu) = (None, None);
    let window_start = tokio::time::sleep_until(if s.measure_ramp { start } else { traffic_start });
    let window_end = tokio::time::sleep_until(traffic_end);
    let drained = tokio::time::sleep_until(traffic_end + Duration::from_secs_f64(DRAIN_S));
    tokio::pin!(window_start, window_end, drained);
    let mut hooks = JoinSet::new();
    let mut start_hook = opts.on_window_start.clone();
    let mut end_hook = opts.on_window_end.clone();
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some((w, WorkerLine::Progress(p))) => progress[w] = p,
                Some((w, WorkerLine::Report(r))) => reports[w] = Some(*r),
                None => break,
            },
            _ = sample.tick() => {
                for p in &mut procs {
                    p.sample();
                }
                update_bar(&bar, &progress, start, traffic_start, traffic_end);
            }
            _ = &mut window_start, if !marked_start => {
                marked_start = true;
                procs.iter_mut().for_each(ProcWatch::mark_start);
                machine0 = crate::procstat::machine_ticks();
                if let Some(cmd) = start_hook.take() {
                    hooks.spawn(run_hook("start", cmd));
                }
            }
            _ = &mut drained, if end_hook.is_some() => {
                if let Some(cmd) = end_hook.take() {
                    hooks.spawn(run_hook("end", cmd));
                }
            }
            _ = &mut window_end, if !marked_end => {
                marked_end = true;
                procs.iter_mut().for_each(ProcWatch::mark_end);
                if let (Some(a), Some(b)) = (machine0, crate::procstat::machine_ticks()) {
                    machine_cpu = Some(crate::procstat::MachineCpu::between(a, b));
                }
            }
            _ = tokio::time::sleep_until(hard_end) => {
                bar.println("workers overran the scenario's time: stopping them");
                break;
            }
        }
    }
    bar.finish_and_clear();
    // A run that ended early (or overran) still gets its hooks, in order.
    if let Some(cmd) = start_hook.take() {
        log.push(run_hook("start", cmd).await);
    }
    while let Some(r) = hooks.join_next().await {
        log.push(r.unwrap_or_else(|e| format!("window hook: {e}")));
    }
    if let Some(cmd) = end_hook.take() {
        log.push(run_hook("end", cmd).await);
    }
    for mut c in children {
        let _ = c.start_kill();
        let _ = c.wait().await;
    }
    background.abort_all();
    for p in &mut procs {
        p.sample();
    }
    let missing_workers = reports.iter().filter(|r| r.is_none()).count();
    if missing_workers == reports.len() {
        bail!("no worker reported");
    }
    if let Ok(mut l) = action_log.lock() {
        log.append(&mut l);
    }
    if s.grab_rate > 0.0
        && let Some(a) = &admin
    {
        // The store's own count, to hold the clients' against (no oversell).
        match a.commerce_counters(&s.room_id(0)).await {
            Ok(c) => log.push(format!(
                "store counters of {}: {GRAB_GOODS} reserved {} units, {} grabs reached the store",
                s.room_id(0),
                c[format!("reserved:{GRAB_GOODS}")].as_u64().unwrap_or(0),
                c["grabs"].as_u64().unwrap_or(0)
            )),
            Err(e) => log.push(format!("store counters: {e:#}")),
        }
    }
    Ok(Collected {
        scenario: s,
        workers: reports.into_iter().flatten().collect(),
        procs,
        log,
        probes: probes.load(std::sync::atomic::Ordering::Relaxed),
        missing_workers,
        machine_cpu,
    })
}

/// Tokens minted at once (thousands of senders would take long one by one).
const MINT_CONCURRENCY: usize = 32;

async fn mint(a: &Admin, prefix: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let users: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    mint_users(a, &users, false).await
}

/// A token per user, in order.
async fn mint_users(a: &Admin, users: &[String], real_name: bool) -> anyhow::Result<Vec<String>> {
    let n = users.len();
    let mut out = vec![String::new(); n];
    let mut set = JoinSet::new();
    for (i, user) in users.iter().enumerate() {
        let (a, user) = (a.clone(), user.clone());
        set.spawn(async move { (i, a.token_as(&user, real_name).await) });
        while set.len() >= MINT_CONCURRENCY || (i + 1 == n && !set.is_empty()) {
            let (k, token) = set.join_next().await.context("join")??;
            out[k] = token?;
        }
    }
    Ok(out)
}

async fn run_action(
    kind: ActionKind,
    admin: Option<&Admin>,
    room: &str,
    pid: Option<u32>,
) -> String {
    match kind {
        ActionKind::Pause | ActionKind::Resume => {
            let action = if kind == ActionKind::Pause {
                "pause"
            } else {
                "resume"
            };
            match admin {
                Some(a) => match a.live(room, action).await {
                    Ok(()) => format!("{action} {room}: ok"),
                    Err(e) => format!("{action} {room}: {e:#}"),
                },
                None => "no admin key".into(),
            }
        }
        ActionKind::Kill | ActionKind::Term => {
            let Some(pid) = pid else {
                return "no gateway pid at that node index".into();
            };
            let sig = if kind == ActionKind::Kill {
                "KILL"
            } else {
                "TERM"
            };
            match Command::new("kill")
                .args(["-s", sig, &pid.to_string()])
                .status()
                .await
            {
                Ok(st) => format!("kill -s {sig} {pid}: {st}"),
                Err(e) => format!("kill -s {sig} {pid}: {e}"),
            }
        }
    }
}

fn progress_bar(show: bool, len: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} joined {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn update_bar(bar: &ProgressBar, p: &[Progress], start: Instant, t0: Instant, t1: Instant) {
    let sum = |f: fn(&Progress) -> u64| p.iter().map(f).sum::<u64>();
    let now = Instant::now();
    let phase = if now < t0 {
        format!(
            "ramp {:>4.0}s",
            now.saturating_duration_since(start).as_secs_f64()
        )
    } else if now < t1 {
        format!("traffic {:>4.0}s", (now - t0).as_secs_f64())
    } else {
        "draining".into()
    };
    bar.set_prefix(phase);
    bar.set_position(sum(|p| p.connected));
    bar.set_message(format!(
        "open {} failed {} frames {} comments {} acked {} reconnects {} co-streams live {}",
        sum(|p| p.open),
        sum(|p| p.failed),
        sum(|p| p.frames),
        sum(|p| p.comments),
        sum(|p| p.acked),
        sum(|p| p.reconnects),
        sum(|p| p.pairs_live)
    ));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plans_split_viewers_senders_and_indices() {
        let s = Scenario::parse(
            r#"
            targets = ["ws://127.0.0.1:1/ws"]
            admin_key = "k"
            viewers = 19000
            duration_s = 10
            comment_rate = 200
            [rooms]
            count = 3
            "#,
        )
        .unwrap();
        let tokens: Vec<String> = (0..s.sender_count()).map(|i| i.to_string()).collect();
        let p = plans(&s, &tokens, &[], &[], &[], 0);
        assert_eq!(p.len(), 2);
        let viewers: usize = p.iter().flat_map(|w| &w.rooms).map(|r| r.viewers).sum();
        assert_eq!(viewers, 19000);
        assert_eq!(p.iter().map(|w| w.senders.len()).sum::<usize>(), 200);
        assert!(
            p.iter().all(
                |w| w.rooms.iter().map(|r| r.viewers).sum::<usize>() + w.senders.len() <= 18_000
            )
        );
        assert_eq!(p[1].first_index, 9500 + 100);
        let rate: f64 = p.iter().flat_map(|w| &w.senders).map(|s| s.rate).sum();
        assert!((rate - 200.0).abs() < 1e-6);
    }

    #[test]
    fn pairs_cross_nodes_and_cover_every_node_pair() {
        let mut seen = std::collections::BTreeSet::new();
        for k in 0..12 {
            let (a, g) = pair_targets(k, 4);
            assert!(a < 4 && g < 4 && a != g, "pair {k}: {a} {g}");
            seen.insert((a, g));
        }
        assert_eq!(seen.len(), 12, "every ordered pair of 4 nodes once");
        assert_eq!(pair_targets(3, 2), (1, 0));
        assert_eq!(pair_targets(7, 1), (0, 0));
    }

    #[test]
    fn pairs_stay_whole_in_one_worker() {
        let s = Scenario::parse(
            r#"
            targets = ["ws://127.0.0.1:1/ws", "ws://127.0.0.1:2/ws"]
            admin_key = "k"
            viewers = 10
            duration_s = 5
            per_worker = 8
            [costream]
            pairs = 5
            "#,
        )
        .unwrap();
        let pairs = pair_plans(&s, &[], &[]);
        assert_eq!(pairs.len(), 5);
        assert_eq!(pairs[4].room, "cs-4");
        assert_eq!(pairs[4].guest, "lt-cs-guest-4");
        let p = plans(&s, &[], &[], &[], &pairs, 0);
        // 10 viewers + 2 × 5 pair connections over 8 per worker.
        assert_eq!(p.len(), 3);
        let mut got: Vec<usize> = p
            .iter()
            .flat_map(|w| w.pairs.iter().map(|x| x.index))
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(
            p.iter()
                .all(|w| w.pairs.iter().all(|x| x.index % 3 == w.worker))
        );
        assert_eq!(s.ramp_s(), 1 + 2 + 10);
    }

    #[test]
    fn split_is_even() {
        assert_eq!(split(10, 3), vec![4, 3, 3]);
        assert_eq!(split(2, 4), vec![1, 1, 0, 0]);
    }
}

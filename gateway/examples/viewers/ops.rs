//! Outside the WebSocket: the gateway's RSS and CPU time from /proc, and
//! room setup through the admin API.
use std::net::SocketAddr;

use anyhow::Context;

use crate::Args;

/// The gateway's resident set in KiB, from /proc/<pid>/status.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of a process in clock ticks (USER_HZ, 100 on Linux).
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Creates and starts the room and returns a sender token (admin API).
pub async fn admin_setup(args: &Args, server: SocketAddr, key: &str) -> anyhow::Result<String> {
    let base = args
        .admin_url
        .clone()
        .unwrap_or_else(|| format!("http://{server}"));
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let room = serde_json::json!({"id": args.room, "title": "load test", "anchor": "anchor",
        "planned_start": 0, "planned_end": 99_999_999_999_999i64});
    let r = post("/api/rooms", room).await?;
    println!("create room {}: {}", args.room, r.status());
    let path = format!("/api/rooms/{}/live", args.room);
    let r = post(&path, serde_json::json!({"action": "start"})).await?;
    println!("start live: {}", r.status());
    let r = post(
        "/api/tokens",
        serde_json::json!({"user": "sender", "name": "sender"}),
    )
    .await?;
    let body: serde_json::Value = r.error_for_status()?.json().await?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("no token in /api/tokens reply")
}

//! Runs a tiny scenario with the real binary (coordinator and worker
//! processes) against an in-process gateway on 127.0.0.1:0 and checks the
//! counts it reports.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

use gateway::Settings;
use serde_json::Value;

fn settings() -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_key: "test-admin".into(),
        token_secret: "test-secret".into(),
        tick_ms: 20,
        comment_cap: 100_000,
        request_rate: 10_000,
        request_burst: 10_000,
        comment_rate: 10_000,
        comment_burst: 10_000,
        ip_connect_rate: 0,
        ip_max_connections: 0,
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_scenario_reports_full_delivery() {
    let running = gateway::start(settings()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("loadtest-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("tiny.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
name = "tiny"
targets = ["ws://{addr}/ws"]
admin_key = "test-admin"
viewers = 150
ramp_per_s = 1000
duration_s = 3
comment_rate = 20
like_rate = 10
like_count = 5
high_probe_per_s = 5
per_worker = 100
[rooms]
count = 2
"#,
            addr = running.addr
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let bin = env!("CARGO_BIN_EXE_loadtest");
    let hook = |name: &str| format!("echo $LOADTEST_WINDOW > '{}'", dir.join(name).display());
    let (on_start, on_end) = (hook("window-start"), hook("window-end"));
    let child = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args([
                "run",
                "--no-progress",
                "--max-loss",
                "0",
                "--require-all-acked",
            ])
            .args(["--on-window-start", &on_start, "--on-window-end", &on_end])
            .args(["--set", "duration_s=3", "--out"])
            .arg(&out)
            .arg(&scenario)
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child)
        .await
        .expect("loadtest ran too long")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "loadtest failed: {:?}",
        output.status
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/report.json")).unwrap()).unwrap();
    assert!(dir.join("out/report.md").exists());
    assert!(dir.join("out/chart.svg").exists());
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    assert_eq!(read("window-start").trim(), "start");
    assert_eq!(read("window-end").trim(), "end");
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);

    // Two worker processes (per_worker = 100 for 150 viewers + 20 senders + 1 liker).
    assert_eq!(report["workers"], 2);
    assert_eq!(report["connections"]["planned"], 150);
    assert_eq!(report["connections"]["connected"], 150);
    assert_eq!(report["connections"]["never_joined"], 0);
    let sent = report["low_lane"]["comments"]["sent"].as_u64().unwrap();
    assert!(sent >= 40, "only {sent} comments sent");
    assert_eq!(
        report["low_lane"]["comments"]["acked"].as_u64().unwrap(),
        sent
    );
    assert_eq!(report["low_lane"]["unanswered"], 0);
    assert_eq!(report["low_lane"]["ack_latency"]["count"], sent);
    // Likes of 5 taps each: every request acked, taps counted.
    let likes = &report["likes"];
    let acked = likes["acked"].as_u64().unwrap();
    assert!(acked >= 20, "only {acked} likes acked");
    assert_eq!(likes["sent"].as_u64().unwrap(), acked);
    assert_eq!(likes["taps_sent"].as_u64().unwrap(), 5 * acked);
    assert_eq!(likes["taps_acked"].as_u64().unwrap(), 5 * acked);
    assert_eq!(report["like_ack_latency"]["count"].as_u64().unwrap(), acked);
    // No cap in these settings: every viewer gets every comment.
    let ratio = report["low_lane"]["delivery_ratio"].as_f64().unwrap();
    assert!(ratio > 0.99, "delivery ratio {ratio}");
    assert!(report["latency"]["count"].as_u64().unwrap() > 0);
    assert!(report["high_lane"]["batches"].as_u64().unwrap() > 0);
    assert_eq!(report["high_lane"]["gaps"], 0);
    assert_eq!(report["high_lane"]["missing_offsets"], 0);
    assert!(report["violations"].as_array().unwrap().is_empty());
}

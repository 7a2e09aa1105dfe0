//! The gateway's own WebSocket framing (frames written from the hub and by
//! the session through `hub::wire`) against an independent RFC 6455 client:
//! Python's `websockets`, which refuses masked server frames, non-minimal
//! lengths, bad UTF-8 and broken close handshakes. The script is
//! `tests/interop/ws_client.py` (scripts/browser-setup.sh installs the
//! package). Every length form, pings both ways, both closes.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_client_accepts_every_frame() {
    let gw = TestGateway::start_with(|s| {
        // One tick holds all the script's comments: a batch over 64 KiB.
        s.tick_ms = 500;
        s.heartbeat_ms = 100;
        s.idle_timeout_ms = 1_000;
        s.max_comment_chars = 500;
    })
    .await;
    gw.room("interop", "anchor", true).await;
    // The first comment builds the word filter (seconds in a debug build):
    // done here, so the script's timings are about the wire alone.
    let mut warm = gw.connect(Some("warm")).await;
    warm.join("interop").await;
    warm.comment("warm up").await;
    let url = format!("ws://{}/ws", gw.addr);
    let token = gw.token("py");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/ws_client.py");
    let out = tokio::process::Command::new("python3")
        .args([script, &url, &token, "interop"])
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("interop: ok"),
        "status {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
}

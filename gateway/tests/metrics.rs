//! What `/metrics` shows an operator: labelled counters at zero from the
//! start, and no gap counted on a healthy node.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;

async fn metrics_text(gw: &TestGateway) -> String {
    let url = format!("http://{}/metrics", gw.addr);
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn a_fresh_node_shows_its_labelled_counters_at_zero() {
    let gw = TestGateway::start().await;
    let text = metrics_text(&gw).await;
    for code in ErrorCode::ALL {
        let line = format!("gateway_rejections_total{{code=\"{}\"}} 0", code.as_str());
        assert!(text.contains(&line), "no {line} in\n{text}");
    }
    for line in [
        "gateway_snapshots_total{source=\"hub\"} 0",
        "gateway_snapshots_total{source=\"store\"} 0",
        "gateway_resumes_total{source=\"hub\"} 0",
        "gateway_resumes_total{source=\"log\"} 0",
        "gateway_gap_filled_total 0",
        "gateway_gap_skipped_total 0",
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
}

/// Comments from several viewers race room record changes (each a store
/// write and an event) on one node: the bus brings every event, sometimes
/// out of order, so the hub never has to fetch one from the log.
#[tokio::test]
async fn a_healthy_node_fills_no_gap() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anchor", true).await;
    let mut anchor = gw.connect(Some("anchor")).await;
    anchor.join("r1").await;
    let mut tasks = vec![];
    for v in 0..3 {
        let mut c = gw.connect(Some(&format!("viewer{v}"))).await;
        c.join("r1").await;
        tasks.push(tokio::spawn(async move {
            for round in 0..15 {
                let batch = (0..4)
                    .map(|i| {
                        Request::Comment(PostComment {
                            text: format!("v{v} r{round} c{i}"),
                        })
                    })
                    .collect();
                for reply in c.pipeline(batch).await {
                    assert!(matches!(reply, ServerFrame::Ack(_)), "{reply:?}");
                }
            }
            c
        }));
    }
    for round in 0..30 {
        let reply = anchor
            .request(Request::Switch(Switch {
                comments: Some(true),
            }))
            .await;
        assert!(
            matches!(reply, ServerFrame::Ack(_)),
            "round {round}: {reply:?}"
        );
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Past a resync (every second) and its hold.
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let m = &gw.node().metrics;
    assert!(
        m.appended_comments.get() >= 180,
        "{}",
        m.appended_comments.get()
    );
    assert_eq!(m.gap_skipped.get(), 0);
    assert_eq!(
        m.gap_filled.get(),
        0,
        "fetched from the log on a healthy node"
    );
}

#[tokio::test]
async fn a_taken_port_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut s = settings();
    s.listen = addr;
    let err = match gateway::start(s).await {
        Ok(_) => panic!("started on a taken port"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!("cannot listen on {addr}")),
        "error does not name {addr}: {err}"
    );
}

/// A series value of the text format, such as `gateway_hub_lag_seconds_count`.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The store's PING is timed once per presence interval, and a tick that
/// fans out an event records the event's age, in seconds.
#[tokio::test]
async fn store_latency_and_hub_lag_are_observed() {
    let gw = TestGateway::start().await;
    let fresh = metrics_text(&gw).await;
    assert_eq!(series(&fresh, "gateway_hub_lag_seconds_count"), Some(0.0));
    gw.room("r1", "anchor", true).await;
    let mut c = gw.connect(Some("viewer")).await;
    c.join("r1").await;
    c.comment("hello").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = metrics_text(&gw).await;
        let pings = series(&text, "gateway_store_ping_seconds_count").unwrap();
        let lags = series(&text, "gateway_hub_lag_seconds_count").unwrap();
        if pings >= 1.0 && lags >= 1.0 {
            assert_eq!(series(&text, "gateway_store_ping_errors_total"), Some(0.0));
            let lag_sum = series(&text, "gateway_hub_lag_seconds_sum").unwrap();
            // Seconds, not milliseconds: one comment's age is far below a minute.
            assert!(
                (0.0..60.0 * lags).contains(&lag_sum),
                "{lag_sum} over {lags}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pings {pings}, lags {lags}:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

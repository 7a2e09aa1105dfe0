//! The paced drain from a session's side: what it took is answered before
//! its 4000.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashSet;

use common::*;
use protocol::*;
use serde_json::json;

/// Comments in flight when the drain reaches their sessions: each one the
/// room log holds was acknowledged to its sender before the 4000 close, so
/// a client can resend exactly those it got no answer for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_session_answers_the_comments_it_took_before_its_4000() {
    const VIEWERS: usize = 12;
    let gw = TestGateway::start_with(|s| {
        s.drain_delay_ms = 0;
        s.drain_window_ms = 0;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut clients = vec![];
    for i in 0..VIEWERS {
        let mut c = gw.connect(Some(&format!("v{i}"))).await;
        c.join("r1").await;
        clients.push(c);
    }
    let mut sent = vec![];
    for (i, c) in clients.iter_mut().enumerate() {
        let text = format!("last words {i}");
        let id = c
            .send_request(Request::Comment(PostComment { text: text.clone() }))
            .await;
        sent.push((id, text));
    }
    // No wait: the drain reaches the sessions while their comments commit.
    gw.running.as_ref().unwrap().drain().await;
    let mut acked = HashSet::new();
    for (c, (id, text)) in clients.iter_mut().zip(&sent) {
        while let Some(f) = c.recv().await {
            if let ServerFrame::Ack(a) = &f
                && a.id.as_ref() == Some(id)
            {
                acked.insert(text.clone());
            }
        }
        assert_eq!(c.close.as_ref().map(|c| c.0), Some(4000));
    }
    let snap = gw.node().store.snapshot("r1", 100).await.unwrap();
    let logged: HashSet<String> = snap
        .recent
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Comment(c) => Some(c.text.clone()),
            _ => None,
        })
        .collect();
    let unanswered: Vec<_> = logged.difference(&acked).collect();
    assert!(
        unanswered.is_empty(),
        "posted without an ack before the close: {unanswered:?}"
    );
    eprintln!("{} of {VIEWERS} comments posted and acked", logged.len());
}

/// While a node drains, each view of its readiness says so: `/readyz`
/// answers 503 `draining`, and `GET /api/node` and the node's report in
/// `GET /api/nodes` say `shutting_down` (they said `ready` until the node
/// stopped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_is_not_ready_in_every_view() {
    let gw = TestGateway::start_with(|s| {
        s.drain_delay_ms = 60_000;
        s.presence_interval_ms = 100;
    })
    .await;
    let readyz = async || gw.api("GET", "/readyz", None).await;
    assert_eq!(readyz().await, (200, json!("ready")));
    let (_, node) = gw.api("GET", "/api/node", None).await;
    assert_eq!(node["readiness"], "ready");
    let drain = gw.running.as_ref().unwrap().drain();
    tokio::pin!(drain);
    let views = async {
        assert_eq!(readyz().await, (503, json!("draining")));
        let (_, node) = gw.api("GET", "/api/node", None).await;
        assert_eq!(node["readiness"], "shutting_down");
        for _ in 0..100 {
            let (_, nodes) = gw.api("GET", "/api/nodes", None).await;
            if nodes["nodes"][0]["readiness"] == "shutting_down" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the node's report never said shutting_down");
    };
    // Biased: the drain is polled first, so it has begun before any view.
    tokio::select! {
        biased;
        () = &mut drain => panic!("the drain ended within its delay"),
        () = views => {}
    }
}

//! The paced drain from a session's side: what it took is answered before
//! its 4000.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashSet;

use common::*;
use protocol::*;

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

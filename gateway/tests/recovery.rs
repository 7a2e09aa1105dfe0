//! Join snapshots and resume: a reconnecting viewer gets exactly what it
//! missed, or "not recovered" with a fresh snapshot.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;

fn resume(room: &str, epoch: &str, offset: u64) -> Request {
    Request::Join(Join {
        room: room.into(),
        resume: Some(Resume {
            epoch: epoch.into(),
            offset,
        }),
    })
}

#[tokio::test]
async fn the_join_snapshot_holds_the_last_comments() {
    let gw = TestGateway::start_with(|s| s.recent_comments = 5).await;
    gw.room("r1", "anna", true).await;
    let mut a = gw.connect(Some("alice")).await;
    a.join("r1").await;
    for i in 0..8 {
        a.comment(&format!("c{i}")).await;
    }
    let mut b = gw.connect(Some("bob")).await;
    let j = b.join("r1").await;
    assert_eq!(comment_texts(&j.recent), ["c3", "c4", "c5", "c6", "c7"]);
    assert_eq!(j.totals.comments, 8);
    assert_eq!(j.room.status, RoomStatus::Live);
    assert_eq!(j.recovered, None);
}

#[tokio::test]
async fn a_resume_replays_exactly_the_missed_events() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut viewer = gw.connect(Some("vic")).await;
    let j = viewer.join("r1").await;
    let (epoch, offset) = (j.epoch.clone(), j.offset);
    drop(viewer);
    let mut talker = gw.connect(Some("tom")).await;
    talker.join("r1").await;
    for i in 0..5 {
        talker.comment(&format!("m{i}")).await;
    }
    gw.live("r1", "pause").await;
    let mut back = gw.connect(Some("vic")).await;
    let ServerFrame::Joined(j) = back.request(resume("r1", &epoch, offset)).await else {
        panic!("join failed")
    };
    assert_eq!(j.recovered, Some(true));
    assert!(j.recent.is_empty());
    let offsets: Vec<u64> = j.missed.iter().map(|e| e.offset).collect();
    // The pause is two log entries: the room record (internal: no client
    // receives it) and the status event.
    let want: Vec<u64> = (offset + 1..=offset + 5).chain([offset + 7]).collect();
    assert_eq!(offsets, want);
    assert_eq!(comment_texts(&j.missed), ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(statuses(&j.missed), [RoomStatus::Paused]);
    // Live events continue after the replay, with nothing repeated.
    gw.live("r1", "resume").await;
    let after = back.events_until(|e| !statuses(e).is_empty()).await;
    assert!(after.iter().all(|e| e.offset > offset + 6), "{after:?}");
    // Resuming at the head replays nothing but still recovers.
    let mut again = gw.connect(Some("vic")).await;
    // (The resume is the record entry and the status event.)
    let ServerFrame::Joined(j2) = again.request(resume("r1", &epoch, j.offset + 2)).await else {
        panic!()
    };
    assert_eq!((j2.recovered, j2.missed.len()), (Some(true), 0));
}

#[tokio::test]
async fn a_too_old_offset_or_another_epoch_is_not_recovered() {
    let gw = TestGateway::start_with(|s| {
        s.log_capacity = 5;
        s.recent_comments = 3;
    })
    .await;
    gw.room("r1", "anna", true).await;
    let mut viewer = gw.connect(Some("vic")).await;
    let j = viewer.join("r1").await;
    for i in 0..10 {
        viewer.comment(&format!("x{i}")).await;
    }
    let mut back = gw.connect(Some("vic")).await;
    let ServerFrame::Joined(r) = back.request(resume("r1", &j.epoch, j.offset)).await else {
        panic!()
    };
    assert_eq!(r.recovered, Some(false));
    assert!(r.missed.is_empty());
    assert_eq!(
        comment_texts(&r.recent),
        ["x7", "x8", "x9"],
        "a fresh snapshot"
    );
    let ServerFrame::Joined(r) = back.request(resume("r1", "other-epoch", 1)).await else {
        panic!()
    };
    assert_eq!(r.recovered, Some(false));
    // The last 5 events are still there; a resume carries only the newest
    // 3 comments (`recent_comments`), like a fresh join.
    let ServerFrame::Joined(r) = back.request(resume("r1", &j.epoch, r.offset - 5)).await else {
        panic!()
    };
    assert_eq!(r.recovered, Some(true));
    assert_eq!(comment_texts(&r.missed), ["x7", "x8", "x9"]);
}

fn resumes_from(gw: &TestGateway, source: &'static str) -> u64 {
    let label = vec![("source", source)];
    gw.node().metrics.resumes.get_or_create(&label).get()
}

/// A storm of resumes: every viewer gets exactly what it missed, answered by
/// the room hub from memory, including viewers older than the hub itself.
#[tokio::test]
async fn many_resumes_at_once_are_answered_by_the_hub_exactly() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    let mut keeper = gw.connect(Some("kim")).await;
    let j = keeper.join("r1").await;
    let (epoch, from) = (j.epoch.clone(), j.offset);
    let mut talker = gw.connect(Some("tom")).await;
    talker.join("r1").await;
    for i in 0..12 {
        talker.comment(&format!("m{i}")).await;
    }
    gw.live("r1", "pause").await;
    let resume_all = |n: usize, from: u64| {
        let (gw, epoch) = (&gw, epoch.clone());
        async move {
            let joins = (0..n).map(|i| {
                let epoch = epoch.clone();
                async move {
                    let mut c = gw.connect(Some(&format!("v{i}"))).await;
                    match c.request(resume("r1", &epoch, from)).await {
                        ServerFrame::Joined(j) => (c, j),
                        other => panic!("{other:?}"),
                    }
                }
            });
            futures_util::future::join_all(joins).await
        }
    };
    let back = resume_all(40, from).await;
    for (_, j) in &back {
        assert_eq!(j.recovered, Some(true));
        let offsets: Vec<u64> = j.missed.iter().map(|e| e.offset).collect();
        // The pause: an internal record entry, then the status event.
        let want: Vec<u64> = (from + 1..=from + 12).chain([from + 14]).collect();
        assert_eq!(offsets, want);
        assert_eq!(j.offset, from + 14);
        assert_eq!(statuses(&j.missed), [RoomStatus::Paused]);
    }
    assert_eq!(
        (resumes_from(&gw, "hub"), resumes_from(&gw, "log")),
        (40, 0)
    );
    // Live events continue after the replay, with nothing repeated.
    gw.live("r1", "resume").await;
    for (mut c, _) in back {
        let after = c.events_until(|e| !statuses(e).is_empty()).await;
        let offsets: Vec<u64> = after.iter().map(|e| e.offset).collect();
        assert_eq!(offsets, [from + 16], "{after:?}");
    }
    // Every local session leaves: the hub retires. The log moves on, and
    // viewers come back to a new hub from before it started.
    drop((keeper, talker));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    gw.live("r1", "pause").await;
    let back = resume_all(10, from + 12).await;
    for (_, j) in &back {
        assert_eq!(j.recovered, Some(true));
        let offsets: Vec<u64> = j.missed.iter().map(|e| e.offset).collect();
        // Three status events, each after its internal record entry.
        assert_eq!(offsets, [from + 14, from + 16, from + 18]);
    }
    assert_eq!(
        (resumes_from(&gw, "hub"), resumes_from(&gw, "log")),
        (50, 0)
    );
}

fn snapshots_from(gw: &TestGateway, source: &'static str) -> u64 {
    let label = vec![("source", source)];
    gw.node().metrics.snapshots.get_or_create(&label).get()
}

/// A join storm: once the room's hub holds enough of the room, joiners get
/// their snapshot from it (no store read), the same one the store gives,
/// and then every later event exactly once.
#[tokio::test]
async fn joins_are_answered_by_the_hub_with_the_stores_snapshot() {
    let gw = TestGateway::start_with(|s| s.recent_comments = 3).await;
    gw.room("r1", "anna", true).await;
    let mut talker = gw.connect(Some("tom")).await;
    talker.join("r1").await;
    let mut offsets = vec![];
    for i in 0..5 {
        match talker.comment(&format!("m{i}")).await {
            ServerFrame::Ack(Ack { event: Some(e), .. }) => offsets.push(e.offset),
            other => panic!("{other:?}"),
        }
    }
    // Delete one of the newest: neither snapshot may hold it.
    let (st, _) = gw
        .api(
            "DELETE",
            &format!("/api/rooms/r1/comments/{}", offsets[3]),
            None,
        )
        .await;
    assert_eq!(st, 200);
    // The hub has released everything and has totals once a frame with
    // them went out: the talker sees its last comment in a batch.
    talker
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(e.kind, EventKind::CommentDeleted(_)))
        })
        .await;
    let store = gw.node().store.snapshot("r1", 3).await.unwrap();
    let before = snapshots_from(&gw, "hub");
    let mut joiners = vec![];
    for i in 0..10u64 {
        let mut c = gw.connect(Some(&format!("v{i}"))).await;
        let j = c.join("r1").await;
        // The newest 3 comments that are not deleted. (The store reads its
        // last 3 and leaves the deleted one out: a subset of these.)
        assert_eq!(comment_texts(&j.recent), ["m1", "m2", "m4"], "v{i}");
        let held = comment_texts(&j.recent);
        assert!(
            comment_texts(&store.recent)
                .iter()
                .all(|t| held.contains(t))
        );
        assert_eq!(
            (j.epoch.as_str(), j.offset),
            (store.position.epoch.as_str(), store.position.offset)
        );
        assert_eq!(j.room.status, RoomStatus::Live);
        // The joiner itself counts, as in a snapshot from the store.
        assert_eq!((j.totals.viewers, j.totals.online), (2 + i, 2 + i), "v{i}");
        joiners.push(c);
    }
    assert_eq!(snapshots_from(&gw, "hub") - before, 10);
    // Live events continue after the snapshot, nothing repeated.
    talker.comment("after").await;
    for c in &mut joiners {
        let got = c
            .events_until(|e| comment_texts(e).contains(&"after".to_string()))
            .await;
        assert_eq!(comment_texts(&got), ["after"]);
    }
}

/// A busy room outruns a small log: when the bus brings a batch late and
/// the log has already trimmed it, the hub waits for the bus a little
/// before declaring the stretch lost.
#[tokio::test]
async fn a_late_batch_the_log_already_trimmed_still_arrives() {
    let gw = TestGateway::start_with(|s| s.log_capacity = 5).await;
    gw.room("r1", "anna", true).await;
    let mut viewer = gw.connect(Some("vic")).await;
    viewer.join("r1").await;
    // Eight comments logged, their bus message held back.
    let batch: Vec<gateway::store::PendingComment> = (0..8)
        .map(|i| gateway::store::PendingComment {
            ts: 0,
            comment: Comment {
                user: "tom".into(),
                nick: "tom".into(),
                text: format!("late{i}"),
                role: Role::Viewer,
            },
            slow_mode_ms: 0,
        })
        .collect();
    let logged = gw
        .node()
        .store
        .append_comments("r1", &batch, Default::default())
        .await
        .unwrap();
    let events: Vec<RoomEvent> = logged
        .into_iter()
        .map(|a| match a {
            gateway::store::Appended::Logged(e) => e,
            other => panic!("{other:?}"),
        })
        .collect();
    // The hub's resync (every second) finds the head moved; the log holds
    // only the last 5, so it cannot fill the gap. The bus comes later.
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    gw.node()
        .bus
        .publish("r1", gateway::bus::BusMessage::Events(events))
        .await
        .unwrap();
    let got = viewer
        .events_until(|e| comment_texts(e).contains(&"late7".to_string()))
        .await;
    let want: Vec<String> = (0..8).map(|i| format!("late{i}")).collect();
    assert_eq!(comment_texts(&got), want);
    assert_eq!(gw.node().metrics.gap_skipped.get(), 0);
}

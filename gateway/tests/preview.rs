//! The live preview (直播预告) on every backend: set by the anchor or an
//! admin before the start, in the snapshot of a room that has not
//! started, a `preview` event to viewers already there, gone after the
//! start unless kept, and its limits.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use protocol::*;
use serde_json::json;

fn set(text: &str, image_url: Option<&str>, keep: bool) -> Request {
    Request::SetPreview(SetPreview {
        text: text.into(),
        image_url: image_url.map(str::to_string),
        keep_after_start: keep,
    })
}

#[tokio::test]
async fn a_preview_is_shown_before_the_start_only() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", false).await;
    let mut watcher = gw.connect(None).await;
    assert_eq!(watcher.join("r1").await.preview, None);
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let text = "今晚八点开播，全场五折！".repeat(9);
    assert!(matches!(
        anchor.request(set(&text, None, false)).await,
        ServerFrame::Ack(_)
    ));
    // Viewers already in the room get the event; new ones the snapshot.
    let got = watcher
        .events_until(|e| e.iter().any(|e| matches!(e.kind, EventKind::Preview(_))))
        .await;
    let shown = got
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Preview(p) => p.preview.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(shown.text, text);
    let mut late = gw.connect(None).await;
    assert_eq!(late.join("r1").await.preview.unwrap().text, text);
    // Once live, it is gone (not kept), and it can no longer be changed.
    gw.live("r1", "start").await;
    let mut after = gw.connect(None).await;
    assert_eq!(after.join("r1").await.preview, None);
    let r = anchor.request(set(&text, None, false)).await;
    assert_eq!(error_code(&r), Some(ErrorCode::InvalidTransition));
}

#[tokio::test]
async fn an_image_preview_kept_after_the_start_and_the_limits() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", false).await;
    let (st, body) = gw
        .api(
            "PUT",
            "/api/rooms/r1/preview",
            Some(json!({"text": "新品", "image_url": "https://cdn.example/p.jpg", "keep_after_start": true})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    gw.live("r1", "start").await;
    let mut v = gw.connect(None).await;
    let p = v.join("r1").await.preview.unwrap();
    assert_eq!(p.image_url.as_deref(), Some("https://cdn.example/p.jpg"));
    // Limits: a text preview needs 100..=500 characters; an image must be
    // http(s); only the anchor (and admins) may set it.
    gw.room("r2", "anna", false).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r2").await;
    for bad in [
        set(&"短".repeat(99), None, false),
        set(&"长".repeat(501), None, false),
        set("x", Some("javascript:alert(1)"), false),
        set("x", Some("ftp://cdn.example/p.jpg"), false),
        set(&format!("{}\u{202E}", "长".repeat(100)), None, false),
    ] {
        let r = anchor.request(bad).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Invalid));
    }
    assert!(matches!(
        anchor.request(set(&"长".repeat(100), None, false)).await,
        ServerFrame::Ack(_)
    ));
    let mut viewer = gw.connect(Some("bob")).await;
    viewer.join("r2").await;
    let r = viewer.request(Request::ClearPreview(ClearPreview {})).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Forbidden));
    let (st, _) = gw.api("DELETE", "/api/rooms/r2/preview", None).await;
    assert_eq!(st, 200);
    let mut late = gw.connect(None).await;
    assert_eq!(late.join("r2").await.preview, None);
}

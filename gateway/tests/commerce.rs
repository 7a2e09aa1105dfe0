//! Live commerce on every backend: the shelf (WebSocket and admin API),
//! the pushed card and its expiry, the explaining pin, grabs with every
//! refusal code, idempotency keys, reservations settled by the merchant
//! or expired, sold-out and stock events, coupons, counters and the
//! merchant feed.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use protocol::commerce::*;
use protocol::*;
use serde_json::{Value, json};

fn spec(id: &str, quota: u32, order_limit: u32, mode: GrabMode) -> GoodsSpec {
    GoodsSpec {
        id: id.into(),
        name: format!("商品{id}"),
        cover_url: format!("https://img.example/{id}.png"),
        price: 1999,
        live_price: 999,
        quota,
        order_limit,
        viewer_limit: None,
        mode,
    }
}

fn put(goods: GoodsSpec) -> Request {
    Request::GoodsPut(GoodsPut { goods })
}

fn grab(goods: &str, quantity: i64, key: &str) -> Request {
    Request::Grab(Grab {
        goods: goods.into(),
        quantity,
        key: key.into(),
    })
}

fn reservation(f: &ServerFrame) -> Reservation {
    match f {
        ServerFrame::Grabbed(g) => g.reservation.clone(),
        other => panic!("not grabbed: {other:?}"),
    }
}

fn kinds<'a>(events: &'a [RoomEvent], pred: impl Fn(&EventKind) -> bool + 'a) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

/// A live room `r1` anchored by `anna`, with the anchor joined.
async fn live_room(gw: &TestGateway) -> Client {
    gw.room("r1", "anna", true).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    anchor
}

#[tokio::test]
async fn the_shelf_is_managed_by_the_anchor_and_read_by_viewers() {
    let gw = TestGateway::start().await;
    let mut anchor = live_room(&gw).await;
    let mut viewer = gw.connect(Some("vic")).await;
    assert_eq!(viewer.join("r1").await.commerce.shelf_version, 0);
    for id in ["g1", "g2", "g3"] {
        let r = anchor.request(put(spec(id, 10, 2, GrabMode::Now))).await;
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    // Each change is a high-lane `goods` event with the new version.
    let events = viewer
        .events_until(|e| kinds(e, |k| matches!(k, EventKind::Goods(_))) == 3)
        .await;
    let versions: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Goods(g) => Some(g.version),
            _ => None,
        })
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
    let shelf = match viewer.request(Request::Shelf(ShelfRequest {})).await {
        ServerFrame::Shelf(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(shelf.version, 3);
    let ids: Vec<&str> = shelf.items.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2", "g3"]);
    // Reorder, then pin g2: it is first on the shelf and in the snapshot.
    let order = vec!["g3".to_string(), "g1".into(), "g2".into()];
    let r = anchor
        .request(Request::GoodsReorder(GoodsReorder { order }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    let r = anchor
        .request(Request::Explain(Explain {
            goods: Some("g2".into()),
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    let mut late = gw.connect(None).await;
    let joined = late.join("r1").await;
    assert_eq!(joined.commerce.explaining.as_deref(), Some("g2"));
    assert_eq!(joined.commerce.shelf_version, 4);
    let shelf = match late.request(Request::Shelf(ShelfRequest {})).await {
        ServerFrame::Shelf(s) => s,
        other => panic!("{other:?}"),
    };
    let ids: Vec<&str> = shelf.items.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["g2", "g3", "g1"]);
    // Removing the pinned item unpins it.
    let r = anchor
        .request(Request::GoodsRemove(GoodsRemove { goods: "g2".into() }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    viewer
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(&e.kind, EventKind::Explaining(x) if x.goods.is_none()))
        })
        .await;
    let (st, body) = gw.api("GET", "/api/rooms/r1/goods", None).await;
    assert_eq!(st, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["explaining"], Value::Null);
}

#[tokio::test]
async fn assistants_and_viewers_cannot_manage_the_shelf() {
    let gw = TestGateway::start().await;
    let mut anchor = live_room(&gw).await;
    let r = anchor
        .request(Request::SetRole(SetRole {
            user: "asa".into(),
            role: Role::Assistant,
            nick: None,
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)));
    let r = anchor
        .request(Request::SetRole(SetRole {
            user: "sub".into(),
            role: Role::SubAnchor,
            nick: None,
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)));
    let mut assistant = gw.connect(Some("asa")).await;
    assistant.join("r1").await;
    let mut viewer = gw.connect(Some("vic")).await;
    viewer.join("r1").await;
    let mut anon = gw.connect(None).await;
    anon.join("r1").await;
    for c in [&mut assistant, &mut viewer] {
        let r = c.request(put(spec("g1", 1, 1, GrabMode::Now))).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Forbidden));
        let r = c
            .request(Request::CardPush(CardPush {
                goods: "g1".into(),
                duration_s: None,
            }))
            .await;
        assert_eq!(error_code(&r), Some(ErrorCode::Forbidden));
    }
    let mut sub = gw.connect(Some("sub")).await;
    sub.join("r1").await;
    let r = sub.request(put(spec("g1", 1, 1, GrabMode::Now))).await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    // Anonymous viewers may read the shelf but not grab.
    assert!(matches!(
        anon.request(Request::Shelf(ShelfRequest {})).await,
        ServerFrame::Shelf(_)
    ));
    let r = anon.request(grab("g1", 1, "k1")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Unauthenticated));
}

#[tokio::test]
async fn bad_goods_and_grabs_are_refused_with_codes() {
    let gw = TestGateway::start().await;
    let mut anchor = live_room(&gw).await;
    let bad = [
        GoodsSpec {
            cover_url: "javascript:alert(1)".into(),
            ..spec("g1", 1, 1, GrabMode::Now)
        },
        GoodsSpec {
            live_price: 5000,
            ..spec("g1", 1, 1, GrabMode::Now)
        },
        GoodsSpec {
            order_limit: 0,
            ..spec("g1", 1, 1, GrabMode::Now)
        },
    ];
    for b in bad {
        let r = anchor.request(put(b)).await;
        assert_eq!(error_code(&r), Some(ErrorCode::Invalid), "{r:?}");
    }
    anchor.request(put(spec("g1", 5, 2, GrabMode::Now))).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let long_key = "k".repeat(200);
    for (req, code) in [
        (grab("nope", 1, "a"), ErrorCode::UnknownGoods),
        (grab("g1", 0, "b"), ErrorCode::Invalid),
        (grab("g1", -1, "c"), ErrorCode::Invalid),
        (grab("g1", 1 << 40, "d"), ErrorCode::Invalid),
        (grab("g1", 1, &long_key), ErrorCode::Invalid),
        (grab("g1", 3, "e"), ErrorCode::OrderLimit),
    ] {
        let r = v.request(req).await;
        assert_eq!(error_code(&r), Some(code), "{r:?}");
    }
    // The same over JSON, as a client would send it.
    let raw =
        json!({"type": "grab", "id": "x", "goods": "g1", "quantity": 1099511627776u64, "key": "z"});
    v.send_raw(tokio_tungstenite::tungstenite::Message::Text(
        raw.to_string().into(),
    ))
    .await;
    let r = loop {
        let f = v.recv().await.unwrap();
        if reply_id(&f).is_some_and(|id| id.0 == "x") {
            break f;
        }
    };
    assert_eq!(error_code(&r), Some(ErrorCode::Invalid), "{r:?}");
    // The 201st item.
    for i in 2..=200 {
        let (st, body) = gw
            .api(
                "PUT",
                &format!("/api/rooms/r1/goods/g{i}"),
                Some(serde_json::to_value(spec(&format!("g{i}"), 1, 1, GrabMode::Now)).unwrap()),
            )
            .await;
        assert_eq!(st, 200, "{body}");
    }
    let r = anchor.request(put(spec("g201", 1, 1, GrabMode::Now))).await;
    assert_eq!(error_code(&r), Some(ErrorCode::ShelfFull));
    // Changing an item already there is still fine.
    let r = anchor.request(put(spec("g200", 9, 1, GrabMode::Now))).await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
}

#[tokio::test]
async fn grabs_hold_every_limit_and_keys_answer_again() {
    let gw = TestGateway::start_with(|s| s.commerce_interval_ms = 100).await;
    gw.room("r1", "anna", false).await;
    let mut anchor = gw.connect(Some("anna")).await;
    anchor.join("r1").await;
    let g = GoodsSpec {
        viewer_limit: Some(3),
        ..spec("g1", 4, 2, GrabMode::OnSwitch)
    };
    anchor.request(put(g)).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let mut w = gw.connect(Some("wen")).await;
    w.join("r1").await;
    // Not live yet.
    let r = v.request(grab("g1", 1, "k0")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::RoomNotLive));
    gw.live("r1", "start").await;
    let r = v.request(grab("g1", 1, "k1")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::NotGrabbable));
    let r = anchor
        .request(Request::GoodsSwitch(GoodsSwitch {
            goods: "g1".into(),
            grabbable: true,
        }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    let first = reservation(&v.request(grab("g1", 2, "k2")).await);
    assert_eq!((first.quantity, first.live_price), (2, 999));
    assert_eq!(first.state, ReservationState::Reserved);
    // The same key answers the same reservation; other parameters conflict.
    let again = reservation(&v.request(grab("g1", 2, "k2")).await);
    assert_eq!(again, first);
    let r = v.request(grab("g1", 1, "k2")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::Conflict));
    // vic holds 2 of at most 3.
    let r = v.request(grab("g1", 2, "k3")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::ViewerLimit));
    // wen takes the last 2: sold out, once.
    reservation(&w.request(grab("g1", 2, "w1")).await);
    let r = w.request(grab("g1", 1, "w2")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::SoldOut));
    let r = v.request(grab("g1", 1, "k4")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::SoldOut));
    // A reserved key still answers its reservation once sold out.
    assert_eq!(reservation(&v.request(grab("g1", 2, "k2")).await), first);
    let events = v
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(&e.kind, EventKind::Stock(s) if s.remaining == 0))
        })
        .await;
    assert_eq!(kinds(&events, |k| matches!(k, EventKind::SoldOut(_))), 1);
    // The merchant cancels vic's reservation: 2 units go back, once.
    let path = format!("/api/rooms/r1/reservations/{}/cancel", first.id);
    let (st, body) = gw.api("POST", &path, None).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["state"], "cancelled");
    let (st, body) = gw.api("POST", &path, None).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["code"], "invalid_transition");
    v.events_until(|e| {
        e.iter()
            .any(|e| matches!(&e.kind, EventKind::Stock(s) if s.remaining == 2))
    })
    .await;
    let second = reservation(&v.request(grab("g1", 2, "k5")).await);
    let path = format!("/api/rooms/r1/reservations/{}/confirm", second.id);
    let (st, body) = gw.api("POST", &path, None).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["state"], "confirmed");
    let (st, body) = gw.api("GET", "/api/rooms/r1/commerce", None).await;
    assert_eq!(st, 200);
    let c = &body["counters"];
    assert_eq!(c["reserved:g1"], 6, "{body}");
    assert_eq!(c["cancelled:g1"], 2, "{body}");
    assert_eq!(c["confirmed:g1"], 2, "{body}");
    // The merchant feed holds every step, in order, paged by cursor.
    let (st, body) = gw
        .api("GET", "/api/rooms/r1/commerce/feed?limit=2", None)
        .await;
    assert_eq!(st, 200, "{body}");
    let page: Vec<&str> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(page, ["grab.reserved", "grab.reserved"]);
    let next = body["next"].as_str().unwrap().to_string();
    let (_, body) = gw
        .api(
            "GET",
            &format!("/api/rooms/r1/commerce/feed?after={next}"),
            None,
        )
        .await;
    let rest: Vec<&str> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["grab.cancelled", "grab.reserved", "grab.confirmed"]);
    let (st, _) = gw
        .api("GET", "/api/rooms/r1/commerce/feed?after=x{y}", None)
        .await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn an_unconfirmed_reservation_expires_and_returns_its_units_once() {
    let gw = TestGateway::start_with(|s| {
        s.commerce_interval_ms = 100;
        s.reservation_hold_s = 1;
    })
    .await;
    let mut anchor = live_room(&gw).await;
    anchor.request(put(spec("g1", 2, 2, GrabMode::Now))).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let r = reservation(&v.request(grab("g1", 2, "k1")).await);
    let r2 = v.request(grab("g1", 1, "k2")).await;
    assert_eq!(error_code(&r2), Some(ErrorCode::SoldOut));
    v.events_until(|e| {
        e.iter()
            .any(|e| matches!(&e.kind, EventKind::Stock(s) if s.remaining == 2))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let path = format!("/api/rooms/r1/reservations/{}", r.id);
    let (_, body) = gw.api("GET", &path, None).await;
    assert_eq!(body["state"], "expired");
    let (st, body) = gw.api("POST", &format!("{path}/confirm"), None).await;
    assert_eq!(st, 409, "{body}");
    let (_, body) = gw.api("GET", "/api/rooms/r1/commerce", None).await;
    assert_eq!(body["counters"]["expired:g1"], 2, "{body}");
    let (_, body) = gw.api("GET", "/api/rooms/r1/commerce/feed", None).await;
    let expired = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "grab.expired")
        .count();
    assert_eq!(expired, 1);
    // The units are grabbable again.
    reservation(&v.request(grab("g1", 2, "k3")).await);
}

#[tokio::test]
async fn a_pushed_card_shows_replaces_and_expires_once() {
    let gw = TestGateway::start_with(|s| s.timer_interval_ms = 50).await;
    let mut anchor = live_room(&gw).await;
    anchor.request(put(spec("g1", 2, 2, GrabMode::Now))).await;
    anchor.request(put(spec("g2", 2, 2, GrabMode::Now))).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let push = |goods: &str, s: u32| {
        Request::CardPush(CardPush {
            goods: goods.into(),
            duration_s: Some(s),
        })
    };
    let r = anchor.request(push("nope", 5)).await;
    assert_eq!(error_code(&r), Some(ErrorCode::UnknownGoods));
    anchor.request(push("g1", 30)).await;
    let mut late = gw.connect(None).await;
    let card = late.join("r1").await.commerce.card.unwrap();
    assert_eq!(card.goods.id, "g1");
    assert!(
        card.remaining_ms > 25_000 && card.remaining_ms <= 30_000,
        "{card:?}"
    );
    // A new push replaces the card shown.
    anchor.request(push("g2", 1)).await;
    let events = v
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(&e.kind, EventKind::Card(c) if c.reason == ShownReason::Expired))
        })
        .await;
    let cards: Vec<(Option<String>, ShownReason)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Card(c) => Some((c.card.as_ref().map(|c| c.goods.id.clone()), c.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cards,
        vec![
            (Some("g1".into()), ShownReason::Pushed),
            (Some("g2".into()), ShownReason::Pushed),
            (None, ShownReason::Expired),
        ]
    );
    let mut later = gw.connect(None).await;
    assert!(later.join("r1").await.commerce.card.is_none());
    let r = anchor.request(Request::CardWithdraw(CardWithdraw {})).await;
    assert_eq!(error_code(&r), Some(ErrorCode::NotFound));
    // Exactly one expiry in the log.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut check = gw.connect(None).await;
    let j = check.join("r1").await;
    assert!(j.commerce.card.is_none());
}

#[tokio::test]
async fn coupons_are_never_over_issued() {
    let gw = TestGateway::start_with(|s| s.commerce_interval_ms = 100).await;
    let mut anchor = live_room(&gw).await;
    let coupon = CouponSpec {
        id: "c1".into(),
        name: "满100减10".into(),
        stock: 2,
        per_viewer: 1,
        valid_from: None,
        valid_until: None,
    };
    let r = anchor
        .request(Request::CouponPush(CouponPush { coupon }))
        .await;
    assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    let mut users = vec![];
    for u in ["u1", "u2", "u3"] {
        let mut c = gw.connect(Some(u)).await;
        let j = c.join("r1").await;
        assert_eq!(j.commerce.coupon.as_ref().unwrap().id, "c1");
        users.push(c);
    }
    let claim = |key: &str| {
        Request::CouponClaim(CouponClaim {
            coupon: "c1".into(),
            key: key.into(),
        })
    };
    let r = users[0].request(claim("a")).await;
    assert!(
        matches!(r, ServerFrame::CouponClaimed(ref c) if c.held == 1),
        "{r:?}"
    );
    // Again with the same key: the same answer; another key: the limit.
    let r = users[0].request(claim("a")).await;
    assert!(
        matches!(r, ServerFrame::CouponClaimed(ref c) if c.held == 1),
        "{r:?}"
    );
    let r = users[0].request(claim("b")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::ViewerLimit));
    let r = users[1].request(claim("c")).await;
    assert!(matches!(r, ServerFrame::CouponClaimed(_)), "{r:?}");
    let r = users[2].request(claim("d")).await;
    assert_eq!(error_code(&r), Some(ErrorCode::CouponGone));
    let events = users[2]
        .events_until(|e| {
            e.iter()
                .any(|e| matches!(&e.kind, EventKind::Coupon(c) if c.reason == ShownReason::Gone))
        })
        .await;
    let gone = kinds(
        &events,
        |k| matches!(k, EventKind::Coupon(c) if c.reason == ShownReason::Gone),
    );
    assert_eq!(gone, 1);
    let mut late = gw.connect(None).await;
    assert!(late.join("r1").await.commerce.coupon.is_none());
    let (_, body) = gw.api("GET", "/api/rooms/r1/commerce", None).await;
    assert_eq!(body["counters"]["coupon_claims:c1"], 2, "{body}");
}

#[tokio::test]
async fn goods_clicks_are_counted() {
    let gw = TestGateway::start_with(|s| s.commerce_interval_ms = 50).await;
    let mut anchor = live_room(&gw).await;
    anchor.request(put(spec("g1", 2, 2, GrabMode::Now))).await;
    let mut v = gw.connect(None).await;
    v.join("r1").await;
    let clicks: Vec<Request> = (0..5)
        .map(|_| Request::GoodsClick(GoodsClick { goods: "g1".into() }))
        .collect();
    for r in v.pipeline(clicks).await {
        assert!(matches!(r, ServerFrame::Ack(_)), "{r:?}");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = gw.api("GET", "/api/rooms/r1/commerce", None).await;
        if body["counters"]["clicks:g1"] == 5 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_nodes_never_oversell() {
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|_| {}).await else {
        return;
    };
    a.room("r1", "anna", true).await;
    let mut anchor = a.connect(Some("anna")).await;
    anchor.join("r1").await;
    anchor.request(put(spec("g1", 10, 2, GrabMode::Now))).await;
    let mut tasks = vec![];
    for i in 0..20 {
        let gw = if i % 2 == 0 { &a } else { &b };
        let mut c = gw.connect(Some(&format!("u{i}"))).await;
        c.join("r1").await;
        tasks.push(tokio::spawn(async move {
            let reqs = (0..3).map(|k| grab("g1", 2, &format!("k{k}"))).collect();
            let replies = c.pipeline(reqs).await;
            replies
                .iter()
                .filter_map(|r| match r {
                    ServerFrame::Grabbed(g) => Some(g.reservation.quantity),
                    _ => None,
                })
                .sum::<u32>()
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 10);
}

#[tokio::test]
async fn the_merchant_hears_of_reservations_through_signed_webhooks() {
    use common::receiver::{Got, Receiver};
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let recv = Receiver::start().await;
    let gw = TestGateway::start_with(|s| {
        s.commerce_interval_ms = 50;
        s.webhook_poll_ms = 20;
        s.webhook_retry_ms = "50,50".into();
    })
    .await;
    let (st, body) = gw
        .api(
            "POST",
            "/api/webhooks/endpoints",
            Some(
                json!({"id": "shop", "url": recv.url("/ok/shop"), "secret": SECRET,
                "events": ["grab.*", "coupon.claimed"]}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let mut anchor = live_room(&gw).await;
    anchor.request(put(spec("g1", 5, 2, GrabMode::Now))).await;
    let mut v = gw.connect(Some("vic")).await;
    v.join("r1").await;
    let r = reservation(&v.request(grab("g1", 2, "k1")).await);
    let (st, _) = gw
        .api(
            "POST",
            &format!("/api/rooms/r1/reservations/{}/cancel", r.id),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let got = recv.until("/ok/shop", |g| g.len() >= 2).await;
    let kinds: Vec<String> = got.iter().map(Got::kind).collect();
    assert_eq!(kinds, ["grab.reserved", "grab.cancelled"]);
    for g in &got {
        g.assert_signed_with(SECRET);
        let data = &g.json()["data"];
        assert_eq!(data["room"], "r1");
        assert_eq!(data["id"], r.id.as_str());
        assert_eq!(data["user"], "vic");
        // The id is the feed cursor's: a re-queued entry keeps it.
        let cursor = data["cursor"].as_str().unwrap();
        assert_eq!(g.id, format!("msg_r1_{cursor}"));
    }
    assert_eq!(got[1].json()["data"]["state"], "cancelled");
    // Each entry once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recv.got("/ok/shop").len(), 2);
}

#[tokio::test]
async fn units_cancelled_on_one_node_are_grabbable_on_another_within_a_round() {
    let Some((_redis, a, b)) = two_nodes_on_one_redis(|s| s.commerce_interval_ms = 100).await
    else {
        return;
    };
    a.room("r1", "anna", true).await;
    let mut anchor = a.connect(Some("anna")).await;
    anchor.join("r1").await;
    anchor.request(put(spec("g1", 1, 1, GrabMode::Now))).await;
    let mut va = a.connect(Some("va")).await;
    va.join("r1").await;
    let mut vb = b.connect(Some("vb")).await;
    vb.join("r1").await;
    let r = reservation(&va.request(grab("g1", 1, "a1")).await);
    // b learns it is sold out and answers from its flag from then on.
    let refused = vb.request(grab("g1", 1, "b1")).await;
    assert_eq!(error_code(&refused), Some(ErrorCode::SoldOut));
    let (st, _) = a
        .api(
            "POST",
            &format!("/api/rooms/r1/reservations/{}/cancel", r.id),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut n = 0;
    loop {
        n += 1;
        let f = vb.request(grab("g1", 1, &format!("b-retry-{n}"))).await;
        if matches!(f, ServerFrame::Grabbed(_)) {
            break;
        }
        assert_eq!(error_code(&f), Some(ErrorCode::SoldOut));
        assert!(
            tokio::time::Instant::now() < deadline,
            "b never saw the unit come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

//! Distinct viewers are an estimate with bounded memory on every backend
//! (HyperLogLog: PFADD on Redis, the same kind of sketch in memory): exact
//! for small rooms, within a few percent for large ones, however many
//! anonymous connections come and go.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;

#[tokio::test]
async fn anonymous_reconnects_are_counted_once_each_and_estimated_when_many() {
    let gw = TestGateway::start().await;
    gw.room("r1", "anna", true).await;
    // Small rooms: exact, each anonymous connection once.
    for _ in 0..10 {
        let mut c = gw.connect(None).await;
        c.join("r1").await;
    }
    let mut c = gw.connect(None).await;
    let j = c.join("r1").await;
    assert_eq!(j.totals.viewers, 11);
    // Many: 20,000 distinct viewers more, estimated within 3%.
    let store = &gw.node().store;
    for i in 0..20_000 {
        store.add_viewer("r1", &format!("anon:x{i}")).await.unwrap();
    }
    let viewers = store.totals("r1").await.unwrap().viewers as f64;
    let want = 20_011.0;
    assert!(
        (viewers - want).abs() / want < 0.03,
        "estimated {viewers} for {want}"
    );
}

//! Fixed example inputs (the test vectors of docs/lottery.md): a well-known
//! key, a definition and a participant list, and the record they produce.

use crate::announcement::announce;
use crate::beacon::{BeaconChain, BeaconRound};
use crate::definition::{LotteryDefinition, LotteryKind};
use crate::draw::{draw, draw_with_beacon};
use crate::keys::SecretKey;
use crate::participants::ParticipantSet;
use crate::record::Record;

/// The demo secret key: RFC 8032 section 7.1 TEST 1 (also RFC 9381
/// Example 16), public key `d75a9801…511a`. Never use it for real draws.
pub const DEMO_SECRET_KEY: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

/// The demo key.
pub fn demo_key() -> SecretKey {
    SecretKey::from_bytes(&DEMO_SECRET_KEY)
}

/// The demo lottery: a comment lottery with keyword "抽奖", 3 winners.
pub fn demo_definition() -> LotteryDefinition {
    LotteryDefinition {
        lottery_id: "lot-0001".to_owned(),
        room_id: "room-42".to_owned(),
        kind: LotteryKind::Comment,
        keyword: Some("抽奖".to_owned()),
        window_start_ms: 1_767_225_600_000,
        window_end_ms: 1_767_225_900_000,
        winners: 3,
        prize: "Tea set".to_owned(),
        rules: "Comment 抽奖 during the window; 3 winners.".to_owned(),
        beacon: None,
    }
}

/// The demo participants in arrival order, with a repeat ("u7" twice) and
/// non-ASCII ids, so the canonical order and dedupe show.
pub fn demo_participants() -> Vec<String> {
    [
        "u7", "u10", "alice", "u2", "张三", "u7", "Bob", "u1", "zoë", "u3",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The record the demo inputs produce (deterministic).
pub fn demo_record() -> Record {
    let key = demo_key();
    let announcement = match announce(demo_definition(), &key) {
        Ok(a) => a,
        Err(e) => unreachable!("demo definition is valid: {e}"),
    };
    let mut set = ParticipantSet::new();
    for id in demo_participants() {
        if let Err(e) = set.insert(&id) {
            unreachable!("demo id is valid: {e}");
        }
    }
    match draw(&announcement, &set.commit(), &key) {
        Ok(record) => record,
        Err(e) => unreachable!("demo draw succeeds: {e}"),
    }
}

/// The beacon-mixed demo lottery: the demo definition with its window moved
/// to end just before quicknet round 123 (at 1692803733 s), which it names.
pub fn demo_beacon_definition() -> LotteryDefinition {
    let window_end_ms = 1_692_803_730_000;
    LotteryDefinition {
        window_start_ms: window_end_ms - 300_000,
        window_end_ms,
        beacon: Some(BeaconChain::quicknet().commit(window_end_ms)),
        ..demo_definition()
    }
}

/// Quicknet round 123 as `api.drand.sh/{quicknet}/public/123` serves it
/// (also in drand-verify's tests).
pub fn demo_beacon_round() -> BeaconRound {
    const SIG: &str = "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92";
    BeaconRound {
        round: 123,
        signature: crate::hexfmt::decode_array(SIG).unwrap_or([0; 48]),
    }
}

/// The record of the beacon-mixed demo: demo key and participants,
/// [`demo_beacon_definition`], [`demo_beacon_round`].
pub fn demo_beacon_record() -> Record {
    let key = demo_key();
    let announcement = match announce(demo_beacon_definition(), &key) {
        Ok(a) => a,
        Err(e) => unreachable!("demo beacon definition is valid: {e}"),
    };
    let mut set = ParticipantSet::new();
    for id in demo_participants() {
        if let Err(e) = set.insert(&id) {
            unreachable!("demo id is valid: {e}");
        }
    }
    match draw_with_beacon(
        &announcement,
        &set.commit(),
        Some(&demo_beacon_round()),
        &key,
    ) {
        Ok(record) => record,
        Err(e) => unreachable!("demo beacon draw succeeds: {e}"),
    }
}

//! A published record verifies, and any tampering fails: every byte of its
//! JSON flipped, every byte of its binary fields flipped, and each field
//! changed in a plausible way.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use lottery::demo::{demo_key, demo_record};
use lottery::{
    DrawOutcome, Outcome, PublicKey, Record, SecretKey, VerifyError, Winner, abandon, verify,
    verify_pinned,
};

fn drawn(record: &mut Record) -> &mut DrawOutcome {
    match &mut record.outcome {
        Outcome::Drawn(d) => d,
        Outcome::Abnormal(_) => panic!("demo record is drawn"),
    }
}

fn must_fail(record: &Record, what: &str) {
    assert!(verify(record).is_err(), "tampered record verified: {what}");
}

#[test]
fn demo_record_verifies_and_round_trips_json() {
    let record = demo_record();
    let checked = verify(&record).unwrap();
    assert_eq!(checked.count, 9);
    assert_eq!(checked.winners.len(), 3);
    let parsed = Record::from_json(&record.to_json()).unwrap();
    assert_eq!(parsed, record);
    verify_pinned(&parsed, &demo_key().public_key()).unwrap();
}

#[test]
fn every_flipped_json_byte_fails() {
    let json = demo_record().to_json();
    let bytes = json.as_bytes();
    let mut parse_failures = 0;
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x20] {
            if mask == 0x20 && i % 3 != 0 {
                continue; // case/space flips are sampled to keep debug runs short
            }
            let mut bad = bytes.to_vec();
            bad[i] ^= mask;
            let Ok(text) = std::str::from_utf8(&bad) else {
                parse_failures += 1;
                continue;
            };
            match Record::from_json(text) {
                Err(_) => parse_failures += 1,
                Ok(record) => assert!(
                    verify(&record).is_err(),
                    "byte {i} ^ {mask:#04x} ({:?}) still verifies",
                    char::from(bytes[i])
                ),
            }
        }
    }
    assert!(parse_failures > 0);
}

#[test]
fn every_flipped_binary_field_byte_fails() {
    let record = demo_record();
    for i in 0..64 {
        let mut r = record.clone();
        r.announcement.signature[i] ^= 1;
        must_fail(&r, "signature");
        let mut r = record.clone();
        drawn(&mut r).beta[i] ^= 1;
        must_fail(&r, "beta");
    }
    for i in 0..32 {
        let mut r = record.clone();
        r.announcement.public_key.0[i] ^= 1;
        must_fail(&r, "public key");
        let mut r = record.clone();
        r.announcement_hash[i] ^= 1;
        must_fail(&r, "announcement hash");
        let mut r = record.clone();
        drawn(&mut r).commitment.root[i] ^= 1;
        must_fail(&r, "root");
    }
    for i in 0..80 {
        let mut r = record.clone();
        drawn(&mut r).proof[i] ^= 1 << (i % 8);
        must_fail(&r, "proof");
    }
}

#[test]
fn changed_fields_fail() {
    let record = demo_record();
    type Edit = Box<dyn Fn(&mut Record)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("version", Box::new(|r| r.version = 2)),
        (
            "lottery id",
            Box::new(|r| r.announcement.definition.lottery_id.push('x')),
        ),
        (
            "room id",
            Box::new(|r| r.announcement.definition.room_id = "room-43".into()),
        ),
        (
            "kind",
            Box::new(|r| {
                r.announcement.definition.keyword = None;
                r.announcement.definition.kind = lottery::LotteryKind::Like;
            }),
        ),
        (
            "keyword",
            Box::new(|r| r.announcement.definition.keyword = None),
        ),
        (
            "start",
            Box::new(|r| r.announcement.definition.window_start_ms -= 1),
        ),
        (
            "end",
            Box::new(|r| r.announcement.definition.window_end_ms += 1),
        ),
        ("K", Box::new(|r| r.announcement.definition.winners = 4)),
        (
            "prize",
            Box::new(|r| r.announcement.definition.prize = "Car".into()),
        ),
        (
            "rules",
            Box::new(|r| r.announcement.definition.rules.clear()),
        ),
        ("count", Box::new(|r| drawn(r).commitment.count = 8)),
        (
            "add participant",
            Box::new(|r| drawn(r).commitment.participants.push("😀".into())),
        ),
        (
            "drop participant",
            Box::new(|r| {
                drawn(r).commitment.participants.remove(0);
            }),
        ),
        (
            "reorder participants",
            Box::new(|r| drawn(r).commitment.participants.swap(0, 1)),
        ),
        (
            "duplicate participant",
            Box::new(|r| {
                let d = drawn(r);
                d.commitment.participants[1] = d.commitment.participants[0].clone();
            }),
        ),
        ("reorder winners", Box::new(|r| drawn(r).winners.swap(0, 2))),
        (
            "drop winner",
            Box::new(|r| {
                drawn(r).winners.pop();
            }),
        ),
        (
            "extra winner",
            Box::new(|r| {
                let d = drawn(r);
                d.winners.push(Winner {
                    user_id: "u1".into(),
                    redemption_code: "AAAAAAAAAA".into(),
                });
            }),
        ),
        (
            "replace winner",
            Box::new(|r| {
                let d = drawn(r);
                d.winners[0].user_id = "u1".into();
            }),
        ),
        (
            "code",
            Box::new(|r| drawn(r).winners[1].redemption_code = "AAAAAAAAAA".into()),
        ),
    ];
    for (what, edit) in edits {
        let mut r = record.clone();
        edit(&mut r);
        must_fail(&r, what);
    }
}

#[test]
fn a_redrawn_record_by_another_key_is_not_pinned() {
    let record = demo_record();
    let other = SecretKey::from_bytes(&[42u8; 32]).public_key();
    assert!(matches!(
        verify_pinned(&record, &other),
        Err(VerifyError::KeyNotPinned(_))
    ));
    // A record whose key is swapped for another valid key fails the signature.
    let mut swapped = record.clone();
    swapped.announcement.public_key = other;
    assert!(matches!(
        verify(&swapped),
        Err(VerifyError::Announcement(_))
    ));
    let bogus = PublicKey([0u8; 32]);
    assert!(verify_pinned(&record, &bogus).is_err());
}

#[test]
fn abnormal_records_verify_and_cannot_be_forged_from_a_draw() {
    let key = demo_key();
    let record = demo_record();
    let abnormal = abandon(&record.announcement, &key, "live ended before the draw").unwrap();
    let checked = verify(&abnormal).unwrap();
    assert_eq!(checked.state, lottery::DrawState::Abnormal);
    assert!(checked.winners.is_empty());
    let json = abnormal.to_json();
    assert!(json.contains("\"state\": \"abnormal\""));
    assert_eq!(Record::from_json(&json).unwrap(), abnormal);

    let mut changed = abnormal.clone();
    if let Outcome::Abnormal(a) = &mut changed.outcome {
        a.reason.push('!');
    }
    must_fail(&changed, "abnormal reason");
    // Re-using the announcement signature as the abnormal signature fails.
    let mut forged = abnormal.clone();
    if let Outcome::Abnormal(a) = &mut forged.outcome {
        a.signature = record.announcement.signature;
    }
    must_fail(&forged, "abnormal signature");
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    for text in [
        "",
        "{}",
        "[]",
        "{\"version\":1}",
        "{\"version\":1,\"announcement\":null,\"announcement_hash\":\"\",\"outcome\":{}}",
    ] {
        assert!(Record::from_json(text).is_err(), "{text}");
    }
    let json = demo_record().to_json();
    let upper = json.replace("\"proof\": \"e4", "\"proof\": \"E4");
    assert_ne!(upper, json);
    assert!(
        Record::from_json(&upper).is_err(),
        "uppercase hex must be refused"
    );
    let extra = json.replacen("\"version\": 1,", "\"version\": 1, \"extra\": 0,", 1);
    assert!(
        Record::from_json(&extra).is_err(),
        "unknown fields must be refused"
    );
}

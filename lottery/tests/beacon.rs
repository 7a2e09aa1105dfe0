//! The beacon-mixed draw: the vectors of docs/lottery.md §8 ("Beacon-mixed
//! draw") recomputed from the code and compared with the doc's table, and
//! the checks a verifier makes on the beacon (round, signature, window).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::collections::BTreeMap;
use std::path::PathBuf;

use lottery::beacon::{BeaconChain, round_message};
use lottery::demo::{demo_beacon_definition, demo_beacon_record, demo_beacon_round, demo_key};
use lottery::hexfmt::encode;
use lottery::{
    Commitment, DrawError, Outcome, Record, VerifyError, alpha_with_beacon, announce,
    draw_with_beacon, verify, verify_beacon_pinned,
};

/// The rows `| name | `value` |` of the doc's beacon vector table.
fn doc_rows() -> BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/lottery.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc
        .find("### Beacon-mixed draw")
        .expect("section in docs/lottery.md");
    let section = &doc[start..];
    let end = section[4..].find("\n## ").map_or(section.len(), |e| e + 4);
    section[..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            if cells.len() != 4 || !cells[2].starts_with('`') {
                return None;
            }
            Some((cells[1].to_string(), cells[2].trim_matches('`').to_string()))
        })
        .collect()
}

#[test]
fn the_documented_beacon_vectors_are_the_codes() {
    let record = demo_beacon_record();
    let def = demo_beacon_definition();
    let Outcome::Drawn(d) = &record.outcome else {
        panic!("drawn")
    };
    let round = demo_beacon_round();
    let beacon = def.beacon.unwrap();
    let bytes = def.canonical_bytes();
    let commitment = &d.commitment;
    let alpha = alpha_with_beacon(
        &record.announcement_hash,
        &commitment.root,
        commitment.count,
        &round.signature,
    );
    let winners: Vec<&str> = d.winners.iter().map(|w| w.user_id.as_str()).collect();
    let codes: Vec<&str> = d
        .winners
        .iter()
        .map(|w| w.redemption_code.as_str())
        .collect();
    let mut expected = BTreeMap::new();
    let mut put = |k: &str, v: String| expected.insert(k.to_string(), v);
    put(
        "window",
        format!("{}–{}", def.window_start_ms, def.window_end_ms),
    );
    put("round", round.round.to_string());
    put("round time (ms)", beacon.round_time_ms().to_string());
    put("beacon suffix of A", encode(&beacon.canonical_bytes()));
    put("A", encode(&bytes));
    put("AH = SHA-256(A)", encode(&record.announcement_hash));
    put("signature", encode(&record.announcement.signature));
    put(
        "m = SHA-256(u64be(123))",
        encode(&round_message(round.round)),
    );
    put("round signature", encode(&round.signature));
    put(
        "randomness = SHA-256(signature)",
        encode(&round.randomness()),
    );
    put("root", encode(&commitment.root));
    put("alpha", encode(&alpha));
    put("π", encode(&d.proof));
    put("β", encode(&d.beta));
    put("winners", winners.join(", "));
    put("codes", codes.join(", "));
    assert_eq!(bytes.len(), 282);
    assert_eq!(alpha.len(), 120);
    if std::env::var_os("PRINT_VECTORS").is_some() {
        for (k, v) in &expected {
            println!("| {k} | `{v}` |");
        }
    }
    let doc = doc_rows();
    for (k, v) in &expected {
        assert_eq!(doc.get(k), Some(v), "row {k:?} of the doc's beacon vectors");
    }
    assert_eq!(doc.len(), expected.len(), "extra rows: {doc:?}");
}

#[test]
fn the_beacon_record_verifies_and_pins_quicknet() {
    let record = demo_beacon_record();
    verify(&record).unwrap();
    verify_beacon_pinned(&record, &BeaconChain::quicknet()).unwrap();
    let text = record.to_canonical();
    assert_eq!(Record::from_canonical(&text).unwrap(), record);
    // A record drawn without a beacon is not quicknet-pinned.
    let plain = lottery::demo::demo_record();
    assert!(matches!(
        verify_beacon_pinned(&plain, &BeaconChain::quicknet()),
        Err(VerifyError::BeaconNotPinned(_))
    ));
    // The same chain under another genesis is not quicknet.
    let mut chain = BeaconChain::quicknet();
    chain.genesis_s += 3;
    assert!(matches!(
        verify_beacon_pinned(&record, &chain),
        Err(VerifyError::BeaconNotPinned(_))
    ));
}

#[test]
fn a_draw_refuses_a_missing_wrong_or_forged_round() {
    let key = demo_key();
    let announcement = announce(demo_beacon_definition(), &key).unwrap();
    let set = Commitment::from_ids(["a".to_string(), "b".to_string()]).unwrap();
    assert_eq!(
        draw_with_beacon(&announcement, &set, None, &key),
        Err(DrawError::Beacon(0))
    );
    let mut other = demo_beacon_round();
    other.round = 124;
    assert_eq!(
        draw_with_beacon(&announcement, &set, Some(&other), &key),
        Err(DrawError::Beacon(124))
    );
    let mut forged = demo_beacon_round();
    forged.signature[10] ^= 1;
    assert!(draw_with_beacon(&announcement, &set, Some(&forged), &key).is_err());
    assert!(draw_with_beacon(&announcement, &set, Some(&demo_beacon_round()), &key).is_ok());
}

#[test]
fn a_verifier_rejects_tampered_beacon_fields() {
    let record = demo_beacon_record();
    // Another round named in the announcement: the definition's rule (the
    // first round after the window end) fails, and so would the signature.
    let mut r = record.clone();
    r.announcement.definition.beacon.as_mut().unwrap().round = 124;
    assert!(matches!(verify(&r), Err(VerifyError::Announcement(_))));
    // The window moved past the round's time.
    let mut r = record.clone();
    r.announcement.definition.window_end_ms += 3000;
    assert!(matches!(verify(&r), Err(VerifyError::Announcement(_))));
    // The round's signature replaced (the doc's round 3 signature).
    let mut r = record.clone();
    if let Outcome::Drawn(d) = &mut r.outcome {
        let bytes = lottery::hexfmt::decode(
            "b3fab6df720b68cc47175f2c777e86d84187caab5770906f515ff1099cb01e4deaa027075d860823e49477b93c72bd64",
        )
        .unwrap();
        d.beacon.as_mut().unwrap().signature.copy_from_slice(&bytes);
    }
    assert_eq!(verify(&r), Err(VerifyError::BeaconSignature(123)));
    // The outcome's round differs from the announced one.
    let mut r = record.clone();
    if let Outcome::Drawn(d) = &mut r.outcome {
        d.beacon.as_mut().unwrap().round = 3;
    }
    assert_eq!(verify(&r), Err(VerifyError::BeaconRound));
    // A beacon round in a record announced without one.
    let mut r = lottery::demo::demo_record();
    if let Outcome::Drawn(d) = &mut r.outcome {
        d.beacon = Some(demo_beacon_round());
    }
    assert_eq!(verify(&r), Err(VerifyError::BeaconRound));
    // `"beacon": null` is not the canonical text (the field is left out).
    let text = lottery::demo::demo_record().to_canonical().replace(
        "\"rules\": \"Comment 抽奖 during the window; 3 winners.\"",
        "\"rules\": \"Comment 抽奖 during the window; 3 winners.\",\n      \"beacon\": null",
    );
    assert!(Record::from_canonical(&text).is_err());
}

//! Draw behaviour: reproducibility (with a fixed regression vector), dedupe,
//! K ≥ N, N = 0, key mismatch, limits, and inclusion proofs from a record.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use lottery::demo::{demo_definition, demo_key, demo_participants, demo_record};
use lottery::merkle::EMPTY_ROOT;
use lottery::{
    Commitment, DefinitionError, DrawError, Limits, LotteryKind, Outcome, ParticipantError,
    ParticipantSet, Record, SecretKey, announce, draw, hexfmt, verify, verify_inclusion,
};

fn winners_of(record: &Record) -> Vec<String> {
    match &record.outcome {
        Outcome::Drawn(d) => d.winners.iter().map(|w| w.user_id.clone()).collect(),
        Outcome::Abnormal(_) => Vec::new(),
    }
}

fn draw_ids(ids: impl IntoIterator<Item = String>, k: u32) -> Record {
    let key = demo_key();
    let mut def = demo_definition();
    def.winners = k;
    let announcement = announce(def, &key).unwrap();
    draw(&announcement, &Commitment::from_ids(ids).unwrap(), &key).unwrap()
}

#[test]
fn demo_record_matches_the_documented_vector() {
    let record = demo_record();
    let Outcome::Drawn(d) = &record.outcome else {
        panic!("drawn")
    };
    assert_eq!(
        hexfmt::encode(&record.announcement_hash),
        "6ee4b75172454f94cd875afcfc924e950ce4e4abf0bda711ea23d1fbf537e897"
    );
    assert_eq!(
        hexfmt::encode(&d.commitment.root),
        "0fd895d2872df1bb0952104c0ffd122e2bb2ed788d2ac0ea0ca465afd4df426a"
    );
    assert_eq!(
        hexfmt::encode(&d.proof),
        "e4e8e068d132d8dd4b1cfdf39ef78b2240f62864b822b403d5d77deee55bd9f3\
         6b32051e0f9bef1d59f760a816288625d249b471551e4477bfb42922735511da\
         019fe248dd89118dd25eb13b80753707"
    );
    assert_eq!(
        hexfmt::encode(&d.beta),
        "cabd3ad5a1b663fc268f727c931ff7317706acb9d7ca29c389670a9881fbda58\
         693efc95cdcb4e7bed7c417f42bc15e8c34283001eb48bbea73212fc98210046"
    );
    assert_eq!(winners_of(&record), ["u10", "alice", "u3"]);
    let codes: Vec<&str> = d
        .winners
        .iter()
        .map(|w| w.redemption_code.as_str())
        .collect();
    assert_eq!(codes, ["CY5TBNRXXX", "LWKOW6HRSO", "QBQLXAJWV6"]);
}

#[test]
fn draws_are_reproducible_and_independent_of_arrival_order() {
    let ids: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    let forward = draw_ids(ids.clone(), 5);
    let backward = draw_ids(ids.iter().rev().cloned(), 5);
    assert_eq!(forward, backward);
    assert_eq!(winners_of(&forward), REGRESSION_1000_K5);
    verify(&forward).unwrap();
}

/// Winners among "u0".."u999" with the demo key and definition, K = 5.
const REGRESSION_1000_K5: [&str; 5] = ["u49", "u973", "u627", "u145", "u44"];

#[test]
fn a_user_added_100_times_counts_once() {
    let mut set = ParticipantSet::new();
    assert!(set.insert("viewer").unwrap());
    for _ in 0..99 {
        assert!(!set.insert("viewer").unwrap());
    }
    assert_eq!(set.len(), 1);
    let commitment = set.commit();
    assert_eq!(commitment.count(), 1);
    let from_ids = Commitment::from_ids(std::iter::repeat_n("viewer".to_owned(), 100)).unwrap();
    assert_eq!(from_ids, commitment);
}

#[test]
fn k_at_least_n_makes_everyone_win_in_shuffle_order() {
    let ids = ["c", "a", "b"].map(str::to_owned);
    let record = draw_ids(ids, 5);
    let mut winners = winners_of(&record);
    assert_eq!(winners.len(), 3);
    verify(&record).unwrap();
    winners.sort();
    assert_eq!(winners, ["a", "b", "c"]);
}

#[test]
fn no_participants_means_no_winners_and_still_verifies() {
    let record = draw_ids(Vec::new(), 3);
    let checked = verify(&record).unwrap();
    assert_eq!(checked.count, 0);
    assert_eq!(checked.root, Some(EMPTY_ROOT));
    assert!(checked.winners.is_empty());
}

#[test]
fn only_the_announcing_key_can_draw() {
    let key = demo_key();
    let announcement = announce(demo_definition(), &key).unwrap();
    let other = SecretKey::from_bytes(&[5u8; 32]);
    let commitment = Commitment::from_ids(demo_participants()).unwrap();
    assert_eq!(
        draw(&announcement, &commitment, &other),
        Err(DrawError::KeyMismatch)
    );
}

#[test]
fn definition_limits_are_enforced() {
    let key = demo_key();
    type Edit = Box<dyn Fn(&mut lottery::LotteryDefinition)>;
    let cases: Vec<(Edit, DefinitionError)> = vec![
        (
            Box::new(|d| d.winners = 0),
            DefinitionError::Winners { got: 0, max: 1000 },
        ),
        (
            Box::new(|d| d.winners = 1001),
            DefinitionError::Winners {
                got: 1001,
                max: 1000,
            },
        ),
        (
            Box::new(|d| d.window_end_ms = d.window_start_ms),
            DefinitionError::Window {
                start: 1_767_225_600_000,
                end: 1_767_225_600_000,
            },
        ),
        (
            Box::new(|d| d.lottery_id.clear()),
            DefinitionError::Empty("lottery_id"),
        ),
        (
            Box::new(|d| d.room_id = "r".repeat(129)),
            DefinitionError::TooLong {
                field: "room_id",
                len: 129,
                max: 128,
            },
        ),
        (
            Box::new(|d| d.kind = LotteryKind::Like),
            DefinitionError::KeywordOnLike,
        ),
        (
            Box::new(|d| d.keyword = Some(String::new())),
            DefinitionError::Empty("keyword"),
        ),
    ];
    for (edit, expected) in cases {
        let mut def = demo_definition();
        edit(&mut def);
        assert_eq!(announce(def, &key).unwrap_err(), expected);
    }
    let mut def = demo_definition();
    def.winners = 1000;
    assert!(announce(def.clone(), &key).is_ok());
    def.winners = 5000;
    let wide = Limits {
        max_winners: 5000,
        ..Limits::DEFAULT
    };
    assert!(lottery::announce_with_limits(def, &key, &wide).is_ok());
}

#[test]
fn participant_ids_are_limited() {
    let mut set = ParticipantSet::new();
    assert!(set.insert(&"x".repeat(128)).unwrap());
    assert_eq!(
        set.insert(&"x".repeat(129)),
        Err(ParticipantError::TooLong { len: 129, max: 128 })
    );
    assert_eq!(set.insert(""), Err(ParticipantError::Empty));
    assert!(Commitment::from_ids(["ok".to_owned(), String::new()]).is_err());
}

#[test]
fn every_participant_of_a_record_has_an_inclusion_proof() {
    let record = demo_record();
    let Outcome::Drawn(d) = &record.outcome else {
        panic!("drawn")
    };
    let commitment = Commitment::from_ids(demo_participants()).unwrap();
    assert_eq!(commitment.root(), d.commitment.root);
    for id in commitment.participants() {
        let proof = commitment.prove(id).unwrap();
        assert!(verify_inclusion(&d.commitment.root, id.as_bytes(), &proof));
    }
    assert!(commitment.prove("not-there").is_none());
}

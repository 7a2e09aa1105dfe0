//! The `lottery` binary end to end: demo → verify, a tampered record fails
//! with exit status 1, prove-inclusion → check-inclusion, keygen.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::path::PathBuf;
use std::process::{Command, Output};

fn lottery(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lottery"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lottery-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn demo_verify_tamper_and_inclusion() {
    let record = temp("record.json");
    let rec = record.to_str().unwrap();
    assert!(lottery(&["demo", "--out", rec]).status.success());

    let ok = lottery(&["verify", rec]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).starts_with("OK"));
    assert!(stdout(&ok).contains("u10"));

    let pinned = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    assert!(lottery(&["verify", rec, "--key", pinned]).status.success());
    let wrong = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    assert_eq!(
        lottery(&["verify", rec, "--key", wrong]).status.code(),
        Some(1)
    );

    let text = std::fs::read_to_string(&record).unwrap();
    let tampered = temp("tampered.json");
    std::fs::write(&tampered, text.replace("\"winners\": 3", "\"winners\": 2")).unwrap();
    let bad = lottery(&["verify", tampered.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).starts_with("FAILED: announcement"),
        "{}",
        stdout(&bad)
    );

    let proof = lottery(&["prove-inclusion", rec, "--user", "zoë"]);
    assert!(proof.status.success());
    let proof_path = temp("proof.json");
    std::fs::write(&proof_path, &proof.stdout).unwrap();
    let root = "0fd895d2872df1bb0952104c0ffd122e2bb2ed788d2ac0ea0ca465afd4df426a";
    let pp = proof_path.to_str().unwrap();
    let check = |user: &str, count: &str| {
        lottery(&[
            "check-inclusion",
            "--root",
            root,
            "--count",
            count,
            "--user",
            user,
            "--proof",
            pp,
        ])
    };
    assert!(check("zoë", "9").status.success());
    assert_eq!(check("zoe", "9").status.code(), Some(1));
    assert_eq!(check("zoë", "10").status.code(), Some(1));
    assert!(
        !lottery(&["prove-inclusion", rec, "--user", "nobody"])
            .status
            .success()
    );
}

#[test]
fn keygen_prints_a_fresh_key_pair() {
    let a = stdout(&lottery(&["keygen"]));
    let b = stdout(&lottery(&["keygen"]));
    assert!(a.contains("secret_key") && a.contains("public_key"));
    assert_ne!(a, b);
}

#[test]
fn a_reserialised_record_is_refused() {
    let record = temp("canonical.json");
    let rec = record.to_str().unwrap();
    assert!(lottery(&["demo", "--out", rec]).status.success());
    let text = std::fs::read_to_string(&record).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let compact = serde_json::to_string(&value).unwrap();
    let variants = [
        ("compact", compact),
        ("no final line feed", text.trim_end().to_string()),
        ("two final line feeds", format!("{text}\n")),
        ("CRLF", text.replace('\n', "\r\n")),
        ("tabs", text.replace("  ", "\t")),
        ("escaped non-ASCII", text.replace("抽奖", "\\u62bd\\u5956")),
        (
            "spaced colon",
            text.replacen("\"version\": 1", "\"version\" : 1", 1),
        ),
    ];
    for (what, v) in variants {
        assert_ne!(v, text, "{what}");
        let path = temp("variant.json");
        std::fs::write(&path, &v).unwrap();
        let out = lottery(&["verify", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stdout(&out));
        assert!(
            stdout(&out).starts_with("FAILED: not the canonical form"),
            "{what}: {}",
            stdout(&out)
        );
    }
    // The canonical text itself verifies, and so does the record a
    // gateway stores (`Record::to_canonical`).
    let parsed = lottery::Record::from_canonical(&text).unwrap();
    assert_eq!(parsed.to_canonical(), text);
}

/// The demo beacon record's events as the gateway's JSON codec sends them.
fn beacon_log(committed_ts: u64) -> serde_json::Value {
    let rec = lottery::demo::demo_beacon_record();
    let lottery::Outcome::Drawn(d) = &rec.outcome else {
        panic!("drawn")
    };
    let def = &rec.announcement.definition;
    let b = def.beacon.unwrap();
    let ah = lottery::hexfmt::encode(&rec.announcement_hash);
    let commitment = serde_json::json!({
        "root": lottery::hexfmt::encode(&d.commitment.root),
        "count": d.commitment.count,
        "announcement_hash": ah,
    });
    let winners: Vec<serde_json::Value> = d
        .winners
        .iter()
        .map(|w| serde_json::json!({"user": w.user_id, "code": w.redemption_code}))
        .collect();
    serde_json::json!([
        {"offset": 3, "ts": def.window_start_ms, "type": "lottery", "lottery": def.lottery_id,
         "state": "announced", "announcement": {
            "window_start_ms": def.window_start_ms, "window_end_ms": def.window_end_ms,
            "public_key": rec.announcement.public_key.to_hex(),
            "signature": lottery::hexfmt::encode(&rec.announcement.signature),
            "announcement_hash": ah,
            "beacon": {"chain_hash": lottery::hexfmt::encode(&b.chain_hash),
                       "public_key": lottery::hexfmt::encode(&b.public_key),
                       "genesis_s": b.genesis_s, "period_s": b.period_s, "round": b.round}}},
        {"offset": 9, "ts": committed_ts, "type": "lottery", "lottery": def.lottery_id,
         "state": "committed", "commitment": commitment},
        {"offset": 10, "ts": b.round_time_ms() + 50, "type": "lottery", "lottery": def.lottery_id,
         "state": "drawn", "commitment": commitment, "winners": winners},
        {"offset": 0, "ts": b.round_time_ms() + 50, "type": "lottery", "lottery": def.lottery_id,
         "state": "drawn", "commitment": commitment, "winners": [winners[0]]},
    ])
}

#[test]
fn verify_checks_the_beacon_and_an_event_log() {
    let record = temp("beacon.json");
    let rec = record.to_str().unwrap();
    assert!(
        lottery(&["demo", "--beacon", "--out", rec])
            .status
            .success()
    );
    let ok = lottery(&["verify", rec, "--quicknet"]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("beacon       round 123"),
        "{}",
        stdout(&ok)
    );
    // The plain demo has no beacon: --quicknet refuses it.
    let plain = temp("plain.json");
    assert!(
        lottery(&["demo", "--out", plain.to_str().unwrap()])
            .status
            .success()
    );
    let no = lottery(&["verify", plain.to_str().unwrap(), "--quicknet"]);
    assert_eq!(no.status.code(), Some(1), "{}", stdout(&no));

    let end = lottery::demo::demo_beacon_definition().window_end_ms;
    let log = temp("events.json");
    std::fs::write(&log, beacon_log(end + 20).to_string()).unwrap();
    let ok = lottery(&["verify", rec, "--events", log.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("event log    3 lottery events agree"),
        "{}",
        stdout(&ok)
    );
    // One event per line works too.
    let lines: Vec<String> = beacon_log(end + 20)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect();
    std::fs::write(&log, lines.join("\n")).unwrap();
    assert!(
        lottery(&["verify", rec, "--events", log.to_str().unwrap()])
            .status
            .success()
    );

    // Committed after the round's time: the set could have been ground.
    let b = lottery::demo::demo_beacon_definition().beacon.unwrap();
    std::fs::write(&log, beacon_log(b.round_time_ms()).to_string()).unwrap();
    let late = lottery(&["verify", rec, "--events", log.to_str().unwrap()]);
    assert_eq!(late.status.code(), Some(1));
    assert!(
        stdout(&late).contains("not before the beacon round"),
        "{}",
        stdout(&late)
    );
    // A drawn lottery also announced abnormal in the log.
    let mut v = beacon_log(end + 20);
    v.as_array_mut()
        .unwrap()
        .push(serde_json::json!({"offset": 11, "type": "lottery",
        "lottery": "lot-0001", "state": "abnormal", "reason": "beacon_unavailable"}));
    std::fs::write(&log, v.to_string()).unwrap();
    let both = lottery(&["verify", rec, "--events", log.to_str().unwrap()]);
    assert_eq!(both.status.code(), Some(1));
    assert!(
        stdout(&both).contains("abnormal event"),
        "{}",
        stdout(&both)
    );
    // Re-signed winners in the drawn event.
    let mut v = beacon_log(end + 20);
    v[2]["winners"][0]["code"] = "AAAAAAAAAA".into();
    std::fs::write(&log, v.to_string()).unwrap();
    assert_eq!(
        lottery(&["verify", rec, "--events", log.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    // A non-canonical record is still refused first.
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, text.replace("\n", "\r\n")).unwrap();
    let crlf = lottery(&["verify", rec]);
    assert_eq!(crlf.status.code(), Some(1));
    assert!(
        stdout(&crlf).contains("not the canonical form"),
        "{}",
        stdout(&crlf)
    );
}

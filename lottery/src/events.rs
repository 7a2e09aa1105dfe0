//! Checking a record against the room's event log (docs/lottery.md §5,
//! "Against the event log"): the `announced`, `committed`, `drawn` and
//! `abnormal` events a viewer saw must carry the record's hashes, so terms
//! re-signed after the announcement, a set changed after the commitment, a
//! commitment published after the beacon round, or a drawn lottery
//! re-signed as abnormal show.
//!
//! The log is JSON as the gateway's JSON codec sends room events: objects
//! with `type` `"lottery"`, `lottery`, `state`, `announcement`,
//! `commitment`, `winners`, `reason`, and (optionally) `offset` and `ts`.
//! Other objects are ignored, and so are personal copies (`offset` 0).

use serde_json::Value;

use crate::hexfmt::encode;
use crate::record::{Outcome, Record};

/// The first way the log disagrees with the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The log has no `announced` event of the lottery.
    #[error("the log has no announced event of the lottery")]
    NoAnnouncement,
    /// An `announced` event names other terms, key or beacon.
    #[error("announced event at offset {0} differs from the record's announcement ({1})")]
    Announcement(u64, &'static str),
    /// A drawn record without exactly one `committed` event.
    #[error("the log has {0} committed events of the lottery, not one")]
    Commitments(usize),
    /// A `committed` or `drawn` event's commitment differs.
    #[error("{1} event at offset {0} carries another commitment ({2})")]
    Commitment(u64, &'static str, &'static str),
    /// The commitment was published at or after the beacon round's time.
    #[error("committed event at {ts} ms is not before the beacon round's time {round_ms} ms")]
    CommittedLate {
        /// The event's time.
        ts: u64,
        /// The round's time.
        round_ms: u64,
    },
    /// A `drawn` event's winners differ.
    #[error("drawn event at offset {0} names other winners or codes")]
    Winners(u64),
    /// The log says the other outcome (drawn vs abnormal), or another reason.
    #[error("the log has a {0} event, the record is {1}")]
    Outcome(&'static str, &'static str),
}

/// What the log showed, for the CLI's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsChecked {
    /// Lottery events of this lottery that were checked.
    pub events: usize,
    /// The `committed` event's time (unix ms), when the log has it.
    pub committed_ts: Option<u64>,
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn num(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_u64()
}

/// Checks `record` against the lottery events in `log` (a JSON array of
/// events, or a single event).
pub fn check_events(record: &Record, log: &Value) -> Result<EventsChecked, EventError> {
    let def = &record.announcement.definition;
    let all: Vec<&Value> = match log {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let events: Vec<&Value> = all
        .into_iter()
        .filter(|e| e.get("type").is_none_or(|t| t == "lottery"))
        .filter(|e| text(e, &["lottery"]) == Some(def.lottery_id.as_str()))
        .filter(|e| num(e, &["offset"]) != Some(0))
        .collect();
    let ah = encode(&record.announcement_hash);
    let of = |e: &Value| num(e, &["offset"]).unwrap_or(0);
    let state = |e: &Value| text(e, &["state"]).unwrap_or_default().to_string();

    let announced: Vec<&&Value> = events.iter().filter(|e| state(e) == "announced").collect();
    if announced.is_empty() {
        return Err(EventError::NoAnnouncement);
    }
    for e in &announced {
        let a = &e["announcement"];
        let bad = |what| Err(EventError::Announcement(of(e), what));
        if text(a, &["announcement_hash"]) != Some(ah.as_str()) {
            return bad("announcement_hash");
        }
        if text(a, &["signature"]) != Some(encode(&record.announcement.signature).as_str()) {
            return bad("signature");
        }
        if text(a, &["public_key"]) != Some(record.announcement.public_key.to_hex().as_str()) {
            return bad("public_key");
        }
        if num(a, &["window_start_ms"]) != Some(def.window_start_ms)
            || num(a, &["window_end_ms"]) != Some(def.window_end_ms)
        {
            return bad("window");
        }
        let beacon = a.get("beacon").filter(|b| !b.is_null());
        let same_beacon = match (&def.beacon, beacon) {
            (None, None) => true,
            (Some(b), Some(v)) => {
                num(v, &["round"]) == Some(b.round)
                    && text(v, &["chain_hash"]) == Some(encode(&b.chain_hash).as_str())
            }
            _ => false,
        };
        if !same_beacon {
            return bad("beacon");
        }
    }

    let count = |s: &str| events.iter().filter(|e| state(e) == s).count();
    let mut committed_ts = None;
    match &record.outcome {
        Outcome::Drawn(d) => {
            if count("abnormal") > 0 {
                return Err(EventError::Outcome("abnormal", "drawn"));
            }
            let committed: Vec<&&Value> =
                events.iter().filter(|e| state(e) == "committed").collect();
            if committed.len() != 1 {
                return Err(EventError::Commitments(committed.len()));
            }
            let root = encode(&d.commitment.root);
            for e in events
                .iter()
                .filter(|e| matches!(state(e).as_str(), "committed" | "drawn"))
            {
                let c = &e["commitment"];
                let name = if state(e) == "drawn" {
                    "drawn"
                } else {
                    "committed"
                };
                let bad = |what| Err(EventError::Commitment(of(e), name, what));
                if text(c, &["root"]) != Some(root.as_str()) {
                    return bad("root");
                }
                if num(c, &["count"]) != Some(d.commitment.count) {
                    return bad("count");
                }
                if text(c, &["announcement_hash"]) != Some(ah.as_str()) {
                    return bad("announcement_hash");
                }
            }
            committed_ts = num(committed[0], &["ts"]);
            if let (Some(ts), Some(b)) = (committed_ts, &def.beacon)
                && ts >= b.round_time_ms()
            {
                return Err(EventError::CommittedLate {
                    ts,
                    round_ms: b.round_time_ms(),
                });
            }
            for e in events.iter().filter(|e| state(e) == "drawn") {
                let listed: Vec<(Option<&str>, Option<&str>)> = e["winners"]
                    .as_array()
                    .map(|w| {
                        w.iter()
                            .map(|w| (text(w, &["user"]), text(w, &["code"])))
                            .collect()
                    })
                    .unwrap_or_default();
                let recorded: Vec<(Option<&str>, Option<&str>)> = d
                    .winners
                    .iter()
                    .map(|w| (Some(w.user_id.as_str()), Some(w.redemption_code.as_str())))
                    .collect();
                if listed != recorded {
                    return Err(EventError::Winners(of(e)));
                }
            }
        }
        Outcome::Abnormal(a) => {
            if count("drawn") > 0 {
                return Err(EventError::Outcome("drawn", "abnormal"));
            }
            let reasons_match = events
                .iter()
                .filter(|e| state(e) == "abnormal")
                .all(|e| text(e, &["reason"]) == Some(a.reason.as_str()));
            if !reasons_match {
                return Err(EventError::Outcome("abnormal (another reason)", "abnormal"));
            }
        }
    }
    Ok(EventsChecked {
        events: events.len(),
        committed_ts,
    })
}

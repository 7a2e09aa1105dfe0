//! The signalling relay: a `signal` from one party of the room's live
//! co-stream goes, as a targeted `signal` event, to every session of the
//! other party on whichever nodes they are (the user directory), never
//! into the room log. Checked first: the sizes (`costream_max_sdp_bytes`,
//! `costream_max_candidate_bytes`), the session (the current one, live,
//! and the caller one of its two parties) and the sender's rate
//! (`costream_signal_rate` per party and session). Messages of one
//! connection are relayed in the order it sent them, numbered by `seq`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota};
use protocol::costream::{CostreamPhase, Signal, SignalEvent, SignalKind};
use protocol::{ErrorCode, EventKind, Rejection};

use crate::config::Settings;
use crate::room::Room;
use crate::service::Node;

/// One sender in one session on this node: its numbering and its rate.
struct Sender {
    seq: AtomicU64,
    limiter: DefaultDirectRateLimiter,
}

/// This node's senders, by (room, session id, user).
pub struct Relay {
    senders: DashMap<(String, u64, String), Arc<Sender>>,
    rate: NonZeroU32,
}

impl Relay {
    /// An empty relay with the settings' rate.
    pub fn new(settings: &Settings) -> Relay {
        Relay {
            senders: DashMap::new(),
            rate: NonZeroU32::new(settings.costream_signal_rate).unwrap_or(NonZeroU32::MIN),
        }
    }

    fn sender(&self, room: &str, session: u64, user: &str) -> Arc<Sender> {
        let key = (room.to_string(), session, user.to_string());
        if let Some(s) = self.senders.get(&key) {
            return s.clone();
        }
        // A room's older sessions are over: their senders go.
        self.senders.retain(|k, _| k.0 != room || k.1 == session);
        self.senders
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Sender {
                    seq: AtomicU64::new(0),
                    limiter: crate::clock::direct_limiter(
                        Quota::per_second(self.rate).allow_burst(self.rate),
                    ),
                })
            })
            .clone()
    }

    /// Drops the senders of an ended session.
    pub fn forget(&self, room: &str, session: u64) {
        self.senders.retain(|k, _| k.0 != room || k.1 != session);
    }
}

/// The largest `signal` frame: twice the SDP limit (JSON escapes each line
/// break of an SDP), at least `max_frame_bytes`.
pub fn max_signal_frame(settings: &Settings) -> usize {
    (2 * settings.costream_max_sdp_bytes).max(settings.max_frame_bytes)
}

/// The size and shape rules of a `signal`.
pub fn check(settings: &Settings, s: &Signal) -> Result<(), Rejection> {
    let too_large = |what: &str, limit: usize| {
        Rejection::new(
            ErrorCode::SignalTooLarge,
            format!("{what} longer than {limit} bytes"),
        )
    };
    let invalid = |m: &str| Rejection::new(ErrorCode::Invalid, m);
    match s.kind {
        SignalKind::Offer | SignalKind::Answer => {
            let sdp = s.sdp.as_deref().unwrap_or_default();
            if sdp.is_empty() || s.candidate.is_some() {
                return Err(invalid("an offer or answer carries sdp and no candidate"));
            }
            if sdp.len() > settings.costream_max_sdp_bytes {
                return Err(too_large("sdp", settings.costream_max_sdp_bytes));
            }
        }
        SignalKind::Candidate => {
            let c = s.candidate.as_deref().unwrap_or_default();
            if c.is_empty() || s.sdp.is_some() {
                return Err(invalid("a candidate carries candidate and no sdp"));
            }
            if c.len() > settings.costream_max_candidate_bytes {
                return Err(too_large(
                    "candidate",
                    settings.costream_max_candidate_bytes,
                ));
            }
            if s.sdp_mid.as_ref().is_some_and(|m| m.len() > 64) {
                return Err(invalid("sdp_mid longer than 64 bytes"));
            }
        }
        SignalKind::EndOfCandidates | SignalKind::Restart => {
            if s.sdp.is_some() || s.candidate.is_some() {
                return Err(invalid(
                    "end_of_candidates and restart carry no sdp or candidate",
                ));
            }
        }
    }
    Ok(())
}

/// The other party of `room`'s live session (or, with `link`, live link)
/// `id`, when `user` is one.
fn peer(room: &Room, id: u64, user: &str, link: bool) -> Result<Option<String>, Rejection> {
    if link {
        let Some(l) = room
            .costream
            .link
            .as_ref()
            .filter(|l| l.live.link == id && l.phase == CostreamPhase::Live)
        else {
            return Ok(None);
        };
        if user != room.anchor {
            return Err(Rejection::new(
                ErrorCode::Forbidden,
                "not a party of this link",
            ));
        }
        return Ok(Some(l.peer_anchor(&room.id).to_string()));
    }
    let Some(s) = room
        .costream
        .current
        .as_ref()
        .filter(|s| s.id == id && s.phase == CostreamPhase::Live)
    else {
        return Ok(None);
    };
    if user == room.anchor {
        Ok(Some(s.guest.clone()))
    } else if user == s.guest {
        Ok(Some(room.anchor.clone()))
    } else {
        Err(Rejection::new(
            ErrorCode::Forbidden,
            "not a party of this co-stream",
        ))
    }
}

impl Node {
    /// Relays `signal` from `user` in `room` (as this node's hub holds it)
    /// to the other party.
    pub async fn relay_signal(
        &self,
        room: &Room,
        user: &str,
        signal: Signal,
    ) -> Result<(), Rejection> {
        check(&self.settings, &signal)?;
        let to = match peer(room, signal.session, user, signal.link)? {
            Some(to) => to,
            // The hub may not have the record of a step made on another
            // node a moment ago: the store decides.
            None => {
                let stored = self.store.room(&room.id).await.map_err(|e| e.rejection())?;
                peer(&stored, signal.session, user, signal.link)?.ok_or_else(|| {
                    Rejection::new(
                        ErrorCode::CostreamStale,
                        "no such live co-stream session now",
                    )
                })?
            }
        };
        // Link ids and session ids are numbered apart: key them apart.
        let key = if signal.link {
            signal.session | 1 << 63
        } else {
            signal.session
        };
        let sender = self.relay.sender(&room.id, key, user);
        if let Err(not_until) = sender.limiter.check() {
            let wait = not_until.wait_time_from(crate::clock::limiter_clock().now());
            return Err(Rejection::rate_limited(wait.as_millis().max(1) as u64));
        }
        let seq = sender.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let event = SignalEvent {
            session: signal.session,
            from: user.to_string(),
            seq,
            kind: signal.kind,
            sdp: signal.sdp,
            candidate: signal.candidate,
            sdp_mid: signal.sdp_mid,
            sdp_mline_index: signal.sdp_mline_index,
        };
        self.send_to_user(&to, &room.id, EventKind::Signal(Box::new(event)))
            .await
    }
}

//! The lottery slice: lotteries through the request path. Create (anchor,
//! sub-anchor, admin), start while live (sign and publish the
//! announcement), collect participants from delivered comments and likes,
//! and draw once at window end under the room's timer lease with a state
//! compare-and-set (`draw.rs`: commit, publish the commitment, draw, store
//! the record, publish the winners and tell each winner personally). If
//! the live ends before the draw time, the lottery is abandoned with a
//! signed abnormal record. The room record carries each lottery's slot
//! (`slot.rs`); the documents and participant sets are behind
//! [`LotteryStore`] (`store.rs`, `memory.rs`, `redis.rs`). A participant's inclusion proof
//! is `proof.rs`. Requests arrive
//! from the session (`ws.rs`) and the admin API (`http.rs`). The sans-I/O
//! core is the `lottery` crate (hence this folder's plural name).

pub mod beacon;
mod draw;
pub(crate) mod http;
pub(crate) mod memory;
mod proof;
mod redis;
mod slot;
pub mod store;
pub(crate) mod ws;

pub use slot::{LotterySlot, SlotState, next_deadline};
pub use store::LotteryStore;

use std::collections::HashSet;

use dashmap::DashMap;
use lottery::{Announcement, LotteryDefinition, Record, SecretKey};
use protocol::{
    ErrorCode, EventKind, LotteryAnnouncement, LotteryEvent, LotteryKind, LotteryState,
    LotteryTerms, LotteryWinner, Rejection, RoomEvent, RoomStatus,
};

use slot::slot_mut;

use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// Lotteries a room may hold *(platform)*.
pub const MAX_LOTTERIES: usize = 30;
/// Longest lottery window: one day.
const MAX_DURATION_S: u64 = 24 * 3600;
/// A draw claimed longer ago than this (its node died mid-way) may be
/// taken over; the draw is deterministic, so the record is the same.
const DRAW_RECLAIM_MS: i64 = 30_000;
/// Why a lottery is abandoned when the live ends before its draw time.
const LIVE_ENDED: &str = "live_ended";
/// Why a lottery is abandoned when its beacon round could not be fetched
/// by the deadline.
pub const BEACON_UNAVAILABLE: &str = "beacon_unavailable";

/// The node's lottery state: the group's signing key and, per open
/// lottery, the participants this node already stored (so a viewer who
/// comments 100 times costs one store call).
pub struct Lotteries {
    /// The node group's signing key (setting `lottery_key`).
    pub key: SecretKey,
    /// The drand beacon new lotteries commit to (settings `beacon_*`);
    /// `None` with no endpoints.
    pub beacon: Option<beacon::BeaconClient>,
    seen: DashMap<(String, String), (u64, HashSet<String>)>,
}

impl Lotteries {
    /// Lottery state over the group key and the beacon.
    pub fn new(key: SecretKey, beacon: Option<beacon::BeaconClient>) -> Self {
        Lotteries {
            key,
            beacon,
            seen: DashMap::new(),
        }
    }

    /// Parses the `lottery_key` setting (hex of a 32-byte seed).
    pub fn parse_key(hex_seed: &str) -> Result<SecretKey, String> {
        let bytes = hex::decode(hex_seed.trim()).map_err(|e| format!("lottery_key: {e}"))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "lottery_key must be 32 bytes (64 hex digits)".to_string())?;
        Ok(SecretKey::from_bytes(&seed))
    }

    /// Whether `user` is new to this node for the lottery (and remembers them).
    fn first_time(&self, room: &str, lottery: &str, end: u64, user: &str) -> bool {
        let mut e = self
            .seen
            .entry((room.to_string(), lottery.to_string()))
            .or_insert_with(|| (end, HashSet::new()));
        e.1.insert(user.to_string())
    }

    fn forget(&self, room: &str, lottery: &str, user: &str) {
        if let Some(mut e) = self.seen.get_mut(&(room.to_string(), lottery.to_string())) {
            e.1.remove(user);
        }
    }

    /// Drops the local sets of lotteries whose window closed before `now`.
    pub fn prune(&self, now: u64) {
        self.seen.retain(|_, (end, _)| *end + 60_000 > now);
    }
}

fn invalid(e: impl std::fmt::Display) -> Rejection {
    Rejection::new(ErrorCode::Invalid, e.to_string())
}

fn not_found() -> Rejection {
    Rejection::new(ErrorCode::NotFound, "no such lottery in this room")
}

fn internal(what: &str, e: impl std::fmt::Display) -> Rejection {
    tracing::error!(error = %e, "lottery: {what}");
    Rejection::new(ErrorCode::Internal, format!("lottery {what} failed"))
}

fn kind_of(k: LotteryKind) -> lottery::LotteryKind {
    match k {
        LotteryKind::Comment => lottery::LotteryKind::Comment,
        LotteryKind::Like => lottery::LotteryKind::Like,
    }
}

fn definition(
    room: &str,
    id: &str,
    terms: &LotteryTerms,
    start_ms: u64,
    end_ms: u64,
) -> LotteryDefinition {
    LotteryDefinition {
        lottery_id: id.to_string(),
        room_id: room.to_string(),
        kind: kind_of(terms.kind),
        keyword: terms.keyword.clone(),
        window_start_ms: start_ms,
        window_end_ms: end_ms,
        winners: terms.winners,
        prize: terms.prize.clone(),
        rules: terms.rules.clone(),
        beacon: None,
    }
}

/// The field limits of lottery terms (`invalid`), checked before the rate
/// limit like every field limit, and again when the lottery is created.
pub(crate) fn check_terms(room: &str, terms: &LotteryTerms) -> Result<(), Rejection> {
    if terms.duration_s == 0 || terms.duration_s > MAX_DURATION_S {
        return Err(invalid(format!("duration_s must be 1..={MAX_DURATION_S}")));
    }
    let def = definition(room, "lot-0", terms, 0, terms.duration_s * 1000);
    def.check(&lottery::Limits::DEFAULT).map_err(invalid)
}

fn announcement_of(a: &Announcement) -> LotteryAnnouncement {
    LotteryAnnouncement {
        window_start_ms: a.definition.window_start_ms,
        window_end_ms: a.definition.window_end_ms,
        public_key: a.public_key.to_hex(),
        signature: hex::encode(a.signature),
        announcement_hash: hex::encode(a.hash()),
        beacon: a
            .definition
            .beacon
            .as_ref()
            .map(|b| protocol::LotteryBeacon {
                chain_hash: hex::encode(b.chain_hash),
                public_key: hex::encode(b.public_key),
                genesis_s: b.genesis_s,
                period_s: b.period_s,
                round: b.round,
            }),
    }
}

impl Node {
    /// Creates a lottery in `room` (at most `MAX_LOTTERIES`) and pushes a
    /// `created` event to the room (the anchor's console sees it).
    pub async fn create_lottery(
        &self,
        room: &str,
        terms: LotteryTerms,
    ) -> Result<RoomEvent, Rejection> {
        check_terms(room, &terms)?;
        let (kind, keyword, duration_s) = (terms.kind, terms.keyword.clone(), terms.duration_s);
        let updated = self
            .update_room(room, &|r| {
                if r.lotteries.len() >= MAX_LOTTERIES {
                    return Err(Rejection::new(
                        ErrorCode::LotteryLimit,
                        format!("a room holds at most {MAX_LOTTERIES} lotteries"),
                    ));
                }
                r.lotteries.push(LotterySlot {
                    id: format!("lot-{}", r.lotteries.len() + 1),
                    kind,
                    keyword: keyword.clone(),
                    duration_s,
                    state: SlotState::Created,
                    window_start_ms: None,
                    window_end_ms: None,
                    drawing_since: None,
                    beacon_try_ms: None,
                });
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        // The slot this update added is the last one of the room it returned.
        let id = updated
            .lotteries
            .last()
            .map(|s| s.id.clone())
            .ok_or_else(not_found)?;
        let json = serde_json::to_string(&terms).map_err(|e| internal("terms", e))?;
        self.lottery_store
            .put_lottery_doc(room, &id, "terms", &json)
            .await
            .map_err(|e| e.rejection())?;
        let mut event = LotteryEvent::new(&id, LotteryState::Created);
        event.terms = Some(terms);
        self.publish(room, EventKind::Lottery(Box::new(event)))
            .await
    }

    /// The terms a lottery was created with.
    pub async fn lottery_terms(&self, room: &str, id: &str) -> Result<LotteryTerms, Rejection> {
        let json = self
            .lottery_store
            .lottery_doc(room, id, "terms")
            .await
            .map_err(|e| e.rejection())?
            .ok_or_else(not_found)?;
        serde_json::from_str(&json).map_err(|e| internal("terms", e))
    }

    /// The published record (drawn or abnormal), if any.
    pub async fn lottery_record(&self, room: &str, id: &str) -> Result<Option<String>, Rejection> {
        self.lottery_store
            .lottery_doc(room, id, "record")
            .await
            .map_err(|e| e.rejection())
    }

    /// Starts a created lottery while the room is live: the window is
    /// `[now, now + duration)`; the signed announcement goes to the room.
    pub async fn start_lottery(&self, room: &str, id: &str) -> Result<RoomEvent, Rejection> {
        let terms = self.lottery_terms(room, id).await?;
        let start = now_ms().max(0) as u64;
        let end = start + terms.duration_s * 1000;
        let updated = self
            .update_room(room, &|r| {
                if r.status != RoomStatus::Live {
                    return Err(Rejection::new(
                        ErrorCode::RoomNotLive,
                        "a lottery starts only while the room is live",
                    ));
                }
                let slot = slot_mut(r, id)?;
                if slot.state != SlotState::Created {
                    return Err(Rejection::new(
                        ErrorCode::InvalidTransition,
                        "the lottery was already started",
                    ));
                }
                slot.state = SlotState::Running;
                slot.window_start_ms = Some(start);
                slot.window_end_ms = Some(end);
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        let mut def = definition(room, id, &terms, start, end);
        def.beacon = self.lotteries.beacon.as_ref().map(|b| b.chain.commit(end));
        let stored = match lottery::announce(def, &self.lotteries.key) {
            Ok(announcement) => match serde_json::to_string(&announcement) {
                Ok(json) => self
                    .lottery_store
                    .put_lottery_doc(room, id, "announcement", &json)
                    .await
                    .map(|()| announcement)
                    .map_err(|e| e.rejection()),
                Err(e) => Err(internal("announce", e)),
            },
            Err(e) => Err(invalid(e)),
        };
        let announcement = match stored {
            Ok(a) => a,
            Err(r) => {
                // Undo the start, so the lottery can be started again; if
                // that fails too, the draw finds no announcement and gives
                // the lottery up as abnormal instead of retrying forever.
                self.unstart_lottery(room, id, start).await;
                return Err(r);
            }
        };
        self.set_room_deadline(&updated).await;
        let mut event = LotteryEvent::new(id, LotteryState::Announced);
        event.terms = Some(terms);
        event.announcement = Some(announcement_of(&announcement));
        self.publish(room, EventKind::Lottery(Box::new(event)))
            .await
    }

    /// The open lotteries of `room` (created, running, being drawn) as a
    /// join snapshot carries them: each as its `created` event (terms) or,
    /// once started, its `announced` event (terms and the signed
    /// announcement). Two document reads per open lottery; none without.
    pub async fn open_lotteries(&self, room: &Room) -> Vec<LotteryEvent> {
        let mut out = vec![];
        for slot in &room.lotteries {
            let state = match slot.state {
                SlotState::Created => LotteryState::Created,
                SlotState::Running | SlotState::Drawing | SlotState::Beacon => {
                    LotteryState::Announced
                }
                _ => continue,
            };
            let mut event = LotteryEvent::new(&slot.id, state);
            match self.lottery_terms(&room.id, &slot.id).await {
                Ok(t) => event.terms = Some(t),
                Err(r) => {
                    tracing::warn!(room = %room.id, lottery = %slot.id, reason = %r, "open lottery left out of a snapshot");
                    continue;
                }
            }
            if state == LotteryState::Announced {
                match self.announcement(&room.id, &slot.id).await {
                    Ok(a) => event.announcement = Some(announcement_of(&a)),
                    Err(_) => continue,
                }
            }
            out.push(event);
        }
        out
    }

    /// Moves a lottery started at `start` back to created.
    async fn unstart_lottery(&self, room: &str, id: &str, start: u64) {
        let undone = self
            .update_room(room, &|r| {
                let slot = slot_mut(r, id)?;
                if slot.state != SlotState::Running || slot.window_start_ms != Some(start) {
                    return Err(Rejection::new(ErrorCode::InvalidTransition, "moved on"));
                }
                slot.state = SlotState::Created;
                slot.window_start_ms = None;
                slot.window_end_ms = None;
                Ok(())
            })
            .await;
        if let Err(e) = undone {
            tracing::error!(room, lottery = id, error = %e, "failed lottery start not undone");
        }
    }

    /// Counts `user` in every open lottery of `room` their action matches:
    /// a delivered comment (`Some(text)`) or a like (`None`). Each user
    /// costs one store call per lottery and node.
    pub async fn lottery_participate(&self, room: &Room, user: &str, comment: Option<&str>) {
        if room.lotteries.is_empty() {
            return;
        }
        let now = now_ms().max(0) as u64;
        let mut folded: Option<String> = None;
        for slot in room.lotteries.iter().filter(|s| s.open_at(now)) {
            let counts = match (slot.kind, comment) {
                (LotteryKind::Like, None) => true,
                (LotteryKind::Comment, Some(text)) => match &slot.keyword {
                    None => true,
                    Some(k) => folded
                        .get_or_insert_with(|| wordfilter::fold_str(text))
                        .contains(&wordfilter::fold_str(k)),
                },
                _ => false,
            };
            let end = slot.window_end_ms.unwrap_or(now);
            if !counts || !self.lotteries.first_time(&room.id, &slot.id, end, user) {
                continue;
            }
            let users = [user.to_string()];
            if let Err(e) = self
                .lottery_store
                .add_participants(&room.id, &slot.id, &users)
                .await
            {
                self.lotteries.forget(&room.id, &slot.id, user);
                tracing::warn!(room = %room.id, lottery = %slot.id, error = %e, "participant not stored");
            }
        }
    }
}

/// The winners of a drawn record, in draw order.
pub fn winners_of(record: &Record) -> Vec<LotteryWinner> {
    match &record.outcome {
        lottery::Outcome::Drawn(d) => d
            .winners
            .iter()
            .map(|w| LotteryWinner {
                user: w.user_id.clone(),
                code: w.redemption_code.clone(),
            })
            .collect(),
        lottery::Outcome::Abnormal(_) => vec![],
    }
}

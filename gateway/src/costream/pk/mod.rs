//! PK (battle) on a live anchor-to-anchor link: either anchor starts one
//! (`link` `pk_start`), for 30 s to an hour; each room's score is the
//! likes counted in it since the start plus an admin part
//! (`POST /api/rooms/{id}/pk/score`, gifts from the merchant backend).
//!
//! The inviting room's copy of the link (its record) holds the PK and
//! decides every step by compare-and-set: the start, each score
//! announcement (at most once a second, only when a score changed, by the
//! holder of the inviting room's timer lease), and the end (time over
//! under the same lease, `pk_end`, or the link ending). Only the node whose
//! change won announces it: the `pk` event goes to both rooms' logs, and
//! the ended PK into both rooms' history (`PkStore`). The invited room's
//! copy mirrors the PK for its join snapshots.

pub mod http;
pub mod memory;
pub mod redis;
pub mod state;
pub mod store;

use std::sync::Mutex;

use protocol::pk::{PkEvent, PkReason, PkState};
use protocol::{ErrorCode, EventKind, Rejection, RoomStatus};

pub use state::{MAX_ADMIN_SCORE, PkRun};
pub use store::PkStore;

use super::link::Link;
use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// The room's running PK as its record shows it (`joined.pk`, `GET .../pk`).
pub fn current(room: &Room) -> Option<PkEvent> {
    let link = room.costream.link.as_ref()?;
    link.pk.as_ref().map(|pk| pk.current(link))
}

/// When the inviting room's timer has PK work (the invited room's mirror
/// has none).
pub fn next_deadline(room: &Room, now: i64) -> Option<i64> {
    let link = room.costream.link.as_ref()?;
    if link.live.from_room != room.id {
        return None;
    }
    link.pk.as_ref().map(|pk| pk.deadline(now))
}

/// A change of a room's admin part of the running PK's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreChange {
    /// Adds to it.
    Add(u64),
    /// Overwrites it.
    Set(u64),
}

fn stale() -> Rejection {
    Rejection::new(ErrorCode::CostreamStale, "no such link now")
}

/// `room`'s link `id`, or `stale` when the room holds another or none.
fn link_of(room: &Room, id: u64) -> Result<&Link, Rejection> {
    room.costream
        .link
        .as_ref()
        .filter(|l| l.live.link == id)
        .ok_or_else(stale)
}

fn no_pk() -> Rejection {
    Rejection::new(ErrorCode::NotFound, "no PK runs on this link")
}

fn take<T>(m: Mutex<Option<T>>) -> Result<T, Rejection> {
    m.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .ok_or_else(|| Rejection::new(ErrorCode::Internal, "PK change missing"))
}

fn put<T>(m: &Mutex<Option<T>>, v: T) {
    *m.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
}

/// The edit of the inviting room's live link `id` inside a compare-and-set:
/// the link and the room's id counter.
type LinkEdit<'a> = &'a (dyn Fn(&mut Link, &mut u64) -> Result<(), Rejection> + Send + Sync);

impl Node {
    /// Each room's like total now ([inviting, invited]).
    async fn pk_likes(&self, link: &Link) -> Result<[u64; 2], Rejection> {
        let a = self.store.totals(&link.live.from_room).await;
        let b = self.store.totals(&link.live.to_room).await;
        match (a, b) {
            (Ok(a), Ok(b)) => Ok([a.likes, b.likes]),
            (Err(e), _) | (_, Err(e)) => Err(e.rejection()),
        }
    }

    /// Runs `edit` on the inviting room `owner`'s live link `id` by
    /// compare-and-set, bumps its `pk_rev`, and returns the link after it.
    async fn edit_pk(
        &self,
        owner: &str,
        id: u64,
        live: bool,
        edit: LinkEdit<'_>,
    ) -> Result<Link, Rejection> {
        let after = Mutex::new(None);
        self.update_room(owner, &|r| {
            if live && r.status != RoomStatus::Live {
                return Err(Rejection::new(
                    ErrorCode::RoomNotLive,
                    format!(
                        "room {} has status {}, a PK needs 101",
                        r.id,
                        r.status.code()
                    ),
                ));
            }
            let c = &mut r.costream;
            let Some(l) = c.link.as_mut().filter(|l| l.live.link == id) else {
                return Err(stale());
            };
            edit(l, &mut c.last_id)?;
            l.pk_rev += 1;
            put(&after, l.clone());
            Ok(())
        })
        .await
        .map_err(|e| e.rejection())?;
        take(after)
    }

    /// Copies the inviting room's PK state to the invited room's link,
    /// unless that copy already holds a newer one (or the link is gone).
    async fn pk_mirror(&self, owner: &Link) {
        let (id, from, rev) = (owner.live.link, &owner.live.from_room, owner.pk_rev);
        let pk = owner.pk.clone();
        let _ = self
            .update_room(&owner.live.to_room, &|r| match r.costream.link.as_mut() {
                Some(l) if l.live.link == id && &l.live.from_room == from && l.pk_rev < rev => {
                    l.pk = pk.clone();
                    l.pk_rev = rev;
                    Ok(())
                }
                _ => Err(stale()),
            })
            .await;
    }

    /// The `pk` event in both rooms' logs, stamped `ts`.
    async fn pk_announce(&self, event: &PkEvent, ts: i64) {
        for room in &event.rooms {
            let kind = EventKind::Pk(Box::new(event.clone()));
            if let Err(r) = self.publish_at(room, ts, kind).await {
                tracing::warn!(room, reason = %r, "PK event not announced");
            }
        }
    }

    /// After the compare-and-set that ended the PK: the mirror, both
    /// histories, the `ended` events, the inviting room's timer.
    async fn pk_finish(&self, owner: &Link, event: &PkEvent, now: i64) {
        self.pk_mirror(owner).await;
        match serde_json::to_string(event) {
            Ok(json) => {
                for room in &event.rooms {
                    if let Err(e) = self.pk_store.push_pk(room, &json).await {
                        tracing::warn!(room, error = %e, "PK not kept in the history");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "PK does not serialize"),
        }
        self.pk_announce(event, now).await;
        if let Ok(r) = self.store.room(&owner.live.from_room).await {
            self.set_room_deadline(&r).await;
        }
    }

    /// Either anchor of `room` starts a PK of `duration_s` on its live link
    /// `id`.
    pub async fn pk_start(
        &self,
        room: &Room,
        id: u64,
        duration_s: u32,
    ) -> Result<PkEvent, Rejection> {
        let link = link_of(room, id)?;
        let likes = self.pk_likes(link).await?;
        let now = now_ms();
        let owner = self
            .edit_pk(&link.live.from_room, id, true, &|l, last_id| {
                if l.phase != protocol::costream::CostreamPhase::Live {
                    return Err(Rejection::new(
                        ErrorCode::InvalidTransition,
                        "the link is not live yet",
                    ));
                }
                if l.pk.is_some() {
                    return Err(Rejection::new(
                        ErrorCode::InvalidTransition,
                        "a PK already runs on this link",
                    ));
                }
                *last_id += 1;
                l.pk = Some(PkRun {
                    id: *last_id,
                    started_at: now,
                    ends_at: now + i64::from(duration_s) * 1000,
                    base: likes,
                    admin: [0, 0],
                    scores: [0, 0],
                    scored_at: now,
                });
                Ok(())
            })
            .await?;
        let pk = owner.pk.as_ref().ok_or_else(no_pk)?;
        let event = pk.event(&owner, PkState::Started);
        self.pk_mirror(&owner).await;
        if let Ok(r) = self.store.room(&owner.live.from_room).await {
            self.set_room_deadline(&r).await;
        }
        self.pk_announce(&event, now).await;
        Ok(event)
    }

    /// Either anchor of `room` ends the PK on its link `id` early.
    pub async fn pk_end(&self, room: &Room, id: u64) -> Result<PkEvent, Rejection> {
        let link = link_of(room, id)?;
        let likes = self.pk_likes(link).await?;
        let now = now_ms();
        let ended = Mutex::new(None);
        let owner = self
            .edit_pk(&link.live.from_room, id, false, &|l, _| {
                let pk = l.pk.take().ok_or_else(no_pk)?;
                put(
                    &ended,
                    pk.ended(l, pk.scores_at(likes), PkReason::EndedEarly, None, now),
                );
                Ok(())
            })
            .await?;
        let event = take(ended)?;
        self.pk_finish(&owner, &event, now).await;
        Ok(event)
    }

    /// The link that carried `pk` ended because `left` (a room id) ended it
    /// or left 101; `owner` is the inviting room's copy, already taken out
    /// of its record (so this runs once). `left` forfeits.
    pub(super) async fn pk_left(&self, owner: &Link, pk: &PkRun, left: &str) {
        let now = now_ms();
        let scores = match self.pk_likes(owner).await {
            Ok(likes) => pk.scores_at(likes),
            Err(_) => pk.scores,
        };
        let event = pk.ended(owner, scores, PkReason::AnchorLeft, Some(left), now);
        self.pk_finish(owner, &event, now).await;
    }

    /// The inviting room's timer (its lease holder): ends the PK once its
    /// time is over, else announces changed scores at most once a second.
    pub async fn fire_pk(&self, room: &Room, now: i64) {
        let Some(link) = room
            .costream
            .link
            .as_ref()
            .filter(|l| l.live.from_room == room.id)
        else {
            return;
        };
        let Some(pk) = link.pk.as_ref() else {
            return;
        };
        if now < pk.ends_at && now < pk.scored_at + protocol::pk::PK_SCORE_EVERY_MS {
            return;
        }
        let likes = match self.pk_likes(link).await {
            Ok(l) => l,
            Err(r) => {
                // Tried again at the next timer tick.
                tracing::warn!(room = %room.id, reason = %r, "PK scores unavailable");
                return;
            }
        };
        let (id, pk_id) = (link.live.link, pk.id);
        if now >= pk.ends_at {
            let ended = Mutex::new(None);
            let done = self
                .edit_pk(&room.id, id, false, &|l, _| match l.pk.take() {
                    Some(pk) if pk.id == pk_id && now >= pk.ends_at => {
                        let scores = pk.scores_at(likes);
                        put(&ended, pk.ended(l, scores, PkReason::TimeOver, None, now));
                        Ok(())
                    }
                    _ => Err(no_pk()),
                })
                .await;
            if let (Ok(owner), Ok(event)) = (done, take(ended)) {
                self.pk_finish(&owner, &event, now).await;
            }
            return;
        }
        if !pk.may_score(pk.scores_at(likes), now) {
            return;
        }
        let done = self
            .edit_pk(&room.id, id, false, &|l, _| match l.pk.as_mut() {
                Some(pk) if pk.id == pk_id && pk.may_score(pk.scores_at(likes), now) => {
                    pk.scores = pk.scores_at(likes);
                    pk.scored_at = now;
                    Ok(())
                }
                _ => Err(no_pk()),
            })
            .await;
        if let Ok(owner) = done
            && let Some(pk) = &owner.pk
        {
            let event = pk.event(&owner, PkState::Score);
            self.pk_mirror(&owner).await;
            self.pk_announce(&event, now).await;
        }
    }

    /// An admin changes `room`'s admin part of the running PK's score;
    /// returns the PK as it stands and both admin parts after the change.
    pub async fn pk_score(
        &self,
        room: &str,
        change: ScoreChange,
    ) -> Result<(PkEvent, [u64; 2]), Rejection> {
        let record = self.store.room(room).await.map_err(|e| e.rejection())?;
        let link = record
            .costream
            .link
            .as_ref()
            .filter(|l| l.pk.is_some())
            .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no PK runs in this room"))?;
        let i = usize::from(link.live.from_room != room);
        let too_much = || {
            Rejection::new(
                ErrorCode::Invalid,
                format!("a room's admin part of a PK score is at most {MAX_ADMIN_SCORE}"),
            )
        };
        let owner = self
            .edit_pk(&link.live.from_room, link.live.link, false, &|l, _| {
                let pk = l.pk.as_mut().ok_or_else(no_pk)?;
                pk.admin[i] = match change {
                    ScoreChange::Add(n) => pk.admin[i].saturating_add(n),
                    ScoreChange::Set(n) => n,
                };
                if pk.admin[i] > MAX_ADMIN_SCORE {
                    return Err(too_much());
                }
                Ok(())
            })
            .await?;
        let pk = owner.pk.as_ref().ok_or_else(no_pk)?;
        if let Ok(r) = self.store.room(&owner.live.from_room).await {
            self.set_room_deadline(&r).await;
        }
        Ok((pk.current(&owner), pk.admin))
    }
}

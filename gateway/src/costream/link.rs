//! Anchor-to-anchor links across rooms: the anchor of live room A invites
//! the anchor of live room B, who accepts or declines, or the invitation
//! expires (`costream_pending_ms`). Both records carry the link
//! (`CostreamSlot::link`); A's copy decides the invitation. An accept
//! first reserves B (a compare-and-set that refuses `costream_busy` when B
//! has a link or a co-stream), then moves A's invitation to live (a
//! compare-and-set that refuses `costream_stale` when it expired or
//! ended meanwhile, undoing B's reservation), so racing steps are
//! settled in the store. Both rooms get a public `link` event; the two
//! anchors get `link_step` events; `signal` with `link: true` relays
//! between them like a co-stream's.

use protocol::costream::{CostreamPhase, LinkLive, LinkState, LinkStep};
use protocol::{ErrorCode, EventKind, Rejection, RoomStatus};
use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// A link as one room's record carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Both rooms and anchors, and the id.
    pub live: LinkLive,
    /// `invited` or `live`.
    pub phase: CostreamPhase,
    /// When the invitation expires, unix ms (0 once live).
    pub expires_at: i64,
    /// The PK running on the live link (`pk/`): the inviting room's copy
    /// decides, the invited room's mirrors it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pk: Option<super::pk::PkRun>,
    /// Bumped with every change of `pk` in the inviting room's copy; the
    /// mirror takes a change only when it is newer than the one it holds.
    #[serde(default)]
    pub pk_rev: u64,
}

impl Link {
    /// The invitation's expiry, for the inviting room's timer.
    pub fn deadline(&self) -> Option<i64> {
        (self.phase == CostreamPhase::Invited).then_some(self.expires_at)
    }

    /// The other room's anchor, seen from `room`.
    pub fn peer_anchor(&self, room: &str) -> &str {
        if room == self.live.from_room {
            &self.live.to_anchor
        } else {
            &self.live.from_anchor
        }
    }

    /// The other room, seen from `room`.
    pub fn peer_room(&self, room: &str) -> &str {
        if room == self.live.from_room {
            &self.live.to_room
        } else {
            &self.live.from_room
        }
    }

    fn step(&self, ended: Option<&str>) -> LinkStep {
        LinkStep {
            link: self.live.clone(),
            phase: if ended.is_some() {
                CostreamPhase::Ended
            } else {
                self.phase
            },
            expires_at: self.deadline().filter(|_| ended.is_none()),
            reason: ended.map(str::to_string),
        }
    }
}

fn busy() -> Rejection {
    Rejection::new(
        ErrorCode::CostreamBusy,
        "a co-stream or link is already live or pending",
    )
}

fn stale() -> Rejection {
    Rejection::new(ErrorCode::CostreamStale, "no such link now")
}

fn live_only(r: &Room) -> Result<(), Rejection> {
    if r.status == RoomStatus::Live {
        Ok(())
    } else {
        Err(Rejection::new(
            ErrorCode::RoomNotLive,
            format!(
                "room {} has status {}, links need 101",
                r.id,
                r.status.code()
            ),
        ))
    }
}

impl Node {
    /// A's anchor invites the anchor of room `to`.
    pub async fn link_invite(&self, from: &Room, to: &str) -> Result<LinkStep, Rejection> {
        if to == from.id {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                "a room cannot link with itself",
            ));
        }
        let peer = self.store.room(to).await.map_err(|e| e.rejection())?;
        live_only(&peer)?;
        let now = now_ms();
        let pending = self.settings.costream_pending_ms as i64;
        let to_anchor = peer.anchor.clone();
        let made = std::sync::Mutex::new(None);
        let updated = self
            .update_room(&from.id, &|r| {
                live_only(r)?;
                let c = &mut r.costream;
                if c.link.is_some() || c.current.is_some() {
                    return Err(busy());
                }
                c.last_id += 1;
                let link = Link {
                    live: LinkLive {
                        link: c.last_id,
                        from_room: r.id.clone(),
                        from_anchor: r.anchor.clone(),
                        to_room: to.to_string(),
                        to_anchor: to_anchor.clone(),
                    },
                    phase: CostreamPhase::Invited,
                    expires_at: now + pending,
                    pk: None,
                    pk_rev: 0,
                };
                *made.lock().unwrap_or_else(|p| p.into_inner()) = Some(link.clone());
                r.costream.link = Some(link);
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        self.set_room_deadline(&updated).await;
        let link = made
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .ok_or_else(|| Rejection::new(ErrorCode::Internal, "link missing"))?;
        let step = link.step(None);
        self.tell_anchors(&link, step.clone()).await;
        Ok(step)
    }

    /// B's anchor accepts the invitation `id` from room `from`.
    pub async fn link_accept(&self, to: &Room, from: &str, id: u64) -> Result<LinkStep, Rejection> {
        let host = self.store.room(from).await.map_err(|e| e.rejection())?;
        let invited = host
            .costream
            .link
            .clone()
            .filter(|l| l.live.link == id && l.live.to_room == to.id)
            .filter(|l| l.phase == CostreamPhase::Invited)
            .ok_or_else(stale)?;
        let mut link = invited.clone();
        link.phase = CostreamPhase::Live;
        link.expires_at = 0;
        // Reserve B first: one link or co-stream at a time.
        let mine = link.clone();
        self.update_room(&to.id, &|r| {
            live_only(r)?;
            if r.costream.link.is_some() || r.costream.current.is_some() {
                return Err(busy());
            }
            r.costream.link = Some(mine.clone());
            Ok(())
        })
        .await
        .map_err(|e| e.rejection())?;
        let now = now_ms();
        let to_room = to.id.clone();
        let went_live = self
            .update_room(from, &|r| {
                live_only(r)?;
                match &mut r.costream.link {
                    Some(l)
                        if l.live.link == id
                            && l.live.to_room == to_room
                            && l.phase == CostreamPhase::Invited
                            && l.expires_at > now =>
                    {
                        l.phase = CostreamPhase::Live;
                        l.expires_at = 0;
                        Ok(())
                    }
                    _ => Err(stale()),
                }
            })
            .await;
        if let Err(e) = went_live {
            self.clear_link(&to.id, from, id).await;
            return Err(e.rejection());
        }
        if let Ok(r) = self.store.room(from).await {
            self.set_room_deadline(&r).await;
        }
        let step = link.step(None);
        self.announce_link(&link, Some(link.live.clone()), "started")
            .await;
        self.tell_anchors(&link, step.clone()).await;
        Ok(step)
    }

    /// B's anchor declines the invitation `id` from room `from`.
    pub async fn link_decline(
        &self,
        to: &Room,
        from: &str,
        id: u64,
    ) -> Result<LinkStep, Rejection> {
        let to_room = to.id.clone();
        let taken = self
            .take_link(from, &|l| {
                l.live.link == id && l.live.to_room == to_room && l.phase == CostreamPhase::Invited
            })
            .await?;
        let step = taken.step(Some("declined"));
        self.tell_anchors(&taken, step.clone()).await;
        Ok(step)
    }

    /// Either anchor ends the link `id` (or the timer, the room leaving
    /// 101: `reason`). Each room's copy is cleared once; only the caller
    /// whose compare-and-set took the link announces.
    pub async fn link_end(&self, room: &str, id: u64, reason: &str) -> Result<LinkStep, Rejection> {
        let taken = self.take_link(room, &|l| l.live.link == id).await?;
        let peer = taken.peer_room(room).to_string();
        let cleared = self.clear_link(&peer, &taken.live.from_room, id).await;
        if let Ok(r) = self.store.room(&taken.live.from_room).await {
            self.set_room_deadline(&r).await;
        }
        // The inviting room's copy holds the PK: a running one ends, once
        // (only the compare-and-set that took that copy finds it).
        let owner = if room == taken.live.from_room {
            Some(&taken)
        } else {
            cleared.as_ref()
        };
        if let Some(owner) = owner
            && let Some(pk) = &owner.pk
        {
            self.pk_left(owner, pk, room).await;
        }
        let step = taken.step(Some(reason));
        if taken.phase == CostreamPhase::Live {
            self.announce_link(&taken, None, reason).await;
        }
        self.tell_anchors(&taken, step.clone()).await;
        Ok(step)
    }

    /// The timer's part: an invitation past its expiry ends (`expired`).
    pub async fn fire_link(&self, room: &Room, now: i64) {
        let Some(l) = room.costream.link.as_ref() else {
            return;
        };
        if l.deadline().is_some_and(|at| at <= now) {
            let id = l.live.link;
            if let Ok(taken) = self
                .take_link(&room.id, &|l| {
                    l.live.link == id && l.deadline().is_some_and(|at| at <= now)
                })
                .await
            {
                self.tell_anchors(&taken, taken.step(Some("expired"))).await;
            }
        }
    }

    /// Takes the room's link when `pick` accepts it (compare-and-set).
    pub(super) async fn take_link(
        &self,
        room: &str,
        pick: &(dyn Fn(&Link) -> bool + Send + Sync),
    ) -> Result<Link, Rejection> {
        let taken = std::sync::Mutex::new(None);
        self.update_room(room, &|r| match r.costream.link.take() {
            Some(l) if pick(&l) => {
                *taken.lock().unwrap_or_else(|p| p.into_inner()) = Some(l);
                Ok(())
            }
            other => {
                r.costream.link = other;
                Err(stale())
            }
        })
        .await
        .map_err(|e| e.rejection())?;
        taken
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .ok_or_else(stale)
    }

    /// Clears `room`'s copy of link `id` of `from_room`, if it holds it;
    /// the copy this call took.
    async fn clear_link(&self, room: &str, from_room: &str, id: u64) -> Option<Link> {
        self.take_link(room, &|l| {
            l.live.link == id && l.live.from_room == from_room
        })
        .await
        .ok()
    }

    async fn announce_link(&self, link: &Link, live: Option<LinkLive>, reason: &str) {
        for room in [&link.live.from_room, &link.live.to_room] {
            let kind = EventKind::Link(Box::new(LinkState {
                link: live.clone(),
                reason: Some(reason.to_string()),
            }));
            if let Err(r) = self.publish(room, kind).await {
                tracing::warn!(room, reason = %r, "link not announced");
            }
        }
    }

    async fn tell_anchors(&self, link: &Link, step: LinkStep) {
        let l = &link.live;
        for (user, room) in [(&l.from_anchor, &l.from_room), (&l.to_anchor, &l.to_room)] {
            let kind = EventKind::LinkStep(Box::new(step.clone()));
            if let Err(r) = self.send_to_user(user, room, kind).await {
                tracing::warn!(room, user, reason = %r, "link step not sent");
            }
        }
    }
}

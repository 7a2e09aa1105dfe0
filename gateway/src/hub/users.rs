//! Local sessions by signed-in user, for targeted events: while a node holds
//! a session of a user it is listed in the user's entry of the store's user
//! directory; a targeted event is published to each listed live node's own
//! channel, and the node puts it in each of the user's local outboxes.

use std::sync::Arc;

use dashmap::DashMap;
use protocol::{Batch, Codec, Lane, RoomEvent, ServerFrame};

use super::fanout::encode_message;
use super::outbox::{Outbox, Outgoing};

struct UserSession {
    session: u64,
    outbox: Arc<Outbox>,
    codec: Codec,
}

/// Every signed-in user with a session on this node.
#[derive(Default)]
pub struct UserSessions {
    users: DashMap<String, Vec<UserSession>>,
    /// A directory write failed (the store was down): the next heartbeat
    /// lists this node for every local user again.
    stale: std::sync::atomic::AtomicBool,
}

impl UserSessions {
    /// Adds a session; true when it is the user's first on this node.
    pub fn add(&self, user: &str, session: u64, outbox: Arc<Outbox>, codec: Codec) -> bool {
        let mut entry = self
            .users
            .entry(user.to_string())
            .or_insert_with(|| Vec::with_capacity(1));
        entry.push(UserSession {
            session,
            outbox,
            codec,
        });
        entry.len() == 1
    }

    /// Removes a session; true when it was the user's last on this node.
    pub fn remove(&self, user: &str, session: u64) -> bool {
        let last = match self.users.get_mut(user) {
            Some(mut v) => {
                v.retain(|s| s.session != session);
                v.is_empty()
            }
            None => return false,
        };
        if last {
            self.users.remove_if(user, |_, v| v.is_empty());
        }
        last
    }

    /// How many local sessions `user` has.
    pub fn count(&self, user: &str) -> usize {
        self.users.get(user).map_or(0, |v| v.len())
    }

    /// Every user with a local session.
    pub fn users(&self) -> Vec<String> {
        self.users.iter().map(|e| e.key().clone()).collect()
    }

    /// Notes that the store's directory may lack some local users.
    pub fn mark_stale(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether the directory must be rewritten; clears the flag.
    pub fn take_stale(&self) -> bool {
        self.stale.swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// Queues `event` of `room` to every local session of `user`, as a
    /// high-lane batch outside the room log (`since` = `upto` = 0).
    pub fn deliver(&self, user: &str, room: &str, event: RoomEvent) {
        let Some(sessions) = self.users.get(user) else {
            return;
        };
        let frame = ServerFrame::Batch(Batch {
            room: room.to_string(),
            epoch: String::new(),
            lane: Lane::High,
            since: 0,
            upto: 0,
            events: vec![event],
            totals: None,
        });
        let mut encoded: [Option<tokio_tungstenite::tungstenite::Message>; 2] = [None, None];
        for s in sessions.iter() {
            let slot = &mut encoded[usize::from(s.codec == Codec::Binary)];
            let msg = slot.get_or_insert_with(|| encode_message(s.codec, &frame));
            s.outbox.push(Outgoing {
                msg: msg.clone(),
                lane: Lane::High,
                since: 0,
                upto: 0,
                generation: 0,
            });
        }
    }
}

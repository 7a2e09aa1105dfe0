//! Local sessions by signed-in user, for targeted events: a node subscribes
//! to a user's bus channel while it holds a session of that user, and puts
//! what arrives there in each of the user's local outboxes.

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
}

impl UserSessions {
    /// Adds a session; true when it is the user's first on this node.
    pub fn add(&self, user: &str, session: u64, outbox: Arc<Outbox>, codec: Codec) -> bool {
        let mut entry = self.users.entry(user.to_string()).or_default();
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

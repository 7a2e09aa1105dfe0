//! The moderation step of the request path: may this comment enter the room
//! now, and as what? In order: the room must be live; the room-wide comment
//! switch (anchor, sub-anchor and admins exempt); the user's mute (a shadow
//! mute lets the comment through to its sender only); the per-user comment
//! rate; the sensitive-word filter (block, or mask the text); slow mode,
//! claimed last so a refused comment does not use the slot.

use protocol::{ErrorCode, Rejection, Role, RoomStatus};

use super::Node;
use crate::auth::{Action, allowed};
use crate::clock::now_ms;
use crate::moderation::limits::check_slow_mode;
use crate::room::Room;

/// What happens to a comment that passed moderation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentVerdict {
    /// Deliver to the room with this text (masked when the filter hit).
    Deliver(String),
    /// Shadow-muted: echo to the sender only, never append or publish.
    Shadow(String),
}

/// The room's state and switches, before anything that costs a store call.
pub fn check_room(room: &Room, role: Role) -> Result<(), Rejection> {
    if room.status != RoomStatus::Live {
        return Err(Rejection::new(
            ErrorCode::RoomNotLive,
            format!("room status is {}, comments need 101", room.status.code()),
        ));
    }
    let exempt = matches!(role, Role::Anchor | Role::SubAnchor | Role::Admin);
    if !room.switches.comments && !exempt {
        return Err(Rejection::new(
            ErrorCode::CommentsDisabled,
            "comments are switched off in this room",
        ));
    }
    Ok(())
}

/// Checks a comment of `user` (role `role`) against the whole moderation step.
pub async fn check_comment(
    node: &Node,
    room: &Room,
    role: Role,
    user: &str,
    text: String,
) -> Result<CommentVerdict, Rejection> {
    check_room(room, role)?;
    let now = now_ms();
    let store = node.store.as_ref();
    let shadow = match store
        .mute_of(&room.id, user, now)
        .await
        .map_err(|e| e.rejection())?
    {
        Some(m) if m.shadow => true,
        Some(m) => return Err(m.rejection(now)),
        None => false,
    };
    node.conn_limits.check_comment(user)?;
    let text = node
        .words
        .check(store, &room.id, room.moderation.word_policy, &text)
        .await?
        .unwrap_or(text);
    if shadow {
        return Ok(CommentVerdict::Shadow(text));
    }
    if !allowed(role, Action::SkipSlowMode) {
        check_slow_mode(store, &room.id, user, room.moderation.slow_mode_s, now).await?;
    }
    Ok(CommentVerdict::Deliver(text))
}

/// Checks a like against the room's state and switches.
pub fn check_like(room: &Room) -> Result<(), Rejection> {
    if room.status != RoomStatus::Live {
        return Err(Rejection::new(
            ErrorCode::RoomNotLive,
            format!("room status is {}, likes need 101", room.status.code()),
        ));
    }
    if !room.switches.likes {
        return Err(Rejection::new(
            ErrorCode::LikesDisabled,
            "likes are switched off in this room",
        ));
    }
    Ok(())
}

//! The moderation step of the request path: may this comment enter the room
//! now, and as what? Here, on the node (the session calls it), from the hub's room record: the room
//! must be live; the room-wide comment switch (anchor, sub-anchor and admins
//! exempt); the per-user comment rate; the sensitive-word filter (block, or
//! mask the text). Then, in the store's atomic step that appends the
//! comment batch: the user's mute (a shadow mute lets the comment through
//! to its sender only) and the slow-mode slot, claimed only by a comment
//! that is logged.

use protocol::{ErrorCode, Rejection, Role, RoomStatus};

use crate::auth::{Action, allowed};
use crate::room::Room;
use crate::service::Node;

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

/// Checks a comment of `user` (role `role`) against the node's half of the
/// moderation step; returns the text to log (masked when the filter hit).
pub async fn check_comment(
    node: &Node,
    room: &Room,
    role: Role,
    user: &str,
    text: String,
) -> Result<String, Rejection> {
    check_room(room, role)?;
    node.conn_limits.check_comment(user)?;
    let masked = node
        .words
        .check(
            node.moderation_store.as_ref(),
            &room.id,
            (room.moderation.word_policy, room.moderation.filter),
            &text,
        )
        .await?;
    Ok(masked.unwrap_or(text))
}

/// The slow-mode interval a comment of `role` claims, in ms (0: none).
pub fn slow_mode_ms(room: &Room, role: Role) -> u64 {
    if allowed(role, Action::SkipSlowMode) {
        0
    } else {
        u64::from(room.moderation.slow_mode_s) * 1000
    }
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

//! The moderation step of the request path: may this comment enter the room
//! now? Today: the room must be live and the room-wide comment switch on
//! (anchors are exempt from the switch). Mutes and the word filter join here.

use protocol::{ErrorCode, Rejection, Role, RoomStatus};

use crate::room::Room;

/// Checks a comment against the room's state and switches.
pub fn check_comment(room: &Room, role: Role) -> Result<(), Rejection> {
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

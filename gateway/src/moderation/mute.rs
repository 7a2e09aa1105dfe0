//! Deleting comments and muting users. A deletion marks the offset deleted
//! in the store (snapshots and replays skip it) and publishes
//! `comment_deleted`; a mute is stored per room (so every node refuses the
//! user's next comment), marks every comment of the user the room still
//! holds as deleted, and publishes `user_purged` with their offsets in one
//! event. A shadow mute does the same but the user is told nothing: their
//! comments are acked with a synthetic event and never reach the room.

use protocol::{CommentDeleted, ErrorCode, EventKind, Rejection, Role, UserPurged};
use serde::{Deserialize, Serialize};

use super::store::Deletion;
use super::{Actor, audit};
use crate::auth::{Action, authorize};
use crate::clock::now_ms;
use crate::service::Node;

/// One muted user of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteEntry {
    /// The muted user.
    pub user: String,
    /// When the mute lifts by itself, unix ms (`None`: until unmuted).
    pub until_ms: Option<i64>,
    /// Shadow mute: the user is not told and sees their own comments.
    pub shadow: bool,
    /// Who muted them.
    pub by: String,
    /// When, unix ms.
    pub at_ms: i64,
}

impl MuteEntry {
    /// Whether the mute still holds at `now`.
    pub fn active(&self, now: i64) -> bool {
        self.until_ms.is_none_or(|u| u > now)
    }

    /// The rejection a (non-shadow) muted user gets.
    pub fn rejection(&self, now: i64) -> Rejection {
        Rejection {
            code: ErrorCode::Muted,
            message: "you are muted in this room".into(),
            retry_after_ms: self.until_ms.map(|u| (u - now).max(1) as u64),
        }
    }
}

/// Deletes one comment for everyone.
pub async fn delete_comment(
    node: &Node,
    actor: &Actor,
    room: &str,
    offset: u64,
    reason: Option<&str>,
) -> Result<(), Rejection> {
    authorize(actor.role, Action::DeleteComment)?;
    let deletion = node
        .moderation_store
        .delete_comment(room, offset)
        .await
        .map_err(|e| e.rejection())?;
    match deletion {
        Deletion::Deleted => {}
        // A second delete changes nothing: no event, no audit entry.
        Deletion::AlreadyDeleted => return Ok(()),
        Deletion::NotFound => {
            return Err(Rejection::new(
                ErrorCode::NotFound,
                format!("no comment at offset {offset} in the room log"),
            ));
        }
    }
    node.publish(
        room,
        EventKind::CommentDeleted(CommentDeleted {
            offsets: vec![offset],
        }),
    )
    .await?;
    audit::record(
        node,
        actor,
        room,
        "delete_comment",
        &offset.to_string(),
        reason,
    )
    .await;
    Ok(())
}

/// Mutes `user` in `room` and purges their comments.
pub async fn mute(
    node: &Node,
    actor: &Actor,
    room: &str,
    user: &str,
    duration_s: Option<u64>,
    shadow: bool,
    reason: Option<&str>,
) -> Result<MuteEntry, Rejection> {
    authorize(actor.role, Action::Mute)?;
    node.limits.check_id("user", user)?;
    let r = node.store.room(room).await.map_err(|e| e.rejection())?;
    if !matches!(r.role_of(Some(user)), Role::Viewer) {
        return Err(Rejection::new(
            ErrorCode::Forbidden,
            "the anchor, sub-anchor and assistants cannot be muted",
        ));
    }
    let now = now_ms();
    let entry = MuteEntry {
        user: user.to_string(),
        until_ms: duration_s
            .filter(|d| *d > 0)
            .map(|d| now.saturating_add(d.min(366 * 86_400) as i64 * 1000)),
        shadow,
        by: actor.user.clone(),
        at_ms: now,
    };
    node.moderation_store
        .mute(room, &entry)
        .await
        .map_err(|e| e.rejection())?;
    let offsets = node
        .moderation_store
        .purge_user(room, user)
        .await
        .map_err(|e| e.rejection())?;
    node.publish(
        room,
        EventKind::UserPurged(UserPurged {
            user: user.to_string(),
            offsets,
        }),
    )
    .await?;
    let action = if shadow { "shadow_mute" } else { "mute" };
    audit::record(node, actor, room, action, user, reason).await;
    Ok(entry)
}

/// Lifts a mute; `NotFound` when the user was not muted.
pub async fn unmute(node: &Node, actor: &Actor, room: &str, user: &str) -> Result<(), Rejection> {
    authorize(actor.role, Action::Mute)?;
    let was = node
        .moderation_store
        .unmute(room, user)
        .await
        .map_err(|e| e.rejection())?;
    if !was {
        return Err(Rejection::new(
            ErrorCode::NotFound,
            "that user is not muted",
        ));
    }
    audit::record(node, actor, room, "unmute", user, None).await;
    Ok(())
}

/// The room's active mutes, by user id.
pub async fn list(node: &Node, room: &str) -> Result<Vec<MuteEntry>, Rejection> {
    let mut all = node
        .moderation_store
        .mutes(room, now_ms())
        .await
        .map_err(|e| e.rejection())?;
    all.sort_by(|a, b| a.user.cmp(&b.user));
    Ok(all)
}

//! The audit log: every moderation action (actor, role, action, target,
//! room, time, reason) goes to the backend's store, capped per room (and
//! one log for global word-list changes), newest first, listed through the
//! admin API with paging.

use protocol::Role;
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::clock::now_ms;
use crate::service::Node;

/// One moderation action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, unix milliseconds.
    pub ts: i64,
    /// Who: a user id, or `"admin"` for the admin API.
    pub actor: String,
    /// The actor's role in the room at the time.
    pub role: Role,
    /// What: `delete_comment`, `mute`, `unmute`, `set_role`, `remove_role`,
    /// `switch`, `words`.
    pub action: String,
    /// On whom or what: a user id, a comment offset, a word count.
    pub target: String,
    /// The room, or `"*"` for the global word list.
    pub room: String,
    /// Why, when the actor said so (or details such as the new role).
    pub reason: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Entries held in total (the log is capped).
    pub total: u64,
    /// Index of the first entry of this page (0: newest).
    pub offset: u64,
    /// The entries.
    pub entries: Vec<AuditEntry>,
}

/// The scope of the global word list's audit log.
pub const GLOBAL: &str = "*";

/// Stores one audit entry; a store failure is logged, never fatal to the
/// action it records (which already happened).
pub async fn record(
    node: &Node,
    actor: &Actor,
    room: &str,
    action: &str,
    target: &str,
    reason: Option<&str>,
) {
    let entry = AuditEntry {
        ts: now_ms(),
        actor: actor.user.clone(),
        role: actor.role,
        action: action.to_string(),
        target: target.to_string(),
        room: room.to_string(),
        reason: reason.map(str::to_string),
    };
    tracing::info!(
        room,
        actor = %entry.actor,
        role = ?entry.role,
        action,
        target,
        "moderation"
    );
    let scope = (room != GLOBAL).then_some(room);
    if let Err(e) = node
        .moderation_store
        .audit(scope, &entry, node.settings.audit_capacity)
        .await
    {
        tracing::warn!(room, error = %e, "audit entry not stored");
    }
}

/// Reads one page of a scope's audit log (`None`: the global log).
pub async fn page(
    node: &Node,
    room: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<AuditPage, protocol::Rejection> {
    let limit = limit.clamp(1, 500);
    let (total, entries) = node
        .moderation_store
        .audit_log(room, offset, limit)
        .await
        .map_err(|e| e.rejection())?;
    Ok(AuditPage {
        total,
        offset,
        entries,
    })
}

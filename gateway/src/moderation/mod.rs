//! Moderation: room roles (assistants, sub-anchor), deleting comments,
//! mutes with purge, the sensitive-word filter, comment rate limits and slow
//! mode, and the audit log. The request path reaches it through
//! `service::check_comment` (may this comment enter the room?) and the
//! actions below, shared by WebSocket requests and the admin API.

pub mod audit;
pub mod limits;
pub mod mute;
pub mod roles;
pub mod words;

pub use audit::AuditEntry;
pub use limits::ConnLimits;
pub use mute::MuteEntry;
pub use roles::{Assistant, RoomModeration, WordPolicy};
pub use words::WordFilters;

use protocol::Role;

/// Who performs a moderation action: a user with their room role, or an
/// operator through the admin API (`user` is `"admin"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User id of the actor.
    pub user: String,
    /// Their role in the room at the time of the action.
    pub role: Role,
}

impl Actor {
    /// The admin API as an actor.
    pub fn admin() -> Actor {
        Actor {
            user: "admin".into(),
            role: Role::Admin,
        }
    }
}

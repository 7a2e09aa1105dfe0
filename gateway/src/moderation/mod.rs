//! The moderation slice: room roles (assistants, sub-anchor), deleting
//! comments, mutes with purge, the sensitive-word filter, comment rate
//! limits and slow mode, and the audit log. The request path reaches it
//! through [`check_comment`] (may this comment enter the room?) and the
//! actions below, shared by the WebSocket requests (`ws.rs`) and the admin
//! API (`http.rs`). Its state lives behind [`ModerationStore`] (`store.rs`),
//! implemented in process (`memory.rs`) and on Redis (`redis.rs`,
//! `scripts.rs`).

pub mod audit;
mod check;
pub(crate) mod http;
pub mod limits;
pub(crate) mod memory;
pub mod mute;
mod redis;
pub mod roles;
mod scripts;
pub mod store;
pub mod words;
pub(crate) mod ws;

pub use audit::AuditEntry;
pub use check::{check_comment, check_like, check_room, slow_mode_ms};
pub use limits::{ConnLimits, IpSlot};
pub use mute::MuteEntry;
pub use roles::{Assistant, FilterSettings, RoomModeration, WordPolicy};
pub use store::{Deletion, ModerationStore, WordChange, WordLists};
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

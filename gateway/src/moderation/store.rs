//! `ModerationStore`: the moderation state that must hold on every node and
//! the operations on it that must be atomic: deleted comments, mutes, word
//! lists and allow-lists with their versions, slow-mode claims and the audit logs. Both
//! stores implement it (`memory.rs`, `redis.rs`); the mute check and the
//! slow-mode claim of a comment batch happen inside the core's
//! `Store::append_comments`, in the same atomic step as the append.

use async_trait::async_trait;
use protocol::{ErrorCode, Rejection, WordEntry};

use super::{AuditEntry, MuteEntry};
use crate::store::StoreError;

/// What deleting a comment found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The comment was there and is now deleted.
    Deleted,
    /// The comment was already deleted (or purged): nothing changed.
    AlreadyDeleted,
    /// The room holds no comment at that offset.
    NotFound,
}

/// A word list as stored (global, or one room's): its version, its words
/// and its allow-list words. One version covers both lists, so a node
/// rebuilds its filter when either changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordLists {
    /// Bumped by every change (0: never changed).
    pub version: u64,
    /// Sensitive words with their categories.
    pub words: Vec<WordEntry>,
    /// Allow-list words.
    pub allow: Vec<String>,
}

/// One atomic change of a word list: removals first, then additions.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordChange<'a> {
    /// Words to add (or re-categorize).
    pub add: &'a [WordEntry],
    /// Words to remove.
    pub remove: &'a [String],
    /// Allow-list words to add.
    pub allow_add: &'a [String],
    /// Allow-list words to remove.
    pub allow_remove: &'a [String],
}

/// Moderation state and atomic operations.
#[async_trait]
pub trait ModerationStore: Send + Sync + 'static {
    /// Marks the comment at `offset` deleted: snapshots and replays skip it.
    async fn delete_comment(&self, room: &str, offset: u64) -> Result<Deletion, StoreError>;
    /// Marks every comment of `user` the room still holds (log and recent
    /// comments) deleted, atomically; returns their offsets, oldest first.
    async fn purge_user(&self, room: &str, user: &str) -> Result<Vec<u64>, StoreError>;
    /// Mutes a user (replacing an earlier mute of theirs).
    async fn mute(&self, room: &str, entry: &MuteEntry) -> Result<(), StoreError>;
    /// Lifts a mute; whether there was one.
    async fn unmute(&self, room: &str, user: &str) -> Result<bool, StoreError>;
    /// The mutes active at `now_ms`.
    async fn mutes(&self, room: &str, now_ms: i64) -> Result<Vec<MuteEntry>, StoreError>;
    /// The user's mute if active at `now_ms`.
    async fn mute_of(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<Option<MuteEntry>, StoreError>;
    /// A word list (`None`: global) with its allow-list and version, read
    /// together.
    async fn words(&self, room: Option<&str>) -> Result<WordLists, StoreError>;
    /// The version of a word list (0: never changed).
    async fn word_version(&self, room: Option<&str>) -> Result<u64, StoreError>;
    /// Adds and removes words and allow-list words atomically and bumps the
    /// list's version; refuses (`Rejected`) to grow the word list or the
    /// allow-list past `max` words each.
    async fn change_words(
        &self,
        room: Option<&str>,
        change: WordChange<'_>,
        max: usize,
    ) -> Result<u64, StoreError>;
    /// Slow mode: claims the user's comment slot for `interval_ms`. `None`
    /// when claimed, else the milliseconds until the current claim ends.
    async fn claim_slow_mode(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
        interval_ms: u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Appends to an audit log (`None`: global), keeping the newest `cap`.
    async fn audit(
        &self,
        room: Option<&str>,
        entry: &AuditEntry,
        cap: usize,
    ) -> Result<(), StoreError>;
    /// `limit` audit entries from index `offset` (0: newest), and how many
    /// the log holds.
    async fn audit_log(
        &self,
        room: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError>;
}

/// The error of a word list grown past its limit.
pub fn too_many_words(max: usize) -> StoreError {
    StoreError::Rejected(Rejection::new(
        ErrorCode::Invalid,
        format!("a word list holds at most {max} words"),
    ))
}

/// The error of an allow-list grown past its limit.
pub fn too_many_allowed(max: usize) -> StoreError {
    StoreError::Rejected(Rejection::new(
        ErrorCode::Invalid,
        format!("an allow-list holds at most {max} words"),
    ))
}

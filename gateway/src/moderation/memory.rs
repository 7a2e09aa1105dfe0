//! `ModerationStore` in process: deleted comment offsets and mutes live in
//! the room's data (under its mutex, so a mute, a purge and an append never
//! interleave); word lists with their versions, slow-mode claims and audit
//! logs live in [`MemoryModeration`] beside the rooms, keyed by scope (a
//! room id, or the global scope).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use dashmap::DashMap;
use protocol::{EventKind, RoomEvent, WordEntry};

use super::store::{
    Deletion, ModerationStore, WordChange, WordLists, too_many_allowed, too_many_words,
};
use super::{AuditEntry, MuteEntry};
use crate::store::memory::RoomData;
use crate::store::{MemoryStore, StoreError};

/// Scope key of the global word list and audit log (no room id is empty).
const GLOBAL: &str = "";

/// A word list's version, its words (word → category) and allow-list.
#[derive(Default)]
struct WordList {
    version: u64,
    words: BTreeMap<String, String>,
    allow: BTreeSet<String>,
}

/// The in-process store's moderation tables that live beside the rooms.
#[derive(Default)]
pub struct MemoryModeration {
    /// Word lists by scope: version, word → category, allow-list.
    words: Mutex<HashMap<String, WordList>>,
    /// Slow-mode claims: (room, user) → until, unix ms.
    slow: DashMap<(String, String), i64>,
    /// Audit logs by scope, newest first.
    audit: DashMap<String, VecDeque<AuditEntry>>,
}

impl MemoryModeration {
    /// Claims the user's slow-mode slot for `interval_ms`: `None` when
    /// claimed, else the milliseconds until the current claim ends. The
    /// batch append calls it for each comment, under the room's mutex.
    pub(crate) fn claim_slow(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
        interval_ms: u64,
    ) -> Option<u64> {
        if self.slow.len() > 100_000 {
            self.slow.retain(|_, until| *until > now_ms);
        }
        let mut until = self
            .slow
            .entry((room.to_string(), user.to_string()))
            .or_insert(i64::MIN);
        if *until > now_ms {
            return Some((*until - now_ms) as u64);
        }
        *until = now_ms.saturating_add(interval_ms as i64);
        None
    }
}

/// Marks offsets deleted, forgetting marks older than anything held.
fn mark_deleted(d: &mut RoomData, offsets: &[u64], cap: usize) {
    d.deleted.extend(offsets);
    if d.deleted.len() > cap {
        let oldest = d
            .log
            .front()
            .map_or(0, |e| e.offset)
            .min(d.recent.front().map_or(u64::MAX, |e| e.offset));
        d.deleted.retain(|o| *o >= oldest);
    }
}

fn is_comment_of(e: &RoomEvent, user: Option<&str>) -> bool {
    match &e.kind {
        EventKind::Comment(c) => user.is_none_or(|u| c.user == u),
        _ => false,
    }
}

fn scope(room: Option<&str>) -> String {
    room.unwrap_or(GLOBAL).to_string()
}

/// Deleted-mark cap: twice what a room holds, so marks of events that left
/// are forgotten.
fn deleted_cap(store: &MemoryStore) -> usize {
    let (log, recent) = store.capacities();
    2 * (log + recent)
}

#[async_trait]
impl ModerationStore for MemoryStore {
    async fn delete_comment(&self, room: &str, offset: u64) -> Result<Deletion, StoreError> {
        let cap = deleted_cap(self);
        self.with_room(room, |d| {
            let found = d
                .log
                .iter()
                .chain(d.recent.iter())
                .any(|e| e.offset == offset && is_comment_of(e, None));
            if !found {
                Deletion::NotFound
            } else if d.deleted.contains(&offset) {
                Deletion::AlreadyDeleted
            } else {
                mark_deleted(d, &[offset], cap);
                Deletion::Deleted
            }
        })
    }

    async fn purge_user(&self, room: &str, user: &str) -> Result<Vec<u64>, StoreError> {
        let cap = deleted_cap(self);
        self.with_room(room, |d| {
            let mut offsets: Vec<u64> = d
                .log
                .iter()
                .chain(d.recent.iter())
                .filter(|e| is_comment_of(e, Some(user)) && !d.is_deleted(e))
                .map(|e| e.offset)
                .collect();
            offsets.sort_unstable();
            offsets.dedup();
            mark_deleted(d, &offsets, cap + offsets.len());
            offsets
        })
    }

    async fn mute(&self, room: &str, entry: &MuteEntry) -> Result<(), StoreError> {
        self.with_room(room, |d| {
            d.mutes.insert(entry.user.clone(), entry.clone());
        })
    }

    async fn unmute(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        self.with_room(room, |d| d.mutes.remove(user).is_some())
    }

    async fn mutes(&self, room: &str, now_ms: i64) -> Result<Vec<MuteEntry>, StoreError> {
        self.with_room(room, |d| {
            d.mutes.retain(|_, m| m.active(now_ms));
            d.mutes.values().cloned().collect()
        })
    }

    async fn mute_of(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<Option<MuteEntry>, StoreError> {
        self.with_room(room, |d| {
            d.mutes.get(user).filter(|m| m.active(now_ms)).cloned()
        })
    }

    async fn words(&self, room: Option<&str>) -> Result<WordLists, StoreError> {
        let all = self
            .moderation()
            .words
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Ok(all
            .get(&scope(room))
            .map_or_else(WordLists::default, |l| WordLists {
                version: l.version,
                words: l
                    .words
                    .iter()
                    .map(|(word, category)| WordEntry {
                        word: word.clone(),
                        category: category.clone(),
                    })
                    .collect(),
                allow: l.allow.iter().cloned().collect(),
            }))
    }

    async fn word_version(&self, room: Option<&str>) -> Result<u64, StoreError> {
        let all = self
            .moderation()
            .words
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Ok(all.get(&scope(room)).map_or(0, |l| l.version))
    }

    async fn change_words(
        &self,
        room: Option<&str>,
        change: WordChange<'_>,
        max: usize,
    ) -> Result<u64, StoreError> {
        let mut all = self
            .moderation()
            .words
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let list = all.entry(scope(room)).or_default();
        let mut words = list.words.clone();
        for w in change.remove {
            words.remove(w);
        }
        for w in change.add {
            words.insert(w.word.clone(), w.category.clone());
        }
        if words.len() > max {
            return Err(too_many_words(max));
        }
        let mut allow = list.allow.clone();
        for w in change.allow_remove {
            allow.remove(w);
        }
        allow.extend(change.allow_add.iter().cloned());
        if allow.len() > max {
            return Err(too_many_allowed(max));
        }
        list.words = words;
        list.allow = allow;
        list.version += 1;
        Ok(list.version)
    }

    async fn claim_slow_mode(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
        interval_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .moderation()
            .claim_slow(room, user, now_ms, interval_ms))
    }

    async fn audit(
        &self,
        room: Option<&str>,
        entry: &AuditEntry,
        cap: usize,
    ) -> Result<(), StoreError> {
        let mut log = self.moderation().audit.entry(scope(room)).or_default();
        log.push_front(entry.clone());
        log.truncate(cap.max(1));
        Ok(())
    }

    async fn audit_log(
        &self,
        room: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError> {
        let audit = &self.moderation().audit;
        Ok(audit.get(&scope(room)).map_or((0, vec![]), |log| {
            let page = log
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            (log.len() as u64, page)
        }))
    }
}

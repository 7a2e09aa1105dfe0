//! The moderation half of the in-process store: deleted comment offsets
//! and mutes live in the room's data (under its mutex, so a mute, a purge
//! and an append never interleave); word lists with their versions,
//! slow-mode claims and audit logs live beside the rooms, keyed by scope
//! (a room id, or the global scope).

use std::collections::BTreeMap;

use protocol::{EventKind, RoomEvent, WordEntry};

use super::{MemoryStore, RoomData, lock};
use crate::moderation::{AuditEntry, MuteEntry};
use crate::store::{StoreError, too_many_words};

/// Scope key of the global word list and audit log (no room id is empty).
const GLOBAL: &str = "";

/// A word list's version and its words (word → category).
pub(super) type WordList = (u64, BTreeMap<String, String>);

impl RoomData {
    pub(super) fn is_deleted(&self, e: &RoomEvent) -> bool {
        self.deleted.contains(&e.offset)
    }

    /// Marks offsets deleted, forgetting marks older than anything held.
    fn mark_deleted(&mut self, offsets: &[u64], cap: usize) {
        self.deleted.extend(offsets);
        if self.deleted.len() > cap {
            let oldest = self
                .log
                .front()
                .map_or(0, |e| e.offset)
                .min(self.recent.front().map_or(u64::MAX, |e| e.offset));
            self.deleted.retain(|o| *o >= oldest);
        }
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

impl MemoryStore {
    pub(super) fn delete_comment_impl(&self, room: &str, offset: u64) -> Result<bool, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        let found = d
            .log
            .iter()
            .chain(d.recent.iter())
            .any(|e| e.offset == offset && is_comment_of(e, None));
        if found {
            let cap = 2 * (self.log_capacity + self.recent_capacity);
            d.mark_deleted(&[offset], cap);
        }
        Ok(found)
    }

    pub(super) fn purge_user_impl(&self, room: &str, user: &str) -> Result<Vec<u64>, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        let mut offsets: Vec<u64> = d
            .log
            .iter()
            .chain(d.recent.iter())
            .filter(|e| is_comment_of(e, Some(user)) && !d.is_deleted(e))
            .map(|e| e.offset)
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let cap = 2 * (self.log_capacity + self.recent_capacity) + offsets.len();
        d.mark_deleted(&offsets, cap);
        Ok(offsets)
    }

    pub(super) fn mute_impl(&self, room: &str, entry: &MuteEntry) -> Result<(), StoreError> {
        let data = self.data(room)?;
        lock(&data).mutes.insert(entry.user.clone(), entry.clone());
        Ok(())
    }

    pub(super) fn unmute_impl(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let data = self.data(room)?;
        let was = lock(&data).mutes.remove(user).is_some();
        Ok(was)
    }

    pub(super) fn mutes_impl(&self, room: &str, now_ms: i64) -> Result<Vec<MuteEntry>, StoreError> {
        let data = self.data(room)?;
        let mut d = lock(&data);
        d.mutes.retain(|_, m| m.active(now_ms));
        Ok(d.mutes.values().cloned().collect())
    }

    pub(super) fn mute_of_impl(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<Option<MuteEntry>, StoreError> {
        let data = self.data(room)?;
        let d = lock(&data);
        Ok(d.mutes.get(user).filter(|m| m.active(now_ms)).cloned())
    }

    pub(super) fn words_impl(
        &self,
        room: Option<&str>,
    ) -> Result<(u64, Vec<WordEntry>), StoreError> {
        let all = self.words.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get(&scope(room)).map_or((0, vec![]), |(v, w)| {
            let list = w
                .iter()
                .map(|(word, category)| WordEntry {
                    word: word.clone(),
                    category: category.clone(),
                })
                .collect();
            (*v, list)
        }))
    }

    pub(super) fn word_version_impl(&self, room: Option<&str>) -> Result<u64, StoreError> {
        let all = self.words.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get(&scope(room)).map_or(0, |(v, _)| *v))
    }

    pub(super) fn change_words_impl(
        &self,
        room: Option<&str>,
        add: &[WordEntry],
        remove: &[String],
        max: usize,
    ) -> Result<u64, StoreError> {
        let mut all = self.words.lock().unwrap_or_else(|p| p.into_inner());
        let (version, words) = all.entry(scope(room)).or_default();
        let mut next = words.clone();
        for w in remove {
            next.remove(w);
        }
        for w in add {
            next.insert(w.word.clone(), w.category.clone());
        }
        if next.len() > max {
            return Err(too_many_words(max));
        }
        *words = next;
        *version += 1;
        Ok(*version)
    }

    pub(super) fn claim_slow_mode_impl(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
        interval_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        if self.slow.len() > 100_000 {
            self.slow.retain(|_, until| *until > now_ms);
        }
        let mut until = self
            .slow
            .entry((room.to_string(), user.to_string()))
            .or_insert(i64::MIN);
        if *until > now_ms {
            return Ok(Some((*until - now_ms) as u64));
        }
        *until = now_ms.saturating_add(interval_ms as i64);
        Ok(None)
    }

    pub(super) fn audit_impl(
        &self,
        room: Option<&str>,
        entry: &AuditEntry,
        cap: usize,
    ) -> Result<(), StoreError> {
        let mut log = self.audit.entry(scope(room)).or_default();
        log.push_front(entry.clone());
        log.truncate(cap.max(1));
        Ok(())
    }

    pub(super) fn audit_log_impl(
        &self,
        room: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError> {
        Ok(self.audit.get(&scope(room)).map_or((0, vec![]), |log| {
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

//! `ReminderStore` in process: subscriber sets and push counts in
//! [`MemoryReminders`] beside the rooms.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use dashmap::DashMap;

use super::store::ReminderStore;
use crate::store::{MemoryStore, StoreError};

/// The in-process store's reminder tables.
#[derive(Default)]
pub struct MemoryReminders {
    /// Room → subscribed users.
    subscribers: DashMap<String, BTreeSet<String>>,
    /// (app, UTC day) → pushes; older days are dropped as a new one starts.
    pushes: Mutex<HashMap<(String, u64), u64>>,
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn subscribe(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let mut set = self.reminders().subscribers.entry(room.into()).or_default();
        Ok(set.insert(user.into()))
    }

    async fn unsubscribe(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        Ok(self
            .reminders()
            .subscribers
            .get_mut(room)
            .is_some_and(|mut s| s.remove(user)))
    }

    async fn subscriber_count(&self, room: &str) -> Result<u64, StoreError> {
        Ok(self
            .reminders()
            .subscribers
            .get(room)
            .map_or(0, |s| s.len() as u64))
    }

    async fn subscribers(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let Some(set) = self.reminders().subscribers.get(room) else {
            return Ok(vec![]);
        };
        let range = match after {
            Some(a) => set
                .range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                .take(limit)
                .cloned()
                .collect(),
            None => set.iter().take(limit).cloned().collect(),
        };
        Ok(range)
    }

    async fn take_push(&self, app: &str, day: u64, quota: u32) -> Result<Option<u64>, StoreError> {
        let mut pushes = self
            .reminders()
            .pushes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pushes.retain(|(_, d), _| *d >= day);
        let n = pushes.entry((app.into(), day)).or_default();
        if quota > 0 && *n >= u64::from(quota) {
            return Ok(None);
        }
        *n += 1;
        Ok(Some(*n))
    }
}

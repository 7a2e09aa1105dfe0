//! `PkStore` in process: one capped list per room in [`MemoryPk`], beside
//! the rooms.

use std::collections::VecDeque;

use async_trait::async_trait;
use dashmap::DashMap;

use super::store::{HISTORY_CAP, PkStore};
use crate::store::{MemoryStore, StoreError};

/// The in-process store's PK histories: room → ended PKs, newest first.
#[derive(Default)]
pub struct MemoryPk {
    history: DashMap<String, VecDeque<String>>,
}

#[async_trait]
impl PkStore for MemoryStore {
    async fn push_pk(&self, room: &str, json: &str) -> Result<(), StoreError> {
        let mut h = self.pk().history.entry(room.to_string()).or_default();
        h.push_front(json.to_string());
        h.truncate(HISTORY_CAP);
        Ok(())
    }

    async fn pk_history(&self, room: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .pk()
            .history
            .get(room)
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default())
    }
}

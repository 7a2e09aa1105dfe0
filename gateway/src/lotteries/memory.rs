//! `LotteryStore` in process: the documents and participant sets live in
//! [`MemoryLotteries`] beside the rooms, keyed by room and lottery.

use std::collections::HashSet;

use async_trait::async_trait;
use dashmap::DashMap;

use super::store::{LotteryStore, RECORD};
use crate::store::{MemoryStore, StoreError};

/// The in-process store's lottery tables.
#[derive(Default)]
pub struct MemoryLotteries {
    /// Lottery documents: (room, lottery, what) → JSON.
    docs: DashMap<(String, String, String), String>,
    /// Lottery participant sets: (room, lottery) → users.
    participants: DashMap<(String, String), HashSet<String>>,
}

#[async_trait]
impl LotteryStore for MemoryStore {
    async fn put_lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let key = (room.to_string(), lottery.to_string(), what.to_string());
        if what == RECORD {
            // Published once: a later write keeps the first.
            self.lotteries()
                .docs
                .entry(key)
                .or_insert_with(|| json.to_string());
        } else {
            self.lotteries().docs.insert(key, json.to_string());
        }
        Ok(())
    }

    async fn lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = (room.to_string(), lottery.to_string(), what.to_string());
        Ok(self.lotteries().docs.get(&key).map(|v| v.value().clone()))
    }

    async fn add_participants(
        &self,
        room: &str,
        lottery: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        let mut set = self
            .lotteries()
            .participants
            .entry((room.to_string(), lottery.to_string()))
            .or_default();
        set.extend(users.iter().cloned());
        Ok(())
    }

    async fn participants(&self, room: &str, lottery: &str) -> Result<Vec<String>, StoreError> {
        let key = (room.to_string(), lottery.to_string());
        Ok(self
            .lotteries()
            .participants
            .get(&key)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn participant_count(&self, room: &str, lottery: &str) -> Result<u64, StoreError> {
        let key = (room.to_string(), lottery.to_string());
        Ok(self
            .lotteries()
            .participants
            .get(&key)
            .map_or(0, |s| s.len() as u64))
    }
}

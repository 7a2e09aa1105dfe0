//! `DashboardStore` in process: counters and curve points in
//! [`MemoryDashboard`] beside the rooms, keyed by room.

use std::collections::BTreeMap;

use async_trait::async_trait;
use dashmap::DashMap;

use super::store::DashboardStore;
use crate::store::{MemoryStore, StoreError};

/// The in-process store's dashboard tables.
#[derive(Default)]
pub struct MemoryDashboard {
    /// Room → counter name → value.
    counters: DashMap<String, BTreeMap<String, i64>>,
    /// Room → point index → JSON.
    curves: DashMap<String, BTreeMap<u32, String>>,
}

#[async_trait]
impl DashboardStore for MemoryStore {
    async fn add_counters(&self, room: &str, deltas: &[(String, i64)]) -> Result<(), StoreError> {
        let mut c = self
            .dashboard()
            .counters
            .entry(room.to_string())
            .or_default();
        for (name, d) in deltas {
            let v = c.entry(name.clone()).or_default();
            *v = v.saturating_add(*d);
        }
        Ok(())
    }

    async fn raise_counter(&self, room: &str, name: &str, value: u64) -> Result<(), StoreError> {
        let mut c = self
            .dashboard()
            .counters
            .entry(room.to_string())
            .or_default();
        let v = c.entry(name.to_string()).or_default();
        *v = (*v).max(i64::try_from(value).unwrap_or(i64::MAX));
        Ok(())
    }

    async fn remove_counters(&self, room: &str, names: &[String]) -> Result<(), StoreError> {
        if let Some(mut c) = self.dashboard().counters.get_mut(room) {
            for n in names {
                c.remove(n);
            }
        }
        Ok(())
    }

    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        Ok(self
            .dashboard()
            .counters
            .get(room)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| (k.clone(), (*v).max(0) as u64))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn add_curve_point(
        &self,
        room: &str,
        index: u32,
        json: &str,
    ) -> Result<bool, StoreError> {
        let mut curve = self.dashboard().curves.entry(room.to_string()).or_default();
        if curve.contains_key(&index) {
            return Ok(false);
        }
        curve.insert(index, json.to_string());
        Ok(true)
    }

    async fn curve(&self, room: &str) -> Result<Vec<(u32, String)>, StoreError> {
        Ok(self
            .dashboard()
            .curves
            .get(room)
            .map(|c| c.iter().map(|(i, j)| (*i, j.clone())).collect())
            .unwrap_or_default())
    }
}

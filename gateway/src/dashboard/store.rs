//! `DashboardStore`: the realtime dashboard's figures that no other store
//! keeps, summed in the store (never per node) so every node reads the
//! same value: a counter map per room (name → value; the extension point
//! other slices fill: goods clicks, grabs, coupon claims, reminder
//! subscribers) and the room's curve, one point per slot, each written
//! once. Both stores implement it (`memory.rs`, `redis.rs`).

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::store::StoreError;

/// Counters and the curve of each room.
#[async_trait]
pub trait DashboardStore: Send + Sync + 'static {
    /// Adds each `(name, delta)` to the room's counters (a missing counter
    /// starts at 0; a negative delta subtracts, e.g. an unsubscribe), in
    /// one atomic step.
    async fn add_counters(&self, room: &str, deltas: &[(String, i64)]) -> Result<(), StoreError>;
    /// Raises the counter `name` to `value` when it is below (a peak).
    async fn raise_counter(&self, room: &str, name: &str, value: u64) -> Result<(), StoreError>;
    /// Removes counters (old per-minute buckets).
    async fn remove_counters(&self, room: &str, names: &[String]) -> Result<(), StoreError>;
    /// Every counter of the room (one pushed below 0 reads as 0).
    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError>;
    /// Writes curve point `index` (JSON) unless one is there; whether this
    /// call wrote it.
    async fn add_curve_point(&self, room: &str, index: u32, json: &str)
    -> Result<bool, StoreError>;
    /// The room's curve points, by index.
    async fn curve(&self, room: &str) -> Result<Vec<(u32, String)>, StoreError>;
}

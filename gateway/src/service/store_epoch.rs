//! Telling a store that lost its data from one that was only away. Each
//! node claims the store's data epoch at start (written once into an
//! empty store) and compares it once per presence interval. An epoch gone,
//! or replaced by another node's claim, means the store came back empty (a
//! Redis restarted without persistence): every room is gone. The node logs
//! it as an error, counts it (`gateway_store_resets_total`), answers
//! `/readyz` with 503 for [`STORE_LOST_HOLD`], closes every joined session
//! with 4005, and adopts the new epoch.

use std::sync::atomic::Ordering;
use std::time::Duration;

use protocol::CloseCode;

use super::Node;
use crate::clock::now_ms;
use crate::store::StoreError;

/// How long a node answers `/readyz` with 503 after it found the store
/// emptied: time for operators to re-create rooms before load balancers
/// send viewers back.
pub const STORE_LOST_HOLD: Duration = Duration::from_secs(30);

fn fresh_epoch() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

impl Node {
    /// Claims (or learns) the store's data epoch; call once at start.
    pub async fn claim_store_epoch(&self) -> Result<(), StoreError> {
        let epoch = self.store.claim_store_epoch(&fresh_epoch()).await?;
        *self.store_epoch.lock().unwrap_or_else(|p| p.into_inner()) = epoch;
        Ok(())
    }

    /// The presence heartbeat reached the store at `now`.
    pub fn store_answered(&self, now: i64) {
        let _ = self
            .store_ok_since
            .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The presence heartbeat failed: the store is away.
    pub fn store_failed(&self) {
        self.store_ok_since.store(0, Ordering::Release);
    }

    /// Whether this node has reached the store for a whole presence TTL,
    /// so every live node has refreshed its presence since: an expired
    /// presence then means a dead node, not an outage just over.
    pub fn store_steady(&self, now: i64) -> bool {
        let since = self.store_ok_since.load(Ordering::Acquire);
        since > 0 && now - since >= self.settings.presence_ttl_ms()
    }

    /// Whether the node is holding itself not-ready after a data loss.
    pub fn store_lost(&self) -> bool {
        now_ms() < self.store_lost_until.load(Ordering::Acquire)
    }

    /// Compares the store's data epoch with the one this node knows.
    pub async fn check_store_epoch(&self) {
        let found = match self.store.store_epoch().await {
            Ok(found) => found,
            // Unreachable is not empty: `/readyz` already reports it.
            Err(_) => return,
        };
        let known = self
            .store_epoch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if found.as_deref() == Some(known.as_str()) {
            return;
        }
        tracing::error!(
            known = %known,
            found = ?found,
            "the store lost its data (restarted without persistence?): every room is gone; \
             closing joined sessions with 4005 and answering /readyz 503 for {} s",
            STORE_LOST_HOLD.as_secs()
        );
        self.metrics.store_resets.inc();
        self.store_lost_until.store(
            now_ms() + STORE_LOST_HOLD.as_millis() as i64,
            Ordering::Release,
        );
        self.hubs.close_all(CloseCode::StoreLost);
        match self.store.claim_store_epoch(&fresh_epoch()).await {
            Ok(epoch) => *self.store_epoch.lock().unwrap_or_else(|p| p.into_inner()) = epoch,
            Err(e) => tracing::warn!(error = %e, "store epoch not claimed; retrying"),
        }
    }
}

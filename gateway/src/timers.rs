//! Room timers: the abnormal-room timeout and the live-length cap. One task
//! per node checks due deadlines; the transition is a compare-and-set in the
//! store, so a deadline fires at most once even if several nodes look.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::now_ms;
use crate::room::lifecycle::next_deadline;
use crate::service::Node;

/// Checks room deadlines every `timer_interval_ms` until shutdown.
pub async fn run(node: Arc<Node>) {
    let mut shutdown = node.shutdown_signal();
    let every = Duration::from_millis(node.settings.timer_interval_ms.max(1));
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => fire_due(&node).await,
        }
    }
}

async fn fire_due(node: &Node) {
    let rooms = match node.store.rooms().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "timers: rooms unavailable");
            return;
        }
    };
    let now = now_ms();
    for room in rooms {
        if let Some((at, t)) = next_deadline(&room, node.timing)
            && at <= now
            && let Err(r) = node.transition(&room.id, t).await
        {
            tracing::debug!(room = %room.id, reason = %r, "timer transition skipped");
        }
    }
}

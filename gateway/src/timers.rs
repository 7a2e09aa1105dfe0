//! Room timers (the abnormal-room timeout, the live-length cap, lottery
//! draws, notice expiry, dashboard curve points, PK scores and ends) and the presence
//! heartbeat. Every node checks due deadlines; a per-room lease with
//! a fencing token picks the one that acts, and the transition itself is a
//! compare-and-set, so a deadline fires exactly once.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::now_ms;
use protocol::RoomStatus;

use crate::room::Transition;
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
    let now = now_ms();
    let due = match node.store.due_rooms(now).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "timers: due rooms unavailable");
            return;
        }
    };
    for id in due {
        // One node acts per room: the lease holder. The transition itself is
        // a compare-and-set, so even a stale holder cannot apply it twice.
        let lease = format!("timers:{id}");
        let ttl = 3 * node.settings.timer_interval_ms.max(1) as i64;
        match node
            .store
            .lease(&lease, &node.settings.node_id, now, ttl)
            .await
        {
            Ok(Some(_token)) => {}
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(room = %id, error = %e, "timer lease unavailable");
                continue;
            }
        }
        let room = match node.store.room(&id).await {
            Ok(r) => r,
            Err(_) => continue,
        };
        let mut room = room;
        if matches!(room.status, RoomStatus::Live | RoomStatus::Paused)
            && node.store_steady(now)
            && matches!(node.store.anchor_presence_lost(&id, now).await, Ok(true))
        {
            // The anchor's node died (or stopped refreshing its presence)
            // without its sessions ending: the room is abnormal, as if the
            // anchor had left.
            tracing::warn!(room = %id, "the anchor's node vanished; room abnormal");
            if let Ok(updated) = node.transition(&id, Transition::AnchorLost).await {
                room = updated;
            }
        }
        if let Some((at, t)) = next_deadline(&room, node.timing)
            && at <= now
        {
            match node.transition(&id, t).await {
                Ok(updated) => room = updated,
                Err(r) => tracing::debug!(room = %id, reason = %r, "timer transition skipped"),
            }
        }
        if room.commerce.next_deadline().is_some_and(|at| at <= now) {
            node.fire_commerce(&room, now).await;
            if let Ok(r) = node.store.room(&id).await {
                room = r;
            }
        }
        if !room.lotteries.is_empty() {
            node.fire_lotteries(&room, now).await;
            if let Ok(r) = node.store.room(&id).await {
                room = r;
            }
        }
        node.take_curve_point(&room, now).await;
        if room.notices.current.is_some() {
            node.expire_notice(&room, now).await;
        }
        if room.costream.current.is_some() {
            node.fire_costream(&room, now).await;
        }
        if room.costream.link.as_ref().is_some_and(|l| l.pk.is_some()) {
            node.fire_pk(&room, now).await;
            if let Ok(r) = node.store.room(&id).await {
                room = r;
            }
        }
        if room.costream.link.is_some() {
            node.fire_link(&room, now).await;
        }
        // Read again: a notice pushed (or a lottery started) since the
        // first read put its own deadline, which this one must not hide.
        if let Ok(r) = node.store.room(&id).await {
            room = r;
        }
        node.set_room_deadline(&room).await;
    }
}

/// Refreshes this node's presence in every room it hosts until shutdown.
pub async fn presence(node: Arc<Node>) {
    let mut shutdown = node.shutdown_signal();
    let every = Duration::from_millis(node.settings.presence_interval_ms.max(1));
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                let expires = now_ms() + node.settings.presence_ttl_ms();
                // A room's dictionary lives as long as the room has a hub here.
                node.words.retain_rooms(|r| node.hubs.get(r).is_some());
                node.check_store_epoch().await;
                ping_store(&node).await;
                refresh_directory(&node, expires).await;
                let presences = node.hubs.presences();
                report_node(&node, presences.len(), expires).await;
                for (room, p) in presences {
                    if let Err(e) = node.store.set_presence(&room, &node.settings.node_id, p, expires).await {
                        tracing::warn!(room, error = %e, "presence not refreshed");
                    }
                }
            }
        }
    }
}

/// Times one store `PING` into `gateway_store_ping_seconds` (a failure or
/// a second without an answer counts in `gateway_store_ping_errors`).
async fn ping_store(node: &Node) {
    let started = std::time::Instant::now();
    match tokio::time::timeout(Duration::from_secs(1), node.store.ping()).await {
        Ok(Ok(())) => node
            .metrics
            .store_ping_seconds
            .observe(started.elapsed().as_secs_f64()),
        _ => {
            node.metrics.store_ping_errors.inc();
        }
    }
}

/// Writes what this node reports of itself for the cluster view
/// (`GET /api/nodes`), valid until `expires`: `rooms` is its hub count.
async fn report_node(node: &Node, rooms: usize, expires: i64) {
    let info = serde_json::json!({
        "readiness": node.readiness(true),
        "connections": node.metrics.connections.get(),
        "rooms": rooms,
        "reported_at": now_ms(),
    });
    let id = &node.settings.node_id;
    if let Err(e) = node
        .store
        .set_node_info(id, &info.to_string(), expires)
        .await
    {
        tracing::debug!(error = %e, "node report not written");
    }
}

/// Keeps this node addressable in the user directory: its liveness key
/// (targeted events go only to live nodes), and after a failed directory
/// write (an outage) every local user's entry again.
async fn refresh_directory(node: &Node, expires: i64) {
    let id = &node.settings.node_id;
    match node.store.set_node_alive(id, expires).await {
        Ok(()) => node.store_answered(now_ms()),
        Err(e) => {
            node.store_failed();
            tracing::warn!(error = %e, "node liveness not refreshed");
        }
    }
    if node.hubs.users.take_stale() {
        let users = node.hubs.users.users();
        match node.store.add_user_node(&users, id).await {
            Ok(()) => tracing::info!(users = users.len(), "user directory restored"),
            Err(e) => {
                node.hubs.users.mark_stale();
                tracing::warn!(error = %e, "user directory not restored");
            }
        }
    }
}

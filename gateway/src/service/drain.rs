//! The paced drain (lame duck) of a node told to stop (SIGTERM): it turns
//! not-ready at once (`/readyz` 503), waits `drain_delay_ms` for load
//! balancers to notice, then closes its sessions with 4000 spread evenly
//! over `drain_window_ms`, so that their reconnects reach the other nodes
//! as a steady stream, not a storm.
//!
//! No registry of sessions: when the window opens, every session takes a
//! ticket `i` (in the order they wake) and closes at
//! `start + window × i / n`, `n` being the node's connections then. A
//! session that opens during the window gets a ticket past `n`: it closes
//! at the window's end (at once when that has passed).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::Node;

/// When the closing window opened, how long it is, and how many sessions
/// it spreads.
#[derive(Debug, Clone, Copy)]
struct Pace {
    start: Instant,
    window: Duration,
    sessions: u64,
}

impl Pace {
    /// When the session holding `ticket` closes.
    fn close_at(&self, ticket: u64) -> Instant {
        let n = self.sessions.max(1);
        let share = u128::from(ticket.min(n)) * self.window.as_nanos() / u128::from(n);
        self.start + Duration::from_nanos(u64::try_from(share).unwrap_or(u64::MAX))
    }
}

/// A node's drain state.
#[derive(Debug)]
pub struct Drain {
    /// Set once the drain began: the node answers `/readyz` 503.
    draining: AtomicBool,
    /// Set when the closing window opens.
    pace: watch::Sender<Option<Pace>>,
    /// The next ticket.
    next_ticket: AtomicU64,
}

impl Default for Drain {
    fn default() -> Self {
        Drain {
            draining: AtomicBool::new(false),
            pace: watch::channel(None).0,
            next_ticket: AtomicU64::new(0),
        }
    }
}

impl Drain {
    /// Whether the node is draining (or shutting down after the drain).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

impl Node {
    /// Drains the node: not-ready now, then after `drain_delay_ms` its
    /// sessions close with 4000 spread over `drain_window_ms`. Returns when
    /// every session has closed or the window (plus `shutdown_grace_ms`)
    /// is over; the caller then shuts the node down.
    pub async fn drain(&self) {
        if self.drain.draining.swap(true, Ordering::Relaxed) {
            return;
        }
        self.metrics.draining.set(1);
        let delay = Duration::from_millis(self.settings.drain_delay_ms);
        let window = Duration::from_millis(self.settings.drain_window_ms);
        tracing::info!(
            delay_ms = self.settings.drain_delay_ms,
            window_ms = self.settings.drain_window_ms,
            "draining: not ready; sessions close after the delay over the window"
        );
        tokio::time::sleep(delay).await;
        let sessions = u64::try_from(self.metrics.connections.get()).unwrap_or(0);
        let start = Instant::now();
        self.drain.pace.send_replace(Some(Pace {
            start,
            window,
            sessions,
        }));
        tracing::info!(sessions, "draining: closing sessions");
        let grace = Duration::from_millis(self.settings.shutdown_grace_ms);
        let deadline = start + window + grace;
        while self.metrics.connections.get() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Resolves when this session is to close with 4000: at its turn in the
/// drain window, or at once when the node shuts down (which sets an empty
/// window). One receiver and a boxed timer: this sits in every idle
/// session's future.
pub async fn session_turn(node: Arc<Node>) {
    let mut pace = node.drain.pace.subscribe();
    let opened = match pace.wait_for(Option::is_some).await {
        Ok(p) => *p,
        Err(_) => return,
    };
    let Some(mut current) = opened else {
        return;
    };
    let ticket = node.drain.next_ticket.fetch_add(1, Ordering::Relaxed);
    drop(node);
    loop {
        // Boxed: the timer is only allocated once the window is open.
        let turn = Box::pin(tokio::time::sleep_until(current.close_at(ticket)));
        tokio::select! {
            () = turn => return,
            changed = pace.changed() => {
                if changed.is_err() {
                    return;
                }
                current = (*pace.borrow()).unwrap_or(current);
            }
        }
    }
}

impl Drain {
    /// Closes every session now: the shutdown's empty window.
    pub(super) fn cut_short(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.pace.send_replace(Some(Pace {
            start: Instant::now(),
            window: Duration::ZERO,
            sessions: 1,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_spread_evenly_over_the_window() {
        let start = Instant::now();
        let pace = Pace {
            start,
            window: Duration::from_secs(10),
            sessions: 4,
        };
        let at: Vec<_> = (0..6).map(|t| pace.close_at(t) - start).collect();
        let secs = |s: f64| Duration::from_secs_f64(s);
        assert_eq!(at[..4], [secs(0.0), secs(2.5), secs(5.0), secs(7.5)]);
        assert_eq!(at[4], secs(10.0), "late sessions close at the end");
        assert_eq!(at[5], secs(10.0));
        let empty = Pace {
            sessions: 0,
            ..pace
        };
        assert_eq!(empty.close_at(3), start + Duration::from_secs(10));
    }
}

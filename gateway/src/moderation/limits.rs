//! Rate limits beyond the per-connection request rate (`session`): the
//! per-user comment rate, the per-IP connection rate at the `/ws` upgrade
//! and the per-IP cap of open connections, counted from the accept
//! (`governor` keyed limiters and counts, per node), and per-room slow mode,
//! whose claim lives in the store so it holds across nodes.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use dashmap::DashMap;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use protocol::{ErrorCode, Rejection};

use crate::config::Settings;

/// Keyed limiters grow by one entry per key; past this many keys, stale
/// ones are dropped.
const SHRINK_AT: usize = 100_000;

/// The node's keyed limiters and per-IP connection counts.
pub struct ConnLimits {
    comments: Option<DefaultKeyedRateLimiter<String>>,
    connects: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_ip_max: usize,
    open: Arc<DashMap<IpAddr, usize>>,
}

fn quota(rate: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(rate)?;
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(Quota::per_second(rate).allow_burst(burst))
}

fn retry_ms(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let wait = not_until.wait_time_from(crate::clock::limiter_clock().now());
    wait.as_millis().max(1) as u64
}

/// A connection's place under its IP's cap; dropping it frees the place.
pub struct IpSlot {
    ip: IpAddr,
    open: Arc<DashMap<IpAddr, usize>>,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        self.open.remove_if_mut(&self.ip, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

impl ConnLimits {
    /// Limiters from the settings (a rate of 0 turns one off).
    pub fn new(s: &Settings) -> ConnLimits {
        ConnLimits {
            comments: quota(s.comment_rate, s.comment_burst).map(RateLimiter::keyed),
            connects: quota(s.ip_connect_rate, s.ip_connect_burst).map(RateLimiter::keyed),
            per_ip_max: s.ip_max_connections,
            open: Arc::new(DashMap::new()),
        }
    }

    /// The per-user comment rate; the rejection carries the retry hint.
    pub fn check_comment(&self, user: &str) -> Result<(), Rejection> {
        let Some(l) = &self.comments else {
            return Ok(());
        };
        if l.len() > SHRINK_AT {
            l.retain_recent();
        }
        l.check_key(&user.to_string()).map_err(|n| Rejection {
            code: ErrorCode::RateLimited,
            message: "too many comments".into(),
            retry_after_ms: Some(retry_ms(n)),
        })
    }

    /// The per-IP connection rate, checked at the `/ws` upgrade:
    /// `Err(retry_after_s)` past it.
    pub fn check_connect_rate(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(l) = &self.connects else {
            return Ok(());
        };
        if l.len() > SHRINK_AT {
            l.retain_recent();
        }
        l.check_key(&ip).map_err(|n| retry_ms(n).div_ceil(1000))
    }

    /// A place under `ip`'s cap for a connection just accepted, upgraded or
    /// not; `None` when the address already holds `ip_max_connections`. The
    /// listener holds it for the connection and a WebSocket session takes
    /// a clone, so it is freed when both are done.
    pub fn hold(&self, ip: IpAddr) -> Option<Arc<IpSlot>> {
        let mut n = self.open.entry(ip).or_insert(0);
        if self.per_ip_max > 0 && *n >= self.per_ip_max {
            return None;
        }
        *n += 1;
        drop(n);
        Some(Arc::new(IpSlot {
            ip,
            open: self.open.clone(),
        }))
    }
}

/// The refusal of a comment whose sender's slow-mode slot is taken for
/// `wait_ms` more. The slot itself is claimed in the store, in the atomic
/// step that appends the comment (`Store::append_comments`), so it holds on
/// every node.
pub fn slow_mode_rejection(interval_s: u32, wait_ms: u64) -> Rejection {
    Rejection {
        code: ErrorCode::SlowMode,
        message: format!("slow mode: one comment every {interval_s} s"),
        retry_after_ms: Some(wait_ms.max(1)),
    }
}

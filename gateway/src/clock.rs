//! Wall-clock reads in one place, so the rest of the code takes `now` as input.

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The rate limiters' clock, made once: building a `quanta` clock
/// calibrates it (`cpuid`, a TSC read), which cost 12% of a node's CPU
/// when every joining session built its own. Clones share the calibration.
pub fn limiter_clock() -> &'static governor::clock::DefaultClock {
    static CLOCK: std::sync::OnceLock<governor::clock::DefaultClock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(governor::clock::DefaultClock::default)
}

/// A direct rate limiter for `quota` on [`limiter_clock`].
pub fn direct_limiter(quota: governor::Quota) -> governor::DefaultDirectRateLimiter {
    governor::RateLimiter::direct_with_clock(quota, limiter_clock().clone())
}

/// The next instant at which unix time is `lead_ms` before a multiple of
/// `period_ms`. Every node's room hubs tick on multiples of their tick, and
/// comment batches commit a little before them, so a batch reaches every
/// node's hub just before its next tick instead of just after it.
pub fn aligned_start(period_ms: u64, lead_ms: u64) -> tokio::time::Instant {
    let period = period_ms.max(1) as i64;
    let phase = (now_ms() + lead_ms as i64).rem_euclid(period);
    let wait = (period - phase).rem_euclid(period);
    tokio::time::Instant::now() + std::time::Duration::from_millis(wait as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_aligned_start_is_within_one_period() {
        let at = aligned_start(100, 25);
        let wait = at.saturating_duration_since(tokio::time::Instant::now());
        assert!(wait <= std::time::Duration::from_millis(100), "{wait:?}");
        // The instant falls 25 ms before a multiple of 100 ms of unix time
        // (within the few ms this test itself takes).
        let ms = now_ms() + wait.as_millis() as i64;
        let phase = (ms + 25).rem_euclid(100);
        assert!(!(5..=95).contains(&phase), "phase {phase}");
    }
}

//! The notice timing rules as a pure function of the room's notice state
//! and `now`: one notice at a time, and the spacing rule (if at least two
//! of the previous three intervals between consecutive pushes were shorter
//! than `short_interval_ms`, the next push waits `spacing_wait_ms` after
//! the last push). The store's compare-and-set runs it on the stored
//! record, so two nodes cannot both push.

use protocol::{ErrorCode, Notice, Rejection};
use serde::{Deserialize, Serialize};

/// Push times the record keeps: four pushes make the three intervals the
/// spacing rule reads.
pub const KEPT_PUSHES: usize = 4;

/// Intervals the spacing rule looks back over.
const LOOKBACK: usize = 3;

/// Short intervals among the last [`LOOKBACK`] that trigger the wait.
const SHORT_NEEDED: usize = 2;

/// The notice part of the room record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeState {
    /// The notice showing now (cleared when withdrawn or expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Notice>,
    /// The last pushes' times, unix ms, oldest first (at most
    /// [`KEPT_PUSHES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushes: Vec<i64>,
    /// Notices pushed in this room so far; the next notice's id is this + 1.
    #[serde(default)]
    pub count: u64,
}

impl NoticeState {
    /// Whether nothing was ever pushed (the record leaves it out).
    pub fn is_empty(&self) -> bool {
        *self == NoticeState::default()
    }
}

/// The rules' durations (settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeRules {
    /// How long a notice shows.
    pub show_ms: i64,
    /// An interval shorter than this is short.
    pub short_interval_ms: i64,
    /// The wait after the last push when the spacing rule applies.
    pub spacing_wait_ms: i64,
}

/// Whether a push at `now` is allowed; the refusal names the rule and the
/// milliseconds until a push may succeed (the later of the two rules).
pub fn may_push(state: &NoticeState, now: i64, rules: NoticeRules) -> Result<(), Rejection> {
    let showing = state
        .current
        .as_ref()
        .filter(|n| now < n.until)
        .map(|n| n.until - now);
    let spacing = spacing_until(&state.pushes, rules)
        .filter(|&at| now < at)
        .map(|at| at - now);
    let refuse = |code, wait: i64, why: &str| {
        let mut r = Rejection::new(code, why);
        r.retry_after_ms = Some(wait.max(1) as u64);
        Err(r)
    };
    match (showing, spacing) {
        (Some(s), Some(w)) if w > s => refuse(
            ErrorCode::NoticeSpacing,
            w,
            "notices were pushed too close together; the next waits 60 s after the last",
        ),
        (Some(s), _) => refuse(
            ErrorCode::NoticeShowing,
            s,
            "a notice is still showing; the next may be pushed once it has finished",
        ),
        (None, Some(w)) => refuse(
            ErrorCode::NoticeSpacing,
            w,
            "notices were pushed too close together; the next waits 60 s after the last",
        ),
        (None, None) => Ok(()),
    }
}

/// When the spacing rule lets the next push through, if it applies: the
/// intervals are the differences between consecutive push times; of the
/// last three (fewer when fewer pushes were made), at least two shorter
/// than `short_interval_ms` mean the next push waits until the last push
/// + `spacing_wait_ms`.
pub fn spacing_until(pushes: &[i64], rules: NoticeRules) -> Option<i64> {
    let intervals: Vec<i64> = pushes.windows(2).map(|w| w[1] - w[0]).collect();
    let recent = &intervals[intervals.len().saturating_sub(LOOKBACK)..];
    let short = recent
        .iter()
        .filter(|&&i| i < rules.short_interval_ms)
        .count();
    let last = *pushes.last()?;
    (short >= SHORT_NEEDED).then_some(last + rules.spacing_wait_ms)
}

/// Records a push at `now` in the state and returns the new notice.
pub fn push(state: &mut NoticeState, text: &str, now: i64, rules: NoticeRules) -> Notice {
    state.count += 1;
    state.pushes.push(now);
    let extra = state.pushes.len().saturating_sub(KEPT_PUSHES);
    state.pushes.drain(..extra);
    let notice = Notice {
        id: state.count,
        text: text.to_string(),
        pushed_at: now,
        until: now + rules.show_ms,
    };
    state.current = Some(notice.clone());
    notice
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: NoticeRules = NoticeRules {
        show_ms: 20_000,
        short_interval_ms: 5_000,
        spacing_wait_ms: 60_000,
    };

    fn code(r: Result<(), Rejection>) -> Option<(ErrorCode, u64)> {
        r.err().map(|r| (r.code, r.retry_after_ms.unwrap_or(0)))
    }

    /// Pushes at each time, withdrawing at once (so only spacing applies).
    fn pushed_at(times: &[i64]) -> NoticeState {
        let mut s = NoticeState::default();
        for &t in times {
            assert!(may_push(&s, t, RULES).is_ok(), "push at {t} refused");
            push(&mut s, "公告内容", t, RULES);
            s.current = None;
        }
        s
    }

    #[test]
    fn the_next_notice_waits_until_the_current_one_has_shown() {
        let mut s = NoticeState::default();
        push(&mut s, "公告内容", 1_000, RULES);
        assert_eq!(
            code(may_push(&s, 1_001, RULES)),
            Some((ErrorCode::NoticeShowing, 19_999))
        );
        assert!(may_push(&s, 21_000, RULES).is_ok());
        assert_eq!(
            s.current.as_ref().map(|n| (n.id, n.until)),
            Some((1, 21_000))
        );
    }

    #[test]
    fn two_short_intervals_of_the_last_three_make_the_next_wait_60_s() {
        // Intervals 1 s, 1 s: two short ones.
        let s = pushed_at(&[0, 1_000, 2_000]);
        assert_eq!(
            code(may_push(&s, 2_500, RULES)),
            Some((ErrorCode::NoticeSpacing, 59_500))
        );
        assert_eq!(
            code(may_push(&s, 61_999, RULES)),
            Some((ErrorCode::NoticeSpacing, 1))
        );
        assert!(may_push(&s, 62_000, RULES).is_ok());
        // Exactly 5 s is not short: intervals 5 s, 1 s pass.
        let s = pushed_at(&[0, 5_000, 6_000]);
        assert!(may_push(&s, 6_001, RULES).is_ok());
        // One short of three: no wait.
        let s = pushed_at(&[0, 10_000, 11_000, 30_000]);
        assert!(may_push(&s, 30_001, RULES).is_ok());
    }

    #[test]
    fn only_the_last_three_intervals_count() {
        // Intervals 1 s, 1 s, then the 60 s wait: the last three are
        // 1 s, 1 s, 60 s: still two short, so the next waits again.
        let s = pushed_at(&[0, 1_000, 2_000, 62_000]);
        assert_eq!(
            code(may_push(&s, 63_000, RULES)),
            Some((ErrorCode::NoticeSpacing, 59_000))
        );
        // After that wait: 1 s, 60 s, 60 s: one short, no wait; the record
        // keeps the last four pushes only.
        let s = pushed_at(&[0, 1_000, 2_000, 62_000, 122_000]);
        assert_eq!(s.pushes, vec![1_000, 2_000, 62_000, 122_000]);
        assert!(may_push(&s, 122_001, RULES).is_ok());
        // 60 s, 60 s, then 1 s: one short of three, no wait.
        let s = pushed_at(&[0, 1_000, 2_000, 62_000, 122_000, 123_000]);
        assert!(may_push(&s, 123_001, RULES).is_ok());
    }

    #[test]
    fn the_later_rule_names_the_refusal() {
        // Two short intervals and a notice still showing: spacing ends
        // later (60 s after the last push) than the show (20 s).
        let mut s = pushed_at(&[0, 1_000]);
        push(&mut s, "公告内容", 2_000, RULES);
        assert_eq!(
            code(may_push(&s, 3_000, RULES)),
            Some((ErrorCode::NoticeSpacing, 59_000))
        );
    }
}

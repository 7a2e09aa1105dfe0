//! Property tests of [`Reorder`]: whatever order and duplication the bus
//! brings offsets in, they are released in order, once each; a missing
//! offset is reported as an overdue gap exactly when it has been known
//! missing for the hold, and never before.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use protocol::{EventKind, RoomEvent, Switches};
use tokio::time::{Duration, Instant};

use super::Reorder;

const HOLD: Duration = Duration::from_millis(100);

fn ev(offset: u64) -> RoomEvent {
    RoomEvent {
        offset,
        ts: 0,
        kind: EventKind::Switches(Switches::default()),
    }
}

/// One step of a bus: an arrival (an index into the offsets; later indices
/// repeat earlier ones as duplicates), a tick that releases, or time passing.
#[derive(Debug, Clone)]
enum Step {
    Arrive(usize),
    Tick,
    Wait(u64),
}

fn steps(n: usize) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            4 => (0..n).prop_map(Step::Arrive),
            2 => Just(Step::Tick),
            1 => (1u64..150).prop_map(Step::Wait),
        ],
        0..60,
    )
}

/// An overdue gap starts at `next`, holds no arrived offset, and its first
/// offset has been known missing for at least the hold.
fn check_overdue(
    r: &Reorder,
    now: Instant,
    arrived: &BTreeSet<u64>,
    missing_since: &BTreeMap<u64, Instant>,
) -> Result<(), TestCaseError> {
    let Some((from, to)) = r.overdue_gap(now) else {
        return Ok(());
    };
    prop_assert!(from < to);
    prop_assert_eq!(from, r.next());
    for o in from..to {
        prop_assert!(
            !arrived.contains(&o),
            "{} arrived but is reported missing",
            o
        );
    }
    let Some(since) = missing_since.get(&from) else {
        return Err(TestCaseError::fail(format!(
            "{from} reported before anything showed it missing"
        )));
    };
    let waited = now.duration_since(*since);
    prop_assert!(
        waited >= HOLD,
        "{} reported {:?} after it was known missing",
        from,
        waited
    );
    Ok(())
}

proptest! {
    #[test]
    fn every_offset_is_released_once_and_in_order(
        start in 1u64..1_000,
        n in 1usize..30,
        mut arrivals in proptest::collection::vec(0usize..30, 0..80),
        tick_every in 1usize..5,
    ) {
        // Every offset arrives at least once, the rest are duplicates, in
        // the generated order.
        arrivals.retain(|&i| i < n);
        arrivals.extend(0..n);
        let t0 = Instant::now();
        let mut r = Reorder::new(start, HOLD);
        let mut out = vec![];
        for (k, i) in arrivals.iter().enumerate() {
            r.push(ev(start + *i as u64), t0);
            if k % tick_every == 0 {
                r.take_ready(&mut out);
            }
        }
        r.take_ready(&mut out);
        let got: Vec<u64> = out.iter().map(|e| e.offset).collect();
        let want: Vec<u64> = (start..start + n as u64).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(r.next(), start + n as u64);
        prop_assert_eq!(r.overdue_gap(t0 + HOLD * 100), None);
        prop_assert_eq!(r.gap_open_since(), None);
    }

    #[test]
    fn a_missing_offset_is_overdue_only_after_the_hold(
        n in 2usize..20,
        present in proptest::collection::vec(any::<bool>(), 20),
        plan in steps(20),
    ) {
        // Offsets 1..=n; the absent ones never arrive.
        let t0 = Instant::now();
        let mut now = t0;
        let mut r = Reorder::new(1, HOLD);
        let mut out: Vec<RoomEvent> = vec![];
        // When each offset was first known missing: an offset above it
        // arrived while it had not.
        let mut arrived = BTreeSet::new();
        let mut missing_since = BTreeMap::new();
        for step in plan {
            match step {
                Step::Arrive(i) => {
                    let offset = (i % n) as u64 + 1;
                    if !present[i % n] {
                        continue;
                    }
                    r.push(ev(offset), now);
                    arrived.insert(offset);
                    for o in 1..offset {
                        if !arrived.contains(&o) {
                            missing_since.entry(o).or_insert(now);
                        }
                    }
                }
                Step::Tick => r.take_ready(&mut out),
                Step::Wait(ms) => now += Duration::from_millis(ms),
            }
            check_overdue(&r, now, &arrived, &missing_since)?;
        }
        r.take_ready(&mut out);
        // What was released is the contiguous run of arrived offsets from 1.
        let released: Vec<u64> = out.iter().map(|e| e.offset).collect();
        let run: Vec<u64> = (1..).take_while(|o| arrived.contains(o)).collect();
        prop_assert_eq!(&released, &run);
        // A gap below an arrived offset is reported once the hold passed.
        let later = now + HOLD;
        let next = r.next();
        if arrived.iter().any(|&o| o > next) {
            let first_held = *arrived.range(next..).next().unwrap_or(&next);
            prop_assert_eq!(r.overdue_gap(later), Some((next, first_held)));
        } else {
            prop_assert_eq!(r.overdue_gap(later), None);
        }
    }

    #[test]
    fn skipping_a_gap_releases_what_follows_it(
        n in 2u64..30,
        lost in 1u64..29,
    ) {
        let lost = lost.min(n - 1);
        let t0 = Instant::now();
        let mut r = Reorder::new(1, HOLD);
        for o in (1..=n).filter(|&o| o != lost) {
            r.push(ev(o), t0);
        }
        let mut out = vec![];
        r.take_ready(&mut out);
        prop_assert_eq!(out.len() as u64, lost - 1);
        prop_assert_eq!(r.overdue_gap(t0 + HOLD), Some((lost, lost + 1)));
        r.skip_to(lost + 1);
        r.take_ready(&mut out);
        let got: Vec<u64> = out.iter().map(|e| e.offset).collect();
        let want: Vec<u64> = (1..=n).filter(|&o| o != lost).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(r.overdue_gap(t0 + HOLD * 10), None);
    }
}

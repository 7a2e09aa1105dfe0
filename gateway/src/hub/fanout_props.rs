//! Property tests of the comment sampler, ticked as the hub ticks it
//! (`refill` every tick): a viewer gets at most `cap` comments in any
//! second, a busy room gets its cap every second, kept comments are a
//! time-ordered subset that includes the newest, and spare budget carries
//! over a quiet room.

use proptest::prelude::*;
use protocol::{Comment, EventKind, Role, RoomEvent};

use super::{CommentSampler, build_batches};

fn comments(from: u64, n: usize) -> Vec<RoomEvent> {
    (0..n as u64)
        .map(|i| RoomEvent {
            offset: from + i,
            ts: 0,
            kind: EventKind::Comment(Comment {
                user: "u".into(),
                nick: "n".into(),
                text: String::new(),
                role: Role::Viewer,
            }),
        })
        .collect()
}

/// Ticks per second at `tick_ms` (the last tick may straddle the second).
fn ticks_per_second(tick_ms: u64) -> usize {
    1000usize.div_ceil(tick_ms as usize)
}

fn tick_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(20u64),
        Just(50),
        Just(100),
        Just(250),
        Just(1000),
        10u64..1500
    ]
}

proptest! {
    #[test]
    fn kept_comments_are_an_ordered_subset_with_the_newest(
        cap in 1u32..200,
        tick in tick_ms(),
        sizes in proptest::collection::vec(0usize..300, 1..40),
    ) {
        let mut s = CommentSampler::new(cap, tick);
        let mut next = 1;
        for (t, n) in sizes.into_iter().enumerate() {
            s.refill(1_000_000 + t as u64 * tick);
            let input = comments(next, n);
            next += n as u64;
            let kept = s.sample(input.clone());
            prop_assert!(kept.len() <= n);
            prop_assert!(kept.windows(2).all(|w| w[0].offset < w[1].offset));
            prop_assert!(kept.iter().all(|k| input.contains(k)));
            if let (Some(last), false) = (input.last(), kept.is_empty()) {
                prop_assert_eq!(kept.last(), Some(last), "the newest comment is kept");
            }
        }
    }

    #[test]
    fn no_second_gets_more_than_the_cap(
        cap in 1u32..200,
        tick in tick_ms(),
        sizes in proptest::collection::vec(0usize..300, 1..80),
    ) {
        let mut s = CommentSampler::new(cap, tick);
        let kept: Vec<usize> = sizes
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                s.refill(1_000_000 + t as u64 * tick);
                s.sample(comments(1, n)).len()
            })
            .collect();
        // Ticks i..i+k lie within one second when (k - 1) ticks < 1000 ms.
        for k in 1..=kept.len() {
            if (k as u64 - 1) * tick >= 1000 {
                break;
            }
            for w in kept.windows(k) {
                let got: usize = w.iter().sum();
                prop_assert!(got <= cap as usize,
                    "{} kept in {} ticks of {} ms at cap {}", got, k, tick, cap);
            }
        }
    }

    #[test]
    fn a_busy_room_gets_its_cap_every_second(
        cap in 1u32..200,
        tick in prop_oneof![Just(20u64), Just(50), Just(100), Just(200), Just(250), Just(500)],
        seconds in 2usize..6,
    ) {
        let mut s = CommentSampler::new(cap, tick);
        let w = ticks_per_second(tick);
        let kept: Vec<usize> = (0..w * seconds)
            .map(|t| {
                s.refill(1_000_000 + t as u64 * tick);
                s.sample(comments(1, cap as usize * 2 + 10)).len()
            })
            .collect();
        prop_assert_eq!(kept[0], cap as usize, "a fresh room starts with its second");
        for second in kept.chunks(w).skip(1) {
            let got: usize = second.iter().sum();
            prop_assert!(got + 1 >= cap as usize && got <= cap as usize,
                "{} of cap {} in one second at {} ms ticks", got, cap, tick);
        }
    }

    /// Ticked through quiet ticks, the sampler carries the unused second.
    #[test]
    fn the_sampler_carries_spare_budget_over_quiet_ticks(
        cap in 1u32..200,
        tick in prop_oneof![Just(20u64), Just(50), Just(100), Just(250)],
    ) {
        let mut s = CommentSampler::new(cap, tick);
        // A busy second first, then a quiet one.
        let w = ticks_per_second(tick) as u64;
        for t in 0..w {
            s.refill(1_000_000 + t * tick);
            s.sample(comments(1, cap as usize * 3));
        }
        for t in w..2 * w {
            s.refill(1_000_000 + t * tick);
            s.sample(vec![]);
        }
        s.refill(1_000_000 + 2 * w * tick);
        let burst = s.sample(comments(1, cap as usize * 3));
        prop_assert_eq!(burst.len(), cap as usize);
    }

    /// What the doc promises of a room: after a quiet second, spare budget
    /// lets a burst through up to the cap, though a quiet tick builds no
    /// batch (the hub refills the sampler on every tick).
    #[test]
    fn a_quiet_room_carries_spare_budget_into_a_burst(
        cap in 2u32..200,
        tick in prop_oneof![Just(20u64), Just(50), Just(100), Just(250)],
    ) {
        let mut s = CommentSampler::new(cap, tick);
        let mut high_since = 0;
        let w = ticks_per_second(tick) as u64;
        let b = build_batches("r", "e", &mut high_since, comments(1, cap as usize * 3), &mut s, None);
        prop_assert!(!b.is_empty());
        for t in 1..=w {
            s.refill(1_000_000 + t * tick);
            let b = build_batches("r", "e", &mut high_since, vec![], &mut s, None);
            prop_assert!(b.is_empty());
        }
        s.refill(1_000_000 + (w + 1) * tick);
        let b = build_batches("r", "e", &mut high_since, comments(1000, cap as usize * 3), &mut s, None);
        let kept: usize = b.iter().map(|b| b.events.len()).sum();
        prop_assert_eq!(kept, cap as usize, "after a quiet second");
    }
}

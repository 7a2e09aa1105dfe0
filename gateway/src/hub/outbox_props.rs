//! Property tests of [`Outbox`]: after any sequence of pushes, front
//! pushes, drains and closes, the bytes it counts are the bytes it holds;
//! `push` never lets them past the limit (only `push_front`, the join
//! snapshot, may, as documented); order is kept; a high frame is only ever
//! lost by closing the session.

use proptest::prelude::*;
use protocol::{CloseCode, Lane};
use tokio_tungstenite::tungstenite::Message;

use super::{Outbox, Outgoing, Pushed};

#[derive(Debug, Clone)]
enum Op {
    Push(Lane, usize),
    PushFront(usize),
    Drain,
    Close,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let lane = prop_oneof![Just(Lane::High), Just(Lane::Low)];
    proptest::collection::vec(
        prop_oneof![
            8 => (lane, 0usize..400).prop_map(|(l, n)| Op::Push(l, n)),
            1 => (0usize..400).prop_map(Op::PushFront),
            2 => Just(Op::Drain),
            1 => Just(Op::Close),
        ],
        0..80,
    )
}

/// A frame of `len` bytes whose `since` is its id.
fn frame(id: u64, lane: Lane, len: usize) -> Outgoing {
    Outgoing {
        msg: Message::Binary(vec![0u8; len].into()),
        lane,
        since: id,
        upto: id,
        generation: 1,
    }
}

proptest! {
    #[test]
    fn the_counted_bytes_are_the_queued_bytes_and_push_keeps_the_budget(
        limit in 1usize..2_000,
        ops in ops(),
    ) {
        let o = Outbox::new(limit);
        // Bytes put in front since the last drain: the documented excess.
        let mut front = 0usize;
        // High frames queued since the last drain, by id.
        let mut high: Vec<u64> = vec![];
        let mut closed = None;
        for (id, op) in ops.into_iter().chain([Op::Drain]).enumerate() {
            let id = id as u64;
            match op {
                Op::Push(lane, len) => match o.push(frame(id, lane, len)) {
                    Pushed::Queued => {
                        prop_assert!(closed.is_none());
                        if lane == Lane::High {
                            high.push(id);
                        }
                    }
                    Pushed::DroppedLow => {
                        prop_assert_eq!(lane, Lane::Low);
                        prop_assert!(closed.is_none());
                    }
                    Pushed::Closed => {
                        // Only a high frame that cannot fit closes; then
                        // the session stays closed.
                        prop_assert!(closed.is_some() || lane == Lane::High);
                        closed.get_or_insert(CloseCode::SlowConsumer);
                    }
                    // `push` never writes: only `offer` does, with a socket.
                    Pushed::Written => prop_assert!(false, "push wrote directly"),
                },
                Op::PushFront(len) => {
                    o.push_front(frame(id, Lane::High, len));
                    if closed.is_none() {
                        front += len;
                        high.push(id);
                    }
                }
                Op::Close => {
                    o.close(CloseCode::Normal);
                    closed.get_or_insert(CloseCode::Normal);
                }
                Op::Drain => {
                    let counted = o.queued_bytes();
                    let (queue, code) = o.drain();
                    let held: usize = queue.iter().map(|f| f.msg.len()).sum();
                    prop_assert_eq!(counted, held);
                    prop_assert_eq!(o.queued_bytes(), 0);
                    prop_assert_eq!(code, closed);
                    if closed != Some(CloseCode::SlowConsumer) {
                        // Every high frame queued since the last drain is here.
                        let ids: Vec<u64> = queue.iter().map(|f| f.since).collect();
                        for h in &high {
                            prop_assert!(ids.contains(h), "high frame {} lost", h);
                        }
                    }
                    high.clear();
                    front = 0;
                }
            }
            prop_assert!(o.queued_bytes() <= limit + front,
                "{} bytes queued, limit {} (+{} in front)", o.queued_bytes(), limit, front);
        }
    }

    #[test]
    fn frames_pushed_at_the_back_leave_in_order(
        lens in proptest::collection::vec((any::<bool>(), 0usize..300), 0..40),
        limit in 1usize..3_000,
    ) {
        let o = Outbox::new(limit);
        for (id, (high, len)) in lens.iter().enumerate() {
            let lane = if *high { Lane::High } else { Lane::Low };
            o.push(frame(id as u64, lane, *len));
        }
        let (queue, _) = o.drain();
        let ids: Vec<u64> = queue.iter().map(|f| f.since).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "{:?}", ids);
    }
}

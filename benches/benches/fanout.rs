//! Fan-out bench: one tick's batch built, encoded once per codec and queued
//! to 10,000 and 100,000 local sessions (90% JSON, 10% postcard), with the
//! gateway's own `build_batches`, `EncodedFrame::encode` and `deliver`.
//!
//! A tick is ~20 comments (Chinese and English, ~30 characters), one status
//! change and the totals; the comment lane is sampled to the default cap of
//! 20 comments/s at a 100 ms tick. Each measured tick is followed by an
//! unmeasured drain of every outbox (what the session writers do), so queues
//! never grow and each push sees the state a real tick sees.
//!
//! Also a small codec group: one batch encoded as JSON and as postcard.
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gateway::hub::fanout::{CommentSampler, EncodedFrame, Member, build_batches, deliver};
use gateway::hub::outbox::Outbox;
use protocol::{
    Batch, Codec, Comment, EventKind, Lane, Role, RoomEvent, RoomStatus, ServerFrame,
    StatusChanged, Totals,
};

const ROOM: &str = "room-bench-0001";
const EPOCH: &str = "e-5f3a9c21";
/// Default per-viewer comment cap and tick of the gateway.
const COMMENT_CAP: u32 = 20;
const TICK_MS: u64 = 100;

const TEXTS: &[&str] = &[
    "主播这件衣服还有M码吗？想给我妈妈买一件",
    "this jacket looks great, is there a size M left?",
    "刚下单了，什么时候发货呀，急着穿谢谢主播",
    "can you show the back of the dress again please",
    "优惠券领不到啊，点了好几次都没反应怎么回事",
    "first time here, love the vibe of this stream!!",
    "主播好漂亮，这个口红是什么色号的求链接",
    "how long does shipping take to Shanghai usually?",
    "已关注，等下一场抽奖，希望这次能中一次",
    "the quality looks much better than last week's",
];

const NICKS: &[&str] = &[
    "小鱼儿",
    "sunny_day",
    "快乐每一天",
    "Leo",
    "甜甜圈",
    "mike88",
];

/// One tick of room events: `comments` comments and one status change.
fn tick_events(first_offset: u64, comments: usize) -> Vec<RoomEvent> {
    let now = 1_760_000_000_000i64;
    let mut events: Vec<RoomEvent> = (0..comments)
        .map(|i| RoomEvent {
            offset: first_offset + i as u64,
            ts: now + i as i64,
            kind: EventKind::Comment(Comment {
                user: format!("u{}", 100_000 + i * 7919 % 90_000),
                nick: NICKS[i % NICKS.len()].to_string(),
                text: TEXTS[i % TEXTS.len()].to_string(),
                role: Role::Viewer,
            }),
        })
        .collect();
    // The status change lands in the middle of the tick.
    let mid = comments / 2;
    events.insert(
        mid,
        RoomEvent {
            offset: 0,
            ts: now + mid as i64,
            kind: EventKind::Status(StatusChanged {
                status: RoomStatus::Paused,
                reason: Some("anchor_paused".into()),
            }),
        },
    );
    for (i, e) in events.iter_mut().enumerate() {
        e.offset = first_offset + i as u64;
    }
    events
}

fn totals(online: u64) -> Totals {
    Totals {
        likes: 1_234_567,
        comments: 45_678,
        viewers: 123_456,
        online,
    }
}

/// `n` members, 90% JSON and 10% postcard, each with its own outbox.
fn members(n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| Member {
            session: i as u64 + 1,
            outbox: Arc::new(Outbox::new(64 * 1024 * 1024)),
            codec: if i % 10 == 9 {
                Codec::Binary
            } else {
                Codec::Json
            },
            generation: 1,
        })
        .collect()
}

fn drain_all(members: &[Member]) -> usize {
    members.iter().map(|m| m.outbox.drain().0.len()).sum()
}

/// One tick as the room hub runs it: build, encode once per codec, queue.
fn one_tick(
    members: &[Member],
    high_since: &mut u64,
    sampler: &mut CommentSampler,
    events: Vec<RoomEvent>,
    online: u64,
) -> u64 {
    let batches = build_batches(
        ROOM,
        EPOCH,
        high_since,
        events,
        sampler,
        Some(totals(online)),
    );
    let frames: Vec<EncodedFrame> = batches
        .iter()
        .map(|b| EncodedFrame::encode(b, true, true))
        .collect();
    deliver(members, &frames).queued
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_tick");
    group.sample_size(20);
    for &n in &[10_000usize, 100_000] {
        let members = members(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("sessions", n), &members, |b, members| {
            let mut sampler = CommentSampler::new(COMMENT_CAP, TICK_MS);
            let mut high_since = 0u64;
            let mut offset = 1u64;
            let mut now_ms = 0u64;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // The hub refills the comment budget on every tick.
                    now_ms += TICK_MS;
                    sampler.refill(now_ms);
                    let events = tick_events(offset, 20);
                    offset += events.len() as u64;
                    let start = Instant::now();
                    let queued = one_tick(
                        members,
                        &mut high_since,
                        &mut sampler,
                        events,
                        members.len() as u64,
                    );
                    total += start.elapsed();
                    black_box(queued);
                    // The session writers' side, outside the measurement.
                    let drained = drain_all(members);
                    debug_assert_eq!(drained as u64, queued);
                }
                total
            })
        });
    }
    group.finish();
}

fn sample_batch() -> Batch {
    let events = tick_events(1, 20);
    Batch {
        room: ROOM.into(),
        epoch: EPOCH.into(),
        lane: Lane::Low,
        since: 0,
        upto: events.last().map_or(0, |e| e.offset),
        events,
        totals: Some(totals(100_000)),
    }
}

fn codec(c: &mut Criterion) {
    let frame = ServerFrame::Batch(sample_batch());
    let mut group = c.benchmark_group("codec_batch_21_events");
    for codec in [Codec::Json, Codec::Binary] {
        let len = codec.encode_server(&frame).len();
        eprintln!("batch of 21 events + totals, {codec:?}: {len} bytes");
        group.throughput(Throughput::Bytes(len as u64));
        let name = match codec {
            Codec::Json => "encode_json",
            Codec::Binary => "encode_postcard",
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(codec.encode_server(black_box(&frame))))
        });
    }
    group.finish();
}

criterion_group!(benches, fanout, codec);
criterion_main!(benches);

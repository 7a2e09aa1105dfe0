//! Lottery draw bench: commit (sort, dedupe, Merkle root) and draw (VRF proof,
//! winner selection, record) among 1,000,000 participants, and verifying
//! that record.
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lottery::demo::{demo_definition, demo_key};
use lottery::{Commitment, announce, draw, verify};
use std::hint::black_box;

const PARTICIPANTS: usize = 1_000_000;

/// Ids "u0".."u999999" in a scrambled (deterministic) order, as they would
/// come out of a hash set or a store's set members.
fn participant_ids() -> Vec<String> {
    let mut ids: Vec<String> = (0..PARTICIPANTS).map(|i| format!("u{i}")).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..ids.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap_or(0);
        ids.swap(i, j);
    }
    ids
}

fn commit_and_draw(c: &mut Criterion) {
    let key = demo_key();
    let mut definition = demo_definition();
    definition.winners = 1000;
    let announcement = announce(definition, &key).expect("valid definition");
    let ids = participant_ids();

    let mut group = c.benchmark_group("lottery_1m");
    group.bench_function("commit", |b| {
        b.iter_batched(
            || ids.clone(),
            |ids| black_box(Commitment::from_ids(ids).expect("valid ids")),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("commit_and_draw_k1000", |b| {
        b.iter_batched(
            || ids.clone(),
            |ids| {
                let commitment = Commitment::from_ids(ids).expect("valid ids");
                black_box(draw(&announcement, &commitment, &key).expect("draw"))
            },
            BatchSize::LargeInput,
        )
    });
    let commitment = Commitment::from_ids(ids.clone()).expect("valid ids");
    let record = draw(&announcement, &commitment, &key).expect("draw");
    group.bench_function("verify_record", |b| {
        b.iter(|| black_box(verify(black_box(&record)).expect("verifies")))
    });
    group.finish();
}

criterion_group!(benches, commit_and_draw);
criterion_main!(benches);

//! No panics on any input: every Unicode scalar value, random strings mixing
//! scripts, marks and noise, empty and very long texts; masking always keeps
//! the character count and every unmasked character.

mod common;

use wordfilter::{FoldedText, Policy, Scanner, Verdict};

/// Tiny deterministic xorshift generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_text(rng: &mut XorShift, len: usize) -> String {
    const POOLS: &[(u32, u32)] = &[
        (0x20, 0x7F),
        (0x80, 0x800),
        (0x300, 0x370),
        (0x2000, 0x2070),
        (0x2460, 0x2800),
        (0x3000, 0x3300),
        (0x4E00, 0x9FFF),
        (0xFF00, 0xFFFF),
        (0x1D400, 0x1D800),
        (0x1F100, 0x1FAFF),
        (0x10000, 0x110000),
    ];
    let mut s = String::new();
    for _ in 0..len {
        let (lo, hi) = POOLS[(rng.next() % POOLS.len() as u64) as usize];
        let cp = lo + (rng.next() % u64::from(hi - lo)) as u32;
        s.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
    }
    s
}

fn assert_mask_is_faithful(input: &str, output: &str) {
    assert_eq!(input.chars().count(), output.chars().count(), "{input:?}");
    for (a, b) in input.chars().zip(output.chars()) {
        assert!(a == b || b == '*', "{input:?} -> {output:?}");
    }
}

#[test]
fn every_scalar_value_folds_with_consistent_spans() {
    let all: String = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
    let f = FoldedText::fold(&all);
    let folded = f.as_str();
    for (i, _) in folded.char_indices() {
        let span = f.original_span(i..i + 1).expect("span");
        assert!(span.start < span.end && span.end <= all.len());
        assert!(all.is_char_boundary(span.start) && all.is_char_boundary(span.end));
    }
}

#[test]
fn random_texts_never_panic_and_mask_faithfully() {
    let (g, r) = (common::global(), common::room());
    let policy = Policy::mask().with_digit_runs(3).with_urls();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut scanner = Scanner::new();
    for round in 0..2_000 {
        let text = random_text(&mut rng, (round % 64) + 1);
        match scanner.check(&text, &[&g, &r], &policy) {
            Verdict::Masked { text: out, .. } => assert_mask_is_faithful(&text, &out),
            Verdict::Pass => {}
            Verdict::Blocked { .. } => panic!("mask policy blocked"),
        }
    }
}

#[test]
fn empty_and_very_long_texts() {
    let (g, r) = (common::global(), common::room());
    let mut s = Scanner::new();
    assert_eq!(s.check("", &[&g, &r], &common::strict()), Verdict::Pass);
    assert_eq!(s.check("", &[], &Policy::mask()), Verdict::Pass);
    let long = "主播好 f.u.c.k 买了两件 ".repeat(50_000);
    let v = s.check(
        &long,
        &[&g, &r],
        &Policy::mask().with_digit_runs(7).with_urls(),
    );
    let Verdict::Masked { text, .. } = v else {
        panic!("expected a masked verdict");
    };
    assert_mask_is_faithful(&long, &text);
    assert_eq!(text.matches("*******").count(), 50_000);
    let noise = "\u{0301}".repeat(100_000) + &".".repeat(100_000);
    assert_eq!(s.check(&noise, &[&g, &r], &common::strict()), Verdict::Pass);
    let digits = "9".repeat(200_000);
    assert_ne!(
        s.check(&digits, &[&g, &r], &common::strict()),
        Verdict::Pass
    );
}

//! What a scan reports: hits, the per-room policy that turns hits into a
//! verdict, and masking of the original text.

use std::ops::Range;

use crate::dictionary::Category;

/// Default minimum length of a digit run reported as contact info
/// (phone, WeChat or QQ number).
pub const DEFAULT_MIN_DIGIT_RUN: usize = 7;

/// Category reported by the digit-run detector.
pub const CONTACT: &str = "contact";

/// Category reported by the URL detector.
pub const URL: &str = "url";

/// What produced a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// A dictionary word.
    Word,
    /// A long run of digits (after folding).
    DigitRun,
    /// A URL or domain-like token.
    Url,
}

/// One match, located in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Byte range in the original text, from the first to the last matched
    /// character (noise in between included).
    pub span: Range<usize>,
    /// Byte range in the folded text.
    pub folded: Range<usize>,
    /// Category of the word, or [`CONTACT`] / [`URL`] for detectors.
    pub category: Category,
    /// What produced it.
    pub kind: HitKind,
}

/// What to do with a comment that has hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Reject the comment, naming the category (never the word).
    #[default]
    Block,
    /// Replace every matched character of the original text by `*`.
    Mask,
}

/// Per-room filtering policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Block or mask.
    pub action: Action,
    /// Report runs of at least this many digits (after folding, noise between
    /// digits ignored) as [`CONTACT`]; `None` turns the detector off.
    pub min_digit_run: Option<usize>,
    /// Report URLs and domain-like tokens as [`URL`].
    pub detect_urls: bool,
}

impl Policy {
    /// Blocking policy with both detectors off.
    pub fn block() -> Self {
        Self::default()
    }

    /// Masking policy with both detectors off.
    pub fn mask() -> Self {
        Self {
            action: Action::Mask,
            ..Self::default()
        }
    }

    /// Turns the digit-run detector on with the given minimum run length.
    pub fn with_digit_runs(mut self, min: usize) -> Self {
        self.min_digit_run = Some(min.max(1));
        self
    }

    /// Turns the URL detector on.
    pub fn with_urls(mut self) -> Self {
        self.detect_urls = true;
        self
    }
}

/// The outcome of checking one comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No hit: deliver the text as it is.
    Pass,
    /// Blocked; names the category of the first hit in the text.
    Blocked {
        /// Category of the first hit.
        category: Category,
    },
    /// Masked: deliver `text` instead of the original.
    Masked {
        /// The original text with every matched character replaced by `*`.
        text: String,
        /// Distinct categories of the hits, in order of first appearance.
        categories: Vec<Category>,
    },
}

/// Replaces every character of `text` that lies in a hit's span by one `*`,
/// leaving all other characters exactly as they were.
pub fn mask(text: &str, hits: &[Hit]) -> String {
    let mut spans: Vec<&Range<usize>> = hits.iter().map(|h| &h.span).collect();
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let (mut next, mut covered_to) = (spans.iter().peekable(), 0);
    for (i, c) in text.char_indices() {
        while let Some(s) = next.next_if(|s| s.start <= i) {
            covered_to = covered_to.max(s.end);
        }
        out.push(if i < covered_to { '*' } else { c });
    }
    out
}

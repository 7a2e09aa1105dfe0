//! The entry point for checking comments: a reusable [`Scanner`] folds the
//! text once, runs every given dictionary and the enabled detectors over the
//! folded text, and turns the hits into a [`Verdict`] under a [`Policy`].

use crate::detectors;
use crate::dictionary::{Category, Dictionary, Scratch};
use crate::fold::FoldedText;
use crate::verdict::{Action, Hit, Policy, Verdict, mask};

/// Reusable scratch state for checking many comments (one per worker/task):
/// the folded text, the hit list and matcher buffers are kept between calls
/// so the hot path does not allocate.
#[derive(Debug, Default)]
pub struct Scanner {
    folded: FoldedText,
    hits: Vec<Hit>,
    scratch: Scratch,
    labels: Vec<detectors::Label>,
    runs: detectors::DigitRuns,
}

impl Scanner {
    /// Creates a scanner with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Finds every hit of `text`: matches of each dictionary (each one's
    /// allow-list applies to its own matches only) and, as the policy asks,
    /// digit runs and URLs. Hits are sorted by position in the original text.
    ///
    /// A text holding regional indicators is scanned twice: once reading
    /// them as letters (`🇫🇺🇨🇰`), once as noise (`傻🇨🇳逼`); a text with
    /// digits inside a Latin word (`sh1t`) is scanned once more with them
    /// read as letters ([`FoldedText::read_digits_as_letters`], words only);
    /// the hits of every reading are kept. [`Scanner::folded`] is then the
    /// last reading.
    pub fn scan(&mut self, text: &str, dictionaries: &[&Dictionary], policy: &Policy) -> &[Hit] {
        self.hits.clear();
        self.folded.fold_into(text);
        self.scan_folded(dictionaries, Some(policy));
        let mut again = false;
        if self.folded.has_regional_indicators() {
            self.folded.fold_flags_as_noise(text);
            self.scan_folded(dictionaries, Some(policy));
            again = true;
        }
        if self.folded.read_digits_as_letters() {
            self.scan_folded(dictionaries, None);
            again = true;
        }
        self.hits.sort_by_key(|h| (h.span.start, h.span.end));
        if again {
            self.hits
                .dedup_by(|a, b| a.span == b.span && a.category == b.category);
        }
        &self.hits
    }

    /// Appends the hits of the folded text held: the dictionaries', and
    /// the detectors' when a policy is given.
    fn scan_folded(&mut self, dictionaries: &[&Dictionary], policy: Option<&Policy>) {
        self.scratch.allowed.clear();
        for d in dictionaries {
            d.find_into(&self.folded, &mut self.hits, &mut self.scratch);
        }
        let Some(policy) = policy else { return };
        if let Some(min) = policy.min_digit_run {
            detectors::digit_runs(&self.folded, min.max(1), &mut self.runs, &mut self.hits);
        }
        if policy.detect_urls {
            detectors::urls(&self.folded, &mut self.labels, &mut self.hits);
        }
    }

    /// Checks one comment against the dictionaries (typically the global one
    /// and the room's) and applies the policy.
    pub fn check(&mut self, text: &str, dictionaries: &[&Dictionary], policy: &Policy) -> Verdict {
        self.scan(text, dictionaries, policy);
        let Some(first) = self.hits.first() else {
            return Verdict::Pass;
        };
        match policy.action {
            Action::Block => Verdict::Blocked {
                category: first.category.clone(),
            },
            Action::Mask => {
                let mut categories: Vec<Category> = Vec::new();
                for h in &self.hits {
                    if !categories.contains(&h.category) {
                        categories.push(h.category.clone());
                    }
                }
                Verdict::Masked {
                    text: mask(text, &self.hits),
                    categories,
                }
            }
        }
    }

    /// The folded form of the last text scanned.
    pub fn folded(&self) -> &FoldedText {
        &self.folded
    }

    /// The hits of the last text scanned.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }
}

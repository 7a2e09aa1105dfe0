//! The precision rule for Chinese matches: a word lexicon with frequencies
//! (derived from jieba's `dict.txt`, MIT; see `DATA-LICENSES.md`), folded
//! like the text, and a maximum-probability segmentation of the text around
//! a match. A match that a more probable segmentation cuts through (a
//! segment crossing one of its edges without containing it: `牙刷|单价` is
//! not `刷单`) does not count. A segment containing the whole match
//! (`大麻花` around `大麻`) is not a cut; compounds like that are the
//! allow-list's business. Lexicon words are never read across a separator
//! (a space, punctuation or a symbol skipped between two characters), so a
//! word spelled out with noise between its characters is never cut. A one-character word is its own word only where
//! the best segmentation leaves it alone: `操` is not in `操作简单`, `逼` not
//! in `逼真`.

use std::collections::HashMap;
use std::sync::OnceLock;

use daachorse::CharwiseDoubleArrayAhoCorasick;

use crate::fold::{FoldedText, fold_str};
use crate::table::GAP_SEPARATOR;

/// The vendored lexicon: `word frequency` lines, `# total N` gives the sum
/// of all frequencies of the original dictionary.
const LEXICON: &str = include_str!("../data/lexicon.txt");

/// Characters of context taken on each side of a match.
const CONTEXT: usize = 6;

/// Frequency given to a listed word absent from the lexicon (or rarer in
/// it): an operator listed it, so it is taken to be a common word.
const LISTED_FREQ: f64 = 5_000.0;

/// The compiled lexicon.
pub(crate) struct Lexicon {
    /// Multi-character words (folded), value: index into `logp`.
    words: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    /// Log probability of each word.
    logp: Vec<f32>,
    /// Log probability of single characters (folded).
    chars: HashMap<char, f32>,
    /// Log probability of an unknown single character.
    unknown: f32,
    /// Log probability given to a listed word.
    listed: f32,
}

/// The process-wide lexicon, built on first use.
pub(crate) fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(build)
}

fn build() -> Lexicon {
    let mut total = 0f64;
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut logp = Vec::new();
    let mut chars = HashMap::new();
    let mut entries = Vec::new();
    for line in LEXICON.lines() {
        if let Some(t) = line.strip_prefix("# total ") {
            total = t.trim().parse().unwrap_or(0.0);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut it = line.split(' ');
        if let (Some(w), Some(f)) = (it.next(), it.next().and_then(|f| f.parse::<f64>().ok())) {
            entries.push((fold_str(w), f));
        }
    }
    let total = total.max(1.0);
    let lp = |f: f64| (f / total).ln() as f32;
    for (w, f) in entries {
        let mut cs = w.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => {
                let e = chars.entry(c).or_insert(f32::MIN);
                *e = e.max(lp(f));
            }
            (Some(_), Some(_)) if !w.is_ascii() => {
                let next = logp.len() as u32;
                let id = *index.entry(w).or_insert(next);
                if id == next {
                    logp.push(lp(f));
                } else if let Some(p) = logp.get_mut(id as usize) {
                    *p = p.max(lp(f));
                }
            }
            _ => {}
        }
    }
    let words = CharwiseDoubleArrayAhoCorasick::with_values(index).ok();
    Lexicon {
        words,
        logp,
        chars,
        unknown: lp(1.0),
        listed: lp(LISTED_FREQ),
    }
}

/// Whether a separator (space, punctuation, symbol) was skipped inside
/// `start..end` of the folded text: a word is not written across one, so a
/// lexicon word spanning one is no candidate (`刷 单 价` has no `单价`).
fn spans_separator(folded: &FoldedText, start: usize, end: usize) -> bool {
    (start + 1..end).any(|p| folded.gap_at(p) & GAP_SEPARATOR != 0)
}

/// Reusable buffers of one segmentation.
#[derive(Debug, Default)]
pub(crate) struct Segments {
    /// The window's characters with their byte offsets.
    chars: Vec<(usize, char)>,
    /// Candidate segments: (from char, to char, log probability).
    edges: Vec<(usize, usize, f32)>,
    /// Best log probability of the rest from each character.
    best: Vec<f32>,
    /// Where the best segment from each character ends.
    next: Vec<usize>,
}

impl Lexicon {
    /// Whether a lexicon word (of two or more characters) contains the
    /// one-character match `span`.
    fn contained(&self, folded: &FoldedText, span: std::ops::Range<usize>) -> bool {
        let text = folded.as_str();
        const REACH: usize = 3;
        let (Some(before), Some(after)) = (text.get(..span.start), text.get(span.end..)) else {
            return false;
        };
        let a = span.start
            - before
                .chars()
                .rev()
                .take(REACH)
                .map(char::len_utf8)
                .sum::<usize>();
        let z = span.end + after.chars().take(REACH).map(char::len_utf8).sum::<usize>();
        let (Some(ac), Some(part)) = (&self.words, text.get(a..z)) else {
            return false;
        };
        ac.find_overlapping_iter(part).any(|m| {
            let (ms, me) = (a + m.start(), a + m.end());
            ms <= span.start && span.end <= me && !spans_separator(folded, ms, me)
        })
    }

    /// Whether a lexicon word around byte `edge` of `text` crosses it and
    /// also crosses out of `span` (starts before it and ends inside, or
    /// starts inside and ends after it).
    fn crossed(&self, folded: &FoldedText, edge: usize, span: std::ops::Range<usize>) -> bool {
        let text = folded.as_str();
        const REACH: usize = 3;
        let (Some(before), Some(after)) = (text.get(..edge), text.get(edge..)) else {
            return false;
        };
        let a = edge
            - before
                .chars()
                .rev()
                .take(REACH)
                .map(char::len_utf8)
                .sum::<usize>();
        let z = edge + after.chars().take(REACH).map(char::len_utf8).sum::<usize>();
        let (Some(ac), Some(part)) = (&self.words, text.get(a..z)) else {
            return false;
        };
        ac.find_overlapping_iter(part).any(|m| {
            let (ms, me) = (a + m.start(), a + m.end());
            let crosses = ms < edge && edge < me;
            let out_left = ms < span.start && me < span.end;
            let out_right = ms > span.start && me > span.end;
            crosses && (out_left || out_right) && !spans_separator(folded, ms, me)
        })
    }

    /// Whether the most probable segmentation of the folded text around
    /// `start..end` (byte offsets, a match of a listed word) has a segment
    /// that crosses an edge of the match without containing it.
    pub(crate) fn cuts(
        &self,
        folded: &FoldedText,
        start: usize,
        end: usize,
        seg: &mut Segments,
    ) -> bool {
        let text = folded.as_str();
        let (Some(before), Some(inner), Some(after)) =
            (text.get(..start), text.get(start..end), text.get(end..))
        else {
            return false;
        };
        let lead: usize = before.chars().rev().take(CONTEXT).map(char::len_utf8).sum();
        let tail: usize = after.chars().take(CONTEXT).map(char::len_utf8).sum();
        if lead == 0 && tail == 0 {
            return false;
        }
        // Only a lexicon word crossing an edge can make a segment cross it:
        // look for one in a few characters around each edge first (most
        // matches have none, and skip the segmentation).
        let single = inner.chars().nth(1).is_none();
        let suspect = if single {
            self.contained(folded, start..end)
        } else {
            self.crossed(folded, start, start..end) || self.crossed(folded, end, start..end)
        };
        if !suspect {
            return false;
        }
        let w0 = start - lead;
        let Some(window) = text.get(w0..end + tail) else {
            return false;
        };
        let Segments {
            chars,
            edges,
            best,
            next,
        } = seg;
        chars.clear();
        chars.extend(window.char_indices());
        let n = chars.len();
        let pos = |byte: usize| chars.partition_point(|&(b, _)| b < byte);
        let (ms, me) = (pos(lead), pos(lead + inner.len()));
        // Edges: (from char, to char, log probability).
        edges.clear();
        for (k, &(_, c)) in chars.iter().enumerate() {
            let p = self.chars.get(&c).copied().unwrap_or(self.unknown);
            let p = if single && k == ms {
                p.max(self.listed)
            } else {
                p
            };
            edges.push((k, k + 1, p));
        }
        let found = self
            .words
            .iter()
            .flat_map(|ac| ac.find_overlapping_iter(window));
        for m in found {
            if spans_separator(folded, w0 + m.start(), w0 + m.end()) {
                continue;
            }
            if let Some(&p) = self.logp.get(m.value() as usize) {
                let (a, z) = (pos(m.start()), pos(m.end()));
                let p = if (a, z) == (ms, me) {
                    p.max(self.listed)
                } else {
                    p
                };
                edges.push((a, z, p));
            }
        }
        if me - ms > 1 {
            edges.push((ms, me, self.listed));
        }
        // best[k]: log probability of the best segmentation of chars k..n.
        best.clear();
        best.resize(n + 1, f32::NEG_INFINITY);
        next.clear();
        next.resize(n + 1, n);
        best[n] = 0.0;
        edges.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
        for &(a, z, p) in edges.iter() {
            let score = p + best[z];
            if score > best[a] {
                best[a] = score;
                next[a] = z;
            }
        }
        let mut k = 0;
        while k < n {
            let z = next[k].max(k + 1);
            if single && k <= ms && me <= z && z - k > 1 {
                return true;
            }
            let crosses_start = k < ms && ms < z && z < me;
            let crosses_end = ms < k && k < me && me < z;
            if crosses_start || crosses_end {
                return true;
            }
            k = z;
        }
        false
    }
}

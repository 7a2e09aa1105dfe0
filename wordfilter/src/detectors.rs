//! Optional detectors run over the folded text: long digit runs (phone,
//! WeChat, QQ numbers) and URLs / domain-like tokens.

use crate::dictionary::Category;
use crate::fold::FoldedText;
use crate::numbers;
use crate::table::{GAP_COLON_SLASH, GAP_DOT, GAP_MEASURE, GAP_SEPARATOR, GAP_SILENT, GAP_SPACE};
use crate::verdict::{CONTACT, Hit, HitKind, URL};

/// Top-level domains accepted even when spaces surround the dot
/// (`example . com`).
const STRONG_TLDS: &[&str] = &[
    "com", "net", "org", "cn", "top", "xyz", "vip", "info", "shop", "site", "online", "club",
    "store", "wang", "ltd", "icu", "cc",
];

/// Top-level domains accepted only with a dot and no space (`t.me`): they
/// are also common short words.
const WEAK_TLDS: &[&str] = &[
    "io", "co", "me", "tv", "la", "so", "us", "uk", "hk", "tw", "jp", "ru", "de", "in", "biz",
    "pro", "fun", "live", "link", "app", "asia", "mobi", "ws",
];

/// Appends a [`CONTACT`] hit for every run of at least `min` ASCII digits in
/// the folded text. Noise between digits is skipped (`138-1234-5678`,
/// `1 3 8…`), but a run ends at a decimal point, a colon or slash, or a
/// currency or percent sign. A run is not contact when it is a quantity (a
/// price or count marker or a currency sign before it, a unit after it), a
/// labelled order or tracking number, or a date (`2024-12-25`; digits after
/// the date are a run of their own); a run shaped like a mobile number
/// (11 digits, `1[3-9]…`) is contact unless labelled.
/// `runs` is reusable scratch storage.
pub(crate) fn digit_runs(text: &FoldedText, min: usize, runs: &mut DigitRuns, out: &mut Vec<Hit>) {
    let b = text.as_str().as_bytes();
    let DigitRuns { digits, cuts } = runs;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        digits.clear();
        cuts.clear();
        let mut group = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if i > start {
                let gap = text.gap_at(i);
                if gap & (GAP_COLON_SLASH | GAP_MEASURE) != 0 || numbers::is_decimal_point(text, i)
                {
                    break;
                }
                if gap & !GAP_SILENT != 0 {
                    cuts.push((group, digits.len()));
                    group = digits.len();
                }
            }
            digits.push(b[i]);
            i += 1;
        }
        if digits.len() < min {
            continue;
        }
        cuts.push((group, digits.len()));
        let groups: Vec<&[u8]> = cuts.iter().filter_map(|&(a, z)| digits.get(a..z)).collect();
        let date = numbers::date_groups(&groups);
        let skip: usize = groups.iter().take(date).map(|g| g.len()).sum();
        let (rest, from) = (digits.get(skip..).unwrap_or(&[]), nth_digit(b, start, skip));
        if rest.len() < min || numbers::labelled_number(text, start) {
            continue;
        }
        let quantity = numbers::quantity_before(text, from) || numbers::quantity_after(text, i);
        if quantity && !numbers::is_mobile(rest) {
            continue;
        }
        push(text, from, i, CONTACT, HitKind::DigitRun, out);
    }
}

/// Reusable buffers of [`digit_runs`]: the digits of the current run and
/// where its groups (digits between two separators) end.
#[derive(Debug, Default)]
pub(crate) struct DigitRuns {
    digits: Vec<u8>,
    cuts: Vec<(usize, usize)>,
}

/// Byte position of the `n`-th digit at or after `start` (`n` = 0: `start`).
fn nth_digit(b: &[u8], start: usize, n: usize) -> usize {
    let mut seen = 0;
    for (k, d) in b.iter().enumerate().skip(start) {
        if d.is_ascii_digit() {
            if seen == n {
                return k;
            }
            seen += 1;
        }
    }
    start
}

/// An ASCII letter/digit run of the folded text with no separator inside.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Label {
    start: usize,
    end: usize,
}

/// Appends a [`URL`] hit for every `scheme://host`, `www.` host, and
/// `label.tld` chain (dots may be any dot-like character, or `点`).
/// `labels` is reusable scratch storage.
pub(crate) fn urls(text: &FoldedText, labels: &mut Vec<Label>, out: &mut Vec<Hit>) {
    let s = text.as_str();
    if text.all_gaps() & (GAP_DOT | GAP_COLON_SLASH) == 0 && !s.contains('点') {
        return;
    }
    let b = s.as_bytes();
    labels.clear();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() && b[i].is_ascii_alphanumeric() && text.gap_at(i) & GAP_SEPARATOR == 0 {
            i += 1;
        }
        labels.push(Label { start, end: i });
    }
    let word = |l: &Label| s.get(l.start..l.end).unwrap_or("");
    // How label `k` is joined to label `k - 1`: None, or Some(spaced).
    let dotted = |k: usize| -> Option<bool> {
        let (prev, cur) = (labels.get(k.checked_sub(1)?)?, labels.get(k)?);
        if prev.end == cur.start {
            let g = text.gap_at(cur.start);
            return (g & GAP_DOT != 0).then_some(g & GAP_SPACE != 0);
        }
        let between = s.get(prev.end..cur.start)?;
        let g = text.gap_at(prev.end) | text.gap_at(cur.start);
        (between == "点").then_some(g & GAP_SPACE != 0)
    };
    let mut k = 0;
    while k < labels.len() {
        let first = k;
        let scheme = matches!(word(&labels[k]), "http" | "https")
            && labels.get(k + 1).is_some_and(|n| {
                n.start == labels[k].end && text.gap_at(n.start) & GAP_COLON_SLASH != 0
            });
        if scheme {
            k += 1;
        }
        let chain_start = k;
        let mut has_tld = false;
        while let Some(spaced) = dotted(k + 1) {
            let tld = word(&labels[k + 1]);
            let ok = STRONG_TLDS.contains(&tld) || (!spaced && WEAK_TLDS.contains(&tld));
            if spaced && !ok {
                break;
            }
            has_tld |= ok;
            k += 1;
        }
        let www = k > chain_start && word(&labels[chain_start]) == "www";
        if scheme || has_tld || www {
            let (start, end) = (labels[first].start, labels[k].end);
            push(text, start, end, URL, HitKind::Url, out);
        }
        k += 1;
    }
}

fn push(text: &FoldedText, start: usize, end: usize, cat: &str, kind: HitKind, out: &mut Vec<Hit>) {
    if let Some(span) = text.original_span(start..end) {
        out.push(Hit {
            span,
            folded: start..end,
            category: Category::new(cat),
            kind,
        });
    }
}

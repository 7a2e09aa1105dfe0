//! Folding a text into its matching form ([`FoldedText`]): one pass over the
//! input with the fold table, keeping for every folded byte the original span
//! it came from and, per folded character, which kinds of noise were skipped
//! just before it.

use std::ops::Range;

use crate::table::{
    ASCII_SKIP, GAP_OTHER, GAP_SEPARATOR, GAP_SILENT, TAG_CHAR, TAG_IDENT, TAG_MASK, TAG_MULTI,
    TAG_SKIP, table,
};

/// A text in folded form plus the map back to the original.
///
/// Reuse one value (via [`FoldedText::fold_into`]) to fold many texts without
/// allocating on the hot path.
#[derive(Debug, Clone, Default)]
pub struct FoldedText {
    /// The folded text: lower-case ASCII letters and digits, simplified
    /// Chinese, other letters; no noise.
    text: String,
    /// Per folded byte: the original byte span `(start, end)` of the
    /// character that produced it.
    spans: Vec<(u32, u32)>,
    /// Per folded byte: gap bits of the noise skipped right before the folded
    /// character that starts at this byte (0 on continuation bytes).
    gaps: Vec<u8>,
    /// Gap bits of the noise after the last folded character.
    tail_gap: u8,
    /// Union of all gap bits seen (lets detectors skip texts quickly).
    all_gaps: u8,
    /// The text holds regional indicators (`🇨🇳`).
    regional: bool,
    /// An ASCII digit comes after an ASCII letter in the folded text.
    letter_digit: bool,
}

impl FoldedText {
    /// Creates an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds `text` (see the crate docs for the pipeline).
    pub fn fold(text: &str) -> Self {
        let mut f = Self::new();
        f.fold_into(text);
        f
    }

    /// Folds `src` into this buffer, replacing what it held. Texts longer than
    /// `u32::MAX` bytes are folded up to that length only. Regional
    /// indicators fold to their letters (`🇫🇺🇨🇰` reads `fuck`).
    pub fn fold_into(&mut self, src: &str) {
        self.fold_with(src, false);
    }

    /// Folds `src` with regional indicators as noise (a flag emoji between
    /// two characters, `傻🇨🇳逼`, reads as a separator).
    pub fn fold_flags_as_noise(&mut self, src: &str) {
        self.fold_with(src, true);
    }

    /// Whether the last text folded holds regional indicators.
    pub fn has_regional_indicators(&self) -> bool {
        self.regional
    }

    fn fold_with(&mut self, src: &str, flags_as_noise: bool) {
        self.text.clear();
        self.spans.clear();
        self.gaps.clear();
        self.all_gaps = 0;
        self.regional = false;
        self.text.reserve(src.len());
        let t = table();
        let bytes = src.as_bytes();
        let limit = bytes.len().min(u32::MAX as usize - 4);
        let mut gap = 0u8;
        let mut i = 0usize;
        let (mut seen_letter, mut letter_digit) = (false, false);
        while i < limit {
            let b = bytes[i];
            if b < 0x80 {
                let f = t.ascii[usize::from(b)];
                if f & ASCII_SKIP == 0 {
                    // A digit after a letter: a text for
                    // `read_digits_as_letters` to look at.
                    letter_digit |= seen_letter && f.is_ascii_digit();
                    seen_letter |= f.is_ascii_lowercase();
                    self.text.push(char::from(f));
                    self.spans.push((i as u32, i as u32 + 1));
                    self.gaps.push(gap);
                    gap = 0;
                } else {
                    self.skip(&mut gap, f & !ASCII_SKIP, i + 1);
                    self.all_gaps |= gap;
                }
                i += 1;
                continue;
            }
            let (c, len) = decode(bytes, i);
            let end = i + len;
            let e = t.entry(c);
            match e & TAG_MASK {
                TAG_IDENT => self.push_char(c, i, end, gap),
                TAG_CHAR if len == 4 && crate::maps::is_regional_indicator(c) => {
                    self.regional = true;
                    if flags_as_noise {
                        self.skip(&mut gap, GAP_OTHER, end);
                        self.all_gaps |= gap;
                        i = end;
                        continue;
                    }
                    let o = char::from_u32(e & !TAG_MASK).unwrap_or(c);
                    self.push_char(o, i, end, gap);
                }
                TAG_CHAR => {
                    let o = char::from_u32(e & !TAG_MASK).unwrap_or(c);
                    self.push_char(o, i, end, gap);
                }
                TAG_MULTI => {
                    let s = t.expansions.get((e & !TAG_MASK) as usize);
                    for (k, o) in s.map_or("", |s| s).chars().enumerate() {
                        self.push_char(o, i, end, if k == 0 { gap } else { 0 });
                    }
                }
                TAG_SKIP => {
                    self.skip(&mut gap, (e & !TAG_MASK) as u8, end);
                    self.all_gaps |= gap;
                    i = end;
                    continue;
                }
                _ => {}
            }
            gap = 0;
            i = end;
        }
        self.tail_gap = gap;
        self.letter_digit = letter_digit;
    }

    #[inline]
    fn push_char(&mut self, c: char, start: usize, end: usize, gap: u8) {
        let n = c.len_utf8();
        self.text.push(c);
        let span = (start as u32, end as u32);
        for k in 0..n {
            self.spans.push(span);
            self.gaps.push(if k == 0 { gap } else { 0 });
        }
    }

    /// Records a skipped character; an invisible one directly after a folded
    /// character (a combining mark, say) is absorbed into its span.
    #[inline]
    fn skip(&mut self, gap: &mut u8, bits: u8, end: usize) {
        if bits == GAP_SILENT
            && *gap == 0
            && let Some(last) = self.spans.last_mut()
        {
            last.1 = end as u32;
        }
        *gap |= bits;
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length of the folded text in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the folded text is empty (the input was empty or all noise).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Reads digits used as letters inside a Latin word (`sh1t`, `b1tch`,
    /// `f4ck`, `a55hole`) as the letters they look like (`0 1 3 4 5 7` →
    /// `o i e a s t`), in place: a run of such digits counts when an ASCII
    /// letter stands on both sides with no separator in between. Digits at
    /// the edge of a token (`a55`, `mp3`, `5s`) and numbers stay as they are.
    /// Returns whether anything changed (spans and gaps are unchanged: one
    /// ASCII byte for another).
    pub fn read_digits_as_letters(&mut self) -> bool {
        let leet = |d: u8| match d {
            b'0' => Some(b'o'),
            b'1' => Some(b'i'),
            b'3' => Some(b'e'),
            b'4' => Some(b'a'),
            b'5' => Some(b's'),
            b'7' => Some(b't'),
            _ => None,
        };
        if !self.letter_digit {
            return false;
        }
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        let joined = |gaps: &[u8], k: usize| gaps.get(k).is_some_and(|g| g & GAP_SEPARATOR == 0);
        let mut changed = false;
        let mut i = 1;
        while i < bytes.len() {
            if !bytes[i - 1].is_ascii_lowercase()
                || leet(bytes[i]).is_none()
                || !joined(&self.gaps, i)
            {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < bytes.len() && leet(bytes[j]).is_some() && joined(&self.gaps, j) {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_lowercase() && joined(&self.gaps, j) {
                for b in &mut bytes[i..j] {
                    *b = leet(*b).unwrap_or(*b);
                }
                changed = true;
            }
            i = j.max(i + 1);
        }
        // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
        self.text = String::from_utf8(bytes).unwrap_or_default();
        changed
    }

    /// Maps a byte range of the folded text back to the byte range of the
    /// original text that produced it. Returns `None` for an empty or
    /// out-of-range range.
    pub fn original_span(&self, folded: Range<usize>) -> Option<Range<usize>> {
        if folded.start >= folded.end {
            return None;
        }
        let (start, _) = *self.spans.get(folded.start)?;
        let (_, end) = *self.spans.get(folded.end - 1)?;
        Some(start as usize..end as usize)
    }

    /// Gap bits before the folded character starting at `pos` (or after the
    /// last one when `pos == len`).
    pub(crate) fn gap_at(&self, pos: usize) -> u8 {
        self.gaps.get(pos).copied().unwrap_or(self.tail_gap)
    }

    /// Whether the folded byte at `pos` came from a one-byte (ASCII)
    /// character of the original text.
    pub(crate) fn is_ascii_source(&self, pos: usize) -> bool {
        self.spans.get(pos).is_some_and(|&(a, b)| b - a == 1)
    }

    /// Union of the gap bits of every skipped character.
    pub(crate) fn all_gaps(&self) -> u8 {
        self.all_gaps
    }

    /// Whether `folded[start..end]` (a pure-ASCII match) stands on word
    /// boundaries: the folded neighbour on each side is not an ASCII letter
    /// (nor a digit, when the match begins/ends with a digit), unless a
    /// separator (space, punctuation, symbol) was skipped in between.
    pub(crate) fn is_ascii_word(&self, start: usize, end: usize) -> bool {
        let b = self.text.as_bytes();
        let joined = |outer: Option<&u8>, inner: Option<&u8>| match (outer, inner) {
            (Some(o), Some(i)) => {
                o.is_ascii_lowercase() || (o.is_ascii_digit() && i.is_ascii_digit())
            }
            _ => false,
        };
        let left = start > 0
            && self.gap_at(start) & GAP_SEPARATOR == 0
            && joined(b.get(start - 1), b.get(start));
        let right = end < b.len()
            && self.gap_at(end) & GAP_SEPARATOR == 0
            && end > 0
            && joined(b.get(end), b.get(end - 1));
        !left && !right
    }
}

/// Folds a word or keyword into the form matched against folded text (the
/// lottery crate uses this for keyword comments).
pub fn fold_str(s: &str) -> String {
    FoldedText::fold(s).text
}

/// Decodes the (valid UTF-8) character starting at `i`.
#[inline]
fn decode(b: &[u8], i: usize) -> (char, usize) {
    let at = |k: usize| u32::from(b.get(i + k).copied().unwrap_or(0x80) & 0x3F);
    let b0 = u32::from(b[i]);
    let (cp, len) = if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | at(1), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | (at(1) << 6) | at(2), 3)
    } else {
        (
            ((b0 & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3),
            4,
        )
    };
    (char::from_u32(cp).unwrap_or('\u{FFFD}'), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_matches_std() {
        let s = "aé中𝐟😀";
        for (i, c) in s.char_indices().filter(|(_, c)| !c.is_ascii()) {
            assert_eq!(decode(s.as_bytes(), i), (c, c.len_utf8()));
        }
    }

    #[test]
    fn spans_map_back_to_original() {
        let f = FoldedText::fold("Ｆ.u");
        assert_eq!(f.as_str(), "fu");
        assert_eq!(f.original_span(0..2), Some(0..5));
        assert_eq!(f.original_span(1..1), None);
        assert_eq!(f.original_span(1..9), None);
    }
}

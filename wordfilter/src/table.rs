//! The per-character fold table: computed once per process (in a `OnceLock`)
//! from NFKC data, the look-alike maps and the traditional→simplified data,
//! then read by the hot loop with one array index per BMP character.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_security::confusable_detection::skeleton;

use crate::maps;
use crate::units;

/// Gap bit: an invisible character (zero-width, combining mark) was skipped.
pub(crate) const GAP_SILENT: u8 = 1;
/// Gap bit: white space was skipped.
pub(crate) const GAP_SPACE: u8 = 2;
/// Gap bit: a dot-like character was skipped.
pub(crate) const GAP_DOT: u8 = 4;
/// Gap bit: a colon or slash was skipped.
pub(crate) const GAP_COLON_SLASH: u8 = 8;
/// Gap bit: any other punctuation or symbol was skipped.
pub(crate) const GAP_OTHER: u8 = 16;
/// Gap bit: an ASCII comma was skipped (a thousands separator between
/// digits).
pub(crate) const GAP_COMMA: u8 = 32;
/// Gap bit: a currency or percent sign was skipped (`¥ $ € %`): a number
/// next to one is a quantity.
pub(crate) const GAP_MEASURE: u8 = 64;
/// Gap bits that separate words (everything but [`GAP_SILENT`]).
pub(crate) const GAP_SEPARATOR: u8 =
    GAP_SPACE | GAP_DOT | GAP_COLON_SLASH | GAP_OTHER | GAP_COMMA | GAP_MEASURE;

/// Entry tag (top 3 bits of a `u32` entry): keep the character as it is.
pub(crate) const TAG_IDENT: u32 = 0;
/// Entry tag: replace by the single character in the low 21 bits.
pub(crate) const TAG_CHAR: u32 = 1 << 29;
/// Entry tag: replace by `expansions[low bits]`.
pub(crate) const TAG_MULTI: u32 = 2 << 29;
/// Entry tag: skip the character; the low bits are its gap bits.
pub(crate) const TAG_SKIP: u32 = 3 << 29;
/// Mask selecting the tag of an entry.
pub(crate) const TAG_MASK: u32 = 7 << 29;
/// ASCII entry flag: the byte is skipped, the low bits are its gap bits.
pub(crate) const ASCII_SKIP: u8 = 0x80;

/// The compiled fold table.
pub(crate) struct FoldTable {
    /// Output byte (lower-cased letter or digit) or `ASCII_SKIP | gap bits`.
    pub(crate) ascii: [u8; 128],
    /// One entry per BMP code point.
    pub(crate) bmp: Box<[u32]>,
    /// Entries for supplementary-plane characters that are not identity.
    pub(crate) astral: HashMap<char, u32>,
    /// Replacement strings for `TAG_MULTI` entries.
    pub(crate) expansions: Vec<Box<str>>,
}

impl FoldTable {
    /// Entry for a non-ASCII character.
    #[inline]
    pub(crate) fn entry(&self, c: char) -> u32 {
        match self.bmp.get(c as usize) {
            Some(&e) => e,
            None => self.astral.get(&c).copied().unwrap_or(TAG_IDENT),
        }
    }
}

/// The process-wide fold table, built on first use.
pub(crate) fn table() -> &'static FoldTable {
    static TABLE: OnceLock<FoldTable> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// What folding one character yields.
enum Fold {
    Ident,
    Out(String),
    Skip(u8),
}

fn build() -> FoldTable {
    let t2s = crate::t2s::map();
    let mut expansions = Vec::new();
    let mut encode = |f: Fold| -> u32 {
        match f {
            Fold::Ident => TAG_IDENT,
            Fold::Skip(g) => TAG_SKIP | u32::from(g),
            Fold::Out(s) => {
                let mut it = s.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => TAG_CHAR | c as u32,
                    _ => {
                        expansions.push(s.into_boxed_str());
                        TAG_MULTI | (expansions.len() as u32 - 1)
                    }
                }
            }
        }
    };
    let mut ascii = [0u8; 128];
    for (b, slot) in ascii.iter_mut().enumerate() {
        let c = char::from(b as u8);
        *slot = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase() as u8
        } else {
            ASCII_SKIP | gap_class(c)
        };
    }
    let mut bmp = vec![TAG_IDENT; 0x1_0000].into_boxed_slice();
    for (cp, slot) in bmp.iter_mut().enumerate().skip(0x80) {
        if let Some(c) = char::from_u32(cp as u32) {
            *slot = encode(fold_char(c, &t2s));
        }
    }
    let mut astral = HashMap::new();
    let planes = (0x1_0000u32..0x3_0000).chain(0xE_0000..0xE_1000);
    for c in planes.filter_map(char::from_u32) {
        let f = fold_char(c, &t2s);
        if !matches!(f, Fold::Ident) {
            astral.insert(c, encode(f));
        }
    }
    FoldTable {
        ascii,
        bmp,
        astral,
        expansions,
    }
}

/// Folds one (non-ASCII) character: special digit forms, then NFKD with
/// combining marks dropped and recomposed (NFC), then look-alike mapping
/// (the hand maps, then the Unicode confusables skeleton), lower-casing,
/// traditional→simplified, Chinese numerals; CJK separators, letter-like
/// symbols and unit signs are noise, and so is anything that is not
/// alphanumeric afterwards.
fn fold_char(c: char, t2s: &HashMap<char, char>) -> Fold {
    if maps::is_invisible(c) {
        return Fold::Skip(GAP_SILENT);
    }
    if maps::is_cjk_separator(c) {
        return Fold::Skip(GAP_OTHER);
    }
    if let Some(n) = maps::special_number(c).or_else(|| maps::script_digit(c)) {
        return Fold::Out(n.to_string());
    }
    if let Some(l) = maps::special_letter(c) {
        return Fold::Out(l.to_string());
    }
    let mut base = String::new();
    decompose_compatible(c, |d| {
        if !is_combining_mark(d) {
            base.push(d);
        }
    });
    if maps::is_symbol_noise(c, &base) {
        return Fold::Skip(gap_class(c));
    }
    let mut out = String::new();
    for r in base.nfc() {
        if maps::is_cjk_separator(r) {
            continue;
        }
        if let Some(l) = maps::confusable_upper(r) {
            out.push(l);
            continue;
        }
        for l in r.to_lowercase() {
            let l = maps::confusable_lower(l).unwrap_or(l);
            let l = t2s.get(&l).copied().unwrap_or(l);
            let l = maps::chinese_digit(l).unwrap_or(l);
            let l = if l.is_ascii() {
                l
            } else {
                confusable_skeleton(l)
                    .or_else(|| confusable_skeleton(r))
                    .unwrap_or(l)
            };
            if l.is_alphanumeric() && !maps::is_invisible(l) {
                out.push(l);
            }
        }
    }
    let mut it = out.chars();
    match (it.next(), it.next()) {
        (None, _) => Fold::Skip(gap_class(c)),
        (Some(o), None) if o == c => Fold::Ident,
        _ => Fold::Out(out),
    }
}

/// The plain Latin letter or digit a non-ASCII, non-Han character is
/// confusable with, per the Unicode confusables data (UTS #39 skeleton,
/// combining marks dropped), lower-cased.
fn confusable_skeleton(c: char) -> Option<char> {
    if c.is_ascii() || is_han(c) || !c.is_alphanumeric() {
        return None;
    }
    let mut buf = [0; 4];
    let mut it = skeleton(c.encode_utf8(&mut buf)).filter(|d| !is_combining_mark(*d));
    match (it.next(), it.next()) {
        (Some(d), None) if d.is_ascii_alphanumeric() => Some(d.to_ascii_lowercase()),
        _ => None,
    }
}

/// CJK ideographs (and the Kangxi / supplementary radicals): never mapped
/// to a Latin look-alike.
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x2FDF | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Gap bits for a skipped character.
fn gap_class(c: char) -> u8 {
    if is_combining_mark(c) || maps::is_invisible(c) {
        return GAP_SILENT;
    }
    let class = |d: char| {
        if d.is_whitespace() {
            GAP_SPACE
        } else if maps::is_dot_like(d) {
            GAP_DOT
        } else if maps::is_colon_slash(d) {
            GAP_COLON_SLASH
        } else if d == ',' {
            GAP_COMMA
        } else if units::is_measure_sign(d) {
            GAP_MEASURE
        } else if is_combining_mark(d) {
            0
        } else {
            GAP_OTHER
        }
    };
    let bits = class(c);
    if bits != GAP_OTHER {
        return bits;
    }
    let mut decomposed = 0;
    decompose_compatible(c, |d| decomposed |= class(d));
    if decomposed & !GAP_OTHER != 0 {
        decomposed & !GAP_OTHER
    } else {
        GAP_OTHER
    }
}

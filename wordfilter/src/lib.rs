//! Evasion-resistant sensitive-word filter: a per-character fold table plus
//! Aho–Corasick matching over the folded text, sans-I/O (no clock, no
//! network, no async runtime).
//!
//! # Using it
//!
//! ```
//! use wordfilter::{Dictionary, Policy, Scanner, Verdict};
//!
//! let mut global = Dictionary::builder();
//! global.word("fuck", "abuse").word("微信", "contact").allow("fuckin' good");
//! let global = global.build()?;
//! let room = Dictionary::builder().word("竞品", "ads").build()?;
//!
//! let mut scanner = Scanner::new(); // one per worker; reused for every comment
//! let v = scanner.check("加 威 信 ①③⑧", &[&global, &room], &Policy::block().with_digit_runs(3));
//! assert!(matches!(v, Verdict::Blocked { .. }));
//! let v = scanner.check("ｆ.u.c.k 你", &[&global, &room], &Policy::mask());
//! assert_eq!(v, Verdict::Masked { text: "******* 你".into(), categories: vec!["abuse".into()] });
//! # Ok::<(), wordfilter::BuildError>(())
//! ```
//!
//! Hot reload: keep each dictionary in a [`FilterHandle`]; build the new one
//! aside ([`FilterHandle::reload`]) and it is swapped in atomically.
//!
//! # The fold pipeline
//!
//! Text and dictionary words go through the same table, so a word matches
//! every spelling that folds like it. Per character of the input:
//!
//! 1. ASCII: letters are lower-cased, digits kept, everything else is noise.
//! 2. Dingbat/negative circled digits (`➃ ⓿ ❶`) and decimal digits of other
//!    scripts become ASCII digits.
//! 3. Compatibility decomposition (NFKD), combining marks dropped, then
//!    recomposed: full-width forms, enclosed and styled letters (`Ⓕ ⒦ 𝐟`),
//!    superscripts, `① ⑸ ⒋ ㈤ ㊄`, ligatures and accents (`é` → `e`).
//! 4. Look-alike letters of other scripts become Latin (Cyrillic `а е о р с х`,
//!    Greek `ο ν`, small capitals…), then lower case.
//! 5. Traditional Chinese becomes simplified (OpenCC single characters).
//! 6. Chinese numerals `零〇一二三…九`, financial forms `壹贰叁肆…` and `幺`
//!    become ASCII digits. This applies to dictionary words as well, so a word
//!    containing `二` still matches (`二维码` matches `2维码` and `贰维码` too);
//!    a word made only of numerals (`六四`) behaves like the digits `64`.
//!    `十 百 千 万 两` are not folded.
//! 7. What is not alphanumeric afterwards (spaces, punctuation, symbols,
//!    emoji, zero-width and format characters, combining marks) is noise: it
//!    is skipped, but the kind of noise is remembered between the folded
//!    characters, and every folded byte keeps the byte span of the original
//!    character it came from (for masking).
//!
//! The table is built once per process (`OnceLock`): a dense array for the
//! BMP and a map for the other planes.
//!
//! # The boundary rule
//!
//! A word that is pure ASCII after folding only matches as a whole word: the
//! folded character just before (after) the match must not be an ASCII letter
//! (nor a digit, if the match begins (ends) with a digit), *unless a separator
//! was skipped in between* (space, punctuation, symbol; zero-width characters
//! and combining marks are not separators). So `ass` hits `you ass`, `a s s`,
//! `a.s.s` and `bad-ass`, but not `class`, `passage`, `assistant`
//! or `cl\u{200B}ass`; `cl ass` does hit, because there `ass` stands as its
//! own word. Non-ASCII words (Chinese) match anywhere.
//!
//! Allow-list words cancel the matches of their own dictionary that lie
//! entirely inside them; they have no boundary rule.
//!
//! # Data licence
//!
//! `data/ts_chars.txt` is derived from OpenCC's `TSCharacters.txt`
//! (Apache-2.0); see `DATA-LICENSES.md`.

mod detectors;
mod dictionary;
mod fold;
mod handle;
mod maps;
mod scan;
mod t2s;
mod table;
mod verdict;

pub use dictionary::{BuildError, Category, Dictionary, DictionaryBuilder};
pub use fold::{FoldedText, fold_str};
pub use handle::FilterHandle;
pub use scan::Scanner;
pub use verdict::{
    Action, CONTACT, DEFAULT_MIN_DIGIT_RUN, Hit, HitKind, Policy, URL, Verdict, mask,
};

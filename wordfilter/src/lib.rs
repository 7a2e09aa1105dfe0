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
//! 4. Look-alike letters of other scripts become Latin: a hand map (Cyrillic
//!    `а е о р с х`, Greek `ο ν`, small capitals `ᴀ ꜰ ꞯ` and other Latin
//!    variants that no data maps), then the Unicode confusables data (UTS #39
//!    skeleton via `unicode-security`: Cherokee `Ꮯ`, Lisu `ꓚ`, …) for any
//!    non-Han letter whose skeleton is one ASCII letter or digit; then lower
//!    case.
//! 5. Traditional Chinese becomes simplified (OpenCC single characters).
//! 6. Chinese numerals `零〇一二三…九`, financial forms `壹贰叁肆…` and `幺`
//!    become ASCII digits. This applies to dictionary words as well, so a word
//!    containing `二` still matches (`二维码` matches `2维码` and `贰维码` too);
//!    a word made only of numerals (`六四`) behaves like the digits `64`.
//!    `十 百 千 万 两` are not folded.
//! 7. Noise: CJK characters typed as separators (`丶 丨 丿 ー ㆍ ꞏ ヽ 〃`…),
//!    letter-like symbols and unit signs whose decomposition is not one
//!    letter (`™ ℃ ℡ № ㎏ ㎡ ㋿`), and whatever is not alphanumeric afterwards
//!    (spaces, punctuation, symbols, emoji, zero-width and format
//!    characters, combining marks). Regional indicators (`🇨🇳`) are read both
//!    ways: a text holding them is scanned once with them as letters
//!    (`🇫🇺🇨🇰`) and once with them as noise (`傻🇨🇳逼`). Noise is
//!    is skipped, but the kind of noise is remembered between the folded
//!    characters, and every folded byte keeps the byte span of the original
//!    character it came from (for masking).
//!
//! A text with digits inside a Latin word (`sh1t`, `b1tch`: a run of `0 1 3 4
//! 5 7` with an ASCII letter on both sides and no separator) is matched a
//! second time with those digits read as `o i e a s t`
//! ([`FoldedText::read_digits_as_letters`]); digits at a token's edge
//! (`a55`, `mp3`) and numbers stay digits.
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
//! # The number rule
//!
//! A word containing digits (after folding: `250`, `8964`, `六四`, `二维码`)
//! matches only a whole number that is not a quantity. At each edge of the
//! match that is a digit:
//!
//! - the neighbouring folded character must not be a digit joined to it
//!   (nothing, an invisible character, a dot, an ASCII comma, a colon or a
//!   slash between them): `250` does not hit `1250`, `2500`, `2.250`,
//!   `1/250`; a space or other punctuation separates numbers (`1 250` hits);
//! - the number must not be a quantity: no currency or percent sign next to
//!   it (`¥250`, `250%`), no price, count or label marker just before it
//!   (`满 减 价 第 约 共 号 存 量 数`…, see `units::is_quantity_marker`; spaces
//!   allowed between), no unit or measure word just after it (`元 块 克 斤 件
//!   个 号 码 折 米 年 月 日 点 路 室`…, see `units::is_unit`; spaces allowed
//!   between). An ASCII unit (`250g`, `250ml`) is already excluded by the
//!   boundary rule.
//!
//! Inside the match no joint of two numbers may lie between two digits: a
//! dot (decimal point) or a colon or slash (time, date, fraction) between
//! two ASCII digits, where the chain of digit groups joined by that kind of
//! joint has exactly two groups (`2.50`, `4.19`, `1,299.50`, `6/4`, `6:40`).
//! In a longer chain (`8.9.6.4`, `192.168.1.1`) or between other digit forms
//! (`六.四`, `⑧.⑨`) the joints are spelling noise. So `250` hits `你是250吧`,
//! `2 5 0` and `二五零`, but not `单价2.50元`, `250克` or `满250`; `419` does not
//! hit `4.19`; `64` does not hit `6/4`; `8964` hits `8,964` and `8.9.6.4`.
//!
//! # The lexicon rule
//!
//! A match of a word of two or more characters that is not pure ASCII is
//! checked against a Chinese lexicon with frequencies (jieba, MIT): the
//! text around the match (six folded characters each side) is segmented by
//! maximum probability, with the listed word given at least the
//! probability of a common word. If a segment of that segmentation crosses
//! an edge of the match without containing it, the match does not count:
//! `这个牙刷单价多少` segments as `这个|牙刷|单价|多少`, so `刷单` is not
//! there. A segment containing the whole match (`大麻花` around `大麻`) does
//! not cancel it: that is what allow-lists are for. Lexicon words are never
//! read across a separator (noise other than invisible characters), so a
//! word spelled out with noise between its characters is never cut. A one-character word
//! counts only where the best segmentation leaves it alone (`操` hits `我操`,
//! not `操作简单`).
//! [`DictionaryBuilder::lexicon`] turns the rule off for one dictionary.
//!
//! # Allow-lists
//!
//! An allow-list word cancels every match lying entirely inside one of its
//! occurrences, at that position only (`大麻花` cancels the `大麻` inside it,
//! not another `大麻` elsewhere in the comment); it has no boundary rule. A
//! dictionary's allow-list applies to its own matches and to those of the
//! dictionaries after it in the slice given to [`Scanner::scan`]: pass the
//! global dictionary first, and a global allow-list word applies in every
//! room, while a room's allow-list never cancels a global match.
//! Every dictionary includes the shipped default allow-list unless
//! [`DictionaryBuilder::default_allow`] turns it off
//! ([`default_allow_list`], `data/allow.txt`: reviewed compounds such as
//! `大麻花 刷单词 平台独 qq糖`).
//!
//! # Data licences
//!
//! `data/ts_chars.txt` is derived from OpenCC's `TSCharacters.txt`
//! (Apache-2.0); `data/lexicon.txt` from jieba's `dict.txt` (MIT); the
//! confusables come from Unicode's `confusables.txt` (Unicode License v3) as
//! embedded by the `unicode-security` crate; see `DATA-LICENSES.md`.

mod detectors;
mod dictionary;
mod fold;
mod handle;
mod lexicon;
mod maps;
mod numbers;
mod scan;
mod t2s;
mod table;
mod units;
mod verdict;

pub use dictionary::{BuildError, Category, Dictionary, DictionaryBuilder, default_allow_list};
pub use fold::{FoldedText, fold_str};
pub use handle::FilterHandle;
pub use scan::Scanner;
pub use verdict::{
    Action, CONTACT, DEFAULT_MIN_DIGIT_RUN, Hit, HitKind, Policy, URL, Verdict, mask,
};

/// Builds the process-wide tables (the fold table and the lexicon) now
/// rather than on the first check. A server calls it at start-up, off its
/// request path; calling it again costs nothing.
pub fn warm_up() {
    table::table();
    lexicon::lexicon();
}

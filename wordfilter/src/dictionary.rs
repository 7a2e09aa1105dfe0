//! Word lists compiled into an immutable [`Dictionary`]: every word and
//! allow-list word is folded with the same table as the text, deduplicated,
//! and put into one Aho–Corasick automaton. A match counts after the
//! boundary rule (ASCII words), the number rule (words with digits), the
//! lexicon's segmentation (Chinese words) and the allow-lists.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use daachorse::CharwiseDoubleArrayAhoCorasick;

use crate::fold::{FoldedText, fold_str};
use crate::lexicon::{Segments, lexicon};
use crate::numbers::whole_number;
use crate::verdict::{Hit, HitKind};

/// The shipped default allow-list (`data/allow.txt`): one word a line.
const DEFAULT_ALLOW: &str = include_str!("../data/allow.txt");

/// The words of the shipped default allow-list: ordinary compounds that
/// contain commonly listed words (`大麻花`, `刷单词`, `平台独家`…).
pub fn default_allow_list() -> impl Iterator<Item = &'static str> {
    DEFAULT_ALLOW
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// A category tag such as `"politics"`, `"ads"`, `"abuse"` or `"contact"`.
/// Cheap to clone; a block verdict names it instead of the word.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(Arc<str>);

impl Category {
    /// Creates a category tag.
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    /// The tag as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Category {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

/// Why a dictionary could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The word is made only of noise (spaces, punctuation, symbols) and
    /// would match everywhere or nowhere.
    #[error("word {word:?} folds to an empty string")]
    EmptyWord {
        /// The offending word as given.
        word: String,
    },
    /// The automaton could not be constructed (too large).
    #[error("cannot build the automaton: {0}")]
    Automaton(String),
}

/// Collects words and allow-list words, then compiles a [`Dictionary`].
#[derive(Debug, Clone)]
pub struct DictionaryBuilder {
    words: Vec<(String, Category)>,
    allow: Vec<String>,
    /// Apply the lexicon's segmentation to Chinese matches.
    lexicon: bool,
    /// Include the shipped default allow-list.
    default_allow: bool,
}

impl Default for DictionaryBuilder {
    fn default() -> Self {
        Self {
            words: Vec::new(),
            allow: Vec::new(),
            lexicon: true,
            default_allow: true,
        }
    }
}

impl DictionaryBuilder {
    /// Creates an empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sensitive word with its category.
    pub fn word(&mut self, word: &str, category: impl Into<Category>) -> &mut Self {
        self.words.push((word.to_owned(), category.into()));
        self
    }

    /// Adds an allow-list word: a match of this dictionary (or of a
    /// dictionary after it in the scan) lying entirely inside an occurrence
    /// of it is cancelled (e.g. allow `"assassin"`).
    pub fn allow(&mut self, word: &str) -> &mut Self {
        self.allow.push(word.to_owned());
        self
    }

    /// Includes the shipped default allow-list ([`default_allow_list`]) in
    /// the dictionary (the default) or leaves it out.
    pub fn default_allow(&mut self, on: bool) -> &mut Self {
        self.default_allow = on;
        self
    }

    /// Turns the lexicon rule for Chinese matches on (the default) or off.
    pub fn lexicon(&mut self, on: bool) -> &mut Self {
        self.lexicon = on;
        self
    }

    /// Compiles the dictionary. The builder is left untouched, so the same
    /// list can be edited and rebuilt for a hot reload.
    pub fn build(&self) -> Result<Dictionary, BuildError> {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let shipped: Vec<String> = if self.default_allow {
            default_allow_list().map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        let words = self.words.iter().map(|(w, c)| (w, Some(c)));
        let allow = self.allow.iter().chain(&shipped).map(|w| (w, None));
        for (word, category) in words.chain(allow) {
            let folded = fold_str(word);
            if folded.is_empty() {
                return Err(BuildError::EmptyWord { word: word.clone() });
            }
            let next = patterns.len() as u32;
            let id = *index.entry(folded.clone()).or_insert(next);
            if id == next {
                patterns.push(Pattern {
                    ascii_word: folded.is_ascii(),
                    digits: folded.bytes().any(|b| b.is_ascii_digit()),
                    han: !folded.is_ascii(),
                    category: category.cloned(),
                    allow: category.is_none(),
                });
            } else if category.is_none() {
                // The same folded form is both blocked and allowed: allow wins.
                patterns[id as usize].allow = true;
            }
        }
        let automaton = if index.is_empty() {
            None
        } else {
            let ac = CharwiseDoubleArrayAhoCorasick::with_values(index)
                .map_err(|e| BuildError::Automaton(e.to_string()))?;
            Some(ac)
        };
        Ok(Dictionary {
            automaton,
            patterns,
            words: self.words.len(),
            allowed: self.allow.len(),
            lexicon: self.lexicon,
        })
    }
}

/// One distinct folded pattern.
#[derive(Debug)]
struct Pattern {
    /// Pure ASCII after folding: matches only on word boundaries.
    ascii_word: bool,
    /// Contains a digit after folding: matches only whole numbers.
    digits: bool,
    /// Not all ASCII: subject to the lexicon rule.
    han: bool,
    /// Category of the first word that folded to this pattern.
    category: Option<Category>,
    /// Allow-list pattern: cancels the matches it covers.
    allow: bool,
}

/// An immutable compiled word list (sensitive words plus allow-list). Build a
/// new one aside and swap it in (see [`crate::FilterHandle`]) to reload.
pub struct Dictionary {
    automaton: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    patterns: Vec<Pattern>,
    words: usize,
    allowed: usize,
    lexicon: bool,
}

impl fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dictionary")
            .field("words", &self.words)
            .field("allowed", &self.allowed)
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Default for Dictionary {
    fn default() -> Self {
        Self::empty()
    }
}

impl Dictionary {
    /// A dictionary that matches nothing.
    pub fn empty() -> Self {
        Self {
            automaton: None,
            patterns: Vec::new(),
            words: 0,
            allowed: 0,
            lexicon: true,
        }
    }

    /// Starts a builder.
    pub fn builder() -> DictionaryBuilder {
        DictionaryBuilder::new()
    }

    /// Number of sensitive words it was built from.
    pub fn word_count(&self) -> usize {
        self.words
    }

    /// Number of allow-list words it was built from.
    pub fn allow_count(&self) -> usize {
        self.allowed
    }

    /// Appends this dictionary's hits in `text` to `out`, after the boundary
    /// rule, the number rule, the lexicon rule and the allow-lists: this
    /// dictionary's allow-list words are added to `scratch` first, and every
    /// allow-list occurrence there (this and earlier dictionaries of the
    /// scan) cancels the matches lying inside it.
    pub(crate) fn find_into(&self, text: &FoldedText, out: &mut Vec<Hit>, scratch: &mut Scratch) {
        let Some(ac) = &self.automaton else { return };
        scratch.candidates.clear();
        for m in ac.find_overlapping_iter(text.as_str()) {
            let Some(p) = self.patterns.get(m.value() as usize) else {
                continue;
            };
            let (start, end) = (m.start(), m.end());
            if p.allow {
                scratch.allowed.push((start, end));
            } else if (!p.ascii_word || text.is_ascii_word(start, end))
                && (!p.digits || whole_number(text, start, end))
            {
                scratch.candidates.push((start, end, m.value()));
            }
        }
        for &(start, end, id) in &scratch.candidates {
            let covered = scratch.allowed.iter().any(|&(a, b)| a <= start && end <= b);
            let Some(p) = self.patterns.get(id as usize) else {
                continue;
            };
            if covered
                || (self.lexicon
                    && p.han
                    && lexicon().cuts(text, start, end, &mut scratch.segments))
            {
                continue;
            }
            if let (Some(category), Some(span)) =
                (p.category.clone(), text.original_span(start..end))
            {
                out.push(Hit {
                    span,
                    folded: start..end,
                    category,
                    kind: HitKind::Word,
                });
            }
        }
    }
}

/// Reusable per-scan storage for [`Dictionary::find_into`].
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    candidates: Vec<(usize, usize, u32)>,
    /// Allow-list occurrences of the dictionaries scanned so far.
    pub(crate) allowed: Vec<(usize, usize)>,
    /// Buffers of the lexicon rule.
    segments: Segments,
}

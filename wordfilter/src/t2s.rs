//! Traditional→simplified single-character data (derived from OpenCC's
//! `TSCharacters.txt`, Apache-2.0; see `DATA-LICENSES.md`), vendored under
//! `data/` and parsed once when the fold table is built.

use std::collections::HashMap;

/// The vendored pairs: lines of `traditional simplified` character pairs,
/// `#` lines are comments.
const TS_CHARS: &str = include_str!("../data/ts_chars.txt");

/// Parses the vendored data into a map from traditional to simplified.
pub(crate) fn map() -> HashMap<char, char> {
    let mut map = HashMap::with_capacity(4096);
    for line in TS_CHARS.lines().filter(|l| !l.starts_with('#')) {
        let mut chars = line.chars();
        while let (Some(t), Some(s)) = (chars.next(), chars.next()) {
            map.insert(t, s);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn data_parses_into_pairs() {
        let m = map();
        assert!(m.len() > 3000, "only {} pairs", m.len());
        assert_eq!(m.get(&'國'), Some(&'国'));
        assert_eq!(m.get(&'貳'), Some(&'贰'));
        assert_eq!(m.get(&'錢'), Some(&'钱'));
    }
}

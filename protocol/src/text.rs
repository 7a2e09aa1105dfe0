//! What a text shown to other viewers may hold: no bidirectional controls
//! (they reorder the text around them, e.g. to fake another user's
//! nickname) and at least one visible character (a comment of 100
//! zero-width spaces would be an invisible comment).

use unicode_normalization::char::is_combining_mark;

/// Bidirectional embedding, override and isolate controls:
/// U+202A–U+202E and U+2066–U+2069.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows nothing on its own: white space, a combining
/// mark (including variation selectors), a format character (zero-width
/// space and joiners, word joiner, soft hyphen, BOM, tags, bidi marks) or
/// a blank filler (Hangul fillers, braille blank).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_combining_mark(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether the text shows at least one character.
pub fn is_visible(text: &str) -> bool {
    text.chars().any(|c| !is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_texts_are_recognised() {
        assert!(is_visible("hi"));
        assert!(is_visible("好"));
        assert!(is_visible("👍\u{FE0F}"));
        assert!(is_visible("e\u{0301}"));
        assert!(!is_visible(""));
        assert!(!is_visible(" \t"));
        assert!(!is_visible(&"\u{200B}".repeat(100)));
        assert!(!is_visible("\u{0301}\u{0302}\u{0303}"));
        assert!(!is_visible("\u{3164}\u{2800}\u{FEFF}\u{2060}"));
        assert!(!is_visible("\u{E0041}\u{E0042}"));
    }

    #[test]
    fn bidi_controls_are_the_embedding_override_and_isolate_ones() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert!(is_bidi_control(c));
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert!(is_bidi_control(c));
        }
        assert!(!is_bidi_control('a'));
        assert!(!is_bidi_control('\u{200F}'));
    }
}

//! Notices (公告): the `push_notice` and `withdraw_notice` requests, the
//! `notice` event and the notice a join snapshot shows, and the text rule
//! (4..=34 Unicode scalar values).

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Rejection};
use crate::text::{is_bidi_control, is_visible};

/// Shortest notice, in Unicode scalar values (Rust `char`s).
pub const MIN_NOTICE_CHARS: usize = 4;
/// Longest notice, in Unicode scalar values.
pub const MAX_NOTICE_CHARS: usize = 34;

/// `push_notice`: show a notice to every viewer of the joined room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushNotice {
    /// The notice text: 4..=34 Unicode scalar values.
    pub text: String,
}

/// `withdraw_notice`: take the notice showing now down before its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawNotice {
    /// The notice to withdraw; absent: whichever is showing.
    #[serde(default)]
    pub notice: Option<u64>,
}

/// A notice as viewers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The notice's number in its room: 1 for the first push, then 2, ...
    pub id: u64,
    /// The text.
    pub text: String,
    /// When it was pushed, unix ms (server clock).
    pub pushed_at: i64,
    /// When it stops showing, unix ms (`pushed_at` + the show duration).
    pub until: i64,
}

/// What happened to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeAction {
    /// Pushed: show it until `until`.
    Pushed,
    /// Withdrawn before its time: stop showing it now.
    Withdrawn,
    /// Its time is over: stop showing it.
    Expired,
}

/// `notice` event (high lane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEvent {
    /// What happened.
    pub action: NoticeAction,
    /// The notice it happened to.
    pub notice: Notice,
}

/// `joined.notice`: the notice showing at the snapshot, with the time it
/// has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeShown {
    /// The notice.
    pub notice: Notice,
    /// Milliseconds it still shows, from the snapshot.
    pub remaining_ms: u64,
}

/// Validates a notice text: 4..=34 Unicode scalar values (a character
/// outside the Basic Multilingual Plane, such as most emoji, is one; an
/// emoji with a variation selector, a skin tone, a flag or a ZWJ sequence
/// is several), no control characters (line breaks included), no
/// bidirectional controls, at least one visible character.
pub fn check_notice_text(text: &str) -> Result<(), Rejection> {
    let chars = text.chars().count();
    if !(MIN_NOTICE_CHARS..=MAX_NOTICE_CHARS).contains(&chars)
        || text.chars().any(|c| c.is_control() || is_bidi_control(c))
        || !is_visible(text)
    {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!(
                "a notice has {MIN_NOTICE_CHARS}..={MAX_NOTICE_CHARS} characters (Unicode scalar \
                 values), no control or bidi characters, and something visible"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_texts_count_unicode_scalar_values() {
        assert!(check_notice_text("今晚八点").is_ok());
        assert!(check_notice_text("今晚八").is_err());
        assert!(check_notice_text(&"好".repeat(34)).is_ok());
        assert!(check_notice_text(&"好".repeat(35)).is_err());
        // One emoji outside the BMP is one scalar value...
        assert!(check_notice_text("👍👍👍👍").is_ok());
        // ...a flag is two, a family ZWJ sequence five.
        assert!(check_notice_text("🇨🇳🇨🇳").is_ok());
        assert_eq!("👨\u{200D}👩\u{200D}👧".chars().count(), 5);
        assert!(check_notice_text(&"👨\u{200D}👩\u{200D}👧".repeat(7)).is_err());
        assert!(check_notice_text("line\nbreak").is_err());
        assert!(check_notice_text("abc\u{202E}d").is_err());
        assert!(check_notice_text("\u{200B}\u{200B}\u{200B}\u{200B}").is_err());
    }
}

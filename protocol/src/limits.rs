//! Size limits on everything a client controls, and the checks that apply
//! them. Defaults match the platform (comments of at most 100 characters).

use crate::error::{ErrorCode, Rejection};
use crate::request::{ClientFrame, Request, RequestId};
use crate::text::{is_bidi_control, is_visible};

/// Limits validated on every decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted client frame, in bytes.
    pub max_frame_bytes: usize,
    /// Longest comment, in Unicode scalar values (characters).
    pub max_comment_chars: usize,
    /// Longest id (room id, user id, request id), in bytes.
    pub max_id_bytes: usize,
    /// Longest nickname, in characters.
    pub max_nick_chars: usize,
    /// Longest token, in bytes.
    pub max_token_bytes: usize,
    /// Most like taps one `like` request may carry.
    pub max_like_count: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 8 * 1024,
            max_comment_chars: 100,
            max_id_bytes: 64,
            max_nick_chars: 32,
            max_token_bytes: 2048,
            max_like_count: 100,
        }
    }
}

impl Limits {
    /// Refuses a frame longer than `max_frame_bytes` before decoding it.
    pub fn check_frame_len(&self, len: usize) -> Result<(), Rejection> {
        if len > self.max_frame_bytes {
            return Err(Rejection::new(
                ErrorCode::TooLarge,
                format!("frame of {len} bytes exceeds {}", self.max_frame_bytes),
            ));
        }
        Ok(())
    }

    /// Validates an id (room, user, epoch): 1..=`max_id_bytes` of ASCII
    /// letters, digits and `-_.:@+=~` ([`is_id_byte`]), so ids are safe in
    /// Redis keys (no `{`/`}`, which would break a Cluster hash tag; no `*`,
    /// the global audit scope), URL paths and logs.
    pub fn check_id(&self, what: &str, id: &str) -> Result<(), Rejection> {
        self.check_bytes(id, is_id_byte, || {
            format!(
                "{what} must be 1..={} ASCII letters, digits or -_.:@+=~",
                self.max_id_bytes
            )
        })
    }

    /// Validates a label (a word category): 1..=`max_id_bytes` printable
    /// ASCII characters without spaces.
    pub fn check_label(&self, what: &str, label: &str) -> Result<(), Rejection> {
        self.check_bytes(
            label,
            |b| b.is_ascii_graphic(),
            || {
                format!(
                    "{what} must be 1..={} printable ASCII characters without spaces",
                    self.max_id_bytes
                )
            },
        )
    }

    fn check_bytes(
        &self,
        s: &str,
        allowed: impl Fn(u8) -> bool,
        message: impl FnOnce() -> String,
    ) -> Result<(), Rejection> {
        if !s.is_empty() && s.len() <= self.max_id_bytes && s.bytes().all(allowed) {
            Ok(())
        } else {
            Err(Rejection::new(ErrorCode::Invalid, message()))
        }
    }

    /// Validates a nickname: bounded, free of control and bidi characters,
    /// and, unless empty, showing at least one visible character.
    pub fn check_nick(&self, nick: &str) -> Result<(), Rejection> {
        let bad = nick.chars().count() > self.max_nick_chars
            || nick.chars().any(|c| c.is_control() || is_bidi_control(c))
            || (!nick.is_empty() && !is_visible(nick));
        if bad {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "nickname must be at most {} characters, visible, without control or \
                     bidirectional characters",
                    self.max_nick_chars
                ),
            ));
        }
        Ok(())
    }

    /// Validates comment text: not blank, bounded, no control characters
    /// other than none at all (newlines are refused too).
    pub fn check_comment(&self, text: &str) -> Result<(), Rejection> {
        let chars = text.chars().count();
        if !is_visible(text) {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                "comment shows nothing (empty, blank, or only zero-width characters or marks)",
            ));
        }
        if chars > self.max_comment_chars {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "comment has {chars} characters, the limit is {}",
                    self.max_comment_chars
                ),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                "comment contains control characters",
            ));
        }
        if text.chars().any(is_bidi_control) {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                "comment contains bidirectional control characters (U+202A-U+202E, U+2066-U+2069)",
            ));
        }
        Ok(())
    }

    /// Whether a request id is within its length limit (1..=`max_id_bytes`).
    pub fn check_id_len(&self, id: &RequestId) -> bool {
        !id.0.is_empty() && id.0.len() <= self.max_id_bytes
    }

    /// Validates a whole decoded frame: its id and every field of its request.
    pub fn check_frame(&self, frame: &ClientFrame) -> Result<(), Rejection> {
        if let Some(id) = &frame.id
            && !self.check_id_len(id)
        {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!("request id must be 1..={} bytes", self.max_id_bytes),
            ));
        }
        match &frame.request {
            Request::Auth(a) if a.token.len() > self.max_token_bytes => Err(Rejection::new(
                ErrorCode::Invalid,
                format!("token longer than {} bytes", self.max_token_bytes),
            )),
            Request::Join(j) => {
                self.check_id("room", &j.room)?;
                if let Some(r) = &j.resume {
                    self.check_id("epoch", &r.epoch)?;
                }
                Ok(())
            }
            Request::Comment(c) => self.check_comment(&c.text),
            Request::Like(l) if l.count == 0 || l.count > self.max_like_count => {
                Err(Rejection::new(
                    ErrorCode::Invalid,
                    format!("like count must be 1..={}", self.max_like_count),
                ))
            }
            Request::Mute(m) => {
                self.check_id("user", &m.user)?;
                self.check_reason(m.reason.as_deref())
            }
            Request::DeleteComment(d) => self.check_reason(d.reason.as_deref()),
            Request::Unmute(m) => self.check_id("user", &m.user),
            Request::SetRole(r) => {
                self.check_id("user", &r.user)?;
                r.nick.as_deref().map_or(Ok(()), |n| self.check_nick(n))
            }
            Request::ReminderSubscribe(r) | Request::ReminderUnsubscribe(r) => {
                self.check_id("room", &r.room)
            }
            Request::SetPreview(p) => self.check_preview(&p.text, p.image_url.as_deref()),
            Request::PushNotice(n) => crate::notice::check_notice_text(&n.text),
            Request::Words(w) => {
                for e in &w.add {
                    self.check_word(&e.word)?;
                    self.check_label("category", &e.category)?;
                }
                w.remove.iter().try_for_each(|word| self.check_word(word))
            }
            Request::AllowWords(w) => w
                .add
                .iter()
                .chain(&w.remove)
                .try_for_each(|word| self.check_word(word)),
            Request::GoodsPut(g) => g.goods.check(self),
            Request::GoodsRemove(g) => self.check_id("goods", &g.goods),
            Request::GoodsSwitch(g) => self.check_id("goods", &g.goods),
            Request::GoodsClick(g) => self.check_id("goods", &g.goods),
            Request::CardPush(c) => {
                self.check_id("goods", &c.goods)?;
                match c.duration_s {
                    Some(s) if s == 0 || s > crate::commerce::MAX_CARD_S => Err(Rejection::new(
                        ErrorCode::Invalid,
                        format!("duration_s must be 1..={}", crate::commerce::MAX_CARD_S),
                    )),
                    _ => Ok(()),
                }
            }
            Request::Explain(e) => e
                .goods
                .as_deref()
                .map_or(Ok(()), |g| self.check_id("goods", g)),
            Request::GoodsReorder(r) => {
                if r.order.len() > crate::commerce::MAX_SHELF_IDS {
                    return Err(Rejection::new(
                        ErrorCode::Invalid,
                        format!("order lists at most {} ids", crate::commerce::MAX_SHELF_IDS),
                    ));
                }
                r.order.iter().try_for_each(|g| self.check_id("goods", g))
            }
            Request::Grab(g) => crate::commerce::check_grab(g, self),
            Request::CouponPush(c) => c.coupon.check(self),
            Request::CouponClaim(c) => {
                self.check_id("coupon", &c.coupon)?;
                self.check_id("key", &c.key)
            }
            _ => Ok(()),
        }
    }

    /// Validates a live preview: a text of 100..=500 characters, or an
    /// image (`http://` or `https://`, at most 2048 bytes, no spaces or
    /// control characters) with a text of at most 500; the text holds no
    /// control characters but line breaks, and no bidirectional controls.
    pub fn check_preview(&self, text: &str, image_url: Option<&str>) -> Result<(), Rejection> {
        let chars = text.chars().count();
        let bad_text = chars > MAX_PREVIEW_CHARS
            || (image_url.is_none() && chars < MIN_PREVIEW_CHARS)
            || text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || is_bidi_control(c));
        if bad_text {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "a preview text has {MIN_PREVIEW_CHARS}..={MAX_PREVIEW_CHARS} characters \
                     (at most {MAX_PREVIEW_CHARS} with an image), no control characters but line breaks"
                ),
            ));
        }
        if let Some(url) = image_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            let rest = url.split_once("://").map_or("", |(_, r)| r);
            if !scheme_ok
                || rest.is_empty()
                || url.len() > MAX_URL_BYTES
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Rejection::new(
                    ErrorCode::Invalid,
                    format!(
                        "image_url must be an http or https URL of at most {MAX_URL_BYTES} bytes"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Validates a moderation reason: at most 200 characters, no control characters.
    pub fn check_reason(&self, reason: Option<&str>) -> Result<(), Rejection> {
        match reason {
            Some(r)
                if r.chars().count() > MAX_REASON_CHARS
                    || r.chars().any(|c| c.is_control() || is_bidi_control(c)) =>
            {
                Err(Rejection::new(
                    ErrorCode::Invalid,
                    format!(
                        "reason must be at most {MAX_REASON_CHARS} characters without control \
                         or bidirectional characters"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Validates a sensitive word: 1..=32 characters, no control characters.
    pub fn check_word(&self, word: &str) -> Result<(), Rejection> {
        let n = word.chars().count();
        if n == 0 || n > MAX_WORD_CHARS || word.chars().any(char::is_control) {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "a word must be 1..={MAX_WORD_CHARS} characters without control characters"
                ),
            ));
        }
        Ok(())
    }
}

/// Whether a byte may appear in an id: ASCII letters, digits, `-_.:@+=~`.
pub fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.:@+=~".contains(&b)
}

/// Shortest text preview (without an image), in characters.
pub const MIN_PREVIEW_CHARS: usize = 100;
/// Longest preview text, in characters.
pub const MAX_PREVIEW_CHARS: usize = 500;
/// Longest URL a client may give (a preview image), in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Longest moderation reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// Longest sensitive word, in characters.
pub const MAX_WORD_CHARS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_limits_count_characters_not_bytes() {
        let l = Limits::default();
        assert!(l.check_comment(&"好".repeat(100)).is_ok());
        assert_eq!(
            l.check_comment(&"好".repeat(101)).unwrap_err().code,
            ErrorCode::Invalid
        );
        assert!(l.check_comment("   ").is_err());
        assert!(l.check_comment("a\u{0}b").is_err());
    }

    #[test]
    fn shown_texts_refuse_bidi_controls_and_invisible_content() {
        let l = Limits::default();
        assert!(l.check_comment("abc\u{202E}def").is_err());
        assert!(l.check_comment("x\u{2066}y").is_err());
        assert!(l.check_comment(&"\u{200B}".repeat(100)).is_err());
        assert!(l.check_comment("\u{0301}\u{0301}").is_err());
        assert!(l.check_comment("好\u{200B}").is_ok());
        assert!(l.check_nick("").is_ok());
        assert!(l.check_nick("Alice").is_ok());
        assert!(l.check_nick("evil\u{202E}nimda").is_err());
        assert!(l.check_nick("\u{200B}\u{200C}").is_err());
        assert!(l.check_reason(Some("spam\u{202E}")).is_err());
        assert!(l.check_reason(Some(&"r".repeat(200))).is_ok());
        assert!(l.check_reason(Some(&"r".repeat(201))).is_err());
    }

    #[test]
    fn ids_are_bounded_printable_ascii() {
        let l = Limits::default();
        assert!(l.check_id("room", "room-1").is_ok());
        assert!(l.check_id("room", "").is_err());
        assert!(l.check_id("room", "a b").is_err());
        assert!(l.check_id("room", "房间").is_err());
        assert!(l.check_id("room", &"x".repeat(65)).is_err());
        // Cluster hash tags, the global audit scope, URL paths.
        for bad in ["}x", "a}b", "{a}", "*", "a/b", "a?b", "a#b", "a%20", "a\"b"] {
            assert!(l.check_id("room", bad).is_err(), "{bad}");
        }
        for good in ["Room_1.a:b", "u@example.com", "a+b=c~d"] {
            assert!(l.check_id("room", good).is_ok(), "{good}");
        }
    }

    #[test]
    fn frame_length_is_checked_before_decoding() {
        let l = Limits::default();
        assert!(l.check_frame_len(8192).is_ok());
        assert_eq!(
            l.check_frame_len(8193).unwrap_err().code,
            ErrorCode::TooLarge
        );
    }
}

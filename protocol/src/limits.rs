//! Size limits on everything a client controls, and the checks that apply
//! them. Defaults match the platform (comments of at most 100 characters).

use crate::error::{ErrorCode, Rejection};
use crate::request::{ClientFrame, Request};

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

    /// Validates an id (room, user): non-empty, bounded, printable ASCII
    /// without spaces, so ids are safe in keys, URLs and logs.
    pub fn check_id(&self, what: &str, id: &str) -> Result<(), Rejection> {
        let ok = !id.is_empty()
            && id.len() <= self.max_id_bytes
            && id.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(())
        } else {
            Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "{what} must be 1..={} printable ASCII characters without spaces",
                    self.max_id_bytes
                ),
            ))
        }
    }

    /// Validates a nickname: bounded and free of control characters.
    pub fn check_nick(&self, nick: &str) -> Result<(), Rejection> {
        if nick.chars().count() > self.max_nick_chars || nick.chars().any(char::is_control) {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                format!(
                    "nickname must be at most {} characters without control characters",
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
        if text.trim().is_empty() {
            return Err(Rejection::new(ErrorCode::Invalid, "comment is empty"));
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
        Ok(())
    }

    /// Validates a whole decoded frame: its id and every field of its request.
    pub fn check_frame(&self, frame: &ClientFrame) -> Result<(), Rejection> {
        if let Some(id) = &frame.id
            && (id.0.is_empty() || id.0.len() > self.max_id_bytes)
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
            Request::Words(w) => {
                for e in &w.add {
                    self.check_word(&e.word)?;
                    self.check_id("category", &e.category)?;
                }
                w.remove.iter().try_for_each(|word| self.check_word(word))
            }
            _ => Ok(()),
        }
    }

    /// Validates a moderation reason: at most 200 characters, no control characters.
    pub fn check_reason(&self, reason: Option<&str>) -> Result<(), Rejection> {
        match reason {
            Some(r) if r.chars().count() > 200 || r.chars().any(char::is_control) => Err(
                Rejection::new(ErrorCode::Invalid, "reason must be at most 200 characters"),
            ),
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
    fn ids_are_bounded_printable_ascii() {
        let l = Limits::default();
        assert!(l.check_id("room", "room-1").is_ok());
        assert!(l.check_id("room", "").is_err());
        assert!(l.check_id("room", "a b").is_err());
        assert!(l.check_id("room", "房间").is_err());
        assert!(l.check_id("room", &"x".repeat(65)).is_err());
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

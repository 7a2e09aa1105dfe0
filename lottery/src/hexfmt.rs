//! Strict lowercase hex: the only text form of bytes in records and proofs.
//!
//! Decoding rejects uppercase digits on purpose: a record must have exactly
//! one textual form, so that flipping the case of a digit is a detectable
//! tamper rather than a silent equivalent.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Encodes bytes as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex of any even length; `None` on any other input.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let raw = text.as_bytes();
    if raw.len() & 1 == 1 {
        return None;
    }
    raw.chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// Decodes lowercase hex of exactly `N` bytes; `None` on any other input.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

/// Serde adapter for `[u8; N]` fields written as lowercase hex strings.
pub mod array {
    use super::*;

    /// Serializes a fixed-size byte array as lowercase hex.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(bytes))
    }

    /// Deserializes lowercase hex of exactly `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        decode_array(&text)
            .ok_or_else(|| D::Error::custom(format!("expected {N} bytes as lowercase hex")))
    }
}

/// Serde adapter for `Vec<[u8; 32]>` written as a list of lowercase hex strings.
pub mod hash_list {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Serializes a list of 32-byte hashes as lowercase hex strings.
    pub fn serialize<S: Serializer>(list: &[[u8; 32]], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(list.len()))?;
        for item in list {
            seq.serialize_element(&encode(item))?;
        }
        seq.end()
    }

    /// Deserializes a list of 32-byte hashes from lowercase hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<[u8; 32]>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|t| {
                decode_array(t)
                    .ok_or_else(|| D::Error::custom("expected 32 bytes as lowercase hex"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00abff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(decode("00ABff"), None);
        assert_eq!(decode("0"), None);
        assert_eq!(decode("zz"), None);
        assert_eq!(decode_array::<2>("abcd"), Some([0xab, 0xcd]));
        assert_eq!(decode_array::<2>("abcdef"), None);
    }
}

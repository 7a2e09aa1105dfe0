//! Standard Webhooks signatures: a secret is `whsec_` and the base64 of its
//! key bytes; a message is signed as
//! `v1,<base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"))>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Key bytes a secret may hold.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// The key bytes of a `whsec_` secret, or why it is not one.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret
        .strip_prefix("whsec_")
        .ok_or("a webhook secret starts with whsec_")?;
    let key = STANDARD
        .decode(b64)
        .map_err(|_| "a webhook secret is whsec_ and base64".to_string())?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(format!(
            "a webhook secret holds {} to {} bytes",
            KEY_BYTES.start(),
            KEY_BYTES.end()
        ));
    }
    Ok(key)
}

/// A fresh secret of 32 random bytes.
pub fn generate_secret() -> String {
    format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 32]>()))
}

/// The `webhook-signature` header value of one attempt.
pub fn signature(key: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_example_signs_as_published() {
        // The example of the Standard Webhooks reference libraries.
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_must_be_whsec_base64_of_enough_bytes() {
        assert!(parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(parse_secret("whsec_!!!").is_err());
        assert!(parse_secret("whsec_AAAA").is_err());
        assert_eq!(parse_secret(&generate_secret()).unwrap().len(), 32);
    }
}

//! Viewer tokens minted by the workers themselves (signed-in viewers):
//! HS256 with the gateway's `token_secret`, valid for an hour, so a run
//! of 15,000 signed-in viewers needs no 15,000 admin API calls. (Not the
//! gateway's `TokenKeys::mint`: the load tool does not link the gateway.)

use serde::Serialize;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    name: &'a str,
    iat: u64,
    exp: u64,
}

/// A token for `user` signed with `secret`; empty if signing failed (the
/// gateway then refuses it and the run reports failed joins).
pub fn mint(secret: &str, user: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = Claims {
        sub: user,
        name: user,
        iat: now,
        exp: now + 3600,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_gateway_accepts_a_minted_viewer_token() {
        let keys = gateway::auth::TokenKeys::new(b"s");
        let id = keys
            .verify(
                &super::mint("s", "lt-viewer-7"),
                &protocol::Limits::default(),
            )
            .expect("the gateway refused the token");
        assert_eq!(id.user, "lt-viewer-7");
        assert!(
            keys.verify(&super::mint("other", "x"), &protocol::Limits::default())
                .is_err()
        );
    }
}

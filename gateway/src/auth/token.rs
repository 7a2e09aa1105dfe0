//! HS256 JWT viewer tokens: the merchant backend signs them, the gateway
//! verifies them. Unsigned (`alg: none`), forged and expired tokens are
//! always refused.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use protocol::{ErrorCode, Limits, Rejection};
use serde::{Deserialize, Serialize};

/// Claims of a viewer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Nickname shown with comments.
    #[serde(default)]
    pub name: String,
    /// Whether the user passed real-name verification (needed to co-stream).
    #[serde(default)]
    pub real_name: bool,
    /// Expiry, unix seconds.
    pub exp: u64,
}

/// A verified user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub user: String,
    /// Nickname.
    pub nick: String,
    /// Real-name verified.
    pub real_name: bool,
}

/// Signing and verification keys derived from one shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys for an HS256 secret.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token for `user`, valid for `ttl_secs` from `now_secs`.
    pub fn mint(
        &self,
        user: &str,
        nick: &str,
        real_name: bool,
        now_secs: u64,
        ttl_secs: u64,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user.to_string(),
            name: nick.to_string(),
            real_name,
            exp: now_secs.saturating_add(ttl_secs),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies a token and the ids it carries.
    pub fn verify(&self, token: &str, limits: &Limits) -> Result<Identity, Rejection> {
        if token.len() > limits.max_token_bytes {
            return Err(Rejection::new(ErrorCode::TokenInvalid, "token too long"));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    Rejection::new(ErrorCode::TokenExpired, "token has expired")
                }
                _ => Rejection::new(ErrorCode::TokenInvalid, format!("token refused: {e}")),
            })?;
        let c = data.claims;
        limits
            .check_id("token sub", &c.sub)
            .map_err(|r| Rejection::new(ErrorCode::TokenInvalid, r.message))?;
        limits
            .check_nick(&c.name)
            .map_err(|r| Rejection::new(ErrorCode::TokenInvalid, r.message))?;
        let nick = if c.name.is_empty() {
            c.sub.clone()
        } else {
            c.name
        };
        Ok(Identity {
            user: c.sub,
            nick,
            real_name: c.real_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        crate::clock::now_ms() as u64 / 1000
    }

    #[test]
    fn a_minted_token_verifies() {
        let k = TokenKeys::new(b"secret");
        let t = k.mint("u1", "Ann", true, now(), 60).unwrap();
        let id = k.verify(&t, &Limits::default()).unwrap();
        assert_eq!(id.user, "u1");
        assert_eq!(id.nick, "Ann");
        assert!(id.real_name);
    }

    #[test]
    fn forged_expired_and_unsigned_tokens_are_refused() {
        let k = TokenKeys::new(b"secret");
        let other = TokenKeys::new(b"other");
        let forged = other.mint("u1", "", false, now(), 60).unwrap();
        assert_eq!(
            k.verify(&forged, &Limits::default()).unwrap_err().code,
            ErrorCode::TokenInvalid
        );
        let expired = k.mint("u1", "", false, now() - 3600, 60).unwrap();
        assert_eq!(
            k.verify(&expired, &Limits::default()).unwrap_err().code,
            ErrorCode::TokenExpired
        );
        // header {"alg":"none","typ":"JWT"}, payload {"sub":"u1","exp":9999999999}
        let unsigned =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(
            k.verify(unsigned, &Limits::default()).unwrap_err().code,
            ErrorCode::TokenInvalid
        );
        assert!(k.verify("garbage", &Limits::default()).is_err());
    }

    #[test]
    fn tokens_with_bad_ids_are_refused() {
        let k = TokenKeys::new(b"secret");
        let t = k.mint("has space", "", false, now(), 60).unwrap();
        assert!(k.verify(&t, &Limits::default()).is_err());
    }
}

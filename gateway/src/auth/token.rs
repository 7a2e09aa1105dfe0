//! HS256 JWT viewer tokens: the merchant backend signs them, the gateway
//! verifies them. Unsigned (`alg: none`), forged, expired, not-yet-valid and
//! too long-lived tokens are always refused, and so are tokens whose header
//! names extensions (`crit`) the gateway does not implement; the issuer and
//! audience are checked when configured.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use protocol::{ErrorCode, Limits, Rejection};
use serde::{Deserialize, Serialize};

/// Seconds of clock skew allowed between the signer and the gateway, on
/// `exp`, `nbf`, `iat` and the lifetime cap.
const LEEWAY_S: u64 = 5;

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
    /// Not valid before, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// What a token must satisfy beyond its signature and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Longest lifetime a token may have left (`exp` - now), in seconds.
    pub max_ttl_s: u64,
    /// Required `iss` (empty: not checked).
    pub issuer: String,
    /// Required `aud` (empty: not checked, any `aud` passes).
    pub audience: String,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            max_ttl_s: 7 * 24 * 3600,
            issuer: String::new(),
            audience: String::new(),
        }
    }
}

/// The claims a minted token carries: the viewer's, plus the configured
/// issuer and audience so that the gateway's own tokens pass its checks.
#[derive(Serialize)]
struct Minted<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    #[serde(skip_serializing_if = "str::is_empty")]
    iss: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    aud: &'a str,
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
    policy: TokenPolicy,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::TokenInvalid, message)
}

impl TokenKeys {
    /// Keys for an HS256 secret under the default policy.
    pub fn new(secret: &[u8]) -> Self {
        Self::with_policy(secret, TokenPolicy::default())
    }

    /// Keys for an HS256 secret under `policy`.
    pub fn with_policy(secret: &[u8], policy: TokenPolicy) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_S;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if !policy.issuer.is_empty() {
            validation.set_issuer(&[&policy.issuer]);
            required.push("iss");
        }
        if policy.audience.is_empty() {
            // RFC 7519 has a recipient refuse an `aud` that does not name
            // it; a gateway given no name of its own cannot tell, so it
            // accepts any (`token_audience` turns the check on).
            validation.validate_aud = false;
        } else {
            validation.set_audience(&[&policy.audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            policy,
        }
    }

    /// The longest lifetime a token may have, in seconds.
    pub fn max_ttl_s(&self) -> u64 {
        self.policy.max_ttl_s
    }

    /// Signs a token for `user`, issued at `now_secs` and valid for
    /// `ttl_secs`, with the configured issuer and audience.
    pub fn mint(
        &self,
        user: &str,
        nick: &str,
        real_name: bool,
        now_secs: u64,
        ttl_secs: u64,
    ) -> anyhow::Result<String> {
        anyhow::ensure!(
            ttl_secs <= self.policy.max_ttl_s,
            "ttl must be at most {} seconds (token_max_ttl_s)",
            self.policy.max_ttl_s
        );
        let claims = Claims {
            sub: user.to_string(),
            name: nick.to_string(),
            real_name,
            exp: now_secs.saturating_add(ttl_secs),
            nbf: None,
            iat: Some(now_secs),
        };
        let minted = Minted {
            claims: &claims,
            iss: &self.policy.issuer,
            aud: &self.policy.audience,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &minted,
            &self.encoding,
        )?)
    }

    /// Verifies a token and the ids it carries.
    pub fn verify(&self, token: &str, limits: &Limits) -> Result<Identity, Rejection> {
        if token.len() > limits.max_token_bytes {
            return Err(invalid("token too long"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("token refused: {e}")))?;
        if let Some(crit) = &header.crit {
            // No header extension is implemented, so every `crit` entry is
            // one this gateway does not understand (RFC 7515 §4.1.11).
            return Err(invalid(format!(
                "token refused: unsupported critical header parameters {crit:?}"
            )));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    Rejection::new(ErrorCode::TokenExpired, "token has expired")
                }
                ErrorKind::ImmatureSignature => invalid("token refused: not valid yet (nbf)"),
                _ => invalid(format!("token refused: {e}")),
            })?;
        let c = data.claims;
        let now = crate::clock::now_ms().max(0) as u64 / 1000;
        if c.iat.is_some_and(|iat| iat > now + LEEWAY_S) {
            return Err(invalid("token refused: issued in the future (iat)"));
        }
        if c.exp > now.saturating_add(self.policy.max_ttl_s.saturating_add(LEEWAY_S)) {
            return Err(invalid(format!(
                "token refused: lifetime over {} s",
                self.policy.max_ttl_s
            )));
        }
        limits
            .check_id("token sub", &c.sub)
            .map_err(|r| invalid(r.message))?;
        limits.check_nick(&c.name).map_err(|r| invalid(r.message))?;
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

    /// A token signed with `secret` over arbitrary claims and header.
    fn signed(secret: &[u8], header: Header, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn code(k: &TokenKeys, token: &str) -> Result<(), ErrorCode> {
        k.verify(token, &Limits::default())
            .map(|_| ())
            .map_err(|r| r.code)
    }

    #[test]
    fn nbf_and_iat_in_the_future_beyond_the_leeway_are_refused() {
        let k = TokenKeys::new(b"secret");
        let h = || Header::new(Algorithm::HS256);
        let t = now();
        let with = |claim: &str, at: u64| {
            let mut c = serde_json::json!({"sub": "u1", "exp": t + 600});
            c[claim] = at.into();
            signed(b"secret", h(), c)
        };
        for claim in ["nbf", "iat"] {
            assert_eq!(
                code(&k, &with(claim, t + 60)),
                Err(ErrorCode::TokenInvalid),
                "{claim}"
            );
            assert_eq!(
                code(&k, &with(claim, t + 2)),
                Ok(()),
                "{claim} within the leeway"
            );
            assert_eq!(
                code(&k, &with(claim, t - 60)),
                Ok(()),
                "{claim} in the past"
            );
        }
    }

    #[test]
    fn a_lifetime_over_the_cap_is_refused() {
        let k = TokenKeys::with_policy(
            b"secret",
            TokenPolicy {
                max_ttl_s: 3600,
                ..TokenPolicy::default()
            },
        );
        let t = now();
        let exp = |exp: u64| {
            signed(
                b"secret",
                Header::new(Algorithm::HS256),
                serde_json::json!({"sub": "u1", "exp": exp}),
            )
        };
        assert_eq!(code(&k, &exp(u64::MAX)), Err(ErrorCode::TokenInvalid));
        assert_eq!(code(&k, &exp(t + 7200)), Err(ErrorCode::TokenInvalid));
        assert_eq!(code(&k, &exp(t + 3600)), Ok(()));
        assert!(
            k.mint("u1", "", false, t, 3601).is_err(),
            "mint keeps the cap too"
        );
        // The default cap (7 days) refuses the unbounded `exp` as well.
        let d = TokenKeys::new(b"secret");
        assert_eq!(code(&d, &exp(u64::MAX)), Err(ErrorCode::TokenInvalid));
    }

    #[test]
    fn issuer_and_audience_are_checked_only_when_configured() {
        let t = now();
        let tok = |extra: serde_json::Value| {
            let mut c = serde_json::json!({"sub": "u1", "exp": t + 600});
            for (key, v) in extra.as_object().unwrap() {
                c[key] = v.clone();
            }
            signed(b"secret", Header::new(Algorithm::HS256), c)
        };
        let open = TokenKeys::new(b"secret");
        assert_eq!(
            code(&open, &tok(serde_json::json!({"aud": "anything"}))),
            Ok(())
        );
        assert_eq!(
            code(
                &open,
                &tok(serde_json::json!({"aud": ["a", "b"], "iss": "x"}))
            ),
            Ok(())
        );
        let strict = TokenKeys::with_policy(
            b"secret",
            TokenPolicy {
                issuer: "shop".into(),
                audience: "live".into(),
                ..TokenPolicy::default()
            },
        );
        let good = serde_json::json!({"iss": "shop", "aud": "live"});
        assert_eq!(code(&strict, &tok(good)), Ok(()));
        assert_eq!(
            code(
                &strict,
                &tok(serde_json::json!({"iss": "shop", "aud": ["x", "live"]}))
            ),
            Ok(())
        );
        for bad in [
            serde_json::json!({"iss": "shop"}),
            serde_json::json!({"aud": "live"}),
            serde_json::json!({"iss": "other", "aud": "live"}),
            serde_json::json!({"iss": "shop", "aud": "other"}),
        ] {
            assert_eq!(
                code(&strict, &tok(bad.clone())),
                Err(ErrorCode::TokenInvalid),
                "{bad}"
            );
        }
        // Its own tokens carry the issuer and audience.
        let minted = strict.mint("u1", "", false, t, 60).unwrap();
        assert_eq!(code(&strict, &minted), Ok(()));
        assert_eq!(code(&open, &minted), Ok(()));
    }

    #[test]
    fn a_header_with_critical_extensions_is_refused() {
        let k = TokenKeys::new(b"secret");
        let claims = serde_json::json!({"sub": "u1", "exp": now() + 600});
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["exp-ext".into()]);
        header.extras.insert("exp-ext", true);
        assert_eq!(
            code(&k, &signed(b"secret", header, claims.clone())),
            Err(ErrorCode::TokenInvalid)
        );
        let plain = signed(b"secret", Header::new(Algorithm::HS256), claims);
        assert_eq!(code(&k, &plain), Ok(()));
    }

    #[test]
    fn tokens_with_bad_ids_are_refused() {
        let k = TokenKeys::new(b"secret");
        let t = k.mint("has space", "", false, now(), 60).unwrap();
        assert!(k.verify(&t, &Limits::default()).is_err());
    }
}

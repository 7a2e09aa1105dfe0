//! Viewer tokens at the `/ws` upgrade, over a real WebSocket client: a
//! token the policy refuses gets `token_invalid` and close 4100, as a
//! forged one does; the issuer and audience are checked only when set.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use protocol::ErrorCode;
use serde_json::{Value, json};

fn now() -> u64 {
    gateway::clock::now_ms() as u64 / 1000
}

/// A token signed with the test secret over `claims` merged into a valid
/// base (`sub`, `exp` in 10 minutes).
fn token(header: Header, claims: Value) -> String {
    let mut c = json!({"sub": "alice", "exp": now() + 600});
    for (k, v) in claims.as_object().unwrap() {
        c[k] = v.clone();
    }
    let key = EncodingKey::from_secret(settings().token_secret.as_bytes());
    jsonwebtoken::encode(&header, &c, &key).unwrap()
}

fn hs256() -> Header {
    Header::new(Algorithm::HS256)
}

/// Connects with `token`: `Ok(user)` on `hello`, else the error code of the
/// refusal, after checking the close is 4100.
async fn outcome(gw: &TestGateway, token: &str) -> Result<String, ErrorCode> {
    let mut c = gw.connect_token(token).await;
    if let Some(h) = &c.hello {
        return Ok(h.user.clone().unwrap_or_default());
    }
    let code = error_code(&c.recv().await.unwrap()).unwrap();
    assert_eq!(c.closed_with().await, Some(4100));
    Err(code)
}

#[tokio::test]
async fn tokens_outside_the_policy_are_refused_with_4100() {
    let gw = TestGateway::start_with(|s| {
        s.token_issuer = "shop".into();
        s.token_audience = "live".into();
        s.token_max_ttl_s = 3600;
    })
    .await;
    let good = json!({"iss": "shop", "aud": "live"});
    assert_eq!(
        outcome(&gw, &token(hs256(), good.clone())).await,
        Ok("alice".into())
    );
    let mut crit = hs256();
    crit.crit = Some(vec!["b64".into()]);
    crit.extras.insert("b64", false);
    for (why, t) in [
        (
            "nbf in the future",
            token(
                hs256(),
                json!({"iss": "shop", "aud": "live", "nbf": now() + 120}),
            ),
        ),
        (
            "iat in the future",
            token(
                hs256(),
                json!({"iss": "shop", "aud": "live", "iat": now() + 120}),
            ),
        ),
        (
            "unbounded exp",
            token(
                hs256(),
                json!({"iss": "shop", "aud": "live", "exp": u64::MAX}),
            ),
        ),
        (
            "exp past the cap",
            token(
                hs256(),
                json!({"iss": "shop", "aud": "live", "exp": now() + 7200}),
            ),
        ),
        ("no issuer", token(hs256(), json!({"aud": "live"}))),
        (
            "another issuer",
            token(hs256(), json!({"iss": "other", "aud": "live"})),
        ),
        (
            "another audience",
            token(hs256(), json!({"iss": "shop", "aud": "other"})),
        ),
        ("unknown crit", token(crit, good.clone())),
    ] {
        assert_eq!(
            outcome(&gw, &t).await,
            Err(ErrorCode::TokenInvalid),
            "{why}"
        );
    }
    // The node's own tokens carry the configured issuer and audience.
    assert_eq!(outcome(&gw, &gw.token("bob")).await, Ok("bob".into()));
}

#[tokio::test]
async fn without_an_audience_configured_any_aud_is_accepted() {
    let gw = TestGateway::start().await;
    for aud in [json!("some-service"), json!(["a", "b"])] {
        let t = token(hs256(), json!({"aud": aud, "iss": "anyone"}));
        assert_eq!(outcome(&gw, &t).await, Ok("alice".into()), "{aud}");
    }
}

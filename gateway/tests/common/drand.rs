//! A real HTTP drand endpoint on 127.0.0.1:0 serving REAL recorded rounds
//! of drand's quicknet (public data: rounds 2 and 3 from Forest's tests,
//! 123 from drand-verify's), at `GET /{mode}/{chain hash}/public/{round}`
//! as drand's HTTP API answers them (`{round, randomness, signature}`).
//!
//! A round is served only under its own number: asked for any other round
//! the server answers 404, as drand does for a round it has not produced.
//! Tests therefore place a recorded round right after the lottery window
//! through the chain's genesis setting ([`genesis_for`]): quicknet is
//! unchained and signs SHA-256(u64be(round)), so a round's signature does
//! not depend on the genesis time or the period, and the record (which
//! carries the genesis it was announced with) still verifies.
//!
//! `mode` is what this endpoint does: `real` serves the recorded round,
//! `forged` serves another recorded round's signature (and its
//! randomness) under the number asked for, `down` answers 503.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Real quicknet rounds (round, signature hex), from
/// `api.drand.sh/52db…e971/public/{round}`.
pub const ROUNDS: [(u64, &str); 3] = [
    (
        2,
        "b6b6a585449b66eb12e875b64fcbab3799861a00e4dbf092d99e969a5eac57dd3f798acf61e705fe4f093db926626807",
    ),
    (
        3,
        "b3fab6df720b68cc47175f2c777e86d84187caab5770906f515ff1099cb01e4deaa027075d860823e49477b93c72bd64",
    ),
    (
        123,
        "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92",
    ),
];

/// The recorded signature of `round`.
pub fn signature(round: u64) -> Option<&'static str> {
    ROUNDS.iter().find(|(r, _)| *r == round).map(|(_, s)| *s)
}

/// One request as received: mode, chain hash, round, unix ms.
#[derive(Debug, Clone)]
pub struct Hit {
    pub mode: String,
    pub chain: String,
    pub round: u64,
    pub at_ms: i64,
}

#[derive(Clone, Default)]
pub struct Drand {
    hits: Arc<Mutex<Vec<Hit>>>,
    pub addr: Option<SocketAddr>,
}

impl Drand {
    pub async fn start() -> Drand {
        let mut d = Drand::default();
        let app = Router::new()
            .route("/{mode}/{chain}/public/{round}", get(handle))
            .with_state(d.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        d.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        d
    }

    /// The endpoint URL of `mode` (a setting `beacon_endpoints` entry).
    pub fn endpoint(&self, mode: &str) -> String {
        format!("http://{}/{mode}", self.addr.unwrap())
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

/// An endpoint URL where nothing listens (a port bound and released).
pub fn closed_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// The genesis (unix s) that puts `round` at `round_at_s` for `period_s`.
pub fn genesis_for(round: u64, round_at_s: u64, period_s: u32) -> u64 {
    round_at_s - (round - 1) * u64::from(period_s)
}

fn answer(round: u64, sig: &str) -> Value {
    let bytes = hex::decode(sig).unwrap();
    json!({
        "round": round,
        "randomness": hex::encode(Sha256::digest(&bytes)),
        "signature": sig,
    })
}

async fn handle(
    State(d): State<Drand>,
    Path((mode, chain, round)): Path<(String, String, u64)>,
) -> Result<Json<Value>, StatusCode> {
    d.hits.lock().unwrap().push(Hit {
        mode: mode.clone(),
        chain,
        round,
        at_ms: gateway::clock::now_ms(),
    });
    match mode.as_str() {
        "real" => signature(round)
            .map(|s| Json(answer(round, s)))
            .ok_or(StatusCode::NOT_FOUND),
        "forged" => {
            let other = ROUNDS.iter().find(|(r, _)| *r != round).unwrap();
            Ok(Json(answer(round, other.1)))
        }
        _ => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

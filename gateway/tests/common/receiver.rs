//! A real HTTP webhook receiver on 127.0.0.1:0 for the webhook tests. The
//! path names what it does with each attempt: `/ok/..` answers 200,
//! `/fail-N/..` 500 to the first N attempts and then 200, `/slow/..`
//! holds the first attempt 5 s and answers the next at once, `/gone/..`
//! 410, `/hold/..` holds the first attempt open for 120 s. It records
//! every attempt, and checks signatures with its own HMAC.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One attempt as received.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_string()
    }

    /// Checks `webhook-signature` with an HMAC computed here.
    pub fn assert_signed_with(&self, secret: &str) {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(self.signature, expected, "signature of {}", self.id);
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    attempts: HashMap<String, u32>,
}

#[derive(Clone, Default)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: Option<SocketAddr>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let mut r = Receiver::default();
        let app = Router::new()
            .route("/{plan}/{name}", post(handle))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        r.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        r
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr.unwrap())
    }

    /// Every attempt at `path` so far.
    pub fn got(&self, path: &str) -> Vec<Got> {
        let g = self.inner.lock().unwrap();
        g.got.iter().filter(|x| x.path == path).cloned().collect()
    }

    /// Waits (up to 20 s) until `ok` holds for the attempts at `path`.
    pub async fn until(&self, path: &str, ok: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.got(path);
            if ok(&got) {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path}: the receiver got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn handle(
    State(r): State<Receiver>,
    Path((plan, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let path = format!("/{plan}/{name}");
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let attempt = {
        let mut g = r.inner.lock().unwrap();
        g.got.push(Got {
            path: path.clone(),
            id: h("webhook-id"),
            timestamp: h("webhook-timestamp"),
            signature: h("webhook-signature"),
            body,
        });
        let n = g.attempts.entry(path).or_default();
        *n += 1;
        *n
    };
    match plan.as_str() {
        "ok" => StatusCode::OK,
        "gone" => StatusCode::GONE,
        "slow" | "hold" if attempt == 1 => {
            let hold = if plan == "slow" { 5 } else { 120 };
            tokio::time::sleep(Duration::from_secs(hold)).await;
            StatusCode::OK
        }
        "slow" | "hold" => StatusCode::NO_CONTENT,
        p => match p.strip_prefix("fail-").and_then(|n| n.parse::<u32>().ok()) {
            Some(n) if attempt <= n => StatusCode::INTERNAL_SERVER_ERROR,
            Some(_) => StatusCode::OK,
            None => StatusCode::NOT_FOUND,
        },
    }
}

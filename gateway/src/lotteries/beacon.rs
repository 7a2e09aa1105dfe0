//! Fetching a lottery's drand round: `GET {endpoint}/{chain hash}/public/{round}`
//! on the configured endpoints in order (settings `beacon_*`), each answer
//! checked before it is used (the round asked for, randomness =
//! SHA-256(signature), the BLS signature under the announced chain key). An
//! endpoint that is down, slow, or answers a wrong or forged round is
//! skipped; the draw retries until `beacon_deadline_ms` after the round's
//! time, then the lottery ends abnormal (`beacon_unavailable`).

use std::time::Duration;

use lottery::beacon::{BeaconChain, BeaconCommitment, BeaconRound, valid_public_key, verify_round};
use lottery::hexfmt;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;

/// Longest single request to one endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest deadline: below the 30 s takeover of a stalled draw.
pub const MAX_DEADLINE_MS: u64 = 25_000;
/// Pause between two fetch attempts of a draw (a timer pass each).
pub const RETRY_MS: i64 = 1000;

/// The beacon client of a node: the chain new lotteries commit to and the
/// endpoints draws fetch from.
pub struct BeaconClient {
    client: reqwest::Client,
    endpoints: Vec<String>,
    /// The chain new lotteries commit to.
    pub chain: BeaconChain,
    /// How long after the round's time a draw keeps trying.
    pub deadline_ms: u64,
}

/// A round as the drand HTTP API answers it.
#[derive(Deserialize)]
struct Answer {
    round: u64,
    randomness: String,
    signature: String,
}

impl BeaconClient {
    /// The client the settings describe; `None` with no endpoints (no
    /// beacon). Refuses settings that cannot work.
    pub fn from_settings(s: &Settings) -> anyhow::Result<Option<Self>> {
        let endpoints: Vec<String> = s
            .beacon_endpoints
            .split(',')
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty())
            .collect();
        if endpoints.is_empty() {
            return Ok(None);
        }
        for e in &endpoints {
            anyhow::ensure!(
                reqwest::Url::parse(e).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                "beacon_endpoints: {e:?} is not an http(s) URL"
            );
        }
        let chain_hash =
            hexfmt::decode_array::<32>(s.beacon_chain_hash.trim()).ok_or_else(|| {
                anyhow::anyhow!("beacon_chain_hash must be 32 bytes of lowercase hex")
            })?;
        let public_key = hexfmt::decode_array::<96>(s.beacon_public_key.trim())
            .filter(valid_public_key)
            .ok_or_else(|| {
                anyhow::anyhow!("beacon_public_key must be a compressed G2 point (96 bytes hex)")
            })?;
        anyhow::ensure!(s.beacon_period_s >= 1, "beacon_period_s must be at least 1");
        anyhow::ensure!(
            (1..=MAX_DEADLINE_MS).contains(&s.beacon_deadline_ms),
            "beacon_deadline_ms must be 1..={MAX_DEADLINE_MS}"
        );
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Some(BeaconClient {
            client,
            endpoints,
            chain: BeaconChain {
                chain_hash,
                public_key,
                genesis_s: s.beacon_genesis_s,
                period_s: s.beacon_period_s,
            },
            deadline_ms: s.beacon_deadline_ms,
        }))
    }

    /// Fetches the committed round from the first endpoint that answers it
    /// correctly; the error names what each endpoint did.
    pub async fn fetch(&self, b: &BeaconCommitment) -> Result<BeaconRound, String> {
        let mut why = vec![];
        for endpoint in &self.endpoints {
            match self.fetch_from(endpoint, b).await {
                Ok(round) => return Ok(round),
                Err(e) => why.push(format!("{endpoint}: {e}")),
            }
        }
        Err(why.join("; "))
    }

    async fn fetch_from(
        &self,
        endpoint: &str,
        b: &BeaconCommitment,
    ) -> Result<BeaconRound, String> {
        let url = format!(
            "{endpoint}/{}/public/{}",
            hexfmt::encode(&b.chain_hash),
            b.round
        );
        let resp = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > 4096 {
            return Err("answer too large".into());
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if answer.round != b.round {
            return Err(format!("answered round {} for {}", answer.round, b.round));
        }
        let signature = hexfmt::decode_array::<48>(&answer.signature)
            .ok_or("signature is not 48 bytes of lowercase hex")?;
        let randomness: [u8; 32] = Sha256::digest(signature).into();
        if hexfmt::encode(&randomness) != answer.randomness {
            return Err("randomness is not SHA-256(signature)".into());
        }
        if !verify_round(&b.public_key, b.round, &signature) {
            return Err("signature does not verify under the chain's public key".into());
        }
        Ok(BeaconRound {
            round: b.round,
            signature,
        })
    }
}

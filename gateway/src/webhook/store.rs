//! `WebhookStore`: the deployment's webhook endpoints and its durable
//! delivery queue. An attempt is claimed by one node for a while (the
//! claim); settling it needs the claim still to be the caller's, and a
//! claim that outlives its expiry (its node died) is handed to the next
//! node that asks. Both stores implement it (`memory.rs`, `redis.rs`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A receiver of webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Its id (the settings' endpoint is `settings`).
    pub id: String,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// Signing secret, `whsec_` + base64.
    pub secret: String,
    /// Event types it receives (`live.*` matches a prefix); empty: all.
    #[serde(default)]
    pub events: Vec<String>,
    /// Set when the receiver answered 410 Gone (or by the admin API): no
    /// delivery is attempted until it is enabled again.
    #[serde(default)]
    pub disabled: bool,
    /// Why it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

impl Endpoint {
    /// Whether this endpoint receives events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.is_empty()
            || self.events.iter().any(|e| match e.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => e == kind,
            })
    }
}

/// One event to deliver to one endpoint, with its attempts so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `<webhook-id>.<endpoint>`: unique in the queue and the dead letters.
    pub id: String,
    /// The `webhook-id` header: the same for every attempt and endpoint.
    pub msg: String,
    /// The endpoint's id.
    pub endpoint: String,
    /// The event type.
    pub kind: String,
    /// The signed body, exactly as sent.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the event was emitted (unix ms).
    pub created_ms: i64,
    /// What the last failed attempt got.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// An attempt a node holds the claim of.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The queue entry (a stream id on Redis).
    pub token: String,
    /// What to deliver.
    pub job: Job,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Delivered (2xx): gone from the queue.
    Done,
    /// Failed: the job (attempts counted) is due again at `due_ms`.
    Retry {
        /// Unix ms.
        due_ms: i64,
    },
    /// Failed for good: the job goes to the dead letters.
    Dead,
}

/// Webhook endpoints and the delivery queue.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Creates or replaces an endpoint.
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// Every endpoint, by id.
    async fn endpoints(&self) -> Result<Vec<Endpoint>, StoreError>;
    /// Removes an endpoint; whether there was one.
    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError>;
    /// Queues jobs, due now, in one atomic step.
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), StoreError>;
    /// Claims up to `max` due attempts for `consumer` until `now + claim_ms`:
    /// retries whose time has come, attempts whose claim expired (their node
    /// died), then new jobs.
    async fn claim(
        &self,
        consumer: &str,
        now: i64,
        max: usize,
        claim_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError>;
    /// Ends a claimed attempt with `job` as it now stands; false (nothing
    /// changed) when the claim is no longer `consumer`'s.
    async fn settle(
        &self,
        consumer: &str,
        claimed: &Claimed,
        job: &Job,
        how: Settle,
    ) -> Result<bool, StoreError>;
    /// Dead letters, oldest first, after the job id `after`, at most `limit`.
    async fn dead_letters(&self, after: Option<&str>, limit: usize)
    -> Result<Vec<Job>, StoreError>;
    /// Moves a dead letter back into the queue, due now, with its attempts
    /// reset; false when there is none of that id.
    async fn replay_dead(&self, id: &str) -> Result<bool, StoreError>;
}

//! The delivery worker every node runs: it claims due attempts from the
//! store (at most `webhook_concurrency` in flight), POSTs each signed,
//! and settles it. A 2xx answer is delivered; 410 Gone disables the
//! endpoint and makes the job a dead letter; anything else (another
//! status, a timeout, a refused connection) is retried after the next
//! pause of the schedule, ±20% jitter, until the schedule is used up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::sign;
use super::store::{Claimed, Endpoint, Settle};
use crate::clock::now_ms;
use crate::service::Node;

/// How an attempt went.
enum Outcome {
    Delivered,
    Gone,
    Failed(String),
}

/// Runs the node's delivery worker until shutdown.
pub async fn run(node: Arc<Node>) {
    let s = &node.settings;
    let slots = Arc::new(Semaphore::new(s.webhook_concurrency));
    let poll = Duration::from_millis(s.webhook_poll_ms);
    let mut shutdown = node.shutdown_signal();
    loop {
        let free = slots.available_permits();
        let mut full = false;
        if free > 0 {
            match node
                .webhook_store
                .claim(&s.node_id, now_ms(), free, s.webhook_claim_ms)
                .await
            {
                Ok(claimed) => {
                    full = claimed.len() == free;
                    for c in claimed {
                        let Ok(permit) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        let node = node.clone();
                        tokio::spawn(async move {
                            attempt(&node, c).await;
                            drop(permit);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook queue unreadable"),
            }
        }
        if full {
            // More may be due: ask again once a slot frees up.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = node.webhooks.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
        if node.is_shutting_down() {
            return;
        }
    }
}

/// One attempt of a claimed job, settled in the store.
async fn attempt(node: &Node, c: Claimed) {
    let endpoint = match node.webhook_endpoints().await {
        Ok(list) => list.into_iter().find(|e| e.id == c.job.endpoint),
        // The claim expires and the attempt is made again.
        Err(_) => return,
    };
    let mut job = c.job.clone();
    let outcome = match &endpoint {
        None => Outcome::Failed("endpoint deleted".into()),
        Some(e) if e.disabled => Outcome::Failed("endpoint disabled".into()),
        Some(e) => post(node, e, &job.msg, &job.body).await,
    };
    job.attempts += 1;
    let how = match outcome {
        Outcome::Delivered => {
            job.last_error = None;
            Settle::Done
        }
        Outcome::Gone => {
            job.last_error = Some("410 Gone: endpoint disabled".into());
            if let Some(e) = endpoint {
                disable(node, e).await;
            }
            Settle::Dead
        }
        Outcome::Failed(why) => {
            let gone = endpoint.as_ref().is_none_or(|e| e.disabled);
            job.last_error = Some(why);
            match node.webhooks.retry_ms.get(job.attempts as usize - 1) {
                Some(&pause) if !gone => Settle::Retry {
                    due_ms: now_ms() + jitter(pause) as i64,
                },
                _ => Settle::Dead,
            }
        }
    };
    let label = match &how {
        Settle::Done => "delivered",
        Settle::Retry { .. } => "retry",
        Settle::Dead => "dead",
    };
    node.metrics
        .webhook_attempts
        .get_or_create(&vec![("outcome", label)])
        .inc();
    tracing::info!(msg = %job.msg, endpoint = %job.endpoint, attempt = job.attempts,
        outcome = label, error = ?job.last_error, "webhook attempt");
    match node
        .webhook_store
        .settle(&node.settings.node_id, &c, &job, how)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(msg = %job.msg, "webhook claim was taken over meanwhile"),
        Err(e) => tracing::warn!(msg = %job.msg, error = %e, "webhook attempt not settled"),
    }
}

/// `pause` ms times a factor in [0.8, 1.2].
fn jitter(pause: u64) -> u64 {
    let f = 0.8 + 0.4 * rand::random::<f64>();
    (pause as f64 * f) as u64
}

/// POSTs one signed attempt.
async fn post(node: &Node, e: &Endpoint, msg: &str, body: &str) -> Outcome {
    let key = match sign::parse_secret(&e.secret) {
        Ok(k) => k,
        Err(why) => return Outcome::Failed(format!("endpoint secret: {why}")),
    };
    let ts = now_ms() / 1000;
    let sent = node
        .webhooks
        .client
        .post(&e.url)
        .header("content-type", "application/json")
        .header("webhook-id", msg)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign::signature(&key, msg, ts, body))
        .body(body.to_string())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) if r.status() == reqwest::StatusCode::GONE => Outcome::Gone,
        Ok(r) => Outcome::Failed(format!("HTTP {}", r.status().as_u16())),
        Err(err) if err.is_timeout() => Outcome::Failed("timeout".into()),
        Err(err) if err.is_connect() => Outcome::Failed("connection failed".into()),
        Err(_) => Outcome::Failed("request failed".into()),
    }
}

/// Marks an endpoint disabled after a 410.
async fn disable(node: &Node, mut e: Endpoint) {
    e.disabled = true;
    e.disabled_reason = Some("the receiver answered 410 Gone".into());
    if let Err(err) = node.webhook_store.put_endpoint(&e).await {
        tracing::warn!(endpoint = %e.id, error = %err, "endpoint not disabled");
    }
    node.webhooks.invalidate();
    tracing::warn!(endpoint = %e.id, "webhook endpoint disabled (410 Gone)");
}

//! Signed webhooks to the merchant backend (Standard Webhooks). The rest of
//! the gateway calls [`Node::emit_webhook`]: the event is written to the
//! store's delivery queue (one job per endpoint that wants its type) before
//! it returns. Every node runs a delivery worker (`deliver.rs`) that claims
//! due attempts, POSTs them signed (`sign.rs`) and settles them: delivered
//! on 2xx, the endpoint disabled on 410, else retried on the schedule of
//! `webhook_retry_ms` with jitter and, past its end, a dead letter that the
//! admin API lists and replays (`http.rs`). A node that dies mid-delivery
//! has its claims taken over by another once they expire, so delivery is
//! at least once; receivers de-duplicate on `webhook-id`, and the order of
//! two events is not promised.

mod deliver;
pub(crate) mod http;
pub mod memory;
pub mod redis;
pub mod sign;
pub mod store;

pub use deliver::run;
pub use store::{Claimed, Endpoint, Job, Settle, WebhookStore};

use std::sync::Mutex;
use std::time::Duration;

use protocol::{ErrorCode, Rejection};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::clock::now_ms;
use crate::config::Settings;
use crate::service::Node;

/// The id of the endpoint the settings configure.
pub const SETTINGS_ENDPOINT: &str = "settings";
/// Most endpoints a deployment may have.
pub const MAX_ENDPOINTS: usize = 32;
/// Longest endpoint URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Most event types one endpoint may list.
pub const MAX_EVENT_TYPES: usize = 64;
/// How long a node reuses the endpoint list it read before reading it again
/// (its own changes through the admin API apply at once).
const ENDPOINTS_TTL_MS: i64 = 1000;

/// The node's webhook state.
pub struct Webhooks {
    /// The HTTP client of deliveries.
    pub(crate) client: reqwest::Client,
    /// Pauses before the 2nd, 3rd, ... attempt.
    pub(crate) retry_ms: Vec<u64>,
    /// Wakes the delivery worker when this node queued something.
    pub(crate) wake: Notify,
    /// The endpoint list and when it was read (unix ms).
    cached: Mutex<Option<(i64, Vec<Endpoint>)>>,
}

impl Webhooks {
    /// The node's webhook state for `settings` (checked by [`check_settings`]).
    pub fn new(settings: &Settings) -> Webhooks {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.webhook_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gateway-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Webhooks {
            client,
            retry_ms: parse_retry(&settings.webhook_retry_ms).unwrap_or_default(),
            wake: Notify::new(),
            cached: Mutex::new(None),
        }
    }

    /// Forgets the cached endpoint list (after a change through this node).
    pub(crate) fn invalidate(&self) {
        *lock(&self.cached) = None;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The retry schedule of `webhook_retry_ms`.
pub fn parse_retry(list: &str) -> Result<Vec<u64>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| format!("webhook_retry_ms: {s:?} is not a number of ms"))
        })
        .collect()
}

/// The event types of a comma-separated list.
pub fn parse_events(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Refuses webhook settings that cannot work.
pub fn check_settings(s: &Settings) -> anyhow::Result<()> {
    parse_retry(&s.webhook_retry_ms).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        s.webhook_timeout_ms >= 1,
        "webhook_timeout_ms must be at least 1"
    );
    anyhow::ensure!(
        s.webhook_claim_ms > s.webhook_timeout_ms,
        "webhook_claim_ms must exceed webhook_timeout_ms"
    );
    anyhow::ensure!(s.webhook_poll_ms >= 1, "webhook_poll_ms must be at least 1");
    anyhow::ensure!(
        s.webhook_concurrency >= 1,
        "webhook_concurrency must be at least 1"
    );
    if !s.webhook_url.is_empty() {
        check_url(&s.webhook_url).map_err(|r| anyhow::anyhow!("webhook_url: {}", r.message))?;
        sign::parse_secret(&s.webhook_secret)
            .map_err(|e| anyhow::anyhow!("webhook_secret: {e}"))?;
        check_events(&parse_events(&s.webhook_events))
            .map_err(|r| anyhow::anyhow!("webhook_events: {}", r.message))?;
    }
    Ok(())
}

/// An endpoint URL: http or https, bounded.
pub fn check_url(url: &str) -> Result<(), Rejection> {
    let ok = url.len() <= MAX_URL_BYTES
        && (url.starts_with("http://") || url.starts_with("https://"))
        && reqwest::Url::parse(url).is_ok();
    if ok {
        Ok(())
    } else {
        Err(Rejection::new(
            ErrorCode::Invalid,
            format!("url must be an http or https URL of at most {MAX_URL_BYTES} bytes"),
        ))
    }
}

/// An endpoint's event types: at most 64, each 1..=64 printable ASCII
/// characters, a `*` only at the end.
pub fn check_events(events: &[String]) -> Result<(), Rejection> {
    let bad = |e: &String| {
        e.is_empty()
            || e.len() > 64
            || !e.bytes().all(|b| b.is_ascii_graphic())
            || e.trim_end_matches('*').contains('*')
            || e.matches('*').count() > 1
    };
    if events.len() > MAX_EVENT_TYPES || events.iter().any(bad) {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!(
                "events: at most {MAX_EVENT_TYPES} types of 1..=64 printable ASCII characters, `*` only last"
            ),
        ));
    }
    Ok(())
}

/// A fresh `webhook-id`: `msg_`, the unix ms (13 digits, so ids sort by
/// time) and 16 random hex digits.
fn message_id(now: i64) -> String {
    format!("msg_{now:013}{:016x}", rand::random::<u64>())
}

/// Unix ms as ISO 8601 UTC with milliseconds, e.g. `2026-12-02T03:54:52.123Z`.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

impl Node {
    /// Queues a webhook event of type `kind` (`live.started`,
    /// `lottery.drawn`, ...; an open set: endpoint filters match the
    /// string) for every enabled endpoint that wants it, in the store,
    /// before it returns. `data` gets `room` when one is given. Returns the
    /// `webhook-id`, or `None` when no endpoint wants the type.
    pub async fn emit_webhook(
        &self,
        kind: &str,
        room: Option<&str>,
        data: Value,
    ) -> Result<Option<String>, Rejection> {
        self.emit_webhook_as(kind, room, data, None).await
    }

    /// [`Node::emit_webhook`] with the `webhook-id` given: an event that
    /// may be queued twice (a forwarder that died before it noted its
    /// progress) keeps one id, so receivers de-duplicate it.
    pub async fn emit_webhook_as(
        &self,
        kind: &str,
        room: Option<&str>,
        mut data: Value,
        id: Option<String>,
    ) -> Result<Option<String>, Rejection> {
        let endpoints = self.webhook_endpoints().await?;
        let targets: Vec<&Endpoint> = endpoints
            .iter()
            .filter(|e| !e.disabled && e.wants(kind))
            .collect();
        if targets.is_empty() {
            return Ok(None);
        }
        if let (Some(r), Value::Object(map)) = (room, &mut data) {
            map.insert("room".into(), Value::String(r.to_string()));
        }
        let now = now_ms();
        let msg = id.unwrap_or_else(|| message_id(now));
        let body = json!({"type": kind, "timestamp": iso8601(now), "data": data}).to_string();
        let jobs: Vec<Job> = targets
            .iter()
            .map(|e| Job {
                id: format!("{msg}.{}", e.id),
                msg: msg.clone(),
                endpoint: e.id.clone(),
                kind: kind.to_string(),
                body: body.clone(),
                attempts: 0,
                created_ms: now,
                last_error: None,
            })
            .collect();
        self.webhook_store
            .enqueue(&jobs)
            .await
            .map_err(|e| e.rejection())?;
        self.metrics.webhooks_queued.inc_by(jobs.len() as u64);
        self.webhooks.wake.notify_one();
        tracing::info!(kind, msg, endpoints = jobs.len(), "webhook queued");
        Ok(Some(msg))
    }

    /// Like [`Node::emit_webhook`], for callers that carry on whatever
    /// happens: a failure is logged (the store is unreachable).
    pub async fn emit_webhook_logged(&self, kind: &str, room: Option<&str>, data: Value) {
        if let Err(r) = self.emit_webhook(kind, room, data).await {
            tracing::error!(kind, room, reason = %r, "webhook not queued");
        }
    }

    /// The endpoint list, read from the store at most once a second.
    pub(crate) async fn webhook_endpoints(&self) -> Result<Vec<Endpoint>, Rejection> {
        let now = now_ms();
        if let Some((at, list)) = lock(&self.webhooks.cached).as_ref()
            && now - at < ENDPOINTS_TTL_MS
        {
            return Ok(list.clone());
        }
        let list = self
            .webhook_store
            .endpoints()
            .await
            .map_err(|e| e.rejection())?;
        *lock(&self.webhooks.cached) = Some((now, list.clone()));
        Ok(list)
    }

    /// Writes the settings' endpoint (`webhook_url`) into the store at start,
    /// keeping a 410's disabling while URL, secret and types are unchanged.
    pub async fn install_settings_endpoint(&self) -> Result<(), Rejection> {
        let s = &self.settings;
        if s.webhook_url.is_empty() {
            return Ok(());
        }
        let wanted = Endpoint {
            id: SETTINGS_ENDPOINT.into(),
            url: s.webhook_url.clone(),
            secret: s.webhook_secret.clone(),
            events: parse_events(&s.webhook_events),
            disabled: false,
            disabled_reason: None,
        };
        let stored = self
            .webhook_store
            .endpoints()
            .await
            .map_err(|e| e.rejection())?
            .into_iter()
            .find(|e| e.id == SETTINGS_ENDPOINT);
        let same = stored.as_ref().is_some_and(|e| {
            e.url == wanted.url && e.secret == wanted.secret && e.events == wanted.events
        });
        if !same {
            self.webhook_store
                .put_endpoint(&wanted)
                .await
                .map_err(|e| e.rejection())?;
        }
        self.webhooks.invalidate();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_796_183_692_000), "2026-12-02T03:54:52.000Z");
    }

    #[test]
    fn endpoint_filters_match_types_and_prefixes() {
        let mut e = Endpoint {
            id: "e".into(),
            url: "http://x".into(),
            secret: String::new(),
            events: vec![],
            disabled: false,
            disabled_reason: None,
        };
        assert!(e.wants("grab.reserved"));
        e.events = vec!["live.*".into(), "lottery.drawn".into()];
        assert!(e.wants("live.started") && e.wants("lottery.drawn"));
        assert!(!e.wants("lottery.created") && !e.wants("reminder.pushed"));
        assert!(check_events(&["live.*".into()]).is_ok());
        assert!(check_events(&["*live".into()]).is_err());
        assert!(check_url("ftp://x").is_err() && check_url("https://shop.example/h").is_ok());
    }
}

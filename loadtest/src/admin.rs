//! The gateway's admin HTTP API as the coordinator uses it: create and
//! start rooms, mint sender tokens, anchor live actions, and high-lane
//! probes (switch toggles).

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An admin API client.
#[derive(Clone)]
pub struct Admin {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Admin {
    /// A client of `base` (`http://127.0.0.1:8080`) with bearer `key`.
    pub fn new(base: &str, key: &str) -> anyhow::Result<Admin> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Admin {
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            http,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("admin API {path}"))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// Creates the room (an existing one is fine) and starts it (a live one is fine).
    pub async fn ensure_live(&self, room: &str) -> anyhow::Result<()> {
        self.ensure_live_as(room, "lt-anchor").await
    }

    /// [`Admin::ensure_live`] with `anchor` as the room's anchor (when it
    /// is created).
    pub async fn ensure_live_as(&self, room: &str, anchor: &str) -> anyhow::Result<()> {
        let body = json!({"id": room, "title": "loadtest", "anchor": anchor,
            "planned_start": 0, "planned_end": 99_999_999_999_999i64});
        let (s, v) = self.call(reqwest::Method::POST, "/api/rooms", body).await?;
        if !(s.is_success() || s == StatusCode::CONFLICT) {
            bail!("create room {room}: {s} {v}");
        }
        self.live(room, "start").await.or_else(|e| {
            // Already live: the transition is refused, the room is usable.
            if format!("{e:#}").contains("invalid_transition") {
                Ok(())
            } else {
                Err(e)
            }
        })
    }

    /// Puts the grab item `goods` on the room's shelf: `quota` units, one
    /// per order, grabbable at once (`PUT /api/rooms/{id}/goods/{gid}`).
    pub async fn put_goods(&self, room: &str, goods: &str, quota: u32) -> anyhow::Result<()> {
        let body = json!({"id": goods, "name": "loadtest item", "cover_url": "https://img.example/lt.png",
            "price": 1000, "live_price": 500, "quota": quota, "order_limit": 1});
        let (s, v) = self
            .call(
                reqwest::Method::PUT,
                &format!("/api/rooms/{room}/goods/{goods}"),
                body,
            )
            .await?;
        if !s.is_success() {
            bail!("put goods {goods} in {room}: {s} {v}");
        }
        Ok(())
    }

    /// The room's commerce counters (`GET /api/rooms/{id}/commerce`).
    pub async fn commerce_counters(&self, room: &str) -> anyhow::Result<Value> {
        let (s, v) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/rooms/{room}/commerce"),
                Value::Null,
            )
            .await?;
        if !s.is_success() {
            bail!("commerce counters of {room}: {s} {v}");
        }
        Ok(v["counters"].clone())
    }

    /// `POST /api/rooms/{id}/live {"action": action}`.
    pub async fn live(&self, room: &str, action: &str) -> anyhow::Result<()> {
        let (s, v) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/rooms/{room}/live"),
                json!({"action": action}),
            )
            .await?;
        if !s.is_success() {
            bail!("{action} {room}: {s} {v}");
        }
        Ok(())
    }

    /// Mints a viewer token for `user`.
    pub async fn token(&self, user: &str) -> anyhow::Result<String> {
        self.token_as(user, false).await
    }

    /// Mints a token for `user`, real-name verified or not (co-stream
    /// guests must be).
    pub async fn token_as(&self, user: &str, real_name: bool) -> anyhow::Result<String> {
        let (s, v) = self
            .call(
                reqwest::Method::POST,
                "/api/tokens",
                json!({"user": user, "name": user, "real_name": real_name, "ttl": 86_400}),
            )
            .await?;
        if !s.is_success() {
            bail!("token for {user}: {s} {v}");
        }
        v["token"]
            .as_str()
            .map(str::to_string)
            .context("no token in reply")
    }

    /// Sets the room's switches with `sharing` = `on`: a high-lane
    /// `switches` event that leaves comments and likes alone.
    pub async fn probe(&self, room: &str, on: bool) -> anyhow::Result<()> {
        let switches = json!({"comments": true, "likes": true, "anonymous_watch": true,
            "sharing": on, "replay": false, "customer_service": false});
        let (s, v) = self
            .call(
                reqwest::Method::PATCH,
                &format!("/api/rooms/{room}"),
                json!({"switches": switches}),
            )
            .await?;
        if !s.is_success() {
            bail!("probe {room}: {s} {v}");
        }
        Ok(())
    }
}

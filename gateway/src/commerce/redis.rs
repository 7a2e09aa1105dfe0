//! `CommerceStore` on Redis: every key under the room's hash tag (the
//! layout is in `scripts.rs`), so a grab is one `EVALSHA` on the room's
//! shard; the set of rooms that hold reservations (for the expiry sweep)
//! is one global set, written after a reservation.

use std::collections::BTreeMap;

use async_trait::async_trait;
use protocol::commerce::{Coupon, Goods, GoodsSpec, Reservation, ReservationState};
use protocol::{ErrorCode, Rejection};
use redis::AsyncCommands;

use super::memory::{not_every_item, shelf_full};
use super::scripts;
use super::store::{
    Answer, ClaimCall, ClaimOutcome, CommerceStore, FEED_CAPACITY, FeedEntry, GrabCall, GrabOutcome,
};
use crate::store::redis::{corrupt, unavailable};
use crate::store::{RedisStore, StoreError};

fn parse<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt(what))
}

fn code(s: &str) -> Result<ErrorCode, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| corrupt("commerce answer"))
}

fn state_name(s: ReservationState) -> &'static str {
    match s {
        ReservationState::Reserved => "reserved",
        ReservationState::Confirmed => "confirmed",
        ReservationState::Cancelled => "cancelled",
        ReservationState::Expired => "expired",
    }
}

impl RedisStore {
    fn rooms_with_reservations(&self) -> String {
        format!("{}:commerce:rooms", self.prefix())
    }

    async fn settle_many(
        &self,
        room: &str,
        ids: &[String],
        to: ReservationState,
        now: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut s = scripts::SETTLE.prepare_invoke();
        s.key(self.key(room, "resv"))
            .key(self.key(room, "resv:due"))
            .key(self.key(room, "goods:sold"))
            .key(self.key(room, "goods:held"))
            .key(self.key(room, "commerce:counters"))
            .key(self.key(room, "commerce:feed"))
            .arg(state_name(to))
            .arg(now)
            .arg(FEED_CAPACITY);
        for id in ids {
            s.arg(id);
        }
        let out: Vec<String> = s
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(out
            .chunks(2)
            .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
            .collect())
    }
}

#[async_trait]
impl CommerceStore for RedisStore {
    async fn put_goods(
        &self,
        room: &str,
        spec: &GoodsSpec,
        max_goods: usize,
    ) -> Result<Goods, StoreError> {
        let fresh = Goods::new(spec.clone(), 0);
        let json = serde_json::to_string(&fresh).map_err(|_| corrupt("goods"))?;
        let stored: Option<String> = scripts::PUT_GOODS
            .key(self.key(room, "goods"))
            .arg(&spec.id)
            .arg(json)
            .arg(max_goods)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match stored {
            Some(j) => parse(&j, "goods"),
            None => Err(StoreError::Rejected(shelf_full(max_goods))),
        }
    }

    async fn remove_goods(&self, room: &str, goods: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .hdel(self.key(room, "goods"), goods)
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }

    async fn reorder_goods(&self, room: &str, order: &[String]) -> Result<(), StoreError> {
        let mut s = scripts::REORDER.prepare_invoke();
        s.key(self.key(room, "goods"));
        for id in order {
            s.arg(id);
        }
        let ok: i64 = s
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if ok == 1 {
            Ok(())
        } else {
            Err(StoreError::Rejected(not_every_item()))
        }
    }

    async fn switch_goods(
        &self,
        room: &str,
        goods: &str,
        grabbable: bool,
    ) -> Result<Option<Goods>, StoreError> {
        let stored: Option<String> = scripts::SWITCH
            .key(self.key(room, "goods"))
            .arg(goods)
            .arg(if grabbable { "1" } else { "0" })
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        stored.map(|j| parse(&j, "goods")).transpose()
    }

    async fn shelf(&self, room: &str) -> Result<Vec<Goods>, StoreError> {
        let all: Vec<String> = self
            .conn()
            .hvals(self.key(room, "goods"))
            .await
            .map_err(unavailable)?;
        let mut items = all
            .iter()
            .map(|j| parse::<Goods>(j, "goods"))
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by_key(|g| g.position);
        Ok(items)
    }

    async fn goods(&self, room: &str, goods: &str) -> Result<Option<Goods>, StoreError> {
        let j: Option<String> = self
            .conn()
            .hget(self.key(room, "goods"), goods)
            .await
            .map_err(unavailable)?;
        j.map(|j| parse(&j, "goods")).transpose()
    }

    async fn remaining(&self, room: &str, goods: &str) -> Result<u64, StoreError> {
        let Some(item) = self.goods(room, goods).await? else {
            return Ok(0);
        };
        let sold: Option<i64> = self
            .conn()
            .hget(self.key(room, "goods:sold"), goods)
            .await
            .map_err(unavailable)?;
        Ok((item.quota as i64 - sold.unwrap_or(0)).max(0) as u64)
    }

    async fn grab(&self, call: &GrabCall<'_>) -> Result<GrabOutcome, StoreError> {
        let room = call.room;
        let out: Vec<String> = scripts::GRAB
            .key(self.key(room, "meta"))
            .key(self.key(room, "goods"))
            .key(self.key(room, "goods:sold"))
            .key(self.key(room, "goods:held"))
            .key(self.key(room, "goods:keys"))
            .key(self.key(room, "resv"))
            .key(self.key(room, "resv:due"))
            .key(self.key(room, &format!("grab:{}|{}", call.user, call.key)))
            .key(self.key(room, "commerce:counters"))
            .key(self.key(room, "commerce:feed"))
            .arg(call.user)
            .arg(call.goods)
            .arg(call.quantity)
            .arg(call.key)
            .arg(call.now)
            .arg(call.hold_ms)
            .arg(call.reservation_id)
            .arg(call.fingerprint())
            .arg(call.answer_ttl_s.max(1))
            .arg(FEED_CAPACITY)
            .arg(room)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match out.first().map(String::as_str) {
            Some("again") => Ok(GrabOutcome::Again(parse(
                out.get(1).map_or("", String::as_str),
                "grab answer",
            )?)),
            Some("conflict") => Ok(GrabOutcome::Conflict),
            Some("refused") if out.get(1).is_some_and(|c| c == "room_not_found") => {
                Err(StoreError::NotFound)
            }
            Some("refused") => Ok(GrabOutcome::Refused(code(
                out.get(1).map_or("", String::as_str),
            )?)),
            Some("reserved") => {
                let reservation: Reservation =
                    parse(out.get(1).map_or("", String::as_str), "reservation")?;
                let remaining: u64 = out.get(2).and_then(|r| r.parse().ok()).unwrap_or(0);
                Ok(GrabOutcome::Reserved {
                    reservation,
                    remaining,
                })
            }
            _ => Err(corrupt("grab answer")),
        }
    }

    async fn grab_keys(
        &self,
        room: &str,
        goods: &str,
    ) -> Result<Vec<(String, Reservation)>, StoreError> {
        let mut c = self.conn();
        let keys: Vec<(String, String)> = c
            .hgetall(self.key(room, "goods:keys"))
            .await
            .map_err(unavailable)?;
        let prefix = format!("{goods}|");
        let mine: Vec<(String, String)> = keys
            .into_iter()
            .filter_map(|(k, id)| k.strip_prefix(&prefix).map(|k| (k.to_string(), id)))
            .collect();
        if mine.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<&String> = mine.iter().map(|(_, id)| id).collect();
        let found: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.key(room, "resv"))
            .arg(&ids)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(mine.len());
        for ((k, _), j) in mine.into_iter().zip(found) {
            if let Some(j) = j {
                out.push((k, parse(&j, "reservation")?));
            }
        }
        Ok(out)
    }

    async fn settle(
        &self,
        room: &str,
        reservation: &str,
        to: ReservationState,
        now: i64,
    ) -> Result<Option<Reservation>, StoreError> {
        let out = self
            .settle_many(room, &[reservation.to_string()], to, now)
            .await?;
        match out.first() {
            Some((s, j)) if s == "ok" => Ok(Some(parse(j, "reservation")?)),
            Some((s, j)) if s == "state" => {
                let r: Reservation = parse(j, "reservation")?;
                Err(StoreError::Rejected(Rejection::new(
                    ErrorCode::InvalidTransition,
                    format!("the reservation is {}", state_name(r.state)),
                )))
            }
            _ => Ok(None),
        }
    }

    async fn expire_due(
        &self,
        room: &str,
        now: i64,
        max: usize,
    ) -> Result<Vec<Reservation>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .zrangebyscore_limit(self.key(room, "resv:due"), "-inf", now, 0, max as isize)
            .await
            .map_err(unavailable)?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let out = self
            .settle_many(room, &ids, ReservationState::Expired, now)
            .await?;
        out.iter()
            .filter(|(s, _)| s == "ok")
            .map(|(_, j)| parse(j, "reservation"))
            .collect()
    }

    async fn reservation(&self, room: &str, id: &str) -> Result<Option<Reservation>, StoreError> {
        let j: Option<String> = self
            .conn()
            .hget(self.key(room, "resv"), id)
            .await
            .map_err(unavailable)?;
        j.map(|j| parse(&j, "reservation")).transpose()
    }

    async fn reservation_rooms(&self) -> Result<Vec<String>, StoreError> {
        self.conn()
            .smembers(self.rooms_with_reservations())
            .await
            .map_err(unavailable)
    }

    async fn put_coupon(&self, room: &str, coupon: &Coupon) -> Result<(), StoreError> {
        let mut v = serde_json::to_value(coupon).map_err(|_| corrupt("coupon"))?;
        v["active"] = serde_json::Value::Bool(true);
        let _: i64 = self
            .conn()
            .hset(self.key(room, "coupons"), &coupon.id, v.to_string())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn claim_coupon(&self, call: &ClaimCall<'_>) -> Result<ClaimOutcome, StoreError> {
        let room = call.room;
        let out: Vec<String> = scripts::CLAIM
            .key(self.key(room, "meta"))
            .key(self.key(room, "coupons"))
            .key(self.key(room, "coupons:claimed"))
            .key(self.key(room, "coupons:held"))
            .key(self.key(room, &format!("cclaim:{}|{}", call.user, call.key)))
            .key(self.key(room, "commerce:counters"))
            .key(self.key(room, "commerce:feed"))
            .arg(call.user)
            .arg(call.coupon)
            .arg(call.now)
            .arg(call.answer_ttl_s.max(1))
            .arg(FEED_CAPACITY)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let num = |i: usize| out.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        match out.first().map(String::as_str) {
            Some("again") => Ok(ClaimOutcome::Again(parse::<Answer<u32>>(
                out.get(1).map_or("", String::as_str),
                "claim answer",
            )?)),
            Some("conflict") => Ok(ClaimOutcome::Conflict),
            Some("refused") if out.get(1).is_some_and(|c| c == "room_not_found") => {
                Err(StoreError::NotFound)
            }
            Some("refused") => Ok(ClaimOutcome::Refused(code(
                out.get(1).map_or("", String::as_str),
            )?)),
            Some("claimed") => Ok(ClaimOutcome::Claimed {
                held: num(1) as u32,
                claimed: num(2),
                stock: num(3),
            }),
            _ => Err(corrupt("claim answer")),
        }
    }

    async fn end_coupon(&self, room: &str, coupon: &str) -> Result<(), StoreError> {
        let _: i64 = scripts::END_COUPON
            .key(self.key(room, "coupons"))
            .arg(coupon)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn coupon_claimed(&self, room: &str, coupon: &str) -> Result<u64, StoreError> {
        let n: Option<u64> = self
            .conn()
            .hget(self.key(room, "coupons:claimed"), coupon)
            .await
            .map_err(unavailable)?;
        Ok(n.unwrap_or(0))
    }

    async fn add_clicks(&self, room: &str, clicks: &[(String, u64)]) -> Result<(), StoreError> {
        if clicks.is_empty() {
            return Ok(());
        }
        let key = self.key(room, "commerce:counters");
        let mut p = redis::pipe();
        for (g, n) in clicks {
            p.hincr(&key, format!("clicks:{g}"), *n).ignore();
        }
        let _: () = p.query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn forwarded(&self, room: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .get(self.key(room, "commerce:forwarded"))
            .await
            .map_err(unavailable)
    }

    async fn set_forwarded(&self, room: &str, cursor: &str) -> Result<(), StoreError> {
        let _: () = self
            .conn()
            .set(self.key(room, "commerce:forwarded"), cursor)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let per_item: BTreeMap<String, u64> = self
            .conn()
            .hgetall(self.key(room, "commerce:counters"))
            .await
            .map_err(unavailable)?;
        Ok(super::store::with_totals(per_item))
    }

    async fn note_reservation_room(&self, room: &str) -> Result<(), StoreError> {
        let _: i64 = self
            .conn()
            .sadd(self.rooms_with_reservations(), room)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn feed(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let start = after.map_or_else(|| "-".to_string(), |a| format!("({a}"));
        let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(self.key(room, "commerce:feed"))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        entries
            .into_iter()
            .map(|(id, fields)| {
                let field = |name: &str| {
                    fields
                        .chunks(2)
                        .find(|p| p[0] == name)
                        .and_then(|p| p.get(1).cloned())
                        .unwrap_or_default()
                };
                Ok(FeedEntry {
                    cursor: id.clone(),
                    kind: field("type"),
                    at: field("at").parse().unwrap_or(0),
                    data: parse(&field("data"), "feed entry")?,
                })
            })
            .collect()
    }
}

//! Live commerce in the room: the goods shelf, the pushed card (上链接), the
//! explaining pin (讲解中), grabs and their reservations, coupons, the
//! commerce counters and the merchant feed.
//!
//! What must be exact is one atomic store step (`CommerceStore`): a grab,
//! a settlement, a coupon claim. What every viewer sees at join rides in
//! the room record (`slot.rs`). The node keeps per room: the shelf reply
//! encoded once per version and codec (`shelf.rs`), a sold-out flag per
//! item (a grab of a sold-out item costs no store call), the goods clicks
//! to flush, and the items and coupons whose counts changed; `run` flushes
//! and publishes them every `commerce_interval_ms` and sweeps expired
//! reservations.

pub mod http;
pub mod memory;
pub mod redis;
pub mod scripts;
mod shelf;
pub mod slot;
pub mod store;
pub mod ws;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::{DashMap, DashSet};
use protocol::commerce::{
    CardChanged, Coupon, CouponChanged, CouponClaims, CouponSpec, ExplainingChanged, Goods,
    GoodsChanged, GoodsSpec, Grab, Reservation, ReservationState, ShownReason, SoldOut, Stock,
};
use protocol::{ErrorCode, EventKind, Rejection};

pub use shelf::ShelfCache;
pub use slot::{CardSlot, CommerceSlot};
pub use store::CommerceStore;
use store::{Answer, ClaimCall, ClaimOutcome, GrabCall, GrabOutcome};

use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;
use crate::store::StoreError;

/// A sold-out item as this node knows it: refused without a store call
/// until `until`, except the keys that reserved (their answer is kept).
/// The commerce round renews it while the item stays sold out.
struct SoldOutFlag {
    until: i64,
    answers: HashMap<String, Reservation>,
    /// The item's `reserved` counter when `answers` was read: a later
    /// value means reservations were made since (units came back and sold
    /// again), so the answers are read again.
    reserved: u64,
}

/// The node's commerce state.
#[derive(Default)]
pub struct Commerce {
    /// Per room: the shelf reply encoded once per version.
    pub shelves: ShelfCache,
    sold_out: DashMap<(String, String), SoldOutFlag>,
    /// Items whose flag one request is raising now (the others go on to
    /// the store meanwhile instead of all reading the same answers).
    raising: DashSet<(String, String)>,
    clicks: DashMap<String, HashMap<String, u64>>,
    stock_dirty: DashSet<(String, String)>,
    coupons_dirty: DashSet<(String, String)>,
    /// Rooms this node noted in the store as holding reservations (forgotten
    /// every minute, so an emptied store hears of them again).
    noted: DashSet<String>,
    noted_since: std::sync::atomic::AtomicI64,
    next_id: AtomicU64,
}

fn rejection(code: ErrorCode) -> Rejection {
    let message = match code {
        ErrorCode::RoomNotLive => "grabs and claims need the room live",
        ErrorCode::UnknownGoods => "no such goods item on the shelf",
        ErrorCode::NotGrabbable => "this item is not grabbable now",
        ErrorCode::OrderLimit => "more than the item's per-order limit",
        ErrorCode::ViewerLimit => "over the per-viewer limit",
        ErrorCode::SoldOut => "sold out: the live quota has fewer units left than asked",
        ErrorCode::CouponGone => "the coupon is gone",
        ErrorCode::NotFound => "no such coupon",
        ErrorCode::Conflict => "this key was used with other parameters",
        _ => "refused",
    };
    Rejection::new(code, message)
}

fn store_error(e: StoreError) -> Rejection {
    e.rejection()
}

impl Node {
    fn flag_ms(&self) -> i64 {
        self.settings.commerce_interval_ms.max(1) as i64
    }

    /// A fresh reservation id: unique over nodes.
    fn reservation_id(&self) -> String {
        let n = self.commerce.next_id.fetch_add(1, Ordering::Relaxed);
        format!("r-{}-{}-{n}", self.settings.node_id, now_ms())
    }

    /// Bumps the shelf version in the record (after the store changed the
    /// shelf, so a copy cached at the old version is refetched) and
    /// publishes the change.
    async fn shelf_changed(
        &self,
        room: &str,
        f: impl Fn(&mut CommerceSlot) + Send + Sync,
        change: impl FnOnce(u64) -> GoodsChanged,
    ) -> Result<Room, Rejection> {
        let before = self.hubs.get(room).map(|h| h.room().commerce.clone());
        let updated = self
            .update_room(room, &|r| {
                r.commerce.shelf_version += 1;
                f(&mut r.commerce);
                Ok(())
            })
            .await
            .map_err(store_error)?;
        self.publish(
            room,
            EventKind::Goods(change(updated.commerce.shelf_version)),
        )
        .await?;
        let after = &updated.commerce;
        if let Some(b) = before {
            if b.card.is_some() && after.card.is_none() {
                self.publish_card(room, None, ShownReason::Withdrawn)
                    .await?;
            }
            if b.explaining.is_some() && after.explaining.is_none() {
                let kind = EventKind::Explaining(ExplainingChanged { goods: None });
                self.publish(room, kind).await?;
            }
        }
        self.set_room_deadline(&updated).await;
        Ok(updated)
    }

    async fn publish_card(
        &self,
        room: &str,
        card: Option<&CardSlot>,
        reason: ShownReason,
    ) -> Result<(), Rejection> {
        let kind = EventKind::Card(Box::new(CardChanged {
            card: card.map(|c| c.shown(now_ms())),
            reason,
        }));
        self.publish(room, kind).await.map(|_| ())
    }

    async fn existing_room(&self, room: &str) -> Result<Room, Rejection> {
        self.store.room(room).await.map_err(store_error)
    }

    /// Adds an item or changes the one with its id.
    pub async fn put_goods(&self, room: &str, spec: GoodsSpec) -> Result<Goods, Rejection> {
        spec.check(&self.limits)?;
        self.existing_room(room).await?;
        let item = self
            .commerce_store
            .put_goods(room, &spec, self.settings.max_goods)
            .await
            .map_err(store_error)?;
        self.clear_sold_out(room, &item.id);
        let published = item.clone();
        self.shelf_changed(
            room,
            |_| {},
            move |version| GoodsChanged {
                version,
                item: Some(published),
                removed: None,
                order: None,
            },
        )
        .await?;
        self.stock_dirty(room, &item.id);
        Ok(item)
    }

    /// Takes an item off the shelf (its card and pin go with it).
    pub async fn remove_goods(&self, room: &str, goods: &str) -> Result<(), Rejection> {
        self.limits.check_id("goods", goods)?;
        self.existing_room(room).await?;
        if !self
            .commerce_store
            .remove_goods(room, goods)
            .await
            .map_err(store_error)?
        {
            return Err(rejection(ErrorCode::UnknownGoods));
        }
        let id = goods.to_string();
        self.shelf_changed(
            room,
            move |c| {
                if c.card.as_ref().is_some_and(|card| card.goods.id == id) {
                    c.card = None;
                }
                if c.explaining.as_deref() == Some(id.as_str()) {
                    c.explaining = None;
                }
            },
            |version| GoodsChanged {
                version,
                item: None,
                removed: Some(goods.to_string()),
                order: None,
            },
        )
        .await?;
        Ok(())
    }

    /// Puts the shelf in a new order.
    pub async fn reorder_goods(&self, room: &str, order: Vec<String>) -> Result<(), Rejection> {
        self.existing_room(room).await?;
        self.commerce_store
            .reorder_goods(room, &order)
            .await
            .map_err(store_error)?;
        self.shelf_changed(
            room,
            |_| {},
            move |version| GoodsChanged {
                version,
                item: None,
                removed: None,
                order: Some(order),
            },
        )
        .await?;
        Ok(())
    }

    /// Switches an item grabbable or not.
    pub async fn switch_goods(
        &self,
        room: &str,
        goods: &str,
        grabbable: bool,
    ) -> Result<Goods, Rejection> {
        self.existing_room(room).await?;
        let item = self
            .commerce_store
            .switch_goods(room, goods, grabbable)
            .await
            .map_err(store_error)?
            .ok_or_else(|| rejection(ErrorCode::UnknownGoods))?;
        self.clear_sold_out(room, goods);
        let published = item.clone();
        self.shelf_changed(
            room,
            |_| {},
            move |version| GoodsChanged {
                version,
                item: Some(published),
                removed: None,
                order: None,
            },
        )
        .await?;
        Ok(item)
    }

    /// Pushes an item's card to every viewer, replacing the card shown.
    pub async fn push_card(
        &self,
        room: &str,
        goods: &str,
        duration_s: Option<u32>,
    ) -> Result<CardSlot, Rejection> {
        let item = self
            .commerce_store
            .goods(room, goods)
            .await
            .map_err(store_error)?
            .ok_or_else(|| rejection(ErrorCode::UnknownGoods))?;
        let now = now_ms();
        let secs = duration_s.map_or(self.settings.card_show_s, u64::from);
        let card = CardSlot {
            goods: item,
            pushed_at: now,
            until: now + secs as i64 * 1000,
        };
        let slot = card.clone();
        let updated = self
            .update_room(room, &move |r| {
                r.commerce.card = Some(slot.clone());
                Ok(())
            })
            .await
            .map_err(store_error)?;
        self.publish_card(room, Some(&card), ShownReason::Pushed)
            .await?;
        self.set_room_deadline(&updated).await;
        Ok(card)
    }

    /// Takes the pushed card down; `not_found` when none shows.
    pub async fn withdraw_card(&self, room: &str) -> Result<(), Rejection> {
        let updated = self
            .update_room(room, &|r| {
                if r.commerce.card.take().is_none() {
                    return Err(Rejection::new(ErrorCode::NotFound, "no card shows"));
                }
                Ok(())
            })
            .await
            .map_err(store_error)?;
        self.publish_card(room, None, ShownReason::Withdrawn)
            .await?;
        self.set_room_deadline(&updated).await;
        Ok(())
    }

    /// Pins the item being explained, or with `None` unpins it.
    pub async fn explain(&self, room: &str, goods: Option<String>) -> Result<(), Rejection> {
        if let Some(g) = &goods {
            self.limits.check_id("goods", g)?;
            self.commerce_store
                .goods(room, g)
                .await
                .map_err(store_error)?
                .ok_or_else(|| rejection(ErrorCode::UnknownGoods))?;
        }
        let pin = goods.clone();
        self.update_room(room, &move |r| {
            r.commerce.explaining = pin.clone();
            Ok(())
        })
        .await
        .map_err(store_error)?;
        self.publish(room, EventKind::Explaining(ExplainingChanged { goods }))
            .await?;
        Ok(())
    }

    /// A viewer's grab: from the node's sold-out flag when the item is
    /// sold out, else one atomic store step.
    pub async fn grab(&self, room: &str, user: &str, g: &Grab) -> Result<Reservation, Rejection> {
        protocol::commerce::check_grab(g, &self.limits)?;
        let now = now_ms();
        let flag_key = (room.to_string(), g.goods.clone());
        if let Some(flag) = self.commerce.sold_out.get(&flag_key)
            && flag.until > now
        {
            return match flag.answers.get(&format!("{user}|{}", g.key)) {
                Some(r) if r.quantity as i64 == g.quantity => Ok(r.clone()),
                Some(_) => Err(rejection(ErrorCode::Conflict)),
                None => Err(rejection(ErrorCode::SoldOut)),
            };
        }
        let id = self.reservation_id();
        let call = GrabCall {
            room,
            user,
            goods: &g.goods,
            quantity: g.quantity as u32,
            key: &g.key,
            now,
            hold_ms: self.settings.reservation_hold_s as i64 * 1000,
            reservation_id: &id,
            answer_ttl_s: self.settings.idempotency_ttl_s,
        };
        let outcome = self.commerce_store.grab(&call).await.map_err(store_error)?;
        match outcome {
            GrabOutcome::Reserved {
                reservation,
                remaining,
            } => {
                self.note_room(room).await;
                self.stock_dirty(room, &g.goods);
                if remaining == 0 {
                    self.sold_out(room, &g.goods).await;
                }
                Ok(reservation)
            }
            GrabOutcome::Refused(code) => {
                if code == ErrorCode::SoldOut {
                    self.raise_sold_out_flag(room, &g.goods).await;
                }
                Err(rejection(code))
            }
            GrabOutcome::Again(Answer::Ok(r)) => Ok(r),
            GrabOutcome::Again(Answer::Err(code)) => Err(rejection(code)),
            GrabOutcome::Conflict => Err(rejection(ErrorCode::Conflict)),
        }
    }

    /// The grab that took the last unit: the room hears `sold_out`.
    async fn sold_out(&self, room: &str, goods: &str) {
        let kind = EventKind::SoldOut(SoldOut {
            goods: goods.to_string(),
        });
        if let Err(r) = self.publish(room, kind).await {
            tracing::warn!(room, goods, reason = %r, "sold_out not published");
        }
        self.raise_sold_out_flag(room, goods).await;
    }

    /// Raises this node's sold-out flag of an item, with the answers of the
    /// keys that reserved it (one store read per item, by one request at a
    /// time); the commerce round renews it.
    async fn raise_sold_out_flag(&self, room: &str, goods: &str) {
        let key = (room.to_string(), goods.to_string());
        if self
            .commerce
            .sold_out
            .get(&key)
            .is_some_and(|f| f.until > now_ms())
            || !self.commerce.raising.insert(key.clone())
        {
            return;
        }
        if let Some(flag) = self.read_sold_out_flag(room, goods).await {
            self.commerce.sold_out.insert(key.clone(), flag);
        }
        self.commerce.raising.remove(&key);
    }

    async fn read_sold_out_flag(&self, room: &str, goods: &str) -> Option<SoldOutFlag> {
        let counters = self.commerce_store.counters(room).await.ok()?;
        let reserved = counters
            .get(&format!("reserved:{goods}"))
            .copied()
            .unwrap_or(0);
        let answers = self.commerce_store.grab_keys(room, goods).await.ok()?;
        Some(SoldOutFlag {
            until: now_ms() + FLAG_ROUNDS * self.flag_ms(),
            answers: answers.into_iter().collect(),
            reserved,
        })
    }

    /// Keeps the sold-out flags of items still sold out (the answers read
    /// again when reservations were made since) and drops the others: a
    /// flag outlives units coming back by at most one round.
    async fn renew_sold_out_flags(&self, now: i64) {
        self.commerce.sold_out.retain(|_, f| f.until > now);
        let keys: Vec<(String, String)> = self
            .commerce
            .sold_out
            .iter()
            .map(|e| e.key().clone())
            .collect();
        for (room, goods) in keys {
            let key = (room.clone(), goods.clone());
            let still = matches!(self.commerce_store.remaining(&room, &goods).await, Ok(0));
            if !still {
                self.commerce.sold_out.remove(&key);
                continue;
            }
            let Ok(counters) = self.commerce_store.counters(&room).await else {
                continue;
            };
            let reserved = counters
                .get(&format!("reserved:{goods}"))
                .copied()
                .unwrap_or(0);
            let same = self
                .commerce
                .sold_out
                .get(&key)
                .is_some_and(|f| f.reserved == reserved);
            if same {
                if let Some(mut f) = self.commerce.sold_out.get_mut(&key) {
                    f.until = now + FLAG_ROUNDS * self.flag_ms();
                }
            } else if let Some(flag) = self.read_sold_out_flag(&room, &goods).await {
                self.commerce.sold_out.insert(key, flag);
            }
        }
    }

    /// Puts the room in the store's set of rooms with reservations, once
    /// per node and minute.
    async fn note_room(&self, room: &str) {
        let now = now_ms();
        let since = self.commerce.noted_since.load(Ordering::Relaxed);
        if now - since > NOTED_FOR_MS {
            self.commerce.noted.clear();
            self.commerce.noted_since.store(now, Ordering::Relaxed);
        }
        if self.commerce.noted.insert(room.to_string())
            && let Err(e) = self.commerce_store.note_reservation_room(room).await
        {
            self.commerce.noted.remove(room);
            tracing::warn!(room, error = %e, "room not noted for the expiry sweep");
        }
    }

    fn clear_sold_out(&self, room: &str, goods: &str) {
        self.commerce
            .sold_out
            .remove(&(room.to_string(), goods.to_string()));
    }

    fn stock_dirty(&self, room: &str, goods: &str) {
        self.commerce
            .stock_dirty
            .insert((room.to_string(), goods.to_string()));
    }

    /// Counts a viewer opening an item (flushed to the store every interval).
    pub fn goods_click(&self, room: &str, goods: &str) {
        *self
            .commerce
            .clicks
            .entry(room.to_string())
            .or_default()
            .entry(goods.to_string())
            .or_default() += 1;
    }

    /// The merchant backend settles a reservation: `Confirmed` (paid) or
    /// `Cancelled` (its units go back).
    pub async fn settle_reservation(
        &self,
        room: &str,
        id: &str,
        to: ReservationState,
    ) -> Result<Reservation, Rejection> {
        let r = self
            .commerce_store
            .settle(room, id, to, now_ms())
            .await
            .map_err(store_error)?
            .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no such reservation"))?;
        if to != ReservationState::Confirmed {
            self.units_returned(room, &r.goods);
        }
        Ok(r)
    }

    fn units_returned(&self, room: &str, goods: &str) {
        self.clear_sold_out(room, goods);
        self.stock_dirty(room, goods);
    }

    /// Makes a coupon the room's active coupon (replacing the one before,
    /// which is withdrawn).
    pub async fn push_coupon(&self, room: &str, spec: CouponSpec) -> Result<Coupon, Rejection> {
        spec.check(&self.limits)?;
        self.existing_room(room).await?;
        let coupon = Coupon::from(spec);
        self.commerce_store
            .put_coupon(room, &coupon)
            .await
            .map_err(store_error)?;
        let slot = coupon.clone();
        let before = self
            .hubs
            .get(room)
            .and_then(|h| h.room().commerce.coupon.clone());
        let updated = self
            .update_room(room, &move |r| {
                r.commerce.coupon = Some(slot.clone());
                Ok(())
            })
            .await
            .map_err(store_error)?;
        if let Some(old) = before.filter(|c| c.id != coupon.id) {
            let _ = self.commerce_store.end_coupon(room, &old.id).await;
        }
        let kind = EventKind::Coupon(CouponChanged {
            coupon: Some(coupon.clone()),
            reason: ShownReason::Pushed,
            ended: None,
        });
        self.publish(room, kind).await?;
        self.set_room_deadline(&updated).await;
        Ok(coupon)
    }

    /// Withdraws the room's active coupon; `not_found` when none is.
    pub async fn withdraw_coupon(&self, room: &str) -> Result<(), Rejection> {
        self.end_active_coupon(room, None, ShownReason::Withdrawn)
            .await?
            .ok_or_else(|| Rejection::new(ErrorCode::NotFound, "no active coupon"))?;
        Ok(())
    }

    /// Ends the active coupon (only `id` when given): the record drops it
    /// (once, by compare-and-set), the store refuses later claims, and the
    /// room hears why. `None` when there was nothing to end.
    async fn end_active_coupon(
        &self,
        room: &str,
        id: Option<&str>,
        reason: ShownReason,
    ) -> Result<Option<String>, Rejection> {
        let only = id.map(str::to_string);
        let ended = std::sync::Mutex::new(None);
        let result = self
            .update_room(room, &|r| {
                let matches = r
                    .commerce
                    .coupon
                    .as_ref()
                    .is_some_and(|c| only.as_deref().is_none_or(|o| o == c.id));
                if !matches {
                    return Err(Rejection::new(ErrorCode::NotFound, "no active coupon"));
                }
                if let Ok(mut e) = ended.lock() {
                    *e = r.commerce.coupon.take().map(|c| c.id);
                }
                Ok(())
            })
            .await;
        let updated = match result {
            Ok(r) => r,
            Err(StoreError::Rejected(r)) if r.code == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(store_error(e)),
        };
        let ended = ended.lock().ok().and_then(|mut e| e.take());
        if let Some(c) = &ended {
            let _ = self.commerce_store.end_coupon(room, c).await;
            let kind = EventKind::Coupon(CouponChanged {
                coupon: None,
                reason,
                ended: Some(c.clone()),
            });
            self.publish(room, kind).await?;
        }
        self.set_room_deadline(&updated).await;
        Ok(ended)
    }

    /// A viewer claims the room's coupon.
    pub async fn claim_coupon(
        &self,
        room: &str,
        user: &str,
        coupon: &str,
        key: &str,
    ) -> Result<u32, Rejection> {
        self.limits.check_id("coupon", coupon)?;
        self.limits.check_id("key", key)?;
        let call = ClaimCall {
            room,
            user,
            coupon,
            key,
            now: now_ms(),
            answer_ttl_s: self.settings.idempotency_ttl_s,
        };
        match self
            .commerce_store
            .claim_coupon(&call)
            .await
            .map_err(store_error)?
        {
            ClaimOutcome::Claimed {
                held,
                claimed,
                stock,
            } => {
                self.note_room(room).await;
                self.commerce
                    .coupons_dirty
                    .insert((room.to_string(), coupon.to_string()));
                // The claim that issued the last one ends the coupon.
                if claimed >= stock
                    && let Err(r) = self
                        .end_active_coupon(room, Some(coupon), ShownReason::Gone)
                        .await
                {
                    tracing::warn!(room, coupon, reason = %r, "coupon gone not published");
                }
                Ok(held)
            }
            ClaimOutcome::Refused(code) => Err(rejection(code)),
            ClaimOutcome::Again(Answer::Ok(held)) => Ok(held),
            ClaimOutcome::Again(Answer::Err(code)) => Err(rejection(code)),
            ClaimOutcome::Conflict => Err(rejection(ErrorCode::Conflict)),
        }
    }

    /// The room timer: a card or coupon whose time ran out goes away, once
    /// over every node (compare-and-set on the record).
    pub async fn fire_commerce(&self, room: &Room, now: i64) {
        if room.commerce.card.as_ref().is_some_and(|c| c.until <= now) {
            let result = self
                .update_room(&room.id, &move |r| match &r.commerce.card {
                    Some(c) if c.until <= now => {
                        r.commerce.card = None;
                        Ok(())
                    }
                    _ => Err(Rejection::new(ErrorCode::NotFound, "no card due")),
                })
                .await;
            if result.is_ok()
                && let Err(r) = self
                    .publish_card(&room.id, None, ShownReason::Expired)
                    .await
            {
                tracing::warn!(room = %room.id, reason = %r, "card expiry not published");
            }
        }
        if let Some(c) = &room.commerce.coupon
            && c.valid_until.is_some_and(|t| t <= now)
            && let Err(r) = self
                .end_active_coupon(&room.id, Some(&c.id), ShownReason::Expired)
                .await
        {
            tracing::warn!(room = %room.id, reason = %r, "coupon expiry not published");
        }
    }

    /// Flushes goods clicks, publishes changed stock and coupon counts (at
    /// most once an interval per item over every node: a lease) and sweeps
    /// expired reservations.
    async fn commerce_round(&self) {
        let now = now_ms();
        let ttl = self.flag_ms();
        self.renew_sold_out_flags(now).await;
        self.commerce
            .shelves
            .retain(|room| self.hubs.get(room).is_some());
        let rooms: Vec<String> = self
            .commerce
            .clicks
            .iter()
            .map(|e| e.key().clone())
            .collect();
        for room in rooms {
            let Some((_, clicks)) = self.commerce.clicks.remove(&room) else {
                continue;
            };
            let clicks: Vec<(String, u64)> = clicks.into_iter().collect();
            if let Err(e) = self.commerce_store.add_clicks(&room, &clicks).await {
                tracing::warn!(room, error = %e, "goods clicks not counted");
            }
        }
        for (room, goods) in self
            .take_leased(&self.commerce.stock_dirty, "stock", now, ttl)
            .await
        {
            let Ok(remaining) = self.commerce_store.remaining(&room, &goods).await else {
                continue;
            };
            let kind = EventKind::Stock(Stock { goods, remaining });
            let _ = self.publish(&room, kind).await;
        }
        let claims = &self.commerce.coupons_dirty;
        for (room, coupon) in self.take_leased(claims, "coupon-claims", now, ttl).await {
            let stock = self
                .hubs
                .get(&room)
                .and_then(|h| h.room().commerce.coupon.clone())
                .filter(|c| c.id == coupon)
                .map(|c| c.stock as u64);
            let Ok(claimed) = self.commerce_store.coupon_claimed(&room, &coupon).await else {
                continue;
            };
            let remaining = stock.map_or(0, |s| s.saturating_sub(claimed));
            let kind = EventKind::CouponClaims(CouponClaims {
                coupon,
                claimed,
                remaining,
            });
            let _ = self.publish(&room, kind).await;
        }
        self.sweep_reservations(now).await;
    }

    /// The (room, id) entries of `dirty` whose publish lease (`what:room:id`,
    /// `ttl` long) this node took now, removed from `dirty`; the others stay
    /// for a later round (another node published them this round).
    async fn take_leased(
        &self,
        dirty: &DashSet<(String, String)>,
        what: &str,
        now: i64,
        ttl: i64,
    ) -> Vec<(String, String)> {
        let entries: Vec<(String, String)> = dirty.iter().map(|e| e.clone()).collect();
        let mut mine = Vec::with_capacity(entries.len());
        for (room, id) in entries {
            let lease = format!("{what}:{room}:{id}");
            if let Ok(Some(_)) = self
                .store
                .lease(&lease, &self.settings.node_id, now, ttl)
                .await
            {
                dirty.remove(&(room.clone(), id.clone()));
                mine.push((room, id));
            }
        }
        mine
    }

    /// Expires the reservations due, under one lease over the deployment.
    async fn sweep_reservations(&self, now: i64) {
        let ttl = 3 * self.flag_ms();
        match self
            .store
            .lease("commerce:sweep", &self.settings.node_id, now, ttl)
            .await
        {
            Ok(Some(_)) => {}
            _ => return,
        }
        let Ok(rooms) = self.commerce_store.reservation_rooms().await else {
            return;
        };
        for room in rooms {
            match self.commerce_store.expire_due(&room, now, 1000).await {
                Ok(expired) => {
                    for r in expired {
                        tracing::debug!(room, reservation = %r.id, "reservation expired");
                        self.units_returned(&room, &r.goods);
                    }
                }
                Err(e) => tracing::warn!(room, error = %e, "reservations not swept"),
            }
            self.forward_feed(&room).await;
        }
    }

    /// Queues the room's new merchant feed entries as webhooks (types
    /// `grab.*` and `coupon.claimed`), each with the `webhook-id`
    /// `msg_<room>_<cursor>`, then notes the cursor: an entry queued twice
    /// (a node died between the two) keeps its id.
    async fn forward_feed(&self, room: &str) {
        for _ in 0..FORWARD_BATCHES {
            if !self.forward_batch(room).await {
                return;
            }
        }
    }

    /// One batch of [`Node::forward_feed`]; true when a full batch went
    /// out (more may follow).
    async fn forward_batch(&self, room: &str) -> bool {
        let Ok(after) = self.commerce_store.forwarded(room).await else {
            return false;
        };
        let Ok(entries) = self
            .commerce_store
            .feed(room, after.as_deref(), FORWARD_BATCH)
            .await
        else {
            return false;
        };
        let mut done = None;
        let mut sent = 0;
        for e in &entries {
            let mut data = e.data.clone();
            if let serde_json::Value::Object(m) = &mut data {
                m.insert("cursor".into(), e.cursor.clone().into());
            }
            let id = format!("msg_{room}_{}", e.cursor);
            if let Err(r) = self
                .emit_webhook_as(&e.kind, Some(room), data, Some(id))
                .await
            {
                tracing::warn!(room, reason = %r, "commerce webhooks not queued; next round");
                break;
            }
            done = Some(e.cursor.as_str());
            sent += 1;
        }
        if let Some(c) = done
            && let Err(e) = self.commerce_store.set_forwarded(room, c).await
        {
            tracing::warn!(room, error = %e, "webhook forwarder progress not noted");
            return false;
        }
        sent == FORWARD_BATCH
    }
}

/// How long a node trusts that it noted a room in the store.
const NOTED_FOR_MS: i64 = 60_000;

/// Rounds a sold-out flag lasts unless renewed.
const FLAG_ROUNDS: i64 = 3;

/// Feed entries the webhook forwarder reads at once.
const FORWARD_BATCH: usize = 1000;

/// Batches the forwarder queues per room and round at most (20,000 entries
/// a round: a room grabbing faster than that per round falls behind).
const FORWARD_BATCHES: usize = 20;

/// Runs the commerce round every `commerce_interval_ms` until shutdown.
pub async fn run(node: Arc<Node>) {
    let mut shutdown = node.shutdown_signal();
    let every = Duration::from_millis(node.settings.commerce_interval_ms.max(1));
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => node.commerce_round().await,
        }
    }
}

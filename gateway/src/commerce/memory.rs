//! `CommerceStore` in process: each room's tables live in its `RoomData`
//! and change under the room's mutex, so a grab checks the room's status,
//! the item and the quota in one locked section, as the Redis script does
//! in one call.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use async_trait::async_trait;
use protocol::commerce::{Coupon, Goods, GoodsSpec, Reservation, ReservationState};
use protocol::{ErrorCode, Rejection, RoomStatus};

use super::store::{
    Answer, ClaimCall, ClaimOutcome, CommerceStore, FEED_CAPACITY, FeedEntry, GrabCall, GrabOutcome,
};
use crate::store::{MemoryStore, StoreError};

/// Keys kept before expired answers are swept.
const ANSWERS_SWEEP_AT: usize = 100_000;

/// One room's commerce tables.
#[derive(Default)]
pub struct RoomCommerce {
    goods: HashMap<String, Goods>,
    /// Units reserved or confirmed, per item.
    sold: HashMap<String, u64>,
    /// Units a viewer holds, per (item, user).
    held: HashMap<(String, String), u64>,
    reservations: HashMap<String, Reservation>,
    /// (expires_at, id) of reserved reservations.
    due: BTreeSet<(i64, String)>,
    /// `user:key` of each reservation, per item.
    grab_keys: HashMap<String, Vec<(String, String)>>,
    /// (user, key) → (fingerprint, answer, kept until).
    answers: HashMap<(String, String), (String, Answer<Reservation>, i64)>,
    coupons: HashMap<String, (Coupon, bool)>,
    coupon_claimed: HashMap<String, u64>,
    coupon_held: HashMap<(String, String), u32>,
    claim_answers: HashMap<(String, String), (String, Answer<u32>, i64)>,
    counters: BTreeMap<String, u64>,
    feed: VecDeque<FeedEntry>,
    feed_seq: u64,
    forwarded: Option<String>,
}

impl RoomCommerce {
    fn count(&mut self, name: &str, goods: &str, n: u64) {
        *self.counters.entry(format!("{name}:{goods}")).or_default() += n;
    }

    fn log(&mut self, kind: &str, at: i64, data: serde_json::Value) {
        self.feed_seq += 1;
        self.feed.push_back(FeedEntry {
            cursor: self.feed_seq.to_string(),
            kind: kind.to_string(),
            at,
            data,
        });
        while self.feed.len() > FEED_CAPACITY {
            self.feed.pop_front();
        }
    }

    fn remaining(&self, goods: &str) -> u64 {
        let quota = self.goods.get(goods).map_or(0, |g| g.quota as u64);
        quota.saturating_sub(self.sold.get(goods).copied().unwrap_or(0))
    }

    fn settle(
        &mut self,
        id: &str,
        to: ReservationState,
        now: i64,
    ) -> Result<Option<Reservation>, StoreError> {
        let Some(r) = self.reservations.get(id).cloned() else {
            return Ok(None);
        };
        if r.state != ReservationState::Reserved {
            return Err(StoreError::Rejected(Rejection::new(
                ErrorCode::InvalidTransition,
                format!("the reservation is {:?}", r.state).to_lowercase(),
            )));
        }
        let mut next = r.clone();
        next.state = to;
        self.due.remove(&(r.expires_at, r.id.clone()));
        let (counter, kind) = match to {
            ReservationState::Confirmed => ("confirmed", "grab.confirmed"),
            ReservationState::Cancelled => ("cancelled", "grab.cancelled"),
            ReservationState::Expired => ("expired", "grab.expired"),
            ReservationState::Reserved => return Ok(Some(r)),
        };
        if to != ReservationState::Confirmed {
            let q = r.quantity as u64;
            if let Some(s) = self.sold.get_mut(&r.goods) {
                *s = s.saturating_sub(q);
            }
            if let Some(h) = self.held.get_mut(&(r.goods.clone(), r.user.clone())) {
                *h = h.saturating_sub(q);
            }
        }
        self.count(counter, &r.goods, r.quantity as u64);
        self.reservations.insert(id.to_string(), next.clone());
        self.log(kind, now, serde_json::to_value(&next).unwrap_or_default());
        Ok(Some(next))
    }
}

fn live(status: RoomStatus) -> bool {
    status == RoomStatus::Live
}

#[async_trait]
impl CommerceStore for MemoryStore {
    async fn put_goods(
        &self,
        room: &str,
        spec: &GoodsSpec,
        max_goods: usize,
    ) -> Result<Goods, StoreError> {
        self.with_room(room, |d| {
            let c = &mut d.commerce;
            let item = match c.goods.get(&spec.id) {
                Some(old) => old.updated(spec.clone()),
                None => {
                    if c.goods.len() >= max_goods {
                        return Err(StoreError::Rejected(shelf_full(max_goods)));
                    }
                    let position = c.goods.values().map(|g| g.position + 1).max().unwrap_or(0);
                    Goods::new(spec.clone(), position)
                }
            };
            c.goods.insert(item.id.clone(), item.clone());
            Ok(item)
        })?
    }

    async fn remove_goods(&self, room: &str, goods: &str) -> Result<bool, StoreError> {
        self.with_room(room, |d| d.commerce.goods.remove(goods).is_some())
    }

    async fn reorder_goods(&self, room: &str, order: &[String]) -> Result<(), StoreError> {
        self.with_room(room, |d| {
            let c = &mut d.commerce;
            let listed: BTreeSet<&String> = order.iter().collect();
            if listed.len() != order.len()
                || order.len() != c.goods.len()
                || order.iter().any(|g| !c.goods.contains_key(g))
            {
                return Err(StoreError::Rejected(not_every_item()));
            }
            for (i, g) in order.iter().enumerate() {
                if let Some(item) = c.goods.get_mut(g) {
                    item.position = i as u32;
                }
            }
            Ok(())
        })?
    }

    async fn switch_goods(
        &self,
        room: &str,
        goods: &str,
        grabbable: bool,
    ) -> Result<Option<Goods>, StoreError> {
        self.with_room(room, |d| {
            d.commerce.goods.get_mut(goods).map(|g| {
                g.grabbable = grabbable;
                g.clone()
            })
        })
    }

    async fn shelf(&self, room: &str) -> Result<Vec<Goods>, StoreError> {
        self.with_room(room, |d| {
            let mut items: Vec<Goods> = d.commerce.goods.values().cloned().collect();
            items.sort_by_key(|g| g.position);
            items
        })
    }

    async fn goods(&self, room: &str, goods: &str) -> Result<Option<Goods>, StoreError> {
        self.with_room(room, |d| d.commerce.goods.get(goods).cloned())
    }

    async fn remaining(&self, room: &str, goods: &str) -> Result<u64, StoreError> {
        self.with_room(room, |d| d.commerce.remaining(goods))
    }

    async fn grab(&self, call: &GrabCall<'_>) -> Result<GrabOutcome, StoreError> {
        self.with_room(call.room, |d| {
            let status = d.room().status;
            let c = &mut d.commerce;
            let answer_key = (call.user.to_string(), call.key.to_string());
            if let Some((fp, answer, until)) = c.answers.get(&answer_key)
                && *until > call.now
            {
                if *fp != call.fingerprint() {
                    return GrabOutcome::Conflict;
                }
                return GrabOutcome::Again(answer.clone());
            }
            let outcome = grab_checked(c, call, live(status));
            let answer = match &outcome {
                GrabOutcome::Reserved { reservation, .. } => Answer::Ok(reservation.clone()),
                GrabOutcome::Refused(code) => Answer::Err(*code),
                _ => return outcome,
            };
            if c.answers.len() >= ANSWERS_SWEEP_AT {
                c.answers.retain(|_, (_, _, until)| *until > call.now);
            }
            let until = call.now + call.answer_ttl_s as i64 * 1000;
            c.answers
                .insert(answer_key, (call.fingerprint(), answer, until));
            c.count("grabs", call.goods, 1);
            outcome
        })
    }

    async fn grab_keys(
        &self,
        room: &str,
        goods: &str,
    ) -> Result<Vec<(String, Reservation)>, StoreError> {
        self.with_room(room, |d| {
            let c = &d.commerce;
            c.grab_keys
                .get(goods)
                .map(|v| {
                    v.iter()
                        .filter_map(|(k, id)| {
                            c.reservations.get(id).map(|r| (k.clone(), r.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    async fn settle(
        &self,
        room: &str,
        reservation: &str,
        to: ReservationState,
        now: i64,
    ) -> Result<Option<Reservation>, StoreError> {
        self.with_room(room, |d| d.commerce.settle(reservation, to, now))?
    }

    async fn expire_due(
        &self,
        room: &str,
        now: i64,
        max: usize,
    ) -> Result<Vec<Reservation>, StoreError> {
        self.with_room(room, |d| {
            let c = &mut d.commerce;
            let due: Vec<String> = c
                .due
                .iter()
                .take_while(|(at, _)| *at <= now)
                .take(max)
                .map(|(_, id)| id.clone())
                .collect();
            due.iter()
                .filter_map(|id| c.settle(id, ReservationState::Expired, now).ok().flatten())
                .collect()
        })
    }

    async fn reservation(&self, room: &str, id: &str) -> Result<Option<Reservation>, StoreError> {
        self.with_room(room, |d| d.commerce.reservations.get(id).cloned())
    }

    async fn reservation_rooms(&self) -> Result<Vec<String>, StoreError> {
        let ids = self.room_ids();
        Ok(ids
            .into_iter()
            .filter(|id| {
                self.with_room(id, |d| d.commerce.feed_seq > 0)
                    .unwrap_or(false)
            })
            .collect())
    }

    async fn put_coupon(&self, room: &str, coupon: &Coupon) -> Result<(), StoreError> {
        self.with_room(room, |d| {
            d.commerce
                .coupons
                .insert(coupon.id.clone(), (coupon.clone(), true));
        })
    }

    async fn claim_coupon(&self, call: &ClaimCall<'_>) -> Result<ClaimOutcome, StoreError> {
        self.with_room(call.room, |d| {
            let status = d.room().status;
            let c = &mut d.commerce;
            let answer_key = (call.user.to_string(), call.key.to_string());
            if let Some((fp, answer, until)) = c.claim_answers.get(&answer_key)
                && *until > call.now
            {
                if fp != call.coupon {
                    return ClaimOutcome::Conflict;
                }
                return ClaimOutcome::Again(answer.clone());
            }
            let outcome = claim_checked(c, call, live(status));
            let answer = match &outcome {
                ClaimOutcome::Claimed { held, .. } => Answer::Ok(*held),
                ClaimOutcome::Refused(code) => Answer::Err(*code),
                _ => return outcome,
            };
            if c.claim_answers.len() >= ANSWERS_SWEEP_AT {
                c.claim_answers.retain(|_, (_, _, until)| *until > call.now);
            }
            let until = call.now + call.answer_ttl_s as i64 * 1000;
            c.claim_answers
                .insert(answer_key, (call.coupon.to_string(), answer, until));
            outcome
        })
    }

    async fn end_coupon(&self, room: &str, coupon: &str) -> Result<(), StoreError> {
        self.with_room(room, |d| {
            if let Some((_, active)) = d.commerce.coupons.get_mut(coupon) {
                *active = false;
            }
        })
    }

    async fn coupon_claimed(&self, room: &str, coupon: &str) -> Result<u64, StoreError> {
        self.with_room(room, |d| {
            d.commerce.coupon_claimed.get(coupon).copied().unwrap_or(0)
        })
    }

    async fn add_clicks(&self, room: &str, clicks: &[(String, u64)]) -> Result<(), StoreError> {
        self.with_room(room, |d| {
            for (g, n) in clicks {
                d.commerce.count("clicks", g, *n);
            }
        })
    }

    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        self.with_room(room, |d| {
            super::store::with_totals(d.commerce.counters.clone())
        })
    }

    async fn note_reservation_room(&self, _room: &str) -> Result<(), StoreError> {
        // The sweep looks at every room's own tables.
        Ok(())
    }

    async fn forwarded(&self, room: &str) -> Result<Option<String>, StoreError> {
        self.with_room(room, |d| d.commerce.forwarded.clone())
    }

    async fn set_forwarded(&self, room: &str, cursor: &str) -> Result<(), StoreError> {
        self.with_room(room, |d| d.commerce.forwarded = Some(cursor.to_string()))
    }

    async fn feed(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let after: u64 = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        self.with_room(room, |d| {
            d.commerce
                .feed
                .iter()
                .filter(|e| e.cursor.parse::<u64>().unwrap_or(0) > after)
                .take(limit)
                .cloned()
                .collect()
        })
    }
}

/// The grab's checks and, when they pass, the reservation (no key work).
fn grab_checked(c: &mut RoomCommerce, call: &GrabCall<'_>, live: bool) -> GrabOutcome {
    if !live {
        return GrabOutcome::Refused(ErrorCode::RoomNotLive);
    }
    let Some(item) = c.goods.get(call.goods).cloned() else {
        return GrabOutcome::Refused(ErrorCode::UnknownGoods);
    };
    if !item.grabbable {
        return GrabOutcome::Refused(ErrorCode::NotGrabbable);
    }
    let q = call.quantity as u64;
    if q > item.order_limit as u64 {
        return GrabOutcome::Refused(ErrorCode::OrderLimit);
    }
    let held_key = (call.goods.to_string(), call.user.to_string());
    let held = c.held.get(&held_key).copied().unwrap_or(0);
    if item.viewer_limit.is_some_and(|v| held + q > v as u64) {
        return GrabOutcome::Refused(ErrorCode::ViewerLimit);
    }
    let sold = c.sold.get(call.goods).copied().unwrap_or(0);
    if sold + q > item.quota as u64 {
        return GrabOutcome::Refused(ErrorCode::SoldOut);
    }
    let sold = sold + q;
    c.sold.insert(call.goods.to_string(), sold);
    c.held.insert(held_key, held + q);
    let reservation = Reservation {
        id: call.reservation_id.to_string(),
        room: call.room.to_string(),
        goods: call.goods.to_string(),
        user: call.user.to_string(),
        quantity: call.quantity,
        live_price: item.live_price,
        created_at: call.now,
        expires_at: call.now + call.hold_ms,
        state: ReservationState::Reserved,
    };
    c.reservations
        .insert(reservation.id.clone(), reservation.clone());
    c.due
        .insert((reservation.expires_at, reservation.id.clone()));
    c.grab_keys
        .entry(call.goods.to_string())
        .or_default()
        .push((
            format!("{}|{}", call.user, call.key),
            reservation.id.clone(),
        ));
    c.count("reserved", call.goods, q);
    c.log(
        "grab.reserved",
        call.now,
        serde_json::to_value(&reservation).unwrap_or_default(),
    );
    let remaining = (item.quota as u64).saturating_sub(sold);
    GrabOutcome::Reserved {
        reservation,
        remaining,
    }
}

fn claim_checked(c: &mut RoomCommerce, call: &ClaimCall<'_>, live: bool) -> ClaimOutcome {
    if !live {
        return ClaimOutcome::Refused(ErrorCode::RoomNotLive);
    }
    let Some((coupon, active)) = c.coupons.get(call.coupon).cloned() else {
        return ClaimOutcome::Refused(ErrorCode::NotFound);
    };
    let claimed = c.coupon_claimed.get(call.coupon).copied().unwrap_or(0);
    let open = active
        && coupon.valid_from.is_none_or(|t| t <= call.now)
        && coupon.valid_until.is_none_or(|t| call.now < t);
    if !open || claimed >= coupon.stock as u64 {
        return ClaimOutcome::Refused(ErrorCode::CouponGone);
    }
    let held_key = (call.coupon.to_string(), call.user.to_string());
    let held = c.coupon_held.get(&held_key).copied().unwrap_or(0);
    if held >= coupon.per_viewer {
        return ClaimOutcome::Refused(ErrorCode::ViewerLimit);
    }
    c.coupon_held.insert(held_key, held + 1);
    c.coupon_claimed
        .insert(call.coupon.to_string(), claimed + 1);
    c.count("coupon_claims", call.coupon, 1);
    c.log(
        "coupon.claimed",
        call.now,
        serde_json::json!({"coupon": call.coupon, "user": call.user, "held": held + 1}),
    );
    ClaimOutcome::Claimed {
        held: held + 1,
        claimed: claimed + 1,
        stock: coupon.stock as u64,
    }
}

/// The refusal of a 201st item.
pub fn shelf_full(max: usize) -> Rejection {
    Rejection::new(
        ErrorCode::ShelfFull,
        format!("the shelf holds at most {max} goods"),
    )
}

/// The refusal of an order that does not name every item once.
pub fn not_every_item() -> Rejection {
    Rejection::new(
        ErrorCode::Invalid,
        "order must list every item on the shelf exactly once",
    )
}

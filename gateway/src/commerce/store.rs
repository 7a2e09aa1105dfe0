//! `CommerceStore`: the shelf, grabs and their reservations, coupons, the
//! commerce counters and the merchant feed. Every grab, settlement and
//! claim is one atomic step (one Lua script on the room's shard; the
//! room's mutex in process), which checks the room is live in the same
//! step. The pushed card, the explaining pin, the active coupon and the
//! shelf version ride in the room record (`slot.rs`) instead.

use std::collections::BTreeMap;

use async_trait::async_trait;
use protocol::ErrorCode;
use protocol::commerce::{Coupon, Goods, GoodsSpec, Reservation, ReservationState};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// One grab as the store sees it.
#[derive(Debug, Clone)]
pub struct GrabCall<'a> {
    /// Room id.
    pub room: &'a str,
    /// The viewer.
    pub user: &'a str,
    /// Item id.
    pub goods: &'a str,
    /// Units, already within 1..=`MAX_ORDER_LIMIT`.
    pub quantity: u32,
    /// The client's idempotency key.
    pub key: &'a str,
    /// Now, unix ms.
    pub now: i64,
    /// How long a reservation is held.
    pub hold_ms: i64,
    /// The id a new reservation gets.
    pub reservation_id: &'a str,
    /// How long an answer is kept for its key, in seconds.
    pub answer_ttl_s: u64,
}

impl GrabCall<'_> {
    /// What a repeated key must match: the same item and quantity.
    pub fn fingerprint(&self) -> String {
        format!("{}:{}", self.goods, self.quantity)
    }
}

/// The answer stored with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer<T> {
    /// It succeeded.
    Ok(T),
    /// It was refused with this code.
    Err(ErrorCode),
}

/// What a grab did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrabOutcome {
    /// A new reservation; `remaining` units are left (0: this grab took
    /// the last of them).
    Reserved {
        /// The reservation.
        reservation: Reservation,
        /// Units still free.
        remaining: u64,
    },
    /// Refused now (the answer is kept for the key).
    Refused(ErrorCode),
    /// The key was used before with the same parameters: its answer.
    Again(Answer<Reservation>),
    /// The key was used before with other parameters.
    Conflict,
}

/// One coupon claim as the store sees it.
#[derive(Debug, Clone)]
pub struct ClaimCall<'a> {
    /// Room id.
    pub room: &'a str,
    /// The viewer.
    pub user: &'a str,
    /// Coupon id.
    pub coupon: &'a str,
    /// The client's idempotency key.
    pub key: &'a str,
    /// Now, unix ms.
    pub now: i64,
    /// How long an answer is kept for its key, in seconds.
    pub answer_ttl_s: u64,
}

/// What a claim did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Claimed: the viewer holds `held`; `claimed` of `stock` are issued
    /// (`claimed == stock`: this claim issued the last one).
    Claimed {
        /// The viewer's coupons of this kind.
        held: u32,
        /// Issued so far.
        claimed: u64,
        /// Stock in all.
        stock: u64,
    },
    /// Refused (the answer is kept for the key).
    Refused(ErrorCode),
    /// The key was used before for this coupon: the viewer's count then.
    Again(Answer<u32>),
    /// The key was used before for another coupon.
    Conflict,
}

/// One entry of the merchant feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// Cursor: pass it as `after` to read what follows.
    pub cursor: String,
    /// `grab.reserved`, `grab.confirmed`, `grab.cancelled`, `grab.expired`
    /// or `coupon.claimed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened, unix ms.
    pub at: i64,
    /// The reservation, or the claim `{coupon, user, held}`.
    pub data: serde_json::Value,
}

/// Most entries the merchant feed keeps per room.
pub const FEED_CAPACITY: usize = 100_000;

/// The commerce slice's state.
#[async_trait]
pub trait CommerceStore: Send + Sync + 'static {
    /// Adds an item (at the end of the shelf) or changes the one with its
    /// id; `ShelfFull` when a new item would pass `max_goods`.
    async fn put_goods(
        &self,
        room: &str,
        spec: &GoodsSpec,
        max_goods: usize,
    ) -> Result<Goods, StoreError>;
    /// Takes an item off the shelf; false when it was not there.
    async fn remove_goods(&self, room: &str, goods: &str) -> Result<bool, StoreError>;
    /// Puts the shelf in `order`, which must name every item once.
    async fn reorder_goods(&self, room: &str, order: &[String]) -> Result<(), StoreError>;
    /// Switches an item grabbable or not; `None` when there is no such item.
    async fn switch_goods(
        &self,
        room: &str,
        goods: &str,
        grabbable: bool,
    ) -> Result<Option<Goods>, StoreError>;
    /// Every item, by position.
    async fn shelf(&self, room: &str) -> Result<Vec<Goods>, StoreError>;
    /// One item.
    async fn goods(&self, room: &str, goods: &str) -> Result<Option<Goods>, StoreError>;
    /// Units of an item still free in its quota.
    async fn remaining(&self, room: &str, goods: &str) -> Result<u64, StoreError>;
    /// A grab, in one atomic step: the key's earlier answer, or the checks
    /// (room live, item grabbable, order limit, viewer limit, quota) and
    /// the reservation.
    async fn grab(&self, call: &GrabCall<'_>) -> Result<GrabOutcome, StoreError>;
    /// The reservations of an item and the `user|key` each was made with,
    /// every state.
    async fn grab_keys(
        &self,
        room: &str,
        goods: &str,
    ) -> Result<Vec<(String, Reservation)>, StoreError>;
    /// Moves a reserved reservation to `to` (confirmed, cancelled or
    /// expired); a cancel or expiry returns its units. `Ok(None)` when
    /// there is no such reservation; `Err(Rejected(invalid_transition))`
    /// when it is no longer reserved.
    async fn settle(
        &self,
        room: &str,
        reservation: &str,
        to: ReservationState,
        now: i64,
    ) -> Result<Option<Reservation>, StoreError>;
    /// Expires up to `max` reservations of the room due by `now`.
    async fn expire_due(
        &self,
        room: &str,
        now: i64,
        max: usize,
    ) -> Result<Vec<Reservation>, StoreError>;
    /// One reservation.
    async fn reservation(&self, room: &str, id: &str) -> Result<Option<Reservation>, StoreError>;
    /// Notes that the room holds reservations or claims (once per room and
    /// node is enough; the node remembers).
    async fn note_reservation_room(&self, room: &str) -> Result<(), StoreError>;
    /// Rooms noted by [`CommerceStore::note_reservation_room`] (the expiry
    /// sweep and the webhook forwarder visit them).
    async fn reservation_rooms(&self) -> Result<Vec<String>, StoreError>;
    /// Stores a coupon's terms (a repeated push of one id keeps its claims).
    async fn put_coupon(&self, room: &str, coupon: &Coupon) -> Result<(), StoreError>;
    /// A claim, in one atomic step: the key's earlier answer, or the checks
    /// (room live, coupon active and in its window, stock, per-viewer).
    async fn claim_coupon(&self, call: &ClaimCall<'_>) -> Result<ClaimOutcome, StoreError>;
    /// Marks a coupon withdrawn: later claims are `coupon_gone`.
    async fn end_coupon(&self, room: &str, coupon: &str) -> Result<(), StoreError>;
    /// Coupons of this id issued so far.
    async fn coupon_claimed(&self, room: &str, coupon: &str) -> Result<u64, StoreError>;
    /// Adds goods clicks: (item id, clicks).
    async fn add_clicks(&self, room: &str, clicks: &[(String, u64)]) -> Result<(), StoreError>;
    /// The room's commerce counters (`clicks`, `grabs`, `reserved`,
    /// `confirmed`, `cancelled`, `expired`, `coupon_claims`, and per item
    /// `<counter>:<goods>`).
    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError>;
    /// The feed cursor up to which the webhook forwarder has queued entries.
    async fn forwarded(&self, room: &str) -> Result<Option<String>, StoreError>;
    /// Notes the forwarder's progress.
    async fn set_forwarded(&self, room: &str, cursor: &str) -> Result<(), StoreError>;
    /// Merchant feed entries after `after` (null: from the oldest kept).
    async fn feed(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;
}

/// Per-item counters (`<name>:<id>`) plus their totals (`<name>`).
pub fn with_totals(per_item: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut out = per_item.clone();
    for (k, v) in per_item {
        if let Some((name, _)) = k.split_once(':') {
            *out.entry(name.to_string()).or_default() += v;
        }
    }
    out
}

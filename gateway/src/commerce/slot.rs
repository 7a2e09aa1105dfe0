//! What of the room's commerce rides in the room record, so every hub
//! holds it and the join snapshot needs no read: the shelf version, the
//! pushed card, the explaining pin and the active coupon. The shelf itself
//! and the stock live in the commerce store.

use protocol::commerce::{Card, CommerceView, Coupon, Goods};
use serde::{Deserialize, Serialize};

/// The commerce part of a room record. No field is named `status`: the
/// grab script finds the room's status by its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceSlot {
    /// Bumped with every shelf change.
    #[serde(default)]
    pub shelf_version: u64,
    /// The pushed card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardSlot>,
    /// The item being explained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explaining: Option<String>,
    /// The active coupon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<Coupon>,
}

/// The pushed card as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSlot {
    /// The item when pushed.
    pub goods: Goods,
    /// Pushed at, unix ms.
    pub pushed_at: i64,
    /// Shows until, unix ms.
    pub until: i64,
}

impl CardSlot {
    /// The card as clients see it at `now`.
    pub fn shown(&self, now: i64) -> Card {
        Card {
            goods: self.goods.clone(),
            pushed_at: self.pushed_at,
            until: self.until,
            remaining_ms: (self.until - now).max(0) as u64,
        }
    }
}

impl CommerceSlot {
    /// Whether nothing is set (the record leaves it out).
    pub fn is_empty(&self) -> bool {
        *self == CommerceSlot::default()
    }

    /// The join snapshot's part at `now` (an expired card no longer shows).
    pub fn view(&self, now: i64) -> CommerceView {
        CommerceView {
            shelf_version: self.shelf_version,
            card: self
                .card
                .as_ref()
                .filter(|c| c.until > now)
                .map(|c| Box::new(c.shown(now))),
            explaining: self.explaining.clone(),
            coupon: self
                .coupon
                .clone()
                .filter(|c| c.valid_until.is_none_or(|t| t > now))
                .map(Box::new),
        }
    }

    /// The earliest time something here runs out: the card, or the
    /// coupon's window.
    pub fn next_deadline(&self) -> Option<i64> {
        let card = self.card.as_ref().map(|c| c.until);
        let coupon = self.coupon.as_ref().and_then(|c| c.valid_until);
        card.into_iter().chain(coupon).min()
    }
}

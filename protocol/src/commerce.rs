//! Live-commerce frames: the goods shelf, the pushed goods card (上链接),
//! the explaining pin (讲解中), grabs with their reservations, coupons, and
//! the room events that follow them.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Rejection};
use crate::limits::Limits;
use crate::request::RequestId;

/// How a goods item becomes grabbable (抢购时机).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrabMode {
    /// Grabbable as soon as it is on the shelf (while the room is live).
    #[default]
    Now,
    /// Not grabbable until switched on (`goods_switch`) during the live.
    OnSwitch,
}

/// A goods item as the anchor or an admin describes it (`goods_put`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsSpec {
    /// Item id (the id alphabet).
    pub id: String,
    /// Name shown on the shelf and the card: 1..=60 characters.
    pub name: String,
    /// Cover image: an `http://` or `https://` URL of at most 512 bytes.
    pub cover_url: String,
    /// List price, integer minor units (fen).
    pub price: u64,
    /// Live price, integer minor units, at most the list price.
    pub live_price: u64,
    /// Units that may be reserved during this live (单场直播可抢数量).
    pub quota: u32,
    /// Most units one grab may take (每单限购).
    pub order_limit: u32,
    /// Most units one viewer may hold in reservations and orders; null: no
    /// limit beyond the quota.
    #[serde(default)]
    pub viewer_limit: Option<u32>,
    /// Grabbable at once, or only once switched on.
    #[serde(default)]
    pub mode: GrabMode,
}

/// A goods item on the shelf: the spec plus what the gateway keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goods {
    /// Item id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Cover image URL.
    pub cover_url: String,
    /// List price, minor units.
    pub price: u64,
    /// Live price, minor units.
    pub live_price: u64,
    /// Live quota.
    pub quota: u32,
    /// Per-order limit.
    pub order_limit: u32,
    /// Per-viewer limit, or null.
    #[serde(default)]
    pub viewer_limit: Option<u32>,
    /// Grab mode.
    #[serde(default)]
    pub mode: GrabMode,
    /// Whether a grab may take it now (mode `now`: always; `on_switch`:
    /// once switched on).
    pub grabbable: bool,
    /// Place on the shelf, 0 first.
    pub position: u32,
}

impl Goods {
    /// A new item from its spec, placed at `position`.
    pub fn new(spec: GoodsSpec, position: u32) -> Goods {
        Goods {
            grabbable: spec.mode == GrabMode::Now,
            id: spec.id,
            name: spec.name,
            cover_url: spec.cover_url,
            price: spec.price,
            live_price: spec.live_price,
            quota: spec.quota,
            order_limit: spec.order_limit,
            viewer_limit: spec.viewer_limit,
            mode: spec.mode,
            position,
        }
    }

    /// This item changed by `spec`: position kept, and the grab switch kept
    /// unless the mode changed.
    pub fn updated(&self, spec: GoodsSpec) -> Goods {
        let grabbable = if spec.mode == self.mode {
            self.grabbable
        } else {
            spec.mode == GrabMode::Now
        };
        Goods {
            grabbable,
            ..Goods::new(spec, self.position)
        }
    }
}

/// A coupon as pushed into the room (`coupon_push`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponSpec {
    /// Coupon id (the id alphabet).
    pub id: String,
    /// Name shown to viewers: 1..=60 characters.
    pub name: String,
    /// Coupons that may be issued in all.
    pub stock: u32,
    /// Claims per viewer (default 1).
    #[serde(default = "one")]
    pub per_viewer: u32,
    /// Claims open at, unix ms (null: at once).
    #[serde(default)]
    pub valid_from: Option<i64>,
    /// Claims close at, unix ms (null: while the room's live lasts).
    #[serde(default)]
    pub valid_until: Option<i64>,
}

fn one() -> u32 {
    1
}

/// The room's active coupon as viewers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// Coupon id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Coupons in all.
    pub stock: u32,
    /// Claims per viewer.
    pub per_viewer: u32,
    /// Claims open at, unix ms.
    pub valid_from: Option<i64>,
    /// Claims close at, unix ms.
    pub valid_until: Option<i64>,
}

impl From<CouponSpec> for Coupon {
    fn from(s: CouponSpec) -> Coupon {
        Coupon {
            id: s.id,
            name: s.name,
            stock: s.stock,
            per_viewer: s.per_viewer,
            valid_from: s.valid_from,
            valid_until: s.valid_until,
        }
    }
}

/// The pushed goods card on every viewer's screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// The item, as it was when pushed.
    pub goods: Goods,
    /// When it was pushed, unix ms.
    pub pushed_at: i64,
    /// When it stops showing, unix ms.
    pub until: i64,
    /// Milliseconds it still shows, when this frame was made.
    pub remaining_ms: u64,
}

/// `shelf`: fetch the joined room's shelf (answered by `shelf`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelfRequest {}

/// `goods_put`: add a goods item, or change the item with that id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsPut {
    /// The item.
    pub goods: GoodsSpec,
}

/// `goods_remove`: take an item off the shelf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsRemove {
    /// Item id.
    pub goods: String,
}

/// `goods_reorder`: the shelf's new order, every item id once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsReorder {
    /// Item ids, first on the shelf first.
    pub order: Vec<String>,
}

/// `goods_switch`: switch an item between "not grabbable" and "grabbable".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsSwitch {
    /// Item id.
    pub goods: String,
    /// Grabbable from now on, or not.
    pub grabbable: bool,
}

/// `card_push`: show an item's card to every viewer, replacing the card
/// shown now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPush {
    /// Item id.
    pub goods: String,
    /// Seconds the card shows (null: the deployment's `card_show_s`).
    #[serde(default)]
    pub duration_s: Option<u32>,
}

/// `card_withdraw`: take the pushed card down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardWithdraw {}

/// `explain`: pin the item being explained (null: unpin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explain {
    /// Item id, or null.
    #[serde(default)]
    pub goods: Option<String>,
}

/// `grab`: reserve units of an item at its live price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grab {
    /// Item id.
    pub goods: String,
    /// Units, 1..=the item's order limit.
    pub quantity: i64,
    /// Idempotency key chosen by the client (the id alphabet): the same key
    /// returns the same reservation.
    pub key: String,
}

/// `goods_click`: a viewer opened an item (counted, not stored per click).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsClick {
    /// Item id.
    pub goods: String,
}

/// `coupon_push`: make a coupon the room's active coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponPush {
    /// The coupon.
    pub coupon: CouponSpec,
}

/// `coupon_claim`: claim the room's active coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponClaim {
    /// Coupon id.
    pub coupon: String,
    /// Idempotency key (the id alphabet).
    pub key: String,
}

/// `shelf` reply: the whole shelf at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelfFrame {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// Shelf version: every change bumps it.
    pub version: u64,
    /// The items by position; the explaining item first.
    pub items: Vec<Goods>,
    /// The item being explained, or null.
    pub explaining: Option<String>,
}

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Held for the viewer until `expires_at`.
    Reserved,
    /// Paid: the merchant backend confirmed it.
    Confirmed,
    /// Cancelled by the merchant backend; the units went back.
    Cancelled,
    /// Not confirmed in time; the units went back.
    Expired,
}

/// Units of an item held for one viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Reservation id.
    pub id: String,
    /// Room id.
    pub room: String,
    /// Item id.
    pub goods: String,
    /// The viewer.
    pub user: String,
    /// Units.
    pub quantity: u32,
    /// Live price per unit, minor units.
    pub live_price: u64,
    /// When it was made, unix ms.
    pub created_at: i64,
    /// When it expires unless confirmed, unix ms.
    pub expires_at: i64,
    /// State.
    pub state: ReservationState,
}

/// `grabbed` reply: the grab succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grabbed {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// The reservation.
    pub reservation: Reservation,
}

/// `coupon_claimed` reply: the claim succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponClaimed {
    /// Echo of the request id.
    pub id: Option<RequestId>,
    /// Coupon id.
    pub coupon: String,
    /// How many of this coupon the viewer holds now.
    pub held: u32,
}

/// `goods` event: the shelf changed. Exactly one of `item`, `removed` and
/// `order` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsChanged {
    /// The shelf's version after the change.
    pub version: u64,
    /// The item added or changed.
    pub item: Option<Goods>,
    /// The id of the item taken off.
    pub removed: Option<String>,
    /// The new order of every item.
    pub order: Option<Vec<String>>,
}

/// Why a card or coupon appeared or went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShownReason {
    /// Pushed (a new push replaces the one shown).
    Pushed,
    /// Withdrawn by the anchor or an admin, or its item left the shelf.
    Withdrawn,
    /// Its time ran out.
    Expired,
    /// A coupon with no stock left.
    Gone,
    /// The live ended or paused.
    LiveOver,
}

/// `card` event: the pushed card now (null: none shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardChanged {
    /// The card, or null.
    pub card: Option<Card>,
    /// Why it changed.
    pub reason: ShownReason,
}

/// `explaining` event: the pinned item now (null: none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainingChanged {
    /// Item id, or null.
    pub goods: Option<String>,
}

/// `sold_out` event: an item's quota was used up (once each time it runs
/// out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoldOut {
    /// Item id.
    pub goods: String,
}

/// `stock` event (low lane, at most once a second per item): units left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    /// Item id.
    pub goods: String,
    /// Units still free in the live quota.
    pub remaining: u64,
}

/// `coupon` event: the room's active coupon now (null: none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponChanged {
    /// The coupon, or null.
    pub coupon: Option<Coupon>,
    /// Why it changed (`gone` names the coupon that ran out).
    pub reason: ShownReason,
    /// The coupon that went away, when `coupon` is null.
    pub ended: Option<String>,
}

/// `coupon_claims` event (low lane, at most once a second per coupon).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponClaims {
    /// Coupon id.
    pub coupon: String,
    /// Coupons issued so far.
    pub claimed: u64,
    /// Coupons left.
    pub remaining: u64,
}

/// What of the room's commerce the join snapshot carries (not the shelf
/// itself: `shelf` fetches it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommerceView {
    /// Shelf version (0: no goods ever).
    pub shelf_version: u64,
    /// The pushed card and its remaining time, or null.
    pub card: Option<Box<Card>>,
    /// The item being explained, or null.
    pub explaining: Option<String>,
    /// The active coupon, or null.
    pub coupon: Option<Box<Coupon>>,
}

/// Longest goods or coupon name, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// Longest cover URL, in bytes.
pub const MAX_URL_BYTES: usize = 512;
/// Highest price, in minor units (10^11: a billion yuan).
pub const MAX_PRICE: u64 = 100_000_000_000;
/// Highest live quota, and highest coupon stock.
pub const MAX_QUOTA: u32 = 10_000_000;
/// Highest per-order limit.
pub const MAX_ORDER_LIMIT: u32 = 1000;
/// Highest per-viewer limit.
pub const MAX_VIEWER_LIMIT: u32 = 100_000;
/// Most ids a `goods_reorder` may list (a shelf never holds more).
pub const MAX_SHELF_IDS: usize = 1000;
/// Longest card time, in seconds.
pub const MAX_CARD_S: u32 = 3600;

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::Invalid, message)
}

impl GoodsSpec {
    /// Validates every field.
    pub fn check(&self, limits: &Limits) -> Result<(), Rejection> {
        limits.check_id("goods id", &self.id)?;
        check_name(&self.name)?;
        check_url(&self.cover_url)?;
        if self.price > MAX_PRICE || self.live_price > self.price {
            return Err(invalid(format!(
                "price must be at most {MAX_PRICE} and live_price at most price"
            )));
        }
        if self.quota > MAX_QUOTA {
            return Err(invalid(format!("quota must be 0..={MAX_QUOTA}")));
        }
        if self.order_limit == 0 || self.order_limit > MAX_ORDER_LIMIT {
            return Err(invalid(format!(
                "order_limit must be 1..={MAX_ORDER_LIMIT}"
            )));
        }
        if let Some(v) = self.viewer_limit
            && (v == 0 || v > MAX_VIEWER_LIMIT)
        {
            return Err(invalid(format!(
                "viewer_limit must be 1..={MAX_VIEWER_LIMIT} or null"
            )));
        }
        Ok(())
    }
}

impl CouponSpec {
    /// Validates every field.
    pub fn check(&self, limits: &Limits) -> Result<(), Rejection> {
        limits.check_id("coupon id", &self.id)?;
        check_name(&self.name)?;
        if self.stock == 0 || self.stock > MAX_QUOTA {
            return Err(invalid(format!("stock must be 1..={MAX_QUOTA}")));
        }
        if self.per_viewer == 0 || self.per_viewer > MAX_VIEWER_LIMIT {
            return Err(invalid(format!(
                "per_viewer must be 1..={MAX_VIEWER_LIMIT}"
            )));
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until <= from
        {
            return Err(invalid("valid_until must be after valid_from"));
        }
        if self.valid_from.is_some_and(|t| t < 0) || self.valid_until.is_some_and(|t| t < 0) {
            return Err(invalid("validity times are unix milliseconds"));
        }
        Ok(())
    }
}

/// A goods or coupon name: 1..=60 characters, no control or bidi
/// characters, something visible.
pub fn check_name(name: &str) -> Result<(), Rejection> {
    let n = name.chars().count();
    if n == 0
        || n > MAX_NAME_CHARS
        || name
            .chars()
            .any(|c| c.is_control() || crate::text::is_bidi_control(c))
        || !crate::text::is_visible(name)
    {
        return Err(invalid(format!(
            "name must be 1..={MAX_NAME_CHARS} visible characters without control characters"
        )));
    }
    Ok(())
}

/// A cover URL: `http://` or `https://` with a host, at most 512 bytes of
/// printable ASCII.
pub fn check_url(url: &str) -> Result<(), Rejection> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let ok = url.len() <= MAX_URL_BYTES
        && url.bytes().all(|b| b.is_ascii_graphic())
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !ok {
        return Err(invalid(format!(
            "cover_url must be an http or https URL of at most {MAX_URL_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks a grab's fields that need no shelf: the ids and a quantity of
/// 1..=`MAX_ORDER_LIMIT`.
pub fn check_grab(g: &Grab, limits: &Limits) -> Result<(), Rejection> {
    limits.check_id("goods", &g.goods)?;
    limits.check_id("key", &g.key)?;
    if g.quantity < 1 || g.quantity > MAX_ORDER_LIMIT as i64 {
        return Err(invalid(format!("quantity must be 1..={MAX_ORDER_LIMIT}")));
    }
    Ok(())
}

/// The bytes of a `shelf` reply to request `id`, from the reply encoded
/// once with no id (`cached`): the shelf is encoded once per version and
/// codec, and only the id differs between viewers. JSON: the id replaces
/// the leading `"id":null`; postcard: the option byte after the variant
/// index.
pub fn shelf_reply(codec: crate::Codec, cached: &[u8], id: Option<&RequestId>) -> Vec<u8> {
    let Some(id) = id else {
        return cached.to_vec();
    };
    match codec {
        crate::Codec::Json => {
            const HEAD: &[u8] = br#"{"type":"shelf","id":null"#;
            let Some(rest) = cached.strip_prefix(HEAD) else {
                return cached.to_vec();
            };
            let quoted = serde_json::to_vec(&id.0).unwrap_or_default();
            let mut out = Vec::with_capacity(cached.len() + quoted.len());
            out.extend_from_slice(br#"{"type":"shelf","id":"#);
            out.extend_from_slice(&quoted);
            out.extend_from_slice(rest);
            out
        }
        crate::Codec::Binary => {
            // [variant index varint][0 = None][rest]: the index is one byte
            // below 128.
            if cached.len() < 2 || cached[0] >= 0x80 || cached[1] != 0 {
                return cached.to_vec();
            }
            let mut out = Vec::with_capacity(cached.len() + id.0.len() + 6);
            out.push(cached[0]);
            out.push(1);
            let mut n = id.0.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
            out.extend_from_slice(id.0.as_bytes());
            out.extend_from_slice(&cached[2..]);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_shelf_reply_equals_the_direct_encoding() {
        let frame = |id: Option<RequestId>| {
            crate::ServerFrame::Shelf(ShelfFrame {
                id,
                version: 7,
                items: vec![Goods::new(spec(), 0)],
                explaining: Some("g1".into()),
            })
        };
        for codec in [crate::Codec::Json, crate::Codec::Binary] {
            let cached = codec.encode_server(&frame(None));
            for id in ["1", "a\"b", &"x".repeat(200)] {
                let rid = RequestId(id.to_string());
                let direct = codec.encode_server(&frame(Some(rid.clone())));
                assert_eq!(
                    shelf_reply(codec, &cached, Some(&rid)),
                    direct.to_vec(),
                    "{codec:?} {id}"
                );
            }
            assert_eq!(shelf_reply(codec, &cached, None), cached.to_vec());
        }
    }

    fn spec() -> GoodsSpec {
        GoodsSpec {
            id: "g1".into(),
            name: "牙刷".into(),
            cover_url: "https://img.example/a.png".into(),
            price: 1000,
            live_price: 800,
            quota: 100,
            order_limit: 2,
            viewer_limit: None,
            mode: GrabMode::OnSwitch,
        }
    }

    #[test]
    fn cover_urls_are_http_or_https_only() {
        let l = Limits::default();
        assert!(spec().check(&l).is_ok());
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:image/png;base64,AA",
            "ftp://x/y",
            "https://",
            "https:///path",
            "https://a b",
            "",
        ] {
            let s = GoodsSpec {
                cover_url: bad.into(),
                ..spec()
            };
            assert_eq!(s.check(&l).unwrap_err().code, ErrorCode::Invalid, "{bad}");
        }
        let long = GoodsSpec {
            cover_url: format!("https://a/{}", "x".repeat(MAX_URL_BYTES)),
            ..spec()
        };
        assert!(long.check(&l).is_err());
    }

    #[test]
    fn prices_limits_and_names_are_bounded() {
        let l = Limits::default();
        let cases = [
            GoodsSpec {
                live_price: 1001,
                ..spec()
            },
            GoodsSpec {
                order_limit: 0,
                ..spec()
            },
            GoodsSpec {
                viewer_limit: Some(0),
                ..spec()
            },
            GoodsSpec {
                name: String::new(),
                ..spec()
            },
            GoodsSpec {
                name: "x".repeat(61),
                ..spec()
            },
            GoodsSpec {
                id: "a{b}".into(),
                ..spec()
            },
        ];
        for c in cases {
            assert!(c.check(&l).is_err(), "{c:?}");
        }
    }

    #[test]
    fn an_update_keeps_the_position_and_the_switch() {
        let mut g = Goods::new(spec(), 3);
        assert!(!g.grabbable, "on_switch starts off");
        g.grabbable = true;
        let u = g.updated(GoodsSpec {
            name: "新名字".into(),
            ..spec()
        });
        assert!(u.grabbable);
        assert_eq!(u.position, 3);
        let now = g.updated(GoodsSpec {
            mode: GrabMode::Now,
            ..spec()
        });
        assert!(now.grabbable);
    }

    #[test]
    fn grab_quantities_outside_one_to_the_cap_are_invalid() {
        let l = Limits::default();
        for q in [0, -1, 1 << 40, MAX_ORDER_LIMIT as i64 + 1] {
            let g = Grab {
                goods: "g1".into(),
                quantity: q,
                key: "k".into(),
            };
            assert_eq!(check_grab(&g, &l).unwrap_err().code, ErrorCode::Invalid);
        }
        let long_key = Grab {
            goods: "g1".into(),
            quantity: 1,
            key: "k".repeat(200),
        };
        assert!(check_grab(&long_key, &l).is_err());
    }
}

//! Stable error codes carried by every rejection reply. The string form is the
//! JSON wire value; the binary form is the variant index, so codes are only
//! ever appended.

use serde::{Deserialize, Serialize};

/// Why a request was refused. Documented in `docs/protocol.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON / postcard for any request.
    Malformed,
    /// The frame's `type` names no known request.
    UnknownType,
    /// The frame exceeds the size limit.
    TooLarge,
    /// A field is out of its limits (length, range, characters).
    Invalid,
    /// The request needs a signed-in user; the connection is anonymous.
    Unauthenticated,
    /// The token is forged, malformed or signed with another key.
    TokenInvalid,
    /// The token has expired.
    TokenExpired,
    /// The caller's room role does not allow this action.
    Forbidden,
    /// The request needs a joined room.
    NotJoined,
    /// No room with that id.
    RoomNotFound,
    /// The room is not live (not started, paused, abnormal, ended...).
    RoomNotLive,
    /// Comments are switched off in this room.
    CommentsDisabled,
    /// Likes are switched off in this room.
    LikesDisabled,
    /// Too many requests; see `retry_after_ms`.
    RateLimited,
    /// The lifecycle does not allow that transition from the current status.
    InvalidTransition,
    /// The planned end has passed: the room can no longer start.
    RoomExpired,
    /// This room does not allow anonymous viewers.
    WatchNotAllowed,
    /// The gateway failed internally; retrying may help.
    Internal,
    /// A backend is unavailable; retry later.
    Unavailable,
    /// The room already exists (admin API).
    Conflict,
    /// The caller is muted in this room (`retry_after_ms` when timed).
    Muted,
    /// The comment hit the sensitive-word filter; the message names the
    /// category, never the word.
    Filtered,
    /// Slow mode: one comment per user per interval; see `retry_after_ms`.
    SlowMode,
    /// The target does not exist (comment offset, user, role slot).
    NotFound,
    /// The room already holds its maximum number of lotteries.
    LotteryLimit,
    /// A start past the deployment's limits: rooms live at once, or lives
    /// started today.
    LiveLimit,
    /// The goods item cannot be grabbed now (its grab switch is off).
    NotGrabbable,
    /// The quantity is over the item's per-order limit (每单限购).
    OrderLimit,
    /// The viewer's own total would pass the item's per-viewer limit, or
    /// the viewer already claimed the coupon as often as allowed.
    ViewerLimit,
    /// The item's live quota is used up.
    SoldOut,
    /// No goods item with that id on the room's shelf.
    UnknownGoods,
    /// The shelf already holds its maximum number of goods.
    ShelfFull,
    /// The coupon is gone: no stock left, outside its validity window, or
    /// withdrawn.
    CouponGone,
    /// A quota is used up (the reminder pushes of a UTC day); see
    /// `retry_after_ms`.
    QuotaExceeded,
    /// A notice is still showing; the next may be pushed after
    /// `retry_after_ms`.
    NoticeShowing,
    /// The notice spacing rule (two of the last three intervals under
    /// 5 s): the next notice waits until `retry_after_ms`.
    NoticeSpacing,
    /// Co-stream is switched off in this room.
    CostreamDisabled,
    /// A co-stream is already live or pending in this room: one guest at
    /// a time.
    CostreamBusy,
    /// The co-stream session id is not the room's current one (it ended,
    /// expired or never was).
    CostreamStale,
    /// Only real-name-verified viewers may co-stream (token `real_name`).
    RealNameRequired,
    /// A signalling message over its size limit (SDP or candidate).
    SignalTooLarge,
    /// The applicant list is full.
    ApplicantsFull,
}

impl ErrorCode {
    /// Every code, in wire (variant) order: metrics create a zero counter
    /// for each at start.
    pub const ALL: [ErrorCode; 42] = [
        ErrorCode::Malformed,
        ErrorCode::UnknownType,
        ErrorCode::TooLarge,
        ErrorCode::Invalid,
        ErrorCode::Unauthenticated,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::Forbidden,
        ErrorCode::NotJoined,
        ErrorCode::RoomNotFound,
        ErrorCode::RoomNotLive,
        ErrorCode::CommentsDisabled,
        ErrorCode::LikesDisabled,
        ErrorCode::RateLimited,
        ErrorCode::InvalidTransition,
        ErrorCode::RoomExpired,
        ErrorCode::WatchNotAllowed,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::Conflict,
        ErrorCode::Muted,
        ErrorCode::Filtered,
        ErrorCode::SlowMode,
        ErrorCode::NotFound,
        ErrorCode::LotteryLimit,
        ErrorCode::LiveLimit,
        ErrorCode::NotGrabbable,
        ErrorCode::OrderLimit,
        ErrorCode::ViewerLimit,
        ErrorCode::SoldOut,
        ErrorCode::UnknownGoods,
        ErrorCode::ShelfFull,
        ErrorCode::CouponGone,
        ErrorCode::QuotaExceeded,
        ErrorCode::NoticeShowing,
        ErrorCode::NoticeSpacing,
        ErrorCode::CostreamDisabled,
        ErrorCode::CostreamBusy,
        ErrorCode::CostreamStale,
        ErrorCode::RealNameRequired,
        ErrorCode::SignalTooLarge,
        ErrorCode::ApplicantsFull,
    ];

    /// The wire name, e.g. `"room_not_live"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::RoomNotFound => "room_not_found",
            ErrorCode::RoomNotLive => "room_not_live",
            ErrorCode::CommentsDisabled => "comments_disabled",
            ErrorCode::LikesDisabled => "likes_disabled",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::RoomExpired => "room_expired",
            ErrorCode::WatchNotAllowed => "watch_not_allowed",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Muted => "muted",
            ErrorCode::Filtered => "filtered",
            ErrorCode::SlowMode => "slow_mode",
            ErrorCode::NotFound => "not_found",
            ErrorCode::LotteryLimit => "lottery_limit",
            ErrorCode::LiveLimit => "live_limit",
            ErrorCode::NotGrabbable => "not_grabbable",
            ErrorCode::OrderLimit => "order_limit",
            ErrorCode::ViewerLimit => "viewer_limit",
            ErrorCode::SoldOut => "sold_out",
            ErrorCode::UnknownGoods => "unknown_goods",
            ErrorCode::ShelfFull => "shelf_full",
            ErrorCode::CouponGone => "coupon_gone",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::NoticeShowing => "notice_showing",
            ErrorCode::NoticeSpacing => "notice_spacing",
            ErrorCode::CostreamDisabled => "costream_disabled",
            ErrorCode::CostreamBusy => "costream_busy",
            ErrorCode::CostreamStale => "costream_stale",
            ErrorCode::RealNameRequired => "real_name_required",
            ErrorCode::SignalTooLarge => "signal_too_large",
            ErrorCode::ApplicantsFull => "applicants_full",
        }
    }

    /// Whether a malformed-frame budget is charged for this rejection.
    pub fn counts_as_malformed(self) -> bool {
        matches!(
            self,
            ErrorCode::Malformed | ErrorCode::UnknownType | ErrorCode::TooLarge
        )
    }
}

/// A refusal: a stable code plus a human message (and a retry hint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Rejection {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation; never contains secrets or filtered words.
    pub message: String,
    /// When rate limited: milliseconds until a retry may succeed.
    pub retry_after_ms: Option<u64>,
}

impl Rejection {
    /// A rejection with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// A rate-limit rejection with its retry hint.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Rejection {
            code: ErrorCode::RateLimited,
            message: "too many requests".into(),
            retry_after_ms: Some(retry_after_ms),
        }
    }
}

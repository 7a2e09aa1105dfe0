//! The room record kept by the store, and the admin API's create and patch
//! bodies.

use protocol::{ErrorCode, Limits, Rejection, Role, RoomInfo, RoomStatus, Switches};
use serde::{Deserialize, Serialize};

pub use crate::lotteries::LotterySlot;
use crate::moderation::roles::{MAX_DIGIT_RUN, MIN_DIGIT_RUN};
use crate::moderation::{RoomModeration, WordPolicy};

/// A room as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    /// Room id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Anchor's user id.
    pub anchor: String,
    /// Planned start, unix ms.
    pub planned_start: i64,
    /// Planned end, unix ms; the room cannot start after it.
    pub planned_end: i64,
    /// Switches.
    pub switches: Switches,
    /// Lifecycle status.
    pub status: RoomStatus,
    /// When the current live started, unix ms.
    pub live_started_at: Option<i64>,
    /// When the room became abnormal, unix ms.
    pub abnormal_since: Option<i64>,
    /// When the live ended, unix ms.
    pub ended_at: Option<i64>,
    /// Roles, slow mode and word policy.
    #[serde(default)]
    pub moderation: RoomModeration,
    /// The room's lotteries, oldest first (at most `MAX_LOTTERIES`; never
    /// removed). Compact on purpose: every request reads the room, so the
    /// prize, rules and the published record live in their own store keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lotteries: Vec<LotterySlot>,
    /// The live preview (直播预告), set before the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<super::preview::RoomPreview>,
    /// The shelf version, the pushed card, the explaining item and the
    /// active coupon (`commerce::slot`).
    #[serde(
        default,
        skip_serializing_if = "crate::commerce::CommerceSlot::is_empty"
    )]
    pub commerce: crate::commerce::CommerceSlot,
    /// The notice showing now and the last push times (`notice/`).
    #[serde(default, skip_serializing_if = "crate::notice::NoticeState::is_empty")]
    pub notices: crate::notice::NoticeState,
    /// The co-stream switch, applicants and session (`costream/`).
    #[serde(
        default,
        skip_serializing_if = "crate::costream::CostreamSlot::is_empty"
    )]
    pub costream: crate::costream::CostreamSlot,
    /// Bumped by the store with every change (`Store::update_room`); a room
    /// hub applies a record only when it is newer than the one it holds.
    #[serde(default)]
    pub version: u64,
}

impl Room {
    /// The caller's role in this room: anchor, the stored sub-anchor and
    /// assistants, else viewer (anonymous without a token).
    pub fn role_of(&self, user: Option<&str>) -> Role {
        match user {
            None => Role::Anonymous,
            Some(u) if u == self.anchor => Role::Anchor,
            Some(u) => self.moderation.role_of(u),
        }
    }

    /// What clients see.
    pub fn info(&self) -> RoomInfo {
        RoomInfo {
            id: self.id.clone(),
            title: self.title.clone(),
            anchor: self.anchor.clone(),
            status: self.status,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            live_started_at: self.live_started_at,
            switches: self.switches,
        }
    }
}

/// Body of `POST /api/rooms`.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomSpec {
    /// Room id.
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Anchor's user id.
    pub anchor: String,
    /// Planned start, unix ms.
    pub planned_start: i64,
    /// Planned end, unix ms.
    pub planned_end: i64,
    /// Switches (defaults: comments, likes, anonymous watching and sharing on).
    #[serde(default)]
    pub switches: Switches,
}

const MAX_TITLE_CHARS: usize = 100;

/// Longest slow-mode interval: one hour.
const MAX_SLOW_MODE_S: u32 = 3600;

impl RoomSpec {
    /// Validates and turns the spec into a new room (status 102).
    pub fn into_room(self, limits: &Limits) -> Result<Room, Rejection> {
        limits.check_id("room id", &self.id)?;
        limits.check_id("anchor", &self.anchor)?;
        check_title(&self.title)?;
        check_plan(self.planned_start, self.planned_end)?;
        Ok(Room {
            id: self.id,
            title: self.title,
            anchor: self.anchor,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            switches: self.switches,
            status: RoomStatus::NotStarted,
            live_started_at: None,
            abnormal_since: None,
            ended_at: None,
            moderation: RoomModeration::default(),
            lotteries: vec![],
            preview: None,
            commerce: Default::default(),
            notices: Default::default(),
            costream: Default::default(),
            version: 1,
        })
    }
}

/// Body of `PATCH /api/rooms/{id}`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoomPatch {
    /// New title.
    pub title: Option<String>,
    /// New anchor.
    pub anchor: Option<String>,
    /// New planned start.
    pub planned_start: Option<i64>,
    /// New planned end.
    pub planned_end: Option<i64>,
    /// Switches to change; the ones left out keep their values.
    pub switches: Option<SwitchesPatch>,
    /// Slow mode interval in seconds (0: off).
    pub slow_mode_s: Option<u32>,
    /// Word filter policy: block or mask.
    pub word_policy: Option<WordPolicy>,
    /// Word filter detectors to change; the ones left out keep their values.
    pub filter: Option<FilterPatch>,
}

/// A partial change of the word filter's detectors.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct FilterPatch {
    /// Digit-run threshold (0: off).
    pub digit_runs: Option<u32>,
    /// URL detector on or off.
    pub urls: Option<bool>,
}

/// A partial change of room switches.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct SwitchesPatch {
    /// Comments allowed.
    pub comments: Option<bool>,
    /// Likes allowed.
    pub likes: Option<bool>,
    /// Anonymous watching allowed.
    pub anonymous_watch: Option<bool>,
    /// Sharing allowed.
    pub sharing: Option<bool>,
    /// Replay on.
    pub replay: Option<bool>,
    /// Customer service on.
    pub customer_service: Option<bool>,
}

impl SwitchesPatch {
    fn apply(&self, s: &mut Switches) {
        let set = |dst: &mut bool, v: Option<bool>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut s.comments, self.comments);
        set(&mut s.likes, self.likes);
        set(&mut s.anonymous_watch, self.anonymous_watch);
        set(&mut s.sharing, self.sharing);
        set(&mut s.replay, self.replay);
        set(&mut s.customer_service, self.customer_service);
    }
}

impl RoomPatch {
    /// Applies the patch, validating the result.
    pub fn apply(&self, room: &mut Room, limits: &Limits) -> Result<(), Rejection> {
        if let Some(t) = &self.title {
            check_title(t)?;
            room.title = t.clone();
        }
        if let Some(a) = &self.anchor {
            limits.check_id("anchor", a)?;
            room.anchor = a.clone();
        }
        let start = self.planned_start.unwrap_or(room.planned_start);
        let end = self.planned_end.unwrap_or(room.planned_end);
        check_plan(start, end)?;
        room.planned_start = start;
        room.planned_end = end;
        if let Some(s) = &self.switches {
            s.apply(&mut room.switches);
        }
        if let Some(n) = self.slow_mode_s {
            if n > MAX_SLOW_MODE_S {
                return Err(Rejection::new(
                    ErrorCode::Invalid,
                    format!("slow_mode_s must be 0..={MAX_SLOW_MODE_S}"),
                ));
            }
            room.moderation.slow_mode_s = n;
        }
        if let Some(p) = self.word_policy {
            room.moderation.word_policy = p;
        }
        if let Some(f) = self.filter {
            if let Some(n) = f.digit_runs {
                if n != 0 && !(MIN_DIGIT_RUN..=MAX_DIGIT_RUN).contains(&n) {
                    return Err(Rejection::new(
                        ErrorCode::Invalid,
                        format!(
                            "filter.digit_runs must be 0 (off) or {MIN_DIGIT_RUN}..={MAX_DIGIT_RUN}"
                        ),
                    ));
                }
                room.moderation.filter.digit_runs = n;
            }
            if let Some(u) = f.urls {
                room.moderation.filter.urls = u;
            }
        }
        Ok(())
    }
}

fn check_title(title: &str) -> Result<(), Rejection> {
    if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!(
                "title must be at most {MAX_TITLE_CHARS} characters without control characters"
            ),
        ));
    }
    Ok(())
}

fn check_plan(start: i64, end: i64) -> Result<(), Rejection> {
    if end <= start || start < 0 {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            "planned_end must be after planned_start (unix milliseconds)",
        ));
    }
    Ok(())
}

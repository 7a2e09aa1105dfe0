//! Room-level values shared by requests, events and the admin API: lifecycle
//! status codes, switches, roles and totals.

use serde::{Deserialize, Serialize};

/// Lifecycle state of a room, with the platform's numeric codes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u16", try_from = "u16")]
pub enum RoomStatus {
    /// 101: the anchor is live.
    Live,
    /// 102: created, not started yet.
    NotStarted,
    /// 103: the live has ended.
    Ended,
    /// 104: banned by an operator.
    Banned,
    /// 105: paused by the anchor.
    Paused,
    /// 106: the anchor's connection dropped without ending; resumable for a while.
    Abnormal,
    /// 107: the planned end passed before the live started.
    Expired,
}

impl RoomStatus {
    /// The platform code (101..=107).
    pub fn code(self) -> u16 {
        match self {
            RoomStatus::Live => 101,
            RoomStatus::NotStarted => 102,
            RoomStatus::Ended => 103,
            RoomStatus::Banned => 104,
            RoomStatus::Paused => 105,
            RoomStatus::Abnormal => 106,
            RoomStatus::Expired => 107,
        }
    }

    /// Whether the room can no longer change state except by an operator.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RoomStatus::Ended | RoomStatus::Banned | RoomStatus::Expired
        )
    }
}

impl From<RoomStatus> for u16 {
    fn from(s: RoomStatus) -> u16 {
        s.code()
    }
}

impl TryFrom<u16> for RoomStatus {
    type Error = String;
    fn try_from(code: u16) -> Result<Self, String> {
        Ok(match code {
            101 => RoomStatus::Live,
            102 => RoomStatus::NotStarted,
            103 => RoomStatus::Ended,
            104 => RoomStatus::Banned,
            105 => RoomStatus::Paused,
            106 => RoomStatus::Abnormal,
            107 => RoomStatus::Expired,
            other => return Err(format!("unknown room status code {other}")),
        })
    }
}

/// Room-wide switches an anchor or operator flips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Switches {
    /// Viewers may comment (false = room-wide comment ban, 禁言全体).
    pub comments: bool,
    /// Viewers may like.
    pub likes: bool,
    /// Viewers without a token may watch.
    pub anonymous_watch: bool,
    /// Sharing is allowed (shown to clients; enforced by them).
    pub sharing: bool,
    /// Replay is offered after the live.
    pub replay: bool,
    /// Customer service entry is shown.
    pub customer_service: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            comments: true,
            likes: true,
            anonymous_watch: true,
            sharing: true,
            replay: false,
            customer_service: false,
        }
    }
}

/// A caller's role in one room, decided by the gateway, never by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Watches without a token: may only watch.
    Anonymous,
    /// A signed-in viewer.
    Viewer,
    /// The room's anchor (主播).
    Anchor,
    /// The anchor's sub-account (主播副号).
    SubAnchor,
    /// A moderator (小助手).
    Assistant,
    /// An operator through the admin API.
    Admin,
}

impl Role {
    /// The wire string (`"sub_anchor"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Anonymous => "anonymous",
            Role::Viewer => "viewer",
            Role::Anchor => "anchor",
            Role::SubAnchor => "sub_anchor",
            Role::Assistant => "assistant",
            Role::Admin => "admin",
        }
    }
}

/// A room's live preview as viewers see it (`joined.preview`, and the
/// `preview` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// The preview text.
    pub text: String,
    /// The image of an image preview (http or https), else null.
    pub image_url: Option<String>,
}

/// Running figures of a room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Total like taps since the room was created.
    pub likes: u64,
    /// Comments accepted.
    pub comments: u64,
    /// Distinct viewers who joined.
    pub viewers: u64,
    /// Connections in the room now.
    pub online: u64,
}

/// What a client learns about a room when joining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// Room id.
    pub id: String,
    /// Title shown to viewers.
    pub title: String,
    /// User id of the anchor.
    pub anchor: String,
    /// Lifecycle status.
    pub status: RoomStatus,
    /// Planned start, unix milliseconds.
    pub planned_start: i64,
    /// Planned end, unix milliseconds.
    pub planned_end: i64,
    /// When the current live started, unix milliseconds.
    pub live_started_at: Option<i64>,
    /// Room switches.
    pub switches: Switches,
}

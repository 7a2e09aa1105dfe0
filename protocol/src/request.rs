//! Client → server requests. Every request may carry an `id` that its reply
//! echoes; JSON puts it next to `type`: `{"type":"comment","id":"7","text":"hi"}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A client-chosen request id, echoed by the reply. JSON accepts a string or
/// a non-negative integer; replies always carry it as a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            return String::deserialize(d).map(RequestId);
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum StrOrNum {
            Str(String),
            Num(u64),
        }
        Ok(RequestId(match StrOrNum::deserialize(d)? {
            StrOrNum::Str(s) => s,
            StrOrNum::Num(n) => n.to_string(),
        }))
    }
}

/// One decoded client frame: the optional request id and the request.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// Echoed in the reply.
    pub id: Option<RequestId>,
    /// What the client asks for.
    pub request: Request,
}

crate::tagged_enum! {
    /// Everything a client may ask.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Request {
        /// Sign in on an open connection (alternative to `?token=` at upgrade).
        Auth(Auth) = "auth",
        /// Join a room (switching rooms leaves the previous one).
        Join(Join) = "join",
        /// Leave the joined room.
        Leave(Leave) = "leave",
        /// Post a comment in the joined room.
        Comment(PostComment) = "comment",
        /// Tap like, possibly several taps aggregated by the client.
        Like(Like) = "like",
        /// Application-level heartbeat.
        Ping(Ping) = "ping",
        /// Anchor controls the live: start, pause, resume, end.
        Live(Live) = "live",
        /// Moderators remove one comment for everyone.
        DeleteComment(DeleteComment) = "delete_comment",
        /// Moderators mute a user in the room and purge their comments.
        Mute(Mute) = "mute",
        /// Moderators lift a mute.
        Unmute(Unmute) = "unmute",
        /// The anchor assigns or removes an assistant or the sub-anchor.
        SetRole(SetRole) = "set_role",
        /// The anchor or sub-anchor flips room switches (comment ban).
        Switch(Switch) = "switch",
        /// Moderators add or remove words of the room's sensitive-word list.
        Words(Words) = "words",
        /// The anchor or sub-anchor creates a lottery.
        LotteryCreate(crate::lottery::LotteryCreate) = "lottery_create",
        /// The anchor or sub-anchor starts a created lottery (room live).
        LotteryStart(crate::lottery::LotteryStart) = "lottery_start",
        /// Moderators list the room's active mutes.
        Mutes(ListMutes) = "mutes",
        /// Moderators add or remove words of the room's allow-list.
        AllowWords(AllowWords) = "allow_words",
        /// Set the room's live preview (anchor; before the start).
        SetPreview(SetPreview) = "set_preview",
        /// Remove the room's live preview (anchor; before the start).
        ClearPreview(ClearPreview) = "clear_preview",
        /// Fetch the joined room's goods shelf.
        Shelf(crate::commerce::ShelfRequest) = "shelf",
        /// Add or change a goods item (anchor, sub-anchor).
        GoodsPut(crate::commerce::GoodsPut) = "goods_put",
        /// Take a goods item off the shelf (anchor, sub-anchor).
        GoodsRemove(crate::commerce::GoodsRemove) = "goods_remove",
        /// Put the shelf in a new order (anchor, sub-anchor).
        GoodsReorder(crate::commerce::GoodsReorder) = "goods_reorder",
        /// Switch an item grabbable or not (anchor, sub-anchor).
        GoodsSwitch(crate::commerce::GoodsSwitch) = "goods_switch",
        /// Push an item's card to every viewer (anchor, sub-anchor).
        CardPush(crate::commerce::CardPush) = "card_push",
        /// Take the pushed card down (anchor, sub-anchor).
        CardWithdraw(crate::commerce::CardWithdraw) = "card_withdraw",
        /// Pin or unpin the item being explained (anchor, sub-anchor).
        Explain(crate::commerce::Explain) = "explain",
        /// Reserve units of an item (signed-in viewers, room live).
        Grab(crate::commerce::Grab) = "grab",
        /// Count a viewer opening an item.
        GoodsClick(crate::commerce::GoodsClick) = "goods_click",
        /// Push a coupon into the room (anchor, sub-anchor).
        CouponPush(crate::commerce::CouponPush) = "coupon_push",
        /// Claim the room's coupon (signed-in viewers).
        CouponClaim(crate::commerce::CouponClaim) = "coupon_claim",
        /// Subscribe to a room's start reminder (signed in; no join needed).
        ReminderSubscribe(Reminder) = "reminder_subscribe",
        /// Cancel a start-reminder subscription.
        ReminderUnsubscribe(Reminder) = "reminder_unsubscribe",
        /// The anchor or sub-anchor pushes a notice (room live).
        PushNotice(crate::notice::PushNotice) = "push_notice",
        /// The anchor or sub-anchor withdraws the notice showing now.
        WithdrawNotice(crate::notice::WithdrawNotice) = "withdraw_notice",
        /// One step of the co-stream state machine (连麦).
        Costream(crate::costream::CostreamRequest) = "costream",
        /// A WebRTC signalling message for the other co-stream party.
        Signal(crate::costream::Signal) = "signal",
        /// An anchor-to-anchor link step.
        Link(crate::costream::LinkRequest) = "link",
        /// The caller's inclusion proof in a drawn lottery of the joined room.
        LotteryProof(crate::lottery::LotteryProofRequest) = "lottery_proof",
    }
}

/// `reminder_subscribe` / `reminder_unsubscribe`: a room's start reminder,
/// by room id, without joining the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Room id.
    pub room: String,
}

/// `allow_words`: change the joined room's allow-list: a match of the word
/// filter lying inside an occurrence of an allow-list word does not count
/// (`大麻花` for `大麻`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowWords {
    /// Allow-list words to add.
    #[serde(default)]
    pub add: Vec<String>,
    /// Allow-list words to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `set_preview`: the room's live preview (直播预告), shown to viewers of a
/// room that has not started: a text of 100–500 characters, or an image
/// (an http or https URL) with a text of at most 500.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPreview {
    /// The preview text.
    pub text: String,
    /// The image, for an image preview.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Whether the preview stays in the snapshot once the live has started.
    #[serde(default)]
    pub keep_after_start: bool,
}

/// `clear_preview`: remove the room's live preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearPreview {}

/// `mutes`: list the joined room's active mutes (answered by `mutes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMutes {}

/// `auth`: present a signed viewer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// HS256 JWT issued by the merchant backend.
    pub token: String,
}

/// `join`: enter a room, optionally resuming from a known position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    /// Room id.
    pub room: String,
    /// Last position the client applied, to replay what it missed.
    #[serde(default)]
    pub resume: Option<Resume>,
}

/// A position in a room's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// Log epoch the offset belongs to.
    pub epoch: String,
    /// Last offset the client applied.
    pub offset: u64,
}

/// `leave`: leave the joined room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {}

/// `comment`: post text to the joined room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostComment {
    /// Comment text, at most `Limits::max_comment_chars` characters.
    pub text: String,
}

/// `like`: one or more taps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Like {
    /// Number of taps, 1..=`Limits::max_like_count`.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// `ping`: the server answers `pong`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {}

/// `live`: lifecycle control by the anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    /// What to do.
    pub action: LiveAction,
}

/// Lifecycle actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveAction {
    /// 102 → 101 (before the planned end).
    Start,
    /// 101 → 105.
    Pause,
    /// 105 or 106 → 101.
    Resume,
    /// 101, 105 or 106 → 103.
    End,
}

/// `delete_comment`: remove one comment for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteComment {
    /// Offset of the comment event in the room log.
    pub offset: u64,
    /// Why, for the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `mute`: the user can no longer comment in the room, and every comment of
/// theirs still held by the room is deleted for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mute {
    /// User id to mute.
    pub user: String,
    /// Seconds until the mute lifts by itself; absent: until unmuted.
    #[serde(default)]
    pub duration_s: Option<u64>,
    /// Shadow mute: the user still sees their comments echoed; nobody else
    /// sees them.
    #[serde(default)]
    pub shadow: bool,
    /// Why, for the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `unmute`: lift a mute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmute {
    /// User id to unmute.
    pub user: String,
}

/// `set_role`: assign `assistant` or `sub_anchor`, or `viewer` to remove
/// the user's moderation role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRole {
    /// User id.
    pub user: String,
    /// `assistant`, `sub_anchor` or `viewer` (removes the role).
    pub role: crate::room::Role,
    /// Display nickname of an assistant (shown on their comments).
    #[serde(default)]
    pub nick: Option<String>,
}

/// `switch`: change room switches; fields left out keep their values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switch {
    /// Comments allowed (false: room-wide comment ban).
    #[serde(default)]
    pub comments: Option<bool>,
}

/// A sensitive word and its category tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordEntry {
    /// The word (folded like comments when matched).
    pub word: String,
    /// Category named in rejections, e.g. `"abuse"`, `"ads"`.
    pub category: String,
}

/// `words`: change the joined room's sensitive-word list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Words {
    /// Words to add (or re-categorize).
    #[serde(default)]
    pub add: Vec<WordEntry>,
    /// Words to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

//! Wire protocol of the live-room gateway: every frame a client sends or
//! receives, the two codecs that carry them, and the limits that validate them.
//!
//! **Invariant:** this crate does no I/O and knows nothing of tokio; the
//! gateway, the loadtest and tests all share these types.

mod tagged;

pub mod close;
pub mod codec;
pub mod commerce;
pub mod costream;
pub mod error;
pub mod event;
pub mod limits;
pub mod lottery;
pub mod notice;
pub mod pk;
pub mod request;
pub mod room;
pub mod text;

pub use close::CloseCode;
pub use codec::{Codec, DecodeError, DecodeKind};
pub use error::{ErrorCode, Rejection};
pub use event::{
    Ack, Batch, Comment, CommentDeleted, EventKind, Hello, Joined, Lane, MuteInfo, MuteList, Pong,
    PreviewChanged, RoomEvent, RoomRecord, ServerFrame, StatusChanged, UserPurged,
};
pub use limits::Limits;
pub use lottery::{
    LotteryAnnouncement, LotteryBeacon, LotteryCommitment, LotteryCreate, LotteryEvent,
    LotteryKind, LotteryProof, LotteryProofRequest, LotteryStart, LotteryState, LotteryTerms,
    LotteryWinner, MerkleProof,
};
pub use notice::{Notice, NoticeAction, NoticeEvent, NoticeShown, PushNotice, WithdrawNotice};
pub use request::{
    AllowWords, Auth, ClearPreview, ClientFrame, DeleteComment, Join, Leave, Like, ListMutes, Live,
    LiveAction, Mute, Ping, PostComment, Reminder, Request, RequestId, Resume, SetPreview, SetRole,
    Switch, Unmute, WordEntry, Words,
};
pub use room::{Preview, Role, RoomInfo, RoomStatus, Switches, Totals};

//! Sans-I/O verifiable lottery core: definition and signed announcement,
//! participant commitment (RFC 6962 Merkle root), draw seeded by an RFC 9381
//! ECVRF proof, value-stable winner selection, and verification of the
//! published record. No clock, no network: inputs and time are passed in.
//!
//! The byte-level specification is docs/lottery.md.
//!
//! ```
//! use lottery::{ParticipantSet, announce, demo, draw, verify};
//! let key = demo::demo_key();
//! let announcement = announce(demo::demo_definition(), &key).unwrap();
//! let mut set = ParticipantSet::new();
//! for id in ["u1", "u2", "u3", "u2"] {
//!     set.insert(id).unwrap();
//! }
//! let record = draw(&announcement, &set.commit(), &key).unwrap();
//! let checked = verify(&record).unwrap();
//! assert_eq!(checked.winners.len(), 3);
//! ```

mod announcement;
pub mod beacon;
mod definition;
pub mod demo;
mod draw;
pub mod events;
pub mod hexfmt;
mod keys;
pub mod merkle;
mod participants;
mod record;
pub mod select;
mod verify;
pub mod vrf;

pub use announcement::{Announcement, AnnouncementError, announce, announce_with_limits};
pub use beacon::{BeaconChain, BeaconCommitment, BeaconRound};
pub use definition::{
    ANNOUNCE_TAG, DefinitionError, Limits, LotteryDefinition, LotteryKind, MAX_FIELD_BYTES,
};
pub use draw::{
    ALPHA_LEN, BEACON_ALPHA_LEN, DrawError, abandon, alpha, alpha_with_beacon, draw,
    draw_with_beacon,
};
pub use events::{EventError, EventsChecked, check_events};
pub use keys::{PublicKey, SecretKey};
pub use merkle::{InclusionProof, verify_inclusion};
pub use participants::{Commitment, ParticipantError, ParticipantSet};
pub use record::{
    ABNORMAL_TAG, AbnormalOutcome, CanonicalError, DrawOutcome, DrawState, Outcome,
    PublishedCommitment, RECORD_VERSION, Record, Winner, abnormal_bytes,
};
pub use select::redemption_code;
pub use verify::{VerifiedDraw, VerifyError, verify, verify_beacon_pinned, verify_pinned};

//! Rooms: the stored record and its lifecycle state machine.

pub mod lifecycle;
pub mod model;
pub mod preview;

pub use lifecycle::{Timing, Transition};
pub use model::{Room, RoomPatch, RoomSpec};

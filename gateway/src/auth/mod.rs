//! Identity and authorization: who a connection is (signed viewer tokens)
//! and what a room role may do (the permission matrix).

pub mod permissions;
pub mod token;

pub use permissions::{Action, allowed, authorize};
pub use token::{Claims, Identity, TokenKeys, TokenPolicy};

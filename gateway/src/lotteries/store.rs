//! `LotteryStore`: what of a lottery lives outside the room record. The
//! documents (terms, signed announcement, published record) and the
//! participant set, one per lottery; the record's slot (state, window) is
//! changed through the core's `Store::update_room`, whose compare-and-set
//! makes the draw happen once. Both stores implement it (`memory.rs`,
//! `redis.rs`).

use async_trait::async_trait;

use crate::store::StoreError;

/// The document name of a lottery's published record: written once.
pub const RECORD: &str = "record";

/// Lottery documents and participant sets.
#[async_trait]
pub trait LotteryStore: Send + Sync + 'static {
    /// Writes a document of a lottery (`what`: `terms`, `announcement`,
    /// `record`), JSON, replacing an earlier one; except the published
    /// [`RECORD`], which is written once: a later write (a drawn lottery
    /// re-signed as abnormal, say) leaves the first in place.
    async fn put_lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
        json: &str,
    ) -> Result<(), StoreError>;
    /// Reads a document of a lottery.
    async fn lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Adds users to a lottery's participant set (a set: repeats count once).
    async fn add_participants(
        &self,
        room: &str,
        lottery: &str,
        users: &[String],
    ) -> Result<(), StoreError>;
    /// A lottery's distinct participants, in no particular order.
    async fn participants(&self, room: &str, lottery: &str) -> Result<Vec<String>, StoreError>;
    /// How many distinct participants a lottery has (for the dashboard).
    async fn participant_count(&self, room: &str, lottery: &str) -> Result<u64, StoreError>;
}

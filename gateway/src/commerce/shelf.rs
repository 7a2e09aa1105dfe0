//! The shelf reply, encoded once per shelf version and codec on each node:
//! a join storm's `shelf` requests cost one store read and two encodings
//! per version, then a copy with the request id spliced in
//! (`protocol::commerce::shelf_reply`).

use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use protocol::commerce::{ShelfFrame, shelf_reply};
use protocol::{Codec, Rejection, RequestId, ServerFrame};
use tokio::sync::Mutex;

use crate::room::Room;
use crate::service::Node;

/// One version of a room's shelf, encoded.
struct Encoded {
    version: u64,
    explaining: Option<String>,
    json: Bytes,
    binary: Bytes,
}

/// Per room, the newest encoded shelf (one fetch at a time per room).
#[derive(Default)]
pub struct ShelfCache {
    rooms: DashMap<String, Arc<Mutex<Option<Arc<Encoded>>>>>,
}

impl ShelfCache {
    /// Keeps only the rooms `keep` says yes to.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.rooms.retain(|room, _| keep(room));
    }
}

impl Node {
    /// The `shelf` reply's bytes for `room` as its hub holds it: from the
    /// node's copy at the record's shelf version, else read and encoded
    /// once.
    pub async fn shelf_reply(
        &self,
        room: &Room,
        codec: Codec,
        id: Option<&RequestId>,
    ) -> Result<Vec<u8>, Rejection> {
        let want = room.commerce.shelf_version;
        let slot = self
            .commerce
            .shelves
            .rooms
            .entry(room.id.clone())
            .or_default()
            .clone();
        let encoded = {
            let mut held = slot.lock().await;
            match held.as_ref() {
                Some(e) if e.version >= want && e.explaining == room.commerce.explaining => {
                    e.clone()
                }
                _ => {
                    let mut items = self
                        .commerce_store
                        .shelf(&room.id)
                        .await
                        .map_err(|e| e.rejection())?;
                    // The explaining item is pinned at the top.
                    if let Some(pin) = &room.commerce.explaining
                        && let Some(i) = items.iter().position(|g| &g.id == pin)
                    {
                        let item = items.remove(i);
                        items.insert(0, item);
                    }
                    let frame = ServerFrame::Shelf(ShelfFrame {
                        id: None,
                        version: want,
                        items,
                        explaining: room.commerce.explaining.clone(),
                    });
                    let e = Arc::new(Encoded {
                        version: want,
                        explaining: room.commerce.explaining.clone(),
                        json: Codec::Json.encode_server(&frame),
                        binary: Codec::Binary.encode_server(&frame),
                    });
                    *held = Some(e.clone());
                    e
                }
            }
        };
        let cached = match codec {
            Codec::Json => &encoded.json,
            Codec::Binary => &encoded.binary,
        };
        Ok(shelf_reply(codec, cached, id))
    }
}

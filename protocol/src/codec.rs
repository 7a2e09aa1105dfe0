//! The two codecs: JSON text frames (default) and postcard binary frames,
//! chosen by the WebSocket subprotocol at upgrade.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Rejection};
use crate::event::ServerFrame;
use crate::request::{ClientFrame, Request, RequestId};

/// A wire codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// JSON objects in text frames; the default.
    Json,
    /// postcard in binary frames.
    Binary,
}

/// A frame that could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// JSON that is not a known request.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// postcard bytes that are not a known request.
    #[error("{0}")]
    Binary(#[from] postcard::Error),
}

impl DecodeError {
    /// The rejection sent back: `unknown_type` when only the type was wrong.
    pub fn rejection(&self) -> Rejection {
        let msg = self.to_string();
        let code = if msg.contains("unknown variant") {
            ErrorCode::UnknownType
        } else {
            ErrorCode::Malformed
        };
        Rejection::new(code, msg)
    }
}

#[derive(Serialize)]
struct JsonClientRef<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: &'a Option<RequestId>,
    #[serde(flatten)]
    request: &'a Request,
}

#[derive(Deserialize)]
struct JsonClient {
    #[serde(default)]
    id: Option<RequestId>,
    #[serde(flatten)]
    request: Request,
}

impl Codec {
    /// Subprotocol that selects JSON.
    pub const JSON_SUBPROTOCOL: &'static str = "live.json.v1";
    /// Subprotocol that selects postcard.
    pub const BINARY_SUBPROTOCOL: &'static str = "live.postcard.v1";

    /// Picks the first codec the client offers in `Sec-WebSocket-Protocol`
    /// (comma-separated). `None` means the header named none we speak.
    pub fn from_subprotocols(header: &str) -> Option<Codec> {
        header.split(',').map(str::trim).find_map(|p| match p {
            Codec::JSON_SUBPROTOCOL => Some(Codec::Json),
            Codec::BINARY_SUBPROTOCOL => Some(Codec::Binary),
            _ => None,
        })
    }

    /// The subprotocol name of this codec.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Codec::Json => Codec::JSON_SUBPROTOCOL,
            Codec::Binary => Codec::BINARY_SUBPROTOCOL,
        }
    }

    /// Encodes a server frame. JSON output is valid UTF-8.
    pub fn encode_server(self, frame: &ServerFrame) -> Bytes {
        self.encode(frame)
    }

    /// Decodes a server frame (clients, loadtest, tests).
    pub fn decode_server(self, data: &[u8]) -> Result<ServerFrame, DecodeError> {
        Ok(match self {
            Codec::Json => serde_json::from_slice(data)?,
            Codec::Binary => postcard::from_bytes(data)?,
        })
    }

    /// Encodes a client frame (clients, loadtest, tests).
    pub fn encode_client(self, frame: &ClientFrame) -> Bytes {
        match self {
            Codec::Json => self.encode(&JsonClientRef {
                id: &frame.id,
                request: &frame.request,
            }),
            Codec::Binary => self.encode(&(&frame.id, &frame.request)),
        }
    }

    /// Decodes a client frame. Size limits are checked by the caller first.
    pub fn decode_client(self, data: &[u8]) -> Result<ClientFrame, DecodeError> {
        Ok(match self {
            Codec::Json => {
                let j: JsonClient = serde_json::from_slice(data)?;
                ClientFrame {
                    id: j.id,
                    request: j.request,
                }
            }
            Codec::Binary => {
                let (id, request) = postcard::from_bytes(data)?;
                ClientFrame { id, request }
            }
        })
    }

    fn encode<T: Serialize>(self, value: &T) -> Bytes {
        // Serializing our own types into memory cannot fail: no maps with
        // non-string keys, no I/O.
        match self {
            Codec::Json => Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
            Codec::Binary => Bytes::from(postcard::to_allocvec(value).unwrap_or_default()),
        }
    }
}

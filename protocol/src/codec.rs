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

/// A frame that could not be decoded, with what kind of wrong it is.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    kind: DecodeKind,
    message: String,
    id: Option<RequestId>,
}

/// How a frame failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeKind {
    /// Not a request at all: bad JSON or postcard, a missing field, a field
    /// of the wrong type, an unknown postcard request index.
    Malformed,
    /// JSON whose `type` names no request.
    UnknownType,
    /// A known request whose enum field holds a value it does not have
    /// (an `action` of `"fly"`, a role `"king"`): a field out of its limits.
    UnknownValue,
}

impl DecodeError {
    fn new(kind: DecodeKind, message: impl ToString) -> Self {
        DecodeError {
            kind,
            message: message.to_string(),
            id: None,
        }
    }

    /// How the frame failed.
    pub fn kind(&self) -> DecodeKind {
        self.kind
    }

    /// The request id, when the frame names a known request and its id
    /// decoded (only for [`DecodeKind::UnknownValue`]).
    pub fn id(&self) -> Option<&RequestId> {
        self.id.as_ref()
    }

    /// The rejection sent back: `malformed`, `unknown_type`, or `invalid`
    /// for an unknown value in an enum field of a known request.
    pub fn rejection(&self) -> Rejection {
        let code = match self.kind {
            DecodeKind::Malformed => ErrorCode::Malformed,
            DecodeKind::UnknownType => ErrorCode::UnknownType,
            DecodeKind::UnknownValue => ErrorCode::Invalid,
        };
        Rejection::new(code, self.message.clone())
    }

    /// Classifies a JSON client frame serde refused. Runs only on the
    /// error path, so the second parse costs nothing on good frames.
    fn json_client(data: &[u8], err: serde_json::Error) -> Self {
        let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice(data) else {
            return DecodeError::new(DecodeKind::Malformed, err);
        };
        let Some(tag) = obj.get("type").and_then(|t| t.as_str()) else {
            return DecodeError::new(DecodeKind::Malformed, err);
        };
        if !Request::TAGS.contains(&tag) {
            return DecodeError::new(DecodeKind::UnknownType, format!("unknown type `{tag}`"));
        }
        if !err.to_string().contains("unknown variant") {
            return DecodeError::new(DecodeKind::Malformed, err);
        }
        let id = obj
            .get("id")
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok());
        DecodeError {
            kind: DecodeKind::UnknownValue,
            message: err.to_string(),
            id,
        }
    }

    /// Classifies postcard bytes that did not decode: a known request
    /// index whose enum field is out of range is an unknown value.
    fn binary_client(data: &[u8], err: postcard::Error) -> Self {
        let prefix = postcard::take_from_bytes::<(Option<RequestId>, u32)>(data);
        match (err, prefix) {
            // serde reports an unknown variant of a derived enum as a
            // custom error; postcard reports a bad index of its own.
            (
                postcard::Error::DeserializeBadEnum | postcard::Error::SerdeDeCustom,
                Ok(((id, index), _)),
            ) if (index as usize) < Request::TAGS.len() => DecodeError {
                kind: DecodeKind::UnknownValue,
                message: format!(
                    "unknown value of an enum field in `{}`",
                    Request::TAGS[index as usize]
                ),
                id,
            },
            (err, _) => DecodeError::new(DecodeKind::Malformed, err),
        }
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
        let malformed = |e: &dyn std::fmt::Display| DecodeError::new(DecodeKind::Malformed, e);
        match self {
            Codec::Json => serde_json::from_slice(data).map_err(|e| malformed(&e)),
            Codec::Binary => postcard::from_bytes(data).map_err(|e| malformed(&e)),
        }
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
                let j: JsonClient =
                    serde_json::from_slice(data).map_err(|e| DecodeError::json_client(data, e))?;
                ClientFrame {
                    id: j.id,
                    request: j.request,
                }
            }
            Codec::Binary => {
                let (id, request) =
                    postcard::from_bytes(data).map_err(|e| DecodeError::binary_client(data, e))?;
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

//! WebSocket close codes the gateway sends, in two documented ranges:
//! 4000–4099 ask the client to reconnect (with backoff and its last offset),
//! 4100–4199 tell it not to reconnect without changing something first.

/// Every close code the gateway sends. Documented in `docs/protocol.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: normal close (the client asked, or the session ended cleanly).
    Normal,
    /// 1009: a frame exceeded the hard transport limit; fix the client.
    MessageTooBig,
    /// 1007: a text frame was not valid UTF-8 (RFC 6455 §8.1); fix the client.
    InvalidPayload,
    /// 4000: this node is shutting down; reconnect (to any node) and resume.
    ShuttingDown,
    /// 4001: the client read too slowly and its queue overflowed; reconnect and resume.
    SlowConsumer,
    /// 4002: nothing was heard from the client within the idle timeout.
    HeartbeatTimeout,
    /// 4003: internal failure of this session; reconnect and resume.
    InternalError,
    /// 4004: the room's event log was reset (new epoch); reconnect and rejoin
    /// from a fresh snapshot.
    Resync,
    /// 4005: the store lost its data (a Redis restarted without
    /// persistence): rejoin; the room may be gone or start afresh.
    StoreLost,
    /// 4100: the token is invalid or expired; get a new token before reconnecting.
    AuthFailed,
    /// 4101: the user is banned from this gateway.
    Banned,
    /// 4102: too many malformed frames; fix the client before reconnecting.
    ProtocolViolation,
}

impl CloseCode {
    /// The numeric code on the wire.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::MessageTooBig => 1009,
            CloseCode::InvalidPayload => 1007,
            CloseCode::ShuttingDown => 4000,
            CloseCode::SlowConsumer => 4001,
            CloseCode::HeartbeatTimeout => 4002,
            CloseCode::InternalError => 4003,
            CloseCode::Resync => 4004,
            CloseCode::StoreLost => 4005,
            CloseCode::AuthFailed => 4100,
            CloseCode::Banned => 4101,
            CloseCode::ProtocolViolation => 4102,
        }
    }

    /// Looks a numeric code up.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Whether a client should reconnect after this close.
    pub fn should_reconnect(self) -> bool {
        (4000..4100).contains(&self.code())
    }

    /// Short reason text sent in the close frame.
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Normal => "bye",
            CloseCode::MessageTooBig => "message too big",
            CloseCode::InvalidPayload => "invalid UTF-8",
            CloseCode::ShuttingDown => "node shutting down, reconnect",
            CloseCode::SlowConsumer => "slow consumer",
            CloseCode::HeartbeatTimeout => "heartbeat timeout",
            CloseCode::InternalError => "internal error, reconnect",
            CloseCode::Resync => "room log reset, rejoin",
            CloseCode::StoreLost => "store lost its data, rejoin",
            CloseCode::AuthFailed => "authentication failed",
            CloseCode::Banned => "banned",
            CloseCode::ProtocolViolation => "too many malformed frames",
        }
    }
}

const ALL: [CloseCode; 12] = [
    CloseCode::Normal,
    CloseCode::MessageTooBig,
    CloseCode::InvalidPayload,
    CloseCode::ShuttingDown,
    CloseCode::SlowConsumer,
    CloseCode::HeartbeatTimeout,
    CloseCode::InternalError,
    CloseCode::Resync,
    CloseCode::StoreLost,
    CloseCode::AuthFailed,
    CloseCode::Banned,
    CloseCode::ProtocolViolation,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_ranges_hold() {
        for c in ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        assert!(CloseCode::ShuttingDown.should_reconnect());
        assert!(CloseCode::SlowConsumer.should_reconnect());
        assert!(!CloseCode::AuthFailed.should_reconnect());
        assert!(!CloseCode::ProtocolViolation.should_reconnect());
        assert!(!CloseCode::Normal.should_reconnect());
    }
}

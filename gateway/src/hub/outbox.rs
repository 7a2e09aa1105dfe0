//! A session's bounded outbound queue, measured in bytes. The room hub and
//! the request path push; the session's writer drains. When it fills, queued
//! low-priority frames go first; if high-priority frames still do not fit,
//! the session is marked for a slow-consumer close. Pushing never blocks, so a
//! slow viewer never slows the room.

use std::collections::VecDeque;
use std::sync::Mutex;

use protocol::{CloseCode, Lane};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

/// One queued WebSocket message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The encoded frame (shared bytes for room frames).
    pub msg: Message,
    /// Its lane.
    pub lane: Lane,
    /// Room frames hold only events with offsets in `(since, upto]`.
    pub since: u64,
    /// Last room offset it covers; 0 for replies.
    pub upto: u64,
    /// Room membership generation it belongs to; 0 for replies.
    pub generation: u32,
}

impl Outgoing {
    fn len(&self) -> usize {
        self.msg.len()
    }
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued for writing.
    Queued,
    /// A low-priority frame that did not fit and was dropped.
    DroppedLow,
    /// The session is closing (possibly just now, as a slow consumer).
    Closed,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Outgoing>,
    bytes: usize,
    close: Option<CloseCode>,
}

/// A session's outbound queue.
pub struct Outbox {
    state: Mutex<State>,
    notify: Notify,
    /// Signalled once when a close is requested, so a writer stuck on a
    /// full socket can give up at once.
    closing: Notify,
    limit: usize,
}

impl Outbox {
    /// An empty outbox holding at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            closing: Notify::new(),
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame without blocking.
    pub fn push(&self, out: Outgoing) -> Pushed {
        let mut s = self.lock();
        if s.close.is_some() {
            return Pushed::Closed;
        }
        let len = out.len();
        if s.bytes + len > self.limit {
            shed_low(&mut s, len, self.limit);
            if s.bytes + len > self.limit {
                if out.lane == Lane::Low {
                    return Pushed::DroppedLow;
                }
                s.queue = VecDeque::new();
                s.bytes = 0;
                s.close = Some(CloseCode::SlowConsumer);
                drop(s);
                self.notify.notify_one();
                self.closing.notify_one();
                return Pushed::Closed;
            }
        }
        let was_empty = s.queue.is_empty();
        s.bytes += len;
        s.queue.push_back(out);
        drop(s);
        if was_empty {
            self.notify.notify_one();
        }
        Pushed::Queued
    }

    /// Puts a reply ahead of everything queued (the join snapshot).
    pub fn push_front(&self, out: Outgoing) {
        let mut s = self.lock();
        if s.close.is_some() {
            return;
        }
        s.bytes += out.len();
        s.queue.push_front(out);
        drop(s);
        self.notify.notify_one();
    }

    /// Asks the writer to close the session with `code`.
    pub fn close(&self, code: CloseCode) {
        let mut s = self.lock();
        if s.close.is_none() {
            s.close = Some(code);
        }
        drop(s);
        self.notify.notify_one();
        self.closing.notify_one();
    }

    /// Resolves once a close has been requested.
    pub async fn closing(&self) -> CloseCode {
        loop {
            if let Some(code) = self.lock().close {
                return code;
            }
            self.closing.notified().await;
        }
    }

    /// Takes everything queued, and the close code if one was set.
    pub fn drain(&self) -> (VecDeque<Outgoing>, Option<CloseCode>) {
        let mut s = self.lock();
        s.bytes = 0;
        (std::mem::take(&mut s.queue), s.close)
    }

    /// Waits until something is queued or a close is requested.
    pub async fn ready(&self) {
        self.notify.notified().await
    }

    /// Bytes queued now.
    pub fn queued_bytes(&self) -> usize {
        self.lock().bytes
    }
}

fn shed_low(s: &mut State, incoming: usize, limit: usize) {
    let mut bytes = s.bytes;
    s.queue.retain(|o| {
        if bytes + incoming > limit && o.lane == Lane::Low {
            bytes -= o.len();
            false
        } else {
            true
        }
    });
    s.bytes = bytes;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lane: Lane, len: usize) -> Outgoing {
        Outgoing {
            msg: Message::Binary(vec![0u8; len].into()),
            lane,
            since: 0,
            upto: 1,
            generation: 1,
        }
    }

    #[test]
    fn low_frames_are_shed_before_high_ones_overflow() {
        let o = Outbox::new(100);
        assert_eq!(o.push(frame(Lane::Low, 40)), Pushed::Queued);
        assert_eq!(o.push(frame(Lane::High, 40)), Pushed::Queued);
        // Needs the low frame's room: it is shed.
        assert_eq!(o.push(frame(Lane::High, 40)), Pushed::Queued);
        assert_eq!(o.queued_bytes(), 80);
        // A low frame that does not fit is dropped, the session lives.
        assert_eq!(o.push(frame(Lane::Low, 40)), Pushed::DroppedLow);
        // A high frame that does not fit closes the session.
        assert_eq!(o.push(frame(Lane::High, 40)), Pushed::Closed);
        let (q, close) = o.drain();
        assert!(q.is_empty());
        assert_eq!(close, Some(CloseCode::SlowConsumer));
        assert_eq!(o.push(frame(Lane::High, 1)), Pushed::Closed);
    }

    #[test]
    fn draining_frees_the_budget() {
        let o = Outbox::new(100);
        o.push(frame(Lane::High, 90));
        let (q, close) = o.drain();
        assert_eq!(q.len(), 1);
        assert_eq!(close, None);
        assert_eq!(o.push(frame(Lane::High, 90)), Pushed::Queued);
    }
}

#[cfg(test)]
#[path = "outbox_props.rs"]
mod props;

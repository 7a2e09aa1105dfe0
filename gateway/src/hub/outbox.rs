//! A session's bounded outbound queue, measured in bytes, and the claim on
//! its socket. The room hub first offers a frame for a direct write
//! ([`Outbox::offer`]): when nothing is queued and no writer holds the
//! socket, the hub writes the frame's bytes itself, without waking the
//! session. Otherwise, and for what a partial write leaves, the frame is
//! queued and the session's writer drains it. When the queue fills, queued
//! low-priority frames go first; if high-priority frames still do not fit,
//! the session is marked for a slow-consumer close. Offering and pushing
//! never block, so a slow viewer never slows the room.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use protocol::{CloseCode, Lane};
use tokio::net::TcpStream;
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
    /// Written straight to the socket by the caller: nothing queued.
    Written,
}

#[derive(Default)]
struct State {
    /// Bytes to write before `queue`, in order: the rest of a frame the hub
    /// wrote in part, and tungstenite's own control frames.
    raw: VecDeque<Bytes>,
    queue: VecDeque<Outgoing>,
    /// `raw` and `queue` together.
    bytes: usize,
    close: Option<CloseCode>,
    /// The session's writer holds the socket (from [`Outbox::begin_write`]
    /// until it finds nothing left): the hub does not write meanwhile.
    writing: bool,
    /// The session's current room membership generation and the offset
    /// its join snapshot covers: room frames of that generation starting
    /// at or after it need no filtering and may be written directly.
    generation: u32,
    skip_upto: u64,
}

/// A session's outbound queue.
pub struct Outbox {
    state: Mutex<State>,
    notify: Notify,
    /// Signalled once when a close is requested, so a writer stuck on a
    /// full socket can give up at once.
    closing: Notify,
    limit: usize,
    /// The connection's socket, for direct writes (none in unit tests).
    socket: Option<Arc<TcpStream>>,
}

/// What the session's writer took to write.
#[derive(Debug, Default)]
pub struct Taken {
    /// Raw bytes first.
    pub raw: VecDeque<Bytes>,
    /// Then the queued frames.
    pub queue: VecDeque<Outgoing>,
}

impl Outbox {
    /// An empty outbox holding at most `limit` bytes, with no socket.
    pub fn new(limit: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            closing: Notify::new(),
            limit,
            socket: None,
        }
    }

    /// An empty outbox for the connection on `socket`.
    pub fn with_socket(limit: usize, socket: Arc<TcpStream>) -> Self {
        Outbox {
            socket: Some(socket),
            ..Outbox::new(limit)
        }
    }

    /// The connection's socket.
    pub fn socket(&self) -> Option<&Arc<TcpStream>> {
        self.socket.as_ref()
    }

    /// Offers a frame whose complete wire bytes are `wire`: written to the
    /// socket at once when nothing is queued before it, no writer holds the
    /// socket and it needs no filtering by the session; queued otherwise
    /// (the socket would block, or took only part: the rest is queued raw).
    pub fn offer(&self, out: Outgoing, wire: &Bytes) -> Pushed {
        let mut s = self.lock();
        if let Some(sock) = &self.socket
            && s.close.is_none()
            && !s.writing
            && s.queue.is_empty()
            && s.raw.is_empty()
            && !wire.is_empty()
            && (out.generation == 0
                || (out.generation == s.generation && (out.upto == 0 || out.since >= s.skip_upto)))
        {
            // One non-blocking write under the lock: nothing can be queued
            // or written between the checks and the write.
            match sock.try_write(wire) {
                Ok(n) if n == wire.len() => return Pushed::Written,
                Ok(n) => {
                    s.bytes += wire.len() - n;
                    s.raw.push_back(wire.slice(n..));
                    drop(s);
                    self.notify.notify_one();
                    return Pushed::Queued;
                }
                // Full (or failed: the session's next write finds out why).
                Err(_) => {}
            }
        }
        drop(s);
        self.push(out)
    }

    /// Queues raw bytes (tungstenite's control frames) to go before the
    /// queued frames. Never refused: they are a few bytes each.
    pub fn push_raw(&self, bytes: Bytes) {
        let mut s = self.lock();
        s.bytes += bytes.len();
        s.raw.push_back(bytes);
        drop(s);
        self.notify.notify_one();
    }

    /// The session's membership generation and snapshot offset, once its
    /// join snapshot is queued.
    pub fn set_view(&self, generation: u32, skip_upto: u64) {
        let mut s = self.lock();
        s.generation = generation;
        s.skip_upto = skip_upto;
    }

    /// Takes the socket for the session's writer with everything queued,
    /// or releases it when nothing is: `None` means the writer is done and
    /// the hub may write directly again. Returns `Err` with the close code
    /// when a close was requested. While the hub is in the middle of its
    /// (non-blocking, locked) write this simply waits for the lock.
    pub fn begin_write(&self) -> Result<Option<Taken>, CloseCode> {
        let mut s = self.lock();
        if let Some(code) = s.close {
            s.writing = false;
            return Err(code);
        }
        if s.raw.is_empty() && s.queue.is_empty() {
            s.writing = false;
            return Ok(None);
        }
        s.writing = true;
        s.bytes = 0;
        Ok(Some(Taken {
            raw: std::mem::take(&mut s.raw),
            queue: std::mem::take(&mut s.queue),
        }))
    }

    /// Puts back what a write cut short left, ahead of everything else.
    pub fn unwrite(&self, bufs: Vec<Bytes>) {
        let mut s = self.lock();
        for b in bufs.into_iter().rev() {
            s.bytes += b.len();
            s.raw.push_front(b);
        }
    }

    /// Takes whatever is queued for the final writes before a close.
    pub fn take_all(&self) -> Taken {
        let mut s = self.lock();
        s.bytes = 0;
        s.writing = true;
        Taken {
            raw: std::mem::take(&mut s.raw),
            queue: std::mem::take(&mut s.queue),
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
                // The raw bytes stay: they may finish a frame the hub
                // wrote in part, which the close frame must follow.
                s.queue = VecDeque::new();
                s.bytes = s.raw.iter().map(Bytes::len).sum();
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

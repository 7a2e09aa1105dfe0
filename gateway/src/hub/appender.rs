//! One room's comment batch on this node. Comments that passed the
//! session's checks during one tick go to the store in one call (one Lua
//! script on Redis: each comment still checked against the mute list and
//! its slow-mode slot at that instant) and to the bus as one message. Each
//! sender's ack waits for the commit, so it carries the assigned offset and
//! may come up to one tick later than an unbatched append would.

use std::sync::Arc;
use std::time::Duration;

use protocol::{ErrorCode, Rejection, RoomEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use crate::bus::{Bus, BusMessage};
use crate::metrics::Metrics;
use crate::store::{Appended, CommentRate, MAX_BATCH, PendingComment, Store};

/// Comments one room's batch holds on one node before it refuses more.
pub const QUEUE: usize = 20_000;

struct Job {
    pending: PendingComment,
    reply: oneshot::Sender<Result<Appended, Rejection>>,
}

/// The sending side of a room's batch.
pub struct Appender {
    tx: mpsc::Sender<Job>,
    tick: Duration,
}

/// What the appender task needs from the node.
pub struct Backend {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The bus.
    pub bus: Arc<dyn Bus>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The per-user comment rate, enforced in the store over every node.
    pub rate: CommentRate,
}

impl Appender {
    /// Starts the batch task of `room`; it ends when the appender is dropped.
    pub fn start(room: String, tick: Duration, backend: Backend) -> Appender {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(room, tick, rx, backend));
        Appender { tx, tick }
    }

    /// Queues a comment for the next batch; resolves once it committed.
    /// Refused with `rate_limited` when the room's batch is full.
    pub fn append(
        &self,
        pending: PendingComment,
    ) -> Result<oneshot::Receiver<Result<Appended, Rejection>>, Rejection> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Job { pending, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Rejection {
                    code: ErrorCode::RateLimited,
                    message: "the room takes no more comments this moment".into(),
                    retry_after_ms: Some(self.tick.as_millis().max(1) as u64),
                },
                mpsc::error::TrySendError::Closed(_) => {
                    Rejection::new(ErrorCode::Unavailable, "room is restarting, retry")
                }
            })?;
        Ok(rx)
    }
}

async fn run(room: String, tick: Duration, mut rx: mpsc::Receiver<Job>, backend: Backend) {
    // Commit a tenth of a tick before the hubs tick (they tick on multiples
    // of the tick in unix time), so a batch is on every node in time for the
    // next frame: a comment waits for its batch and its frame about as long
    // together as it waited for the frame alone without batching. After a quiet spell the first comment commits at once;
    // under load the batches follow the tick.
    let ms = tick.as_millis() as u64;
    let mut interval =
        tokio::time::interval_at(crate::clock::aligned_start(ms, (ms / 10).max(2)), tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut skip_tick = false;
    loop {
        let Some(first) = rx.recv().await else {
            return;
        };
        if !skip_tick {
            interval.tick().await;
        }
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        // A full batch means more may be waiting: take it without a tick.
        skip_tick = jobs.len() >= MAX_BATCH;
        commit(&room, jobs, &backend).await;
    }
}

async fn commit(room: &str, jobs: Vec<Job>, backend: &Backend) {
    let (pending, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.pending, j.reply)).unzip();
    match backend
        .store
        .append_comments(room, &pending, backend.rate)
        .await
    {
        Ok(results) => {
            backend.metrics.append_batches.inc();
            let events: Vec<RoomEvent> = results
                .iter()
                .filter_map(|r| match r {
                    Appended::Logged(e) => Some(e.clone()),
                    _ => None,
                })
                .collect();
            backend
                .metrics
                .appended_comments
                .inc_by(events.len() as u64);
            if !events.is_empty()
                && let Err(e) = backend.bus.publish(room, BusMessage::Events(events)).await
            {
                // In the log: hubs fetch the gap, resumes replay it.
                tracing::warn!(room, error = %e, "comment batch not published");
            }
            for (reply, r) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(r));
            }
        }
        Err(e) => {
            tracing::warn!(room, error = %e, "comment batch not appended");
            let r = e.rejection();
            for reply in replies {
                let _ = reply.send(Err(r.clone()));
            }
        }
    }
}

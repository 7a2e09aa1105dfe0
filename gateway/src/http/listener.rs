//! The accept loop: one hyper HTTP/1 connection task per socket, with a
//! header-read timeout, the per-IP cap counted from the accept, a node-wide
//! cap on connections not yet upgraded to WebSocket, TCP tuning, and
//! graceful shutdown.
//!
//! A connection is *pending* from its accept until it upgrades (a plain
//! HTTP connection stays pending for its whole life). Past
//! `max_pending_connections` the oldest pending connection is closed at
//! once if it has no request in progress and was accepted at least
//! [`EVICTABLE_AFTER`] ago: idle or dripping sockets cannot lock out fresh
//! clients, which send their request right away. Otherwise (a burst of
//! young connections, as in a reconnect storm, or every one busy) the new
//! socket is closed at once, and the others keep their place. When the
//! process runs out of file descriptors, an accept evicts the same way, so
//! a low file limit does not stall the listener. An address
//! over `ip_max_connections` (upgraded and pending together) has its new
//! socket closed at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::service::Node;

/// Largest request head (and read buffer) of a connection.
const MAX_BUF: usize = 64 * 1024;

/// A pending connection this young is never evicted for a newer one (nor
/// one younger than the header-read timeout, when that is shorter): an
/// honest client has sent its request by then.
const EVICTABLE_AFTER: Duration = Duration::from_secs(1);

/// How long the loop pauses after an accept error such as EMFILE, so that a
/// full file table is not spun on.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long it pauses after evicting a connection for want of a file
/// descriptor: long enough for the evicted task to close its socket.
const EVICTED_BACKOFF: Duration = Duration::from_millis(1);

/// `errno` of an accept with no file descriptor left for the process and
/// for the system (the same on Linux and the BSDs).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// Runs the node's HTTP server on `listener` until the node shuts down,
/// then lets open requests finish (the caller bounds the wait).
pub async fn serve(listener: TcpListener, router: Router, node: Arc<Node>) {
    let mut stop = node.shutdown_signal();
    let conn_stop = stop.clone();
    let header_timeout = Duration::from_millis(node.settings.header_read_timeout_ms);
    let pending = Arc::new(Pending::new(
        node.settings.max_pending_connections,
        EVICTABLE_AFTER.min(header_timeout),
    ));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_BUF);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let Some(conn) = admit(&node, &pending, peer) else {
                        continue; // dropping `tcp` closes it
                    };
                    tune_socket(&tcp, node.settings.socket_send_buffer);
                    let (router, http) = (router.clone(), http.clone());
                    conns.spawn(serve_conn(tcp, conn, router, http, conn_stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors: an idle pending connection
                    // gives its own up so that the queue moves on.
                    let no_fd = matches!(e.raw_os_error(), Some(EMFILE | ENFILE));
                    if no_fd && pending.evict_for_accept() {
                        node.metrics
                            .rejections
                            .get_or_create(&vec![("code", "pending_evicted")])
                            .inc();
                        tokio::time::sleep(EVICTED_BACKOFF).await;
                    } else {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                }
            }
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

/// What a connection holds while it is served.
struct Conn {
    peer: SocketAddr,
    /// Its place under the per-IP cap (a session takes a clone).
    slot: Arc<crate::moderation::IpSlot>,
    /// Its place among the pending connections.
    pending: PendingGuard,
}

/// Places a just-accepted connection under the per-IP and pending caps;
/// `None` when it is to be closed at once.
fn admit(node: &Node, pending: &Arc<Pending>, peer: SocketAddr) -> Option<Conn> {
    let refuse = |code: &'static str| {
        node.metrics
            .rejections
            .get_or_create(&vec![("code", code)])
            .inc();
    };
    let Some(slot) = node.conn_limits.hold(peer.ip()) else {
        refuse("ip_limited");
        tracing::debug!(%peer, "per-IP connection cap reached; closed");
        return None;
    };
    let (guard, evicted) = pending.admit();
    if evicted {
        refuse("pending_evicted");
    }
    let Some(guard) = guard else {
        refuse("pending_limited");
        tracing::debug!(%peer, "pending connection cap reached; closed");
        return None;
    };
    Some(Conn {
        peer,
        slot,
        pending: guard,
    })
}

/// Serves one connection until it ends, upgrades, is evicted, or the node
/// shuts down (then it finishes its request and closes).
async fn serve_conn(
    tcp: TcpStream,
    conn: Conn,
    router: Router,
    http: http1::Builder,
    mut stop: watch::Receiver<bool>,
) {
    let Conn {
        peer,
        slot,
        pending,
    } = conn;
    let state = pending.state.clone();
    let router = TowerToHyperService::new(router);
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(slot.clone());
        let busy = Busy::new(state.clone());
        let response = hyper::service::Service::call(&router, req);
        async move {
            let r = response.await;
            drop(busy);
            r
        }
    });
    let served = http
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(served);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = served.as_mut() => {
                if let Err(e) = r {
                    if e.is_timeout() {
                        tracing::debug!(%peer, "no request head within the header-read timeout");
                    } else {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                }
                return;
            }
            _ = pending.state.evict.notified() => {
                tracing::debug!(%peer, "pending connection evicted for a newer one");
                return;
            }
            () = stopped(&mut stop), if !stopping => {
                stopping = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once the node shuts down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Per-connection socket options: no Nagle delay (frames are already
/// batched per tick) and an optional send buffer cap.
fn tune_socket(tcp: &TcpStream, send_buffer: usize) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
    if send_buffer > 0
        && let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer)
    {
        tracing::debug!(error = %e, "SO_SNDBUF not set");
    }
}

/// Shared between a pending connection's task and the registry.
struct PendingState {
    /// Set while a request of the connection is being answered: such a
    /// connection is never evicted mid-request.
    busy: AtomicBool,
    /// Tells the task to close the connection.
    evict: Notify,
    /// When it was accepted.
    since: Instant,
}

/// Marks a connection busy for the life of one request.
struct Busy(Arc<PendingState>);

impl Busy {
    fn new(state: Arc<PendingState>) -> Self {
        state.busy.store(true, Ordering::Relaxed);
        Busy(state)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Relaxed);
    }
}

/// The node's pending connections, oldest first.
struct Pending {
    cap: usize,
    /// The least age of a connection evicted for a newer one.
    evictable_after: Duration,
    inner: Mutex<PendingInner>,
}

struct PendingInner {
    next_id: u64,
    conns: BTreeMap<u64, Arc<PendingState>>,
}

/// A connection's entry in [`Pending`]; dropping it (the task ended or the
/// connection upgraded) removes the entry.
struct PendingGuard {
    id: u64,
    state: Arc<PendingState>,
    pending: Arc<Pending>,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.pending.lock().conns.remove(&self.id);
    }
}

impl Pending {
    fn new(cap: usize, evictable_after: Duration) -> Self {
        Pending {
            cap,
            evictable_after,
            inner: Mutex::new(PendingInner {
                next_id: 0,
                conns: BTreeMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PendingInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the oldest connection without a request in progress if it
    /// is old enough; whether one was closed.
    fn evict_oldest(&self, inner: &mut PendingInner) -> bool {
        let idle = inner
            .conns
            .iter()
            .find(|(_, s)| !s.busy.load(Ordering::Relaxed))
            .filter(|(_, s)| s.since.elapsed() >= self.evictable_after)
            .map(|(id, _)| *id);
        match idle.and_then(|id| inner.conns.remove(&id)) {
            Some(old) => {
                old.evict.notify_one();
                true
            }
            None => false,
        }
    }

    /// Frees a file descriptor when the process has none left for an
    /// accept, as a new connection over the cap would.
    fn evict_for_accept(&self) -> bool {
        let mut inner = self.lock();
        self.evict_oldest(&mut inner)
    }

    /// An entry for a new connection; at the cap it evicts the oldest
    /// connection without a request in progress if that one is old enough,
    /// else it is `None` (the new one is to be closed). The flag says
    /// whether one was evicted.
    fn admit(self: &Arc<Self>) -> (Option<PendingGuard>, bool) {
        let mut inner = self.lock();
        let mut evicted = false;
        if self.cap > 0 && inner.conns.len() >= self.cap {
            if !self.evict_oldest(&mut inner) {
                return (None, false);
            }
            evicted = true;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let state = Arc::new(PendingState {
            busy: AtomicBool::new(false),
            evict: Notify::new(),
            since: Instant::now(),
        });
        inner.conns.insert(id, state.clone());
        let guard = PendingGuard {
            id,
            state,
            pending: self.clone(),
        };
        (Some(guard), evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let p = Arc::new(Pending::new(2, Duration::ZERO));
        let (a, _) = p.admit();
        let (b, _) = p.admit();
        let (a, b) = (a.unwrap(), b.unwrap());
        a.state.busy.store(true, Ordering::Relaxed);
        let (c, evicted) = p.admit();
        assert!(evicted && c.is_some(), "b, the oldest idle one, made room");
        assert_eq!(p.lock().conns.len(), 2);
        assert!(!p.lock().conns.contains_key(&b.id));
        c.as_ref()
            .unwrap()
            .state
            .busy
            .store(true, Ordering::Relaxed);
        let (d, evicted) = p.admit();
        assert!(d.is_none() && !evicted, "every pending one is busy");
        drop(a);
        assert_eq!(p.lock().conns.len(), 1);
    }

    #[test]
    fn young_connections_keep_their_place_and_the_new_one_is_refused() {
        let p = Arc::new(Pending::new(1, Duration::from_secs(3600)));
        let (a, _) = p.admit();
        let (b, evicted) = p.admit();
        assert!(a.is_some() && b.is_none() && !evicted);
        assert_eq!(p.lock().conns.len(), 1);
    }
}

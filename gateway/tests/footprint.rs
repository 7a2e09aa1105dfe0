//! What an idle connection costs in the session's own future: the rare
//! steps (requests, joins, closing) are boxed so the state kept per idle
//! connection is only its wait for input (docs/benchmarks.md, "Memory per
//! idle connection"). Sizes, not speed: a regression here is memory on
//! every one of a node's connections.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

#[tokio::test]
async fn the_session_future_stays_small() {
    let gw = TestGateway::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let socket = std::sync::Arc::new(listener.accept().await.unwrap().0);
    let session = gateway::session::Session::new(
        gw.node().clone(),
        None,
        protocol::Codec::Json,
        socket.clone(),
    );
    let io = gateway::hub::wire::WireIo::new(socket, session.outbox());
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    let future = session.run(ws, None);
    let size = std::mem::size_of_val(&future);
    // 6,416 bytes before the request path was boxed.
    assert!(size <= 2560, "the session future is {size} bytes");
}

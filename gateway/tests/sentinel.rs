//! The Sentinel topology: the gateway asks a real `redis-server --sentinel`
//! for the master, then serves a room through it.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::*;

struct Sentinel {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Sentinel {
    fn start(master_port: u16) -> Sentinel {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("gw-sentinel-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
            ),
        )
        .unwrap();
        let child = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = Sentinel { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sentinel did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_node_finds_the_master_through_sentinel_and_serves_a_room() {
    if !common::redis::available() {
        eprintln!("SKIPPED: redis-server is not installed (.ci/run installs it)");
        return;
    }
    let master = RedisServer::start();
    let sentinel = Sentinel::start(master.port());
    let gw = TestGateway::start_with(|s| {
        s.redis.clear();
        s.redis_cluster.clear();
        s.redis_sentinel = format!("redis://127.0.0.1:{}", sentinel.port);
        s.redis_sentinel_master = "mymaster".into();
    })
    .await;
    gw.room("r1", "anchor", true).await;
    let mut a = gw.connect(Some("alice")).await;
    let mut b = gw.connect(Some("bob")).await;
    a.join("r1").await;
    b.join("r1").await;
    a.comment("through sentinel").await;
    let got = b.events_until(|e| !comment_texts(e).is_empty()).await;
    assert_eq!(comment_texts(&got), ["through sentinel"]);
    // The room lives in the master that Sentinel named.
    let keys = master.cmd(&["KEYS", "*:{r1}:meta"]).unwrap();
    assert!(keys.contains("{r1}:meta"), "{keys}");
}

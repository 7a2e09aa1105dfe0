//! Tests of the Redis test harness itself (`common::redis`): a single server
//! keeps acknowledged writes across a SIGKILL and restart (AOF), and a
//! 3-master cluster comes up and serves cross-node commands.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;
use std::time::Instant;

use common::redis::{RedisCluster, RedisServer, available};

/// Runs `redis-cli ARGS` and returns its trimmed stdout; panics on failure.
fn cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn skip() -> bool {
    if available() {
        return false;
    }
    eprintln!(
        "!!!!! redis-server/redis-cli not installed: SKIPPING (run .ci/run to install) !!!!!"
    );
    true
}

#[test]
fn server_keeps_aof_data_across_kill_and_restart() {
    if skip() {
        return;
    }
    let mut r = RedisServer::start();
    let port = r.port().to_string();
    assert_eq!(r.url(), format!("redis://127.0.0.1:{port}"));
    assert_ne!(r.port(), 6379);
    assert!(r.is_running());
    assert_eq!(cli(&["-p", &port, "set", "k", "v"]), "OK");

    r.kill();
    assert!(!r.is_running());
    assert!(r.cmd(&["PING"]).is_err(), "a killed server must not answer");

    r.restart();
    assert!(r.is_running());
    assert_eq!(r.port().to_string(), port, "restart keeps the port");
    assert_eq!(cli(&["-p", &port, "get", "k"]), "v");
    assert_eq!(r.cmd(&["GET", "k"]).unwrap(), "v");
    assert_eq!(
        r.cmd(&["CONFIG", "GET", "appendonly"]).unwrap(),
        "appendonly\nyes"
    );
}

#[test]
fn server_drop_kills_process_and_removes_dir() {
    if skip() {
        return;
    }
    let r = RedisServer::start();
    let port = r.port();
    let dir = r.dir().to_path_buf();
    assert!(dir.is_dir());
    assert_eq!(r.cmd(&["CONFIG", "GET", "save"]).unwrap(), "save\n");
    drop(r);
    assert!(!dir.exists(), "temp dir left behind: {}", dir.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server still listening on {port} after drop"
    );
}

#[test]
fn servers_get_distinct_ports_and_dirs() {
    if skip() {
        return;
    }
    let a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.dir(), b.dir());
    a.cmd(&["SET", "only-a", "1"]).unwrap();
    assert_eq!(b.cmd(&["EXISTS", "only-a"]).unwrap(), "0");
}

#[test]
fn cluster_of_three_masters_serves_hash_tagged_keys() {
    if skip() {
        return;
    }
    let t = Instant::now();
    let c = RedisCluster::start();
    eprintln!("cluster start took {:?}", t.elapsed());
    let ports = c.ports();
    assert_eq!(ports.len(), 3);
    assert!(ports.iter().all(|p| *p < 55535));
    assert_eq!(
        c.seeds(),
        ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
    );
    for p in &ports {
        let info = cli(&["-p", &p.to_string(), "cluster", "info"]);
        assert!(info.contains("cluster_state:ok"), "{p}: {info}");
        assert!(info.contains("cluster_known_nodes:3"), "{p}: {info}");
    }
    let p1 = ports[0].to_string();
    assert_eq!(cli(&["-c", "-p", &p1, "set", "{a}x", "1"]), "OK");
    assert_eq!(cli(&["-c", "-p", &p1, "set", "{b}x", "2"]), "OK");
    assert_eq!(cli(&["-c", "-p", &p1, "set", "{c}x", "3"]), "OK");
    for p in &ports {
        let p = p.to_string();
        assert_eq!(cli(&["-c", "-p", &p, "get", "{a}x"]), "1");
        assert_eq!(cli(&["-c", "-p", &p, "mget", "{b}x", "{b}y"]), "2");
    }
}

#[test]
#[should_panic(expected = "Address already in use")]
fn restart_on_a_taken_port_panics_with_the_server_log() {
    if !available() {
        panic!("Address already in use (skipped: redis-server not installed)");
    }
    let mut r = RedisServer::start();
    r.kill();
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", r.port())).unwrap();
    r.restart();
}

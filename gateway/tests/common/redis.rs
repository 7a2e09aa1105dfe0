//! Test harness for real Redis: throwaway `redis-server` processes (a single
//! AOF-persisted server, or a 3-master cluster) on free loopback ports, each
//! with its own temp dir, killed and cleaned up on drop.
//!
//! Everything here is synchronous (`std::process`, `std::net`); every wait is
//! bounded and fails with the server's log in the panic message.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a server gets to answer PING after a (re)start.
const READY_DEADLINE: Duration = Duration::from_secs(10);
/// How long a cluster gets to report `cluster_state:ok` on every node.
const CLUSTER_DEADLINE: Duration = Duration::from_secs(20);
/// Poll interval of every wait.
const POLL: Duration = Duration::from_millis(20);
/// Per-request socket timeout of the tiny RESP client.
const IO_TIMEOUT: Duration = Duration::from_millis(500);
/// Attempts at starting on a fresh port when the picked one got taken.
const PORT_ATTEMPTS: usize = 5;
/// Cluster ports stay below this so that `port + 10000` (the bus) is valid.
const CLUSTER_PORT_MAX: u16 = 55535;
/// How much of a log file goes into a panic message (its tail).
const LOG_TAIL: usize = 8000;

/// Whether `redis-server` and `redis-cli` are installed and runnable.
/// `.ci/run` installs them, so tests that skip on `false` should say so loudly.
pub fn available() -> bool {
    ["redis-server", "redis-cli"].iter().all(|bin| {
        Command::new(bin)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// One `redis-server` child process with its data in a private temp dir.
pub struct RedisServer {
    /// In a mutex so that `is_running(&self)` can `try_wait`.
    child: Mutex<Option<Child>>,
    port: u16,
    dir: PathBuf,
    /// Arguments beyond the common ones (cluster mode).
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts redis-server on a free 127.0.0.1 port with `appendonly yes`
    /// (`appendfsync no`) and `save ""`, its data in a fresh temp dir,
    /// and waits (up to 10 s) until it answers PING.
    pub fn start() -> RedisServer {
        Self::start_with(Vec::new(), free_port)
    }

    fn start_with(extra: Vec<String>, pick_port: fn() -> u16) -> RedisServer {
        let mut server = RedisServer {
            child: Mutex::new(None),
            port: 0,
            dir: unique_dir(),
            extra,
        };
        for attempt in 1..=PORT_ATTEMPTS {
            server.port = pick_port();
            server.spawn();
            match server.wait_ready() {
                Ok(()) => return server,
                // Someone grabbed the port between our probe and the bind.
                Err(e) if attempt < PORT_ATTEMPTS && server.lost_port_race() => {
                    eprintln!("redis harness: port {} taken ({e}); retrying", server.port);
                    server.reap();
                    server.rotate_logs(attempt);
                }
                Err(e) => server.fail(&e),
            }
        }
        unreachable!("the last attempt either returns or panics")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's data dir (AOF, `nodes.conf`, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SIGKILLs the server (a crash or outage); its data on disk stays.
    /// Writes acknowledged before the kill are in the AOF (Redis writes it
    /// before replying; only fsync is deferred, which a process kill does
    /// not lose). No-op when it is not running.
    pub fn kill(&mut self) {
        self.reap();
    }

    /// SIGKILLs the server and deletes its data files, so the next
    /// `restart` comes back empty, as a Redis without persistence does.
    pub fn kill_and_wipe(&mut self) {
        self.reap();
        for entry in fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name == "appendonlydir" {
                let _ = fs::remove_dir_all(&path);
            } else if name.ends_with(".rdb") || name.ends_with(".aof") {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// Starts it again on the same port and dir (data reloaded from the AOF)
    /// and waits (up to 10 s) until it answers PING. Kills it first when it
    /// is still running.
    pub fn restart(&mut self) {
        self.reap();
        self.spawn();
        if let Err(e) = self.wait_ready() {
            self.fail(&format!("restart on the same port: {e}"));
        }
    }

    pub fn is_running(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        match child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends one command over a fresh connection and returns the reply as
    /// text (`+OK` → `OK`, bulk → its content, nil → `""`, arrays → lines,
    /// `-ERR x` → `Err("ERR x")`).
    pub fn cmd(&self, args: &[&str]) -> Result<String, String> {
        command(self.port, args)
    }

    /// The tail of the server's log (and stdout/stderr), for messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["redis.log", "stdio.log"] {
            let path = self.dir.join(name);
            let text = fs::read_to_string(&path).unwrap_or_default();
            let skip = text.len().saturating_sub(LOG_TAIL);
            let start = (skip..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            out.push_str(&format!(
                "----- {} -----\n{}\n",
                path.display(),
                &text[start..]
            ));
        }
        out
    }

    fn spawn(&mut self) {
        assert!(self.child_mut().is_none(), "spawn while a child is alive");
        fs::create_dir_all(&self.dir)
            .unwrap_or_else(|e| panic!("create {}: {e}", self.dir.display()));
        let stdio = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("stdio.log"))
            .unwrap();
        let mut cmd = Command::new("redis-server");
        cmd.current_dir(&self.dir)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .args(["--daemonize", "no"])
            .args(["--appendonly", "yes"])
            // `no`, not production's `everysec`: every acknowledged write
            // is in the AOF file (the page cache) before its reply, so a
            // SIGKILL (`kill`) loses nothing and `restart` comes back with
            // all of it. `everysec` postpones the write, reply sent, while
            // a slow background fsync runs (up to 2 s), and a kill then
            // loses acknowledged writes: a room created just before it.
            .args(["--appendfsync", "no"])
            .args(["--save", ""])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(stdio.try_clone().unwrap())
            .stderr(stdio);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run redis-server (is it installed? see .ci/run): {e}")
        });
        watchdog(child.id());
        *self.child_mut() = Some(child);
    }

    /// Waits until PING gets +PONG (not -LOADING), the child exits, or the
    /// deadline passes.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_DEADLINE;
        let mut last = String::from("no attempt yet");
        loop {
            if let Some(c) = self.child_mut().as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "redis-server on port {} exited early ({status}); last PING: {last}",
                    self.port
                ));
            }
            match command(self.port, &["PING"]) {
                Ok(r) if r == "PONG" => return Ok(()),
                Ok(r) => last = format!("reply {r:?}"),
                Err(e) => last = e,
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "redis-server on port {} did not answer PING within {:?}; last: {last}",
                    self.port, READY_DEADLINE
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn lost_port_race(&self) -> bool {
        fs::read_to_string(self.dir.join("redis.log"))
            .unwrap_or_default()
            .contains("Address already in use")
    }

    /// Moves the logs of a failed attempt aside, so the port check of the
    /// next attempt sees only its own.
    fn rotate_logs(&self, attempt: usize) {
        for name in ["redis.log", "stdio.log"] {
            let _ = fs::rename(
                self.dir.join(name),
                self.dir.join(format!("{name}.attempt{attempt}")),
            );
        }
    }

    /// SIGKILL and wait, if there is a child.
    fn reap(&mut self) {
        if let Some(mut c) = self.child_mut().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn child_mut(&mut self) -> &mut Option<Child> {
        self.child.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    fn fail(&mut self, why: &str) -> ! {
        let logs = self.logs();
        self.reap();
        panic!("redis harness: {why}\n{logs}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.reap();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A 3-master Redis Cluster (no replicas) on free loopback ports.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts 3 cluster-enabled servers (`--cluster-node-timeout 2000`,
    /// `--appendonly yes`, each in its own temp dir, ports below 55535 with
    /// their bus ports free), runs `redis-cli --cluster create ...
    /// --cluster-replicas 0 --cluster-yes`, then waits (up to 20 s) until
    /// every node reports `cluster_state:ok`.
    pub fn start() -> RedisCluster {
        let extra: Vec<String> = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut nodes: Vec<RedisServer> = Vec::with_capacity(3);
        while nodes.len() < 3 {
            let node = RedisServer::start_with(extra.clone(), free_cluster_port);
            // Distinct ports, and no node on another's bus port.
            let clash = nodes.iter().any(|n| {
                let (a, b) = (n.port, node.port);
                a == b || a.checked_add(10000) == Some(b) || b.checked_add(10000) == Some(a)
            });
            if !clash {
                nodes.push(node);
            }
        }
        let cluster = RedisCluster { nodes };
        cluster.create();
        cluster.wait_ok();
        cluster
    }

    /// `["redis://127.0.0.1:P1", ...]`
    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(RedisServer::port).collect()
    }

    /// The nodes, e.g. to `kill` and `restart` one (it rejoins from its
    /// `nodes.conf`; while a master is down its slots fail after the
    /// 2 s node timeout).
    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    /// Waits (up to 20 s) until every running node reports `cluster_state:ok`.
    pub fn wait_ok(&self) {
        let deadline = Instant::now() + CLUSTER_DEADLINE;
        loop {
            let states: Vec<(u16, String)> = self
                .nodes
                .iter()
                .map(|n| {
                    let state = match n.cmd(&["CLUSTER", "INFO"]) {
                        Ok(info) => info
                            .lines()
                            .find_map(|l| l.strip_prefix("cluster_state:"))
                            .unwrap_or("?")
                            .trim()
                            .to_string(),
                        Err(e) => e,
                    };
                    (n.port, state)
                })
                .collect();
            if states.iter().all(|(_, s)| s == "ok") {
                return;
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "cluster not ok within {CLUSTER_DEADLINE:?}: {states:?}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn create(&self) {
        let out_path = self.nodes[0].dir.join("cluster-create.log");
        let out = File::create(&out_path).unwrap();
        let mut cmd = Command::new("redis-cli");
        cmd.arg("--cluster").arg("create");
        for n in &self.nodes {
            cmd.arg(format!("127.0.0.1:{}", n.port));
        }
        cmd.args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-cli (is it installed?): {e}"));
        let deadline = Instant::now() + CLUSTER_DEADLINE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.fail(&format!(
                    "redis-cli --cluster create still running after {CLUSTER_DEADLINE:?}"
                ));
            }
            std::thread::sleep(POLL);
        };
        if !status.success() {
            self.fail(&format!("redis-cli --cluster create failed ({status})"));
        }
    }

    fn fail(&self, why: &str) -> ! {
        let created = fs::read_to_string(self.nodes[0].dir.join("cluster-create.log"))
            .unwrap_or_else(|_| "(not run)".into());
        let logs: String = self.nodes.iter().map(RedisServer::logs).collect();
        panic!("redis harness: {why}\n----- redis-cli --cluster create -----\n{created}\n{logs}");
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        // Kill them all before any waits on dir removal; each node's own
        // Drop then removes its dir.
        for n in &mut self.nodes {
            n.reap();
        }
    }
}

/// A fresh dir under the system temp dir, unique per process and instance.
fn unique_dir() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("gateway-redis-{}-{n}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// A port that was free on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A free port below 55535 whose cluster bus port (`+10000`) is free too.
fn free_cluster_port() -> u16 {
    for _ in 0..1000 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        if port < CLUSTER_PORT_MAX && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {CLUSTER_PORT_MAX} with a free bus port after 1000 tries");
}

/// A minimal RESP exchange: one command, one reply, bounded by timeouts.
fn command(port: u16, args: &[&str]) -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    (&stream)
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    read_reply(&mut BufReader::new(&stream))
}

/// Reads one RESP reply: simple strings, integers and bulk strings as their
/// text (nil as ""), arrays as their elements joined by newlines, errors as
/// `Err`.
fn read_reply(reader: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_at(line.len().min(1));
    let len = || -> Result<i64, String> { rest.parse().map_err(|_| format!("bad reply {line:?}")) };
    match kind {
        "+" | ":" => Ok(rest.to_string()),
        "-" => Err(rest.to_string()),
        "$" => {
            let Ok(n) = usize::try_from(len()?) else {
                return Ok(String::new()); // nil
            };
            let mut buf = vec![0; n + 2];
            reader.read_exact(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(n);
            String::from_utf8(buf).map_err(|e| e.to_string())
        }
        "*" => {
            let n = usize::try_from(len()?).unwrap_or(0);
            let items = (0..n)
                .map(|_| read_reply(reader))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(items.join("\n"))
        }
        "" => Err("connection closed".into()),
        _ => Err(format!("unsupported reply {line:?}")),
    }
}

/// Kills `pid` once this test process is gone, so servers held in statics
/// (which are never dropped) or left by a killed test do not outlive it.
fn watchdog(pid: u32) {
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -9 {pid} 2>/dev/null",
        me = std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

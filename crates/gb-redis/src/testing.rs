//! Test support: a `redis-server` process the test owns, and the skip/fail rule.
//!
//! * `GB_REDIS_URL` set: tests that only need *a* Redis use it.
//! * Otherwise, if `redis-server` is on `PATH`, the test starts its own on a free 127.0.0.1 port
//!   (`--save '' --appendonly no`), killed when the guard drops.
//! * Otherwise the test prints `SKIPPED: redis-server not available` and passes, unless
//!   `CI=true`, where it fails.
//!
//! Fault tests that stop or stall the server always need their own process (same rule).

// Test support is std code on purpose (processes, sockets, files).
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether we run under CI (`CI=true`), where skipping is a failure.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `redis-server` on `PATH`, if any.
pub fn redis_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}

fn skip_or_fail(test: &str, what: &str) {
    if ci() {
        panic!("{test}: CI=true but {what} (install it: bash .ci/redis.sh install)");
    }
    // Straight to the stderr handle, not `eprintln!`: libtest captures the macros' output of
    // passing tests, and the skip must be visible in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: redis-server not available ({test}: {what})"
    );
}

/// A `redis-server` child process on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> Option<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    l.local_addr().ok().map(|a| a.port())
}

/// Sends `PING` over a fresh connection; true on `+PONG`.
pub fn ping(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server if the binary exists (up to 3 free ports tried).
    pub fn start() -> Option<Self> {
        for attempt in 0..3 {
            if let Some(s) = Self::start_on(free_port()?, attempt) {
                return Some(s);
            }
        }
        None
    }

    /// Starts a server on `port`, waiting up to 5 s for `PING`.
    pub fn start_on(port: u16, attempt: u32) -> Option<Self> {
        let bin = redis_binary()?;
        let dir = std::env::temp_dir().join(format!(
            "gb-redis-test-{}-{port}-{attempt}",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        let child = Command::new(&bin)
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let mut server = RedisServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                return None; // exited (port taken?); the guard cleans up
            }
            if ping(port, Duration::from_millis(200)) {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal (`STOP`, `CONT`) with `kill(1)`.
    pub fn signal(&self, sig: &str) -> bool {
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A stopped process must be continued to die promptly on some kernels; harmless otherwise.
        let _ = self.signal("CONT");
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis URL for a test that only needs *a* server: `GB_REDIS_URL`, or a server of its own.
/// `None` means skipped (after printing so); under `CI=true` it panics instead.
pub fn redis_url(test: &str) -> Option<(String, Option<RedisServer>)> {
    if let Ok(url) = std::env::var("GB_REDIS_URL")
        && !url.trim().is_empty()
    {
        return Some((url, None));
    }
    if let Some(s) = RedisServer::start() {
        return Some((s.url(), Some(s)));
    }
    skip_or_fail(
        test,
        "GB_REDIS_URL is unset and no redis-server could be started",
    );
    None
}

/// A server of the test's own (for stopping/stalling it). `None` means skipped.
pub fn own_server(test: &str) -> Option<RedisServer> {
    let s = RedisServer::start();
    if s.is_none() {
        skip_or_fail(test, "no redis-server binary could be started");
    }
    s
}

/// `redis-cli` on `PATH`, if any.
pub fn redis_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-cli"))
        .find(|p| p.is_file())
}

/// Runs `redis-cli -p <port> <args>` (5 s bound); its stdout, or `None` on failure.
pub fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("timeout")
        .arg("5")
        .arg(redis_cli()?)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A Redis Cluster of `redis-server` child processes on 127.0.0.1 (created with
/// `redis-cli --cluster create`), killed on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts `masters` masters with `replicas` replicas each (node timeout 1 s, so a replica
    /// takes over about 2 s after its master dies) and waits (at most 30 s) until the cluster
    /// state is ok everywhere and every master has its replicas attached.
    pub fn start(masters: usize, replicas: usize) -> Option<Self> {
        let bin = redis_binary()?;
        redis_cli()?;
        let n = masters * (1 + replicas);
        let dir = std::env::temp_dir().join(format!(
            "gb-redis-cluster-{}-{}",
            std::process::id(),
            free_port()?
        ));
        std::fs::create_dir_all(&dir).ok()?;
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            ports: Vec::new(),
            dir,
        };
        for _ in 0..n {
            let port = free_port()?;
            let child = Command::new(&bin)
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--cluster-node-timeout", "1000"])
                .args(["--repl-diskless-sync", "yes"])
                .args(["--repl-diskless-sync-delay", "0"])
                .args(["--loglevel", "warning"])
                .arg("--dir")
                .arg(&cluster.dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            cluster.nodes.push(child);
            cluster.ports.push(port);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for &p in &cluster.ports {
            while !ping(p, Duration::from_millis(200)) {
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        let addrs: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("timeout")
            .arg("30")
            .arg(redis_cli()?)
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !created.success() {
            return None;
        }
        while !cluster.healthy(masters, replicas) {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(cluster)
    }

    /// Whether every live node says `cluster_state:ok` and sees `masters` live masters, each
    /// with `replicas` connected replicas.
    pub fn healthy(&self, masters: usize, replicas: usize) -> bool {
        let live: Vec<u16> = self
            .ports
            .iter()
            .copied()
            .filter(|&p| ping(p, Duration::from_millis(200)))
            .collect();
        live.iter()
            .all(|&p| cli(p, &["cluster", "info"]).is_some_and(|s| s.contains("cluster_state:ok")))
            && live.first().is_some_and(|&p| {
                let ms = self.masters_seen_by(p);
                ms.len() == masters
                    && ms.iter().all(|&m| {
                        cli(m, &["info", "replication"]).is_some_and(|s| {
                            s.contains(&format!("connected_slaves:{replicas}\r"))
                                || s.contains(&format!("connected_slaves:{replicas}\n"))
                        })
                    })
            })
    }

    /// The ports of the live masters that hold slots, as node `port` sees them.
    pub fn masters_seen_by(&self, port: u16) -> Vec<u16> {
        let Some(nodes) = cli(port, &["cluster", "nodes"]) else {
            return Vec::new();
        };
        nodes
            .lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let flags = f.get(2)?;
                if !flags.contains("master") || flags.contains("fail") || f.len() < 9 {
                    return None;
                }
                let addr = f.get(1)?.split('@').next()?;
                addr.rsplit(':').next()?.parse().ok()
            })
            .collect()
    }

    /// `redis://127.0.0.1:<port>` for every node (seed URLs).
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// The nodes' ports.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// Kills (SIGKILL) the node on `port`; false if it is not one of ours.
    pub fn kill(&mut self, port: u16) -> bool {
        let Some(i) = self.ports.iter().position(|&p| p == port) else {
            return false;
        };
        let Some(child) = self.nodes.get_mut(i) else {
            return false;
        };
        let _ = child.kill();
        let _ = child.wait();
        true
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in &mut self.nodes {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Seed URLs of a Redis Cluster for a test that only needs *a* cluster:
/// `GB_REDIS_CLUSTER_URLS` (comma-separated, as `.ci/redis-cluster.sh` exports), or a
/// 3-master cluster of its own. `None` means skipped (after printing so); under `CI=true` it
/// panics instead.
pub fn cluster_urls(test: &str) -> Option<(Vec<String>, Option<RedisCluster>)> {
    if let Ok(list) = std::env::var("GB_REDIS_CLUSTER_URLS") {
        let urls: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if !urls.is_empty() {
            return Some((urls, None));
        }
    }
    if let Some(c) = RedisCluster::start(3, 0) {
        return Some((c.urls(), Some(c)));
    }
    skip_or_fail(
        test,
        "GB_REDIS_CLUSTER_URLS is unset and no cluster could be started (redis-server and redis-cli)",
    );
    None
}

/// A cluster of the test's own (`masters` x (1 + `replicas`) nodes), for killing nodes.
/// `None` means skipped.
pub fn own_cluster(test: &str, masters: usize, replicas: usize) -> Option<RedisCluster> {
    let c = RedisCluster::start(masters, replicas);
    if c.is_none() {
        skip_or_fail(
            test,
            "no Redis Cluster could be started (redis-server and redis-cli)",
        );
    }
    c
}

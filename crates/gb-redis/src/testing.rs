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

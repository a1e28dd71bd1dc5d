//! Running the `gb` binary under a time bound, and scratch files for its inputs.
#![allow(dead_code, unreachable_pub, reason = "shared by several test binaries")]

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run of `gb` did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Asserts exit code 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "gb failed: {}", self.stderr);
        &self.stdout
    }

    /// Asserts exit code `code` and that stderr mentions every one of `needles`.
    #[track_caller]
    pub fn fails(&self, code: i32, needles: &[&str]) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr lacks {n:?}:\n{}",
                self.stderr
            );
        }
    }
}

/// The repository root (for `examples/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `examples/payload.json`.
pub fn example_payload() -> String {
    repo()
        .join("examples/payload.json")
        .to_string_lossy()
        .into_owned()
}

/// Runs `gb args...`, killing it if it outlives `limit`.
pub fn gb_within(limit: Duration, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gb"));
    cmd.args(args);
    run_within(cmd, limit)
}

/// Runs `cmd` (no stdin, both pipes drained), killing it if it outlives `limit`.
pub fn run_within(mut cmd: Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    // Drain both pipes on threads so a large output cannot block the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

/// Runs `gb args...` with a 60 s bound.
pub fn gb(args: &[&str]) -> Run {
    gb_within(Duration::from_secs(60), args)
}

/// Parses every line of `out` as JSON.
pub fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Writes `contents` to a fresh file in a per-process scratch directory.
pub fn scratch(name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("gb-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{n}-{name}"));
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

/// A payload whose `encryptedFeatures` decrypts, with [`KEY`], to a feature `feature` that
/// defaults to `true` (the GrowthBook spec's example).
pub const ENCRYPTED: &str = r#"{"features": {}, "encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj"}"#;
/// The key of [`ENCRYPTED`].
pub const KEY: &str = "Zvwv/+uhpFDznZ6SX28Yjg==";
/// A well-formed key that does not decrypt [`ENCRYPTED`].
pub const WRONG_KEY: &str = "Zvwv/+uhpFDznZ6SX39Yjg==";

//! The reference side: `@growthbook/growthbook` 1.8.0 installed with `npm ci` from the
//! committed lock file (pinned by integrity), driven as one long-lived `node` process that
//! answers one JSON batch per line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// `xtask/js`: `package.json`, `package-lock.json`, `runner.js`; `node_modules` is git-ignored.
pub(crate) fn js_dir(root: &Path) -> PathBuf {
    root.join("xtask").join("js")
}

/// Installs the pinned SDK unless the installed copy matches the lock file.
pub(crate) fn install(root: &Path) -> Result<(), String> {
    let dir = js_dir(root);
    let installed = dir.join("node_modules").join(".package-lock.json");
    let lock = dir.join("package-lock.json");
    let sdk = dir.join("node_modules/@growthbook/growthbook/package.json");
    if sdk.exists() && same_packages(&installed, &lock) {
        return Ok(());
    }
    eprintln!("diff: npm ci (@growthbook/growthbook pinned by package-lock.json)");
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run npm (is Node.js installed?): {e}"))?;
    if !status.success() {
        return Err(format!("npm ci failed in {}", dir.display()));
    }
    Ok(())
}

/// Whether npm's record of what it installed lists the same packages as the lock file.
fn same_packages(installed: &Path, lock: &Path) -> bool {
    let read = |p: &Path| -> Option<Value> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    let (Some(a), Some(b)) = (read(installed), read(lock)) else {
        return false;
    };
    let integrity = |v: &Value| -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = v["packages"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.is_empty())
                    .map(|(k, p)| (k.clone(), p["integrity"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|x, y| x.0.cmp(&y.0));
        out
    };
    integrity(&a) == integrity(&b)
}

/// A running `node runner.js`.
#[derive(Debug)]
pub(crate) struct Node {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Node {
    pub(crate) fn start(root: &Path) -> Result<Node, String> {
        let dir = js_dir(root);
        let mut child = Command::new("node")
            .arg("runner.js")
            .current_dir(&dir)
            .env("NODE_ENV", "production")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let stdin = child.stdin.take().ok_or("node stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("node stdout")?);
        Ok(Node {
            child,
            stdin,
            stdout,
        })
    }

    /// Evaluates one batch in the reference SDK.
    pub(crate) fn eval(&mut self, batch: &Value) -> Result<Value, String> {
        let mut line = serde_json::to_string(batch).map_err(|e| e.to_string())?;
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to node: {e}"))?;
        let mut answer = String::new();
        let n = self
            .stdout
            .read_line(&mut answer)
            .map_err(|e| format!("reading from node: {e}"))?;
        if n == 0 {
            return Err("node exited".into());
        }
        let v: Value = serde_json::from_str(&answer).map_err(|e| format!("node answer: {e}"))?;
        if let Some(e) = v.get("error") {
            return Err(format!("node runner failed: {e}"));
        }
        Ok(v)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

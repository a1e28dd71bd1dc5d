//! `gb fetch` and `gb watch`: payloads from a GrowthBook API host, through gb-transport's
//! payload engine (the one the SDK runs): `fetch` is its validated fetch
//! ([`FeatureSource::fetch`]), `watch` the engine itself ([`FeatureSource::stream`]).

use alloc::sync::Arc;
use core::time::Duration;
use std::io::Write;

use gb_transport::{
    DecryptionKey, ErrorKind, FeatureSource, HttpConfig, HyperTransport, Payload, SseMode,
    StreamConfig, TransportError,
};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::input::{CliError, err};
use crate::{FetchArgs, Outcome, RemoteArgs, Sse, WatchArgs};

/// A source for the host and keys, with `timeout` as the connect and request timeout.
fn source(r: &RemoteArgs, timeout: Option<Duration>) -> Result<FeatureSource, CliError> {
    let mut config = HttpConfig::new(r.client_key.as_str()).api_host(r.api_host.as_str());
    if let Some(t) = timeout {
        config.request_timeout = t;
        config.connect_timeout = config.connect_timeout.min(t);
    }
    let transport = HyperTransport::new(config)
        .map_err(|e| err!("cannot use --api-host {:?}: {e}", r.api_host))?;
    let mut source = FeatureSource::new(Arc::new(transport));
    if let Some(key) = &r.decryption_key {
        source = source.with_decryption_key(DecryptionKey::new(key.as_str()));
    }
    Ok(source)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err!("cannot start the async runtime: {e}"))
}

/// A transport error with a hint at the flag to check (never showing a key).
fn describe(host: &str, e: &TransportError) -> String {
    let hint = match e.kind() {
        _ if e.is_auth() => "; check --client-key",
        ErrorKind::Status if e.status() == Some(404) => "; check --client-key and --api-host",
        ErrorKind::Decrypt => "; check --decryption-key",
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Config => "; check --api-host",
        _ => "",
    };
    // Each level says one thing (the cause is `source()`): print the chain.
    let mut text = format!("fetching from {host}: {e}");
    let mut cause = core::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    format!("{text}{hint}")
}

/// Runs `gb fetch`.
pub(crate) fn fetch(a: &FetchArgs, out: &mut impl Write) -> Outcome {
    let source = source(&a.remote, Some(a.timeout))?;
    let host = a.remote.api_host.as_str();
    let fetched =
        runtime()?.block_on(async { tokio::time::timeout(a.timeout, source.fetch()).await });
    let payload = match fetched {
        Ok(Ok(f)) => f.payload,
        Ok(Err(e)) => return Err(CliError(describe(host, &e)).into()),
        Err(_) => return Err(CliError(format!("no answer from {host} in {:?}", a.timeout)).into()),
    };
    let text = if a.compact {
        payload.value().to_string()
    } else {
        serde_json::to_string_pretty(payload.value()).unwrap_or_default()
    };
    let count = payload.features().map_or(0, Map::len);
    match &a.output {
        Some(path) => {
            std::fs::write(path, text + "\n")
                .map_err(|e| err!("cannot write {}: {e}", path.display()))?;
            eprintln!("gb: saved {count} features to {}", path.display());
        }
        None => writeln!(out, "{text}")?,
    }
    Ok(())
}

/// Runs `gb watch`.
pub(crate) fn watch(a: &WatchArgs, out: &mut impl Write) -> Outcome {
    let source = source(&a.remote, None)?;
    runtime()?.block_on(watch_loop(a, &source, out))
}

async fn watch_loop(a: &WatchArgs, source: &FeatureSource, out: &mut impl Write) -> Outcome {
    let host = a.remote.api_host.as_str();
    let config = StreamConfig {
        sse: match a.sse {
            Sse::Auto => SseMode::Auto,
            Sse::Always => SseMode::Always,
            Sse::Never => SseMode::Never,
        },
        poll_interval: a.poll_interval,
        ..StreamConfig::default()
    };
    let handle = source
        .stream(config)
        .map_err(|e| err!("{}", describe(host, &e)))?;
    let mut payloads = handle.updates();
    let mut status = handle.status();
    let start = Instant::now();
    let deadline = async {
        match a.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => core::future::pending().await,
        }
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(deadline, ctrl_c);
    let mut last: Option<Payload> = None;
    let mut updates = 0u64;
    let mut errors_seen = 0u64;
    loop {
        tokio::select! {
            changed = payloads.changed() => {
                if changed.is_err() {
                    break;
                }
                let Some(p) = payloads.borrow_and_update().as_ref().map(|u| u.payload.clone()) else {
                    continue;
                };
                let line = change_line(a.json, start.elapsed(), updates, last.as_ref(), &p);
                writeln!(out, "{line}")?;
                out.flush()?;
                if last.is_some() {
                    updates += 1;
                }
                last = Some(p);
                if a.max_updates.is_some_and(|max| updates >= max) {
                    break;
                }
            }
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                let s = status.borrow_and_update().clone();
                if s.errors > errors_seen {
                    errors_seen = s.errors;
                    if let Some(e) = &s.last_error {
                        eprintln!("gb: {} (retrying)", describe(host, e));
                    }
                }
            }
            () = &mut deadline => break,
            _ = &mut ctrl_c => break,
        }
    }
    handle.close().await;
    if last.is_none() {
        let why = status
            .borrow()
            .last_error
            .as_ref()
            .map(|e| format!(": {}", describe(host, e)))
            .unwrap_or_default();
        return Err(CliError(format!("no payload received from {host}{why}")).into());
    }
    Ok(())
}

/// What changed between two payloads.
#[derive(Debug, Default, PartialEq)]
struct Diff {
    added: Vec<String>,
    removed: Vec<String>,
    /// Changed features with the fields that changed (`defaultValue`, `rules`, ...).
    changed: Vec<(String, Vec<String>)>,
    /// Other sections that changed (`savedGroups`, `experiments`, ...).
    sections: Vec<String>,
}

/// The keys whose values differ between two objects, in `new`-then-`old` order.
fn differing<'m>(old: &'m Map<String, Value>, new: &'m Map<String, Value>) -> Vec<&'m str> {
    let mut keys: Vec<&str> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| k.as_str())
        .collect();
    keys.extend(
        old.keys()
            .filter(|k| !new.contains_key(*k))
            .map(String::as_str),
    );
    keys
}

fn diff<'v>(old: &'v Value, new: &'v Value) -> Diff {
    let empty = Map::new();
    let object = |v: &'v Value| v.as_object().unwrap_or(&empty);
    let (of, nf) = (object(&old["features"]), object(&new["features"]));
    let mut d = Diff::default();
    for key in differing(of, nf) {
        match (of.get(key), nf.get(key)) {
            (None, _) => d.added.push(key.to_owned()),
            (_, None) => d.removed.push(key.to_owned()),
            (Some(o), Some(n)) => {
                let fields = match (o.as_object(), n.as_object()) {
                    (Some(o), Some(n)) => differing(o, n).into_iter().map(String::from).collect(),
                    _ => vec!["definition".to_owned()],
                };
                d.changed.push((key.to_owned(), fields));
            }
        }
    }
    d.sections = differing(object(old), object(new))
        .into_iter()
        .filter(|k| !matches!(*k, "features" | "dateUpdated"))
        .map(String::from)
        .collect();
    d
}

/// One output line of `watch`: the first payload, or what an update changed.
fn change_line(
    json: bool,
    elapsed: Duration,
    updates: u64,
    old: Option<&Payload>,
    new: &Payload,
) -> String {
    let count = new.features().map_or(0, Map::len);
    let date = new.date_updated();
    let Some(old) = old else {
        if json {
            let line = json!({"update": 0, "elapsedMs": elapsed.as_millis() as u64,
                "dateUpdated": date, "features": count});
            return line.to_string();
        }
        let date = date
            .map(|d| format!(", dateUpdated {d}"))
            .unwrap_or_default();
        return format!("+{elapsed:.2?} initial payload: {count} features{date}");
    };
    let d = diff(old.value(), new.value());
    let n = updates + 1;
    if json {
        let changed: Map<String, Value> = d
            .changed
            .iter()
            .map(|(k, f)| (k.clone(), Value::from(f.clone())))
            .collect();
        let line = json!({"update": n, "elapsedMs": elapsed.as_millis() as u64,
            "dateUpdated": date, "features": count, "added": d.added, "removed": d.removed,
            "changed": changed, "sections": d.sections});
        return line.to_string();
    }
    let mut parts = Vec::new();
    if !d.added.is_empty() {
        parts.push(format!("added {}", d.added.join(", ")));
    }
    if !d.removed.is_empty() {
        parts.push(format!("removed {}", d.removed.join(", ")));
    }
    if !d.changed.is_empty() {
        let c: Vec<String> = d
            .changed
            .iter()
            .map(|(k, f)| format!("{k} ({})", f.join(", ")))
            .collect();
        parts.push(format!("changed {}", c.join(", ")));
    }
    if !d.sections.is_empty() {
        parts.push(format!("{} changed", d.sections.join(", ")));
    }
    if parts.is_empty() {
        parts.push("no feature changed".to_owned());
    }
    format!(
        "+{elapsed:.2?} update {n}: {}; {count} features now",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn diff_names_added_removed_changed_fields_and_sections() {
        let old = json!({"features": {"a": {"defaultValue": 1}, "b": {"defaultValue": 2, "rules": []}, "gone": {}},
            "savedGroups": {"g": [1]}, "dateUpdated": "x"});
        let new = json!({"features": {"a": {"defaultValue": 1}, "b": {"defaultValue": 3, "rules": [{"force": 1}]}, "new": {}},
            "savedGroups": {"g": [2]}, "dateUpdated": "y"});
        let d = diff(&old, &new);
        assert_eq!(d.added, ["new"]);
        assert_eq!(d.removed, ["gone"]);
        assert_eq!(
            d.changed,
            [(
                "b".to_owned(),
                vec!["defaultValue".to_owned(), "rules".to_owned()]
            )]
        );
        assert_eq!(d.sections, ["savedGroups"]);
        assert_eq!(diff(&new, &new), Diff::default());
    }
}

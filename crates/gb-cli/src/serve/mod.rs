//! `gb serve`: a local GrowthBook API on 127.0.0.1 for development and CI.
//!
//! * `GET /api/features/{key}`: the payload file (any client key), with an `ETag` (`304` for a
//!   matching `If-None-Match`) and `x-sse-support: enabled`;
//! * `GET /sub/{key}`: server-sent events; a `features` event with the whole payload when
//!   the client connects and whenever the file changes;
//! * `POST /api/eval/{key}`: remote evaluation, by gb-sdk's [`RemoteEvalEndpoint`] (the one
//!   implementation of the protocol, which a Rust server mounts as a `tower::Service`).
//!
//! The file is read again every `--poll-interval` (a bounded interval; no file-system
//! notification API needed); a version that does not load (not JSON, no `features` object,
//! an encrypted section, too large) is not served: the last good one stays and the reason is
//! printed on stderr. Each version served gets `dateUpdated` = the time it was loaded, so SDKs
//! that skip a payload with an unchanged `dateUpdated` (the JavaScript SDK does) see each edit.

use alloc::sync::Arc;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::io::Write;

use gb_sdk::{GrowthBook, RemoteEvalEndpoint};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::input::err;
use crate::{Outcome, ServeArgs};

mod http;
mod source;
mod sse;

use source::{PayloadFile, Version};

/// At most this many connections are served at once (each SSE subscriber holds one); more wait.
const MAX_CONNECTIONS: usize = 512;

/// Shared by every connection.
struct State {
    /// The version served now (the last good one).
    current: watch::Receiver<Arc<Version>>,
    /// Remote evaluation over the same payload.
    endpoint: RemoteEvalEndpoint,
}

/// Runs `gb serve` until the process is stopped (Ctrl-C).
pub(crate) fn run(a: &ServeArgs, out: &mut impl Write) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| err!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve(a, out))
}

async fn serve(a: &ServeArgs, out: &mut impl Write) -> Outcome {
    let mut file = PayloadFile::new(a.payload.clone(), a.encrypt.clone());
    let first = file
        .load(1)
        .map_err(|why| err!("{}: {why}", a.payload.display()))?;
    let client = GrowthBook::builder()
        .payload((*first.plain).clone())
        .build()
        .map_err(|e| err!("{}: {e}", a.payload.display()))?;
    let endpoint = RemoteEvalEndpoint::new(client.clone());
    let features = client.feature_keys().len();
    let (tx, rx) = watch::channel(Arc::new(first));

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, a.port));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| err!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| err!("cannot listen on {addr}: {e}"))?;
    writeln!(
        out,
        "gb serve: http://{local} serving {} ({features} features{})",
        a.payload.display(),
        if a.encrypt.is_some() {
            ", encrypted"
        } else {
            ""
        }
    )?;
    out.flush()?;

    tokio::spawn(watch_file(file, client, tx, a.poll_interval));
    let state = Arc::new(State {
        current: rx,
        endpoint,
    });
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    http::connection(stream, state).await;
                    drop(permit);
                });
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

/// Reads the file every `every`; a changed file that loads becomes the next version, one that
/// does not is reported once on stderr and not served.
async fn watch_file(
    mut file: PayloadFile,
    client: GrowthBook,
    tx: watch::Sender<Arc<Version>>,
    every: Duration,
) {
    let mut number = 1;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if tx.is_closed() {
            return;
        }
        let path = file.path().display().to_string();
        match file.reload(number + 1) {
            None => {}
            Some(Ok(version)) => {
                if let Err(e) = client.set_payload(&version.plain) {
                    eprintln!("gb serve: {path}: {e}; still serving version {number}");
                    continue;
                }
                number += 1;
                eprintln!(
                    "gb serve: {path} changed: serving version {number} ({} features)",
                    client.feature_keys().len()
                );
                tx.send_replace(Arc::new(version));
            }
            Some(Err(why)) => {
                eprintln!("gb serve: {path} not served: {why}; still serving version {number}");
            }
        }
    }
}

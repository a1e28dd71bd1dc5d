//! Installs the payload engine's updates: gb-transport's engine (SSE, polling or
//! stale-while-revalidate, caches, backoff) publishes each accepted payload; this task compiles
//! it off the async runtime and swaps the snapshot, and turns the engine's status into the
//! client's status. The old snapshot serves every evaluation until the new one is ready.

use alloc::sync::Arc;

use gb_core::FeatureSet;
use gb_transport::{Payload, StreamHandle, StreamState};

use crate::error::Error;
use crate::user::Core;

/// Compiles a payload on a blocking thread (a payload of hundreds of regexes can take seconds
/// to compile; the async workers keep running meanwhile).
async fn compile(payload: Payload) -> Option<FeatureSet> {
    let span = tracing::info_span!("growthbook.compile", features = tracing::field::Empty);
    let compiling = move || {
        let _entered = span.enter();
        let features = FeatureSet::from_value(payload.value());
        span.record("features", features.len());
        features
    };
    match tokio::task::spawn_blocking(compiling).await {
        Ok(features) => Some(features),
        Err(e) => {
            tracing::error!(error = %e, "compiling a payload failed; keeping the current features");
            None
        }
    }
}

/// Runs until the engine ends (the client closes it by aborting this task, which drops the
/// engine's handle and with it the engine and its connection).
pub(crate) async fn apply_updates(shared: Arc<Core>, handle: StreamHandle) {
    let mut updates = handle.updates();
    let mut status = handle.status();
    let mut errors = 0u64;
    let mut confirmations = 0u64;
    loop {
        tokio::select! {
            changed = updates.changed() => {
                if changed.is_err() { break; }
                let latest = updates.borrow_and_update().clone();
                if let Some(update) = latest {
                    let payload = update.payload.shared();
                    let span = tracing::info_span!("growthbook.refresh", fresh = update.fresh);
                    let apply = async {
                        if let Some(features) = compile(update.payload).await {
                            shared.install(features, Some(payload), update.fresh);
                        }
                    };
                    tracing::Instrument::instrument(apply, span).await;
                }
            }
            changed = status.changed() => {
                if changed.is_err() { break; }
                let s = status.borrow_and_update().clone();
                if s.errors > errors {
                    errors = s.errors;
                    if let Some(e) = s.last_error {
                        shared.record_error(Error::Transport(e));
                    }
                    continue;
                }
                if s.confirmations > confirmations {
                    confirmations = s.confirmations;
                    shared.mark_fresh();
                }
                match s.state {
                    // (Re)connected, and refetched: the features are current again.
                    StreamState::Streaming => shared.mark_fresh(),
                    // Stale-while-revalidate: the next evaluation asks for a revalidation.
                    StreamState::Idle => shared.mark_stale(),
                    _ => {}
                }
            }
        }
    }
    drop(handle);
}

//! Serving other SDKs: the GrowthBook remote-evaluation endpoint, in process.
//!
//! A browser or app running the JavaScript (or React, or any remote-eval capable) SDK with
//! `remoteEval: true` posts its user to `POST {apiHost}/api/eval/{clientKey}` and evaluates the
//! features it gets back. [`RemoteEvalEndpoint`] answers that request from this server's
//! [`GrowthBook`](crate::GrowthBook) client, locally, in microseconds: the payload never leaves
//! the server. Mount it with the `tower` feature's [`RemoteEvalService`] (axum, hyper, tonic),
//! or call [`RemoteEvalEndpoint::respond`] from any HTTP stack; `gb serve` uses the same code.
//!
//! The wire format is the JavaScript SDK 1.8.0's:
//! * request: `{"attributes": {...}, "forcedVariations": {"exp": 1}, "forcedFeatures":
//!   [["key", value], ...], "url": "..."}` (every field optional);
//! * response: a features payload (`{"features": {...}, "dateUpdated": ...}`) in which each
//!   feature is reduced to this user's value, `{"defaultValue": value}`, and a feature decided
//!   by an experiment carries one force rule with `tracks` (the experiment and its result), so
//!   the client fires its tracking callback exactly as if it had evaluated the rules itself.
//!
//! Unlike GrowthBook's `proxy-eval` (which keeps only features that are *on*), every feature is
//! returned, so a client sees `false` or `0` where the server evaluates `false` or `0`, not
//! `null`. Auto (visual-editor) experiments are not evaluated here: `experiments` is empty.

mod endpoint;
mod evaluate;
#[cfg(feature = "tower")]
mod service;
mod wire;

pub use endpoint::{DEFAULT_MAX_BODY, RemoteEvalEndpoint};
pub use evaluate::evaluated_payload;
#[cfg(feature = "tower")]
pub use service::RemoteEvalService;
pub use wire::{BadRequest, parse_request};

//! The engine over SSE: open the stream, read its events, reconnect with backoff.

use crate::error::{ErrorKind, TransportError};
use crate::sse::SseParser;
use crate::{ByteStream, SubscribeRequest};
use alloc::sync::Arc;
use std::time::SystemTime;
use tokio::time::{Instant, sleep, timeout};

use super::{Manager, Offer, StreamState, Update, UpdateSource};

impl Manager {
    pub(super) async fn stream_once(&mut self) {
        if let Some(last) = self.last_connect {
            let gap = self.config.backoff.floor.saturating_sub(last.elapsed());
            if !gap.is_zero() {
                sleep(gap).await;
            }
        }
        self.last_connect = Some(Instant::now());
        self.status_tx.send_modify(|s| {
            s.connects += 1;
            s.state = StreamState::Connecting;
        });
        let request = SubscribeRequest {
            last_event_id: self.last_event_id.clone(),
        };
        let first = self.status_tx.borrow().connects == 1;
        let mut stream = match self.source.transport().subscribe(request).await {
            Ok(stream) => stream,
            Err(err) => {
                let delay = self.backoff.delay_after_error(&err, self.server_retry);
                let auth = err.is_auth();
                self.record_error(err);
                // While the stream cannot open, each attempt doubles as a (backed-off) poll.
                if !auth && let Err(err) = self.refetch(Offer::Normal).await {
                    self.record_error(err);
                }
                self.wait(delay).await;
                return;
            }
        };
        let connected = Instant::now();
        self.set_state(StreamState::Streaming);
        tracing::debug!("event stream open");
        // Catch up on anything published while the stream was down (the first connect follows
        // the initial fetch, so there is nothing to catch up on).
        if !first && let Err(err) = self.refetch(Offer::Reconnect).await {
            self.record_error(err);
        }
        let outcome = self.read(&mut *stream).await;
        drop(stream);
        if connected.elapsed() >= self.config.backoff.healthy_reset {
            self.backoff.reset();
        }
        let delay = match outcome {
            Ok(()) => {
                tracing::debug!("event stream closed by the server");
                self.status_tx.send_modify(|s| s.clean_closes += 1);
                self.backoff.next_delay(self.server_retry)
            }
            Err(err) => {
                let delay = self.backoff.delay_after_error(&err, self.server_retry);
                self.record_error(err);
                delay
            }
        };
        self.wait(delay).await;
    }

    /// Reads events until a clean end (`Ok`) or an error.
    pub(super) async fn read(&mut self, stream: &mut dyn ByteStream) -> Result<(), TransportError> {
        let max = self.config.max_event_bytes;
        let mut parser = SseParser::new(max, max);
        loop {
            let chunk = match timeout(self.config.idle_timeout, stream.next_chunk()).await {
                Err(_) => {
                    return Err(TransportError::new(
                        ErrorKind::Timeout,
                        "event stream went idle",
                    ));
                }
                Ok(None) => return Ok(()),
                Ok(Some(chunk)) => chunk?,
            };
            let events = parser.feed(&chunk)?;
            if let Some(retry) = parser.retry() {
                self.server_retry = Some(retry);
            }
            for event in events {
                if event.id.is_some() {
                    self.last_event_id = event.id;
                }
                match event.event.as_str() {
                    "features" => {
                        let raw: Arc<str> = event.data.into();
                        let payload = self.source.parse(Arc::clone(&raw)).await.map_err(|e| {
                            if e.kind() == ErrorKind::NotJson {
                                TransportError::new(
                                    ErrorKind::Protocol,
                                    "`features` event is not JSON",
                                )
                            } else {
                                e
                            }
                        })?;
                        let update = Update {
                            payload,
                            raw,
                            etag: None,
                            source: UpdateSource::Event,
                            fetched_at: SystemTime::now(),
                            fresh: true,
                        };
                        tracing::debug!("applied a `features` event");
                        if self.accept(update, Offer::Normal) {
                            self.write_caches().await;
                        }
                    }
                    "features-updated" => {
                        self.status_tx.send_modify(|s| s.beacons += 1);
                        if let Err(err) = self.refetch(Offer::Normal).await {
                            self.record_error(err);
                        }
                    }
                    other => tracing::trace!(event = other, "ignored SSE event"),
                }
            }
        }
    }
}

//! The sticky-bucket writer task: saves changed documents in the background, in order.

use alloc::sync::Arc;
use core::time::Duration;

use gb_sticky::StickyBucketService;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::client::WriterMsg;

/// Writes changed sticky-bucket documents in the background, in order; evaluation never waits.
pub(crate) async fn sticky_writer(
    service: Arc<dyn StickyBucketService>,
    mut rx: mpsc::Receiver<WriterMsg>,
) {
    while let Some(msg) = rx.recv().await {
        match msg {
            WriterMsg::Save(docs) => {
                let n = docs.len();
                match timeout(Duration::from_secs(5), service.save_assignments(docs)).await {
                    Ok(Ok(())) => tracing::trace!(docs = n, "sticky-bucket documents saved"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "sticky-bucket save failed"),
                    Err(_) => tracing::warn!("sticky-bucket save timed out"),
                }
            }
            WriterMsg::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

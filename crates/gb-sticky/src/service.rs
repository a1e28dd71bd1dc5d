//! The store traits and the fetch → evaluate → save helpers around them.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;

use gb_core::{StickyAssignmentsDocument, StickyBucketDocs};

use crate::error::StickyError;

/// A boxed, `Send` future borrowing from `'a`: what the object-safe async trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One identifier attribute of a user: `(attributeName, attributeValue)`, e.g.
/// `("id", "123")`. The value is the attribute as text, as the hash uses it.
pub type IdentifierAttribute = (String, String);

/// An asynchronous sticky-bucket store. Object-safe: keep it as `Arc<dyn StickyBucketService>`.
///
/// The contract, per request or user:
///
/// 1. [`get_all_assignments`](Self::get_all_assignments) with every identifier attribute the
///    payload uses (one round trip for all of them),
/// 2. evaluate with `gb_core` on [`StickyBucketDocs::from_docs`] of the result,
/// 3. [`save_assignments`](Self::save_assignments) with [`StickyBucketDocs::take_changed`].
///
/// [`load_docs`] and [`save_changed`] do steps 1 and 3. If the lookup fails, evaluate with empty
/// documents (plain hashing); a failed save loses only the new assignments.
///
/// Implementations must:
///
/// * return only documents whose `attribute_name`/`attribute_value` equal one of the requested
///   pairs (a store is untrusted input: skip garbage, mismatched or oversized documents rather
///   than fail the whole lookup), at most one per pair, in any order;
/// * return `Ok(vec![])` for an empty request or when nothing is stored;
/// * on save, replace the stored document for `attribute_key(name, value)` as a whole (no merge);
/// * never panic, and bound their own latency (timeouts) where I/O is involved.
///
/// `gb_sticky::conformance` (feature `test-util`) checks these rules against any implementation.
///
/// Every [`StickyBucketServiceSync`] is also a `StickyBucketService` (a blanket impl that runs the
/// sync method on the calling thread before returning a ready future).
pub trait StickyBucketService: Send + Sync {
    /// Looks up the documents for all `attributes` at once (JS `getAllAssignments`).
    fn get_all_assignments<'a>(
        &'a self,
        attributes: &'a [IdentifierAttribute],
    ) -> BoxFuture<'a, Result<Vec<StickyAssignmentsDocument>, StickyError>>;

    /// Stores `docs`, each under its own key, replacing what was there.
    fn save_assignments(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>>;
}

/// A blocking sticky-bucket store, for code without an async runtime (JS
/// `StickyBucketServiceSync`). Same rules as [`StickyBucketService`].
///
/// Implementing this trait also implements [`StickyBucketService`]: the async methods call the
/// sync ones on the calling thread, so a store that does slow I/O here blocks the executor thread
/// for that long. That is fine for in-memory and cookie stores; wrap anything slower in your
/// runtime's blocking facility (e.g. `tokio::task::spawn_blocking`) or implement the async trait.
pub trait StickyBucketServiceSync: Send + Sync {
    /// Looks up the documents for all `attributes` at once.
    fn get_all_assignments_sync(
        &self,
        attributes: &[IdentifierAttribute],
    ) -> Result<Vec<StickyAssignmentsDocument>, StickyError>;

    /// Stores `docs`, each under its own key, replacing what was there.
    fn save_assignments_sync(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> Result<(), StickyError>;
}

impl<T: StickyBucketServiceSync + ?Sized> StickyBucketService for T {
    fn get_all_assignments<'a>(
        &'a self,
        attributes: &'a [IdentifierAttribute],
    ) -> BoxFuture<'a, Result<Vec<StickyAssignmentsDocument>, StickyError>> {
        Box::pin(core::future::ready(
            self.get_all_assignments_sync(attributes),
        ))
    }

    fn save_assignments(
        &self,
        docs: Vec<StickyAssignmentsDocument>,
    ) -> BoxFuture<'_, Result<(), StickyError>> {
        Box::pin(core::future::ready(self.save_assignments_sync(docs)))
    }
}

impl core::fmt::Debug for dyn StickyBucketService + '_ {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("dyn StickyBucketService")
    }
}

impl core::fmt::Debug for dyn StickyBucketServiceSync + '_ {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("dyn StickyBucketServiceSync")
    }
}

/// Whether `doc` is the document for the pair `(name, value)`, compared field by field (so
/// `("id", "a||b")` and `("id||a", "b")`, which share the key `id||a||b`, stay apart).
pub fn doc_matches(doc: &StickyAssignmentsDocument, name: &str, value: &str) -> bool {
    doc.attribute_name == name && doc.attribute_value == value
}

/// Keeps only documents that answer one of the requested pairs, the first one per pair.
///
/// The adapters in this crate do this already; [`load_docs`] applies it again to whatever a
/// store returns, so a misbehaving custom store cannot inject other users' assignments.
pub fn retain_requested(
    docs: Vec<StickyAssignmentsDocument>,
    attributes: &[IdentifierAttribute],
) -> Vec<StickyAssignmentsDocument> {
    let mut out: Vec<StickyAssignmentsDocument> = Vec::with_capacity(docs.len());
    for doc in docs {
        let requested = attributes.iter().any(|(n, v)| doc_matches(&doc, n, v));
        let duplicate = out.iter().any(|d| {
            d.attribute_name == doc.attribute_name && d.attribute_value == doc.attribute_value
        });
        if requested && !duplicate {
            out.push(doc);
        } else {
            tracing::warn!(
                attribute_name = %doc.attribute_name,
                "sticky-bucket store returned a document that was not requested; ignored"
            );
        }
    }
    out
}

/// Step 1 of the contract: fetches the user's documents and wraps them for evaluation.
///
/// On `Err`, evaluate with [`StickyBucketDocs::new`] instead (plain hashing):
///
/// ```
/// # use gb_sticky::{InMemoryStickyBucketService, load_docs};
/// # let store = InMemoryStickyBucketService::new();
/// # let attributes = vec![("id".to_string(), "123".to_string())];
/// # let rt = async {
/// let docs = load_docs(&store, &attributes).await.unwrap_or_default();
/// # docs };
/// ```
pub async fn load_docs<S: StickyBucketService + ?Sized>(
    store: &S,
    attributes: &[IdentifierAttribute],
) -> Result<StickyBucketDocs, StickyError> {
    if attributes.is_empty() {
        return Ok(StickyBucketDocs::new());
    }
    let docs = store.get_all_assignments(attributes).await?;
    Ok(StickyBucketDocs::from_docs(retain_requested(
        docs, attributes,
    )))
}

/// Step 3 of the contract: saves the documents evaluation changed (nothing if none did).
///
/// The changed set is taken from `docs` before saving, so a failed save is not retried by a later
/// call; the assignments stay in `docs` for the rest of the request.
pub async fn save_changed<S: StickyBucketService + ?Sized>(
    store: &S,
    docs: &mut StickyBucketDocs,
) -> Result<(), StickyError> {
    let changed = docs.take_changed();
    if changed.is_empty() {
        return Ok(());
    }
    store.save_assignments(changed).await
}

/// The sync counterpart of [`load_docs`].
pub fn load_docs_sync<S: StickyBucketServiceSync + ?Sized>(
    store: &S,
    attributes: &[IdentifierAttribute],
) -> Result<StickyBucketDocs, StickyError> {
    now_or_never(load_docs(store, attributes))
}

/// The sync counterpart of [`save_changed`].
pub fn save_changed_sync<S: StickyBucketServiceSync + ?Sized>(
    store: &S,
    docs: &mut StickyBucketDocs,
) -> Result<(), StickyError> {
    now_or_never(save_changed(store, docs))
}

/// Runs a future built only on [`StickyBucketServiceSync`] calls, which are ready on the first
/// poll (the blanket impl returns ready futures).
pub(crate) fn now_or_never<F: Future>(fut: F) -> F::Output {
    let mut fut = core::pin::pin!(fut);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(out) => out,
        // Unreachable: nothing in these futures waits.
        core::task::Poll::Pending => panic!("a StickyBucketServiceSync future was not ready"),
    }
}

/// Removes repeated `(name, value)` pairs, keeping the first occurrence and the order.
pub fn dedup_attributes(attributes: &[IdentifierAttribute]) -> Vec<&IdentifierAttribute> {
    let mut out: Vec<&IdentifierAttribute> = Vec::with_capacity(attributes.len());
    for a in attributes {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn doc(n: &str, v: &str) -> StickyAssignmentsDocument {
        StickyAssignmentsDocument {
            attribute_name: n.to_string(),
            attribute_value: v.to_string(),
            assignments: Default::default(),
        }
    }

    #[test]
    fn retain_requested_filters_and_dedups() {
        let attrs = vec![("id".to_string(), "a||b".to_string())];
        let docs = vec![
            doc("id||a", "b"),
            doc("id", "a||b"),
            doc("id", "a||b"),
            doc("x", "y"),
        ];
        let kept = retain_requested(docs, &attrs);
        assert_eq!(kept, vec![doc("id", "a||b")]);
    }

    #[test]
    fn dedup_keeps_order() {
        let a = ("a".to_string(), "1".to_string());
        let b = ("b".to_string(), "2".to_string());
        let attrs = vec![a.clone(), b.clone(), a.clone()];
        assert_eq!(dedup_attributes(&attrs), vec![&a, &b]);
    }
}

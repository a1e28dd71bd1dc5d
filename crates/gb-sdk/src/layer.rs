//! A tower [`Layer`] that puts a per-request [`UserContext`] into the request's extensions
//! (feature `tower`). Works with axum, tonic and hyper services built on tower.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::client::GrowthBook;
use crate::request::RequestContext;
use crate::user::UserContext;

/// Adds an `Arc<UserContext>` (built by a [`RequestContext`] and
/// [`prepare`](UserContext::prepare)d) to every request's extensions. In axum, read it with
/// `Extension<Arc<UserContext>>`.
#[derive(Debug, Clone)]
pub struct GrowthBookLayer {
    client: GrowthBook,
    context: Arc<RequestContext>,
}

impl GrowthBookLayer {
    /// A layer for `client`, with `context` mapping requests to users.
    pub fn new(client: GrowthBook, context: RequestContext) -> Self {
        Self {
            client,
            context: Arc::new(context),
        }
    }
}

impl<S> Layer<S> for GrowthBookLayer {
    type Service = GrowthBookService<S>;

    fn layer(&self, inner: S) -> GrowthBookService<S> {
        GrowthBookService {
            inner,
            client: self.client.clone(),
            context: Arc::clone(&self.context),
        }
    }
}

/// The service of [`GrowthBookLayer`].
#[derive(Debug, Clone)]
pub struct GrowthBookService<S> {
    inner: S,
    client: GrowthBook,
    context: Arc<RequestContext>,
}

impl<S, B> Service<http::Request<B>> for GrowthBookService<S>
where
    S: Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let mut user = self.context.user(&self.client, &request);
        // The clone that was polled ready serves this request (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            // Loads sticky buckets / remote features when configured; a no-op otherwise.
            if let Err(e) = user.load().await {
                tracing::warn!(error = %e, "cannot prepare the GrowthBook user; evaluating unprepared");
            }
            let user: UserContext = user;
            request.extensions_mut().insert(Arc::new(user));
            inner.call(request).await
        })
    }
}

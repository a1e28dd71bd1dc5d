//! [`RemoteEvalService`]: the endpoint as a `tower::Service`.

use alloc::boxed::Box;
use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Body;

use super::endpoint::RemoteEvalEndpoint;

/// [`RemoteEvalEndpoint`] as a `tower::Service<http::Request<B>>` (feature `tower`): mount it
/// at `/api/eval/{clientKey}` in axum (`Router::route_service`), or serve it with hyper
/// (`hyper_util::service::TowerToHyperService`). Always ready; never fails (errors are HTTP
/// answers).
#[derive(Debug, Clone)]
pub struct RemoteEvalService {
    endpoint: RemoteEvalEndpoint,
}

impl RemoteEvalService {
    /// The service answering with `endpoint`.
    pub fn new(endpoint: RemoteEvalEndpoint) -> Self {
        Self { endpoint }
    }

    /// The endpoint it answers with.
    pub fn endpoint(&self) -> &RemoteEvalEndpoint {
        &self.endpoint
    }
}

impl From<RemoteEvalEndpoint> for RemoteEvalService {
    fn from(endpoint: RemoteEvalEndpoint) -> Self {
        Self::new(endpoint)
    }
}

impl<B> tower_service::Service<Request<B>> for RemoteEvalService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let endpoint = self.endpoint.clone();
        Box::pin(async move { Ok(endpoint.respond(request).await) })
    }
}

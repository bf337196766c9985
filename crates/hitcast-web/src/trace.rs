//! The request trace: every request gets an id, answered in its `x-request-id` header, and a
//! span (tower-http's trace layer) that carries the id, method and path, so every log line a
//! request causes names it, at any verbosity. A request ends with one line at INFO: its status
//! and latency (`hitcast serve -v` shows them). A 5xx answer adds no line of its own: a 500
//! logs its cause where it is made ([`crate::error`]), and a 503 of load shedding or a 501 of a
//! server without a dataset is an answer, counted in `/metrics`, not a failure to log each
//! time (under load that would be a line a request, at ERROR, when the log matters most).
//!
//! The id is the client's own `x-request-id` when it sends a usable one (a proxy's, to follow a
//! request across services), else the server's: a prefix drawn at start-up and a counter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier};
use tower_http::trace::{
    DefaultOnBodyChunk, DefaultOnEos, DefaultOnRequest, DefaultOnResponse, MakeSpan, OnFailure,
    TraceLayer,
};
use tower_http::LatencyUnit;
use tracing::{Level, Span};

/// The header that carries a request's id, both ways.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id taken from a client.
const MAX_ID: usize = 64;

/// Middleware (outermost): gives the request its id, before the trace layer opens its span,
/// and answers with it.
pub(crate) async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| usable(v))
        .cloned()
        .unwrap_or_else(new_id);
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// A client's id is kept when it is short and plain (letters, digits and `-_.:`), so a log line
/// cannot be forged through it.
fn usable(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_ID
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

fn new_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        // The start-up time tells two runs of the server apart; it needs no randomness.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        format!("{:x}", nanos ^ u64::from(std::process::id()))
    });
    let id = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown"))
}

/// The request's span: its id, method and path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // At ERROR, the level every filter lets through: a warning or an error a request
        // causes names it under `-q` too.
        tracing::error_span!(
            "request",
            id,
            method = %request.method(),
            path = request.uri().path()
        )
    }
}

/// What a failed answer logs: nothing for a status (see the module's docs), an error for a
/// failure of the service itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServiceErrors;

impl OnFailure<ServerErrorsFailureClass> for ServiceErrors {
    fn on_failure(&mut self, class: ServerErrorsFailureClass, _: Duration, _: &Span) {
        if let ServerErrorsFailureClass::Error(error) = class {
            tracing::error!("the answer failed: {error}");
        }
    }
}

/// tower-http's trace layer with [`RequestSpan`], a line at INFO as each answer leaves, and
/// [`ServiceErrors`].
pub(crate) fn layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    DefaultOnRequest,
    DefaultOnResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    ServiceErrors,
> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Micros),
        )
        .on_failure(ServiceErrors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_clients() {
        assert!(usable(&HeaderValue::from_static("req-42_a.b:c")));
        assert!(!usable(&HeaderValue::from_static("")));
        assert!(!usable(&HeaderValue::from_static("a b")));
        assert!(!usable(&HeaderValue::from_static("x\"y")));
        assert!(!usable(&HeaderValue::from_str(&"a".repeat(65)).unwrap()));
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(usable(&a), "{a:?}");
    }
}

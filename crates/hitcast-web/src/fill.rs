//! Bodies for error answers that leave a layer without one (the router's 404 and 405, the
//! timeout's 408, the load shedder's 503), and the sentence naming the limit and its flag for a
//! body over the limit (axum's 413 is plain text), so no error reaches a client empty or
//! unexplained. API paths answer [`ApiError`]'s JSON; pages, the site's error page.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{too_large, ApiError};
use crate::{AppState, Limits};

/// Middleware (outermost): gives a body to an error answer that has none.
pub(crate) async fn fill_empty(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let empty = content_type.is_none();
    // A body-limit rejection (axum's, in plain text) gets the sentence that names the flag.
    let plain_413 = status == StatusCode::PAYLOAD_TOO_LARGE
        && content_type.is_some_and(|t| t.as_bytes().starts_with(b"text/plain"));
    if !((empty || plain_413) && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    // The router's 405 names no methods: the API's come from its OpenAPI document.
    let allow = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| documented_methods(&state.openapi, &path));
    let message = message(status, &method, &path, allow.as_deref(), &state.limits);
    let mut filled = if crate::is_for_programs(&path) {
        ApiError::new(status, message).into_response()
    } else {
        crate::pages::error_page(status, &message)
    };
    // `Allow` belongs to a 405 only (RFC 9110 §10.2.1): not to a 408 or 413 on the same route.
    let allow = allow.filter(|_| status == StatusCode::METHOD_NOT_ALLOWED);
    if let Some(allow) = allow.and_then(|a| header::HeaderValue::from_str(&a).ok()) {
        filled.headers_mut().insert(header::ALLOW, allow);
    }
    filled
}

/// The methods the OpenAPI document lists for `path`, as an `Allow` header writes them.
fn documented_methods(doc: &serde_json::Value, path: &str) -> Option<String> {
    let methods: Vec<String> = doc["paths"][path]
        .as_object()?
        .keys()
        .map(|m| m.to_uppercase())
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The sentence for an error answered without one.
fn message(
    status: StatusCode,
    method: &Method,
    path: &str,
    allow: Option<&str>,
    limits: &Limits,
) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => match allow {
            Some(allow) if !allow.is_empty() => {
                format!("{path} does not take {method}; it takes {allow}")
            }
            _ => format!("{path} does not take {method}"),
        },
        StatusCode::REQUEST_TIMEOUT => format!(
            "the request took longer than the server's limit of {} s (--timeout)",
            limits.timeout.as_secs_f64()
        ),
        StatusCode::SERVICE_UNAVAILABLE => "the server is busy; try again in a moment".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => too_large(limits),
        other => other
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned(),
    }
}

//! Every error answer in one place: the status and the body. API paths (`/api/...`) answer
//! `{"error": "...", "errors": [{"field", "message"}]}`; pages answer the site's error page.
//! Answers that leave a layer with no body (the router's 405, the timeout's 408) get theirs
//! here, and a body over the limit its 413 naming the limit and its flag, so no error reaches a
//! client empty or unexplained.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use std::sync::Arc;

use crate::track::FieldError;
use crate::{AppState, Limits};

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    /// An error with a message and no field errors.
    pub(crate) fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            errors: Vec::new(),
        }
    }

    /// The answer's status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, in words.
    pub(crate) fn message(&self) -> &str {
        &self.error
    }

    /// An error about one field.
    pub(crate) fn with_field(status: StatusCode, field: &str, message: String) -> ApiError {
        ApiError {
            status,
            error: message.clone(),
            errors: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// A 422 listing each field that breaks the dataset's rules.
    pub(crate) fn invalid(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: format!("{} invalid field(s)", errors.len()),
            errors,
        }
    }

    /// A 500: the cause goes to the log, the client gets a plain sentence (internal
    /// error text is not sent).
    pub(crate) fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {cause}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not answer; the cause is in its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "errors": self.errors });
        (self.status, Json(body)).into_response()
    }
}

impl ApiError {
    /// The error for a body that could not be read: over the limit (naming it and its flag),
    /// or cut off.
    pub(crate) fn from_rejection(rejection: BytesRejection, limits: &Limits) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, too_large(limits))
        } else {
            ApiError::new(status, rejection.body_text())
        }
    }
}

/// What a 413 for a body over [`Limits::body_bytes`] says: the limit, its flag, and what fits.
pub(crate) fn too_large(limits: &Limits) -> String {
    format!(
        "the request body is over this server's limit of {} bytes (--body-limit); a batch of up to {} tracks (--max-batch) fits in it at up to {} bytes a track",
        limits.body_bytes,
        limits.batch,
        limits.body_bytes / limits.batch.max(1)
    )
}

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
    let mut filled = if path.starts_with("/api/") {
        ApiError::new(status, message).into_response()
    } else {
        crate::pages::error_page(status, &message)
    };
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
            limits.timeout.as_secs()
        ),
        StatusCode::SERVICE_UNAVAILABLE => "the server is busy; try again in a moment".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => too_large(limits),
        other => other
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned(),
    }
}

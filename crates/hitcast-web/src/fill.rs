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

/// Middleware (around the whole router, outside the routes' own layers: axum gives a 405 its
/// `Allow` after those): gives a body to an error answer that has none, keeping its headers
/// (its request id, a 405's `Allow`).
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
    let allow = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(methods_in_words);
    let message = message(status, &method, &path, allow.as_deref(), &state.limits);
    let filled = if crate::is_for_programs(&path) {
        ApiError::new(status, message).into_response()
    } else {
        crate::pages::error_page(status, &message)
    };
    let (mut parts, _) = response.into_parts();
    let (filled, body) = filled.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &filled.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// An `Allow` header's methods for people: "GET,HEAD" as "GET" (a GET route answers HEAD too).
fn methods_in_words(allow: &str) -> String {
    let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    let get = methods.contains(&"GET");
    methods
        .into_iter()
        .filter(|&m| !(get && m == "HEAD"))
        .collect::<Vec<_>>()
        .join(", ")
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
        // An audio file must arrive and be measured within the limit: on a slow link, the
        // upload is most of it.
        StatusCode::REQUEST_TIMEOUT if path.ends_with("/predict/audio") => format!(
            "the file took longer than the server's limit of {} s (--timeout) to arrive and be \
             measured: on a slow link, send a smaller file (a FLAC or MP3 rather than a WAV), or \
             ask the server's operator to raise --timeout",
            limits.timeout.as_secs_f64()
        ),
        StatusCode::REQUEST_TIMEOUT => format!(
            "the request took longer than the server's limit of {} s (--timeout): send fewer \
             tracks a request, or ask the server's operator to raise --timeout",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_s_advice_fits_what_was_sent() {
        let limits = Limits::default();
        let said = |path| {
            message(
                StatusCode::REQUEST_TIMEOUT,
                &Method::POST,
                path,
                None,
                &limits,
            )
        };
        assert_eq!(
            said("/api/v1/predict/audio"),
            "the file took longer than the server's limit of 30 s (--timeout) to arrive and be \
             measured: on a slow link, send a smaller file (a FLAC or MP3 rather than a WAV), or \
             ask the server's operator to raise --timeout"
        );
        assert!(said("/predict/audio").starts_with("the file took longer"));
        assert!(said("/api/v1/predict").contains("send fewer tracks a request"));
    }

    #[test]
    fn allowed_methods_read_as_people_write_them() {
        assert_eq!(methods_in_words("POST"), "POST");
        assert_eq!(methods_in_words("GET,HEAD"), "GET");
        assert_eq!(methods_in_words("GET,HEAD,POST"), "GET, POST");
        assert_eq!(methods_in_words("HEAD"), "HEAD");
    }
}

//! Bodies are read as sent: one with a `Content-Encoding` other than `identity` (a gzipped JSON
//! batch, say) is refused with a 415 and `Accept-Encoding: identity` (RFC 7694 §3) before a
//! route reads it, rather than failing as JSON, CSV or audio it is not. A request without a
//! body (a health check that a proxy tagged) has nothing to decode and passes.

use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Middleware: a compressed body is a 415 saying how to send it.
pub(crate) async fn refuse_compressed(request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let coding = request
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .find(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
        .map(str::to_owned);
    let Some(coding) = coding else {
        return next.run(request).await;
    };
    let message = format!(
        "this server reads bodies as sent, not compressed (Content-Encoding: {coding}): send the body without Content-Encoding"
    );
    let mut answer = if crate::is_for_programs(request.uri().path()) {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response()
    } else {
        crate::pages::error_page(StatusCode::UNSUPPORTED_MEDIA_TYPE, &message)
    };
    answer.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    answer
}

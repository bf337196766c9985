//! Every error answer of the API: the status and the body, `{"error": "...", "errors":
//! [{"field", "message"}]}`, and the one 500 ([`ApiError::internal`], whose cause goes to the
//! log). Answers that leave a layer with no body get theirs in [`crate::fill`].

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitcast::models::ModelError;
use serde_json::json;

use crate::track::FieldError;
use crate::Limits;

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
        let total = errors.len();
        ApiError::invalid_of(errors, total)
    }

    /// A 422 listing some of `total` fields that break the dataset's rules.
    fn invalid_of(errors: Vec<FieldError>, total: usize) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: format!("{total} invalid field(s)"),
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

    /// A scoring error: a 422 for a track the model cannot take (a song measured from audio,
    /// given to a model file without a from-audio model), a 500 for anything else.
    pub(crate) fn scoring(e: ModelError) -> ApiError {
        match e {
            ModelError::NoFromAudioModel { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            e => ApiError::internal(e),
        }
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
    /// cut off by the client leaving (499, which nobody reads, but the metrics count the
    /// request as one its client gave up on, not as a bad one), or malformed.
    pub(crate) fn from_rejection(rejection: BytesRejection, limits: &Limits) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, too_large(limits))
        } else if client_left(&rejection) {
            ApiError::new(
                crate::metrics::client_closed(),
                "the client closed the connection before its request was whole",
            )
        } else {
            ApiError::new(status, rejection.body_text())
        }
    }
}

/// Whether a body could not be read because its client went away: the connection ended or was
/// reset before the body was whole (hyper reports an unexpected end of file).
pub(crate) fn client_left(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
            ) {
                return true;
            }
        }
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// What a 413 for a body over [`Limits::body_bytes`] says: the limit, its flag, and what fits.
pub(crate) fn too_large(limits: &Limits) -> String {
    format!(
        "the request body is over this server's limit of {} bytes (--body-limit): it holds about {} tracks at up to {} bytes a track; send fewer tracks a request (--max-batch allows {})",
        limits.body_bytes,
        limits.tracks_in_body(),
        crate::TRACK_BYTES,
        limits.batch,
    )
}

impl From<crate::track::BatchErrors> for ApiError {
    fn from(e: crate::track::BatchErrors) -> ApiError {
        ApiError::invalid_of(e.listed, e.total)
    }
}

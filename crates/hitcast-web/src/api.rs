//! The JSON API. Errors are `{"error": "...", "errors": [{"field", "message"}]}`: 400 for a
//! body that is not JSON, 422 for values that break the dataset's rules, 413 over the body limit.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::catalog::CatalogState;
use crate::track::{read_batch, Batch, FieldError, FormValues, TrackRequest};
use crate::AppState;

/// Tracks `GET /api/v1/tracks` lists at most.
const MAX_FOUND: usize = 100;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            errors: Vec::new(),
        }
    }

    fn invalid(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: format!("{} invalid field(s)", errors.len()),
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "errors": self.errors });
        (self.status, Json(body)).into_response()
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "the request body is over the server's limit")
        } else {
            ApiError::new(status, rejection.body_text())
        }
    }
}

/// `POST /api/v1/predict[?explain=true]`.
pub async fn predict(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let explain = explain_flag(query.as_deref())?;
    let body = body?;
    // serde_json refuses nesting deeper than 128 levels: deep bodies are a 400, not a crash.
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let batch = Batch::from_json(value).map_err(|e| ApiError::invalid(vec![e]))?;
    let (tracks, one) = match &batch {
        Batch::One(v) => (
            vec![TrackRequest::from_json(v, "").map_err(ApiError::invalid)?],
            true,
        ),
        Batch::Many(items) => {
            let limits = &state.limits;
            if items.len() > limits.batch {
                return Err(ApiError::invalid(vec![FieldError {
                    field: "tracks".into(),
                    message: format!(
                        "at most {} tracks per request, got {}",
                        limits.batch,
                        items.len()
                    ),
                }]));
            }
            (read_batch(items).map_err(ApiError::invalid)?, false)
        }
    };
    let sampled = state.predictor.method() == hitcast::explain::Method::SamplingShapley;
    if explain && sampled && tracks.len() > state.limits.sampled_explanations {
        return Err(ApiError::invalid(vec![FieldError {
            field: "explain".into(),
            message: format!(
                "this model's explanations are sampled (about 50 ms a track): at most {} tracks per request with explain=true, got {}",
                state.limits.sampled_explanations,
                tracks.len()
            ),
        }]));
    }
    let mut scored = state
        .score(tracks, explain)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(if one {
        Json(scored.pop()).into_response()
    } else {
        Json(json!({ "predictions": scored })).into_response()
    })
}

/// Reads `explain=true|false|1|0` from the query string; other parameters are refused.
fn explain_flag(query: Option<&str>) -> Result<bool, ApiError> {
    let mut explain = false;
    let mut errors = Vec::new();
    for (key, value) in FormValues::parse(query.unwrap_or_default().as_bytes()).0 {
        match (key.as_str(), value.as_str()) {
            ("explain", "true" | "1" | "") => explain = true,
            ("explain", "false" | "0") => explain = false,
            ("explain", other) => errors.push(FieldError {
                field: "explain".into(),
                message: format!("expected true or false, got {other:?}"),
            }),
            (other, _) => errors.push(FieldError {
                field: other.to_owned(),
                message: "unknown query parameter: expected explain".into(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(explain)
    } else {
        Err(ApiError::invalid(errors))
    }
}

/// `GET /api/v1/model`: the metadata, and how explanations are computed.
pub async fn model(State(state): State<Arc<AppState>>) -> Response {
    let metadata = state.predictor.metadata();
    let mut value = serde_json::to_value(metadata).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(
            "explanation_method".into(),
            json!(state.predictor.method().describe()),
        );
        map.insert("genres".into(), json!(state.predictor.pipeline().genres()));
    }
    Json(value).into_response()
}

/// `GET /api/v1/tracks?q=TEXT[&limit=N]`: dataset tracks by id, or by words of the title and
/// artists, most popular first.
pub async fn tracks(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = FormValues::parse(query.unwrap_or_default().as_bytes());
    let q = query.get("q").unwrap_or_default();
    let limit = match query.get("limit") {
        None => 20,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_FOUND).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(vec![FieldError {
                    field: "limit".into(),
                    message: format!("expected an integer from 1 to {MAX_FOUND}, got {text:?}"),
                }]))
            }
        },
    };
    if q.trim().is_empty() {
        return Err(ApiError::invalid(vec![FieldError {
            field: "q".into(),
            message: "missing: a title, artist or track id to look for".into(),
        }]));
    }
    match state.catalog.state() {
        CatalogState::Ready(catalog) => {
            Ok(Json(json!({ "tracks": catalog.search(q, limit) })).into_response())
        }
        CatalogState::Loading => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the dataset is still loading",
        )),
        CatalogState::Failed(why) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why)),
        CatalogState::Absent => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server was started without a dataset",
        )),
    }
}

/// `GET /healthz`.
pub async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /api/openapi.json`.
pub async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    Json(crate::openapi::document(&state.limits)).into_response()
}

/// 404 for API paths.
pub fn not_found(path: &str) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no endpoint at {path}: see /api/openapi.json"),
    )
    .into_response()
}

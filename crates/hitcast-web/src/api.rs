//! The JSON API. Errors are `{"error": "...", "errors": [{"field", "message"}]}`: 415 for a
//! body whose `Content-Type` is not JSON, 400 for a body that is not JSON, 422 for values that
//! break the dataset's rules, 413 over the body limit.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitcast::data::Column;
use hitcast::predictor::WhatIfError;
use serde_json::{json, Value};

use crate::catalogue::CatalogueState;
pub use crate::error::ApiError;
use crate::score::Scored;
use crate::track::{
    read_batch, FieldError, FormValues, PredictBody, TrackRequest, MAX_POINTS, MAX_SIMILAR,
};
use crate::AppState;
use hitcast::data::OnError;

/// Tracks `GET /api/v1/tracks` lists at most.
const MAX_FOUND: usize = 100;

/// `POST /api/v1/predict[?explain=true]`.
pub async fn predict(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let explain = explain_flag(query.as_deref())?;
    let value = json_body(&headers, body, &state.limits)?;
    let batch = PredictBody::from_json(value).map_err(|e| ApiError::invalid(vec![e]))?;
    let (items, adapt_prior, on_error) = match &batch {
        PredictBody::One(v) => {
            let track = TrackRequest::from_json(v, "").map_err(ApiError::invalid)?;
            check_explain(&state, explain, 1)?;
            let mut scored = state.score(vec![track], explain).await?;
            return Ok(Json(scored.pop()).into_response());
        }
        PredictBody::Many {
            items,
            adapt_prior,
            on_error,
        } => (items, *adapt_prior, *on_error),
    };
    let limits = &state.limits;
    if items.len() > limits.batch {
        return Err(ApiError::invalid(vec![FieldError {
            field: "tracks".into(),
            message: format!(
                "at most {} tracks per request (the server's --max-batch), got {}",
                limits.batch,
                items.len()
            ),
        }]));
    }
    // Under "skip", each bad track's errors, by its place in the batch.
    let mut refused: Vec<(usize, Vec<FieldError>)> = Vec::new();
    let tracks = match on_error {
        OnError::Fail => read_batch(items).map_err(ApiError::from)?,
        OnError::Skip => {
            let mut tracks = Vec::with_capacity(items.len());
            for (k, item) in items.iter().enumerate() {
                match TrackRequest::from_json(item, &format!("tracks[{k}].")) {
                    Ok(t) => tracks.push(t),
                    Err(e) => refused.push((k, e)),
                }
            }
            tracks
        }
    };
    check_explain(&state, explain, tracks.len())?;
    let (scored, prior) = if adapt_prior {
        let (scored, outcome) = state.score_adapted(tracks, explain).await?;
        let prior = match outcome {
            Ok(estimate) => json!({ "adapted": true, "estimate": estimate }),
            Err(refused) => json!({ "adapted": false, "reason": refused.to_string() }),
        };
        (scored, Some(prior))
    } else {
        (state.score(tracks, explain).await?, None)
    };
    let mut answer = json!({ "predictions": in_place(scored, &refused, items) });
    if on_error == OnError::Skip {
        answer["failed"] = json!(refused.len());
    }
    if let Some(prior) = prior {
        answer["prior"] = prior;
    }
    Ok(Json(answer).into_response())
}

/// The answers in the batch's order, each refused track's errors in its place:
/// `{"index", "track_id", "errors": [{"field", "message"}]}`.
fn in_place(scored: Vec<Scored>, refused: &[(usize, Vec<FieldError>)], items: &[Value]) -> Value {
    if refused.is_empty() {
        return json!(scored);
    }
    let mut answers = scored.into_iter();
    let mut refused = refused.iter().peekable();
    let out: Vec<Value> = (0..items.len())
        .map(|k| match refused.next_if(|(i, _)| *i == k) {
            Some((_, errors)) => json!({
                "index": k,
                "track_id": items[k].get("track_id").and_then(Value::as_str).unwrap_or_default(),
                "errors": errors,
            }),
            None => answers.next().map_or(Value::Null, |a| json!(a)),
        })
        .collect();
    Value::Array(out)
}

/// Refuses `explain=true` for more tracks than sampled explanations allow.
fn check_explain(state: &AppState, explain: bool, tracks: usize) -> Result<(), ApiError> {
    let sampled = state.model().predictor.explanations_sample();
    if explain && sampled && tracks > state.limits.sampled_explanations {
        return Err(ApiError::invalid(vec![FieldError {
            field: "explain".into(),
            message: format!(
                "this model's explanations are sampled (about 50 ms a track): at most {} tracks per request with explain=true, got {tracks}",
                state.limits.sampled_explanations,
            ),
        }]));
    }
    Ok(())
}

/// Reads `explain=true|false|1|0` from the query string; other parameters are refused.
fn explain_flag(query: Option<&str>) -> Result<bool, ApiError> {
    let mut explain = false;
    let mut errors = Vec::new();
    for (key, value) in FormValues::parse(query.unwrap_or_default().as_bytes()).0 {
        match (key.as_str(), value.as_str()) {
            ("explain", "true" | "1") => explain = true,
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
    let model = state.model();
    let predictor = &model.predictor;
    let mut value = serde_json::to_value(predictor.metadata()).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(
            "explanation_method".into(),
            json!(predictor.method().describe()),
        );
        map.insert("genres".into(), json!(predictor.pipeline().genres()));
    }
    Json(value).into_response()
}

/// `GET /api/v1/tracks?q=TEXT[&limit=N]`: `{"total": N, "tracks": [...]}`, dataset tracks by
/// Spotify link, URI or id, or by words of the title, artists and album, most popular first;
/// each with its features as `POST /api/v1/predict` takes them.
pub async fn tracks(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = FormValues::parse(query.unwrap_or_default().as_bytes());
    let mut errors = Vec::new();
    let q = query.get("q").unwrap_or_default();
    if q.trim().is_empty() {
        errors.push(FieldError {
            field: "q".into(),
            message: "missing: a title, artist or track id to look for".into(),
        });
    }
    let limit = match query.get("limit") {
        None => 20,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_FOUND).contains(n))
            .unwrap_or_else(|| {
                errors.push(FieldError {
                    field: "limit".into(),
                    message: format!("expected an integer from 1 to {MAX_FOUND}, got {text:?}"),
                });
                0
            }),
    };
    // As on /api/v1/predict: a misspelt parameter ("lmit") is said, not ignored.
    for (key, _) in &query.0 {
        if key != "q" && key != "limit" && !errors.iter().any(|e| &e.field == key) {
            errors.push(FieldError {
                field: key.clone(),
                message: "unknown query parameter: expected q or limit".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    match state.catalogue.state() {
        CatalogueState::Ready(catalogue) => Ok(Json(catalogue.search(q, limit)).into_response()),
        other => Ok(catalogue_unavailable(&other)),
    }
}

/// The request body as JSON: 415 unless its `Content-Type` is JSON (`application/json`, or a
/// `+json` type), so a form or plain text sent by mistake is told so; 400 when it is not JSON
/// (serde_json refuses nesting deeper than 128 levels, so deep bodies are a 400 too, not a
/// crash); 413 over the limit.
fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limits: &crate::Limits,
) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = content_type
        .as_deref()
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    let json = essence.as_deref().is_some_and(|t| {
        t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
    });
    if !json {
        let sent = match content_type {
            Some(t) => format!("Content-Type {t:?} is not JSON"),
            None => "the request has no Content-Type".to_owned(),
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{sent}: send the body as application/json (curl: -H 'Content-Type: application/json', or --json)"),
        ));
    }
    let body = body.map_err(|r| ApiError::from_rejection(r, limits))?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// An object body's fields, with an error for each field not in `known`.
fn fields<'a>(
    value: &'a Value,
    known: &[&str],
    errors: &mut Vec<FieldError>,
) -> Option<&'a serde_json::Map<String, Value>> {
    let Some(object) = value.as_object() else {
        errors.push(FieldError {
            field: "body".into(),
            message: format!("expected an object with {}", known.join(", ")),
        });
        return None;
    };
    for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.push(FieldError {
            field: key.clone(),
            message: format!("unknown field: expected {}", known.join(", ")),
        });
    }
    Some(object)
}

/// The `track` field of a body.
fn track_field(
    object: &serde_json::Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Option<TrackRequest> {
    match object.get("track") {
        None => {
            errors.push(FieldError {
                field: "track".into(),
                message: "missing: the track, as POST /api/v1/predict takes it".into(),
            });
            None
        }
        Some(v) => TrackRequest::from_json(v, "track.")
            .map_err(|e| errors.extend(e))
            .ok(),
    }
}

/// A whole-number field in `range`, or `default` when absent.
fn count_field(
    object: &serde_json::Map<String, Value>,
    key: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    errors: &mut Vec<FieldError>,
) -> usize {
    match object.get(key) {
        None => default,
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if range.contains(&n) => n,
            _ => {
                errors.push(FieldError {
                    field: key.into(),
                    message: format!(
                        "expected an integer from {} to {}, got {v}",
                        range.start(),
                        range.end()
                    ),
                });
                default
            }
        },
    }
}

/// `POST /api/v1/what-if`: `{"track": {...}, "feature": NAME, "points": N}` → how the answer
/// moves along one audio input's range with everything else held: `{"feature", "value" (the
/// track's own), "points": [{"value", "probability", "popularity", "popularity_low",
/// "popularity_high"}]}`. The points span the range the model saw in training (every code of
/// key, mode, time signature and explicit) and include the track's own value.
pub async fn what_if(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value = json_body(&headers, body, &state.limits)?;
    let mut errors = Vec::new();
    let object = fields(&value, &["track", "feature", "points"], &mut errors);
    let track = object.and_then(|o| track_field(o, &mut errors));
    let feature = object.and_then(|o| {
        let audio: Vec<&str> = Column::AUDIO.iter().map(|c| c.name()).collect();
        let named = o.get("feature").and_then(Value::as_str);
        match named
            .and_then(Column::from_name)
            .filter(|c| c.audio_index().is_some())
        {
            Some(column) => Some(column),
            None => {
                errors.push(FieldError {
                    field: "feature".into(),
                    message: format!(
                        "expected one of {}, got {}",
                        audio.join(", "),
                        o.get("feature")
                            .map_or("nothing".to_owned(), Value::to_string)
                    ),
                });
                None
            }
        }
    });
    let points = object.map_or(25, |o| {
        count_field(o, "points", 25, 2..=MAX_POINTS, &mut errors)
    });
    let (Some(track), Some(feature), true) = (track, feature, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let own = feature.audio_index().map_or(0.0, |i| track.audio[i]);
    if own.is_nan() {
        // A song measured from its audio file has no learned qualities to move along.
        return Err(ApiError::invalid(vec![FieldError {
            field: "feature".into(),
            message: format!(
                "the track has no {} (a song measured from its audio file): pick a measured feature ({})",
                feature.name(),
                hitcast_audio::MEASURED_COLUMNS.map(Column::name).join(", ")
            ),
        }]));
    }
    let model = state.model();
    let predictor = &model.predictor;
    let values = predictor
        .what_if_values(feature, own, points)
        .map_err(ApiError::internal)?;
    let answers = predictor
        .what_if(&track.input(), feature, &values)
        .map_err(|e| match e {
            WhatIfError::Model(e) => ApiError::scoring(e),
            e => ApiError::internal(e),
        })?;
    let points: Vec<Value> = values
        .iter()
        .zip(&answers)
        .map(|(v, a)| {
            json!({
                "value": v,
                "probability": a.chance.probability,
                "popularity": a.popularity,
                "popularity_low": a.popularity_low,
                "popularity_high": a.popularity_high,
            })
        })
        .collect();
    Ok(Json(json!({ "feature": feature.name(), "value": own, "points": points })).into_response())
}

/// `POST /api/v1/similar`: `{"track": {...}, "k": 10, "same_genre": false}` → the catalogue's
/// `k` tracks nearest in sound (see [`crate::catalogue::Catalogue::similar`]), with their real
/// popularity: `{"tracks": [{track_id, track_name, artists, album_name, track_genre, popularity,
/// distance}]}`.
pub async fn similar(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value = json_body(&headers, body, &state.limits)?;
    let mut errors = Vec::new();
    let object = fields(&value, &["track", "k", "same_genre"], &mut errors);
    let track = object.and_then(|o| track_field(o, &mut errors));
    let k = object.map_or(10, |o| {
        count_field(o, "k", 10, 1..=MAX_SIMILAR, &mut errors)
    });
    let same_genre = match object.and_then(|o| o.get("same_genre")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.push(FieldError {
                field: "same_genre".into(),
                message: format!("expected true or false, got {other}"),
            });
            false
        }
    };
    let (Some(track), true) = (track, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    match state.catalogue.state() {
        CatalogueState::Ready(catalogue) => {
            Ok(Json(json!({ "tracks": catalogue.similar(&track, k, same_genre) })).into_response())
        }
        other => Ok(catalogue_unavailable(&other)),
    }
}

/// While the catalogue loads, a 503 to retry; with none, a 501, which retrying will not mend
/// (the reason of a failed load is in the server's log).
fn catalogue_unavailable(state: &CatalogueState) -> Response {
    match state {
        CatalogueState::Loading => {
            let mut answer = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the dataset is still loading: try again in {LOADING_RETRY_AFTER} s"),
            )
            .into_response();
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(LOADING_RETRY_AFTER));
            answer
        }
        CatalogueState::Failed(_) => ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this server's dataset could not be read (its log says why): restart it with --data FILE",
        )
        .into_response(),
        _ => ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this server has no dataset of real tracks: start it with --data FILE (the dataset the model was trained on)",
        )
        .into_response(),
    }
}

/// Seconds a client waits before asking again while the dataset loads (a few seconds).
const LOADING_RETRY_AFTER: u32 = 5;

/// `GET /healthz`.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    // Live whatever the real tracks' state: the model answers without them. Said here so a
    // probe or an operator sees a `--data` that failed to load.
    // Live while stopping too (a restart would cut the drain short), and says so.
    let status = if state.is_stopping() {
        "stopping"
    } else {
        "ok"
    };
    let mut body = json!({ "status": status });
    let (catalogue, detail) = match state.catalogue.state() {
        CatalogueState::Absent => ("none", None),
        CatalogueState::Loading => ("loading", None),
        CatalogueState::Ready(c) => ("ready", Some(("catalogue_tracks", json!(c.len())))),
        CatalogueState::Failed(e) => ("failed", Some(("catalogue_error", json!(e)))),
    };
    body["catalogue"] = json!(catalogue);
    if let Some((key, value)) = detail {
        body[key] = value;
    }
    Json(body).into_response()
}

/// `GET /api/openapi.json`.
pub async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    Json(&state.openapi).into_response()
}

/// 404 for API paths.
pub fn not_found(path: &str, model_name: &str) -> Response {
    let see = if path == "/v2" || path.starts_with("/v2/") {
        format!("GET /v2 and /v2/models/{model_name} describe the Open Inference routes")
    } else {
        "see /api/openapi.json".to_owned()
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no endpoint at {path}: {see}"),
    )
    .into_response()
}

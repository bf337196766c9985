//! The Open Inference Protocol (KServe v2) over REST, so that its clients (KServe, Seldon
//! MLServer's and Triton's `tritonclient`) and gateways call hitcast unchanged.
//!
//! | path | what |
//! |---|---|
//! | `GET /v2` | the server: name, version, extensions |
//! | `GET /v2/health/live`, `GET /v2/health/ready` | liveness and readiness |
//! | `GET /v2/models/{name}[/versions/{v}]` | the model's inputs and outputs |
//! | `GET /v2/models/{name}[/versions/{v}]/ready` | whether it answers |
//! | `POST /v2/models/{name}[/versions/{v}]/infer` | columnar tensors in, the answers out |
//!
//! The inputs are the dataset's columns by name (`danceability` FP64, `key` INT64, `explicit`
//! BOOL, `track_genre` BYTES with `,`, `;` or `|` between genres as in a table, ...), each a tensor of shape `[N]` or
//! `[N, 1]` whose first dimension is the batch. Each row is checked by the rules
//! `POST /api/v1/predict` applies to a track (it is built as that track and read by the same
//! code), and answered by the same scoring: the outputs are [`ANSWERS`]' columns, named as in
//! `hitcast predict`'s CSV, with the JSON API's full precision. Input tensors may come as JSON
//! or in the binary tensor extension (`Inference-Header-Content-Length`); outputs are JSON.
//!
//! The model's version is the first 12 hex digits of its file's SHA-256 (`1` for a model
//! given in memory), so it changes with a reload. Errors are `{"error": "..."}`, 400 for a bad
//! request and 404 for another model's name, as the protocol has them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hitcast::data::{Column, Rule};
use hitcast::predictor::{AnswerType, ANSWERS};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::live::Served;
use crate::track::TrackRequest;
use crate::AppState;

/// The header that splits a binary-extension body into its JSON and its tensors.
const HEADER_LENGTH: &str = "inference-header-content-length";

/// Row errors listed in one answer at most.
const LISTED_ERRORS: usize = 10;

/// The protocol's routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v2", get(server))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(metadata_version),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(model_ready_version),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(infer_version),
        )
}

/// An error as the protocol answers it: `{"error": "..."}`.
#[derive(Debug)]
struct V2Error(StatusCode, String);

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> V2Error {
    V2Error(StatusCode::BAD_REQUEST, message.into())
}

/// The model's version: its checksum's first 12 hex digits.
fn version(served: &Served) -> String {
    if served.sha256.is_empty() {
        "1".to_owned()
    } else {
        served.sha256.chars().take(12).collect()
    }
}

/// The model `name` (and `version`, if given) names, or a 404.
fn named(
    state: &AppState,
    name: &str,
    version_asked: Option<&str>,
) -> Result<Arc<Served>, V2Error> {
    let model = &state.options.model_name;
    if name != model {
        return Err(V2Error(
            StatusCode::NOT_FOUND,
            format!("no model named {name:?}: this server serves {model:?}"),
        ));
    }
    let served = state.model();
    match version_asked {
        Some(v) if v != version(&served) => Err(V2Error(
            StatusCode::NOT_FOUND,
            format!(
                "model {model:?} has no version {v:?}: it serves version {:?}",
                version(&served)
            ),
        )),
        _ => Ok(served),
    }
}

async fn server() -> Response {
    Json(json!({
        "name": "hitcast",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": ["binary_tensor_data"],
    }))
    .into_response()
}

async fn live() -> Response {
    Json(json!({ "live": true })).into_response()
}

/// Ready as soon as it listens: the model is loaded and checked before the server listens,
/// and a reload keeps the old model answering until the new one is in. Not ready once a stop
/// has begun: a 400, as the protocol's "a 4xx status code indicates false" (Triton's too).
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    readiness(&state, json!({}))
}

/// `body` with `ready`, and the status a readiness probe reads.
fn readiness(state: &AppState, mut body: Value) -> Response {
    let ready = !state.is_stopping();
    body["ready"] = json!(ready);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Json(body)).into_response()
}

/// The protocol's datatype for a column.
fn datatype(column: Column) -> &'static str {
    match column.rule() {
        Rule::Text => "BYTES",
        Rule::Bool => "BOOL",
        Rule::Integer { .. } => "INT64",
        Rule::Unit | Rule::Range(_) => "FP64",
    }
}

/// The columns a track may give, in the dataset's order: all but popularity, which is what
/// is predicted.
fn input_columns() -> impl Iterator<Item = Column> {
    Column::ALL.into_iter().filter(|c| *c != Column::Popularity)
}

fn describe(state: &AppState, served: &Served) -> Value {
    let inputs: Vec<Value> = input_columns()
        .map(|c| json!({ "name": c.name(), "datatype": datatype(c), "shape": [-1] }))
        .collect();
    let outputs: Vec<Value> = ANSWERS
        .iter()
        .map(|a| json!({ "name": a.name, "datatype": answer_datatype(a.kind), "shape": [-1] }))
        .collect();
    json!({
        "name": state.options.model_name,
        "versions": [version(served)],
        "platform": "hitcast",
        "inputs": inputs,
        "outputs": outputs,
    })
}

fn answer_datatype(kind: AnswerType) -> &'static str {
    match kind {
        AnswerType::Text => "BYTES",
        AnswerType::Bool => "BOOL",
        AnswerType::Number => "FP64",
    }
}

async fn metadata(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, V2Error> {
    let served = named(&state, &name, None)?;
    Ok(Json(describe(&state, &served)).into_response())
}

async fn metadata_version(
    State(state): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
) -> Result<Response, V2Error> {
    let served = named(&state, &name, Some(&v))?;
    Ok(Json(describe(&state, &served)).into_response())
}

async fn model_ready(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, V2Error> {
    named(&state, &name, None)?;
    Ok(readiness(&state, json!({ "name": name })))
}

async fn model_ready_version(
    State(state): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
) -> Result<Response, V2Error> {
    named(&state, &name, Some(&v))?;
    Ok(readiness(&state, json!({ "name": name })))
}

/// One input tensor of a request.
#[derive(Debug, Deserialize)]
struct Tensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// One output a request asks for.
#[derive(Debug, Deserialize)]
struct Wanted {
    name: String,
}

/// An inference request.
#[derive(Debug, Deserialize)]
struct InferRequest {
    #[serde(default)]
    id: Option<String>,
    inputs: Vec<Tensor>,
    #[serde(default)]
    outputs: Option<Vec<Wanted>>,
}

async fn infer(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, V2Error> {
    let served = named(&state, &name, None)?;
    answer(&state, served, &headers, &body).await
}

async fn infer_version(
    State(state): State<Arc<AppState>>,
    Path((name, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, V2Error> {
    let served = named(&state, &name, Some(&v))?;
    answer(&state, served, &headers, &body).await
}

async fn answer(
    state: &Arc<AppState>,
    served: Arc<Served>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, V2Error> {
    let (request, tensors) = read_request(headers, body)?;
    let wanted = wanted_outputs(request.outputs.as_deref())?;
    let (rows, columns) = columns(&request.inputs, tensors, state.limits.batch)?;
    let tracks = tracks(rows, &columns)?;
    let n = tracks.len();
    let scored = state
        .score_with(&served.predictor, tracks, false)
        .await
        .map_err(|e| {
            // The protocol answers every fault of the request with a 400.
            let status = if e.status().is_client_error() {
                StatusCode::BAD_REQUEST
            } else {
                e.status()
            };
            V2Error(status, e.message().to_owned())
        })?;
    let answers: Vec<Value> = scored
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    let outputs: Vec<Value> = wanted
        .iter()
        .map(|a| {
            let data: Vec<Value> = answers.iter().map(|v| cell(a.json, v)).collect();
            json!({ "name": a.name, "datatype": answer_datatype(a.kind), "shape": [n], "data": data })
        })
        .collect();
    let mut out = json!({
        "model_name": state.options.model_name,
        "model_version": version(&served),
        "outputs": outputs,
    });
    if let Some(id) = request.id {
        out["id"] = Value::String(id);
    }
    Ok(Json(out).into_response())
}

/// One answer column's cell from the JSON API's answer: warnings as the tables write them
/// (the fields, `;`-separated).
fn cell(field: &str, answer: &Value) -> Value {
    match (field, &answer[field]) {
        ("warnings", Value::Array(items)) => Value::String(
            items
                .iter()
                .filter_map(|w| w["field"].as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ),
        (_, v) => v.clone(),
    }
}

/// The request's JSON and, under the binary extension, the bytes after it.
fn read_request<'b>(
    headers: &HeaderMap,
    body: &'b [u8],
) -> Result<(InferRequest, &'b [u8]), V2Error> {
    if let Some(t) = headers.get(header::CONTENT_TYPE) {
        let t = String::from_utf8_lossy(t.as_bytes()).to_ascii_lowercase();
        let essence = t.split(';').next().unwrap_or_default().trim().to_owned();
        if essence != "application/json" && essence != "application/octet-stream" {
            return Err(V2Error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type {t:?}: send JSON (application/json), or the binary tensor extension"),
            ));
        }
    }
    let split = match headers.get(HEADER_LENGTH) {
        None => body.len(),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n <= body.len())
            .ok_or_else(|| {
                bad(format!(
                    "Inference-Header-Content-Length must be a byte count within the body's {} bytes",
                    body.len()
                ))
            })?,
    };
    let request: InferRequest = serde_json::from_slice(&body[..split]).map_err(|e| {
        // JSON followed by bytes, with no length saying where the JSON ends.
        let hint = match (e.classify(), headers.get(HEADER_LENGTH)) {
            (serde_json::error::Category::Syntax, None) if e.to_string().starts_with("trailing") => {
                " (binary tensor data after the JSON needs the Inference-Header-Content-Length header: the JSON's length in bytes)"
            }
            _ => "",
        };
        bad(format!("the inference request is not valid: {e}{hint}"))
    })?;
    Ok((request, &body[split..]))
}

/// The answers asked for, in [`ANSWERS`]' order; all of them when none are named.
fn wanted_outputs(
    wanted: Option<&[Wanted]>,
) -> Result<Vec<&'static hitcast::predictor::AnswerColumn>, V2Error> {
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return Ok(ANSWERS.iter().collect());
    };
    for w in wanted {
        if !ANSWERS.iter().any(|a| a.name == w.name) {
            return Err(bad(format!(
                "unknown output {:?}: expected {}",
                w.name,
                ANSWERS.map(|a| a.name).join(", ")
            )));
        }
    }
    Ok(ANSWERS
        .iter()
        .filter(|a| wanted.iter().any(|w| w.name == a.name))
        .collect())
}

/// Each input's column and values, in the request's order.
type Columns = Vec<(Column, Vec<Value>)>;

/// Each input's values, flattened, with the batch size they share.
fn columns(
    inputs: &[Tensor],
    mut binary: &[u8],
    limit: usize,
) -> Result<(usize, Columns), V2Error> {
    if inputs.is_empty() {
        // Zero rows would answer nothing, as if the request had been read.
        return Err(bad(
            "no inputs: give one tensor a column, named as the dataset's columns (the model's metadata, GET /v2/models/NAME, lists them)",
        ));
    }
    let mut rows = None;
    let mut out: Columns = Vec::with_capacity(inputs.len());
    for t in inputs {
        let column = Column::from_name(&t.name)
            .filter(|c| *c != Column::Popularity)
            .ok_or_else(|| {
                bad(format!(
                    "unknown input {:?}: expected the dataset's columns ({})",
                    t.name,
                    input_columns()
                        .map(Column::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if out.iter().any(|(c, _)| *c == column) {
            return Err(bad(format!("input {:?} is given twice", t.name)));
        }
        let n = batch_of(t)?;
        if n > limit {
            return Err(bad(format!(
                "{n} rows: at most {limit} a request (the server's --max-batch)"
            )));
        }
        match rows {
            None => rows = Some(n),
            Some(m) if m != n => {
                return Err(bad(format!(
                    "input {:?} has {n} rows and an earlier input {m}: every input needs one value a row",
                    t.name
                )))
            }
            Some(_) => {}
        }
        let values = match binary_size(t)? {
            Some(size) => {
                if size > binary.len() {
                    return Err(bad(format!(
                        "input {:?}: binary_data_size {size} runs past the body's end",
                        t.name
                    )));
                }
                let (mine, rest) = binary.split_at(size);
                binary = rest;
                decode(t, mine)?
            }
            None => {
                let Some(data) = &t.data else {
                    return Err(bad(format!(
                        "input {:?} has no data: give its values as \"data\", or as bytes after the JSON with \"binary_data_size\"",
                        t.name
                    )));
                };
                let mut flat = Vec::with_capacity(n);
                flatten(data, &mut flat);
                flat
            }
        };
        if values.len() != n {
            return Err(bad(format!(
                "input {:?}: shape {:?} holds {n} values, the data {}",
                t.name,
                t.shape,
                values.len()
            )));
        }
        check_type(t, column, &values)?;
        out.push((column, values));
    }
    Ok((rows.unwrap_or(0), out))
}

/// The batch size of a tensor shaped `[N]` or `[N, 1]`.
fn batch_of(t: &Tensor) -> Result<usize, V2Error> {
    match t.shape.as_slice() {
        [n] | [n, 1] if *n >= 0 => Ok(*n as usize),
        other => Err(bad(format!(
            "input {:?}: shape {other:?}; expected [N] or [N, 1], one value a row",
            t.name
        ))),
    }
}

fn binary_size(t: &Tensor) -> Result<Option<usize>, V2Error> {
    match t.parameters.get("binary_data_size") {
        None => Ok(None),
        Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
            bad(format!(
                "input {:?}: binary_data_size must be a byte count",
                t.name
            ))
        }),
    }
}

/// A JSON tensor's values in row-major order (nested lists flattened).
fn flatten(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        other => out.push(other.clone()),
    }
}

/// A binary tensor's values: little-endian numbers, one-byte booleans, and BYTES as 4-byte
/// lengths each followed by its bytes. NaN, which JSON cannot hold, becomes null: a learned
/// column left empty.
fn decode(t: &Tensor, bytes: &[u8]) -> Result<Vec<Value>, V2Error> {
    let width = |w: usize| -> Result<std::slice::ChunksExact<'_, u8>, V2Error> {
        if bytes.len().is_multiple_of(w) {
            Ok(bytes.chunks_exact(w))
        } else {
            Err(bad(format!(
                "input {:?}: {} bytes is not a whole number of {} values",
                t.name,
                bytes.len(),
                t.datatype
            )))
        }
    };
    let number = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
    let fixed = |c: &[u8]| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..c.len()].copy_from_slice(c);
        b
    };
    Ok(match t.datatype.as_str() {
        "BOOL" => width(1)?.map(|c| Value::Bool(c[0] != 0)).collect(),
        "FP64" => width(8)?
            .map(|c| number(f64::from_le_bytes(fixed(c))))
            .collect(),
        "FP32" => width(4)?
            .map(|c| number(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
            .collect(),
        "INT64" => width(8)?
            .map(|c| json!(i64::from_le_bytes(fixed(c))))
            .collect(),
        "INT32" => width(4)?
            .map(|c| json!(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        "INT16" => width(2)?
            .map(|c| json!(i16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "INT8" => width(1)?.map(|c| json!(c[0] as i8)).collect(),
        "UINT64" => width(8)?
            .map(|c| json!(u64::from_le_bytes(fixed(c))))
            .collect(),
        "UINT32" => width(4)?
            .map(|c| json!(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        "UINT16" => width(2)?
            .map(|c| json!(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "UINT8" => width(1)?.map(|c| json!(c[0])).collect(),
        "BYTES" => {
            let mut out = Vec::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                let (len, after) = rest
                    .split_first_chunk::<4>()
                    .map(|(l, a)| (u32::from_le_bytes(*l) as usize, a))
                    .filter(|(l, a)| *l <= a.len())
                    .ok_or_else(|| {
                        bad(format!(
                            "input {:?}: its BYTES elements run past the tensor's end",
                            t.name
                        ))
                    })?;
                let text = std::str::from_utf8(&after[..len]).map_err(|_| {
                    bad(format!("input {:?}: an element is not UTF-8 text", t.name))
                })?;
                out.push(Value::String(text.to_owned()));
                rest = &after[len..];
            }
            out
        }
        other => {
            return Err(bad(format!(
                "input {:?}: datatype {other} is not read in binary form",
                t.name
            )))
        }
    })
}

/// The tensor's declared datatype fits its column, and its values that datatype.
fn check_type(t: &Tensor, column: Column, values: &[Value]) -> Result<(), V2Error> {
    const NUMBERS: [&str; 11] = [
        "BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP32",
        "FP64",
    ];
    let text = column.rule() == Rule::Text;
    if t.datatype != "BYTES" && !NUMBERS.contains(&t.datatype.as_str()) {
        return Err(bad(format!(
            "input {:?}: {:?} is not a datatype hitcast reads (it reads {}, BYTES)",
            t.name,
            t.datatype,
            NUMBERS.join(", ")
        )));
    }
    let fits = if text {
        t.datatype == "BYTES"
    } else {
        NUMBERS.contains(&t.datatype.as_str())
    };
    if !fits {
        return Err(bad(format!(
            "input {:?} is {}: expected {}",
            t.name,
            t.datatype,
            if text {
                "BYTES".to_owned()
            } else {
                format!("a number type ({})", datatype(column))
            }
        )));
    }
    // An integer type's values are whole: 0.5 declared INT64 is a mistake, not a 0 or a 1.
    let whole = t.datatype.contains("INT");
    let wrong = values.iter().position(|v| match v {
        Value::String(_) => !text,
        Value::Number(n) => text || (whole && n.as_f64().is_some_and(|x| x.fract() != 0.0)),
        Value::Bool(_) => text,
        // Null: an empty learned column (from-audio rows); the track's check says the rest.
        Value::Null => false,
        _ => true,
    });
    match wrong {
        Some(k) => Err(bad(format!(
            "input {:?} row {k}: {} is not a value of {}",
            t.name, values[k], t.datatype
        ))),
        None => Ok(()),
    }
}

/// Each row as the JSON API's track object, checked by the same code.
fn tracks(rows: usize, columns: &Columns) -> Result<Vec<TrackRequest>, V2Error> {
    // The track object's `track_genre` is a cell, split as a table's is.
    let row = |k: usize| -> Value {
        Value::Object(
            columns
                .iter()
                .map(|(column, values)| (column.name().to_owned(), values[k].clone()))
                .collect::<Map<String, Value>>(),
        )
    };
    // An input left out fails every row alike: said once, as the input it is.
    if let (true, Err(errors)) = (rows > 0, TrackRequest::from_json(&row(0), "")) {
        let given = |field: &str| columns.iter().any(|(c, _)| c.name() == field);
        let absent: Vec<String> = errors
            .iter()
            .filter(|e| !given(&e.field))
            .map(|e| format!("{:?} ({})", e.field, e.message))
            .collect();
        if !absent.is_empty() {
            return Err(bad(format!(
                "missing input(s) {}: give each as a tensor (GET /v2/models/NAME lists the inputs)",
                absent.join(", ")
            )));
        }
    }
    let mut tracks = Vec::with_capacity(rows);
    let mut errors = Vec::new();
    let (mut failed, mut unlisted) = (0, 0);
    for k in 0..rows {
        match TrackRequest::from_json(&row(k), "") {
            Ok(t) => tracks.push(t),
            Err(e) => {
                failed += 1;
                for f in e {
                    if errors.len() == LISTED_ERRORS {
                        unlisted += 1;
                    } else {
                        errors.push(format!("row {k} {}: {}", f.field, f.message));
                    }
                }
            }
        }
    }
    if failed > 0 {
        let more = if unlisted > 0 {
            format!("; and {unlisted} more errors")
        } else {
            String::new()
        };
        return Err(bad(format!(
            "{failed} of {rows} rows are invalid: {}{more}",
            errors.join("; ")
        )));
    }
    Ok(tracks)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tensor(name: &str, datatype: &str, shape: Vec<i64>, data: Value) -> Tensor {
        Tensor {
            name: name.into(),
            shape,
            datatype: datatype.into(),
            parameters: Map::new(),
            data: Some(data),
        }
    }

    #[test]
    fn binary_tensors_decode_as_their_json_twins() {
        let t = |dt: &str| tensor("x", dt, vec![2], Value::Null);
        let fp64: Vec<u8> = [0.25f64, f64::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            decode(&t("FP64"), &fp64).unwrap(),
            vec![json!(0.25), Value::Null]
        );
        let int64: Vec<u8> = [4i64, -1].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            decode(&t("INT64"), &int64).unwrap(),
            vec![json!(4), json!(-1)]
        );
        assert_eq!(
            decode(&t("BOOL"), &[1, 0]).unwrap(),
            vec![json!(true), json!(false)]
        );
        let mut bytes = 3u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"pop");
        bytes.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            decode(&t("BYTES"), &bytes).unwrap(),
            vec![json!("pop"), json!("")]
        );
        // A length past the end, and a width that does not divide, are refused.
        assert!(decode(&t("BYTES"), &9u32.to_le_bytes()).is_err());
        assert!(decode(&t("FP64"), &[0; 7]).is_err());
    }

    #[test]
    fn shapes_and_types_are_checked_before_any_row() {
        let good = tensor("energy", "FP64", vec![2, 1], json!([[0.5], [0.6]]));
        let (rows, cols) = columns(&[good], &[], 10).unwrap();
        assert_eq!((rows, cols[0].1.len()), (2, 2));
        let ragged = [
            tensor("energy", "FP64", vec![2], json!([0.5, 0.6])),
            tensor("valence", "FP64", vec![3], json!([0.5, 0.6, 0.7])),
        ];
        let e = columns(&ragged, &[], 10).err().unwrap();
        assert!(
            e.1.contains("3 rows") && e.1.contains("earlier input 2"),
            "{}",
            e.1
        );
        let text = tensor("energy", "BYTES", vec![1], json!(["loud"]));
        assert!(columns(&[text], &[], 10)
            .err()
            .unwrap()
            .1
            .contains("expected a number type"));
        let unknown = tensor("popularity", "FP64", vec![1], json!([50]));
        assert!(columns(&[unknown], &[], 10)
            .err()
            .unwrap()
            .1
            .contains("unknown input"));
        let many = tensor("energy", "FP64", vec![11], json!(vec![0.5; 11]));
        assert!(columns(&[many], &[], 10)
            .err()
            .unwrap()
            .1
            .contains("--max-batch"));
        let short = tensor("energy", "FP64", vec![3], json!([0.5, 0.6]));
        assert!(columns(&[short], &[], 10)
            .err()
            .unwrap()
            .1
            .contains("holds 3 values"));
    }
}

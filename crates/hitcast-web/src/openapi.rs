//! The OpenAPI 3 document of the JSON API. Written by hand beside the handlers; a test checks
//! it against the running server (every path answers, the example validates, the schemas' fields
//! are the answers' fields).

use hitcast::artifact::Role;
use hitcast::data::{Column, Rule};
use hitcast::predictor::{AnswerType, Verdict, ANSWERS};
use serde_json::{json, Map, Value};

/// The API's version. 2.0.0: a prediction's `popular` became `flagged` (a likely hit, at a
/// threshold on the calibrated probability) with `lift`; `popularity_low`, `popularity_high` and
/// `warnings` were added, and `unknown_genres` is always present. 2.1.0: `genres_used` (a track
/// with no genre the model knows is answered by its audio-only companion). 2.2.0: `POST
/// /api/v1/what-if` and `POST /api/v1/similar`; `GET /api/v1/tracks` gives `total`, each
/// track's `album_name` and its `features` as `/api/v1/predict` takes them, and finds Spotify
/// links. 2.3.0: an explained prediction also carries `score_explanation` (the 0-100 score's
/// contributions, in points). 3.0.0: `label` says "a likely hit" (flagged with a chance of one
/// half or more), "a hit contender" (flagged below that) or "not flagged", where it said
/// "flagged as a likely hit" of every flagged track; `model` names the model that answered
/// (`main`, `new-song` for a track without `track_id`, `no-genres` for one with no genre the
/// model knows) and `threshold` is that model's; `popularity`, `popularity_low` and
/// `popularity_high` are the mean and quantiles of one score distribution whose chance above
/// the label threshold is `probability`; a score explanation has a `hit_chance` contribution; a
/// batch takes `"adapt_prior": true` and then answers with `prior`. 3.1.0: `POST
/// /api/v1/predict/audio` measures a song's audio file and answers with the from-audio model
/// (`model` = `from-audio`), which also answers a track whose seven learned columns are absent;
/// a JSON route answers a body whose `Content-Type` is not JSON with 415. 3.2.0: a batch takes
/// `"on_error": "skip"` (each bad track's errors in its place, and `failed`); text fields may be
/// null (as absent); `q` must hold a word; every route may answer 503 with `Retry-After` when
/// the server is at its limit of requests at once, and 401 when it has an API key; the Open
/// Inference Protocol's routes (`/v2/...`) and `/metrics`. 3.2.1: a reload whose file cannot
/// serve answers 422, not 500. 3.2.2: a song measured from audio that the model file has no
/// from-audio model for is a 422 on every route (with `adapt_prior` it was a 500, and a file
/// upload's download broke off). 3.3.0: an explanation's contribution gives the track's own
/// `value` ("not measured" for an input a song measured from audio lacks) and `read_as`, the
/// value the model read where that differs (a fence, a median); it gave the value read.
/// 3.4.0: a track's `track_genre` is a cell as the dataset writes it, split at `;`, `,` and `|`
/// (it was one name); search and similar tracks answer 501 on a server without a dataset (it
/// was 503), and their 503 while it loads has `Retry-After`. 4.0.0 (a client's working request
/// may now be refused, and `warnings` is no longer empty for a catalogue's tracks): a body with
/// a `Content-Encoding` other than `identity` is a 415 on every route (it failed as the JSON or
/// audio it is not); `/api/v1/tracks` refuses query parameters other than `q` and `limit`, and
/// names every problem of its query at once; `warnings` holds `track_genre` for genres the
/// model does not know (with the known genre a typo names) and `training_track` for a track
/// of the dataset the model was built from. 4.1.0: `/healthz` says the state of the real
/// tracks (`catalogue`: none, loading, ready with `catalogue_tracks`, or failed with
/// `catalogue_error`). 4.2.0: once a stop has begun, readiness (`/v2/health/ready`, a model's
/// `ready`) answers 400 with `ready: false` and `/healthz`'s `status` is `stopping`.
pub(crate) const API_VERSION: &str = "4.2.0";

use crate::{Limits, Options};

/// The answer to a batch: its predictions, and with `adapt_prior` what the estimate gave.
fn batch_answer_schema() -> Value {
    let estimate = json!({
        "type": "object",
        "required": ["training", "estimate", "standard_error", "mean_probability", "tracks"],
        "properties": {
            "training": { "type": "number", "description": "the model's base rate" },
            "estimate": { "type": "number", "description": "the batch's, by EM" },
            "standard_error": { "type": "number" },
            "mean_probability": { "type": "number", "description": "the unadapted answers' mean" },
            "tracks": { "type": "integer" }
        }
    });
    json!({
        "type": "object",
        "required": ["predictions"],
        "properties": {
            "predictions": { "type": "array", "items": { "oneOf": [
                { "$ref": "#/components/schemas/Prediction" },
                { "type": "object", "required": ["index", "track_id", "errors"], "additionalProperties": false,
                  "description": "with on_error: skip, a track that breaks the rules, in its place",
                  "properties": { "index": { "type": "integer" }, "track_id": { "type": "string" },
                                  "errors": { "type": "array", "items": { "$ref": "#/components/schemas/FieldError" } } } }
            ] } },
            "failed": { "type": "integer", "description": "with on_error: skip, the tracks refused" },
            "prior": {
                "type": "object",
                "required": ["adapted"],
                "description": "with adapt_prior: the estimate the answers were adapted to, or why they were not",
                "properties": {
                    "adapted": { "type": "boolean" },
                    "reason": { "type": "string" },
                    "estimate": estimate
                }
            }
        }
    })
}

/// The schema of one input column.
fn column_schema(column: Column) -> Value {
    let description = format!("{column}: {}", column.rule().expected());
    // The bounds are the checks' own (`Column::bounds`), so the document cannot drift from them.
    match (column.rule(), column.bounds()) {
        // Null reads as absent, as an empty CSV cell does.
        (Rule::Text, _) => {
            json!({ "type": "string", "maxLength": crate::track::MAX_TEXT, "nullable": true })
        }
        // A CSV's 1 and 0 are read too.
        (Rule::Bool, _) => {
            json!({ "anyOf": [{ "type": "boolean" }, { "type": "integer", "enum": [0, 1] }],
                                   "description": description })
        }
        (Rule::Integer { min, max }, _) => {
            json!({ "type": "integer", "minimum": min, "maximum": max, "description": description })
        }
        (_, Some(d)) => {
            json!({ "type": "number", "minimum": d.min, "maximum": d.max, "description": description })
        }
        (_, None) => json!({ "type": "number", "description": description }),
    }
}

/// A track that gives all seven learned columns, as numbers.
fn learned_given() -> Value {
    let learned = Column::LEARNED.map(Column::name);
    let numbers: Map<String, Value> = learned
        .iter()
        .map(|&c| (c.to_owned(), json!({ "type": "number" })))
        .collect();
    json!({ "required": learned, "properties": numbers })
}

/// The track object's schema.
fn track_schema() -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for column in Column::ALL {
        if column == Column::Popularity {
            properties.insert(
                column.name().into(),
                json!({ "description": "ignored, whatever it holds (so dataset rows can be posted as they are)" }),
            );
            continue;
        }
        if column == Column::TrackGenre {
            properties.insert(
                column.name().into(),
                json!({ "type": "string", "nullable": true, "description": "genres as the dataset writes them, separated by `;`, `,` or `|` (added to genres)" }),
            );
            continue;
        }
        let mut schema = column_schema(column);
        if column.is_learned() {
            schema["nullable"] = json!(true);
        }
        properties.insert(column.name().into(), schema);
        // The learned columns go together: all seven, or none for a song measured from audio.
        if column.audio_index().is_some()
            && column.when_absent() == hitcast::data::Absent::Required
            && !column.is_learned()
        {
            required.push(column.name());
        }
    }
    properties.insert(
        "genres".into(),
        json!({ "type": "array", "items": { "type": "string" }, "maxItems": crate::track::MAX_GENRES, "nullable": true,
                "description": "genre names (see GET /api/v1/model for the known ones; unknown ones score as no genre)" }),
    );
    // All seven learned columns as numbers, or none of them (absent or null).
    let learned = Column::LEARNED.map(Column::name);
    let nulls: Map<String, Value> = learned
        .iter()
        .map(|&c| (c.to_owned(), json!({ "nullable": true, "enum": [null] })))
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
        "anyOf": [
            learned_given(),
            { "properties": nulls }
        ],
        "description": "explicit defaults to false and time_signature to 4; track_id, track_name, artists and album_name are optional (the title and artists feed a few features). The seven learned columns (danceability, energy, speechiness, acousticness, instrumentalness, liveness, valence) come all together, or all absent (or null) for a song measured from its audio file: the from-audio model answers it."
    })
}

/// A track that validates: the dataset's first row.
pub(crate) fn example_track() -> Value {
    json!({
        "track_id": "5SuOikwiRyPMVoIQDJUgSV", "track_name": "Comedy", "artists": "Gen Hoshino",
        "duration_ms": 230666, "explicit": false, "danceability": 0.676, "energy": 0.461, "key": 1,
        "loudness": -6.746, "mode": 0, "speechiness": 0.143, "acousticness": 0.0322,
        "instrumentalness": 0.00000101, "liveness": 0.358, "valence": 0.715, "tempo": 87.917,
        "time_signature": 4, "genres": ["acoustic"]
    })
}

/// The API's answer for one track: the declared answer columns ([`ANSWERS`], under their JSON
/// names, with their meanings), and the fields only the API gives.
fn prediction_schema() -> Value {
    let mut properties = Map::new();
    for c in &ANSWERS {
        let mut field = json!({
            "type": match c.kind {
                AnswerType::Text => "string",
                AnswerType::Bool => "boolean",
                AnswerType::Number => "number",
            },
            "description": c.doc,
        });
        if let Some((min, max)) = c.range {
            field["minimum"] = json!(min);
            if max.is_finite() {
                field["maximum"] = json!(max);
            }
        }
        properties.insert(c.json.to_owned(), field);
    }
    // In JSON, warnings are objects rather than a table's `;`-separated text, and the model is
    // one of the roles' names.
    properties["warnings"]["type"] = json!("array");
    properties["warnings"]["items"] = json!({ "type": "object", "required": ["field", "message"],
        "properties": { "field": { "type": "string" }, "message": { "type": "string" } } });
    properties["model"]["enum"] = json!(Role::ALL.map(Role::name));
    let api_only = json!({
        "label": { "type": "string", "enum": Verdict::TEXTS, "description": "what the flag means: a likely hit (flagged with a chance of one half or more), a hit contender (flagged below that) or not flagged" },
        "threshold": { "type": "number", "minimum": 0, "maximum": 1, "description": "the answering model's decision threshold on the probability" },
        "genres_used": { "type": "boolean", "description": "whether the answer reads the track's genres; false when none of them is one the model knows: then the model's no-genres companion (the same families trained on the same tracks without genres) answers" },
        "unknown_genres": { "type": "array", "items": { "type": "string" }, "description": "genres the model does not know: they are not read" },
        "explanation": { "$ref": "#/components/schemas/Explanation" },
        "score_explanation": { "$ref": "#/components/schemas/ScoreExplanation" }
    });
    properties.extend(api_only.as_object().cloned().unwrap_or_default());
    let mut required: Vec<&str> = ANSWERS.iter().map(|c| c.json).collect();
    required.extend(["label", "threshold", "genres_used", "unknown_genres"]);
    json!({ "type": "object", "required": required, "properties": properties })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The document of a server with these limits and options.
pub(crate) fn document(limits: &Limits, options: &Options) -> Value {
    let mut doc = routes(limits);
    let paths = doc["paths"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut paths: Map<String, Value> = paths;
    paths.extend(operations(&options.model_name));
    if options.admin_key.is_some() {
        paths.insert("/admin/reload".into(), json!({ "post": {
            "summary": "Read the model file again and swap it in (needs the admin key)",
            "description": "The file is checked as fully as at start; until the new model is in, and if it fails, the old one answers. SIGHUP does the same.",
            "security": [{ "admin": [] }],
            "responses": {
                "200": { "description": "the new model answers", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["reloaded", "sha256", "loaded_unix"],
                    "properties": { "reloaded": { "type": "boolean" }, "sha256": { "type": "string" }, "loaded_unix": { "type": "number" } } } } } },
                "401": error_response("no admin key, or another"),
                "409": error_response("the server was started without a model file to read again"),
                "422": error_response("the file cannot serve: the old model keeps answering")
            }
        } }));
        doc["components"]["securitySchemes"]["admin"] = json!({ "type": "http", "scheme": "bearer", "description": "the key in --admin-key-file" });
    }
    for (path, item) in paths.iter_mut() {
        let health = matches!(
            path.as_str(),
            "/healthz" | "/v2/health/live" | "/v2/health/ready"
        );
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            let responses = &mut operation["responses"];
            if !health && path != "/metrics" {
                responses["503"] =
                    error_response("busy (--max-concurrency): retry after Retry-After seconds");
            }
            if path.ends_with("/ready") {
                responses["400"] = json!({
                    "description": "not ready: a stop has begun (SIGTERM; during --shutdown-delay every other route still answers)",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Readiness" } } }
                });
            }
            if options.api_key.is_some() && !health && !path.starts_with("/admin/") {
                responses["401"] =
                    error_response("no API key, or another: send 'Authorization: Bearer KEY'");
            }
        }
    }
    if options.api_key.is_some() {
        doc["components"]["securitySchemes"]["apiKey"] = json!({ "type": "http", "scheme": "bearer", "description": "the key in --api-key-file; not needed by the health checks" });
        doc["security"] = json!([{ "apiKey": [] }]);
        for health in ["/healthz", "/v2/health/live", "/v2/health/ready"] {
            if let Some(op) = paths.get_mut(health).and_then(|p| p.get_mut("get")) {
                op["security"] = json!([]);
            }
        }
    }
    doc["paths"] = Value::Object(paths);
    doc
}

/// `/metrics` and the Open Inference Protocol's routes.
fn operations(model_name: &str) -> Map<String, Value> {
    let v2_error = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/V2Error" } } } });
    let name = json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string" }, "example": model_name,
                       "description": format!("the model's name: {model_name} (--model-name)") });
    let version = json!({ "name": "version", "in": "path", "required": true, "schema": { "type": "string" },
                          "description": "the model's version: its file's SHA-256, first 12 hex digits" });
    let ok = |d: &str, schema: Value| json!({ "description": d, "content": { "application/json": { "schema": schema } } });
    let metadata = json!({ "type": "object", "required": ["name", "versions", "platform", "inputs", "outputs"],
        "properties": { "name": { "type": "string" }, "versions": { "type": "array", "items": { "type": "string" } },
                        "platform": { "type": "string" },
                        "inputs": { "type": "array", "items": { "$ref": "#/components/schemas/V2Tensor" } },
                        "outputs": { "type": "array", "items": { "$ref": "#/components/schemas/V2Tensor" } } } });
    let ready = json!({ "type": "object", "required": ["name", "ready"], "properties": { "name": { "type": "string" }, "ready": { "type": "boolean" } } });
    let model = |params: Value, summary: &str, answer: Value| {
        json!({ "get": {
        "summary": summary, "parameters": params,
        "responses": { "200": ok("found", answer), "404": v2_error("no model of that name or version") }
    } })
    };
    let mut out = Map::new();
    out.insert("/metrics".into(), json!({ "get": { "summary": "Prometheus metrics (OpenMetrics text)",
        "responses": { "200": { "description": "requests, latencies, answers by model, the model's identity, the process",
                                "content": { "application/openmetrics-text": { "schema": { "type": "string" } } } } } } }));
    out.insert("/v2".into(), json!({ "get": { "summary": "Open Inference Protocol: the server",
        "responses": { "200": ok("its name, version and extensions", json!({ "type": "object", "required": ["name", "version", "extensions"],
            "properties": { "name": { "type": "string" }, "version": { "type": "string" }, "extensions": { "type": "array", "items": { "type": "string" } } } })) } } }));
    out.insert("/v2/health/live".into(), json!({ "get": { "summary": "Open Inference Protocol: liveness",
        "responses": { "200": ok("live", json!({ "type": "object", "required": ["live"], "properties": { "live": { "type": "boolean" } } })) } } }));
    out.insert("/v2/health/ready".into(), json!({ "get": { "summary": "Open Inference Protocol: readiness",
        "responses": { "200": ok("ready", json!({ "type": "object", "required": ["ready"], "properties": { "ready": { "type": "boolean" } } })) } } }));
    out.insert(
        "/v2/models/{name}".into(),
        model(
            json!([name]),
            "Open Inference Protocol: the model's inputs and outputs",
            metadata.clone(),
        ),
    );
    out.insert(
        "/v2/models/{name}/versions/{version}".into(),
        model(
            json!([name, version]),
            "the same, for one version",
            metadata,
        ),
    );
    out.insert(
        "/v2/models/{name}/ready".into(),
        model(
            json!([name]),
            "Open Inference Protocol: whether the model answers",
            ready.clone(),
        ),
    );
    out.insert(
        "/v2/models/{name}/versions/{version}/ready".into(),
        model(json!([name, version]), "the same, for one version", ready),
    );
    // The infer routes are left to the protocol's own specification: whether a request holds
    // one value a row for each column cannot be said in JSON Schema, so a document of them
    // would promise what the server rightly refuses.
    out
}

/// The JSON API's own routes.
fn routes(limits: &Limits) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "hitcast",
            "version": API_VERSION,
            "description": "Predicts whether a Spotify track will be popular, and its 0-100 popularity score, from its audio features and genres."
        },
        "paths": {
            "/api/v1/predict": predict_path(limits),
            "/api/v1/predict/audio": audio_path(limits),
            "/api/v1/model": model_path(),
            "/api/v1/tracks": tracks_path(),
            "/api/v1/what-if": what_if_path(),
            "/api/v1/similar": similar_path(),
            "/healthz": {
                "get": { "summary": "Liveness, and the state of the real tracks (--data) that search and similar tracks read", "responses": { "200": { "description": "up", "content": { "application/json": { "schema": { "type": "object", "required": ["status", "catalogue"], "properties": {
                    "status": { "type": "string", "enum": ["ok", "stopping"], "description": "stopping: a stop has begun (SIGTERM), and readiness answers 400, not ready" },
                    "catalogue": { "type": "string", "enum": ["none", "loading", "ready", "failed"], "description": "none: started without a dataset; failed: it could not be read (see catalogue_error)" },
                    "catalogue_tracks": { "type": "integer", "description": "tracks loaded, when ready" },
                    "catalogue_error": { "type": "string", "description": "why the dataset could not be read, when failed" } } } } } } } }
            },
            "/api/openapi.json": {
                "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3", "content": { "application/json": { "schema": { "type": "object" } } } } } }
            }
        },
        "components": { "securitySchemes": {}, "schemas": schemas() }
    })
}

/// `POST /api/v1/predict`: one track or a batch.
fn predict_path(limits: &Limits) -> Value {
    json!({
        "post": {
            "summary": "Score one track, or a batch",
            "parameters": [{
                "name": "explain", "in": "query", "required": false, "schema": { "type": "boolean", "default": false },
                "description": format!("add each prediction's contributions: to the chance (log-odds per feature) and to the score (points per feature); for sampled explanations (mlp, stack models) at most {} tracks per call", limits.sampled_explanations)
            }],
            "requestBody": {
                "required": true,
                "description": format!("one track object, or {{\"tracks\": [...]}} with up to {} tracks; at most {} bytes. A track without track_id is a new song: the new-song model answers it. With \"adapt_prior\": true, a batch's answers are adapted to its own share of popular tracks, estimated from the model's answers by EM under label shift (for a batch of 500 tracks or more that differs from the training data in its share of hits only; refused, with the reason, otherwise)", limits.batch, limits.body_bytes),
                "content": { "application/json": {
                    "schema": { "oneOf": [
                        { "$ref": "#/components/schemas/Track" },
                        { "type": "object", "additionalProperties": false, "required": ["tracks"],
                          "properties": { "tracks": { "type": "array", "maxItems": limits.batch, "items": { "$ref": "#/components/schemas/Track" } },
                                          "adapt_prior": { "type": "boolean", "default": false },
                                          "on_error": { "type": "string", "enum": ["fail"], "default": "fail",
                                                        "description": "fail: any bad track refuses the batch (422, every track's errors)" } } },
                        { "type": "object", "additionalProperties": false, "required": ["tracks", "on_error"],
                          "properties": { "tracks": { "type": "array", "maxItems": limits.batch, "items": {},
                                                      "description": "track objects; anything that is not a track by the rules is answered with its errors" },
                                          "adapt_prior": { "type": "boolean", "default": false },
                                          "on_error": { "type": "string", "enum": ["skip"],
                                                        "description": "skip: the good tracks are answered, each bad one's errors in its place" } } }
                    ] },
                    "example": example_track()
                } }
            },
            "responses": {
                "200": { "description": "a prediction for one track, or {\"predictions\": [...]} in the batch's order",
                         "content": { "application/json": { "schema": { "oneOf": [
                             { "$ref": "#/components/schemas/Prediction" },
                             batch_answer_schema()
                         ] } } } },
                "400": error_response("the body is not JSON"),
                "415": error_response("the body's Content-Type is not application/json"),
                "413": error_response("the body is over the limit (--body-limit)"),
                "422": error_response("invalid values: one entry per field, named like tracks[3].energy")
            }
        }
    })
}

/// `POST /api/v1/predict/audio`: a song measured from its file and scored.
fn audio_path(limits: &Limits) -> Value {
    json!({
        "post": {
            "summary": "Measure a song from its audio file and score it",
            "description": format!("The file's duration, loudness (LUFS), tempo, key, mode and time signature are measured; with the song's genres and names they make a track without the seven learned columns, which the from-audio model answers. The file is the whole body (Content-Type audio/* or application/octet-stream, the fields in the query string) or the part `file` of a multipart/form-data body (the fields as parts or in the query string). At most {} bytes a file; 5 s to 2 h of audio; {} files are measured at once, others wait.", limits.audio_bytes, limits.audio_concurrency),
            "parameters": [
                { "name": "genres", "in": "query", "required": false, "schema": { "type": "array", "items": { "type": "string" }, "maxItems": crate::track::MAX_GENRES }, "style": "form", "explode": true, "description": "the song's genres (repeat the field; `genre` and `track_genre` are read too)" },
                { "name": "explicit", "in": "query", "required": false, "schema": { "type": "boolean", "default": false } },
                { "name": "track_name", "in": "query", "required": false, "schema": { "type": "string", "maxLength": crate::track::MAX_TEXT } },
                { "name": "artists", "in": "query", "required": false, "schema": { "type": "string", "maxLength": crate::track::MAX_TEXT } },
                { "name": "album_name", "in": "query", "required": false, "schema": { "type": "string", "maxLength": crate::track::MAX_TEXT } },
                { "name": "explain", "in": "query", "required": false, "schema": { "type": "boolean", "default": false }, "description": "add the prediction's contributions, as for /api/v1/predict" }
            ],
            "requestBody": {
                "required": true,
                "content": {
                    "audio/*": { "schema": { "type": "string", "format": "binary" } },
                    "application/octet-stream": { "schema": { "type": "string", "format": "binary" } },
                    "multipart/form-data": { "schema": { "type": "object", "required": ["file"], "additionalProperties": false, "properties": {
                        "file": { "type": "string", "format": "binary", "description": "WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)" },
                        "genres": { "type": "array", "items": { "type": "string" } },
                        "explicit": { "type": "boolean" },
                        "track_name": { "type": "string" }, "artists": { "type": "string" }, "album_name": { "type": "string" }
                    } } }
                }
            },
            "responses": {
                "200": { "description": "the from-audio model's answer, what was measured, and the track it scored (post it to /api/v1/predict, with changes, for the same answer)",
                         "content": { "application/json": { "schema": { "type": "object", "required": ["prediction", "measured", "track"], "properties": {
                             "prediction": { "$ref": "#/components/schemas/Prediction" },
                             "measured": { "$ref": "#/components/schemas/Measured" },
                             "track": { "$ref": "#/components/schemas/Track" }
                         } } } } },
                "413": error_response("the file is over the server's limit (--audio-limit)"),
                "400": error_response("a multipart body that cannot be read"),
                "415": error_response("the body is not audio hitcast decodes, or its Content-Type is neither audio/*, application/octet-stream nor multipart/form-data"),
                "422": error_response("a song too short, too long, silent or broken, no `file` part, or a field that breaks the rules (named in `errors`)")
            }
        }
    })
}

/// `GET /api/v1/model`.
fn model_path() -> Value {
    json!({
        "get": {
            "summary": "The model's metadata: how it was trained and its TEST metrics",
            "responses": { "200": { "description": "the metadata", "content": { "application/json": { "schema": { "type": "object",
                "required": ["classifier", "regressor", "decision_threshold", "label_threshold", "test_classification", "test_regression", "features", "genres", "explanation_method"] } } } } }
        }
    })
}

/// `GET /api/v1/tracks`: the dataset searched.
fn tracks_path() -> Value {
    json!({
        "get": {
            "summary": "Find tracks of the dataset by Spotify link, URI or id, or by words of the title, artists and album (accents and case aside)",
            "parameters": [
                { "name": "q", "in": "query", "required": true, "schema": { "type": "string", "minLength": 1, "pattern": "\\S" }, "example": "The Weeknd - Blinding Lights" },
                { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 } }
            ],
            "responses": {
                "200": { "description": "how many tracks match, and the most popular of them", "content": { "application/json": { "schema": { "type": "object", "required": ["total", "tracks"],
                    "properties": { "total": { "type": "integer", "description": "every match, however many are listed" },
                                    "tracks": { "type": "array", "items": { "$ref": "#/components/schemas/Found" } } } } } } },
                "422": error_response("q missing or limit out of range"),
                "501": error_response("the server has no dataset: it was started without one, or it could not be read"),
                "503": error_response("the dataset is still loading: retry after Retry-After seconds")
            }
        }
    })
}

/// `POST /api/v1/what-if`.
fn what_if_path() -> Value {
    json!({
        "post": {
            "summary": "How the answer moves along one audio input's range, everything else held",
            "requestBody": {
                "required": true,
                "content": { "application/json": {
                    "schema": { "type": "object", "additionalProperties": false, "required": ["track", "feature"],
                        "properties": {
                            "track": { "$ref": "#/components/schemas/Track" },
                            "feature": { "type": "string", "enum": Column::AUDIO.iter().map(|c| c.name()).collect::<Vec<_>>() },
                            "points": { "type": "integer", "minimum": 2, "maximum": crate::track::MAX_POINTS, "default": 25,
                                        "description": "values over the range the model saw in training; coded inputs (key, mode, time_signature, explicit) take every code" }
                        },
                        // A song measured from its audio file moves along what was measured only.
                        "anyOf": [
                            { "properties": { "track": learned_given() } },
                            { "properties": { "feature": { "enum": Column::AUDIO.iter().filter(|c| !c.is_learned()).map(|c| c.name()).collect::<Vec<_>>() } } }
                        ] },
                    "example": { "track": example_track(), "feature": "danceability", "points": 25 }
                } }
            },
            "responses": {
                "200": { "description": "the curve, ascending in value; it includes the track's own value", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["feature", "value", "points"],
                    "properties": {
                        "feature": { "type": "string" },
                        "value": { "type": "number", "description": "the track's own value" },
                        "points": { "type": "array", "items": { "type": "object", "required": ["value", "probability", "popularity", "popularity_low", "popularity_high"],
                            "properties": { "value": { "type": "number" }, "probability": { "type": "number" }, "popularity": { "type": "number" },
                                            "popularity_low": { "type": "number" }, "popularity_high": { "type": "number" } } } }
                    } } } } },
                "400": error_response("the body is not JSON"),
                "415": error_response("the body's Content-Type is not application/json"),
                "422": error_response("an invalid track, feature or number of points")
            }
        }
    })
}

/// `POST /api/v1/similar`.
fn similar_path() -> Value {
    json!({
        "post": {
            "summary": "The dataset's tracks nearest in sound to a track, with their real popularity",
            "requestBody": {
                "required": true,
                "content": { "application/json": {
                    "schema": { "type": "object", "additionalProperties": false, "required": ["track"],
                        "properties": {
                            "track": { "$ref": "#/components/schemas/Track" },
                            "k": { "type": "integer", "minimum": 1, "maximum": crate::track::MAX_SIMILAR, "default": 10 },
                            "same_genre": { "type": "boolean", "nullable": true, "default": false, "description": "only tracks sharing one of the track's genres" }
                        } },
                    "example": { "track": example_track(), "k": 5 }
                } }
            },
            "responses": {
                "200": { "description": "nearest first, by distance over the ten continuous audio inputs, each scaled to its spread over the dataset", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["tracks"],
                    "properties": { "tracks": { "type": "array", "items": { "type": "object",
                        "required": ["track_id", "track_name", "artists", "album_name", "track_genre", "popularity", "distance"],
                        "properties": { "track_id": { "type": "string" }, "track_name": { "type": "string" }, "artists": { "type": "string" },
                                        "album_name": { "type": "string" }, "track_genre": { "type": "string" },
                                        "popularity": { "type": "integer", "nullable": true }, "distance": { "type": "number" } } } } }
                    } } } },
                "400": error_response("the body is not JSON"),
                "415": error_response("the body's Content-Type is not application/json"),
                "422": error_response("an invalid track, k or same_genre"),
                "501": error_response("the server has no dataset: it was started without one, or it could not be read"),
                "503": error_response("the dataset is still loading: retry after Retry-After seconds")
            }
        }
    })
}

/// The document's schemas.
fn schemas() -> Value {
    json!({
        "Track": track_schema(),
        "Prediction": prediction_schema(),
        "ScoreExplanation": {
            "type": "object",
            "required": ["method", "base", "score", "contributions"],
            "properties": {
                "method": { "type": "string", "enum": ["tree-shap", "linear-shap", "sampling-shapley"] },
                "base": { "type": "number", "description": "the score of a typical track" },
                "score": { "type": "number", "description": "base + the sum of the contributions: the answer's score" },
                "contributions": { "type": "array", "description": "points of popularity per feature through the score model below the label threshold, and `hit_chance`: what the chance of a popular score adds; largest first", "items": { "$ref": "#/components/schemas/Contribution" } }
            }
        },
        "Explanation": {
            "type": "object",
            "required": ["method", "base", "log_odds", "probability", "contributions"],
            "properties": {
                "method": { "type": "string", "enum": ["tree-shap", "linear-shap", "sampling-shapley"] },
                "base": { "type": "number", "description": "the model's baseline: its average answer in log-odds, where the contributions start" },
                "log_odds": { "type": "number", "description": "base + the sum of the contributions" },
                "probability": { "type": "number" },
                "contributions": { "type": "array", "description": "log-odds per feature, largest first", "items": { "$ref": "#/components/schemas/Contribution" } }
            }
        },
        "Contribution": {
            "type": "object",
            "required": ["feature", "value", "contribution"],
            "properties": {
                "feature": { "type": "string" },
                "value": { "type": "string", "description": "the track's own value (\"not measured\" for an input a song measured from audio lacks)" },
                "read_as": { "type": "number", "description": "present where the model read another value in place of the track's own: a Tukey fence under the capped outlier setup, or the training tracks' median of an input not measured" },
                "contribution": { "type": "number" }
            }
        },
        "Measured": {
            "type": "object",
            "required": ["duration_ms", "loudness", "tempo", "tempo_confidence", "key", "mode", "key_confidence", "time_signature"],
            "properties": {
                "duration_ms": { "type": "number", "description": "length, from the decoded frames" },
                "loudness": { "type": "number", "description": "integrated loudness, LUFS (ITU-R BS.1770 / EBU R128)" },
                "tempo": { "type": "number", "description": "beats per minute" },
                "tempo_confidence": { "type": "number", "minimum": 0, "maximum": 1, "description": "how clearly the onsets repeat at that tempo" },
                "key": { "type": "integer", "minimum": -1, "maximum": 11, "description": "pitch class of the tonic, 0 = C; -1 when no key is found" },
                "mode": { "type": "integer", "enum": [0, 1], "description": "1 major, 0 minor" },
                "key_confidence": { "type": "number", "description": "how far the best key profile's correlation lies above the next best's" },
                "time_signature": { "type": "integer", "enum": [3, 4], "description": "beats a bar; 4 when unsure" }
            }
        },
        "Found": {
            "type": "object",
            "required": ["track_id", "track_name", "artists", "album_name", "genres", "popularity", "features"],
            "properties": {
                "track_id": { "type": "string" }, "track_name": { "type": "string" }, "artists": { "type": "string" },
                "album_name": { "type": "string" },
                "genres": { "type": "array", "items": { "type": "string" } },
                "popularity": { "type": "integer", "nullable": true },
                "features": { "$ref": "#/components/schemas/Track" }
            }
        },
        "FieldError": { "type": "object", "required": ["field", "message"],
            "properties": { "field": { "type": "string" }, "message": { "type": "string" } } },
        "V2Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
        "Readiness": { "type": "object", "required": ["ready"], "properties": { "name": { "type": "string" }, "ready": { "type": "boolean" } } },
        "V2Tensor": {
            "type": "object", "required": ["name", "shape", "datatype"],
            "properties": {
                "name": { "type": "string" },
                "shape": { "type": "array", "items": { "type": "integer" } },
                "datatype": { "type": "string", "enum": ["BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "FP32", "FP64", "BYTES"] },
                "parameters": { "type": "object" },
                "data": { "type": "array" }
            }
        },
        "Error": {
            "type": "object",
            "required": ["error", "errors"],
            "properties": {
                "error": { "type": "string" },
                "errors": { "type": "array", "items": { "type": "object", "required": ["field", "message"],
                    "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numeric_properties_carry_the_input_domain() {
        let doc = document(&Limits::default(), &Options::default());
        let track = &doc["components"]["schemas"]["Track"]["properties"];
        let bounds = |name: &str| {
            let p = &track[name];
            (
                p["minimum"].as_f64().unwrap(),
                p["maximum"].as_f64().unwrap(),
            )
        };
        assert_eq!(bounds("tempo"), (0.0, 300.0));
        assert_eq!(bounds("loudness"), (-60.0, 10.0));
        assert_eq!(bounds("duration_ms"), (0.0, 7_200_000.0));
        assert_eq!(bounds("energy"), (0.0, 1.0));
        assert_eq!(bounds("key"), (-1.0, 11.0));
        assert_eq!(
            track["tempo"]["description"],
            "tempo: a tempo from 0 to 300 BPM"
        );
        let required = &doc["components"]["schemas"]["Track"]["required"];
        for column in Column::AUDIO {
            let p = &track[column.name()];
            // A song measured from audio has none of the learned columns: null or absent.
            assert_eq!(
                p["nullable"] == json!(true),
                column.is_learned(),
                "{column}"
            );
            assert_eq!(
                required.as_array().unwrap().contains(&json!(column.name())),
                !column.is_learned() && column.when_absent() == hitcast::data::Absent::Required,
                "{column}"
            );
            assert_eq!(
                p.get("minimum").is_some(),
                column != Column::Explicit,
                "{column}"
            );
        }
    }

    /// The audio route's `measured` object is described field for field as it is written.
    #[test]
    fn the_measured_schema_lists_what_is_measured() {
        let doc = document(&Limits::default(), &Options::default());
        let schema = &doc["components"]["schemas"]["Measured"];
        let written = serde_json::to_value(hitcast_audio::Measured {
            duration_ms: 1.0,
            loudness: -9.0,
            tempo: 120.0,
            tempo_confidence: 0.5,
            key: 0,
            mode: 1,
            key_confidence: 0.1,
            time_signature: 4,
            format: hitcast_audio::Format {
                rate: 44_100,
                channels: 2,
                frames: 44_100,
                layout: hitcast_audio::decode::Layout::default(),
            },
        })
        .unwrap();
        let mut keys: Vec<_> = written.as_object().unwrap().keys().cloned().collect();
        let mut required: Vec<String> = serde_json::from_value(schema["required"].clone()).unwrap();
        keys.sort();
        required.sort();
        assert_eq!(keys, required);
        let path = &doc["paths"]["/api/v1/predict/audio"]["post"];
        assert!(path["responses"]["415"].is_object());
        assert!(path["requestBody"]["content"]["multipart/form-data"].is_object());
    }
}

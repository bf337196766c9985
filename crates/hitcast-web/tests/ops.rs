//! What operations teams rely on, in-process: the Open Inference Protocol's routes answer as
//! the JSON API does, /metrics counts what happened, keys keep out who has none, a reload
//! swaps a good file in and keeps the old model for a bad one, a full server sheds with 503,
//! and the limits name their flags. The process tests (`crates/hitcast-cli/tests/it/ops.rs`)
//! add signals, draining, and real clients (tritonclient, prometheus_client, schemathesis).

// In a test binary a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use hitcast::predictor::{Predictor, ANSWERS};
use hitcast_web::{router, ApiKey, AppState, Catalogue, LazyCatalogue, Limits, Options, Served};
use serde_json::{json, Value};
use tower::ServiceExt as _;

mod common;
use common::{multipart, send, Answer};

const API_KEY: &str = "api-key-0123456789";
const ADMIN_KEY: &str = "admin-key-0123456789";

fn catalogue() -> LazyCatalogue {
    let (_, tracks) = hitcast::testutil::fixture();
    LazyCatalogue::ready(Catalogue::new(tracks, "00".into()))
}

fn state(limits: Limits) -> AppState {
    let (artifact, _) = hitcast::testutil::fixture();
    AppState::new(Predictor::new(artifact).unwrap(), catalogue(), None, limits).unwrap()
}

fn app_with(state: AppState) -> (Router, Arc<AppState>) {
    let state = Arc::new(state);
    (router(Arc::clone(&state)), state)
}

fn app() -> Router {
    app_with(state(Limits::default())).0
}

/// A server of the model file at `path` that reloads it on `POST /admin/reload` with the admin
/// key.
fn reloadable(path: &Path) -> (Router, Arc<AppState>) {
    let options = Options {
        admin_key: ApiKey::new(ADMIN_KEY),
        ..Options::default()
    };
    let served = Served::load(path).unwrap();
    let state = AppState::from_file(served, path, catalogue(), None, Limits::default())
        .with_options(options);
    app_with(state)
}

/// `POST /admin/reload` with the admin key.
async fn admin_reload(app: &Router) -> Answer {
    let admin = format!("Bearer {ADMIN_KEY}");
    call(
        app,
        Method::POST,
        "/admin/reload",
        &[("authorization", &admin)],
        Vec::new(),
    )
    .await
}

/// The fixture's model written to a file of its own.
fn model_file(name: &str) -> PathBuf {
    // Cargo's folder for integration tests' files, under one name: each run replaces the last's.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-ops");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let (artifact, _) = hitcast::testutil::fixture();
    artifact.save(&path).unwrap();
    path
}

fn track(energy: f64) -> Value {
    json!({
        "track_id": "t1", "artists": "a1", "album_name": "", "track_name": "song 1",
        "track_genre": "a", "duration_ms": 200000, "explicit": false, "danceability": 0.5,
        "energy": energy, "key": 5, "loudness": -7.0, "mode": 1, "speechiness": 0.05,
        "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.5,
        "tempo": 120.0, "time_signature": 4
    })
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

async fn post_json(app: &Router, uri: &str, body: &Value) -> Answer {
    call(
        app,
        Method::POST,
        uri,
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
}

/// The tracks as the protocol's columnar tensors.
fn tensors(tracks: &[Value]) -> Value {
    let n = tracks.len();
    let names = [
        ("track_id", "BYTES"),
        ("artists", "BYTES"),
        ("album_name", "BYTES"),
        ("track_name", "BYTES"),
        ("track_genre", "BYTES"),
        ("duration_ms", "INT64"),
        ("explicit", "BOOL"),
        ("danceability", "FP64"),
        ("energy", "FP64"),
        ("key", "INT64"),
        ("loudness", "FP64"),
        ("mode", "INT64"),
        ("speechiness", "FP64"),
        ("acousticness", "FP64"),
        ("instrumentalness", "FP64"),
        ("liveness", "FP64"),
        ("valence", "FP64"),
        ("tempo", "FP64"),
        ("time_signature", "INT64"),
    ];
    let inputs: Vec<Value> = names
        .iter()
        .map(|(name, datatype)| {
            let data: Vec<Value> = tracks.iter().map(|t| t[*name].clone()).collect();
            json!({ "name": name, "shape": [n], "datatype": datatype, "data": data })
        })
        .collect();
    json!({ "id": "req-1", "inputs": inputs })
}

#[tokio::test]
async fn the_inference_protocol_answers_as_the_json_api_does() {
    let app = app();
    for (path, field) in [
        ("/v2", "extensions"),
        ("/v2/health/live", "live"),
        ("/v2/health/ready", "ready"),
    ] {
        let a = call(&app, Method::GET, path, &[], Vec::new()).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(!a.json()[field].is_null(), "{path}: {}", a.text());
    }
    let meta = call(&app, Method::GET, "/v2/models/hitcast", &[], Vec::new())
        .await
        .json();
    assert_eq!(meta["name"], "hitcast");
    let inputs: Vec<&str> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 19, "{inputs:?}");
    assert!(inputs.contains(&"danceability") && !inputs.contains(&"popularity"));
    let outputs: Vec<&str> = meta["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ANSWERS.map(|a| a.name));
    let version = meta["versions"][0].as_str().unwrap().to_owned();
    let a = call(
        &app,
        Method::GET,
        &format!("/v2/models/hitcast/versions/{version}/ready"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(a.json()["ready"], true);
    let a = call(&app, Method::GET, "/v2/models/other/ready", &[], Vec::new()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        a.json()["error"],
        "no model named \"other\": this server serves \"hitcast\""
    );

    // Three tracks, one a new song (no id): the same numbers as POST /api/v1/predict.
    let mut tracks = vec![track(0.2), track(0.5), track(0.9)];
    tracks[2]["track_id"] = json!("");
    let api = post_json(&app, "/api/v1/predict", &json!({ "tracks": tracks }))
        .await
        .json();
    // tritonclient sends no Content-Type.
    let body = tensors(&tracks).to_string().into_bytes();
    let v2 = call(&app, Method::POST, "/v2/models/hitcast/infer", &[], body).await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text());
    let v2 = v2.json();
    assert_eq!(
        (v2["id"].as_str(), v2["model_version"].as_str()),
        (Some("req-1"), Some(version.as_str()))
    );
    // The same through the versioned routes; another version is not served.
    let versioned = format!("/v2/models/hitcast/versions/{version}");
    let a = call(&app, Method::GET, &versioned, &[], Vec::new()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["name"], "hitcast");
    let body = tensors(&tracks).to_string().into_bytes();
    let a = call(&app, Method::POST, &format!("{versioned}/infer"), &[], body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["outputs"], v2["outputs"]);
    let body = tensors(&tracks).to_string().into_bytes();
    let other = "/v2/models/hitcast/versions/000000000000/infer";
    let a = call(&app, Method::POST, other, &[], body).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    assert_eq!(
        a.json()["error"],
        format!(
            "model \"hitcast\" has no version \"000000000000\": it serves version \"{version}\""
        )
    );
    let column = |name: &str| -> Vec<Value> {
        v2["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["data"]
            .as_array()
            .unwrap()
            .clone()
    };
    for a in ANSWERS {
        let expected: Vec<Value> = api["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[a.json].clone())
            .collect();
        if a.name == "warnings" {
            assert_eq!(column(a.name).len(), 3);
            continue;
        }
        assert_eq!(column(a.name), expected, "{}", a.name);
    }

    // Asked for one output, shaped [N, 1] and nested: that output only.
    let mut request = tensors(&tracks[..1]);
    for input in request["inputs"].as_array_mut().unwrap() {
        input["shape"] = json!([1, 1]);
        input["data"] = json!([input["data"].clone()]);
    }
    request["outputs"] = json!([{ "name": "popularity_probability" }]);
    let one = post_json(&app, "/v2/models/hitcast/infer", &request)
        .await
        .json();
    assert_eq!(one["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(
        one["outputs"][0]["data"][0],
        api["predictions"][0]["probability"]
    );

    // Several genres in one cell, split and spelled as a table's are: the JSON API's list.
    let mut cell = track(0.5);
    cell["track_genre"] = json!("A, b");
    let mut listed = track(0.5);
    listed.as_object_mut().unwrap().remove("track_genre");
    listed["genres"] = json!(["a", "b"]);
    let api_two = post_json(&app, "/api/v1/predict", &json!({ "tracks": [listed] }))
        .await
        .json();
    let v2_two = post_json(&app, "/v2/models/hitcast/infer", &tensors(&[cell]))
        .await
        .json();
    let probability = v2_two["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "popularity_probability")
        .unwrap()["data"][0]
        .clone();
    assert_eq!(probability, api_two["predictions"][0]["probability"]);
    assert_ne!(probability, api["predictions"][1]["probability"]);

    // Errors are the protocol's JSON, never a page, on every route a program calls.
    for (method, path, status) in [
        (
            Method::GET,
            "/v2/models/hitcast/infer",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            "/v2/models/hitcast",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::GET, "/v2/nothing", StatusCode::NOT_FOUND),
        (Method::POST, "/metrics", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let a = call(&app, method, path, &[], Vec::new()).await;
        assert_eq!(a.status, status, "{path}");
        assert!(a.json()["error"].is_string(), "{path}: {}", a.text());
    }

    // The binary tensor extension: energy as little-endian f64s after the JSON.
    let mut request = tensors(&tracks);
    let energy: Vec<u8> = [0.2f64, 0.5, 0.9]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    for input in request["inputs"].as_array_mut().unwrap() {
        if input["name"] == "energy" {
            input.as_object_mut().unwrap().remove("data");
            input["parameters"] = json!({ "binary_data_size": energy.len() });
        }
    }
    let head = request.to_string().into_bytes();
    let length = head.len().to_string();
    let body = [head, energy].concat();
    // Without the JSON's length, the bytes after it read as JSON: the error says what is missing.
    let unsplit = call(
        &app,
        Method::POST,
        "/v2/models/hitcast/infer",
        &[("content-type", "application/octet-stream")],
        body.clone(),
    )
    .await;
    assert_eq!(unsplit.status, StatusCode::BAD_REQUEST);
    assert!(
        unsplit.json()["error"]
            .as_str()
            .unwrap()
            .contains("needs the Inference-Header-Content-Length header"),
        "{}",
        unsplit.text()
    );
    let binary = call(
        &app,
        Method::POST,
        "/v2/models/hitcast/infer",
        &[
            ("content-type", "application/octet-stream"),
            ("inference-header-content-length", &length),
        ],
        body,
    )
    .await;
    assert_eq!(binary.status, StatusCode::OK, "{}", binary.text());
    assert_eq!(binary.json()["outputs"], v2["outputs"]);

    // A datatype hitcast does not read, and fractions declared as integers, are 400s.
    for (datatype, value, said) in [
        ("FOO", json!(0.5), "\"FOO\" is not a datatype hitcast reads"),
        ("INT64", json!(0.5), "row 0: 0.5 is not a value of INT64"),
    ] {
        let mut request = tensors(&tracks[..1]);
        for input in request["inputs"].as_array_mut().unwrap() {
            if input["name"] == "energy" {
                input["datatype"] = json!(datatype);
                input["data"] = json!([value]);
            }
        }
        let a = post_json(&app, "/v2/models/hitcast/infer", &request).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{datatype}");
        assert!(
            a.json()["error"].as_str().unwrap().contains(said),
            "{}",
            a.text()
        );
    }

    // No inputs at all is a 400, not an empty answer.
    let a = post_json(&app, "/v2/models/hitcast/infer", &json!({ "inputs": [] })).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json()["error"].as_str().unwrap().starts_with("no inputs"),
        "{}",
        a.text()
    );

    // A bad value is a 400 naming its input and row.
    let mut bad = tracks.clone();
    bad[1]["energy"] = json!(7.0);
    let a = post_json(&app, "/v2/models/hitcast/infer", &tensors(&bad)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error"],
        "1 of 3 rows are invalid: row 1 energy: expected a number from 0 to 1, got 7.0"
    );
    // An input left out is named once, not in every row's errors.
    let mut no_tempo = tensors(&tracks);
    no_tempo["inputs"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["name"] != "tempo");
    let a = post_json(&app, "/v2/models/hitcast/infer", &no_tempo).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error"],
        "missing input(s) \"tempo\" (required: a tempo from 0 to 300 BPM): give each as a tensor (GET /v2/models/NAME lists the inputs)"
    );
    // A tensor without data is refused, not read as all missing.
    let mut empty = tensors(&tracks[..1]);
    empty["inputs"][0].as_object_mut().unwrap().remove("data");
    let a = post_json(&app, "/v2/models/hitcast/infer", &empty).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error"],
        "input \"track_id\" has no data: give its values as \"data\", or as bytes after the JSON with \"binary_data_size\""
    );
    // Ten errors listed, the rest counted.
    let many: Vec<Value> = (0..12).map(|_| track(7.0)).collect();
    let a = post_json(&app, "/v2/models/hitcast/infer", &tensors(&many)).await;
    let listed: Vec<String> = (0..10)
        .map(|row| format!("row {row} energy: expected a number from 0 to 1, got 7.0"))
        .collect();
    assert_eq!(
        a.json()["error"],
        format!(
            "12 of 12 rows are invalid: {}; and 2 more errors",
            listed.join("; ")
        )
    );
    let a = call(
        &app,
        Method::POST,
        "/v2/models/hitcast/infer",
        &[("content-type", "text/plain")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A compressed body, on any route: 415 saying to send it as it is, not a JSON error.
    for path in ["/v2/models/hitcast/infer", "/api/v1/predict"] {
        let a = call(
            &app,
            Method::POST,
            path,
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            vec![0x1f, 0x8b, 8, 0],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        assert_eq!(a.headers[header::ACCEPT_ENCODING], "identity");
        assert_eq!(
            a.json()["error"],
            "this server reads bodies as sent, not compressed (Content-Encoding: gzip): send the body without Content-Encoding"
        );
    }
    // No body, nothing to decode: a health check with the header passes.
    let a = call(
        &app,
        Method::GET,
        "/healthz",
        &[("content-encoding", "gzip")],
        Vec::new(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // `identity` is no compression.
    let a = call(
        &app,
        Method::POST,
        "/api/v1/predict",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "identity"),
        ],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
}

#[tokio::test]
async fn metrics_count_requests_answers_and_name_the_model() {
    let (app, _) = app_with(state(Limits::default()));
    let a = post_json(
        &app,
        "/api/v1/predict",
        &json!({ "tracks": [track(0.3), track(0.4)] }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = call(&app, Method::GET, "/nowhere/42", &[], Vec::new()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Made-up methods share one label: a client cannot add series.
    for made_up in ["BREW", "X-ANYTHING"] {
        let method = Method::from_bytes(made_up.as_bytes()).unwrap();
        call(&app, method, "/api/v1/predict", &[], Vec::new()).await;
    }
    let m = call(&app, Method::GET, "/metrics", &[], Vec::new()).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = m.text();
    for line in [
        "hitcast_http_requests_total{method=\"POST\",route=\"/api/v1/predict\",status=\"200\"} 1",
        "hitcast_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "hitcast_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/predict\"} 1",
        "hitcast_http_requests_total{method=\"other\",route=\"/api/v1/predict\",status=\"405\"} 2",
        "hitcast_answers_total{model=\"main\"} 2",
        "hitcast_answers_total{model=\"from-audio\"} 0",
        "hitcast_model_reloads_total{result=\"failed\"} 0",
        "hitcast_http_requests_shed_total 0",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(
        text.contains("hitcast_model_info{name=\"hitcast\",sha256=\"\",hitcast_version="),
        "{text}"
    );
    assert!(
        text.contains("# TYPE hitcast_model_trained_timestamp_seconds gauge"),
        "{text}"
    );
    #[cfg(target_os = "linux")]
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "no {name} in\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn keys_open_every_route_but_the_health_checks() {
    let options = Options {
        api_key: ApiKey::new(API_KEY),
        admin_key: ApiKey::new(ADMIN_KEY),
        ..Options::default()
    };
    let (app, _) = app_with(state(Limits::default()).with_options(options));
    let bearer = format!("Bearer {API_KEY}");
    for path in [
        "/",
        "/api/v1/model",
        "/metrics",
        "/v2/models/hitcast",
        "/api/openapi.json",
    ] {
        let a = call(&app, Method::GET, path, &[], Vec::new()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        let said = "this server needs the API key: send it as 'Authorization: Bearer KEY'";
        if path == "/" {
            // A page for a person at a browser, which cannot send the header.
            assert!(
                a.text().contains("<h1>") && a.text().contains("which a browser cannot send"),
                "{}",
                a.text()
            );
            // And no link in it: every page would answer the same.
            let text = a.text();
            let main = &text[text.find("<main id=\"content\">").unwrap_or(0)..];
            assert!(!main.contains("<a "), "{main}");
        } else {
            assert_eq!(a.json()["error"], said, "{path}");
        }
        assert!(a.headers.contains_key(header::WWW_AUTHENTICATE));
        assert!(!a.text().contains(API_KEY));
        let wrong = call(
            &app,
            Method::GET,
            path,
            &[("authorization", "Bearer api-key-0123456780")],
            Vec::new(),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{path}");
        let a = call(
            &app,
            Method::GET,
            path,
            &[("authorization", &bearer)],
            Vec::new(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text());
    }
    for path in [
        "/healthz",
        "/v2/health/live",
        "/v2/health/ready",
        "/assets/app.css",
        "/assets/app.js",
    ] {
        assert_eq!(
            call(&app, Method::GET, path, &[], Vec::new()).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    // A health check's path with a slash is no route, and says so rather than asking for a key.
    assert_eq!(
        call(&app, Method::GET, "/healthz/", &[], Vec::new())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The admin route takes the admin key, not the API key; this model has no file to reload.
    let a = call(
        &app,
        Method::POST,
        "/admin/reload",
        &[("authorization", &bearer)],
        Vec::new(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = admin_reload(&app).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    // The document says so.
    let doc = call(
        &app,
        Method::GET,
        "/api/openapi.json",
        &[("authorization", &bearer)],
        Vec::new(),
    )
    .await
    .json();
    assert_eq!(doc["security"], json!([{ "apiKey": [] }]));
    assert!(doc["paths"]["/api/v1/predict"]["post"]["responses"]["401"].is_object());
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([]));
    assert!(doc["paths"]["/admin/reload"]["post"].is_object());
    // Without an admin key there is no admin route.
    assert_eq!(
        call(
            &app_with(state(Limits::default())).0,
            Method::POST,
            "/admin/reload",
            &[],
            Vec::new()
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_reload_swaps_a_good_file_in_and_keeps_the_old_model_for_a_bad_one() {
    let path = model_file("reload.hitcast");
    let (app, state) = reloadable(&path);
    let first = state.model().sha256.clone();
    assert_eq!(first.len(), 64);
    let before = post_json(&app, "/api/v1/predict", &track(0.5)).await.json();

    // A good file: swapped in, the same answers (the same model), a new load time.
    let loaded = state.model().loaded_unix;
    let a = admin_reload(&app).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["sha256"], first);
    assert!(state.model().loaded_unix >= loaded);

    // A corrupt file: refused with the reason, the old model answers on.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let a = admin_reload(&app).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        a.json()["error"],
        format!(
            "{}: the model file is corrupt: its SHA-256 checksum does not match; the model loaded before keeps answering",
            path.display()
        )
    );
    assert_eq!(state.model().sha256, first);
    assert_eq!(
        post_json(&app, "/api/v1/predict", &track(0.5)).await.json(),
        before
    );
    let text = call(&app, Method::GET, "/metrics", &[], Vec::new())
        .await
        .text();
    assert!(
        text.contains("hitcast_model_reloads_total{result=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("hitcast_model_reloads_total{result=\"failed\"} 1"),
        "{text}"
    );
    assert!(text.contains(&format!("sha256=\"{first}\"")), "{text}");
    // A file gone: the path once, and the system's reason.
    std::fs::remove_file(Path::new(&path)).unwrap();
    let a = admin_reload(&app).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = a.json()["error"].as_str().unwrap().to_owned();
    let shown = path.display().to_string();
    assert_eq!(message.matches(shown.as_str()).count(), 1, "{message}");
    assert!(
        message.contains("cannot read the model file (No such file or directory")
            && message.ends_with("keeps answering"),
        "{message}"
    );
    assert_eq!(state.model().sha256, first);
}

/// Holds one of the server's slots with a request whose body never ends, until the task is
/// aborted.
async fn hold_a_slot(
    app: &Router,
) -> tokio::task::JoinHandle<Result<axum::response::Response, std::convert::Infallible>> {
    let stalled = Request::post("/api/v1/predict")
        .header("content-type", "application/json")
        .body(Body::from_stream(futures_util::stream::pending::<
            Result<Bytes, std::io::Error>,
        >()))
        .unwrap();
    let holder = tokio::spawn(app.clone().oneshot(stalled));
    tokio::task::yield_now().await;
    holder
}

/// What the server logs, kept in memory.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// A burst of shed requests is one warning that names a request, not an ERROR line each (as
/// tower-http's default for a 5xx was): the log stays readable when the server is busiest.
#[tokio::test]
async fn shedding_is_said_once_a_burst_not_logged_a_request() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);
    let (app, _) = app_with(state(Limits {
        concurrency: 1,
        ..Limits::default()
    }));
    let holder = hold_a_slot(&app).await;
    let mut shed = 0;
    for _ in 0..200 {
        let a = post_json(&app, "/api/v1/predict", &track(0.5)).await;
        if a.status == StatusCode::SERVICE_UNAVAILABLE {
            shed += 1;
            if shed == 5 {
                break;
            }
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    holder.abort();
    assert_eq!(shed, 5);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("turning requests away with 503").count(),
        1,
        "{text}"
    );
    assert!(text.contains("request{id="), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
}

#[tokio::test]
async fn a_full_server_sheds_with_503_and_retry_after() {
    let (app, _) = app_with(state(Limits {
        concurrency: 1,
        ..Limits::default()
    }));
    let holder = hold_a_slot(&app).await;
    let mut shed = None;
    for _ in 0..100 {
        let a = post_json(&app, "/api/v1/predict", &track(0.5)).await;
        if a.status == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(a);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let shed = shed.expect("the second request was never shed");
    assert_eq!(shed.headers[header::RETRY_AFTER], "1");
    assert_eq!(
        shed.json()["error"],
        "the server is answering 1 request, its most at once (--max-concurrency): try again in 1 s"
    );
    // Health checks and metrics are never shed.
    assert_eq!(
        call(&app, Method::GET, "/healthz", &[], Vec::new())
            .await
            .status,
        StatusCode::OK
    );
    let text = call(&app, Method::GET, "/metrics", &[], Vec::new())
        .await
        .text();
    assert!(
        text.contains("hitcast_http_requests_shed_total 1"),
        "{text}"
    );
    // In flight: the stalled request and this one.
    assert!(text.contains("hitcast_http_requests_in_flight 2"), "{text}");
    // Its client gives up: the request leaves the gauge and is counted, as a 499.
    holder.abort();
    assert!(holder.await.is_err());
    let text = call(&app, Method::GET, "/metrics", &[], Vec::new())
        .await
        .text();
    assert!(text.contains("hitcast_http_requests_in_flight 1"), "{text}");
    assert!(
        text.contains(
            "hitcast_http_requests_total{method=\"POST\",route=\"/api/v1/predict\",status=\"499\"} 1"
        ),
        "{text}"
    );
}

/// A file upload may take as long as it takes, but one that stops sending is ended after
/// `--timeout` with nothing arriving, and gives back its slot and file permit.
#[tokio::test]
async fn a_stalled_file_upload_is_ended_and_frees_its_slot() {
    let (app, _) = app_with(state(Limits {
        timeout: std::time::Duration::from_secs(1),
        concurrency: 1,
        batch_files: 1,
        ..Limits::default()
    }));
    let (content_type, body) = multipart("mine.csv", b"track_id,artists\n");
    // The part's headers and a first line, then nothing, for ever.
    let head = Bytes::from(body[..body.len() - 40].to_vec());
    let stalling = futures_util::StreamExt::chain(
        futures_util::stream::iter([Ok::<_, std::io::Error>(head)]),
        futures_util::stream::pending(),
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/predict/batch")
        .header(header::CONTENT_TYPE, &content_type)
        .body(Body::from_stream(stalling))
        .unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(20), send(&app, request))
        .await
        .expect("the stalled upload was never ended");
    assert_eq!(
        answer.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        answer.text()
    );
    assert!(
        answer
            .text()
            .contains("the upload stalled: nothing arrived for 1 s (hitcast serve --timeout)"),
        "{}",
        answer.text()
    );
    // Its slot (one in all) and file permit are free again.
    let scored = post_json(&app, "/api/v1/predict", &json!({ "tracks": [track(0.5)] })).await;
    assert_eq!(scored.status, StatusCode::OK, "{}", scored.text());
    let (content_type, body) = multipart("mine.csv", b"");
    let headers = [("content-type", content_type.as_str())];
    let empty = call(&app, Method::POST, "/predict/batch", &headers, body);
    let empty = tokio::time::timeout(std::time::Duration::from_secs(20), empty)
        .await
        .expect("the file permit was not given back");
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text()
    );
}

#[tokio::test]
async fn limits_name_their_flags_and_a_batch_can_skip_bad_tracks() {
    let limits = Limits {
        body_bytes: 4096,
        batch: 5,
        ..Limits::default()
    };
    let (app, _) = app_with(state(limits));
    let big = json!({ "tracks": vec![track(0.5); 20] });
    let a = post_json(&app, "/api/v1/predict", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    let said = "the request body is over this server's limit of 4096 bytes (--body-limit): it \
                holds about 2 tracks at up to 1600 bytes a track; send fewer tracks a request \
                (--max-batch allows 5)";
    assert_eq!(a.json()["error"], said);
    // The protocol's route and the form get the same sentence.
    let a = call(
        &app,
        Method::POST,
        "/v2/models/hitcast/infer",
        &[],
        big.to_string().into_bytes(),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["error"], said);

    let mut bad = track(7.0);
    bad["track_id"] = json!("bad-one");
    let body = json!({ "tracks": [track(0.5), bad, track(0.6)], "on_error": "skip" });
    let a = post_json(&app, "/api/v1/predict", &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let answer = a.json();
    assert_eq!(answer["failed"], 1);
    let p = answer["predictions"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    assert!(p[0]["probability"].is_number() && p[2]["probability"].is_number());
    assert_eq!(p[1]["index"], 1);
    assert_eq!(p[1]["track_id"], "bad-one");
    assert_eq!(p[1]["errors"][0]["field"], "tracks[1].energy");
    // Without skip the same batch is refused whole.
    let body = json!({ "tracks": [track(0.5), track(7.0)] });
    assert_eq!(
        post_json(&app, "/api/v1/predict", &body).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    assert!(Limits::default().disagreements().is_empty());
    let tight = Limits {
        body_bytes: 1 << 20,
        ..Limits::default()
    };
    let said = tight.disagreements();
    assert_eq!(said.len(), 1);
    assert_eq!(
        said[0],
        "--body-limit 1048576 holds about 655 tracks at 1600 bytes a track, fewer than --max-batch 10000: larger batches get a 413; raise --body-limit to at least 16000000"
    );
}

/// Found by schemathesis: a what-if along a learned column of a song measured from audio (its
/// learned columns absent) was a 500; it is the caller's choice of feature, a 422.
#[tokio::test]
async fn a_what_if_along_a_quality_a_measured_song_lacks_is_refused() {
    let app = app();
    let mut measured = track(0.5);
    for c in [
        "danceability",
        "energy",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
    ] {
        measured.as_object_mut().unwrap().remove(c);
    }
    let a = post_json(
        &app,
        "/api/v1/what-if",
        &json!({ "track": measured, "feature": "danceability" }),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    assert_eq!(
        a.json()["errors"][0]["message"],
        "the track has no danceability (a song measured from its audio file): pick a measured feature (duration_ms, loudness, tempo, key, mode, time_signature)"
    );
    // This model has no from-audio companion: a measured song is the caller's to fix, a 422,
    // also when the batch is to be adapted to its own base rate.
    let a = post_json(&app, "/api/v1/predict", &measured).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let no_model = json!({
        "error": "this model has no from-audio model to answer a song measured from audio \
                  (\"song 1\"): its danceability, energy and the other learned columns are \
                  empty. Give them, or train the model again with hitcast train, which \
                  saves a from-audio model in its file",
        "errors": []
    });
    assert_eq!(a.json(), no_model);
    let adapted = json!({ "tracks": [measured], "adapt_prior": true });
    let a = post_json(&app, "/api/v1/predict", &adapted).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    assert_eq!(a.json(), no_model);
    let tempo = json!({ "track": measured, "feature": "tempo", "points": 3 });
    let a = post_json(&app, "/api/v1/what-if", &tempo).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
}

/// The API docs page's example answers are the server's own, computed once per model, and they
/// are not clients' requests: behind a key they are still answers, not 401s, and /metrics does
/// not count them.
#[tokio::test]
async fn the_docs_page_examples_are_neither_keyed_nor_counted() {
    let options = Options {
        api_key: ApiKey::new(API_KEY),
        ..Options::default()
    };
    let (app, _) = app_with(state(Limits::default()).with_options(options));
    let bearer = format!("Bearer {API_KEY}");
    for _ in 0..2 {
        let a = call(
            &app,
            Method::GET,
            "/api/docs",
            &[("authorization", &bearer)],
            Vec::new(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let page = a.text();
        assert!(
            page.contains("&quot;probability&quot;") || page.contains("\"probability\""),
            "no example answer"
        );
        assert!(
            !page.contains("this server needs the API key"),
            "an example was refused"
        );
    }
    let text = call(
        &app,
        Method::GET,
        "/metrics",
        &[("authorization", &bearer)],
        Vec::new(),
    )
    .await
    .text();
    assert!(!text.contains("route=\"/api/v1/predict\""), "{text}");
    assert!(
        text.contains("route=\"/api/docs\",status=\"200\"} 2"),
        "{text}"
    );
}

#[tokio::test]
async fn after_a_reload_to_a_model_of_another_file_the_page_says_so() {
    const CAVEAT: &str = "These real tracks come from another catalogue";
    let path = model_file("caveat.hitcast");
    let (app, _) = reloadable(&path);
    // The catalogue is the file the model was trained on: no caveat.
    let page = call(&app, Method::GET, "/predict", &[], Vec::new())
        .await
        .text();
    assert!(!page.contains(CAVEAT), "{page}");

    // The same model, as if trained on another file.
    let (mut artifact, _) = hitcast::testutil::fixture();
    artifact.metadata.data_sha256 = "ff".into();
    artifact.save(&path).unwrap();
    let a = admin_reload(&app).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let page = call(&app, Method::GET, "/predict", &[], Vec::new())
        .await
        .text();
    assert!(page.contains(CAVEAT), "{page}");
    let _ = std::fs::remove_file(Path::new(&path));
}

/// A body over --body-limit is a 413 that says how many tracks such a body holds, at
/// `TRACK_BYTES` (1,600) a track as the start-up warning counts them: 16,000 / 1,600 = 10.
#[tokio::test]
async fn a_413_says_how_many_tracks_the_body_limit_holds() {
    let limits = Limits {
        body_bytes: 16_000,
        batch: 500,
        ..Limits::default()
    };
    assert_eq!(limits.tracks_in_body(), 10);
    let (app, _) = app_with(state(limits));
    let said = "the request body is over this server's limit of 16000 bytes (--body-limit): it \
                holds about 10 tracks at up to 1600 bytes a track; send fewer tracks a request \
                (--max-batch allows 500)";
    // A hundred tracks, about 40 kB.
    let big = json!({ "tracks": vec![track(0.5); 100] });
    let a = post_json(&app, "/api/v1/predict", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["error"], said);
    // The protocol's route: axum's plain-text 413, given the same sentence.
    let body = big.to_string().into_bytes();
    let a = call(&app, Method::POST, "/v2/models/hitcast/infer", &[], body).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["error"], said);
}

/// A /v2 request for a model this server does not serve is a 404 naming the one it serves, by
/// the name it was given (`hitcast serve --model-name`): on the model's routes, and on a path
/// under /v2 that is no route at all.
#[tokio::test]
async fn a_v2_request_for_another_model_names_the_served_one() {
    let options = Options {
        model_name: "charts".to_owned(),
        ..Options::default()
    };
    let (app, _) = app_with(state(Limits::default()).with_options(options));
    let not_served = "no model named \"hitcast\": this server serves \"charts\"";
    for (path, said) in [
        ("/v2/models/hitcast", not_served),
        ("/v2/models/hitcast/ready", not_served),
        (
            "/v2/models/hitcast/stats",
            "no endpoint at /v2/models/hitcast/stats: GET /v2 and /v2/models/charts describe \
             the Open Inference routes",
        ),
    ] {
        let a = call(&app, Method::GET, path, &[], Vec::new()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.json()["error"], said, "{path}");
    }
}

/// A file's streamed download holds no request slot while it waits on the client (its batch
/// permit bounds those): with one slot, a request is answered while a download sits unread.
#[tokio::test]
async fn an_unread_download_holds_no_request_slot() {
    use std::fmt::Write as _;

    let (app, _) = app_with(state(Limits {
        concurrency: 1,
        ..Limits::default()
    }));
    // Four batches of answers at 4,096 rows a batch (`batch::BATCH_ROWS`): the channel to the
    // client holds two, so the scoring waits at the third for as long as nobody reads.
    let rows = 4 * 4096;
    let mut csv = String::from(
        "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre\n",
    );
    for i in 0..rows {
        writeln!(
            csv,
            "x{i},a1,,song {i},,200000,False,0.5,0.5,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a"
        )
        .unwrap();
    }
    let (kind, body) = multipart("many.csv", csv.as_bytes());
    let request = Request::post("/predict/batch")
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .unwrap();
    // The download has begun; its body is not read.
    let download = app.clone().oneshot(request).await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let a = post_json(&app, "/api/v1/predict", &track(0.5)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Read now, the download is whole: the header and a line a track.
    let answers = axum::body::to_bytes(download.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&answers).lines().count(), rows + 1);
}

#[tokio::test]
async fn search_without_a_dataset_says_to_give_one_and_while_it_loads_to_retry() {
    let with = |catalogue: LazyCatalogue| {
        let (artifact, _) = hitcast::testutil::fixture();
        let state = AppState::new(
            Predictor::new(artifact).unwrap(),
            catalogue,
            None,
            Limits::default(),
        )
        .unwrap();
        app_with(state).0
    };
    let absent = call(
        &with(LazyCatalogue::absent()),
        Method::GET,
        "/api/v1/tracks?q=comedy",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(absent.status, StatusCode::NOT_IMPLEMENTED);
    assert!(
        absent.json()["error"]
            .as_str()
            .unwrap()
            .contains("--data FILE"),
        "{}",
        absent.text()
    );
    assert!(!absent.headers.contains_key(header::RETRY_AFTER));
    // The health check is live whatever the dataset's state, and says it.
    let health = |app: &Router| {
        let app = app.clone();
        async move {
            let a = call(&app, Method::GET, "/healthz", &[], Vec::new()).await;
            assert_eq!(a.status, StatusCode::OK);
            a.json()
        }
    };
    assert_eq!(
        health(&with(LazyCatalogue::absent())).await,
        json!({"status": "ok", "catalogue": "none"})
    );
    assert_eq!(
        health(&app()).await,
        json!({"status": "ok", "catalogue": "ready", "catalogue_tracks": 200})
    );
    let failed = with(LazyCatalogue::spawn(|| Err("no such file".into())));
    // The load fails on its own thread at once.
    let mut answered = None;
    for _ in 0..500 {
        let a = call(
            &failed,
            Method::GET,
            "/api/v1/tracks?q=comedy",
            &[],
            Vec::new(),
        )
        .await;
        if a.status != StatusCode::SERVICE_UNAVAILABLE {
            answered = Some(a);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let a = answered.expect("still loading after 5 s");
    assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        health(&failed).await,
        json!({"status": "ok", "catalogue": "failed", "catalogue_error": "no such file"})
    );
    assert!(
        a.json()["error"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{}",
        a.text()
    );
    let (hold, wait) = std::sync::mpsc::channel::<()>();
    let loading = with(LazyCatalogue::spawn(move || {
        let _ = wait.recv();
        Err("stopped".into())
    }));
    let a = call(
        &loading,
        Method::GET,
        "/api/v1/tracks?q=comedy",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.headers[header::RETRY_AFTER], "5");
    assert_eq!(
        a.json()["error"],
        "the dataset is still loading: try again in 5 s"
    );
    assert_eq!(health(&loading).await["catalogue"], "loading");
    drop(hold);
}

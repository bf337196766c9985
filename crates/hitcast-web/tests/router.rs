//! The router in-process (`tower::ServiceExt::oneshot`, no socket): every route with its
//! success and its refusals, over the core's small trained model and its 200-track table. The
//! process tests in `crates/hitcast-cli/tests/it/serve/` run the real server on the real
//! model; these pin each route's status, content type and body shape in milliseconds.

// In a test binary a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use hitcast::data::Column;
use hitcast::predictor::Predictor;
use hitcast_web::{router, AppState, Catalogue, LazyCatalogue, Limits};
use serde_json::{json, Value};
use tower::ServiceExt as _;

mod common;
use common::{multipart, send, Answer};

fn app() -> Router {
    app_with(Limits {
        body_bytes: 16 << 10,
        ..Limits::default()
    })
}

/// The router over the fixture's model and table, with `limits`.
fn app_with(limits: Limits) -> Router {
    let (artifact, tracks) = hitcast::testutil::fixture();
    let predictor = Predictor::new(artifact).unwrap();
    let catalogue = LazyCatalogue::ready(Catalogue::new(tracks, "00".into()));
    router(Arc::new(
        AppState::new(predictor, catalogue, None, limits).unwrap(),
    ))
}

/// A track the fixture's model takes: genre "a", every audio column in its range.
fn track() -> Value {
    json!({
        "artists": "a1", "album_name": "", "track_name": "song 1", "track_genre": "a",
        "duration_ms": 200000, "explicit": false, "danceability": 0.5, "energy": 0.5, "key": 5,
        "loudness": -7.0, "mode": 1, "speechiness": 0.05, "acousticness": 0.2,
        "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.5, "tempo": 120.0,
        "time_signature": 4
    })
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

async fn get(app: &Router, uri: &str) -> Answer {
    call(app, Method::GET, uri, "", Vec::new()).await
}

/// One element of `page`, to compare whole: from the first `open` to the end of the first
/// `close` after it.
fn element<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {page}"));
    let end = page[start..]
        .find(close)
        .unwrap_or_else(|| panic!("no {close} after {open} in {page}"));
    &page[start..start + end + close.len()]
}

/// A page's `<main>`: what it says, without the chrome around it.
fn main_of(page: &str) -> &str {
    element(page, "<main id=\"content\">", "</main>")
}

/// The result panel of a track the model could not take (invalid values, or a scoring error).
fn invalid_panel(page: &str) -> &str {
    element(page, "<section class=\"result invalid\">", "</section>")
}

/// The message above the form for an audio file that was not measured.
fn audio_error(page: &str) -> &str {
    element(page, "<p class=\"notice\" id=\"audio-error\"", "</p>")
}

async fn post_json(app: &Router, uri: &str, body: &Value) -> Answer {
    call(
        app,
        Method::POST,
        uri,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

#[tokio::test]
async fn every_page_and_asset_answers_with_its_type() {
    let app = app();
    for (uri, kind) in [
        ("/", "text/html"),
        ("/predict", "text/html"),
        ("/predict?q=song+1", "text/html"),
        ("/compare", "text/html"),
        ("/api/docs", "text/html"),
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
    ] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
        assert!(
            a.content_type().starts_with(kind),
            "{uri}: {}",
            a.content_type()
        );
        if uri == "/api/docs" {
            // The document's `names` read as code, not as backticks.
            let page = a.text();
            assert!(!page.contains('`'), "{page}");
            assert!(
                page.contains("(repeat the field; <code>genre</code> and <code>track_genre</code> are read too)"),
                "{page}"
            );
        }
    }
    // Without a report, Explore and Models say how to get one.
    for uri in ["/explore", "/models"] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(
            element(&a.text(), "<p class=\"notice\">", "</p>"),
            "<p class=\"notice\">No report was given. Write one with <code>hitcast report --experiment DIR --model MODEL --out REPORT</code> and start the server with <code>--report REPORT</code>.</p>",
            "{uri}"
        );
    }
    let a = get(&app, "/nowhere").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.content_type().starts_with("text/html"));
    assert_eq!(
        main_of(&a.text()),
        "<main id=\"content\"><h1>Not found</h1><p>There is no page at <code>/nowhere</code>. <a href=\"/\">Back to the start</a>.</p></main>"
    );
}

#[tokio::test]
async fn the_form_answers_and_names_its_bad_fields() {
    let app = app();
    let form = |pairs: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    };
    let t = track();
    let mut pairs: Vec<(String, String)> = t
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = if k == "track_genre" {
                "genres".to_owned()
            } else {
                k.clone()
            };
            (name, text)
        })
        .filter(|(k, _)| k != "duration_ms")
        .collect();
    // The form takes a length in minutes and seconds.
    pairs.extend([
        ("duration_min".to_owned(), "3".to_owned()),
        ("duration_sec".to_owned(), "20".to_owned()),
    ]);
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let form_type = "application/x-www-form-urlencoded";
    let a = call(&app, Method::POST, "/predict", form_type, form(&borrowed)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().contains("chance"), "{}", a.text());
    let a = call(
        &app,
        Method::POST,
        "/predict/result",
        form_type,
        form(&borrowed),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // A value out of its range: 422, the field named on the page.
    for (k, v) in &mut pairs {
        if k == "danceability" {
            *v = "2".to_owned();
        }
    }
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a = call(&app, Method::POST, "/predict", form_type, form(&borrowed)).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid_panel(&a.text()),
        "<section class=\"result invalid\"><div class=\"summary-bar\" aria-hidden=\"true\">Some values need fixing: Danceability</div><h2>Some values need fixing</h2><ul><li data-field=\"danceability\" data-message=\"expected a number from 0 to 1, got &quot;2&quot;\"><b>Danceability</b>: expected a number from 0 to 1, got &quot;2&quot;</li></ul></section>"
    );
}

#[tokio::test]
async fn the_api_scores_explains_and_lists() {
    let app = app();
    let a = post_json(&app, "/api/v1/predict?explain=true", &track()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let p = a.json();
    let chance = p["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&chance), "{p}");
    assert!(p["explanation"].is_object(), "{p}");
    let batch = json!({ "tracks": [track(), track()] });
    let a = post_json(&app, "/api/v1/predict?explain=false", &batch).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let answers = a.json()["predictions"].as_array().unwrap().clone();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["probability"].as_f64(), Some(chance));

    let a = get(&app, "/api/v1/model").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json().is_object());
    let a = get(&app, "/api/v1/tracks?q=song+12").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().contains("song 12"), "{}", a.text());
    // Every field's problem at once; a misspelt parameter is one.
    let a = get(&app, "/api/v1/tracks?q=+&limit=0&lmit=3").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let body = a.json();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["q", "limit", "lmit"], "{}", a.text());

    let what_if = json!({ "track": track(), "feature": "danceability", "points": 5 });
    let a = post_json(&app, "/api/v1/what-if", &what_if).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Five points along the range, and the track's own value.
    let values: Vec<f64> = a.json()["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [0.0, 0.225, 0.45, 0.5, 0.675, 0.9], "{}", a.text());
    let a = post_json(
        &app,
        "/api/v1/similar",
        &json!({ "track": track(), "k": 3 }),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        a.json()["tracks"].as_array().map(Vec::len),
        Some(3),
        "{}",
        a.text()
    );

    let a = get(&app, "/api/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json()["openapi"].as_str().unwrap().starts_with("3."));
    let a = get(&app, "/healthz").await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn the_api_refuses_with_a_json_sentence() {
    let app = app();
    let refused = |a: &Answer, status: StatusCode, message: &str| {
        assert_eq!(a.status, status, "{}", a.text());
        assert!(
            a.content_type().starts_with("application/json"),
            "{}",
            a.content_type()
        );
        let error = a.json()["error"].as_str().unwrap_or_default().to_owned();
        assert_eq!(error, message);
    };
    // A value out of its range: 422 naming the field.
    let mut bad = track();
    bad["danceability"] = json!(2.0);
    let a = post_json(&app, "/api/v1/predict", &bad).await;
    refused(&a, StatusCode::UNPROCESSABLE_ENTITY, "1 invalid field(s)");
    assert_eq!(
        a.json()["errors"][0]["field"],
        "danceability",
        "{}",
        a.text()
    );
    // Not JSON: 415.
    let body = track().to_string().into_bytes();
    let a = call(&app, Method::POST, "/api/v1/predict", "text/plain", body).await;
    refused(
        &a,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type \"text/plain\" is not JSON: send the body as application/json (curl: -H 'Content-Type: application/json', or --json)",
    );
    // Over the body limit: 413.
    let big = json!({ "tracks": vec![track(); 100] });
    let a = post_json(&app, "/api/v1/predict", &big).await;
    refused(
        &a,
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is over this server's limit of 16384 bytes (--body-limit): it holds about 10 tracks at up to 1600 bytes a track; send fewer tracks a request (--max-batch allows 10000)",
    );
    // A method the route does not take: 405 with Allow.
    let a = get(&app, "/api/v1/predict").await;
    refused(
        &a,
        StatusCode::METHOD_NOT_ALLOWED,
        "/api/v1/predict does not take GET; it takes POST",
    );
    assert_eq!(a.headers[header::ALLOW], "POST");
    // A page says it too, with the request's id kept on the page that replaced axum's answer.
    let a = get(&app, "/predict/result").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        main_of(&a.text()),
        "<main id=\"content\"><h1>Not a request this address takes</h1><p>/predict/result does not take GET; it takes POST. <a href=\"/\">Back to the start</a>.</p></main>"
    );
    assert_eq!(a.headers[header::ALLOW], "POST");
    assert!(a.headers.contains_key("x-request-id"));
    // Not audio: 415.
    let a = call(
        &app,
        Method::POST,
        "/api/v1/predict/audio",
        "text/plain",
        b"hello".to_vec(),
    )
    .await;
    refused(
        &a,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type \"text/plain\" is not audio: send the file (WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)) as the body with an audio/... or application/octet-stream type, or as multipart/form-data with a part named file",
    );
    // No such route.
    let a = get(&app, "/api/v1/nothing").await;
    refused(
        &a,
        StatusCode::NOT_FOUND,
        "no endpoint at /api/v1/nothing: see /api/openapi.json",
    );
}

/// An upload that stops, or that trickles a byte now and then, is ended with a 408 rather
/// than holding its request slot for good (the route is outside the request timeout).
#[tokio::test]
async fn a_stalled_or_trickling_upload_is_ended_with_a_408() {
    use axum::body::Bytes;
    use futures_util::StreamExt as _;
    use std::time::Duration;
    let app = app_with(Limits {
        timeout: Duration::from_secs(1),
        ..Limits::default()
    });
    let head = Bytes::from(
        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.csv\"\r\n\
         Content-Type: text/csv\r\n\r\ntrack_id",
    );
    let upload = |body: Body| {
        Request::builder()
            .method(Method::POST)
            .uri("/predict/batch")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
            .body(body)
            .unwrap()
    };
    let first = || futures_util::stream::iter([Ok::<_, std::io::Error>(head.clone())]);
    let stalled = first().chain(futures_util::stream::pending());
    // Bounded, so that a server that never ends them fails the test rather than hangs it.
    let ended = |request| async {
        tokio::time::timeout(Duration::from_secs(20), send(&app, request))
            .await
            .expect("the upload was never ended")
    };
    let a = ended(upload(Body::from_stream(stalled))).await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT, "{}", a.text());
    assert!(
        a.text()
            .contains("the upload stalled: nothing arrived for 1 s"),
        "{}",
        a.text()
    );
    // A byte every 200 ms, for ever: under 1 KB a second.
    let trickle = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Some((Ok(Bytes::from_static(b",")), ()))
    });
    let a = ended(upload(Body::from_stream(first().chain(trickle)))).await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT, "{}", a.text());
    assert!(
        a.text().contains(
            "the upload was too slow: it fell 1 s behind 1 KB a second, the slowest the server takes (hitcast serve --timeout)"
        ),
        "{}",
        a.text()
    );
    // A pause short of the stall, then the rest at speed: taken.
    let csv = b",artists,album_name,track_name,duration_ms,explicit,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre\nx1,a1,,song 1,200000,False,0.5,0.5,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a\n\r\n--b--\r\n";
    let paused = futures_util::stream::unfold(0, move |step| async move {
        let chunk: &'static [u8] = match step {
            0 => {
                tokio::time::sleep(Duration::from_millis(700)).await;
                &csv[..1]
            }
            1 => &csv[1..],
            _ => return None,
        };
        Some((Ok(Bytes::from_static(chunk)), step + 1))
    });
    let a = ended(upload(Body::from_stream(first().chain(paused)))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test]
async fn a_file_of_tracks_comes_back_as_a_csv() {
    let app = app();
    let header_line = "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre";
    let csv = format!(
        "{header_line}\nx1,a1,,song 1,,200000,False,0.5,0.5,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a\n"
    );
    let boundary = "hitcastboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"mine.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let a = call(
        &app,
        Method::POST,
        "/predict/batch",
        &format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.content_type().starts_with("text/csv"));
    assert!(a.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("mine.predictions.csv"));
    assert_eq!(a.text().lines().count(), 2, "{}", a.text());
    // A song measured from audio (its learned columns empty) that this model file, without a
    // from-audio model, cannot answer: refused before the download begins, naming its line.
    let measured = format!("{csv}x2,a2,,song 2,,200000,False,,,5,-7,1,,,,,,120,4,a\n");
    let (kind, body) = multipart("mine.csv", measured.as_bytes());
    let a = call(&app, Method::POST, "/predict/batch", &kind, body).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    // The upload is the page's: the refusal is a page.
    assert_eq!(
        main_of(&a.text()),
        "<main id=\"content\"><h1>This cannot be answered</h1><p>mine.csv:3: this model has no from-audio model to answer a song measured from audio (&quot;song 2&quot;): its danceability, energy and the other learned columns are empty. Give them, or train the model again with hitcast train, which saves a from-audio model in its file. <a href=\"/predict\">Back to the Predict page</a>.</p></main>"
    ); // Several bad rows: how many, and the first five, so one upload shows what to mend.
    let mut many = csv.clone();
    for i in 0..7 {
        many.push_str(&format!(
            "x{i},a,,s,,200000,False,0.5,7,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a\n"
        ));
    }
    let (kind, body) = multipart("mine.csv", many.as_bytes());
    let a = call(&app, Method::POST, "/predict/batch", &kind, body).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let page = a.text();
    let said = main_of(&page);
    // The headline, then one row an item, then the way back.
    assert!(
        said.contains("<p>7 rows cannot be scored (the first 5 listed):</p><ul><li>mine.csv:3:"),
        "{said}"
    );
    assert_eq!(said.matches("<li>").count(), 5, "{said}");
    assert_eq!(
        said.matches("column &quot;energy&quot;").count(),
        5,
        "{said}"
    );
    assert!(
        said.ends_with("</ul><p><a href=\"/predict\">Back to the Predict page</a>.</p></main>"),
        "{said}"
    );
    // A quote left open after two bad rows: the file cannot be read on, and the page lists the
    // two rows, then where reading stopped.
    let bad = "x0,a,,s,,200000,False,0.5,7,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a\n";
    let open = "y,\"a,,s,,200000,False,0.5,0.5,5,-7,1,0.05,0.2,0,0.1,0.5,120,4,a\n";
    let text = format!("{csv}{bad}{bad}{open}{bad}{bad}");
    let (kind, body) = multipart("mine.csv", text.as_bytes());
    let a = call(&app, Method::POST, "/predict/batch", &kind, body).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let page = a.text();
    let said = main_of(&page);
    assert!(
        said.contains("<p>2 rows cannot be scored:</p><ul><li>mine.csv:3:9:"),
        "{said}"
    );
    assert!(
        said.contains("<li>and reading stopped: mine.csv:5: expected 20 fields"),
        "{said}"
    );
    assert!(said.contains("is a quote left open?"), "{said}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = app();
    let a = get(&app, "/healthz").await;
    let first = a.headers["x-request-id"].to_str().unwrap().to_owned();
    let b = get(&app, "/nowhere").await;
    assert_ne!(b.headers["x-request-id"].to_str().unwrap(), first);
    // A client's own id is kept, so a request can be followed across services.
    let request = Request::get("/healthz")
        .header("x-request-id", "proxy-7")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "proxy-7");
}

/// `seconds` of a 440 Hz sine as a mono 16-bit WAV at 8 kHz.
fn sine_wav(seconds: u32) -> Vec<u8> {
    let rate = 8_000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|i| {
            let t = f64::from(i) / f64::from(rate);
            ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8_000.0) as i16
        })
        .collect();
    let data_len = samples.len() as u32 * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

#[tokio::test]
async fn the_page_s_audio_upload_measures_a_song_or_says_why_not() {
    let app = app();
    // Not audio: the Predict page again, with the form and the reason, as 415.
    let (kind, body) = multipart("song.mp3", b"these bytes are not audio");
    let a = call(&app, Method::POST, "/predict/audio", &kind, body).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", a.text());
    assert!(a.content_type().starts_with("text/html"));
    let page = a.text();
    assert!(page.contains("id=\"track-form\""), "{page}");
    assert_eq!(
        audio_error(&page),
        "<p class=\"notice\" id=\"audio-error\" role=\"alert\">song.mp3: not an audio file hitcast can read; hitcast reads WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)</p>"
    );
    // No answer beside it: the form's would read as the file's.
    assert_eq!(
        invalid_panel(&page),
        "<section class=\"result invalid\"><h2>This file could not be measured</h2><p>song.mp3: not an audio file hitcast can read; hitcast reads WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)</p><p>The form keeps the values it had: press Predict, or change one, for their answer.</p></section>"
    );
    assert!(!page.contains("id=\"probability\""), "{page}");

    // Too short a song: measured, then refused with the rule, as 422.
    let (kind, body) = multipart("short.wav", &sine_wav(2));
    let a = call(&app, Method::POST, "/predict/audio", &kind, body).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let page = a.text();
    assert_eq!(
        audio_error(&page),
        "<p class=\"notice\" id=\"audio-error\" role=\"alert\">short.wav: it lasts 2.0 s: at least 5 s are needed to measure a tempo</p>"
    );
    // Sent without the page's form (as curl sends a file), the form shown is the typical
    // track's, not a song measured from nothing.
    assert!(!page.contains("Measured from"), "{page}");
    assert!(page.contains("name=\"danceability\""), "{page}");
    assert!(!page.contains("not measured"), "{page}");

    // A six-second song: measured, its duration and tempo in the form, marked as measured.
    let (kind, body) = multipart("six.wav", &sine_wav(6));
    let a = call(&app, Method::POST, "/predict/audio", &kind, body).await;
    let page = a.text();
    assert!(
        page.contains("name=\"measured_from\""),
        "{}: {page}",
        a.status
    );
    assert!(page.contains("six.wav"), "{page}");
    assert!(
        page.contains("name=\"duration_sec\" min=\"0\" max=\"59.999\" step=\"any\" value=\"6\""),
        "{page}"
    );
    // The fixture's model has no from-audio model: the page says so, without an empty name.
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid_panel(&page),
        "<section class=\"result invalid\"><h2>The model could not score this track</h2><p>this model has no from-audio model to answer a song measured from audio: its danceability, energy and the other learned columns are empty. Give them, or train the model again with hitcast train, which saves a from-audio model in its file</p></section>"
    );
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_408_with_a_sentence() {
    let app = app_with(Limits {
        timeout: std::time::Duration::from_millis(50),
        ..Limits::default()
    });
    // A body that never comes.
    let never = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/predict")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(never))
        .unwrap();
    let a = send(&app, request).await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        a.json()["error"],
        "the request took longer than the server's limit of 0.05 s (--timeout): send fewer \
         tracks a request, or ask the server's operator to raise --timeout"
    );
    // `Allow` goes with a 405 only (RFC 9110 §10.2.1): the filled 408 keeps its own headers and
    // gains none (an `Allow` once came with it, from the route's OpenAPI entry).
    assert_eq!(a.headers.get(header::ALLOW), None);
}

/// The form reads `NA` or `NaN` in a learned field as no value, the rule a file's cell follows:
/// the answer is the one to the field left empty, not an error about the text.
#[tokio::test]
async fn the_form_reads_na_in_a_learned_field_as_no_value() {
    /// The form as the page posts it: `danceability` in that field, `others` in the six other
    /// learned fields.
    fn form(danceability: &str, others: &str) -> Vec<u8> {
        let mut pairs = vec![
            ("track_name", "song 1"),
            ("artists", "a1"),
            ("genres", "a"),
            ("duration_min", "3"),
            ("duration_sec", "20"),
            ("key", "5"),
            ("loudness", "-7"),
            ("mode", "1"),
            ("tempo", "120"),
            ("time_signature", "4"),
            ("danceability", danceability),
        ];
        for column in &Column::LEARNED[1..] {
            pairs.push((column.name(), others));
        }
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish()
            .into_bytes()
    }
    /// `POST /predict/result` (the page's live answer) of `body`: its status and panel.
    async fn result(app: &Router, body: Vec<u8>) -> (StatusCode, String) {
        let form_type = "application/x-www-form-urlencoded";
        let a = call(app, Method::POST, "/predict/result", form_type, body).await;
        (a.status, a.text())
    }
    let app = app();

    // Danceability alone without a value: the others are given, so it is missing.
    let empty = result(&app, form("", "0.5")).await;
    assert_eq!(
        empty,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "<section class=\"result invalid\"><div class=\"summary-bar\" aria-hidden=\"true\">Some values need fixing: Danceability</div><h2>Some values need fixing</h2><ul><li data-field=\"danceability\" data-message=\"required: a number from 0 to 1; or leave out all seven learned columns (danceability, energy, speechiness, acousticness, instrumentalness, liveness, valence) for a song measured from its audio file\"><b>Danceability</b>: required: a number from 0 to 1; or leave out all seven learned columns (danceability, energy, speechiness, acousticness, instrumentalness, liveness, valence) for a song measured from its audio file</li></ul></section>".to_owned()
        )
    );
    for na in ["NA", "NaN"] {
        assert_eq!(result(&app, form(na, "0.5")).await, empty, "{na}");
    }

    // All seven without a value: a song measured from audio, which this model file (without a
    // from-audio model) cannot answer.
    let empty = result(&app, form("", "")).await;
    assert_eq!(
        empty,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "<section class=\"result invalid\"><h2>The model could not score this track</h2><p>this model has no from-audio model to answer a song measured from audio (&quot;song 1&quot;): its danceability, energy and the other learned columns are empty. Give them, or train the model again with hitcast train, which saves a from-audio model in its file</p></section>".to_owned()
        )
    );
    assert_eq!(result(&app, form("NA", "NA")).await, empty);
}

/// The Models page says so when its report's model card is another model's (another
/// `--report`, or the model reloaded since), rather than passing it off as the served one's.
#[tokio::test]
async fn a_report_of_another_model_says_so() {
    let (artifact, tracks) = hitcast::testutil::fixture();
    let served = artifact.metadata.created_unix;
    let predictor = Predictor::new(artifact).unwrap();
    let report = |created: Option<u64>| hitcast_web::ReportPages {
        models: "<h2 id=\"card\">Model card</h2>".to_owned(),
        data: "<h2 id=\"eda\">Data</h2>".to_owned(),
        source: "report".into(),
        model_created_unix: created,
    };
    for (created, lead) in [
        (
            Some(served),
            "<p class=\"lead\">From the report written with this model: every figure is measured, none typed in.</p>",
        ),
        // A report that names no model (written without --model) claims no match.
        (
            None,
            "<p class=\"lead\">From the report: every figure is measured, none typed in.</p>",
        ),
        (
            Some(1_796_000_000),
            &format!(
                "<p class=\"notice\">This report was written with another model (saved 2026-11-30 \
                 00:53 UTC), not the one served now (saved {}): its model card and figures are not \
                 this model's, which are on the start page. Write the report again with this model \
                 file (hitcast report --model) to see them here.</p>",
                hitcast::render::report::utc_time(served)
            ),
        ),
    ] {
        let catalogue = LazyCatalogue::ready(Catalogue::new(tracks.clone(), "00".into()));
        let state =
            AppState::new(predictor.clone(), catalogue, Some(report(created)), Limits::default())
                .unwrap();
        let app = router(Arc::new(state));
        let page = get(&app, "/models").await.text();
        assert!(page.contains(lead), "{created:?}: {page}");
        // The data's page is the data's, whichever model.
        let page = get(&app, "/explore").await.text();
        assert!(
            page.contains("<p class=\"lead\">From the report: every figure is measured, none typed in.</p>"),
            "{page}"
        );
    }
}

//! The JSON API over a real socket: answers as `predict` gives them, validation, the OpenAPI
//! document, finite answers to any input, the layers' error bodies, what-if curves and similar
//! tracks, and a batch's own base rate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::{comedy, model, track_json, Server};
use crate::{dataset, scratch, HEADER, ROW};

#[test]
fn the_api_scores_like_predict_validates_and_documents_itself() {
    let dir = scratch("serve-api");
    let server = Server::start(&["--max-batch", "3", "--body-limit", "65536"]);
    let (status, health) = server.get("/healthz");
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");
    // The real tracks load beside the model.
    assert!(
        health["catalogue"] == "loading" || health["catalogue"] == "ready",
        "{health}"
    );

    // One track: the same probability as `hitcast predict` on the same row of a CSV file.
    let csv = dir.join("one.csv");
    std::fs::write(&csv, format!("{HEADER}\n{ROW}\n")).unwrap();
    let expected = crate::predicted(model(), &csv, &dir.join("out.csv"))[0];
    let (status, one) = server.post_json("/api/v1/predict", &comedy());
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["track_id"], "5SuOikwiRyPMVoIQDJUgSV");
    let p = one["probability"].as_f64().unwrap();
    // predict writes 6 decimals.
    assert!((p - expected).abs() <= 5e-7, "{p} vs {expected}");
    // An empty object: each of the 5 audio fields that every track has (a song measured from
    // its audio file too) is missing; the seven learned ones may all be absent.
    let (status, empty) = server.post_json("/api/v1/predict", &json!({}));
    assert_eq!(status, 422);
    let missing: Vec<&str> = empty["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        ["duration_ms", "key", "loudness", "mode", "tempo"],
        "{empty}"
    );
    let (_, model_info) = {
        let (s, text) = server.get("/api/v1/model");
        (s, serde_json::from_str::<Value>(&text).unwrap())
    };
    // Comedy has its track_id: a catalogue track, answered by the main model at its threshold.
    let cut = model_info["decision_threshold"].as_f64().unwrap();
    assert_eq!(one["model"], "main");
    assert_eq!(one["threshold"], cut);
    assert_eq!(one["flagged"], p >= cut);
    assert_eq!(
        one["label"],
        match (p >= cut, p >= 0.5) {
            (false, _) => "not flagged",
            (true, false) => "a hit contender",
            (true, true) => "a likely hit",
        }
    );
    // The score is the mean of a distribution whose chance above 71 is the probability.
    assert!(one["popularity"].as_f64().unwrap() >= 72.0 * p);
    // Without its id it is a new song: the new-song model answers, at its own threshold.
    let mut new_song = comedy();
    new_song.as_object_mut().unwrap().remove("track_id");
    let (status, new) = server.post_json("/api/v1/predict", &new_song);
    assert_eq!(status, 200, "{new}");
    assert_eq!(new["model"], "new-song");
    let companion = model_info["companions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == "new-song")
        .unwrap();
    assert_eq!(new["threshold"], companion["decision_threshold"]);
    let base_rate = model_info["base_rate"].as_f64().unwrap();
    assert!((one["lift"].as_f64().unwrap() - p / base_rate).abs() < 1e-12);
    let score = one["popularity"].as_f64().unwrap();
    let (low, high) = (
        one["popularity_low"].as_f64().unwrap(),
        one["popularity_high"].as_f64().unwrap(),
    );
    assert!(0.0 <= low && low <= score && score <= high && high <= 100.0);
    // Comedy is a track of the dataset the model was built from: said, and nothing else.
    assert_eq!(
        one["warnings"]
            .as_array()
            .map(|w| w.iter().map(|w| w["field"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("training_track")]),
        "{one}"
    );
    assert!(one.get("explanation").is_none());

    // A batch keeps its order; contributions add up to the log-odds of the probability.
    let mut second = comedy();
    second["track_id"] = json!("b");
    second["energy"] = json!(0.9);
    let (status, batch) = server.post_json(
        "/api/v1/predict?explain=true",
        &json!({ "tracks": [comedy(), second] }),
    );
    assert_eq!(status, 200, "{batch}");
    let predictions = batch["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 2);
    assert_eq!(predictions[1]["track_id"], "b");
    for prediction in predictions {
        let e = &prediction["explanation"];
        let log_odds = crate::adds_up(e, 1e-6);
        let p = prediction["probability"].as_f64().unwrap();
        assert!((1.0 / (1.0 + (-log_odds).exp()) - p).abs() < 1e-6);
        assert_eq!(e["method"], "tree-shap");
        // The score's explanation adds up to the score shown (inside 0-100, not clamped).
        let s = &prediction["score_explanation"];
        let score = crate::adds_up_to(s, "score", 1e-6);
        assert!(
            (score - prediction["popularity"].as_f64().unwrap()).abs() < 1e-4,
            "{s}"
        );
        assert_eq!(
            s["method"], "linear-shap",
            "the test model's regressor is linear"
        );
    }
    assert_eq!(predictions[0]["probability"], one["probability"]);

    // Invalid values: 422 and one entry per field, named by place.
    let mut bad = comedy();
    bad["energy"] = json!(1.5);
    bad["danceability"] = json!("high");
    bad["bpm"] = json!(120);
    bad.as_object_mut().unwrap().remove("tempo");
    let (status, e) = server.post_json("/api/v1/predict", &json!({ "tracks": [comedy(), bad] }));
    assert_eq!(status, 422);
    let fields: Vec<(&str, &str)> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["field"].as_str().unwrap(), x["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "tracks[1].bpm",
                "unknown field: expected the dataset's columns (track_id, artists, album_name, \
                 track_name, popularity, duration_ms, explicit, danceability, energy, key, \
                 loudness, mode, speechiness, acousticness, instrumentalness, liveness, valence, \
                 tempo, time_signature, track_genre) or genres"
            ),
            (
                "tracks[1].danceability",
                "expected a number from 0 to 1, got a string"
            ),
            ("tracks[1].energy", "expected a number from 0 to 1, got 1.5"),
            ("tracks[1].tempo", "required: a tempo from 0 to 300 BPM"),
        ]
    );
    let (status, e) = server.post_json("/api/v1/predict", &json!([comedy()]));
    assert_eq!(
        (status, e["errors"][0]["field"].as_str()),
        (422, Some("body"))
    );
    let (status, e) = server.post_json("/api/v1/predict", &json!({ "tracks": vec![comedy(); 4] }));
    assert_eq!(status, 422);
    assert_eq!(
        e["errors"][0]["message"],
        "at most 3 tracks per request (the server's --max-batch), got 4"
    );
    let (status, e) = server.post_json("/api/v1/predict?explain=maybe", &comedy());
    assert_eq!(
        (status, e["errors"][0]["field"].as_str()),
        (422, Some("explain"))
    );

    // Malformed JSON, nesting deeper than serde's limit, bodies over the limit, unknown routes.
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict",
        "application/json",
        b"{\"energy\":",
    );
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({
            "error": "the body is not valid JSON: EOF while parsing a value at line 1 column 10",
            "errors": []
        })
    );
    let deep = "[".repeat(10_000);
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict",
        "application/json",
        deep.as_bytes(),
    );
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({
            "error": "the body is not valid JSON: recursion limit exceeded at line 1 column 128",
            "errors": []
        })
    );
    let big = vec![b' '; 100_000];
    let (status, text) = server.request("POST", "/api/v1/predict", "application/json", &big);
    assert_eq!(status, 413, "{text}");
    // JSON sent as text or as a form (curl -d's default) is a 415 that says what to send; a
    // charset or a +json type is JSON.
    let body = comedy().to_string();
    for path in ["/api/v1/predict", "/api/v1/what-if", "/api/v1/similar"] {
        for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
            let (status, text) = server.request("POST", path, content_type, body.as_bytes());
            assert_eq!(status, 415, "{path} {content_type}: {text}");
            assert_eq!(
                serde_json::from_str::<Value>(&text).unwrap()["error"],
                format!(
                    "Content-Type \"{content_type}\" is not JSON: send the body as \
                     application/json (curl: -H 'Content-Type: application/json', or --json)"
                ),
            );
        }
    }
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.api+json",
    ] {
        let (status, text) =
            server.request("POST", "/api/v1/predict", content_type, body.as_bytes());
        assert_eq!(status, 200, "{content_type}: {text}");
    }
    let (status, text) = server.get("/api/v1/nothing");
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error": "no endpoint at /api/v1/nothing: see /api/openapi.json", "errors": []})
    );
    // A wrong method is a 405 with the error body and the Allow header's methods in words.
    let (status, text) = server.get("/api/v1/predict");
    assert_eq!(status, 405);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error": "/api/v1/predict does not take GET; it takes POST", "errors": []})
    );
    assert_eq!(server.get("/no/such/page").0, 404);

    // The OpenAPI document matches the server: every operation answers, the example scores,
    // and the Prediction schema lists exactly the fields of a real answer.
    let (status, text) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    server.wait_for_catalogue();
    // The Open Inference Protocol's paths name the model and its version.
    let (_, meta) = server.get("/v2/models/hitcast");
    let meta: Value = serde_json::from_str(&meta).unwrap();
    let version = meta["versions"][0].as_str().unwrap().to_owned();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let path = &path
            .replace("{name}", "hitcast")
            .replace("{version}", &version);
        for method in operations.as_object().unwrap().keys() {
            let (status, text) = match method.as_str() {
                "get" if path == "/api/v1/tracks" => server.get("/api/v1/tracks?q=comedy"),
                "get" => server.get(path),
                "post" if path == "/api/v1/predict/audio" => {
                    let song = dir.join("documented.wav");
                    crate::click_song(&song, 110.0, 8.0);
                    let wav = std::fs::read(&song).unwrap();
                    server.request("POST", &format!("{path}?genres=pop"), "audio/wav", &wav)
                }
                "post" => {
                    let example = &operations["post"]["requestBody"]["content"]["application/json"]
                        ["example"];
                    let (s, v) = server.post_json(path, example);
                    (s, v.to_string())
                }
                other => panic!("undocumented method {other}"),
            };
            assert_eq!(status, 200, "{method} {path}: {text}");
        }
    }
    let schema = &doc["components"]["schemas"]["Prediction"];
    let mut documented: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut answered: Vec<&str> = predictions[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort_unstable();
    answered.sort_unstable();
    assert_eq!(documented, answered);
    let track_fields = doc["components"]["schemas"]["Track"]["properties"]
        .as_object()
        .unwrap();
    assert!(track_fields.contains_key("genres") && track_fields.contains_key("energy"));
    assert!(track_fields
        .keys()
        .all(|k| comedy().get(k).is_some() || k == "genres"));

    // The dataset search finds the track and its real popularity.
    let (status, text) = server.get("/api/v1/tracks?q=Comedy%20Gen%20Hoshino&limit=5");
    assert_eq!(status, 200);
    let found: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(found["tracks"][0]["track_id"], "5SuOikwiRyPMVoIQDJUgSV");
    assert_eq!(found["tracks"][0]["popularity"], 73);
    assert_eq!(found["tracks"][0]["album_name"], "Comedy");
    assert_eq!(found["total"], 1);
    // A found track's features score as they are (the track is listed under four genres in
    // the file, so its answer is not the one-genre row's above).
    let features = &found["tracks"][0]["features"];
    assert_eq!(
        features["genres"].as_array().unwrap().len(),
        4,
        "{features}"
    );
    let (status, scored) = server.post_json("/api/v1/predict", features);
    assert_eq!(status, 200, "{scored}");
    assert_eq!(scored["track_id"], "5SuOikwiRyPMVoIQDJUgSV");
    assert_eq!(server.get("/api/v1/tracks?q=x&limit=1000").0, 422);

    // SIGTERM: a clean exit.
    let (ok, said, _) = server.terminate();
    assert!(ok);
    assert!(said.contains("hitcast serve: stopped"), "{said}");
}

/// The server and the library answer alike: 1,000 real tracks through `POST /api/v1/predict`
/// and through `Predictor::score_rows` in this process agree to 1e-9, ranges included.
#[test]
fn the_api_and_the_predictor_agree_on_a_thousand_real_tracks() {
    let options = hitcast::data::ReadOptions::labelled();
    let rows: Vec<_> = hitcast::data::RowReader::open(&dataset(), &options)
        .unwrap()
        .take(1000)
        .map(Result::unwrap)
        .collect();
    let predictor = hitcast::predictor::Predictor::load(model()).unwrap();
    let local = predictor.score_rows(&rows).unwrap();
    let tracks: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut t = serde_json::Map::new();
            for (i, column) in hitcast::data::Column::AUDIO.iter().enumerate() {
                let v = r.audio[i];
                t.insert(
                    column.name().to_owned(),
                    if *column == hitcast::data::Column::Explicit {
                        json!(v == 1.0)
                    } else {
                        json!(v)
                    },
                );
            }
            t.insert("track_id".into(), json!(r.track_id));
            t.insert("artists".into(), json!(r.artists));
            t.insert("album_name".into(), json!(r.album_name));
            t.insert("track_name".into(), json!(r.track_name));
            t.insert("genres".into(), json!(r.genres));
            Value::Object(t)
        })
        .collect();
    let server = Server::start(&[]);
    let (status, answer) = server.post_json("/api/v1/predict", &json!({ "tracks": tracks }));
    assert_eq!(status, 200, "{answer}");
    let remote = answer["predictions"].as_array().unwrap();
    assert_eq!(remote.len(), 1000);
    for (r, l) in remote.iter().zip(&local) {
        for (name, want) in [
            ("probability", l.chance.probability),
            ("lift", l.chance.lift),
            ("popularity", l.popularity),
            ("popularity_low", l.popularity_low),
            ("popularity_high", l.popularity_high),
        ] {
            let got = r[name].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-9, "{name}: {got} vs {want}");
        }
        assert_eq!(r["flagged"], l.chance.flagged);
        assert_eq!(
            r["warnings"].as_array().unwrap().len(),
            l.chance.warnings.len()
        );
    }
}

/// A property over random inputs: every answer of `POST /api/v1/predict` is a finite
/// probability in [0, 1] with a finite score and range in 0-100, or a 4xx. 400 bodies, each
/// audio field drawn from in-range values, huge and tiny finite numbers, -0, numbers that
/// overflow an f64 (1e400), JSON's non-numbers (NaN, Infinity: not JSON), strings and null
/// (seeded, so a failure replays).
#[test]
fn every_answer_is_finite_or_a_client_error() {
    let server = Server::start(&[]);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // SplitMix64: a seeded stream without a dependency.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let fields = [
        "duration_ms",
        "danceability",
        "energy",
        "key",
        "loudness",
        "mode",
        "speechiness",
        "acousticness",
        "instrumentalness",
        "liveness",
        "valence",
        "tempo",
    ];
    let (mut ok, mut refused) = (0, 0);
    let mut first_refusal = None;
    for _ in 0..400 {
        let mut body = String::from("{\"genres\":[\"pop\"]");
        for field in fields {
            let unit = (next() % 1_000_000) as f64 / 1_000_000.0;
            // One field in ten is a bad or edge value, so about a quarter of bodies are valid.
            let value = match next() % 80 {
                0 => "1e300".to_owned(),
                1 => "-1e300".to_owned(),
                2 => "1e400".to_owned(),
                3 => "NaN".to_owned(),
                4 => "Infinity".to_owned(),
                5 => "5e-324".to_owned(),
                6 => "-0".to_owned(),
                7 => "\"0.5\"".to_owned(),
                8 => "null".to_owned(),
                9 => format!("{}", unit * 1e7 - 5e6),
                // In range for most fields: a wide spread around the dataset's values.
                _ => match field {
                    "duration_ms" => format!("{}", unit * 600_000.0),
                    "key" => format!("{}", (unit * 12.0).floor()),
                    "mode" => format!("{}", (unit * 2.0).floor()),
                    "loudness" => format!("{}", -60.0 + unit * 65.0),
                    "tempo" => format!("{}", unit * 250.0),
                    _ => format!("{unit}"),
                },
            };
            body.push_str(&format!(",\"{field}\":{value}"));
        }
        body.push('}');
        let (status, text) = server.request(
            "POST",
            "/api/v1/predict",
            "application/json",
            body.as_bytes(),
        );
        match status {
            200 => {
                ok += 1;
                let a: Value = serde_json::from_str(&text).unwrap();
                let get = |name: &str| {
                    a[name]
                        .as_f64()
                        .unwrap_or_else(|| panic!("{name} is not a number in {text} for {body}"))
                };
                let p = get("probability");
                assert!(
                    p.is_finite() && (0.0..=1.0).contains(&p),
                    "{text} for {body}"
                );
                let (s, lo, hi) = (
                    get("popularity"),
                    get("popularity_low"),
                    get("popularity_high"),
                );
                assert!(
                    0.0 <= lo && lo <= s && s <= hi && hi <= 100.0,
                    "{text} for {body}"
                );
            }
            400 | 422 => {
                refused += 1;
                first_refusal.get_or_insert_with(|| format!("{text} for {body}"));
            }
            other => panic!("status {other}: {text} for {body}"),
        }
    }
    // Both kinds occur, or the property says little.
    assert!(
        ok > 20 && refused > 20,
        "{ok} answered, {refused} refused; first: {first_refusal:?}"
    );
}

/// Errors the layers answer (the timeout's 408, the router's 405) carry a body like every other:
/// JSON on API paths, a page elsewhere.
#[test]
fn errors_from_the_layers_have_a_body() {
    let server = Server::start(&["--timeout", "1"]);
    // A body announced and never sent: the timeout answers.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/v1/predict HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        server.addr
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body = text.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap(),
        json!({
            "error": "the request took longer than the server's limit of 1 s (--timeout): send fewer tracks a request, or ask the server's operator to raise --timeout",
            "errors": []
        })
    );
    // A page route with the wrong method: the site's page, saying what the route takes.
    let (status, page) = server.get("/predict/result");
    assert_eq!(status, 405);
    let main = &page[page.find("<main id=\"content\">").unwrap()..page.find("</main>").unwrap()];
    assert_eq!(
        main,
        "<main id=\"content\"><h1>Not a request this address takes</h1><p>/predict/result does not take GET; it takes POST. \
         <a href=\"/\">Back to the start</a>.</p>"
    );
    let (status, text) = server.request("DELETE", "/api/v1/model", "text/plain", b"");
    assert_eq!(status, 405);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"error": "/api/v1/model does not take DELETE; it takes GET", "errors": []})
    );
}

/// A synthetic catalogue where only danceability decides popularity: 1,500 tracks, each by its
/// own artist, popular (80) when danceability is above 0.6, else 20.
fn synthetic(path: &Path) {
    let mut csv = String::from(crate::HEADER);
    csv.push('\n');
    // A fixed linear congruential sequence: the same file on every run.
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..1500 {
        let dance = next();
        let popularity = if dance > 0.6 { 80 } else { 20 };
        csv.push_str(&format!(
            "t{i},artist {i},album {i},title {i},{popularity},{},False,{dance:.4},{:.4},{},{:.3},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.3},4,pop\n",
            150_000 + (next() * 100_000.0) as u64,
            next(),
            (next() * 11.0) as u64,
            -20.0 + next() * 15.0,
            u8::from(next() > 0.5),
            next() * 0.3,
            next(),
            next() * 0.5,
            next() * 0.8,
            next(),
            60.0 + next() * 120.0,
        ));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn what_if_curves_similar_tracks_and_the_docs_page() {
    // On the real model: the curve passes through the track's own answer.
    let server = Server::start(&[]);
    let (_, one) = server.post_json("/api/v1/predict", &comedy());
    let (status, curve) = server.post_json(
        "/api/v1/what-if",
        &json!({ "track": comedy(), "feature": "danceability", "points": 25 }),
    );
    assert_eq!(status, 200, "{curve}");
    assert_eq!(curve["feature"], "danceability");
    assert_eq!(curve["value"], 0.676);
    let points = curve["points"].as_array().unwrap();
    assert_eq!(
        points.len(),
        26,
        "25 over the range and the track's own value"
    );
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    let own = points.iter().find(|p| p["value"] == 0.676).unwrap();
    assert_eq!(own["probability"], one["probability"]);
    assert_eq!(own["popularity"], one["popularity"]);
    let (_, keys) = server.post_json(
        "/api/v1/what-if",
        &json!({ "track": comedy(), "feature": "key" }),
    );
    assert_eq!(
        keys["points"].as_array().unwrap().len(),
        13,
        "every key, -1 to 11"
    );
    let (status, bad) = server.post_json(
        "/api/v1/what-if",
        &json!({ "track": { "energy": 2 }, "feature": "genre", "points": 1, "extra": 1 }),
    );
    assert_eq!(status, 422);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["extra", "track.energy", "feature", "points"] {
        assert!(fields.contains(&field), "{field} in {bad}");
    }

    // Similar tracks: the track itself is among the nearest, at distance 0; same_genre keeps
    // its genres.
    server.wait_for_catalogue();
    let (status, near) = server.post_json(
        "/api/v1/similar",
        &json!({ "track": comedy(), "k": 5, "same_genre": true }),
    );
    assert_eq!(status, 200, "{near}");
    let tracks = near["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 5);
    assert_eq!(tracks[0]["distance"], 0.0);
    assert!(tracks
        .iter()
        .any(|t| t["track_id"] == "5SuOikwiRyPMVoIQDJUgSV" && t["distance"] == 0.0));
    assert!(tracks
        .iter()
        .all(|t| t["track_genre"].as_str().unwrap().contains("acoustic")));
    let distances: Vec<f64> = tracks
        .iter()
        .map(|t| t["distance"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let (status, _) = server.post_json("/api/v1/similar", &json!({ "track": comedy(), "k": 0 }));
    assert_eq!(status, 422);

    // The page shows both under the answer: a curve per continuous measure, and six real
    // neighbours, the loaded track and its copies on other albums left out.
    let (status, page) = server.get("/predict?q=Comedy+Gen+Hoshino");
    assert_eq!(status, 200);
    assert!(page.contains("<h3>Why this chance</h3>") && page.contains("<h3>Why this score</h3>"));
    assert_eq!(page.matches("<ol class=\"waterfall\"").count(), 2, "{page}");
    // Each step says its unit: percentage points of the chance, points of the score.
    let score = page
        .split("<h3>Why this score</h3>")
        .nth(1)
        .unwrap_or_default();
    assert!(score.contains(" pts</"), "{score}");
    assert!(!score.contains(" pp</"), "{score}");
    assert_eq!(
        page.matches("<details class=\"curve\"").count(),
        10,
        "{page}"
    );
    // Each opens to a large chart of the chance and the score, with its values in words.
    assert_eq!(page.matches("<figure class=\"large\"").count(), 10);
    assert!(
        page.contains("Length from ") && page.contains(" BPM to "),
        "{page}"
    );
    // The form has a place beside each measure's control for its curve.
    assert_eq!(page.matches("<div class=\"curve-slot\"").count(), 10);
    // The dataset is the model's own: no caveat about another catalogue.
    assert!(!page.contains("another catalogue"), "{page}");
    assert!(page.contains("data-feature=\"danceability\""), "{page}");
    let similar = &page[page.find("id=\"similar\"").expect("a similar-tracks table")..];
    let similar = &similar[..similar.find("</table>").unwrap()];
    assert_eq!(
        similar.matches("<tr>").count(),
        7,
        "a header and six tracks: {similar}"
    );
    assert!(!similar.contains("5SuOikwiRyPMVoIQDJUgSV"), "{similar}");
    assert!(!similar.contains(">Comedy<"), "{similar}");

    // The docs page, rendered from the OpenAPI document, and the nav's API link to it.
    let (status, page) = server.get("/api/docs");
    assert_eq!(status, 200);
    for text in [
        "<code>POST /api/v1/what-if</code>",
        "<code>POST /api/v1/similar</code>",
        "<code>GET /api/v1/tracks</code>",
        "Example body:",
        "href=\"/api/openapi.json\"",
        // The server's own answers to the examples: a prediction, a curve, tracks found.
        "<summary>Example answer (200)</summary>",
        "&quot;probability&quot;: ",
        "&quot;points&quot;: [",
        "&quot;total&quot;: ",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    // predict, model, tracks, what-if and similar (the audio upload has no example file).
    assert_eq!(
        page.matches("<summary>Example answer (").count(),
        5,
        "{page}"
    );
    let (_, home) = server.get("/");
    assert!(home.contains("href=\"/api/docs\""), "{home}");
    drop(server);

    // On a model of a synthetic catalogue where danceability alone decides, the curve rises.
    let dir = scratch("what-if-synthetic");
    let data = dir.join("synthetic.csv");
    synthetic(&data);
    let model = dir.join("m.hitcast");
    let o = crate::hitcast(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "logreg",
        "--regressor",
        "linear",
        "--setup",
        "raw",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let server = Server::start_with(&model, &[]);
    let (status, curve) = server.post_json(
        "/api/v1/what-if",
        &json!({ "track": comedy(), "feature": "danceability", "points": 40 }),
    );
    assert_eq!(status, 200, "{curve}");
    let p: Vec<f64> = curve["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["probability"].as_f64().unwrap())
        .collect();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    assert!(p[p.len() - 1] > p[0] + 0.5, "{p:?}");

    // Its real tracks come from the shipped dataset, not its own: the page says so in plain
    // words, and only the log names the file and the flag that would search its own.
    server.wait_for_catalogue();
    let (_, page) = server.get("/predict");
    assert!(
        page.contains(
            "These real tracks come from another catalogue than the one the model learned from"
        ),
        "{page}"
    );
    assert!(
        !page.contains("spotify_tracks.csv") && !page.contains("SHA-256"),
        "{page}"
    );
    let (_, _, log) = server.terminate();
    assert!(
        log.contains("spotify_tracks.csv.gz is not the file the model was trained on")
            && log.contains("--data"),
        "{log}"
    );
    // A log read from a pipe or a file has no terminal colour codes.
    assert!(!log.contains('\u{1b}'), "{log:?}");
}

#[test]
fn a_batch_adapts_to_its_own_base_rate_when_it_differs_in_that_only() {
    use hitcast::data::{read_rows, ReadOptions, DEFAULT_THRESHOLD};
    use hitcast::split::{Protocol, Split};
    let loaded = read_rows(&dataset(), &ReadOptions::labelled()).unwrap();
    let tracks = Protocol::Honest.table(loaded.rows);
    let labels = tracks.labels(DEFAULT_THRESHOLD).unwrap();
    let split = Split::new(&tracks, &labels, Protocol::Honest, 0, 42).unwrap();
    // Every fourth of fold 0's TEST tracks (no model of fold 0 saw them; the file lists tracks
    // genre by genre, so a run of them would be a few genres), each popular one four times
    // under new ids: a catalogue that differs from the training data in its share of hits only.
    let mut batch = Vec::new();
    let mut popular = 0;
    for &i in split.test.iter().step_by(4) {
        let copies = if labels[i] { 4 } else { 1 };
        popular += copies * usize::from(labels[i]);
        for k in 0..copies {
            batch.push(track_json(
                &tracks,
                i,
                format!("{}-{k}", tracks.rows[i].track_id),
            ));
        }
    }
    let rate = popular as f64 / batch.len() as f64;
    let server = Server::start(&["--body-limit", "16777216"]);
    let (status, plain) = server.post_json("/api/v1/predict", &json!({ "tracks": batch }));
    assert_eq!(status, 200);
    assert!(plain.get("prior").is_none());
    let (status, adapted) = server.post_json(
        "/api/v1/predict",
        &json!({ "tracks": batch, "adapt_prior": true }),
    );
    assert_eq!(status, 200, "{adapted}");
    let prior = &adapted["prior"];
    assert_eq!(prior["adapted"], true, "{prior}");
    let estimate = prior["estimate"]["estimate"].as_f64().unwrap();
    assert!((estimate - rate).abs() < 0.02, "{estimate} for {rate}");
    // Every chance moved up, by Bayes' rule, and the mean answer with it toward the true rate.
    let mean = |v: &Value| {
        let p = v["predictions"].as_array().unwrap();
        p.iter()
            .map(|a| a["probability"].as_f64().unwrap())
            .sum::<f64>()
            / p.len() as f64
    };
    assert!(
        mean(&plain) < mean(&adapted)
            && (mean(&adapted) - rate).abs() < (mean(&plain) - rate).abs()
    );
    // A handful of tracks is refused, with the reason, and answered unadapted.
    let (status, few) = server.post_json(
        "/api/v1/predict",
        &json!({ "tracks": [comedy()], "adapt_prior": true }),
    );
    assert_eq!(status, 200);
    assert_eq!(few["prior"]["adapted"], false);
    assert_eq!(
        few["prior"]["reason"],
        "too few tracks (1) to estimate their base rate (at least 500 are needed): not adapted"
    );
}

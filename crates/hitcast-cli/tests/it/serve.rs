//! `hitcast serve` over a real socket: the JSON API, the pages, the limits, shutdown, and the
//! app end to end in headless Chromium through WebDriver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{dataset, scratch, train_quick, HEADER, ROW};

/// One gbm model for every test here (training takes a while in a debug build).
pub(super) fn model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| train_quick(&scratch("serve-model"), "m.hitcast", "gbm", "linear"))
}

/// A running `hitcast serve` on a free port; killed when dropped.
pub(super) struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Its process id, for signals.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its address, `127.0.0.1:PORT`.
    pub(super) fn addr(&self) -> &str {
        &self.addr
    }

    pub(super) fn start(extra: &[&str]) -> Server {
        Server::start_with(model(), extra)
    }

    /// Serves `model`, with `extra` flags.
    pub(super) fn start_with(model: &Path, extra: &[&str]) -> Server {
        let data = dataset();
        let mut args = vec![
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ];
        args.extend(extra);
        Server::start_args(&args)
    }

    /// Serves with exactly these flags (and a free port).
    pub(super) fn start_args(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hitcast"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    /// One HTTP/1.1 request; returns the status and the body.
    pub(super) fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) and close before reading a large body.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        // A streamed answer comes in chunks, each after its length in hex.
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            let mut whole = String::new();
            let mut rest = body;
            while let Some((size, after)) = rest.split_once("\r\n") {
                let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                if size == 0 {
                    break;
                }
                whole.push_str(&after[..size]);
                rest = &after[size + 2..];
            }
            whole
        } else {
            body.to_owned()
        };
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        (status, body)
    }

    pub(super) fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, "text/plain", b"")
    }

    pub(super) fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.request(
            "POST",
            path,
            "application/json",
            body.to_string().as_bytes(),
        );
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        )
    }

    fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
        let body: String = pairs
            .iter()
            .map(|(k, v)| {
                let enc = |s: &str| -> String {
                    s.bytes()
                        .map(|b| match b {
                            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                                (b as char).to_string()
                            }
                            _ => format!("%{b:02X}"),
                        })
                        .collect()
                };
                format!("{}={}", enc(k), enc(v))
            })
            .collect::<Vec<_>>()
            .join("&");
        self.request(
            "POST",
            path,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
    }

    /// Waits until the dataset has loaded (the search answers 200).
    pub(super) fn wait_for_catalogue(&self) {
        let started = Instant::now();
        while self.get("/api/v1/tracks?q=comedy").0 == 503 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the dataset never loaded"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then the exit status, the rest of stdout and the log (stderr).
    pub(super) fn terminate(mut self) -> (bool, String, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status.success(), rest, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The dataset's first row as a JSON track (the form the API documents).
pub(super) fn comedy() -> Value {
    let names: Vec<&str> = HEADER.split(',').collect();
    let cells: Vec<&str> = ROW.split(',').collect();
    let mut track = serde_json::Map::new();
    for (name, cell) in names.iter().zip(&cells) {
        let value = match *name {
            "track_id" | "artists" | "album_name" | "track_name" | "track_genre" => json!(cell),
            "explicit" => json!(cell.eq_ignore_ascii_case("true")),
            _ => json!(cell.parse::<f64>().unwrap()),
        };
        track.insert((*name).to_owned(), value);
    }
    Value::Object(track)
}

#[test]
fn the_api_scores_like_predict_validates_and_documents_itself() {
    let dir = scratch("serve-api");
    let server = Server::start(&["--max-batch", "3", "--body-limit", "65536"]);
    assert_eq!(
        server.get("/healthz"),
        (200, r#"{"status":"ok"}"#.to_owned())
    );

    // One track: the same probability as `hitcast predict` on the same row of a CSV file.
    let csv = dir.join("one.csv");
    std::fs::write(&csv, format!("{HEADER}\n{ROW}\n")).unwrap();
    let expected = super::predicted(model(), &csv, &dir.join("out.csv"))[0];
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
    assert_eq!(one["warnings"], json!([]));
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
        let log_odds = super::adds_up(e, 1e-6);
        let p = prediction["probability"].as_f64().unwrap();
        assert!((1.0 / (1.0 + (-log_odds).exp()) - p).abs() < 1e-6);
        assert_eq!(e["method"], "tree-shap");
        // The score's explanation adds up to the score shown (inside 0-100, not clamped).
        let s = &prediction["score_explanation"];
        let score = super::adds_up_to(s, "score", 1e-6);
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
    assert!(
        fields.contains(&("tracks[1].energy", "expected a number from 0 to 1, got 1.5")),
        "{fields:?}"
    );
    assert!(fields.contains(&(
        "tracks[1].danceability",
        "expected a number from 0 to 1, got a string"
    )));
    assert!(fields.contains(&("tracks[1].tempo", "required: a tempo from 0 to 300 BPM")));
    assert!(fields
        .iter()
        .any(|(f, m)| *f == "tracks[1].bpm" && m.starts_with("unknown field")));
    assert_eq!(fields.len(), 4, "{fields:?}");
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
    assert!(
        text.contains("not valid JSON: EOF while parsing a value at line 1 column 10"),
        "{text}"
    );
    let deep = "[".repeat(10_000);
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict",
        "application/json",
        deep.as_bytes(),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("recursion limit exceeded"), "{text}");
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
    assert!(text.contains("no endpoint at /api/v1/nothing"));
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
                    super::click_song(&song, 110.0, 8.0);
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

#[test]
fn the_pages_escape_names_show_errors_at_fields_and_work_without_javascript() {
    let server = Server::start(&[]);
    let (status, home) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        home.contains("Of the tracks it flags as hit contenders, <b>"),
        "{home}"
    );
    let (status, page) = server.get("/predict");
    assert_eq!(status, 200);
    for name in [
        "danceability",
        "tempo",
        "loudness",
        "duration_min",
        "duration_sec",
        "key",
        "mode",
        "time_signature",
        "explicit",
        "genres",
    ] {
        assert!(
            page.contains(&format!("name=\"{name}\"")),
            "no input {name}"
        );
    }

    // The typical track, posted back as a browser without JavaScript would.
    let mut form = vec![
        ("track_id", ""),
        ("danceability", "0.6"),
        ("energy", "0.7"),
        ("valence", "0.5"),
        ("acousticness", "0.1"),
        ("instrumentalness", "0"),
        ("speechiness", "0.05"),
        ("liveness", "0.12"),
        ("tempo", "120"),
        ("loudness", "-6"),
        ("duration_min", "3"),
        ("duration_sec", "30"),
        ("key", "5"),
        ("mode", "1"),
        ("time_signature", "4"),
        ("genres", "pop"),
        ("genres", "dance"),
        ("track_name", "<script>alert(1)</script>"),
        ("artists", "A & B"),
    ];
    let (status, page) = server.post_form("/predict", &form);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("chance that its popularity is above 71"));
    assert!(page.contains("id=\"score-low\""));
    assert!(page.contains("id=\"probability\" data-probability=\"0."));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("value=\"A &amp; B\""));
    assert!(page.contains("Chosen: pop, dance"));

    // A bad value comes back at its field, the rest of the form kept.
    form[8] = ("tempo", "-5");
    form[11] = ("duration_sec", "75");
    let (status, page) = server.post_form("/predict", &form);
    assert_eq!(status, 422);
    assert!(page.contains("<p class=\"error\" id=\"tempo-error\" role=\"alert\">expected a tempo from 0 to 300 BPM, got &quot;-5&quot;</p>"), "{page}");
    assert!(page.contains("id=\"duration-error\" role=\"alert\">seconds: expected a number of seconds from 0 to 60, got &quot;75&quot;</p>"), "{page}");
    assert!(page.contains("value=\"-5\""));
    let (status, fragment) = server.post_form("/predict/result", &form);
    assert_eq!(status, 422);
    assert!(
        fragment.starts_with("<section class=\"result invalid\">"),
        "{fragment}"
    );

    // Loading a real track by name fills the form and shows its real popularity.
    server.wait_for_catalogue();
    let (status, page) = server.get("/predict?q=comedy+gen+hoshino");
    assert_eq!(status, 200);
    assert!(page.contains("id=\"real-popularity\">73</b>"), "{page}");
    assert!(page.contains("value=\"5SuOikwiRyPMVoIQDJUgSV\""));
    let (_, page) = server.get("/predict?q=love");
    // The true count, beside the 20 listed (3,092 tracks say "love" in title, artists or album).
    assert!(
        page.contains("3092 tracks match; the 20 most popular:"),
        "{page}"
    );
    // A pasted Spotify link loads its track.
    let (_, page) = server
        .get("/predict?q=https%3A%2F%2Fopen.spotify.com%2Ftrack%2F5SuOikwiRyPMVoIQDJUgSV%3Fsi%3Dx");
    assert!(page.contains("value=\"5SuOikwiRyPMVoIQDJUgSV\""), "{page}");
    // A song the catalogue lacks: why, and what to do instead.
    let (_, page) = server.get("/predict?q=flowers+miley");
    assert!(
        page.contains("No track matches \u{201c}flowers miley\u{201d} among the catalogue's 89,741 tracks (the dataset hitcast ships was collected in 2022"),
        "{page}"
    );
    assert!(page.contains("measure it from its audio file"), "{page}");
    // An artist's own name ranks their tracks first: ROSÉ before Guns N' Roses.
    let (status, found) = server.get("/api/v1/tracks?q=Ros%C3%A9&limit=3");
    assert_eq!(status, 200);
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["tracks"][0]["artists"], "ROSÉ", "{found}");

    // Without --report, Explore and Models say how to get one.
    let (status, page) = server.get("/explore");
    assert_eq!(status, 200);
    assert!(page.contains("No report was given"));
    let (status, css) = server.get("/assets/app.css");
    assert_eq!(status, 200);
    assert!(css.contains("svg.chart"));
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// ChromeDriver for `chromium`, if installed; killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<Driver> {
    let binary = std::env::var_os("CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("chromedriver"), PathBuf::from);
    let port = free_port();
    let Ok(child) = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        assert!(
            std::env::var_os("HITCAST_REQUIRE_BROWSER").is_none(),
            "HITCAST_REQUIRE_BROWSER is set but {} does not run",
            binary.display()
        );
        eprintln!("note: no chromedriver: browser test skipped (apt install chromium-driver)");
        return None;
    };
    let driver = Driver(child, port);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(driver)
}

/// A Chrome DevTools command through chromedriver's passthrough (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.0, "params": self.1});
        (http::Method::POST, Some(body.to_string()))
    }
}

#[test]
fn the_web_app_works_end_to_end_in_headless_chromium() {
    let Some(chromium) = super::chromium() else {
        return;
    };
    let Some(driver) = chromedriver() else { return };
    // A small report, so Explore and Models have their tables and charts at both widths.
    let (report, _) = super::small_report(&scratch("app-report"), model());
    let server = Server::start(&["--report", report.to_str().unwrap()]);
    server.wait_for_catalogue();
    let song = scratch("app-audio").join("demo.wav");
    super::click_song(&song, 120.0, 20.0);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = scratch("webdriver-profile");
    // A file of 40 real tracks for the upload box, and what `hitcast predict` answers for it.
    let downloads = scratch("webdriver-downloads");
    let upload = scratch("app-upload").join("mine.csv");
    std::fs::write(&upload, super::dataset_head(40)).unwrap();
    let expected_download = predicted(&upload);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use fantoccini::{ClientBuilder, Locator};
        let mut options = json!({
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,1800", format!("--user-data-dir={}", profile.display())],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false}
        });
        // A bare name is left to chromedriver, which knows where its Chromium is.
        if chromium.is_absolute() {
            options["binary"] = json!(chromium);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await
            .unwrap();
        let base = format!("http://{}", server.addr);
        let shot = |name: &'static str| {
            let c = c.clone();
            let path = shots.join(name);
            async move { std::fs::write(path, c.screenshot().await.unwrap()).unwrap() }
        };
        // The live answer re-renders as the page's script updates it: an element found just
        // before a re-render is stale by the time its text is read, and on a loaded machine
        // one may be looked for while the page is between two answers. Find it again then.
        let text = |css: &'static str| {
            let c = c.clone();
            async move {
                use fantoccini::error::{CmdError, ErrorStatus};
                for _ in 0..40 {
                    let found = match c.find(Locator::Css(css)).await {
                        Ok(element) => element.text().await,
                        Err(e) => Err(e),
                    };
                    match found {
                        Ok(text) => return text,
                        Err(CmdError::Standard(e))
                            if e.error == ErrorStatus::StaleElementReference
                                || e.error == ErrorStatus::NoSuchElement =>
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await
                        }
                        Err(e) => panic!("{css}: {e}"),
                    }
                }
                panic!("{css}: still re-rendering after 40 tries")
            }
        };

        // Chart text reads at 11 px or more, at the size the page draws it (a chart's text
        // shrinks with its viewBox), and inside its chart: on a desktop, and on a phone.
        let unreadable_text = || {
            let c = c.clone();
            async move {
                c.execute(
                    "const bad = [];
                     for (const t of document.querySelectorAll('svg text')) {
                       const r = t.getBoundingClientRect();
                       if (r.width === 0 || !t.checkVisibility()) continue;
                       const svg = t.ownerSVGElement, box = svg.viewBox.baseVal, b = svg.getBoundingClientRect();
                       const scale = box && box.width ? b.width / box.width : 1;
                       const px = parseFloat(getComputedStyle(t).fontSize) * scale;
                       if (px < 10.95) bad.push(t.textContent + ' at ' + px.toFixed(1) + ' px');
                       if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1)
                         bad.push(t.textContent + ' cut off');
                     }
                     return bad.slice(0, 8);",
                    vec![],
                )
                .await
                .unwrap()
            }
        };

        // The welcome page, then its link to the prediction page.
        c.goto(&base).await.unwrap();
        assert!(text("h1").await.contains("popular on Spotify"));
        shot("app-welcome.png").await;
        c.find(Locator::LinkText("Predict")).await.unwrap().click().await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/predict");

        // Load a real track by name: its values fill the form, its real popularity shows.
        let q = c.find(Locator::Id("q")).await.unwrap();
        q.send_keys("Comedy Gen Hoshino").await.unwrap();
        c.find(Locator::Css("form.load button")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("real-popularity")).await.unwrap();
        assert_eq!(text("#real-popularity").await, "73");
        let energy = c.find(Locator::Id("energy")).await.unwrap();
        assert_eq!(energy.prop("value").await.unwrap().as_deref(), Some("0.461"));
        let before = text("#probability").await;

        // Move a slider: the answer follows without a submit.
        let updates = |c: fantoccini::Client| async move {
            c.find(Locator::Id("result")).await.unwrap().attr("data-updates").await.unwrap()
        };
        assert_eq!(updates(c.clone()).await, None);
        // 20 presses of the right arrow key: with step="any" (so a loaded track's 0.0322 stays
        // 0.0322), each moves a hundredth of the range.
        energy.send_keys(&"\u{E014}".repeat(20)).await.unwrap();
        let moved: f64 = energy.prop("value").await.unwrap().unwrap().parse().unwrap();
        assert!((moved - 0.661).abs() < 1e-9, "{moved}");
        assert_eq!(text("#energy-value").await, moved.to_string());
        let acousticness = c.find(Locator::Id("acousticness")).await.unwrap();
        assert_eq!(acousticness.prop("value").await.unwrap().as_deref(), Some("0.0322"));
        let started = Instant::now();
        while updates(c.clone()).await.is_none() {
            assert!(started.elapsed() < Duration::from_secs(10), "no live update");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let the last of the debounced updates land.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let live = text("#probability").await;
        assert_ne!(live, before, "moving energy did not change the probability");
        shot("app-predict-live.png").await;
        // The scenario is in the address: reloading it gives the same form and answer.
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/predict");
        assert!(
            url.query_pairs().any(|(k, v)| k == "energy" && v == moved.to_string()),
            "{url}"
        );
        c.refresh().await.unwrap();
        c.wait().for_element(Locator::Id("probability")).await.unwrap();
        assert_eq!(text("#probability").await, live, "the reloaded scenario");
        let energy = c.find(Locator::Id("energy")).await.unwrap();
        assert_eq!(
            energy.prop("value").await.unwrap().as_deref(),
            Some(moved.to_string().as_str())
        );

        // Submit: the page comes back with the same answer.
        c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#probability")).await.unwrap();
        let submitted = text("#probability").await;
        assert!(submitted.ends_with('%'), "{submitted}");
        let p: f64 = submitted.trim_end_matches('%').parse().unwrap();
        assert!((0.0..=100.0).contains(&p));
        assert_eq!(submitted, live);
        // The waterfall adds up: a typical track's chance plus every step is the chance shown.
        let sums = c
            .execute(
                "const w = document.querySelector('ol.waterfall');
                 let sum = parseFloat(w.dataset.start) * 100;
                 for (const li of w.querySelectorAll('li')) sum += parseFloat(li.dataset.change);
                 const shown = parseFloat(document.querySelector('#probability').dataset.probability);
                 return [sum, shown * 100, w.querySelectorAll('li').length];",
                vec![],
            )
            .await
            .unwrap();
        let (sum, shown) = (sums[0].as_f64().unwrap(), sums[1].as_f64().unwrap());
        assert!((sum - shown).abs() < 1e-9, "{sums}");
        assert_eq!(sums[2], json!(9), "eight inputs and everything else: {sums}");
        let why = text("ol.waterfall").await;
        assert!(why.contains("Everything else"), "{why}");
        assert!(!why.contains("log-odds") && !why.contains("_"), "code words in {why}");

        // A bad value: the message at the field.
        let tempo = c.find(Locator::Id("tempo")).await.unwrap();
        tempo.clear().await.unwrap();
        tempo.send_keys("-5").await.unwrap();
        c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
        let error = c.wait().for_element(Locator::Id("tempo-error")).await.unwrap();
        assert_eq!(error.text().await.unwrap(), "expected a tempo from 0 to 300 BPM, got \"-5\"");
        shot("app-predict-error.png").await;

        // Only that field is marked.
        let marked = c
            .execute("return document.querySelectorAll('[aria-invalid=true]').length", vec![])
            .await
            .unwrap();
        assert_eq!(marked, json!(1));

        // Wide screens keep the answer in view: at 1280x900, scrolled down to the genres, a
        // change of genre updates the answer where it can be seen.
        c.set_window_size(1280, 900).await.unwrap();
        c.goto(&format!("{base}/predict?q=Comedy+Gen+Hoshino")).await.unwrap();
        c.wait().for_element(Locator::Id("real-popularity")).await.unwrap();
        let first = text("#probability").await;
        let in_view = |c: fantoccini::Client, css: &'static str| async move {
            c.execute(
                &format!(
                    "const r = document.querySelector('{css}').getBoundingClientRect();
                     return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;"
                ),
                vec![],
            )
            .await
            .unwrap()
        };
        c.execute(
            "const g = document.getElementById('genres');
             g.scrollIntoView();
             for (const o of g.options) o.selected = o.value === 'latin';
             g.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
        let started = Instant::now();
        while updates(c.clone()).await.is_none() {
            assert!(started.elapsed() < Duration::from_secs(10), "no update after the genre");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_ne!(text("#probability").await, first, "the genre did not change the answer");
        assert_eq!(in_view(c.clone(), "#probability").await, json!(true), "answer out of view");
        shot("wide-genre-changed.png").await;

        // The what-if curves sit beside their controls; one opens to its large chart and stays
        // open, beside its slider, when another slider moves the answer.
        let placed = c
            .execute(
                "return [document.querySelectorAll('form .curve-slot details.curve').length,
                         document.querySelector('section.what-if-curves').hidden];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(placed, json!([10, true]), "curves beside their controls");
        let summary = c
            .find(Locator::Css(".curve-slot[data-feature=danceability] summary"))
            .await
            .unwrap();
        c.execute(
            "document.querySelector('.curve-slot[data-feature=danceability]').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
        summary.click().await.unwrap();
        let large = |c: fantoccini::Client| async move {
            c.execute(
                "const f = document.querySelector('.curve-slot[data-feature=danceability] details[open] figure.large');
                 return f ? [f.getBoundingClientRect().height, f.querySelector('figcaption').textContent] : null;",
                vec![],
            )
            .await
            .unwrap()
        };
        let opened = large(c.clone()).await;
        assert!(opened[0].as_f64().unwrap() > 150.0, "{opened}");
        assert!(
            opened[1].as_str().unwrap().starts_with("Danceability from "),
            "{opened}"
        );
        let before = updates(c.clone()).await;
        c.find(Locator::Id("valence"))
            .await
            .unwrap()
            .send_keys(&"\u{E014}".repeat(10))
            .await
            .unwrap();
        let started = Instant::now();
        while updates(c.clone()).await == before {
            assert!(started.elapsed() < Duration::from_secs(10), "no update after valence");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(large(c.clone()).await[0].as_f64().unwrap() > 150.0, "closed by the update");
        assert_eq!(unreadable_text().await, json!([]), "the what-if chart's text");
        shot("wide-what-if-open.png").await;

        // A file of tracks through the upload box comes back as a download, with the answers
        // `hitcast predict` gives for it.
        c.goto(&format!("{base}/predict")).await.unwrap();
        c.find(Locator::Id("batch-file"))
            .await
            .unwrap()
            .send_keys(upload.to_str().unwrap())
            .await
            .unwrap();
        c.find(Locator::Id("batch-submit")).await.unwrap().click().await.unwrap();
        let saved = downloads.join("mine.predictions.csv");
        let started = Instant::now();
        while !saved.exists() {
            assert!(started.elapsed() < Duration::from_secs(20), "no download");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), expected_download);

        // Search as you type: suggestions under the box, the arrow keys and Enter load one.
        c.goto(&format!("{base}/predict")).await.unwrap();
        let q = c.find(Locator::Id("q")).await.unwrap();
        q.send_keys("blinding lights weeknd").await.unwrap();
        c.wait()
            .for_element(Locator::Css("#q-list li[role=option]"))
            .await
            .unwrap();
        assert_eq!(q.attr("aria-expanded").await.unwrap().as_deref(), Some("true"));
        let first = text("#q-list li[role=option]").await;
        assert!(first.starts_with("Blinding Lights · The Weeknd · After Hours · popularity 91"), "{first}");
        shot("app-search-suggestions.png").await;
        q.send_keys("\u{E015}").await.unwrap(); // arrow down
        assert_eq!(
            q.attr("aria-activedescendant").await.unwrap().as_deref(),
            Some("q-option-0")
        );
        q.send_keys("\u{E007}").await.unwrap(); // Enter
        c.wait().for_element(Locator::Id("real-popularity")).await.unwrap();
        let url = c.current_url().await.unwrap();
        assert_eq!(url.query(), Some("track=0VjIjW4GlUZAMYd2vXMi3b"), "{url}");

        // Genres as chips: typed, suggested, added with the keys; a chip's button removes it.
        let chosen = |c: fantoccini::Client| async move {
            c.execute(
                "return [Array.from(document.getElementById('genres').selectedOptions, o => o.value),
                         Array.from(document.querySelectorAll('#genre-chips button.chip'), b => b.getAttribute('aria-label'))];",
                vec![],
            )
            .await
            .unwrap()
        };
        let before = chosen(c.clone()).await;
        // A mark on this page: gone if Enter submitted the form.
        c.execute("window.stayed = true", vec![]).await.unwrap();
        let add = c.find(Locator::Id("genre-filter")).await.unwrap();
        add.send_keys("hip-h").await.unwrap();
        c.wait()
            .for_element(Locator::Css("#genre-list li[role=option]"))
            .await
            .unwrap();
        add.send_keys("\u{E015}\u{E007}").await.unwrap(); // arrow down, Enter
        let after = chosen(c.clone()).await;
        assert!(
            after[0].as_array().unwrap().contains(&json!("hip-hop")),
            "{before} then {after}"
        );
        assert!(
            after[1].as_array().unwrap().contains(&json!("remove hip-hop")),
            "{after}"
        );
        assert_eq!(
            c.execute("return window.stayed === true", vec![]).await.unwrap(),
            json!(true),
            "Enter submitted the form"
        );
        shot("app-genre-chips.png").await;
        c.find(Locator::Css("#genre-chips button[aria-label='remove hip-hop']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(chosen(c.clone()).await, before);

        // Compare: "Add to comparison" on two tracks' pages puts them side by side (the tab
        // remembers the first), with what differs most between them.
        c.goto(&format!("{base}/predict?q=Comedy+Gen+Hoshino")).await.unwrap();
        c.wait().for_element(Locator::Id("compare-add")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("compare")).await.unwrap();
        c.goto(&format!("{base}/predict?track=0VjIjW4GlUZAMYd2vXMi3b")).await.unwrap();
        c.wait().for_element(Locator::Id("compare-add")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("compare")).await.unwrap();
        let compared = c
            .execute(
                "return [Array.from(document.querySelectorAll('#compare th[scope=col]'), t => t.firstChild.textContent.trim()),
                         document.querySelectorAll('#compare tr.difference').length];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            compared,
            json!([["Comedy · Gen Hoshino", "Blinding Lights · The Weeknd"], 6]),
            "{compared}"
        );
        shot("app-compare.png").await;

        // A new song from its audio file: picked in the file box, it is measured at once; the
        // measures fill the form, marked, the learned sliders are disabled, and the from-audio
        // model answers.
        c.goto(&format!("{base}/predict")).await.unwrap();
        c.execute(
            "const g = document.getElementById('genres');
             for (const o of g.options) o.selected = o.value === 'pop';",
            vec![],
        )
        .await
        .unwrap();
        let file = c.find(Locator::Id("audio-file")).await.unwrap();
        file.send_keys(song.to_str().unwrap()).await.unwrap();
        c.wait().for_element(Locator::Css("p.measured")).await.unwrap();
        let note = text("p.measured").await;
        assert!(note.starts_with("Measured from demo.wav."), "{note}");
        let tempo: f64 = c
            .find(Locator::Id("tempo"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert!((tempo - 120.0).abs() < 2.4, "measured tempo {tempo}");
        let disabled = c
            .execute(
                "return [document.getElementById('danceability').disabled,
                         document.getElementById('answered-by').dataset.model,
                         Array.from(document.getElementById('genres').selectedOptions, o => o.value)];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(disabled, json!([true, "from-audio", ["pop"]]));
        shot("app-predict-audio.png").await;

        for path in ["/explore", "/models"] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            assert_eq!(unreadable_text().await, json!([]), "{path}: chart text at 1200 px");
        }

        // Phones, as Chromium's device emulation draws them (390 x 844 CSS px, a mobile
        // viewport, touch): no page scrolls sideways, the navigation included.
        c.issue_cmd(Cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
        ))
        .await
        .unwrap();
        c.issue_cmd(Cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true, "maxTouchPoints": 5}),
        ))
        .await
        .unwrap();
        for (path, name) in [
            ("/", "phone-welcome.png"),
            ("/predict?q=Comedy+Gen+Hoshino", "phone-predict.png"),
            ("/explore", "phone-explore.png"),
            ("/models", "phone-models.png"),
            ("/api/docs", "phone-docs.png"),
            (
                "/compare?s=track%3D5SuOikwiRyPMVoIQDJUgSV&s=track%3D0VjIjW4GlUZAMYd2vXMi3b",
                "phone-compare.png",
            ),
        ] {
            c.goto(&format!("{base}{path}")).await.unwrap();
            let widths = c
                .execute(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                widths[0].as_f64().unwrap() <= widths[1].as_f64().unwrap(),
                "{path} scrolls sideways at 390 px: {widths}"
            );
            assert_eq!(unreadable_text().await, json!([]), "{path}: chart text at 390 px");
            shot(name).await;
        }
        // Explore has a menu of its sections that stays in reach: a jump lands on the section
        // with the menu still at the top.
        c.goto(&format!("{base}/explore")).await.unwrap();
        let menu = c
            .execute(
                "return Array.from(document.querySelectorAll('nav.contents a'), a => a.getAttribute('href'));",
                vec![],
            )
            .await
            .unwrap();
        assert!(menu.as_array().unwrap().contains(&json!("#outliers")), "{menu}");
        // It opens with what matters for popularity, not with how the rows were cleaned.
        assert_eq!(menu[0], json!("#glance"), "{menu}");
        c.execute("document.querySelector('nav.contents a[href=\"#correlation\"]').click()", vec![])
            .await
            .unwrap();
        let placed = c
            .execute(
                "const h = document.getElementById('correlation').getBoundingClientRect();
                 const n = document.querySelector('nav.contents').getBoundingClientRect();
                 return [Math.round(n.top), Math.round(n.bottom), Math.round(h.top)];",
                vec![],
            )
            .await
            .unwrap();
        let (top, bottom, section) = (
            placed[0].as_i64().unwrap(),
            placed[1].as_i64().unwrap(),
            placed[2].as_i64().unwrap(),
        );
        assert!(
            top == 0 && section >= bottom - 1 && section < bottom + 60,
            "menu and section after the jump: {placed}"
        );
        shot("phone-explore-menu.png").await;

        // On a phone, after a slider moves, the summary bar at the foot shows the new answer.
        c.goto(&format!("{base}/predict?q=Comedy+Gen+Hoshino")).await.unwrap();
        c.wait().for_element(Locator::Id("real-popularity")).await.unwrap();
        // Every control a thumb can hit is at least 44 px tall.
        let small = c
            .execute(
                "const small = [];
                 for (const e of document.querySelectorAll('button, select, input:not([type=hidden]):not([type=checkbox]), summary, header nav a, .field.check label')) {
                   const h = e.getBoundingClientRect().height;
                   if (h > 0 && h < 44) small.push((e.id || e.tagName) + ' ' + h);
                 }
                 return small;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(small, json!([]), "tap targets under 44 px on a phone");
        // The similar tracks and the explanation fit: nothing cut off or scrolled within.
        let cut = c
            .execute(
                "const t = document.getElementById('similar');
                 const names = Array.from(document.querySelectorAll('ol.waterfall .name'))
                   .filter(n => n.scrollWidth > n.clientWidth + 1).length;
                 return [t ? t.scrollWidth <= t.parentElement.clientWidth : null, names];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(cut, json!([true, 0]), "similar table fits, no clipped names");
        // A what-if curve opened on a phone: its large chart's text is readable and whole.
        c.execute(
            "const s = document.querySelector('.curve-slot[data-feature=danceability] summary');
             s.scrollIntoView(); s.click();",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(unreadable_text().await, json!([]), "the what-if chart on a phone");
        shot("phone-what-if-open.png").await;
        let bar = text("div.summary-bar").await;
        let energy = c.find(Locator::Id("energy")).await.unwrap();
        c.execute("document.getElementById('energy').scrollIntoView()", vec![])
            .await
            .unwrap();
        energy.send_keys(&"\u{E014}".repeat(30)).await.unwrap();
        let started = Instant::now();
        while updates(c.clone()).await.is_none() {
            assert!(started.elapsed() < Duration::from_secs(10), "no live update on a phone");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_ne!(text("div.summary-bar").await, bar);
        assert_eq!(in_view(c.clone(), "div.summary-bar").await, json!(true));
        shot("phone-slider-moved.png").await;
        c.close().await.unwrap();
    });
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
            "error": "the request took longer than the server's limit of 1 s (--timeout)",
            "errors": []
        })
    );
    // A page route with the wrong method: the site's page, saying what the route takes.
    let (status, page) = server.get("/predict/result");
    assert_eq!(status, 405);
    assert!(page.contains("<h1>Method Not Allowed</h1>"), "{page}");
    assert!(
        page.contains("/predict/result does not take GET."),
        "{page}"
    );
    let (status, text) = server.request("DELETE", "/api/v1/model", "text/plain", b"");
    assert_eq!(status, 405);
    assert!(
        text.contains("/api/v1/model does not take DELETE; it takes GET"),
        "{text}"
    );
}

/// A synthetic catalogue where only danceability decides popularity: 1,500 tracks, each by its
/// own artist, popular (80) when danceability is above 0.6, else 20.
fn synthetic(path: &Path) {
    let mut csv = String::from(super::HEADER);
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
    let o = super::hitcast(&[
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
    assert!(o.status.success(), "{}", super::stderr(&o));
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

/// A dataset track as the API takes it, under `track_id`.
pub(super) fn track_json(tracks: &hitcast::data::Tracks, i: usize, track_id: String) -> Value {
    use hitcast::data::Column;
    let t = &tracks.rows[i];
    let mut object = serde_json::Map::new();
    object.insert("track_id".into(), json!(track_id));
    object.insert("track_name".into(), json!(t.track_name));
    object.insert("artists".into(), json!(t.artists));
    object.insert("album_name".into(), json!(t.album_name));
    for (column, &v) in Column::AUDIO.iter().zip(&t.audio) {
        let value = if *column == Column::Explicit {
            json!(v == 1.0)
        } else {
            json!(v)
        };
        object.insert(column.name().into(), value);
    }
    let genres: Vec<&str> = t
        .genres
        .iter()
        .map(|&g| tracks.genres[usize::from(g)].as_str())
        .collect();
    object.insert("genres".into(), json!(genres));
    Value::Object(object)
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
    assert!(few["prior"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("too few tracks (1) to estimate their base rate"));
}

/// A `multipart/form-data` body of text fields and one file part, and its content type.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "hitcast-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    let (name, file_name, bytes) = file;
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_song_s_audio_file_is_measured_and_answered_by_the_api_and_the_page() {
    let dir = scratch("serve-audio");
    let song = dir.join("demo.wav");
    super::click_song(&song, 120.0, 20.0);
    let wav = std::fs::read(&song).unwrap();
    assert!(wav.len() < 1_000_000);
    let server = Server::start(&["--audio-limit", "1000000"]);
    let json = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };

    // The file as the body, the song's fields in the query string.
    let path = "/api/v1/predict/audio?genres=pop&track_name=Demo&artists=Me";
    let (status, text) = server.request("POST", path, "audio/wav", &wav);
    assert_eq!(status, 200, "{text}");
    let raw = json(&text);
    assert_eq!(raw["prediction"]["model"], "from-audio", "{raw}");
    let tempo = raw["measured"]["tempo"].as_f64().unwrap();
    assert!((tempo - 120.0).abs() < 2.4, "{raw}");
    assert_eq!(raw["measured"]["duration_ms"], json!(20_000.0));
    assert_eq!(
        raw["track"]["danceability"],
        Value::Null,
        "learned columns absent"
    );
    assert_eq!(raw["track"]["genres"], json!(["pop"]));
    assert_eq!(raw["track"]["track_name"], "Demo");

    // As multipart: the same answer.
    let (content_type, body) = multipart(
        &[("genres", "pop"), ("track_name", "Demo"), ("artists", "Me")],
        ("file", "demo.wav", &wav),
    );
    let (status, text) = server.request("POST", "/api/v1/predict/audio", &content_type, &body);
    assert_eq!(status, 200, "{text}");
    let parted = json(&text);
    assert_eq!(parted["prediction"], raw["prediction"]);
    assert_eq!(parted["measured"], raw["measured"]);

    // The measured track posted back to the JSON API, learned columns absent: the same
    // answer, from the same model; `hitcast predict --audio` gives it too.
    let (status, back) = server.post_json("/api/v1/predict", &raw["track"]);
    assert_eq!(status, 200, "{back}");
    assert_eq!(back, raw["prediction"]);
    let o = super::hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
        "--title",
        "Demo",
        "--artists",
        "Me",
    ]);
    assert!(o.status.success(), "{}", super::stderr(&o));
    let csv = String::from_utf8(o.stdout).unwrap();
    let cells: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let cli: f64 = cells[1].parse().unwrap();
    let api = raw["prediction"]["probability"].as_f64().unwrap();
    assert!((cli - api).abs() < 1e-6, "CLI {cli} against API {api}");

    // Some learned columns but not all: refused, naming the missing ones.
    let mut partial = comedy();
    partial.as_object_mut().unwrap().remove("valence");
    let (status, refused) = server.post_json("/api/v1/predict", &partial);
    assert_eq!(status, 422, "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert_eq!(refused["errors"][0]["field"], "valence");
    assert!(
        message.contains("leave out all seven learned columns"),
        "{message}"
    );

    // What is refused, and how.
    let refused = |content_type: &str, body: &[u8], want: u16, says: &str| {
        let (status, text) = server.request("POST", "/api/v1/predict/audio", content_type, body);
        assert_eq!(status, want, "{text}");
        let error = json(&text)["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{text}");
    };
    refused("text/plain", b"la la", 415, "is not audio");
    refused("audio/mpeg", &[7u8; 4000], 415, "send WAV, FLAC");
    refused(
        "audio/wav",
        &vec![0u8; 1_200_000],
        413,
        "over the server's limit of 1 MB",
    );
    let clip = dir.join("clip.wav");
    super::click_song(&clip, 120.0, 1.0);
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict/audio",
        "audio/wav",
        &std::fs::read(&clip).unwrap(),
    );
    assert_eq!(status, 422, "{text}");
    assert_eq!(
        json(&text)["errors"][0],
        json!({"field": "file", "message": "the body: it lasts 1.0 s: at least 5 s are needed to measure a tempo"})
    );
    let (status, text) =
        server.request("POST", "/api/v1/predict/audio?tempo=120", "audio/wav", &wav);
    assert_eq!(status, 422, "{text}");
    assert_eq!(json(&text)["errors"][0]["field"], "tempo");
    let (content_type, body) = multipart(&[("genres", "pop")], ("other", "x.wav", b"x"));
    let (status, text) = server.request("POST", "/api/v1/predict/audio", &content_type, &body);
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("no audio file"), "{text}");

    // The page: the whole form with the file (its Measure button), back with what was
    // measured, the learned sliders disabled and the from-audio model's answer.
    let (content_type, body) = multipart(
        &[
            ("track_id", ""),
            ("danceability", "0.5"),
            ("tempo", "99"),
            ("genres", "pop"),
            ("track_name", "Demo"),
        ],
        ("file", "demo.wav", &wav),
    );
    let (status, page) = server.request("POST", "/predict/audio", &content_type, &body);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Measured from <b>demo.wav</b>"), "{page}");
    assert!(page.contains("data-model=\"from-audio\""), "{page}");
    assert!(
        page.contains("id=\"danceability\" type=\"range\" name=\"danceability\" min=\"0\" max=\"1\" step=\"any\" value=\"\" disabled"),
        "the learned sliders are disabled"
    );
    assert!(
        !page.contains("value=\"99\""),
        "the measured tempo replaces the typed one"
    );
    // Its live answer, from the form as the browser sends it (disabled sliders left out).
    let (status, panel) = server.post_form(
        "/predict/result",
        &[
            ("track_id", ""),
            ("tempo", &tempo.to_string()),
            ("loudness", "-20"),
            ("duration_min", "0"),
            ("duration_sec", "20"),
            ("key", "9"),
            ("mode", "0"),
            ("time_signature", "4"),
            ("genres", "pop"),
            ("measured_from", "demo.wav"),
        ],
    );
    assert_eq!(status, 200, "{panel}");
    assert!(panel.contains("data-model=\"from-audio\""), "{panel}");
    // A file that cannot be measured: the form comes back as sent, with why.
    let (content_type, body) = multipart(
        &[("genres", "pop"), ("track_name", "Demo")],
        ("file", "clip.wav", &std::fs::read(&clip).unwrap()),
    );
    let (status, page) = server.request("POST", "/predict/audio", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("clip.wav: it lasts 1.0 s"), "{page}");
}

/// What `hitcast predict --keep track_name,artists` writes for a file of tracks.
fn predicted(input: &Path) -> String {
    let o = super::hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--keep",
        "track_name,artists",
    ]);
    assert!(o.status.success(), "{}", super::stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// The Predict page's upload box: a file of tracks in (CSV or Parquet), `hitcast predict`'s
/// CSV out, streamed; a bad row named by its line before any answer; the upload's temporary
/// file gone afterwards.
#[test]
fn a_file_of_tracks_is_scored_from_the_page_as_predict_scores_it() {
    let dir = scratch("serve-batch");
    let csv = dir.join("tracks.csv");
    let text = super::dataset_head(5000);
    std::fs::write(&csv, &text).unwrap();
    let parquet = dir.join("tracks.parquet");
    super::parquet::write(&parquet, &super::parquet::rows(5000), None);
    let server = Server::start(&["--batch-file-limit", "3000000"]);
    let expected = predicted(&csv);
    assert_eq!(expected.lines().count(), 5001);
    for (name, path) in [("tracks.csv", &csv), ("tracks.parquet", &parquet)] {
        let (content_type, body) = multipart(&[], ("file", name, &std::fs::read(path).unwrap()));
        let (status, answer) = server.request("POST", "/predict/batch", &content_type, &body);
        assert_eq!(status, 200, "{name}: {}", &answer[..answer.len().min(500)]);
        assert!(
            answer == expected,
            "{name}: the answers differ from hitcast predict's"
        );
    }
    // A bad row: named by the file's own name, line and column, nothing scored.
    let bad = text.replacen("87.917", "-5", 1);
    let (content_type, body) = multipart(&[], ("file", "mine.csv", bad.as_bytes()));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("mine.csv:2:"), "{page}");
    assert!(
        page.contains("expected a tempo from 0 to 300 BPM"),
        "{page}"
    );
    // Over the limit: 413, naming the flag.
    let big = vec![b'x'; 3_100_000];
    let (content_type, body) = multipart(&[], ("file", "big.csv", &big));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("--batch-file-limit"), "{page}");
    // No file part.
    let (content_type, body) = multipart(&[], ("other", "x.csv", b"a"));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("no file"), "{page}");
    // Every upload's temporary folder is gone.
    let prefix = format!("hitcast-upload-{}-", server.child.id());
    let left: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The page has the box.
    let (_, page) = server.get("/predict");
    assert!(
        page.contains("action=\"/predict/batch\" enctype=\"multipart/form-data\""),
        "{page}"
    );
}

/// `/compare`: scenarios as the Predict form's query strings (or a track's id), side by side,
/// each answer the API's own.
#[test]
fn scenarios_and_tracks_are_compared_side_by_side() {
    let server = Server::start(&[]);
    server.wait_for_catalogue();
    let encode = |s: &str| -> String { form_urlencoded_encode(s) };
    let comedy_id = "track=5SuOikwiRyPMVoIQDJUgSV";
    // A scenario: a typed song, as the Predict page's link holds it.
    let typed = "track_id=&duration_min=3&duration_sec=20&danceability=0.8&energy=0.7&key=0\
                 &loudness=-5&mode=1&speechiness=0.05&acousticness=0.1&instrumentalness=0\
                 &liveness=0.1&valence=0.6&tempo=120&time_signature=4&genres=pop&track_name=Mine";
    let (status, page) = server.get(&format!(
        "/compare?s={}&s={}&q=Blinding+Lights+Weeknd",
        encode(comedy_id),
        encode(typed)
    ));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<th scope=\"col\">").count(), 3, "{page}");
    assert!(page.contains("Comedy · Gen Hoshino"), "{page}");
    assert!(page.contains("Blinding Lights · The Weeknd"), "{page}");
    assert!(
        page.contains(">Mine<br>") || page.contains("Mine<br>"),
        "{page}"
    );
    assert_eq!(
        page.matches("<tr class=\"difference\">").count(),
        6,
        "{page}"
    );
    // Each column's chance is the API's for the same track (the catalogue's, genres merged).
    let (_, found) = server.get("/api/v1/tracks?q=5SuOikwiRyPMVoIQDJUgSV");
    let found: Value = serde_json::from_str(&found).unwrap();
    let (_, one) = server.post_json("/api/v1/predict", &found["tracks"][0]["features"]);
    let chance = format!(
        "data-probability=\"{}\"",
        one["probability"].as_f64().unwrap()
    );
    assert!(page.contains(&chance), "{chance} in {page}");
    // Its remove link keeps the others; a fifth scenario is one too many.
    assert!(
        page.contains(&format!("href=\"/compare?s={}&amp;s=", encode(typed))),
        "{page}"
    );
    let five: Vec<String> = (0..5).map(|_| format!("s={}", encode(comedy_id))).collect();
    let (status, page) = server.get(&format!("/compare?{}", five.join("&")));
    assert_eq!(status, 200);
    assert!(page.contains("At most 4 are compared"), "{page}");
    // A bad scenario says what is wrong with it, and the rest are compared.
    let (_, page) = server.get(&format!(
        "/compare?s={}&s={}",
        encode(comedy_id),
        encode("tempo=-5")
    ));
    assert!(page.contains("Scenario 2: "), "{page}");
    assert_eq!(page.matches("<th scope=\"col\">").count(), 1, "{page}");
    // The Predict page links its scenario.
    let (_, page) = server.get("/predict?q=Comedy+Gen+Hoshino");
    assert!(
        page.contains("id=\"compare-add\" href=\"/compare?s=track_id%3D5SuOikwiRyPMVoIQDJUgSV"),
        "{page}"
    );
}

/// Percent-encodes a query value as a form does.
fn form_urlencoded_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

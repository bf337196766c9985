//! `hitcast serve` as operations run it: a reload under load fails no request, SIGTERM drains
//! then exits 0 past its deadline, and real clients of its protocols (tritonclient for the Open
//! Inference Protocol, prometheus_client's parsers for /metrics) work against it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::serve::{comedy, model, track_json, Server};
use super::{dataset_head, predict, scratch};

const ADMIN_KEY: &str = "admin-key-for-the-tests-0123";

fn signal(server: &Server, name: &str) {
    let pid = server.pid().to_string();
    assert!(Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap()
        .success());
}

/// Replaces `path` with `bytes` as an operator's deploy would: a new file renamed over it.
fn deploy(path: &Path, bytes: &[u8]) {
    let next = path.with_extension("next");
    std::fs::write(&next, bytes).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[test]
fn a_reload_under_load_fails_no_request_and_a_bad_file_keeps_the_old_model() {
    let dir = scratch("ops-reload");
    let file = dir.join("served.hitcast");
    let good = std::fs::read(model()).unwrap();
    std::fs::write(&file, &good).unwrap();
    let key = dir.join("admin.key");
    std::fs::write(&key, format!("{ADMIN_KEY}\n")).unwrap();
    let server = Server::start_with(&file, &["--admin-key-file", key.to_str().unwrap()]);
    let (status, before) = server.post_json("/api/v1/predict", &comedy());
    assert_eq!(status, 200, "{before}");

    let stop = AtomicBool::new(false);
    let answered = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let (status, answer) = server.post_json("/api/v1/predict", &comedy());
                    if status == 200 && answer["probability"] == before["probability"] {
                        answered.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.lock().unwrap().push(format!("{status} {answer}"));
                    }
                }
            });
        }
        // Good reloads by signal, a corrupt file, then the good one back by the admin route.
        // Each signal waits for its reload to be counted: two signals sent while one reload
        // runs are one more reload, not two, and a busy machine reloads slowly.
        for done in 1..=3 {
            signal(&server, "HUP");
            wait_for_reloads(&server, "ok", done);
        }
        let mut corrupt = good.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        deploy(&file, &corrupt);
        signal(&server, "HUP");
        wait_for_reloads(&server, "failed", 1);
        deploy(&file, &good);
        let (status, text) = server.request("POST", "/admin/reload", "application/json", b"");
        assert_eq!(status, 401, "{text}");
        let reloaded = admin_reload(&server);
        assert!(reloaded.contains("\"reloaded\":true"), "{reloaded}");
        std::thread::sleep(Duration::from_millis(150));
        stop.store(true, Ordering::Relaxed);
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert!(
        answered.load(Ordering::Relaxed) > 20,
        "{}",
        answered.load(Ordering::Relaxed)
    );
    let (_, metrics) = server.get("/metrics");
    let count = |result: &str| -> f64 {
        let prefix = format!("hitcast_model_reloads_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
    };
    assert_eq!((count("ok"), count("failed")), (4.0, 1.0), "{metrics}");
    let (clean, _, log) = server.terminate();
    assert!(clean, "{log}");
    // A good reload logs at INFO (`-v`); a failed one at ERROR, always.
    assert!(
        log.contains("model not reloaded")
            && log.contains("checksum")
            && log.contains("keeps answering"),
        "{log}"
    );
    assert!(!log.contains(ADMIN_KEY), "the admin key reached the log");
}

/// Waits (up to 30 s) until `/metrics` counts `n` reloads with `result`.
fn wait_for_reloads(server: &Server, result: &str, n: u32) {
    let prefix = format!("hitcast_model_reloads_total{{result=\"{result}\"}} ");
    let started = Instant::now();
    loop {
        let (_, metrics) = server.get("/metrics");
        let counted = metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if counted >= f64::from(n) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{n} {result} reloads never counted: {metrics}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn admin_reload(server: &Server) -> String {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let head = format!(
        "POST /admin/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    raw
}

/// A client that hangs up before its body is whole is counted as one that gave up (499), not
/// as a bad request (400): alerts on 4xx then mean what they say.
#[test]
fn a_client_that_leaves_mid_upload_is_counted_499() {
    let server = Server::start(&[]);
    let mut leaving = TcpStream::connect(server.addr()).unwrap();
    leaving
        .write_all(
            b"POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tracks\": [",
        )
        .unwrap();
    drop(leaving);
    let counted = |status: &str| -> bool {
        let (_, metrics) = server.get("/metrics");
        metrics.lines().any(|l| {
            l.starts_with("hitcast_http_requests_total{")
                && l.contains("route=\"/api/v1/predict\"")
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !counted("499") {
        assert!(Instant::now() < deadline, "no 499 counted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!counted("400"));
}

#[test]
fn sigterm_stops_accepting_drains_and_exits_0_past_its_deadline() {
    let server = Server::start(&["--shutdown-timeout", "2"]);
    // A request in flight that never ends: its body is promised and never sent.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled
        .write_all(b"POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tracks\":")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let addr = server.addr().to_owned();
    let started = Instant::now();
    signal(&server, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    // No new connection is taken once it is stopping.
    let refused = TcpStream::connect(&addr).map_or(true, |mut s| {
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut raw = String::new();
        let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
        s.read_to_string(&mut raw).map_or(true, |_| raw.is_empty())
    });
    assert!(refused, "a new connection was answered while stopping");
    let (clean, rest, log) = server.wait();
    let took = started.elapsed();
    assert!(clean, "exit status not 0: {log}");
    assert!(rest.contains("stopped"), "{rest}");
    assert!(
        took >= Duration::from_millis(1500),
        "did not wait for the stalled request: {took:?}"
    );
    // The stalled request's connection, counted.
    assert!(
        log.contains("1 connection still open after 2s (--shutdown-timeout) dropped"),
        "{log}"
    );
    drop(stalled);
}

#[test]
fn a_shutdown_delay_answers_new_connections_while_readiness_says_stopping() {
    let server = Server::start(&["--shutdown-delay", "3", "-v"]);
    assert_eq!(
        server.get("/v2/health/ready"),
        (200, r#"{"ready":true}"#.to_owned())
    );
    let started = Instant::now();
    signal(&server, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    // Each request below is a new connection, and each is answered.
    assert_eq!(
        server.get("/v2/health/ready"),
        (400, r#"{"ready":false}"#.to_owned())
    );
    assert_eq!(
        server.get("/v2/models/hitcast/ready"),
        (400, r#"{"name":"hitcast","ready":false}"#.to_owned())
    );
    let (status, health) = server.get("/healthz");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains(r#""status":"stopping""#), "{health}");
    let (status, answer) = server.post_json("/api/v1/predict", &comedy());
    assert_eq!(status, 200, "{answer}");
    let (clean, rest, log) = server.wait();
    assert!(clean, "exit status not 0: {log}");
    assert!(rest.contains("stopped"), "{rest}");
    assert!(
        started.elapsed() >= Duration::from_millis(2800),
        "{:?}",
        started.elapsed()
    );
    assert!(log.contains("stopping in 3s (--shutdown-delay)"), "{log}");
    // Then the stop as without a delay: no connection was left open.
    assert!(
        log.contains("stopping: no new connections; 0 connections open, given 30s"),
        "{log}"
    );
}

#[test]
fn a_second_signal_stops_at_once_and_half_sent_headers_are_cut_off() {
    // The second signal comes during the delay: it ends the delay and the drain both.
    let server = Server::start(&[
        "--shutdown-timeout",
        "600",
        "--shutdown-delay",
        "600",
        "--timeout",
        "1",
    ]);
    // Half a header: closed when --timeout has passed, a stop waiting on it or not.
    let mut half = TcpStream::connect(server.addr()).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    half.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut raw = Vec::new();
    let ended = half.read_to_end(&mut raw);
    assert!(ended.is_ok(), "still open after 20 s: {ended:?}");
    // An upload that never ends holds the drain, until the second signal (the page's upload
    // is outside --timeout: a large file takes as long as it takes).
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled
        .write_all(b"POST /predict/batch HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    signal(&server, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    let (clean, _, log) = server.terminate();
    assert!(clean, "{log}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(
        log.contains("stopped at the second signal: 1 connection still open dropped"),
        "{log}"
    );
    drop(stalled);
}

/// tritonclient and prometheus_client against the server: skipped without them, except under
/// `HITCAST_REQUIRE_PYTHON` (CI).
#[test]
fn real_clients_of_the_inference_protocol_and_of_metrics_work() {
    if !super::python_has(
        "tritonclient.http, prometheus_client, numpy",
        "pip install 'tritonclient[http]' prometheus_client",
    ) {
        return;
    }
    let dir = scratch("ops-clients");
    let tracks = dir.join("tracks.csv");
    std::fs::write(&tracks, dataset_head(200)).unwrap();
    let answers = dir.join("answers.csv");
    let o = predict(model(), &tracks, &answers, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let server = Server::start(&[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/ops_clients.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([
            server.addr(),
            tracks.to_str().unwrap(),
            answers.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("tritonclient: 200 tracks answered"), "{said}");
    assert!(said.contains("prometheus_client:"), "{said}");
}

/// schemathesis finds no mismatch between the OpenAPI document and the server (every check, 100
/// examples an operation, a fixed seed): skipped without it, except under
/// `HITCAST_REQUIRE_PYTHON` (CI). The audio upload is left out: whether a body is audio hitcast
/// decodes cannot be said in a schema, so random bytes are rightly refused. `--max-batch 100`
/// keeps the generated batches quick in a debug build.
#[test]
fn schemathesis_finds_no_mismatch_between_the_document_and_the_server() {
    // Through python3, not the `st` script: a fresh pip install need not have put it on PATH.
    if !super::python_has("schemathesis.cli", "pip install schemathesis") {
        return;
    }
    let server = Server::start(&["--max-batch", "100"]);
    server.wait_for_catalogue();
    let out = Command::new("python3")
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://{}/api/openapi.json", server.addr()))
        .args([
            "--checks",
            "all",
            "--max-examples",
            "100",
            "--seed",
            "1",
            "--no-color",
        ])
        .args(["--exclude-path", "/api/v1/predict/audio"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && said.contains("No issues found"),
        "{said}"
    );
}

/// The limits agree: 10,000 tracks, the batch limit, fit the default body limit, even the
/// dataset's 10,000 longest as JSON; one more track is refused by the batch limit, named.
#[test]
fn ten_thousand_real_tracks_fit_the_default_body_limit() {
    use hitcast::data::{read_rows, ReadOptions};
    use hitcast::split::Protocol;
    let loaded = read_rows(&super::dataset(), &ReadOptions::labelled()).unwrap();
    let tracks = Protocol::Honest.table(loaded.rows);
    let mut all: Vec<serde_json::Value> = (0..tracks.len())
        .map(|i| track_json(&tracks, i, tracks.rows[i].track_id.clone()))
        .collect();
    all.sort_by_key(|t| std::cmp::Reverse(t.to_string().len()));
    let batch = serde_json::json!({ "tracks": &all[..10_000] });
    let bytes = batch.to_string().len();
    assert!(bytes > 4_000_000 && bytes < 16 << 20, "{bytes} bytes");
    let server = Server::start(&[]);
    let (status, answer) = server.post_json("/api/v1/predict", &batch);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["predictions"].as_array().map(Vec::len), Some(10_000));
    let over = serde_json::json!({ "tracks": &all[..10_001] });
    let (status, answer) = server.post_json("/api/v1/predict", &over);
    assert_eq!(status, 422);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--max-batch"),
        "{answer}"
    );
    eprintln!("10,000 longest tracks: {bytes} bytes");
}

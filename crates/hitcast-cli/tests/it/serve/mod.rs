//! `hitcast serve` over a real socket, a file a surface: the JSON API ([`api`]), the pages
//! without a browser ([`pages`]), the app in headless Chromium ([`app`]) and audio uploads
//! ([`audio`]); the operations side (limits, reloads, shutdown) is in `ops.rs`. Here: the
//! running server and what its tests share.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{dataset, train_quick, HEADER, ROW};

mod api;
mod app;
mod audio;
mod pages;

/// One gbm model for every test here (training takes a while in a debug build).
pub(super) fn model() -> &'static Path {
    // Shared by the server tests of one run, so never dropped: in Cargo's temporary folder
    // for integration tests under one name, each run's replacing the last's.
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-model");
        std::fs::create_dir_all(&dir).unwrap();
        train_quick(&dir, "m.hitcast", "gbm", "linear")
    })
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
    pub(super) fn terminate(self) -> (bool, String, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        self.wait()
    }

    /// Waits for the server to exit: whether it exited 0, its stdout and its log.
    pub(super) fn wait(mut self) -> (bool, String, String) {
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

/// What `hitcast predict --keep track_name,artists` writes for a file of tracks.
fn predicted_csv(input: &Path) -> String {
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

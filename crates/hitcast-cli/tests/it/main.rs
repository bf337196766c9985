//! End-to-end tests of the `hitcast` binary: exit codes, stdout JSON and stderr messages, on
//! the real dataset and on small files written by the tests.

// In a test binary a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hitcast::testutil::ScratchDir;
use serde_json::Value;

mod audio;
mod bad_input;
mod catalogues;
mod data;
mod experiment;
mod models;
mod ops;
mod pages;
mod parquet;
mod python;
mod serve;

/// The dataset's header and its first `rows` data lines, as CSV text.
fn dataset_head(rows: usize) -> String {
    use std::io::Read as _;
    let mut all = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dataset()).unwrap())
        .read_to_string(&mut all)
        .unwrap();
    all.lines()
        .take(rows + 1)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Whether python3 imports `modules` (comma-separated, as `import` takes them). Without them a
/// test skips, saying `install`, except under `HITCAST_REQUIRE_PYTHON` (CI), where it fails.
fn python_has(modules: &str, install: &str) -> bool {
    let ready = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            std::env::var_os("HITCAST_REQUIRE_PYTHON").is_none(),
            "python3 cannot import {modules}: {install}"
        );
        eprintln!("skipped: {install} to run it");
    }
    ready
}

/// `$HITCAST_DATA`, or the copy the repository ships in `data/`.
fn dataset() -> PathBuf {
    if let Some(path) = std::env::var_os("HITCAST_DATA") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/spotify_tracks.csv.gz");
    assert!(
        path.is_file(),
        "the dataset is missing: set HITCAST_DATA or put it at {}",
        path.display()
    );
    path
}

/// The independent TidyTuesday sample, which lives beside the repository (`../shared/data/
/// external`), not in it. Absent on a bare clone: the tests that need it say so and pass; CI
/// sets `HITCAST_REQUIRE_EXTERNAL` so there they cannot skip.
fn external() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/external/tidytuesday_spotify_songs.csv.gz");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("HITCAST_REQUIRE_EXTERNAL").is_none(),
        "the external sample is missing at {}",
        path.display()
    );
    eprintln!("skipped: no external sample at {}", path.display());
    None
}

fn hitcast(args: &[&str]) -> Output {
    hitcast_in(&std::env::temp_dir(), args)
}

fn hitcast_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hitcast"))
        .args(args)
        .current_dir(dir)
        .env_remove("HITCAST_DATA")
        .output()
        .unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch directory for one test, gone when the test passes.
fn scratch(name: &str) -> ScratchDir {
    ScratchDir::new(&format!("cli-{name}"))
}

const HEADER: &str = "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,\
    danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,\
    valence,tempo,time_signature,track_genre";

const ROW: &str = "5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,\
    0.461,1,-6.746,0,0.143,0.0322,1.01e-06,0.358,0.715,87.917,4,acoustic";

#[test]
fn usage_errors_exit_2_and_every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["data", "--help"],
        &["data", "check", "--help"],
        &["data", "split", "--help"],
        &["bench", "load", "--help"],
        &["explain", "--help"],
        &["train", "--help"],
        &["features", "--help"],
    ] {
        let out = hitcast(args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: hitcast"),
            "{args:?}"
        );
    }
    let out = hitcast(&["data", "split", "--fold", "5"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hitcast(&["data", "split", "--protocol", "random"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown protocol \"random\""),
        "{}",
        stderr(&out)
    );
    let out = hitcast(&["data", "check", "--map", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hitcast(&[
        "predict", "--model", "m", "--input", "x.csv", "--map", "a=bogus",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--map"), "{}", stderr(&out));
    let out = hitcast(&["train", "--coverage", "1.5", "--out", "m.hitcast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("strictly between 0 and 1"),
        "{}",
        stderr(&out)
    );
    // An empty genre would be written to the row as one.
    let out = hitcast(&["features", "song.wav", "--genre", "pop", "--genre", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected a genre's name, not an empty one"),
        "{}",
        stderr(&out)
    );
    // A song is answered by the from-audio model, which reads genres: ignoring them is refused
    // before any file is read.
    let out = hitcast(&[
        "predict", "--model", "m", "--audio", "song.wav", "--genres", "ignore",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "--genres ignore: a song measured from audio is answered by the from-audio model"
        ),
        "{}",
        stderr(&out)
    );
    // Neither tracks nor songs: the error names both ways.
    let out = hitcast(&["predict", "--model", "m"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("<--input <FILE>|--audio <SONG>...>"),
        "{}",
        stderr(&out)
    );
    // A limit of 0 would refuse or cut off every request; a route's name cannot be empty.
    for (flag, value, said) in [
        ("--max-batch", "0", "must be at least 1"),
        ("--max-concurrency", "0", "must be at least 1"),
        ("--timeout", "0", "must be at least 1"),
        (
            "--body-limit",
            "ten",
            "expected a whole number, got \"ten\"",
        ),
        ("--timeout", "99999999999999999", "must be at most 86400"),
        ("--model-name", "", "letters, digits, '.', '_' or '-'"),
        ("--model-name", "a/b", "letters, digits, '.', '_' or '-'"),
    ] {
        let out = hitcast(&["serve", "--model", "m", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
    }
    // The song flags speak of songs measured from audio, not of a file's rows.
    let out = hitcast(&[
        "predict", "--model", "m", "--input", "x.csv", "--genre", "pop",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'--input <FILE>' cannot be used with '--genre <GENRE>'"),
        "{}",
        stderr(&out)
    );
}

/// Runs `hitcast train` of `model` and `regressor` on undersampled FIT, raw setup (quick),
/// saving to `path`.
fn train_run(path: &Path, model: &str, regressor: &str) -> Output {
    hitcast(&[
        "train",
        "--data",
        dataset().to_str().unwrap(),
        "--model",
        model,
        "--regressor",
        regressor,
        "--strategy",
        "undersample",
        "--setup",
        "raw",
        "--out",
        path.to_str().unwrap(),
    ])
}

/// [`train_run`] into `dir/name`, which must succeed.
fn train_quick(dir: &Path, name: &str, model: &str, regressor: &str) -> PathBuf {
    let path = dir.join(name);
    let o = train_run(&path, model, regressor);
    assert!(o.status.success(), "{}", stderr(&o));
    path
}

/// Runs `hitcast predict` with `extra` flags.
fn predict(model: &Path, input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend(extra);
    hitcast(&args)
}

/// The `predict` output's probabilities, by row.
fn predicted(model: &Path, input: &Path, output: &Path) -> Vec<f64> {
    let o = predict(model, input, output, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(output)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// Checks that an explanation's base plus its contributions is its log-odds (within
/// `tolerance`); returns the log-odds.
fn adds_up(explanation: &Value, tolerance: f64) -> f64 {
    adds_up_to(explanation, "log_odds", tolerance)
}

/// Checks that an explanation's base and contributions add up to its `total` field (`log_odds`
/// for the chance, `score` for the score) and returns that total.
fn adds_up_to(explanation: &Value, total: &str, tolerance: f64) -> f64 {
    let base = explanation["base"].as_f64().unwrap();
    let value = explanation[total].as_f64().unwrap();
    let sum: f64 = explanation["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    assert!((base + sum - value).abs() < tolerance, "{explanation}");
    value
}

/// Headless Chromium, if installed (`$CHROMIUM`, else `chromium` on the PATH). Without one the
/// browser tests skip with a note, unless `HITCAST_REQUIRE_BROWSER` is set (as `.ci/run` does).
fn chromium() -> Option<PathBuf> {
    let candidate = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromium"));
    let found = Command::new(&candidate)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("HITCAST_REQUIRE_BROWSER").is_none(),
        "HITCAST_REQUIRE_BROWSER is set but {} does not run",
        candidate.display()
    );
    eprintln!("note: no chromium found: browser test skipped (apt install chromium)");
    None
}

/// Runs headless Chromium on `url` with the flags this machine's closed network needs, plus
/// `extra`; returns (stdout, stderr).
fn headless(chromium: &Path, url: &str, extra: &[&str]) -> (String, String) {
    // A profile a run: the page tests run Chromium at once, and one holds its profile's lock.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = scratch(&format!("chromium-profile-{run}"));
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A small report in `dir/page`: one grid cell (raw/none/logreg) per protocol, honest and
/// reference, and `model`'s card. Returns the report's directory and `hitcast report`'s output.
fn small_report(dir: &Path, model: &Path) -> (PathBuf, Output) {
    let data = dataset();
    for protocol in ["honest", "reference"] {
        let o = hitcast(&[
            "experiment",
            "--data",
            data.to_str().unwrap(),
            "--protocol",
            protocol,
            "--only",
            "classification/raw/none/logreg",
            "--out",
            dir.join(protocol).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let out = dir.join("page");
    let o = hitcast(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--experiment",
        dir.join("honest").to_str().unwrap(),
        "--experiment",
        dir.join("reference").to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (out, o)
}

/// A mono 16-bit WAV file of `seconds` of clicks at `bpm` over an A minor chord.
fn click_song(path: &Path, bpm: f64, seconds: f64) {
    let rate = 22_050u32;
    let n = (seconds * f64::from(rate)) as usize;
    let mut samples = vec![0.0f64; n];
    let period = 60.0 / bpm;
    let mut at = 0.05;
    while at < seconds {
        let start = (at * f64::from(rate)) as usize;
        for i in 0..(0.06 * f64::from(rate)) as usize {
            if let Some(s) = samples.get_mut(start + i) {
                let t = i as f64 / f64::from(rate);
                *s += 0.5 * (-t * 60.0).exp() * (2.0 * std::f64::consts::PI * 1200.0 * t).sin();
            }
        }
        at += period;
    }
    for midi in [57, 60, 64] {
        let hz = 440.0 * 2f64.powf((f64::from(midi) - 69.0) / 12.0);
        for (i, s) in samples.iter_mut().enumerate() {
            *s += 0.05 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin();
        }
    }
    let frames: Vec<f32> = samples.iter().map(|&s| s as f32).collect();
    let b = hitcast_audio::wav_pcm16(&frames, 1, rate);
    std::fs::write(path, b).unwrap();
}

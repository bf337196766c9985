//! End-to-end tests of the `hitcast` binary: exit codes, stdout JSON and stderr messages, on
//! the real dataset and on small files written by the tests.

// In a test binary a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod bad_input;
mod ops;
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

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hitcast-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const HEADER: &str = "track_id,artists,album_name,track_name,popularity,duration_ms,explicit,\
    danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,\
    valence,tempo,time_signature,track_genre";
const ROW: &str = "5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,\
    0.461,1,-6.746,0,0.143,0.0322,1.01e-06,0.358,0.715,87.917,4,acoustic";

#[test]
fn data_check_json_on_the_real_dataset() {
    let data = dataset();
    let v = stdout_json(&hitcast(&[
        "data",
        "check",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert_eq!(v["rows_raw"], 114_000);
    assert_eq!(v["tracks"], 89_741);
    assert_eq!(v["genres"], 114);
    assert_eq!(v["duplicates"]["exact_duplicate_rows"], 450);
    assert_eq!(v["missing"]["artists"], 1);
    assert_eq!(v["missing"]["tempo"], 0);
    assert_eq!(v["threshold"], 71);
    assert!((v["positive_rate"].as_f64().unwrap() - 2370.0 / 89741.0).abs() < 1e-12);
}

#[test]
fn data_check_table_names_the_figures() {
    let data = dataset();
    let out = hitcast(&[
        "data",
        "check",
        "--data",
        data.to_str().unwrap(),
        "--threshold",
        "50",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("  rows                    114,000\n"),
        "{text}"
    );
    assert!(
        text.contains("  tracks (track_id)        89,741  16,641 ids listed more than once"),
        "{text}"
    );
    assert!(text.contains("popular (> 50)"), "{text}");
}

#[test]
fn data_split_json_honest_fold_0() {
    let data = dataset();
    let v = stdout_json(&hitcast(&[
        "data",
        "split",
        "--json",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert_eq!(v["protocol"], "honest");
    assert_eq!(v["fold"], 0);
    for (key, want) in [
        ("train", 71_748),
        ("fit", 57_922),
        ("val", 13_826),
        ("test", 17_993),
        ("test_positives", 489),
    ] {
        assert_eq!(v[key], want, "{key}");
    }
    assert_eq!(
        v["test_track_ids_sha256"],
        "4923e2b65b4c8d9d5a72185ff13a726808e5d8950c0c7fa63d80b54b1c76cab6"
    );
}

/// `hitcast data split --export DIR` on the shipped dataset, with `extra` flags; it must succeed.
fn export_split(dir: &Path, extra: &[&str]) {
    let data = dataset();
    let mut args = vec![
        "data",
        "split",
        "--data",
        data.to_str().unwrap(),
        "--export",
        dir.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = hitcast(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn data_split_exports_the_parts_as_the_grid_reads_them() {
    let dir = scratch("export");
    export_split(&dir, &["--setup", "removed"]);
    let read = |name: &str| -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(dir.join(name)).unwrap();
        let header = r.headers().unwrap().clone();
        assert_eq!(header.len(), 139 + 3, "{name}");
        assert_eq!(&header[0], "duration_ms");
        assert_eq!(
            header.iter().skip(139).collect::<Vec<_>>(),
            ["popular", "popularity", "group"]
        );
        r.records().map(Result::unwrap).collect()
    };
    // The removed setup drops FIT's outliers (beyond 1.5 IQR on any continuous column) from
    // its 57,922 tracks; VAL and TEST keep every track.
    assert_eq!(read("fit.csv").len(), 34_963);
    assert_eq!(read("val.csv").len(), 13_826);
    let test = read("test.csv");
    assert_eq!(test.len(), 17_993);
    let popular = test.iter().filter(|r| &r[139] == "1").count();
    assert_eq!(popular, 489);
    // Labels agree with the popularity column.
    assert!(test
        .iter()
        .all(|r| (&r[139] == "1") == (r[140].parse::<f64>().unwrap() > 71.0)));
}

#[test]
fn data_split_exports_fit_as_the_grid_resamples_it() {
    let dir = scratch("export-resampled");
    export_split(&dir, &["--resampled", "undersample,smote"]);
    let read = |name: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(dir.join(name)).unwrap();
        r.records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    };
    let popular = |rows: &[Vec<String>]| rows.iter().filter(|r| r[139] == "1").count();
    let fit = read("fit.csv");
    let (positives, negatives) = (popular(&fit), fit.len() - popular(&fit));
    assert_eq!(fit.len(), 57_922);

    // Undersampling keeps every popular track and as many others, drawn from FIT's own rows.
    let under = read("fit-undersample.csv");
    assert_eq!(under.len(), 2 * positives);
    assert_eq!(popular(&under), positives);
    let originals: std::collections::HashSet<&Vec<String>> = fit.iter().collect();
    assert!(under.iter().all(|r| originals.contains(r)));

    // SMOTE keeps FIT as it is, then adds popular rows up to the others' count, each in the
    // group of a popular FIT row (its source).
    let smote = read("fit-smote.csv");
    assert_eq!(smote.len(), 2 * negatives);
    assert_eq!(smote[..fit.len()], fit[..]);
    let popular_groups: std::collections::HashSet<&str> = fit
        .iter()
        .filter(|r| r[139] == "1")
        .map(|r| r[141].as_str())
        .collect();
    assert!(smote[fit.len()..]
        .iter()
        .all(|r| r[139] == "1" && popular_groups.contains(r[141].as_str())));

    for (value, message) in [
        (
            "weights",
            "weights keeps FIT's rows as they are (fit.csv): expected smote, adasyn or undersample",
        ),
        (
            "smot",
            "unknown strategy \"smot\": expected smote, adasyn or undersample",
        ),
    ] {
        let refused = hitcast(&[
            "data",
            "split",
            "--export",
            dir.to_str().unwrap(),
            "--resampled",
            value,
        ]);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains(message), "{}", stderr(&refused));
    }
}

#[test]
fn data_split_seed_protocol_is_labelled_leaky_and_uses_the_seed() {
    let data = dataset();
    let run = |seed: &str| {
        stdout_json(&hitcast(&[
            "data",
            "split",
            "--json",
            "--protocol",
            // The reference protocol's former name still reads.
            "seed",
            "--seed",
            seed,
            "--data",
            data.to_str().unwrap(),
        ]))
    };
    let (a, b) = (run("42"), run("7"));
    assert_eq!(a["leaky"], true);
    assert_eq!(a["seed"], 42);
    assert_eq!(a["test"], 22_800);
    assert_ne!(a["test_track_ids_sha256"], b["test_track_ids_sha256"]);
}

#[test]
fn the_dataset_is_found_by_the_documented_lookup() {
    let dir = scratch("lookup");
    let out = hitcast_in(&dir, &["data", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: no dataset found: tried "), "{err}");
    assert!(
        err.contains("data/spotify_tracks.csv.gz") && err.contains("dataset.csv"),
        "{err}"
    );

    // $HITCAST_DATA is honoured...
    let out = Command::new(env!("CARGO_BIN_EXE_hitcast"))
        .args(["data", "check", "--json"])
        .current_dir(&dir)
        .env("HITCAST_DATA", dataset())
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out)["rows_raw"], 114_000);
    // ...and so is data/spotify_tracks.csv.gz under the current directory.
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/spotify_tracks.csv.gz"),
        format!("{HEADER}\n{ROW}\n"),
    )
    .unwrap();
    assert_eq!(
        stdout_json(&hitcast_in(&dir, &["data", "check", "--json"]))["rows_raw"],
        1
    );
}

#[test]
fn bad_input_exits_1_with_file_line_column_and_value() {
    let dir = scratch("bad");
    let file = dir.join("t.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\n{ROW}\n{}\n", ROW.replace("87.917", "fast")),
    )
    .unwrap();
    let out = hitcast(&["data", "check", "--data", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}:3:18: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"fast\"\n",
            file.display()
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn on_error_skip_reports_the_skipped_lines() {
    let dir = scratch("skip");
    let file = dir.join("t.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\n{ROW}\n{}\n", ROW.replace(",73,", ",101,")),
    )
    .unwrap();
    let out = hitcast(&[
        "data",
        "check",
        "--json",
        "--on-error",
        "skip",
        "--data",
        file.to_str().unwrap(),
    ]);
    let v = stdout_json(&out);
    assert_eq!(
        (v["rows_raw"].as_u64(), v["rows_skipped"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        v["skipped_examples"][0],
        format!(
            "{}:3:5: column \"popularity\": expected an integer from 0 to 100, got \"101\"",
            file.display()
        )
    );
    assert!(
        stderr(&out).contains("skipped 1 bad row(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn truncated_gzip_is_an_error_not_a_panic() {
    let dir = scratch("gz");
    let bytes = std::fs::read(dataset()).unwrap();
    let file = dir.join("cut.csv.gz");
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let out = hitcast(&["data", "check", "--data", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot read past this line (is the file truncated or corrupt?)"),
        "{err}"
    );
}

#[test]
fn empty_and_binary_files_are_clear_errors() {
    let dir = scratch("empty");
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let out = hitcast(&["data", "check", "--data", empty.to_str().unwrap()]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: the file is empty (expected a CSV header line)\n",
            empty.display()
        )
    );
    let garbage = dir.join("garbage.bin");
    std::fs::write(
        &garbage,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let out = hitcast(&["data", "check", "--data", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).ends_with(":1: the first line is not a CSV header (binary data, or compressed other than gzip?)\n"), "{}", stderr(&out));
}

#[test]
fn the_external_sample_loads_with_map() {
    let Some(external) = external() else {
        return;
    };
    let out = hitcast(&[
        "data", "check", "--json", "--data", external.to_str().unwrap(),
        "--map", "track_popularity=popularity,track_artist=artists,track_album_name=album_name,playlist_genre=track_genre",
    ]);
    let v = stdout_json(&out);
    assert_eq!(v["rows_raw"], 32_833);
    assert_eq!(v["defaults"][0]["column"], "explicit");
    assert!(
        stderr(&out).contains("column \"explicit\" is absent: using false"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_what_if_checks_that_walking_the_trees_once_gives_each_points_answer() {
    // The command fails if any curve differs between the two ways of scoring it.
    let (model, data) = (serve::model().to_str().unwrap(), dataset());
    let out = hitcast(&[
        "bench",
        "what-if",
        "--model",
        model,
        "--data",
        data.to_str().unwrap(),
        "--tracks",
        "5",
        "--runs",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("5 tracks x 10 inputs, 41 points a curve"),
        "{said}"
    );
    assert!(said.contains("every curve the same both ways"), "{said}");
    assert!(said.contains("x faster"), "{said}");
}

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
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn experiment_writes_the_three_result_files() {
    let data = dataset();
    let out = scratch("experiment");
    let output = hitcast(&[
        "experiment",
        "--data",
        data.to_str().unwrap(),
        "--only",
        "classification/raw/undersample/logreg,regression/raw/none/linear",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let v: Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(v["protocol"], "honest");
    assert_eq!(v["test_rows"], 17_993);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0]["task"].as_str(),
            rows[0]["model"].as_str(),
            rows[0]["strategy"].as_str()
        ),
        (Some("classification"), Some("logreg"), Some("undersample"))
    );
    assert!(rows[0]["roc_auc"].as_f64().unwrap() > 0.85);
    assert_eq!(rows[1]["roc_auc"], Value::Null);
    assert!(out.join("results.csv").is_file() && out.join("results.md").is_file());
    // Not a terminal: one plain progress line per cell on stderr.
    assert!(
        stderr(&output).contains("[1/2] classification/raw/undersample/logreg"),
        "{}",
        stderr(&output)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("classifier (by VAL PR-AUC)") && text.contains("raw/undersample/logreg"),
        "{text}"
    );
}

#[test]
fn experiment_refuses_bad_params_and_empty_selections() {
    let data = dataset();
    let out = scratch("experiment-bad");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "experiment",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        hitcast(&args)
    };
    let o = run(&["--only", "regression/smote"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: no grid cell matches --only regression/smote\n"
    );
    // A misspelt part is a usage error naming the words a cell is made of.
    let o = run(&["--only", "raw/smoet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"smoet\" is not a task, setup, strategy or model family"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--only", "raw/none/gbm", "--param", "gbm.learning_rate=7"]);
    assert_eq!(stderr(&o), "error: --param gbm.learning_rate=7: model failed: invalid parameter learning_rate = 7: must be in (0, 1]\n");
    let o = run(&["--only", "raw/none/gbm", "--param", "xgb.eta=0.1"]);
    assert_eq!(
        stderr(&o),
        "error: unknown model family \"xgb\" in --param: expected logreg, linear, rf, gbm, mlp or stack\n"
    );
    let o = run(&["--only", "raw/none/gbm", "--features", "known-artist"]);
    assert!(stderr(&o).starts_with("error: the known-artist feature set (artist history) goes with the known-artist protocol only"), "{}", stderr(&o));
    // `train` fits a grid cell through the same preparation, so it refuses the same way.
    let model = std::env::temp_dir().join("hitcast-it-known-artist.hitcast");
    let o = hitcast(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--features",
        "known-artist",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: the known-artist feature set (artist history) goes with the known-artist protocol only"), "{}", stderr(&o));
    assert!(!model.exists());
    let o = run(&["--only", "raw/none/gbm", "--drop", "no_such_column"]);
    assert_eq!(
        stderr(&o),
        "error: unknown feature \"no_such_column\" in --drop\n"
    );
    assert!(!out.join("results.json").exists());
}

#[test]
fn experiment_over_folds_summarises_mean_and_sd() {
    let data = dataset();
    let out = scratch("folds");
    let o = hitcast(&[
        "experiment",
        "--data",
        data.to_str().unwrap(),
        "--folds",
        "0-1",
        "--only",
        "classification/raw/undersample/logreg",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(out.join("folds.json")).unwrap()).unwrap();
    assert_eq!(v["folds"], serde_json::json!([0, 1]));
    assert_eq!(
        v["cells"][0]["cell"],
        "classification/raw/undersample/logreg"
    );
    assert_eq!(v["cells"][0]["folds"], 2);
    assert!(v["cells"][0]["roc_auc"]["sd"].as_f64().unwrap() >= 0.0);
    for fold in ["fold-0", "fold-1"] {
        assert!(out.join(fold).join("results.json").is_file(), "{fold}");
    }
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("| raw/undersample/logreg | 2 |"), "{text}");
    let o = hitcast(&[
        "experiment",
        "--data",
        data.to_str().unwrap(),
        "--folds",
        "all",
        "--protocol",
        "reference",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(stderr(&o), "error: --folds needs a hash protocol (honest or known-artist); reference has one random split\n");
}

#[test]
fn train_saves_a_model_that_info_reads_and_that_is_deterministic() {
    let data = dataset();
    let dir = scratch("train");
    let train = |out: &str| train_run(&dir.join(out), "logreg", "linear");
    let o = train("a.hitcast");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ROC-AUC"));
    let info = stdout_json(&hitcast(&[
        "model",
        "info",
        "--json",
        dir.join("a.hitcast").to_str().unwrap(),
    ]));
    assert_eq!(info["protocol"], "honest");
    assert_eq!(info["strategy"], "undersample");
    assert_eq!(info["classifier"]["family"], "logistic");
    assert_eq!(info["features"].as_array().unwrap().len(), 139);
    assert!(info["test_classification"]["roc_auc"].as_f64().unwrap() > 0.85);
    assert_eq!(info["test_classification"]["rows"], 17_993);
    // With its companions, on the same TEST rows: for new songs, all but the genre count
    // (138 features); without genres, the 14 audio columns and the 8 extras that read none.
    let companions = info["companions"].as_array().unwrap();
    let roles: Vec<&str> = companions
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["new-song", "no-genres", "from-audio"]);
    // The from-audio model has the new-song model's columns, the learned ones read as
    // constants.
    for (companion, width) in companions.iter().zip([138, 22, 138]) {
        assert_eq!(companion["features"].as_array().unwrap().len(), width);
        assert_eq!(companion["test_classification"]["rows"], 17_993);
        assert_eq!(companion["classifier"]["family"], "logistic");
    }
    let names = companions[0]["features"].as_array().unwrap();
    assert!(!names.iter().any(|n| n == "n_genres"));

    // Same data, parameters and seed: the same bytes, the creation time aside.
    assert!(train("b.hitcast").status.success());
    let load = |name: &str| {
        let mut a = hitcast::artifact::Artifact::load(&dir.join(name)).unwrap();
        a.metadata.created_unix = 0;
        for c in &mut a.metadata.companions {
            c.created_unix = 0;
        }
        a.to_bytes().unwrap()
    };
    assert_eq!(load("a.hitcast"), load("b.hitcast"));
    // So for boosting (row and column subsampling, early stopping), and both score every
    // track of the dataset identically, byte for byte.
    for name in ["g1.hitcast", "g2.hitcast"] {
        let o = train_run(&dir.join(name), "gbm", "gbm");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(load("g1.hitcast"), load("g2.hitcast"));
    // The grid keeps its chosen fits; a training that would make the very same fits takes
    // them, and saves the same model; another takes none.
    let grid = dir.join("grid");
    let o = hitcast(&[
        "experiment",
        "--data",
        data.to_str().unwrap(),
        "--only",
        "classification/raw/undersample/gbm,regression/raw/none/gbm",
        "--keep-fits",
        "--out",
        grid.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let fits = grid.join("fits.bin");
    let with_fits = |name: &str, model: &str| {
        let o = hitcast(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--model",
            model,
            "--strategy",
            "undersample",
            "--setup",
            "raw",
            "--fits",
            fits.to_str().unwrap(),
            "--out",
            dir.join(name).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let said = with_fits("g3.hitcast", "gbm");
    assert!(
        said.contains(&format!(
            "fits          classification/raw/undersample/gbm taken from {}",
            fits.display()
        )),
        "{said}"
    );
    assert_eq!(load("g1.hitcast"), load("g3.hitcast"));
    // A logistic classifier is not the grid's: fitted here. (The score models are fitted on
    // each side of the label threshold, which no grid cell does: always fitted here.)
    let said = with_fits("l.hitcast", "logreg");
    assert!(
        said.contains("fits          none in ")
            && said.contains(" is this training's; all fitted here"),
        "{said}"
    );
    std::fs::write(&fits, b"not fits").unwrap();
    let o = hitcast(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--fits",
        fits.to_str().unwrap(),
        "--out",
        dir.join("x.hitcast").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("fits.bin: not a fits file of this hitcast"),
        "{}",
        stderr(&o)
    );
    let scores = |model: &str| {
        let out = dir.join(format!("{model}.csv"));
        let o = predict(&dir.join(model), &data, &out, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let first = scores("g1.hitcast");
    assert_eq!(first.iter().filter(|&&b| b == b'\n').count(), 114_001);
    assert_eq!(first, scores("g2.hitcast"));

    // Damaged files are errors that say what is wrong.
    let bytes = std::fs::read(dir.join("a.hitcast")).unwrap();
    std::fs::write(dir.join("cut.hitcast"), &bytes[..bytes.len() - 10]).unwrap();
    let o = hitcast(&["model", "info", dir.join("cut.hitcast").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .ends_with("cut.hitcast: the model file is truncated (shorter than its sections)\n"),
        "{}",
        stderr(&o)
    );
    let o = hitcast(&["model", "info", data.to_str().unwrap()]);
    assert!(
        stderr(&o).ends_with(
            ": not a hitcast model file (it does not start with the hitcast magic bytes)\n"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn predict_scores_a_file_without_popularity_and_never_leaves_half_a_file() {
    let dir = scratch("predict");
    let model = train_quick(&dir, "m.hitcast", "logreg", "linear");
    // No popularity column, two rows: one popular-looking, one not; an unknown genre.
    let header = HEADER.replace("popularity,", "");
    let row = ROW.replace(",73,", ",");
    let input = dir.join("in.csv");
    std::fs::write(
        &input,
        format!(
            "{header}\n{row}\n{}\n",
            row.replace("5SuOikwiRyPMVoIQDJUgSV", "other")
                .replace("acoustic", "polka")
        ),
    )
    .unwrap();
    let output = dir.join("out.csv");
    let o = predict(
        &model,
        &input,
        &output,
        &["--keep", "track_name, explicit", "--keep", "tempo"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("genres the model does not know (not read): polka (1)\n"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "track_id,popularity_probability,flagged,lift,predicted_popularity,popularity_low,\
         popularity_high,warnings,model,track_name,explicit,tempo"
    );
    assert!(lines[1].ends_with(",Comedy,false,87.917"), "{}", lines[1]);
    assert_eq!(lines.len(), 3);
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], "5SuOikwiRyPMVoIQDJUgSV");
    let p: f64 = cells[1].parse().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert!(cells[2] == "0" || cells[2] == "1");
    let score: f64 = cells[4].parse().unwrap();
    let (low, high): (f64, f64) = (cells[5].parse().unwrap(), cells[6].parse().unwrap());
    assert!(0.0 <= low && low <= score && score <= high && high <= 100.0);

    // A bad row fails the run and leaves the earlier output untouched, with no temporary file.
    std::fs::write(
        &input,
        format!("{header}\n{row}\n{}\n", row.replace("87.917", "fast")),
    )
    .unwrap();
    let o = predict(&model, &input, &output, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains(":3:17: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"fast\""),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), text);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        3,
        "no temporary left beside the output"
    );
    // With --on-error skip the good row is scored.
    let o = predict(&model, &input, &output, &["--on-error", "skip"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count(), 2);
    let o = predict(&model, &input, &output, &["--keep", "bpm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown column \"bpm\": expected one of track_id,"));
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
#[test]
fn predict_scores_a_file_without_track_ids_and_counts_the_genres_it_does_not_know() {
    use hitcast::data::{Column, ReadOptions, RowReader};
    let dir = scratch("no-track-id");
    // The dataset's first 50 rows, as written by the reader; four with other genre spellings.
    let rows: Vec<_> = RowReader::open(&dataset(), &ReadOptions::labelled())
        .unwrap()
        .take(50)
        .map(Result::unwrap)
        .collect();
    let genres = ["R&B, Hip Hop", "chillhop", "Chillhop ", "vaporwave; pop"];
    let write = |name: &str, columns: &[Column]| {
        let path = dir.join(name);
        let mut csv = csv::Writer::from_path(&path).unwrap();
        csv.write_record(columns.iter().map(|c| c.name())).unwrap();
        for (i, row) in rows.iter().enumerate() {
            csv.write_record(columns.iter().map(|&c| match (c, genres.get(i)) {
                (Column::TrackGenre, Some(g)) => (*g).to_owned(),
                _ => row.field(c),
            }))
            .unwrap();
        }
        csv.flush().unwrap();
        path
    };
    let with_ids = write("ids.csv", &Column::ALL);
    let without: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|&c| c != Column::TrackId && c != Column::Popularity)
        .collect();
    let no_ids = write("no-ids.csv", &without);

    let output = dir.join("out.csv");
    let o = predict(serve::model(), &no_ids, &output, &["--keep", "track_genre"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains(
            "column \"track_id\" is absent: using empty ids (the output's track_id stays empty: \
             a made-up id could pass for a Spotify id)"
        ),
        "{said}"
    );
    assert!(
        said.contains("genres the model does not know (not read): chillhop (2), vaporwave (1)\n"),
        "{said}"
    );
    // Rows without an id are new songs: the new-song model answers them (the no-genres one
    // where no genre is known), and says so.
    assert!(
        said.contains("rows answered by: new-song model 48 (rows without track_id); model without genres 2 (no genre the model knows)"),
        "{said}"
    );
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 51);
    assert!(lines[1..].iter().all(|l| l.starts_with(',')), "{text}");
    assert!(
        lines[1].ends_with(",new-song,r-n-b;hip-hop"),
        "{}",
        lines[1]
    );
    assert!(lines[2].ends_with(",no-genres,chillhop"), "{}", lines[2]);
    assert!(
        lines[4].ends_with(",new-song,vaporwave;pop"),
        "{}",
        lines[4]
    );
    // The same rows with their ids are catalogue tracks: the main model answers them, and
    // differently, as it also reads how many genres the catalogue lists them under.
    let with_ids_out = dir.join("ids.out.csv");
    let (new, listed) = (
        predicted(serve::model(), &no_ids, &output),
        predicted(serve::model(), &with_ids, &with_ids_out),
    );
    assert_ne!(new, listed);
    let listed_text = std::fs::read_to_string(&with_ids_out).unwrap();
    assert!(
        listed_text.lines().nth(1).unwrap().ends_with(",main"),
        "{listed_text}"
    );
    // Where the no-genres model answers both, they agree.
    assert_eq!(new[1], listed[1]);

    // Training needs the ids.
    let o = hitcast(&["data", "check", "--data", no_ids.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "missing required column(s) \"track_id\", \"popularity\" (training collapses \
             duplicate tracks on track_id); the header has"
        ),
        "{}",
        stderr(&o)
    );
}

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

#[test]
fn stack_and_mlp_models_round_trip_and_explain_themselves() {
    let dir = scratch("stack");
    let input = dir.join("in.csv");
    let rows: Vec<String> = [
        ROW.to_owned(),
        ROW.replace("acoustic", "k-pop").replace(",73,", ",10,"),
    ]
    .into_iter()
    .collect();
    std::fs::write(&input, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    for (model, regressor) in [("stack", "linear"), ("mlp", "mlp"), ("gbm", "linear")] {
        let path = train_quick(&dir, &format!("{model}.hitcast"), model, regressor);
        let info = stdout_json(&hitcast(&[
            "model",
            "info",
            "--json",
            path.to_str().unwrap(),
        ]));
        let family = if model == "gbm" { "boosting" } else { model };
        assert_eq!(info["classifier"]["family"], family);
        assert!(
            info["test_classification"]["roc_auc"].as_f64().unwrap() > 0.85,
            "{model}"
        );
        // Boosting rounds and network epochs are recorded; a stack has neither.
        assert_eq!(
            info["classifier_rounds"].is_u64(),
            model != "stack",
            "{model}"
        );

        // Saved, loaded, scored: the same probabilities as the model in memory.
        let from_cli = predicted(&path, &input, &dir.join("out.csv"));
        let predictor = hitcast::predictor::Predictor::load(&path).unwrap();
        let rows = hitcast::data::read_rows(&input, &hitcast::data::ReadOptions::labelled())
            .unwrap()
            .rows;
        let in_memory = predictor.score_rows(&rows).unwrap();
        for (a, b) in from_cli.iter().zip(&in_memory) {
            assert!(
                (a - b.chance.probability).abs() < 5e-7,
                "{model}: {a} vs {b:?}"
            );
        }

        // Explanations add up to the model's log-odds and give its probability back.
        let o = hitcast(&[
            "explain",
            "--model",
            path.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--top",
            "3",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let explained = stdout_json(&o);
        let explained = explained.as_array().unwrap();
        assert_eq!(explained.len(), 2);
        for (e, p) in explained.iter().zip(&from_cli) {
            let log_odds = adds_up(e, 1e-9);
            let probability = 1.0 / (1.0 + (-log_odds).exp());
            assert!(
                (probability - p).abs() < 1e-5,
                "{model}: {probability} vs {p}"
            );
            assert!(e["up"].as_array().unwrap().len() <= 3);
            assert!(e["up"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["contribution"].as_f64().unwrap() > 0.0));
        }
        assert_eq!(explained[0]["track_id"], "5SuOikwiRyPMVoIQDJUgSV");
        let method = if model == "gbm" {
            "tree-shap"
        } else {
            "sampling-shapley"
        };
        assert_eq!(explained[0]["method"], method);
        let text = hitcast(&[
            "explain",
            "--model",
            path.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.starts_with("5SuOikwiRyPMVoIQDJUgSV  \"Comedy\" by Gen Hoshino\n  "),
            "{text}"
        );
        // Music words, as the app has them, in percentage points that add up to the chance.
        assert!(
            text.contains("    Genre: k-pop") || text.contains("    Genre: acoustic"),
            "{text}"
        );
        assert!(text.contains("Everything else ("), "{text}");
        for code in [
            "log-odds =",
            "genre_popularity",
            "title_is_album",
            "duration_ms",
        ] {
            assert!(!text.contains(code), "{code} in {text}");
        }
        let first = text.split("\n\n").next().unwrap();
        let chance: f64 = first
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .split('%')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let typical: f64 = first
            .lines()
            .find_map(|l| l.trim().strip_prefix("from a typical track's "))
            .unwrap()
            .trim_end_matches("%:")
            .parse()
            .unwrap();
        let moved: f64 = first
            .lines()
            .filter_map(|l| l.strip_suffix(" pp"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        // Each step is rounded to 0.1 pp, the chance and the base to 0.1%.
        assert!(
            (typical + moved - chance).abs() < 0.1 + 0.05 * 10.0,
            "{text}"
        );
    }
}

/// Python's xgboost (installed by `.ci/run`) must score exported trees as hitcast does.
#[test]
fn an_exported_booster_predicts_in_python_xgboost_as_in_hitcast() {
    let data = dataset();
    let dir = scratch("export");
    let model = dir.join("m.hitcast");
    let o = hitcast(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "gbm",
        "--param",
        "gbm.max_rounds=40",
        "--regressor",
        "linear",
        "--setup",
        "raw",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = dir.join("m.json");
    let o = hitcast(&[
        "model",
        "export",
        model.to_str().unwrap(),
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Feature rows of 300 real tracks, as the saved pipeline makes them.
    use hitcast::models::Classifier;
    let artifact = hitcast::artifact::Artifact::load(&model).unwrap();
    let loaded = hitcast::data::read_rows(&data, &hitcast::data::ReadOptions::labelled()).unwrap();
    let rows: Vec<_> = loaded.rows.into_iter().step_by(380).collect();
    let tracks = hitcast::data::Tracks::one_per_row(rows);
    let all: Vec<usize> = (0..tracks.len()).collect();
    let x = artifact.payload.pipeline.transform(&tracks, &all).matrix;
    let ours = artifact.payload.classifier.predict_proba(&x);
    let features = dir.join("x.csv");
    let text: String = x
        .rows()
        .map(|r| {
            r.iter()
                .map(|v| format!("{v:e}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&features, text).unwrap();

    let script = "import sys, numpy as np, xgboost as xgb\n\
                  b = xgb.Booster(model_file=sys.argv[1])\n\
                  x = np.loadtxt(sys.argv[2], delimiter=',', ndmin=2)\n\
                  print('\\n'.join(repr(float(p)) for p in b.predict(xgb.DMatrix(x))))\n";
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            json.to_str().unwrap(),
            features.to_str().unwrap(),
        ])
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "python xgboost failed (is it installed? .ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(theirs.len(), ours.len());
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "largest difference {worst}");

    // A linear model has no XGBoost form.
    let o = hitcast(&[
        "model",
        "export",
        model.to_str().unwrap(),
        "--part",
        "regressor",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        stderr(&o),
        "error: only tree models (gbm, rf) export to XGBoost JSON; this one is linear\n"
    );
}

#[test]
fn run_quick_writes_every_output_and_a_failed_run_leaves_the_last_one_intact() {
    let dir = scratch("run");
    let data = dataset();
    let o = hitcast_in(&dir, &["run", "--quick", "--data", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.starts_with("hitcast run: done in "), "{said}");
    assert!(
        said.ends_with(&format!(
            "Open the app:\n  hitcast serve --model runs/latest/model.hitcast --report runs/latest/report --data {}\n",
            data.display()
        )),
        "{said}"
    );
    let steps = stderr(&o);
    assert!(
        steps.contains("== read and checked ")
            && steps.contains(
                "== steps 1-2/5, side by side: explore the data; the grid, reference protocol"
            )
            && steps.contains("== step 3/5: the grid, honest protocol")
            && steps.contains("== step 5/5: the report"),
        "{steps}"
    );
    let out = dir.join("runs/latest");
    for file in [
        "eda/index.html",
        "eda/eda.json",
        "grid/results.json",
        "grid-reference/results.json",
        "model.hitcast",
        "report/index.html",
        "report/models.part.html",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // The model is the grid's best on VAL PR-AUC, whatever TEST says.
    let results: Value =
        serde_json::from_slice(&std::fs::read(out.join("grid/results.json")).unwrap()).unwrap();
    let best = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["task"] == "classification")
        .max_by(|a, b| {
            a["val_pr_auc"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["val_pr_auc"].as_f64().unwrap())
        })
        .unwrap();
    let (model, setup, strategy) = (
        best["model"].as_str().unwrap(),
        best["setup"].as_str().unwrap(),
        best["strategy"].as_str().unwrap_or("none"),
    );
    assert!(
        said.contains(&format!(
            "Saved model: {model} classifier ({setup} setup, strategy {strategy})"
        )),
        "{said}"
    );
    // Training took the grid's fit of that cell instead of fitting it again.
    assert!(
        said.contains(&format!(
            "  taken from the grid, not fitted again: classification/{setup}/{strategy}/{model}"
        )),
        "{said}"
    );
    assert!(!out.join("grid/fits.bin").exists());

    // A run that fails part-way (40 tracks are too few to split) leaves the previous results as
    // they were, and no temporary.
    std::fs::write(out.join("marker"), "previous").unwrap();
    let few = dir.join("few.csv");
    std::fs::write(&few, dataset_head(40)).unwrap();
    let o = hitcast_in(&dir, &["run", "--quick", "--data", few.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hitcast run (the previous results in runs/latest are untouched)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("marker")).unwrap(),
        "previous"
    );
    let names: Vec<_> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["latest"]);
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
    let profile = scratch("chromium-profile");
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

#[test]
fn the_eda_page_renders_in_a_browser_with_every_chart_and_no_console_errors() {
    let dir = scratch("eda");
    let o = hitcast(&[
        "eda",
        "--data",
        dataset().to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.starts_with(&format!("wrote {}/index.html (31 charts", dir.display())),
        "{said}"
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eda.json")).unwrap()).unwrap();
    assert_eq!(json["rows"], 89_741);
    // The page names the data file, not the folders it sits in (a server shows it to anyone).
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let folder = dataset().parent().unwrap().display().to_string();
    assert!(
        page.contains("<p class=\"lead\">spotify_tracks.csv.gz: 89,741 rows"),
        "{}",
        &page[..2000.min(page.len())]
    );
    assert!(!page.contains(&folder), "{folder} on the page");

    let Some(chromium) = chromium() else { return };
    let url = format!("file://{}", dir.join("index.html").display());
    let (dom, log) = headless(&chromium, &url, &["--dump-dom"]);
    // The parsed document holds every chart, each with a title for screen readers.
    assert_eq!(dom.matches("<svg").count(), 31, "{log}");
    assert_eq!(dom.matches("role=\"img\"").count(), 31);
    // Chromium logs console messages as `INFO:CONSOLE:<line>] "<text>"`.
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(!log.contains("Failed to load resource"), "{log}");
    // A screenshot to look at (target/screenshots, not committed).
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("eda.png");
    let (_, log) = headless(
        &chromium,
        &url,
        &[
            "--window-size=1200,4000",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{e}: {log}"));
    assert_eq!(&bytes[1..4], b"PNG");
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

#[test]
fn the_report_joins_data_grids_and_a_model_card_and_renders_in_a_browser() {
    let dir = scratch("report");
    let model = train_quick(&dir, "m.hitcast", "gbm", "linear");
    let (out, o) = small_report(&dir, &model);
    // 31 EDA charts and the card's 4: ROC, precision-recall, calibration, importance.
    assert!(String::from_utf8_lossy(&o.stdout).contains("index.html (35 charts"));
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let card = &report["model"];
    assert_eq!(card["same_data"], true);
    assert_eq!(card["test_rows"], 17_993);
    let roc = card["roc"].as_array().unwrap();
    assert_eq!(roc.first().unwrap(), &serde_json::json!([0.0, 0.0]));
    assert_eq!(roc.last().unwrap(), &serde_json::json!([1.0, 1.0]));
    // The curve is the model's: its area (trapezoids over the thinned points) is the saved AUC.
    let area: f64 = roc
        .windows(2)
        .map(|w| {
            let (x0, y0) = (w[0][0].as_f64().unwrap(), w[0][1].as_f64().unwrap());
            let (x1, y1) = (w[1][0].as_f64().unwrap(), w[1][1].as_f64().unwrap());
            (x1 - x0) * (y0 + y1) / 2.0
        })
        .sum();
    let auc = card["metadata"]["test_classification"]["roc_auc"]
        .as_f64()
        .unwrap();
    assert!((area - auc).abs() < 0.005, "{area} vs {auc}");
    // Ten bins of equal size, the top one cut at the 95th, 98th and 99th percentiles.
    assert_eq!(card["calibration"].as_array().unwrap().len(), 13);
    let ece = card["metadata"]["calibration"]["test_ece"]
        .as_f64()
        .unwrap();
    assert!(ece < 0.02, "{ece}");
    assert_eq!(card["importance"][0][0], "genre");
    assert_eq!(report["experiments"].as_array().unwrap().len(), 2);

    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("<h2 id=\"protocols\">Protocols side by side</h2>"));
    assert!(page.contains("Experiment grid: protocol reference (LEAKY"));
    assert!(
        page.contains("<h3>Classification, raw data</h3>")
            && page.contains("<h3>Best per metric</h3>")
    );

    // `hitcast serve --report` shows the two halves on its Explore and Models pages.
    let server = serve::Server::start_with(&model, &["--report", out.to_str().unwrap()]);
    let (status, explore) = server.get("/explore");
    assert_eq!(status, 200);
    assert_eq!(explore.matches("<svg").count(), 31);
    let (status, models) = server.get("/models");
    assert_eq!(status, 200);
    assert_eq!(models.matches("<svg").count(), 4);
    assert!(models.contains("Protocols side by side") && models.contains("The saved model"));
    drop(server);

    let Some(chromium) = chromium() else { return };
    let url = format!("file://{}", out.join("index.html").display());
    let (dom, log) = headless(&chromium, &url, &["--dump-dom"]);
    assert_eq!(dom.matches("<svg").count(), 35, "{log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    headless(
        &chromium,
        &url,
        &[
            "--window-size=1200,3000",
            &format!("--screenshot={}", png.display()),
        ],
    );
    assert!(png.is_file());
}

#[test]
fn run_on_another_catalogue_prints_a_serve_line_that_searches_it() {
    let Some(external) = external() else {
        return;
    };
    let dir = scratch("run-external");
    let map = "track_popularity=popularity,track_artist=artists,track_album_name=album_name,playlist_genre=track_genre";
    let o = hitcast_in(
        &dir,
        &[
            "run",
            "--quick",
            "--data",
            external.to_str().unwrap(),
            "--map",
            map,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    let line = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("hitcast serve "))
        .unwrap_or_else(|| panic!("no serve line in {said}"));
    assert!(line.ends_with(&format!("--map {map}")), "{line}");
    // As printed (run from the run's directory), real-track search included.
    let args: Vec<String> = line
        .split_whitespace()
        .map(|a| match a.starts_with("runs/") {
            true => dir.join(a).display().to_string(),
            false => a.to_owned(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = serve::Server::start_args(&args);
    server.wait_for_catalogue();
    let (status, found) = server.get("/api/v1/tracks?q=ed+sheeran");
    assert_eq!(status, 200, "{found}");
    let found: Value = serde_json::from_str(&found).unwrap();
    assert!(found["total"].as_u64().unwrap() > 0, "{found}");
}

#[test]
fn a_model_scores_another_catalogue_without_its_training_tracks_and_with_genres_or_without() {
    let Some(external) = external() else {
        return;
    };
    let external = external.to_str().unwrap();
    let map = "track_popularity=popularity,track_artist=artists,track_album_name=album_name,playlist_genre=track_genre";
    let model = serve::model();
    let evaluate = |extra: &[&str]| {
        let mut args = vec![
            "model",
            "evaluate",
            model.to_str().unwrap(),
            "--data",
            external,
        ];
        args.extend(extra);
        hitcast(&args)
    };
    let o = evaluate(&["--map", map, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = stdout_json(&o);
    // 32,833 rows, one per track_id; 1,964 share an id with the training data, 288 more its
    // exact audio values, and they are left out.
    assert_eq!(report["tracks"], 28356);
    assert_eq!(report["known"]["by_id"], 1964);
    assert_eq!(report["known"]["by_audio"], 288);
    assert_eq!(report["measured"], 28356 - 1964 - 288);
    assert!(
        report["known"]["popular_rate"].as_f64().unwrap() > 0.3,
        "{report}"
    );
    let fits = report["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 2);
    assert_eq!(fits[0]["genres"], "use");
    assert_eq!(fits[1]["genres"], "ignore");
    for f in fits {
        assert_eq!(f["tracks"], 26104);
        let rate = f["popular_rate"].as_f64().unwrap();
        assert!((rate - 0.050).abs() < 0.001, "{f}");
        let roc = f["roc_auc"].as_f64().unwrap();
        assert!(roc > 0.6 && roc < 0.8, "{f}");
    }
    // Every genre of the sample is one the model learned; ignoring them, the companion answers.
    assert_eq!(fits[0]["without_genres"], 0.0);
    assert_eq!(fits[1]["without_genres"], 1.0);
    // The known tracks make every figure look better.
    let with = report["with_known"].as_array().unwrap();
    for (clean, all) in fits.iter().zip(with) {
        assert_eq!(all["tracks"], 28356);
        assert!(all["pr_auc"].as_f64().unwrap() > clean["pr_auc"].as_f64().unwrap());
    }
    // The genres are what moved most.
    let drift = report["drift"]["columns"].as_array().unwrap();
    assert_eq!(drift[0]["column"], "genres");
    assert!(drift[0]["psi"].as_f64().unwrap() > 1.0);
    // Kept, they are measured with the rest.
    let kept = stdout_json(&evaluate(&["--map", map, "--json", "--keep-known"]));
    assert_eq!(kept["fits"][0]["tracks"], 28356);
    assert!((kept["fits"][0]["popular_rate"].as_f64().unwrap() - 2054.0 / 28356.0).abs() < 1e-12);

    // Ignoring genres, the model answers as the same families trained without genre columns
    // on the same rows (--features no-genres), to the last digit.
    let dir = scratch("external-twin");
    let twin_model = dir.join("no-genres.hitcast");
    let o = hitcast(&[
        "train",
        "--data",
        dataset().to_str().unwrap(),
        "--model",
        "gbm",
        "--regressor",
        "linear",
        "--strategy",
        "undersample",
        "--setup",
        "raw",
        "--features",
        "no-genres",
        "--out",
        twin_model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let input = Path::new(external);
    // Every column but the last, which names the model that answered.
    let answers = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_owned())
            .collect()
    };
    let ignoring = {
        let out = dir.join("ignore.csv");
        let o = predict(model, input, &out, &["--map", map, "--genres", "ignore"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(out).unwrap();
        assert!(text.lines().skip(1).all(|l| l.ends_with(",no-genres")));
        answers(text)
    };
    let twin = {
        let out = dir.join("twin.csv");
        let o = predict(&twin_model, input, &out, &["--map", map]);
        assert!(o.status.success(), "{}", stderr(&o));
        answers(std::fs::read_to_string(out).unwrap())
    };
    assert_eq!(ignoring, twin);

    // The text names the better use for this catalogue, from the figures above.
    let o = evaluate(&["--map", map]);
    let text = String::from_utf8(o.stdout).unwrap();
    let (using, ignoring) = (
        fits[0]["pr_auc"].as_f64().unwrap(),
        fits[1]["pr_auc"].as_f64().unwrap(),
    );
    // Three decimals, or as many more as tell the two apart.
    let d = (3..=6)
        .find(|&d| format!("{using:.d$}") != format!("{ignoring:.d$}"))
        .unwrap_or(6);
    let verdict = if ignoring > using {
        format!("Ignoring genres ranks this catalogue's popular tracks better (PR-AUC {ignoring:.d$} against {using:.d$})")
    } else {
        format!("Reading genres ranks this catalogue's popular tracks better (PR-AUC {using:.d$} against {ignoring:.d$})")
    };
    assert!(text.contains(&verdict), "{text}");
    for said in [
        "28,356 tracks (32,833 rows, one per track_id), 7.2% popular",
        "known         2,252 tracks the model's training data holds (1,964 by track_id, 288 more by their exact audio)",
        "measured      26,104 tracks, 5.0% popular",
        "moved a lot genres (",
    ] {
        assert!(text.contains(said), "{said} in {text}");
    }

    // Adapting the prior is refused for this sample, with the reason, and changes nothing.
    let o = evaluate(&["--map", map, "--adapt-prior", "--json"]);
    let adapted = stdout_json(&o);
    for (outcome, fit) in adapted["priors"].as_array().unwrap().iter().zip(fits) {
        let reason = outcome["refused"].as_str().unwrap();
        assert!(
            reason.starts_with(
                "these tracks differ from the training tracks in more than their share of hits"
            ),
            "{reason}"
        );
        let same = adapted["fits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["genres"] == fit["genres"])
            .unwrap();
        assert_eq!(same["ece"], fit["ece"]);
    }

    // Without popularity: the drift, and advice from the genres' drift alone.
    let o = evaluate(&[
        "--map",
        "track_artist=artists,track_album_name=album_name,playlist_genre=track_genre",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("no popularity: the drift of its inputs, not the model's figures"),
        "{text}"
    );
    assert!(
        text.contains("Its genres moved a lot from the training tracks' (PSI ")
            && text.contains("Score it with --genres ignore."),
        "{text}"
    );
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

#[test]
fn features_measures_songs_into_the_dataset_s_columns_and_names_a_file_it_cannot_read() {
    let dir = scratch("features");
    let (song, other) = (dir.join("song.wav"), dir.join("other.wav"));
    click_song(&song, 128.0, 12.0);
    click_song(&other, 96.0, 8.0);
    let bad = dir.join("notes.mp3");
    std::fs::write(&bad, "not audio").unwrap();
    let o = hitcast(&[
        "features",
        song.to_str().unwrap(),
        other.to_str().unwrap(),
        "--genre",
        "pop",
        "--artists",
        "Me",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "file,track_id,artists,album_name,track_name,duration_ms,explicit,danceability,energy,\
         key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,\
         time_signature,track_genre,tempo_confidence,key_confidence"
    );
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], song.to_str().unwrap());
    assert_eq!(
        (cells[2], cells[4], cells[5], cells[6]),
        ("Me", "song", "12000", "false")
    );
    // The seven learned columns are empty; A minor; 128 BPM; 4 beats a bar; pop.
    for i in [7, 8, 12, 13, 14, 15, 16] {
        assert_eq!(cells[i], "", "column {i}");
    }
    assert_eq!((cells[9], cells[11]), ("9", "0"));
    let tempo: f64 = cells[17].parse().unwrap();
    assert!((tempo - 128.0).abs() < 2.0, "{tempo}");
    assert_eq!((cells[18], cells[19]), ("4", "pop"));
    let tempo: f64 = lines[2].split(',').nth(17).unwrap().parse().unwrap();
    assert!((tempo - 96.0).abs() < 2.0, "{tempo}");
    // JSON: the same numbers, the learned columns null.
    let o = hitcast(&["features", song.to_str().unwrap(), "--json"]);
    let rows = stdout_json(&o);
    assert_eq!(rows[0]["key"], 9);
    assert_eq!(rows[0]["danceability"], Value::Null);
    // A file that is not audio: named, exit 1; skipped with --on-error skip.
    let o = hitcast(&["features", bad.to_str().unwrap(), song.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!(
            "error: {}: not an audio file hitcast can read",
            bad.display()
        )),
        "{}",
        stderr(&o)
    );
    let out = dir.join("rows.csv");
    let o = hitcast(&[
        "features",
        bad.to_str().unwrap(),
        song.to_str().unwrap(),
        "--on-error",
        "skip",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped "), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 2);
}

#[test]
fn a_song_is_measured_and_scored_by_the_from_audio_model_in_one_step_or_two() {
    let dir = scratch("predict-audio");
    let song = dir.join("demo.wav");
    click_song(&song, 120.0, 40.0);
    let model = serve::model();
    // One step: measured and scored, the answers to standard output.
    let o = hitcast(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
        "--keep",
        "track_name,track_genre",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rows answered by: from-audio model 1 (rows measured from audio)"),
        "{}",
        stderr(&o)
    );
    let one = String::from_utf8(o.stdout).unwrap();
    let line = one.lines().nth(1).unwrap();
    assert!(
        line.starts_with(',') && line.ends_with(",from-audio,demo,pop"),
        "{one}"
    );
    // Two steps: the features file (CSV, or Parquet with the learned columns null), then
    // predict on it: the same answer.
    for name in ["features.csv", "features.parquet"] {
        let features = dir.join(name);
        let o = hitcast(&[
            "features",
            song.to_str().unwrap(),
            "--genre",
            "pop",
            "--output",
            features.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = hitcast(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--input",
            features.to_str().unwrap(),
            "--keep",
            "track_name,track_genre",
            "--output",
            "-",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(String::from_utf8(o.stdout).unwrap(), one, "{name}");
    }
    // Its explanation comes from the same model.
    let o = hitcast(&[
        "explain",
        "--model",
        model.to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("(the from-audio model, which flags from"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

//! `hitcast data` on the real dataset: its checks and splits, the documented lookup of the
//! dataset, and the external sample read through a column map.

use std::path::Path;
use std::process::Command;

use super::{
    dataset, dataset_head, external, hitcast, hitcast_in, scratch, stderr, stdout_json, HEADER, ROW,
};

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
    // Popularity is over raw rows, the popular share below it over tracks: each line says so.
    assert!(
        text.contains("  popularity                33.24  mean over raw rows; sd 22.31"),
        "{text}"
    );
    // Other columns (a catalogue's playlist ids) may differ between "exact" duplicates.
    assert!(
        text.contains("450  same values in every column hitcast reads\n"),
        "{text}"
    );
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
fn a_resample_that_cannot_be_made_leaves_no_export_behind() {
    let dir = scratch("export-refused");
    let small = dir.join("small.csv");
    std::fs::write(&small, dataset_head(300)).unwrap();
    let export = dir.join("parts");
    let o = hitcast(&[
        "data",
        "split",
        "--data",
        small.to_str().unwrap(),
        "--export",
        export.to_str().unwrap(),
        "--resampled",
        "smote",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot resample FIT by smote: smote needs more than 5 minority rows"),
        "{}",
        stderr(&o)
    );
    assert!(!export.exists(), "{:?}", std::fs::read_dir(&export).ok());
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

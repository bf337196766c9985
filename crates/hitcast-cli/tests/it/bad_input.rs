//! Bad input, case by case: every one gives a clear error (exit 1, a message naming the file and
//! where) or a documented acceptance, never a panic and never a half-written output file.

use std::path::Path;

use super::serve::{model, Server};
use super::{dataset, hitcast, scratch, stderr, stdout_json, HEADER, ROW};

/// What a case must give.
enum Expect {
    /// Exit 1 with this in the message.
    Error(&'static str),
    /// Exit 0: accepted, as documented.
    Accepted,
    /// Exit 2, a usage error, with this in the message.
    Usage(&'static str),
}

/// `predict` of `bytes` as a CSV file, with `extra` flags.
fn check_predict(dir: &Path, name: &str, bytes: &[u8], extra: &[&str], expect: &Expect) {
    let input = dir.join(format!("{name}.csv"));
    std::fs::write(&input, bytes).unwrap();
    let output = dir.join(format!("{name}.out.csv"));
    let mut args = vec![
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = hitcast(&args);
    let said = stderr(&o);
    assert!(!said.contains("panicked"), "{name}: {said}");
    match expect {
        Expect::Error(message) | Expect::Usage(message) => {
            let code = if matches!(expect, Expect::Usage(_)) {
                2
            } else {
                1
            };
            assert_eq!(o.status.code(), Some(code), "{name}: {said}");
            assert!(said.contains(message), "{name}: {said:?} lacks {message:?}");
            assert!(!output.exists(), "{name}: an output was written");
        }
        Expect::Accepted => {
            assert!(o.status.success(), "{name}: {said}");
            assert!(output.is_file(), "{name}");
        }
    }
    // No temporary is left beside the output, whatever happened.
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{name}: {leftovers:?}");
}

/// A case name that lives as long as the test.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// The header and one good row with `column` set to `value`.
fn with_cell(column: &str, value: &str) -> Vec<u8> {
    let names: Vec<&str> = HEADER.split(',').collect();
    let i = names.iter().position(|n| *n == column).unwrap();
    let mut cells: Vec<&str> = ROW.split(',').collect();
    cells[i] = value;
    format!("{HEADER}\n{}\n", cells.join(",")).into_bytes()
}

#[test]
fn bad_csv_files_map_flags_and_cells_are_clear_errors_or_documented_acceptances() {
    let dir = scratch("bad-csv");
    let good = format!("{HEADER}\n{ROW}\n");
    let huge_name = {
        let mut cells: Vec<String> = ROW.split(',').map(str::to_owned).collect();
        cells[3] = "x".repeat(5_000_000);
        format!("{HEADER}\n{}\n", cells.join(","))
    };
    let mut binary = vec![0u8, 159, 146, 150, 255, 0, 1, 2];
    binary.extend(std::iter::repeat_n(0xAB, 4096));
    let short_row = format!("{HEADER}\n5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy\n");
    let long_row = format!("{HEADER}\n{ROW},extra\n");
    let mut cases: Vec<(&str, Vec<u8>, Vec<&str>, Expect)> = vec![
        (
            "empty",
            Vec::new(),
            vec![],
            Expect::Error("the file is empty (expected a CSV header line)"),
        ),
        (
            // Scoring nothing is not an error: the output is the header line alone.
            "header-only",
            format!("{HEADER}\n").into_bytes(),
            vec![],
            Expect::Accepted,
        ),
        // A spreadsheet's semicolons are found in the header and read as commas would be;
        // told another separator, the file is not what --delimiter says.
        (
            "semicolons",
            good.replace(',', ";").into_bytes(),
            vec![],
            Expect::Accepted,
        ),
        (
            "semicolons-told-commas",
            good.replace(',', ";").into_bytes(),
            vec!["--delimiter", ","],
            Expect::Error(
                ":1: split at commas (--delimiter ','), the header is one field, which holds 19 semicolons: the file looks separated by semicolons; leave out --delimiter, or pass --delimiter ';'",
            ),
        ),
        (
            "tabs",
            good.replace(',', "\t").into_bytes(),
            vec!["--delimiter", "tab"],
            Expect::Accepted,
        ),
        (
            "delimiter-two-characters",
            good.clone().into_bytes(),
            vec!["--delimiter", "ab"],
            Expect::Usage("expected one character"),
        ),
        (
            "open-quote",
            format!("{HEADER}\n\"5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino\n").into_bytes(),
            vec![],
            Expect::Error(".csv:2"),
        ),
        (
            "bom",
            [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat(),
            vec![],
            Expect::Accepted,
        ),
        (
            "crlf",
            good.replace('\n', "\r\n").into_bytes(),
            vec![],
            Expect::Accepted,
        ),
        (
            "huge-field",
            huge_name.into_bytes(),
            vec![],
            Expect::Accepted,
        ),
        (
            "binary",
            binary,
            vec![],
            Expect::Error("the first line is not a CSV header"),
        ),
        (
            "duplicate-header",
            good.replacen("energy", "danceability", 1).into_bytes(),
            vec![],
            Expect::Error("column \"danceability\" appears twice"),
        ),
        (
            "short-row",
            short_row.into_bytes(),
            vec![],
            Expect::Error(".csv:2"),
        ),
        (
            "long-row",
            long_row.into_bytes(),
            vec![],
            Expect::Error(".csv:2"),
        ),
        (
            "bad-utf8-name",
            [
                format!("{HEADER}\n").as_bytes(),
                ROW.replacen("Comedy", "Com\u{FFFD}dy", 1)
                    .as_bytes()
                    .iter()
                    .map(|&b| if b == 0xBD { 0xFF } else { b })
                    .collect::<Vec<u8>>()
                    .as_slice(),
                b"\n",
            ]
            .concat(),
            vec![],
            Expect::Error("invalid UTF-8"),
        ),
        (
            "map-no-equals",
            good.clone().into_bytes(),
            vec!["--map", "tempo"],
            Expect::Usage("invalid column mapping \"tempo\": expected SRC=DST"),
        ),
        (
            "map-unknown-target",
            good.clone().into_bytes(),
            vec!["--map", "tempo=bpm"],
            Expect::Usage("\"bpm\" is not a column hitcast reads (one of track_id,"),
        ),
        (
            "map-twice",
            good.clone().into_bytes(),
            vec!["--map", "tempo=energy,tempo=valence"],
            Expect::Usage("column \"tempo\" is mapped twice"),
        ),
        (
            "map-renames-away-required",
            good.clone().into_bytes(),
            vec!["--map", "tempo=track_genre"],
            Expect::Error(
                "column \"track_genre\" appears twice (fields 18 and 20); field 18 is \"tempo\", renamed to it by --map",
            ),
        ),
        (
            "keep-unknown",
            good.clone().into_bytes(),
            vec!["--keep", "nope"],
            Expect::Error("no column \"nope\" to keep; the header has \"track_id\","),
        ),
    ];
    // One cell of a good row made bad: (column, value, the error after `column "NAME": `, or
    // None when accepted).
    #[rustfmt::skip]
    let cells: &[(&str, &str, Option<&str>)] = &[
        ("energy", "1e400", Some("expected a number from 0 to 1, got \"1e400\"")),
        // NaN and NA are missing values: one learned column missing is a row half measured.
        ("energy", "NaN", Some("missing value: give all of danceability, energy, speechiness, acousticness, instrumentalness, liveness and valence, or none")),
        ("loudness", "nan", Some("missing value (\"nan\")")),
        ("tempo", "NA", Some("missing value (\"NA\")")),
        ("loudness", "inf", Some("expected a loudness from -60 to 10 dB, got \"inf\"")),
        ("loudness", "1e300", Some("expected a loudness from -60 to 10 dB, got \"1e300\"")),
        ("loudness", "-0", None),
        ("loudness", "-60", None),
        ("duration_ms", "-1", Some("expected a duration from 0 to 7,200,000 ms (2 hours), got \"-1\"")),
        // 99,999,999 minutes.
        ("duration_ms", "5999999940000", Some("expected a duration from 0 to 7,200,000 ms (2 hours), got \"5999999940000\"")),
        ("duration_ms", "7200000", None),
        ("key", "12", Some("expected an integer from -1 to 11, got \"12\"")),
        ("key", "1.5", Some("expected an integer from -1 to 11, got \"1.5\"")),
        ("mode", "major", Some("expected 0 or 1, got \"major\"")),
        ("explicit", "yes", Some("expected true/false or 1/0, got \"yes\"")),
        ("tempo", "", Some("missing value")),
        ("tempo", "fast", Some("expected a tempo from 0 to 300 BPM, got \"fast\"")),
        ("tempo", "1e300", Some("expected a tempo from 0 to 300 BPM, got \"1e300\"")),
        ("tempo", "100000", Some("expected a tempo from 0 to 300 BPM, got \"100000\"")),
        ("tempo", "300", None),
        // Scoring reads no popularity: a cell that is no score is read as empty.
        ("popularity", "101", None),
    ];
    for (column, value, error) in cells {
        let expect = error.map_or(Expect::Accepted, |e| {
            Expect::Error(leak(format!("column \"{column}\": {e}")))
        });
        let name = format!("{column}={value}");
        cases.push((leak(name), with_cell(column, value), vec![], expect));
    }
    // The position is exact: line 2, field 9 (energy); field 18 (tempo).
    cases.push((
        "position",
        with_cell("energy", "1e400"),
        vec![],
        Expect::Error(".csv:2:9: column \"energy\""),
    ));
    cases.push((
        "position-tempo",
        with_cell("tempo", "1e300"),
        vec![],
        Expect::Error(
            ".csv:2:18: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"1e300\"",
        ),
    ));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes, extra, expect)| {
            std::panic::catch_unwind(|| check_predict(&dir, name, bytes, extra, expect))
                .err()
                .map(|_| (*name).to_owned())
        })
        .collect();
    assert!(failures.is_empty(), "failed cases: {failures:?}");

    // Accepted "-0" scores exactly as "0".
    let zero = dir.join("zero.csv");
    std::fs::write(&zero, with_cell("loudness", "0")).unwrap();
    let minus = dir.join("minus.csv");
    std::fs::write(&minus, with_cell("loudness", "-0")).unwrap();
    let out = |input: &Path, name: &str| {
        let path = dir.join(name);
        assert!(super::predict(model(), input, &path, &[]).status.success());
        std::fs::read_to_string(path).unwrap()
    };
    assert_eq!(out(&zero, "z.out"), out(&minus, "m.out"));

    // Paths that are not files, and outputs that cannot be written.
    let o = hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--input",
        dir.to_str().unwrap(),
        "--output",
        dir.join("x.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot"), "{}", stderr(&o));
    let input = dir.join("good.csv");
    std::fs::write(&input, &good).unwrap();
    let o = hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        dir.join("no/such/dir/x.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn damaged_model_files_are_refused_with_the_reason() {
    let dir = scratch("bad-model");
    let bytes = std::fs::read(model()).unwrap();
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let mut version = bytes.clone();
    // The format version follows the 8-byte magic (little-endian u32).
    version[8] = 99;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not a hitcast model file"),
        (
            "magic-only",
            bytes[..8].to_vec(),
            "the model file is truncated",
        ),
        (
            "truncated",
            bytes[..bytes.len() / 3].to_vec(),
            "the model file is truncated",
        ),
        ("flipped-byte", flipped, "the model file is corrupt"),
        (
            "future-version",
            version,
            "model format version 99 is not supported",
        ),
        (
            "a-csv",
            format!("{HEADER}\n{ROW}\n").into_bytes(),
            "not a hitcast model file",
        ),
        (
            "random",
            (0..10_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect(),
            "not a hitcast model file",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        for command in [&["model", "info"][..], &["serve", "--model"][..]] {
            let mut args = command.to_vec();
            args.push(path.to_str().unwrap());
            let o = hitcast(&args);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{name} {command:?}: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains(message),
                "{name} {command:?}: {}",
                stderr(&o)
            );
        }
        // Scoring names the model file it could not read.
        let o = hitcast(&[
            "predict",
            "--model",
            path.to_str().unwrap(),
            "--input",
            "tracks.csv",
        ]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with(&format!("error: {}: {message}", path.display())),
            "{name}: {}",
            stderr(&o)
        );
    }
    // A file that is not there: named once, with the system's reason.
    let missing = dir.join("missing.hitcast");
    let missing = missing.to_str().unwrap();
    for args in [
        &["model", "info", missing][..],
        &["serve", "--model", missing],
        &["predict", "--model", missing, "--input", "tracks.csv"],
    ] {
        let o = hitcast(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            format!("error: {missing}: cannot read the model file (No such file or directory (os error 2))\n"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_api_requests_get_400_413_or_422_and_the_server_keeps_serving() {
    let server = Server::start_with(model(), &[]);
    // Over the default body limit (16 MiB).
    let over_limit = vec![b'['; 17 << 20];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty", Vec::new(), 400, "EOF while parsing"),
        ("not-json", b"energy=0.5".to_vec(), 400, "not valid JSON"),
        (
            "nan-literal",
            br#"{"energy": NaN}"#.to_vec(),
            400,
            "not valid JSON",
        ),
        (
            "1e400",
            br#"{"energy": 1e400}"#.to_vec(),
            400,
            "number out of range",
        ),
        ("deep", deep.into_bytes(), 400, "recursion limit exceeded"),
        (
            "17-mib",
            over_limit,
            413,
            "over this server's limit of 16777216 bytes (--body-limit)",
        ),
        (
            "not-utf8",
            b"{\"track_name\": \"\xff\"}".to_vec(),
            400,
            "not valid JSON",
        ),
        (
            "a-string",
            br#""a track""#.to_vec(),
            422,
            "expected a track object",
        ),
        ("null", b"null".to_vec(), 422, "expected a track object"),
        (
            "wrong-types",
            br#"{"energy": "high", "key": true, "genres": "pop"}"#.to_vec(),
            422,
            "expected a list of genre names, got a string",
        ),
        (
            "tracks-not-list",
            br#"{"tracks": {"energy": 1}}"#.to_vec(),
            422,
            "expected a list of track objects",
        ),
        (
            "negative-duration",
            br#"{"duration_ms": -1}"#.to_vec(),
            422,
            "expected a duration from 0 to 7,200,000 ms (2 hours), got -1",
        ),
        (
            "tempo-1e300",
            br#"{"tempo": 1e300}"#.to_vec(),
            422,
            r#"{"field":"tempo","message":"expected a tempo from 0 to 300 BPM, got 1e+300"}"#,
        ),
        (
            "loudness-1e300",
            br#"{"loudness": 1e300}"#.to_vec(),
            422,
            r#"{"field":"loudness","message":"expected a loudness from -60 to 10 dB, got 1e+300"}"#,
        ),
        (
            "tempo-100000",
            br#"{"tempo": 100000}"#.to_vec(),
            422,
            r#"{"field":"tempo","message":"expected a tempo from 0 to 300 BPM, got 100000"}"#,
        ),
        (
            "duration-99999999-minutes",
            br#"{"duration_ms": 5999999940000}"#.to_vec(),
            422,
            r#"{"field":"duration_ms","message":"expected a duration from 0 to 7,200,000 ms (2 hours), got 5999999940000"}"#,
        ),
    ];
    for (name, body, status, message) in &cases {
        let (got, text) = server.request("POST", "/api/v1/predict", "application/json", body);
        assert_eq!(got, *status, "{name}: {text}");
        assert!(text.contains(message), "{name}: {text}");
    }
    assert_eq!(server.get("/healthz").0, 200, "still serving");

    // A request over --timeout is answered 408 (10,000 tracks explained by TreeSHAP take
    // seconds), and the server goes on answering.
    let server = Server::start_with(model(), &["--timeout", "1", "--body-limit", "20000000"]);
    let track = super::serve::comedy();
    let batch = serde_json::json!({ "tracks": vec![track; 10_000] }).to_string();
    let (status, _) = server.request(
        "POST",
        "/api/v1/predict?explain=true",
        "application/json",
        batch.as_bytes(),
    );
    assert_eq!(status, 408);
    assert_eq!(server.get("/healthz").0, 200);
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

    // Scoring reads no popularity: one that is no score does not stop it.
    let answers = dir.join("answers.csv");
    let o = hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--input",
        file.to_str().unwrap(),
        "--output",
        answers.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&answers).unwrap().lines().count(),
        3
    );
    std::fs::remove_file(&answers).unwrap();

    // Nothing left to score: refused, where an empty answer file and exit 0 would read as a
    // catalogue scored.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}\n{}\n", ROW.replace(",0.461,", ",1.5,")),
    )
    .unwrap();
    for command in ["predict", "explain"] {
        let mut args = vec![
            command,
            "--model",
            model().to_str().unwrap(),
            "--input",
            bad.to_str().unwrap(),
            "--on-error",
            "skip",
        ];
        if command == "predict" {
            args.extend(["--output", answers.to_str().unwrap()]);
        }
        let o = hitcast(&args);
        assert_eq!(o.status.code(), Some(1), "{command}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "{0}: every row is bad (1 skipped by --on-error skip), so none is left; the first: {0}:2:9: column \"energy\"",
                bad.display()
            )),
            "{command}: {}",
            stderr(&o)
        );
    }
    assert!(!answers.exists());
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

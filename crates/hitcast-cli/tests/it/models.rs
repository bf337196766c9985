//! `hitcast train`, `predict`, `explain`, `model` and `bench`: saved models, their answers and
//! explanations, each family's round trip, and the XGBoost export checked in Python.

use std::process::Command;

use super::{
    adds_up, dataset, hitcast, predict, predicted, scratch, serve, stderr, stdout_json,
    train_quick, train_run, HEADER, ROW,
};

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
    assert_eq!(info["outliers"], "raw");
    assert!(info["test_classification"]["confusion"]["fn"].is_u64());
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
    // In words: the setup, and each family's parameters as --param sets them.
    let o = hitcast(&["model", "info", dir.join("a.hitcast").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("\n  setup         raw setup, strategy undersample; 139 features\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  classifier    logreg, logistic regression: l2="),
        "{text}"
    );
    assert!(
        text.contains("\n  regressor     linear, ridge regression: "),
        "{text}"
    );

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
    // Two rows of the training dataset's audio: said once each, apart from the genres, and
    // neither is counted as an input beyond the training range.
    assert!(
        stderr(&o).contains("2 row(s) are tracks of the dataset the model was built from"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("inputs beyond"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "track_id,popularity_probability,flagged,lift,predicted_popularity,popularity_low,\
         popularity_high,warnings,model,track_name,explicit,tempo"
    );
    assert!(lines[1].ends_with(",Comedy,false,87.917"), "{}", lines[1]);
    assert_eq!(lines.len(), 3);
    // Each warning's field once: the unknown genre, then the training track.
    assert!(
        lines[2].contains(",track_genre;training_track,"),
        "{}",
        lines[2]
    );
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
    // A column hitcast does not read is copied as written, beside its own row when a bad row
    // is skipped (its header name in any case); one the file lacks is named.
    let carried = dir.join("isrc.csv");
    std::fs::write(
        &carried,
        format!(
            "isrc,{header}\nGBUM71029604,{row}\n\"US-S1Z-99,1\",{}\nQZ0000000001,{row}\n",
            row.replace("87.917", "fast")
        ),
    )
    .unwrap();
    let kept = dir.join("isrc-answers.csv");
    let o = predict(
        &model,
        &carried,
        &kept,
        &["--on-error", "skip", "--keep", "ISRC,track_name"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&kept).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with(",model,ISRC,track_name"), "{}", lines[0]);
    assert!(lines[1].ends_with(",GBUM71029604,Comedy"), "{}", lines[1]);
    assert!(lines[2].ends_with(",QZ0000000001,Comedy"), "{}", lines[2]);
    assert_eq!(lines.len(), 3);
    // The same file on standard input (`--input -`) gives the same answers on standard output.
    let piped = |bytes: &[u8], extra: &[&str]| {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hitcast"))
            .args([
                "predict",
                "-q",
                "--model",
                model.to_str().unwrap(),
                "--input",
                "-",
            ])
            .args(extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(bytes).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let skip = ["--on-error", "skip", "--keep", "ISRC,track_name"];
    let o = piped(&std::fs::read(&carried).unwrap(), &skip);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), text);
    let o = piped(b"PAR1\0\0", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("<stdin>: a Parquet file cannot be read from standard input"),
        "{}",
        stderr(&o)
    );
    let o = predict(&model, &carried, &kept, &["--keep", "isbn"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "isrc.csv:1: no column \"isbn\" to keep; the header has \"isrc\", \"track_id\","
        ),
        "{}",
        stderr(&o)
    );
    // Columns the answers cannot hold as asked: a second track_id, tempo or model (two output
    // columns of one name, which pyarrow and polars refuse), a popularity this file does not
    // have.
    for (keep, said) in [
        (
            "track_id",
            "--keep: track_id is already the answers' first column",
        ),
        ("tempo,tempo", "--keep: tempo is named twice"),
        ("model", "--keep: model is one of the answers' own columns"),
        (
            "popularity",
            "--keep popularity: the input has no popularity column",
        ),
    ] {
        let o = predict(&model, &input, &output, &["--keep", keep]);
        assert_eq!(o.status.code(), Some(1), "{keep}");
        assert_eq!(stderr(&o), format!("error: {said}\n"), "{keep}");
    }
}

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
        // Each key once (a parser keeps the last of two, or refuses the object).
        let said = String::from_utf8_lossy(&o.stdout);
        assert_eq!(said.matches("\"probability\":").count(), 2, "{said}");
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
            .find_map(|l| l.trim().strip_prefix("from the model's baseline "))
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
    let dir = scratch("xgboost-export");
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

//! `hitcast experiment` and `hitcast run`: the grid's result files, its refusals, folds, and the
//! whole job's outputs.

use serde_json::Value;

use super::{dataset, dataset_head, hitcast, hitcast_in, scratch, stderr};

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
fn run_quick_writes_every_output_and_a_failed_run_leaves_the_last_one_intact() {
    let dir = scratch("run");
    let data = dataset();
    let o = hitcast_in(&dir, &["run", "--quick", "--data", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.starts_with("hitcast run: done in "), "{said}");
    assert!(
        said.ends_with(&format!(
            "Open the app:\n  hitcast serve --model runs/quick/model.hitcast --report runs/quick/report --data {}\n",
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
    let out = dir.join("runs/quick");
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
    // The training step said what it fits as it started.
    assert!(
        steps.contains(&format!(
            "== step 4/5: train the model chosen on VAL\n   chosen on VAL: classifier {setup}/{strategy}/{model}, score regressor {setup}/"
        )) && steps.contains("; training the new-song, no-genres and from-audio models beside them\n"),
        "{steps}"
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
    std::fs::write(out.join("grid/marker"), "previous").unwrap();
    let few = dir.join("few.csv");
    std::fs::write(&few, dataset_head(40)).unwrap();
    let o = hitcast_in(&dir, &["run", "--quick", "--data", few.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hitcast run (the previous results in runs/quick are untouched)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("grid/marker")).unwrap(),
        "previous"
    );
    let names: Vec<_> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["quick"]);

    // An --out that holds files of its own, or is a file, is refused and left as it was.
    let notes = dir.join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("todo.txt"), "mine").unwrap();
    for (out, what) in [
        ("notes", "notes: a folder with files of its own; "),
        ("few.csv", "few.csv: a file; "),
        (".", ".: not a folder's name; "),
    ] {
        let o = hitcast_in(
            &dir,
            &[
                "run",
                "--quick",
                "--data",
                few.to_str().unwrap(),
                "--out",
                out,
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "{what}the job replaces the folder it writes to whole: give a new or empty folder, or an earlier run's"
            )),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(
        std::fs::read_to_string(notes.join("todo.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(&few).unwrap(), dataset_head(40));
}

//! `hitcast run`: the main job end to end. It runs the documented subcommands in order, as child
//! processes of this binary, so each step is exactly what its own command does:
//!
//! check the data, EDA and the grid under the seed protocol (for comparison), side by side →
//! the grid (honest protocol) → train the model chosen on VAL → the report → a summary and the
//! `hitcast serve` line.
//!
//! The honest grid keeps its chosen cells' fitted models (`--keep-fits`), and the train step
//! takes them (`--fits`) instead of fitting the same models again; it fits only what the grid
//! does not (the score's range, the no-genres companion).
//!
//! Everything is written to a temporary directory beside `--out` and moved into place at the
//! end, so an interrupted run leaves the previous results as they were.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use hitcast::artifact::load_metadata;
use hitcast::experiment::{ResultRow, Results};
use hitcast::fsutil::{replace_dir, sibling, write_atomic};
use hitcast::models::ClassifierKind;

use crate::cmd::experiment::FITS_FILE;
use crate::dataset::DataArgs;
use crate::output::emit;
use crate::Globals;

/// Flags of `hitcast run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Directory for everything the run writes (replaced whole when the run succeeds).
    #[arg(long, value_name = "DIR", default_value = "runs/latest")]
    out: PathBuf,
    /// A reduced grid for a first look (about ten seconds): the raw setup, logistic regression
    /// without and with undersampling, gradient boosting without (at twice the default
    /// learning rate, early-stopped after 25 rounds without progress); no network, no stack,
    /// no seed headline.
    #[arg(long)]
    quick: bool,
}

/// The seed protocol's cells in a full run: the five classifiers on raw rows, as they are and
/// undersampled (the seed's own choice). It is there for comparison, and its 114,000 raw rows
/// would make the whole grid take longer than the honest one.
const SEED_CELLS: &str = "classification/raw/none/,classification/raw/undersample/";
/// The honest grid's cells under `--quick` (patterns of `hitcast experiment --only`).
const QUICK_CELLS: &str = "classification/raw/none/logreg,classification/raw/none/gbm,\
    classification/raw/undersample/logreg,regression/raw/none/linear,regression/raw/none/gbm";
/// The seed protocol's cells under `--quick`: the honest grid's logistic regressions, for the
/// leakage comparison (boosting on its 114,000 raw rows would be the slowest step).
const QUICK_SEED_CELLS: &str = "classification/raw/none/logreg,\
    classification/raw/undersample/logreg,regression/raw/none/linear";
/// Under `--quick`, boosting's settings in the grid and the train step alike (so the train step
/// takes the grid's fits): twice the default learning rate and half its patience, a third of
/// the time (VAL PR-AUC 0.313 against 0.321 for raw/none/gbm).
const QUICK_PARAMS: [&str; 2] = ["gbm.learning_rate=0.1", "gbm.early_stopping_rounds=25"];

/// One step: its label, the subcommand's arguments, and the log file of its output.
struct Step {
    label: &'static str,
    args: Vec<String>,
    log: &'static str,
}

impl RunArgs {
    /// Runs every step, then moves the results into place and prints the summary.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let data = self.data.path()?;
        let work = sibling(&self.out, &format!("run-{}", std::process::id()))
            .with_context(|| format!("{}: not a directory path", self.out.display()))?;
        if let Some(parent) = work.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(work.join("logs"))
            .with_context(|| format!("cannot create {}", work.display()))?;
        let result = self.steps(&data, &work, globals, started);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&work);
        }
        let summary = result?;
        replace_dir(&work, &self.out).with_context(|| {
            format!(
                "cannot move the results from {} to {}",
                work.display(),
                self.out.display()
            )
        })?;
        relocate_logs(&work, &self.out)?;
        emit(&summary)
    }

    fn steps(
        &self,
        data: &Path,
        work: &Path,
        globals: Globals,
        started: Instant,
    ) -> anyhow::Result<String> {
        let path = |name: &str| work.join(name).display().to_string();
        let data_args = {
            let mut a = vec!["--data".to_owned(), data.display().to_string()];
            for m in &self.data.map {
                a.extend(["--map".to_owned(), m.clone()]);
            }
            a
        };
        let with = |words: &[&str], extra: &[String]| -> Vec<String> {
            let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            v.extend(data_args.iter().cloned());
            v.extend(extra.iter().cloned());
            v
        };
        let quick_param: Vec<String> = if self.quick {
            QUICK_PARAMS
                .iter()
                .flat_map(|p| ["--param".to_owned(), (*p).to_owned()])
                .collect()
        } else {
            Vec::new()
        };
        let grid = |protocol: &str, dir: &str| {
            let quick: Vec<String> = match (self.quick, protocol) {
                (false, "seed") => vec!["--only".into(), SEED_CELLS.into()],
                (false, _) => Vec::new(),
                (true, "seed") => vec!["--only".into(), QUICK_SEED_CELLS.into()],
                (true, _) => vec!["--only".into(), QUICK_CELLS.into()],
            };
            let mut extra = vec![
                "--protocol".to_owned(),
                protocol.to_owned(),
                "--out".to_owned(),
                path(dir),
            ];
            if protocol == "honest" {
                // The chosen cells' models, which the train step takes instead of refitting.
                extra.push("--keep-fits".to_owned());
            }
            extra.extend(quick.iter().cloned());
            extra.extend(quick_param.iter().cloned());
            with(&["experiment"], &extra)
        };
        // Checking and exploring the data take a second each on one core, so they run beside
        // the seed protocol's grid (small, next to the honest grid's memory).
        let before_train = [
            Step {
                label: "check the data",
                args: with(&["data", "check"], &[]),
                log: "check.txt",
            },
            Step {
                label: "explore the data",
                args: with(&["eda"], &["--out".into(), path("eda")]),
                log: "eda.txt",
            },
            Step {
                label: "the grid, seed protocol (leaky; for comparison)",
                args: grid("seed", "grid-seed"),
                log: "grid-seed.txt",
            },
            Step {
                label: "the grid, honest protocol",
                args: grid("honest", "grid"),
                log: "grid.txt",
            },
        ];
        let total = before_train.len() + 2;
        run_steps(1, total, &before_train[..3], work, globals, started)?;
        run_steps(4, total, &before_train[3..], work, globals, started)?;

        let results = read_results(&work.join("grid"))?;
        let (chosen, regressor) = choose(&results)?;
        let fits = work.join("grid").join(FITS_FILE);
        let mut train_args = vec![
            "--model".into(),
            chosen.cell.model_name().to_owned(),
            "--strategy".into(),
            chosen.cell.strategy().name().into(),
            "--setup".into(),
            chosen.cell.setup().to_string(),
            "--regressor".into(),
            regressor.cell.model_name().to_owned(),
            "--fits".into(),
            fits.display().to_string(),
            "--out".into(),
            path("model.hitcast"),
        ];
        let boosted = |name: &str| name == ClassifierKind::Gbm.name();
        if boosted(chosen.cell.model_name()) || boosted(regressor.cell.model_name()) {
            train_args.extend(quick_param.iter().cloned());
        }
        let train = Step {
            label: "train the model chosen on VAL",
            args: with(&["train"], &train_args),
            log: "train.txt",
        };
        run_steps(total - 1, total, &[train], work, globals, started)?;
        // The fitted models served the train step; the model file holds what serving needs.
        std::fs::remove_file(&fits).with_context(|| format!("cannot remove {}", fits.display()))?;
        let log = work.join("logs").join("train.txt");
        let mut said = std::fs::read_to_string(&log)
            .with_context(|| format!("cannot read {}", log.display()))?;
        said.push_str(&format!(
            "\n(hitcast run removed {} after this step: the model file holds what serving needs)\n",
            fits.display()
        ));
        write_atomic(&log, said.as_bytes())
            .with_context(|| format!("cannot write {}", log.display()))?;
        let report = Step {
            label: "the report",
            args: with(
                &["report"],
                &[
                    "--experiment".into(),
                    path("grid"),
                    "--experiment".into(),
                    path("grid-seed"),
                    "--model".into(),
                    path("model.hitcast"),
                    "--out".into(),
                    path("report"),
                ],
            ),
            log: "report.txt",
        };
        run_steps(total, total, &[report], work, globals, started)?;
        summary(
            &self.out, &data_args, &results, chosen, regressor, work, started,
        )
    }
}

/// Runs steps `first..` side by side, each as a child process with its stdout to
/// `work/logs/LOG` and its stderr (progress bars, warnings) through to the terminal; fails
/// with the first step (in order) that failed, once all have ended.
fn run_steps(
    first: usize,
    total: usize,
    steps: &[Step],
    work: &Path,
    globals: Globals,
    started: Instant,
) -> anyhow::Result<()> {
    let steps_started = Instant::now();
    let labels: Vec<&str> = steps.iter().map(|s| s.label).collect();
    // With -q only errors reach the terminal: the step lines are progress too.
    let say = |line: String| {
        if !globals.quiet {
            eprintln!("{line}");
        }
    };
    match steps.len() {
        1 => say(format!("== step {first}/{total}: {}", labels[0])),
        n => say(format!(
            "== steps {first}-{}/{total}, side by side: {}",
            first + n - 1,
            labels.join("; ")
        )),
    }
    let program = std::env::current_exe().context("cannot find this program")?;
    let mut children = Vec::new();
    for step in steps {
        let log = work.join("logs").join(step.log);
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(&program);
        command.arg("--seed").arg(globals.seed.to_string());
        if globals.quiet {
            command.arg("-q");
        }
        let child = command
            .args(&step.args)
            .stdout(Stdio::from(file))
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start `hitcast {}`", step.args.join(" ")))?;
        children.push((child, log));
    }
    // Every child is waited for, so none outlives a failure of another.
    let statuses: Vec<_> = children
        .into_iter()
        .map(|(mut child, log)| (child.wait(), log))
        .collect();
    for (k, (step, (status, log))) in steps.iter().zip(statuses).enumerate() {
        let ok = status
            .with_context(|| format!("cannot wait for `hitcast {}`", step.args.join(" ")))?
            .success();
        if !ok {
            // The run's directory goes with the failure, so the step's output is shown here.
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = said.lines().collect();
            let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n  ");
            bail!(
                "step {} ({}) failed: `hitcast {}` (the previous results are untouched){}",
                first + k,
                step.label,
                step.args.join(" "),
                if tail.trim().is_empty() {
                    String::new()
                } else {
                    format!("; its last output:\n  {tail}")
                }
            );
        }
    }
    say(format!(
        "   done in {} (total {})",
        clock(steps_started.elapsed().as_secs()),
        clock(started.elapsed().as_secs())
    ));
    Ok(())
}

/// `word` as a shell reads it back: in single quotes if it holds anything but plain path and
/// flag characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-=,:+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Lines of a failed step's output repeated in the run's error.
const LOG_TAIL: usize = 20;

/// The steps' logs name the run's working directory, which became `out`: they name `out`.
fn relocate_logs(work: &Path, out: &Path) -> anyhow::Result<()> {
    let (from, to) = (work.display().to_string(), out.display().to_string());
    let logs = out.join("logs");
    let entries =
        std::fs::read_dir(&logs).with_context(|| format!("cannot read {}", logs.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", logs.display()))?
            .path();
        let said = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if said.contains(&from) {
            write_atomic(&path, said.replace(&from, &to).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

fn clock(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

fn read_results(dir: &Path) -> anyhow::Result<Results> {
    let path = dir.join("results.json");
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a results file", path.display()))
}

/// The classifier cell with the best VAL PR-AUC, and the regressor with the best VAL R² on the
/// same outlier setup (one feature pipeline serves both). TEST plays no part.
fn choose(results: &Results) -> anyhow::Result<(&ResultRow, &ResultRow)> {
    let chosen = results
        .best_by_val()
        .filter(|r| r.val_pr_auc.is_some())
        .context("the grid has no classification result to choose from")?;
    let regressor = results
        .best_regressor_by_val(chosen.cell.setup())
        .filter(|r| r.val_r2.is_some())
        .context("the grid has no regression result on the chosen setup")?;
    Ok((chosen, regressor))
}

/// The closing summary: best cells, the saved model's TEST figures, the files, the serve line
/// (with the data file, so the app's search works from any directory).
fn summary(
    out: &Path,
    data_args: &[String],
    results: &Results,
    chosen: &ResultRow,
    regressor: &ResultRow,
    work: &Path,
    started: Instant,
) -> anyhow::Result<String> {
    let o = out.display();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hitcast run: done in {}; everything is in {o}/\n",
        clock(started.elapsed().as_secs())
    );
    let _ = writeln!(
        s,
        "Best classifiers on VAL (PR-AUC), honest protocol, with their TEST figures:"
    );
    let ranked = results.ranked_by_val();
    let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    for r in ranked.iter().take(5) {
        let _ = writeln!(
            s,
            "  {:<40} VAL PR-AUC {}   TEST ROC-AUC {}  PR-AUC {}  F1 {}",
            r.cell.short(),
            f(r.val_pr_auc),
            f(r.roc_auc),
            f(r.pr_auc),
            f(r.f1)
        );
    }
    let m = load_metadata(&work.join("model.hitcast"))?;
    let c = &m.test_classification;
    let _ = writeln!(
        s,
        "\nSaved model: {} classifier ({} setup, strategy {}) and {} score regressor.",
        chosen.cell.model_name(),
        chosen.cell.setup(),
        chosen.cell.strategy().name(),
        regressor.cell.model_name()
    );
    let _ = writeln!(
        s,
        "  TEST ({} tracks, {:.1}% popular): of the tracks it flags as hit contenders, {:.0}% are popular; it finds {:.0}% of the popular ones.\n  ROC-AUC {:.3}  PR-AUC {:.3}  F1 {:.3}; score R² {:.3}, MAE {:.1}",
        c.rows,
        c.positive_rate * 100.0,
        c.precision * 100.0,
        c.recall * 100.0,
        c.roc_auc,
        c.pr_auc,
        c.f1,
        m.test_regression.r2,
        m.test_regression.mae
    );
    if let Some(h) = &results.headline {
        let _ = writeln!(
            s,
            "\nThe seed project's headline, reproduced: accuracy {:.3} under its leaky procedure.\n  {}",
            h.seed_procedure.accuracy,
            h.explanation
        );
    }
    let _ = writeln!(
        s,
        "\nFiles:\n  {o}/report/index.html     the report: model card, grids, EDA\n  {o}/eda/index.html        the EDA alone\n  {o}/grid/results.md       the honest grid (also .csv, .json)\n  {o}/grid-seed/results.md  the seed protocol's grid\n  {o}/model.hitcast         the saved model\n  {o}/logs/                 each step's output"
    );
    // --data as read here (and its --map): the app's track search needs the dataset, read as
    // the run read it, wherever this is run.
    let data: Vec<String> = data_args.iter().map(|a| shell_word(a)).collect();
    let _ = writeln!(
        s,
        "\nOpen the app:\n  hitcast serve --model {o}/model.hitcast --report {o}/report {}",
        data.join(" ")
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn words_a_shell_would_split_or_expand_are_quoted() {
        assert_eq!(shell_word("data/x.csv.gz"), "data/x.csv.gz");
        assert_eq!(shell_word("a=b,c=d"), "a=b,c=d");
        assert_eq!(shell_word("my data/x.csv"), "'my data/x.csv'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }
}

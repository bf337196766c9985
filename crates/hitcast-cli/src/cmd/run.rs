//! `hitcast run`: the main job end to end, in-process ([`hitcast::job::run_job`]): explore the
//! data and run the reference protocol's grid side by side, run the honest grid, train the model
//! chosen on VAL from the grid's own fits, and write the report; then a summary and the
//! `hitcast serve` line.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hitcast::artifact::Role;
use hitcast::experiment::Cell;
use hitcast::job::{run_job, JobConfig, JobEvent, JobOutcome, STEPS};

use crate::dataset::{sha256_file, DataArgs};
use crate::output::emit;
use crate::progress::Progress;
use crate::Globals;

/// Flags of `hitcast run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Directory for everything the run writes (replaced whole when the run succeeds; a folder
    /// holding files of its own, not an earlier run's, is refused) [default: runs/latest, or
    /// runs/quick with --quick, which leaves a full run's results alone].
    #[arg(long, value_name = "DIR")]
    out: Option<std::path::PathBuf>,
    /// A reduced grid for a first look (about ten seconds): the raw setup, logistic regression
    /// without and with undersampling, gradient boosting without (at twice the default
    /// learning rate, early-stopped after 25 rounds without progress); no network, no stack,
    /// no seed headline.
    #[arg(long)]
    quick: bool,
}

impl RunArgs {
    /// Runs the job and prints the summary.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let say = |line: String| {
            if !globals.quiet {
                eprintln!("{line}");
            }
        };
        let config = JobConfig {
            quick: self.quick,
            seed: globals.seed,
            ..JobConfig::default()
        };
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| config.default_out().into());
        hitcast::job::check_out(&out)?;
        let path = self.data.path()?;
        let loaded = self.data.load()?;
        let data_sha256 = sha256_file(&path)?;
        say(format!(
            "== read and checked {}: {} rows in {:.1} s",
            path.display(),
            loaded.rows.len(),
            started.elapsed().as_secs_f64()
        ));
        let mut progress = Progress::new(globals.quiet);
        let mut on_event = |event: JobEvent| match event {
            JobEvent::Started { first, count } => {
                let labels = STEPS[first..first + count].join("; ");
                say(match count {
                    1 => format!("== step {}/{}: {labels}", first + 1, STEPS.len()),
                    _ => format!(
                        "== steps {}-{}/{}, side by side: {labels}",
                        first + 1,
                        first + count,
                        STEPS.len()
                    ),
                });
            }
            JobEvent::Grid(_, event) => progress.on(event),
            JobEvent::Chosen {
                classifier,
                regressor,
            } => say(chosen_line(classifier, regressor)),
            JobEvent::Finished { elapsed } => {
                progress.finish();
                say(format!(
                    "   done in {} (total {})",
                    clock(elapsed.as_secs()),
                    clock(started.elapsed().as_secs())
                ));
            }
        };
        let job =
            run_job(loaded, &data_sha256, &config, &out, &mut on_event).with_context(|| {
                format!(
                    "hitcast run (the previous results in {} are untouched)",
                    out.display()
                )
            })?;
        // --data as read here (and its --map): the app's track search needs the dataset, read
        // as the run read it, wherever this is run.
        let mut data_args = vec!["--data".to_owned(), path.display().to_string()];
        for m in &self.data.map {
            data_args.extend(["--map".to_owned(), m.clone()]);
        }
        emit(&summary(&job, &data_args))
    }
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

/// What the training step fits, said as it starts (it runs for a while without a bar).
fn chosen_line(classifier: Cell, regressor: Cell) -> String {
    let mut companions: Vec<&str> = Role::ALL[1..].iter().map(|r| r.name()).collect();
    let last = companions.pop().unwrap_or_default();
    format!(
        "   chosen on VAL: classifier {}, score regressor {}; training the {} and {last} models beside them",
        classifier.short(),
        regressor.short(),
        companions.join(", ")
    )
}

fn clock(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The closing summary: best cells, the saved model's TEST figures, the files, the serve line
/// (with the data file, so the app's search works from any directory).
fn summary(job: &JobOutcome, data_args: &[String]) -> String {
    let (o, results, m) = (job.out.display(), &job.results, &job.metadata);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hitcast run: done in {}; everything is in {o}/\n",
        clock(job.elapsed.as_secs())
    );
    let _ = writeln!(
        s,
        "Best classifiers on VAL (PR-AUC), honest protocol, with their TEST figures:"
    );
    let ranked = results.ranked_by_val();
    for r in ranked.iter().take(5) {
        let Some(c) = r.classifier() else { continue };
        let _ = writeln!(
            s,
            "  {:<40} VAL PR-AUC {:.3}   TEST ROC-AUC {:.3}  PR-AUC {:.3}  F1 {:.3}",
            r.cell.short(),
            c.val_pr_auc,
            c.roc_auc,
            c.pr_auc,
            c.f1
        );
    }
    let c = &m.test_classification;
    let _ = writeln!(
        s,
        "\nSaved model: {} classifier ({} setup, strategy {}) and {} score regressor.",
        job.classifier.model_name(),
        job.classifier.setup(),
        job.classifier.strategy().name(),
        job.regressor.model_name()
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
    if !job.reused.is_empty() {
        let taken: Vec<String> = job.reused.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            s,
            "  taken from the grid, not fitted again: {}",
            taken.join(", ")
        );
    }
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
        "\nFiles:\n  {o}/report/index.html          the report: model card, grids, EDA\n  {o}/eda/index.html             the EDA alone\n  {o}/grid/results.md            the honest grid (also .csv, .json)\n  {o}/grid-reference/results.md  the reference protocol's grid\n  {o}/model.hitcast              the saved model"
    );
    // --data as read here (and its --map): the app's track search needs the dataset, read as
    // the run read it, wherever this is run.
    let data: Vec<String> = data_args.iter().map(|a| shell_word(a)).collect();
    let _ = writeln!(
        s,
        "\nOpen the app:\n  hitcast serve --model {o}/model.hitcast --report {o}/report {}",
        data.join(" ")
    );
    s
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

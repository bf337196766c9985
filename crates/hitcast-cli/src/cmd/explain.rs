//! `hitcast explain`: for each track of a file, its chance and what moved it, in music words as
//! the app shows them: from a typical track's chance, each of the largest inputs in turn, in
//! percentage points, then everything else (TreeSHAP for tree models, exact linear SHAP for
//! logistic regression, sampling Shapley values for the MLP and the stack). `--json` gives
//! every contribution in log-odds, with the inputs' column names, for programs.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use hitcast::explain::{probability, Contribution, Explanation, Method, SamplingOptions};
use hitcast::predictor::{verdict_phrase, Prediction};
use serde::Serialize;

use crate::scoring::InputArgs;
use crate::Globals;

/// Flags of `hitcast explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The model file (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Inputs shown one by one per track, those the model weighs most first (the rest in one
    /// line); with --json,
    /// the contributions listed each way (up and down).
    #[arg(long, default_value_t = 8, value_parser = crate::flags::at_least_1::<u32>)]
    top: u32,
    /// Explain only the first N rows. The MLP and the stack explain by sampling, a few rows a
    /// second (docs/performance.md); tree and linear models thousands of rows a second.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Samples per track for the MLP and stack (more: steadier estimates, proportionally
    /// slower; the sum is exact either way).
    #[arg(long, default_value_t = 256, value_parser = crate::flags::at_least_1::<u32>)]
    samples: u32,
    /// One JSON array of objects (every contribution, plus the top ones each way) instead of
    /// text.
    #[arg(long)]
    json: bool,
}

/// One explained track: its answer and why.
#[derive(Serialize)]
struct Explained {
    track_id: String,
    track_name: String,
    artists: String,
    #[serde(flatten)]
    answer: Prediction,
    /// In `--json` through [`JsonRow`]'s fields: its probability is the answer's, already
    /// written.
    #[serde(skip)]
    explanation: Explanation,
}

/// One track in `--json` output: the answer, then the explanation.
#[derive(Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    explained: &'a Explained,
    method: Method,
    base: f64,
    log_odds: f64,
    contributions: &'a [Contribution],
    up: Vec<&'a Contribution>,
    down: Vec<&'a Contribution>,
}

impl ExplainArgs {
    /// Explains the file's rows.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        let predictor = self.input.predictor(&self.model)?;
        let top = self.top as usize;
        let options = SamplingOptions {
            samples: self.samples as usize,
            seed: globals.seed,
        };
        let mut left = self.limit.unwrap_or(u64::MAX);
        let mut input = self.input.batches(256, &[])?;
        let mut out = std::io::stdout().lock();
        let mut first = true;
        let mut method = None;
        if self.json {
            out.write_all(b"[")?;
        }
        while left > 0 {
            let Some(mut batch) = input.next_batch()? else {
                break;
            };
            batch.truncate(usize::try_from(left).unwrap_or(usize::MAX));
            left -= batch.len() as u64;
            let answers = predictor.score_explained_rows(&batch, options)?;
            let explained: Vec<Explained> = batch
                .into_iter()
                .zip(answers)
                .map(|(row, (answer, explanation))| Explained {
                    track_id: row.track_id,
                    track_name: row.track_name,
                    artists: row.artists,
                    answer,
                    explanation,
                })
                .collect();
            for e in &explained {
                input.unknown_genres.count(&e.answer.chance);
                input.answered_by(e.answer.chance.model);
                method.get_or_insert(e.explanation.method);
                if self.json {
                    let x = &e.explanation;
                    let row = JsonRow {
                        explained: e,
                        method: x.method,
                        base: x.base,
                        log_odds: x.log_odds,
                        contributions: &x.contributions,
                        up: e.explanation.top_up(top).collect(),
                        down: e.explanation.top_down(top).collect(),
                    };
                    out.write_all(if first { b"\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut out, &row)?;
                } else {
                    let threshold = predictor.decision_threshold(&e.answer);
                    out.write_all(text(e, threshold, top).as_bytes())?;
                }
                first = false;
            }
        }
        if self.json {
            out.write_all(b"\n]\n")?;
        } else if let Some(method) = method {
            let m = predictor.metadata();
            writeln!(
                out,
                "A hit is a popularity above {}; a score's range is meant to hold {:.0}% of the \
                 tracks given it (docs/answers.md says for which it holds less). Each line moves \
                 the chance by its percentage points, measured after the lines above it, so \
                 together they lead from the model's baseline (its average answer) to the \
                 track's own; computed by {}. --json gives every input's contribution in log-odds.",
                m.label_threshold,
                m.interval.choice.coverage * 100.0,
                method.describe()
            )?;
        }
        out.flush()?;
        input.some_read(u64::from(!first))?;
        input.report();
        Ok(())
    }
}

/// A track's explanation for people, in the app's words.
fn text(e: &Explained, threshold: f64, top: usize) -> String {
    let x = &e.explanation;
    let mut s = String::new();
    let title = if e.track_name.is_empty() {
        String::new()
    } else {
        format!("  \"{}\"", e.track_name)
    };
    let by = if e.artists.is_empty() {
        String::new()
    } else {
        format!(" by {}", e.artists.replace(';', ", "))
    };
    let _ = writeln!(s, "{}{title}{by}", e.track_id);
    let a = &e.answer;
    let _ = writeln!(
        s,
        "  {:.1}% chance of a hit, {} (the {} model, which flags from {:.1}%)",
        a.chance.probability * 100.0,
        verdict_phrase(a.chance.probability, a.chance.flagged, a.chance.lift),
        a.chance.model,
        threshold * 100.0,
    );
    let _ = writeln!(
        s,
        "  score {:.0}, likely between {:.0} and {:.0}",
        a.popularity, a.popularity_low, a.popularity_high
    );
    for w in &a.chance.warnings {
        let _ = writeln!(s, "  warning: {}", w.message);
    }
    let _ = writeln!(
        s,
        "  from the model's baseline {:.1}%:",
        probability(x.base) * 100.0
    );
    for step in x.chance_steps(top) {
        let input = if step.value.is_empty() {
            step.label
        } else {
            format!("{}: {}", step.label, step.value)
        };
        let _ = writeln!(
            s,
            "    {:<58} {:>+6.1} pp",
            truncate(&input, 58),
            (step.to - step.from) * 100.0
        );
    }
    s.push('\n');
    s
}

/// At most `n` characters, with an ellipsis when cut.
fn truncate(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(n - 1).collect();
        cut.push('…');
        cut
    }
}

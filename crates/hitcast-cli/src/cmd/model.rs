//! `hitcast model info`: what a saved model says about itself; `model evaluate`: how it does on
//! another catalogue, without the tracks it learnt from; `model export`: its booster for
//! XGBoost.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hitcast::artifact::Role;
use hitcast::data::{ReadOptions, Tracks};
use hitcast::drift::{DriftReport, LARGE, MIN_ROWS, MODERATE};
use hitcast::evaluate::{evaluate, CatalogueReport, EvaluateOptions};
use hitcast::fsutil::write_atomic;
use hitcast::known::KnownTracks;
use hitcast::models::ModelSpec;

use crate::dataset::{sha256_file, DataArgs};
use crate::model_file::{load_model_metadata, load_predictor};
use crate::output::{emit, percent, print_json, thousands, trust_lines};
use crate::Globals;

/// `hitcast model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a saved model's metadata: how it was trained and how it did on TEST.
    Info(InfoArgs),
    /// Measure a saved model on a catalogue (another Spotify export, your own tracks), reading
    /// genres and ignoring them, without the tracks its training data holds: with popularity,
    /// its figures and which way scores it better (a genre label carries its own catalogue's
    /// meaning); without, how far each input drifted from the training tracks.
    Evaluate(EvaluateArgs),
    /// Write a tree model's booster in XGBoost's JSON format, loadable with
    /// `xgboost.Booster(model_file=...)`. Its inputs are hitcast's feature columns (`model info
    /// --json` lists them), not the raw CSV.
    Export(ExportArgs),
}

/// Flags of `hitcast model export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file.
    model: PathBuf,
    /// Output format (only xgboost-json).
    #[arg(long, default_value = "xgboost-json", value_parser = ["xgboost-json"])]
    format: String,
    /// Which model: the classifier (probability) or the regressor (the score model of tracks
    /// at or below the label threshold).
    #[arg(long, default_value = "classifier", value_parser = ["classifier", "regressor"])]
    part: String,
    /// Where to write the JSON (atomically).
    #[arg(long, value_name = "FILE.json")]
    out: PathBuf,
}

/// Flags of `hitcast model evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model file.
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Measure the catalogue's tracks that the model's training data holds (the same track_id,
    /// or the same danceability, energy, loudness, tempo and duration to three decimals) with
    /// the rest. By default they are left out, and the figures with them are shown apart: a
    /// model is rewarded for remembering them.
    #[arg(long)]
    keep_known: bool,
    /// Adapt the answers to the catalogue's own base rate, estimated from the model's answers
    /// (EM under label shift), and measure the adapted answers. For catalogues that differ from
    /// the training data in their share of popular tracks only; needs 500 tracks or more.
    #[arg(long)]
    adapt_prior: bool,
    /// Recognise the training tracks in this file (the shipped dataset's column names) instead
    /// of by the fingerprints the model file keeps.
    #[arg(long, value_name = "FILE")]
    training_data: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `hitcast model info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The model file.
    model: PathBuf,
    /// Print the metadata as JSON.
    #[arg(long)]
    json: bool,
}

impl ModelCommand {
    /// Runs the subcommand.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        match self {
            ModelCommand::Export(args) => {
                let predictor = load_predictor(&args.model)?;
                let payload = &predictor.artifact().payload;
                let json = match args.part.as_str() {
                    "regressor" => payload.regressor.to_xgboost_json()?,
                    _ => payload.classifier.to_xgboost_json()?,
                };
                write_atomic(&args.out, &json)
                    .with_context(|| format!("{}: cannot write the export", args.out.display()))?;
                // What the file takes and gives is not what `predict` does: said where it is
                // written, not only in the docs.
                tracing::warn!(
                    "wrote the {} to {}: it reads hitcast's {} feature columns as the pipeline \
                     builds them (capped, z-scored audio inputs, genre indicators, extras; \
                     `model info --json` lists them), not a file's raw columns, and gives the \
                     answer before calibration",
                    args.part,
                    args.out.display(),
                    predictor.metadata().features.len()
                );
                Ok(())
            }
            ModelCommand::Evaluate(args) => args.run(),
            ModelCommand::Info(args) => {
                let m = load_model_metadata(&args.model)?;
                if args.json {
                    return print_json(&m);
                }
                let c = &m.test_classification;
                let mut s = String::new();
                let _ = writeln!(
                    s,
                    "{}: hitcast {} model",
                    args.model.display(),
                    m.hitcast_version
                );
                let _ = writeln!(
                    s,
                    "  trained       protocol {}{}, seed {}, popular = popularity > {}",
                    m.protocol,
                    m.fold.map(|f| format!(" fold {f}")).unwrap_or_default(),
                    m.seed,
                    m.label_threshold
                );
                let _ = writeln!(s, "  data sha256   {}", m.data_sha256);
                let rounds =
                    |r: Option<usize>| r.map(|r| format!(" ({r} rounds kept)")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  classifier    {}{}",
                    spec_text(&m.classifier),
                    rounds(m.classifier_rounds)
                );
                let _ = writeln!(
                    s,
                    "  regressor     {}{}",
                    spec_text(&m.regressor),
                    rounds(m.regressor_rounds)
                );
                let _ = writeln!(
                    s,
                    "  setup         {}, strategy {}; {} features",
                    m.outliers
                        .map_or("setup not recorded".to_owned(), |o| format!("{o} setup")),
                    m.strategy,
                    m.features.len()
                );
                let _ = writeln!(
                    s,
                    "  threshold     {:.4} (chosen on VAL): flagged as a hit contender at {:.1}x the base rate of {} (a likely hit from 50%)",
                    m.decision_threshold,
                    m.decision_threshold / m.base_rate,
                    percent(m.base_rate)
                );
                let _ = writeln!(s, "  TEST          {} tracks, {} popular: ROC-AUC {:.3}, PR-AUC {:.3}, F1 {:.3}, precision {:.3}, recall {:.3}", c.rows, percent(c.positive_rate), c.roc_auc, c.pr_auc, c.f1, c.precision, c.recall);
                let _ = writeln!(
                    s,
                    "  TEST score    R² {:.3}, RMSE {:.2}, MAE {:.2}",
                    m.test_regression.r2, m.test_regression.rmse, m.test_regression.mae
                );
                s.push_str(&trust_lines(&m));
                for c in &m.companions {
                    let t = &c.test_classification;
                    let _ = writeln!(
                        s,
                        "  {:<13} {} ({} features){}; threshold {:.4}, TEST ROC-AUC {:.3}, PR-AUC {:.3}",
                        c.role.name(),
                        c.role.describe(),
                        c.features.len(),
                        match c.role {
                            Role::NoGenres => " for tracks without a genre it learned and --genres ignore",
                            Role::NewSong => " for tracks without a track_id",
                            Role::FromAudio => " for rows measured from audio",
                            Role::Main => "",
                        },
                        c.decision_threshold,
                        t.roc_auc,
                        t.pr_auc
                    );
                }
                emit(&s)
            }
        }
    }
}

impl EvaluateArgs {
    fn run(self) -> anyhow::Result<()> {
        let predictor = load_predictor(&self.model)?;
        let path = self.data.path()?;
        let own = sha256_file(&path)? == predictor.metadata().data_sha256;
        let loaded = self.data.load_labelled(false)?;
        let loaded_absent: Vec<&'static str> =
            loaded.report.defaults.iter().map(|d| d.column).collect();
        let rows = loaded.rows.len();
        let tracks = Tracks::collapse(loaded.rows);
        let training = match &self.training_data {
            Some(file) => {
                let options = ReadOptions {
                    require_popularity: false,
                    ..ReadOptions::labelled()
                };
                let loaded = hitcast_arrow::read_file(file, &options)
                    .with_context(|| format!("--training-data {}", file.display()))?;
                Some(KnownTracks::of(&Tracks::collapse(loaded.rows)))
            }
            None => None,
        };
        if training.is_none() && predictor.artifact().payload.known.is_empty() {
            tracing::warn!(
                "{} keeps no fingerprints of its training tracks: give --training-data to leave them out",
                self.model.display()
            );
        }
        let options = EvaluateOptions {
            keep_known: self.keep_known,
            adapt_prior: self.adapt_prior,
            training,
            absent: loaded_absent,
        };
        let report = evaluate(&predictor, &tracks, &options)
            .with_context(|| format!("{}", path.display()))?;
        if self.json {
            return print_json(&report);
        }
        let threshold = predictor.metadata().label_threshold;
        let heading = Heading {
            model: &self.model,
            data: &path,
            rows,
            own,
            threshold,
        };
        emit(&evaluation_text(&heading, &tracks, &report))
    }
}

/// What `model evaluate` names at the top of its report.
struct Heading<'a> {
    model: &'a std::path::Path,
    data: &'a std::path::Path,
    /// The file's rows before they were collapsed to tracks.
    rows: usize,
    /// Whether the file is the one the model was trained on.
    own: bool,
    threshold: u8,
}

/// `model evaluate`'s report in words: the file, the known tracks, the figures by genres
/// setting, the adapted priors, the drift and the advice.
fn evaluation_text(h: &Heading<'_>, tracks: &Tracks, report: &CatalogueReport) -> String {
    let mut s = String::new();
    let threshold = h.threshold;
    let _ = write!(
        s,
        "{} on {}: {} tracks ({} rows, one per track_id)",
        h.model.display(),
        h.data.display(),
        thousands(tracks.len() as u64),
        thousands(h.rows as u64),
    );
    let _ = match tracks.popularity() {
        Some(p) => writeln!(
            s,
            ", {} popular (popularity > {threshold})",
            percent(p.iter().filter(|&&v| v > threshold).count() as f64 / p.len().max(1) as f64)
        ),
        None => writeln!(
            s,
            ", no popularity: the drift of its inputs, not the model's figures"
        ),
    };
    if h.own {
        let _ = writeln!(
            s,
            "  note: this is the file the model was trained on, FIT and VAL tracks included, so \
             these figures are optimistic; `model info` has its TEST figures"
        );
    }
    known_lines(&mut s, report);
    fit_lines(&mut s, report);
    prior_lines(&mut s, report, tracks.popularity().is_some());
    if let Some(drift) = &report.drift {
        drift_lines(&mut s, drift);
    }
    if let Some(advice) = &report.advice {
        let _ = writeln!(
            s,
            "\n  {} {}",
            advice.reason,
            if advice.genres == "ignore" {
                "Score it with --genres ignore."
            } else {
                "Keep the default, --genres use."
            }
        );
    }
    s
}

/// A ranking figure to three places, a dash where it is undefined (one class only).
fn ranking(figure: f64) -> String {
    if figure.is_nan() {
        "—".to_owned()
    } else {
        format!("{figure:.3}")
    }
}

/// The figures for each genres setting, and with the known tracks counted.
fn fit_lines(s: &mut String, report: &CatalogueReport) {
    if report.fits.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n  genres  ROC-AUC  PR-AUC  ECE     mean p  flagged: precision  recall  score MAE  range coverage  width"
    );
    for f in &report.fits {
        // Nothing flagged has no precision: a dash, not a 0 that reads as all wrong.
        let precision = if f.flagged.tp + f.flagged.fp == 0 {
            "—".to_owned()
        } else {
            format!("{:.3}", f.flagged.precision())
        };
        let _ = writeln!(
            s,
            "  {:<6}  {:<5}    {:<5}   {:.4}  {:.4}           {:>5}      {:.3}   {:>9.2}  {:>14}  {:>5.1}",
            f.genres,
            ranking(f.roc_auc),
            ranking(f.pr_auc),
            f.ece,
            f.mean_probability,
            precision,
            f.flagged.recall(),
            f.score.mae,
            percent(f.range.coverage),
            f.range.mean_width
        );
    }
    let _ = writeln!(
        s,
        "  (the score's MAE and its range's mean width are in points of popularity, 0-100)"
    );
    if !report.with_known.is_empty() {
        let with: Vec<String> = report
            .with_known
            .iter()
            .map(|f| {
                format!(
                    "genres {} ROC-AUC {}, PR-AUC {}",
                    f.genres,
                    ranking(f.roc_auc),
                    ranking(f.pr_auc)
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "  with the {} known tracks: {}",
            thousands(report.known.total() as u64),
            with.join("; ")
        );
    }
}

/// The base rate each genres setting's answers were adapted to, or why not.
fn prior_lines(s: &mut String, report: &CatalogueReport, labelled: bool) {
    for outcome in &report.priors {
        let way = if outcome.genres == "use" {
            "genres read"
        } else {
            "genres ignored"
        };
        let _ = match (&outcome.estimate, &outcome.refused) {
            (Some(e), _) => writeln!(
                s,
                "  prior ({way:<14}) adapted to {}, the base rate EM estimates for these tracks (the model's is {}; mean answer {}){}",
                percent(e.estimate),
                percent(e.training),
                percent(e.mean_probability),
                if labelled { "; its figures above are the adapted answers'" } else { "" }
            ),
            (None, Some(why)) => writeln!(s, "  prior ({way:<14}) {why}"),
            (None, None) => Ok(()),
        };
    }
}

/// What the report says of the tracks the training data holds.
fn known_lines(s: &mut String, report: &CatalogueReport) {
    let k = &report.known;
    if k.total() == 0 {
        let _ = writeln!(
            s,
            "  known         none of its tracks is one the model's training data holds"
        );
        return;
    }
    let rates = match (k.popular_rate, k.others_popular_rate) {
        (Some(known), Some(others)) => format!(
            ": {} popular against {} for the rest",
            percent(known),
            percent(others)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "  known         {} tracks the model's training data holds ({} by track_id, {} more by their exact audio){rates}; {}",
        thousands(k.total() as u64),
        thousands(k.by_id as u64),
        thousands(k.by_audio as u64),
        if k.kept {
            "measured with the rest (--keep-known)"
        } else {
            "left out (--keep-known measures them)"
        }
    );
    if !k.kept {
        let popular = report
            .fits
            .first()
            .map(|f| format!(", {} popular", percent(f.popular_rate)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  measured      {} tracks{popular}",
            thousands(report.measured as u64)
        );
    }
}

/// The drift report in a few lines: the inputs that moved a lot, then some.
fn drift_lines(s: &mut String, drift: &DriftReport) {
    let list = |lo: f64, hi: f64| -> Vec<String> {
        drift
            .columns
            .iter()
            .filter(|c| c.psi > lo && c.psi <= hi)
            .map(|c| format!("{} ({:.2})", c.column, c.psi))
            .collect()
    };
    let (large, some) = (list(LARGE, f64::INFINITY), list(MODERATE, LARGE));
    let still = drift.columns.len() - large.len() - some.len();
    let _ = writeln!(
        s,
        "\n  drift         population stability index of each input against the training tracks (over {}: moved a lot; {}-{}: some)",
        LARGE, MODERATE, LARGE
    );
    for (what, names) in [("moved a lot", large), ("moved some", some)] {
        if !names.is_empty() {
            let _ = writeln!(s, "    {what:<12}{}", names.join(", "));
        }
    }
    let _ = writeln!(
        s,
        "    not moved   {still} of the {} inputs",
        drift.columns.len()
    );
    if drift.rows < MIN_ROWS {
        let _ = writeln!(
            s,
            "    ({} tracks are too few for these figures to mean much)",
            drift.rows
        );
    }
}

/// A model's family, in words and as `--param` names it, then the parameters that act on its
/// task as `--param` sets them (a boosted regressor watches RMSE, so its `stop_metric` is left
/// out): `gbm, gradient boosting: colsample_bytree=0.5 ...`.
fn spec_text(spec: &ModelSpec) -> String {
    let family = spec.family_name();
    let words = match spec {
        ModelSpec::Logistic(_) => "logistic regression",
        ModelSpec::Linear(_) => "ridge regression",
        ModelSpec::Forest(_) => "random forest",
        ModelSpec::Boosting(_) => "gradient boosting",
        ModelSpec::Mlp(_) => "neural network",
        ModelSpec::Stack(_) => "stack",
    };
    let settings: Vec<String> = spec
        .settings()
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}={text}"),
            other => format!("{key}={other}"),
        })
        .collect();
    format!("{family}, {words}: {}", settings.join(" "))
}

//! `hitcast model info`: what a saved model says about itself; `model evaluate`: how it does on
//! a labelled catalogue; `model export`: its booster for XGBoost.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hitcast::artifact::load_metadata;
use hitcast::data::Tracks;
use hitcast::evaluate::evaluate;
use hitcast::fsutil::write_atomic;
use hitcast::predictor::Predictor;

use crate::dataset::{sha256_file, DataArgs};
use crate::output::{emit, percent, print_json, thousands, trust_lines};
use crate::Globals;

/// `hitcast model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a saved model's metadata: how it was trained and how it did on TEST.
    Info(InfoArgs),
    /// Measure a saved model on a labelled catalogue (another Spotify export, your own tracks
    /// with their popularity), reading genres and ignoring them, and say which scores it
    /// better: a genre label carries its own catalogue's meaning.
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
    /// Which model: the classifier (probability) or the regressor (score).
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
    /// Print the figures as JSON.
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
                let predictor = Predictor::load(&args.model)
                    .map_err(|e| anyhow::anyhow!(e).context(format!("{}", args.model.display())))?;
                let payload = &predictor.artifact().payload;
                let json = match args.part.as_str() {
                    "regressor" => payload.regressor.to_xgboost_json()?,
                    _ => payload.classifier.to_xgboost_json()?,
                };
                write_atomic(&args.out, &json)
                    .with_context(|| format!("{}: cannot write the export", args.out.display()))?;
                Ok(())
            }
            ModelCommand::Evaluate(args) => args.run(),
            ModelCommand::Info(args) => {
                let m = load_metadata(&args.model)
                    .map_err(|e| anyhow::anyhow!(e).context(format!("{}", args.model.display())))?;
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
                    serde_json::to_string(&m.classifier)?,
                    rounds(m.classifier_rounds)
                );
                let _ = writeln!(
                    s,
                    "  regressor     {}{}",
                    serde_json::to_string(&m.regressor)?,
                    rounds(m.regressor_rounds)
                );
                let _ = writeln!(
                    s,
                    "  strategy      {}; {} features",
                    m.strategy,
                    m.features.len()
                );
                let _ = writeln!(
                    s,
                    "  threshold     {:.4} (chosen on VAL): flagged as a likely hit at {:.1}x the base rate of {}",
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
                if let Some(c) = &m.without_genres {
                    let t = &c.test_classification;
                    let _ = writeln!(
                        s,
                        "  no genres     audio-only companion ({} features) for tracks without a genre it learned and --genres ignore; TEST ROC-AUC {:.3}, PR-AUC {:.3}",
                        c.features.len(),
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
        let predictor = Predictor::load(&self.model)
            .map_err(|e| anyhow::anyhow!(e).context(format!("{}", self.model.display())))?;
        let path = self.data.path()?;
        let own = sha256_file(&path)? == predictor.metadata().data_sha256;
        let loaded = self.data.load()?;
        let rows = loaded.rows.len();
        let tracks = Tracks::collapse(loaded.rows);
        let fits = evaluate(&predictor, &tracks).with_context(|| format!("{}", path.display()))?;
        if self.json {
            return print_json(&fits);
        }
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {}: {} tracks ({} rows, one per track_id), {} popular (popularity > {})",
            self.model.display(),
            path.display(),
            thousands(tracks.len() as u64),
            thousands(rows as u64),
            percent(fits.first().map_or(0.0, |f| f.popular_rate)),
            predictor.metadata().label_threshold
        );
        if own {
            let _ = writeln!(
                s,
                "  note: this is the file the model was trained on, FIT and VAL tracks included, so \
                 these figures are optimistic; `model info` has its TEST figures"
            );
        }
        let _ = writeln!(
            s,
            "\n  genres  ROC-AUC  PR-AUC  ECE     mean p  flagged: precision  recall  score MAE  range coverage  width"
        );
        for f in &fits {
            let _ = writeln!(
                s,
                "  {:<6}  {:.3}    {:.3}   {:.4}  {:.4}           {:.3}      {:.3}   {:>9.2}  {:>14}  {:>5.1}",
                f.genres,
                f.roc_auc,
                f.pr_auc,
                f.ece,
                f.mean_probability,
                f.flagged.precision(),
                f.flagged.recall(),
                f.score.mae,
                percent(f.range.coverage),
                f.range.mean_width
            );
        }
        let _ = writeln!(s);
        if let Some(using) = fits.first().filter(|f| f.without_genres > 0.0) {
            let _ = writeln!(
                s,
                "  reading genres, {} of tracks had no genre the model knows: its audio-only companion scored them",
                percent(using.without_genres)
            );
        }
        match fits.as_slice() {
            [using, ignoring] if ignoring.pr_auc > using.pr_auc => {
                let (better, worse) = two_apart(ignoring.pr_auc, using.pr_auc);
                let _ = writeln!(
                    s,
                    "  Ignoring genres ranks this catalogue's popular tracks better (PR-AUC {better} against {worse}): its genre labels do not mean what they mean in the training data. Score it with --genres ignore.",
                );
            }
            [using, ignoring] => {
                let (better, worse) = two_apart(using.pr_auc, ignoring.pr_auc);
                let _ = writeln!(
                    s,
                    "  Reading genres ranks this catalogue's popular tracks better (PR-AUC {better} against {worse}): keep the default, --genres use.",
                );
            }
            _ => {}
        }
        emit(&s)
    }
}

/// Two figures to three decimals, or to as many more as tell them apart (up to six): "0.139
/// against 0.139" reads as a tie the verdict then breaks.
pub(crate) fn two_apart(a: f64, b: f64) -> (String, String) {
    let digits = (3..=6)
        .find(|&d| format!("{a:.d$}") != format!("{b:.d$}"))
        .unwrap_or(6);
    (format!("{a:.digits$}"), format!("{b:.digits$}"))
}

#[cfg(test)]
mod tests {
    use super::two_apart;

    #[test]
    fn two_figures_get_the_digits_that_tell_them_apart() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(two_apart(0.156, 0.137), pair("0.156", "0.137"));
        assert_eq!(two_apart(0.13912, 0.13881), pair("0.1391", "0.1388"));
        assert_eq!(two_apart(0.5, 0.5), pair("0.500000", "0.500000"));
    }
}

//! `hitcast model info`: what a saved model says about itself.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use hitcast::artifact::load_metadata;
use hitcast::fsutil::write_atomic;
use hitcast::predictor::Predictor;

use crate::output::{emit, percent, print_json, trust_lines};
use crate::Globals;

/// `hitcast model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a saved model's metadata: how it was trained and how it did on TEST.
    Info(InfoArgs),
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
                emit(&s)
            }
        }
    }
}

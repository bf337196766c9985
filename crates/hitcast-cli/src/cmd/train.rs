//! `hitcast train`: fit the classifier and the score regressor under a protocol's split;
//! calibrate the probability, pick the threshold and calibrate the score's range on VAL; measure
//! on TEST, and save one model file.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use hitcast::experiment::{classifier_spec, default_features, regressor_spec, ChosenFits};
use hitcast::features::{FeatureSet, OutlierSetup};
use hitcast::models::{ClassifierKind, RegressorKind};
use hitcast::sampling::Strategy;
use hitcast::training::{train_reusing, TrainConfig};

use crate::dataset::{DataArgs, ProtocolArgs};
use crate::output::{emit, percent};
use crate::Globals;

/// Flags of `hitcast train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    split: ProtocolArgs,
    /// Classifier family: logreg, rf, gbm, mlp, or stack (the MLP and the random forest under
    /// a logistic meta-learner, fitted on out-of-fold predictions). gbm is the default: as good
    /// on VAL as the stack within noise, ten times quicker, and explained exactly (TreeSHAP).
    #[arg(long, default_value = "gbm", value_parser = |s: &str| s.parse::<ClassifierKind>())]
    model: ClassifierKind,
    /// Regressor family for the 0-100 score: linear, rf, gbm or mlp.
    #[arg(long, default_value = "gbm", value_parser = |s: &str| s.parse::<RegressorKind>())]
    regressor: RegressorKind,
    /// Imbalance strategy for the classifier: none, weights, smote, adasyn or undersample.
    #[arg(long, default_value = "none", value_parser = |s: &str| s.parse::<Strategy>())]
    strategy: Strategy,
    /// Outlier setup: raw, capped or removed.
    #[arg(long, default_value = "capped", value_parser = |s: &str| s.parse::<OutlierSetup>())]
    setup: OutlierSetup,
    /// Feature columns: audio-genre, extended, known-artist, or audio (the 14 audio columns
    /// alone, no genre; for catalogues whose genres mean something else). Default: extended,
    /// and known-artist under that protocol.
    #[arg(long, value_parser = |s: &str| s.parse::<FeatureSet>())]
    features: Option<FeatureSet>,
    /// Override a parameter of the classifier or regressor, e.g. --param gbm.learning_rate=0.05.
    #[arg(long = "param", value_name = "FAMILY.KEY=VALUE", value_parser = crate::cmd::experiment::parse_param)]
    params: Vec<(String, String, String)>,
    #[command(flatten)]
    tune: crate::cmd::experiment::TuneArgs,
    /// Share of tracks whose true score should fall in their predicted range (quantiles of each
    /// track's score distribution, at levels chosen on VAL), strictly between 0 and 1.
    #[arg(long, default_value_t = hitcast::distribution::DEFAULT_COVERAGE, value_parser = parse_coverage)]
    coverage: f64,
    /// Fitted models kept by `hitcast experiment --keep-fits`: the classifier or regressor
    /// that is the very fit this training would make (same cell, parameters, seed and rows)
    /// is taken from there instead of fitted again.
    #[arg(long, value_name = "FILE", conflicts_with = "tune")]
    fits: Option<PathBuf>,
    /// Where to save the model (written atomically).
    #[arg(long, value_name = "MODEL")]
    out: PathBuf,
}

/// `--coverage`: a share strictly between 0 and 1.
fn parse_coverage(text: &str) -> Result<f64, String> {
    let coverage: f64 = text.parse().map_err(|e| format!("{text:?}: {e}"))?;
    hitcast::distribution::check_coverage(coverage).map_err(|e| e.to_string())
}

impl TrainArgs {
    /// Trains and saves.
    pub fn run(self, globals: Globals) -> anyhow::Result<()> {
        // The model's parameters first: a wrong one is refused before the data is read.
        for (family, key, _) in &self.params {
            let known = family == self.model.name() || family == self.regressor.name();
            anyhow::ensure!(
                known,
                "--param {family}.{key}: the model trained here is {} with regressor {}",
                self.model,
                self.regressor
            );
        }
        let regressor = regressor_spec(self.regressor, &self.params)?;
        // The grid's parameters for this cell, so `--fits` finds the grid's own fit.
        let classifier = classifier_spec(self.model, self.strategy, &self.params)?;
        let path = self.data.path()?;
        let data_sha256 = crate::dataset::sha256_file(&path)?;
        let (tracks, labels) = self.split.table(&self.data)?;
        let split = self
            .split
            .split(&tracks, &labels, self.split.fold, globals.seed)?;
        let config = TrainConfig {
            classifier,
            regressor,
            strategy: self.strategy,
            setup: self.setup,
            features: self
                .features
                .unwrap_or(default_features(self.split.protocol)),
            threshold: self.split.threshold,
            seed: globals.seed,
            tune: self.tune.config(),
            coverage: self.coverage,
        };
        let fits = match &self.fits {
            Some(path) => ChosenFits::load(path)?,
            None => ChosenFits::default(),
        };
        let (artifact, reused) = train_reusing(&tracks, &split, &config, data_sha256, &fits)?;
        artifact.save(&self.out)?;
        let m = &artifact.metadata;
        let c = &m.test_classification;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "saved {} ({} {} / {} regressor, {} setup, strategy {}; protocol {}{})\n",
            self.out.display(),
            self.model,
            if self.split.protocol.is_leaky() {
                "LEAKY"
            } else {
                "classifier"
            },
            self.regressor,
            self.setup,
            self.strategy,
            self.split.protocol,
            split
                .fold
                .map(|f| format!(", fold {f}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "  TEST {} tracks, {} popular; threshold {:.4} on the calibrated probability (chosen on VAL)",
            c.rows,
            percent(c.positive_rate),
            m.decision_threshold
        );
        let _ = writeln!(
            s,
            "  ROC-AUC {:.3}  PR-AUC {:.3}  F1 {:.3}  precision {:.3}  recall {:.3}",
            c.roc_auc, c.pr_auc, c.f1, c.precision, c.recall
        );
        let _ = writeln!(
            s,
            "  score: R² {:.3}  RMSE {:.2}  MAE {:.2}",
            m.test_regression.r2, m.test_regression.rmse, m.test_regression.mae
        );
        s.push_str(&crate::output::trust_lines(m));
        if let Some(path) = &self.fits {
            let taken: Vec<String> = reused.iter().map(ToString::to_string).collect();
            let _ = if taken.is_empty() {
                writeln!(
                    s,
                    "  fits          none in {} is this training's; all fitted here",
                    path.display()
                )
            } else {
                writeln!(
                    s,
                    "  fits          {} taken from {} (not fitted again)",
                    taken.join(" and "),
                    path.display()
                )
            };
        }
        emit(&s)
    }
}

//! Gradient-boosted trees (the XGBoost role): histogram trees grown here
//! ([`super::trees::boost`]) with sample weights, `scale_pos_weight` and early stopping on VAL
//! watching exactly one metric (log-loss or average precision for classification, RMSE for
//! regression), stored, predicted and explained (TreeSHAP) by `hessboost`, which also fits the
//! quantile band of [`Valid::fit_band`]. Deterministic on any thread count.

use std::num::NonZeroUsize;

use hessboost::config::{GrowPolicy, TrainingParams};
use hessboost::data::DMatrix;
use hessboost::metric::EvalMetric;
use hessboost::model::{BoostedModel, Iterations, ModelFormat, RowVariants};
use hessboost::objective::{Objective, Quantiles, RegLoss};
use hessboost::training::Trainer;
use serde::{Deserialize, Serialize};

use super::trees::boost::{Boosting, Loss, Watch};
use super::trees::hessboost_trees::assemble;
use super::trees::MAX_BINS;
use super::{
    in_range, param_error, Classifier, Fit, ModelError, Params, Regressor, TrainSet, Valid,
};
use crate::features::{FeatureMatrix, Variants};

/// What a model predicts: the chance of a 0/1 label (a booster's logistic loss), or a number,
/// the 0-100 score (squared error). A grid cell and its result row are of one task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Popular or not: the probability of the label.
    #[default]
    Classification,
    /// The 0-100 score.
    Regression,
}

/// The one VAL metric early stopping watches for classification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopMetric {
    /// Log-loss: smooth, and right when the training rows keep the true class balance.
    #[default]
    Logloss,
    /// Average precision: blind to calibration, so right when class weights or resampling shift
    /// the probabilities on purpose (VAL log-loss then creeps down for thousands of rounds).
    PrAuc,
}

/// Settings of [`BoostingModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoostingParams {
    /// Classification or regression. Default classification.
    pub task: Task,
    /// Boosting rounds at most; early stopping on VAL usually ends sooner. Default 2000.
    pub max_rounds: usize,
    /// Stop after this many rounds without a better VAL score (needs a VAL set). Default 50.
    pub early_stopping_rounds: usize,
    /// The VAL metric early stopping watches (classification; regression watches RMSE).
    /// Default log-loss.
    pub stop_metric: StopMetric,
    /// Shrinkage per round. Default 0.05 (as good as 0.03 on VAL, and faster: docs/
    /// performance.md); in (0, 1].
    pub learning_rate: f64,
    /// Maximum tree depth. Default 6; 1 to 16.
    pub max_depth: usize,
    /// With `Some(n)`, grow trees leaf-wise (LightGBM style) up to `n` leaves. Default `None`.
    pub max_leaves: Option<usize>,
    /// Minimum hessian (for squared error: rows) in a child. Default 1.0.
    pub min_child_weight: f64,
    /// Share of rows sampled per tree. Default 0.8; in (0, 1].
    pub subsample: f64,
    /// Share of columns sampled per tree. Default 0.5; in (0, 1].
    pub colsample_bytree: f64,
    /// L2 penalty on leaf weights (`lambda`). Default 1.0.
    pub l2: f64,
    /// Weight of positive rows relative to negative ones (classification). Default 1.0.
    pub scale_pos_weight: f64,
    /// Histogram bins per feature, 2 to 256. Default 256, XGBoost's: with fewer, a SMOTE row's
    /// blends of one-hot genres and the audio columns share too few bins (docs/performance.md).
    pub max_bin: usize,
}

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams {
            task: Task::Classification,
            max_rounds: 2000,
            early_stopping_rounds: 50,
            stop_metric: StopMetric::Logloss,
            learning_rate: 0.05,
            max_depth: 6,
            max_leaves: None,
            min_child_weight: 1.0,
            subsample: 0.8,
            colsample_bytree: 0.5,
            l2: 1.0,
            scale_pos_weight: 1.0,
            max_bin: MAX_BINS,
        }
    }
}

impl Params for BoostingParams {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        in_range(
            "learning_rate",
            self.learning_rate,
            1e-6,
            1.0,
            "must be in (0, 1]",
        )?;
        in_range("subsample", self.subsample, 1e-6, 1.0, "must be in (0, 1]")?;
        in_range(
            "colsample_bytree",
            self.colsample_bytree,
            1e-6,
            1.0,
            "must be in (0, 1]",
        )?;
        in_range(
            "min_child_weight",
            self.min_child_weight,
            0.0,
            1e9,
            "must be in [0, 1e9]",
        )?;
        in_range("l2", self.l2, 0.0, 1e9, "must be in [0, 1e9]")?;
        in_range(
            "scale_pos_weight",
            self.scale_pos_weight,
            1e-6,
            1e6,
            "must be in (0, 1e6]",
        )?;
        if !(1..=16).contains(&self.max_depth) {
            return Err(param_error("max_depth", self.max_depth, "must be 1 to 16"));
        }
        if self.max_leaves.is_some_and(|l| !(2..=65_536).contains(&l)) {
            return Err(param_error(
                "max_leaves",
                format!("{:?}", self.max_leaves),
                "must be 2 to 65536",
            ));
        }
        if self.max_rounds == 0 {
            return Err(param_error("max_rounds", 0, "must be at least 1"));
        }
        if !(2..=MAX_BINS).contains(&self.max_bin) {
            return Err(param_error("max_bin", self.max_bin, "must be 2 to 256"));
        }
        if self.task == Task::Regression && self.scale_pos_weight != 1.0 {
            return Err(param_error(
                "scale_pos_weight",
                self.scale_pos_weight,
                "applies to classification only",
            ));
        }
        Ok(Valid(self))
    }
}

/// A fitted boosted ensemble.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BoostingModel {
    task: Task,
    /// Rounds kept (the best VAL round with early stopping).
    pub rounds: usize,
    /// The booster, stored in hessboost's native binary format.
    #[serde(with = "native")]
    booster: BoostedModel,
}

impl Valid<BoostingParams> {
    /// hessboost's objective for these settings.
    fn objective(&self) -> Result<Objective, ModelError> {
        Ok(match self.task {
            Task::Classification => Objective::BinaryLogistic(RegLoss::new(self.scale_pos_weight)?),
            Task::Regression => Objective::SquaredError(RegLoss::default()),
        })
    }

    fn training_params_for(
        &self,
        objective: Objective,
        metric: EvalMetric,
        seed: u64,
    ) -> Result<TrainingParams, ModelError> {
        let mut builder = TrainingParams::builder()
            .objective(objective)
            // Exactly one metric: early stopping watches the last one, and a second metric that
            // stalls must not stop training.
            .eval_metric(metric)
            .eta(self.learning_rate)
            .min_child_weight(self.min_child_weight)
            .subsample(self.subsample)
            .colsample_bytree(self.colsample_bytree)
            .lambda(self.l2)
            .max_bin(self.max_bin)
            .seed(seed)
            .max_depth(self.max_depth);
        if let Some(leaves) = self.max_leaves {
            builder = builder
                .grow_policy(GrowPolicy::LossGuide)
                .max_leaves(leaves);
        }
        Ok(builder.build()?)
    }
}

fn dmatrix(set: &TrainSet) -> Result<DMatrix, ModelError> {
    let x: Vec<f32> = set.x.as_slice().iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = set.y.iter().map(|&v| v as f32).collect();
    let mut m = DMatrix::from_dense_vec(x, set.x.n_rows(), set.x.n_cols())?.with_labels(&y)?;
    if let Some(w) = set.weights {
        let w: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        m = m.with_weights(&w)?;
    }
    Ok(m)
}

impl Fit for Valid<BoostingParams> {
    type Model = BoostingModel;

    fn fit(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<BoostingModel, ModelError> {
        train.check()?;
        if self.task == Task::Classification {
            let positives = train.y.iter().filter(|&&y| y > 0.5).count();
            if positives == 0 || positives == train.y.len() {
                return Err(ModelError::OneClass);
            }
        }
        // Class-weighted FIT rows (the `weights` strategy) fit a weighted log-loss; early
        // stopping on the unweighted VAL log-loss watches another objective, which keeps
        // improving slowly for thousands of rounds. Weigh VAL's classes as FIT's are weighed.
        let val_weights = match (self.task, train.weights, val) {
            (Task::Classification, Some(w), Some(v)) if v.weights.is_none() => {
                Some(class_weights_for(train.y, w, v.y))
            }
            _ => None,
        };
        let weighted_val = val.map(|v| TrainSet {
            weights: val_weights.as_deref().or(v.weights),
            ..*v
        });
        let boosted = self.boosting().fit(train, weighted_val.as_ref(), seed)?;
        let objective = self.objective()?;
        let booster = assemble(objective, boosted.base, train.x.n_cols(), 1, &boosted.trees)?;
        Ok(BoostingModel::from_booster(self.task, booster))
    }
}

impl Valid<BoostingParams> {
    /// The settings of the trees grown here.
    fn boosting(&self) -> Boosting {
        let (loss, watch) = match self.task {
            Task::Classification => (
                Loss::Logistic {
                    scale_pos_weight: self.scale_pos_weight,
                },
                match self.stop_metric {
                    StopMetric::Logloss => Watch::LogLoss,
                    StopMetric::PrAuc => Watch::AveragePrecision,
                },
            ),
            Task::Regression => (Loss::Squared, Watch::Rmse),
        };
        Boosting {
            loss,
            watch,
            max_rounds: self.max_rounds,
            patience: NonZeroUsize::new(self.early_stopping_rounds),
            learning_rate: self.learning_rate,
            max_depth: self.max_depth,
            max_leaves: self.max_leaves,
            min_child_weight: self.min_child_weight,
            l2: self.l2,
            subsample: self.subsample,
            colsample_bytree: self.colsample_bytree,
            max_bin: self.max_bin,
        }
    }
}

/// Each `target` row's weight: the mean weight of the FIT rows of its class.
fn class_weights_for(fit_y: &[f64], fit_w: &[f64], target: &[f64]) -> Vec<f64> {
    let mut sum = [0.0f64; 2];
    let mut count = [0.0f64; 2];
    for (&y, &w) in fit_y.iter().zip(fit_w) {
        let c = usize::from(y > 0.5);
        sum[c] += w;
        count[c] += 1.0;
    }
    let mean = |c: usize| {
        if count[c] > 0.0 {
            sum[c] / count[c]
        } else {
            1.0
        }
    };
    target.iter().map(|&y| mean(usize::from(y > 0.5))).collect()
}

impl Valid<BoostingParams> {
    /// Fits one booster with two outputs, the `levels` quantiles of the target (pinball loss,
    /// early-stopped on the same loss over `val`): the band conformalized quantile regression
    /// widens into a prediction interval. Regression parameters only.
    pub fn fit_band(
        &self,
        levels: [f64; 2],
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<BoostingModel, ModelError> {
        train.check()?;
        if self.task != Task::Regression {
            return Err(param_error(
                "task",
                "classification",
                "a quantile band is a regression",
            ));
        }
        let quantiles = || Quantiles::new(levels);
        let params = self.training_params_for(
            Objective::Quantile(quantiles()?),
            EvalMetric::Quantile(quantiles()?),
            seed,
        )?;
        let patience = val.and(NonZeroUsize::new(self.early_stopping_rounds));
        BoostingModel::train(self.task, &params, train, val, self.max_rounds, patience)
    }
}

impl BoostingModel {
    /// Checks that the booster reads `width` features and has `outputs` outputs (hessboost
    /// checked every tree node against its feature count when it decoded the file).
    pub fn check_inputs(&self, width: usize, outputs: usize) -> Result<(), ModelError> {
        let (n, k) = (self.booster.n_features(), self.booster.n_outputs());
        if n != width || k != outputs {
            return Err(ModelError::Shape(format!(
                "a booster of {n} features and {k} outputs where {width} and {outputs} are expected"
            )));
        }
        Ok(())
    }

    /// The hessboost model, for its conformal calibrators.
    pub fn booster(&self) -> &BoostedModel {
        &self.booster
    }

    /// Each row's two outputs, for a band from [`Valid::fit_band`].
    pub fn predict_band(&self, x: &FeatureMatrix) -> Vec<[f64; 2]> {
        pairs(&self.predict_raw(x))
    }

    /// Trains a booster with hessboost `params` for up to `rounds` rounds, early-stopping on
    /// `val` after `patience` rounds without improvement when both are given.
    fn train(
        task: Task,
        params: &TrainingParams,
        train: &TrainSet,
        val: Option<&TrainSet>,
        rounds: usize,
        patience: Option<NonZeroUsize>,
    ) -> Result<BoostingModel, ModelError> {
        let dtrain = dmatrix(train)?;
        let dval = val.map(dmatrix).transpose()?;
        let mut trainer = Trainer::new(params, &dtrain, rounds);
        if let (Some(dval), Some(patience)) = (dval.as_ref(), patience) {
            trainer = trainer.eval(dval, "val").early_stopping_rounds(patience);
        }
        let booster = trainer.train()?.model;
        let rounds = booster
            .best_iteration()
            .map_or(booster.num_boost_rounds(), |best| best + 1);
        Ok(BoostingModel {
            task,
            rounds,
            booster,
        })
    }

    fn predict_raw(&self, x: &FeatureMatrix) -> Vec<f64> {
        let rows: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
        match self.booster.predict_rows(&rows, Iterations::Best) {
            Ok(p) => p.as_slice().iter().map(|&v| f64::from(v)).collect(),
            // The width was checked against the pipeline at load and inputs are inside the
            // domain, so hessboost has nothing to refuse; should it, the NaNs are caught where
            // answers are checked to be finite (the predictor), never shown.
            Err(e) => {
                tracing::error!("boosted prediction failed: {e}");
                vec![f64::NAN; x.n_rows() * self.booster.n_outputs()]
            }
        }
    }

    /// [`BoostingModel::predict_raw`] of the variants' rows through hessboost's `RowVariants`:
    /// each tree is walked once per 64 variants, split only where a node tests a varying
    /// column, and hessboost adds the leaves as its row prediction does, so the numbers are
    /// the same to the last bit.
    fn predict_raw_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        let rows = variants.rows();
        let varying = variants.varying();
        let Some(base) = rows.rows().next() else {
            return Vec::new();
        };
        if varying.is_empty() {
            return self.predict_raw(rows);
        }
        let base: Vec<f32> = base.iter().map(|&v| v as f32).collect();
        let values: Vec<f32> = rows
            .rows()
            .flat_map(|r| varying.iter().map(move |&j| r[j] as f32))
            .collect();
        let mut out = vec![0.0_f32; rows.n_rows() * self.booster.n_outputs()];
        let predicted = RowVariants::new(&base, varying, &values).and_then(|v| {
            self.booster
                .predict_variants_into(&v, Iterations::Best, &mut out)
        });
        match predicted {
            Ok(()) => out.into_iter().map(f64::from).collect(),
            // As in `predict_raw`: nothing to refuse, and NaNs are caught by the predictor.
            Err(e) => {
                tracing::error!("boosted prediction of variants failed: {e}");
                vec![f64::NAN; out.len()]
            }
        }
    }

    /// [`BoostingModel::predict_band`] of the variants' rows.
    pub fn predict_band_variants(&self, variants: &Variants<'_>) -> Vec<[f64; 2]> {
        pairs(&self.predict_raw_variants(variants))
    }

    /// TreeSHAP contributions per row: one value per feature, then the bias, in margin (log-odds
    /// for classification) units; each row sums to the raw margin.
    pub fn contributions(&self, x: &FeatureMatrix) -> Result<Vec<Vec<f64>>, ModelError> {
        let rows: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
        let m = DMatrix::from_dense_vec(rows, x.n_rows(), x.n_cols())?;
        let c = self.booster.predict_contribs(&m, Iterations::Best)?;
        Ok((0..c.n_rows())
            .map(|r| {
                c.get(r, 0)
                    .unwrap_or_default()
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect()
            })
            .collect())
    }

    /// A model of `booster`, all its rounds kept.
    pub(super) fn from_booster(task: Task, booster: BoostedModel) -> BoostingModel {
        BoostingModel {
            task,
            rounds: booster.num_boost_rounds(),
            booster,
        }
    }

    /// The booster in XGBoost's JSON model format, loadable by `xgboost.Booster`.
    pub fn to_xgboost_json(&self) -> Result<Vec<u8>, ModelError> {
        Ok(self.booster.encode(ModelFormat::XgboostJson)?)
    }
}

/// A two-output booster's outputs, row by row.
fn pairs(outputs: &[f64]) -> Vec<[f64; 2]> {
    outputs
        .chunks_exact(2)
        .map(|pair| [pair[0], pair[1]])
        .collect()
}

impl Classifier for BoostingModel {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.predict_raw(x)
    }

    fn predict_proba_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.predict_raw_variants(variants)
    }
}

impl Regressor for BoostingModel {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.predict_raw(x)
    }

    fn predict_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.predict_raw_variants(variants)
    }
}

/// Serde for the booster through hessboost's native binary encoding, which hessboost keeps
/// loadable across its releases.
mod native {
    use hessboost::model::{BoostedModel, ModelFormat};
    use serde::{de::Error as _, ser::Error as _, Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(model: &BoostedModel, s: S) -> Result<S::Ok, S::Error> {
        let bytes = model
            .encode(ModelFormat::Binary)
            .map_err(S::Error::custom)?;
        s.serialize_bytes(&bytes)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BoostedModel, D::Error> {
        let bytes = Vec::<u8>::deserialize(d)?;
        BoostedModel::decode(&bytes, ModelFormat::Binary).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 400 rows on a 20 x 20 grid; the label is 1 inside a disc: a non-linear boundary.
    fn disc() -> (FeatureMatrix, Vec<f64>) {
        let mut data = Vec::new();
        let mut y = Vec::new();
        for i in 0..20 {
            for j in 0..20 {
                let (a, b) = (f64::from(i) / 19.0 - 0.5, f64::from(j) / 19.0 - 0.5);
                data.extend([a, b]);
                y.push(if a * a + b * b < 0.1 { 1.0 } else { 0.0 });
            }
        }
        (
            FeatureMatrix::new(vec!["a".into(), "b".into()], data).unwrap(),
            y,
        )
    }

    #[test]
    fn learns_a_non_linear_boundary() {
        let (x, y) = disc();
        let params = BoostingParams {
            max_rounds: 200,
            subsample: 1.0,
            colsample_bytree: 1.0,
            ..Default::default()
        };
        let m = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 1)
            .unwrap();
        let correct = crate::testutil::correct_at_half(&m.predict_proba(&x), &y);
        assert!(correct >= 390, "{correct}/400");
    }

    #[test]
    fn same_seed_same_model_and_serde_round_trip() {
        let (x, y) = disc();
        let params = BoostingParams {
            max_rounds: 50,
            ..Default::default()
        }
        .check()
        .unwrap();
        let a = params.fit(&TrainSet::new(&x, &y), None, 7).unwrap();
        let b = params.fit(&TrainSet::new(&x, &y), None, 7).unwrap();
        assert_eq!(a.predict_proba(&x), b.predict_proba(&x));
        let json = serde_json::to_vec(&a).unwrap();
        let back: BoostingModel = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.predict_proba(&x), a.predict_proba(&x));
    }

    #[test]
    fn val_rows_are_weighted_as_fit_rows_of_their_class() {
        // FIT: two negatives weighted 1, one positive weighted 4 and one 2 (mean 3).
        let w = class_weights_for(
            &[0.0, 1.0, 0.0, 1.0],
            &[1.0, 4.0, 1.0, 2.0],
            &[1.0, 0.0, 1.0],
        );
        assert_eq!(w, [3.0, 1.0, 3.0]);
        // A class FIT lacks weighs 1.
        assert_eq!(class_weights_for(&[0.0], &[2.0], &[1.0, 0.0]), [1.0, 2.0]);
    }

    #[test]
    fn early_stopping_keeps_the_best_val_round() {
        let (x, y) = disc();
        let params = BoostingParams {
            max_rounds: 2000,
            early_stopping_rounds: 20,
            learning_rate: 0.3,
            ..Default::default()
        };
        let m = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), Some(&TrainSet::new(&x, &y)), 1)
            .unwrap();
        assert!(m.rounds < 2000, "{}", m.rounds);
    }

    #[test]
    fn shap_contributions_sum_to_the_margin() {
        let (x, y) = disc();
        let m = BoostingParams {
            max_rounds: 30,
            ..Default::default()
        }
        .check()
        .unwrap()
        .fit(&TrainSet::new(&x, &y), None, 3)
        .unwrap();
        let p = m.predict_proba(&x);
        for (row, p) in m.contributions(&x).unwrap().iter().zip(p) {
            let margin: f64 = row.iter().sum();
            assert!(
                (super::super::sigmoid(margin) - p).abs() < 1e-4,
                "{margin} {p}"
            );
        }
    }

    #[test]
    fn a_linear_target_is_fitted_in_regression() {
        let (x, _) = disc();
        let y: Vec<f64> = x.rows().map(|r| 50.0 + 40.0 * r[0] - 20.0 * r[1]).collect();
        let params = BoostingParams {
            task: Task::Regression,
            max_rounds: 500,
            learning_rate: 0.1,
            ..Default::default()
        };
        let m = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap();
        let rmse = (m
            .predict(&x)
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 400.0)
            .sqrt();
        assert!(rmse < 1.0, "{rmse}");
    }

    /// One round, one split, no sampling: settings whose tree can be worked by hand.
    fn one_split() -> BoostingParams {
        BoostingParams {
            task: Task::Regression,
            max_rounds: 1,
            max_depth: 1,
            learning_rate: 1.0,
            subsample: 1.0,
            colsample_bytree: 1.0,
            min_child_weight: 0.0,
            l2: 1.0,
            ..Default::default()
        }
    }

    #[test]
    fn a_round_splits_where_the_gain_is_largest_and_its_leaves_are_penalised_newton_steps() {
        // y = 0 below 4, 1 from 4: base 0.5, gradients +0.5 then -0.5, hessians 1. Split at 4:
        // G_L = 2, H_L = 4, so the left leaf is -2 / (4 + l2) = -0.4 and the right +0.4.
        let x = FeatureMatrix::new(vec!["a".into()], (0..8).map(f64::from).collect()).unwrap();
        let y = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let m = one_split()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap();
        let p = m.predict(&x);
        for (i, p) in p.iter().enumerate() {
            let want = if i < 4 { 0.1 } else { 0.9 };
            assert!((p - want).abs() < 1e-6, "row {i}: {p}");
        }
        assert_eq!(m.rounds, 1);
    }

    #[test]
    fn scale_pos_weight_is_the_positive_rows_weighed_that_much_more() {
        let (x, y) = disc();
        let params = BoostingParams {
            max_rounds: 20,
            scale_pos_weight: 3.0,
            ..Default::default()
        };
        let scaled = params
            .clone()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 5)
            .unwrap();
        let w: Vec<f64> = y.iter().map(|&v| if v > 0.5 { 3.0 } else { 1.0 }).collect();
        let weighted = BoostingParams {
            scale_pos_weight: 1.0,
            ..params
        }
        .check()
        .unwrap()
        .fit(
            &TrainSet {
                weights: Some(&w),
                ..TrainSet::new(&x, &y)
            },
            None,
            5,
        )
        .unwrap();
        assert_eq!(scaled.predict_proba(&x), weighted.predict_proba(&x));
    }

    #[test]
    fn an_early_stopped_model_is_the_first_rounds_of_an_unstopped_one() {
        let (x, y) = disc();
        // VAL: the disc's labels flipped on every 7th row, so VAL stops improving early.
        let noisy: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, &v)| if i % 7 == 0 { 1.0 - v } else { v })
            .collect();
        let params = BoostingParams {
            learning_rate: 0.3,
            early_stopping_rounds: 10,
            ..Default::default()
        };
        let stopped = params
            .clone()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), Some(&TrainSet::new(&x, &noisy)), 2)
            .unwrap();
        assert!(stopped.rounds < 200, "{}", stopped.rounds);
        let prefix = BoostingParams {
            max_rounds: stopped.rounds,
            ..params
        }
        .check()
        .unwrap()
        .fit(&TrainSet::new(&x, &y), None, 2)
        .unwrap();
        assert_eq!(stopped.predict_proba(&x), prefix.predict_proba(&x));
    }

    #[test]
    fn leaf_wise_trees_hold_at_most_max_leaves() {
        let (x, y) = disc();
        let m = BoostingParams {
            max_rounds: 30,
            max_leaves: Some(3),
            ..Default::default()
        }
        .check()
        .unwrap()
        .fit(&TrainSet::new(&x, &y), None, 4)
        .unwrap();
        for tree in m.booster().trees() {
            let leaves = tree.nodes().iter().filter(|n| n.left < 0).count();
            assert!((1..=3).contains(&leaves), "{leaves}");
        }
        assert!(m.booster().trees().iter().any(|t| t.num_nodes() == 5));
        let correct = crate::testutil::correct_at_half(&m.predict_proba(&x), &y);
        assert!(correct >= 360, "{correct}/400");
    }

    #[test]
    fn clashing_settings_are_refused() {
        let err = BoostingParams {
            task: Task::Regression,
            scale_pos_weight: 3.0,
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid parameter scale_pos_weight = 3: applies to classification only"
        );
        assert!(BoostingParams {
            learning_rate: 0.0,
            ..Default::default()
        }
        .check()
        .is_err());
    }
}

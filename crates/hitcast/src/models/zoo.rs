//! The families by name: a serialisable specification to fit from, and fitted classifiers and
//! regressors as enums that dispatch to the family (so a saved model names its own kind).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{
    BoostingModel, BoostingParams, Classifier, Fit, ForestModel, ForestParams, LinearModel,
    LinearParams, LogisticModel, LogisticParams, Mlp, MlpConfig, ModelError, Objective, Params,
    Regressor, StackModel, StackParams, Task, TrainSet,
};
use crate::features::{FeatureMatrix, Variants};
use crate::sampling::Strategy;

/// Boosting's learning rate on SMOTE and ADASYN rows ([`ModelSpec::classifier_for`]).
pub(crate) const SYNTHETIC_LEARNING_RATE: f64 = 0.1;

/// Classifier families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassifierKind {
    /// Logistic regression.
    Logreg,
    /// Random forest.
    Rf,
    /// Gradient-boosted trees.
    Gbm,
    /// Multilayer perceptron.
    Mlp,
    /// Stacked ensemble (by default the MLP and the random forest under a logistic meta-learner).
    Stack,
}

/// Regressor families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegressorKind {
    /// Ridge regression.
    Linear,
    /// Random forest.
    Rf,
    /// Gradient-boosted trees.
    Gbm,
    /// Multilayer perceptron.
    Mlp,
}

macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* }) => {
        impl $ty {
            /// Every family, in report order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];
            /// The name used on the command line and in results.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $ty::ALL.iter().copied().find(|k| k.name() == s).ok_or_else(|| {
                    let all: Vec<_> = $ty::ALL.iter().map(|k| k.name()).collect();
                    format!("unknown model {s:?}: expected one of {}", all.join(", "))
                })
            }
        }
    };
}

impl ClassifierKind {
    /// Whether a fit of this family runs on one thread: the network's steps follow one another
    /// (split across threads they ran slower); the other families spread their work over
    /// every core themselves.
    pub fn fits_on_one_thread(self) -> bool {
        self == ClassifierKind::Mlp
    }
}

impl RegressorKind {
    /// Whether a fit of this family runs on one thread (see [`ClassifierKind::fits_on_one_thread`]).
    pub fn fits_on_one_thread(self) -> bool {
        self == RegressorKind::Mlp
    }
}

names!(ClassifierKind { Logreg => "logreg", Rf => "rf", Gbm => "gbm", Mlp => "mlp", Stack => "stack" });
names!(RegressorKind { Linear => "linear", Rf => "rf", Gbm => "gbm", Mlp => "mlp" });

/// A model family with its parameters: what to fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", content = "params", rename_all = "lowercase")]
pub enum ModelSpec {
    /// Logistic regression.
    Logistic(LogisticParams),
    /// Ridge / least squares.
    Linear(LinearParams),
    /// Random forest.
    Forest(ForestParams),
    /// Gradient boosting.
    Boosting(BoostingParams),
    /// Multilayer perceptron.
    Mlp(MlpConfig),
    /// Stacked ensemble (classification only).
    Stack(StackParams),
}

impl ModelSpec {
    /// The documented defaults of a classifier family.
    pub fn classifier(kind: ClassifierKind) -> ModelSpec {
        match kind {
            ClassifierKind::Logreg => ModelSpec::Logistic(LogisticParams::default()),
            ClassifierKind::Rf => ModelSpec::Forest(ForestParams::default()),
            ClassifierKind::Gbm => ModelSpec::Boosting(BoostingParams::default()),
            ClassifierKind::Mlp => ModelSpec::Mlp(MlpConfig::default()),
            ClassifierKind::Stack => ModelSpec::Stack(StackParams::default()),
        }
    }

    /// The defaults of a classifier family for FIT rows resampled by `strategy`: the family's
    /// own ([`ModelSpec::classifier`]), except boosting on SMOTE or ADASYN rows, which learns
    /// at 0.1: on their balanced synthetic rows VAL log-loss creeps down for a thousand rounds
    /// at 0.05, and at 0.1 half the rounds reach the same VAL PR-AUC (docs/performance.md).
    pub fn classifier_for(kind: ClassifierKind, strategy: Strategy) -> ModelSpec {
        match (kind, strategy) {
            (ClassifierKind::Gbm, Strategy::Smote | Strategy::Adasyn) => {
                ModelSpec::Boosting(BoostingParams {
                    learning_rate: SYNTHETIC_LEARNING_RATE,
                    ..BoostingParams::default()
                })
            }
            _ => ModelSpec::classifier(kind),
        }
    }

    /// The documented defaults of a regressor family.
    pub fn regressor(kind: RegressorKind) -> ModelSpec {
        match kind {
            RegressorKind::Linear => ModelSpec::Linear(LinearParams::default()),
            RegressorKind::Rf => ModelSpec::Forest(ForestParams {
                task: Task::Regression,
                ..ForestParams::default()
            }),
            RegressorKind::Gbm => ModelSpec::Boosting(BoostingParams {
                task: Task::Regression,
                ..BoostingParams::default()
            }),
            RegressorKind::Mlp => ModelSpec::Mlp(MlpConfig {
                objective: Objective::Squared,
                ..MlpConfig::default()
            }),
        }
    }

    /// The classifier family this specification fits, if it is a classifier.
    pub fn classifier_kind(&self) -> Option<ClassifierKind> {
        Some(match self {
            ModelSpec::Logistic(_) => ClassifierKind::Logreg,
            ModelSpec::Forest(p) if p.task == Task::Classification => ClassifierKind::Rf,
            ModelSpec::Boosting(p) if p.task == Task::Classification => ClassifierKind::Gbm,
            ModelSpec::Mlp(p) if p.objective == Objective::Logistic => ClassifierKind::Mlp,
            ModelSpec::Stack(_) => ClassifierKind::Stack,
            _ => return None,
        })
    }

    /// The regressor family this specification fits, if it is a regressor.
    pub fn regressor_kind(&self) -> Option<RegressorKind> {
        Some(match self {
            ModelSpec::Linear(_) => RegressorKind::Linear,
            ModelSpec::Forest(p) if p.task == Task::Regression => RegressorKind::Rf,
            ModelSpec::Boosting(p) if p.task == Task::Regression => RegressorKind::Gbm,
            ModelSpec::Mlp(p) if p.objective == Objective::Squared => RegressorKind::Mlp,
            _ => return None,
        })
    }

    /// The family's short name, as `--model`, `--param` and the grids name it: `gbm`.
    pub fn family_name(&self) -> &'static str {
        self.classifier_kind()
            .map(|k| k.name())
            .or_else(|| self.regressor_kind().map(|k| k.name()))
            .unwrap_or_default()
    }

    /// The parameters that act on its task and are set, by name ([`ModelSpec::params_json`]
    /// without the task and unset ones): what a model card lists.
    pub fn settings(&self) -> Vec<(String, serde_json::Value)> {
        match self.params_json() {
            serde_json::Value::Object(map) => map
                .into_iter()
                .filter(|(key, value)| key != "task" && !value.is_null())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The parameters as a JSON object, for result tables: those that act on this task (a
    /// boosted regressor has no class weight and watches RMSE, so it shows neither
    /// `scale_pos_weight` nor `stop_metric`).
    pub fn params_json(&self) -> serde_json::Value {
        let value = match self {
            ModelSpec::Logistic(p) => serde_json::to_value(p),
            ModelSpec::Linear(p) => serde_json::to_value(p),
            ModelSpec::Forest(p) => serde_json::to_value(p),
            ModelSpec::Boosting(p) => serde_json::to_value(p),
            ModelSpec::Mlp(p) => serde_json::to_value(p),
            ModelSpec::Stack(p) => serde_json::to_value(p),
        };
        let mut value = value.unwrap_or_default();
        if let (ModelSpec::Boosting(p), Some(map)) = (self, value.as_object_mut()) {
            if p.task == Task::Regression {
                map.remove("scale_pos_weight");
                map.remove("stop_metric");
            }
        }
        value
    }

    /// The same family with one parameter replaced, e.g. `("learning_rate", "0.1")`; the value
    /// is read as JSON (a bare word as a string). Unknown keys and bad values are refused.
    pub fn with_param(&self, key: &str, value: &str) -> Result<ModelSpec, ModelError> {
        let mut tagged =
            serde_json::to_value(self).map_err(|e| ModelError::Shape(e.to_string()))?;
        let parsed = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        let params = tagged
            .get_mut("params")
            .and_then(serde_json::Value::as_object_mut)
            .ok_or_else(|| ModelError::Shape("model parameters are not an object".into()))?;
        if !params.contains_key(key) {
            return Err(ModelError::UnknownParam {
                key: key.to_owned(),
                known: params.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        params.insert(key.to_owned(), parsed);
        let spec: ModelSpec = serde_json::from_value(tagged)
            .map_err(|e| ModelError::Shape(format!("{key}={value}: {e}")))?;
        spec.check()?;
        Ok(spec)
    }

    /// Checks the parameters without fitting.
    pub fn check(&self) -> Result<(), ModelError> {
        match self {
            ModelSpec::Logistic(p) => p.clone().check().map(drop),
            ModelSpec::Linear(p) => p.clone().check().map(drop),
            ModelSpec::Forest(p) => p.clone().check().map(drop),
            ModelSpec::Boosting(p) => p.clone().check().map(drop),
            ModelSpec::Mlp(p) => p.clone().check().map(drop),
            ModelSpec::Stack(p) => p.clone().check().map(drop),
        }
    }

    /// Fits a classifier.
    pub fn fit_classifier(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<FittedClassifier, ModelError> {
        self.fit_classifier_reusing(train, val, seed, &[])
    }

    /// [`ModelSpec::fit_classifier`]; a stack takes its members from `fitted` where they are
    /// there, fitted on the same rows, VAL and seed with their family's defaults (see
    /// `Valid::<StackParams>::fit_reusing` in `stack`). Other families ignore `fitted`.
    pub fn fit_classifier_reusing(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
        fitted: &[&FittedClassifier],
    ) -> Result<FittedClassifier, ModelError> {
        Ok(match self {
            ModelSpec::Logistic(p) => {
                FittedClassifier::Logistic(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Forest(p) if p.task == Task::Classification => {
                FittedClassifier::Forest(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Boosting(p) if p.task == Task::Classification => {
                FittedClassifier::Boosting(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Mlp(p) if p.objective == Objective::Logistic => {
                FittedClassifier::Mlp(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Stack(p) => {
                FittedClassifier::Stack(p.clone().check()?.fit_reusing(train, val, seed, fitted)?)
            }
            _ => {
                return Err(ModelError::Shape(
                    "this model specification is not a classifier".into(),
                ))
            }
        })
    }

    /// Fits a regressor.
    pub fn fit_regressor(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<FittedRegressor, ModelError> {
        Ok(match self {
            ModelSpec::Linear(p) => {
                FittedRegressor::Linear(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Forest(p) if p.task == Task::Regression => {
                FittedRegressor::Forest(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Boosting(p) if p.task == Task::Regression => {
                FittedRegressor::Boosting(p.clone().check()?.fit(train, val, seed)?)
            }
            ModelSpec::Mlp(p) if p.objective == Objective::Squared => {
                FittedRegressor::Mlp(p.clone().check()?.fit(train, val, seed)?)
            }
            _ => {
                return Err(ModelError::Shape(
                    "this model specification is not a regressor".into(),
                ))
            }
        })
    }
}

/// A fitted classifier of any family. Externally tagged (serde's default) so non-self-describing
/// formats such as the artifact's postcard payload can read it back.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FittedClassifier {
    /// Logistic regression.
    Logistic(LogisticModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient boosting.
    Boosting(BoostingModel),
    /// Multilayer perceptron.
    Mlp(Mlp),
    /// Stacked ensemble.
    Stack(StackModel),
}

impl FittedClassifier {
    /// Boosting rounds or network epochs kept (after early stopping).
    pub fn rounds(&self) -> Option<usize> {
        match self {
            FittedClassifier::Boosting(m) => Some(m.rounds),
            FittedClassifier::Mlp(m) => Some(m.best_epoch),
            FittedClassifier::Logistic(_)
            | FittedClassifier::Forest(_)
            | FittedClassifier::Stack(_) => None,
        }
    }

    /// The family.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            FittedClassifier::Logistic(_) => ClassifierKind::Logreg,
            FittedClassifier::Forest(_) => ClassifierKind::Rf,
            FittedClassifier::Boosting(_) => ClassifierKind::Gbm,
            FittedClassifier::Mlp(_) => ClassifierKind::Mlp,
            FittedClassifier::Stack(_) => ClassifierKind::Stack,
        }
    }
}

impl FittedClassifier {
    /// Checks that a classifier read from a file reads rows of `width` columns: coefficient
    /// counts, tree feature indices (hessboost checks every node against its feature count at
    /// decode), layer shapes, and the stack's members and meta-learner. Structural, so a model
    /// whose parts disagree is refused at load instead of panicking at some later track.
    pub fn check_inputs(&self, width: usize) -> Result<(), ModelError> {
        match self {
            FittedClassifier::Logistic(m) => coefficients(&m.beta, width),
            FittedClassifier::Forest(m) => m.check_inputs(width),
            FittedClassifier::Boosting(m) => m.check_inputs(width, 1),
            FittedClassifier::Mlp(m) => m.check_shape(width).map_err(ModelError::Network),
            FittedClassifier::Stack(m) => {
                for member in &m.members {
                    member.check_inputs(width)?;
                }
                coefficients(&m.meta.beta, m.members.len())
            }
        }
    }

    /// A forest's probabilities for its own training rows from the half that did not see each
    /// (see [`ForestModel::out_of_fold`]); `None` for every other model.
    pub(crate) fn out_of_fold(&self) -> Option<&[f64]> {
        match self {
            FittedClassifier::Forest(m) => m.out_of_fold(),
            _ => None,
        }
    }

    /// The trees in XGBoost's JSON model format (tree families only).
    pub fn to_xgboost_json(&self) -> Result<Vec<u8>, ModelError> {
        match self {
            FittedClassifier::Boosting(m) => m.to_xgboost_json(),
            FittedClassifier::Forest(m) => m.to_xgboost_json(),
            FittedClassifier::Logistic(_)
            | FittedClassifier::Mlp(_)
            | FittedClassifier::Stack(_) => Err(ModelError::NotTrees(self.kind().name())),
        }
    }
}

impl Classifier for FittedClassifier {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        match self {
            FittedClassifier::Logistic(m) => m.predict_proba(x),
            FittedClassifier::Forest(m) => m.predict_proba(x),
            FittedClassifier::Boosting(m) => m.predict_proba(x),
            FittedClassifier::Mlp(m) => m.predict_proba(x),
            FittedClassifier::Stack(m) => m.predict_proba(x),
        }
    }

    fn predict_proba_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        match self {
            FittedClassifier::Logistic(m) => m.predict_proba_variants(variants),
            FittedClassifier::Forest(m) => m.predict_proba_variants(variants),
            FittedClassifier::Boosting(m) => m.predict_proba_variants(variants),
            FittedClassifier::Mlp(m) => m.predict_proba_variants(variants),
            FittedClassifier::Stack(m) => m.predict_proba_variants(variants),
        }
    }
}

/// A fitted regressor of any family (externally tagged, as [`FittedClassifier`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FittedRegressor {
    /// Ridge / least squares.
    Linear(LinearModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient boosting.
    Boosting(BoostingModel),
    /// Multilayer perceptron.
    Mlp(Mlp),
}

impl FittedRegressor {
    /// Boosting rounds or network epochs kept (after early stopping).
    pub fn rounds(&self) -> Option<usize> {
        match self {
            FittedRegressor::Boosting(m) => Some(m.rounds),
            FittedRegressor::Mlp(m) => Some(m.best_epoch),
            FittedRegressor::Linear(_) | FittedRegressor::Forest(_) => None,
        }
    }

    /// The family.
    pub fn kind(&self) -> RegressorKind {
        match self {
            FittedRegressor::Linear(_) => RegressorKind::Linear,
            FittedRegressor::Forest(_) => RegressorKind::Rf,
            FittedRegressor::Boosting(_) => RegressorKind::Gbm,
            FittedRegressor::Mlp(_) => RegressorKind::Mlp,
        }
    }
}

impl FittedRegressor {
    /// As [`FittedClassifier::check_inputs`], for the score model.
    pub fn check_inputs(&self, width: usize) -> Result<(), ModelError> {
        match self {
            FittedRegressor::Linear(m) => coefficients(&m.beta, width),
            FittedRegressor::Forest(m) => m.check_inputs(width),
            FittedRegressor::Boosting(m) => m.check_inputs(width, 1),
            FittedRegressor::Mlp(m) => m.check_shape(width).map_err(ModelError::Network),
        }
    }

    /// The trees in XGBoost's JSON model format (tree families only).
    pub fn to_xgboost_json(&self) -> Result<Vec<u8>, ModelError> {
        match self {
            FittedRegressor::Boosting(m) => m.to_xgboost_json(),
            FittedRegressor::Forest(m) => m.to_xgboost_json(),
            FittedRegressor::Linear(_) | FittedRegressor::Mlp(_) => {
                Err(ModelError::NotTrees(self.kind().name()))
            }
        }
    }
}

/// An intercept and one finite coefficient per input.
fn coefficients(beta: &[f64], width: usize) -> Result<(), ModelError> {
    if beta.len() != width + 1 {
        return Err(ModelError::Shape(format!(
            "{} coefficients for {width} inputs (expected {})",
            beta.len(),
            width + 1
        )));
    }
    if beta.iter().any(|b| !b.is_finite()) {
        return Err(ModelError::Shape("coefficients that are not finite".into()));
    }
    Ok(())
}

impl Regressor for FittedRegressor {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        match self {
            FittedRegressor::Linear(m) => m.predict(x),
            FittedRegressor::Forest(m) => m.predict(x),
            FittedRegressor::Boosting(m) => m.predict(x),
            FittedRegressor::Mlp(m) => Regressor::predict(m, x),
        }
    }

    fn predict_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        match self {
            FittedRegressor::Linear(m) => m.predict_variants(variants),
            FittedRegressor::Forest(m) => m.predict_variants(variants),
            FittedRegressor::Boosting(m) => m.predict_variants(variants),
            FittedRegressor::Mlp(m) => m.predict_variants(variants),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_param_replaces_one_value_and_validates_it() {
        let gbm = ModelSpec::classifier(ClassifierKind::Gbm);
        let faster = gbm.with_param("learning_rate", "0.1").unwrap();
        match faster {
            ModelSpec::Boosting(p) => assert_eq!(p.learning_rate, 0.1),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            gbm.with_param("learning_rate", "2")
                .unwrap_err()
                .to_string(),
            "invalid parameter learning_rate = 2: must be in (0, 1]"
        );
        let err = gbm.with_param("eta", "0.1").unwrap_err().to_string();
        assert!(err.starts_with("unknown parameter \"eta\"; this family has colsample_bytree, early_stopping_rounds,"), "{err}");
        let rf = ModelSpec::classifier(ClassifierKind::Rf)
            .with_param("max_features", "log2")
            .unwrap();
        assert!(matches!(
            rf,
            ModelSpec::Forest(ForestParams {
                max_features: crate::models::MaxFeatures::Log2,
                ..
            })
        ));
    }

    #[test]
    fn boosting_learns_faster_on_synthetic_rows_and_nothing_else_changes() {
        let rate = |spec: ModelSpec| match spec {
            ModelSpec::Boosting(p) => p.learning_rate,
            other => panic!("{other:?}"),
        };
        for strategy in Strategy::ALL {
            let gbm = ModelSpec::classifier_for(ClassifierKind::Gbm, strategy);
            let synthetic = matches!(strategy, Strategy::Smote | Strategy::Adasyn);
            assert_eq!(rate(gbm.clone()), if synthetic { 0.1 } else { 0.05 });
            assert_eq!(
                gbm.with_param("learning_rate", "0.05").unwrap(),
                ModelSpec::classifier(ClassifierKind::Gbm)
            );
            for &kind in ClassifierKind::ALL.iter() {
                if kind != ClassifierKind::Gbm {
                    assert_eq!(
                        ModelSpec::classifier_for(kind, strategy),
                        ModelSpec::classifier(kind)
                    );
                }
            }
        }
    }
}

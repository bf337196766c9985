//! The families by name: a serialisable specification to fit from, and fitted classifiers and
//! regressors as enums that dispatch to the family (so a saved model names its own kind).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{
    BoostingModel, BoostingParams, Classifier, Fit, ForestModel, ForestParams, LinearModel,
    LinearParams, LogisticModel, LogisticParams, ModelError, Params, Regressor, Task, TrainSet,
};
use crate::features::FeatureMatrix;

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

names!(ClassifierKind { Logreg => "logreg", Rf => "rf", Gbm => "gbm" });
names!(RegressorKind { Linear => "linear", Rf => "rf", Gbm => "gbm" });

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
}

impl ModelSpec {
    /// The documented defaults of a classifier family.
    pub fn classifier(kind: ClassifierKind) -> ModelSpec {
        match kind {
            ClassifierKind::Logreg => ModelSpec::Logistic(LogisticParams::default()),
            ClassifierKind::Rf => ModelSpec::Forest(ForestParams::default()),
            ClassifierKind::Gbm => ModelSpec::Boosting(BoostingParams::default()),
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
        }
    }

    /// Parameters as a compact JSON object, for result tables.
    pub fn params_json(&self) -> String {
        let value = match self {
            ModelSpec::Logistic(p) => serde_json::to_value(p),
            ModelSpec::Linear(p) => serde_json::to_value(p),
            ModelSpec::Forest(p) => serde_json::to_value(p),
            ModelSpec::Boosting(p) => serde_json::to_value(p),
        };
        value.map(|v| v.to_string()).unwrap_or_default()
    }

    /// Fits a classifier.
    pub fn fit_classifier(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
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
            _ => {
                return Err(ModelError::Shape(
                    "this model specification is not a regressor".into(),
                ))
            }
        })
    }
}

/// A fitted classifier of any family.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "family", content = "model", rename_all = "lowercase")]
pub enum FittedClassifier {
    /// Logistic regression.
    Logistic(LogisticModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient boosting.
    Boosting(BoostingModel),
}

impl Classifier for FittedClassifier {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        match self {
            FittedClassifier::Logistic(m) => m.predict_proba(x),
            FittedClassifier::Forest(m) => m.predict_proba(x),
            FittedClassifier::Boosting(m) => m.predict_proba(x),
        }
    }
}

/// A fitted regressor of any family.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "family", content = "model", rename_all = "lowercase")]
pub enum FittedRegressor {
    /// Ridge / least squares.
    Linear(LinearModel),
    /// Random forest.
    Forest(ForestModel),
    /// Gradient boosting.
    Boosting(BoostingModel),
}

impl Regressor for FittedRegressor {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        match self {
            FittedRegressor::Linear(m) => m.predict(x),
            FittedRegressor::Forest(m) => m.predict(x),
            FittedRegressor::Boosting(m) => m.predict(x),
        }
    }
}

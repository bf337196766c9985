//! Model families behind one small set of verbs.
//!
//! Each family has `FooParams` (serde, documented defaults) → [`Params::check`] → [`Valid`] →
//! [`Fit::fit`] → an immutable, `Send + Sync`, serialisable model. Classifiers return the
//! probability of "popular"; regressors the 0-100 score. Randomness comes only from the seed.

mod boosting;
mod folds;
mod forest;
mod linalg;
mod linear;
mod logistic;
mod mlp;
mod side_by_side;
mod stack;
mod trees;
mod zoo;

pub use boosting::{BoostingModel, BoostingParams, StopMetric, Task};
pub use forest::{ForestModel, ForestParams, MaxFeatures};
pub use hitcast_nn::{Activation, Mlp, MlpConfig, Objective};
pub use linear::{LinearModel, LinearParams};
pub use logistic::{LogisticModel, LogisticParams};
pub(crate) use side_by_side::side_by_side;
pub use stack::{StackModel, StackParams};
pub use zoo::{ClassifierKind, FittedClassifier, FittedRegressor, ModelSpec, RegressorKind};

use std::ops::Deref;

use crate::features::{FeatureMatrix, Variants};

/// Rows to fit on: features, targets (0/1 for classification) and optional sample weights.
#[derive(Clone, Copy, Debug)]
pub struct TrainSet<'a> {
    /// Feature rows.
    pub x: &'a FeatureMatrix,
    /// One target per row: 0.0/1.0 labels, or the popularity score.
    pub y: &'a [f64],
    /// One weight per row; `None` weighs every row 1.
    pub weights: Option<&'a [f64]>,
    /// One group key per row (the protocol's split unit: the primary artist under the honest
    /// protocol), for the stack's grouped folds; `None` makes every row its own group.
    pub groups: Option<&'a [u64]>,
}

impl<'a> TrainSet<'a> {
    /// An unweighted set.
    pub fn new(x: &'a FeatureMatrix, y: &'a [f64]) -> TrainSet<'a> {
        TrainSet {
            x,
            y,
            weights: None,
            groups: None,
        }
    }

    /// Checks that targets and weights match the rows and are finite, weights non-negative.
    pub fn check(&self) -> Result<(), ModelError> {
        if self.y.len() != self.x.n_rows() {
            return Err(ModelError::Shape(format!(
                "{} targets for {} rows",
                self.y.len(),
                self.x.n_rows()
            )));
        }
        if self.y.is_empty() {
            return Err(ModelError::Shape("no rows to fit".into()));
        }
        if let Some(w) = self.weights {
            if w.len() != self.y.len() {
                return Err(ModelError::Shape(format!(
                    "{} weights for {} rows",
                    w.len(),
                    self.y.len()
                )));
            }
            if w.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(ModelError::Shape("weights must be finite and >= 0".into()));
            }
        }
        if let Some(g) = self.groups {
            if g.len() != self.y.len() {
                return Err(ModelError::Shape(format!(
                    "{} groups for {} rows",
                    g.len(),
                    self.y.len()
                )));
            }
        }
        Ok(())
    }

    /// The weight of row `i`.
    pub fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
}

/// Why a model could not be configured, fitted or applied.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A parameter is out of its range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// Its value, as given.
        value: String,
        /// The accepted range.
        reason: &'static str,
    },
    /// A parameter name the family does not have.
    #[error("unknown parameter {key:?}; this family has {known}")]
    UnknownParam {
        /// The name given.
        key: String,
        /// The family's parameter names.
        known: String,
    },
    /// Inputs of the wrong shape.
    #[error("bad input: {0}")]
    Shape(String),
    /// A song measured from its audio file (its learned columns empty), given to a model file
    /// without a from-audio model: the caller's track, not the model, is what cannot be
    /// answered.
    #[error("{}", crate::predictor::no_from_audio_model(track_name))]
    NoFromAudioModel {
        /// The song's title, as given (empty when it has none).
        track_name: String,
    },
    /// Only tree models have an XGBoost form.
    #[error("only tree models (gbm, rf) export to XGBoost JSON; this one is {0}")]
    NotTrees(&'static str),
    /// A classifier needs both classes in its training rows.
    #[error("the training rows hold only one class")]
    OneClass,
    /// The neural network failed.
    #[error("neural network")]
    Network(#[source] hitcast_nn::NnError),
    /// Trees grown here did not make a hessboost model.
    #[error("the grown trees do not load into hessboost: {0}")]
    Trees(String),
    /// The gradient-boosting library failed.
    #[error("gradient boosting failed")]
    Boosting(#[from] hessboost::error::HessboostError),
}

/// Parameters that can be validated once, before fitting.
pub trait Params: Sized {
    /// Checks every value and returns the read-only validated form.
    fn check(self) -> Result<Valid<Self>, ModelError>;
}

/// Parameters that passed [`Params::check`]. Only this form can fit.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Valid<P>(P);

impl<P> Deref for Valid<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.0
    }
}

impl<P> Valid<P> {
    /// The parameters.
    pub fn into_inner(self) -> P {
        self.0
    }
}

/// Fitting: validated parameters plus data and a seed give a model.
pub trait Fit {
    /// The fitted model.
    type Model;
    /// Fits on `train`; `val` (never TEST) may drive early stopping.
    fn fit(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<Self::Model, ModelError>;
}

/// A fitted binary classifier.
pub trait Classifier: Send + Sync {
    /// The probability that each row is popular.
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64>;

    /// [`Classifier::predict_proba`] of the variants' rows, the same to the last bit; tree
    /// models walk each tree once for many variants.
    fn predict_proba_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.predict_proba(variants.rows())
    }
}

/// A fitted regressor of the popularity score.
pub trait Regressor: Send + Sync {
    /// The predicted score of each row.
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64>;

    /// [`Regressor::predict`] of the variants' rows, the same to the last bit; tree models walk
    /// each tree once for many variants.
    fn predict_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.predict(variants.rows())
    }
}

fn param_error(name: &'static str, value: impl ToString, reason: &'static str) -> ModelError {
    ModelError::Param {
        name,
        value: value.to_string(),
        reason,
    }
}

/// Checks `lo <= value <= hi` (and finite).
fn in_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<(), ModelError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(param_error(name, value, reason))
    }
}

/// Log-odds of `p` kept `clip` away from 0 and 1 (a model's probabilities can be exact): the
/// one log-odds of the crate, each caller with its clip.
pub(crate) fn logit_clipped(p: f64, clip: f64) -> f64 {
    let p = p.clamp(clip, 1.0 - clip);
    (p / (1.0 - p)).ln()
}

/// The logistic function, stable for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<LogisticModel>();
    send_sync::<LinearModel>();
    send_sync::<ForestModel>();
    send_sync::<BoostingModel>();
    send_sync::<Mlp>();
    send_sync::<StackModel>();
};

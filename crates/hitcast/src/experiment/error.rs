//! Why an experiment stopped, naming the stage and the cell.

use std::fmt;

use super::{Cell, CellPattern};
use crate::features::{FeatureError, OutlierSetup};
use crate::metrics::MetricError;
use crate::models::ModelError;
use crate::sampling::{SamplingError, Strategy};
use crate::split::{Protocol, SplitError};

/// Why an experiment stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The split could not be made.
    #[error("cannot split the data")]
    Split(#[from] SplitError),
    /// The feature pipeline could not be fitted.
    #[error("cannot fit the feature pipeline")]
    Features(#[from] FeatureError),
    /// A model failed.
    #[error("{stage}: model failed")]
    Model {
        /// Where.
        stage: Stage,
        /// The reason.
        #[source]
        source: ModelError,
    },
    /// Resampling failed.
    #[error("{stage}: resampling failed")]
    Sampling {
        /// Where.
        stage: Stage,
        /// The reason.
        #[source]
        source: SamplingError,
    },
    /// A metric was undefined (one class in VAL or TEST).
    #[error("{stage}: cannot evaluate")]
    Metric {
        /// Where.
        stage: Stage,
        /// The reason.
        #[source]
        source: MetricError,
    },
    /// The score's range could not be fitted.
    #[error("cannot fit the score's range")]
    Interval(#[from] crate::distribution::IntervalError),
    /// The data has no popularity column.
    #[error("the data has no popularity column to learn from")]
    Unlabelled,
    /// The known-artist feature set belongs to the known-artist protocol.
    #[error(
        "the known-artist feature set (artist history) goes with the known-artist protocol only: \
         under protocol {0} TEST artists have no FIT history, so the columns would mean something \
         else in training than in testing"
    )]
    FeaturesForProtocol(Protocol),
    /// `--drop` named a column the feature set does not have.
    #[error("unknown feature {0:?} in --drop")]
    UnknownFeature(String),
    /// `--param` named a family that does not exist.
    #[error(
        "unknown model family {0:?} in --param: expected logreg, linear, rf, gbm, mlp or stack"
    )]
    UnknownFamily(String),
    /// `--only` matched nothing.
    #[error("no grid cell matches --only {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))]
    NothingSelected(Vec<CellPattern>),
}

/// The stage an experiment was at when it stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// Fitting or measuring a grid cell.
    Cell(Cell),
    /// FIT resampled for the classifiers of one setup and strategy.
    Resampling(OutlierSetup, Strategy),
    /// Tuning a model family on VAL.
    Tuning(&'static str),
    /// Applying a parameter given on the command line (`--param family.key=value`).
    Param(String),
    /// Training the saved model: this part of it (its classifier, calibration, score model).
    Training(&'static str),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Cell(cell) => write!(f, "{cell}"),
            Stage::Resampling(setup, strategy) => write!(f, "resampling {setup}/{strategy}"),
            Stage::Tuning(family) => write!(f, "tuning {family}"),
            Stage::Param(param) => write!(f, "--param {param}"),
            Stage::Training(part) => write!(f, "training the {part}"),
        }
    }
}

impl ExperimentError {
    /// Wraps a model failure at `stage` (for `map_err`).
    pub(crate) fn model(stage: &Stage) -> impl Fn(ModelError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Model {
            stage: stage.clone(),
            source,
        }
    }

    /// Wraps an undefined metric at `stage` (for `map_err`).
    pub(crate) fn metric(stage: &Stage) -> impl Fn(MetricError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Metric {
            stage: stage.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelError;

    #[test]
    fn an_error_names_its_stage_in_words() {
        let cell: Cell = "capped/smote/gbm".parse().unwrap();
        let error = ExperimentError::model(&Stage::Cell(cell))(ModelError::Shape("x".into()));
        assert_eq!(
            error.to_string(),
            "classification/capped/smote/gbm: model failed"
        );
        let stages = [
            Stage::Resampling(OutlierSetup::Raw, Strategy::Adasyn),
            Stage::Tuning("rf"),
            Stage::Param("gbm.learning_rate=7".into()),
            Stage::Training("calibration"),
        ];
        let words: Vec<String> = stages.iter().map(Stage::to_string).collect();
        assert_eq!(
            words,
            [
                "resampling raw/adasyn",
                "tuning rf",
                "--param gbm.learning_rate=7",
                "training the calibration"
            ]
        );
    }
}

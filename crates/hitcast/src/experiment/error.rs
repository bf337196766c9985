//! Why an experiment stopped, naming the step and the cell.

use crate::features::FeatureError;
use crate::metrics::MetricError;
use crate::models::ModelError;
use crate::sampling::SamplingError;
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
    #[error("{cell}: model failed")]
    Model {
        /// The grid cell.
        cell: String,
        /// The reason.
        #[source]
        source: ModelError,
    },
    /// Resampling failed.
    #[error("{cell}: resampling failed")]
    Sampling {
        /// The grid cell.
        cell: String,
        /// The reason.
        #[source]
        source: SamplingError,
    },
    /// A metric was undefined (one class in VAL or TEST).
    #[error("{cell}: cannot evaluate")]
    Metric {
        /// The grid cell.
        cell: String,
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
    #[error("no grid cell matches --only {0:?}")]
    NothingSelected(Vec<String>),
}

impl ExperimentError {
    /// Wraps a model failure of `cell` (for `map_err`).
    pub(crate) fn model(cell: &str) -> impl Fn(ModelError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Model {
            cell: cell.to_owned(),
            source,
        }
    }

    /// Wraps an undefined metric of `cell` (for `map_err`).
    pub(crate) fn metric(cell: &str) -> impl Fn(MetricError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Metric {
            cell: cell.to_owned(),
            source,
        }
    }
}

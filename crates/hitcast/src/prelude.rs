//! The types most programs need, in one import: `use hitcast::prelude::*;`.
//!
//! Read a table, split it, run the grid or train a model, and score with the one [`Predictor`].

pub use crate::artifact::{Artifact, Metadata};
pub use crate::data::{read_rows, Loaded, ReadOptions, Tracks, DEFAULT_THRESHOLD};
pub use crate::experiment::{Cell, GridConfig, Results};
pub use crate::features::{FeatureSet, OutlierSetup};
pub use crate::job::{run_job, JobConfig, JobOutcome};
pub use crate::models::{ClassifierKind, RegressorKind, Task};
pub use crate::predictor::{Genres, Prediction, Predictor};
pub use crate::sampling::Strategy;
pub use crate::split::{Protocol, Split};
pub use crate::training::{train, TrainConfig};

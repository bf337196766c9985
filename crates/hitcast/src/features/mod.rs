//! From tracks to model inputs: the "audio+genre" feature matrix (14 audio columns, then one
//! indicator per genre), outlier fences and z-scores fitted on FIT rows, and the label.

mod extras;
mod history;
mod matrix;
mod pipeline;
mod setup;

pub use extras::{CATALOGUE_ONLY, EXTRA_NAMES, GENRE_DERIVED};
pub use history::HISTORY_NAMES;
pub use matrix::{FeatureMatrix, Variants};
pub use pipeline::{
    quantile, FeatureError, FeaturePipeline, Fence, PipelineParams, TrackInput, Transformed, ZScore,
};
pub use setup::{FeatureSet, OutlierSetup, CONTINUOUS, UNSCALED};

/// The values at `rows`, in that order.
pub fn select<T: Copy>(values: &[T], rows: &[usize]) -> Vec<T> {
    rows.iter().map(|&i| values[i]).collect()
}

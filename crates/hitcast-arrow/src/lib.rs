//! Arrow in and out of hitcast, for the surfaces that speak columnar data: Parquet files in the
//! CLI (feature `parquet`), data frames in the Python package, Spark through it.
//!
//! Input goes through the same [`hitcast::data::ColumnPlan`] as a CSV header (names, `--map`
//! renames, defaults, refusals) and the same per-cell rules, so a track is accepted or refused
//! alike whatever it arrives in; a bad cell names its row and column. Output is one row per
//! track with [`hitcast::predictor::ANSWER_COLUMNS`], the columns `hitcast predict` writes.
//!
//! ```text
//! RecordBatch --ArrowRows--> RawRow --Predictor--> Prediction --answers_batch--> RecordBatch
//! ```

mod answers;
#[cfg(feature = "parquet")]
mod parquet;
mod rows;

pub use answers::{
    answers_batch, answers_schema, chances_batch, chances_schema, explanations_batch,
    explanations_schema,
};
#[cfg(feature = "parquet")]
pub use parquet::{is_parquet, open_rows, read_file, ParquetRows, ParquetSink, WriteError};
pub use rows::ArrowRows;

/// The Arrow crates this one is built against, for callers that exchange batches with it.
pub use arrow_array;
pub use arrow_schema;

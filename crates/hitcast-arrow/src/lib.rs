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
pub use parquet::{open_rows, read_file, ParquetRows, ParquetSink, WriteError};
pub use rows::{ArrowRows, BatchRows};

/// The first bytes of every Parquet file.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Whether an output named `path` is to be Parquet: its name ends in `.parquet`, in any case.
/// (An input is told by its first bytes, [`is_parquet`].)
pub fn names_parquet(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Whether the file at `path` starts as a Parquet file does (CSV never does).
pub fn is_parquet(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == PARQUET_MAGIC)
}

/// The Arrow crates this one is built against, for callers that exchange batches with it.
pub use arrow_array;
pub use arrow_schema;

//! Loading and cleaning: the CSV(.gz) reader, validation, collapsing duplicate tracks.
//!
//! ```text
//! RowReader (validated RawRow) --read_rows--> Loaded --Tracks::collapse--> Tracks
//! ```

mod error;
pub mod genre;
mod inflate;
mod locate;
mod newlines;
mod plan;
mod reader;
mod schema;
mod summary;
mod tracks;

pub(crate) use error::typo_of;
pub use error::{DataError, Header, MapError};
pub use locate::{file_sha256, locate_dataset, LocateError, DATA_ENV, DEFAULT_PATHS};
pub use plan::{CellValue, ColumnPlan};
pub use reader::{
    parse_delimiter, read_all, read_rows, read_rows_from, ColumnMap, DefaultUsed, LoadReport,
    Loaded, OnError, RawRow, ReadOptions, RowReader, RowSource, SKIPPED_EXAMPLES,
};
pub use schema::{Absent, Bounds, Column, FieldProblem, Rule, N_AUDIO};
pub use summary::{summarize, DataSummary, PopularityStats};
pub use tracks::{CollapseStats, Track, Tracks};

/// The default label threshold: a track is popular when its popularity is above 71.
pub const DEFAULT_THRESHOLD: u8 = 71;

/// The label: popular means `popularity > threshold`.
pub fn is_popular(popularity: u8, threshold: u8) -> bool {
    popularity > threshold
}

impl Tracks {
    /// The label of every track, or `None` if the table is unlabelled.
    pub fn labels(&self, threshold: u8) -> Option<Vec<bool>> {
        self.rows
            .iter()
            .map(|t| t.popularity.map(|p| is_popular(p, threshold)))
            .collect()
    }
}

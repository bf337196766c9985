//! Progress reports while a grid runs, for the command line's progress bar and log.

use super::{Cell, ResultRow};

/// Progress reports while the grid runs.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// The cells about to run, in order.
    Planned(&'a [Cell]),
    /// A tuning trial finished: family, trial number, VAL score.
    Trial(&'a str, usize, f64),
    /// A cell is starting.
    Started(Cell),
    /// A cell finished, with its result.
    Finished(&'a ResultRow),
}

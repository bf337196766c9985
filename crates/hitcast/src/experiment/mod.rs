//! The experiment grid: every outlier setup x imbalance strategy x classifier, and the regression
//! suite, under one protocol and fold, with results that never let TEST choose anything.
//!
//! Per setup the feature pipeline is fitted on FIT; per strategy FIT is resampled once and shared
//! by the classifiers; VAL drives early stopping and picks the F1 threshold; TEST is only scored.

mod cell;
mod config;
mod error;
mod fit;
mod fits;
mod folds;
mod grid;
mod headline;
mod prepare;
mod progress;
mod results;
mod tune;

pub use cell::{Cell, CellPattern};
pub use config::GridConfig;
pub use error::{ExperimentError, Stage};
pub use fit::{classifier_spec, regressor_spec};
pub(crate) use fit::{classify, regress, with_params};
pub use fits::{ChosenFits, FitsError, Kept};
pub use folds::{CellSpread, FoldsSummary, Spread};
pub use grid::{run, run_keeping_fits};
pub use headline::{seed_headline, seed_procedure_split, Headline, HeadlineFigures, EXPLANATION};
pub(crate) use prepare::targets;
pub use prepare::{default_features, prepare, Prepared, StrategyRows};
pub use progress::Event;
pub(crate) use results::fixed;
pub use results::{ClassifierFigures, Figure, Figures, RegressorFigures, ResultRow, Results};
pub use tune::{search_space_doc, TuneConfig};
pub(crate) use tune::{tune_classifier, tune_regressor};

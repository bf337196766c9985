//! A grid cell, typed: a classifier (outlier setup x imbalance strategy x family) or a score
//! regressor (setup x family), named as the results name it: `classification/raw/none/gbm`,
//! `regression/capped/none/rf`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::features::OutlierSetup;
use crate::models::{ClassifierKind, RegressorKind};
use crate::sampling::Strategy;

use crate::models::Task;

/// One fit of the grid. In results files it is the four columns `task`, `setup`, `strategy`
/// (null for a regressor) and `model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "CellFields", try_from = "CellFields")]
pub enum Cell {
    /// A classifier of popular tracks, on FIT resampled by `strategy`.
    Classifier {
        /// The outlier setup.
        setup: OutlierSetup,
        /// The imbalance strategy.
        strategy: Strategy,
        /// The family.
        model: ClassifierKind,
    },
    /// A regressor of the 0-100 score, on FIT as it is.
    Regressor {
        /// The outlier setup.
        setup: OutlierSetup,
        /// The family.
        model: RegressorKind,
    },
}

impl Cell {
    /// Its outlier setup.
    pub fn setup(self) -> OutlierSetup {
        match self {
            Cell::Classifier { setup, .. } | Cell::Regressor { setup, .. } => setup,
        }
    }

    /// Its imbalance strategy (`none` for a regressor).
    pub fn strategy(self) -> Strategy {
        match self {
            Cell::Classifier { strategy, .. } => strategy,
            Cell::Regressor { .. } => Strategy::None,
        }
    }

    /// Its imbalance strategy, `None` for a regressor (which fits FIT as it is).
    pub fn imbalance(self) -> Option<Strategy> {
        match self {
            Cell::Classifier { strategy, .. } => Some(strategy),
            Cell::Regressor { .. } => None,
        }
    }

    /// Classification or regression.
    pub fn task(self) -> Task {
        match self {
            Cell::Classifier { .. } => Task::Classification,
            Cell::Regressor { .. } => Task::Regression,
        }
    }

    /// The family's name.
    pub fn model_name(self) -> &'static str {
        match self {
            Cell::Classifier { model, .. } => model.name(),
            Cell::Regressor { model, .. } => model.name(),
        }
    }
}

impl Cell {
    /// `setup/strategy/model`, for tables that hold one task.
    pub fn short(self) -> String {
        format!("{}/{}/{}", self.setup(), self.strategy(), self.model_name())
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = match self.task() {
            Task::Classification => "classification",
            Task::Regression => "regression",
        };
        write!(
            f,
            "{task}/{}/{}/{}",
            self.setup(),
            self.strategy(),
            self.model_name()
        )
    }
}

impl FromStr for Cell {
    type Err = String;

    /// `task/setup/strategy/model`, or `setup/strategy/model` for a classifier.
    fn from_str(s: &str) -> Result<Cell, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (task, rest) = match parts.as_slice() {
            [task, rest @ ..] if rest.len() == 3 => (*task, rest),
            rest if rest.len() == 3 => ("classification", rest),
            _ => {
                return Err(format!(
                "{s:?} is not a grid cell: expected setup/strategy/model (e.g. capped/none/gbm) \
                     or task/setup/strategy/model"
            ))
            }
        };
        let setup = rest[0].parse()?;
        let strategy: Strategy = rest[1].parse()?;
        match task {
            "classification" => Ok(Cell::Classifier {
                setup,
                strategy,
                model: rest[2].parse()?,
            }),
            "regression" if strategy == Strategy::None => Ok(Cell::Regressor {
                setup,
                model: rest[2].parse()?,
            }),
            "regression" => Err(format!(
                "{s:?}: a regressor fits FIT as it is; its strategy is none"
            )),
            other => Err(format!(
                "{s:?}: unknown task {other:?}: expected classification or regression"
            )),
        }
    }
}

/// A cell as results files write it.
#[derive(Serialize, Deserialize)]
struct CellFields {
    task: Task,
    setup: OutlierSetup,
    strategy: Option<Strategy>,
    model: String,
}

impl From<Cell> for CellFields {
    fn from(cell: Cell) -> CellFields {
        CellFields {
            task: cell.task(),
            setup: cell.setup(),
            strategy: cell.imbalance(),
            model: cell.model_name().to_owned(),
        }
    }
}

impl TryFrom<CellFields> for Cell {
    type Error = String;

    fn try_from(f: CellFields) -> Result<Cell, String> {
        match (f.task, f.strategy) {
            (Task::Classification, Some(strategy)) => Ok(Cell::Classifier {
                setup: f.setup,
                strategy,
                model: f.model.parse()?,
            }),
            (Task::Classification, None) => Err(format!(
                "classifier {}/{} has no strategy",
                f.setup, f.model
            )),
            (Task::Regression, _) => Ok(Cell::Regressor {
                setup: f.setup,
                model: f.model.parse()?,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_short_form_is_a_classifier() {
        let cell = Cell::Classifier {
            setup: OutlierSetup::Capped,
            strategy: Strategy::Smote,
            model: ClassifierKind::Stack,
        };
        assert_eq!(cell.to_string(), "classification/capped/smote/stack");
        assert_eq!(cell.short(), "capped/smote/stack");
        assert_eq!("classification/capped/smote/stack".parse(), Ok(cell));
        assert_eq!("capped/smote/stack".parse(), Ok(cell));
        let regressor = Cell::Regressor {
            setup: OutlierSetup::Raw,
            model: RegressorKind::Linear,
        };
        assert_eq!(regressor.to_string(), "regression/raw/none/linear");
        assert_eq!("regression/raw/none/linear".parse(), Ok(regressor));
        assert_eq!(regressor.strategy(), Strategy::None);
        assert_eq!(regressor.task(), Task::Regression);
    }

    #[test]
    fn results_files_keep_their_four_columns() {
        let cell: Cell = "regression/capped/none/gbm".parse().unwrap();
        let json = serde_json::to_string(&cell).unwrap();
        assert_eq!(
            json,
            r#"{"task":"regression","setup":"capped","strategy":null,"model":"gbm"}"#
        );
        assert_eq!(serde_json::from_str::<Cell>(&json).unwrap(), cell);
        let bad = r#"{"task":"classification","setup":"raw","strategy":"none","model":"xgb"}"#;
        assert!(serde_json::from_str::<Cell>(bad).is_err());
    }

    #[test]
    fn a_bad_name_says_what_is_wrong() {
        let err = |s: &str| s.parse::<Cell>().unwrap_err();
        assert!(err("capped/gbm").contains("expected setup/strategy/model"));
        assert!(err("regression/raw/smote/gbm").contains("its strategy is none"));
        assert!(err("clustering/raw/none/gbm").contains("unknown task"));
        assert!(err("raw/none/xgb").contains("unknown model \"xgb\""));
        assert!(err("raw/oversample/gbm").contains("oversample"));
    }
}

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

/// A `--only` pattern: whole parts of a cell's name `task/setup/strategy/model`, in order
/// (`gbm`, `raw/smote`, `regression/capped`). A cell is selected when the pattern's parts are
/// consecutive parts of its name; each part must name a task, setup, strategy or family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellPattern(Vec<String>);

impl CellPattern {
    /// Whether `cell` is selected.
    pub fn matches(&self, cell: Cell) -> bool {
        let name = cell.to_string();
        let parts: Vec<&str> = name.split('/').collect();
        parts
            .windows(self.0.len())
            .any(|w| w.iter().zip(&self.0).all(|(a, b)| a == b))
    }
}

impl From<Cell> for CellPattern {
    /// The pattern of exactly `cell`.
    fn from(cell: Cell) -> CellPattern {
        CellPattern(cell.to_string().split('/').map(str::to_owned).collect())
    }
}

impl FromStr for CellPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<CellPattern, String> {
        let known = known_parts();
        let parts: Vec<String> = s.split('/').map(str::to_owned).collect();
        if parts.len() > 4 {
            return Err(format!(
                "{s:?} has more parts than a cell's task/setup/strategy/model"
            ));
        }
        for part in &parts {
            if !known.contains(part) {
                return Err(format!(
                    "{part:?} is not a task, setup, strategy or model family: expected one of {}",
                    known.join(", ")
                ));
            }
        }
        Ok(CellPattern(parts))
    }
}

impl fmt::Display for CellPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// Every word a cell's name is made of, in its order: tasks, setups, strategies, families.
fn known_parts() -> Vec<String> {
    let mut words: Vec<String> = vec!["classification".into(), "regression".into()];
    words.extend(OutlierSetup::ALL.iter().map(ToString::to_string));
    words.extend(Strategy::ALL.iter().map(|s| s.name().to_owned()));
    for name in ClassifierKind::ALL
        .iter()
        .map(ToString::to_string)
        .chain(RegressorKind::ALL.iter().map(ToString::to_string))
    {
        if !words.contains(&name) {
            words.push(name);
        }
    }
    words
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
    fn patterns_match_whole_parts_in_order() {
        let cell: Cell = "capped/smote/gbm".parse().unwrap_or_else(|e| panic!("{e}"));
        let regressor: Cell = "regression/raw/none/gbm"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let pattern = |s: &str| s.parse::<CellPattern>().unwrap_or_else(|e| panic!("{e}"));
        assert!(pattern("gbm").matches(cell) && pattern("gbm").matches(regressor));
        assert!(pattern("capped/smote").matches(cell));
        assert!(!pattern("smote/capped").matches(cell));
        assert!(pattern("classification/capped/smote/gbm").matches(cell));
        assert!(!pattern("regression/capped").matches(cell));
        assert!(pattern("raw/none").matches(regressor));
        let typo = "raw/smoet".parse::<CellPattern>().unwrap_err();
        assert!(typo.starts_with("\"smoet\" is not a task, setup, strategy or model family: expected one of classification, regression, raw, capped, removed, none,"), "{typo}");
        assert!("ra".parse::<CellPattern>().is_err());
        assert!("".parse::<CellPattern>().is_err());
        assert_eq!(pattern("raw/none/gbm").to_string(), "raw/none/gbm");
    }

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

//! What a grid runs: its setups, strategies, families, filters, tuning and parameters.

use super::{Cell, CellPattern, TuneConfig};
use crate::features::{FeatureSet, OutlierSetup};
use crate::models::{ClassifierKind, RegressorKind};
use crate::sampling::Strategy;

/// What to run.
#[derive(Clone, Debug)]
pub struct GridConfig {
    /// Label threshold: popular means popularity > threshold.
    pub threshold: u8,
    /// Seed for resampling and models.
    pub seed: u64,
    /// Outlier setups to run.
    pub setups: Vec<OutlierSetup>,
    /// Imbalance strategies to run.
    pub strategies: Vec<Strategy>,
    /// Classifiers to run.
    pub classifiers: Vec<ClassifierKind>,
    /// Regressors to run (once per setup).
    pub regressors: Vec<RegressorKind>,
    /// Keep only the cells one of these patterns selects (all when empty).
    pub only: Vec<CellPattern>,
    /// Random search per family before the grid, or documented defaults.
    pub tune: Option<TuneConfig>,
    /// Feature columns.
    pub features: FeatureSet,
    /// Feature columns to leave out (by name), e.g. for an ablation.
    pub drop: Vec<String>,
    /// Parameter overrides `(family, key, value)`, applied to the defaults before tuning: a
    /// family name (`gbm`, `rf`) covers its classifier and its regressor.
    pub params: Vec<(String, String, String)>,
}

impl Default for GridConfig {
    fn default() -> Self {
        GridConfig {
            threshold: crate::data::DEFAULT_THRESHOLD,
            seed: 42,
            setups: OutlierSetup::ALL.to_vec(),
            strategies: Strategy::ALL.to_vec(),
            classifiers: ClassifierKind::ALL.to_vec(),
            regressors: RegressorKind::ALL.to_vec(),
            only: Vec::new(),
            tune: None,
            features: FeatureSet::default(),
            params: Vec::new(),
            drop: Vec::new(),
        }
    }
}

impl GridConfig {
    fn wants(&self, cell: Cell) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p.matches(cell))
    }

    /// The cells this configuration runs, in order.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &setup in &self.setups {
            for &strategy in &self.strategies {
                for &model in &self.classifiers {
                    cells.push(Cell::Classifier {
                        setup,
                        strategy,
                        model,
                    });
                }
            }
            for &model in &self.regressors {
                cells.push(Cell::Regressor { setup, model });
            }
        }
        cells.retain(|&c| self.wants(c));
        cells
    }
}

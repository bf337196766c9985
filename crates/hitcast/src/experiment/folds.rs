//! Results over several TEST folds: mean and standard deviation per cell, so configurations can
//! be compared against the fold-to-fold noise (docs/evaluation.md, "The protocol": under ~0.03 PR-AUC on one fold is
//! noise).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::results::{by_val, Figure, ResultRow, Results};
use super::Cell;
use crate::fsutil::write_atomic;
use crate::models::Task;
use crate::split::Protocol;

/// Mean and sample standard deviation of one metric over folds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Mean over the folds that have the metric.
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for one fold.
    pub sd: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Some(Spread { mean, sd })
    }
}

/// One cell's metrics over the folds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellSpread {
    /// `task/setup/strategy/model`.
    #[serde(serialize_with = "as_text")]
    pub cell: Cell,
    /// Folds the cell ran on.
    pub folds: usize,
    /// TEST ROC-AUC.
    pub roc_auc: Option<Spread>,
    /// TEST average precision.
    pub pr_auc: Option<Spread>,
    /// TEST F1 at the VAL threshold.
    pub f1: Option<Spread>,
    /// VAL average precision.
    pub val_pr_auc: Option<Spread>,
    /// VAL R².
    pub val_r2: Option<Spread>,
    /// TEST R².
    pub r2: Option<Spread>,
    /// TEST RMSE.
    pub rmse: Option<Spread>,
}

/// The folds' results and their per-cell summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldsSummary {
    /// Protocol of every fold.
    pub protocol: Protocol,
    /// The folds, in order.
    pub folds: Vec<u8>,
    /// One entry per cell: classifiers, then regressors, each best mean VAL figure first (the
    /// figure cells are chosen by: [`ResultRow::val_figure`]).
    pub cells: Vec<CellSpread>,
}

impl FoldsSummary {
    /// Summarises per-fold results (all of one protocol).
    pub fn new(results: &[Results]) -> FoldsSummary {
        // Keyed by name, so cells tied on VAL keep the order of their names.
        let mut by_cell: BTreeMap<String, (Cell, Vec<&ResultRow>)> = BTreeMap::new();
        for r in results {
            for row in &r.rows {
                let entry = by_cell.entry(row.cell.to_string());
                entry.or_insert_with(|| (row.cell, Vec::new())).1.push(row);
            }
        }
        let spread = |rows: &[&ResultRow], get: fn(&ResultRow) -> Option<f64>| {
            Spread::of(&rows.iter().filter_map(|r| get(r)).collect::<Vec<_>>())
        };
        let mut cells: Vec<(Task, Option<f64>, CellSpread)> = by_cell
            .into_iter()
            .map(|(_, (cell, rows))| {
                (
                    rows[0].task(),
                    spread(&rows, |r| Some(r.val_figure())).map(|s| s.mean),
                    CellSpread {
                        folds: rows.len(),
                        roc_auc: spread(&rows, |r| r.figure(Figure::RocAuc)),
                        pr_auc: spread(&rows, |r| r.figure(Figure::PrAuc)),
                        f1: spread(&rows, |r| r.figure(Figure::F1)),
                        val_pr_auc: spread(&rows, |r| r.figure(Figure::ValPrAuc)),
                        val_r2: spread(&rows, |r| r.figure(Figure::ValR2)),
                        r2: spread(&rows, |r| r.figure(Figure::R2)),
                        rmse: spread(&rows, |r| r.figure(Figure::Rmse)),
                        cell,
                    },
                )
            })
            .collect();
        // Classifiers first; within a task, the best VAL figure first.
        cells.sort_by(|(ta, va, _), (tb, vb, _)| {
            (*ta == Task::Regression)
                .cmp(&(*tb == Task::Regression))
                .then(by_val(vb.unwrap_or(f64::NAN), va.unwrap_or(f64::NAN)))
        });
        FoldsSummary {
            protocol: results.first().map_or(Protocol::Honest, |r| r.protocol),
            folds: results.iter().filter_map(|r| r.fold).collect(),
            cells: cells.into_iter().map(|(_, _, c)| c).collect(),
        }
    }

    /// A table per task, mean ± sd.
    pub fn to_markdown(&self) -> String {
        let pm = |s: Option<Spread>, digits: usize| {
            s.map_or_else(
                || "-".to_owned(),
                |s| format!("{:.digits$} ± {:.digits$}", s.mean, s.sd),
            )
        };
        let folds: Vec<String> = self.folds.iter().map(u8::to_string).collect();
        let mut md = format!(
            "# hitcast experiment over folds {} (protocol {})\n\nMean ± sample sd over the folds; each fold's \
             choices were made on its own VAL. Differences smaller than the sd are noise.\n\n",
            folds.join(", "),
            self.protocol
        );
        let _ = writeln!(
            md,
            "| classifier | folds | VAL PR-AUC | ROC-AUC | PR-AUC | F1 |"
        );
        let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|");
        for c in self
            .cells
            .iter()
            .filter(|c| c.cell.task() == Task::Classification)
        {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                c.cell.short(),
                c.folds,
                pm(c.val_pr_auc, 3),
                pm(c.roc_auc, 3),
                pm(c.pr_auc, 3),
                pm(c.f1, 3)
            );
        }
        let regressors: Vec<&CellSpread> = self
            .cells
            .iter()
            .filter(|c| c.cell.task() == Task::Regression)
            .collect();
        if !regressors.is_empty() {
            let _ = writeln!(md, "\n| regressor | folds | VAL R² | R² | RMSE |");
            let _ = writeln!(md, "|---|--:|--:|--:|--:|");
            for c in regressors {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    c.cell.short(),
                    c.folds,
                    pm(c.val_r2, 3),
                    pm(c.r2, 3),
                    pm(c.rmse, 2)
                );
            }
        }
        md
    }

    /// Writes `folds.json` and `folds.md` into `dir`, atomically.
    pub fn write_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomic(&dir.join("folds.json"), &json)?;
        write_atomic(&dir.join("folds.md"), self.to_markdown().as_bytes())
    }
}

/// A cell as its name, `task/setup/strategy/model`.
fn as_text<S: serde::Serializer>(cell: &Cell, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::results::{
        ClassifierFigures, Figures, RegressorFigures, NAN_CLASSIFIER, NAN_REGRESSOR,
    };

    fn fold(fold: u8, roc: f64, val: f64) -> Results {
        Results {
            protocol: Protocol::Honest,
            fold: Some(fold),
            seed: 42,
            threshold: 71,
            fit_rows: 0,
            val_rows: 0,
            test_rows: 0,
            test_positives: 0,
            positive_rate: 0.0,
            majority_accuracy: 0.0,
            features: 0,
            tuned: false,
            wall_seconds: 0.0,
            rows: vec![
                ResultRow::new(
                    "raw/none/gbm".parse().unwrap(),
                    Figures::Classifier(ClassifierFigures {
                        roc_auc: roc,
                        val_pr_auc: val,
                        ..NAN_CLASSIFIER
                    }),
                ),
                ResultRow::new(
                    "raw/none/logreg".parse().unwrap(),
                    Figures::Classifier(ClassifierFigures {
                        roc_auc: 0.8,
                        val_pr_auc: 0.1,
                        ..NAN_CLASSIFIER
                    }),
                ),
            ],
            headline: None,
        }
    }

    #[test]
    fn regressors_are_ranked_by_val_not_test() {
        let mut results = fold(0, 0.9, 0.3);
        results.rows = vec![
            ResultRow::new(
                "regression/raw/none/linear".parse().unwrap(),
                Figures::Regressor(RegressorFigures {
                    val_r2: 0.30,
                    r2: 0.40,
                    ..NAN_REGRESSOR
                }),
            ),
            ResultRow::new(
                "regression/raw/none/gbm".parse().unwrap(),
                Figures::Regressor(RegressorFigures {
                    val_r2: 0.35,
                    r2: 0.38,
                    ..NAN_REGRESSOR
                }),
            ),
        ];
        let s = FoldsSummary::new(&[results]);
        assert_eq!(s.cells[0].cell.to_string(), "regression/raw/none/gbm");
        assert!(
            s.to_markdown()
                .contains("| raw/none/gbm | 1 | 0.350 ± 0.000 | 0.380 ± 0.000 |"),
            "{}",
            s.to_markdown()
        );
    }

    #[test]
    fn mean_and_sample_sd_per_cell_ranked_by_val() {
        let s = FoldsSummary::new(&[fold(0, 0.90, 0.3), fold(1, 0.92, 0.2), fold(2, 0.94, 0.25)]);
        assert_eq!(s.folds, [0, 1, 2]);
        assert_eq!(s.cells[0].cell.to_string(), "classification/raw/none/gbm");
        let roc = s.cells[0].roc_auc.unwrap();
        // mean 0.92; deviations ±0.02 -> sd sqrt((0.0004 + 0 + 0.0004) / 2) = 0.02
        assert!(
            (roc.mean - 0.92).abs() < 1e-12 && (roc.sd - 0.02).abs() < 1e-12,
            "{roc:?}"
        );
        let constant = s.cells[1].roc_auc.unwrap();
        assert!(
            (constant.mean - 0.8).abs() < 1e-12 && constant.sd < 1e-12,
            "{constant:?}"
        );
        assert!(
            s.to_markdown()
                .contains("| raw/none/gbm | 3 | 0.250 ± 0.050 | 0.920 ± 0.020 |"),
            "{}",
            s.to_markdown()
        );
    }
}

//! Result records of a grid, and their three forms: `results.json` (everything),
//! `results.csv` (one row per cell) and `results.md` (tables for people).

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::headline::{figures, Headline, HeadlineFigures, EXPLANATION};
use super::Cell;
use crate::features::OutlierSetup;
use crate::fsutil::write_atomic;
use crate::models::{ClassifierKind, Task};
use crate::sampling::Strategy;
use crate::split::Protocol;

/// What a classifier cell measured: on TEST at the threshold VAL chose, and on VAL.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClassifierFigures {
    /// ROC-AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// F1 at the VAL threshold.
    pub f1: f64,
    /// Precision at the VAL threshold.
    pub precision: f64,
    /// Recall at the VAL threshold.
    pub recall: f64,
    /// Accuracy at the VAL threshold.
    pub accuracy: f64,
    /// Balanced accuracy at the VAL threshold.
    pub balanced_accuracy: f64,
    /// The decision threshold, chosen on VAL for the best F1.
    pub threshold: f64,
    /// Average precision on VAL: what model choice may use.
    pub val_pr_auc: f64,
    /// F1 on VAL at the chosen threshold.
    pub val_f1: f64,
}

/// What a score regressor cell measured: on TEST, and its R² on VAL.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RegressorFigures {
    /// R² of the score.
    pub r2: f64,
    /// RMSE of the score.
    pub rmse: f64,
    /// MAE of the score.
    pub mae: f64,
    /// R² on VAL: what model choice may use.
    pub val_r2: f64,
}

/// A classifier's figures, none measured: tests set the few they need.
#[cfg(test)]
pub(crate) const NAN_CLASSIFIER: ClassifierFigures = ClassifierFigures {
    roc_auc: f64::NAN,
    pr_auc: f64::NAN,
    f1: f64::NAN,
    precision: f64::NAN,
    recall: f64::NAN,
    accuracy: f64::NAN,
    balanced_accuracy: f64::NAN,
    threshold: f64::NAN,
    val_pr_auc: f64::NAN,
    val_f1: f64::NAN,
};

/// A score regressor's figures, none measured.
#[cfg(test)]
pub(crate) const NAN_REGRESSOR: RegressorFigures = RegressorFigures {
    r2: f64::NAN,
    rmse: f64::NAN,
    mae: f64::NAN,
    val_r2: f64::NAN,
};

/// A cell's figures, of its task.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figures {
    /// A classifier's.
    Classifier(ClassifierFigures),
    /// A score regressor's.
    Regressor(RegressorFigures),
}

/// One figure of a row by name, as the files name it: the columns of `results.csv` and the
/// fields of `results.json`, of one task or the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// [`ClassifierFigures::roc_auc`].
    RocAuc,
    /// [`ClassifierFigures::pr_auc`].
    PrAuc,
    /// [`ClassifierFigures::f1`].
    F1,
    /// [`ClassifierFigures::precision`].
    Precision,
    /// [`ClassifierFigures::recall`].
    Recall,
    /// [`ClassifierFigures::accuracy`].
    Accuracy,
    /// [`ClassifierFigures::balanced_accuracy`].
    BalancedAccuracy,
    /// [`ClassifierFigures::threshold`].
    Threshold,
    /// [`RegressorFigures::r2`].
    R2,
    /// [`RegressorFigures::rmse`].
    Rmse,
    /// [`RegressorFigures::mae`].
    Mae,
    /// [`ClassifierFigures::val_pr_auc`].
    ValPrAuc,
    /// [`ClassifierFigures::val_f1`].
    ValF1,
    /// [`RegressorFigures::val_r2`].
    ValR2,
}

impl Figure {
    /// Every figure, in the files' order.
    pub const ALL: [Figure; 14] = [
        Figure::RocAuc,
        Figure::PrAuc,
        Figure::F1,
        Figure::Precision,
        Figure::Recall,
        Figure::Accuracy,
        Figure::BalancedAccuracy,
        Figure::Threshold,
        Figure::R2,
        Figure::Rmse,
        Figure::Mae,
        Figure::ValPrAuc,
        Figure::ValF1,
        Figure::ValR2,
    ];

    /// Its name in the files.
    pub fn name(self) -> &'static str {
        match self {
            Figure::RocAuc => "roc_auc",
            Figure::PrAuc => "pr_auc",
            Figure::F1 => "f1",
            Figure::Precision => "precision",
            Figure::Recall => "recall",
            Figure::Accuracy => "accuracy",
            Figure::BalancedAccuracy => "balanced_accuracy",
            Figure::Threshold => "threshold",
            Figure::R2 => "r2",
            Figure::Rmse => "rmse",
            Figure::Mae => "mae",
            Figure::ValPrAuc => "val_pr_auc",
            Figure::ValF1 => "val_f1",
            Figure::ValR2 => "val_r2",
        }
    }
}

impl Figures {
    /// `figure`, when this task has it.
    pub fn get(&self, figure: Figure) -> Option<f64> {
        match (self, figure) {
            (Figures::Classifier(c), f) => match f {
                Figure::RocAuc => Some(c.roc_auc),
                Figure::PrAuc => Some(c.pr_auc),
                Figure::F1 => Some(c.f1),
                Figure::Precision => Some(c.precision),
                Figure::Recall => Some(c.recall),
                Figure::Accuracy => Some(c.accuracy),
                Figure::BalancedAccuracy => Some(c.balanced_accuracy),
                Figure::Threshold => Some(c.threshold),
                Figure::ValPrAuc => Some(c.val_pr_auc),
                Figure::ValF1 => Some(c.val_f1),
                Figure::R2 | Figure::Rmse | Figure::Mae | Figure::ValR2 => None,
            },
            (Figures::Regressor(r), f) => match f {
                Figure::R2 => Some(r.r2),
                Figure::Rmse => Some(r.rmse),
                Figure::Mae => Some(r.mae),
                Figure::ValR2 => Some(r.val_r2),
                _ => None,
            },
        }
    }
}

/// One grid cell's outcome. Figures are on TEST unless prefixed `val_`.
///
/// On disk (`results.json`) a row is flat: every figure's field is there, null where the
/// cell's task has no such figure, so files written before the figures were typed read as
/// they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "FlatRow", try_from = "FlatRow")]
pub struct ResultRow {
    /// The cell (`task`, `setup`, `strategy` and `model` in the file).
    pub cell: Cell,
    /// The model's parameters.
    pub params: serde_json::Value,
    /// What it measured, of its task.
    pub figures: Figures,
    /// Wall seconds to fit (resampling excluded). The grid fits the network beside the other
    /// families of its strategy, so those cells' seconds overlap: each family alone
    /// (`--only mlp`) gives its own time.
    pub fit_seconds: f64,
    /// Seconds to score TEST.
    pub predict_seconds: f64,
    /// Rows the model was fitted on, after outlier removal and resampling.
    pub rows_fit: usize,
    /// Boosting rounds kept by early stopping (boosted models only).
    pub rounds: Option<usize>,
    /// Seconds the cell's strategy took to resample FIT (once per setup and strategy, shared by
    /// its cells; none for regression).
    pub resample_seconds: Option<f64>,
}

/// [`ResultRow`] as `results.json` holds it.
#[derive(Serialize, Deserialize)]
struct FlatRow {
    #[serde(flatten)]
    cell: Cell,
    params: serde_json::Value,
    roc_auc: Option<f64>,
    pr_auc: Option<f64>,
    f1: Option<f64>,
    precision: Option<f64>,
    recall: Option<f64>,
    accuracy: Option<f64>,
    balanced_accuracy: Option<f64>,
    threshold: Option<f64>,
    r2: Option<f64>,
    rmse: Option<f64>,
    mae: Option<f64>,
    val_pr_auc: Option<f64>,
    val_f1: Option<f64>,
    val_r2: Option<f64>,
    fit_seconds: f64,
    predict_seconds: f64,
    rows_fit: usize,
    rounds: Option<usize>,
    #[serde(default)]
    resample_seconds: Option<f64>,
}

impl From<ResultRow> for FlatRow {
    fn from(r: ResultRow) -> FlatRow {
        let f = |figure| r.figures.get(figure);
        FlatRow {
            roc_auc: f(Figure::RocAuc),
            pr_auc: f(Figure::PrAuc),
            f1: f(Figure::F1),
            precision: f(Figure::Precision),
            recall: f(Figure::Recall),
            accuracy: f(Figure::Accuracy),
            balanced_accuracy: f(Figure::BalancedAccuracy),
            threshold: f(Figure::Threshold),
            r2: f(Figure::R2),
            rmse: f(Figure::Rmse),
            mae: f(Figure::Mae),
            val_pr_auc: f(Figure::ValPrAuc),
            val_f1: f(Figure::ValF1),
            val_r2: f(Figure::ValR2),
            cell: r.cell,
            params: r.params,
            fit_seconds: r.fit_seconds,
            predict_seconds: r.predict_seconds,
            rows_fit: r.rows_fit,
            rounds: r.rounds,
            resample_seconds: r.resample_seconds,
        }
    }
}

impl TryFrom<FlatRow> for ResultRow {
    type Error = String;

    /// The cell's task says which figures it has; each must be there (JSON writes a NaN as
    /// null, which reads back as NaN).
    fn try_from(f: FlatRow) -> Result<ResultRow, String> {
        let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let figures = match f.cell.task() {
            Task::Classification => {
                if f.roc_auc.is_none() && f.val_pr_auc.is_none() {
                    return Err(format!(
                        "{}: a classifier's row without its figures",
                        f.cell
                    ));
                }
                Figures::Classifier(ClassifierFigures {
                    roc_auc: v(f.roc_auc),
                    pr_auc: v(f.pr_auc),
                    f1: v(f.f1),
                    precision: v(f.precision),
                    recall: v(f.recall),
                    accuracy: v(f.accuracy),
                    balanced_accuracy: v(f.balanced_accuracy),
                    threshold: v(f.threshold),
                    val_pr_auc: v(f.val_pr_auc),
                    val_f1: v(f.val_f1),
                })
            }
            Task::Regression => {
                if f.r2.is_none() && f.val_r2.is_none() {
                    return Err(format!("{}: a regressor's row without its figures", f.cell));
                }
                Figures::Regressor(RegressorFigures {
                    r2: v(f.r2),
                    rmse: v(f.rmse),
                    mae: v(f.mae),
                    val_r2: v(f.val_r2),
                })
            }
        };
        Ok(ResultRow {
            cell: f.cell,
            params: f.params,
            figures,
            fit_seconds: f.fit_seconds,
            predict_seconds: f.predict_seconds,
            rows_fit: f.rows_fit,
            rounds: f.rounds,
            resample_seconds: f.resample_seconds,
        })
    }
}

impl ResultRow {
    /// A row of `cell` with `figures`, no parameters and no timings yet.
    pub fn new(cell: Cell, figures: Figures) -> ResultRow {
        ResultRow {
            cell,
            params: serde_json::Value::Null,
            figures,
            fit_seconds: 0.0,
            predict_seconds: 0.0,
            rows_fit: 0,
            rounds: None,
            resample_seconds: None,
        }
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.cell.task()
    }

    /// `figure`, when the cell's task has it.
    pub fn figure(&self, figure: Figure) -> Option<f64> {
        self.figures.get(figure)
    }

    /// A classifier's figures; `None` for a score regressor.
    pub fn classifier(&self) -> Option<&ClassifierFigures> {
        match &self.figures {
            Figures::Classifier(c) => Some(c),
            Figures::Regressor(_) => None,
        }
    }

    /// A score regressor's figures; `None` for a classifier.
    pub fn regressor(&self) -> Option<&RegressorFigures> {
        match &self.figures {
            Figures::Regressor(r) => Some(r),
            Figures::Classifier(_) => None,
        }
    }

    /// The VAL figure cells of its task are chosen by: average precision for a classifier, R²
    /// for a score regressor.
    pub fn val_figure(&self) -> f64 {
        match &self.figures {
            Figures::Classifier(c) => c.val_pr_auc,
            Figures::Regressor(r) => r.val_r2,
        }
    }
}

/// A whole grid's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Protocol of the split.
    pub protocol: Protocol,
    /// TEST fold (`None` for the reference protocol).
    pub fold: Option<u8>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Popular means popularity > threshold.
    pub threshold: u8,
    /// FIT rows before outlier removal and resampling.
    pub fit_rows: usize,
    /// VAL rows.
    pub val_rows: usize,
    /// TEST rows.
    pub test_rows: usize,
    /// Popular TEST rows.
    pub test_positives: usize,
    /// Share of popular TEST rows.
    pub positive_rate: f64,
    /// Accuracy of always answering "not popular" on TEST.
    pub majority_accuracy: f64,
    /// Feature columns.
    pub features: usize,
    /// Whether parameters were tuned on VAL.
    pub tuned: bool,
    /// Seconds for the whole grid.
    pub wall_seconds: f64,
    /// One row per cell.
    pub rows: Vec<ResultRow>,
    /// The seed project's headline reproduced under its own procedure, beside this run's figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<Headline>,
}

/// `results.csv`'s columns before the figures ([`Figure::ALL`]) and after them.
const CSV_CELL: [&str; 5] = ["task", "setup", "strategy", "model", "params"];
const CSV_TIMES: [&str; 6] = [
    "fit_seconds",
    "predict_seconds",
    "rows_fit",
    "rounds",
    "resample_seconds",
    "protocol",
];

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// VAL figures compared, a missing one (NaN) below any other.
pub(crate) fn by_val(a: f64, b: f64) -> std::cmp::Ordering {
    let key = |v: f64| if v.is_nan() { f64::MIN } else { v };
    key(a).total_cmp(&key(b))
}

/// A metric with `digits` decimals, or "-" where it does not apply.
pub(crate) fn fixed(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

impl Results {
    /// The classification rows, best VAL average precision first (ties keep the grid's order):
    /// the honest ranking, the one every table, the run's pick and the report show.
    pub fn ranked_by_val(&self) -> Vec<&ResultRow> {
        let mut ranked: Vec<&ResultRow> = self
            .rows
            .iter()
            .filter(|r| r.task() == Task::Classification)
            .collect();
        ranked.sort_by(|a, b| by_val(b.val_figure(), a.val_figure()));
        ranked
    }

    /// The classification row with the best VAL average precision: the honest pick.
    pub fn best_by_val(&self) -> Option<&ResultRow> {
        self.ranked_by_val().into_iter().next()
    }

    /// The regression row of `setup` with the best VAL R² (the saved model's score model reads
    /// the same feature pipeline as its classifier, so the setup is the classifier's).
    pub fn best_regressor_by_val(&self, setup: OutlierSetup) -> Option<&ResultRow> {
        self.rows
            .iter()
            .filter(|r| r.task() == Task::Regression && r.cell.setup() == setup)
            .fold(None, |best: Option<&ResultRow>, r| match best {
                Some(b) if by_val(r.val_figure(), b.val_figure()).is_le() => Some(b),
                _ => Some(r),
            })
    }

    /// The classifier the job trains: the best VAL PR-AUC ([`Results::best_by_val`]), when it
    /// has one (a grid whose every VAL figure is NaN chooses nothing).
    pub fn chosen_classifier(&self) -> Option<&ResultRow> {
        self.best_by_val().filter(|r| !r.val_figure().is_nan())
    }

    /// The score regressor the job trains beside [`Results::chosen_classifier`]: the best VAL
    /// R² on the classifier's setup, as one feature pipeline serves both. TEST plays no part.
    pub fn chosen_regressor(&self) -> Option<&ResultRow> {
        let setup = self.chosen_classifier()?.cell.setup();
        self.best_regressor_by_val(setup)
            .filter(|r| !r.val_figure().is_nan())
    }

    /// The cells the job trains from this grid, which its tables mark: none for a leaky
    /// protocol's, which is there for comparison only.
    pub fn chosen(&self) -> Vec<Cell> {
        if self.protocol.is_leaky() {
            return Vec::new();
        }
        [self.chosen_classifier(), self.chosen_regressor()]
            .into_iter()
            .flatten()
            .map(|r| r.cell)
            .collect()
    }

    /// Attaches the seed procedure's figures for `model` (from [`super::seed_headline`]),
    /// beside the same model's cell on raw data without resampling in this run (if the grid ran
    /// it).
    pub fn set_headline(&mut self, model: ClassifierKind, seed_procedure: HeadlineFigures) {
        let cell = Cell::Classifier {
            setup: OutlierSetup::Raw,
            strategy: Strategy::None,
            model,
        };
        let procedure = format!(
            "{} protocol{}: collapsed tracks, TEST artists unseen in training",
            self.protocol,
            self.fold
                .map_or_else(String::new, |f| format!(", fold {f}"))
        );
        let this_run = self.rows.iter().find(|r| r.cell == cell).and_then(|row| {
            Some(figures(
                &procedure,
                row.cell.to_string(),
                self.test_rows,
                self.positive_rate,
                row.classifier()?,
            ))
        });
        self.headline = Some(Headline {
            seed_procedure,
            this_run,
            explanation: EXPLANATION.to_owned(),
        });
    }

    fn headline_markdown(&self, md: &mut String) {
        let Some(h) = &self.headline else {
            return;
        };
        let _ = writeln!(
            md,
            "## The seed project's headline, reproduced

{}
",
            h.explanation
        );
        let _ = writeln!(
            md,
            "| procedure | cell | TEST rows | popular | accuracy | bal. acc. | ROC-AUC | PR-AUC | F1 |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        for f in std::iter::once(&h.seed_procedure).chain(&h.this_run) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.1}% | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                f.procedure,
                f.cell,
                f.test_rows,
                f.positive_rate * 100.0,
                f.accuracy,
                f.balanced_accuracy,
                f.roc_auc,
                f.pr_auc,
                f.f1
            );
        }
        md.push('\n');
    }

    /// The best TEST value of each classification metric and its row, for reading the tables
    /// (choosing by it would be choosing on TEST; [`Results::best_by_val`] is the pick).
    pub fn best_per_metric(&self) -> Vec<(&'static str, f64, &ResultRow)> {
        let metrics = [
            ("ROC-AUC", Figure::RocAuc),
            ("PR-AUC", Figure::PrAuc),
            ("F1", Figure::F1),
            ("precision", Figure::Precision),
            ("recall", Figure::Recall),
            ("accuracy", Figure::Accuracy),
            ("balanced accuracy", Figure::BalancedAccuracy),
        ];
        metrics
            .into_iter()
            .filter_map(|(name, figure)| {
                self.rows
                    .iter()
                    .filter_map(|r| r.figure(figure).map(|v| (v, r)))
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(v, r)| (name, v, r))
            })
            .collect()
    }

    /// The line under each table: what the numbers were measured on.
    fn caption(&self) -> String {
        let fold = self
            .fold
            .map_or_else(String::new, |f| format!(", fold {f}"));
        format!(
            "_Protocol {}{}{fold}; TEST {} tracks, {:.2}% popular; majority-class accuracy {:.3}._",
            self.protocol,
            if self.protocol.is_leaky() {
                " (leaky)"
            } else {
                ""
            },
            self.test_rows,
            self.positive_rate * 100.0,
            self.majority_accuracy
        )
    }

    /// One CSV row per cell.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = CSV_CELL
            .into_iter()
            .chain(Figure::ALL.map(Figure::name))
            .chain(CSV_TIMES);
        w.write_record(header)?;
        for r in &self.rows {
            let cell = [
                match r.task() {
                    Task::Classification => "classification".to_owned(),
                    Task::Regression => "regression".to_owned(),
                },
                r.cell.setup().to_string(),
                r.cell
                    .imbalance()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                r.cell.model_name().to_owned(),
                r.params.to_string(),
            ];
            let figures = Figure::ALL.map(|f| opt(r.figure(f)));
            let times = [
                format!("{:.3}", r.fit_seconds),
                format!("{:.4}", r.predict_seconds),
                r.rows_fit.to_string(),
                r.rounds.map(|n| n.to_string()).unwrap_or_default(),
                r.resample_seconds
                    .map(|s| format!("{s:.3}"))
                    .unwrap_or_default(),
                self.protocol.to_string(),
            ];
            w.write_record(cell.into_iter().chain(figures).chain(times))?;
        }
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }

    /// The tables for people: one per outlier setup, the regression table, and a summary.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let chosen = self.chosen();
        // The reference protocol has one random split, no fold.
        let split = self
            .fold
            .map_or_else(|| "Seed".to_owned(), |f| format!("Fold {f}, seed"));
        let leaky = if self.protocol.is_leaky() {
            " (LEAKY: the same tracks and artists are on both sides of the split; for comparison with published figures only)"
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "# hitcast experiment: protocol {}{leaky}\n",
            self.protocol
        );
        let _ = writeln!(
            md,
            "{split} {}, popular = popularity > {}. FIT {} rows, VAL {}, TEST {} with {} popular \
             (positive rate {:.2}%; always answering \"not popular\" scores accuracy {:.3}). {} features. \
             Thresholds chosen on VAL for the best F1; TEST only scored.{} Grid wall time {:.1} s.\n",
            self.seed,
            self.threshold,
            self.fit_rows,
            self.val_rows,
            self.test_rows,
            self.test_positives,
            self.positive_rate * 100.0,
            self.majority_accuracy,
            self.features,
            if self.tuned { " Parameters tuned on VAL." } else { " Default parameters." },
            self.wall_seconds,
        );
        for setup in OutlierSetup::ALL {
            let rows: Vec<&ResultRow> = self
                .rows
                .iter()
                .filter(|r| r.task() == Task::Classification && r.cell.setup() == setup)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(
                md,
                "## Classification, {setup} data\n\n{}\n",
                self.caption()
            );
            let _ = writeln!(md, "| strategy | model | ROC-AUC | PR-AUC | F1 | precision | recall | accuracy | bal. acc. | threshold | VAL PR-AUC | rows fit | fit s |");
            let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            for r in rows {
                let _ = writeln!(
                    md,
                    "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                    r.cell.strategy().name(),
                    r.cell.model_name(),
                    Self::chosen_mark(&chosen, r),
                    fixed(r.figure(Figure::RocAuc), 3),
                    fixed(r.figure(Figure::PrAuc), 3),
                    fixed(r.figure(Figure::F1), 3),
                    fixed(r.figure(Figure::Precision), 3),
                    fixed(r.figure(Figure::Recall), 3),
                    fixed(r.figure(Figure::Accuracy), 3),
                    fixed(r.figure(Figure::BalancedAccuracy), 3),
                    fixed(r.figure(Figure::Threshold), 3),
                    fixed(r.figure(Figure::ValPrAuc), 3),
                    r.rows_fit,
                    r.fit_seconds
                );
            }
            md.push('\n');
        }
        let regression: Vec<&ResultRow> = self
            .rows
            .iter()
            .filter(|r| r.task() == Task::Regression)
            .collect();
        if !regression.is_empty() {
            let _ = writeln!(
                md,
                "## Regression of the popularity score\n\n{}\n",
                self.caption()
            );
            let _ = writeln!(
                md,
                "| setup | model | R² | RMSE | MAE | VAL R² | rows fit | fit s |"
            );
            let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|");
            for r in regression {
                let _ = writeln!(
                    md,
                    "| {} | {}{} | {} | {} | {} | {} | {} | {:.2} |",
                    r.cell.setup(),
                    r.cell.model_name(),
                    Self::chosen_mark(&chosen, r),
                    fixed(r.figure(Figure::R2), 3),
                    fixed(r.figure(Figure::Rmse), 2),
                    fixed(r.figure(Figure::Mae), 2),
                    fixed(r.figure(Figure::ValR2), 3),
                    r.rows_fit,
                    r.fit_seconds
                );
            }
            md.push('\n');
        }
        self.summary_markdown(&mut md);
        self.headline_markdown(&mut md);
        md
    }

    /// After a chosen cell's model name in the tables.
    fn chosen_mark(chosen: &[Cell], row: &ResultRow) -> &'static str {
        if chosen.contains(&row.cell) {
            " **(chosen on VAL)**"
        } else {
            ""
        }
    }

    fn summary_markdown(&self, md: &mut String) {
        let classification: Vec<&ResultRow> = self
            .rows
            .iter()
            .filter(|r| r.task() == Task::Classification)
            .collect();
        if classification.is_empty() {
            return;
        }
        let _ = writeln!(md, "## Best per metric\n");
        if let Some(best) = self.best_by_val() {
            let _ = writeln!(
                md,
                "Chosen on VAL (best VAL PR-AUC {}): **{}**, with TEST ROC-AUC {}, PR-AUC {}, F1 {}.\n",
                fixed(best.figure(Figure::ValPrAuc), 3),
                best.cell,
                fixed(best.figure(Figure::RocAuc), 3),
                fixed(best.figure(Figure::PrAuc), 3),
                fixed(best.figure(Figure::F1), 3)
            );
        }
        let _ = writeln!(md, "The best TEST value of each metric, for reading the table (choosing by it would be choosing on TEST):\n");
        let _ = writeln!(md, "| metric | best | cell |");
        let _ = writeln!(md, "|---|--:|---|");
        for (name, value, best) in self.best_per_metric() {
            let _ = writeln!(md, "| {name} | {value:.3} | {} |", best.cell);
        }
        md.push('\n');
    }

    /// Writes `results.json`, `results.csv` and `results.md` into `dir` (created if needed),
    /// each atomically.
    pub fn write_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomic(&dir.join("results.json"), &json)?;
        let csv = self.to_csv().map_err(io::Error::other)?;
        write_atomic(&dir.join("results.csv"), &csv)?;
        write_atomic(&dir.join("results.md"), self.to_markdown().as_bytes())
    }
}

#[cfg(test)]
impl Results {
    /// A grid of `protocol` without rows, for tests: 100 FIT, 20 VAL and 30 TEST rows, 3 of them
    /// popular (the reference protocol has no fold).
    pub(crate) fn empty_for_tests(protocol: Protocol) -> Results {
        Results {
            protocol,
            fold: (protocol != Protocol::Reference).then_some(0),
            seed: 42,
            threshold: 71,
            fit_rows: 100,
            val_rows: 20,
            test_rows: 30,
            test_positives: 3,
            positive_rate: 0.1,
            majority_accuracy: 0.9,
            features: 16,
            tuned: false,
            wall_seconds: 1.5,
            rows: vec![],
            headline: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::results::{
        ClassifierFigures, Figures, RegressorFigures, NAN_CLASSIFIER, NAN_REGRESSOR,
    };

    fn cell(name: &str) -> Cell {
        name.parse().unwrap()
    }

    fn results() -> Results {
        Results {
            rows: vec![
                ResultRow::new(
                    cell("raw/smote/gbm"),
                    Figures::Classifier(ClassifierFigures {
                        roc_auc: 0.9,
                        pr_auc: 0.3,
                        val_pr_auc: 0.2,
                        f1: 0.25,
                        ..NAN_CLASSIFIER
                    }),
                ),
                ResultRow::new(
                    cell("raw/none/logreg"),
                    Figures::Classifier(ClassifierFigures {
                        roc_auc: 0.8,
                        pr_auc: 0.35,
                        val_pr_auc: 0.1,
                        ..NAN_CLASSIFIER
                    }),
                ),
                ResultRow::new(
                    cell("regression/raw/none/linear"),
                    Figures::Regressor(RegressorFigures {
                        r2: 0.12,
                        ..NAN_REGRESSOR
                    }),
                ),
            ],
            ..Results::empty_for_tests(Protocol::Honest)
        }
    }

    #[test]
    fn a_row_is_flat_on_disk_typed_in_memory_and_reads_files_as_they_were() {
        // As results.json has held rows since figures were optional: every field, null where
        // the task has none.
        let file = serde_json::json!({
            "task": "regression", "setup": "raw", "strategy": null, "model": "linear",
            "params": {}, "roc_auc": null, "pr_auc": null, "f1": null, "precision": null,
            "recall": null, "accuracy": null, "balanced_accuracy": null, "threshold": null,
            "r2": 0.12, "rmse": 15.5, "mae": 11.0, "val_pr_auc": null, "val_f1": null,
            "val_r2": 0.1, "fit_seconds": 1.0, "predict_seconds": 0.1, "rows_fit": 100,
            "rounds": null
        });
        let row: ResultRow = serde_json::from_value(file.clone()).unwrap();
        assert_eq!(
            row.regressor(),
            Some(&RegressorFigures {
                r2: 0.12,
                rmse: 15.5,
                mae: 11.0,
                val_r2: 0.1
            })
        );
        assert_eq!((row.classifier(), row.figure(Figure::RocAuc)), (None, None));
        assert_eq!(row.val_figure(), 0.1);
        let mut back = serde_json::to_value(&row).unwrap();
        back.as_object_mut().unwrap().remove("resample_seconds");
        assert_eq!(back, file);
        // A classifier's row needs its figures.
        let mut broken = file;
        broken["task"] = "classification".into();
        broken["strategy"] = "none".into();
        broken["model"] = "logreg".into();
        let e = serde_json::from_value::<ResultRow>(broken).unwrap_err();
        assert!(e.to_string().contains("without its figures"), "{e}");
    }

    #[test]
    fn the_headline_sits_beside_the_same_models_raw_cell_of_this_run() {
        let seed_procedure = HeadlineFigures {
            procedure: "seed procedure".into(),
            cell: "seed-procedure/raw/none/logreg".into(),
            test_rows: 10,
            positive_rate: 0.5,
            accuracy: 0.8,
            balanced_accuracy: 0.8,
            roc_auc: 0.85,
            pr_auc: 0.8,
            f1: 0.8,
        };
        let mut r = results();
        r.set_headline(ClassifierKind::Logreg, seed_procedure.clone());
        let h = r.headline.as_ref().unwrap();
        assert_eq!(h.seed_procedure, seed_procedure);
        let this_run = h.this_run.as_ref().unwrap();
        assert_eq!(this_run.cell, "classification/raw/none/logreg");
        assert_eq!((this_run.roc_auc, this_run.pr_auc), (0.8, 0.35));
        assert_eq!(this_run.positive_rate, 0.1);
        // A model the grid did not run on raw rows as they are: no figure of this run.
        r.set_headline(ClassifierKind::Stack, seed_procedure);
        assert!(r.headline.unwrap().this_run.is_none());
    }

    #[test]
    fn rankings_and_the_regressor_pick_use_val_only() {
        let mut r = results();
        let cells: Vec<String> = r
            .ranked_by_val()
            .iter()
            .map(|x| x.cell.to_string())
            .collect();
        assert_eq!(
            cells,
            [
                "classification/raw/smote/gbm",
                "classification/raw/none/logreg"
            ]
        );
        // Two regressors on raw, one on capped: the best VAL R² of the setup asked for, whatever
        // TEST says.
        let regressor = |name: &str, val_r2, r2| {
            ResultRow::new(
                cell(name),
                Figures::Regressor(RegressorFigures {
                    val_r2,
                    r2,
                    ..NAN_REGRESSOR
                }),
            )
        };
        r.rows.push(regressor("regression/raw/none/gbm", 0.4, 0.1));
        r.rows
            .push(regressor("regression/capped/none/rf", 0.9, 0.9));
        let pick = |setup| {
            r.best_regressor_by_val(setup)
                .map(|x| x.cell.model_name().to_owned())
        };
        assert_eq!(pick(OutlierSetup::Raw).as_deref(), Some("gbm"));
        assert_eq!(pick(OutlierSetup::Capped).as_deref(), Some("rf"));
        assert_eq!(pick(OutlierSetup::Removed), None);
    }

    #[test]
    fn the_tables_mark_the_two_cells_the_job_trains() {
        let regressor = |name: &str, val_r2| {
            ResultRow::new(
                cell(name),
                Figures::Regressor(RegressorFigures {
                    val_r2,
                    ..NAN_REGRESSOR
                }),
            )
        };
        let mut r = results();
        r.rows.push(regressor("regression/raw/none/gbm", 0.4));
        r.rows.push(regressor("regression/capped/none/rf", 0.9));
        assert_eq!(
            r.chosen_classifier().map(|x| x.cell),
            Some(cell("raw/smote/gbm"))
        );
        // The capped forest has the best VAL R² of all, but on another setup than the
        // classifier's.
        assert_eq!(
            r.chosen_regressor().map(|x| x.cell),
            Some(cell("regression/raw/none/gbm"))
        );
        let md = r.to_markdown();
        assert!(
            md.contains("| smote | gbm **(chosen on VAL)** | 0.900 |"),
            "{md}"
        );
        assert!(md.contains("| raw | gbm **(chosen on VAL)** |"), "{md}");
        assert_eq!(md.matches("(chosen on VAL)").count(), 2, "{md}");

        // The leaky reference grid is for comparison: the job trains nothing from it.
        let reference = Results {
            protocol: Protocol::Reference,
            ..r
        };
        assert!(reference.chosen().is_empty());
        assert!(!reference.to_markdown().contains("(chosen on VAL)"));

        // No VAL figure anywhere: nothing is chosen, nothing marked.
        let blind = Results {
            rows: vec![
                ResultRow::new(cell("raw/none/logreg"), Figures::Classifier(NAN_CLASSIFIER)),
                regressor("regression/raw/none/linear", f64::NAN),
            ],
            ..Results::empty_for_tests(Protocol::Honest)
        };
        assert!(blind.chosen_classifier().is_none() && blind.chosen_regressor().is_none());
        assert!(!blind.to_markdown().contains("(chosen on VAL)"));
    }

    #[test]
    fn the_pick_is_made_on_val_not_test() {
        // logreg has the better TEST PR-AUC, gbm the better VAL PR-AUC: gbm is chosen.
        assert_eq!(results().best_by_val().unwrap().cell, cell("raw/smote/gbm"));
        let md = results().to_markdown();
        assert!(
            md.contains("Chosen on VAL (best VAL PR-AUC 0.200): **classification/raw/smote/gbm**"),
            "{md}"
        );
        assert!(
            md.contains("| PR-AUC | 0.350 | classification/raw/none/logreg |"),
            "{md}"
        );
    }

    #[test]
    fn markdown_states_the_protocol_and_the_floor() {
        let md = results().to_markdown();
        assert!(md.starts_with("# hitcast experiment: protocol honest\n"));
        assert!(md.contains("TEST 30 with 3 popular (positive rate 10.00%; always answering \"not popular\" scores accuracy 0.900)"), "{md}");
        assert!(md.contains("## Classification, raw data\n\n_Protocol honest, fold 0; TEST 30 tracks, 10.00% popular; majority-class accuracy 0.900._\n"), "{md}");
        assert!(md.contains("| raw | linear | 0.120 |"), "{md}");
        assert!(
            md.contains("\nFold 0, seed 42, popular = popularity > 71."),
            "{md}"
        );
        let mut seed = results();
        seed.protocol = Protocol::Reference;
        seed.fold = None;
        let md = seed.to_markdown();
        assert!(md.contains("(LEAKY:"));
        assert!(md.contains("\nSeed 42, popular = popularity > 71."), "{md}");
    }

    #[test]
    fn json_has_the_documented_keys_and_round_trips() {
        let r = results();
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        for key in ["protocol", "fold", "test_rows", "positive_rate", "rows"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        let row = &v["rows"][2];
        for key in [
            "task",
            "setup",
            "strategy",
            "model",
            "roc_auc",
            "pr_auc",
            "f1",
            "precision",
            "recall",
            "accuracy",
            "r2",
            "rmse",
            "mae",
            "fit_seconds",
            "predict_seconds",
        ] {
            assert!(row.get(key).is_some(), "{key}");
        }
        assert_eq!(row["task"], "regression");
        assert_eq!(row["roc_auc"], serde_json::Value::Null);
        let back: Results = serde_json::from_value(v.clone()).unwrap();
        // Compared as JSON: the figures the fixture leaves unmeasured are NaN, unequal to
        // themselves, and null on disk.
        assert_eq!(serde_json::to_value(&back).unwrap(), v);
        assert_eq!(
            back.rows[0].figure(Figure::RocAuc),
            r.rows[0].figure(Figure::RocAuc)
        );
    }

    #[test]
    fn csv_has_one_row_per_cell() {
        let csv = String::from_utf8(results().to_csv().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("task,setup,strategy,model,params,roc_auc,pr_auc"));
        assert!(
            lines[3].starts_with("regression,raw,,linear,null,,,"),
            "{}",
            lines[3]
        );
    }
}

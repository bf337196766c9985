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

/// One grid cell's outcome. Metrics are on TEST unless prefixed `val_`; `None` where they do
/// not apply (classification metrics on a regressor and back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The cell (`task`, `setup`, `strategy` and `model` in the file).
    #[serde(flatten)]
    pub cell: Cell,
    /// The model's parameters.
    pub params: serde_json::Value,
    /// ROC-AUC.
    pub roc_auc: Option<f64>,
    /// Average precision.
    pub pr_auc: Option<f64>,
    /// F1 at the VAL threshold.
    pub f1: Option<f64>,
    /// Precision at the VAL threshold.
    pub precision: Option<f64>,
    /// Recall at the VAL threshold.
    pub recall: Option<f64>,
    /// Accuracy at the VAL threshold.
    pub accuracy: Option<f64>,
    /// Balanced accuracy at the VAL threshold.
    pub balanced_accuracy: Option<f64>,
    /// The decision threshold, chosen on VAL for the best F1.
    pub threshold: Option<f64>,
    /// R² of the score.
    pub r2: Option<f64>,
    /// RMSE of the score.
    pub rmse: Option<f64>,
    /// MAE of the score.
    pub mae: Option<f64>,
    /// Average precision on VAL: what model choice may use.
    pub val_pr_auc: Option<f64>,
    /// F1 on VAL at the chosen threshold.
    pub val_f1: Option<f64>,
    /// R² on VAL.
    pub val_r2: Option<f64>,
    /// Wall seconds to fit (resampling excluded). The grid fits the network beside the other
    /// families of its strategy, so those cells' seconds overlap: each family alone
    /// (`--only .../mlp`) gives its own time.
    pub fit_seconds: f64,
    /// Seconds to score TEST.
    pub predict_seconds: f64,
    /// Rows the model was fitted on, after outlier removal and resampling.
    pub rows_fit: usize,
    /// Boosting rounds kept by early stopping (boosted models only).
    pub rounds: Option<usize>,
    /// Seconds the cell's strategy took to resample FIT (once per setup and strategy, shared by
    /// its cells; none for regression).
    #[serde(default)]
    pub resample_seconds: Option<f64>,
}

impl ResultRow {
    /// A row of `cell` with no figures yet.
    pub fn new(cell: Cell) -> ResultRow {
        ResultRow {
            cell,
            params: serde_json::Value::Null,
            roc_auc: None,
            pr_auc: None,
            f1: None,
            precision: None,
            recall: None,
            accuracy: None,
            balanced_accuracy: None,
            threshold: None,
            r2: None,
            rmse: None,
            mae: None,
            val_pr_auc: None,
            val_f1: None,
            val_r2: None,
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

    /// The VAL figure cells of its task are chosen by: average precision for a classifier, R²
    /// for a score regressor.
    pub fn val_figure(&self) -> Option<f64> {
        match self.task() {
            Task::Classification => self.val_pr_auc,
            Task::Regression => self.val_r2,
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

const CSV_HEADER: [&str; 25] = [
    "task",
    "setup",
    "strategy",
    "model",
    "params",
    "roc_auc",
    "pr_auc",
    "f1",
    "precision",
    "recall",
    "accuracy",
    "balanced_accuracy",
    "threshold",
    "r2",
    "rmse",
    "mae",
    "val_pr_auc",
    "val_f1",
    "val_r2",
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

/// VAL figures compared, a missing one below any other.
pub(crate) fn by_val(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    a.unwrap_or(f64::MIN).total_cmp(&b.unwrap_or(f64::MIN))
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
        let this_run = self.rows.iter().find(|r| r.cell == cell).map(|row| {
            figures(
                &procedure,
                row.cell.to_string(),
                self.test_rows,
                self.positive_rate,
                row,
            )
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
        type Get = fn(&ResultRow) -> Option<f64>;
        let metrics: [(&str, Get); 7] = [
            ("ROC-AUC", |r| r.roc_auc),
            ("PR-AUC", |r| r.pr_auc),
            ("F1", |r| r.f1),
            ("precision", |r| r.precision),
            ("recall", |r| r.recall),
            ("accuracy", |r| r.accuracy),
            ("balanced accuracy", |r| r.balanced_accuracy),
        ];
        metrics
            .into_iter()
            .filter_map(|(name, get)| {
                self.rows
                    .iter()
                    .filter(|r| r.task() == Task::Classification)
                    .filter_map(|r| get(r).map(|v| (v, r)))
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
        w.write_record(CSV_HEADER)?;
        for r in &self.rows {
            w.write_record([
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
                opt(r.roc_auc),
                opt(r.pr_auc),
                opt(r.f1),
                opt(r.precision),
                opt(r.recall),
                opt(r.accuracy),
                opt(r.balanced_accuracy),
                opt(r.threshold),
                opt(r.r2),
                opt(r.rmse),
                opt(r.mae),
                opt(r.val_pr_auc),
                opt(r.val_f1),
                opt(r.val_r2),
                format!("{:.3}", r.fit_seconds),
                format!("{:.4}", r.predict_seconds),
                r.rows_fit.to_string(),
                r.rounds.map(|n| n.to_string()).unwrap_or_default(),
                r.resample_seconds
                    .map(|s| format!("{s:.3}"))
                    .unwrap_or_default(),
                self.protocol.to_string(),
            ])?;
        }
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }

    /// The tables for people: one per outlier setup, the regression table, and a summary.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let fold = self.fold.map_or("-".to_owned(), |f| f.to_string());
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
            "Fold {fold}, seed {}, popular = popularity > {}. FIT {} rows, VAL {}, TEST {} with {} popular \
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
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                    r.cell.strategy().name(),
                    r.cell.model_name(),
                    fixed(r.roc_auc, 3),
                    fixed(r.pr_auc, 3),
                    fixed(r.f1, 3),
                    fixed(r.precision, 3),
                    fixed(r.recall, 3),
                    fixed(r.accuracy, 3),
                    fixed(r.balanced_accuracy, 3),
                    fixed(r.threshold, 3),
                    fixed(r.val_pr_auc, 3),
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
                    "| {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                    r.cell.setup(),
                    r.cell.model_name(),
                    fixed(r.r2, 3),
                    fixed(r.rmse, 2),
                    fixed(r.mae, 2),
                    fixed(r.val_r2, 3),
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
                fixed(best.val_pr_auc, 3),
                best.cell,
                fixed(best.roc_auc, 3),
                fixed(best.pr_auc, 3),
                fixed(best.f1, 3)
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
mod tests {
    use super::*;

    fn cell(name: &str) -> Cell {
        name.parse().unwrap()
    }

    fn results() -> Results {
        Results {
            protocol: Protocol::Honest,
            fold: Some(0),
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
            rows: vec![
                ResultRow {
                    roc_auc: Some(0.9),
                    pr_auc: Some(0.3),
                    val_pr_auc: Some(0.2),
                    f1: Some(0.25),
                    ..ResultRow::new(cell("raw/smote/gbm"))
                },
                ResultRow {
                    roc_auc: Some(0.8),
                    pr_auc: Some(0.35),
                    val_pr_auc: Some(0.1),
                    ..ResultRow::new(cell("raw/none/logreg"))
                },
                ResultRow {
                    r2: Some(0.12),
                    ..ResultRow::new(cell("regression/raw/none/linear"))
                },
            ],
            headline: None,
        }
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
        let regressor = |name: &str, val_r2, r2| ResultRow {
            val_r2: Some(val_r2),
            r2: Some(r2),
            ..ResultRow::new(cell(name))
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
        let mut seed = results();
        seed.protocol = Protocol::Reference;
        assert!(seed.to_markdown().contains("(LEAKY:"));
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
        let back: Results = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
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

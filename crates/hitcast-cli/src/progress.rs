//! The grid's progress on stderr: a bar on a terminal, one plain line per cell in a pipe or CI,
//! nothing with -q.

use std::io::{IsTerminal, Write as _};
use std::time::Instant;

use hitcast::experiment::{Cell, Event, Figures};
use hitcast::models::{ClassifierKind, RegressorKind};
use hitcast::sampling::Strategy;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar on a terminal; one plain line per cell on stderr in a pipe or CI; nothing with -q.
/// Both say about how long is left, weighing the cells by what they cost.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    done: usize,
    total: usize,
    started: Instant,
    /// The cost of the cells finished (the bar's position).
    cost_done: f64,
    /// The cost of the cells started: a wave of cells reports its finished cells one by one
    /// after the last of them ends, so from its first report on, all of them are done.
    cost_started: f64,
    cost_total: f64,
}

/// A cell's expected fit seconds on the capped setup of a 2-core machine (from `bench/grid.py`:
/// resampled forests and boosters take several times their plain fits), so that the time left
/// is not estimated from a count of cells.
fn expected_cost(cell: Cell) -> f64 {
    // (plain FIT, FIT doubled by SMOTE or ADASYN); a regressor fits FIT as it is.
    let (plain, with_synthetic) = match cell {
        Cell::Classifier { model, .. } => match model {
            ClassifierKind::Logreg => (0.4, 0.8),
            ClassifierKind::Rf => (2.2, 7.5),
            ClassifierKind::Gbm => (2.5, 13.5),
            ClassifierKind::Mlp => (2.6, 3.3),
            ClassifierKind::Stack => (4.5, 9.5),
        },
        Cell::Regressor { model, .. } => match model {
            RegressorKind::Linear => (0.1, 0.1),
            RegressorKind::Rf => (2.5, 2.5),
            RegressorKind::Gbm => (2.2, 2.2),
            RegressorKind::Mlp => (3.0, 3.0),
        },
    };
    match cell.strategy() {
        Strategy::Undersample => 0.15 * plain,
        Strategy::Smote | Strategy::Adasyn => with_synthetic,
        Strategy::None | Strategy::Weights => plain,
    }
}

/// Cost units per bar step (the bar counts whole steps).
const STEPS: f64 = 100.0;

impl Progress {
    /// Progress that starts with the grid's [`Event::Planned`].
    pub fn new(quiet: bool) -> Progress {
        Progress {
            bar: None,
            quiet,
            done: 0,
            total: 0,
            started: Instant::now(),
            cost_done: 0.0,
            cost_started: 0.0,
            cost_total: 0.0,
        }
    }

    fn plan(&mut self, cells: &[Cell]) {
        self.done = 0;
        self.cost_done = 0.0;
        self.cost_started = 0.0;
        self.total = cells.len();
        self.cost_total = cells.iter().map(|&c| expected_cost(c)).sum();
        self.bar = (!self.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new((self.cost_total * STEPS) as u64);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        self.started = Instant::now();
    }

    /// "about 3:20 left", from the time so far and the cost of the cells started, once a cell
    /// has finished (cells start in waves, and a wave's first report comes when all of it is
    /// done: counting only the cells reported would price the whole wave's time on its first).
    fn left(&self) -> String {
        if self.cost_done <= 0.0 {
            return String::new();
        }
        let rate = self.started.elapsed().as_secs_f64() / self.cost_started;
        let left = (rate * (self.cost_total - self.cost_started))
            .max(0.0)
            .round() as u64;
        format!("; about {}:{:02} left", left / 60, left % 60)
    }

    /// Shows `event`.
    pub fn on(&mut self, event: Event) {
        match event {
            Event::Planned(cells) => self.plan(cells),
            Event::Trial(family, trial, score) => {
                let line = format!("tuning {family}: trial {trial}, VAL score {score:.4}");
                match &self.bar {
                    Some(bar) => bar.set_message(line),
                    None => self.line(&line),
                }
            }
            // Cells that run side by side start together, so the bar names the last.
            Event::Started(cell) => {
                self.cost_started += expected_cost(cell);
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "{}/{} {cell}{}",
                        self.done + 1,
                        self.total,
                        self.left()
                    ));
                }
            }
            Event::Finished(row) => {
                self.done += 1;
                let cost = expected_cost(row.cell);
                self.cost_done += cost;
                let score = match &row.figures {
                    Figures::Classifier(c) => format!(
                        "VAL PR-AUC {:.3}, TEST ROC-AUC {:.3}",
                        c.val_pr_auc, c.roc_auc
                    ),
                    Figures::Regressor(r) => format!("TEST R² {:.3}", r.r2),
                };
                match &self.bar {
                    Some(bar) => bar.inc((cost * STEPS) as u64),
                    None => self.line(&format!(
                        "[{}/{}] {} ({:.1} s): {score}{}",
                        self.done,
                        self.total,
                        row.cell,
                        row.fit_seconds,
                        self.left()
                    )),
                }
            }
        }
    }

    /// A line of its own (a fold, a step), on stderr unless quiet.
    pub fn line(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_time_left_weighs_cells_by_their_cost() {
        let cell = |s: &str| s.parse::<Cell>().unwrap();
        assert_eq!(expected_cost(cell("raw/none/logreg")), 0.4);
        assert_eq!(expected_cost(cell("capped/smote/stack")), 9.5);
        assert!((expected_cost(cell("raw/undersample/rf")) - 0.33).abs() < 1e-12);
        assert_eq!(expected_cost(cell("regression/raw/none/gbm")), 2.2);
        let cells = [
            cell("raw/none/logreg"),
            cell("raw/none/gbm"),
            cell("raw/none/stack"),
        ];
        let mut p = Progress::new(true);
        p.on(Event::Planned(&cells));
        assert_eq!(p.left(), "", "nothing done, nothing to estimate from");
        assert!((p.cost_total - 7.4).abs() < 1e-12);
        // The first wave (logistic regression and boosting, 2.9 s of cost) started together
        // and ran 5.8 s; the logistic regression is reported first. The stack's 4.5 s of cost
        // are left: about 9 s at the wave's rate (not 5.8 / 0.4 x 7 = 1:42).
        p.on(Event::Started(cells[0]));
        p.on(Event::Started(cells[1]));
        assert_eq!(p.left(), "", "started is not done");
        p.cost_done = 0.4;
        p.started -= Duration::from_millis(5800);
        assert_eq!(p.left(), "; about 0:09 left");
    }
}

//! The main job, in-process: what `hitcast run` and Python's `hitcast.run()` do.
//!
//! 1. explore the data, and beside it the grid under the reference protocol (leaky; for comparison);
//! 2. the grid under the honest protocol, keeping the fitted models of the cells VAL chose;
//! 3. train the classifier cell with the best VAL PR-AUC and the regressor with the best VAL R²
//!    on its outlier setup, taking those fitted models instead of fitting them again;
//! 4. the report: the model card, both grids and the EDA on one page.
//!
//! Everything is written to a hidden sibling of the output directory and swapped in at the end,
//! so a job that fails or is interrupted leaves the previous results as they were.
//!
//! ```text
//! OUT/eda/          index.html, eda.json
//! OUT/grid/         results.md, .csv, .json (the honest grid)
//! OUT/grid-reference/    the same for the reference protocol's grid
//! OUT/model.hitcast the saved model
//! OUT/report/       index.html, report.json, the app's page parts
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::artifact::{ArtifactError, Metadata};
use crate::data::{summarize, DataSummary, Loaded, Tracks, DEFAULT_THRESHOLD};
use crate::eda::{analyse, Eda};
use crate::experiment::{
    classifier_spec, default_features, regressor_spec, run, run_keeping_fits, seed_headline, Cell,
    CellPattern, Event, ExperimentError, GridConfig, ResultRow, Results,
};
use crate::features::OutlierSetup;
use crate::fsutil::{replace_dir, sibling};
use crate::models::{ClassifierKind, RegressorKind};
use crate::predictor::Predictor;
use crate::render;
use crate::report::{model_card_of, write_page, write_report, Report, ReportError};
use crate::sampling::Strategy;
use crate::split::{Protocol, Split, SplitError};
use crate::training::{train_reusing, TrainConfig};

/// What the job runs.
#[derive(Clone, Debug)]
pub struct JobConfig {
    /// A reduced grid for a first look (about ten seconds): the raw setup, logistic regression
    /// without and with undersampling, and gradient boosting at [`QUICK_PARAMS`]; no network,
    /// no stack, no seed headline.
    pub quick: bool,
    /// The seed of every random choice.
    pub seed: u64,
    /// A track is popular when its popularity is above this.
    pub threshold: u8,
}

impl JobConfig {
    /// Where the job writes when no folder is given: `runs/latest`, or `runs/quick` for the
    /// reduced grid, so that a first look does not replace a full run's results.
    pub fn default_out(&self) -> &'static str {
        if self.quick {
            "runs/quick"
        } else {
            "runs/latest"
        }
    }
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            quick: false,
            seed: 42,
            threshold: DEFAULT_THRESHOLD,
        }
    }
}

/// A classifier cell on raw rows.
const fn raw(strategy: Strategy, model: ClassifierKind) -> Cell {
    Cell::Classifier {
        setup: OutlierSetup::Raw,
        strategy,
        model,
    }
}

/// A score regressor cell on raw rows.
const fn raw_score(model: RegressorKind) -> Cell {
    Cell::Regressor {
        setup: OutlierSetup::Raw,
        model,
    }
}

/// The honest grid's cells under `quick`.
const QUICK_CELLS: [Cell; 5] = [
    raw(Strategy::None, ClassifierKind::Logreg),
    raw(Strategy::None, ClassifierKind::Gbm),
    raw(Strategy::Undersample, ClassifierKind::Logreg),
    raw_score(RegressorKind::Linear),
    raw_score(RegressorKind::Gbm),
];
/// The reference protocol's cells under `quick`: the honest grid's logistic regressions, for the
/// leakage comparison (boosting on its 114,000 raw rows would be the slowest step).
const QUICK_REFERENCE_CELLS: [Cell; 3] = [
    raw(Strategy::None, ClassifierKind::Logreg),
    raw(Strategy::Undersample, ClassifierKind::Logreg),
    raw_score(RegressorKind::Linear),
];
/// Under `quick`, boosting's settings in the grid and in training alike (so training takes the
/// grid's fits): twice the default learning rate and half its patience.
pub const QUICK_PARAMS: [(&str, &str, &str); 2] = [
    ("gbm", "learning_rate", "0.1"),
    ("gbm", "early_stopping_rounds", "25"),
];

/// The job's steps, in order.
pub const STEPS: [&str; 5] = [
    "explore the data",
    "the grid, reference protocol (leaky; for comparison)",
    "the grid, honest protocol",
    "train the model chosen on VAL",
    "the report",
];

/// What the job reports as it goes.
#[derive(Debug)]
pub enum JobEvent<'a> {
    /// Steps of [`STEPS`] start, side by side.
    Started {
        /// The first step's index in [`STEPS`].
        first: usize,
        /// How many start.
        count: usize,
    },
    /// A grid's progress: the reference protocol's, then the honest one's.
    Grid(Protocol, Event<'a>),
    /// The cells chosen on VAL, which the training step fits (or takes from the grid) with
    /// the companion models.
    Chosen {
        /// The classifier's cell.
        classifier: Cell,
        /// The score regressor's cell.
        regressor: Cell,
    },
    /// The steps last started have all ended.
    Finished {
        /// Since they started.
        elapsed: Duration,
    },
}

/// What the job made, once it is in place.
#[derive(Debug)]
pub struct JobOutcome {
    /// The directory everything is in.
    pub out: PathBuf,
    /// The honest grid.
    pub results: Results,
    /// The reference protocol's grid.
    pub reference_results: Results,
    /// The classifier cell chosen on VAL.
    pub classifier: Cell,
    /// The regressor cell chosen on VAL, on the classifier's outlier setup.
    pub regressor: Cell,
    /// What the saved model says about itself, TEST figures included.
    pub metadata: Metadata,
    /// The grid's fitted models that training took instead of fitting them again.
    pub reused: Vec<Cell>,
    /// The whole job's time.
    pub elapsed: Duration,
}

impl JobOutcome {
    /// The saved model.
    pub fn model_path(&self) -> PathBuf {
        self.out.join(MODEL_FILE)
    }
}

/// The model's file name in the output directory.
pub const MODEL_FILE: &str = "model.hitcast";

/// Why the job stopped. Nothing of it is left in the output directory.
#[derive(Debug, Error)]
pub enum JobError {
    /// The data has no popularity column.
    #[error("the data has no popularity column to learn from")]
    Unlabelled,
    /// The protocol could not split the data.
    #[error("cannot split the data")]
    Split(#[from] SplitError),
    /// A grid or the training failed.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// The grid holds no cell of a task to choose.
    #[error("the grid has no {0} result to choose from")]
    NothingToChoose(&'static str),
    /// The trained model did not pass the checks of a model file.
    #[error("the trained model")]
    Artifact(#[from] ArtifactError),
    /// The model's card could not be made.
    #[error("the report")]
    Report(#[from] ReportError),
    /// `out` holds something the job's results would replace: a file, or files that are
    /// not an earlier run's.
    #[error("{}: {what}; the job replaces the folder it writes to whole: give a new or empty folder, or an earlier run's", path.display())]
    Occupied {
        /// The folder asked for.
        path: PathBuf,
        /// What is there.
        what: &'static str,
    },
    /// A file or directory could not be written.
    #[error("{}: cannot write", path.display())]
    Write {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> JobError + '_ {
    move |source| JobError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Runs the job on `loaded` (the data file `data_sha256` hashes) and puts its files in `out`,
/// replacing what was there.
pub fn run_job(
    loaded: Loaded,
    data_sha256: &str,
    config: &JobConfig,
    out: &Path,
    on_event: &mut dyn FnMut(JobEvent),
) -> Result<JobOutcome, JobError> {
    let started = Instant::now();
    check_out(out)?;
    let work = sibling(out, &format!("job-{}", std::process::id())).map_err(write_error(out))?;
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(write_error(&work))?;
    let made = steps(loaded, data_sha256, config, (&work, out), on_event);
    let mut outcome = match made {
        Ok(outcome) => outcome,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(e);
        }
    };
    replace_dir(&work, out).map_err(write_error(out))?;
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// What a run writes in its folder: a folder holding only these is an earlier run's.
const RUN_ENTRIES: [&str; 5] = ["eda", "grid", "grid-reference", MODEL_FILE, "report"];

/// Refuses an `out` whose contents the finished job could not replace without loss: a file, a
/// folder holding anything a run does not write (a typo such as `--out ~` must not empty a
/// home directory, nor `--out .` the data's folder), or a path that does not end in a name.
/// [`run_job`] checks it; callers may check first, to refuse before reading the data.
pub fn check_out(out: &Path) -> Result<(), JobError> {
    let occupied = |what| JobError::Occupied {
        path: out.to_owned(),
        what,
    };
    if !matches!(
        out.components().next_back(),
        Some(std::path::Component::Normal(_))
    ) || out.to_string_lossy().ends_with("/.")
    {
        return Err(occupied("not a folder's name"));
    }
    if out.is_file() {
        return Err(occupied("a file"));
    }
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(write_error(out)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(write_error(out))?;
        if !RUN_ENTRIES.iter().any(|&name| entry.file_name() == name) {
            return Err(occupied("a folder with files of its own"));
        }
    }
    Ok(())
}

/// The steps, into `work`; `out` is where `work` goes once they all succeed.
fn steps(
    loaded: Loaded,
    data_sha256: &str,
    config: &JobConfig,
    (work, out): (&Path, &Path),
    on_event: &mut dyn FnMut(JobEvent),
) -> Result<JobOutcome, JobError> {
    let threshold = config.threshold;
    // The reference protocol's table (one row per raw row) serves its grid and the headline.
    let raw = Tracks::one_per_row(loaded.rows.clone());
    let (summary, tracks) = summarize(loaded, threshold);
    let labels = tracks.labels(threshold).ok_or(JobError::Unlabelled)?;

    let mut phase = Phase::start(0, 2, on_event);
    let (eda, reference_results) =
        explore_beside_reference(summary, &tracks, &raw, config, work, &mut phase)?;
    write_results(&reference_results, &work.join("grid-reference"))?;
    phase.finish();

    let mut phase = Phase::start(2, 1, on_event);
    let split = Split::new(&tracks, &labels, Protocol::Honest, 0, config.seed)?;
    let grid = grid_config(config, Protocol::Honest);
    let (mut results, fits) = {
        let mut grid_event = |e: Event| phase.on_event(JobEvent::Grid(Protocol::Honest, e));
        run_keeping_fits(&tracks, &split, &grid, &mut grid_event)?
    };
    if !config.quick {
        let figures = seed_headline(&raw, threshold, ClassifierKind::Stack, config.seed)?;
        results.set_headline(ClassifierKind::Stack, figures);
    }
    write_results(&results, &work.join("grid"))?;
    phase.finish();

    let mut phase = Phase::start(3, 1, on_event);
    let (classifier, regressor) = choose(&results)?;
    let (classifier, regressor) = (classifier.cell, regressor.cell);
    phase.on_event(JobEvent::Chosen {
        classifier,
        regressor,
    });
    let train = train_config(classifier, regressor, &grid, config)?;
    let (artifact, reused) = train_reusing(&tracks, &split, &train, data_sha256.to_owned(), &fits)?;
    artifact.save(&work.join(MODEL_FILE))?;
    phase.finish();

    let phase = Phase::start(4, 1, on_event);
    let predictor = Predictor::new(artifact)?;
    let report = Report {
        eda,
        experiments: vec![results.clone(), reference_results.clone()],
        model: Some(model_card_of(
            &predictor,
            &tracks,
            &split.test,
            data_sha256,
        )?),
    };
    let report_dir = work.join("report");
    write_report(&report_dir, &report).map_err(write_error(&report_dir))?;
    phase.finish();

    Ok(JobOutcome {
        out: out.to_owned(),
        results,
        reference_results,
        classifier,
        regressor,
        metadata: predictor.metadata().clone(),
        reused,
        // Set once the files are in place.
        elapsed: Duration::ZERO,
    })
}

/// The EDA, written to `work/eda`, computed beside the reference protocol's grid on `raw` (it
/// takes a second or two on one core).
fn explore_beside_reference(
    summary: DataSummary,
    tracks: &Tracks,
    raw: &Tracks,
    config: &JobConfig,
    work: &Path,
    phase: &mut Phase,
) -> Result<(Eda, Results), JobError> {
    let threshold = config.threshold;
    let raw_labels = raw.labels(threshold).ok_or(JobError::Unlabelled)?;
    let eda_dir = work.join("eda");
    std::thread::scope(|scope| {
        let explore = scope.spawn(|| {
            let eda = analyse(summary, Protocol::Honest, tracks, threshold);
            let json = serde_json::to_vec_pretty(&eda).map_err(io::Error::other)?;
            write_page(&eda_dir, "eda.json", &json, &render::eda::page_of(&eda))?;
            Ok::<_, io::Error>(eda)
        });
        let reference = Split::new(raw, &raw_labels, Protocol::Reference, 0, config.seed)
            .map_err(JobError::from)
            .and_then(|split| {
                let mut grid = |e: Event| phase.on_event(JobEvent::Grid(Protocol::Reference, e));
                let grid_config = grid_config(config, Protocol::Reference);
                Ok(run(raw, &split, &grid_config, &mut grid)?)
            });
        let eda = match explore.join() {
            Ok(eda) => eda.map_err(write_error(&eda_dir))?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Ok((eda, reference?))
    })
}

/// The grid's cells and settings under `protocol`.
fn grid_config(config: &JobConfig, protocol: Protocol) -> GridConfig {
    let grid = GridConfig {
        threshold: config.threshold,
        seed: config.seed,
        features: default_features(protocol),
        params: quick_params(config.quick),
        ..GridConfig::default()
    };
    match (config.quick, protocol) {
        // The reference protocol's cells in a full job: the five classifiers on raw rows, as
        // they are and undersampled (the reference project's own choice). It is there for
        // comparison, and its 114,000 raw rows would make the whole grid take longer than the
        // honest one.
        (false, Protocol::Reference) => GridConfig {
            setups: vec![OutlierSetup::Raw],
            strategies: vec![Strategy::None, Strategy::Undersample],
            regressors: Vec::new(),
            ..grid
        },
        (false, _) => grid,
        (true, protocol) => {
            let cells: &[Cell] = if protocol == Protocol::Reference {
                &QUICK_REFERENCE_CELLS
            } else {
                &QUICK_CELLS
            };
            GridConfig {
                only: cells.iter().copied().map(CellPattern::from).collect(),
                ..grid
            }
        }
    }
}

/// Training's settings for the chosen cells, with the grid's parameters, so that training finds
/// the grid's fits.
fn train_config(
    classifier: Cell,
    regressor: Cell,
    grid: &GridConfig,
    config: &JobConfig,
) -> Result<TrainConfig, JobError> {
    let (
        Cell::Classifier {
            setup,
            strategy,
            model,
        },
        Cell::Regressor {
            model: regressor, ..
        },
    ) = (classifier, regressor)
    else {
        return Err(JobError::NothingToChoose("classification"));
    };
    Ok(TrainConfig {
        classifier: classifier_spec(model, strategy, &grid.params)?,
        regressor: regressor_spec(regressor, &grid.params)?,
        strategy,
        setup,
        features: grid.features,
        threshold: config.threshold,
        seed: config.seed,
        tune: None,
        coverage: crate::distribution::DEFAULT_COVERAGE,
    })
}

/// [`QUICK_PARAMS`] under `quick`, else none.
fn quick_params(quick: bool) -> Vec<(String, String, String)> {
    if !quick {
        return Vec::new();
    }
    QUICK_PARAMS
        .iter()
        .map(|(f, k, v)| ((*f).to_owned(), (*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn write_results(results: &Results, dir: &Path) -> Result<(), JobError> {
    results.write_dir(dir).map_err(write_error(dir))
}

/// The cells to train ([`Results::chosen_classifier`], [`Results::chosen_regressor`]), or why
/// the grid chose none.
pub fn choose(results: &Results) -> Result<(&ResultRow, &ResultRow), JobError> {
    let chosen = results
        .chosen_classifier()
        .ok_or(JobError::NothingToChoose("classification"))?;
    let regressor = results
        .chosen_regressor()
        .ok_or(JobError::NothingToChoose("regression on the chosen setup"))?;
    Ok((chosen, regressor))
}

/// A phase of the job: steps that run side by side, and the events they send.
struct Phase<'e, 'f> {
    on_event: &'e mut (dyn FnMut(JobEvent) + 'f),
    started: Instant,
}

impl<'e, 'f> Phase<'e, 'f> {
    fn start(first: usize, count: usize, on_event: &'e mut (dyn FnMut(JobEvent) + 'f)) -> Self {
        on_event(JobEvent::Started { first, count });
        Phase {
            on_event,
            started: Instant::now(),
        }
    }

    fn on_event(&mut self, event: JobEvent) {
        (self.on_event)(event);
    }

    fn finish(self) {
        (self.on_event)(JobEvent::Finished {
            elapsed: self.started.elapsed(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_s_grids_hold_the_cells_they_say() {
        let cells = |quick, protocol| {
            let config = JobConfig {
                quick,
                ..JobConfig::default()
            };
            grid_config(&config, protocol).cells()
        };
        // The five classifiers, as they are and undersampled, on raw rows.
        let reference = cells(false, Protocol::Reference);
        assert_eq!(reference.len(), 10);
        assert!(reference.iter().all(|c| c.setup() == OutlierSetup::Raw
            && matches!(c.imbalance(), Some(Strategy::None | Strategy::Undersample))));
        assert_eq!(cells(true, Protocol::Reference), QUICK_REFERENCE_CELLS);
        let mut quick = cells(true, Protocol::Honest);
        let mut expected = QUICK_CELLS.to_vec();
        let order = |c: &Cell| c.to_string();
        quick.sort_by_key(order);
        expected.sort_by_key(order);
        assert_eq!(quick, expected);
        // Every cell: 3 setups x (5 strategies x 5 classifiers + 4 regressors).
        assert_eq!(cells(false, Protocol::Honest).len(), 87);
    }
}

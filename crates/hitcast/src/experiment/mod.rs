//! The experiment grid: every outlier setup x imbalance strategy x classifier, and the regression
//! suite, under one protocol and fold, with results that never let TEST choose anything.
//!
//! Per setup the feature pipeline is fitted on FIT; per strategy FIT is resampled once and shared
//! by the classifiers; VAL drives early stopping and picks the F1 threshold; TEST is only scored.

mod cell;
mod fits;
mod folds;
mod headline;
mod results;
mod tune;

pub use cell::Cell;
pub use fits::{ChosenFits, FitsError, Kept};
pub use folds::{CellSpread, FoldsSummary, Spread};
pub use headline::{seed_headline, seed_procedure_split, Headline, HeadlineFigures, EXPLANATION};
pub(crate) use results::fixed;
pub use results::{ResultRow, Results, TaskKind};
pub use tune::{search_space_doc, TuneConfig};
pub(crate) use tune::{tune_classifier, tune_regressor};

use std::time::Instant;

use crate::data::Tracks;
use crate::features::{
    select, FeatureError, FeatureMatrix, FeaturePipeline, FeatureSet, OutlierSetup, PipelineParams,
};
use crate::metrics::{
    average_precision, best_f1_threshold, ClassificationMetrics, MetricError, RegressionMetrics,
};
use crate::models::side_by_side;
use crate::models::{
    Classifier, ClassifierKind, FittedClassifier, ModelError, ModelSpec, Regressor, RegressorKind,
    TrainSet,
};
use crate::sampling::{resample, Resampled, SamplingError, Strategy};
use crate::split::{Protocol, Split, SplitError};

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
    /// Keep only cells whose `task/setup/strategy/model` name contains one of these.
    pub only: Vec<String>,
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
    fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| name.contains(p.as_str()))
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
        cells.retain(|c| self.wants(&c.to_string()));
        cells
    }
}

/// Why an experiment stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The split could not be made.
    #[error("cannot split the data")]
    Split(#[from] SplitError),
    /// The feature pipeline could not be fitted.
    #[error("cannot fit the feature pipeline")]
    Features(#[from] FeatureError),
    /// A model failed.
    #[error("{cell}: model failed")]
    Model {
        /// The grid cell.
        cell: String,
        /// The reason.
        #[source]
        source: ModelError,
    },
    /// Resampling failed.
    #[error("{cell}: resampling failed")]
    Sampling {
        /// The grid cell.
        cell: String,
        /// The reason.
        #[source]
        source: SamplingError,
    },
    /// A metric was undefined (one class in VAL or TEST).
    #[error("{cell}: cannot evaluate")]
    Metric {
        /// The grid cell.
        cell: String,
        /// The reason.
        #[source]
        source: MetricError,
    },
    /// The score's range could not be fitted.
    #[error("cannot fit the score's range")]
    Interval(#[from] crate::distribution::IntervalError),
    /// The data has no popularity column.
    #[error("the data has no popularity column to learn from")]
    Unlabelled,
    /// The known-artist feature set belongs to the known-artist protocol.
    #[error(
        "the known-artist feature set (artist history) goes with the known-artist protocol only: \
         under protocol {0} TEST artists have no FIT history, so the columns would mean something \
         else in training than in testing"
    )]
    FeaturesForProtocol(Protocol),
    /// `--drop` named a column the feature set does not have.
    #[error("unknown feature {0:?} in --drop")]
    UnknownFeature(String),
    /// `--param` named a family that does not exist.
    #[error(
        "unknown model family {0:?} in --param: expected logreg, linear, rf, gbm, mlp or stack"
    )]
    UnknownFamily(String),
    /// `--only` matched nothing.
    #[error("no grid cell matches --only {0:?}")]
    NothingSelected(Vec<String>),
}

impl ExperimentError {
    /// Wraps a model failure of `cell` (for `map_err`).
    pub(crate) fn model(cell: &str) -> impl Fn(ModelError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Model {
            cell: cell.to_owned(),
            source,
        }
    }

    /// Wraps an undefined metric of `cell` (for `map_err`).
    pub(crate) fn metric(cell: &str) -> impl Fn(MetricError) -> ExperimentError + Copy + '_ {
        move |source| ExperimentError::Metric {
            cell: cell.to_owned(),
            source,
        }
    }
}

/// Progress reports while the grid runs.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// The number of cells about to run.
    Planned(usize),
    /// A tuning trial finished: family, trial number, VAL score.
    Trial(&'a str, usize, f64),
    /// A cell is starting.
    Started(Cell),
    /// A cell finished, with its result.
    Finished(&'a ResultRow),
}

/// The features a protocol uses unless told otherwise: extended, plus the artist history under
/// the known-artist protocol (the only one where TEST artists have FIT tracks).
pub fn default_features(protocol: Protocol) -> FeatureSet {
    match protocol {
        Protocol::KnownArtist => FeatureSet::KnownArtist,
        Protocol::Honest | Protocol::Seed | Protocol::GenreHoldout => FeatureSet::Extended,
    }
}

/// Every track's label and popularity score (as f64), or an error for an unlabelled table.
pub(crate) fn targets(
    tracks: &Tracks,
    threshold: u8,
) -> Result<(Vec<bool>, Vec<f64>), ExperimentError> {
    let labels = tracks
        .labels(threshold)
        .ok_or(ExperimentError::Unlabelled)?;
    let popularity = tracks.popularity().ok_or(ExperimentError::Unlabelled)?;
    Ok((labels, popularity.into_iter().map(f64::from).collect()))
}

/// The data of one setup: the fitted pipeline and transformed FIT (kept rows), VAL and TEST, as
/// every grid cell of that setup reads them (`hitcast data split --export` writes them out for
/// other tools to fit on the same rows).
pub struct Prepared {
    /// The feature pipeline fitted on FIT.
    pub pipeline: FeaturePipeline,
    /// FIT rows kept by the setup, transformed.
    pub fit_x: FeatureMatrix,
    /// Their labels, 0/1.
    pub fit_y: Vec<f64>,
    /// Their popularity.
    pub fit_score: Vec<f64>,
    /// The protocol's group key of each FIT row (for grouped folds inside FIT).
    pub fit_groups: Vec<u64>,
    /// VAL, transformed.
    pub val_x: FeatureMatrix,
    /// VAL labels, 0/1.
    pub val_y: Vec<f64>,
    /// VAL popularity.
    pub val_score: Vec<f64>,
    /// TEST, transformed.
    pub test_x: FeatureMatrix,
    /// TEST labels.
    pub test_labels: Vec<bool>,
    /// TEST popularity.
    pub test_score: Vec<f64>,
}

/// Fits the pipeline of `setup` on FIT and transforms FIT (the rows the setup keeps), VAL and
/// TEST, leaving out the `drop` columns.
pub fn prepare(
    tracks: &Tracks,
    split: &Split,
    labels: &[bool],
    popularity: &[f64],
    setup: OutlierSetup,
    features: FeatureSet,
    drop: &[String],
) -> Result<Prepared, ExperimentError> {
    if features == FeatureSet::KnownArtist && split.protocol != Protocol::KnownArtist {
        return Err(ExperimentError::FeaturesForProtocol(split.protocol));
    }
    let params = PipelineParams {
        outliers: setup,
        standardize: true,
        features,
    };
    let pipeline = FeaturePipeline::fit(tracks, &split.fit, params)?;
    if let Some(unknown) = drop.iter().find(|d| !pipeline.names().contains(d)) {
        return Err(ExperimentError::UnknownFeature(unknown.clone()));
    }
    let kept = pipeline.kept(tracks, &split.fit);
    let as_f64 = |rows: &[usize]| {
        rows.iter()
            .map(|&i| f64::from(u8::from(labels[i])))
            .collect::<Vec<_>>()
    };
    Ok(Prepared {
        fit_x: pipeline.transform_fit(tracks, &kept).matrix.without(drop),
        fit_y: as_f64(&kept),
        fit_score: select(popularity, &kept),
        fit_groups: kept
            .iter()
            .map(|&i| split.protocol.group_key(&tracks.rows[i]))
            .collect(),
        val_x: pipeline.transform(tracks, &split.val).matrix.without(drop),
        val_y: as_f64(&split.val),
        val_score: select(popularity, &split.val),
        test_x: pipeline.transform(tracks, &split.test).matrix.without(drop),
        test_labels: select(labels, &split.test),
        test_score: select(popularity, &split.test),
        pipeline,
    })
}

/// FIT of one setup as every classifier of one strategy fits on it: resampled, each row with
/// its group (a synthetic row with its source's, so grouped folds keep them together). The
/// grid, `hitcast train` and `hitcast data split --export` all resample through it.
pub struct StrategyRows {
    /// The resampled rows.
    pub rows: Resampled,
    /// Each row's group key.
    pub groups: Vec<u64>,
    /// Seconds the resampling took.
    pub seconds: f64,
}

impl StrategyRows {
    /// Resamples `data`'s FIT rows by `strategy`; the grid's cells pass the run's seed.
    pub fn new(
        data: &Prepared,
        strategy: Strategy,
        seed: u64,
    ) -> Result<StrategyRows, SamplingError> {
        let started = Instant::now();
        let rows = resample(strategy, &data.fit_x, &data.fit_y, seed)?;
        let seconds = started.elapsed().as_secs_f64();
        let groups = select(&data.fit_groups, &rows.origin);
        Ok(StrategyRows {
            rows,
            groups,
            seconds,
        })
    }

    /// The rows as a training set.
    pub(crate) fn train_set(&self) -> TrainSet<'_> {
        TrainSet {
            x: &self.rows.x,
            y: &self.rows.y,
            weights: self.rows.weights.as_deref(),
            groups: Some(&self.groups),
        }
    }
}

/// Runs the grid on `tracks` (collapsed, or raw rows for the seed protocol) under `split`.
pub fn run(
    tracks: &Tracks,
    split: &Split,
    config: &GridConfig,
    on_event: &mut dyn FnMut(Event),
) -> Result<Results, ExperimentError> {
    run_grid(tracks, split, config, false, on_event).map(|(results, _)| results)
}

/// [`run`], keeping the fitted models of the chosen cells (for `hitcast train --fits`).
pub fn run_keeping_fits(
    tracks: &Tracks,
    split: &Split,
    config: &GridConfig,
    on_event: &mut dyn FnMut(Event),
) -> Result<(Results, ChosenFits), ExperimentError> {
    run_grid(tracks, split, config, true, on_event)
}

/// The grid; with `keep`, the chosen cells' models too (only then are the prepared rows
/// hashed and the best models copied as the cells finish).
fn run_grid(
    tracks: &Tracks,
    split: &Split,
    config: &GridConfig,
    keep: bool,
    on_event: &mut dyn FnMut(Event),
) -> Result<(Results, ChosenFits), ExperimentError> {
    let started = Instant::now();
    let mut chosen = ChosenFits::default();
    let (labels, popularity) = targets(tracks, config.threshold)?;
    let cells = config.cells();
    if cells.is_empty() {
        return Err(ExperimentError::NothingSelected(config.only.clone()));
    }
    on_event(Event::Planned(cells.len()));

    // Tuning (on the raw setup without resampling) fixes each family's parameters for the grid.
    let mut classifier_specs: Vec<(ClassifierKind, ModelSpec)> = config
        .classifiers
        .iter()
        .map(|&k| (k, ModelSpec::classifier(k)))
        .collect();
    let mut regressor_specs: Vec<(RegressorKind, ModelSpec)> = config
        .regressors
        .iter()
        .map(|&k| (k, ModelSpec::regressor(k)))
        .collect();
    for (family, _, _) in &config.params {
        let mut known = ClassifierKind::ALL
            .iter()
            .map(|k| k.name())
            .chain(RegressorKind::ALL.iter().map(|k| k.name()));
        if !known.any(|k| k == family) {
            return Err(ExperimentError::UnknownFamily(family.clone()));
        }
    }
    for (kind, spec) in &mut classifier_specs {
        *spec = with_params(spec.clone(), kind.name(), &config.params)?;
    }
    for (kind, spec) in &mut regressor_specs {
        *spec = with_params(spec.clone(), kind.name(), &config.params)?;
    }
    // Kept for the grid's raw setup, so tuning does not make the grid prepare it twice.
    let mut raw_prepared = None;
    if let Some(tune) = &config.tune {
        let base = prepare(
            tracks,
            split,
            &labels,
            &popularity,
            OutlierSetup::Raw,
            config.features,
            &config.drop,
        )?;
        for (kind, spec) in &mut classifier_specs {
            if cells
                .iter()
                .any(|c| matches!(c, Cell::Classifier { model, .. } if model == kind))
            {
                *spec = tune::tune_classifier(
                    *kind,
                    spec.clone(),
                    &TrainSet::new(&base.fit_x, &base.fit_y),
                    &TrainSet::new(&base.val_x, &base.val_y),
                    tune,
                    config.seed,
                    on_event,
                )?;
            }
        }
        for (kind, spec) in &mut regressor_specs {
            if cells
                .iter()
                .any(|c| matches!(c, Cell::Regressor { model, .. } if model == kind))
            {
                *spec = tune::tune_regressor(
                    *kind,
                    spec.clone(),
                    &TrainSet::new(&base.fit_x, &base.fit_score),
                    &TrainSet::new(&base.val_x, &base.val_score),
                    tune,
                    config.seed,
                    on_event,
                )?;
            }
        }
        raw_prepared = Some(base);
    }

    let mut rows = Vec::new();
    let mut width = 0;
    for &setup in &config.setups {
        if !cells.iter().any(|c| c.setup() == setup) {
            continue;
        }
        let reused = if setup == OutlierSetup::Raw {
            raw_prepared.take()
        } else {
            None
        };
        let data = match reused {
            Some(data) => data,
            None => prepare(
                tracks,
                split,
                &labels,
                &popularity,
                setup,
                config.features,
                &config.drop,
            )?,
        };
        width = data.fit_x.n_cols();
        let fingerprint = keep.then(|| data.fingerprint());
        for &strategy in &config.strategies {
            let wanted = |model: ClassifierKind| {
                let cell = Cell::Classifier {
                    setup,
                    strategy,
                    model,
                };
                cells.contains(&cell).then_some(cell)
            };
            if !config.classifiers.iter().any(|&k| wanted(k).is_some()) {
                continue;
            }
            let fit = StrategyRows::new(&data, strategy, config.seed).map_err(|source| {
                ExperimentError::Sampling {
                    cell: format!("classification/{setup}/{strategy}"),
                    source,
                }
            })?;
            let train = fit.train_set();
            let val = TrainSet::new(&data.val_x, &data.val_y);
            // Tuned parameters hold for every strategy; untuned, each strategy starts from its
            // own defaults, as `hitcast train` does.
            let mut jobs = Vec::new();
            for (kind, spec) in &classifier_specs {
                if let Some(cell) = wanted(*kind) {
                    let spec = match config.tune {
                        Some(_) => spec.clone(),
                        None => classifier_spec(*kind, strategy, &config.params)?,
                    };
                    jobs.push((*kind, cell, spec));
                }
            }
            // Two waves: every family but the stack, then the stack, which takes the first
            // wave's models of its members' families (with their defaults) instead of fitting
            // them again on the same rows.
            let (stacks, members): (Vec<_>, Vec<_>) = jobs
                .into_iter()
                .partition(|(kind, _, _)| *kind == ClassifierKind::Stack);
            let mut defaults: Vec<FittedClassifier> = Vec::new();
            for wave in [members, stacks] {
                for (_, cell, _) in &wave {
                    on_event(Event::Started(*cell));
                }
                let reuse: Vec<&FittedClassifier> = defaults.iter().collect();
                let fitted = side_by_side(
                    &wave,
                    |(kind, _, _)| kind.fits_on_one_thread(),
                    |(_, cell, spec)| {
                        classify(*cell, spec, &train, &val, &data, config.seed, &reuse)
                    },
                )?;
                for ((kind, _, spec), (row, model)) in wave.iter().zip(fitted) {
                    let row = ResultRow {
                        resample_seconds: Some(fit.seconds),
                        ..row
                    };
                    if let Some(rows) = fingerprint {
                        chosen.offer_classifier(&row, spec, config.seed, rows, || model.clone());
                    }
                    if *spec == ModelSpec::classifier(*kind) {
                        defaults.push(model);
                    }
                    on_event(Event::Finished(&row));
                    rows.push(row);
                }
            }
        }
        let jobs: Vec<(RegressorKind, Cell, &ModelSpec)> = regressor_specs
            .iter()
            .map(|(kind, spec)| {
                let cell = Cell::Regressor {
                    setup,
                    model: *kind,
                };
                (*kind, cell, spec)
            })
            .filter(|(_, cell, _)| cells.contains(cell))
            .collect();
        for (_, cell, _) in &jobs {
            on_event(Event::Started(*cell));
        }
        let fitted = side_by_side(
            &jobs,
            |(kind, _, _)| kind.fits_on_one_thread(),
            |(_, cell, spec)| regress(*cell, spec, &data, config.seed),
        )?;
        for row in fitted {
            on_event(Event::Finished(&row));
            rows.push(row);
        }
    }
    let test_labels = select(&labels, &split.test);
    let positives = test_labels.iter().filter(|&&l| l).count();
    let positive_rate = positives as f64 / test_labels.len().max(1) as f64;
    let results = Results {
        protocol: split.protocol,
        fold: split.fold,
        seed: config.seed,
        threshold: config.threshold,
        fit_rows: split.fit.len(),
        val_rows: split.val.len(),
        test_rows: split.test.len(),
        test_positives: positives,
        positive_rate,
        majority_accuracy: positive_rate.max(1.0 - positive_rate),
        features: width,
        tuned: config.tune.is_some(),
        wall_seconds: started.elapsed().as_secs_f64(),
        rows,
        headline: None,
    };
    Ok((results, chosen))
}

fn classify(
    cell: Cell,
    spec: &ModelSpec,
    train: &TrainSet,
    val: &TrainSet,
    data: &Prepared,
    seed: u64,
    fitted: &[&FittedClassifier],
) -> Result<(ResultRow, FittedClassifier), ExperimentError> {
    let name = cell.to_string();
    let model_error = ExperimentError::model(&name);
    let metric_error = ExperimentError::metric(&name);
    let start = Instant::now();
    let model = spec
        .fit_classifier_reusing(train, Some(val), seed, fitted)
        .map_err(model_error)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let val_scores = model.predict_proba(&data.val_x);
    let threshold = best_f1_threshold(&val_scores, &val_labels).map_err(metric_error)?;
    let val_pr_auc = average_precision(&val_scores, &val_labels).map_err(metric_error)?;
    let start = Instant::now();
    let test_scores = model.predict_proba(&data.test_x);
    let predict_seconds = start.elapsed().as_secs_f64();
    let m = ClassificationMetrics::new(&test_scores, &data.test_labels, threshold.value)
        .map_err(metric_error)?;
    Ok((
        ResultRow {
            params: spec.params_json(),
            roc_auc: Some(m.roc_auc),
            pr_auc: Some(m.pr_auc),
            f1: Some(m.f1),
            precision: Some(m.precision),
            recall: Some(m.recall),
            accuracy: Some(m.accuracy),
            balanced_accuracy: Some(m.balanced_accuracy),
            threshold: Some(threshold.value),
            val_pr_auc: Some(val_pr_auc),
            val_f1: Some(threshold.f1),
            fit_seconds,
            predict_seconds,
            rows_fit: train.y.len(),
            rounds: model.rounds(),
            ..ResultRow::new(cell)
        },
        model,
    ))
}

fn regress(
    cell: Cell,
    spec: &ModelSpec,
    data: &Prepared,
    seed: u64,
) -> Result<ResultRow, ExperimentError> {
    let name = &cell.to_string();
    let train = TrainSet::new(&data.fit_x, &data.fit_score);
    let val = TrainSet::new(&data.val_x, &data.val_score);
    let start = Instant::now();
    let model = spec
        .fit_regressor(&train, Some(&val), seed)
        .map_err(ExperimentError::model(name))?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let val_m = RegressionMetrics::new(&model.predict(&data.val_x), &data.val_score)
        .map_err(ExperimentError::metric(name))?;
    let start = Instant::now();
    let predicted = model.predict(&data.test_x);
    let predict_seconds = start.elapsed().as_secs_f64();
    let m = RegressionMetrics::new(&predicted, &data.test_score)
        .map_err(ExperimentError::metric(name))?;
    let row = ResultRow {
        params: spec.params_json(),
        r2: Some(m.r2),
        rmse: Some(m.rmse),
        mae: Some(m.mae),
        val_r2: Some(val_m.r2),
        fit_seconds,
        predict_seconds,
        rows_fit: train.y.len(),
        rounds: model.rounds(),
        ..ResultRow::new(cell)
    };
    Ok(row)
}

/// The parameters of an untuned classifier cell: the family's defaults for rows resampled by
/// `strategy` ([`ModelSpec::classifier_for`]) with each `--param` of the family applied.
/// `experiment` and `train` both take a cell's parameters from here, so `train --fits` finds
/// the grid's fit.
pub fn classifier_spec(
    kind: ClassifierKind,
    strategy: Strategy,
    params: &[(String, String, String)],
) -> Result<ModelSpec, ExperimentError> {
    with_params(
        ModelSpec::classifier_for(kind, strategy),
        kind.name(),
        params,
    )
}

/// `spec` with each of `params` (`--param FAMILY.KEY=VALUE`) of `family` applied, in order.
fn with_params(
    mut spec: ModelSpec,
    family: &str,
    params: &[(String, String, String)],
) -> Result<ModelSpec, ExperimentError> {
    for (_, key, value) in params.iter().filter(|(f, _, _)| f == family) {
        spec = spec
            .with_param(key, value)
            .map_err(ExperimentError::model(&format!(
                "--param {family}.{key}={value}"
            )))?;
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cells_parameters_are_its_strategys_defaults_with_the_params_on_top() {
        let rate = |spec: ModelSpec| match spec {
            ModelSpec::Boosting(p) => (p.learning_rate, p.max_depth),
            other => panic!("{other:?}"),
        };
        let param = |key: &str, value: &str| ("gbm".to_owned(), key.to_owned(), value.to_owned());
        let gbm = ClassifierKind::Gbm;
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::None, &[]).unwrap()),
            (0.05, 6)
        );
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Smote, &[]).unwrap()),
            (0.1, 6)
        );
        // Another parameter keeps the strategy's rate; a rate given wins.
        let depth = [param("max_depth", "4")];
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Adasyn, &depth).unwrap()),
            (0.1, 4)
        );
        let given = [param("learning_rate", "0.07"), param("max_depth", "4")];
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Smote, &given).unwrap()),
            (0.07, 4)
        );
        // Other families' params do not touch it; a bad value is named.
        let rf = [("rf".to_owned(), "n_trees".to_owned(), "10".to_owned())];
        assert_eq!(
            classifier_spec(gbm, Strategy::Weights, &rf).unwrap(),
            ModelSpec::classifier(gbm)
        );
        let err = classifier_spec(gbm, Strategy::Smote, &[param("learning_rate", "2")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--param gbm.learning_rate=2"), "{err}");
    }
}

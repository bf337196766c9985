//! The grid: every cell of a [`GridConfig`], run in order over the prepared setups, each
//! result reported as it finishes.

use std::time::Instant;

use super::{
    classifier_spec, classify, prepare, regress, regressor_spec, targets, tune, with_params, Cell,
    ChosenFits, Event, ExperimentError, GridConfig, Prepared, ResultRow, Results, Stage,
    StrategyRows,
};
use crate::data::Tracks;
use crate::features::{select, OutlierSetup};
use crate::models::side_by_side;
use crate::models::{ClassifierKind, FittedClassifier, ModelSpec, RegressorKind, TrainSet};
use crate::sampling::Strategy;
use crate::split::Split;

/// Runs the grid on `tracks` (collapsed, or raw rows for the reference protocol) under `split`.
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
    on_event(Event::Planned(&cells));
    let targets = (labels.as_slice(), popularity.as_slice());
    let mut specs = Specs::new(config)?;
    // Tuning (on the raw setup without resampling) fixes each family's parameters for the
    // grid; its prepared rows are kept for the grid's raw setup, not prepared twice.
    let mut raw_prepared = match &config.tune {
        Some(tune) => Some(specs.tune(tune, tracks, split, targets, config, &cells, on_event)?),
        None => None,
    };

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
        let grid = SetupGrid {
            setup,
            data: &data,
            config,
            cells: &cells,
            specs: &specs,
            fingerprint: keep.then(|| data.fingerprint()),
        };
        for &strategy in &config.strategies {
            grid.classifiers(strategy, &mut chosen, &mut rows, on_event)?;
        }
        grid.regressors(&mut rows, on_event)?;
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

/// Each family's parameters for the grid: the defaults with `--param`, tuned with `--tune`.
struct Specs {
    classifiers: Vec<(ClassifierKind, ModelSpec)>,
    regressors: Vec<(RegressorKind, ModelSpec)>,
}

impl Specs {
    fn new(config: &GridConfig) -> Result<Specs, ExperimentError> {
        for (family, _, _) in &config.params {
            let mut known = ClassifierKind::ALL
                .iter()
                .map(|k| k.name())
                .chain(RegressorKind::ALL.iter().map(|k| k.name()));
            if !known.any(|k| k == family) {
                return Err(ExperimentError::UnknownFamily(family.clone()));
            }
        }
        let classifiers = config
            .classifiers
            .iter()
            .map(|&k| {
                let spec = with_params(ModelSpec::classifier(k), k.name(), &config.params)?;
                Ok((k, spec))
            })
            .collect::<Result<_, ExperimentError>>()?;
        let regressors = config
            .regressors
            .iter()
            .map(|&k| Ok((k, regressor_spec(k, &config.params)?)))
            .collect::<Result<_, ExperimentError>>()?;
        Ok(Specs {
            classifiers,
            regressors,
        })
    }

    /// Tunes every family the grid runs on the raw setup's FIT and VAL, and returns that setup.
    #[allow(clippy::too_many_arguments)]
    fn tune(
        &mut self,
        tune: &tune::TuneConfig,
        tracks: &Tracks,
        split: &Split,
        (labels, popularity): (&[bool], &[f64]),
        config: &GridConfig,
        cells: &[Cell],
        on_event: &mut dyn FnMut(Event),
    ) -> Result<Prepared, ExperimentError> {
        let base = prepare(
            tracks,
            split,
            labels,
            popularity,
            OutlierSetup::Raw,
            config.features,
            &config.drop,
        )?;
        for (kind, spec) in &mut self.classifiers {
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
        for (kind, spec) in &mut self.regressors {
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
        Ok(base)
    }
}

/// One outlier setup's cells, on its prepared rows.
struct SetupGrid<'a> {
    setup: OutlierSetup,
    data: &'a Prepared,
    config: &'a GridConfig,
    cells: &'a [Cell],
    specs: &'a Specs,
    /// The prepared rows' hash, when the chosen cells' models are kept.
    fingerprint: Option<[u8; 32]>,
}

impl SetupGrid<'_> {
    /// The classifier cells of `strategy`, on FIT resampled once for all of them.
    fn classifiers(
        &self,
        strategy: Strategy,
        chosen: &mut ChosenFits,
        rows: &mut Vec<ResultRow>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), ExperimentError> {
        let (setup, data, config) = (self.setup, self.data, self.config);
        let wanted = |model: ClassifierKind| {
            let cell = Cell::Classifier {
                setup,
                strategy,
                model,
            };
            self.cells.contains(&cell).then_some(cell)
        };
        if !config.classifiers.iter().any(|&k| wanted(k).is_some()) {
            return Ok(());
        }
        let fit = StrategyRows::new(data, strategy, config.seed).map_err(|source| {
            ExperimentError::Sampling {
                stage: Stage::Resampling(setup, strategy),
                source,
            }
        })?;
        let train = fit.train_set();
        let val = TrainSet::new(&data.val_x, &data.val_y);
        // Tuned parameters hold for every strategy; untuned, each strategy starts from its
        // own defaults, as `hitcast train` does.
        let mut jobs = Vec::new();
        for (kind, spec) in &self.specs.classifiers {
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
                |(_, cell, spec)| classify(*cell, spec, &train, &val, data, config.seed, &reuse),
            )?;
            for ((kind, _, spec), (row, model)) in wave.iter().zip(fitted) {
                let row = ResultRow {
                    resample_seconds: Some(fit.seconds),
                    ..row
                };
                if let Some(fingerprint) = self.fingerprint {
                    chosen.offer_classifier(&row, spec, config.seed, fingerprint, || model.clone());
                }
                if *spec == ModelSpec::classifier(*kind) {
                    defaults.push(model);
                }
                on_event(Event::Finished(&row));
                rows.push(row);
            }
        }
        Ok(())
    }

    /// The regressor cells, on FIT as it is.
    fn regressors(
        &self,
        rows: &mut Vec<ResultRow>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), ExperimentError> {
        let jobs: Vec<(RegressorKind, Cell, &ModelSpec)> = self
            .specs
            .regressors
            .iter()
            .map(|(kind, spec)| {
                let cell = Cell::Regressor {
                    setup: self.setup,
                    model: *kind,
                };
                (*kind, cell, spec)
            })
            .filter(|(_, cell, _)| self.cells.contains(cell))
            .collect();
        for (_, cell, _) in &jobs {
            on_event(Event::Started(*cell));
        }
        let fitted = side_by_side(
            &jobs,
            |(kind, _, _)| kind.fits_on_one_thread(),
            |(_, cell, spec)| regress(*cell, spec, self.data, self.config.seed),
        )?;
        for row in fitted {
            on_event(Event::Finished(&row));
            rows.push(row);
        }
        Ok(())
    }
}

//! Training the model that gets saved: one classifier and one regressor under a protocol's
//! split, with the decision threshold chosen on VAL and both models measured on TEST.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::artifact::{
    Artifact, CalibrationReport, IntervalReport, Metadata, Payload, BACKGROUND_ROWS,
};
use crate::calibration::Calibration;
use crate::data::Tracks;
use crate::domain::Domain;
use crate::experiment::{
    prepare, targets, tune_classifier, tune_regressor, Cell, ChosenFits, ExperimentError, Prepared,
    StrategyRows, TuneConfig,
};
use crate::features::{select, FeatureMatrix, FeatureSet, OutlierSetup};
use crate::interval::{agree, IntervalMetrics, IntervalModel, Range};
use crate::metrics::{
    best_f1_threshold, expected_calibration_error, reliability, ClassificationMetrics,
    RegressionMetrics, Threshold, RELIABILITY_EDGES,
};
use crate::models::{
    Classifier, FittedClassifier, FittedRegressor, ModelError, ModelSpec, Regressor, TrainSet,
};
use crate::predictor::{genre_names, table_inputs, Prediction, Predictor};
use crate::sampling::Strategy;
use crate::split::Split;

/// What to train.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// The classifier's family and parameters.
    pub classifier: ModelSpec,
    /// The regressor's family and parameters.
    pub regressor: ModelSpec,
    /// Imbalance strategy for the classifier's FIT rows.
    pub strategy: Strategy,
    /// Outlier setup.
    pub setup: OutlierSetup,
    /// Feature columns.
    pub features: FeatureSet,
    /// Popular means popularity > threshold.
    pub threshold: u8,
    /// Seed of every random choice.
    pub seed: u64,
    /// Random search on VAL for both families first (trial 0: the parameters above).
    pub tune: Option<TuneConfig>,
    /// Share of tracks whose score should fall in their range (default 0.8).
    pub coverage: f64,
}

/// Fits both models on FIT; on VAL calibrates the probability, picks the threshold on the
/// calibrated probability and calibrates the score's range; measures everything on TEST, and
/// bundles it with the pipeline. `data_sha256` identifies the training file in the metadata.
///
/// A model that reads genres gets an audio-only companion, trained the same way on the same
/// rows: a genre label carries this dataset's meaning of it (latin is 2% popular here and 18%
/// in another sample of Spotify playlists), so a catalogue whose genres are not ours, or a
/// track with no genre we know, is better scored without them.
pub fn train(
    tracks: &Tracks,
    split: &Split,
    config: &TrainConfig,
    data_sha256: String,
) -> Result<Artifact, ExperimentError> {
    train_reusing(tracks, split, config, data_sha256, &ChosenFits::default())
        .map(|(artifact, _)| artifact)
}

/// [`train`], taking the classifier and the regressor from `fits` (a grid's, see
/// [`crate::experiment::run_keeping_fits`]) where one is the very fit `train` would make:
/// the same cell, parameters, seed and prepared rows. Returns the cells taken.
pub fn train_reusing(
    tracks: &Tracks,
    split: &Split,
    config: &TrainConfig,
    data_sha256: String,
    fits: &ChosenFits,
) -> Result<(Artifact, Vec<Cell>), ExperimentError> {
    let mut reused = Vec::new();
    if !config.features.has_genres() {
        let artifact = train_one(tracks, split, config, data_sha256, fits, &mut reused)?;
        return Ok((artifact, reused));
    }
    let audio = TrainConfig {
        features: FeatureSet::Audio,
        ..config.clone()
    };
    // The two models share nothing but the rows, so they are fitted side by side: the main
    // one mostly takes the grid's fits and scores, while the companion fits its own, and
    // neither keeps both cores busy alone. Every fit is the same on any thread count.
    let mut companion_reused = Vec::new();
    let (main, companion) = rayon::join(
        || {
            train_one(
                tracks,
                split,
                config,
                data_sha256.clone(),
                fits,
                &mut reused,
            )
        },
        || {
            train_one(
                tracks,
                split,
                &audio,
                data_sha256.clone(),
                fits,
                &mut companion_reused,
            )
        },
    );
    let (mut artifact, mut companion) = (main?, companion?);
    reused.extend(companion_reused);
    companion.metadata.created_unix = artifact.metadata.created_unix;
    artifact.metadata.without_genres = Some(Box::new(companion.metadata));
    artifact.payload.without_genres = Some(Box::new(companion.payload));
    let artifact = remeasure(artifact, tracks, &split.test, config)?;
    Ok((artifact, reused))
}

/// Measures TEST again through the [`Predictor`], as users get the answers: a TEST track with
/// no genre the model knows (all of them under `--protocol genre-holdout`'s held-out genres) is
/// answered by the companion. The raw ECE stays the main model's own.
fn remeasure(
    artifact: Artifact,
    tracks: &Tracks,
    test: &[usize],
    config: &TrainConfig,
) -> Result<Artifact, ExperimentError> {
    let cell = "train/evaluate";
    let metric = ExperimentError::metric(cell);
    let predictor = Predictor::new(artifact).map_err(|e| ExperimentError::Model {
        cell: cell.into(),
        source: ModelError::Shape(e.to_string()),
    })?;
    let names = genre_names(tracks, test);
    let inputs = table_inputs(tracks, test, &names);
    let answers = predictor
        .score(&inputs)
        .map_err(ExperimentError::model(cell))?;
    let (labels, popularity) = targets(tracks, config.threshold)?;
    let (labels, truth) = (select(&labels, test), select(&popularity, test));
    let p: Vec<f64> = answers.iter().map(|a| a.probability).collect();
    let flags: Vec<bool> = answers.iter().map(|a| a.flagged).collect();
    let mut artifact = predictor.into_artifact();
    let m = &mut artifact.metadata;
    m.test_classification =
        ClassificationMetrics::with_flags(&p, &flags, &labels, m.decision_threshold)
            .map_err(metric)?;
    m.calibration.test_ece = expected_calibration_error(&p, &labels).map_err(metric)?;
    m.calibration.test_mean_probability = p.iter().sum::<f64>() / p.len().max(1) as f64;
    m.calibration.test_reliability =
        reliability(&p, &labels, &RELIABILITY_EDGES).map_err(metric)?;
    let point: Vec<f64> = answers.iter().map(|a| a.popularity).collect();
    m.test_regression = RegressionMetrics::new(&point, &truth).map_err(metric)?;
    let ranges: Vec<Range> = answers.iter().map(Prediction::range).collect();
    m.interval.test = IntervalMetrics::new(&ranges, &truth);
    m.interval.test_flagged_reaching = reaching(&ranges, &flags, config.threshold);
    Ok(artifact)
}

/// Share of flagged tracks whose range reaches above the label threshold.
fn reaching(ranges: &[Range], flagged: &[bool], threshold: u8) -> f64 {
    let label = f64::from(threshold);
    let reaching = ranges
        .iter()
        .zip(flagged)
        .filter(|(r, &f)| f && r.high > label)
        .count();
    reaching as f64 / flagged.iter().filter(|&&f| f).count().max(1) as f64
}

/// One model: [`train`] without the companion.
fn train_one(
    tracks: &Tracks,
    split: &Split,
    config: &TrainConfig,
    data_sha256: String,
    fits: &ChosenFits,
    reused: &mut Vec<Cell>,
) -> Result<Artifact, ExperimentError> {
    let (labels, popularity) = targets(tracks, config.threshold)?;
    let data = prepare(
        tracks,
        split,
        &labels,
        &popularity,
        config.setup,
        config.features,
        &[],
    )?;
    let cell = |what: &str| format!("train/{what}");

    let rows = StrategyRows::new(&data, config.strategy, config.seed).map_err(|source| {
        ExperimentError::Sampling {
            cell: cell("resample"),
            source,
        }
    })?;
    let fit = rows.train_set();
    let val = TrainSet::new(&data.val_x, &data.val_y);
    let score_fit = TrainSet::new(&data.fit_x, &data.fit_score);
    let score_val = TrainSet::new(&data.val_x, &data.val_score);
    let (mut classifier_spec, mut regressor_spec) =
        (config.classifier.clone(), config.regressor.clone());
    if let Some(tune) = &config.tune {
        let not_a = |what: &str| ExperimentError::Model {
            cell: cell("tune"),
            source: ModelError::Shape(format!("the {what} specification is not a {what}")),
        };
        let kind = classifier_spec
            .classifier_kind()
            .ok_or_else(|| not_a("classifier"))?;
        classifier_spec = tune_classifier(
            kind,
            classifier_spec,
            &fit,
            &val,
            tune,
            config.seed,
            &mut |_| {},
        )?;
        let kind = regressor_spec
            .regressor_kind()
            .ok_or_else(|| not_a("regressor"))?;
        regressor_spec = tune_regressor(
            kind,
            regressor_spec,
            &score_fit,
            &score_val,
            tune,
            config.seed,
            &mut |_| {},
        )?;
    }
    // The grid's fits are looked up only when the rows are the grid's (no tuning here).
    let fingerprint = (config.tune.is_none() && !fits.is_empty()).then(|| data.fingerprint());
    // The classifier with its calibration and the regressor with its range share nothing but
    // the rows, so they are fitted side by side: a network fits on one thread, and the score's
    // network otherwise ran alone after the classifier. Every fit is the same on any thread
    // count.
    let take_classifier = || -> Option<(Cell, FittedClassifier)> {
        let cell = Cell::Classifier {
            setup: config.setup,
            strategy: config.strategy,
            model: classifier_spec.classifier_kind()?,
        };
        let kept = fits.classifier(cell, &classifier_spec, config.seed, fingerprint.as_ref()?)?;
        Some((cell, kept.clone()))
    };
    let take_regressor = || -> Option<(Cell, FittedRegressor)> {
        let cell = Cell::Regressor {
            setup: config.setup,
            model: regressor_spec.regressor_kind()?,
        };
        let kept = fits.regressor(cell, &regressor_spec, config.seed, fingerprint.as_ref()?)?;
        Some((cell, kept.clone()))
    };
    let (classified, scored) = rayon::join(
        || {
            let (kept, classifier) = match take_classifier() {
                Some((cell, model)) => (Some(cell), model),
                None => (
                    None,
                    classifier_spec
                        .fit_classifier(&fit, Some(&val), config.seed)
                        .map_err(ExperimentError::model(&cell("classifier")))?,
                ),
            };
            let calibrated = calibrate(&classifier, &data, &cell("evaluate"))?;
            Ok::<_, ExperimentError>((kept, classifier, calibrated))
        },
        || {
            let (kept, regressor) = match take_regressor() {
                Some((cell, model)) => (Some(cell), model),
                None => (
                    None,
                    regressor_spec
                        .fit_regressor(&score_fit, Some(&score_val), config.seed)
                        .map_err(ExperimentError::model(&cell("regressor")))?,
                ),
            };
            let test_point = regressor.predict(&data.test_x);
            let test_regression = RegressionMetrics::new(&test_point, &data.test_score)
                .map_err(ExperimentError::metric(&cell("evaluate")))?;
            let interval = IntervalModel::fit(
                config.coverage,
                &score_fit,
                &score_val,
                &regressor.predict(&data.val_x),
                config.seed,
            )?;
            Ok::<_, ExperimentError>((kept, regressor, test_point, test_regression, interval))
        },
    );
    let (kept_classifier, classifier, calibrated) = classified?;
    let (kept_regressor, regressor, test_point, test_regression, (interval, interval_choice)) =
        scored?;
    reused.extend(kept_classifier.into_iter().chain(kept_regressor));
    let Calibrated {
        calibration,
        threshold,
        test_p,
        test_classification,
        report: calibration_report,
    } = calibrated;
    let ranges: Vec<_> = interval
        .predict(&data.test_x, &test_point)
        .into_iter()
        .zip(&test_p)
        .map(|(r, &p)| agree(r, p, config.coverage, config.threshold))
        .collect();
    let flagged: Vec<bool> = test_p.iter().map(|&p| p >= threshold.value).collect();
    let interval_report = IntervalReport {
        choice: interval_choice,
        test: IntervalMetrics::new(&ranges, &data.test_score),
        test_flagged_reaching: reaching(&ranges, &flagged, config.threshold),
    };
    let kept = data.pipeline.kept(tracks, &split.fit);
    let base_rate = data.fit_y.iter().sum::<f64>() / data.fit_y.len().max(1) as f64;

    Ok(Artifact {
        metadata: Metadata {
            hitcast_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            data_sha256,
            protocol: split.protocol,
            fold: split.fold,
            seed: config.seed,
            label_threshold: config.threshold,
            strategy: config.strategy,
            classifier: classifier_spec,
            classifier_rounds: classifier.rounds(),
            regressor: regressor_spec,
            regressor_rounds: regressor.rounds(),
            features: data.pipeline.names().to_vec(),
            decision_threshold: threshold.value,
            base_rate,
            test_classification,
            test_regression,
            calibration: calibration_report,
            interval: interval_report,
            without_genres: None,
        },
        payload: Payload {
            background: background(&data.fit_x, config.seed),
            calibration,
            interval,
            domain: Domain::fit(tracks, &kept),
            pipeline: data.pipeline,
            classifier,
            regressor,
            without_genres: None,
        },
    })
}

/// A classifier's calibration on VAL, its F1 threshold on the calibrated VAL probabilities, and
/// its TEST figures through both.
struct Calibrated {
    calibration: Calibration,
    threshold: Threshold,
    test_p: Vec<f64>,
    test_classification: ClassificationMetrics,
    report: CalibrationReport,
}

fn calibrate(
    classifier: &FittedClassifier,
    data: &Prepared,
    cell: &str,
) -> Result<Calibrated, ExperimentError> {
    let metric = ExperimentError::metric(cell);
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let raw_val = classifier.predict_proba(&data.val_x);
    let (calibration, choice) = Calibration::fit(&raw_val, &val_labels).map_err(metric)?;
    let calibrated =
        |raw: &[f64]| -> Vec<f64> { raw.iter().map(|&p| calibration.apply(p)).collect() };
    let threshold = best_f1_threshold(&calibrated(&raw_val), &val_labels).map_err(metric)?;
    let raw_test = classifier.predict_proba(&data.test_x);
    let test_p = calibrated(&raw_test);
    let test_classification =
        ClassificationMetrics::new(&test_p, &data.test_labels, threshold.value).map_err(metric)?;
    let report = CalibrationReport {
        choice,
        test_ece: expected_calibration_error(&test_p, &data.test_labels).map_err(metric)?,
        test_ece_raw: expected_calibration_error(&raw_test, &data.test_labels).map_err(metric)?,
        test_mean_probability: test_p.iter().sum::<f64>() / test_p.len().max(1) as f64,
        test_reliability: reliability(&test_p, &data.test_labels, &RELIABILITY_EDGES)
            .map_err(metric)?,
    };
    Ok(Calibrated {
        calibration,
        threshold,
        test_p,
        test_classification,
        report,
    })
}

/// [`BACKGROUND_ROWS`] FIT rows drawn at random (in FIT order), row-major.
fn background(fit: &FeatureMatrix, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = fit.n_rows();
    let mut rows = rand::seq::index::sample(&mut rng, n, BACKGROUND_ROWS.min(n)).into_vec();
    rows.sort_unstable();
    fit.select_rows(&rows).as_slice().to_vec()
}

//! Training the model that gets saved: one classifier and one regressor under a protocol's
//! split, with the decision threshold chosen on VAL and both models measured on TEST.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::artifact::{
    Artifact, CalibrationReport, IntervalReport, Metadata, Payload, Role, BACKGROUND_ROWS,
};
use crate::calibration::{Calibration, CalibrationChoice};
use crate::data::Tracks;
use crate::distribution::{
    fit_band, DistributionData, DistributionModel, IntervalChoice, IntervalMetrics,
};
use crate::domain::Domain;
use crate::drift::Reference;
use crate::experiment::{
    prepare, targets, tune_classifier, tune_regressor, Cell, ChosenFits, ExperimentError, Prepared,
    Stage, StrategyRows, TuneConfig,
};
use crate::features::{select, FeatureMatrix, FeatureSet, OutlierSetup};
use crate::known::KnownTracks;
use crate::metrics::{
    best_f1_threshold, expected_calibration_error, ClassificationMetrics, RegressionMetrics,
    Threshold,
};
use crate::models::{
    BoostingModel, Classifier, FittedClassifier, FittedRegressor, ModelError, ModelSpec, Regressor,
    TrainSet,
};
use crate::predictor::{MeasureError, Predictor};
use crate::prior::AnswerShapes;
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
/// A model that reads genres gets an no-genres companion, trained the same way on the same
/// rows: a genre label carries this dataset's meaning of it (latin is 2% popular here and 18%
/// in another sample of Spotify playlists), so a catalogue whose genres are not ours, or a
/// track with no genre we know, is better scored without them. A model of the extended
/// features gets a new-song companion too, without the columns a new song cannot have
/// ([`crate::features::CATALOGUE_ONLY`]).
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
    let configs: Vec<(Role, TrainConfig)> = Role::ALL
        .into_iter()
        .filter_map(|role| match role {
            Role::Main => Some((role, config.clone())),
            _ => role.features(config.features).map(|features| {
                let companion = TrainConfig {
                    features,
                    ..config.clone()
                };
                (role, companion)
            }),
        })
        .collect();
    // The models share nothing but the rows, so they are fitted side by side: the main one
    // mostly takes the grid's fits and scores, while the companions fit their own, and none
    // keeps both cores busy alone. Every fit is the same on any thread count.
    let trained: Vec<(Role, Artifact, Vec<Cell>)> = configs
        .par_iter()
        .map(|(role, c)| {
            let mut reused = Vec::new();
            let artifact = train_one(tracks, split, c, data_sha256.clone(), fits, &mut reused)?;
            // A companion is measured alone; the main model once its companions are attached.
            let artifact = match role {
                Role::Main => artifact,
                _ => measured(artifact, tracks, &split.test, config.threshold)?,
            };
            Ok((*role, artifact, reused))
        })
        .collect::<Result<_, ExperimentError>>()?;
    let mut trained = trained.into_iter();
    let Some((_, mut artifact, mut reused)) = trained.next() else {
        unreachable!("the main model is always trained")
    };
    for (role, mut companion, companion_reused) in trained {
        reused.extend(companion_reused);
        companion.metadata.created_unix = artifact.metadata.created_unix;
        companion.metadata.role = role;
        artifact.metadata.companions.push(companion.metadata);
        artifact.payload.companions.push(companion.payload);
    }
    artifact.payload.known = KnownTracks::of(tracks);
    let artifact = measured(artifact, tracks, &split.test, config.threshold)?;
    Ok((artifact, reused))
}

/// Measures `artifact` on TEST through [`Predictor::measure`], as users get the answers, and
/// writes the figures into its metadata: every TEST figure of a model file comes from here. The
/// main model is measured with its companions attached, since a TEST track with no genre it
/// knows (all of them under `--protocol genre-holdout`'s held-out genres) is answered by one.
/// The raw probabilities' ECE is the classifier's own, from calibration.
fn measured(
    artifact: Artifact,
    tracks: &Tracks,
    test: &[usize],
    threshold: u8,
) -> Result<Artifact, ExperimentError> {
    let stage = &Stage::Training("model's TEST figures");
    let predictor = Predictor::new(artifact).map_err(|e| ExperimentError::Model {
        stage: stage.clone(),
        source: ModelError::Shape(e.to_string()),
    })?;
    let measured = predictor
        .measure(tracks, test, threshold)
        .map_err(|e| match e {
            MeasureError::Unlabelled => ExperimentError::Unlabelled,
            MeasureError::Model(source) => ExperimentError::model(stage)(source),
            MeasureError::Metric(source) => ExperimentError::metric(stage)(source),
        })?;
    let mut artifact = predictor.into_artifact();
    let m = &mut artifact.metadata;
    m.test_classification = measured.classification;
    m.calibration.test_ece = measured.ece;
    m.calibration.test_mean_probability = measured.mean_probability;
    m.calibration.test_reliability = measured.reliability;
    m.test_regression = measured.score;
    m.interval.test = measured.range;
    m.interval.test_flagged_reaching = measured.flagged_reaching;
    Ok(artifact)
}

/// The classifier's and the regressor's parameters tuned on VAL, from `config`'s.
fn tuned(
    config: &TrainConfig,
    tune: &TuneConfig,
    (fit, val): (&TrainSet, &TrainSet),
    (score_fit, score_val): (&TrainSet, &TrainSet),
) -> Result<(ModelSpec, ModelSpec), ExperimentError> {
    let not_a = |what: &str| ExperimentError::Model {
        stage: Stage::Training("tuning"),
        source: ModelError::Shape(format!("the {what} specification is not a {what}")),
    };
    let (classifier, regressor) = (config.classifier.clone(), config.regressor.clone());
    let kind = classifier
        .classifier_kind()
        .ok_or_else(|| not_a("classifier"))?;
    let classifier = tune_classifier(kind, classifier, fit, val, tune, config.seed, &mut |_| {})?;
    let kind = regressor
        .regressor_kind()
        .ok_or_else(|| not_a("regressor"))?;
    let regressor = tune_regressor(
        kind,
        regressor,
        score_fit,
        score_val,
        tune,
        config.seed,
        &mut |_| {},
    )?;
    Ok((classifier, regressor))
}

/// One model: [`train`] without the companions, its TEST figures not yet measured.
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
    let stage = Stage::Training;

    let rows = StrategyRows::new(&data, config.strategy, config.seed).map_err(|source| {
        ExperimentError::Sampling {
            stage: stage("resampling of FIT"),
            source,
        }
    })?;
    let fit = rows.train_set();
    let val = TrainSet::new(&data.val_x, &data.val_y);
    let score_fit = TrainSet::new(&data.fit_x, &data.fit_score);
    let score_val = TrainSet::new(&data.val_x, &data.val_score);
    let specs = match &config.tune {
        Some(tune) => tuned(config, tune, (&fit, &val), (&score_fit, &score_val))?,
        None => (config.classifier.clone(), config.regressor.clone()),
    };
    let fitted = fit_models(config, fits, &data, &specs, (&fit, &val))?;
    reused.extend(fitted.kept);
    let Calibrated {
        calibration,
        choice,
        threshold,
        val_p,
        test_ece_raw,
    } = fitted.calibrated;
    let (distribution, interval_choice) = DistributionModel::fit(
        config.coverage,
        config.threshold,
        &DistributionData {
            val: &score_val,
            val_below: &fitted.regressor.predict(&data.val_x),
            val_above: &fitted.regressor_above.predict(&data.val_x),
            val_probability: &val_p,
        },
        fitted.band,
    )?;
    let kept = data.pipeline.kept(tracks, &split.fit);
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let (classifier_spec, regressor_spec) = specs;
    let chosen = Chosen {
        classifier: classifier_spec,
        regressor: regressor_spec,
        threshold: threshold.value,
        calibration: choice,
        test_ece_raw,
        interval: interval_choice,
        rounds: [
            fitted.classifier.rounds(),
            fitted.regressor.rounds(),
            fitted.regressor_above.rounds(),
        ],
    };
    let metadata = untested_metadata(config, split, data_sha256, chosen, &data);
    let payload = Payload {
        background: background(&data.fit_x, config.seed),
        shapes: AnswerShapes::fit(&val_p, &val_labels),
        calibration,
        distribution,
        domain: Domain::fit(tracks, &kept),
        reference: Reference::fit(tracks, &kept, &select(&labels, &kept)),
        known: KnownTracks::default(),
        pipeline: data.pipeline,
        classifier: fitted.classifier,
        regressor: fitted.regressor,
        regressor_above: fitted.regressor_above,
        companions: Vec::new(),
    };
    Ok(Artifact { metadata, payload })
}

/// What training chose on VAL, for the model's metadata.
struct Chosen {
    classifier: ModelSpec,
    regressor: ModelSpec,
    /// The decision threshold.
    threshold: f64,
    calibration: CalibrationChoice,
    /// TEST's calibration error before calibration.
    test_ece_raw: f64,
    interval: IntervalChoice,
    /// Boosting rounds kept: the classifier's, the regressor's and the upper regressor's.
    rounds: [Option<usize>; 3],
}

/// The main model's metadata before its TEST figures are measured (by `train_reusing`, on
/// the model as it is saved): those are left empty here.
fn untested_metadata(
    config: &TrainConfig,
    split: &Split,
    data_sha256: String,
    chosen: Chosen,
    data: &Prepared,
) -> Metadata {
    Metadata {
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
        outliers: Some(data.pipeline.params().outliers),
        classifier: chosen.classifier,
        classifier_rounds: chosen.rounds[0],
        regressor: chosen.regressor,
        regressor_rounds: chosen.rounds[1],
        regressor_above_rounds: chosen.rounds[2],
        features: data.pipeline.names().to_vec(),
        decision_threshold: chosen.threshold,
        base_rate: data.fit_y.iter().sum::<f64>() / data.fit_y.len().max(1) as f64,
        test_classification: ClassificationMetrics::default(),
        test_regression: RegressionMetrics::default(),
        calibration: CalibrationReport {
            choice: chosen.calibration,
            test_ece: f64::NAN,
            test_ece_raw: chosen.test_ece_raw,
            test_mean_probability: f64::NAN,
            test_reliability: Vec::new(),
        },
        interval: IntervalReport {
            choice: chosen.interval,
            test: IntervalMetrics::default(),
            test_flagged_reaching: f64::NAN,
        },
        role: Role::Main,
        companions: Vec::new(),
    }
}

/// A model's fitted parts before they are put together.
struct Fitted {
    /// The grid's cell whose classifier was taken instead of fitted again.
    kept: Option<Cell>,
    classifier: FittedClassifier,
    calibrated: Calibrated,
    regressor: FittedRegressor,
    regressor_above: FittedRegressor,
    /// The score range's spread model.
    band: BoostingModel,
}

/// The classifier (the grid's own fit when it has the same rows and parameters) with its
/// calibration, and the score models. The two share nothing but the rows, so they are fitted
/// side by side: a network fits on one thread, and the score's network otherwise ran alone
/// after the classifier. Every fit is the same on any thread count.
fn fit_models(
    config: &TrainConfig,
    fits: &ChosenFits,
    data: &Prepared,
    (classifier_spec, regressor_spec): &(ModelSpec, ModelSpec),
    (fit, val): (&TrainSet<'_>, &TrainSet<'_>),
) -> Result<Fitted, ExperimentError> {
    let stage = Stage::Training;
    // The grid's fits are looked up only when the rows are the grid's (no tuning here).
    let fingerprint = (config.tune.is_none() && !fits.is_empty()).then(|| data.fingerprint());
    let take_classifier = || -> Option<(Cell, FittedClassifier)> {
        let cell = Cell::Classifier {
            setup: config.setup,
            strategy: config.strategy,
            model: classifier_spec.classifier_kind()?,
        };
        let kept = fits.classifier(cell, classifier_spec, config.seed, fingerprint.as_ref()?)?;
        Some((cell, kept.clone()))
    };
    let (classified, scored) = rayon::join(
        || {
            let (kept, classifier) = match take_classifier() {
                Some((cell, model)) => (Some(cell), model),
                None => (
                    None,
                    classifier_spec
                        .fit_classifier(fit, Some(val), config.seed)
                        .map_err(ExperimentError::model(&stage("classifier")))?,
                ),
            };
            let calibrated = calibrate(&classifier, data, &stage("calibration"))?;
            Ok::<_, ExperimentError>((kept, classifier, calibrated))
        },
        || score_models(config, regressor_spec, data),
    );
    let (kept, classifier, calibrated) = classified?;
    let (regressor, regressor_above, band) = scored?;
    Ok(Fitted {
        kept,
        classifier,
        calibrated,
        regressor,
        regressor_above,
        band,
    })
}

/// The score's two regressors (below and above the label threshold, each on its side's FIT
/// rows, early-stopped on its side's VAL rows) and the range's band booster.
fn score_models(
    config: &TrainConfig,
    spec: &ModelSpec,
    data: &Prepared,
) -> Result<(FittedRegressor, FittedRegressor, BoostingModel), ExperimentError> {
    let side = |above: bool| {
        let (fit_x, fit_y) = side_rows(&data.fit_x, &data.fit_score, config.threshold, above);
        let (val_x, val_y) = side_rows(&data.val_x, &data.val_score, config.threshold, above);
        spec.fit_regressor(
            &TrainSet::new(&fit_x, &fit_y),
            Some(&TrainSet::new(&val_x, &val_y)),
            config.seed,
        )
        .map_err(ExperimentError::model(&Stage::Training("score model")))
    };
    let (below, above) = (side(false)?, side(true)?);
    let band = fit_band(
        config.coverage,
        &TrainSet::new(&data.fit_x, &data.fit_score),
        &TrainSet::new(&data.val_x, &data.val_score),
        config.seed,
    )?;
    Ok((below, above, band))
}

/// The rows of `x` whose score is above `label` (or at or below it), with their scores.
fn side_rows(
    x: &FeatureMatrix,
    score: &[f64],
    label: u8,
    above: bool,
) -> (FeatureMatrix, Vec<f64>) {
    let rows: Vec<usize> = (0..score.len())
        .filter(|&i| (score[i] > f64::from(label)) == above)
        .collect();
    (x.select_rows(&rows), select(score, &rows))
}

/// A classifier's calibration on VAL, its F1 threshold on the calibrated VAL probabilities, and
/// the raw probabilities' calibration error on TEST (the calibrated ones are measured with the
/// rest of the model, by [`measured`]).
struct Calibrated {
    calibration: Calibration,
    choice: CalibrationChoice,
    threshold: Threshold,
    val_p: Vec<f64>,
    test_ece_raw: f64,
}

fn calibrate(
    classifier: &FittedClassifier,
    data: &Prepared,
    stage: &Stage,
) -> Result<Calibrated, ExperimentError> {
    let metric = ExperimentError::metric(stage);
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let raw_val = classifier.predict_proba(&data.val_x);
    let (calibration, choice) = Calibration::fit(&raw_val, &val_labels).map_err(metric)?;
    let calibrated =
        |raw: &[f64]| -> Vec<f64> { raw.iter().map(|&p| calibration.apply(p)).collect() };
    let val_p = calibrated(&raw_val);
    let threshold = best_f1_threshold(&val_p, &val_labels).map_err(metric)?;
    let raw_test = classifier.predict_proba(&data.test_x);
    let test_ece_raw = expected_calibration_error(&raw_test, &data.test_labels).map_err(metric)?;
    Ok(Calibrated {
        calibration,
        choice,
        threshold,
        val_p,
        test_ece_raw,
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

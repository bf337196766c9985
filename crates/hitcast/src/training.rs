//! Training the model that gets saved: one classifier and one regressor under a protocol's
//! split, with the decision threshold chosen on VAL and both models measured on TEST.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::artifact::{Artifact, Metadata, Payload, BACKGROUND_ROWS};
use crate::data::Tracks;
use crate::experiment::{
    prepare, targets, tune_classifier, tune_regressor, ExperimentError, TuneConfig,
};
use crate::features::{select, FeatureMatrix, FeatureSet, OutlierSetup};
use crate::metrics::{best_f1_threshold, ClassificationMetrics, RegressionMetrics};
use crate::models::{Classifier, ModelError, ModelSpec, Regressor, TrainSet};
use crate::sampling::{resample, Strategy};
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
}

/// Fits both models on FIT, picks the threshold on VAL, measures on TEST, and bundles them
/// with the pipeline. `data_sha256` identifies the training file in the metadata.
pub fn train(
    tracks: &Tracks,
    split: &Split,
    config: &TrainConfig,
    data_sha256: String,
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

    let resampled =
        resample(config.strategy, &data.fit_x, &data.fit_y, config.seed).map_err(|source| {
            ExperimentError::Sampling {
                cell: cell("resample"),
                source,
            }
        })?;
    let groups = select(&data.fit_groups, &resampled.origin);
    let fit = TrainSet {
        x: &resampled.x,
        y: &resampled.y,
        weights: resampled.weights.as_deref(),
        groups: Some(&groups),
    };
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
    let classifier = classifier_spec
        .fit_classifier(&fit, Some(&val), config.seed)
        .map_err(ExperimentError::model(&cell("classifier")))?;
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let evaluate = cell("evaluate");
    let metric = ExperimentError::metric(&evaluate);
    let threshold =
        best_f1_threshold(&classifier.predict_proba(&data.val_x), &val_labels).map_err(metric)?;
    let test_classification = ClassificationMetrics::new(
        &classifier.predict_proba(&data.test_x),
        &data.test_labels,
        threshold.value,
    )
    .map_err(metric)?;

    let regressor = regressor_spec
        .fit_regressor(&score_fit, Some(&score_val), config.seed)
        .map_err(ExperimentError::model(&cell("regressor")))?;
    let test_regression =
        RegressionMetrics::new(&regressor.predict(&data.test_x), &data.test_score)
            .map_err(metric)?;

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
            test_classification,
            test_regression,
        },
        payload: Payload {
            background: background(&data.fit_x, config.seed),
            pipeline: data.pipeline,
            classifier,
            regressor,
        },
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

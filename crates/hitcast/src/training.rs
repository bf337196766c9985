//! Training the model that gets saved: one classifier and one regressor under a protocol's
//! split, with the decision threshold chosen on VAL and both models measured on TEST.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::artifact::{Artifact, Metadata, Payload};
use crate::data::Tracks;
use crate::experiment::{prepare, targets, ExperimentError};
use crate::features::{FeatureSet, OutlierSetup};
use crate::metrics::{best_f1_threshold, ClassificationMetrics, RegressionMetrics};
use crate::models::{Classifier, ModelSpec, Regressor, TrainSet};
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
    let fit = TrainSet {
        x: &resampled.x,
        y: &resampled.y,
        weights: resampled.weights.as_deref(),
    };
    let val = TrainSet::new(&data.val_x, &data.val_y);
    let classifier = config
        .classifier
        .fit_classifier(&fit, Some(&val), config.seed)
        .map_err(|source| ExperimentError::Model {
            cell: cell("classifier"),
            source,
        })?;
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let metric = |source| ExperimentError::Metric {
        cell: cell("evaluate"),
        source,
    };
    let threshold =
        best_f1_threshold(&classifier.predict_proba(&data.val_x), &val_labels).map_err(metric)?;
    let test_classification = ClassificationMetrics::new(
        &classifier.predict_proba(&data.test_x),
        &data.test_labels,
        threshold.value,
    )
    .map_err(metric)?;

    let regressor = config
        .regressor
        .fit_regressor(
            &TrainSet::new(&data.fit_x, &data.fit_score),
            Some(&TrainSet::new(&data.val_x, &data.val_score)),
            config.seed,
        )
        .map_err(|source| ExperimentError::Model {
            cell: cell("regressor"),
            source,
        })?;
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
            classifier: config.classifier.clone(),
            regressor: config.regressor.clone(),
            features: data.pipeline.names().to_vec(),
            decision_threshold: threshold.value,
            test_classification,
            test_regression,
        },
        payload: Payload {
            pipeline: data.pipeline,
            classifier,
            regressor,
        },
    })
}

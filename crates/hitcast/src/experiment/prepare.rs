//! The data of one outlier setup, as every cell of that setup reads it: the feature pipeline
//! fitted on FIT, FIT (the rows the setup keeps) resampled per strategy, VAL and TEST.

use std::time::Instant;

use super::ExperimentError;
use crate::data::Tracks;
use crate::features::{
    select, FeatureMatrix, FeaturePipeline, FeatureSet, OutlierSetup, PipelineParams,
};
use crate::models::TrainSet;
use crate::sampling::{resample, Resampled, SamplingError, Strategy};
use crate::split::{Protocol, Split};

/// The features a protocol uses unless told otherwise: extended, plus the artist history under
/// the known-artist protocol (the only one where TEST artists have FIT tracks).
pub fn default_features(protocol: Protocol) -> FeatureSet {
    match protocol {
        Protocol::KnownArtist => FeatureSet::KnownArtist,
        Protocol::Honest | Protocol::Reference | Protocol::GenreHoldout => FeatureSet::Extended,
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

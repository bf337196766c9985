//! hitcast: predict how popular a Spotify track will be from its audio features and genres.
//!
//! The pipeline runs one way (docs/ARCHITECTURE.md):
//!
//! | stage | module | main types |
//! |---|---|---|
//! | load, validate, collapse | [`data`] | [`data::RowReader`], [`data::Tracks`] |
//! | explore | [`eda`] | [`eda::Eda`] |
//! | features | [`features`] | [`features::FeaturePipeline`], [`features::FeatureMatrix`] |
//! | split | [`split`] | [`split::Split`], [`split::Protocol`] |
//! | sample | [`sampling`] | [`sampling::Strategy`], [`sampling::resample`] |
//! | fit | [`models`] | [`models::ModelSpec`], [`models::FittedClassifier`] (logreg, rf, gbm, mlp, stack) |
//! | evaluate | [`metrics`], [`experiment`], [`evaluate`] | [`metrics::ClassificationMetrics`], [`experiment::Results`], [`evaluate::CatalogueFit`] (another catalogue) |
//! | calibrate, distribution | [`calibration`], [`distribution`], [`domain`] | [`calibration::Calibration`], [`distribution::DistributionModel`] (score, range), [`domain::Domain`] |
//! | other catalogues | [`known`], [`prior`], [`drift`] | [`known::KnownTracks`] (training tracks' fingerprints), [`prior::estimate`] (label shift), [`drift::Reference`] (PSI) |
//! | save | [`training`], [`artifact`] | [`artifact::Artifact`] (the file format) |
//! | score | [`predictor`] | [`predictor::Predictor`]: the one scoring path |
//! | explain | [`explain`] | [`explain::Explanation`] |
//! | report | [`report`], [`render`] | [`report::Report`], [`render::report::page_of`]; [`render::chart`] draws every page's charts |
//! | the main job | [`job`] | [`job::run_job`]: all of the above in order, as `hitcast run` |
//!
//! [`prelude`] imports the types most programs need.
//!
//! ```no_run
//! use hitcast::features::{FeaturePipeline, PipelineParams};
//! use hitcast::prelude::*;
//!
//! let loaded = read_rows("spotify_tracks.csv.gz".as_ref(), &ReadOptions::labelled())?;
//! let tracks = Protocol::Honest.table(loaded.rows); // one row per track_id
//! let labels = tracks.labels(DEFAULT_THRESHOLD).ok_or("no popularity column")?;
//! let split = Split::new(&tracks, &labels, Protocol::Honest, 0, 42)?;
//! let pipeline = FeaturePipeline::fit(&tracks, &split.fit, PipelineParams::default())?;
//! let test = pipeline.transform(&tracks, &split.test).matrix;
//! println!("{} test tracks x {} features", test.n_rows(), test.n_cols());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod artifact;
pub mod calibration;
pub mod data;
pub mod distribution;
pub mod domain;
pub mod drift;
pub mod eda;
pub mod evaluate;
pub mod experiment;
pub mod explain;
pub mod features;
pub mod fsutil;
pub mod job;
pub mod known;
pub mod metrics;
pub mod models;
pub mod predictor;
pub mod prelude;
pub mod prior;
pub mod render;
pub mod report;
pub mod sampling;
pub mod split;
pub mod text;
pub mod training;
pub mod words;

/// A small trained model and its table, for tests here and in the crates above
/// (feature `fixtures`).
#[cfg(any(test, feature = "fixtures"))]
#[doc(hidden)]
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
pub mod testutil;

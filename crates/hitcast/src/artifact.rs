//! The saved model: one file that loads anywhere and carries everything serving needs.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! b"HITCAST\0"  u32 format version  u64 n  n bytes JSON metadata  u64 m  m bytes postcard payload
//! 32 bytes SHA-256 of everything before it
//! ```
//!
//! The metadata is JSON so `hitcast model info` (and any other tool) can read it without the
//! payload's types; the payload (feature pipeline, classifier, regressor) is postcard, with the
//! boosted trees inside in hessboost's own stable binary format.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::{RawRow, Tracks, N_AUDIO};
use crate::explain::{explain, Explanation, SamplingOptions};
use crate::features::{FeatureMatrix, FeaturePipeline, TrackInput};
use crate::fsutil::write_atomic;
use crate::metrics::{ClassificationMetrics, RegressionMetrics};
use crate::models::{Classifier, Regressor};
use crate::models::{FittedClassifier, FittedRegressor, ModelError, ModelSpec};
use crate::sampling::Strategy;
use crate::split::Protocol;

/// The first bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"HITCAST\0";
/// The format this build writes and reads.
/// Version 2 added the background rows the explanations of MLP and stack models need.
pub const FORMAT_VERSION: u32 = 2;

/// FIT rows kept in the artifact as the explanations' background.
pub const BACKGROUND_ROWS: usize = 100;

/// What a saved model says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The hitcast version that wrote it.
    pub hitcast_version: String,
    /// Seconds since the Unix epoch when it was written (the one field that differs between
    /// two runs with the same data, parameters and seed).
    pub created_unix: u64,
    /// SHA-256 of the training data file.
    pub data_sha256: String,
    /// Protocol of the split it was evaluated under.
    pub protocol: Protocol,
    /// TEST fold.
    pub fold: Option<u8>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Popular means popularity > threshold.
    pub label_threshold: u8,
    /// Imbalance strategy applied to FIT.
    pub strategy: Strategy,
    /// The classifier's family and parameters.
    pub classifier: ModelSpec,
    /// Boosting rounds or network epochs the classifier kept (early stopping), if it has them.
    #[serde(default)]
    pub classifier_rounds: Option<usize>,
    /// The regressor's family and parameters.
    pub regressor: ModelSpec,
    /// Boosting rounds or network epochs the regressor kept, if it has them.
    #[serde(default)]
    pub regressor_rounds: Option<usize>,
    /// Feature column names, in the order the models read them.
    pub features: Vec<String>,
    /// Decision threshold on the probability, chosen on VAL for the best F1.
    pub decision_threshold: f64,
    /// The classifier on TEST.
    pub test_classification: ClassificationMetrics,
    /// The regressor on TEST.
    pub test_regression: RegressionMetrics,
}

/// The models and the pipeline that feeds them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    /// Turns a track into the feature row both models read.
    pub pipeline: FeaturePipeline,
    /// Probability of being popular.
    pub classifier: FittedClassifier,
    /// The 0-100 score.
    pub regressor: FittedRegressor,
    /// [`BACKGROUND_ROWS`] FIT rows (transformed, row-major): "a typical track" for
    /// explanations.
    pub background: Vec<f64>,
}

/// A saved model: metadata and payload.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// What it says about itself.
    pub metadata: Metadata,
    /// What it predicts with.
    pub payload: Payload,
}

/// Why a model file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Reading or writing the file failed.
    #[error("{}: cannot {action} the model file", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// "read" or "write".
        action: &'static str,
        /// The reason.
        #[source]
        source: io::Error,
    },
    /// The file does not start with the magic bytes.
    #[error("not a hitcast model file (it does not start with the hitcast magic bytes)")]
    NotAModel,
    /// Written by another format version.
    #[error("model format version {found} is not supported by this hitcast (it reads version {FORMAT_VERSION}); retrain or use a matching hitcast")]
    Version {
        /// The file's version.
        found: u32,
    },
    /// The file ends early.
    #[error("the model file is truncated ({0})")]
    Truncated(&'static str),
    /// The checksum does not match: the bytes changed after writing.
    #[error("the model file is corrupt: its SHA-256 checksum does not match")]
    Checksum,
    /// A section could not be decoded.
    #[error("the model file is corrupt: cannot decode its {section}: {reason}")]
    Decode {
        /// "metadata" or "payload".
        section: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// A section could not be encoded.
    #[error("cannot encode the model: {0}")]
    Encode(String),
}

impl Artifact {
    /// Encodes the artifact.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        let metadata =
            serde_json::to_vec(&self.metadata).map_err(|e| ArtifactError::Encode(e.to_string()))?;
        let payload =
            postcard::to_stdvec(&self.payload).map_err(|e| ArtifactError::Encode(e.to_string()))?;
        let mut bytes = Vec::with_capacity(8 + 4 + 16 + metadata.len() + payload.len() + 32);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&metadata);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&payload);
        let checksum = Sha256::digest(&bytes);
        bytes.extend_from_slice(&checksum);
        Ok(bytes)
    }

    /// Decodes an artifact, checking magic, version and checksum before anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
        let metadata = read_metadata(bytes)?;
        let (_, payload) = sections(bytes)?;
        let payload = postcard::from_bytes(payload).map_err(|e| ArtifactError::Decode {
            section: "payload",
            reason: e.to_string(),
        })?;
        let artifact = Artifact { metadata, payload };
        artifact.check()?;
        Ok(artifact)
    }

    /// Checks that the decoded parts fit together: a file with a valid checksum can still be
    /// crafted, or written by a buggy tool. The widths are compared, then one track is scored
    /// and explained; a model whose parts disagree fails that (the fuzzer found such files).
    fn check(&self) -> Result<(), ArtifactError> {
        let unfit = |reason: String| ArtifactError::Decode {
            section: "payload",
            reason,
        };
        let pipeline = &self.payload.pipeline;
        let width = pipeline.names().len();
        if self.metadata.features.len() != width {
            return Err(unfit(format!(
                "the metadata lists {} features and the pipeline makes {width}",
                self.metadata.features.len()
            )));
        }
        if width == 0 || self.payload.background.len() % width != 0 {
            return Err(unfit(
                "the background rows do not match the features".into(),
            ));
        }
        let coefficients = |m: &FittedRegressor| match m {
            FittedRegressor::Linear(m) => Some(m.beta.len()),
            _ => None,
        };
        let logistic = match &self.payload.classifier {
            FittedClassifier::Logistic(m) => Some(m.beta.len()),
            _ => None,
        };
        for (model, n) in [
            ("classifier", logistic),
            ("regressor", coefficients(&self.payload.regressor)),
        ] {
            if let Some(n) = n.filter(|&n| n != width + 1) {
                return Err(unfit(format!(
                    "the {model} has {n} coefficients for {width} features"
                )));
            }
        }
        let genres: Vec<String> = pipeline.genres().iter().take(1).cloned().collect();
        let track = TrackInput {
            audio: [0.5; N_AUDIO],
            genres: &genres,
            artists: "a;b",
            album_name: "an album",
            track_name: "a title (feat. c)",
        };
        let smoke = || -> Result<(), ModelError> {
            let (row, _) = pipeline.transform_one(&track);
            let x = FeatureMatrix::new(pipeline.names().to_vec(), row)
                .ok_or_else(|| ModelError::Shape("a row of the wrong width".into()))?;
            self.payload.classifier.predict_proba(&x);
            self.payload.regressor.predict(&x);
            let options = SamplingOptions {
                samples: 2,
                ..SamplingOptions::default()
            };
            explain(
                &self.payload.classifier,
                pipeline,
                &self.background()?,
                &x,
                options,
            )?;
            Ok(())
        };
        // A panic here means parts that disagree; its message would only confuse, so the hook
        // is silenced for the moment (the only panics caught anywhere in hitcast).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(smoke));
        std::panic::set_hook(hook);
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(unfit(format!("scoring a track fails: {e}"))),
            Err(_) => Err(unfit(
                "its parts do not fit together (scoring a track fails)".into(),
            )),
        }
    }

    /// Writes the artifact to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<(), ArtifactError> {
        write_atomic(path, &self.to_bytes()?).map_err(|source| ArtifactError::Io {
            path: path.to_owned(),
            action: "write",
            source,
        })
    }

    /// Reads an artifact from `path`.
    pub fn load(path: &Path) -> Result<Artifact, ArtifactError> {
        Artifact::from_bytes(&read(path)?)
    }
}

/// One explained track.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explained {
    /// The track's id.
    pub track_id: String,
    /// Its title.
    pub track_name: String,
    /// Its artists.
    pub artists: String,
    /// `probability >= decision_threshold`.
    pub popular: bool,
    /// The probability and why.
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// One scored track.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The track's id.
    pub track_id: String,
    /// Probability of being popular.
    pub probability: f64,
    /// `probability >= decision_threshold`.
    pub popular: bool,
    /// Predicted popularity score, clamped to 0-100.
    pub popularity: f64,
}

impl Artifact {
    /// Scores rows (one per row: a file to score is not collapsed). Returns the predictions in
    /// row order and the genres the model does not know (they score as no genre).
    pub fn predict(&self, rows: Vec<RawRow>) -> (Vec<Prediction>, BTreeSet<String>) {
        let tracks = Tracks::one_per_row(rows);
        let all: Vec<usize> = (0..tracks.len()).collect();
        let transformed = self.payload.pipeline.transform(&tracks, &all);
        let probabilities = self.payload.classifier.predict_proba(&transformed.matrix);
        let scores = self.payload.regressor.predict(&transformed.matrix);
        let predictions = tracks
            .rows
            .into_iter()
            .zip(probabilities.into_iter().zip(scores))
            .map(|(t, (p, s))| Prediction {
                track_id: t.track_id,
                probability: p,
                popular: p >= self.metadata.decision_threshold,
                popularity: s.clamp(0.0, 100.0),
            })
            .collect();
        (predictions, transformed.unknown_genres)
    }
}

impl Artifact {
    /// The background rows as a matrix.
    pub fn background(&self) -> Result<FeatureMatrix, ModelError> {
        FeatureMatrix::new(
            self.metadata.features.clone(),
            self.payload.background.clone(),
        )
        .ok_or_else(|| ModelError::Shape("the background rows do not match the features".into()))
    }

    /// Explains the classifier's probability for each row (one per row, as [`Artifact::predict`]).
    /// Returns the explanations in row order and the genres the model does not know.
    pub fn explain(
        &self,
        rows: Vec<RawRow>,
        options: SamplingOptions,
    ) -> Result<(Vec<Explained>, BTreeSet<String>), ModelError> {
        let tracks = Tracks::one_per_row(rows);
        let all: Vec<usize> = (0..tracks.len()).collect();
        let transformed = self.payload.pipeline.transform(&tracks, &all);
        let explanations = explain(
            &self.payload.classifier,
            &self.payload.pipeline,
            &self.background()?,
            &transformed.matrix,
            options,
        )?;
        let explained = tracks
            .rows
            .into_iter()
            .zip(explanations)
            .map(|(t, explanation)| Explained {
                track_id: t.track_id,
                track_name: t.track_name,
                artists: t.artists,
                popular: explanation.probability >= self.metadata.decision_threshold,
                explanation,
            })
            .collect();
        Ok((explained, transformed.unknown_genres))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    std::fs::read(path).map_err(|source| ArtifactError::Io {
        path: path.to_owned(),
        action: "read",
        source,
    })
}

/// Only the metadata of the file at `path` (checked like a full load), for `model info`.
pub fn load_metadata(path: &Path) -> Result<Metadata, ArtifactError> {
    read_metadata(&read(path)?)
}

fn read_metadata(bytes: &[u8]) -> Result<Metadata, ArtifactError> {
    let (metadata, _) = sections(bytes)?;
    serde_json::from_slice(metadata).map_err(|e| ArtifactError::Decode {
        section: "metadata",
        reason: e.to_string(),
    })
}

/// Checks the frame and returns the metadata and payload bytes.
fn sections(bytes: &[u8]) -> Result<(&[u8], &[u8]), ArtifactError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(ArtifactError::NotAModel);
    }
    let mut at = MAGIC.len();
    let version = u32::from_le_bytes(
        take(bytes, &mut at, 4, "version")?
            .try_into()
            .unwrap_or_default(),
    );
    if version != FORMAT_VERSION {
        return Err(ArtifactError::Version { found: version });
    }
    if bytes.len() < at + 32 {
        return Err(ArtifactError::Truncated("no checksum"));
    }
    let (body, checksum) = bytes.split_at(bytes.len() - 32);
    // Fuzzing skips the checksum so that the fuzzer reaches the decoders behind it.
    if !cfg!(fuzzing) && Sha256::digest(body).as_slice() != checksum {
        // A short file fails here too; say which it is when the lengths show it.
        return Err(match declared_len(body) {
            Some(n) if n > bytes.len() => ArtifactError::Truncated("shorter than its sections"),
            _ => ArtifactError::Checksum,
        });
    }
    let n = length(body, &mut at, "metadata length")?;
    let metadata = take(body, &mut at, n, "metadata")?;
    let m = length(body, &mut at, "payload length")?;
    let payload = take(body, &mut at, m, "payload")?;
    if at != body.len() {
        return Err(ArtifactError::Decode {
            section: "payload",
            reason: format!("{} unexpected bytes after it", body.len() - at),
        });
    }
    Ok((metadata, payload))
}

/// The total length the frame declares, if its length fields can be read.
fn declared_len(body: &[u8]) -> Option<usize> {
    let mut at = MAGIC.len() + 4;
    let n = length(body, &mut at, "").ok()?;
    at = at.checked_add(n)?;
    let m = length(body, &mut at, "").ok()?;
    at.checked_add(m)?.checked_add(32)
}

fn take<'a>(
    bytes: &'a [u8],
    at: &mut usize,
    n: usize,
    what: &'static str,
) -> Result<&'a [u8], ArtifactError> {
    let end = at
        .checked_add(n)
        .filter(|&e| e <= bytes.len())
        .ok_or(ArtifactError::Truncated(what))?;
    let slice = &bytes[*at..end];
    *at = end;
    Ok(slice)
}

fn length(bytes: &[u8], at: &mut usize, what: &'static str) -> Result<usize, ArtifactError> {
    let raw = take(bytes, at, 8, what)?;
    let n = u64::from_le_bytes(raw.try_into().unwrap_or_default());
    usize::try_from(n).map_err(|_| ArtifactError::Truncated(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Track, N_AUDIO};
    use crate::features::PipelineParams;
    use crate::metrics::Confusion;
    use crate::models::{BoostingParams, RegressorKind, TrainSet};

    fn tracks() -> Tracks {
        let rows = (0..200u32)
            .map(|i| {
                let mut audio = [0.5; N_AUDIO];
                audio[0] = f64::from(i * 1000 % 7919);
                audio[2] = f64::from(i % 10) / 10.0;
                Track {
                    line: u64::from(i) + 2,
                    track_id: format!("t{i}"),
                    artists: format!("a{}", i % 17),
                    album_name: String::new(),
                    track_name: format!("song {i}"),
                    popularity: Some(if i % 10 >= 8 { 80 } else { 20 }),
                    audio,
                    genres: vec![(i % 3) as u16],
                }
            })
            .collect();
        Tracks {
            genres: vec!["a".into(), "b".into(), "c".into()],
            rows,
            collapse: Default::default(),
        }
    }

    fn artifact() -> (Artifact, Tracks) {
        let t = tracks();
        let rows: Vec<usize> = (0..t.len()).collect();
        let pipeline = FeaturePipeline::fit(&t, &rows, PipelineParams::default()).unwrap();
        let x = pipeline.transform(&t, &rows).matrix;
        let y: Vec<f64> = t
            .rows
            .iter()
            .map(|r| f64::from(u8::from(r.popularity > Some(71))))
            .collect();
        let score: Vec<f64> = t
            .rows
            .iter()
            .map(|r| f64::from(r.popularity.unwrap()))
            .collect();
        let classifier = ModelSpec::Boosting(BoostingParams {
            max_rounds: 20,
            ..Default::default()
        });
        let regressor = ModelSpec::regressor(RegressorKind::Linear);
        let metrics = ClassificationMetrics {
            rows: 0,
            positive_rate: 0.0,
            majority_accuracy: 0.0,
            roc_auc: 0.0,
            pr_auc: 0.0,
            threshold: 0.5,
            confusion: Confusion::default(),
            f1: 0.0,
            precision: 0.0,
            recall: 0.0,
            accuracy: 0.0,
            balanced_accuracy: 0.0,
        };
        let artifact = Artifact {
            metadata: Metadata {
                hitcast_version: "test".into(),
                created_unix: 1,
                data_sha256: "00".into(),
                protocol: Protocol::Honest,
                fold: Some(0),
                seed: 1,
                label_threshold: 71,
                strategy: Strategy::None,
                classifier: classifier.clone(),
                classifier_rounds: None,
                regressor: regressor.clone(),
                regressor_rounds: None,
                features: pipeline.names().to_vec(),
                decision_threshold: 0.5,
                test_classification: metrics,
                test_regression: RegressionMetrics {
                    r2: 0.0,
                    rmse: 0.0,
                    mae: 0.0,
                },
            },
            payload: Payload {
                classifier: classifier
                    .fit_classifier(&TrainSet::new(&x, &y), None, 1)
                    .unwrap(),
                regressor: regressor
                    .fit_regressor(&TrainSet::new(&x, &score), None, 1)
                    .unwrap(),
                background: x.select_rows(&[0, 50, 100]).as_slice().to_vec(),
                pipeline,
            },
        };
        (artifact, t)
    }

    #[test]
    fn round_trip_predicts_identically() {
        let (a, t) = artifact();
        let bytes = a.to_bytes().unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        let b = Artifact::from_bytes(&bytes).unwrap();
        assert_eq!(b.metadata, a.metadata);
        let rows: Vec<usize> = (0..t.len()).collect();
        let x = b.payload.pipeline.transform(&t, &rows).matrix;
        assert_eq!(x, a.payload.pipeline.transform(&t, &rows).matrix);
        assert_eq!(
            b.payload.classifier.predict_proba(&x),
            a.payload.classifier.predict_proba(&x)
        );
        assert_eq!(
            b.payload.regressor.predict(&x),
            a.payload.regressor.predict(&x)
        );
        // Encoding is deterministic.
        assert_eq!(b.to_bytes().unwrap(), bytes);
    }

    /// The load error of `a` written out with a valid checksum.
    fn refused(a: &Artifact) -> String {
        match Artifact::from_bytes(&a.to_bytes().unwrap()) {
            Ok(_) => panic!("a model whose parts disagree loaded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_file_whose_parts_disagree_is_refused_though_its_checksum_is_valid() {
        // No coefficients: the fuzzer found this as a panic when scoring.
        let (mut a, _) = artifact();
        if let FittedRegressor::Linear(m) = &mut a.payload.regressor {
            m.beta.clear();
        }
        assert_eq!(
            refused(&a),
            "the model file is corrupt: cannot decode its payload: the regressor has 0 coefficients for 28 features"
        );
        let (mut a, _) = artifact();
        a.metadata.features.pop();
        assert!(refused(&a).ends_with("the metadata lists 27 features and the pipeline makes 28"));
        let (mut a, _) = artifact();
        a.payload.background.pop();
        assert!(refused(&a).ends_with("the background rows do not match the features"));
    }

    #[test]
    fn save_and_load_through_a_file() {
        let (a, _) = artifact();
        let dir = std::env::temp_dir().join(format!("hitcast-artifact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.hitcast");
        a.save(&path).unwrap();
        assert_eq!(load_metadata(&path).unwrap(), a.metadata);
        assert_eq!(Artifact::load(&path).unwrap().metadata, a.metadata);
        let err = Artifact::load(&dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("/missing: cannot read the model file"),
            "{err}"
        );
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let (a, _) = artifact();
        let bytes = a.to_bytes().unwrap();
        let msg = |b: &[u8]| Artifact::from_bytes(b).unwrap_err().to_string();
        assert_eq!(
            msg(b""),
            "not a hitcast model file (it does not start with the hitcast magic bytes)"
        );
        assert_eq!(
            msg(b"track_id,popularity\n"),
            "not a hitcast model file (it does not start with the hitcast magic bytes)"
        );
        let mut v1 = bytes.clone();
        v1[8] = 1;
        assert_eq!(msg(&v1), "model format version 1 is not supported by this hitcast (it reads version 2); retrain or use a matching hitcast");
        assert_eq!(msg(&bytes[..10]), "the model file is truncated (version)");
        assert_eq!(
            msg(&bytes[..bytes.len() / 2]),
            "the model file is truncated (shorter than its sections)"
        );
        let mut flipped = bytes.clone();
        let mid = bytes.len() / 2;
        flipped[mid] ^= 1;
        assert_eq!(
            msg(&flipped),
            "the model file is corrupt: its SHA-256 checksum does not match"
        );
        // Every truncation is an error, never a panic.
        for cut in (0..bytes.len()).step_by(97) {
            assert!(Artifact::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}

//! The saved model's file format: one file that loads anywhere and carries everything serving
//! needs. [`crate::predictor::Predictor::load`] reads it, checks that its parts fit together
//! and answers with it; this module only encodes, frames and checksums.
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

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calibration::{Calibration, CalibrationChoice};
use crate::distribution::{DistributionModel, IntervalChoice, IntervalMetrics};
use crate::domain::Domain;
use crate::drift::Reference;
use crate::features::{FeaturePipeline, OutlierSetup};
use crate::fsutil::write_atomic;
use crate::known::KnownTracks;
use crate::metrics::{CalibrationBin, ClassificationMetrics, RegressionMetrics};
use crate::models::{FittedClassifier, FittedRegressor, ModelSpec};
use crate::prior::AnswerShapes;
use crate::sampling::Strategy;
use crate::split::Protocol;

/// The first bytes of every artifact.
pub const MAGIC: &[u8; 8] = b"HITCAST\0";
/// The format this build writes and reads.
/// Version 2 added the background rows the explanations of MLP and stack models need; version 3
/// the calibration, the score's range and the input domain; version 4 the no-genres companion;
/// version 5 the score's distribution in place of its interval, the companions by role (a
/// new-song one), FIT's input distributions and the training tracks' fingerprints; version 6
/// the from-audio companion (a pipeline that reads the learned columns as constants); version
/// 7 the isotonic calibration's tails in log-odds (a file of 6 read by this rule would answer
/// otherwise past its end knots than its TEST figures say).
pub const FORMAT_VERSION: u32 = 7;

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
    /// How FIT's outliers were treated (absent from files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outliers: Option<OutlierSetup>,
    /// The classifier's family and parameters.
    pub classifier: ModelSpec,
    /// Boosting rounds or network epochs the classifier kept (early stopping), if it has them.
    #[serde(default)]
    pub classifier_rounds: Option<usize>,
    /// The regressor's family and parameters.
    pub regressor: ModelSpec,
    /// Boosting rounds or network epochs the score model below the label kept, if it has them.
    #[serde(default)]
    pub regressor_rounds: Option<usize>,
    /// The same for the score model above the label.
    #[serde(default)]
    pub regressor_above_rounds: Option<usize>,
    /// Feature column names, in the order the models read them.
    pub features: Vec<String>,
    /// Decision threshold on the calibrated probability, chosen on VAL for the best F1: a track
    /// at or above it is flagged as a hit contender.
    pub decision_threshold: f64,
    /// Share of popular tracks in FIT (before any resampling): a typical track's chance.
    pub base_rate: f64,
    /// The classifier (calibrated) on TEST.
    pub test_classification: ClassificationMetrics,
    /// The answer's score (its distribution's mean) on TEST.
    pub test_regression: RegressionMetrics,
    /// How the probability was calibrated, and how well it holds on TEST.
    pub calibration: CalibrationReport,
    /// How the score's range was made, and how well it holds on TEST.
    pub interval: IntervalReport,
    /// Which of the file's models this is.
    #[serde(default)]
    pub role: Role,
    /// The main model's companions, each for the tracks its role names (one per role; none
    /// has companions of its own). Every model `hitcast train` writes that reads genres has an
    /// no-genres one.
    #[serde(default)]
    pub companions: Vec<Metadata>,
}

/// Which of a saved model's models answers a track: every answer says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The model of every column its feature set has: it answers tracks a catalogue lists.
    #[default]
    Main,
    /// The same families trained on the same FIT rows without the columns a new, unreleased
    /// song cannot honestly have ([`crate::features::CATALOGUE_ONLY`]). It answers tracks
    /// without a `track_id`: the form without a catalogue track, the API, a file's rows.
    NewSong,
    /// The same families trained on the same FIT rows without genre columns and the extras
    /// computed from genres ([`crate::features::GENRE_DERIVED`]): audio, title and credits. It
    /// answers tracks with no genre the main model knows, and every track when genres are
    /// ignored (a catalogue whose genre labels mean something else than this dataset's).
    NoGenres,
    /// The same families trained on what an audio file gives ([`FeatureSet::Measured`]:
    /// duration, loudness, tempo, key, mode, metre), with explicit, the genres and the new-song
    /// extras. It answers rows measured from audio: their seven learned columns are empty.
    ///
    /// [`FeatureSet::Measured`]: crate::features::FeatureSet::Measured
    FromAudio,
}

impl Role {
    /// Every role, the main model's first.
    pub const ALL: [Role; 4] = [Role::Main, Role::NewSong, Role::NoGenres, Role::FromAudio];

    /// The name outputs use: `main`, `new-song`, `no-genres` or `from-audio`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::NewSong => "new-song",
            Role::NoGenres => "no-genres",
            Role::FromAudio => "from-audio",
        }
    }

    /// What the model reads, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Main => "the main model (audio, genres, title, credits and genre listings)",
            Role::NewSong => "the new-song model (audio, genres, title and credits)",
            Role::NoGenres => "the model without genres (audio, title and credits)",
            Role::FromAudio => {
                "the from-audio model (duration, loudness, tempo, key, mode and metre, with genres, title and credits)"
            }
        }
    }

    /// The feature set of a companion of this role beside a main model of `main`'s, if it
    /// differs from the main model's (no companion is needed otherwise).
    pub fn features(
        self,
        main: crate::features::FeatureSet,
    ) -> Option<crate::features::FeatureSet> {
        use crate::features::FeatureSet;
        let features = match self {
            Role::Main => return None,
            Role::NewSong if main == FeatureSet::Extended => FeatureSet::NewSong,
            Role::NewSong => return None,
            Role::NoGenres if !main.has_genres() => return None,
            Role::NoGenres if main.has_extras() => FeatureSet::NoGenres,
            Role::NoGenres => FeatureSet::Audio,
            Role::FromAudio if main == FeatureSet::Extended => FeatureSet::Measured,
            Role::FromAudio => return None,
        };
        (features != main).then_some(features)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The calibration's choice on VAL and its figures on TEST.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Platt or isotonic, chosen on VAL.
    pub choice: CalibrationChoice,
    /// Expected calibration error on TEST (ten bins of equal count), calibrated.
    pub test_ece: f64,
    /// The same for the raw probabilities, for comparison.
    pub test_ece_raw: f64,
    /// Mean calibrated probability on TEST (compare with the TEST popular rate).
    pub test_mean_probability: f64,
    /// TEST reliability curve: the deciles, then the top tenth cut finer.
    pub test_reliability: Vec<CalibrationBin>,
}

/// The range's choice on VAL and its figures on TEST.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalReport {
    /// The distribution's scale and the range's levels, chosen on VAL.
    pub choice: IntervalChoice,
    /// Coverage and mean width on TEST.
    pub test: IntervalMetrics,
    /// Share of flagged TEST tracks whose range reaches above the label
    /// threshold (the flag and the range agree).
    pub test_flagged_reaching: f64,
}

/// The models and the pipeline that feeds them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    /// Turns a track into the feature row both models read.
    pub pipeline: FeaturePipeline,
    /// Probability of being popular.
    pub classifier: FittedClassifier,
    /// The score model of tracks at or below the label threshold: where that side of each
    /// track's score distribution lies.
    pub regressor: FittedRegressor,
    /// The score model of tracks above the label threshold (the regressor's family, fitted on
    /// FIT's popular tracks).
    pub regressor_above: FittedRegressor,
    /// [`BACKGROUND_ROWS`] FIT rows (transformed, row-major): "a typical track" for
    /// explanations.
    pub background: Vec<f64>,
    /// From the classifier's raw probability to the calibrated one.
    pub calibration: Calibration,
    /// How VAL's calibrated answers spread for its popular tracks and the others: what a
    /// catalogue that differs in base rate only answers ([`crate::prior`]).
    pub shapes: AnswerShapes,
    /// Each track's score distribution, around the regressor's score: the answer's score and
    /// range.
    pub distribution: DistributionModel,
    /// What the model saw of each continuous input in training.
    pub domain: Domain,
    /// FIT's distribution of each input, for drift reports.
    pub reference: Reference,
    /// Fingerprints of every track of the training data (the main model's; a companion's is
    /// empty), so another catalogue is measured without them.
    pub known: KnownTracks,
    /// The companions' models, in the order of [`Metadata::companions`].
    pub companions: Vec<Payload>,
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

impl ArtifactError {
    /// This error about the model file at `path`, naming the file once and, where it could not
    /// be read or written, the system's reason (missing, permission denied), which the `Io`
    /// message leaves to its source.
    pub fn about(&self, path: &Path) -> String {
        match self {
            ArtifactError::Io { action, source, .. } => {
                format!(
                    "{}: cannot {action} the model file ({source})",
                    path.display()
                )
            }
            other => format!("{}: {other}", path.display()),
        }
    }
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
        Ok(Artifact { metadata, payload })
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
    use crate::testutil::fixture;

    #[test]
    fn round_trip_is_identical() {
        let (a, _) = fixture();
        let bytes = a.to_bytes().unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        let b = Artifact::from_bytes(&bytes).unwrap();
        assert_eq!(b.metadata, a.metadata);
        // Encoding is deterministic, so the payload came back whole.
        assert_eq!(b.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn save_and_load_through_a_file() {
        let (a, _) = fixture();
        let dir = crate::testutil::ScratchDir::new("artifact");
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
        let (a, _) = fixture();
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
        assert_eq!(msg(&v1), "model format version 1 is not supported by this hitcast (it reads version 7); retrain or use a matching hitcast");
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

//! The fitted classifier of the grid's chosen cell, kept so that `hitcast train` (the step
//! after the grid in `hitcast run`) takes it instead of fitting the same model a second time.
//! The grid's regressors are not kept: a saved model's score models are fitted on each side of
//! the label threshold ([`crate::distribution`]), which no grid cell does.
//!
//! A fit is the same when its cell, parameters, seed and prepared rows are: every fit is
//! deterministic given those. So each kept model carries them, the rows as a SHA-256 of
//! FIT and VAL after the pipeline (which also covers the data file, the column map, the
//! protocol's split, the feature set and the label threshold), and `train` takes a model
//! only when all of them match its own.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::results::by_val;
use super::{Cell, Prepared, ResultRow};
use crate::artifact::FORMAT_VERSION;
use crate::fsutil::write_atomic;
use crate::models::{FittedClassifier, ModelSpec};

/// The first bytes of a fits file.
const MAGIC: &[u8; 8] = b"HCFITS\0\0";

/// The fits file's own layout, after the magic: 2 since it ends in a checksum. The model
/// format ([`FORMAT_VERSION`]) follows it.
const FITS_VERSION: u32 = 2;

/// A fitted model with what it was fitted from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Kept<M> {
    /// Its grid cell.
    pub cell: Cell,
    /// Its family and parameters (as JSON inside the file: the specification is an
    /// adjacently tagged enum, which postcard cannot read back).
    #[serde(with = "json_string")]
    pub spec: ModelSpec,
    /// The seed of its fit.
    pub seed: u64,
    /// [`Prepared::fingerprint`] of the rows it was fitted on.
    pub rows: [u8; 32],
    /// Its VAL figure (PR-AUC or R²), which chose it.
    val: Option<f64>,
    /// The model.
    pub model: M,
}

/// The best classifier of a grid by VAL PR-AUC (the choice of [`super::Results::best_by_val`],
/// made as the cells finish).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ChosenFits {
    /// The classifier.
    pub classifier: Option<Kept<FittedClassifier>>,
}

/// What can go wrong reading or writing a fits file.
#[derive(Debug, Error)]
pub enum FitsError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// The file is not one this build wrote.
    #[error("{path}: not a fits file of this hitcast (format {FORMAT_VERSION}); run `hitcast experiment --keep-fits` again")]
    Foreign {
        /// The file.
        path: String,
    },
    /// The checksum does not match: the bytes changed after they were written.
    #[error("{path}: the fits file is corrupt (its SHA-256 checksum does not match); run `hitcast experiment --keep-fits` again")]
    Corrupt {
        /// The file.
        path: String,
    },
    /// The models cannot be encoded.
    #[error("cannot encode the fits: {0}")]
    Encode(String),
}

impl ChosenFits {
    /// Offers a finished classifier cell: kept when its VAL PR-AUC beats the best so far (the
    /// first of equals stays, as in [`super::Results::ranked_by_val`]). `model` is called
    /// only then.
    pub(crate) fn offer_classifier(
        &mut self,
        row: &ResultRow,
        spec: &ModelSpec,
        seed: u64,
        rows: [u8; 32],
        model: impl FnOnce() -> FittedClassifier,
    ) {
        let better = self
            .classifier
            .as_ref()
            .is_none_or(|best| by_val(row.val_figure(), best.val.unwrap_or(f64::NAN)).is_gt());
        if better {
            self.classifier = Some(Kept {
                cell: row.cell,
                spec: spec.clone(),
                seed,
                rows,
                val: Some(row.val_figure()),
                model: model(),
            });
        }
    }

    /// The kept classifier, if it is `cell` fitted by `spec` with `seed` on `rows`.
    pub fn classifier(
        &self,
        cell: Cell,
        spec: &ModelSpec,
        seed: u64,
        rows: &[u8; 32],
    ) -> Option<&FittedClassifier> {
        self.classifier
            .as_ref()
            .filter(|k| k.is(cell, spec, seed, rows))
            .map(|k| &k.model)
    }

    /// Whether it keeps no model.
    pub fn is_empty(&self) -> bool {
        self.classifier.is_none()
    }

    /// Writes the models to `path`, atomically: magic, the file's and the models' formats, the
    /// models, and a SHA-256 of all of those (a changed bit in a model's numbers would still
    /// decode, into another model).
    pub fn save(&self, path: &Path) -> Result<(), FitsError> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FITS_VERSION.to_le_bytes());
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let body = postcard::to_stdvec(self).map_err(|e| FitsError::Encode(e.to_string()))?;
        bytes.extend_from_slice(&body);
        let checksum = Sha256::digest(&bytes);
        bytes.extend_from_slice(&checksum);
        write_atomic(path, &bytes).map_err(|source| FitsError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads models written by [`ChosenFits::save`].
    pub fn load(path: &Path) -> Result<ChosenFits, FitsError> {
        let name = || path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| FitsError::Io {
            path: name(),
            source,
        })?;
        let framed = bytes
            .strip_prefix(MAGIC.as_slice())
            .and_then(|rest| rest.strip_prefix(FITS_VERSION.to_le_bytes().as_slice()))
            .and_then(|rest| rest.strip_prefix(FORMAT_VERSION.to_le_bytes().as_slice()))
            .ok_or_else(|| FitsError::Foreign { path: name() })?;
        let (body, checksum) = framed
            .split_at_checked(framed.len().saturating_sub(32))
            .filter(|(_, sum)| sum.len() == 32)
            .ok_or_else(|| FitsError::Corrupt { path: name() })?;
        if Sha256::digest(&bytes[..bytes.len() - 32]).as_slice() != checksum {
            return Err(FitsError::Corrupt { path: name() });
        }
        postcard::from_bytes(body).map_err(|_| FitsError::Foreign { path: name() })
    }
}

impl<M> Kept<M> {
    fn is(&self, cell: Cell, spec: &ModelSpec, seed: u64, rows: &[u8; 32]) -> bool {
        self.cell == cell && &self.spec == spec && self.seed == seed && &self.rows == rows
    }
}

impl Prepared {
    /// SHA-256 of what a fit reads: FIT's rows, labels, scores and groups, and VAL's rows,
    /// labels and scores, with the column names.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut buffer = Vec::with_capacity(8 * 1024);
        let mut floats = |h: &mut Sha256, values: &[f64]| {
            h.update((values.len() as u64).to_le_bytes());
            for chunk in values.chunks(1024) {
                buffer.clear();
                chunk
                    .iter()
                    .for_each(|v| buffer.extend_from_slice(&v.to_le_bytes()));
                h.update(&buffer);
            }
        };
        for name in self.fit_x.names() {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
        }
        floats(&mut h, self.fit_x.as_slice());
        floats(&mut h, &self.fit_y);
        floats(&mut h, &self.fit_score);
        h.update((self.fit_groups.len() as u64).to_le_bytes());
        for g in &self.fit_groups {
            h.update(g.to_le_bytes());
        }
        floats(&mut h, self.val_x.as_slice());
        floats(&mut h, &self.val_y);
        floats(&mut h, &self.val_score);
        h.finalize().into()
    }
}

/// Serde through a JSON string.
mod json_string {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&serde_json::to_string(value).map_err(S::Error::custom)?)
    }

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        serde_json::from_str(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::results::{ClassifierFigures, Figures, NAN_CLASSIFIER};
    use crate::features::{FeatureMatrix, OutlierSetup};
    use crate::models::{ClassifierKind, TrainSet};
    use crate::sampling::Strategy;

    fn classifier() -> FittedClassifier {
        let x = FeatureMatrix::new(vec!["a".into()], (0..40).map(f64::from).collect()).unwrap();
        let y: Vec<f64> = (0..40).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
        ModelSpec::classifier(ClassifierKind::Logreg)
            .fit_classifier(&TrainSet::new(&x, &y), None, 1)
            .unwrap()
    }

    fn classifier_row(strategy: Strategy, val: f64) -> ResultRow {
        ResultRow::new(
            Cell::Classifier {
                setup: OutlierSetup::Raw,
                strategy,
                model: ClassifierKind::Logreg,
            },
            Figures::Classifier(ClassifierFigures {
                val_pr_auc: val,
                ..NAN_CLASSIFIER
            }),
        )
    }

    #[test]
    fn the_best_on_val_is_kept_the_first_of_equals_and_only_its_own_fit_matches() {
        let c = classifier();
        let spec = ModelSpec::classifier(ClassifierKind::Logreg);
        let mut fits = ChosenFits::default();
        let mut calls = 0;
        for (strategy, val) in [
            (Strategy::None, 0.2),
            (Strategy::Weights, 0.3),
            (Strategy::Smote, 0.3),
            (Strategy::Undersample, 0.1),
        ] {
            fits.offer_classifier(&classifier_row(strategy, val), &spec, 7, [1; 32], || {
                calls += 1;
                c.clone()
            });
        }
        // Cloned only when it became the best: none, then weights.
        assert_eq!(calls, 2);
        let cell = classifier_row(Strategy::Weights, 0.0).cell;
        assert!(fits.classifier(cell, &spec, 7, &[1; 32]).is_some());
        assert!(fits.classifier(cell, &spec, 8, &[1; 32]).is_none());
        assert!(fits.classifier(cell, &spec, 7, &[2; 32]).is_none());
        let other = spec.with_param("l2", "2.0").unwrap();
        assert!(fits.classifier(cell, &other, 7, &[1; 32]).is_none());

        // Saved and read back, the same choices; another file is refused by name.
        let dir = crate::testutil::ScratchDir::new("fits");
        let path = dir.join("fits.bin");
        fits.save(&path).unwrap();
        let back = ChosenFits::load(&path).unwrap();
        assert_eq!(
            back.classifier.as_ref().map(|k| k.cell),
            fits.classifier.as_ref().map(|k| k.cell)
        );
        assert!(back.classifier(cell, &spec, 7, &[1; 32]).is_some());
        // One changed bit in the models is found.
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = ChosenFits::load(&path).unwrap_err().to_string();
        assert!(err.ends_with("fits.bin: the fits file is corrupt (its SHA-256 checksum does not match); run `hitcast experiment --keep-fits` again"), "{err}");
        std::fs::write(&path, &bytes[..20]).unwrap();
        assert!(matches!(
            ChosenFits::load(&path),
            Err(FitsError::Corrupt { .. })
        ));
        std::fs::write(&path, b"HCFITS\0\0\x01\0\0\0").unwrap();
        let err = ChosenFits::load(&path).unwrap_err().to_string();
        assert!(err.ends_with("fits.bin: not a fits file of this hitcast (format 7); run `hitcast experiment --keep-fits` again"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

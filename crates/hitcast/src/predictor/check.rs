//! The checks a model file passes at load: its parts fit together (the pipeline's columns, the
//! models' inputs, the calibration, the score distribution), so a file that loads answers.

use crate::artifact::{ArtifactError, Metadata, Payload, Role};
use crate::features::{FeatureMatrix, FeatureSet};
use crate::models::ModelError;

pub(super) fn unfit(reason: String) -> ArtifactError {
    ArtifactError::Decode {
        section: "payload",
        reason,
    }
}

/// Checks that one model's parts fit together and returns its background rows.
pub(super) fn check(m: &Metadata, p: &Payload) -> Result<FeatureMatrix, ArtifactError> {
    let width = p.pipeline.names().len();
    if m.features.len() != width {
        return Err(unfit(format!(
            "the metadata lists {} features and the pipeline makes {width}",
            m.features.len()
        )));
    }
    let background = FeatureMatrix::new(p.pipeline.names().to_vec(), p.background.clone())
        .filter(|b| b.n_rows() > 0)
        .ok_or_else(|| unfit("the background rows do not match the features".into()))?;
    let part = |name: &'static str| move |e: ModelError| unfit(format!("the {name}: {e}"));
    p.classifier
        .check_inputs(width)
        .map_err(part("classifier"))?;
    p.regressor.check_inputs(width).map_err(part("regressor"))?;
    p.regressor_above
        .check_inputs(width)
        .map_err(part("regressor above the label"))?;
    p.distribution
        .check_inputs(width)
        .map_err(part("score's distribution"))?;
    p.calibration
        .check()
        .map_err(|e| unfit(format!("the calibration: {e}")))?;
    p.domain.check_ranges().map_err(unfit)?;
    p.reference.check().map_err(unfit)?;
    p.known.check().map_err(unfit)?;
    p.shapes.check().map_err(unfit)?;
    if !(m.decision_threshold.is_finite() && m.base_rate > 0.0 && m.base_rate < 1.0) {
        return Err(unfit("the threshold or base rate is not valid".into()));
    }
    Ok(background)
}

/// Checks a companion against the main model and its role, and returns its background rows.
pub(super) fn check_companion(
    main: &Metadata,
    m: &Metadata,
    p: &Payload,
) -> Result<FeatureMatrix, ArtifactError> {
    let name = m.role.describe();
    let refuse = |what: &str| unfit(format!("{name} {what}"));
    if !m.companions.is_empty() || !p.companions.is_empty() {
        return Err(refuse("has companions of its own"));
    }
    let features = p.pipeline.params().features;
    match m.role {
        Role::Main => return Err(refuse("is a companion")),
        Role::NoGenres if features.has_genres() => return Err(refuse("reads genres")),
        Role::NewSong if features != FeatureSet::NewSong => {
            return Err(refuse("reads what a new song cannot have"))
        }
        Role::FromAudio if features != FeatureSet::Measured => {
            return Err(refuse("reads what an audio file does not give"))
        }
        Role::NoGenres | Role::NewSong | Role::FromAudio => {}
    }
    if m.label_threshold != main.label_threshold {
        return Err(refuse("was trained for another threshold"));
    }
    check(m, p).map_err(|e| match e {
        ArtifactError::Decode { reason, .. } => unfit(format!("{name}: {reason}")),
        e => e,
    })
}

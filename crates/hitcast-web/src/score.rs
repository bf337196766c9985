//! The API's and the pages' answer for checked tracks: the core [`Predictor`]'s prediction, with
//! the caller's id, a label in words and, on request, the explanation. Nothing is computed here
//! that the CLI does not compute the same way.

use hitcast::explain::{Explanation, SamplingOptions};
use hitcast::models::ModelError;
use hitcast::predictor::{Prediction, Predictor};
use serde::Serialize;

use crate::track::TrackRequest;

/// The label of a flagged track.
pub const FLAGGED: &str = "flagged as a likely hit";
/// The label of any other track.
pub const NOT_FLAGGED: &str = "not flagged";

/// One scored track, as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    /// The id the caller gave (empty if none).
    pub track_id: String,
    /// The answer.
    #[serde(flatten)]
    pub answer: Prediction,
    /// [`FLAGGED`] or [`NOT_FLAGGED`].
    pub label: &'static str,
    /// Why, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Scores `tracks`, explaining each when `explain` is set (`samples` bounds the sampling
/// method's cost; the exact methods ignore it).
pub fn score(
    predictor: &Predictor,
    tracks: &[TrackRequest],
    explain: bool,
    samples: usize,
) -> Result<Vec<Scored>, ModelError> {
    let inputs: Vec<_> = tracks.iter().map(TrackRequest::input).collect();
    let answers: Vec<(Prediction, Option<Explanation>)> = if explain {
        let options = SamplingOptions {
            samples,
            ..SamplingOptions::default()
        };
        predictor
            .score_explained(&inputs, options)?
            .into_iter()
            .map(|(answer, e)| (answer, Some(e)))
            .collect()
    } else {
        predictor
            .score(&inputs)?
            .into_iter()
            .map(|answer| (answer, None))
            .collect()
    };
    Ok(tracks
        .iter()
        .zip(answers)
        .map(|(t, (answer, explanation))| Scored {
            track_id: t.track_id.clone(),
            label: if answer.flagged { FLAGGED } else { NOT_FLAGGED },
            answer,
            explanation,
        })
        .collect())
}

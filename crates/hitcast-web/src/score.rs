//! The API's and the pages' answer for checked tracks: the core [`Predictor`]'s prediction, with
//! the caller's id, a label in words and, on request, the explanation. Nothing is computed here
//! that the CLI does not compute the same way.

use hitcast::explain::{Explanation, SamplingOptions, ScoreExplanation};
use hitcast::models::ModelError;
use hitcast::predictor::{Prediction, Predictor};
use serde::Serialize;

use crate::track::TrackRequest;

/// One scored track, as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    /// The id the caller gave (empty if none).
    pub track_id: String,
    /// The answer.
    #[serde(flatten)]
    pub answer: Prediction,
    /// What the flag means, in words ([`hitcast::predictor::Verdict::text`]).
    pub label: &'static str,
    /// The answering model's decision threshold (the `model` field names it).
    pub threshold: f64,
    /// Why this chance, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// Why this score, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_explanation: Option<ScoreExplanation>,
}

/// Scores `tracks`, explaining each when `explain` is set (`samples` bounds the sampling
/// method's cost; the exact methods ignore it). Sampled explanations draw with the model's
/// own training seed, so `hitcast explain --seed` with that seed gives the same numbers.
pub fn score(
    predictor: &Predictor,
    tracks: &[TrackRequest],
    explain: bool,
    samples: usize,
) -> Result<Vec<Scored>, ModelError> {
    let inputs: Vec<_> = tracks.iter().map(TrackRequest::input).collect();
    type Why = (Option<Explanation>, Option<ScoreExplanation>);
    let answers: Vec<(Prediction, Why)> = if explain {
        let options = SamplingOptions {
            samples,
            seed: predictor.metadata().seed,
        };
        let scores = predictor.explain_scores(&inputs, options)?;
        predictor
            .score_explained(&inputs, options)?
            .into_iter()
            .zip(scores)
            .map(|((answer, e), s)| (answer, (Some(e), Some(s))))
            .collect()
    } else {
        predictor
            .score(&inputs)?
            .into_iter()
            .map(|answer| (answer, (None, None)))
            .collect()
    };
    Ok(tracks
        .iter()
        .zip(answers)
        .map(|(t, (answer, (explanation, score_explanation)))| Scored {
            track_id: t.track_id.clone(),
            label: answer.chance.verdict().text(),
            threshold: predictor.decision_threshold(&answer),
            answer,
            explanation,
            score_explanation,
        })
        .collect())
}

//! Answers with their explanations: the contributions behind the chance (calibrated, in
//! log-odds) and behind the score (in points).

use super::{input, Prediction, Predictor};
use crate::artifact::Role;
use crate::calibration::logit;
use crate::data::RawRow;
use crate::explain::{
    explain_score, show_own_values, Explanation, SamplingOptions, ScoreExplanation,
};
use crate::features::{FeatureMatrix, TrackInput};
use crate::models::ModelError;

impl Predictor {
    /// Answers for `tracks` and why each gets its probability: contributions on the calibrated
    /// log-odds scale, from the model's starting point (base) to this track's, by the model
    /// that answered, each input shown with the track's own value ([`show_own_values`]). One
    /// feature transform serves both.
    pub fn score_explained(
        &self,
        tracks: &[TrackInput],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        self.routed(tracks, |head, share| {
            if share.is_empty() {
                return Ok(Vec::new());
            }
            let batch = head.batch(share);
            let mut explanations = head.explain(&batch.x, options)?;
            for (e, track) in explanations.iter_mut().zip(share) {
                show_own_values(
                    &mut e.contributions,
                    &head.payload.pipeline,
                    &track.audio,
                    track.track_name,
                );
            }
            if let Some(prior) = self.prior {
                // Bayes' rule moves every log-odds by the same amount: the base takes it.
                let shift = logit(prior) - logit(head.metadata.base_rate);
                for e in &mut explanations {
                    e.base += shift;
                    e.log_odds += shift;
                    e.probability = crate::models::sigmoid(e.log_odds);
                }
            }
            Ok(self
                .answer(head, share, batch)?
                .into_iter()
                .zip(explanations)
                .collect())
        })
    }

    /// Why each of `tracks` gets its 0-100 score: contributions in points of popularity from a
    /// typical track's score to this one's, by the model that answered (the companion's for a
    /// track with no genre the main model knows): each input's through the score model below
    /// the label, then the chance of a score above it ([`crate::explain::HIT_CHANCE`]), which
    /// adds up to the answer's score.
    pub fn explain_scores(
        &self,
        tracks: &[TrackInput],
        options: SamplingOptions,
    ) -> Result<Vec<ScoreExplanation>, ModelError> {
        self.routed(tracks, |head, share| {
            if share.is_empty() {
                return Ok(Vec::new());
            }
            let batch = head.batch(share);
            let p = head.payload;
            let explained = explain_score(
                &p.regressor,
                &p.pipeline,
                head.background,
                &batch.x,
                options,
            )?;
            let answers = self.answer(head, share, batch)?;
            Ok(explained
                .into_iter()
                .zip(answers)
                .zip(share)
                .map(|((mut e, a), track)| {
                    show_own_values(
                        &mut e.contributions,
                        &p.pipeline,
                        &track.audio,
                        track.track_name,
                    );
                    e.with_hit_chance(a.popularity, a.chance.probability)
                })
                .collect())
        })
    }

    /// [`Predictor::score_explained`] for rows read from a file.
    pub fn score_explained_rows(
        &self,
        rows: &[RawRow],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        self.score_explained(&rows.iter().map(input).collect::<Vec<_>>(), options)
    }

    /// Explanations of rows transformed by the main model's pipeline, calibrated: see
    /// `calibrate`.
    pub fn explain_matrix(
        &self,
        x: &FeatureMatrix,
        options: SamplingOptions,
    ) -> Result<Vec<Explanation>, ModelError> {
        self.head(Role::Main).explain(x, options)
    }
}

//! The one way to score a track: the fitted pipeline, the classifier and its calibration, the
//! score model and its range, the input domain and the explanation background, checked to fit
//! together once, at load. `hitcast predict`, `explain`, `report`, `bench` and the server (pages
//! and API) all answer through [`Predictor`], so they agree to the last bit. It scores, explains,
//! and draws what-if curves (one input varied, the rest held).
//!
//! ```text
//! TrackInput ──pipeline──▶ feature row ──classifier──▶ raw p ──calibration──▶ probability, flag, lift
//!                                      └─regressor──▶ score ──interval──▶ low, high
//! audio ──domain──▶ warnings
//! ```

use std::path::Path;

use serde::Serialize;

use crate::artifact::{Artifact, ArtifactError, Metadata};
use crate::calibration::{logit, Calibration};
use crate::data::{Column, FieldProblem, RawRow, N_AUDIO};
use crate::domain::Warning;
use crate::explain::{explain, Explanation, Method, SamplingOptions};
use crate::features::{FeatureMatrix, FeaturePipeline, TrackInput};
use crate::interval::agree;
use crate::models::{Classifier, ModelError, Regressor};

/// One track's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The calibrated chance that the track's popularity is above the label threshold.
    pub probability: f64,
    /// `probability` reaches the decision threshold chosen on VAL: a likely hit.
    pub flagged: bool,
    /// `probability` over the share of popular tracks in training: "16x a typical track's
    /// chance".
    pub lift: f64,
    /// The predicted 0-100 score.
    pub popularity: f64,
    /// Lower end of the score's range (at the model's coverage).
    pub popularity_low: f64,
    /// Upper end of the score's range.
    pub popularity_high: f64,
    /// Inputs beyond what the model saw in training.
    pub warnings: Vec<Warning>,
    /// Genres the model does not know: they score as no genre.
    pub unknown_genres: Vec<String>,
}

/// A saved model, checked and ready to answer.
#[derive(Clone, Debug)]
pub struct Predictor {
    artifact: Artifact,
    background: FeatureMatrix,
}

/// Feature rows of a batch of tracks, with what the answers need beside them.
struct Batch {
    x: FeatureMatrix,
    audio: Vec<[f64; N_AUDIO]>,
    unknown: Vec<Vec<String>>,
}

impl Predictor {
    /// Checks that the artifact's parts fit together, structurally: the metadata's features
    /// against the pipeline, the background's width, each model's inputs (coefficient counts,
    /// tree feature indices, layer shapes, the stack's members), the calibration and the
    /// interval. A file with a valid checksum can still be crafted, or written by a buggy tool.
    pub fn new(artifact: Artifact) -> Result<Predictor, ArtifactError> {
        let unfit = |reason: String| ArtifactError::Decode {
            section: "payload",
            reason,
        };
        let p = &artifact.payload;
        let width = p.pipeline.names().len();
        if artifact.metadata.features.len() != width {
            return Err(unfit(format!(
                "the metadata lists {} features and the pipeline makes {width}",
                artifact.metadata.features.len()
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
        p.interval
            .check_inputs(width)
            .map_err(part("score's range"))?;
        p.calibration
            .check()
            .map_err(|e| unfit(format!("the calibration: {e}")))?;
        p.domain.check_ranges().map_err(unfit)?;
        let m = &artifact.metadata;
        if !(m.decision_threshold.is_finite() && m.base_rate > 0.0 && m.base_rate < 1.0) {
            return Err(unfit("the threshold or base rate is not valid".into()));
        }
        Ok(Predictor {
            artifact,
            background,
        })
    }

    /// Reads and checks the model file at `path`.
    pub fn load(path: &Path) -> Result<Predictor, ArtifactError> {
        Predictor::new(Artifact::load(path)?)
    }

    /// What the model says about itself.
    pub fn metadata(&self) -> &Metadata {
        &self.artifact.metadata
    }

    /// The saved model.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// The fitted feature pipeline.
    pub fn pipeline(&self) -> &FeaturePipeline {
        &self.artifact.payload.pipeline
    }

    /// How this model's contributions are computed.
    pub fn method(&self) -> Method {
        Method::of(&self.artifact.payload.classifier)
    }

    /// Answers for `tracks`, in order. Fails only if a model gives a number that is not finite,
    /// which inputs inside the domain never cause: the caller reports it, never shows it.
    pub fn score(&self, tracks: &[TrackInput]) -> Result<Vec<Prediction>, ModelError> {
        self.answer(self.batch(tracks))
    }

    /// What-if: the answer for `track` with one audio input set to each of `values`, everything
    /// else held. A value is checked against the input's rule first (its physical range; a
    /// whole number for codes), so a curve never reaches values the API would refuse.
    pub fn what_if(
        &self,
        track: &TrackInput,
        column: Column,
        values: &[f64],
    ) -> Result<Vec<Prediction>, WhatIfError> {
        let i = column.audio_index().ok_or(WhatIfError::NotAudio(column))?;
        let rule = column.rule();
        let variants = values
            .iter()
            .map(|&v| {
                let v = rule
                    .check(v)
                    .map_err(|problem| WhatIfError::Value { column, problem })?;
                let mut variant = track.clone();
                variant.audio[i] = v;
                Ok(variant)
            })
            .collect::<Result<Vec<_>, WhatIfError>>()?;
        Ok(self.score(&variants)?)
    }

    /// [`Predictor::score`] for rows read from a file.
    pub fn score_rows(&self, rows: &[RawRow]) -> Result<Vec<Prediction>, ModelError> {
        self.score(&rows.iter().map(input).collect::<Vec<_>>())
    }

    /// Answers for `tracks` and why each gets its probability: contributions on the calibrated
    /// log-odds scale, from the model's starting point (base) to this track's. One feature
    /// transform serves both.
    pub fn score_explained(
        &self,
        tracks: &[TrackInput],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        if tracks.is_empty() {
            return Ok(Vec::new());
        }
        let batch = self.batch(tracks);
        let explanations = self.explain_matrix(&batch.x, options)?;
        Ok(self.answer(batch)?.into_iter().zip(explanations).collect())
    }

    /// [`Predictor::score_explained`] for rows read from a file.
    pub fn score_explained_rows(
        &self,
        rows: &[RawRow],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        self.score_explained(&rows.iter().map(input).collect::<Vec<_>>(), options)
    }

    /// Calibrated probabilities of transformed rows (the report's TEST rows).
    pub fn probabilities(&self, x: &FeatureMatrix) -> Vec<f64> {
        let calibration = &self.artifact.payload.calibration;
        self.artifact
            .payload
            .classifier
            .predict_proba(x)
            .into_iter()
            .map(|p| calibration.apply(p))
            .collect()
    }

    /// Explanations of transformed rows, calibrated: the classifier's raw contributions are
    /// rescaled so that base + contributions = the calibrated log-odds. Platt scaling is affine
    /// in log-odds, so there the rescaling is exact (every contribution times its slope); after
    /// isotonic calibration it shares the calibrated move out in proportion.
    pub fn explain_matrix(
        &self,
        x: &FeatureMatrix,
        options: SamplingOptions,
    ) -> Result<Vec<Explanation>, ModelError> {
        let p = &self.artifact.payload;
        let mut explanations = explain(&p.classifier, &p.pipeline, &self.background, x, options)?;
        for e in &mut explanations {
            calibrate(e, &p.calibration);
        }
        Ok(explanations)
    }

    fn batch(&self, tracks: &[TrackInput]) -> Batch {
        let pipeline = self.pipeline();
        let width = pipeline.names().len();
        let mut data = Vec::with_capacity(tracks.len() * width);
        let mut unknown = Vec::with_capacity(tracks.len());
        for t in tracks {
            let (row, u) = pipeline.transform_one(t);
            data.extend(row);
            unknown.push(u);
        }
        Batch {
            x: FeatureMatrix::new(pipeline.names().to_vec(), data).unwrap_or_else(|| {
                unreachable!("transform_one writes rows of the pipeline's width")
            }),
            audio: tracks.iter().map(|t| t.audio).collect(),
            unknown,
        }
    }

    fn answer(&self, batch: Batch) -> Result<Vec<Prediction>, ModelError> {
        let p = &self.artifact.payload;
        let m = &self.artifact.metadata;
        let probabilities = self.probabilities(&batch.x);
        let scores = p.regressor.predict(&batch.x);
        if let Some(i) = probabilities
            .iter()
            .zip(&scores)
            .position(|(p, s)| !(p.is_finite() && s.is_finite()))
        {
            return Err(ModelError::Shape(format!(
                "the model gave no finite answer for track {}",
                i + 1
            )));
        }
        let coverage = m.interval.choice.coverage;
        let ranges = p.interval.predict(&batch.x, &scores);
        Ok(probabilities
            .into_iter()
            .zip(scores)
            .zip(ranges)
            .zip(batch.audio.iter().zip(batch.unknown))
            .map(|(((probability, score), range), (audio, unknown_genres))| {
                let range = agree(range, probability, coverage, m.label_threshold);
                Prediction {
                    probability,
                    flagged: probability >= m.decision_threshold,
                    lift: probability / m.base_rate,
                    popularity: score.clamp(0.0, 100.0),
                    popularity_low: range.low,
                    popularity_high: range.high,
                    warnings: p.domain.check(audio),
                    unknown_genres,
                }
            })
            .collect())
    }
}

/// Why a what-if curve could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    /// Only the audio inputs can be varied.
    #[error("{0} is not an audio input: only those can be varied")]
    NotAudio(Column),
    /// A value is outside the input's range.
    #[error("{column}: {problem}")]
    Value {
        /// The input.
        column: Column,
        /// Why the value was refused.
        problem: FieldProblem,
    },
    /// The model gave no finite answer.
    #[error("the model could not answer")]
    Model(#[from] ModelError),
}

/// A file row as the predictor's input.
pub fn input(row: &RawRow) -> TrackInput<'_> {
    TrackInput {
        audio: row.audio,
        genres: &row.genres,
        artists: &row.artists,
        album_name: &row.album_name,
        track_name: &row.track_name,
    }
}

/// Moves an explanation from the classifier's raw log-odds to the calibrated ones.
fn calibrate(e: &mut Explanation, calibration: &Calibration) {
    let raw_move = e.log_odds - e.base;
    let base = logit(calibration.apply(crate::models::sigmoid(e.base)));
    let probability = calibration.apply(e.probability);
    let log_odds = logit(probability);
    let scale = if raw_move.abs() > 1e-12 {
        (log_odds - base) / raw_move
    } else {
        0.0
    };
    for c in &mut e.contributions {
        c.contribution *= scale;
    }
    // Exactly additive after rescaling: put the rounding residue on the base.
    let sum: f64 = e.contributions.iter().map(|c| c.contribution).sum();
    e.base = log_odds - sum;
    e.log_odds = log_odds;
    e.probability = probability;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::CLIP;
    use crate::interval::IntervalModel;
    use crate::models::FittedRegressor;
    use crate::testutil::fixture;

    fn refused(a: Artifact) -> String {
        match Predictor::new(a) {
            Ok(_) => panic!("a model whose parts disagree was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_model_whose_parts_disagree_is_refused_at_load() {
        // No coefficients: the fuzzer found this as a panic when scoring.
        let (mut a, _) = fixture();
        if let FittedRegressor::Linear(m) = &mut a.payload.regressor {
            m.beta.clear();
        }
        assert_eq!(
            refused(a),
            "the model file is corrupt: cannot decode its payload: the regressor: bad input: 0 \
             coefficients for 28 inputs (expected 29)"
        );
        let (mut a, _) = fixture();
        a.metadata.features.pop();
        assert!(refused(a).ends_with("the metadata lists 27 features and the pipeline makes 28"));
        let (mut a, _) = fixture();
        a.payload.background.pop();
        assert!(refused(a).ends_with("the background rows do not match the features"));
        let (mut a, _) = fixture();
        a.payload.interval = IntervalModel::Split {
            half_width: f64::NAN,
        };
        assert!(refused(a)
            .ends_with("the score's range: bad input: an interval whose width is not finite"));
        let (mut a, _) = fixture();
        a.payload.calibration = Calibration::Isotonic {
            x: vec![],
            y: vec![],
        };
        assert!(refused(a).ends_with("the calibration: 0 isotonic knots for 0 values"));
    }

    #[test]
    fn answers_are_calibrated_flagged_and_ranged() {
        let (a, t) = fixture();
        let raw_model = a.payload.classifier.clone();
        let predictor = Predictor::new(a).unwrap();
        let inputs: Vec<TrackInput> = t
            .rows
            .iter()
            .map(|r| TrackInput {
                audio: r.audio,
                genres: std::slice::from_ref(&t.genres[usize::from(r.genres[0])]),
                artists: &r.artists,
                album_name: &r.album_name,
                track_name: &r.track_name,
            })
            .collect();
        let answers = predictor.score(&inputs).unwrap();
        let all: Vec<usize> = (0..t.len()).collect();
        let x = predictor.pipeline().transform(&t, &all).matrix;
        let raw = raw_model.predict_proba(&x);
        for (answer, raw) in answers.iter().zip(raw) {
            let want = crate::models::sigmoid(1.5 * logit(raw) - 0.5).clamp(CLIP, 1.0 - CLIP);
            assert!((answer.probability - want).abs() < 1e-12);
            assert_eq!(answer.flagged, answer.probability >= 0.5);
            assert!((answer.lift - answer.probability / 0.2).abs() < 1e-12);
            // Split conformal, ±10 around the score, clamped to 0-100, then made to agree with
            // the probability.
            let split = crate::interval::Range {
                low: (answer.popularity - 10.0).max(0.0),
                high: (answer.popularity + 10.0).min(100.0),
            };
            let want = agree(split, answer.probability, 0.8, 71);
            assert!((answer.popularity_high - want.high).abs() < 1e-9);
            assert!((answer.popularity_low - want.low).abs() < 1e-9);
            assert!(answer.unknown_genres.is_empty());
        }
        // The shortest and the longest track lie beyond FIT's 0.1th and 99.9th percentiles.
        let warned: Vec<usize> = (0..answers.len())
            .filter(|&i| !answers[i].warnings.is_empty())
            .collect();
        let durations: Vec<f64> = warned.iter().map(|&i| t.rows[i].audio[0]).collect();
        assert_eq!(durations, [0.0, 7891.0], "{warned:?}");
        assert!(answers[warned[0]].warnings[0]
            .message
            .starts_with("0:00 min is below"));
    }

    #[test]
    fn what_if_varies_one_input_and_holds_the_rest() {
        let (a, t) = fixture();
        let predictor = Predictor::new(a).unwrap();
        let genres = [t.genres[0].clone()];
        let track = TrackInput {
            audio: t.rows[3].audio,
            genres: &genres,
            artists: "x",
            album_name: "",
            track_name: "",
        };
        let values = [0.0, 0.25, 0.5, 1.0];
        let curve = predictor
            .what_if(&track, Column::Danceability, &values)
            .unwrap();
        assert_eq!(curve.len(), 4);
        // Each point is exactly the answer for the track with that one value changed.
        let i = Column::Danceability.audio_index().unwrap();
        for (&v, point) in values.iter().zip(&curve) {
            let mut changed = track.clone();
            changed.audio[i] = v;
            assert_eq!(point, &predictor.score(&[changed]).unwrap()[0]);
        }
        assert_eq!(
            predictor
                .what_if(&track, Column::Danceability, &[1.5])
                .unwrap_err()
                .to_string(),
            "danceability: expected a number from 0 to 1, got \"1.5\""
        );
        assert_eq!(
            predictor
                .what_if(&track, Column::TrackName, &[1.0])
                .unwrap_err()
                .to_string(),
            "track_name is not an audio input: only those can be varied"
        );
    }

    #[test]
    fn calibrated_explanations_add_up_to_the_calibrated_probability() {
        let (a, t) = fixture();
        let predictor = Predictor::new(a).unwrap();
        let x = predictor.pipeline().transform(&t, &[0, 9, 18]).matrix;
        let probabilities = predictor.probabilities(&x);
        let explained = predictor
            .explain_matrix(&x, SamplingOptions::default())
            .unwrap();
        for (e, p) in explained.iter().zip(probabilities) {
            let sum: f64 = e.contributions.iter().map(|c| c.contribution).sum();
            assert!((e.base + sum - e.log_odds).abs() < 1e-9);
            assert!((crate::models::sigmoid(e.log_odds) - p).abs() < 1e-9);
            assert_eq!(e.probability, p);
        }
    }
}

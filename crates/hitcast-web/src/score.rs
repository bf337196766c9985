//! Scores checked tracks with the saved model: probability, label, the 0-100 score, and on
//! request the contributions behind the probability.

use hitcast::artifact::Artifact;
use hitcast::explain::{explain, Explanation, Method, SamplingOptions};
use hitcast::features::FeatureMatrix;
use hitcast::models::{Classifier, ModelError, Regressor};
use serde::Serialize;

use crate::track::TrackRequest;

/// A model ready to serve: the artifact and its background rows, built once.
pub struct Scorer {
    artifact: Artifact,
    background: FeatureMatrix,
}

/// One scored track, as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    /// The id the caller gave (empty if none).
    pub track_id: String,
    /// Probability of being popular.
    pub probability: f64,
    /// `probability >= threshold`.
    pub popular: bool,
    /// `"popular"` or `"not popular"`.
    pub label: &'static str,
    /// Predicted popularity score, clamped to 0-100.
    pub popularity: f64,
    /// Genres the model does not know: they score as no genre.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_genres: Vec<String>,
    /// Why, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

impl Scorer {
    /// Prepares `artifact` for serving.
    pub fn new(artifact: Artifact) -> Result<Scorer, ModelError> {
        let background = artifact.background()?;
        Ok(Scorer {
            artifact,
            background,
        })
    }

    /// The saved model.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// How this model's contributions are computed.
    pub fn method(&self) -> Method {
        Method::of(&self.artifact.payload.classifier)
    }

    /// Scores `tracks`, explaining each when `explain` is set (`samples` bounds the sampling
    /// method's cost; the exact methods ignore it).
    pub fn score(
        &self,
        tracks: &[TrackRequest],
        explain_them: bool,
        samples: usize,
    ) -> Result<Vec<Scored>, ModelError> {
        let pipeline = &self.artifact.payload.pipeline;
        let width = pipeline.names().len();
        let mut data = Vec::with_capacity(tracks.len() * width);
        let mut unknown = Vec::with_capacity(tracks.len());
        for t in tracks {
            let (row, u) = pipeline.transform_one(&t.input());
            data.extend(row);
            unknown.push(u);
        }
        let x = FeatureMatrix::new(pipeline.names().to_vec(), data)
            .ok_or_else(|| ModelError::Shape("feature rows of the wrong width".into()))?;
        let probabilities = self.artifact.payload.classifier.predict_proba(&x);
        let scores = self.artifact.payload.regressor.predict(&x);
        let mut explanations = if explain_them && !tracks.is_empty() {
            let options = SamplingOptions {
                samples,
                ..SamplingOptions::default()
            };
            let e = explain(
                &self.artifact.payload.classifier,
                pipeline,
                &self.background,
                &x,
                options,
            )?;
            e.into_iter().map(Some).collect()
        } else {
            vec![None; tracks.len()]
        };
        let threshold = self.artifact.metadata.decision_threshold;
        Ok(tracks
            .iter()
            .zip(probabilities)
            .zip(scores)
            .zip(unknown)
            .zip(explanations.iter_mut())
            .map(|((((t, p), s), unknown_genres), e)| {
                let popular = p >= threshold;
                Scored {
                    track_id: t.track_id.clone(),
                    probability: p,
                    popular,
                    label: if popular { "popular" } else { "not popular" },
                    popularity: s.clamp(0.0, 100.0),
                    unknown_genres,
                    explanation: e.take(),
                }
            })
            .collect())
    }
}

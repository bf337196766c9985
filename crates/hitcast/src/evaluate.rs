//! How a saved model does on a labelled catalogue that is not its TEST split: another export of
//! Spotify, or a user's own tracks with their popularity. The catalogue is read and collapsed as
//! training reads its data (one row per `track_id`, genres merged), scored through the one
//! [`Predictor`], and measured the ways the model card measures TEST, once reading genres and
//! once ignoring them, since a genre label carries its catalogue's meaning (latin is 2% popular
//! in the shipped dataset and 18% in another sample of Spotify playlists).

use serde::Serialize;

use crate::data::{is_popular, Tracks};
use crate::interval::{IntervalMetrics, Range};
use crate::metrics::{
    average_precision, expected_calibration_error, roc_auc, Confusion, MetricError,
    RegressionMetrics,
};
use crate::models::ModelError;
use crate::predictor::{genre_names, table_inputs, Genres, Prediction, Predictor};

/// How the model does on a catalogue with genres read or ignored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogueFit {
    /// `use` or `ignore`.
    pub genres: &'static str,
    /// Tracks scored.
    pub tracks: usize,
    /// Share of them that are popular.
    pub popular_rate: f64,
    /// Share answered by the audio-only companion.
    pub without_genres: f64,
    /// Ranking of popular tracks.
    pub roc_auc: f64,
    /// Average precision (PR-AUC).
    pub pr_auc: f64,
    /// Expected calibration error over ten bins of equal count.
    pub ece: f64,
    /// Mean probability, to set beside `popular_rate`.
    pub mean_probability: f64,
    /// The flag (each answer at its own model's threshold) against the labels.
    pub flagged: Confusion,
    /// The 0-100 score.
    pub score: RegressionMetrics,
    /// The score's range.
    pub range: IntervalMetrics,
}

/// Why a catalogue could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The catalogue has no popularity column.
    #[error("the catalogue has no popularity column to measure against")]
    Unlabelled,
    /// A metric is undefined (one class only, say).
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// The model could not answer.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Scores `tracks` with genres read, then (when the model can) ignored.
pub fn evaluate(
    predictor: &Predictor,
    tracks: &Tracks,
) -> Result<Vec<CatalogueFit>, EvaluateError> {
    let popularity = tracks.popularity().ok_or(EvaluateError::Unlabelled)?;
    let threshold = predictor.metadata().label_threshold;
    let labels: Vec<bool> = popularity
        .iter()
        .map(|&p| is_popular(p, threshold))
        .collect();
    let truth: Vec<f64> = popularity.iter().map(|&p| f64::from(p)).collect();
    let all: Vec<usize> = (0..tracks.len()).collect();
    let names = genre_names(tracks, &all);
    let inputs = table_inputs(tracks, &all, &names);
    let mut fits = Vec::new();
    for genres in [Genres::Use, Genres::Ignore] {
        let Ok(p) = predictor.clone().with_genres(genres) else {
            continue;
        };
        let answers = p.score(&inputs)?;
        let probability: Vec<f64> = answers.iter().map(|a| a.probability).collect();
        let flagged: Vec<f64> = answers
            .iter()
            .map(|a| f64::from(u8::from(a.flagged)))
            .collect();
        let score: Vec<f64> = answers.iter().map(|a| a.popularity).collect();
        let ranges: Vec<Range> = answers.iter().map(Prediction::range).collect();
        let n = answers.len().max(1) as f64;
        fits.push(CatalogueFit {
            genres: genres.name(),
            tracks: answers.len(),
            popular_rate: labels.iter().filter(|&&l| l).count() as f64 / n,
            without_genres: answers.iter().filter(|a| !a.genres_used).count() as f64 / n,
            roc_auc: roc_auc(&probability, &labels)?,
            pr_auc: average_precision(&probability, &labels)?,
            ece: expected_calibration_error(&probability, &labels)?,
            mean_probability: probability.iter().sum::<f64>() / n,
            flagged: Confusion::at(&flagged, &labels, 0.5)?,
            score: RegressionMetrics::new(&score, &truth)?,
            range: IntervalMetrics::new(&ranges, &truth),
        });
    }
    Ok(fits)
}

//! A model measured on labelled tracks: the one measurement behind a trained model's TEST
//! figures, `hitcast model evaluate` on another catalogue, and the report's model card.
//!
//! The tracks are scored as users' tracks are ([`Predictor::score`]: each answered by the model
//! that answers it, with the predictor's genres and prior), and the answers are set against the
//! tracks' popularity.

use serde::Serialize;

use super::{genre_names, table_inputs, Predictor};
use crate::artifact::Role;
use crate::data::{is_popular, Tracks};
use crate::distribution::{IntervalMetrics, Range};
use crate::metrics::{
    expected_calibration_error, reliability, CalibrationBin, ClassificationMetrics, MetricError,
    RegressionMetrics, RELIABILITY_EDGES,
};
use crate::models::ModelError;

/// How a model's answers on labelled tracks compare with their popularity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// The calibrated probability of each track, in the order given (the curves' input).
    #[serde(skip)]
    pub probabilities: Vec<f64>,
    /// Whether each track is popular, in the same order.
    #[serde(skip)]
    pub labels: Vec<bool>,
    /// Ranking, and the flag (each answer at its own model's threshold) against the labels.
    pub classification: ClassificationMetrics,
    /// Expected calibration error over ten bins of equal count.
    pub ece: f64,
    /// Mean probability, to set beside the share of popular tracks.
    pub mean_probability: f64,
    /// Mean probability against the share of popular tracks, bin by bin.
    pub reliability: Vec<CalibrationBin>,
    /// The 0-100 score.
    pub score: RegressionMetrics,
    /// The score's range.
    pub range: IntervalMetrics,
    /// Share of flagged tracks whose range reaches above the label threshold.
    pub flagged_reaching: f64,
    /// Share of tracks the no-genres companion answered.
    pub without_genres: f64,
}

/// Why tracks could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// The tracks carry no popularity.
    #[error("the tracks have no popularity to measure against")]
    Unlabelled,
    /// Scoring failed.
    #[error("cannot score the tracks")]
    Model(#[from] ModelError),
    /// A figure is undefined (one class only, say).
    #[error("cannot measure the answers")]
    Metric(#[from] MetricError),
}

impl Predictor {
    /// Scores `rows` of `tracks` and measures the answers against the tracks' popularity,
    /// popular meaning above `threshold`.
    pub fn measure(
        &self,
        tracks: &Tracks,
        rows: &[usize],
        threshold: u8,
    ) -> Result<Measurement, MeasureError> {
        let popularity = tracks.popularity().ok_or(MeasureError::Unlabelled)?;
        let names = genre_names(tracks, rows);
        let answers = self.score(&table_inputs(tracks, rows, &names))?;
        let labels: Vec<bool> = rows
            .iter()
            .map(|&i| is_popular(popularity[i], threshold))
            .collect();
        let truth: Vec<f64> = rows.iter().map(|&i| f64::from(popularity[i])).collect();
        let probabilities: Vec<f64> = answers.iter().map(|a| a.chance.probability).collect();
        let flags: Vec<bool> = answers.iter().map(|a| a.chance.flagged).collect();
        let score: Vec<f64> = answers.iter().map(|a| a.popularity).collect();
        let ranges: Vec<Range> = answers.iter().map(|a| a.range()).collect();
        let n = answers.len().max(1) as f64;
        Ok(Measurement {
            classification: ClassificationMetrics::with_flags_of_any_labels(
                &probabilities,
                &flags,
                &labels,
                self.metadata().decision_threshold,
            )?,
            ece: expected_calibration_error(&probabilities, &labels)?,
            mean_probability: probabilities.iter().sum::<f64>() / n,
            reliability: reliability(&probabilities, &labels, &RELIABILITY_EDGES)?,
            score: RegressionMetrics::new(&score, &truth)?,
            range: IntervalMetrics::new(&ranges, &truth),
            flagged_reaching: reaching(&ranges, &flags, threshold),
            without_genres: answers
                .iter()
                .filter(|a| a.chance.model == Role::NoGenres)
                .count() as f64
                / n,
            probabilities,
            labels,
        })
    }
}

/// Share of flagged tracks whose range reaches above the label threshold.
fn reaching(ranges: &[Range], flagged: &[bool], threshold: u8) -> f64 {
    let label = f64::from(threshold);
    let reaching = ranges
        .iter()
        .zip(flagged)
        .filter(|(r, &f)| f && r.high > label)
        .count();
    reaching as f64 / flagged.iter().filter(|&&f| f).count().max(1) as f64
}

//! The joined report's numbers: the EDA, the experiment results (one or more protocols side by
//! side) and, with a saved model, its card: TEST metrics, ROC and precision-recall curves, the
//! confusion matrix at the saved threshold, a calibration plot and global feature importance.
//! [`write_report`] writes them with their page ([`crate::render::report`]).

use std::io;
use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::artifact::Metadata;
use crate::data::{RawRow, Tracks};
use crate::eda::Eda;
use crate::experiment::Results;
use crate::explain::{Method, SamplingOptions};
use crate::fsutil::write_atomic;
use crate::metrics::CalibrationBin;
use crate::models::ModelError;
use crate::predictor::{MeasureError, Predictor};
use crate::render;
use crate::split::{Split, SplitError};

/// Why a model card could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The data has no popularity column to score TEST against.
    #[error("the data has no popularity column, so the model's TEST rows cannot be scored")]
    Unlabelled,
    /// The model's split could not be rebuilt.
    #[error("cannot rebuild the model's split")]
    Split(#[from] SplitError),
    /// Explaining the model failed.
    #[error("cannot compute feature importance")]
    Model(#[from] ModelError),
    /// TEST could not be measured (one class only, say).
    #[error("cannot measure the model on TEST")]
    Measure(#[from] MeasureError),
}

/// A saved model measured again on its own TEST rows.
#[derive(Clone, Debug, Serialize)]
pub struct ModelCard {
    /// What the model says about itself.
    pub metadata: Metadata,
    /// Whether the data file is the one the model was trained on (same SHA-256).
    pub same_data: bool,
    /// TEST rows scored.
    pub test_rows: usize,
    /// ROC curve: (false positive rate, true positive rate).
    pub roc: Curve,
    /// Precision-recall curve: (recall, precision).
    pub pr: Curve,
    /// Reliability of the calibrated probability: ten bins of equal row count, the top one cut
    /// finer ([`crate::metrics::RELIABILITY_EDGES`]).
    pub calibration: Vec<CalibrationBin>,
    /// The largest calibrated probability on TEST (the chart reaches it: the app shows
    /// chances beyond the top bin's mean).
    pub largest_probability: f64,
    /// Mean |contribution| (log-odds) per feature over a TEST sample, largest first.
    pub importance: Vec<(String, f64)>,
    /// How the contributions were computed, and over how many rows.
    pub importance_method: String,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The exploratory analysis.
    pub eda: Eda,
    /// Experiment results, the first the main one.
    pub experiments: Vec<Results>,
    /// The model's card, if a model was given.
    pub model: Option<ModelCard>,
}

/// Points of a curve, `(x, y)`.
pub type Curve = Vec<(f64, f64)>;

/// Curves are thinned to about this many points.
const CURVE_POINTS: usize = 300;

/// ROC and precision-recall points at every distinct score, thinned.
fn curves(scores: &[f64], labels: &[bool]) -> (Curve, Curve) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = labels.iter().filter(|&&l| l).count().max(1) as f64;
    let negatives = (labels.len() as f64 - positives).max(1.0);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            roc.push((fp / negatives, tp / positives));
            pr.push((tp / positives, tp / (tp + fp)));
        }
    }
    (thin(roc), thin(pr))
}

fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= CURVE_POINTS {
        return points;
    }
    let step = points.len() as f64 / CURVE_POINTS as f64;
    let last = points[points.len() - 1];
    let mut out: Vec<(f64, f64)> = (0..CURVE_POINTS)
        .map(|k| points[(k as f64 * step) as usize])
        .collect();
    out.push(last);
    out
}

/// Rows explained for the importance: many for exact methods, fewer for sampling.
const IMPORTANCE_ROWS_EXACT: usize = 2000;
const IMPORTANCE_ROWS_SAMPLED: usize = 200;

/// Scores the model's TEST rows in `rows` (the file it was trained on, ideally) and builds its
/// card. `data_sha256` is the file's hash, compared with the model's.
pub fn model_card(
    predictor: &Predictor,
    rows: Vec<RawRow>,
    data_sha256: &str,
) -> Result<ModelCard, ReportError> {
    let m = predictor.metadata();
    let table = m.protocol.table(rows);
    let labels = table
        .labels(m.label_threshold)
        .ok_or(ReportError::Unlabelled)?;
    let split = Split::new(&table, &labels, m.protocol, m.fold.unwrap_or(0), m.seed)?;
    model_card_of(predictor, &table, &split.test, data_sha256)
}

/// [`model_card`] of the model's own table and TEST rows, for a caller that holds them (the
/// main job, which has just trained the model on them).
pub fn model_card_of(
    predictor: &Predictor,
    table: &Tracks,
    test: &[usize],
    data_sha256: &str,
) -> Result<ModelCard, ReportError> {
    let m = predictor.metadata();
    let measured = predictor.measure(table, test, m.label_threshold)?;
    let (scores, test_labels) = (&measured.probabilities, &measured.labels);
    let (roc, pr) = curves(scores, test_labels);
    let x = predictor.pipeline().transform(table, test).matrix;

    let n = if predictor.method() != Method::SamplingShapley {
        IMPORTANCE_ROWS_EXACT
    } else {
        IMPORTANCE_ROWS_SAMPLED
    };
    let mut rng = ChaCha8Rng::seed_from_u64(m.seed);
    let mut sample = rand::seq::index::sample(&mut rng, x.n_rows(), n.min(x.n_rows())).into_vec();
    sample.sort_unstable();
    let options = SamplingOptions {
        samples: 64,
        seed: m.seed,
    };
    let explained = predictor.explain_matrix(&x.select_rows(&sample), options)?;
    let mut totals: Vec<(String, f64)> = Vec::new();
    for e in &explained {
        for c in &e.contributions {
            match totals.iter_mut().find(|t| t.0 == c.feature) {
                Some(t) => t.1 += c.contribution.abs(),
                None => totals.push((c.feature.clone(), c.contribution.abs())),
            }
        }
    }
    let rows_explained = explained.len().max(1) as f64;
    let mut importance: Vec<(String, f64)> = totals
        .into_iter()
        .map(|(f, t)| (f, t / rows_explained))
        .collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1));
    let method = explained
        .first()
        .map_or("none", |e| e.method.describe())
        .to_owned();
    Ok(ModelCard {
        metadata: m.clone(),
        same_data: m.data_sha256 == data_sha256,
        test_rows: scores.len(),
        calibration: measured.reliability.clone(),
        largest_probability: scores.iter().copied().fold(0.0, f64::max),
        roc,
        pr,
        importance,
        importance_method: format!("{method}, over {} TEST rows", explained.len()),
    })
}

/// File names of the fragments `hitcast report` writes beside index.html.
pub const PART_FILES: [&str; 2] = ["models.part.html", "data.part.html"];

/// Writes `dir/index.html` and its numbers `dir/json_name`, each atomically, creating `dir`.
pub fn write_page(dir: &Path, json_name: &str, json: &[u8], page: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join(json_name), json)?;
    write_atomic(&dir.join("index.html"), page.as_bytes())
}

/// Writes the report to `dir`: the page, its numbers (report.json) and its halves
/// ([`PART_FILES`], for `hitcast serve --report DIR`'s Models and Explore pages). Returns the
/// page.
pub fn write_report(dir: &Path, report: &Report) -> io::Result<String> {
    let json = serde_json::to_vec_pretty(report).map_err(io::Error::other)?;
    let parts = render::report::parts(report);
    std::fs::create_dir_all(dir)?;
    for (name, html) in PART_FILES.iter().zip([&parts.models, &parts.data]) {
        write_atomic(&dir.join(name), html.0.as_bytes())?;
    }
    // The page holds both parts: they are rendered once.
    let page = render::report::page_of(&parts);
    write_page(dir, "report.json", &json, &page)?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{reliability, RELIABILITY_EDGES};

    #[test]
    fn curves_at_every_distinct_score() {
        // Scores 0.9 (pos), 0.8 (neg), 0.8 (pos), 0.1 (neg): the tie is one step.
        let (roc, pr) = curves(&[0.9, 0.8, 0.8, 0.1], &[true, false, true, false]);
        assert_eq!(roc, [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        assert_eq!(pr, [(0.5, 1.0), (1.0, 2.0 / 3.0), (1.0, 0.5)]);
    }

    #[test]
    fn calibration_bins_hold_equal_rows_and_reach_the_top() {
        let scores: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let labels: Vec<bool> = (0..100).map(|i| i >= 90).collect();
        let bins = reliability(&scores, &labels, &RELIABILITY_EDGES).unwrap();
        // Nine deciles, then the top tenth as 5 + 3 + 1 + 1 rows.
        let rows: Vec<usize> = bins.iter().map(|b| b.rows).collect();
        assert_eq!(rows, [10, 10, 10, 10, 10, 10, 10, 10, 10, 5, 3, 1, 1]);
        assert_eq!((bins[0].observed, bins[12].observed), (0.0, 1.0));
        assert!((bins[12].predicted - 0.99).abs() < 1e-12);
    }
}

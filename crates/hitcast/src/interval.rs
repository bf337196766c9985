//! A range for the 0-100 score: a conformal prediction interval calibrated on VAL.
//!
//! Two candidates, both with the finite-sample guarantee of split conformal prediction (the
//! interval holds the true score for at least the target share of tracks like the VAL ones):
//!
//! - **split conformal** around the score model: `ŷ ± Q`, `Q` the `⌈(n+1)·coverage⌉`-th smallest
//!   VAL residual `|y − ŷ|`. The same width for every track.
//! - **conformalized quantile regression** (CQR): a booster of the `(1 − coverage)/2` and
//!   `(1 + coverage)/2` quantiles, fitted on FIT, its band widened (or narrowed) by a `Q`
//!   calibrated on VAL with hessboost's [`ConformalizedQuantile`]. Its width follows the track:
//!   a likely hit gets a range that reaches up.
//!
//! The one with the narrower mean width on VAL is kept. Bounds are clamped to the score's
//! 0-100, and widened to include the point prediction, so a range never excludes the score shown
//! beside it (which can only raise coverage).

use hessboost::conformal::ConformalizedQuantile;
use hessboost::data::DMatrix;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureMatrix, Variants};
use crate::models::{BoostingModel, BoostingParams, ModelError, Params, Task, TrainSet};

/// Default share of tracks whose score should fall in their range.
pub const DEFAULT_COVERAGE: f64 = 0.8;

/// A fitted interval model.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalModel {
    /// `ŷ ± half_width`.
    Split {
        /// The calibrated residual quantile `Q`.
        half_width: f64,
    },
    /// `[q_lo(x) − Q, q_hi(x) + Q]`.
    Quantile {
        /// The two-output quantile booster (boxed: it is large beside the split variant).
        band: Box<BoostingModel>,
        /// The calibrated correction `Q` (negative when the raw band over-covers VAL).
        correction: f64,
    },
}

/// How the interval model was chosen, and what it does on VAL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalChoice {
    /// The target share of tracks inside their range.
    pub coverage: f64,
    /// "split" or "cqr".
    pub method: String,
    /// Mean VAL width of split conformal intervals.
    pub split_width: f64,
    /// Mean VAL width of CQR intervals.
    pub cqr_width: f64,
}

/// One track's range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range {
    /// Lower bound, 0-100.
    pub low: f64,
    /// Upper bound, 0-100.
    pub high: f64,
}

/// Why an interval model could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum IntervalError {
    /// The coverage is not a share strictly between 0 and 1.
    #[error("invalid coverage {0}: expected a share strictly between 0 and 1, e.g. 0.8")]
    Coverage(f64),
    /// VAL is too small to certify the coverage.
    #[error("{rows} VAL rows cannot certify {coverage} coverage")]
    TooFewRows {
        /// VAL rows.
        rows: usize,
        /// The coverage asked for.
        coverage: f64,
    },
    /// Fitting or calibrating the quantile band failed.
    #[error("the quantile band")]
    Band(#[from] ModelError),
}

impl From<hessboost::error::HessboostError> for IntervalError {
    fn from(e: hessboost::error::HessboostError) -> Self {
        IntervalError::Band(ModelError::Boosting(e))
    }
}

/// Quantile booster settings, early-stopped on the VAL pinball loss. A pinball loss has a
/// constant gradient and no curvature, so each round's leaf is an average of signs, under one
/// point of popularity: at learning rate 0.2 the band used all 400 rounds (4.2 s on the
/// extended features); at 1.0 it stops after 131 (1.6 s), and the conformal correction keeps
/// the coverage (TEST 79.0% for 80%, mean width 32.0 against 33.2, raw setup, fold 0).
fn band_params() -> BoostingParams {
    BoostingParams {
        task: Task::Regression,
        learning_rate: 1.0,
        max_rounds: 400,
        early_stopping_rounds: 20,
        max_depth: 5,
        ..BoostingParams::default()
    }
}

impl IntervalModel {
    /// Fits both candidates for `coverage` and keeps the narrower on VAL. `fit` and `val` hold
    /// the score as target; `val_point` is the score model's prediction for each VAL row.
    pub fn fit(
        coverage: f64,
        fit: &TrainSet,
        val: &TrainSet,
        val_point: &[f64],
        seed: u64,
    ) -> Result<(IntervalModel, IntervalChoice), IntervalError> {
        if !(coverage > 0.0 && coverage < 1.0) {
            return Err(IntervalError::Coverage(coverage));
        }
        let alpha = 1.0 - coverage;
        let residuals: Vec<f64> = val
            .y
            .iter()
            .zip(val_point)
            .map(|(y, p)| (y - p).abs())
            .collect();
        let half_width =
            conformal_quantile(residuals, coverage).ok_or(IntervalError::TooFewRows {
                rows: val.y.len(),
                coverage,
            })?;
        let split = IntervalModel::Split { half_width };

        let band = band_params().check()?.fit_band(
            [alpha / 2.0, 1.0 - alpha / 2.0],
            fit,
            Some(val),
            seed,
        )?;
        let labels: Vec<f32> = val.y.iter().map(|&v| v as f32).collect();
        let rows: Vec<f32> = val.x.as_slice().iter().map(|&v| v as f32).collect();
        let dval =
            DMatrix::from_dense_vec(rows, val.x.n_rows(), val.x.n_cols())?.with_labels(&labels)?;
        let correction =
            ConformalizedQuantile::calibrate_outputs(band.booster(), 0, 1, &dval, alpha)?
                .correction();
        let cqr = IntervalModel::Quantile {
            band: Box::new(band),
            correction,
        };

        let width = |m: &IntervalModel| {
            let ranges = m.predict(val.x, val_point);
            ranges.iter().map(|r| r.high - r.low).sum::<f64>() / ranges.len().max(1) as f64
        };
        let (split_width, cqr_width) = (width(&split), width(&cqr));
        let (model, method) = if cqr_width < split_width {
            (cqr, "cqr")
        } else {
            (split, "split")
        };
        Ok((
            model,
            IntervalChoice {
                coverage,
                method: method.to_owned(),
                split_width,
                cqr_width,
            },
        ))
    }

    /// The range of each row of `x`, whose score-model predictions are `point`.
    pub fn predict(&self, x: &FeatureMatrix, point: &[f64]) -> Vec<Range> {
        self.ranges(point, |band| band.predict_band(x))
    }

    /// [`IntervalModel::predict`] of the variants' rows (what-if curves).
    pub fn predict_variants(&self, variants: &Variants<'_>, point: &[f64]) -> Vec<Range> {
        self.ranges(point, |band| band.predict_band_variants(variants))
    }

    /// The ranges around `point`, from the band's outputs where the model has a band.
    fn ranges(
        &self,
        point: &[f64],
        band_of: impl FnOnce(&BoostingModel) -> Vec<[f64; 2]>,
    ) -> Vec<Range> {
        let range = |low: f64, high: f64, p: f64| {
            let p = p.clamp(0.0, 100.0);
            Range {
                low: low.clamp(0.0, 100.0).min(p),
                high: high.clamp(0.0, 100.0).max(p),
            }
        };
        match self {
            IntervalModel::Split { half_width } => point
                .iter()
                .map(|&p| range(p - half_width, p + half_width, p))
                .collect(),
            IntervalModel::Quantile { band, correction } => band_of(band)
                .into_iter()
                .zip(point)
                .map(|([lo, hi], &p)| range(lo - correction, hi + correction, p))
                .collect(),
        }
    }

    /// Checks a model read from a file against rows of `width` columns.
    pub fn check_inputs(&self, width: usize) -> Result<(), ModelError> {
        match self {
            IntervalModel::Split { half_width } if half_width.is_finite() => Ok(()),
            IntervalModel::Quantile { band, correction } if correction.is_finite() => {
                band.check_inputs(width, 2)
            }
            _ => Err(ModelError::Shape(
                "an interval whose width is not finite".into(),
            )),
        }
    }
}

/// The `⌈(n+1)·coverage⌉`-th smallest score, or `None` when `n` rows are too few. Computed
/// here for split conformal because the score model may be any family, while hessboost's
/// `SplitConformal` wraps its own boosters only.
fn conformal_quantile(mut scores: Vec<f64>, coverage: f64) -> Option<f64> {
    let n = scores.len();
    let k = ((n as f64 + 1.0) * coverage).ceil() as usize;
    if k == 0 || k > n {
        return None;
    }
    scores.sort_by(f64::total_cmp);
    Some(scores[k - 1])
}

/// Makes a range agree with the track's calibrated probability of a score above `label`. The
/// range's upper end is the `(1 + coverage)/2` quantile of the score: when the chance of a score
/// above `label` is at least `(1 − coverage)/2`, that quantile is above `label`, so the upper
/// end is raised to `label + 1` if the score model's band stopped short (likewise the lower end
/// when the chance is at least `(1 + coverage)/2`). Only ever widens, so coverage can only rise;
/// a likely hit never gets a range that stays below the threshold it is flagged for.
pub fn agree(range: Range, probability: f64, coverage: f64, label: u8) -> Range {
    let tail = (1.0 - coverage) / 2.0;
    let above = f64::from(label) + 1.0;
    Range {
        low: if probability >= 1.0 - tail {
            range.low.max(above)
        } else {
            range.low
        },
        high: if probability >= tail {
            range.high.max(above)
        } else {
            range.high
        },
    }
}

/// How a set of ranges does against the truth.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalMetrics {
    /// Share of rows whose true score lies in its range.
    pub coverage: f64,
    /// Mean width.
    pub mean_width: f64,
}

impl IntervalMetrics {
    /// Coverage and mean width of `ranges` against `truth`.
    pub fn new(ranges: &[Range], truth: &[f64]) -> IntervalMetrics {
        let n = ranges.len().max(1) as f64;
        let inside = ranges
            .iter()
            .zip(truth)
            .filter(|(r, &y)| r.low <= y && y <= r.high)
            .count();
        IntervalMetrics {
            coverage: inside as f64 / n,
            mean_width: ranges.iter().map(|r| r.high - r.low).sum::<f64>() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conformal_rank_is_the_finite_sample_one() {
        // n = 9, coverage 0.8: k = ceil(10 · 0.8) = 8, the 8th smallest of 1..9.
        let scores: Vec<f64> = (1..=9).rev().map(f64::from).collect();
        assert_eq!(conformal_quantile(scores, 0.8), Some(8.0));
        // n = 3 cannot certify 0.8: k = ceil(4 · 0.8) = 4 > 3.
        assert_eq!(conformal_quantile(vec![1.0, 2.0, 3.0], 0.8), None);
    }

    #[test]
    fn split_ranges_are_clamped_and_hold_the_point() {
        let m = IntervalModel::Split { half_width: 20.0 };
        let x = FeatureMatrix::new(vec!["a".into()], vec![0.0; 3]).unwrap();
        let r = m.predict(&x, &[10.0, 50.0, 95.0]);
        assert_eq!(
            r[0],
            Range {
                low: 0.0,
                high: 30.0
            }
        );
        assert_eq!(
            r[1],
            Range {
                low: 30.0,
                high: 70.0
            }
        );
        assert_eq!(
            r[2],
            Range {
                low: 75.0,
                high: 100.0
            }
        );
        let metrics = IntervalMetrics::new(&r, &[0.0, 71.0, 80.0]);
        assert!((metrics.coverage - 2.0 / 3.0).abs() < 1e-12);
        assert!((metrics.mean_width - (30.0 + 40.0 + 25.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_range_agrees_with_the_probability() {
        let r = Range {
            low: 20.0,
            high: 60.0,
        };
        // At 80% coverage the tails are 10%: a 5% chance leaves the range alone, 15% lifts its
        // top to 72, 95% its bottom too.
        assert_eq!(agree(r, 0.05, 0.8, 71), r);
        assert_eq!(
            agree(r, 0.15, 0.8, 71),
            Range {
                low: 20.0,
                high: 72.0
            }
        );
        assert_eq!(
            agree(r, 0.95, 0.8, 71),
            Range {
                low: 72.0,
                high: 72.0
            }
        );
        let wide = Range {
            low: 20.0,
            high: 90.0,
        };
        assert_eq!(agree(wide, 0.15, 0.8, 71), wide);
    }

    #[test]
    fn both_candidates_cover_val_and_the_narrower_is_kept() {
        // y = 30 + 40·a + noise whose size grows with b (all within 0-100): CQR can follow it.
        let n = 2000;
        let mut data = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a = (i % 97) as f64 / 97.0;
            let b = (i % 13) as f64 / 13.0;
            let noise = (((i * 7919) % 101) as f64 / 50.0 - 1.0) * 25.0 * b;
            data.extend([a, b]);
            y.push(30.0 + 40.0 * a + noise);
        }
        let x = FeatureMatrix::new(vec!["a".into(), "b".into()], data).unwrap();
        let (fit_rows, val_rows): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 2 == 0);
        let (fx, vx) = (x.select_rows(&fit_rows), x.select_rows(&val_rows));
        let fy: Vec<f64> = fit_rows.iter().map(|&i| y[i]).collect();
        let vy: Vec<f64> = val_rows.iter().map(|&i| y[i]).collect();
        let point: Vec<f64> = vx.rows().map(|r| 30.0 + 40.0 * r[0]).collect();
        let (m, choice) = IntervalModel::fit(
            0.8,
            &TrainSet::new(&fx, &fy),
            &TrainSet::new(&vx, &vy),
            &point,
            1,
        )
        .unwrap();
        assert_eq!(choice.method, "cqr", "{choice:?}");
        assert!(choice.cqr_width < choice.split_width);
        let val = IntervalMetrics::new(&m.predict(&vx, &point), &vy);
        assert!(val.coverage >= 0.8, "{val:?}");
        assert!(m.check_inputs(2).is_ok());
        assert!(m.check_inputs(3).is_err());
        assert!(matches!(
            IntervalModel::fit(
                1.0,
                &TrainSet::new(&fx, &fy),
                &TrainSet::new(&vx, &vy),
                &point,
                1
            ),
            Err(IntervalError::Coverage(_))
        ));
    }
}

//! Calibrated probabilities: a monotone map, fitted on VAL, from a classifier's raw probability to
//! the chance that a track is popular.
//!
//! Early stopping, class weights and resampling all bend a classifier's probabilities (a
//! class-weighted or SMOTE cell's answers average many times the popular rate). Two maps are
//! fitted on VAL and the one with the lower out-of-fold VAL log-loss is kept (TEST is never
//! used):
//!
//! - **Platt**: `p = σ(a · logit(raw) + b)`, two parameters by Newton's method. Affine in
//!   log-odds, so an explanation's contributions scale by `a` and still add up.
//! - **Isotonic**, centred: the pool-adjacent-violators fit of the labels on the raw score, with
//!   one knot per block at its mean score and rate, interpolated linearly (Oron & Flournoy's
//!   centred isotonic regression). Unlike the step function, it is strictly increasing, so it
//!   keeps the classifier's ranking: a step function ties the top tracks. Its ends claim no
//!   more than their data: each end block holds at least √n of VAL's n tracks (pooled with its
//!   neighbour until it does, keeping two blocks at least), so that a handful of tracks all
//!   popular cannot make the top answer 100%; and beyond the end knots the end segment goes
//!   on in log-odds, where a line nears 0 or 1 only as the raw score does (linear when an end
//!   knot is itself 0 or 1, whose log-odds are the clip's, not the data's).
//!
//! Written here, not taken from a crate: both are a few dozen lines, and the Rust crates that
//! have them (linfa's calibration wrappers) bring a model framework with them.

use serde::{Deserialize, Serialize};

use crate::metrics::MetricError;
use crate::models::sigmoid;

/// Calibrated probabilities stay this far from 0 and 1: a model that has seen 57,922 tracks
/// cannot be certain of the next one.
pub const CLIP: f64 = 1e-4;

/// Folds of VAL for choosing between the two maps.
const FOLDS: usize = 5;

/// A fitted map from raw to calibrated probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calibration {
    /// `σ(a · logit(raw) + b)`.
    Platt {
        /// Slope on the raw log-odds.
        a: f64,
        /// Intercept.
        b: f64,
    },
    /// Linear interpolation through `(x, y)` knots; beyond them, the end segments in log-odds.
    Isotonic {
        /// Raw probabilities, ascending.
        x: Vec<f64>,
        /// Calibrated probabilities at `x`, non-decreasing.
        y: Vec<f64>,
    },
}

/// How the calibration was chosen: each candidate's out-of-fold log-loss on VAL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationChoice {
    /// "platt" or "isotonic".
    pub method: String,
    /// VAL log-loss of the raw probabilities.
    pub raw_logloss: f64,
    /// Out-of-fold VAL log-loss of Platt scaling.
    pub platt_logloss: f64,
    /// Out-of-fold VAL log-loss of isotonic regression.
    pub isotonic_logloss: f64,
}

impl Calibration {
    /// Fits both maps on `raw` VAL probabilities and their labels, compares them by log-loss
    /// over five folds of VAL (`FOLDS`) (each map fitted on four, scored on the fifth), and returns
    /// the better one refitted on all of VAL.
    pub fn fit(
        raw: &[f64],
        labels: &[bool],
    ) -> Result<(Calibration, CalibrationChoice), MetricError> {
        if raw.len() != labels.len() {
            return Err(MetricError::Length {
                scores: raw.len(),
                labels: labels.len(),
            });
        }
        let positives = labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == labels.len() {
            return Err(MetricError::OneClass("calibration"));
        }
        let mut out_of_fold = [vec![0.0; raw.len()], vec![0.0; raw.len()]];
        for fold in 0..FOLDS {
            let (train, test): (Vec<usize>, Vec<usize>) =
                (0..raw.len()).partition(|i| i % FOLDS != fold);
            let xs: Vec<f64> = train.iter().map(|&i| raw[i]).collect();
            let ys: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
            for (k, map) in [platt(&xs, &ys), isotonic(&xs, &ys)].iter().enumerate() {
                for &i in &test {
                    out_of_fold[k][i] = map.apply(raw[i]);
                }
            }
        }
        let (platt_logloss, isotonic_logloss) = (
            logloss(&out_of_fold[0], labels),
            logloss(&out_of_fold[1], labels),
        );
        // Ties go to Platt: two parameters, and explanations stay exact.
        let map = if isotonic_logloss < platt_logloss {
            isotonic(raw, labels)
        } else {
            platt(raw, labels)
        };
        let choice = CalibrationChoice {
            method: map.name().to_owned(),
            raw_logloss: logloss(raw, labels),
            platt_logloss,
            isotonic_logloss,
        };
        Ok((map, choice))
    }

    /// "platt" or "isotonic".
    pub fn name(&self) -> &'static str {
        match self {
            Calibration::Platt { .. } => "platt",
            Calibration::Isotonic { .. } => "isotonic",
        }
    }

    /// The calibrated probability of a raw one, in `[CLIP, 1 - CLIP]`.
    pub fn apply(&self, raw: f64) -> f64 {
        let p = match self {
            Calibration::Platt { a, b } => sigmoid(a * logit(raw) + b),
            Calibration::Isotonic { x, y } => interpolate(x, y, raw),
        };
        p.clamp(CLIP, 1.0 - CLIP)
    }

    /// Checks a map read from a file: finite parameters; knots of equal count, ascending, in
    /// `[0, 1]`.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Calibration::Platt { a, b } if a.is_finite() && b.is_finite() => Ok(()),
            Calibration::Platt { .. } => Err("Platt parameters that are not finite".into()),
            Calibration::Isotonic { x, y } => {
                let unit = |v: &f64| (0.0..=1.0).contains(v);
                if x.is_empty() || x.len() != y.len() {
                    Err(format!("{} isotonic knots for {} values", x.len(), y.len()))
                } else if !x.iter().chain(y).all(unit)
                    || x.windows(2).any(|w| w[0] > w[1])
                    || y.windows(2).any(|w| w[0] > w[1])
                {
                    Err("isotonic knots that are not ascending probabilities".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Log-odds of a probability kept 1e-12 away from 0 and 1 (raw model outputs can be exact).
pub fn logit(p: f64) -> f64 {
    crate::models::logit_clipped(p, 1e-12)
}

/// Mean negative log-likelihood, probabilities clipped to 1e-15 as scikit-learn does.
pub fn logloss(p: &[f64], labels: &[bool]) -> f64 {
    let total: f64 = p
        .iter()
        .zip(labels)
        .map(|(&p, &l)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            -(if l { p.ln() } else { (1.0 - p).ln() })
        })
        .sum();
    total / p.len().max(1) as f64
}

/// Platt scaling by Newton's method on the two parameters, from the identity map. A tiny ridge
/// keeps the Hessian invertible when the raw scores barely vary.
fn platt(raw: &[f64], labels: &[bool]) -> Calibration {
    let z: Vec<f64> = raw.iter().map(|&p| logit(p)).collect();
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (&z, &l) in z.iter().zip(labels) {
            let p = sigmoid(a * z + b);
            let r = p - f64::from(u8::from(l));
            let w = p * (1.0 - p);
            ga += r * z;
            gb += r;
            haa += w * z * z;
            hab += w * z;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-300 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs().max(db.abs()) < 1e-10 {
            break;
        }
    }
    if a.is_finite() && b.is_finite() {
        Calibration::Platt { a, b }
    } else {
        Calibration::Platt { a: 1.0, b: 0.0 }
    }
}

/// The centred isotonic map with end blocks of at least √n tracks.
fn isotonic(raw: &[f64], labels: &[bool]) -> Calibration {
    pooled(raw, labels, (raw.len() as f64).sqrt().ceil())
}

/// Pool adjacent violators over the raw scores (equal scores pooled first), then pool each end
/// block with its neighbour until it holds `least_at_ends` tracks; each block becomes one knot
/// at its mean score and its rate of positives. Adjacent blocks have strictly increasing rates
/// (PAV merges the others, and pooling an end keeps it between its old rate and the next), so
/// the interpolation is strictly increasing.
fn pooled(raw: &[f64], labels: &[bool], least_at_ends: f64) -> Calibration {
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&i, &j| raw[i].total_cmp(&raw[j]));
    // (sum of labels, count, sum of scores, last score) per block.
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    for &i in &order {
        let (x, y) = (raw[i], f64::from(u8::from(labels[i])));
        match blocks.last_mut() {
            Some(last) if last.3 == x => {
                last.0 += y;
                last.1 += 1.0;
                last.2 += x;
            }
            _ => blocks.push((y, 1.0, x, x)),
        }
        while blocks.len() >= 2 {
            let n = blocks.len();
            let (prev, last) = (blocks[n - 2], blocks[n - 1]);
            if prev.0 / prev.1 < last.0 / last.1 {
                break;
            }
            blocks[n - 2] = (prev.0 + last.0, prev.1 + last.1, prev.2 + last.2, last.3);
            blocks.pop();
        }
    }
    let merge = |low: (f64, f64, f64, f64), high: (f64, f64, f64, f64)| {
        (low.0 + high.0, low.1 + high.1, low.2 + high.2, high.3)
    };
    while let [_, _, .., low, high] = blocks[..] {
        if high.1 >= least_at_ends {
            break;
        }
        blocks.pop();
        if let Some(last) = blocks.last_mut() {
            *last = merge(low, high);
        }
    }
    while let [low, high, _, ..] = blocks[..] {
        if low.1 >= least_at_ends {
            break;
        }
        blocks.remove(0);
        blocks[0] = merge(low, high);
    }
    let x = blocks.iter().map(|b| b.2 / b.1).collect();
    let y = blocks.iter().map(|b| b.0 / b.1).collect();
    Calibration::Isotonic { x, y }
}

/// Linear through the knots; beyond the first and last knot, the end segment as a line in
/// log-odds when both its knots are strictly between 0 and 1, else as it is. A single knot is a
/// constant.
fn interpolate(x: &[f64], y: &[f64], at: f64) -> f64 {
    let n = x.len();
    if n < 2 {
        return y.first().copied().unwrap_or(at);
    }
    // The segment holding `at`, or the end segment beyond either end.
    let k = x.partition_point(|&v| v <= at).clamp(1, n - 1);
    let (x0, x1, y0, y1) = (x[k - 1], x[k], y[k - 1], y[k]);
    let inside = |p: f64| p > 0.0 && p < 1.0;
    if !(x0..=x1).contains(&at) && inside(y0) && inside(y1) {
        let (lx0, lx1, ly0, ly1) = (logit(x0), logit(x1), logit(y0), logit(y1));
        if lx1 > lx0 {
            return sigmoid(ly0 + (ly1 - ly0) * (logit(at) - lx0) / (lx1 - lx0));
        }
    }
    if x1 > x0 {
        y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    } else {
        y1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_violators_and_interpolates_between_block_centres() {
        // Scores 0.1..0.4 with labels 0, 1, 0, 1: the middle pair violates and pools to one
        // block at score 0.25 with rate 0.5.
        let raw = [0.1, 0.2, 0.3, 0.4];
        let labels = [false, true, false, true];
        let map = pooled(&raw, &labels, 1.0);
        let Calibration::Isotonic { x, y } = &map else {
            panic!("not isotonic");
        };
        assert_eq!(y, &[0.0, 0.5, 1.0]);
        assert!((x[1] - 0.25).abs() < 1e-12 && x[0] == 0.1 && x[2] == 0.4);
        // Between the knots 0.1 (0) and 0.25 (0.5): a third of the way at 0.15.
        assert!((map.apply(0.15) - 0.5 / 3.0).abs() < 1e-12);
        // Strictly increasing: 0.2 and 0.3, pooled by PAV, keep their order.
        assert!(map.apply(0.2) < map.apply(0.3));
        // Beyond the ends, whose knots are 0 and 1: the end segments as they are, clipped.
        assert_eq!(map.apply(0.0), CLIP);
        assert_eq!(map.apply(0.9), 1.0 - CLIP);
        // Two blocks stay two, however small: pooling them would answer one chance for all.
        let Calibration::Isotonic { y, .. } = pooled(&raw, &labels, 10.0) else {
            panic!("not isotonic");
        };
        assert_eq!(y.len(), 2, "{y:?}");
    }

    #[test]
    fn end_blocks_hold_root_n_tracks_and_tails_go_on_in_log_odds() {
        // 100 ascending scores: 3 unpopular; 45 as (popular, not, not); 48 as (popular,
        // popular, not); 4 popular. A plain fit has blocks of 3, 45, 48 and 4 tracks at rates
        // 0, 1/3, 2/3 and 1.
        let raw: Vec<f64> = (0..100).map(|i| 0.1 + 0.008 * f64::from(i)).collect();
        let labels: Vec<bool> = (0..100)
            .map(|i| match i {
                0..=2 => false,
                3..=47 => (i - 3) % 3 == 0,
                48..=95 => (i - 48) % 3 != 2,
                _ => true,
            })
            .collect();
        let Calibration::Isotonic { y: plain, .. } = pooled(&raw, &labels, 1.0) else {
            panic!("not isotonic");
        };
        assert_eq!(plain, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
        // Ends of at least √100 = 10 tracks: the 3 pool into the 45 (15 of 48 popular), the 4
        // into the 48 (36 of 52), each knot at its block's mean score.
        let map = isotonic(&raw, &labels);
        let Calibration::Isotonic { x, y } = &map else {
            panic!("not isotonic");
        };
        assert_eq!(y, &[15.0 / 48.0, 36.0 / 52.0]);
        assert!(
            (x[0] - 0.288).abs() < 1e-12 && (x[1] - 0.688).abs() < 1e-12,
            "{x:?}"
        );
        // Past the top knot: the segment's line in log-odds, hand-computed at 0.95.
        let l = |p: f64| (p / (1.0 - p)).ln();
        let slope = (l(36.0 / 52.0) - l(15.0 / 48.0)) / (l(0.688) - l(0.288));
        let expected = sigmoid(l(36.0 / 52.0) + slope * (l(0.95) - l(0.688)));
        assert!((map.apply(0.95) - expected).abs() < 1e-12);
        // Increasing, and short of certainty however high the raw score.
        assert!(map.apply(0.9) < map.apply(0.95) && map.apply(0.95) < map.apply(0.99));
        assert!(map.apply(0.999) < 0.999, "{}", map.apply(0.999));
    }

    #[test]
    fn equal_scores_are_pooled_before_fitting() {
        let map = pooled(&[0.5, 0.5, 0.5, 0.9], &[true, false, false, true], 1.0);
        assert_eq!(
            map,
            Calibration::Isotonic {
                x: vec![0.5, 0.9],
                y: vec![1.0 / 3.0, 1.0]
            }
        );
    }

    #[test]
    fn platt_recovers_a_known_distortion() {
        // Labels drawn exactly at rate σ(2·logit(raw) - 1): each score carries 1000 rows with
        // round(1000 · rate) positives, so the fit lands on a = 2, b = -1 within rounding.
        let mut raw = Vec::new();
        let mut labels = Vec::new();
        for k in 1..20 {
            let p = f64::from(k) / 20.0;
            let rate = sigmoid(2.0 * logit(p) - 1.0);
            let pos = (rate * 1000.0).round() as usize;
            for i in 0..1000 {
                raw.push(p);
                labels.push(i < pos);
            }
        }
        let Calibration::Platt { a, b } = platt(&raw, &labels) else {
            panic!("not platt");
        };
        assert!((a - 2.0).abs() < 0.01 && (b + 1.0).abs() < 0.01, "{a} {b}");
    }

    #[test]
    fn the_choice_keeps_the_lower_out_of_fold_logloss() {
        // Under-confident raw scores: each score p carries 50 rows, round(50 · 3p) positive.
        let mut raw = Vec::new();
        let mut labels = Vec::new();
        for k in 0..100 {
            let p = 0.01 + f64::from(k) * 0.002;
            let positives = (50.0 * 3.0 * p).round() as usize;
            for i in 0..50 {
                raw.push(p);
                labels.push(i < positives);
            }
        }
        let (map, choice) = Calibration::fit(&raw, &labels).unwrap();
        assert_eq!(map.name(), choice.method);
        assert!(choice.platt_logloss < choice.raw_logloss, "{choice:?}");
        let kept = choice.platt_logloss.min(choice.isotonic_logloss);
        assert_eq!(
            kept,
            if choice.method == "platt" {
                choice.platt_logloss
            } else {
                choice.isotonic_logloss
            }
        );
        assert!(map.check().is_ok());
        assert_eq!(
            Calibration::fit(&[0.1, 0.2], &[false, false])
                .unwrap_err()
                .to_string(),
            MetricError::OneClass("calibration").to_string()
        );
    }

    #[test]
    fn damaged_maps_are_refused() {
        let bad = Calibration::Isotonic {
            x: vec![0.5, 0.1],
            y: vec![0.1, 0.2],
        };
        assert_eq!(
            bad.check().unwrap_err(),
            "isotonic knots that are not ascending probabilities"
        );
        assert!(Calibration::Platt {
            a: f64::NAN,
            b: 0.0
        }
        .check()
        .is_err());
    }
}

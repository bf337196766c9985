//! A track's predictive distribution of its 0-100 popularity: the chance of each whole score,
//! from which the answer's chance of being popular, its score and its range are all read, so
//! the three always tell one story.
//!
//! ```text
//! calibrated classifier ──▶ p = P(score > label)
//! score model below ──▶ m₋(x) + s(x)·e₋ over VAL residual atoms, within 0..=label   ─┐ (1 − p)
//! score model above ──▶ m₊(x) + e₊ over VAL residual atoms, within label+1..=100    ─┘ p
//!                                                        ──▶ P(k), mean = score, quantiles = range
//! ```
//!
//! - **A mixture of two sides** (a hurdle model): the chance of a score above the label is the
//!   calibrated probability `p`; given that side, the score is spread around a score model
//!   fitted on FIT's tracks of that side alone. So `P(popularity > label) = p` exactly, and
//!   the score, the mixture's mean, is at least `(label + 1)·p`.
//! - **Each side's shape** is a location-scale model: its score model's prediction plus a scale
//!   times [`ATOMS`] quantiles of the standardized residuals of half of VAL's tracks of that
//!   side, each rounded to a whole score and clamped to the side (popularity is a whole number,
//!   and 14% of the dataset's rows sit at 0). Below the label the scale is constant or the
//!   width of a two-quantile booster's band (10% to 90%) fitted on FIT, whichever gives the
//!   narrower ranges on the other half of VAL; above it, where the scores crowd into a few
//!   points, it is constant.
//! - **The range** runs from the `a` to the `b` quantile, where `a` and `b` are chosen on the
//!   other half of VAL (split conformal prediction on the distribution's CDF at the true score,
//!   after Chernozhukov, Wüthrich and Zhu 2021), so that at least the target share of tracks
//!   like the VAL ones fall inside, the misses split evenly below and above. Its top is above
//!   the label exactly when `p > 1 − b`: a track flagged for its chance of a hit always gets a
//!   range that reaches up.
//!
//! Written here, not taken from a crate: conformal predictive distributions over a discrete
//! score are a few dozen lines on top of the models hitcast already has.

use serde::{Deserialize, Serialize};

use crate::features::{FeatureMatrix, Variants};
use crate::models::{BoostingModel, BoostingParams, ModelError, Params, Task, TrainSet};

/// Default share of tracks whose score should fall in their range.
pub const DEFAULT_COVERAGE: f64 = 0.8;

/// The highest score.
pub const MAX_SCORE: usize = 100;

/// Residual quantiles kept as each side's atoms: each carries 0.5% of its side's mass, finer
/// than a range's 10% tails need, and few enough that a track's distribution costs about a
/// microsecond.
pub const ATOMS: usize = 200;

/// The band's width is floored at this many points: a track whose band collapses (a run of
/// zeros) still has a spread.
const MIN_SCALE: f64 = 1.0;

/// How the residuals below the label are scaled.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// The same spread for every track.
    Constant,
    /// The width of a booster's 10%-90% quantile band, which follows the track.
    Band(Box<BoostingModel>),
}

/// The fitted model of every track's score distribution, beside the calibrated classifier
/// (the chance of each side) and the two sides' score models (where each side lies).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DistributionModel {
    scale: Scale,
    /// [`ATOMS`] standardized residual quantiles below the label, ascending.
    below: Vec<f64>,
    /// [`ATOMS`] residual quantiles above the label, ascending.
    above: Vec<f64>,
    /// The range runs from the `levels[0]` to the `levels[1]` quantile.
    levels: [f64; 2],
    /// Popular means a score above this.
    label: u8,
}

/// How the distribution was chosen, and what it does on VAL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalChoice {
    /// The target share of tracks inside their range.
    pub coverage: f64,
    /// "constant" or "band": how residuals below the label are scaled.
    pub method: String,
    /// Mean width on VAL of the ranges with a constant scale.
    pub constant_width: f64,
    /// Mean width on VAL of the ranges scaled by the quantile band.
    pub band_width: f64,
    /// The range's quantile levels, chosen on VAL.
    pub levels: [f64; 2],
}

impl IntervalChoice {
    /// How the range is made, in words.
    pub fn method_text(&self) -> &'static str {
        if self.method == "band" {
            "a conformal score distribution whose spread follows the track"
        } else {
            "a conformal score distribution of constant spread"
        }
    }
}

/// One track's distribution: the chance of each whole score 0-100.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreDistribution {
    mass: [f64; MAX_SCORE + 1],
}

/// One track's range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range {
    /// Lower bound, 0-100.
    pub low: f64,
    /// Upper bound, 0-100.
    pub high: f64,
}

/// Where one track's distribution lies: each side's score model's prediction, the scale below
/// the label, and the calibrated chance of a score above it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    /// The score model below the label.
    pub below: f64,
    /// The score model above it.
    pub above: f64,
    /// The scale below the label ([`DistributionModel::scales`]).
    pub scale: f64,
    /// The calibrated probability of a score above the label.
    pub probability: f64,
}

/// Why a distribution model could not be fitted.
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
    /// A side of the label has no VAL track to learn its shape from.
    #[error("no VAL track scores {0} the label threshold: its side's shape cannot be learnt")]
    EmptySide(&'static str),
    /// The label threshold leaves no score above it.
    #[error("no score 0-100 lies above the label threshold {0}")]
    Label(u8),
    /// Fitting the quantile band failed.
    #[error("the quantile band")]
    Band(#[from] ModelError),
}

/// What [`DistributionModel::fit`] reads of VAL.
pub struct DistributionData<'a> {
    /// VAL rows with the score as target.
    pub val: &'a TrainSet<'a>,
    /// The below-side score model's prediction for each VAL row.
    pub val_below: &'a [f64],
    /// The above-side score model's prediction for each VAL row.
    pub val_above: &'a [f64],
    /// The calibrated probability of each VAL row.
    pub val_probability: &'a [f64],
}

/// Quantile booster settings, early-stopped on the VAL pinball loss. A pinball loss has a
/// constant gradient and no curvature, so each round's leaf is an average of signs, under one
/// point of popularity: at learning rate 0.2 the band used all 400 rounds; at 1.0 it stops
/// after about 130.
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

/// `coverage` if it is a share strictly between 0 and 1 (the one check the CLI's flag and the
/// fits make).
pub fn check_coverage(coverage: f64) -> Result<f64, IntervalError> {
    if coverage > 0.0 && coverage < 1.0 {
        Ok(coverage)
    } else {
        Err(IntervalError::Coverage(coverage))
    }
}

/// Fits the booster whose 10%-90% band (for `coverage` 0.8) scales the residuals of
/// [`DistributionModel::fit`]: on FIT, early-stopped on VAL. Apart from the rest of the fit
/// because it needs only the rows, so it can run beside the classifier.
pub fn fit_band(
    coverage: f64,
    fit: &TrainSet<'_>,
    val: &TrainSet<'_>,
    seed: u64,
) -> Result<BoostingModel, IntervalError> {
    let alpha = 1.0 - check_coverage(coverage)?;
    Ok(band_params()
        .check()?
        .fit_band([alpha / 2.0, 1.0 - alpha / 2.0], fit, Some(val), seed)?)
}

impl DistributionModel {
    /// Tries a constant scale and `band`'s (from [`fit_band`]) below the label for `coverage`,
    /// and keeps the one whose ranges are narrower on VAL. VAL's even rows give each side's
    /// residual atoms, its odd rows the range's levels and widths.
    pub fn fit(
        coverage: f64,
        label: u8,
        data: &DistributionData<'_>,
        band: BoostingModel,
    ) -> Result<(DistributionModel, IntervalChoice), IntervalError> {
        check_coverage(coverage)?;
        if usize::from(label) >= MAX_SCORE {
            return Err(IntervalError::Label(label));
        }
        let val = data.val;
        let (even, odd): (Vec<usize>, Vec<usize>) = (0..val.y.len()).partition(|i| i % 2 == 0);
        let popular = |i: &&usize| val.y[**i] > f64::from(label);
        let above: Vec<f64> = even
            .iter()
            .filter(popular)
            .map(|&i| val.y[i] - data.val_above[i])
            .collect();
        if above.is_empty() {
            return Err(IntervalError::EmptySide("above"));
        }
        let candidates = [Scale::Constant, Scale::Band(Box::new(band))];
        let mut fitted = Vec::with_capacity(2);
        for scale in candidates {
            let scales = scale.of(val.x);
            let below: Vec<f64> = even
                .iter()
                .filter(|i| !popular(i))
                .map(|&i| (val.y[i] - data.val_below[i]) / scales[i])
                .collect();
            if below.is_empty() {
                return Err(IntervalError::EmptySide("at or below"));
            }
            let mut model = DistributionModel {
                scale,
                below: atoms(below),
                above: atoms(above.clone()),
                levels: [0.0, 1.0],
                label,
            };
            let held: Vec<ScoreDistribution> = odd
                .iter()
                .map(|&i| {
                    model.at(Location {
                        below: data.val_below[i],
                        above: data.val_above[i],
                        scale: scales[i],
                        probability: data.val_probability[i],
                    })
                })
                .collect();
            let truth: Vec<f64> = odd.iter().map(|&i| val.y[i]).collect();
            model.levels =
                conformal_levels(&held, &truth, coverage).ok_or(IntervalError::TooFewRows {
                    rows: val.y.len(),
                    coverage,
                })?;
            let width = held
                .iter()
                .map(|d| {
                    let r = d.range(model.levels);
                    r.high - r.low
                })
                .sum::<f64>()
                / held.len().max(1) as f64;
            fitted.push((model, width));
        }
        let (constant_width, band_width) = (fitted[0].1, fitted[1].1);
        let (model, _) = fitted.swap_remove(usize::from(band_width < constant_width));
        let choice = IntervalChoice {
            coverage,
            method: model.scale_name().to_owned(),
            constant_width,
            band_width,
            levels: model.levels,
        };
        Ok((model, choice))
    }

    /// A model of constant scale with the given atoms on both sides, for tests.
    #[cfg(any(test, feature = "fixtures"))]
    pub fn constant(atoms: Vec<f64>, levels: [f64; 2], label: u8) -> DistributionModel {
        DistributionModel {
            scale: Scale::Constant,
            below: atoms.clone(),
            above: atoms,
            levels,
            label,
        }
    }

    /// The model scaled by `band`'s width, for tests.
    #[cfg(test)]
    pub fn with_band(mut self, band: BoostingModel) -> DistributionModel {
        self.scale = Scale::Band(Box::new(band));
        self
    }

    /// "constant" or "band".
    pub fn scale_name(&self) -> &'static str {
        match self.scale {
            Scale::Constant => "constant",
            Scale::Band(_) => "band",
        }
    }

    /// The range's quantile levels.
    pub fn levels(&self) -> [f64; 2] {
        self.levels
    }

    /// The scale below the label of each row of `x`.
    pub fn scales(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.scale.of(x)
    }

    /// [`DistributionModel::scales`] of the variants' rows (what-if curves).
    pub fn scales_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        match &self.scale {
            Scale::Constant => vec![1.0; variants.rows().n_rows()],
            Scale::Band(band) => widths(band.predict_band_variants(variants)),
        }
    }

    /// The distribution of a track that lies at `at`.
    pub fn at(&self, at: Location) -> ScoreDistribution {
        let label = usize::from(self.label);
        let p = at.probability.clamp(0.0, 1.0);
        let mut mass = [0.0; MAX_SCORE + 1];
        let sides = [
            (&self.below, at.below, at.scale, 0, label, 1.0 - p),
            (&self.above, at.above, 1.0, label + 1, MAX_SCORE, p),
        ];
        for (atoms, location, scale, low, high, share) in sides {
            let each = share / atoms.len() as f64;
            for &e in atoms {
                let k = (location + scale * e)
                    .round()
                    .clamp(low as f64, high as f64);
                mass[k as usize] += each;
            }
        }
        ScoreDistribution { mass }
    }

    /// Checks a model read from a file against rows of `width` columns.
    pub fn check_inputs(&self, width: usize) -> Result<(), ModelError> {
        let bad = |what: &str| Err(ModelError::Shape(format!("a score distribution {what}")));
        let ascending = |atoms: &[f64]| {
            !atoms.is_empty()
                && atoms.iter().all(|a| a.is_finite())
                && atoms.windows(2).all(|w| w[0] <= w[1])
        };
        if !ascending(&self.below) || !ascending(&self.above) {
            return bad("whose residual atoms are not finite and ascending");
        }
        if usize::from(self.label) >= MAX_SCORE {
            return bad("with no score above its label");
        }
        let [a, b] = self.levels;
        if !(0.0..=1.0).contains(&a) || !(0.0..=1.0 + 1e-6).contains(&b) || a > b {
            return bad("whose range levels are not two ascending shares");
        }
        match &self.scale {
            Scale::Constant => Ok(()),
            Scale::Band(band) => band.check_inputs(width, 2),
        }
    }
}

impl Scale {
    fn of(&self, x: &FeatureMatrix) -> Vec<f64> {
        match self {
            Scale::Constant => vec![1.0; x.n_rows()],
            Scale::Band(band) => widths(band.predict_band(x)),
        }
    }
}

fn widths(band: Vec<[f64; 2]>) -> Vec<f64> {
    band.into_iter()
        .map(|[lo, hi]| (hi - lo).max(MIN_SCALE))
        .collect()
}

/// [`ATOMS`] quantiles of `residuals` at levels `(j + 0.5)/ATOMS`, linearly interpolated.
fn atoms(mut residuals: Vec<f64>) -> Vec<f64> {
    residuals.retain(|r| r.is_finite());
    residuals.sort_by(f64::total_cmp);
    let n = residuals.len();
    if n == 0 {
        return vec![0.0; ATOMS];
    }
    (0..ATOMS)
        .map(|j| {
            let at = (j as f64 + 0.5) / ATOMS as f64 * (n - 1) as f64;
            let (i, frac) = (at.floor() as usize, at.fract());
            let next = residuals[(i + 1).min(n - 1)];
            residuals[i] + frac * (next - residuals[i])
        })
        .collect()
}

/// The range's levels `[a, b]` from held-out tracks' distributions and true scores: a track is
/// inside `[quantile(a), quantile(b)]` exactly when `F(y) ≥ a` and `F(y − 1) < b`. With `k =
/// ⌊(n + 1)·(1 − coverage)/2⌋`, `a` is the k-th smallest `F(y)` and `b` just above the k-th
/// largest `F(y − 1)`, so at most `k − 1` tracks miss on each side, and at least `coverage` of
/// `n + 1` exchangeable tracks fall inside. `None` when `k` is 0.
fn conformal_levels(held: &[ScoreDistribution], truth: &[f64], coverage: f64) -> Option<[f64; 2]> {
    let n = held.len();
    // The slack keeps (1 - 0.8)/2 = 0.09999999999999998 from losing a whole rank.
    let k = ((n as f64 + 1.0) * (1.0 - coverage) / 2.0 + 1e-9).floor() as usize;
    if k == 0 || k > n {
        return None;
    }
    let mut at: Vec<f64> = Vec::with_capacity(n);
    let mut before: Vec<f64> = Vec::with_capacity(n);
    for (d, &y) in held.iter().zip(truth) {
        let y = y.round().clamp(0.0, MAX_SCORE as f64) as usize;
        at.push(d.cdf(y));
        before.push(if y == 0 { 0.0 } else { d.cdf(y - 1) });
    }
    at.sort_by(f64::total_cmp);
    before.sort_by(|a, b| b.total_cmp(a));
    let a = at[k - 1];
    // Twice the slack: `quantile` reads a cumulative sum within LEVEL_EPSILON of a level as
    // reaching it, and the k-th largest must stay strictly below `b`.
    // Above 1 when the k-th largest is 1: the range's top is then the highest score.
    let b = before[k - 1] + 2.0 * LEVEL_EPSILON;
    // Near-certain distributions (a model that knows every score) can leave a above b; the
    // range between the two, read in order, still holds every track the two bounds did.
    Some([a.min(b), a.max(b)])
}

/// Sums of 101 masses are exact to about 1e-15: levels and cumulative sums are compared with
/// this much slack, so a quantile level that equals a cumulative sum finds its score.
const LEVEL_EPSILON: f64 = 1e-9;

impl ScoreDistribution {
    /// The chance of each whole score 0-100.
    pub fn mass(&self) -> &[f64; MAX_SCORE + 1] {
        &self.mass
    }

    /// The chance of a score at or below `k`.
    pub fn cdf(&self, k: usize) -> f64 {
        self.mass[..=k.min(MAX_SCORE)].iter().sum()
    }

    /// The chance of a score above `label`.
    pub fn above(&self, label: u8) -> f64 {
        self.mass[usize::from(label) + 1..].iter().sum()
    }

    /// The expected score.
    pub fn mean(&self) -> f64 {
        self.mass
            .iter()
            .enumerate()
            .map(|(k, m)| k as f64 * m)
            .sum()
    }

    /// The smallest score whose cumulative chance reaches `level`.
    pub fn quantile(&self, level: f64) -> f64 {
        let mut cumulative = 0.0;
        for (k, m) in self.mass.iter().enumerate() {
            cumulative += m;
            if cumulative >= level - LEVEL_EPSILON {
                return k as f64;
            }
        }
        MAX_SCORE as f64
    }

    /// The range between the `levels` quantiles, widened to hold the mean (the score shown beside
    /// it), which can only raise its coverage.
    pub fn range(&self, levels: [f64; 2]) -> Range {
        let mean = self.mean();
        Range {
            low: self.quantile(levels[0]).min(mean),
            high: self.quantile(levels[1]).max(mean),
        }
    }
}

/// How a set of ranges does against the truth.
#[derive(Clone, Default, Copy, Debug, PartialEq, Serialize, Deserialize)]
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

    /// Atoms at -10, 0 and +10 points (a third of the mass each).
    fn three_atoms() -> DistributionModel {
        let mut atoms = vec![-10.0; ATOMS / 3];
        atoms.extend(vec![0.0; ATOMS - 2 * (ATOMS / 3)]);
        atoms.extend(vec![10.0; ATOMS / 3]);
        DistributionModel::constant(atoms, [0.1, 0.9], 71)
    }

    fn at(below: f64, above: f64, probability: f64) -> Location {
        Location {
            below,
            above,
            scale: 1.0,
            probability,
        }
    }

    #[test]
    fn the_chance_above_the_label_is_the_calibrated_probability_and_the_mean_respects_it() {
        let m = three_atoms();
        for (below, p) in [
            (30.0, 0.0),
            (30.0, 0.25),
            (50.0, 0.6),
            (95.0, 0.01),
            (5.0, 1.0),
        ] {
            let d = m.at(at(below, 80.0, p));
            let total: f64 = d.mass().iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "{total}");
            assert!((d.above(71) - p).abs() < 1e-12, "{below} {p}");
            // No distribution with P(score > 71) = p has a mean below 72p.
            assert!(d.mean() >= 72.0 * p - 1e-9, "{}", d.mean());
        }
    }

    #[test]
    fn each_side_spreads_its_atoms_around_its_own_score_model_within_the_side() {
        // Below: atoms at 20, 30 and 40 with 75% of the mass; above: at 70, 80 and 90, the 70
        // clamped to 72, with 25%.
        let d = three_atoms().at(at(30.0, 80.0, 0.25));
        let third = (ATOMS / 3) as f64 / ATOMS as f64;
        let middle = 1.0 - 2.0 * third;
        assert!((d.mass()[20] - 0.75 * third).abs() < 1e-12);
        assert!((d.mass()[30] - 0.75 * middle).abs() < 1e-12);
        assert!((d.mass()[72] - 0.25 * third).abs() < 1e-12);
        assert!((d.mass()[90] - 0.25 * third).abs() < 1e-12);
        let want = 0.75 * 30.0 + 0.25 * (third * 72.0 + middle * 80.0 + third * 90.0);
        assert!((d.mean() - want).abs() < 1e-9, "{}", d.mean());
        // A below-side model at 68 puts its top atom at the label, not above it.
        let d = three_atoms().at(at(68.0, 80.0, 0.0));
        assert!((d.mass()[71] - third).abs() < 1e-12);
        assert_eq!(d.above(71), 0.0);
    }

    #[test]
    fn quantiles_and_ranges_read_the_cumulative_mass() {
        let d = three_atoms().at(at(30.0, 80.0, 0.0));
        assert_eq!(d.quantile(0.1), 20.0);
        assert_eq!(d.quantile(0.5), 30.0);
        assert_eq!(d.quantile(0.9), 40.0);
        assert_eq!(
            d.range([0.1, 0.9]),
            Range {
                low: 20.0,
                high: 40.0
            }
        );
        // A 15% chance of a hit lifts the 90% quantile above the label: the range reaches up
        // exactly when p > 1 - b.
        let up = three_atoms().at(at(30.0, 80.0, 0.15));
        assert!(up.range([0.1, 0.9]).high > 71.0);
        let not = three_atoms().at(at(30.0, 80.0, 0.09));
        assert!(not.range([0.1, 0.9]).high <= 71.0);
        // Clamped at the ends: a location of 2 puts a third of the mass at 0.
        let low = three_atoms().at(at(2.0, 80.0, 0.0));
        assert!(low.mass()[0] > 0.3);
        assert_eq!(low.quantile(0.1), 0.0);
    }

    #[test]
    fn conformal_levels_leave_at_most_k_minus_one_misses_a_side() {
        // 99 held-out tracks with the same distribution (atoms at 20, 30, 40) and true scores
        // cycling 20, 30, 40: k = floor(100 * 0.1) = 10.
        let m = three_atoms();
        let held: Vec<ScoreDistribution> = (0..99).map(|_| m.at(at(30.0, 80.0, 0.0))).collect();
        let truth: Vec<f64> = (0..99).map(|i| [20.0, 30.0, 40.0][i % 3]).collect();
        let levels = conformal_levels(&held, &truth, 0.8).unwrap();
        let ranges: Vec<Range> = held.iter().map(|d| d.range(levels)).collect();
        // Every true score is 20, 30 or 40: the range covers them all.
        assert_eq!(IntervalMetrics::new(&ranges, &truth).coverage, 1.0);
        // Every score equally likely, true scores 0 to 98: the lowest nine and the highest nine
        // miss (k - 1 = 9 a side), so 81 of 99 fall inside.
        let uniform: Vec<ScoreDistribution> = (0..99)
            .map(|_| ScoreDistribution {
                mass: [1.0 / 101.0; MAX_SCORE + 1],
            })
            .collect();
        let spread: Vec<f64> = (0..99).map(f64::from).collect();
        let levels = conformal_levels(&uniform, &spread, 0.8).unwrap();
        let ranges: Vec<Range> = uniform.iter().map(|d| d.range(levels)).collect();
        assert_eq!(ranges[0].low, 9.0);
        assert_eq!(ranges[0].high, 89.0);
        let metrics = IntervalMetrics::new(&ranges, &spread);
        assert!(
            (metrics.coverage - 81.0 / 99.0).abs() < 1e-12,
            "{metrics:?}"
        );
        // A true score above all the mass: the range's top becomes the highest score.
        let mut beyond = truth.clone();
        for y in beyond.iter_mut().take(10) {
            *y = 50.0;
        }
        let levels = conformal_levels(&held, &beyond, 0.8).unwrap();
        assert_eq!(held[0].range(levels).high, 100.0);
        // Too few tracks to certify 80%: k = floor(4 * 0.1) = 0.
        assert_eq!(conformal_levels(&held[..3], &truth[..3], 0.8), None);
    }

    #[test]
    fn atoms_are_evenly_spaced_quantiles() {
        let a = atoms((0..=1000).map(f64::from).collect());
        assert_eq!(a.len(), ATOMS);
        // Level (j + 0.5)/200 of 0..=1000 is 5·(j + 0.5) = 2.5, 7.5, ...
        assert!((a[0] - 2.5).abs() < 1e-9 && (a[199] - 997.5).abs() < 1e-9);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_fitted_distribution_covers_val_and_keeps_the_narrower_scale() {
        // y = 30 + 40·a + noise whose size grows with b (all within 0-100): the band follows it.
        let n = 4000;
        let mut data = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a = (i % 97) as f64 / 97.0;
            let b = (i % 13) as f64 / 13.0;
            let noise = (((i * 7919) % 101) as f64 / 50.0 - 1.0) * 25.0 * b;
            data.extend([a, b]);
            y.push((30.0 + 40.0 * a + noise).round());
        }
        let x = FeatureMatrix::new(vec!["a".into(), "b".into()], data).unwrap();
        let (fit_rows, val_rows): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 2 == 0);
        let (fx, vx) = (x.select_rows(&fit_rows), x.select_rows(&val_rows));
        let fy: Vec<f64> = fit_rows.iter().map(|&i| y[i]).collect();
        let vy: Vec<f64> = val_rows.iter().map(|&i| y[i]).collect();
        let below: Vec<f64> = vx.rows().map(|r| 30.0 + 40.0 * r[0]).collect();
        let above = vec![80.0; vy.len()];
        let probability: Vec<f64> = vy
            .iter()
            .map(|&v| if v > 71.0 { 0.5 } else { 0.01 })
            .collect();
        let (fit, val) = (TrainSet::new(&fx, &fy), TrainSet::new(&vx, &vy));
        let data = DistributionData {
            val: &val,
            val_below: &below,
            val_above: &above,
            val_probability: &probability,
        };
        let band = fit_band(0.8, &fit, &val, 1).unwrap();
        let (m, choice) = DistributionModel::fit(0.8, 71, &data, band.clone()).unwrap();
        assert_eq!(choice.method, "band", "{choice:?}");
        assert!(choice.band_width < choice.constant_width);
        let scales = m.scales(&vx);
        let ranges: Vec<Range> = (0..vy.len())
            .map(|i| {
                m.at(Location {
                    below: below[i],
                    above: above[i],
                    scale: scales[i],
                    probability: probability[i],
                })
                .range(m.levels())
            })
            .collect();
        let val_metrics = IntervalMetrics::new(&ranges, &vy);
        assert!(val_metrics.coverage >= 0.78, "{val_metrics:?}");
        assert!(m.check_inputs(2).is_ok());
        assert!(m.check_inputs(3).is_err());
        assert!(matches!(
            DistributionModel::fit(1.0, 71, &data, band),
            Err(IntervalError::Coverage(_))
        ));
    }

    #[test]
    fn a_model_whose_parts_disagree_fails_its_check() {
        let mut m = three_atoms();
        m.below[0] = f64::NAN;
        assert!(m.check_inputs(1).is_err());
        let mut m = three_atoms();
        m.levels = [0.9, 0.1];
        assert!(m.check_inputs(1).is_err());
        let mut m = three_atoms();
        m.above.clear();
        assert!(m.check_inputs(1).is_err());
    }
}

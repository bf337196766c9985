//! Why a classifier gave a track its probability (additive contributions to the log-odds), and
//! why the regressor gave it its 0-100 score (contributions in points of popularity).
//!
//! Every method here is additive and complete: `base + Σ contributions` equals the model's
//! log-odds (or score) for the row (to rounding), so the contributions say how the model got
//! from the model's baseline (its average answer) to this one. The score's explanation uses the same methods on the
//! regressor's output, which is already on its own scale.
//!
//! - Tree models (gbm, rf): TreeSHAP (exact, hessboost's implementation); `base` is the trees'
//!   expected margin over their training rows.
//! - Logistic regression: exact interventional SHAP, `β_j (x_j − mean_j)` with the means of the
//!   background rows; `base` is the log-odds at those means.
//! - MLP and stack (no tree or linear form): sampling Shapley values, the permutation estimator
//!   of Štrumbelj and Kononenko (2014). Each sample pairs a background row (a random FIT track
//!   stored in the model) with a random order of the features; switching the features from the
//!   background row to this track one by one in that order, each feature is credited with the
//!   change in log-odds it causes. Averaged over the samples this estimates the interventional
//!   Shapley value; the sum is exact by construction (each sample's credits telescope), and the
//!   per-feature estimates carry sampling noise that falls as 1/sqrt(samples).
//!
//! The genre indicators are one feature, "genre", so a track's genres are credited together.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureMatrix, FeaturePipeline};
use crate::models::{
    sigmoid, Classifier, FittedClassifier, FittedRegressor, ModelError, Regressor,
};

/// The name of the feature that stands for all genre indicators.
pub const GENRE: &str = "genre";

/// How contributions were computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Exact TreeSHAP of a tree model.
    TreeShap,
    /// Exact SHAP of a linear model against the background means.
    LinearShap,
    /// Sampled Shapley values against background rows.
    SamplingShapley,
}

impl Method {
    /// How `classifier`'s contributions are computed.
    pub fn of(classifier: &FittedClassifier) -> Method {
        match classifier {
            FittedClassifier::Boosting(_) | FittedClassifier::Forest(_) => Method::TreeShap,
            FittedClassifier::Logistic(_) => Method::LinearShap,
            FittedClassifier::Mlp(_) | FittedClassifier::Stack(_) => Method::SamplingShapley,
        }
    }

    /// How `regressor`'s contributions to the score are computed.
    pub fn of_regressor(regressor: &FittedRegressor) -> Method {
        match regressor {
            FittedRegressor::Boosting(_) | FittedRegressor::Forest(_) => Method::TreeShap,
            FittedRegressor::Linear(_) => Method::LinearShap,
            FittedRegressor::Mlp(_) => Method::SamplingShapley,
        }
    }

    /// A short description for people.
    pub fn describe(self) -> &'static str {
        match self {
            Method::TreeShap => "TreeSHAP (exact)",
            Method::LinearShap => "linear SHAP against the FIT background means (exact)",
            Method::SamplingShapley => "sampling Shapley values against FIT background rows",
        }
    }
}

/// One feature's part in a prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Feature name (`genre` for all genre indicators).
    pub feature: String,
    /// The track's value, on the input scale, as people read it (genres by name).
    pub value: String,
    /// The track's value as a number, on the input scale, to full precision; `None` for the
    /// genres and for an input the track was not measured for. Data frames carry it as a number
    /// column; JSON carries `value` alone.
    #[serde(skip)]
    pub number: Option<f64>,
    /// The value the model read in place of the track's own, where the two differ: a Tukey
    /// fence under the capped outlier setup (a 25-minute track read as its fence's length), or
    /// the training tracks' median of an input a song measured from audio lacks (`value` then
    /// says "not measured"). The contribution is of this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_as: Option<f64>,
    /// What this feature changes, from `base` towards the track's answer: log-odds in an
    /// [`Explanation`], points of popularity in a [`ScoreExplanation`].
    pub contribution: f64,
}

impl Contribution {
    /// The value for people ([`crate::words::value`]), with what the model read in its place
    /// where that differs: "25:00 (read as 6:41)".
    pub fn value_in_words(&self) -> String {
        let own = crate::words::value(&self.feature, &self.value);
        match self.read_as {
            Some(x) => format!(
                "{own} (read as {})",
                crate::words::value(&self.feature, &number(x))
            ),
            None => own,
        }
    }
}

/// Shows the track's own audio inputs in `contributions`, which hold the values the model read
/// (a transformed row undone, to rounding): each audio input's `value` and `number` become the
/// track's own, exactly, and where `pipeline` read another value (a fence, a median for an input
/// not measured), `read_as` that one. `audio` is the track's, in
/// [`crate::data::Column::AUDIO`] order, NaN where not measured; with an empty `title`, the
/// title's length is [`NO_TITLE`], read as the mean length the model read.
pub fn show_own_values(
    contributions: &mut [Contribution],
    pipeline: &FeaturePipeline,
    audio: &[f64; crate::data::N_AUDIO],
    title: &str,
) {
    for c in contributions {
        if c.feature == "title_length" && title.trim().is_empty() {
            c.read_as = c.number.or_else(|| c.value.parse().ok());
            (c.value, c.number) = (NO_TITLE.to_owned(), None);
            continue;
        }
        let Some(i) = crate::data::Column::from_name(&c.feature).and_then(|col| col.audio_index())
        else {
            continue;
        };
        let (own, read) = (audio[i], pipeline.read_value(i, audio[i]));
        c.read_as = (!own.total_cmp(&read).is_eq()).then_some(read);
        (c.value, c.number) = if own.is_nan() {
            (NOT_MEASURED.to_owned(), None)
        } else {
            (number(own), Some(own))
        };
    }
}

/// The value of an input a song measured from audio lacks.
pub const NOT_MEASURED: &str = "not measured";

/// The title length of a track given without a title.
pub const NO_TITLE: &str = "no title";

/// A 0-100 score and its contributions, in points of popularity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreExplanation {
    /// How the contributions were computed.
    pub method: Method,
    /// The score of a typical track (see the method).
    pub base: f64,
    /// The answer's score for this track: `base` plus every contribution.
    pub score: f64,
    /// One per feature, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

/// The name of the contribution that carries a track's chance of a score above the label into
/// its score ([`ScoreExplanation::with_hit_chance`]).
pub const HIT_CHANCE: &str = "hit_chance";

impl ScoreExplanation {
    /// The score's [`steps`], `n` inputs one by one.
    pub fn score_steps(&self, n: usize) -> Vec<Step> {
        steps(self.base, self.score, &self.contributions, n, |v| v)
    }

    /// The explanation of the below-side score model's score, carried to the answer's `score`
    /// (the mean of a distribution whose chance above the label is `probability`, see
    /// [`crate::distribution`]): one more contribution, [`HIT_CHANCE`], is the difference, so
    /// `base` plus the contributions is the answer's score. It is mostly the chance of a hit
    /// times how far above this score a hit lies; the rest is the below side's spread against
    /// the bounds 0 and the label.
    pub fn with_hit_chance(mut self, score: f64, probability: f64) -> ScoreExplanation {
        let contribution = score - self.score;
        let at = self
            .contributions
            .iter()
            .position(|c| c.contribution.abs() < contribution.abs())
            .unwrap_or(self.contributions.len());
        self.contributions.insert(
            at,
            Contribution {
                feature: HIT_CHANCE.to_owned(),
                value: format!("{:.1}%", probability * 100.0),
                number: Some(probability),
                read_as: None,
                contribution,
            },
        );
        self.score = score;
        self
    }
}

/// A prediction and its contributions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// How the contributions were computed.
    pub method: Method,
    /// The model's baseline: its average answer in log-odds, where the contributions start
    /// (see the method).
    pub base: f64,
    /// The model's log-odds for this track: `base` plus every contribution.
    pub log_odds: f64,
    /// The probability of being popular.
    pub probability: f64,
    /// One per feature, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

impl Explanation {
    /// The chance's [`steps`], `n` inputs one by one.
    pub fn chance_steps(&self, n: usize) -> Vec<Step> {
        steps(
            self.base,
            self.log_odds,
            &self.contributions,
            n,
            probability,
        )
    }

    /// The `n` largest contributions that raise the probability, largest first.
    pub fn top_up(&self, n: usize) -> impl Iterator<Item = &Contribution> {
        self.contributions
            .iter()
            .filter(|c| c.contribution > 0.0)
            .take(n)
    }

    /// The `n` largest contributions that lower it, largest magnitude first.
    pub fn top_down(&self, n: usize) -> impl Iterator<Item = &Contribution> {
        self.contributions
            .iter()
            .filter(|c| c.contribution < 0.0)
            .take(n)
    }
}

/// One step from a typical track's answer to a track's (see [`steps`]): an input in music
/// words (or the rest together), its value in words, and where the step takes the answer from
/// and to (a chance 0-1, or a score in points).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The input's name for people ([`crate::words::label`]).
    pub label: String,
    /// Its value for people ([`crate::words::value`]); empty for the rest.
    pub value: String,
    /// The answer before the step.
    pub from: f64,
    /// The answer after it.
    pub to: f64,
}

/// The steps from a typical track's answer to this track's: the `shown_steps` largest
/// contributions one by one, then everything else in one step. Contributions add on the
/// model's scale (`base` to `total`); `shown` maps that scale to the answer's (log-odds to a
/// chance; a score is its own), and each step's change is measured after the steps before it,
/// so the steps add up to the whole move exactly.
pub fn steps(
    base: f64,
    total: f64,
    contributions: &[Contribution],
    shown_steps: usize,
    shown: impl Fn(f64) -> f64,
) -> Vec<Step> {
    let n = contributions.len().min(shown_steps);
    let (top, rest) = contributions.split_at(n);
    let mut at = base;
    let mut steps = Vec::with_capacity(n + 1);
    let mut step = |label: String, value: String, delta: f64| {
        let from = shown(at);
        at += delta;
        steps.push(Step {
            label,
            value,
            from,
            to: shown(at),
        });
    };
    for c in top {
        step(
            crate::words::label(&c.feature),
            c.value_in_words(),
            c.contribution,
        );
    }
    if !rest.is_empty() {
        // The rest's sum, so the last step lands on the track's own answer exactly.
        let shown_sum: f64 = top.iter().map(|c| c.contribution).sum();
        step(
            format!("Everything else ({} more inputs)", rest.len()),
            String::new(),
            total - base - shown_sum,
        );
    }
    steps
}

/// Settings of the sampling method (the exact methods ignore them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplingOptions {
    /// (background row, feature order) samples per track. Default 256.
    pub samples: usize,
    /// Seed of the orders.
    pub seed: u64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            samples: 256,
            seed: 42,
        }
    }
}

/// Features as the explanation's players: each column alone, but the genre indicators together.
#[derive(Clone, Debug, PartialEq)]
pub struct Players {
    names: Vec<String>,
    columns: Vec<Vec<usize>>,
}

impl Players {
    /// Groups the columns `names` (a pipeline's feature names).
    pub fn new(names: &[String]) -> Players {
        let mut players = Players {
            names: Vec::new(),
            columns: Vec::new(),
        };
        let mut genre = None;
        for (j, name) in names.iter().enumerate() {
            if name.starts_with("genre=") {
                let k = *genre.get_or_insert_with(|| {
                    players.names.push(GENRE.to_owned());
                    players.columns.push(Vec::new());
                    players.names.len() - 1
                });
                players.columns[k].push(j);
            } else {
                players.names.push(name.clone());
                players.columns.push(vec![j]);
            }
        }
        players
    }

    /// Player names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Sums per-column values into per-player values.
    fn gather(&self, per_column: &[f64]) -> Vec<f64> {
        self.columns
            .iter()
            .map(|cols| cols.iter().map(|&j| per_column[j]).sum())
            .collect()
    }
}

/// Explains the classifier's probability for every row of `x` (rows of `pipeline`'s features).
/// `background` holds FIT rows for the linear and sampling methods.
pub fn explain(
    classifier: &FittedClassifier,
    pipeline: &FeaturePipeline,
    background: &FeatureMatrix,
    x: &FeatureMatrix,
    options: SamplingOptions,
) -> Result<Vec<Explanation>, ModelError> {
    let players = players_for(pipeline, background, x)?;
    let probabilities = classifier.predict_proba(x);
    let method = Method::of(classifier);
    let raw = match classifier {
        FittedClassifier::Boosting(m) => tree_shap(m.contributions(x)?),
        FittedClassifier::Forest(m) => tree_shap(m.contributions(x)?),
        FittedClassifier::Logistic(m) => linear_shap(&m.beta, background, x),
        FittedClassifier::Mlp(_) | FittedClassifier::Stack(_) => {
            let g = |m: &FeatureMatrix| -> Vec<f64> {
                classifier
                    .predict_proba(m)
                    .into_iter()
                    .map(log_odds)
                    .collect()
            };
            sampled(&g, &players, background, x, options)?
        }
    };
    Ok(x.rows()
        .zip(raw)
        .zip(probabilities)
        .map(|((row, (base, per_column)), probability)| {
            let (log_odds, contributions) =
                assemble(&players, pipeline, method, row, base, per_column);
            Explanation {
                method,
                base,
                log_odds,
                probability,
                contributions,
            }
        })
        .collect())
}

/// Explains the regressor's score for every row of `x`, as [`explain`] the classifier's
/// probability: TreeSHAP for tree models, exact SHAP for the linear one, sampled Shapley values
/// for the network, all on the score's own scale.
pub fn explain_score(
    regressor: &FittedRegressor,
    pipeline: &FeaturePipeline,
    background: &FeatureMatrix,
    x: &FeatureMatrix,
    options: SamplingOptions,
) -> Result<Vec<ScoreExplanation>, ModelError> {
    let players = players_for(pipeline, background, x)?;
    let method = Method::of_regressor(regressor);
    let raw = match regressor {
        FittedRegressor::Boosting(m) => tree_shap(m.contributions(x)?),
        FittedRegressor::Forest(m) => tree_shap(m.contributions(x)?),
        FittedRegressor::Linear(m) => linear_shap(&m.beta, background, x),
        FittedRegressor::Mlp(_) => {
            let g = |m: &FeatureMatrix| regressor.predict(m);
            sampled(&g, &players, background, x, options)?
        }
    };
    Ok(x.rows()
        .zip(raw)
        .map(|(row, (base, per_column))| {
            let (score, contributions) =
                assemble(&players, pipeline, method, row, base, per_column);
            ScoreExplanation {
                method,
                base,
                score,
                contributions,
            }
        })
        .collect())
}

/// The explanation's players, once the rows and the background are checked to be the
/// pipeline's.
fn players_for(
    pipeline: &FeaturePipeline,
    background: &FeatureMatrix,
    x: &FeatureMatrix,
) -> Result<Players, ModelError> {
    let names = pipeline.names();
    if x.n_cols() != names.len() || background.n_cols() != names.len() {
        return Err(ModelError::Shape(format!(
            "rows of {} and background of {} columns for a model of {}",
            x.n_cols(),
            background.n_cols(),
            names.len()
        )));
    }
    Ok(Players::new(names))
}

/// Sampled Shapley values of `g` for every row of `x`: (base, per player).
fn sampled(
    g: &dyn Fn(&FeatureMatrix) -> Vec<f64>,
    players: &Players,
    background: &FeatureMatrix,
    x: &FeatureMatrix,
    options: SamplingOptions,
) -> Result<Vec<(f64, Vec<f64>)>, ModelError> {
    if background.n_rows() == 0 {
        return Err(ModelError::Shape("the model has no background rows".into()));
    }
    Ok(x.rows()
        .enumerate()
        .map(|(i, row)| {
            let seed = options.seed.wrapping_add(i as u64);
            sampling_shapley(g, players, background, row, options.samples, seed)
        })
        .collect())
}

/// One row's total (`base` plus every contribution) and its contributions, per player (the
/// exact methods give one value per column, gathered here), largest magnitude first.
fn assemble(
    players: &Players,
    pipeline: &FeaturePipeline,
    method: Method,
    row: &[f64],
    base: f64,
    per_column: Vec<f64>,
) -> (f64, Vec<Contribution>) {
    let per_player = if method == Method::SamplingShapley {
        per_column
    } else {
        players.gather(&per_column)
    };
    let total = base + per_player.iter().sum::<f64>();
    let values = display_values(players, pipeline, row);
    let mut contributions: Vec<Contribution> = players
        .names
        .iter()
        .zip(values)
        .zip(per_player)
        .map(|((feature, (value, number)), contribution)| Contribution {
            feature: feature.clone(),
            value,
            number,
            read_as: None,
            contribution,
        })
        .collect();
    contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    (total, contributions)
}

/// Probabilities are clipped this far from 0 and 1 before taking log-odds.
const CLIP: f64 = 1e-9;

fn log_odds(p: f64) -> f64 {
    crate::models::logit_clipped(p, CLIP)
}

/// TreeSHAP rows (one value per column, then the bias) as (base, per column).
fn tree_shap(rows: Vec<Vec<f64>>) -> Vec<(f64, Vec<f64>)> {
    rows.into_iter()
        .map(|mut r| {
            let bias = r.pop().unwrap_or_default();
            (bias, r)
        })
        .collect()
}

/// `β_j (x_j − mean_j)` per column and the log-odds at the background means.
fn linear_shap(
    beta: &[f64],
    background: &FeatureMatrix,
    x: &FeatureMatrix,
) -> Vec<(f64, Vec<f64>)> {
    let n = background.n_rows().max(1) as f64;
    let means: Vec<f64> = (0..background.n_cols())
        .map(|j| background.column(j).sum::<f64>() / n)
        .collect();
    let base = beta[0]
        + beta[1..]
            .iter()
            .zip(&means)
            .map(|(b, m)| b * m)
            .sum::<f64>();
    x.rows()
        .map(|row| {
            let per = row
                .iter()
                .zip(&means)
                .zip(&beta[1..])
                .map(|((v, m), b)| b * (v - m))
                .collect();
            (base, per)
        })
        .collect()
}

/// The permutation estimator for one row: (base, per player). Sample `s` uses background row
/// `s mod B`, so with a multiple of B samples every background row counts equally.
fn sampling_shapley(
    g: &dyn Fn(&FeatureMatrix) -> Vec<f64>,
    players: &Players,
    background: &FeatureMatrix,
    row: &[f64],
    samples: usize,
    seed: u64,
) -> (f64, Vec<f64>) {
    let (p, d) = (players.names.len(), row.len());
    let samples = samples.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut orders = Vec::with_capacity(samples);
    // Each sample: the background row, then one row per player switched to `row`.
    let mut data = Vec::with_capacity(samples * (p + 1) * d);
    for s in 0..samples {
        let mut order: Vec<usize> = (0..p).collect();
        order.shuffle(&mut rng);
        let mut z = background.row(s % background.n_rows()).to_vec();
        data.extend_from_slice(&z);
        for &k in &order {
            for &j in &players.columns[k] {
                z[j] = row[j];
            }
            data.extend_from_slice(&z);
        }
        orders.push(order);
    }
    let names = background.names().to_vec();
    let m = FeatureMatrix::new(names, data).unwrap_or_else(|| unreachable!("whole rows"));
    let values = g(&m);
    let mut phi = vec![0.0; p];
    let mut base = 0.0;
    for (s, order) in orders.iter().enumerate() {
        let v = &values[s * (p + 1)..(s + 1) * (p + 1)];
        base += v[0];
        for (t, &k) in order.iter().enumerate() {
            phi[k] += v[t + 1] - v[t];
        }
    }
    let n = samples as f64;
    (base / n, phi.into_iter().map(|v| v / n).collect())
}

/// Each player's value in `row`, on the input scale: as people read it (numbers as written,
/// genres by name), and as a number where it is one (not the genres).
fn display_values(
    players: &Players,
    pipeline: &FeaturePipeline,
    row: &[f64],
) -> Vec<(String, Option<f64>)> {
    let unscaled = pipeline.unscale(row);
    let names = pipeline.names();
    players
        .columns
        .iter()
        .zip(&players.names)
        .map(|(cols, name)| {
            if name == GENRE {
                let on: Vec<&str> = cols
                    .iter()
                    .filter(|&&j| unscaled[j] > 0.5)
                    .map(|&j| names[j].trim_start_matches("genre="))
                    .collect();
                let names = if on.is_empty() {
                    "none".to_owned()
                } else {
                    on.join(", ")
                };
                (names, None)
            } else {
                let v = unscaled[cols[0]];
                (number(v), Some(v))
            }
        })
        .collect()
}

/// A number for people: integers without a fraction, others to 4 significant digits.
fn number(v: f64) -> String {
    if v.fract().abs() < 1e-9 && v.abs() < 1e15 {
        format!("{}", v.round() as i64)
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
        let s = format!("{v:.digits$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    }
}

/// The probability from log-odds (for readers of [`Explanation::log_odds`]).
pub fn probability(log_odds: f64) -> f64 {
    sigmoid(log_odds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ClassifierKind, ModelSpec, TrainSet};
    use rand::Rng;

    #[test]
    fn genre_indicators_are_one_player() {
        let names: Vec<String> = ["tempo", "genre=pop", "genre=rock", "n_genres"]
            .map(String::from)
            .to_vec();
        let p = Players::new(&names);
        assert_eq!(p.names(), ["tempo", "genre", "n_genres"]);
        assert_eq!(p.gather(&[1.0, 2.0, 3.0, 4.0]), [1.0, 5.0, 4.0]);
    }

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(number(230666.0), "230666");
        assert_eq!(number(0.51234), "0.5123");
        assert_eq!(number(-5.25), "-5.25");
        assert_eq!(number(120.0451), "120");
        assert_eq!(number(0.000123456), "0.0001235");
    }

    fn players(d: usize) -> (Players, Vec<String>) {
        let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        (Players::new(&names), names)
    }

    #[test]
    fn sampling_is_exact_for_a_linear_function() {
        // For g linear, every order credits feature j with b_j (x_j - z_j): cycling through the
        // background rows evenly gives exactly b_j (x_j - mean_j).
        let (players, names) = players(3);
        let beta = [0.5, 2.0, -1.0, 3.0];
        let g = |m: &FeatureMatrix| -> Vec<f64> {
            m.rows()
                .map(|r| beta[0] + r.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>())
                .collect()
        };
        let bg = FeatureMatrix::new(names.clone(), vec![0.0, 1.0, 2.0, 2.0, 3.0, 0.0]).unwrap();
        let row = [1.0, 1.0, 1.0];
        let (base, phi) = sampling_shapley(&g, &players, &bg, &row, 8, 3);
        // Means (1, 2, 1): base = 0.5 + 2 - 2 + 3 = 3.5.
        assert!((base - 3.5).abs() < 1e-12);
        let expected = [0.0, 1.0, 0.0];
        for (a, b) in phi.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{phi:?}");
        }
        let x = FeatureMatrix::new(names, row.to_vec()).unwrap();
        let (lb, lphi) = linear_shap(&beta, &bg, &x).remove(0);
        assert_eq!((lb, lphi), (base, phi));
    }

    #[test]
    fn sampling_converges_on_an_interaction_and_always_sums_to_the_output() {
        // g = x0 * x1 against one background row b = (0, 0): the Shapley values of x = (2, 3)
        // are 3 and 3 (the interaction 6 is split evenly); x2 plays no part.
        let (players, names) = players(3);
        let g = |m: &FeatureMatrix| -> Vec<f64> { m.rows().map(|r| r[0] * r[1]).collect() };
        let bg = FeatureMatrix::new(names, vec![0.0, 0.0, 5.0]).unwrap();
        let (base, phi) = sampling_shapley(&g, &players, &bg, &[2.0, 3.0, 1.0], 2000, 1);
        assert_eq!(base, 0.0);
        assert!((phi.iter().sum::<f64>() - 6.0).abs() < 1e-9);
        assert!(
            (phi[0] - 3.0).abs() < 0.4 && (phi[1] - 3.0).abs() < 0.4,
            "{phi:?}"
        );
        assert_eq!(phi[2], 0.0);
    }

    /// 400 tracks whose label follows danceability and the pop genre, through an audio+genre
    /// pipeline (14 audio columns, genre=pop, genre=rock).
    fn fixture() -> (FeaturePipeline, FeatureMatrix, Vec<f64>) {
        use crate::data::{Column, Track, Tracks, N_AUDIO};
        use crate::features::{FeatureSet, OutlierSetup, PipelineParams};
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let dance = Column::Danceability.audio_index().unwrap();
        let mut y = Vec::new();
        let rows: Vec<Track> = (0..400)
            .map(|i| {
                let mut audio = [0.0; N_AUDIO];
                for v in &mut audio {
                    *v = rng.random_range(0.0..1.0);
                }
                let pop = rng.random_bool(0.5);
                let score = audio[dance] + if pop { 0.5 } else { 0.0 } + 0.3 * rng.random::<f64>();
                y.push(f64::from(u8::from(score > 0.9)));
                Track {
                    line: i + 2,
                    track_id: format!("t{i}"),
                    artists: String::new(),
                    album_name: String::new(),
                    track_name: String::new(),
                    popularity: Some(0),
                    audio,
                    genres: vec![u16::from(!pop)],
                }
            })
            .collect();
        let tracks = Tracks {
            genres: vec!["pop".into(), "rock".into()],
            rows,
            collapse: Default::default(),
        };
        let all: Vec<usize> = (0..400).collect();
        let params = PipelineParams {
            outliers: OutlierSetup::Raw,
            standardize: true,
            features: FeatureSet::AudioGenre,
        };
        let pipeline = FeaturePipeline::fit(&tracks, &all, params).unwrap();
        let x = pipeline.transform(&tracks, &all).matrix;
        (pipeline, x, y)
    }

    #[test]
    fn every_family_adds_up_to_its_log_odds() {
        let (pipeline, x, y) = fixture();
        let bg = x.select_rows(&(0..50).collect::<Vec<_>>());
        let some = x.select_rows(&[3, 7, 11]);
        for kind in [
            ClassifierKind::Gbm,
            ClassifierKind::Rf,
            ClassifierKind::Logreg,
            ClassifierKind::Mlp,
        ] {
            let model = ModelSpec::classifier(kind)
                .fit_classifier(&TrainSet::new(&x, &y), None, 1)
                .unwrap();
            let ex = explain(&model, &pipeline, &bg, &some, SamplingOptions::default()).unwrap();
            for (e, p) in ex.iter().zip(model.predict_proba(&some)) {
                let total = e.base + e.contributions.iter().map(|c| c.contribution).sum::<f64>();
                assert!((total - e.log_odds).abs() < 1e-9, "{kind}");
                // The log-odds are the model's own: its probability comes back.
                assert!(
                    (probability(e.log_odds) - p).abs() < 1e-5,
                    "{kind}: {e:?} vs {p}"
                );
                assert_eq!(e.contributions.len(), 15, "{kind}: genre is one player");
                let genre = e.contributions.iter().find(|c| c.feature == GENRE).unwrap();
                assert!(genre.value == "pop" || genre.value == "rock", "{genre:?}");
            }
            // Danceability drives the label: it should lead (or follow genre) for this model.
            let leaders: Vec<&str> = ex[0].contributions[..3]
                .iter()
                .map(|c| c.feature.as_str())
                .collect();
            assert!(
                leaders.contains(&"danceability") || leaders.contains(&GENRE),
                "{kind}: {leaders:?}"
            );
        }
    }

    #[test]
    fn every_regressor_adds_up_to_its_score() {
        use crate::models::RegressorKind;
        let (pipeline, x, y) = fixture();
        // A score that danceability drives: 100 times the label plus the danceability column.
        let dance = pipeline
            .names()
            .iter()
            .position(|n| n == "danceability")
            .unwrap();
        let score: Vec<f64> = x
            .rows()
            .zip(&y)
            .map(|(r, l)| 60.0 * l + 10.0 * r[dance] + 30.0)
            .collect();
        let bg = x.select_rows(&(0..50).collect::<Vec<_>>());
        let some = x.select_rows(&[3, 7, 11]);
        for kind in [
            RegressorKind::Gbm,
            RegressorKind::Rf,
            RegressorKind::Linear,
            RegressorKind::Mlp,
        ] {
            let model = ModelSpec::regressor(kind)
                .fit_regressor(&TrainSet::new(&x, &score), None, 1)
                .unwrap();
            let ex =
                explain_score(&model, &pipeline, &bg, &some, SamplingOptions::default()).unwrap();
            assert_eq!(ex[0].method, Method::of_regressor(&model));
            for (e, s) in ex.iter().zip(model.predict(&some)) {
                let total = e.base + e.contributions.iter().map(|c| c.contribution).sum::<f64>();
                assert!((total - e.score).abs() < 1e-9, "{kind}");
                // The score is the model's own, in points: within a thousandth of a point, as
                // hessboost sums a booster's 2,000 trees in f32 and TreeSHAP in f64.
                assert!((e.score - s).abs() < 1e-3, "{kind}: {} vs {s}", e.score);
                assert_eq!(e.contributions.len(), 15, "{kind}: genre is one player");
            }
            let leaders: Vec<&str> = ex[0].contributions[..3]
                .iter()
                .map(|c| c.feature.as_str())
                .collect();
            assert!(
                leaders.contains(&"danceability") || leaders.contains(&GENRE),
                "{kind}: {leaders:?}"
            );
        }
    }
}

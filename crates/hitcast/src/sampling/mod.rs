//! Imbalance handling, applied to FIT rows only (docs/evaluation.md, "Experiments"): class weights, SMOTE, ADASYN and
//! random undersampling, following imbalanced-learn's definitions (k = 5 neighbours, classes
//! brought to 1:1). Run them on z-scored features so distances are meaningful.
//!
//! Hand-written: the Rust options (`imbalance-rs`) fix their own RNG and neighbour search, and
//! these four take a page between them on an exact neighbour search (`neighbours`), which in
//! 139 dimensions a tree would not speed up.

mod neighbours;

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::features::FeatureMatrix;
use neighbours::nearest;

/// An imbalance strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Rows as they are.
    None,
    /// Each class weighted `n / (2 n_class)` (scikit-learn's "balanced").
    Weights,
    /// SMOTE: synthetic minority rows on segments to minority neighbours.
    Smote,
    /// ADASYN: SMOTE with more synthetic rows where majority neighbours crowd a minority row.
    Adasyn,
    /// A random subset of the majority class, as large as the minority.
    Undersample,
}

impl Strategy {
    /// Every strategy, in report order.
    pub const ALL: [Strategy; 5] = [
        Strategy::None,
        Strategy::Weights,
        Strategy::Smote,
        Strategy::Adasyn,
        Strategy::Undersample,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::None => "none",
            Strategy::Weights => "weights",
            Strategy::Smote => "smote",
            Strategy::Adasyn => "adasyn",
            Strategy::Undersample => "undersample",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Strategy::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown strategy {s:?}: expected none, weights, smote, adasyn or undersample"
                )
            })
    }
}

/// Why resampling failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SamplingError {
    /// Too few minority rows for k neighbours.
    #[error("{strategy} needs more than {k} minority rows, found {found}")]
    TooFewMinority {
        /// The strategy.
        strategy: Strategy,
        /// Neighbours asked for.
        k: usize,
        /// Minority rows present.
        found: usize,
    },
    /// One class is absent.
    #[error("resampling needs both classes")]
    OneClass,
    /// ADASYN found no minority row with a majority neighbour.
    #[error("adasyn: no minority row has a majority neighbour, so there is nothing to adapt to")]
    NoHardRows,
}

/// Training rows after a strategy: features, 0/1 labels, and weights when the strategy sets them.
#[derive(Clone, Debug, PartialEq)]
pub struct Resampled {
    /// Feature rows (originals first, synthetic rows after them).
    pub x: FeatureMatrix,
    /// Labels, 0.0 or 1.0.
    pub y: Vec<f64>,
    /// Per-row weights for [`Strategy::Weights`], else `None`.
    pub weights: Option<Vec<f64>>,
    /// For each row, the input row it is, or (synthetic rows) the minority row it was
    /// interpolated from: grouped folds keep a synthetic row with its source.
    pub origin: Vec<usize>,
}

/// Neighbours used by SMOTE and ADASYN (imbalanced-learn's default).
pub const K_NEIGHBOURS: usize = 5;

/// Applies `strategy` to labelled rows. The minority class is whichever is rarer.
pub fn resample(
    strategy: Strategy,
    x: &FeatureMatrix,
    y: &[f64],
    seed: u64,
) -> Result<Resampled, SamplingError> {
    let classes = Classes::of(y)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match strategy {
        Strategy::None => Ok(Resampled {
            x: x.clone(),
            y: y.to_vec(),
            weights: None,
            origin: (0..y.len()).collect(),
        }),
        Strategy::Weights => Ok(Resampled {
            x: x.clone(),
            y: y.to_vec(),
            weights: Some(classes.balancing_weights(y)),
            origin: (0..y.len()).collect(),
        }),
        Strategy::Undersample => Ok(classes.undersample(x, y, &mut rng)),
        Strategy::Smote => {
            check_k(strategy, classes.minority.len())?;
            Ok(classes.smote(x, y, &mut rng))
        }
        Strategy::Adasyn => {
            check_k(strategy, classes.minority.len())?;
            classes.adasyn(x, y, &mut rng)
        }
    }
}

/// The rows of each class, the rarer one the minority.
struct Classes {
    minority: Vec<usize>,
    majority: Vec<usize>,
    /// The minority's label, 0.0 or 1.0.
    minority_label: f64,
}

impl Classes {
    /// Refused when one class is missing.
    fn of(y: &[f64]) -> Result<Classes, SamplingError> {
        let positives: Vec<usize> = (0..y.len()).filter(|&i| y[i] > 0.5).collect();
        let negatives: Vec<usize> = (0..y.len()).filter(|&i| y[i] <= 0.5).collect();
        if positives.is_empty() || negatives.is_empty() {
            return Err(SamplingError::OneClass);
        }
        Ok(if positives.len() <= negatives.len() {
            Classes {
                minority: positives,
                majority: negatives,
                minority_label: 1.0,
            }
        } else {
            Classes {
                minority: negatives,
                majority: positives,
                minority_label: 0.0,
            }
        })
    }

    /// Weights that give each class half the total (scikit-learn's "balanced").
    fn balancing_weights(&self, y: &[f64]) -> Vec<f64> {
        let n = y.len() as f64;
        let w_min = n / (2.0 * self.minority.len() as f64);
        let w_maj = n / (2.0 * self.majority.len() as f64);
        y.iter()
            .map(|&v| {
                if v == self.minority_label {
                    w_min
                } else {
                    w_maj
                }
            })
            .collect()
    }

    /// As many majority rows as there are minority rows, drawn without replacement, with every
    /// minority row, in their original order.
    fn undersample(&self, x: &FeatureMatrix, y: &[f64], rng: &mut ChaCha8Rng) -> Resampled {
        let keep = rand::seq::index::sample(rng, self.majority.len(), self.minority.len());
        let mut rows: Vec<usize> = keep
            .into_iter()
            .map(|i| self.majority[i])
            .chain(self.minority.iter().copied())
            .collect();
        rows.sort_unstable();
        Resampled {
            x: x.select_rows(&rows),
            y: rows.iter().map(|&i| y[i]).collect(),
            weights: None,
            origin: rows,
        }
    }

    /// SMOTE: new minority rows between a minority row and one of its minority neighbours,
    /// until the classes are even.
    fn smote(&self, x: &FeatureMatrix, y: &[f64], rng: &mut ChaCha8Rng) -> Resampled {
        let minority = &self.minority;
        let neighbours = nearest(x, minority, minority, K_NEIGHBOURS, true);
        let n_new = self.majority.len() - minority.len();
        let mut grown = Grown::new(x, n_new);
        for _ in 0..n_new {
            // A (minority row, neighbour) pair uniformly, as imbalanced-learn draws them.
            let pick = rng.random_range(0..minority.len() * K_NEIGHBOURS);
            let (i, nn) = (
                pick / K_NEIGHBOURS,
                neighbours[pick / K_NEIGHBOURS][pick % K_NEIGHBOURS],
            );
            grown.push(x, minority[i], nn, rng.random::<f64>());
        }
        grown.finish(x, y, self.minority_label)
    }

    /// ADASYN: as SMOTE, but each minority row makes new rows in proportion to its hardness,
    /// the share of majority rows among its neighbours in all rows.
    fn adasyn(
        &self,
        x: &FeatureMatrix,
        y: &[f64],
        rng: &mut ChaCha8Rng,
    ) -> Result<Resampled, SamplingError> {
        let minority = &self.minority;
        let all: Vec<usize> = (0..y.len()).collect();
        let around = nearest(x, minority, &all, K_NEIGHBOURS, true);
        let hardness: Vec<f64> = around
            .iter()
            .map(|nn| {
                nn.iter().filter(|&&j| y[j] != self.minority_label).count() as f64
                    / K_NEIGHBOURS as f64
            })
            .collect();
        let total: f64 = hardness.iter().sum();
        if total == 0.0 {
            return Err(SamplingError::NoHardRows);
        }
        let n_new = (self.majority.len() - minority.len()) as f64;
        let neighbours = nearest(x, minority, minority, K_NEIGHBOURS, true);
        let counts: Vec<usize> = hardness
            .iter()
            .map(|h| (h / total * n_new).round() as usize)
            .collect();
        let mut grown = Grown::new(x, counts.iter().sum());
        for (i, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                let nn = neighbours[i][rng.random_range(0..K_NEIGHBOURS)];
                grown.push(x, minority[i], nn, rng.random::<f64>());
            }
        }
        Ok(grown.finish(x, y, self.minority_label))
    }
}

fn check_k(strategy: Strategy, found: usize) -> Result<(), SamplingError> {
    if found <= K_NEIGHBOURS {
        return Err(SamplingError::TooFewMinority {
            strategy,
            k: K_NEIGHBOURS,
            found,
        });
    }
    Ok(())
}

/// The input rows with synthetic rows appended, written once into one buffer sized for all
/// of them (a SMOTE'd FIT is twice the rows: each extra copy of it would be moved whole).
struct Grown {
    data: Vec<f64>,
    sources: Vec<usize>,
}

impl Grown {
    fn new(x: &FeatureMatrix, n_new: usize) -> Grown {
        let mut data = Vec::with_capacity((x.n_rows() + n_new) * x.n_cols());
        data.extend_from_slice(x.as_slice());
        Grown {
            data,
            sources: Vec::with_capacity(n_new),
        }
    }

    /// Appends `a + t (b - a)` for rows `a` and `b` of `x`, sourced from row `a`.
    fn push(&mut self, x: &FeatureMatrix, a: usize, b: usize, t: f64) {
        self.sources.push(a);
        let (a, b) = (x.row(a), x.row(b));
        self.data
            .extend(a.iter().zip(b).map(|(a, b)| a + t * (b - a)));
    }

    fn finish(self, x: &FeatureMatrix, y: &[f64], label: f64) -> Resampled {
        let mut labels = y.to_vec();
        labels.extend(std::iter::repeat_n(label, self.sources.len()));
        Resampled {
            x: FeatureMatrix::new(x.names().to_vec(), self.data)
                .unwrap_or_else(|| unreachable!("whole rows")),
            y: labels,
            weights: None,
            origin: (0..y.len()).chain(self.sources).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 negatives on a line at y = 0 and 8 positives at y = 10, x = 0..8.
    fn data() -> (FeatureMatrix, Vec<f64>) {
        let mut v = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            v.extend([f64::from(i) * 0.25, 0.0]);
            y.push(0.0);
        }
        for i in 0..8 {
            v.extend([f64::from(i), 10.0]);
            y.push(1.0);
        }
        (
            FeatureMatrix::new(vec!["a".into(), "b".into()], v).unwrap(),
            y,
        )
    }

    #[test]
    fn class_weights_are_balanced() {
        let (x, y) = data();
        let r = resample(Strategy::Weights, &x, &y, 0).unwrap();
        let w = r.weights.unwrap();
        // n = 48: minority 48 / (2 * 8) = 3, majority 48 / (2 * 40) = 0.6.
        assert_eq!((w[0], w[47]), (0.6, 3.0));
        let total: f64 = w.iter().sum();
        assert!((total - 48.0).abs() < 1e-9);
    }

    #[test]
    fn undersampling_keeps_all_minority_and_as_many_majority() {
        let (x, y) = data();
        let r = resample(Strategy::Undersample, &x, &y, 3).unwrap();
        assert_eq!(r.y.len(), 16);
        assert_eq!(r.y.iter().filter(|&&v| v == 1.0).count(), 8);
        // Each kept row names its input row, and carries that row's values.
        for (k, &i) in r.origin.iter().enumerate() {
            assert_eq!((r.x.row(k), r.y[k]), (x.row(i), y[i]));
        }
        assert_eq!(r, resample(Strategy::Undersample, &x, &y, 3).unwrap());
        assert_ne!(r, resample(Strategy::Undersample, &x, &y, 4).unwrap());
    }

    #[test]
    fn smote_balances_with_points_between_minority_neighbours() {
        let (x, y) = data();
        let r = resample(Strategy::Smote, &x, &y, 1).unwrap();
        // 40 - 8 = 32 synthetic positives.
        assert_eq!(r.y.len(), 80);
        assert_eq!(r.y.iter().filter(|&&v| v == 1.0).count(), 40);
        for row in r.x.rows().skip(48) {
            // On the positives' segment y = 10, between x = 0 and 7.
            assert_eq!(row[1], 10.0);
            assert!((0.0..=7.0).contains(&row[0]), "{row:?}");
        }
        // The original rows come first, unchanged; each synthetic row names a positive source.
        assert_eq!(&r.x.as_slice()[..96], x.as_slice());
        assert_eq!(r.origin[..48], (0..48).collect::<Vec<_>>());
        assert!(r.origin[48..].iter().all(|&i| y[i] == 1.0));
    }

    #[test]
    fn adasyn_weights_hard_minority_rows() {
        // Positives 0..7 at y = 10, but positive 7 sits among the negatives at y = 0.
        let (x, mut y) = data();
        let mut v = x.as_slice().to_vec();
        v[47 * 2 + 1] = 0.0;
        v[47 * 2] = 5.0;
        y[47] = 1.0;
        let x = FeatureMatrix::new(x.names().to_vec(), v).unwrap();
        let r = resample(Strategy::Adasyn, &x, &y, 0).unwrap();
        // Only row 47 has majority neighbours (all 5 of them): it gets all 32 synthetic rows,
        // on segments towards its 5 nearest positives.
        assert_eq!(r.y.len(), 48 + 32);
        assert!(r.origin[48..].iter().all(|&i| i == 47));
        for row in r.x.rows().skip(48) {
            assert!(row[1] >= 0.0 && row[1] <= 10.0);
        }
        let (x2, y2) = data();
        // Well separated classes: no minority row is hard.
        let clean: Vec<f64> = x2
            .as_slice()
            .iter()
            .enumerate()
            .map(|(i, v)| if i % 2 == 1 && *v == 10.0 { 1000.0 } else { *v })
            .collect();
        let x2 = FeatureMatrix::new(x2.names().to_vec(), clean).unwrap();
        assert_eq!(
            resample(Strategy::Adasyn, &x2, &y2, 0).unwrap_err(),
            SamplingError::NoHardRows
        );
    }

    #[test]
    fn nearest_neighbours_by_brute_force() {
        let (x, _) = data();
        let nn = nearest(&x, &[40], &(40..48).collect::<Vec<_>>(), 3, true);
        assert_eq!(nn, [vec![41, 42, 43]]);
    }

    #[test]
    fn too_few_minority_rows_is_an_error() {
        let x = FeatureMatrix::new(vec!["a".into()], vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        let err = resample(Strategy::Smote, &x, &[0.0, 0.0, 1.0, 1.0], 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "smote needs more than 5 minority rows, found 2"
        );
    }
}

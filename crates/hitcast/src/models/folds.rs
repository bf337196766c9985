//! Grouped folds of training rows, shared by the stack's out-of-fold fits and the forest's two
//! halves, so that a forest's halves are the stack's two folds, row for row.

use super::TrainSet;
use crate::features::{select, FeatureMatrix};

/// The fold of a group key: a SplitMix64 mix of key and seed, so folds do not follow the
/// protocol's own `hash % 5` split and change with the seed.
pub(crate) fn fold_of(key: u64, seed: u64, folds: usize) -> usize {
    let mut z = key ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % folds as u64) as usize
}

/// Each row's fold: by its group key, or by its index when the set has no groups.
pub(crate) fn group_folds(train: &TrainSet, seed: u64, folds: usize) -> Vec<usize> {
    (0..train.y.len())
        .map(|i| {
            let key = train.groups.map_or(i as u64, |g| g[i]);
            fold_of(key, seed, folds)
        })
        .collect()
}

/// The rows of `train` as a new set (copies; weights and groups follow their rows).
pub(crate) struct Subset {
    x: FeatureMatrix,
    y: Vec<f64>,
    weights: Option<Vec<f64>>,
    groups: Option<Vec<u64>>,
}

impl Subset {
    pub(crate) fn of(train: &TrainSet, rows: &[usize]) -> Subset {
        Subset {
            x: train.x.select_rows(rows),
            y: select(train.y, rows),
            weights: train.weights.map(|w| select(w, rows)),
            groups: train.groups.map(|g| select(g, rows)),
        }
    }

    pub(crate) fn set(&self) -> TrainSet<'_> {
        TrainSet {
            x: &self.x,
            y: &self.y,
            weights: self.weights.as_deref(),
            groups: self.groups.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_keep_each_group_whole_and_use_every_fold() {
        let groups: Vec<u64> = (0..1000).map(|i| i / 7).collect();
        let fold: Vec<usize> = groups.iter().map(|&g| fold_of(g, 42, 5)).collect();
        for i in 1..groups.len() {
            if groups[i] == groups[i - 1] {
                assert_eq!(fold[i], fold[i - 1]);
            }
        }
        let mut counts = [0; 5];
        for f in fold {
            counts[f] += 1;
        }
        assert!(counts.iter().all(|&c| c > 100), "{counts:?}");
    }
}

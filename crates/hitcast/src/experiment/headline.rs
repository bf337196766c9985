//! The seed project's headline figure (81% accuracy for its stack), reproduced under the seed's
//! own procedure and set beside the honest figure, with why the two differ.
//!
//! The seed's procedure, as its documents describe it: take every raw row (a track listed under
//! three genres is three rows), undersample the unpopular ones to as many as the popular, and
//! only then split 80/20 at random. Its TEST set is therefore half popular (the real rate is
//! 2.6%), and rows of one track, and tracks of one artist, sit on both sides of the split.

use serde::{Deserialize, Serialize};

use super::{
    classify, default_features, prepare, targets, Cell, ClassifierFigures, ExperimentError,
};
use crate::data::Tracks;
use crate::features::OutlierSetup;
use crate::models::{ClassifierKind, ModelSpec, TrainSet};
use crate::sampling::Strategy;
use crate::split::Split;

/// One model's TEST figures under one procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadlineFigures {
    /// What was measured, for people.
    pub procedure: String,
    /// The grid cell (`task/setup/strategy/model`).
    pub cell: String,
    /// TEST rows.
    pub test_rows: usize,
    /// Share of popular TEST rows.
    pub positive_rate: f64,
    /// Accuracy at the VAL-chosen threshold.
    pub accuracy: f64,
    /// Balanced accuracy at that threshold.
    pub balanced_accuracy: f64,
    /// ROC-AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub pr_auc: f64,
    /// F1 at that threshold.
    pub f1: f64,
}

/// The seed procedure's figures beside this run's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// Under the seed's procedure (leaky).
    pub seed_procedure: HeadlineFigures,
    /// The same model in this run's grid (raw data, no resampling), when the grid ran it.
    pub this_run: Option<HeadlineFigures>,
    /// Why the two differ, in one line.
    pub explanation: String,
}

/// Why the seed procedure's figure is not comparable, in one line.
pub const EXPLANATION: &str = "The seed procedure undersamples before splitting, so its TEST \
set is half popular (accuracy 0.5 is chance there; the real rate is about 2.6%), and the same \
track (listed under several genres) and the same artist fall on both sides of its split.";

/// The seed procedure's split of `raw` (one track per raw row): the popular rows and as many
/// unpopular ones drawn at random, then a stratified 80/20 split, VAL a stratified 20% of TRAIN.
pub fn seed_procedure_split(labels: &[bool], seed: u64) -> Split {
    let positives: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
    let negatives: Vec<usize> = (0..labels.len()).filter(|&i| !labels[i]).collect();
    let (minority, majority) = if positives.len() <= negatives.len() {
        (positives, negatives)
    } else {
        (negatives, positives)
    };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
    let mut kept: Vec<usize> =
        rand::seq::index::sample(&mut rng, majority.len(), minority.len().min(majority.len()))
            .into_iter()
            .map(|i| majority[i])
            .chain(minority)
            .collect();
    kept.sort_unstable();
    let kept_labels: Vec<bool> = kept.iter().map(|&i| labels[i]).collect();
    let inner = crate::split::stratified(&kept_labels, seed);
    let back = |rows: Vec<usize>| rows.into_iter().map(|i| kept[i]).collect();
    Split {
        fit: back(inner.fit),
        val: back(inner.val),
        test: back(inner.test),
        ..inner
    }
}

/// Fits `model` (with its defaults) under the seed procedure on `raw` and scores its TEST.
pub fn seed_headline(
    raw: &Tracks,
    threshold: u8,
    model: ClassifierKind,
    seed: u64,
) -> Result<HeadlineFigures, ExperimentError> {
    let (labels, popularity) = targets(raw, threshold)?;
    let split = seed_procedure_split(&labels, seed);
    let data = prepare(
        raw,
        &split,
        &labels,
        &popularity,
        OutlierSetup::Raw,
        default_features(split.protocol),
        &[],
    )?;
    let cell = format!("seed-procedure/raw/none/{model}");
    let (row, _) = classify(
        Cell::Classifier {
            setup: OutlierSetup::Raw,
            strategy: Strategy::None,
            model,
        },
        &ModelSpec::classifier(model),
        &TrainSet {
            groups: Some(&data.fit_groups),
            ..TrainSet::new(&data.fit_x, &data.fit_y)
        },
        &TrainSet::new(&data.val_x, &data.val_y),
        &data,
        seed,
        &[],
    )?;
    let positives = data.test_labels.iter().filter(|&&l| l).count();
    let Some(&measured) = row.classifier() else {
        unreachable!("classify writes a classifier's figures")
    };
    Ok(figures(
        "seed procedure: raw rows undersampled to 1:1, then a random 80/20 split (LEAKY)",
        cell,
        split.test.len(),
        positives as f64 / split.test.len().max(1) as f64,
        &measured,
    ))
}

/// The headline's figures of a classifier cell.
pub(crate) fn figures(
    procedure: &str,
    cell: String,
    test_rows: usize,
    positive_rate: f64,
    c: &ClassifierFigures,
) -> HeadlineFigures {
    HeadlineFigures {
        procedure: procedure.to_owned(),
        cell,
        test_rows,
        positive_rate,
        accuracy: c.accuracy,
        balanced_accuracy: c.balanced_accuracy,
        roc_auc: c.roc_auc,
        pr_auc: c.pr_auc,
        f1: c.f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_split_is_balanced_before_it_is_split() {
        // 100 rows, 10 popular: 10 + 10 kept, then 80/20 per class: TEST 2 + 2.
        let labels: Vec<bool> = (0..100).map(|i| i % 10 == 0).collect();
        let split = seed_procedure_split(&labels, 3);
        assert_eq!(split.test.len(), 4);
        assert_eq!(split.test.iter().filter(|&&i| labels[i]).count(), 2);
        assert_eq!(split.fit.len() + split.val.len(), 16);
        let mut all = [split.fit.clone(), split.val.clone(), split.test.clone()].concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 20);
        assert_eq!(all.iter().filter(|&&i| labels[i]).count(), 10);
        assert_eq!(split, seed_procedure_split(&labels, 3));
    }
}

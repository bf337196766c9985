//! Evaluation metrics, in f64, with the formulas in each doc comment.
//!
//! Classification scores are "higher means more likely popular"; a row is predicted positive iff
//! `score >= threshold`. Undefined ratios (no predicted positives, ...) are 0, as scikit-learn's
//! `zero_division=0`.

use serde::{Deserialize, Serialize};

/// A metric is undefined for the given input.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    /// Scores and labels differ in length.
    #[error("{scores} scores for {labels} labels")]
    Length {
        /// Number of scores.
        scores: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Ranking metrics need both classes.
    #[error("the labels hold only one class, so {0} is undefined")]
    OneClass(&'static str),
    /// No rows.
    #[error("no rows to evaluate")]
    Empty,
}

fn check(scores: &[f64], labels_len: usize) -> Result<(), MetricError> {
    if scores.len() != labels_len {
        return Err(MetricError::Length {
            scores: scores.len(),
            labels: labels_len,
        });
    }
    if scores.is_empty() {
        return Err(MetricError::Empty);
    }
    Ok(())
}

/// Counts of predicted positives at one candidate threshold.
struct Tally {
    threshold: f64,
    tp: u64,
    fp: u64,
}

/// True and false positives at each distinct score taken as the threshold, largest first: the
/// walk behind the precision-recall curve and the F1 threshold.
fn cumulative_counts<'a>(
    scores: &'a [f64],
    labels: &'a [bool],
) -> impl Iterator<Item = Tally> + 'a {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut k, mut tp, mut fp) = (0, 0, 0);
    std::iter::from_fn(move || {
        let threshold = scores[*order.get(k)?];
        while k < order.len() && scores[order[k]] == threshold {
            if labels[order[k]] {
                tp += 1;
            } else {
                fp += 1;
            }
            k += 1;
        }
        Some(Tally { threshold, tp, fp })
    })
}

/// Area under the ROC curve via the Mann-Whitney statistic:
/// `(Σ ranks of positives − P(P+1)/2) / (P·N)`, tied scores sharing their average rank (so a tie
/// between a positive and a negative counts one half).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64, MetricError> {
    check(scores, labels.len())?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (0-based) share the average 1-based rank.
        let average = (start + end + 1) as f64 / 2.0;
        let positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        rank_sum += average * positives as f64;
        start = end;
    }
    let p = labels.iter().filter(|&&l| l).count() as f64;
    let n = labels.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return Err(MetricError::OneClass("ROC-AUC"));
    }
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision, as scikit-learn's `average_precision_score`:
/// `AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ` over the distinct score thresholds in descending order.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Result<f64, MetricError> {
    weighted_average_precision(scores, labels, &vec![1.0; labels.len()])
}

/// [`average_precision`] with each row counting `weights[i]` in the precision and recall sums,
/// as scikit-learn's `sample_weight` does.
pub fn weighted_average_precision(
    scores: &[f64],
    labels: &[bool],
    weights: &[f64],
) -> Result<f64, MetricError> {
    check(scores, labels.len())?;
    check(scores, weights.len())?;
    let total: f64 = labels
        .iter()
        .zip(weights)
        .filter(|(&l, _)| l)
        .map(|(_, w)| w)
        .sum();
    if total <= 0.0 {
        return Err(MetricError::OneClass("average precision"));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut ap, mut last_recall, mut tp, mut fp) = (0.0, 0.0, 0.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        let threshold = scores[order[k]];
        while k < order.len() && scores[order[k]] == threshold {
            if labels[order[k]] {
                tp += weights[order[k]];
            } else {
                fp += weights[order[k]];
            }
            k += 1;
        }
        let recall = tp / total;
        let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        ap += (recall - last_recall) * precision;
        last_recall = recall;
    }
    Ok(ap)
}

/// Counts of a binary prediction against the truth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Popular, predicted popular.
    pub tp: u64,
    /// Not popular, predicted popular.
    pub fp: u64,
    /// Not popular, predicted not popular.
    pub tn: u64,
    /// Popular, predicted not popular (`fn` in JSON).
    #[serde(rename = "fn", alias = "fn_")]
    pub fn_: u64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// Counts at a threshold: predicted positive iff `score >= threshold`.
    pub fn at(scores: &[f64], labels: &[bool], threshold: f64) -> Result<Confusion, MetricError> {
        check(scores, labels.len())?;
        let mut c = Confusion::default();
        for (&s, &y) in scores.iter().zip(labels) {
            match (s >= threshold, y) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        Ok(c)
    }

    /// Rows counted.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// `tp / (tp + fp)`: of the tracks flagged, the share that are popular.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`: of the popular tracks, the share flagged.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// `tn / (tn + fp)`.
    pub fn specificity(&self) -> f64 {
        ratio(self.tn, self.tn + self.fp)
    }

    /// `2 tp / (2 tp + fp + fn)`, the harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// `(tp + tn) / total`.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }

    /// `(recall + specificity) / 2`.
    pub fn balanced_accuracy(&self) -> f64 {
        (self.recall() + self.specificity()) / 2.0
    }
}

/// A decision threshold and the F1 it reached where it was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Predicted positive iff `score >= value`.
    pub value: f64,
    /// F1 at this threshold on the rows it was chosen on.
    pub f1: f64,
}

/// The F1-maximising threshold (docs/evaluation.md, "The protocol"): candidates are the distinct scores, and among
/// equal F1 the largest threshold wins. Used on VAL only.
pub fn best_f1_threshold(scores: &[f64], labels: &[bool]) -> Result<Threshold, MetricError> {
    check(scores, labels.len())?;
    let total = labels.iter().filter(|&&l| l).count() as u64;
    if total == 0 {
        return Err(MetricError::OneClass("the F1 threshold"));
    }
    let mut best = Threshold {
        value: f64::INFINITY,
        f1: -1.0,
    };
    for step in cumulative_counts(scores, labels) {
        let f1 = ratio(2 * step.tp, step.tp + step.fp + total);
        // Strictly greater: thresholds come largest first, so ties keep the largest.
        if f1 > best.f1 {
            best = Threshold {
                value: step.threshold,
                f1,
            };
        }
    }
    Ok(best)
}

/// The figures hitcast reports for a classifier on one set of rows.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Rows scored.
    pub rows: u64,
    /// Share of popular rows.
    pub positive_rate: f64,
    /// Accuracy of always answering "not popular": the floor accuracy must beat.
    pub majority_accuracy: f64,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: f64,
    /// The threshold used (chosen on VAL).
    pub threshold: f64,
    /// Counts at the threshold.
    pub confusion: Confusion,
    /// F1 at the threshold.
    pub f1: f64,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall at the threshold.
    pub recall: f64,
    /// Accuracy at the threshold.
    pub accuracy: f64,
    /// Balanced accuracy at the threshold.
    pub balanced_accuracy: f64,
}

impl ClassificationMetrics {
    /// Evaluates scores against labels at a threshold chosen elsewhere.
    pub fn new(
        scores: &[f64],
        labels: &[bool],
        threshold: f64,
    ) -> Result<ClassificationMetrics, MetricError> {
        let flags: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
        ClassificationMetrics::with_flags(scores, &flags, labels, threshold)
    }

    /// Evaluates scores against labels, with the predicted class given: answers from two models
    /// (a model and its no-genres companion) each flag at their own threshold; `threshold`
    /// is the main one's, for the record.
    pub fn with_flags(
        scores: &[f64],
        flags: &[bool],
        labels: &[bool],
        threshold: f64,
    ) -> Result<ClassificationMetrics, MetricError> {
        ClassificationMetrics::flagged(scores, flags, labels, threshold, false)
    }

    /// [`ClassificationMetrics::with_flags`] on labels that may hold one class (a sample of
    /// a catalogue without a hit): ROC-AUC and PR-AUC are then NaN, undefined, and the figures
    /// at the flag as usual.
    pub fn with_flags_of_any_labels(
        scores: &[f64],
        flags: &[bool],
        labels: &[bool],
        threshold: f64,
    ) -> Result<ClassificationMetrics, MetricError> {
        ClassificationMetrics::flagged(scores, flags, labels, threshold, true)
    }

    fn flagged(
        scores: &[f64],
        flags: &[bool],
        labels: &[bool],
        threshold: f64,
        one_class: bool,
    ) -> Result<ClassificationMetrics, MetricError> {
        let ranking = |figure: Result<f64, MetricError>| match figure {
            Err(MetricError::OneClass(_)) if one_class => Ok(f64::NAN),
            figure => figure,
        };
        check(scores, flags.len())?;
        let flagged: Vec<f64> = flags.iter().map(|&f| f64::from(u8::from(f))).collect();
        let confusion = Confusion::at(&flagged, labels, 0.5)?;
        let positive_rate = ratio(confusion.tp + confusion.fn_, confusion.total());
        Ok(ClassificationMetrics {
            rows: confusion.total(),
            positive_rate,
            majority_accuracy: positive_rate.max(1.0 - positive_rate),
            roc_auc: ranking(roc_auc(scores, labels))?,
            pr_auc: ranking(average_precision(scores, labels))?,
            threshold,
            f1: confusion.f1(),
            precision: confusion.precision(),
            recall: confusion.recall(),
            accuracy: confusion.accuracy(),
            balanced_accuracy: confusion.balanced_accuracy(),
            confusion,
        })
    }
}

/// The figures hitcast reports for a regressor of the 0-100 score.
#[derive(Clone, Default, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Coefficient of determination `1 − SS_res / SS_tot`.
    pub r2: f64,
    /// Root mean squared error `sqrt(Σ(y − ŷ)² / n)`.
    pub rmse: f64,
    /// Mean absolute error `Σ|y − ŷ| / n`.
    pub mae: f64,
}

impl RegressionMetrics {
    /// Evaluates predictions against the truth. R² is 0 when the truth is constant and the
    /// predictions are exact, and −∞-free: a constant truth with errors gives 0 as well.
    pub fn new(predicted: &[f64], truth: &[f64]) -> Result<RegressionMetrics, MetricError> {
        check(predicted, truth.len())?;
        let n = truth.len() as f64;
        let mean = truth.iter().sum::<f64>() / n;
        let ss_tot: f64 = truth.iter().map(|y| (y - mean).powi(2)).sum();
        let ss_res: f64 = truth
            .iter()
            .zip(predicted)
            .map(|(y, p)| (y - p).powi(2))
            .sum();
        let abs: f64 = truth
            .iter()
            .zip(predicted)
            .map(|(y, p)| (y - p).abs())
            .sum();
        Ok(RegressionMetrics {
            r2: if ss_tot == 0.0 {
                0.0
            } else {
                1.0 - ss_res / ss_tot
            },
            rmse: (ss_res / n).sqrt(),
            mae: abs / n,
        })
    }
}

/// One bin of a reliability curve: rows whose predicted probability falls in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Mean predicted probability.
    pub predicted: f64,
    /// Share of popular rows.
    pub observed: f64,
    /// Rows.
    pub rows: usize,
}

/// Rows sorted by predicted probability and cut at the given quantiles of the row count
/// (`edges` ascending in (0, 1), e.g. 0.1, 0.2, ... 0.9 for ten bins of equal count). Each bin's
/// mean prediction is set against its observed popular share.
pub fn reliability(
    scores: &[f64],
    labels: &[bool],
    edges: &[f64],
) -> Result<Vec<CalibrationBin>, MetricError> {
    check(scores, labels.len())?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let n = order.len();
    let mut cuts: Vec<usize> = edges
        .iter()
        .map(|&q| ((q * n as f64).round() as usize).min(n))
        .collect();
    cuts.push(n);
    let mut start = 0;
    let mut bins = Vec::with_capacity(cuts.len());
    for end in cuts {
        if end <= start {
            continue;
        }
        let rows = &order[start..end];
        let count = rows.len() as f64;
        bins.push(CalibrationBin {
            predicted: rows.iter().map(|&i| scores[i]).sum::<f64>() / count,
            observed: rows.iter().filter(|&&i| labels[i]).count() as f64 / count,
            rows: rows.len(),
        });
        start = end;
    }
    Ok(bins)
}

/// Ten bins of equal row count: the bins of [`expected_calibration_error`].
pub const DECILES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// The deciles, then the top tenth cut finer (95th, 98th, 99th percentiles), so a reliability
/// curve reaches the largest predicted probabilities, where the flagged tracks are.
pub const RELIABILITY_EDGES: [f64; 12] = [
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99,
];

/// Expected calibration error over ten bins of equal row count:
/// `Σ_b (n_b / n) · |mean predicted_b − observed share_b|`.
pub fn expected_calibration_error(scores: &[f64], labels: &[bool]) -> Result<f64, MetricError> {
    let bins = reliability(scores, labels, &DECILES)?;
    let n = scores.len() as f64;
    Ok(bins
        .iter()
        .map(|b| b.rows as f64 / n * (b.predicted - b.observed).abs())
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from scikit-learn 1.x on these exact vectors.
    const Y: [bool; 10] = [
        false, false, true, true, false, true, false, false, true, false,
    ];
    const S: [f64; 10] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.35, 0.35, 0.05];

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn one_class_labels_leave_the_ranking_undefined_and_the_flag_measured() {
        let scores = [0.9, 0.2, 0.6, 0.1];
        let flags = [true, false, true, false];
        let none = [false; 4];
        assert_eq!(
            ClassificationMetrics::with_flags(&scores, &flags, &none, 0.5),
            Err(MetricError::OneClass("ROC-AUC"))
        );
        let m =
            ClassificationMetrics::with_flags_of_any_labels(&scores, &flags, &none, 0.5).unwrap();
        assert!(m.roc_auc.is_nan() && m.pr_auc.is_nan());
        // Two flagged, none popular: half right, nothing found.
        close(m.accuracy, 0.5);
        assert_eq!(
            (m.confusion.fp, m.confusion.tn, m.positive_rate),
            (2, 2, 0.0)
        );
        // Both classes: the same figures as the strict one.
        assert_eq!(
            ClassificationMetrics::with_flags_of_any_labels(&S, &S.map(|s| s >= 0.35), &Y, 0.35),
            ClassificationMetrics::with_flags(&S, &S.map(|s| s >= 0.35), &Y, 0.35)
        );
    }

    #[test]
    fn roc_auc_matches_sklearn_with_ties() {
        // roc_auc_score -> 0.7916666666666666 (= 19/24)
        close(roc_auc(&S, &Y).unwrap(), 19.0 / 24.0);
    }

    #[test]
    fn roc_auc_counts_a_cross_class_tie_as_one_half() {
        // One positive and one negative with the same score: AUC = 0.5.
        close(roc_auc(&[0.3, 0.3], &[true, false]).unwrap(), 0.5);
        close(roc_auc(&[0.1, 0.9], &[false, true]).unwrap(), 1.0);
        assert_eq!(
            roc_auc(&[0.1, 0.2], &[true, true]).unwrap_err().to_string(),
            "the labels hold only one class, so ROC-AUC is undefined"
        );
    }

    #[test]
    fn average_precision_matches_sklearn() {
        // average_precision_score -> 0.7857142857142857 (= 11/14):
        // thresholds 0.9 (P 1, R 1/4), 0.8 (P 1, R 2/4), 0.4 (P 2/4), 0.35 (P 4/7, R 1):
        // 1/4 + 1/4 + 0 + (2/4)(4/7) = 11/14.
        close(average_precision(&S, &Y).unwrap(), 11.0 / 14.0);
    }

    #[test]
    fn weighted_average_precision_counts_each_row_its_weight() {
        // Ranked: + (1), - (2), + (3), - (1). Recall 1/4 at precision 1, then recall 1 at
        // precision 4/6: 1/4 + (3/4)(2/3) = 3/4, as average_precision_score with
        // sample_weight=[1, 2, 3, 1].
        let (s, y) = ([0.9, 0.8, 0.3, 0.1], [true, false, true, false]);
        close(
            weighted_average_precision(&s, &y, &[1.0, 2.0, 3.0, 1.0]).unwrap(),
            0.75,
        );
        // Unit weights are the unweighted figure.
        close(
            weighted_average_precision(&S, &Y, &[1.0; 10]).unwrap(),
            average_precision(&S, &Y).unwrap(),
        );
        assert!(weighted_average_precision(&s, &y, &[1.0]).is_err());
    }

    #[test]
    fn confusion_figures_match_sklearn() {
        let c = Confusion::at(&S, &Y, 0.35).unwrap();
        assert_eq!(
            c,
            Confusion {
                tp: 4,
                fp: 3,
                tn: 3,
                fn_: 0
            }
        );
        close(c.f1(), 0.7272727272727273);
        close(c.precision(), 0.5714285714285714);
        close(c.recall(), 1.0);
        close(c.accuracy(), 0.7);
        close(c.balanced_accuracy(), 0.75);
        let c = Confusion::at(&S, &Y, 0.4).unwrap();
        close(c.f1(), 0.5);
        close(c.balanced_accuracy(), 0.5833333333333333);
    }

    #[test]
    fn no_predicted_positives_gives_zero_precision_and_f1() {
        let c = Confusion::at(&S, &Y, 2.0).unwrap();
        assert_eq!((c.precision(), c.f1(), c.recall()), (0.0, 0.0, 0.0));
        close(c.accuracy(), 0.6);
    }

    #[test]
    fn best_threshold_maximises_f1() {
        // F1 per distinct threshold (sklearn): 0.9 -> 0.4, 0.8 -> 0.667, 0.4 -> 0.5,
        // 0.35 -> 0.727, 0.2 -> 0.667, 0.1 -> 0.615, 0.05 -> 0.571.
        let t = best_f1_threshold(&S, &Y).unwrap();
        assert_eq!(t.value, 0.35);
        close(t.f1, 0.7272727272727273);
    }

    #[test]
    fn best_threshold_ties_go_to_the_largest() {
        // t = 0.9: tp 1, fp 0, fn 1 -> 2/3; t = 0.6: tp 2, fp 2, fn 0 -> 4/6 = 2/3.
        let t = best_f1_threshold(&[0.9, 0.8, 0.7, 0.6], &[true, false, false, true]).unwrap();
        assert_eq!(t.value, 0.9);
        close(t.f1, 2.0 / 3.0);
    }

    #[test]
    fn classification_metrics_put_accuracy_beside_its_floor() {
        let m = ClassificationMetrics::new(&S, &Y, 0.35).unwrap();
        close(m.positive_rate, 0.4);
        close(m.majority_accuracy, 0.6);
        close(m.roc_auc, 19.0 / 24.0);
        assert_eq!(m.rows, 10);
    }

    #[test]
    fn regression_metrics_match_sklearn() {
        // r2_score 0.9486081370449679, RMSE 0.6123724356957945, MAE 0.5
        let m = RegressionMetrics::new(&[2.5, 0.0, 2.0, 8.0], &[3.0, -0.5, 2.0, 7.0]).unwrap();
        close(m.r2, 0.9486081370449679);
        close(m.rmse, 0.6123724356957945);
        close(m.mae, 0.5);
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        assert_eq!(
            roc_auc(&[0.1], &[true, false]).unwrap_err(),
            MetricError::Length {
                scores: 1,
                labels: 2
            }
        );
        assert_eq!(average_precision(&[], &[]).unwrap_err(), MetricError::Empty);
    }

    #[test]
    fn calibration_error_by_hand() {
        // 20 rows: ten at 0.1 (one popular), ten at 0.5 (eight popular). Deciles of equal count
        // put two rows in each bin: the bins at 0.1 hold labels in sorted-stable order.
        let mut scores = vec![0.1; 10];
        scores.extend([0.5; 10]);
        let mut labels = vec![false; 10];
        labels[0] = true;
        labels.extend([true, true, true, true, true, true, true, true, false, false]);
        let bins = reliability(&scores, &labels, &DECILES).unwrap();
        assert_eq!(bins.len(), 10);
        assert!(bins.iter().all(|b| b.rows == 2));
        // |0.1 - 0.5| + 4 · 0.1 for the first five bins; |0.5 - 1| · 4 + |0.5 - 0| for the rest,
        // each weighted 2/20.
        let want = 0.1 * ((0.4 + 4.0 * 0.1) + (4.0 * 0.5 + 0.5));
        let ece = expected_calibration_error(&scores, &labels).unwrap();
        assert!((ece - want).abs() < 1e-12, "{ece} {want}");
        // Finer edges at the top: the last bins hold the largest scores.
        let fine = reliability(&scores, &labels, &RELIABILITY_EDGES).unwrap();
        assert_eq!(fine.iter().map(|b| b.rows).sum::<usize>(), 20);
        assert_eq!(fine.last().unwrap().predicted, 0.5);
    }
}

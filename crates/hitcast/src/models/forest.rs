//! Random forests: histogram trees grown here on both cores ([`super::trees::grow`], where a
//! node sums only the columns it samples), with sample weights, deterministic on any thread
//! count, and put into a hessboost model for the same prediction, TreeSHAP and storage as the
//! boosted models.
//!
//! Three differences from scikit-learn's forests, all deliberate:
//! - The forest is grown in `parts` parts (default 5), as a cross-fit: the training rows are
//!   split into grouped folds by their group key (the protocol's split unit, the primary artist
//!   under the honest protocol; the row otherwise), and part k grows its share of the trees on
//!   the rows outside fold k. The forest is the average of the parts, one forest whose every
//!   tree counts alike. Every training row also gets the probability of the part that
//!   never saw it nor its group, which the stack takes as the forest's out-of-fold prediction
//!   instead of fitting more forests: the forest of the grid's stack cells is fitted once, not
//!   three times (what that costs and saves: docs/performance.md).
//! - Each tree samples `sample_share` of all the rows without replacement (a bootstrap draws
//!   about 63.2% distinct rows, hence the default), each of its part's rows drawn at the rate
//!   that gives that share.
//! - A classification leaf holds one Newton step of the log-loss from the base rate, a monotone
//!   function of its positive share, so the forest ranks tracks as a forest of class
//!   frequencies does. `min_samples_leaf` is converted to the hessian the rows carry at the
//!   base rate.

use std::sync::Arc;

use hessboost::objective::{Objective, RegLoss};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::boosting::{BoostingModel, Task};
use super::folds::group_folds;
use super::trees::grow::{self, Growth};
use super::trees::hessboost_trees::{assemble, tree_bytes};
use super::trees::{draw_rows, step_of, tree_rng, Binned, MAX_BINS};
use super::{
    in_range, param_error, sigmoid, Classifier, Fit, ModelError, Params, Regressor, TrainSet, Valid,
};
use crate::features::{FeatureMatrix, Variants};

/// How many features each split considers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaxFeatures {
    /// `sqrt(p)`, scikit-learn's classification default.
    Sqrt,
    /// `log2(p)`.
    Log2,
    /// A share of the features, in (0, 1].
    Share(f64),
}

/// Settings of [`ForestModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestParams {
    /// Classification or regression. Default classification.
    pub task: Task,
    /// Trees. Default 200 (300 measured no better on VAL); 1 to 65536.
    pub n_trees: usize,
    /// Maximum depth. Default 16 (the most hessboost grows); 1 to 16.
    pub max_depth: usize,
    /// Fewest rows in a leaf. Default 3.
    pub min_samples_leaf: f64,
    /// Features tried per split. Default sqrt.
    pub max_features: MaxFeatures,
    /// Share of all the rows each tree draws (without replacement, from its part's rows, at
    /// most all of those). Default 0.632; in (0, 1].
    pub sample_share: f64,
    /// The forest grows in this many parts of `n_trees / parts` trees (rounded up), part k on
    /// the rows outside the k-th of `parts` grouped folds; its classification trees then give
    /// each training row a probability from trees blind to the row's group, which the stack
    /// takes instead of fitting forests out of fold. 1 grows one forest on every row. Default 5:
    /// each tree still draws `sample_share` of all the rows. 1 to 20.
    pub parts: usize,
    /// Histogram bins per feature. Default 64: as good as 256 on VAL, and a deep tree scans a
    /// quarter of the bins per split (docs/performance.md). 2 to 256.
    pub max_bin: usize,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            task: Task::Classification,
            n_trees: 200,
            max_depth: 16,
            min_samples_leaf: 3.0,
            max_features: MaxFeatures::Sqrt,
            sample_share: 0.632,
            parts: 5,
            max_bin: 64,
        }
    }
}

impl Params for ForestParams {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        if !(1..=65_536).contains(&self.n_trees) {
            return Err(param_error("n_trees", self.n_trees, "must be 1 to 65536"));
        }
        if !(1..=16).contains(&self.max_depth) {
            return Err(param_error("max_depth", self.max_depth, "must be 1 to 16"));
        }
        in_range(
            "min_samples_leaf",
            self.min_samples_leaf,
            0.0,
            1e9,
            "must be in [0, 1e9]",
        )?;
        in_range(
            "sample_share",
            self.sample_share,
            1e-6,
            1.0,
            "must be in (0, 1]",
        )?;
        if !(1..=20).contains(&self.parts) {
            return Err(param_error("parts", self.parts, "must be 1 to 20"));
        }
        if !(2..=MAX_BINS).contains(&self.max_bin) {
            return Err(param_error("max_bin", self.max_bin, "must be 2 to 256"));
        }
        if let MaxFeatures::Share(s) = self.max_features {
            in_range("max_features", s, 1e-6, 1.0, "a share must be in (0, 1]")?;
        }
        Ok(Valid(self))
    }
}

/// A fitted random forest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ForestModel {
    model: BoostingModel,
    /// Each training row's probability from the part grown without its fold (a classifier's
    /// grown in parts), for the stack; not saved.
    #[serde(skip)]
    out_of_fold: Option<Arc<[f64]>>,
}

impl Fit for Valid<ForestParams> {
    type Model = ForestModel;

    fn fit(
        &self,
        train: &TrainSet,
        _val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<ForestModel, ModelError> {
        train.check()?;
        let p = train.x.n_cols() as f64;
        let per_split = match self.max_features {
            MaxFeatures::Sqrt => p.sqrt().round() / p,
            MaxFeatures::Log2 => p.log2().round().max(1.0) / p,
            MaxFeatures::Share(s) => s,
        };
        let start = Start::of(self.task, train)?;
        let gh = start.gradients(train);
        let growth = Growth {
            max_depth: self.max_depth,
            min_child_weight: self.min_samples_leaf * start.hessian,
            per_node: ((per_split * p).round() as usize).max(1),
        };
        let binned = Binned::new(train.x, self.max_bin, growth.per_node as f64 / p);
        let plan = PartPlan::new(train, seed, self);
        let classify = self.task == Task::Classification;
        // Each tree, grown alone on its own random stream (the same trees on any thread
        // count), becomes hessboost's bytes at once, with its steps for the rows of the fold
        // its part never saw.
        let grown = plan.count * plan.per_part;
        let trees: Vec<(Vec<u8>, Vec<f64>)> = (0..grown)
            .into_par_iter()
            .map(|t| {
                let k = t / plan.per_part;
                let mut rng = tree_rng(seed, t as u64);
                let mut rows = draw_rows(&plan.outside[k], plan.share, &mut rng);
                let tree = grow::grow_tree(&binned, &gh, &mut rows, growth, &mut rng);
                let oof = if classify && !plan.whole {
                    plan.held[k]
                        .iter()
                        .map(|&r| step_of(&tree, &binned, r as usize))
                        .collect()
                } else {
                    Vec::new()
                };
                let scale = 1.0 / grown as f64;
                let bytes = tree_bytes(&tree, &binned, |n| (n.step() * scale) as f32)?;
                Ok((bytes, oof))
            })
            .collect::<Result<_, ModelError>>()?;
        let (bytes, steps): (Vec<Vec<u8>>, Vec<Vec<f64>>) = trees.into_iter().unzip();
        // One round of all the trees, as hessboost's forest mode stores a forest.
        let model = BoostingModel::from_booster(
            self.task,
            assemble(start.objective, start.base, binned.n_cols(), grown, &bytes)?,
        );
        drop(bytes);
        let out_of_fold = (classify && !plan.whole)
            .then(|| plan.out_of_fold(&steps, start.base, train.y.len()).into());
        Ok(ForestModel { model, out_of_fold })
    }
}

/// Where every tree starts: the objective, the base score and the hessian a row carries at it.
/// They come from all the rows, so every part grows from the same intercept and their trees
/// add up to one forest.
struct Start {
    objective: Objective,
    base: f64,
    hessian: f64,
}

impl Start {
    /// The base rate (classification; refused with one class) or the mean (regression).
    fn of(task: Task, train: &TrainSet) -> Result<Start, ModelError> {
        Ok(match task {
            Task::Classification => {
                let total: f64 = (0..train.y.len()).map(|i| train.weight(i)).sum();
                let pos: f64 = (0..train.y.len())
                    .filter(|&i| train.y[i] > 0.5)
                    .map(|i| train.weight(i))
                    .sum();
                if pos <= 0.0 || pos >= total {
                    return Err(ModelError::OneClass);
                }
                let rate = pos / total;
                Start {
                    objective: Objective::BinaryLogistic(RegLoss::default()),
                    base: rate,
                    hessian: rate * (1.0 - rate),
                }
            }
            Task::Regression => {
                let n = train.y.len() as f64;
                Start {
                    objective: Objective::SquaredError(RegLoss::default()),
                    base: train.y.iter().sum::<f64>() / n,
                    hessian: 1.0,
                }
            }
        })
    }

    /// Each row's weighted gradient and hessian at the base score.
    fn gradients(&self, train: &TrainSet) -> Vec<[f64; 2]> {
        (0..train.y.len())
            .map(|i| {
                let w = train.weight(i);
                [w * (self.base - train.y[i]), w * self.hessian]
            })
            .collect()
    }
}

/// How the forest's trees are shared among its parts, and the rows each part sees.
struct PartPlan {
    /// Parts grown (1 when the forest is grown whole).
    count: usize,
    /// Trees a part grows.
    per_part: usize,
    /// The share of its part's rows a tree draws.
    share: f64,
    /// One forest on every row: one part asked for, or too few groups to fill every fold.
    whole: bool,
    /// The rows of fold k, which part k never sees.
    held: Vec<Vec<u32>>,
    /// The rows part k grows on.
    outside: Vec<Vec<u32>>,
}

impl PartPlan {
    /// Part k grows its trees on the rows outside fold k, each tree drawing the share of those
    /// that makes `sample_share` of all the rows.
    fn new(train: &TrainSet, seed: u64, params: &ForestParams) -> PartPlan {
        let n = train.y.len();
        let fold = group_folds(train, seed, params.parts);
        let held: Vec<Vec<u32>> = (0..params.parts)
            .map(|k| (0..n as u32).filter(|&i| fold[i as usize] == k).collect())
            .collect();
        let whole = params.parts == 1 || held.iter().any(Vec::is_empty);
        let (count, per_part, share) = if whole {
            (1, params.n_trees, params.sample_share)
        } else {
            let outside = 1.0 - 1.0 / params.parts as f64;
            let share = (params.sample_share / outside).min(1.0);
            (params.parts, params.n_trees.div_ceil(params.parts), share)
        };
        let outside = (0..count)
            .map(|k| {
                (0..n as u32)
                    .filter(|&i| whole || fold[i as usize] != k)
                    .collect()
            })
            .collect();
        PartPlan {
            count,
            per_part,
            share,
            whole,
            held,
            outside,
        }
    }

    /// Each of the `n` training rows' probability from the part that never saw it: the base
    /// margin plus the mean step of that part's trees (`steps[t]`: tree t's steps for its
    /// part's held rows).
    fn out_of_fold(&self, steps: &[Vec<f64>], base: f64, n: usize) -> Vec<f64> {
        // The base rate lies strictly between 0 and 1 (one class is refused): no clip.
        let margin = super::logit_clipped(base, 0.0);
        let mut out = vec![f64::NAN; n];
        for (k, rows) in self.held.iter().enumerate() {
            let part = &steps[k * self.per_part..(k + 1) * self.per_part];
            for (i, &r) in rows.iter().enumerate() {
                let mean = part.iter().map(|s| s[i]).sum::<f64>() / self.per_part as f64;
                out[r as usize] = sigmoid(margin + mean);
            }
        }
        out
    }
}

impl ForestModel {
    /// Each training row's probability from the part of the forest grown without the row's fold
    /// (nor its group), in training order; `None` for a regressor, a forest read from a file,
    /// or one grown in one part.
    pub(crate) fn out_of_fold(&self) -> Option<&[f64]> {
        self.out_of_fold.as_deref()
    }
}

impl ForestModel {
    /// See [`BoostingModel::check_inputs`].
    pub fn check_inputs(&self, width: usize) -> Result<(), ModelError> {
        self.model.check_inputs(width, 1)
    }

    /// TreeSHAP contributions, as [`BoostingModel::contributions`].
    pub fn contributions(&self, x: &FeatureMatrix) -> Result<Vec<Vec<f64>>, ModelError> {
        self.model.contributions(x)
    }
}

impl ForestModel {
    /// The forest in XGBoost's JSON model format.
    pub fn to_xgboost_json(&self) -> Result<Vec<u8>, ModelError> {
        self.model.to_xgboost_json()
    }
}

impl Classifier for ForestModel {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.model.predict_proba(x)
    }

    fn predict_proba_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.model.predict_proba_variants(variants)
    }
}

impl Regressor for ForestModel {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.model.predict(x)
    }

    fn predict_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        self.model.predict_variants(variants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_auc;
    use rand::{Rng, SeedableRng};

    fn xor() -> (FeatureMatrix, Vec<f64>) {
        let mut data = Vec::new();
        let mut y = Vec::new();
        for i in 0..30 {
            for j in 0..30 {
                let (a, b) = (f64::from(i) / 29.0, f64::from(j) / 29.0);
                data.extend([a, b, 0.5]);
                y.push(if (a > 0.5) != (b > 0.5) { 1.0 } else { 0.0 });
            }
        }
        (
            FeatureMatrix::new(vec!["a".into(), "b".into(), "c".into()], data).unwrap(),
            y,
        )
    }

    #[test]
    fn learns_xor_which_no_linear_model_can() {
        let (x, y) = xor();
        let params = ForestParams {
            n_trees: 50,
            max_features: MaxFeatures::Share(1.0),
            ..Default::default()
        };
        let m = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 5)
            .unwrap();
        let correct = crate::testutil::correct_at_half(&m.predict_proba(&x), &y);
        assert!(correct >= 880, "{correct}/900");
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let (x, y) = xor();
        let params = ForestParams {
            n_trees: 20,
            ..Default::default()
        }
        .check()
        .unwrap();
        let a = params
            .fit(&TrainSet::new(&x, &y), None, 1)
            .unwrap()
            .predict_proba(&x);
        let b = params
            .fit(&TrainSet::new(&x, &y), None, 1)
            .unwrap()
            .predict_proba(&x);
        let c = params
            .fit(&TrainSet::new(&x, &y), None, 2)
            .unwrap()
            .predict_proba(&x);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn out_of_fold_probabilities_come_from_trees_blind_to_the_row_and_its_group() {
        // Labels no feature predicts, shared by groups of four rows: a forest memorises its
        // training rows (in-sample it "predicts" the noise), but a part that never saw a row's
        // group can only guess.
        let n = 800;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let data = (0..n * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x = FeatureMatrix::new(["a", "b", "c"].map(String::from).to_vec(), data).unwrap();
        let groups: Vec<u64> = (0..n as u64).map(|i| i / 4).collect();
        let coin: Vec<f64> = (0..n / 4)
            .map(|_| f64::from(u8::from(rng.random_bool(0.5))))
            .collect();
        let y: Vec<f64> = groups.iter().map(|&g| coin[g as usize]).collect();
        let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
        let train = TrainSet {
            groups: Some(&groups),
            ..TrainSet::new(&x, &y)
        };
        let forest = ForestParams::default()
            .check()
            .unwrap()
            .fit(&train, None, 9)
            .unwrap();
        let in_sample = roc_auc(&forest.predict_proba(&x), &labels).unwrap();
        assert!(in_sample > 0.9, "in-sample ROC-AUC {in_sample}");
        let oof = forest.out_of_fold().unwrap();
        assert_eq!(oof.len(), n);
        let auc = roc_auc(oof, &labels).unwrap();
        assert!((auc - 0.5).abs() < 0.07, "out-of-fold ROC-AUC {auc}");
        // Whole: no out-of-fold probabilities.
        let whole = ForestParams {
            parts: 1,
            ..Default::default()
        };
        let whole = whole.check().unwrap().fit(&train, None, 9).unwrap();
        assert!(whole.out_of_fold().is_none());
    }

    #[test]
    fn a_forest_is_stored_as_its_booster_alone_as_before_the_parts() {
        // Model files written when a forest was a newtype of its booster still load: the
        // out-of-fold probabilities are not stored, so the bytes are the booster's.
        let (x, y) = xor();
        let forest = ForestParams {
            n_trees: 10,
            ..Default::default()
        }
        .check()
        .unwrap()
        .fit(&TrainSet::new(&x, &y), None, 1)
        .unwrap();
        assert!(forest.out_of_fold().is_some());
        let bytes = postcard::to_stdvec(&forest).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&forest.model).unwrap());
        let back: ForestModel = postcard::from_bytes(&bytes).unwrap();
        assert!(back.out_of_fold().is_none());
        assert_eq!(back.predict_proba(&x), forest.predict_proba(&x));
    }

    #[test]
    fn parts_share_the_trees_and_must_be_1_to_20() {
        let (x, y) = xor();
        for (parts, trees) in [(1, 30), (3, 30), (4, 32)] {
            let params = ForestParams {
                n_trees: 30,
                parts,
                ..Default::default()
            };
            let m = params
                .check()
                .unwrap()
                .fit(&TrainSet::new(&x, &y), None, 2)
                .unwrap();
            assert_eq!(m.model.booster().num_trees(), trees, "{parts} parts");
        }
        for parts in [0, 21] {
            let e = ForestParams {
                parts,
                ..Default::default()
            }
            .check()
            .unwrap_err()
            .to_string();
            assert!(e.contains("parts"), "{e}");
        }
    }

    #[test]
    fn regression_averages_leaf_means() {
        let (x, _) = xor();
        let y: Vec<f64> = x
            .rows()
            .map(|r| if r[0] > 0.5 { 80.0 } else { 20.0 })
            .collect();
        let params = ForestParams {
            task: Task::Regression,
            n_trees: 30,
            max_features: MaxFeatures::Share(1.0),
            ..Default::default()
        };
        let p = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap()
            .predict(&x);
        assert!(
            p.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1.0),
            "{:?}",
            &p[..5]
        );
    }
}

//! Stacking: base classifiers' out-of-fold probabilities feed a logistic meta-learner.
//!
//! Leak-free by construction. The training rows are split into `folds` folds by their group
//! key (the protocol's split unit: the primary artist under the honest protocol), each base
//! model is fitted on the other folds and predicts the held-out one, so every meta-feature comes
//! from a model that saw neither that row nor its artist. The meta-learner fits on those; then
//! each base model is refitted on all the rows. A forest is the exception: it is grown in parts
//! on grouped folds of its own and keeps each row's probability from the part blind to the
//! row's group ([`crate::models::ForestModel`]), so it is fitted once, on all the rows, and
//! gives its out-of-fold probabilities itself. VAL only early-stops the members (as for any
//! model), and the decision threshold is picked on VAL outside, as for any model.

use serde::{Deserialize, Serialize};

use super::folds::{group_folds, Subset};
use super::{
    param_error, side_by_side, Classifier, ClassifierKind, Fit, FittedClassifier, LogisticModel,
    LogisticParams, ModelError, ModelSpec, Params, TrainSet, Valid,
};
use crate::features::{select, FeatureMatrix, Variants};

/// Settings of [`StackModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackParams {
    /// The base classifiers, each with its family's defaults. Default `["mlp", "rf"]` (the
    /// seed project's pair); any of logreg, rf, gbm, mlp, each at most once.
    pub members: Vec<ClassifierKind>,
    /// Grouped folds for the out-of-fold predictions. Default 2; 2 to 20. The meta-learner
    /// weighs two log-odds, which half of FIT per member estimates as well as four fifths
    /// (docs/performance.md).
    pub folds: usize,
    /// The folds each member predicts out of fold, from 1 to `folds`: the meta-learner fits on
    /// their rows. Default: every fold (every row, the classic stack). 1 is blending: each member
    /// fits once, on the other folds: twice as fast, but the ADASYN stacks lose to it
    /// (docs/performance.md), so the default stays.
    pub predicted_folds: Option<usize>,
    /// The meta-learner's L2 penalty (see `LogisticParams::l2`). Default 1.0.
    pub meta_l2: f64,
}

impl Default for StackParams {
    fn default() -> Self {
        StackParams {
            members: vec![ClassifierKind::Mlp, ClassifierKind::Rf],
            folds: 2,
            predicted_folds: None,
            meta_l2: 1.0,
        }
    }
}

impl Params for StackParams {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        let listed = || {
            let names: Vec<_> = self.members.iter().map(|k| k.name()).collect();
            names.join(",")
        };
        if self.members.is_empty() {
            return Err(param_error(
                "members",
                listed(),
                "must name at least one model",
            ));
        }
        if self.members.contains(&ClassifierKind::Stack) {
            return Err(param_error(
                "members",
                listed(),
                "a stack cannot hold a stack",
            ));
        }
        let mut sorted = self.members.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.members.len() {
            return Err(param_error("members", listed(), "must not repeat a model"));
        }
        if !(2..=20).contains(&self.folds) {
            return Err(param_error("folds", self.folds, "must be in 2 to 20"));
        }
        if let Some(n) = self
            .predicted_folds
            .filter(|n| !(1..=self.folds).contains(n))
        {
            return Err(param_error("predicted_folds", n, "must be from 1 to folds"));
        }
        self.meta().check()?;
        Ok(Valid(self))
    }
}

impl StackParams {
    fn meta(&self) -> LogisticParams {
        LogisticParams {
            l2: self.meta_l2,
            ..LogisticParams::default()
        }
    }
}

/// A fitted stack: the members fitted on all training rows, and the meta-learner over their
/// log-odds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackModel {
    /// The base classifiers, in [`StackParams::members`] order.
    pub members: Vec<FittedClassifier>,
    /// Logistic regression on the members' log-odds: intercept, then one weight per member.
    pub meta: LogisticModel,
}

/// Probabilities are clipped to this distance from 0 and 1 before the log-odds.
const CLIP: f64 = 1e-6;

fn logit(p: f64) -> f64 {
    super::logit_clipped(p, CLIP)
}

/// The rows of `train` in the predicted folds, and each member's out-of-fold probability for
/// them (`[member][i]` for the `i`-th of those rows). A member with `given` probabilities
/// (a forest's own, see [`crate::models::ForestModel`]) is not fitted again.
///
/// A member that spreads its fit over every core (boosting, logistic regression, a forest
/// without its own out-of-fold probabilities) fits its folds one after another; the network,
/// which runs on one thread, fits its folds one after another beside them ([`side_by_side`]),
/// or on both cores at once when it is the only member to fit. Forests side by side held up to
/// all five folds' copies and trees at once (docs/performance.md): a thread waiting inside one
/// forest stole the next fold.
pub(crate) fn out_of_fold(
    params: &StackParams,
    train: &TrainSet,
    val: Option<&TrainSet>,
    seed: u64,
    given: &[Option<&[f64]>],
) -> Result<(Vec<usize>, Vec<Vec<f64>>), ModelError> {
    let n = train.y.len();
    let fold = group_folds(train, seed, params.folds);
    // Each fold's held-out rows and the rest, as indices: a member's fold copies the rest's
    // rows only while it fits, so at most two folds' copies are alive at once.
    let (held, rest): (Vec<Vec<usize>>, Vec<Vec<usize>>) = (0..params.folds)
        .map(|k| (0..n).partition(|&i| fold[i] == k))
        .unzip();
    let predicted = params.predicted_folds.unwrap_or(params.folds);
    let given = |m: usize| given.get(m).copied().flatten().filter(|p| p.len() == n);
    let fits: Vec<(ClassifierKind, usize)> = params
        .members
        .iter()
        .enumerate()
        .filter(|&(m, _)| given(m).is_none())
        .flat_map(|(_, &kind)| (0..predicted).map(move |k| (kind, k)))
        .collect();
    let per_fit = side_by_side(
        &fits,
        |(kind, _)| kind.fits_on_one_thread(),
        |&(kind, k)| -> Result<Vec<f64>, ModelError> {
            if held[k].is_empty() {
                return Ok(Vec::new());
            }
            let model = ModelSpec::classifier(kind).fit_classifier(
                &Subset::of(train, &rest[k]).set(),
                val,
                seed,
            )?;
            Ok(model.predict_proba(&train.x.select_rows(&held[k])))
        },
    )?;
    let mut per_fit = per_fit.chunks(predicted.max(1));
    let mut oof = Vec::with_capacity(params.members.len());
    for m in 0..params.members.len() {
        if let Some(p) = given(m) {
            oof.push(p.to_vec());
            continue;
        }
        let mut member_oof = vec![f64::NAN; n];
        for (rows, p) in held.iter().zip(per_fit.next().unwrap_or_default()) {
            for (&i, &v) in rows.iter().zip(p) {
                member_oof[i] = v;
            }
        }
        oof.push(member_oof);
    }
    let rows: Vec<usize> = (0..n).filter(|&i| fold[i] < predicted).collect();
    let oof = oof.iter().map(|p| select(p, &rows)).collect();
    Ok((rows, oof))
}

/// The meta-learner's inputs: one column of log-odds per member.
fn meta_features(kinds: &[String], probabilities: &[Vec<f64>]) -> FeatureMatrix {
    let n = probabilities.first().map_or(0, Vec::len);
    let data = (0..n)
        .flat_map(|i| probabilities.iter().map(move |p| logit(p[i])))
        .collect();
    FeatureMatrix::new(kinds.to_vec(), data)
        .unwrap_or_else(|| unreachable!("one column per member, at least one member"))
}

fn member_names(kinds: &[ClassifierKind]) -> Vec<String> {
    kinds.iter().map(|k| format!("logit_{k}")).collect()
}

impl Fit for Valid<StackParams> {
    type Model = StackModel;

    fn fit(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<StackModel, ModelError> {
        self.fit_reusing(train, val, seed, &[])
    }
}

impl Valid<StackParams> {
    /// [`Fit::fit`], given members already fitted on these rows, this VAL and this seed with
    /// their family's default parameters (the grid's own cells of the same setup and strategy):
    /// those are not fitted a second time, and a given forest's out-of-fold probabilities are
    /// taken as they are. The stack is the same, bit for bit.
    pub fn fit_reusing(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
        fitted: &[&FittedClassifier],
    ) -> Result<StackModel, ModelError> {
        train.check()?;
        let n = train.y.len();
        let mut members: Vec<Option<FittedClassifier>> = self
            .members
            .iter()
            .map(|&kind| fitted.iter().find(|m| m.kind() == kind).map(|&m| m.clone()))
            .collect();
        // The members not given are fitted on every row first, side by side (the network on
        // one thread beside a forest spread over the other core): a forest is grown in parts,
        // each without one grouped fold, and keeps each row's probability from the part that
        // saw neither the row nor its group, so it needs no fits out of fold. (Its folds need
        // not be the stack's: each member's probabilities only have to come from a model blind
        // to the row's group.) Fitted after the folds instead, the network ran alone on one
        // core.
        let missing: Vec<usize> = (0..members.len())
            .filter(|&m| members[m].is_none())
            .collect();
        let fitted_now = side_by_side(
            &missing,
            |&m| self.members[m].fits_on_one_thread(),
            |&m| ModelSpec::classifier(self.members[m]).fit_classifier(train, val, seed),
        )?;
        for (&m, model) in missing.iter().zip(fitted_now) {
            members[m] = Some(model);
        }
        let given: Vec<Option<&[f64]>> = members
            .iter()
            .map(|m| {
                m.as_ref()
                    .and_then(FittedClassifier::out_of_fold)
                    .filter(|p| p.len() == n)
            })
            .collect();
        let (rows, oof) = out_of_fold(self, train, val, seed, &given)?;
        let meta_x = meta_features(&member_names(&self.members), &oof);
        let y = select(train.y, &rows);
        let weights = train.weights.map(|w| select(w, &rows));
        let meta = self.meta().check()?.fit(
            &TrainSet {
                x: &meta_x,
                y: &y,
                weights: weights.as_deref(),
                groups: None,
            },
            None,
            seed,
        )?;
        // Every slot was filled above.
        let members = members.into_iter().flatten().collect();
        Ok(StackModel { members, meta })
    }
}

impl StackModel {
    /// Each member's probabilities for `x` (`[member][row]`).
    pub fn member_probabilities(&self, x: &FeatureMatrix) -> Vec<Vec<f64>> {
        self.members.iter().map(|m| m.predict_proba(x)).collect()
    }

    /// The members' kinds, in order.
    pub fn kinds(&self) -> Vec<ClassifierKind> {
        self.members.iter().map(FittedClassifier::kind).collect()
    }
}

impl Classifier for StackModel {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        let meta_x = meta_features(&member_names(&self.kinds()), &self.member_probabilities(x));
        self.meta.predict_proba(&meta_x)
    }

    fn predict_proba_variants(&self, variants: &Variants<'_>) -> Vec<f64> {
        let members: Vec<Vec<f64>> = self
            .members
            .iter()
            .map(|m| m.predict_proba_variants(variants))
            .collect();
        let meta_x = meta_features(&member_names(&self.kinds()), &members);
        self.meta.predict_proba(&meta_x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_auc;
    use crate::models::folds::fold_of;
    use rand::{Rng, SeedableRng};

    /// Labels that no feature predicts: anything a member "learns" is memorised noise.
    fn noise(n: usize) -> (FeatureMatrix, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let data = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
        let y = (0..n)
            .map(|_| f64::from(u8::from(rng.random_bool(0.5))))
            .collect();
        let names = ["a", "b", "c", "d"].map(String::from).to_vec();
        (FeatureMatrix::new(names, data).unwrap(), y)
    }

    #[test]
    fn members_fitted_by_the_grid_are_reused_and_give_the_same_stack() {
        let (x, y) = noise(300);
        let train = TrainSet::new(&x, &y);
        let params = StackParams {
            members: vec![ClassifierKind::Logreg, ClassifierKind::Rf],
            folds: 3,
            ..StackParams::default()
        }
        .check()
        .unwrap();
        let rf = ModelSpec::classifier(ClassifierKind::Rf)
            .fit_classifier(&train, None, 7)
            .unwrap();
        let fresh = params.fit(&train, None, 7).unwrap();
        let reused = params.fit_reusing(&train, None, 7, &[&rf]).unwrap();
        assert_eq!(reused.kinds(), [ClassifierKind::Logreg, ClassifierKind::Rf]);
        assert_eq!(fresh.predict_proba(&x), reused.predict_proba(&x));
        // And it is the given model that serves: another forest gives another stack.
        let other = ModelSpec::classifier(ClassifierKind::Rf)
            .fit_classifier(&train, None, 8)
            .unwrap();
        let swapped = params.fit_reusing(&train, None, 7, &[&other]).unwrap();
        assert_ne!(fresh.predict_proba(&x), swapped.predict_proba(&x));
    }

    #[test]
    fn the_meta_learner_sees_out_of_fold_predictions_only() {
        // A random forest memorises its training rows: in-sample it "predicts" pure noise
        // labels, out of fold it cannot. A meta-learner fed in-sample probabilities would put a
        // large weight on the forest; fed out-of-fold ones, it must find about none.
        let (x, y) = noise(600);
        let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
        let train = TrainSet::new(&x, &y);
        let params = StackParams {
            members: vec![ClassifierKind::Rf],
            ..StackParams::default()
        };

        let in_sample = ModelSpec::classifier(ClassifierKind::Rf)
            .fit_classifier(&train, None, 1)
            .unwrap()
            .predict_proba(&x);
        assert!(roc_auc(&in_sample, &labels).unwrap() > 0.9);
        let leaky_meta = params
            .meta()
            .check()
            .unwrap()
            .fit(
                &TrainSet::new(&meta_features(&["rf".into()], &[in_sample]), &y),
                None,
                1,
            )
            .unwrap();
        assert!(leaky_meta.beta[1] > 1.0, "{:?}", leaky_meta.beta);

        let (rows, oof) = out_of_fold(&params, &train, None, 1, &[]).unwrap();
        assert_eq!(rows.len(), 600, "every row predicted");
        let auc = roc_auc(&oof[0], &labels).unwrap();
        assert!((auc - 0.5).abs() < 0.08, "out-of-fold ROC-AUC {auc}");
        let stack = params
            .clone()
            .check()
            .unwrap()
            .fit(&train, None, 1)
            .unwrap();
        assert!(stack.meta.beta[1].abs() < 0.5, "{:?}", stack.meta.beta);
    }

    #[test]
    fn blending_fits_the_meta_learner_on_the_predicted_fold_only() {
        let (x, y) = noise(400);
        let groups: Vec<u64> = (0..400).map(|i| i / 4).collect();
        let train = TrainSet {
            groups: Some(&groups),
            ..TrainSet::new(&x, &y)
        };
        let params = StackParams {
            members: vec![ClassifierKind::Logreg],
            predicted_folds: Some(1),
            ..StackParams::default()
        };
        let (rows, oof) = out_of_fold(&params, &train, None, 3, &[]).unwrap();
        assert!(rows.iter().all(|&i| fold_of(groups[i], 3, 2) == 0));
        let in_fold = (0..400).filter(|&i| fold_of(groups[i], 3, 2) == 0).count();
        assert_eq!(rows.len(), in_fold);
        assert!((150..250).contains(&rows.len()), "{}", rows.len());
        assert_eq!(oof[0].len(), rows.len());
        assert!(oof[0].iter().all(|p| p.is_finite()));
        // Unset, every fold is predicted, however many there are.
        let every = StackParams {
            members: vec![ClassifierKind::Logreg],
            folds: 3,
            ..StackParams::default()
        };
        assert_eq!(
            out_of_fold(&every, &train, None, 3, &[]).unwrap().0.len(),
            400
        );
        for bad in [0, 3] {
            let params = StackParams {
                predicted_folds: Some(bad),
                ..StackParams::default()
            };
            let e = params.check().unwrap_err().to_string();
            assert!(e.contains("predicted_folds"), "{e}");
        }
    }

    #[test]
    fn a_stack_beats_chance_on_a_learnable_signal_and_refuses_bad_members() {
        let (x, _) = noise(800);
        let y: Vec<f64> = x
            .rows()
            .map(|r| f64::from(u8::from(r[0] + r[1] > 0.0)))
            .collect();
        let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
        let params = StackParams {
            members: vec![ClassifierKind::Logreg, ClassifierKind::Rf],
            folds: 3,
            ..StackParams::default()
        };
        let stack = params
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 2)
            .unwrap();
        let auc = roc_auc(&stack.predict_proba(&x), &labels).unwrap();
        assert!(auc > 0.95, "{auc}");
        assert_eq!(stack.kinds(), [ClassifierKind::Logreg, ClassifierKind::Rf]);

        let nested = StackParams {
            members: vec![ClassifierKind::Stack],
            ..StackParams::default()
        };
        assert_eq!(
            nested.check().unwrap_err().to_string(),
            "invalid parameter members = stack: a stack cannot hold a stack"
        );
    }
}

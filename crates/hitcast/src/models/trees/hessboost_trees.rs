//! Trees grown here ([`super::grow`], [`super::boost`]) made into a hessboost model.
//!
//! hessboost has no public constructor for trees, but its model's serde form is public and
//! reads back from any self-describing format: a model serializes as a map whose first entry is
//! its trees (each its public `Node`s, then its empty category pool, leaf width, leaf vectors
//! and linear leaves), then its other fields. So the grown trees are written in that form, in
//! MessagePack (nodes as arrays of their fields, which serde reads as it reads named ones), and
//! the rest of the bytes come from a model hessboost trains itself with the same objective,
//! base score, width and tree count (trees of one leaf, on two rows). hessboost's deserializer
//! checks the result as it checks any model it reads: every link, value and feature index. A
//! change of that form in a new hessboost fails the test that writes hessboost's own trees.
//! (postcard, the crate's other binary form, cannot read hessboost's model back: it writes
//! fields that it reads as optional.)

use hessboost::config::TrainingParams;
use hessboost::data::DMatrix;
use hessboost::model::BoostedModel;
use hessboost::objective::Objective;
use hessboost::training::Trainer;
use serde::ser::{Serialize, SerializeTuple, Serializer};

use super::{Binned, GrownNode};
use crate::models::ModelError;

/// `hessboost::tree::Node`'s serde form, its fields in order.
struct NodeForm {
    split_feature: u32,
    split_cond: f32,
    default_left: bool,
    left: i32,
    right: i32,
    leaf_value: f32,
    sum_hess: f32,
    split_gain: f32,
    is_categorical: bool,
    cat_begin: u32,
    cat_end: u32,
}

impl Serialize for NodeForm {
    /// As an array: 11 values, not 11 names and values, a node.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(11)?;
        t.serialize_element(&self.split_feature)?;
        t.serialize_element(&self.split_cond)?;
        t.serialize_element(&self.default_left)?;
        t.serialize_element(&self.left)?;
        t.serialize_element(&self.right)?;
        t.serialize_element(&self.leaf_value)?;
        t.serialize_element(&self.sum_hess)?;
        t.serialize_element(&self.split_gain)?;
        t.serialize_element(&self.is_categorical)?;
        t.serialize_element(&self.cat_begin)?;
        t.serialize_element(&self.cat_end)?;
        t.end()
    }
}

/// `hessboost::tree::RegTree`'s serde form, for a tree of scalar leaves and numeric splits.
#[derive(serde::Serialize)]
struct TreeForm<'a> {
    nodes: &'a [NodeForm],
    categories: &'a [u32],
    size_leaf_vector: usize,
    leaf_vectors: &'a [f32],
    linear: Option<()>,
}

/// The MessagePack bytes of a grown tree as hessboost's, a node's value being `value(node)`.
pub(crate) fn tree_bytes(
    tree: &[GrownNode],
    binned: &Binned,
    value: impl Fn(&GrownNode) -> f32,
) -> Result<Vec<u8>, ModelError> {
    let nodes: Vec<NodeForm> = tree
        .iter()
        .map(|node| {
            let value = value(node);
            if node.is_leaf() {
                NodeForm {
                    split_feature: 0,
                    split_cond: 0.0,
                    default_left: true,
                    left: -1,
                    right: -1,
                    leaf_value: value,
                    sum_hess: node.hess as f32,
                    split_gain: 0.0,
                    is_categorical: false,
                    cat_begin: 0,
                    cat_end: 0,
                }
            } else {
                NodeForm {
                    split_feature: node.feature,
                    split_cond: binned.threshold(node.feature as usize, node.bin),
                    // NaN is in bin 0, on the left of every split.
                    default_left: true,
                    left: node.left as i32,
                    right: node.left as i32 + 1,
                    leaf_value: value,
                    sum_hess: node.hess as f32,
                    split_gain: node.gain as f32,
                    is_categorical: false,
                    cat_begin: 0,
                    cat_end: 0,
                }
            }
        })
        .collect();
    scalar_tree_bytes(&nodes)
}

/// The bytes of a tree of scalar leaves and numeric splits made of `nodes`.
fn scalar_tree_bytes(nodes: &[NodeForm]) -> Result<Vec<u8>, ModelError> {
    form_bytes(&TreeForm {
        nodes,
        categories: &[],
        size_leaf_vector: 0,
        leaf_vectors: &[],
        linear: None,
    })
}

fn form_bytes(value: &impl Serialize) -> Result<Vec<u8>, ModelError> {
    rmp_serde::to_vec_named(value).map_err(|e| ModelError::Trees(e.to_string()))
}

/// A hessboost model of `trees` (from [`tree_bytes`]), `per_round` of them a round, with the
/// `objective` and `base` score (a probability for a logistic objective) of its training.
pub(crate) fn assemble(
    objective: Objective,
    base: f64,
    width: usize,
    per_round: usize,
    trees: &[Vec<u8>],
) -> Result<BoostedModel, ModelError> {
    if per_round == 0 || trees.is_empty() || !trees.len().is_multiple_of(per_round) {
        return Err(ModelError::Trees(format!(
            "{} trees do not make whole rounds of {per_round}",
            trees.len()
        )));
    }
    // hessboost's model around the trees: trees of one leaf on two rows, as many (the
    // objective, base score, width and tree count are all it takes from it).
    let params = TrainingParams::builder()
        .objective(objective)
        .base_score(base)
        .num_parallel_tree(per_round)
        .eta(1.0)
        .max_depth(1)
        .build()?;
    let template = Trainer::new(&params, &two_rows(width)?, trees.len() / per_round)
        .train()?
        .model;
    with_trees(&template, trees)
}

/// The model of `template` with `trees` (from [`tree_bytes`]) in place of its own.
fn with_trees(template: &BoostedModel, trees: &[Vec<u8>]) -> Result<BoostedModel, ModelError> {
    let refuse = |why: &str| ModelError::Trees(why.into());
    if template.num_trees() != trees.len() {
        return Err(refuse("as many trees as the template has are needed"));
    }
    let whole = form_bytes(template)?;
    let own = form_bytes(&template.trees())?;
    // The map's header and the key "trees", then the trees: the first entry.
    let Some(at) = whole
        .windows(own.len())
        .take(16)
        .position(|w| w == own.as_slice())
    else {
        return Err(refuse(
            "hessboost's model form does not start with its trees",
        ));
    };
    if !whole[..at].ends_with(b"trees") {
        return Err(refuse(
            "hessboost's model form does not start with its trees",
        ));
    }
    let mut bytes = whole[..at].to_vec();
    bytes.reserve(5 + trees.iter().map(Vec::len).sum::<usize>() + whole.len() - at - own.len());
    let n = u32::try_from(trees.len()).map_err(|_| refuse("too many trees"))?;
    rmp::encode::write_array_len(&mut bytes, n).map_err(|_| refuse("too many trees"))?;
    for tree in trees {
        bytes.extend_from_slice(tree);
    }
    bytes.extend_from_slice(&whole[at + own.len()..]);
    rmp_serde::from_slice(&bytes).map_err(|e| ModelError::Trees(e.to_string()))
}

/// A matrix of two rows of `width` zeros labelled 0 and 1, for a template model.
fn two_rows(width: usize) -> Result<DMatrix, ModelError> {
    Ok(DMatrix::from_dense_vec(vec![0.0; 2 * width], 2, width)?.with_labels(&[0.0, 1.0])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hessboost::objective::RegLoss;

    fn form_of(tree: &hessboost::tree::RegTree) -> Vec<u8> {
        let nodes: Vec<NodeForm> = tree
            .nodes()
            .iter()
            .map(|n| NodeForm {
                split_feature: n.split_feature,
                split_cond: n.split_cond,
                default_left: n.default_left,
                left: n.left,
                right: n.right,
                leaf_value: n.leaf_value,
                sum_hess: n.sum_hess,
                split_gain: n.split_gain,
                is_categorical: n.is_categorical,
                cat_begin: n.cat_begin,
                cat_end: n.cat_end,
            })
            .collect();
        scalar_tree_bytes(&nodes).unwrap()
    }

    #[test]
    fn hessboosts_own_trees_written_in_this_form_give_back_its_model() {
        // A boosted model of real splits: the form written here must read as hessboost's own.
        let n = 400;
        let x: Vec<f32> = (0..n * 2).map(|i| ((i * 7919) % 101) as f32).collect();
        let y: Vec<f32> = (0..n)
            .map(|i| f32::from(u8::from(x[i * 2] > 50.0)))
            .collect();
        let d = DMatrix::from_dense_vec(x, n, 2)
            .unwrap()
            .with_labels(&y)
            .unwrap();
        let params = TrainingParams::builder()
            .objective(Objective::BinaryLogistic(RegLoss::default()))
            .max_depth(3)
            .build()
            .unwrap();
        let model = hessboost::training::Trainer::new(&params, &d, 3)
            .train()
            .unwrap()
            .model;
        assert!(model.trees().iter().all(|t| t.num_nodes() > 1));
        let trees: Vec<Vec<u8>> = model.trees().iter().map(form_of).collect();
        let back = with_trees(&model, &trees).unwrap();
        assert_eq!(back.trees(), model.trees());
        assert_eq!(form_bytes(&back).unwrap(), form_bytes(&model).unwrap());
        // Too few trees for the template.
        assert!(with_trees(&model, &trees[1..]).is_err());
    }

    #[test]
    fn hessboost_predicts_a_grown_tree_as_it_was_grown_missing_values_included() {
        use super::super::grow::{grow_tree, Growth};
        use super::super::{step_of, tree_rng};
        use crate::features::FeatureMatrix;
        let n = 600;
        let mut data = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a = ((i * 7919) % 113) as f64 / 7.0;
            let b = if i % 9 == 0 {
                f64::NAN
            } else {
                ((i * 31) % 17) as f64
            };
            data.extend([a, b, f64::from(u8::from(i % 25 == 0))]);
            y.push(f64::from(u8::from(a + b.max(0.0) > 14.0 || i % 25 == 0)));
        }
        let x = FeatureMatrix::new(["a", "b", "c"].map(String::from).to_vec(), data).unwrap();
        let binned = Binned::new(&x, 16, 0.4);
        let base = y.iter().sum::<f64>() / n as f64;
        let gh: Vec<[f64; 2]> = y.iter().map(|&v| [base - v, base * (1.0 - base)]).collect();
        let mut rows: Vec<u32> = (0..n as u32).collect();
        let growth = Growth {
            max_depth: 8,
            min_child_weight: 2.0 * base * (1.0 - base),
            per_node: 2,
        };
        let tree = grow_tree(&binned, &gh, &mut rows, growth, &mut tree_rng(7, 0));
        assert!(tree.len() > 15, "{}", tree.len());
        let model = assemble(
            Objective::BinaryLogistic(RegLoss::default()),
            base,
            3,
            1,
            &[tree_bytes(&tree, &binned, |n| n.step() as f32).unwrap()],
        )
        .unwrap();
        let rows32: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
        let p = model
            .predict_rows(&rows32, hessboost::model::Iterations::Best)
            .unwrap();
        let margin = (base / (1.0 - base)).ln();
        for (r, &got) in p.as_slice().iter().enumerate() {
            let want = 1.0 / (1.0 + (-(margin + step_of(&tree, &binned, r))).exp());
            assert!(
                (f64::from(got) - want).abs() < 1e-5,
                "row {r}: {got} against {want}"
            );
        }
    }
}

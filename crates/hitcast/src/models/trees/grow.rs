//! The forest's trees, grown here rather than by hessboost's forest mode.
//!
//! A random forest's node looks at √p of the p columns, but hessboost builds every node's
//! histogram over all p (to get each sibling by subtraction), and keeps each tree's margins for
//! a next boosting round that a forest never has. Here a node sums only its sampled columns,
//! and the sparse ones from the rows that hold another value than their common one.
//!
//! The trees are those of hessboost's forest mode, Newton steps of the loss from the base score
//! with no regularisation: a split maximises `G_L²/H_L + G_R²/H_R - G²/H` with at least
//! `min_child_weight` of hessian on each side, and a leaf holds `-G/H`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::binned::Stored;
use super::{fill_common, scan, BestSplit, Binned, GrownNode, MAX_BINS};

/// How a tree grows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Growth {
    pub max_depth: usize,
    /// The least hessian on either side of a split.
    pub min_child_weight: f64,
    /// Columns drawn for each node, without replacement.
    pub per_node: usize,
}

/// Scratch space of one tree's growth, reused node after node.
struct Scratch {
    /// (gradient, hessian) sums, [`MAX_BINS`] per sampled column.
    hist: Vec<[f64; 2]>,
    /// The sampled columns, in draw order, and their sparse columns' histogram slots.
    order: Vec<u32>,
    slot_of_sparse: Vec<u16>,
    moved: Vec<u32>,
}

const NO_SLOT: u16 = u16::MAX;

/// Grows one tree on `rows` (ascending, reordered in place) of `binned`, whose row `r` has the
/// gradient and hessian `gh[r]`.
pub(crate) fn grow_tree(
    binned: &Binned,
    gh: &[[f64; 2]],
    rows: &mut [u32],
    growth: Growth,
    rng: &mut ChaCha8Rng,
) -> Vec<GrownNode> {
    let p = binned.n_cols();
    let growth = Growth {
        per_node: growth.per_node.clamp(1, p.max(1)),
        ..growth
    };
    let mut scratch = Scratch {
        hist: vec![[0.0; 2]; growth.per_node * MAX_BINS],
        order: (0..p as u32).collect(),
        slot_of_sparse: vec![NO_SLOT; binned.common.len()],
        moved: Vec::with_capacity(rows.len()),
    };
    let total = rows.iter().fold([0.0, 0.0], |acc, &r| {
        let [g, h] = gh[r as usize];
        [acc[0] + g, acc[1] + h]
    });
    let mut nodes = vec![GrownNode::leaf(total[0], total[1])];
    // (node, its rows' range, depth)
    let mut stack = vec![(0usize, 0usize, rows.len(), 0usize)];
    while let Some((id, start, end, depth)) = stack.pop() {
        let node = nodes[id];
        if depth >= growth.max_depth || end - start < 2 || node.hess < 2.0 * growth.min_child_weight
        {
            continue;
        }
        let rows = &mut rows[start..end];
        let Some(split) = best_split(binned, gh, rows, node, growth, &mut scratch, rng) else {
            continue;
        };
        let n_left = partition(binned, rows, split.feature, split.bin, &mut scratch.moved);
        let left = nodes.len();
        nodes[id] = GrownNode {
            gain: split.gain,
            left: left as u32,
            feature: split.feature as u32,
            bin: split.bin,
            ..node
        };
        nodes.push(GrownNode::leaf(split.grad, split.hess));
        nodes.push(GrownNode::leaf(
            node.grad - split.grad,
            node.hess - split.hess,
        ));
        stack.push((left + 1, start + n_left, end, depth + 1));
        stack.push((left, start, start + n_left, depth + 1));
    }
    nodes
}

/// The node's best split over `growth.per_node` columns drawn at random, if any gains.
fn best_split(
    binned: &Binned,
    gh: &[[f64; 2]],
    rows: &[u32],
    node: GrownNode,
    growth: Growth,
    scratch: &mut Scratch,
    rng: &mut ChaCha8Rng,
) -> Option<BestSplit> {
    let (p, per_node) = (scratch.order.len(), growth.per_node);
    // A partial Fisher-Yates draw: the first `per_node` of `order` are the node's columns.
    for k in 0..per_node {
        let pick = rng.random_range(k..p);
        scratch.order.swap(k, pick);
    }
    let hist = &mut scratch.hist;
    let mut any_sparse = false;
    for (slot, &j) in scratch.order[..per_node].iter().enumerate() {
        let h = &mut hist[slot * MAX_BINS..slot * MAX_BINS + binned.bins(j as usize)];
        h.fill([0.0; 2]);
        match binned.layout[j as usize] {
            Stored::Dense(d) => {
                let bins = &binned.dense[d as usize];
                for &r in rows {
                    let (b, [g, w]) = (usize::from(bins[r as usize]), gh[r as usize]);
                    h[b][0] += g;
                    h[b][1] += w;
                }
            }
            Stored::Sparse(s) => {
                scratch.slot_of_sparse[usize::from(s)] = slot as u16;
                any_sparse = true;
            }
        }
    }
    if any_sparse {
        for &r in rows {
            let r = r as usize;
            let [g, w] = gh[r];
            for &(s, b) in binned.rest_of(r) {
                let slot = scratch.slot_of_sparse[usize::from(s)];
                if slot != NO_SLOT {
                    let cell = &mut hist[usize::from(slot) * MAX_BINS + usize::from(b)];
                    cell[0] += g;
                    cell[1] += w;
                }
            }
        }
    }
    let mut best: Option<BestSplit> = None;
    for (slot, &j) in scratch.order[..per_node].iter().enumerate() {
        let j = j as usize;
        let h = &mut hist[slot * MAX_BINS..slot * MAX_BINS + binned.bins(j)];
        if let Stored::Sparse(s) = binned.layout[j] {
            scratch.slot_of_sparse[usize::from(s)] = NO_SLOT;
            fill_common(h, usize::from(binned.common[usize::from(s)]), &node);
        }
        scan(h, j, &node, growth.min_child_weight, 0.0, &mut best);
    }
    best
}

/// Moves the rows going left (bin `bin` or below in column `j`) to the front, both sides in
/// their order, and returns how many there are.
fn partition(binned: &Binned, rows: &mut [u32], j: usize, bin: u8, moved: &mut Vec<u32>) -> usize {
    moved.clear();
    let mut n_left = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        if binned.bin(j, r as usize) <= bin {
            rows[n_left] = r;
            n_left += 1;
        } else {
            moved.push(r);
        }
    }
    rows[n_left..].copy_from_slice(moved);
    n_left
}

#[cfg(test)]
mod tests {
    use super::super::binned::tests::matrix;
    use super::super::{step_of, tree_rng};
    use super::*;

    #[test]
    fn a_tree_splits_where_the_label_changes_and_its_leaves_hold_newton_steps() {
        // y = 1 exactly when a >= 50; b is noise, c constant.
        let rows: Vec<[f64; 3]> = (0..100)
            .map(|i| [f64::from(i), f64::from((i * 37) % 11), 1.0])
            .collect();
        let x = matrix(&rows);
        let binned = Binned::new(&x, 256, 1.0);
        let p0 = 0.5;
        let gh: Vec<[f64; 2]> = (0..100)
            .map(|i| [p0 - f64::from(u8::from(i >= 50)), p0 * (1.0 - p0)])
            .collect();
        let mut rows: Vec<u32> = (0..100).collect();
        let growth = Growth {
            max_depth: 3,
            min_child_weight: 0.0,
            per_node: 3,
        };
        let tree = grow_tree(&binned, &gh, &mut rows, growth, &mut tree_rng(1, 0));
        // The root splits a at 50 and both sides are pure: three nodes.
        assert_eq!(tree.len(), 3, "{tree:?}");
        assert_eq!(tree[0].feature, 0);
        assert_eq!(binned.threshold(0, tree[0].bin), 50.0);
        // G = 0, so the gain is the children's G²/H: 2 * 25² / 12.5.
        assert!((tree[0].gain - 100.0).abs() < 1e-9, "{}", tree[0].gain);
        // Leaves: -G/H = -(50 * 0.5) / 12.5 = -2 on the left, +2 on the right.
        assert_eq!((tree[1].step(), tree[2].step()), (-2.0, 2.0));
        for r in 0..100 {
            let want = if r >= 50 { 2.0 } else { -2.0 };
            assert_eq!(step_of(&tree, &binned, r), want);
        }
    }

    #[test]
    fn no_leaf_holds_less_than_the_least_child_weight() {
        let rows: Vec<[f64; 3]> = (0..500)
            .map(|i| [f64::from(i), f64::from((i * 7919) % 503), f64::from(i % 3)])
            .collect();
        let x = matrix(&rows);
        let binned = Binned::new(&x, 64, 0.5);
        let gh: Vec<[f64; 2]> = (0..500)
            .map(|i| [if (i * 31) % 7 < 2 { -0.8 } else { 0.2 }, 0.16])
            .collect();
        let mut rows: Vec<u32> = (0..500).collect();
        let growth = Growth {
            max_depth: 16,
            min_child_weight: 5.0 * 0.16,
            per_node: 2,
        };
        let tree = grow_tree(&binned, &gh, &mut rows, growth, &mut tree_rng(3, 1));
        assert!(tree.len() > 20, "{}", tree.len());
        for node in tree.iter().filter(|n| n.is_leaf()) {
            assert!(node.hess >= 5.0 * 0.16 - 1e-9, "{node:?}");
        }
    }
}

//! The forest's trees, grown here rather than by hessboost's forest mode.
//!
//! Why by hand: a random forest's node looks at √p of the p columns, but hessboost builds every
//! node's histogram over all p (to get each sibling by subtraction), and keeps each tree's
//! margins for a next boosting round that a forest never has. On the grid's 139 columns, 114 of
//! them one-hot genres, that was most of a forest's time. Here a node sums only its sampled
//! columns, and the columns that are almost all one value (the genres) are summed from the few
//! rows that hold another value. The trees enter hessboost afterwards
//! ([`super::hessboost_trees`]), so prediction, TreeSHAP, storage and the XGBoost export stay
//! hessboost's.
//!
//! The trees are those of hessboost's forest mode, Newton steps of the loss from the base score
//! with no regularisation: a split maximises `G_L²/H_L + G_R²/H_R - G²/H` with at least
//! `min_child_weight` of hessian on each side, and a leaf holds `-G/H`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::features::FeatureMatrix;

/// The most bins a column gets: a bin is one byte.
pub(super) const MAX_BINS: usize = 256;

/// Feature values as bins, at most [`MAX_BINS`] per column.
pub(super) struct Binned {
    /// Per column, the ascending values that start its bins after the first: a value `x` is in
    /// bin `b` when `cuts[b - 1] <= x < cuts[b]`, and NaN is in bin 0 (hessboost sends NaN to
    /// the left, as every split here does with bin 0).
    cuts: Vec<Vec<f32>>,
    layout: Vec<Column>,
    /// The dense columns' bins, column by column.
    dense: Vec<Vec<u8>>,
    /// The sparse columns' common bin, column by column.
    common: Vec<u8>,
    /// Row `r`'s values outside their sparse column's common bin are `rest[at[r]..at[r + 1]]`,
    /// as (sparse column, bin).
    at: Vec<u32>,
    rest: Vec<(u16, u8)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Column {
    Dense(u32),
    Sparse(u16),
}

impl Binned {
    /// Bins every column of `x` into at most `max_bin` bins (2 to [`MAX_BINS`]) by its quantiles.
    /// A column whose common bin holds more than `1 - sampled_share` of the rows is stored
    /// sparse: a node then visits its other values once for all its sampled sparse columns,
    /// which costs less than a pass over the node's rows for each column it samples.
    pub(super) fn new(x: &FeatureMatrix, max_bin: usize, sampled_share: f64) -> Binned {
        use rayon::prelude::*;
        let (n, p) = (x.n_rows(), x.n_cols());
        let data = x.as_slice();
        let max_bin = max_bin.clamp(2, MAX_BINS);
        let columns: Vec<(Vec<f32>, Vec<u8>)> = (0..p)
            .into_par_iter()
            .map(|j| {
                let values: Vec<f32> = (0..n).map(|i| data[i * p + j] as f32).collect();
                let cuts = column_cuts(&values, max_bin);
                let bins = values.iter().map(|&v| bin_of(&cuts, v)).collect();
                (cuts, bins)
            })
            .collect();
        let mut binned = Binned {
            cuts: Vec::with_capacity(p),
            layout: Vec::with_capacity(p),
            dense: Vec::new(),
            common: Vec::new(),
            at: Vec::new(),
            rest: Vec::new(),
        };
        let mut sparse: Vec<Vec<u8>> = Vec::new();
        for (cuts, bins) in columns {
            let mut counts = [0usize; MAX_BINS];
            for &b in &bins {
                counts[usize::from(b)] += 1;
            }
            let (common, &most) = counts
                .iter()
                .enumerate()
                .max_by_key(|&(b, c)| (c, std::cmp::Reverse(b)))
                .unwrap_or((0, &0));
            let sparse_ok = sparse.len() < usize::from(u16::MAX);
            if sparse_ok && n > 0 && (most as f64) > (1.0 - sampled_share) * n as f64 {
                binned.layout.push(Column::Sparse(sparse.len() as u16));
                binned.common.push(common as u8);
                sparse.push(bins);
            } else {
                binned.layout.push(Column::Dense(binned.dense.len() as u32));
                binned.dense.push(bins);
            }
            binned.cuts.push(cuts);
        }
        binned.at.reserve(n + 1);
        binned.at.push(0);
        for r in 0..n {
            for (k, bins) in sparse.iter().enumerate() {
                if bins[r] != binned.common[k] {
                    binned.rest.push((k as u16, bins[r]));
                }
            }
            binned.at.push(binned.rest.len() as u32);
        }
        binned
    }

    pub(super) fn n_cols(&self) -> usize {
        self.layout.len()
    }

    /// The threshold of a split after bin `bin` of column `j`: a value goes left when below it.
    pub(super) fn threshold(&self, j: usize, bin: u8) -> f32 {
        self.cuts[j][usize::from(bin)]
    }

    fn bins(&self, j: usize) -> usize {
        self.cuts[j].len() + 1
    }

    /// Row `r`'s bin in column `j`.
    fn bin(&self, j: usize, r: usize) -> u8 {
        match self.layout[j] {
            Column::Dense(d) => self.dense[d as usize][r],
            Column::Sparse(s) => self.rest[self.at[r] as usize..self.at[r + 1] as usize]
                .iter()
                .find(|&&(k, _)| k == s)
                .map_or(self.common[usize::from(s)], |&(_, b)| b),
        }
    }
}

/// Bin starts of one column: every distinct value after the first when there are at most
/// `max_bin`, else the values where the running count passes each `k/max_bin` of the rows.
fn column_cuts(values: &[f32], max_bin: usize) -> Vec<f32> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_unstable_by(f32::total_cmp);
    let mut distinct: Vec<(f32, usize)> = Vec::new();
    for &v in &sorted {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    if distinct.len() <= max_bin {
        return distinct.iter().skip(1).map(|&(v, _)| v).collect();
    }
    let per_bin = sorted.len() as f64 / max_bin as f64;
    let mut cuts = Vec::with_capacity(max_bin - 1);
    let mut seen = 0usize;
    for pair in distinct.windows(2) {
        seen += pair[0].1;
        // `seen` stays below the row count before the last value, so at most max_bin - 1 cuts.
        if seen as f64 >= per_bin * (cuts.len() + 1) as f64 {
            cuts.push(pair[1].0);
        }
    }
    cuts
}

fn bin_of(cuts: &[f32], v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        cuts.partition_point(|&c| c <= v) as u8
    }
}

/// How a tree grows.
#[derive(Clone, Copy, Debug)]
pub(super) struct Growth {
    pub max_depth: usize,
    /// The least hessian on either side of a split.
    pub min_child_weight: f64,
    /// Columns drawn for each node, without replacement.
    pub per_node: usize,
}

/// One node of a grown tree, in hessboost's order: a node's children are `left` and
/// `left + 1`, and a leaf has `left == 0`.
#[derive(Clone, Copy, Debug)]
pub(super) struct GrownNode {
    pub grad: f64,
    pub hess: f64,
    pub gain: f64,
    pub left: u32,
    pub feature: u32,
    /// Rows in bins up to this one go left.
    pub bin: u8,
}

impl GrownNode {
    fn leaf(grad: f64, hess: f64) -> GrownNode {
        GrownNode {
            grad,
            hess,
            gain: 0.0,
            left: 0,
            feature: 0,
            bin: 0,
        }
    }

    pub(super) fn is_leaf(&self) -> bool {
        self.left == 0
    }

    /// The node's Newton step, `-G/H`.
    pub(super) fn step(&self) -> f64 {
        if self.hess > 0.0 {
            -self.grad / self.hess
        } else {
            0.0
        }
    }
}

/// A grown tree's step for binned row `r`.
pub(super) fn step_of(tree: &[GrownNode], binned: &Binned, r: usize) -> f64 {
    let mut node = &tree[0];
    while !node.is_leaf() {
        let left = binned.bin(node.feature as usize, r) <= node.bin;
        node = &tree[node.left as usize + usize::from(!left)];
    }
    node.step()
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
pub(super) fn grow_tree(
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

struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
    /// The left side's sums.
    grad: f64,
    hess: f64,
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
) -> Option<Split> {
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
            Column::Dense(d) => {
                let bins = &binned.dense[d as usize];
                for &r in rows {
                    let (b, [g, w]) = (usize::from(bins[r as usize]), gh[r as usize]);
                    h[b][0] += g;
                    h[b][1] += w;
                }
            }
            Column::Sparse(s) => {
                scratch.slot_of_sparse[usize::from(s)] = slot as u16;
                any_sparse = true;
            }
        }
    }
    if any_sparse {
        for &r in rows {
            let r = r as usize;
            let [g, w] = gh[r];
            for &(s, b) in &binned.rest[binned.at[r] as usize..binned.at[r + 1] as usize] {
                let slot = scratch.slot_of_sparse[usize::from(s)];
                if slot != NO_SLOT {
                    let cell = &mut hist[usize::from(slot) * MAX_BINS + usize::from(b)];
                    cell[0] += g;
                    cell[1] += w;
                }
            }
        }
    }
    let parent = node.grad * node.grad / node.hess;
    let mut best: Option<Split> = None;
    for (slot, &j) in scratch.order[..per_node].iter().enumerate() {
        let j = j as usize;
        let h = &mut hist[slot * MAX_BINS..(slot + 1) * MAX_BINS];
        let n_bins = binned.bins(j);
        if let Column::Sparse(s) = binned.layout[j] {
            // The common bin holds what the other bins do not.
            scratch.slot_of_sparse[usize::from(s)] = NO_SLOT;
            let common = usize::from(binned.common[usize::from(s)]);
            let (mut g, mut w) = (node.grad, node.hess);
            for (b, cell) in h[..n_bins].iter().enumerate() {
                if b != common {
                    g -= cell[0];
                    w -= cell[1];
                }
            }
            h[common] = [g, w];
        }
        let (mut gl, mut hl) = (0.0, 0.0);
        for (b, cell) in h[..n_bins - 1].iter().enumerate() {
            gl += cell[0];
            hl += cell[1];
            let (gr, hr) = (node.grad - gl, node.hess - hl);
            let least = growth.min_child_weight;
            if hl < least || hr < least || hl <= 0.0 || hr <= 0.0 {
                continue;
            }
            let gain = gl * gl / hl + gr * gr / hr - parent;
            if gain > GAIN_EPS && best.as_ref().is_none_or(|s| gain > s.gain) {
                best = Some(Split {
                    gain,
                    feature: j,
                    bin: b as u8,
                    grad: gl,
                    hess: hl,
                });
            }
        }
    }
    best
}

/// A split must gain more than this (XGBoost's `kRtEps`).
const GAIN_EPS: f64 = 1e-6;

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

/// The rows one tree draws: each of `rows` (ascending) with probability `share`.
pub(super) fn draw_rows(rows: &[u32], share: f64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    if share >= 1.0 {
        return rows.to_vec();
    }
    rows.iter()
        .copied()
        .filter(|_| rng.random::<f64>() < share)
        .collect()
}

/// The random stream of tree `tree` of a forest grown with `seed`.
pub(super) fn tree_rng(seed: u64, tree: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(tree);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[[f64; 3]]) -> FeatureMatrix {
        FeatureMatrix::new(
            ["a", "b", "c"].map(String::from).to_vec(),
            rows.iter().flatten().copied().collect(),
        )
        .unwrap()
    }

    #[test]
    fn cuts_are_the_distinct_values_or_the_quantiles() {
        assert_eq!(column_cuts(&[3.0, 1.0, 2.0, 1.0], 4), vec![2.0, 3.0]);
        assert_eq!(column_cuts(&[f32::NAN, 5.0, 5.0], 4), Vec::<f32>::new());
        // 100 distinct values in 4 bins: starts at the 25th, 50th and 75th.
        let v: Vec<f32> = (0..100).map(|i| i as f32).collect();
        assert_eq!(column_cuts(&v, 4), vec![25.0, 50.0, 75.0]);
        // A heavy value takes one bin and never splits.
        let mut heavy = vec![0.0f32; 90];
        heavy.extend((1..=10).map(|i| i as f32));
        let cuts = column_cuts(&heavy, 4);
        assert_eq!(cuts[0], 1.0, "{cuts:?}");
        assert!(cuts.len() <= 3);
    }

    #[test]
    fn a_value_is_below_a_split_threshold_exactly_when_its_bin_is_at_most_the_split_bin() {
        let rows: Vec<[f64; 3]> = (0..300)
            .map(|i| {
                [
                    f64::from(i % 97) * 0.37,
                    f64::from(i % 2),
                    f64::from(i) * 1e-3,
                ]
            })
            .collect();
        let x = matrix(&rows);
        let binned = Binned::new(&x, 16, 0.5);
        for j in 0..3 {
            for bin in 0..binned.bins(j) - 1 {
                let t = binned.threshold(j, bin as u8);
                for (r, row) in rows.iter().enumerate() {
                    assert_eq!(
                        (row[j] as f32) < t,
                        binned.bin(j, r) <= bin as u8,
                        "column {j}, bin {bin}, row {r}"
                    );
                }
            }
        }
    }

    #[test]
    fn mostly_constant_columns_are_stored_sparse_and_read_back_alike() {
        // Column b is 1 on every 20th row: sparse when a node samples a third of the columns.
        let rows: Vec<[f64; 3]> = (0..200)
            .map(|i| [f64::from(i), f64::from(u8::from(i % 20 == 0)), 7.0])
            .collect();
        let x = matrix(&rows);
        let binned = Binned::new(&x, 64, 1.0 / 3.0);
        assert_eq!(binned.layout[0], Column::Dense(0));
        assert_eq!(binned.layout[1], Column::Sparse(0));
        assert_eq!(binned.layout[2], Column::Sparse(1));
        assert_eq!(binned.rest.len(), 10);
        for (r, row) in rows.iter().enumerate() {
            assert_eq!(binned.bin(1, r), row[1] as u8);
            assert_eq!(binned.bin(2, r), 0);
        }
    }

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

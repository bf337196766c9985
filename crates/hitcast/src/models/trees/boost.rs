//! Gradient boosting, grown here: XGBoost's `hist` trees (second-order steps, L2 on leaves,
//! `min_child_weight`, row and column sampling per tree, depth-wise or loss-guided growth),
//! early-stopped on one VAL metric.
//!
//! Why not hessboost's trainer, which this replaced: it builds each node's histograms over every
//! sampled column, and 125 of the grid's 139 columns are almost all one value (the one-hot
//! genres and a few flags); that, reading rows back from its matrix and walking leaves to
//! update margins took most of a boosting cell (docs/performance.md). Here a node
//! reads a row's dense bins from one place (they are stored row by row), the sparse columns'
//! few other values from their own list, and its histogram holds only the tree's sampled
//! columns, each with its own number of bins (two for a one-hot genre). A node's larger child
//! is its parent less its smaller child. The trees then go into a hessboost model
//! ([`super::hessboost_trees`]).

use std::num::NonZeroUsize;

use rand::Rng;
use rayon::prelude::*;

use super::hessboost_trees::tree_bytes;
use super::table::{Columns, Table};
use super::{draw_rows, scan, tree_rng, BestSplit, Binned, GrownNode};
use crate::metrics::weighted_average_precision;
use crate::models::{ModelError, TrainSet};

/// The loss a booster descends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Loss {
    /// Log-loss of a 0/1 label, positive rows weighing `scale_pos_weight` times their weight.
    Logistic { scale_pos_weight: f64 },
    /// Squared error.
    Squared,
}

/// What early stopping watches on VAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    LogLoss,
    AveragePrecision,
    Rmse,
}

/// How a booster grows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Boosting {
    pub loss: Loss,
    pub watch: Watch,
    pub max_rounds: usize,
    /// Stop after this many rounds without a better VAL score.
    pub patience: Option<NonZeroUsize>,
    pub learning_rate: f64,
    pub max_depth: usize,
    /// With `Some(n)`, the node of the largest gain splits first, up to `n` leaves.
    pub max_leaves: Option<usize>,
    pub min_child_weight: f64,
    pub l2: f64,
    pub subsample: f64,
    pub colsample_bytree: f64,
    pub max_bin: usize,
}

/// A grown booster: its base score (a probability for [`Loss::Logistic`]) and its trees, one
/// per round, in hessboost's form.
pub(crate) struct Boosted {
    pub base: f64,
    pub trees: Vec<Vec<u8>>,
}

/// Rows per task when every row is visited (gradients, margins).
const CHUNK: usize = 4096;

/// Refuses a VAL set that is invalid or has other columns than FIT's `p`.
fn check_val(val: &TrainSet, p: usize) -> Result<(), ModelError> {
    val.check()?;
    if val.x.n_cols() != p {
        return Err(ModelError::Shape(format!(
            "VAL has {} columns where FIT has {p}",
            val.x.n_cols()
        )));
    }
    Ok(())
}

/// A tree's sampled columns: `per_tree` of them, by a partial shuffle of `order` (kept from
/// tree to tree, so the draw is one stream), ascending.
fn draw_columns(fit: &Table, order: &mut [u32], per_tree: usize, rng: &mut impl Rng) -> Columns {
    let p = order.len();
    for k in 0..per_tree {
        let pick = rng.random_range(k..p);
        order.swap(k, pick);
    }
    let mut features = order[..per_tree].to_vec();
    features.sort_unstable();
    Columns::new(&fit.binned, &features)
}

/// A grown tree with the drawn rows it was grown on, each node's rows together.
struct Placed<'a> {
    nodes: &'a [GrownNode],
    /// Each node's range of `rows`.
    ranges: &'a [(u32, u32)],
    rows: &'a [u32],
}

impl Placed<'_> {
    /// Adds the tree's step (`value` of a leaf) to every row's margin: the drawn rows from the
    /// leaf they were partitioned into, the others down the tree. `leaf_step` is scratch of a
    /// value a row.
    fn add_steps(
        &self,
        fit: &Table,
        value: impl Fn(&GrownNode) -> f32 + Sync,
        margin: &mut [f64],
        leaf_step: &mut [f64],
    ) {
        leaf_step.fill(f64::NAN);
        for (node, &(start, end)) in self.nodes.iter().zip(self.ranges) {
            if node.is_leaf() {
                let v = f64::from(value(node));
                for &r in &self.rows[start as usize..end as usize] {
                    leaf_step[r as usize] = v;
                }
            }
        }
        margin
            .par_chunks_mut(CHUNK)
            .zip(leaf_step.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(c, (margin, steps))| {
                let at = c * CHUNK;
                let mut undrawn = vec![0u32; steps.len()];
                let mut n = 0;
                for (i, (m, &v)) in margin.iter_mut().zip(steps).enumerate() {
                    undrawn[n] = (at + i) as u32;
                    n += usize::from(v.is_nan());
                    *m += if v.is_nan() { 0.0 } else { v };
                }
                fit.leaves_of(self.nodes, &undrawn[..n], |k, leaf| {
                    margin[undrawn[k] as usize - at] += f64::from(value(leaf));
                });
            });
    }
}

impl Boosting {
    /// Boosts on `train`, early-stopping on `val` (weighted by its weights) when both it and a
    /// patience are given, and keeps the trees up to the best VAL round.
    pub(crate) fn fit(
        &self,
        train: &TrainSet,
        val: Option<&TrainSet>,
        seed: u64,
    ) -> Result<Boosted, ModelError> {
        let (n, p) = (train.x.n_rows(), train.x.n_cols());
        if let Some(val) = val {
            check_val(val, p)?;
        }
        let per_tree = ((self.colsample_bytree * p as f64).floor() as usize).clamp(1, p.max(1));
        let fit = Table::new(Binned::new(
            train.x,
            self.max_bin,
            per_tree as f64 / p as f64,
        ));
        let weights: Vec<f64> = (0..n)
            .map(|i| self.loss.weight(train.y[i], train.weight(i)))
            .collect();
        let base = self.loss.base(train.y, &weights)?;
        let base_margin = self.loss.margin_of(base);
        let mut margin = vec![base_margin; n];
        let mut watched = match (val, self.patience) {
            (Some(val), Some(patience)) => {
                Some((Watched::new(val, &fit.binned, base_margin), patience))
            }
            _ => None,
        };
        let mut best = (f64::INFINITY, 0usize);
        let mut gh = vec![[0.0; 2]; n];
        let all: Vec<u32> = (0..n as u32).collect();
        let mut order: Vec<u32> = (0..p as u32).collect();
        let mut moved = Vec::new();
        let mut leaf_step = vec![0.0f64; n];
        let mut trees = Vec::new();
        for round in 0..self.max_rounds {
            // The tree's rows and columns are drawn on one core while the gradients are
            // worked out on the other: the draw is a random number a row, in one stream.
            let ((), (mut rows, columns)) = rayon::join(
                || self.loss.gradients(train.y, &weights, &margin, &mut gh),
                || {
                    let mut rng = tree_rng(seed, round as u64);
                    let rows = draw_rows(&all, self.subsample, &mut rng);
                    (rows, draw_columns(&fit, &mut order, per_tree, &mut rng))
                },
            );
            let (nodes, ranges) = self.grow(&fit, &columns, &gh, &mut rows, &mut moved);
            let value = |node: &GrownNode| (node.step_l2(self.l2) * self.learning_rate) as f32;
            let tree = Placed {
                nodes: &nodes,
                ranges: &ranges,
                rows: &rows,
            };
            tree.add_steps(&fit, value, &mut margin, &mut leaf_step);
            trees.push(tree_bytes(&nodes, &fit.binned, value)?);
            if let Some((watched, patience)) = watched.as_mut() {
                watched.add(&nodes, value);
                let score = watched.score(self.watch);
                if score < best.0 {
                    best = (score, round);
                } else if round - best.1 >= patience.get() {
                    break;
                }
            }
        }
        if watched.is_some() {
            trees.truncate(best.1 + 1);
        }
        Ok(Boosted { base, trees })
    }

    /// Grows one tree on `rows` (ascending, reordered in place: a node's rows end up together)
    /// over `columns`. Returns the nodes and each node's range of `rows`.
    ///
    /// Depth-wise, the nodes of a level split side by side on both cores (they hold disjoint
    /// rows); the node numbers are given in the level's order after, so the tree is the same
    /// on any thread count.
    fn grow(
        &self,
        fit: &Table,
        columns: &Columns,
        gh: &[[f64; 2]],
        rows: &mut [u32],
        moved: &mut Vec<u32>,
    ) -> (Vec<GrownNode>, Vec<(u32, u32)>) {
        let m = rows.len();
        moved.clear();
        moved.resize(m, 0);
        let total = rows.iter().fold([0.0, 0.0], |acc, &r| {
            let [g, h] = gh[r as usize];
            [acc[0] + g, acc[1] + h]
        });
        let mut nodes = vec![GrownNode::leaf(total[0], total[1])];
        let mut ranges = vec![(0u32, m as u32)];
        let mut pending: Vec<Pending> = Vec::new();
        if self.may_split(&nodes[0], m, 0) {
            let mut hist = vec![[0.0; 2]; columns.cells];
            fit.sum_rows(columns, gh, rows, &mut hist);
            if let Some(split) = self.best_split(columns, &nodes[0], &mut hist) {
                pending.push(Pending {
                    id: 0,
                    depth: 0,
                    hist,
                    split,
                });
            }
        }
        let mut leaves = 1;
        loop {
            let mut batch = match self.max_leaves {
                None => std::mem::take(&mut pending),
                Some(most) if leaves < most => {
                    self.largest_gain(&mut pending).into_iter().collect()
                }
                Some(_) => Vec::new(),
            };
            if batch.is_empty() {
                break;
            }
            // Each node's rows (and as much room to move them), cut from the tree's.
            batch.sort_unstable_by_key(|p| ranges[p.id].0);
            let mut tasks = Vec::with_capacity(batch.len());
            let (mut rest, mut room, mut at) = (&mut rows[..], &mut moved[..], 0usize);
            for p in batch {
                let (start, end) = (ranges[p.id].0 as usize, ranges[p.id].1 as usize);
                let (_, r) = std::mem::take(&mut rest).split_at_mut(start - at);
                let (own, r) = r.split_at_mut(end - start);
                let (_, o) = std::mem::take(&mut room).split_at_mut(start - at);
                let (own_room, o) = o.split_at_mut(end - start);
                (rest, room, at) = (r, o, end);
                tasks.push((p, own, own_room));
            }
            let expanded: Vec<Expanded> = tasks
                .into_par_iter()
                .map(|(p, own, room)| self.expand(fit, columns, gh, &nodes[p.id], p, own, room))
                .collect();
            for e in expanded {
                let p = &e.parent;
                let node = nodes[p.id];
                let start = ranges[p.id].0;
                let left = nodes.len();
                nodes[p.id] = GrownNode {
                    gain: p.split.gain,
                    left: left as u32,
                    feature: p.split.feature as u32,
                    bin: p.split.bin,
                    ..node
                };
                nodes.extend(e.children);
                let mid = start + e.n_left as u32;
                ranges.extend([(start, mid), (mid, ranges[p.id].1)]);
                leaves += 1;
                for (c, next) in e.next.into_iter().enumerate() {
                    if let Some((hist, split)) = next {
                        pending.push(Pending {
                            id: left + c,
                            depth: p.depth + 1,
                            hist,
                            split,
                        });
                    }
                }
            }
        }
        (nodes, ranges)
    }

    /// Splits `node` (pending as `p`) on its `rows`, and finds its children's best splits: the
    /// smaller child's histogram is summed, the larger's is the parent's less it.
    #[allow(clippy::too_many_arguments)]
    fn expand(
        &self,
        fit: &Table,
        columns: &Columns,
        gh: &[[f64; 2]],
        node: &GrownNode,
        p: Pending,
        rows: &mut [u32],
        room: &mut [u32],
    ) -> Expanded {
        let split = &p.split;
        let n_left = fit.partition(rows, split.feature, split.bin, room);
        let children = [
            GrownNode::leaf(split.grad, split.hess),
            GrownNode::leaf(node.grad - split.grad, node.hess - split.hess),
        ];
        let sizes = [n_left, rows.len() - n_left];
        let grows = [0, 1].map(|c| self.may_split(&children[c], sizes[c], p.depth + 1));
        let mut next = [None, None];
        if grows[0] || grows[1] {
            let small = usize::from(sizes[1] < sizes[0]);
            let small_rows = if small == 0 {
                &rows[..n_left]
            } else {
                &rows[n_left..]
            };
            let mut small_hist = vec![[0.0; 2]; columns.cells];
            fit.sum_rows(columns, gh, small_rows, &mut small_hist);
            let mut large_hist = p.hist;
            for (x, y) in large_hist.iter_mut().zip(&small_hist) {
                x[0] -= y[0];
                x[1] -= y[1];
            }
            let mut hists = [small_hist, large_hist];
            if small == 1 {
                hists.swap(0, 1);
            }
            for (c, mut hist) in hists.into_iter().enumerate() {
                if grows[c] {
                    next[c] = self
                        .best_split(columns, &children[c], &mut hist)
                        .map(|split| (hist, split));
                }
            }
        }
        Expanded {
            parent: Parent {
                id: p.id,
                depth: p.depth,
                split: p.split,
            },
            n_left,
            children,
            next,
        }
    }

    fn may_split(&self, node: &GrownNode, rows: usize, depth: usize) -> bool {
        depth < self.max_depth && rows >= 2 && node.hess >= 2.0 * self.min_child_weight
    }

    /// The best split of `node` whose histogram is `hist` (its sparse columns' common bins
    /// filled here), if one gains.
    fn best_split(
        &self,
        columns: &Columns,
        node: &GrownNode,
        hist: &mut [[f64; 2]],
    ) -> Option<BestSplit> {
        columns.complete(hist, node);
        let mut best = None;
        for slot in &columns.slots {
            let h = &hist[slot.offset..slot.offset + slot.bins];
            scan(
                h,
                slot.feature,
                node,
                self.min_child_weight,
                self.l2,
                &mut best,
            );
        }
        best
    }

    /// Takes the pending node of the largest gain (the first of equals).
    fn largest_gain(&self, pending: &mut Vec<Pending>) -> Option<Pending> {
        let mut at = None::<usize>;
        for (k, p) in pending.iter().enumerate() {
            if at.is_none_or(|a| p.split.gain > pending[a].split.gain) {
                at = Some(k);
            }
        }
        at.map(|k| pending.remove(k))
    }
}

/// A node split: how many of its rows went left, its two children, and those of them that
/// will split, with their histograms and splits.
struct Expanded {
    parent: Parent,
    n_left: usize,
    children: [GrownNode; 2],
    next: [Option<(Vec<[f64; 2]>, BestSplit)>; 2],
}
/// A split node, without its histogram.
struct Parent {
    id: usize,
    depth: usize,
    split: BestSplit,
}

/// A node waiting to split.
struct Pending {
    id: usize,
    depth: usize,
    /// Its histogram, complete.
    hist: Vec<[f64; 2]>,
    split: BestSplit,
}

impl Loss {
    /// A row's weight in the loss.
    fn weight(self, y: f64, w: f64) -> f64 {
        match self {
            Loss::Logistic { scale_pos_weight } if y > 0.5 => w * scale_pos_weight,
            _ => w,
        }
    }

    /// The base score: the weighted share of positives, or the weighted mean.
    fn base(self, y: &[f64], weights: &[f64]) -> Result<f64, ModelError> {
        let total: f64 = weights.iter().sum();
        let mean = y.iter().zip(weights).map(|(y, w)| y * w).sum::<f64>() / total;
        match self {
            Loss::Logistic { .. } if !(mean > 0.0 && mean < 1.0) => Err(ModelError::OneClass),
            _ if !mean.is_finite() => Err(ModelError::Shape("every row weighs zero".into())),
            _ => Ok(mean),
        }
    }

    /// The margin of a base score.
    fn margin_of(self, base: f64) -> f64 {
        match self {
            // The base rate lies strictly between 0 and 1 (one class is refused): no clip.
            Loss::Logistic { .. } => crate::models::logit_clipped(base, 0.0),
            Loss::Squared => base,
        }
    }

    fn gradients(self, y: &[f64], weights: &[f64], margin: &[f64], gh: &mut [[f64; 2]]) {
        gh.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            let at = c * CHUNK;
            for (i, cell) in out.iter_mut().enumerate() {
                let (y, w, m) = (y[at + i], weights[at + i], margin[at + i]);
                *cell = match self {
                    Loss::Logistic { .. } => {
                        let p = sigmoid(m);
                        [(p - y) * w, (p * (1.0 - p)).max(1e-16) * w]
                    }
                    Loss::Squared => [(m - y) * w, w],
                };
            }
        });
    }
}

/// `f(i)` summed over `0..n`, chunk by chunk on both cores, the chunks' sums added in their
/// order: the same total on any number of threads.
fn chunked_sum(n: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let sums: Vec<f64> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| (c * CHUNK..n.min((c + 1) * CHUNK)).map(&f).sum())
        .collect();
    sums.iter().sum()
}

/// The logistic function in its plain form, not [`crate::models::sigmoid`]'s stable one: for a
/// negative margin the two differ in the last bit, and over hundreds of rounds that moves early
/// stopping and with it the grid's figures (docs/performance.md). The boosted models were
/// measured and tuned with this one; 1 / (1 + e^-m) neither overflows nor loses precision here
/// (a probability near 0 is as exact as one near 1).
fn sigmoid(m: f64) -> f64 {
    1.0 / (1.0 + (-m).exp())
}

/// The VAL rows early stopping watches, binned as FIT's, with their margins so far.
struct Watched<'a> {
    table: Table,
    y: &'a [f64],
    weights: Vec<f64>,
    /// The weights' sum.
    total: f64,
    margin: Vec<f64>,
    /// VAL's row numbers, `0..n`, for the walk down each tree.
    rows: Vec<u32>,
}

impl<'a> Watched<'a> {
    fn new(val: &TrainSet<'a>, fit: &Binned, base_margin: f64) -> Watched<'a> {
        let weights: Vec<f64> = (0..val.y.len()).map(|i| val.weight(i)).collect();
        Watched {
            table: Table::new(fit.bin_like(val.x)),
            y: val.y,
            total: weights.iter().sum(),
            weights,
            margin: vec![base_margin; val.y.len()],
            rows: (0..val.y.len() as u32).collect(),
        }
    }

    /// Adds a tree's leaves to the margins. A row goes left where its bin is at most the
    /// split's, that is where its value is below the split's threshold or missing, as hessboost
    /// predicts.
    fn add(&mut self, tree: &[GrownNode], value: impl Fn(&GrownNode) -> f32 + Sync) {
        let table = &self.table;
        self.margin
            .par_chunks_mut(CHUNK)
            .zip(self.rows.par_chunks(CHUNK))
            .for_each(|(margin, rows)| {
                table.leaves_of(tree, rows, |k, leaf| margin[k] += f64::from(value(leaf)));
            });
    }

    /// The watched metric, lower being better.
    fn score(&self, watch: Watch) -> f64 {
        let (y, w, margin) = (self.y, &self.weights, &self.margin);
        match watch {
            Watch::LogLoss => {
                let sum = chunked_sum(y.len(), |i| {
                    // The probability of the row's own label (labels are 0 or 1).
                    let p = sigmoid(if y[i] > 0.5 { margin[i] } else { -margin[i] });
                    -w[i] * p.clamp(1e-16, 1.0).ln()
                });
                sum / self.total
            }
            Watch::Rmse => {
                let sum = chunked_sum(y.len(), |i| w[i] * (margin[i] - y[i]).powi(2));
                (sum / self.total).sqrt()
            }
            Watch::AveragePrecision => {
                let labels: Vec<bool> = self.y.iter().map(|&y| y > 0.5).collect();
                -weighted_average_precision(&self.margin, &labels, w).unwrap_or(0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::binned::tests::matrix;
    use super::super::binned::Stored;
    use super::super::step_of;
    use super::*;

    #[test]
    fn rows_walking_side_by_side_reach_the_leaves_of_a_walk_alone() {
        // 37 rows: two blocks of walkers and a part; b is mostly one value, so stored sparse.
        let rows: Vec<[f64; 3]> = (0..37)
            .map(|i| {
                let b = if i % 9 == 0 { f64::from(i % 4) } else { 0.0 };
                [f64::from((i * 17) % 37), b, f64::from(i % 5)]
            })
            .collect();
        let x = matrix(&rows);
        let binned = Binned::new(&x, 256, 0.5);
        assert!(matches!(binned.layout[1], Stored::Sparse(_)));
        let fit = Table::new(binned);
        let gh: Vec<[f64; 2]> = (0..37)
            .map(|i| [f64::from((i * 7) % 5) - 2.0, 1.0])
            .collect();
        let boosting = Boosting {
            loss: Loss::Squared,
            watch: Watch::Rmse,
            max_rounds: 1,
            patience: None,
            learning_rate: 1.0,
            max_depth: 4,
            max_leaves: None,
            min_child_weight: 0.0,
            l2: 0.0,
            subsample: 1.0,
            colsample_bytree: 1.0,
            max_bin: 256,
        };
        let columns = Columns::new(&fit.binned, &[0, 1, 2]);
        let mut drawn: Vec<u32> = (0..37).collect();
        let (tree, _) = boosting.grow(&fit, &columns, &gh, &mut drawn, &mut Vec::new());
        assert!(tree.len() > 7, "a tree of depth 3 or more: {tree:?}");
        let all: Vec<u32> = (0..37).rev().collect();
        let mut seen = vec![None; 37];
        fit.leaves_of(&tree, &all, |k, leaf| seen[k] = Some(leaf.step()));
        for (k, &r) in all.iter().enumerate() {
            assert_eq!(
                seen[k],
                Some(step_of(&tree, &fit.binned, r as usize)),
                "row {r}"
            );
        }
    }
}

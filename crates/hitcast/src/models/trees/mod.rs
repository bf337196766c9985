//! Histogram trees grown here, for the forest ([`grow`]) and for boosting ([`boost`]), then
//! put into hessboost models ([`hessboost_trees`]), so prediction, TreeSHAP, storage and the
//! XGBoost export stay hessboost's.
//!
//! Why by hand: hessboost builds a node's histograms over every column it may split on, the
//! grid's 139, 114 of them one-hot genres that are almost all zero. Here the mostly-one-value
//! columns are stored sparse ([`Binned`]) and summed from the few rows that hold another value,
//! which took most of a forest's time and most of a booster's away.

mod binned;
pub(crate) mod boost;
pub(crate) mod grow;
pub(crate) mod hessboost_trees;
mod table;

pub(crate) use self::binned::{Binned, MAX_BINS};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One node of a grown tree, in hessboost's order: a node's children are `left` and
/// `left + 1`, and a leaf has `left == 0`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GrownNode {
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

    pub(crate) fn is_leaf(&self) -> bool {
        self.left == 0
    }

    /// The node's Newton step, `-G/H`.
    pub(crate) fn step(&self) -> f64 {
        self.step_l2(0.0)
    }

    /// The node's Newton step under an L2 penalty `l2` on leaf values, `-G/(H + l2)`.
    pub(crate) fn step_l2(&self, l2: f64) -> f64 {
        if self.hess + l2 > 0.0 {
            -self.grad / (self.hess + l2)
        } else {
            0.0
        }
    }
}

/// A grown tree's step for binned row `r`.
pub(crate) fn step_of(tree: &[GrownNode], binned: &Binned, r: usize) -> f64 {
    let mut node = &tree[0];
    while !node.is_leaf() {
        let left = binned.bin(node.feature as usize, r) <= node.bin;
        node = &tree[node.left as usize + usize::from(!left)];
    }
    node.step()
}

/// A node's best split so far.
struct BestSplit {
    gain: f64,
    feature: usize,
    bin: u8,
    /// The left side's sums.
    grad: f64,
    hess: f64,
}

/// A split must gain more than this (XGBoost's `kRtEps`).
const GAIN_EPS: f64 = 1e-6;

/// Puts into a sparse column's common bin `common` what the node's other bins do not hold.
fn fill_common(h: &mut [[f64; 2]], common: usize, node: &GrownNode) {
    let (mut g, mut w) = (node.grad, node.hess);
    for (b, cell) in h.iter().enumerate() {
        if b != common {
            g -= cell[0];
            w -= cell[1];
        }
    }
    h[common] = [g, w];
}

/// Replaces `best` by the best split of `node` on column `j`, whose histogram is `h` (one cell
/// per bin), where one gains more: `G_L²/(H_L + l2) + G_R²/(H_R + l2) - G²/(H + l2)`, with at
/// least `least` hessian on each side.
fn scan(
    h: &[[f64; 2]],
    j: usize,
    node: &GrownNode,
    least: f64,
    l2: f64,
    best: &mut Option<BestSplit>,
) {
    let parent = node.grad * node.grad / (node.hess + l2);
    let (mut gl, mut hl) = (0.0, 0.0);
    for (b, cell) in h[..h.len() - 1].iter().enumerate() {
        gl += cell[0];
        hl += cell[1];
        let (gr, hr) = (node.grad - gl, node.hess - hl);
        if hl < least || hr < least || hl + l2 <= 0.0 || hr + l2 <= 0.0 {
            continue;
        }
        let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent;
        if gain > GAIN_EPS && best.as_ref().is_none_or(|s| gain > s.gain) {
            *best = Some(BestSplit {
                gain,
                feature: j,
                bin: b as u8,
                grad: gl,
                hess: hl,
            });
        }
    }
}

/// The rows one tree draws: each of `rows` (ascending) with probability `share`.
pub(crate) fn draw_rows(rows: &[u32], share: f64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    if share >= 1.0 {
        return rows.to_vec();
    }
    // `rng.random::<f64>()` is the stream's next u64 shifted to 53 bits, times 2^-53: an exact
    // product, so `< share` is the integer test `(u >> 11) < ceil(share * 2^53)`. The u64s are
    // taken from the stream a block at a time (the same numbers in the same order, and the
    // stream ends where a draw a row left it), which spares a call and a check a row.
    let cut = (share * (1u64 << 53) as f64).ceil() as u64;
    let mut words = [0u64; 1024];
    // Every row is written and the count moves only for a drawn one: a branch on the draw
    // would be mispredicted at every fifth row.
    let mut drawn = vec![0; rows.len()];
    let mut n = 0;
    for block in rows.chunks(words.len()) {
        let words = &mut words[..block.len()];
        rng.fill(words);
        for (&r, &u) in block.iter().zip(words.iter()) {
            drawn[n] = r;
            n += usize::from((u >> 11) < cut);
        }
    }
    drawn.truncate(n);
    drawn
}

/// The random stream of tree `tree` of an ensemble grown with `seed`.
pub(crate) fn tree_rng(seed: u64, tree: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(tree);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_drawn_when_its_number_in_the_stream_is_below_the_share() {
        // More rows than a block of the draw, from a stream one u32 in (so the u64s straddle
        // the generator's blocks), and shares at and near the ends.
        let rows: Vec<u32> = (0..3000).map(|i| i * 3).collect();
        for share in [0.8, 0.5, 1e-12, 0.0, 1.0 - 1e-15] {
            let mut stream = tree_rng(7, 2);
            let mut rng = stream.clone();
            stream.random::<u32>();
            rng.random::<u32>();
            let expected: Vec<u32> = rows
                .iter()
                .copied()
                .filter(|_| stream.random::<f64>() < share)
                .collect();
            assert_eq!(draw_rows(&rows, share, &mut rng), expected, "share {share}");
            // The stream goes on from where a draw a row leaves it.
            assert_eq!(rng.random::<u64>(), stream.random::<u64>());
        }
        let drawn = draw_rows(&rows, 0.8, &mut tree_rng(7, 2));
        assert!((2300..2500).contains(&drawn.len()), "{}", drawn.len());
        assert_eq!(draw_rows(&rows, 1.0, &mut tree_rng(7, 2)), rows);
    }
}

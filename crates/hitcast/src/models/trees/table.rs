//! The booster's rows, laid out for their readers ([`Table`]), and the columns one tree samples
//! ([`Columns`]): a node's histogram sums, the partition of its rows, and a walk down a tree.

use super::binned::Stored;
use super::{fill_common, Binned, GrownNode};

/// A node's rows hold at least this many before both cores sum its histogram, a half each.
const PARALLEL_ROWS: usize = 8192;

/// Rows walking down a tree side by side.
pub(super) const WALKERS: usize = 16;

/// Binned rows, laid out for their readers: a node summing a histogram reads a row's dense
/// bins from one place (they are stored row by row, a few bytes a row); a partition reads one
/// column over a node's ascending rows, and a walk down a tree one column per level over
/// ascending rows (every column is stored whole, column by column).
pub(super) struct Table {
    pub(super) binned: Binned,
    pub(super) n_dense: usize,
    pub(super) dense_rows: Vec<u8>,
    pub(super) columns: Vec<Vec<u8>>,
}

impl Table {
    pub(super) fn new(binned: Binned) -> Table {
        Table {
            n_dense: binned.dense.len(),
            dense_rows: binned.dense_rows(),
            columns: binned.columns(),
            binned,
        }
    }

    /// Row `r`'s bin in column `j`.
    pub(super) fn bin(&self, j: usize, r: usize) -> u8 {
        self.columns[j][r]
    }

    /// Calls `found(k, leaf)` with the leaf of `tree` that row `rows[k]` falls in. The rows
    /// walk down side by side, [`WALKERS`] at a time: one row's walk is a chain of dependent
    /// loads, and the chains of a block overlap.
    pub(super) fn leaves_of<'t>(
        &self,
        tree: &'t [GrownNode],
        rows: &[u32],
        mut found: impl FnMut(usize, &'t GrownNode),
    ) {
        for (b, block) in rows.chunks(WALKERS).enumerate() {
            let mut at = [0usize; WALKERS];
            let mut walking = true;
            while walking {
                walking = false;
                for (node, &r) in at.iter_mut().zip(block) {
                    let n = &tree[*node];
                    if !n.is_leaf() {
                        let right = self.bin(n.feature as usize, r as usize) > n.bin;
                        *node = n.left as usize + usize::from(right);
                        walking = true;
                    }
                }
            }
            for (k, &node) in at[..block.len()].iter().enumerate() {
                found(b * WALKERS + k, &tree[node]);
            }
        }
    }

    /// `rows`' gradients and hessians summed into `hist` (zero), on both cores when they are
    /// many.
    pub(super) fn sum_rows(
        &self,
        columns: &Columns,
        gh: &[[f64; 2]],
        rows: &[u32],
        hist: &mut [[f64; 2]],
    ) {
        if rows.len() < PARALLEL_ROWS {
            self.add_rows(columns, gh, rows, hist);
            return;
        }
        let mut other = vec![[0.0; 2]; hist.len()];
        let (a, b) = rows.split_at(rows.len() / 2);
        rayon::join(
            || self.add_rows(columns, gh, a, hist),
            || self.add_rows(columns, gh, b, &mut other),
        );
        for (x, y) in hist.iter_mut().zip(other.iter()) {
            x[0] += y[0];
            x[1] += y[1];
        }
    }

    pub(super) fn add_rows(
        &self,
        columns: &Columns,
        gh: &[[f64; 2]],
        rows: &[u32],
        hist: &mut [[f64; 2]],
    ) {
        let nd = self.n_dense;
        for &r in rows {
            let r = r as usize;
            let [g, h] = gh[r];
            let bins = &self.dense_rows[r * nd..(r + 1) * nd];
            for &(d, offset) in &columns.dense {
                let cell = &mut hist[offset as usize + usize::from(bins[d as usize])];
                cell[0] += g;
                cell[1] += h;
            }
            // An unsampled column's values go to the cells past the histogram's, unread: a
            // branch on it would be mispredicted half the time.
            for &(s, b) in self.binned.rest_of(r) {
                let cell = &mut hist[columns.sparse[usize::from(s)] as usize + usize::from(b)];
                cell[0] += g;
                cell[1] += h;
            }
        }
    }

    /// Moves the rows going left (bin `bin` or below in column `j`) to the front, both sides in
    /// their order, and returns how many there are.
    pub(super) fn partition(&self, rows: &mut [u32], j: usize, bin: u8, room: &mut [u32]) -> usize {
        let (mut n_left, mut n_right) = (0, 0);
        // Both sides are written and one count moves: a branch on the side would be
        // mispredicted as often as the split is even.
        let column = &self.columns[j];
        for i in 0..rows.len() {
            let r = rows[i];
            let left = column[r as usize] <= bin;
            rows[n_left] = r;
            room[n_right] = r;
            n_left += usize::from(left);
            n_right += usize::from(!left);
        }
        rows[n_left..].copy_from_slice(&room[..n_right]);
        n_left
    }
}

/// A tree's sampled column: where its bins are in a histogram.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub(super) feature: usize,
    pub(super) bins: usize,
    pub(super) offset: usize,
    /// A sparse column's common bin.
    pub(super) common: Option<u8>,
}

/// The columns one tree samples, and their places in its histograms: each column's bins, one
/// after the other.
pub(super) struct Columns {
    pub(super) slots: Vec<Slot>,
    /// (dense column, histogram offset) of the sampled dense columns.
    pub(super) dense: Vec<(u32, u32)>,
    /// Per sparse column, its histogram offset; an unsampled one's is `len`, the first of
    /// the spare cells.
    pub(super) sparse: Vec<u32>,
    /// Cells in a histogram.
    pub(super) len: usize,
    /// Cells in a histogram and past it: room for an unsampled sparse column's bins.
    pub(super) cells: usize,
}

impl Columns {
    /// `features` (ascending) of `binned`.
    pub(super) fn new(binned: &Binned, features: &[u32]) -> Columns {
        let mut columns = Columns {
            slots: Vec::with_capacity(features.len()),
            dense: Vec::new(),
            sparse: Vec::new(),
            len: 0,
            cells: 0,
        };
        let mut sparse = vec![None; binned.common.len()];
        for &j in features {
            let j = j as usize;
            let (bins, offset) = (binned.bins(j), columns.len);
            let common = match binned.layout[j] {
                Stored::Dense(d) => {
                    columns.dense.push((d, offset as u32));
                    None
                }
                Stored::Sparse(s) => {
                    sparse[usize::from(s)] = Some(offset as u32);
                    Some(binned.common[usize::from(s)])
                }
            };
            columns.slots.push(Slot {
                feature: j,
                bins,
                offset,
                common,
            });
            columns.len += bins;
        }
        let mut spare = 0;
        columns.sparse = sparse
            .iter()
            .zip(&binned.sparse_bins())
            .map(|(at, &bins)| {
                at.unwrap_or_else(|| {
                    spare = spare.max(bins);
                    columns.len as u32
                })
            })
            .collect();
        columns.cells = columns.len + spare;
        columns
    }

    /// Fills the sparse columns' common bins of `node`'s histogram.
    pub(super) fn complete(&self, hist: &mut [[f64; 2]], node: &GrownNode) {
        for slot in &self.slots {
            if let Some(common) = slot.common {
                let h = &mut hist[slot.offset..slot.offset + slot.bins];
                fill_common(h, usize::from(common), node);
            }
        }
    }
}

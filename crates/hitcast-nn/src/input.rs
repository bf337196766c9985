//! The first layer's input, split for speed: columns where one value covers most rows (a genre
//! indicator, standardised or not, takes its "not this genre" value on 99% of tracks) are kept
//! as that common value plus the few rows that differ.
//!
//! The first layer is most of a step's arithmetic (139 inputs x 128 units against 128 x 64
//! after it), and 114 of those inputs are genre columns. With the split, `x · W` becomes the
//! dense columns' product, a constant row (`common · W`) and a handful of row updates, and its
//! gradient the same three parts: the same function and the same gradients, only summed in
//! another order. No sparse-matrix crate offers this (the common value is not zero, and the
//! dense part still wants a matrix kernel: see `matmul`), hence by hand.

use crate::matmul::mat_mul;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2, Slice};

/// A column is kept sparse when its most common value covers at least this share of rows.
pub(crate) const SPARSE_SHARE: f64 = 0.9;

/// Which columns are split, and their common values. The first layer's weight rows are held in
/// [`ColumnSplit::order`] during training: dense columns first, then the sparse ones.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnSplit {
    /// Original column indices: the dense ones, then the sparse ones.
    order: Vec<usize>,
    n_dense: usize,
    /// The common value of each sparse column, in `order`.
    common: Vec<f32>,
}

/// Rows in the split form: the dense columns, and per row the sparse columns that differ from
/// their common value (`(column among the sparse ones, value - common)`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SplitRows {
    pub(crate) dense: Array2<f32>,
    starts: Vec<usize>,
    entries: Vec<(u32, f32)>,
}

impl ColumnSplit {
    /// Finds the columns of `x` where one value covers at least `share` of the rows.
    pub(crate) fn detect(x: ArrayView2<f32>, share: f64) -> ColumnSplit {
        let n = x.nrows();
        let (mut dense, mut sparse, mut common) = (Vec::new(), Vec::new(), Vec::new());
        for (j, column) in x.axis_iter(Axis(1)).enumerate() {
            match most_common(column.iter().copied()) {
                Some((value, count)) if n > 0 && count as f64 >= share * n as f64 => {
                    sparse.push(j);
                    common.push(value);
                }
                _ => dense.push(j),
            }
        }
        let n_dense = dense.len();
        dense.extend(sparse);
        ColumnSplit {
            order: dense,
            n_dense,
            common,
        }
    }

    /// Columns in total.
    fn width(&self) -> usize {
        self.order.len()
    }

    /// `rows` of `x` (all of them when `None`) in the split form.
    pub(crate) fn encode(&self, x: ArrayView2<f32>, rows: Option<&[usize]>) -> SplitRows {
        let n = rows.map_or(x.nrows(), <[usize]>::len);
        let mut dense = Vec::with_capacity(n * self.n_dense);
        let mut starts = Vec::with_capacity(n + 1);
        let mut entries = Vec::new();
        starts.push(0);
        let mut push = |row: ndarray::ArrayView1<f32>| {
            dense.extend(self.order[..self.n_dense].iter().map(|&j| row[j]));
            for (k, (&j, &c)) in self.order[self.n_dense..]
                .iter()
                .zip(&self.common)
                .enumerate()
            {
                let v = row[j];
                // Bitwise: -0.0 and 0.0 are the same number here, but a NaN never reaches
                // training (rows are checked finite first).
                if v != c {
                    entries.push((k as u32, v - c));
                }
            }
            starts.push(entries.len());
        };
        match rows {
            Some(rows) => rows.iter().for_each(|&i| push(x.row(i))),
            None => x.rows().into_iter().for_each(&mut push),
        }
        SplitRows {
            dense: Array2::from_shape_vec((n, self.n_dense), dense)
                .unwrap_or_else(|_| unreachable!("n rows of n_dense values")),
            starts,
            entries,
        }
    }

    /// The first layer's weights (inputs x units) in training order.
    pub(crate) fn to_training(&self, w: &Array2<f32>) -> Array2<f32> {
        w.select(Axis(0), &self.order)
    }

    /// The first layer's weights back in the columns' own order.
    pub(crate) fn to_original(&self, w: &Array2<f32>) -> Array2<f32> {
        let mut out = Array2::zeros(w.raw_dim());
        for (k, &j) in self.order.iter().enumerate() {
            out.row_mut(j).assign(&w.row(k));
        }
        out
    }

    /// `x · w + b` for rows in split form, `w` in training order.
    pub(crate) fn forward(&self, x: &SplitRows, w: &Array2<f32>, b: &Array1<f32>) -> Array2<f32> {
        debug_assert_eq!(w.nrows(), self.width());
        let (w_dense, w_sparse) = w.view().split_at(Axis(0), self.n_dense);
        // The sparse columns at their common values add the same row to every output.
        let mut constant = b.clone();
        for (row, &c) in w_sparse.rows().into_iter().zip(&self.common) {
            constant.scaled_add(c, &row);
        }
        let mut z = affine(x.dense.view(), &w_dense, &constant);
        // On slices rather than ndarray's `scaled_add`, whose per-call setup cost more than
        // the few additions of a row (the same sums, in the same order).
        let units = z.ncols();
        let w_sparse = w_sparse.as_standard_layout();
        let (Some(out), Some(w_rows)) = (z.as_slice_mut(), w_sparse.as_slice()) else {
            unreachable!("fresh arrays and the rows of one are contiguous")
        };
        for (r, out) in out.chunks_exact_mut(units).enumerate() {
            for &(k, delta) in x.row_entries(r) {
                let w_row = &w_rows[k as usize * units..][..units];
                out.iter_mut()
                    .zip(w_row)
                    .for_each(|(o, &w)| *o += delta * w);
            }
        }
        z
    }

    /// The gradients of `w` (training order) and `b` given `g`, the gradient of the outputs.
    pub(crate) fn backward(&self, x: &SplitRows, g: &Array2<f32>) -> (Array2<f32>, Array1<f32>) {
        let db = g.sum_axis(Axis(0));
        let mut dw = Array2::zeros((self.width(), g.ncols()));
        let (mut dense, mut sparse) = dw.view_mut().split_at(Axis(0), self.n_dense);
        dense.assign(&product(x.dense.t(), g.view()));
        for (mut row, &c) in sparse.rows_mut().into_iter().zip(&self.common) {
            row.scaled_add(c, &db);
        }
        for (r, grad) in g.rows().into_iter().enumerate() {
            for &(k, delta) in x.row_entries(r) {
                sparse.row_mut(k as usize).scaled_add(delta, &grad);
            }
        }
        (dw, db)
    }
}

impl SplitRows {
    pub(crate) fn n_rows(&self) -> usize {
        self.dense.nrows()
    }

    fn row_entries(&self, r: usize) -> &[(u32, f32)] {
        &self.entries[self.starts[r]..self.starts[r + 1]]
    }

    /// Rows `rows` as a new set, reusing `buffer`'s allocations (one training batch).
    pub(crate) fn gather(&self, rows: &[usize], buffer: SplitRows) -> SplitRows {
        let width = self.dense.ncols();
        let (mut dense, mut starts, mut entries) = (
            buffer.dense.into_raw_vec_and_offset().0,
            buffer.starts,
            buffer.entries,
        );
        dense.clear();
        starts.clear();
        entries.clear();
        starts.push(0);
        for &i in rows {
            dense.extend(self.dense.row(i).iter());
            entries.extend_from_slice(self.row_entries(i));
            starts.push(entries.len());
        }
        SplitRows {
            dense: Array2::from_shape_vec((rows.len(), width), dense)
                .unwrap_or_else(|_| unreachable!("whole rows of the dense width")),
            starts,
            entries,
        }
    }

    /// Rows `start..end`, for chunked prediction.
    pub(crate) fn slice(&self, start: usize, end: usize) -> SplitRows {
        let (from, to) = (self.starts[start], self.starts[end]);
        SplitRows {
            dense: self
                .dense
                .slice_axis(Axis(0), Slice::from(start..end))
                .to_owned(),
            starts: self.starts[start..=end].iter().map(|s| s - from).collect(),
            entries: self.entries[from..to].to_vec(),
        }
    }

    /// An empty set, as the first batch buffer.
    pub(crate) fn empty() -> SplitRows {
        SplitRows {
            dense: Array2::zeros((0, 0)),
            starts: vec![0],
            entries: Vec::new(),
        }
    }
}

/// `a · b`, row-major. ndarray's `dot` gives a column-major product when both operands look
/// column-major (a one-column gradient and a transposed weight matrix do), and every
/// element-wise step after it then walks memory with a stride: that took a third of a
/// training step.
pub(crate) fn product(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    mat_mul(a, b, &mut c, false);
    c
}

/// `x · w + b` (b added to every row), row-major.
pub(crate) fn affine<S: Data<Elem = f32>>(
    x: ArrayView2<f32>,
    w: &ArrayBase<S, Ix2>,
    b: &Array1<f32>,
) -> Array2<f32> {
    // Each row starts as the bias, and the product adds to it.
    let mut z = b
        .broadcast((x.nrows(), w.ncols()))
        .unwrap_or_else(|| unreachable!("a bias per output column"))
        .to_owned();
    mat_mul(x, w.view(), &mut z, true);
    z
}

/// The most common value of a column and how often it occurs (by exact equality).
fn most_common(values: impl Iterator<Item = f32>) -> Option<(f32, usize)> {
    let mut sorted: Vec<f32> = values.collect();
    sorted.sort_unstable_by(f32::total_cmp);
    let mut best: Option<(f32, usize)> = None;
    for run in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, count)| run.len() > count) {
            best = Some((run[0], run.len()));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ndarray::array;

    /// Two dense columns around a one-hot column and a mostly-constant standardised one.
    fn rows() -> Array2<f32> {
        array![
            [0.5, 0.0, 1.0, -0.1],
            [1.5, 0.0, 2.0, -0.1],
            [-0.3, 1.0, 0.5, -0.1],
            [0.2, 0.0, -1.0, 9.9],
            [2.0, 0.0, 0.0, -0.1]
        ]
    }

    fn close<D: ndarray::Dimension>(
        a: &ndarray::Array<f32, D>,
        b: &ndarray::Array<f32, D>,
        tolerance: f32,
    ) -> bool {
        a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn finds_the_columns_one_value_dominates() {
        let split = ColumnSplit::detect(rows().view(), 0.8);
        assert_eq!(split.order, [0, 2, 1, 3]);
        assert_eq!(split.n_dense, 2);
        assert_eq!(split.common, [0.0, -0.1]);
        assert_eq!(ColumnSplit::detect(rows().view(), 0.9).n_dense, 4);
    }

    #[test]
    fn the_split_product_and_its_gradients_equal_the_dense_ones() {
        let x = rows();
        let split = ColumnSplit::detect(x.view(), 0.8);
        let w = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32 * 0.1 - 0.4);
        let b = array![0.1f32, -0.2, 0.3];
        let encoded = split.encode(x.view(), None);
        let z = split.forward(&encoded, &split.to_training(&w), &b);
        let dense = x.dot(&w) + &b;
        assert!(close(&z, &dense, 1e-5), "{z} vs {dense}");

        let g = Array2::from_shape_fn((5, 3), |(i, j)| (i as f32 - j as f32) * 0.25);
        let (dw, db) = split.backward(&encoded, &g);
        assert!(close(&split.to_original(&dw), &x.t().dot(&g), 1e-5));
        assert!(close(&db, &g.sum_axis(Axis(0)), 1e-6));
        assert_eq!(split.to_original(&split.to_training(&w)), w);
    }

    #[test]
    fn a_gathered_batch_and_a_slice_hold_the_same_rows() {
        let x = rows();
        let split = ColumnSplit::detect(x.view(), 0.8);
        let all = split.encode(x.view(), None);
        let batch = all.gather(&[3, 2], SplitRows::empty());
        assert_eq!(batch, split.encode(x.view(), Some(&[3, 2])));
        assert_eq!(all.slice(2, 4), split.encode(x.view(), Some(&[2, 3])));
        assert_eq!(batch.n_rows(), 2);
    }
}

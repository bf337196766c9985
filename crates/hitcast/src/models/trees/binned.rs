//! Feature values as one-byte bins, the input of every tree grown here.
//!
//! A column's bins start at its quantiles. A column that is almost all one value (the 114
//! one-hot genres, a few flags) is stored sparse: only the rows that hold another value, so a
//! node sums it from those few rows instead of from all of its rows.

use crate::features::FeatureMatrix;

/// The most bins a column gets: a bin is one byte.
pub(crate) const MAX_BINS: usize = 256;

/// Feature values as bins, at most [`MAX_BINS`] per column.
pub(crate) struct Binned {
    /// Per column, the ascending values that start its bins after the first: a value `x` is in
    /// bin `b` when `cuts[b - 1] <= x < cuts[b]`, and NaN is in bin 0 (hessboost sends NaN to
    /// the left, as every split here does with bin 0).
    cuts: Vec<Vec<f32>>,
    /// Where each column's bins are stored.
    pub(super) layout: Vec<Stored>,
    /// The dense columns' bins, column by column.
    pub(super) dense: Vec<Vec<u8>>,
    /// The sparse columns' common bin, column by column.
    pub(super) common: Vec<u8>,
    /// Row `r`'s values outside their sparse column's common bin are `rest[at[r]..at[r + 1]]`,
    /// as (sparse column, bin).
    pub(super) at: Vec<u32>,
    pub(super) rest: Vec<(u16, u8)>,
}

/// Where a column's bins are: the `i`-th of the dense columns, or the `i`-th sparse one (its
/// common bin, and its other values in `rest`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Stored {
    Dense(u32),
    Sparse(u16),
}

impl Binned {
    /// Bins every column of `x` into at most `max_bin` bins (2 to [`MAX_BINS`]) by its quantiles.
    /// A column whose common bin holds more than `1 - sampled_share` of the rows is stored
    /// sparse: a node then visits its other values once for all its sampled sparse columns,
    /// which costs less than a pass over the node's rows for each column it samples.
    pub(crate) fn new(x: &FeatureMatrix, max_bin: usize, sampled_share: f64) -> Binned {
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
        let mut all_cuts = Vec::with_capacity(p);
        let mut layout = Vec::with_capacity(p);
        let mut common = Vec::new();
        let mut all_bins = Vec::with_capacity(p);
        let (mut n_dense, mut n_sparse) = (0u32, 0u16);
        for (cuts, bins) in columns {
            let mut counts = [0usize; MAX_BINS];
            for &b in &bins {
                counts[usize::from(b)] += 1;
            }
            let (most_bin, &most) = counts
                .iter()
                .enumerate()
                .max_by_key(|&(b, c)| (c, std::cmp::Reverse(b)))
                .unwrap_or((0, &0));
            let sparse_ok = n_sparse < u16::MAX;
            if sparse_ok && n > 0 && (most as f64) > (1.0 - sampled_share) * n as f64 {
                layout.push(Stored::Sparse(n_sparse));
                common.push(most_bin as u8);
                n_sparse += 1;
            } else {
                layout.push(Stored::Dense(n_dense));
                n_dense += 1;
            }
            all_cuts.push(cuts);
            all_bins.push(bins);
        }
        Binned::assemble(all_cuts, layout, common, all_bins)
    }

    /// The rows of `x` (with as many columns) binned by these cuts, in this layout: VAL rows as
    /// FIT's were binned, so a tree walks them by bins.
    pub(crate) fn bin_like(&self, x: &FeatureMatrix) -> Binned {
        use rayon::prelude::*;
        let (n, p) = (x.n_rows(), x.n_cols());
        let data = x.as_slice();
        let bins: Vec<Vec<u8>> = (0..p)
            .into_par_iter()
            .map(|j| {
                (0..n)
                    .map(|i| bin_of(&self.cuts[j], data[i * p + j] as f32))
                    .collect()
            })
            .collect();
        Binned::assemble(
            self.cuts.clone(),
            self.layout.clone(),
            self.common.clone(),
            bins,
        )
    }

    /// Every column's bins (one per row) stored as `layout` says.
    fn assemble(
        cuts: Vec<Vec<f32>>,
        layout: Vec<Stored>,
        common: Vec<u8>,
        bins: Vec<Vec<u8>>,
    ) -> Binned {
        let n = bins.first().map_or(0, Vec::len);
        let mut dense = Vec::new();
        let mut sparse = Vec::new();
        for (column, bins) in layout.iter().zip(bins) {
            match column {
                Stored::Dense(_) => dense.push(bins),
                Stored::Sparse(_) => sparse.push(bins),
            }
        }
        let mut at = Vec::with_capacity(n + 1);
        let mut rest = Vec::new();
        at.push(0);
        for r in 0..n {
            for (k, bins) in sparse.iter().enumerate() {
                if bins[r] != common[k] {
                    rest.push((k as u16, bins[r]));
                }
            }
            at.push(rest.len() as u32);
        }
        Binned {
            cuts,
            layout,
            dense,
            common,
            at,
            rest,
        }
    }

    pub(crate) fn n_cols(&self) -> usize {
        self.layout.len()
    }

    /// The threshold of a split after bin `bin` of column `j`: a value goes left when below it.
    pub(super) fn threshold(&self, j: usize, bin: u8) -> f32 {
        self.cuts[j][usize::from(bin)]
    }

    pub(super) fn bins(&self, j: usize) -> usize {
        self.cuts[j].len() + 1
    }

    /// The sparse columns' numbers of bins, in their order.
    pub(super) fn sparse_bins(&self) -> Vec<usize> {
        (0..self.layout.len())
            .filter(|&j| matches!(self.layout[j], Stored::Sparse(_)))
            .map(|j| self.bins(j))
            .collect()
    }

    /// Row `r`'s bin in column `j`.
    pub(super) fn bin(&self, j: usize, r: usize) -> u8 {
        match self.layout[j] {
            Stored::Dense(d) => self.dense[d as usize][r],
            Stored::Sparse(s) => self
                .rest_of(r)
                .iter()
                .find(|&&(k, _)| k == s)
                .map_or(self.common[usize::from(s)], |&(_, b)| b),
        }
    }

    /// Row `r`'s values outside their sparse column's common bin, as (sparse column, bin).
    pub(super) fn rest_of(&self, r: usize) -> &[(u16, u8)] {
        &self.rest[self.at[r] as usize..self.at[r + 1] as usize]
    }

    /// The dense columns' bins row by row (as many per row as there are dense columns), for a
    /// reader of a row's dense bins.
    pub(super) fn dense_rows(&self) -> Vec<u8> {
        let (n, nd) = (self.at.len() - 1, self.dense.len());
        let mut rows = vec![0u8; n * nd];
        for (d, bins) in self.dense.iter().enumerate() {
            for (r, &b) in bins.iter().enumerate() {
                rows[r * nd + d] = b;
            }
        }
        rows
    }

    /// Every column's bins, column by column, the sparse ones expanded, for a reader of one
    /// column over many rows.
    pub(super) fn columns(&self) -> Vec<Vec<u8>> {
        let n = self.at.len() - 1;
        let mut sparse: Vec<Vec<u8>> = self.common.iter().map(|&c| vec![c; n]).collect();
        for (r, span) in self.at.windows(2).enumerate() {
            for &(s, b) in &self.rest[span[0] as usize..span[1] as usize] {
                sparse[usize::from(s)][r] = b;
            }
        }
        let mut sparse = sparse.into_iter();
        self.layout
            .iter()
            .map(|column| match column {
                Stored::Dense(d) => self.dense[*d as usize].clone(),
                Stored::Sparse(_) => sparse.next().unwrap_or_default(),
            })
            .collect()
    }
}

/// Bin starts of one column: every distinct value after the first when there are at most
/// `max_bin`, else bins of about equal counts, greedily: a bin closes once it holds its share
/// of the rows not yet in a closed bin (those rows over the bins left). A value that holds many
/// rows (the zeros of a genre column, and of SMOTE's blends of one) so takes a bin alone, and
/// the bins left share the other values by their counts. (Cutting at every `k/max_bin` of the
/// rows instead gives the bins after such a value to the next few distinct values, 0.0001,
/// 0.0002, ..., and none to the blends' upper range; measured in docs/performance.md.)
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
    let mut cuts = Vec::with_capacity(max_bin - 1);
    let (mut left, mut in_bin) = (sorted.len() as f64, 0usize);
    for &(v, count) in &distinct {
        let bins_left = (max_bin - cuts.len()) as f64;
        if in_bin > 0 && cuts.len() < max_bin - 1 && in_bin as f64 >= left / bins_left {
            cuts.push(v);
            left -= in_bin as f64;
            in_bin = 0;
        }
        in_bin += count;
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Rows of three columns a, b and c.
    pub(in crate::models::trees) fn matrix(rows: &[[f64; 3]]) -> FeatureMatrix {
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
        // A heavy value takes one bin alone; the other three share the ten other values by
        // count: 1-4 (4 >= 10/3 rows), 5-7 (3 >= 6/2), 8-10.
        let mut heavy = vec![0.0f32; 90];
        heavy.extend((1..=10).map(|i| i as f32));
        assert_eq!(column_cuts(&heavy, 4), vec![1.0, 5.0, 8.0]);
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
    fn rows_binned_like_others_take_their_cuts_and_layout() {
        let rows: Vec<[f64; 3]> = (0..200)
            .map(|i| {
                [
                    f64::from(i),
                    f64::from(u8::from(i % 20 == 0)),
                    f64::from(i % 7),
                ]
            })
            .collect();
        let fit = Binned::new(&matrix(&rows), 8, 1.0 / 3.0);
        // The same rows come back in the same bins; other rows in the bins of their values.
        let same = fit.bin_like(&matrix(&rows));
        let others = fit.bin_like(&matrix(&[[-5.0, 1.0, 6.5], [1e9, 0.0, f64::NAN]]));
        assert_eq!(same.layout, fit.layout);
        for (r, _) in rows.iter().enumerate() {
            for j in 0..3 {
                assert_eq!(same.bin(j, r), fit.bin(j, r));
            }
        }
        assert_eq!([0, 1, 2].map(|j| others.bin(j, 0)), [0, 1, 6]);
        assert_eq!(others.bin(0, 1), 7);
        assert_eq!(others.bin(2, 1), 0);
        // Row-wise dense bins and whole columns read the same bins.
        let columns = fit.columns();
        let dense = fit.dense_rows();
        for r in 0..rows.len() {
            for (j, column) in columns.iter().enumerate() {
                assert_eq!(column[r], fit.bin(j, r));
            }
            assert_eq!(
                [dense[2 * r], dense[2 * r + 1]],
                [fit.bin(0, r), fit.bin(2, r)]
            );
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
        assert_eq!(binned.layout[0], Stored::Dense(0));
        assert_eq!(binned.layout[1], Stored::Sparse(0));
        assert_eq!(binned.layout[2], Stored::Sparse(1));
        assert_eq!(binned.rest.len(), 10);
        for (r, row) in rows.iter().enumerate() {
            assert_eq!(binned.bin(1, r), row[1] as u8);
            assert_eq!(binned.bin(2, r), 0);
        }
    }
}

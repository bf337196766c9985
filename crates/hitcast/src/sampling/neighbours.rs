//! Exact k-nearest neighbours for SMOTE and ADASYN.
//!
//! ADASYN asks, for each of ~1,500 minority rows, for its neighbours among all ~58,000 FIT rows
//! in 139 dimensions. Trees do not prune in that many dimensions, and a row-by-row scan is slow
//! (docs/performance.md). Here a block of queries is screened against the pool as one matrix product
//! (`|a - b|² = |a|² + |b|² - 2 a·b`, matrixmultiply's kernel), and the few best candidates are
//! measured again exactly, so the answer is the scan's: the k smallest exact distances, ties
//! to the lower row index.
//!
//! 114 of the 139 columns are one-hot genres, almost all zero. The product runs over the dense
//! columns only; each rare 0/1 column adds its share (1 where both rows hold a 1) from a list of
//! the pool rows that hold it, a few hundred additions per query instead of a pass over the pool.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, Slice};
use rayon::prelude::*;

use crate::features::FeatureMatrix;

/// Queries screened together: one product of this many rows against the pool, small enough
/// to stay in cache while it is screened (docs/performance.md).
const BLOCK: usize = 32;

/// Candidates kept per query from the screen and measured exactly: the screen's rounding
/// (about 1e-12 of a distance) cannot move a true neighbour this far down.
const EXTRA: usize = 8;

/// A 0/1 column is taken out of the product when at most this share of rows holds a 1: below
/// it the list of holders costs less than its column's pass through the kernel.
const SPARSE_SHARE: f64 = 1.0 / 16.0;

/// For each row in `queries`, the `k` nearest rows of `pool` by Euclidean distance (ties by row
/// index), skipping the query row itself when `exclude_self`.
pub(super) fn nearest(
    x: &FeatureMatrix,
    queries: &[usize],
    pool: &[usize],
    k: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    let (dense, sparse) = split_columns(x, queries, pool);
    let gather = |rows: &[usize]| -> Array2<f64> {
        let data = rows
            .iter()
            .flat_map(|&i| {
                let row = x.row(i);
                dense.iter().map(move |&c| row[c])
            })
            .collect();
        Array2::from_shape_vec((rows.len(), dense.len()), data)
            .unwrap_or_else(|_| unreachable!("whole rows of the dense width"))
    };
    let pool_x = gather(pool);
    let pool_norms: Vec<f64> = pool
        .iter()
        .map(|&i| x.row(i).iter().map(|v| v * v).sum())
        .collect();
    // For each sparse column, the pool positions holding a 1.
    let mut holders = vec![Vec::new(); sparse.len()];
    for (p, &i) in pool.iter().enumerate() {
        let row = x.row(i);
        for (held, &c) in holders.iter_mut().zip(&sparse) {
            if row[c] == 1.0 {
                held.push(p);
            }
        }
    }
    // Each thread's products, written over block after block: the product overwrites them
    // whole (beta 0), and zeroing 15 MB a block cost as much as the screen's filter.
    let blocks: Vec<Vec<Vec<usize>>> = queries
        .par_chunks(BLOCK)
        .map_init(
            || Array2::zeros((BLOCK, pool.len())),
            |products, block| {
                let query_x = gather(block);
                let mut products = products.slice_axis_mut(Axis(0), Slice::from(..block.len()));
                general_mat_mul(1.0, &query_x, &pool_x.t(), 0.0, &mut products);
                for (&q, mut dots) in block.iter().zip(products.rows_mut()) {
                    let row = x.row(q);
                    for (&c, held) in sparse.iter().zip(&holders) {
                        if row[c] == 1.0 {
                            for &p in held {
                                dots[p] += 1.0;
                            }
                        }
                    }
                }
                let q_norms: Vec<f64> = block
                    .iter()
                    .map(|&q| x.row(q).iter().map(|v| v * v).sum())
                    .collect();
                let screened = screen(
                    products.view(),
                    &q_norms,
                    &pool_norms,
                    block,
                    pool,
                    k + EXTRA,
                    exclude_self,
                );
                block
                    .iter()
                    .zip(screened)
                    .map(|(&q, candidates)| exact_top(x, q, &candidates, k))
                    .collect::<Vec<_>>()
            },
        )
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The columns the product runs over, and the rare 0/1 columns added from lists instead: a
/// column is sparse when every query and pool value in it is 0 or 1 and few are 1.
fn split_columns(x: &FeatureMatrix, queries: &[usize], pool: &[usize]) -> (Vec<usize>, Vec<usize>) {
    // One pass over the rows (row-major), counting each column's ones and non-0/1 values.
    let mut ones = vec![0usize; x.n_cols()];
    let mut other = vec![false; x.n_cols()];
    for &i in queries.iter().chain(pool) {
        for ((v, ones), other) in x.row(i).iter().zip(&mut ones).zip(&mut other) {
            if *v == 1.0 {
                *ones += 1;
            } else if *v != 0.0 {
                *other = true;
            }
        }
    }
    let n = (queries.len() + pool.len()) as f64;
    (0..x.n_cols()).partition(|&c| other[c] || ones[c] as f64 > SPARSE_SHARE * n)
}

/// Per query of the block, the `keep` pool rows with the smallest screened distance.
fn screen(
    products: ArrayView2<f64>,
    q_norms: &[f64],
    pool_norms: &[f64],
    block: &[usize],
    pool: &[usize],
    keep: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    block
        .iter()
        .zip(products.rows())
        .zip(q_norms)
        .map(|((&q, dots), &q_norm)| {
            let mut best = Best::new(keep);
            for ((&j, &dot), &p_norm) in pool.iter().zip(dots).zip(pool_norms) {
                // Most of the pool is farther than the worst kept: that test stays here, in
                // the loop, and only the few nearer rows are offered.
                let d = q_norm + p_norm - 2.0 * dot;
                if d <= best.bound() && !(exclude_self && j == q) {
                    best.offer(d, j);
                }
            }
            best.rows()
        })
        .collect()
}

/// The `k` of `candidates` nearest to row `q`, by exact distance.
fn exact_top(x: &FeatureMatrix, q: usize, candidates: &[usize], k: usize) -> Vec<usize> {
    let a = x.row(q);
    let mut best = Best::new(k);
    for &j in candidates {
        let d: f64 = a.iter().zip(x.row(j)).map(|(u, v)| (u - v) * (u - v)).sum();
        best.offer(d, j);
    }
    best.rows()
}

/// The smallest (distance, row) pairs seen, sorted, ties to the lower row.
struct Best {
    k: usize,
    pairs: Vec<(f64, usize)>,
}

impl Best {
    fn new(k: usize) -> Best {
        Best {
            k,
            pairs: Vec::with_capacity(k + 1),
        }
    }

    /// The distance above which an offer cannot be kept.
    #[inline]
    fn bound(&self) -> f64 {
        if self.pairs.len() == self.k {
            self.pairs[self.k - 1].0
        } else {
            f64::INFINITY
        }
    }

    fn offer(&mut self, d: f64, j: usize) {
        let full = self.pairs.len() == self.k;
        if full {
            let (worst, worst_j) = self.pairs[self.k - 1];
            if d > worst || (d == worst && j > worst_j) {
                return;
            }
        }
        let at = self
            .pairs
            .partition_point(|&(bd, bj)| bd < d || (bd == d && bj < j));
        self.pairs.insert(at, (d, j));
        self.pairs.truncate(self.k);
    }

    fn rows(self) -> Vec<usize> {
        self.pairs.into_iter().map(|(_, j)| j).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The plain scan the screen must agree with.
    fn scan(x: &FeatureMatrix, q: usize, pool: &[usize], k: usize) -> Vec<usize> {
        let mut best = Best::new(k);
        for &j in pool.iter().filter(|&&j| j != q) {
            let d: f64 = x
                .row(q)
                .iter()
                .zip(x.row(j))
                .map(|(u, v)| (u - v) * (u - v))
                .sum();
            best.offer(d, j);
        }
        best.rows()
    }

    /// `n` rows: a one-hot block of `hot` columns, then four dense columns with many ties.
    fn one_hot_rows(n: usize, hot: usize) -> FeatureMatrix {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let d = hot + 4;
        let mut data = Vec::with_capacity(n * d);
        for _ in 0..n {
            let on = rng.random_range(0..hot);
            for c in 0..d {
                data.push(if c < hot {
                    f64::from(u8::from(c == on))
                } else {
                    f64::from(rng.random_range(0..3u8)) * 0.5
                });
            }
        }
        let names: Vec<String> = (0..d).map(|c| format!("c{c}")).collect();
        FeatureMatrix::new(names, data).unwrap()
    }

    #[test]
    fn the_screened_search_finds_the_scans_neighbours_ties_included() {
        // One-hot columns give many exact ties; the dense ones break some of them. With 8 hot
        // columns (1 in 8 rows holds each) all go through the product; with 40, the one-hot
        // columns are added from their lists of holders.
        for (hot, sparse) in [(8, 0), (40, 40)] {
            let x = one_hot_rows(700, hot);
            let pool: Vec<usize> = (0..700).filter(|i| i % 3 != 0).collect();
            let queries: Vec<usize> = (0..700).step_by(7).collect();
            assert_eq!(split_columns(&x, &queries, &pool).1.len(), sparse);
            let found = nearest(&x, &queries, &pool, 5, true);
            for (&q, nn) in queries.iter().zip(&found) {
                assert_eq!(nn, &scan(&x, q, &pool, 5), "{hot} hot columns, query {q}");
            }
        }
    }

    #[test]
    fn a_column_is_sparse_only_when_it_is_rare_and_zero_or_one() {
        // c0: 0/1, one row in 20 holds a 1. c1: 0/1 but half the rows. c2: rare, but 2 not 1.
        let data = (0..100)
            .flat_map(|i| {
                [
                    f64::from(u8::from(i % 20 == 0)),
                    f64::from(u8::from(i % 2 == 0)),
                    if i % 20 == 0 { 2.0 } else { 0.0 },
                ]
            })
            .collect();
        let names = ["c0", "c1", "c2"].map(String::from).to_vec();
        let x = FeatureMatrix::new(names, data).unwrap();
        let all: Vec<usize> = (0..100).collect();
        assert_eq!(split_columns(&x, &all[..10], &all), (vec![1, 2], vec![0]));
    }
}

//! Exact k-nearest neighbours for SMOTE and ADASYN.
//!
//! ADASYN asks, for each of ~1,500 minority rows, for its neighbours among all ~58,000 FIT rows
//! in 139 dimensions. Trees do not prune in that many dimensions, and a row-by-row scan took
//! 3.3 s. Here a block of queries is screened against the pool as one matrix product
//! (`|a - b|² = |a|² + |b|² - 2 a·b`, matrixmultiply's kernel), and the few best candidates are
//! measured again exactly, so the answer is the scan's: the k smallest exact distances, ties
//! to the lower row index.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::features::FeatureMatrix;

/// Queries screened together (one product of this many rows against the pool).
const BLOCK: usize = 64;

/// Candidates kept per query from the screen and measured exactly: the screen's rounding
/// (about 1e-12 of a distance) cannot move a true neighbour this far down.
const EXTRA: usize = 8;

/// For each row in `queries`, the `k` nearest rows of `pool` by Euclidean distance (ties by row
/// index), skipping the query row itself when `exclude_self`.
pub(super) fn nearest(
    x: &FeatureMatrix,
    queries: &[usize],
    pool: &[usize],
    k: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    let d = x.n_cols();
    let gather = |rows: &[usize]| -> Array2<f64> {
        let data = rows
            .iter()
            .flat_map(|&i| x.row(i).iter().copied())
            .collect();
        Array2::from_shape_vec((rows.len(), d), data)
            .unwrap_or_else(|_| unreachable!("whole rows of width d"))
    };
    let pool_x = gather(pool);
    let pool_norms: Vec<f64> = pool_x.rows().into_iter().map(|r| r.dot(&r)).collect();
    queries
        .par_chunks(BLOCK)
        .flat_map_iter(|block| {
            let query_x = gather(block);
            let mut products = Array2::zeros((block.len(), pool.len()));
            general_mat_mul(1.0, &query_x, &pool_x.t(), 0.0, &mut products);
            let screened = screen(
                products.view(),
                &query_x,
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
        })
        .collect()
}

/// Per query of the block, the `keep` pool rows with the smallest screened distance.
fn screen(
    products: ArrayView2<f64>,
    query_x: &Array2<f64>,
    pool_norms: &[f64],
    block: &[usize],
    pool: &[usize],
    keep: usize,
    exclude_self: bool,
) -> Vec<Vec<usize>> {
    block
        .iter()
        .zip(products.rows())
        .zip(query_x.rows())
        .map(|((&q, dots), qx)| {
            let q_norm = qx.dot(&qx);
            let mut best = Best::new(keep);
            for ((&j, &dot), &p_norm) in pool.iter().zip(dots).zip(pool_norms) {
                if !(exclude_self && j == q) {
                    best.offer(q_norm + p_norm - 2.0 * dot, j);
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

    #[test]
    fn the_screened_search_finds_the_scans_neighbours_ties_included() {
        // One-hot-like columns give many exact ties; a few dense ones break some of them.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (n, d) = (700, 12);
        let mut data = Vec::with_capacity(n * d);
        for _ in 0..n {
            let hot = rng.random_range(0..8);
            for c in 0..d {
                data.push(match c {
                    0..8 => f64::from(u8::from(c == hot)),
                    _ => f64::from(rng.random_range(0..3u8)) * 0.5,
                });
            }
        }
        let names = (0..d).map(|c| format!("c{c}")).collect();
        let x = FeatureMatrix::new(names, data).unwrap();
        let pool: Vec<usize> = (0..n).filter(|i| i % 3 != 0).collect();
        let queries: Vec<usize> = (0..n).step_by(7).collect();
        let found = nearest(&x, &queries, &pool, 5, true);
        for (&q, nn) in queries.iter().zip(&found) {
            assert_eq!(nn, &scan(&x, q, &pool, 5), "query {q}");
        }
    }
}

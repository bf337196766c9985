//! The little dense linear algebra the linear models need: a weighted Gram matrix built on all
//! cores and a Cholesky solve. Written here because a 129 x 129 symmetric solve does not justify
//! a linear-algebra dependency (nalgebra or faer would add minutes to a cold build).

use rayon::prelude::*;

use crate::features::FeatureMatrix;

/// `[1, x]`: the row with an intercept column in front.
fn augmented(row: &[f64], out: &mut [f64]) {
    out[0] = 1.0;
    out[1..].copy_from_slice(row);
}

/// `A = Σᵢ wᵢ [1 xᵢ]ᵀ[1 xᵢ]` (dense, symmetric, (p+1)²) and `b = Σᵢ vᵢ [1 xᵢ]`.
pub(super) fn weighted_gram(x: &FeatureMatrix, w: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let d = x.n_cols() + 1;
    let rows: Vec<usize> = (0..x.n_rows()).collect();
    let blocks: Vec<(Vec<f64>, Vec<f64>)> = rows
        .par_chunks(2048)
        .map(|chunk| {
            let mut a = vec![0.0; d * d];
            let mut b = vec![0.0; d];
            let mut z = vec![0.0; d];
            let mut held = Vec::with_capacity(d);
            for &i in chunk {
                augmented(x.row(i), &mut z);
                let (wi, vi) = (w[i], v[i]);
                for (b, zj) in b.iter_mut().zip(&z) {
                    *b += vi * zj;
                }
                // A row holds a few dozen non-zero values (114 of the columns are one-hot
                // genres): its products are taken between those only, a zero one adding
                // nothing to a sum.
                held.clear();
                held.extend((0..d).filter(|&j| z[j] != 0.0));
                for (t, &j) in held.iter().enumerate() {
                    let wz = wi * z[j];
                    // Upper triangle only; mirrored below.
                    let row = &mut a[j * d..(j + 1) * d];
                    for &k in &held[t..] {
                        row[k] += wz * z[k];
                    }
                }
            }
            (a, b)
        })
        .collect();
    // The blocks are added in row order, not by rayon's `reduce` (whose tree follows the work
    // stealing), so the sums, and the model, are the same bit for bit on any thread count.
    let (mut a, mut b) = (vec![0.0; d * d], vec![0.0; d]);
    for (block_a, block_b) in &blocks {
        a.iter_mut().zip(block_a).for_each(|(x, y)| *x += y);
        b.iter_mut().zip(block_b).for_each(|(x, y)| *x += y);
    }
    for j in 0..d {
        for k in 0..j {
            a[j * d + k] = a[k * d + j];
        }
    }
    (a, b)
}

/// `X β` with `β[0]` the intercept.
pub(super) fn linear_predict(x: &FeatureMatrix, beta: &[f64]) -> Vec<f64> {
    x.as_slice()
        .par_chunks(x.n_cols())
        .map(|row| beta[0] + row.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>())
        .collect()
}

/// Solves `A x = b` for symmetric positive definite `A` (n x n, row-major) by Cholesky. A matrix
/// that is only semi-definite (collinear columns) gets a growing ridge on its diagonal until it
/// factors, so OLS on collinear indicators still returns the minimum-norm-like solution.
pub(super) fn solve_spd(a: &[f64], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let scale = (0..n).map(|i| a[i * n + i]).fold(0.0, f64::max).max(1.0);
    let mut jitter = 0.0;
    loop {
        if let Some(l) = cholesky(a, n, jitter) {
            // L y = b, then Lᵀ x = y.
            let mut y = b.to_vec();
            for i in 0..n {
                let s: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
                y[i] = (y[i] - s) / l[i * n + i];
            }
            for i in (0..n).rev() {
                let s: f64 = (i + 1..n).map(|k| l[k * n + i] * y[k]).sum();
                y[i] = (y[i] - s) / l[i * n + i];
            }
            return y;
        }
        jitter = if jitter == 0.0 {
            scale * 1e-12
        } else {
            jitter * 10.0
        };
    }
}

fn cholesky(a: &[f64], n: usize, jitter: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] + jitter - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_spd_system() {
        // [[4, 2], [2, 3]] x = [2, 1] -> x = [0.5, 0]
        let x = solve_spd(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn singular_systems_still_solve() {
        // Two identical columns: [[1, 1], [1, 1]] x = [2, 2]; any x with x0 + x1 = 2 fits.
        let x = solve_spd(&[1.0, 1.0, 1.0, 1.0], &[2.0, 2.0]);
        assert!((x[0] + x[1] - 2.0).abs() < 1e-6, "{x:?}");
    }

    #[test]
    fn gram_matches_the_definition() {
        let m = FeatureMatrix::new(vec!["a".into()], vec![1.0, 2.0, 3.0]).unwrap();
        let (a, b) = weighted_gram(&m, &[1.0, 2.0, 0.5], &[1.0, 1.0, 1.0]);
        // Σw = 3.5, Σwx = 1 + 4 + 1.5 = 6.5, Σwx² = 1 + 8 + 4.5 = 13.5; b = [3, 6]
        assert_eq!(a, [3.5, 6.5, 6.5, 13.5]);
        assert_eq!(b, [3.0, 6.0]);
    }

    #[test]
    fn gram_is_the_same_bit_for_bit_on_any_thread_count() {
        // 20,000 rows: ten blocks, which rayon splits differently on one and on three threads.
        let values: Vec<f64> = (0..60_000u32)
            .map(|i| f64::from(i.wrapping_mul(2_654_435_761) % 1000) / 7.0)
            .collect();
        let names = vec!["a".into(), "b".into(), "c".into()];
        let m = FeatureMatrix::new(names, values).unwrap();
        let w: Vec<f64> = (0..20_000).map(|i| 1.0 + f64::from(i % 3) / 10.0).collect();
        let gram = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| weighted_gram(&m, &w, &w))
        };
        assert_eq!(gram(1), gram(3));
    }
}

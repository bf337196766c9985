//! The network's matrix products, `c = a · b` and `c += a · b` in f32: the one place that
//! holds `unsafe` code in the workspace, because the `gemm` crate's entry point takes raw
//! pointers and strides.
//!
//! Why `gemm` rather than ndarray's `general_mat_mul` (matrixmultiply): its kernels are faster
//! on the network's shapes (docs/performance.md), and a product is most of an epoch. Both sum
//! each element the same way, one fused multiply-add per inner index in ascending order and then the addition
//! to `c` (for inner dimensions up to 256, the default batch: longer sums are cut into blocks,
//! not necessarily the same ones), so the networks are the same bit for bit: every network and
//! stack cell of the grid gave the same VAL and TEST figures with either. Products with one
//! row or one column are the exception: `gemm` takes a matrix-vector path there that sums in
//! another order, so they stay on matrixmultiply (they are a small share of the work).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};

/// `c = a · b`, or `c += a · b` when `accumulate`.
///
/// # Panics
/// When the shapes do not chain (`a` is m x k, `b` k x n, `c` m x n): a bug in the caller, as
/// every shape here comes from the network's own layers.
pub(crate) fn mat_mul(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: &mut Array2<f32>,
    accumulate: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert_eq!(
        b.nrows(),
        k,
        "a · b: a has {k} columns, b {} rows",
        b.nrows()
    );
    assert_eq!(c.dim(), (m, n), "a · b is {m} x {n}, c {:?}", c.dim());
    let beta = if accumulate { 1.0 } else { 0.0 };
    if m <= 1 || n <= 1 || k == 0 {
        general_mat_mul(1.0, &a, &b, beta, c);
        return;
    }
    let ([a_rs, a_cs], [b_rs, b_cs]) = (
        [a.strides()[0], a.strides()[1]],
        [b.strides()[0], b.strides()[1]],
    );
    let [c_rs, c_cs] = [c.strides()[0], c.strides()[1]];
    // SAFETY: `gemm` reads a[i, p] at `a.as_ptr() + i * a_rs + p * a_cs` for i < m, p < k (and
    // b, c alike), which is where ndarray keeps those elements: the shapes are checked above,
    // and the pointers and strides are the views' own. `c` is borrowed mutably, so it does not
    // overlap `a` or `b`. Without `accumulate`, `gemm` does not read `c` (its read_dst flag);
    // with it, `c` is initialised (an owned array always is). No threads: Parallelism::None.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0, // c's factor when it is read
            1.0, // a · b's factor
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    /// Values that are not short binary fractions, so a change in the order of the sums shows.
    fn matrix(rows: usize, cols: usize, salt: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 7919 + j * 104_729 + salt * 31) % 1000) as f32 / 997.0 - 0.45
        })
    }

    fn matrixmultiply(
        a: ArrayView2<f32>,
        b: ArrayView2<f32>,
        c: &Array2<f32>,
        beta: f32,
    ) -> Array2<f32> {
        let mut out = c.clone();
        general_mat_mul(1.0, &a, &b, beta, &mut out);
        out
    }

    fn bits(x: &Array2<f32>) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn the_same_bits_as_matrixmultiply_on_the_networks_shapes() {
        // A VAL chunk through the second layer, a batch's weight gradient (a transposed
        // operand), the gradient sent back through a layer, a one-column output, a one-row
        // product, and an empty inner dimension.
        for (m, k, n) in [
            (2048, 128, 64),
            (139, 256, 128),
            (256, 64, 128),
            (300, 64, 1),
            (1, 64, 9),
            (5, 0, 3),
        ] {
            let a = matrix(m, k, 1);
            let b = matrix(k, n, 2);
            let start = matrix(m, n, 3);
            for accumulate in [false, true] {
                let mut c = start.clone();
                mat_mul(a.view(), b.view(), &mut c, accumulate);
                let beta = if accumulate { 1.0 } else { 0.0 };
                let want = matrixmultiply(a.view(), b.view(), &start, beta);
                assert_eq!(
                    bits(&c),
                    bits(&want),
                    "{m} x {k} x {n}, accumulate {accumulate}"
                );
            }
        }
        // Strided and transposed views.
        let a = matrix(64, 300, 4);
        let b = matrix(150, 40, 5);
        let (a_t, b_view) = (a.t(), b.slice(s![..;2, ..]));
        let mut c = Array2::zeros((300, 40));
        mat_mul(
            a_t.slice(s![.., ..64]),
            b_view.slice(s![..64, ..]).view(),
            &mut c,
            false,
        );
        let want = matrixmultiply(
            a_t.slice(s![.., ..64]),
            b_view.slice(s![..64, ..]),
            &Array2::zeros((300, 40)),
            0.0,
        );
        assert_eq!(bits(&c), bits(&want));
    }

    #[test]
    #[should_panic(expected = "a has 3 columns, b 4 rows")]
    fn refuses_shapes_that_do_not_chain() {
        let mut c = Array2::zeros((2, 2));
        mat_mul(
            matrix(2, 3, 0).view(),
            matrix(4, 2, 0).view(),
            &mut c,
            false,
        );
    }
}

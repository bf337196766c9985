//! L2-regularised logistic regression with sample weights, fitted by Newton's method (IRLS)
//! with step halving. Hand-written: no Rust crate offers weighted logistic regression, and with
//! 129 coefficients each Newton step is one weighted Gram matrix and a small solve.

use serde::{Deserialize, Serialize};

use super::linalg::{linear_predict, solve_spd, weighted_gram};
use super::{in_range, param_error, sigmoid, Classifier, Fit, ModelError, Params, TrainSet, Valid};
use crate::features::FeatureMatrix;

/// Settings of [`LogisticModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticParams {
    /// L2 penalty on the coefficients (not the intercept): the loss is
    /// `Σ wᵢ logloss(yᵢ, pᵢ) + l2/2 ‖β‖²`, so `l2 = 1/C` of scikit-learn. Default 1.0; must be
    /// in (0, 1e9].
    pub l2: f64,
    /// Newton iterations at most. Default 50.
    pub max_iter: usize,
    /// Converged when the loss improves by less than `tol` times its value. Default 1e-10.
    pub tol: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            max_iter: 50,
            tol: 1e-10,
        }
    }
}

impl Params for LogisticParams {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        in_range("l2", self.l2, f64::MIN_POSITIVE, 1e9, "must be in (0, 1e9]")?;
        in_range("tol", self.tol, 0.0, 1.0, "must be in [0, 1]")?;
        if self.max_iter == 0 {
            return Err(param_error("max_iter", 0, "must be at least 1"));
        }
        Ok(Valid(self))
    }
}

/// A fitted logistic regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Intercept, then one coefficient per feature.
    pub beta: Vec<f64>,
    /// Newton iterations taken.
    pub iterations: usize,
    /// Whether the tolerance was reached within `max_iter`.
    pub converged: bool,
}

impl Fit for Valid<LogisticParams> {
    type Model = LogisticModel;

    fn fit(
        &self,
        train: &TrainSet,
        _val: Option<&TrainSet>,
        _seed: u64,
    ) -> Result<LogisticModel, ModelError> {
        train.check()?;
        let (x, y) = (train.x, train.y);
        let n = y.len();
        let s: Vec<f64> = (0..n).map(|i| train.weight(i)).collect();
        let total: f64 = s.iter().sum();
        let positive: f64 = (0..n).filter(|&i| y[i] > 0.5).map(|i| s[i]).sum();
        if positive <= 0.0 || positive >= total {
            return Err(ModelError::OneClass);
        }
        let d = x.n_cols() + 1;
        let mut beta = vec![0.0; d];
        beta[0] = (positive / (total - positive)).ln();
        let mut loss = self.loss(x, y, &s, &beta);
        let (mut iterations, mut converged) = (0, false);
        while iterations < self.max_iter {
            iterations += 1;
            let p: Vec<f64> = linear_predict(x, &beta).into_iter().map(sigmoid).collect();
            let w: Vec<f64> = (0..n)
                .map(|i| s[i] * (p[i] * (1.0 - p[i])).max(1e-12))
                .collect();
            let r: Vec<f64> = (0..n).map(|i| s[i] * (p[i] - y[i])).collect();
            let (mut h, mut g) = weighted_gram(x, &w, &r);
            for j in 1..d {
                h[j * d + j] += self.l2;
                g[j] += self.l2 * beta[j];
            }
            let step = solve_spd(&h, &g);
            // Newton's step, halved until the penalised loss goes down.
            let mut t = 1.0;
            let (next, next_loss) = loop {
                let candidate: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
                let l = self.loss(x, y, &s, &candidate);
                if l <= loss || t < 1e-10 {
                    break (candidate, l);
                }
                t /= 2.0;
            };
            let improvement = loss - next_loss;
            beta = next;
            loss = next_loss;
            if improvement.abs() <= self.tol * loss.abs().max(1.0) {
                converged = true;
                break;
            }
        }
        if !converged {
            tracing::warn!(iterations, "logistic regression did not converge");
        }
        Ok(LogisticModel {
            beta,
            iterations,
            converged,
        })
    }
}

impl Valid<LogisticParams> {
    /// `Σ sᵢ logloss + l2/2 ‖β₁..‖²`, with log(1 + e^z) computed stably.
    fn loss(&self, x: &FeatureMatrix, y: &[f64], s: &[f64], beta: &[f64]) -> f64 {
        let z = linear_predict(x, beta);
        let data: f64 = z
            .iter()
            .zip(y)
            .zip(s)
            .map(|((&z, &y), &s)| s * (softplus(z) - y * z))
            .sum();
        data + 0.5 * self.l2 * beta[1..].iter().map(|b| b * b).sum::<f64>()
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

impl Classifier for LogisticModel {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        linear_predict(x, &self.beta)
            .into_iter()
            .map(sigmoid)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[[f64; 2]]) -> FeatureMatrix {
        FeatureMatrix::new(
            vec!["a".into(), "b".into()],
            rows.iter().flatten().copied().collect(),
        )
        .unwrap()
    }

    #[test]
    fn matches_scikit_learn_on_a_small_problem() {
        // sklearn 1.9 LogisticRegression(C=1.0, tol=1e-12).fit(x, y): intercept
        // -1.760624014934805, coef [1.351509004979902, -0.01064891232187584].
        let x = matrix(&[
            [0.0, 1.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [3.0, 2.0],
            [1.5, 0.5],
            [0.5, 2.0],
            [2.5, 0.0],
            [0.2, 0.3],
        ]);
        let y = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let m = LogisticParams::default()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap();
        assert!(m.converged);
        let want = [SK_INTERCEPT, SK_COEF[0], SK_COEF[1]];
        for (got, want) in m.beta.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{:?} vs {want:?}", m.beta);
        }
    }

    const SK_INTERCEPT: f64 = -1.760624014934805;
    const SK_COEF: [f64; 2] = [1.351509004979902, -0.01064891232187584];

    #[test]
    fn weights_act_as_repeated_rows() {
        let x = matrix(&[[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [0.5, 0.5]]);
        let y = [0.0, 1.0, 1.0, 0.0, 1.0];
        let params = LogisticParams::default().check().unwrap();
        let weighted = params
            .fit(
                &TrainSet {
                    x: &x,
                    y: &y,
                    weights: Some(&[1.0, 2.0, 1.0, 1.0, 3.0]),
                    groups: None,
                },
                None,
                0,
            )
            .unwrap();
        let x2 = matrix(&[
            [0.0, 1.0],
            [1.0, 0.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [3.0, 2.0],
            [0.5, 0.5],
            [0.5, 0.5],
            [0.5, 0.5],
        ]);
        let y2 = [0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0];
        let repeated = params.fit(&TrainSet::new(&x2, &y2), None, 0).unwrap();
        for (a, b) in weighted.beta.iter().zip(&repeated.beta) {
            assert!((a - b).abs() < 1e-8);
        }
    }

    #[test]
    fn separable_data_converges_with_l2_and_ranks_perfectly() {
        let x = matrix(&[[-2.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [2.0, 0.0]]);
        let y = [0.0, 0.0, 1.0, 1.0];
        let m = LogisticParams::default()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap();
        assert!(m.converged);
        let p = m.predict_proba(&x);
        assert!(
            p[0] < p[1] && p[1] < 0.5 && p[2] > 0.5 && p[2] < p[3],
            "{p:?}"
        );
    }

    #[test]
    fn parameters_and_classes_are_checked() {
        assert_eq!(
            LogisticParams {
                l2: 0.0,
                ..Default::default()
            }
            .check()
            .unwrap_err()
            .to_string(),
            "invalid parameter l2 = 0: must be in (0, 1e9]"
        );
        let x = matrix(&[[0.0, 1.0], [1.0, 0.0]]);
        let err = LogisticParams::default()
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &[1.0, 1.0]), None, 0)
            .unwrap_err();
        assert!(matches!(err, ModelError::OneClass));
    }
}

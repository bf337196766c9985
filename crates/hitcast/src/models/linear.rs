//! Least squares and ridge regression in closed form: `(XᵀWX + λI) β = XᵀWy`, intercept not
//! penalised.

use serde::{Deserialize, Serialize};

use super::linalg::{linear_predict, solve_spd, weighted_gram};
use super::{in_range, Fit, ModelError, Params, Regressor, TrainSet, Valid};
use crate::features::FeatureMatrix;

/// Settings of [`LinearModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearParams {
    /// Ridge penalty λ on the coefficients (scikit-learn's `alpha`); 0 is ordinary least
    /// squares. Default 1.0; must be in [0, 1e9].
    pub l2: f64,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams { l2: 1.0 }
    }
}

impl Params for LinearParams {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        in_range("l2", self.l2, 0.0, 1e9, "must be in [0, 1e9]")?;
        Ok(Valid(self))
    }
}

/// A fitted linear regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// Intercept, then one coefficient per feature.
    pub beta: Vec<f64>,
}

impl Fit for Valid<LinearParams> {
    type Model = LinearModel;

    fn fit(
        &self,
        train: &TrainSet,
        _val: Option<&TrainSet>,
        _seed: u64,
    ) -> Result<LinearModel, ModelError> {
        train.check()?;
        let w: Vec<f64> = (0..train.y.len()).map(|i| train.weight(i)).collect();
        let v: Vec<f64> = train.y.iter().zip(&w).map(|(y, w)| y * w).collect();
        let (mut a, b) = weighted_gram(train.x, &w, &v);
        let d = b.len();
        for j in 1..d {
            a[j * d + j] += self.l2;
        }
        Ok(LinearModel {
            beta: solve_spd(&a, &b),
        })
    }
}

impl Regressor for LinearModel {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        linear_predict(x, &self.beta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // sklearn 1.9 on these rows: Ridge(alpha=1.0) intercept 0.5690553745928337, coef
    // [1.57437568, 0.73767644]; LinearRegression intercept 0.051219512195120664, coef
    // [1.71056911, 0.79837398].
    fn data() -> (FeatureMatrix, Vec<f64>) {
        let rows = [[1.0, 2.0], [2.0, 0.5], [3.0, 1.0], [4.0, 3.0], [5.0, 2.5]];
        let x = FeatureMatrix::new(
            vec!["a".into(), "b".into()],
            rows.iter().flatten().copied().collect(),
        )
        .unwrap();
        (x, vec![3.1, 3.9, 6.2, 9.8, 10.1])
    }

    fn fit(l2: f64) -> LinearModel {
        let (x, y) = data();
        LinearParams { l2 }
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap()
    }

    #[test]
    fn ridge_matches_scikit_learn() {
        let m = fit(1.0);
        for (got, want) in m
            .beta
            .iter()
            .zip([0.5690553745928337, 1.57437568, 0.73767644])
        {
            assert!((got - want).abs() < 1e-7, "{:?}", m.beta);
        }
    }

    #[test]
    fn ols_matches_scikit_learn() {
        let m = fit(0.0);
        for (got, want) in m
            .beta
            .iter()
            .zip([0.051219512195120664, 1.71056911, 0.79837398])
        {
            assert!((got - want).abs() < 1e-7, "{:?}", m.beta);
        }
    }

    #[test]
    fn a_linear_target_is_recovered_exactly() {
        let (x, _) = data();
        let y: Vec<f64> = x.rows().map(|r| 2.0 + 3.0 * r[0] - r[1]).collect();
        let m = LinearParams { l2: 0.0 }
            .check()
            .unwrap()
            .fit(&TrainSet::new(&x, &y), None, 0)
            .unwrap();
        let p = m.predict(&x);
        assert!(p.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn negative_penalty_is_refused() {
        assert!(LinearParams { l2: -1.0 }.check().is_err());
    }
}

//! The multilayer perceptron of `hitcast-nn` as a model family: parameters checked like the
//! others, VAL average precision (classification) or RMSE (regression) for early stopping.

use hitcast_nn::{Mlp, MlpConfig, NnError, Objective, Rows};
use ndarray::{Array2, ArrayView2};

use super::{Classifier, Fit, ModelError, Params, Regressor, TrainSet, Valid};
use crate::features::FeatureMatrix;
use crate::metrics::average_precision;

impl Params for MlpConfig {
    fn check(self) -> Result<Valid<Self>, ModelError> {
        MlpConfig::check(&self)?;
        Ok(Valid(self))
    }
}

impl From<NnError> for ModelError {
    fn from(e: NnError) -> Self {
        match e {
            NnError::Param {
                name,
                value,
                reason,
            } => ModelError::Param {
                name,
                value,
                reason,
            },
            other => ModelError::Network(other),
        }
    }
}

/// The network works in f32: the features are z-scores, far inside f32's precision.
pub(crate) fn to_f32(x: &FeatureMatrix) -> Array2<f32> {
    let data = x.as_slice().iter().map(|&v| v as f32).collect();
    Array2::from_shape_vec((x.n_rows(), x.n_cols()), data)
        .unwrap_or_else(|_| unreachable!("a feature matrix holds whole rows"))
}

fn as_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&t| t as f32).collect()
}

impl Fit for Valid<MlpConfig> {
    type Model = Mlp;

    fn fit(&self, train: &TrainSet, val: Option<&TrainSet>, seed: u64) -> Result<Mlp, ModelError> {
        train.check()?;
        if self.objective == Objective::Logistic {
            let positives = train.y.iter().filter(|&&y| y > 0.5).count();
            if positives == 0 || positives == train.y.len() {
                return Err(ModelError::OneClass);
            }
        }
        let x = to_f32(train.x);
        let y = as_f32(train.y);
        let weights = train.weights.map(as_f32);
        let rows = Rows {
            x: x.view(),
            y: &y,
            weights: weights.as_deref(),
        };
        let Some(val) = val else {
            return Ok(hitcast_nn::fit(self, &rows, None, seed)?);
        };
        val.check()?;
        let val_x = to_f32(val.x);
        let val_y = as_f32(val.y);
        let val_rows = Rows {
            x: val_x.view(),
            y: &val_y,
            weights: None,
        };
        let labels: Vec<bool> = val.y.iter().map(|&y| y > 0.5).collect();
        let mut score = |predicted: &[f32]| -> f64 {
            let predicted: Vec<f64> = predicted.iter().map(|&p| f64::from(p)).collect();
            match self.objective {
                // Average precision, not log-loss: class weights and resampling shift the
                // probabilities on purpose, and the ranking is what is kept.
                Objective::Logistic => average_precision(&predicted, &labels).unwrap_or(f64::NAN),
                Objective::Squared => {
                    let sse: f64 = predicted
                        .iter()
                        .zip(val.y)
                        .map(|(p, t)| (p - t).powi(2))
                        .sum();
                    -(sse / predicted.len() as f64).sqrt()
                }
            }
        };
        Ok(hitcast_nn::fit(
            self,
            &rows,
            Some((&val_rows, &mut score)),
            seed,
        )?)
    }
}

/// Predictions as f64; a width mismatch (impossible through a fitted pipeline) gives NaN rows
/// rather than a panic.
fn predict(model: &Mlp, x: ArrayView2<f32>) -> Vec<f64> {
    match model.predict(x) {
        Ok(p) => p.into_iter().map(f64::from).collect(),
        Err(_) => vec![f64::NAN; x.nrows()],
    }
}

impl Classifier for Mlp {
    fn predict_proba(&self, x: &FeatureMatrix) -> Vec<f64> {
        predict(self, to_f32(x).view())
    }
}

impl Regressor for Mlp {
    fn predict(&self, x: &FeatureMatrix) -> Vec<f64> {
        predict(self, to_f32(x).view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_auc;
    use crate::models::{ClassifierKind, ModelSpec};
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_mlp_family_separates_xor_where_logistic_regression_cannot() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut data = Vec::new();
        let mut y = Vec::new();
        for _ in 0..1500 {
            let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            data.extend([a, b]);
            y.push(f64::from(u8::from((a > 0.0) != (b > 0.0))));
        }
        let x = FeatureMatrix::new(vec!["a".into(), "b".into()], data).unwrap();
        let (fit_x, val_x) = (
            x.select_rows(&(0..1000).collect::<Vec<_>>()),
            x.select_rows(&(1000..1500).collect::<Vec<_>>()),
        );
        let (fit_y, val_y) = (&y[..1000], &y[1000..]);
        let labels: Vec<bool> = val_y.iter().map(|&v| v > 0.5).collect();
        let train = TrainSet::new(&fit_x, fit_y);
        let val = TrainSet::new(&val_x, val_y);
        let auc = |kind| {
            let spec = ModelSpec::classifier(kind)
                .with_param("learning_rate", "0.01")
                .unwrap_or_else(|_| ModelSpec::classifier(kind));
            let model = spec.fit_classifier(&train, Some(&val), 3).unwrap();
            roc_auc(&model.predict_proba(&val_x), &labels).unwrap()
        };
        let (mlp, logreg) = (auc(ClassifierKind::Mlp), auc(ClassifierKind::Logreg));
        assert!(mlp > 0.97, "mlp ROC-AUC {mlp}");
        assert!(logreg < 0.6, "logreg ROC-AUC {logreg}");
    }
}

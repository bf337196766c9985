//! A multilayer perceptron for tabular rows: dense layers, ReLU/GELU/tanh, inverted dropout,
//! AdamW with decoupled weight decay, mini-batches, sample weights, and early stopping on a
//! validation score. Every random choice (initial weights, batch order, dropout masks) comes
//! from one seed, and the sums run single-threaded, so a seed gives the same network bit for bit.
//!
//! ```
//! use hitcast_nn::{fit, MlpConfig, Rows};
//! use ndarray::array;
//!
//! let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let y = [0.0f32, 1.0, 1.0, 0.0];
//! let config = MlpConfig { hidden: vec![8], max_epochs: 5, batch_size: 2, ..MlpConfig::default() };
//! config.check()?;
//! let mlp = fit(&config, &Rows { x: x.view(), y: &y, weights: None }, None, 42)?;
//! assert_eq!(mlp.predict(x.view())?.len(), 4);
//! # Ok::<(), hitcast_nn::NnError>(())
//! ```
//!
//! Why hand-written rather than on `burn` (the crate first planned): the network is
//! two or three dense layers, whose forward and backward passes are a few matrix products
//! (ndarray, with the `gemm` crate's kernels: see `matmul`); burn would add 7-10 minutes to a
//! cold build of the workspace and tie the saved model's format to burn's record types.

mod input;
mod matmul;
mod train;

use input::{affine, product, ColumnSplit, SplitRows};
pub use train::{fit, Score};

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// The non-linearity between layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x).
    #[default]
    Relu,
    /// x Φ(x), in the tanh approximation.
    Gelu,
    /// tanh(x).
    Tanh,
}

/// What the output unit predicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// A probability: sigmoid output, (weighted) log-loss.
    #[default]
    Logistic,
    /// A number: linear output on standardised targets, (weighted) squared error.
    Squared,
}

/// Settings of an [`Mlp`]. Check with [`MlpConfig::check`] before [`fit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Classification (logistic) or regression (squared). Default logistic.
    pub objective: Objective,
    /// Units per hidden layer, input side first. Default `[128, 64]`; 1-8 layers of 1-4096.
    pub hidden: Vec<usize>,
    /// Activation of the hidden layers. Default relu.
    pub activation: Activation,
    /// Share of hidden units dropped per training step. Default 0.2; in [0, 0.9].
    pub dropout: f64,
    /// AdamW's decoupled weight decay on the weights (not the biases). Default 1e-4; in [0, 1].
    pub weight_decay: f64,
    /// Adam step size. Default 1e-3; in (0, 1].
    pub learning_rate: f64,
    /// Rows per step. Default 256; at least 1.
    pub batch_size: usize,
    /// Passes over the training rows at most. Default 60; at least 1.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation score. Default 8; at least 1.
    pub patience: usize,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            objective: Objective::Logistic,
            hidden: vec![128, 64],
            activation: Activation::Relu,
            dropout: 0.2,
            weight_decay: 1e-4,
            learning_rate: 1e-3,
            batch_size: 256,
            max_epochs: 60,
            patience: 8,
        }
    }
}

/// Why a network could not be configured, trained or applied.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A setting is out of range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    Param {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// The accepted range.
        reason: &'static str,
    },
    /// Inputs of the wrong shape.
    #[error("bad input: {0}")]
    Shape(String),
    /// The loss stopped being a number (a learning rate too high for the data).
    #[error("training diverged in epoch {epoch}: the loss is not finite; lower learning_rate")]
    Diverged {
        /// The epoch it happened in.
        epoch: usize,
    },
}

fn param(name: &'static str, value: impl ToString, reason: &'static str) -> NnError {
    NnError::Param {
        name,
        value: value.to_string(),
        reason,
    }
}

impl MlpConfig {
    /// Checks every setting.
    pub fn check(&self) -> Result<(), NnError> {
        if self.hidden.is_empty() || self.hidden.len() > 8 {
            return Err(param(
                "hidden",
                format!("{:?}", self.hidden),
                "must list 1 to 8 layers",
            ));
        }
        if self.hidden.iter().any(|&u| u == 0 || u > 4096) {
            return Err(param(
                "hidden",
                format!("{:?}", self.hidden),
                "each layer must have 1 to 4096 units",
            ));
        }
        let ranges = [
            ("dropout", self.dropout, 0.0, 0.9, "must be in [0, 0.9]"),
            (
                "weight_decay",
                self.weight_decay,
                0.0,
                1.0,
                "must be in [0, 1]",
            ),
        ];
        for (name, value, lo, hi, reason) in ranges {
            if !(value.is_finite() && value >= lo && value <= hi) {
                return Err(param(name, value, reason));
            }
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(param(
                "learning_rate",
                self.learning_rate,
                "must be in (0, 1]",
            ));
        }
        for (name, value) in [
            ("batch_size", self.batch_size),
            ("max_epochs", self.max_epochs),
            ("patience", self.patience),
        ] {
            if value == 0 {
                return Err(param(name, value, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Rows to learn from: features (one row per example), targets and optional weights.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    /// Features, rows x columns.
    pub x: ArrayView2<'a, f32>,
    /// One target per row: 0/1 for the logistic objective, any number for squared error.
    pub y: &'a [f32],
    /// One non-negative weight per row; `None` weighs every row 1.
    pub weights: Option<&'a [f32]>,
}

impl Rows<'_> {
    fn check(&self) -> Result<(), NnError> {
        let n = self.x.nrows();
        if n == 0 || self.x.ncols() == 0 {
            return Err(NnError::Shape("no rows or no columns".into()));
        }
        if self.y.len() != n {
            return Err(NnError::Shape(format!(
                "{} targets for {n} rows",
                self.y.len()
            )));
        }
        if self.x.iter().chain(self.y).any(|v| !v.is_finite()) {
            return Err(NnError::Shape("features and targets must be finite".into()));
        }
        if let Some(w) = self.weights {
            if w.len() != n {
                return Err(NnError::Shape(format!("{} weights for {n} rows", w.len())));
            }
            if w.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(NnError::Shape("weights must be finite and >= 0".into()));
            }
        }
        Ok(())
    }
}

/// One dense layer: `output = input · w + b`, with `w` of shape (inputs, outputs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Dense {
    w: Array2<f32>,
    b: Array1<f32>,
}

/// A trained network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    layers: Vec<Dense>,
    activation: Activation,
    objective: Objective,
    /// Squared objective: targets were standardised with this mean and sd; outputs are scaled back.
    target_mean: f32,
    target_sd: f32,
    /// The epoch whose weights were kept (the best validation score, or the last epoch).
    pub best_epoch: usize,
    /// Epochs run before stopping.
    pub epochs_run: usize,
}

/// Rows per forward pass at prediction time, to bound memory on large inputs.
const PREDICT_CHUNK: usize = 2048;

impl Mlp {
    /// The number of input columns.
    pub fn n_inputs(&self) -> usize {
        self.layers.first().map_or(0, |l| l.w.nrows())
    }

    /// Checks that a network read from a file can run on rows of `n_inputs` columns: the layers
    /// chain (each layer's outputs are the next one's inputs, biases match), one output, and
    /// finite weights. A deserialised network is only as sound as its file.
    pub fn check_shape(&self, n_inputs: usize) -> Result<(), NnError> {
        let shape = |reason: String| Err(NnError::Shape(reason));
        let Some(last) = self.layers.last() else {
            return shape("the network has no layers".into());
        };
        let mut width = n_inputs;
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.w.nrows() != width || layer.b.len() != layer.w.ncols() {
                return shape(format!(
                    "layer {l} is {}x{} with {} biases after {width} inputs",
                    layer.w.nrows(),
                    layer.w.ncols(),
                    layer.b.len()
                ));
            }
            if layer.w.iter().chain(layer.b.iter()).any(|v| !v.is_finite()) {
                return shape(format!("layer {l} has weights that are not finite"));
            }
            width = layer.w.ncols();
        }
        if last.w.ncols() != 1 {
            return shape(format!("the network has {} outputs, not 1", last.w.ncols()));
        }
        if !(self.target_mean.is_finite() && self.target_sd.is_finite()) {
            return shape("the network's target scaling is not finite".into());
        }
        Ok(())
    }

    /// Probabilities (logistic objective) or predicted values (squared error), one per row.
    pub fn predict(&self, x: ArrayView2<f32>) -> Result<Vec<f32>, NnError> {
        let margins = self.margins(x)?;
        Ok(self.outputs(margins))
    }

    /// Margins to probabilities (logistic) or to the targets' scale (squared error).
    fn outputs(&self, margins: Vec<f32>) -> Vec<f32> {
        match self.objective {
            Objective::Logistic => margins.into_iter().map(sigmoid).collect(),
            Objective::Squared => margins
                .into_iter()
                .map(|z| z * self.target_sd + self.target_mean)
                .collect(),
        }
    }

    /// The output unit before the sigmoid (logistic) or before scaling back (squared error).
    pub fn margins(&self, x: ArrayView2<f32>) -> Result<Vec<f32>, NnError> {
        if x.ncols() != self.n_inputs() {
            return Err(NnError::Shape(format!(
                "{} columns for a network of {} inputs",
                x.ncols(),
                self.n_inputs()
            )));
        }
        // Chunks bound the memory of a large input, and run side by side.
        let chunks: Vec<ArrayView2<f32>> = x.axis_chunks_iter(Axis(0), PREDICT_CHUNK).collect();
        let each: Vec<Vec<f32>> = chunks
            .par_iter()
            .map(|chunk| {
                let mut a = chunk.to_owned();
                for (l, layer) in self.layers.iter().enumerate() {
                    let mut z = affine(a.view(), &layer.w, &layer.b);
                    if l + 1 < self.layers.len() {
                        z.mapv_inplace(|v| activate(self.activation, v));
                    }
                    a = z;
                }
                a.into_raw_vec_and_offset().0
            })
            .collect();
        Ok(each.concat())
    }
}

fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

const GELU_C: f32 = 0.797_884_6; // sqrt(2 / pi)

fn activate(f: Activation, x: f32) -> f32 {
    match f {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Gelu => 0.5 * x * (1.0 + (GELU_C * (x + 0.044_715 * x * x * x)).tanh()),
    }
}

/// d activate(x) / dx.
fn derivative(f: Activation, x: f32) -> f32 {
    match f {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Tanh => 1.0 - x.tanh().powi(2),
        Activation::Gelu => {
            let t = (GELU_C * (x + 0.044_715 * x * x * x)).tanh();
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * 0.044_715 * x * x)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::train::{dropout_mask, loss_and_gradients, MiniBatch};
    use super::*;
    use ndarray::array;
    use rand::RngCore;

    /// Four clusters whose label is the XOR of the signs of the two coordinates: no linear model
    /// does better than chance on it.
    fn xor(n: usize, seed: u64) -> (Array2<f32>, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let (a, b): (f32, f32) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            y.push(f32::from(u8::from((a > 0.0) != (b > 0.0))));
        }
        (x, y)
    }

    fn unweighted<'a>(x: &'a Array2<f32>, y: &'a [f32]) -> Rows<'a> {
        Rows {
            x: x.view(),
            y,
            weights: None,
        }
    }

    fn accuracy(p: &[f32], y: &[f32]) -> f64 {
        let right = p
            .iter()
            .zip(y)
            .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
            .count();
        right as f64 / y.len() as f64
    }

    #[test]
    fn learns_xor_with_each_activation() {
        let (x, y) = xor(2000, 1);
        let (xv, yv) = xor(500, 2);
        for activation in [Activation::Relu, Activation::Gelu, Activation::Tanh] {
            let config = MlpConfig {
                hidden: vec![16, 16],
                activation,
                dropout: 0.0,
                learning_rate: 0.01,
                batch_size: 32,
                max_epochs: 60,
                patience: 10,
                ..MlpConfig::default()
            };
            let train = unweighted(&x, &y);
            let val = unweighted(&xv, &yv);
            let mut score = |p: &[f32]| accuracy(p, &yv);
            let mlp = fit(&config, &train, Some((&val, &mut score)), 7).unwrap();
            let acc = accuracy(&mlp.predict(xv.view()).unwrap(), &yv);
            assert!(acc > 0.95, "{activation:?}: accuracy {acc}");
        }
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch_and_drops_the_epoch_trained_beside_the_stop() {
        let (x, y) = xor(600, 5);
        let (xv, yv) = xor(3000, 6);
        let train = unweighted(&x, &y);
        let val = unweighted(&xv, &yv);
        let config = MlpConfig {
            hidden: vec![8],
            batch_size: 64,
            max_epochs: 20,
            patience: 3,
            ..MlpConfig::default()
        };
        let unwatched = |epochs: usize| {
            let config = MlpConfig {
                max_epochs: epochs,
                ..config.clone()
            };
            fit(&config, &train, None, 4).unwrap()
        };
        // Scores by epoch: the best is epoch 2, and three epochs without a better one stop it.
        let scores = [0.1, 0.5, 0.3, 0.2, 0.4, 0.9, 0.9];
        let mut calls = 0;
        let mut scripted = |_: &[f32]| {
            calls += 1;
            scores[calls - 1]
        };
        let mlp = fit(&config, &train, Some((&val, &mut scripted)), 4).unwrap();
        assert_eq!((mlp.best_epoch, mlp.epochs_run, calls), (2, 5, 5));
        assert_eq!(mlp.layers, unwatched(2).layers);
        // No finite score: the last epoch scored is kept.
        let mut never = |_: &[f32]| f64::NAN;
        let mlp = fit(&config, &train, Some((&val, &mut never)), 4).unwrap();
        assert_eq!((mlp.best_epoch, mlp.epochs_run), (3, 3));
        assert_eq!(mlp.layers, unwatched(3).layers);
        // A score that keeps improving runs every epoch.
        let mut rising = {
            let mut epoch = 0.0;
            move |_: &[f32]| {
                epoch += 1.0;
                epoch
            }
        };
        let mlp = fit(&config, &train, Some((&val, &mut rising)), 4).unwrap();
        assert_eq!((mlp.best_epoch, mlp.epochs_run), (20, 20));
        assert_eq!(mlp.layers, unwatched(20).layers);
    }

    #[test]
    fn same_seed_same_network_other_seed_other_network() {
        let (x, y) = xor(300, 3);
        let train = unweighted(&x, &y);
        let config = MlpConfig {
            hidden: vec![8],
            max_epochs: 3,
            batch_size: 16,
            ..MlpConfig::default()
        };
        let a = fit(&config, &train, None, 1).unwrap();
        let b = fit(&config, &train, None, 1).unwrap();
        let c = fit(&config, &train, None, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!((a.epochs_run, a.best_epoch), (3, 3));
    }

    #[test]
    fn gradients_match_finite_differences() {
        // A 3-4-3-1 network on 5 rows with weights; compare every analytic partial derivative
        // with (L(p + h) - L(p - h)) / 2h, in f64 arithmetic on f32 parameters (h = 1e-3, small enough that no ReLU input
        // crosses its kink here).
        // The third column is 0 on four rows of five: the first layer takes it in split form.
        let x = array![
            [0.5f32, -1.0, 0.0],
            [1.5, 0.5, 0.0],
            [-0.3, 0.8, 1.1],
            [0.0, -0.2, 0.0],
            [2.0, 1.0, 0.0]
        ];
        let split = ColumnSplit::detect(x.view(), 0.8);
        let rows = split.encode(x.view(), None);
        assert_eq!(rows.dense.ncols(), 2);
        let y = [1.0f32, 0.0, 1.0, 0.0, 1.0];
        let w = [1.0f32, 2.0, 0.5, 1.0, 3.0];
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (activation, objective) in [
            (Activation::Tanh, Objective::Logistic),
            (Activation::Gelu, Objective::Squared),
            (Activation::Relu, Objective::Logistic),
        ] {
            let mut layers: Vec<Dense> = [(3, 4), (4, 3), (3, 1)]
                .iter()
                .map(|&(i, o)| Dense {
                    w: Array2::from_shape_simple_fn((i, o), || rng.random_range(-1.0..1.0)),
                    b: Array1::from_shape_simple_fn(o, || rng.random_range(-0.5..0.5)),
                })
                .collect();
            let batch = MiniBatch {
                x: &rows,
                y: &y,
                w: &w,
                masks: &[],
                n: 5.0,
            };
            let loss = |layers: &[Dense]| {
                loss_and_gradients(layers, &split, activation, objective, &batch).0
            };
            let (_, grads) = loss_and_gradients(&layers, &split, activation, objective, &batch);
            let h = 1e-3f32;
            for l in 0..layers.len() {
                let (rows, cols) = layers[l].w.dim();
                for k in (0..rows).flat_map(|r| (0..cols).map(move |c| [r, c])) {
                    let orig = layers[l].w[k];
                    layers[l].w[k] = orig + h;
                    let up = loss(&layers);
                    layers[l].w[k] = orig - h;
                    let down = loss(&layers);
                    layers[l].w[k] = orig;
                    let numeric = (up - down) / (2.0 * f64::from(h));
                    let analytic = f64::from(grads[l].0[k]);
                    assert!(
                        (numeric - analytic).abs() < 2e-3 + 1e-2 * analytic.abs(),
                        "{activation:?} layer {l} w{k:?}: {numeric} vs {analytic}"
                    );
                }
                for k in 0..layers[l].b.len() {
                    let orig = layers[l].b[k];
                    layers[l].b[k] = orig + h;
                    let up = loss(&layers);
                    layers[l].b[k] = orig - h;
                    let down = loss(&layers);
                    layers[l].b[k] = orig;
                    let numeric = (up - down) / (2.0 * f64::from(h));
                    let analytic = f64::from(grads[l].1[k]);
                    assert!(
                        (numeric - analytic).abs() < 2e-3 + 1e-2 * analytic.abs(),
                        "{activation:?} layer {l} b[{k}]: {numeric} vs {analytic}"
                    );
                }
            }
        }
    }

    #[test]
    fn squared_objective_fits_a_line_on_the_original_scale() {
        // y = 40 + 20 x: targets far from N(0, 1), so the standardisation must be undone.
        let x = Array2::from_shape_fn((400, 1), |(i, _)| i as f32 / 200.0 - 1.0);
        let y: Vec<f32> = x.iter().map(|v| 40.0 + 20.0 * v).collect();
        let config = MlpConfig {
            objective: Objective::Squared,
            hidden: vec![8],
            dropout: 0.0,
            learning_rate: 0.01,
            batch_size: 16,
            max_epochs: 80,
            ..MlpConfig::default()
        };
        let rows = unweighted(&x, &y);
        let mlp = fit(&config, &rows, None, 3).unwrap();
        let p = mlp.predict(array![[0.0f32], [0.5]].view()).unwrap();
        assert!(
            (p[0] - 40.0).abs() < 1.0 && (p[1] - 50.0).abs() < 1.0,
            "{p:?}"
        );
    }

    #[test]
    fn weights_shift_the_decision() {
        // The same point labelled both ways: the heavier label wins.
        let x = Array2::zeros((4, 1));
        let y = [1.0f32, 0.0, 1.0, 0.0];
        let w = [9.0f32, 1.0, 9.0, 1.0];
        let config = MlpConfig {
            hidden: vec![2],
            dropout: 0.0,
            learning_rate: 0.05,
            max_epochs: 200,
            ..MlpConfig::default()
        };
        let rows = Rows {
            x: x.view(),
            y: &y,
            weights: Some(&w),
        };
        let p = fit(&config, &rows, None, 1)
            .unwrap()
            .predict(x.view())
            .unwrap();
        assert!((p[0] - 0.9).abs() < 0.02, "{p:?}");
    }

    #[test]
    fn dropout_drops_its_share_keeps_the_mean_and_reads_the_generator_in_byte_pairs() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mask = dropout_mask((500, 200), 0.2, &mut rng);
        let n = mask.len() as f64;
        let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / n;
        let mean = mask.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        assert!((dropped - 0.2).abs() < 0.005, "dropped {dropped}");
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        // The words are the generator's little-endian byte pairs, as masks were drawn before.
        let mut bytes = vec![0u8; 2 * 6];
        ChaCha8Rng::seed_from_u64(9).fill_bytes(&mut bytes);
        let mask = dropout_mask((2, 3), 0.5, &mut ChaCha8Rng::seed_from_u64(9));
        for (b, &m) in bytes.chunks_exact(2).zip(mask.iter()) {
            assert_eq!(u16::from_le_bytes([b[0], b[1]]) < 32768, m == 0.0);
        }
    }

    #[test]
    fn round_trips_through_postcard() {
        let (x, y) = xor(100, 4);
        let rows = unweighted(&x, &y);
        let config = MlpConfig {
            hidden: vec![4, 3],
            max_epochs: 2,
            ..MlpConfig::default()
        };
        let mlp = fit(&config, &rows, None, 9).unwrap();
        let bytes = postcard::to_stdvec(&mlp).unwrap();
        let back: Mlp = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, mlp);
        assert_eq!(
            back.predict(x.view()).unwrap(),
            mlp.predict(x.view()).unwrap()
        );
    }

    #[test]
    fn refuses_bad_settings_and_shapes() {
        let bad = MlpConfig {
            dropout: 1.0,
            ..MlpConfig::default()
        };
        assert_eq!(
            bad.check().unwrap_err().to_string(),
            "invalid parameter dropout = 1: must be in [0, 0.9]"
        );
        let none = MlpConfig {
            hidden: vec![],
            ..MlpConfig::default()
        };
        assert_eq!(
            none.check().unwrap_err().to_string(),
            "invalid parameter hidden = []: must list 1 to 8 layers"
        );
        let x = Array2::zeros((3, 2));
        let err = fit(
            &MlpConfig::default(),
            &Rows {
                x: x.view(),
                y: &[0.0, 1.0],
                weights: None,
            },
            None,
            1,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "bad input: 2 targets for 3 rows");
        let mlp = fit(
            &MlpConfig {
                max_epochs: 1,
                ..MlpConfig::default()
            },
            &Rows {
                x: x.view(),
                y: &[0.0, 1.0, 0.0],
                weights: None,
            },
            None,
            1,
        )
        .unwrap();
        assert_eq!(
            mlp.predict(Array2::zeros((1, 3)).view())
                .unwrap_err()
                .to_string(),
            "bad input: 3 columns for a network of 2 inputs"
        );
    }
}

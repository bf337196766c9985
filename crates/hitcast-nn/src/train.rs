//! Training: mini-batches, the loss's gradients through the layers (with dropout), AdamW, and
//! early stopping on the validation score.

use super::*;

/// Per layer, the gradient of the batch's mean loss with respect to `w` and `b`.
type Gradients = Vec<(Array2<f32>, Array1<f32>)>;

/// Rows of a training step as the gradient sees them.
pub(crate) struct MiniBatch<'a> {
    pub(crate) x: &'a SplitRows,
    pub(crate) y: &'a [f32],
    pub(crate) w: &'a [f32],
    /// Per hidden layer, these rows' dropout masks; empty runs the network as at prediction.
    pub(crate) masks: &'a [ArrayView2<'a, f32>],
    /// The rows' count: the loss is a mean over them.
    pub(crate) n: f32,
}

/// The batch's mean (weighted) loss and its gradients. The first layer's weights (and its
/// gradient) are in `split`'s training order.
pub(crate) fn loss_and_gradients(
    layers: &[Dense],
    split: &ColumnSplit,
    activation: Activation,
    objective: Objective,
    batch: &MiniBatch,
) -> (f64, Gradients) {
    let MiniBatch { x, y, w, masks, n } = *batch;
    // hidden[l] is hidden layer l's output (feeding layer l + 1); pre[l] is its input.
    let mut hidden: Vec<Array2<f32>> = Vec::with_capacity(layers.len());
    let mut pre = Vec::with_capacity(layers.len());
    let last = layers.len() - 1;
    let mut output = Array2::zeros((0, 1));
    for (l, layer) in layers.iter().enumerate() {
        let z = match hidden.last() {
            None => split.forward(x, &layer.w, &layer.b),
            Some(input) => affine(input.view(), &layer.w, &layer.b),
        };
        if l == last {
            output = z;
            break;
        }
        let mut a = z.mapv(|v| activate(activation, v));
        if let Some(m) = masks.get(l) {
            a *= m;
        }
        pre.push(z);
        hidden.push(a);
    }

    let mut loss = 0.0f64;
    let mut g = Array2::zeros(output.raw_dim());
    for (i, (&z, gi)) in output.iter().zip(g.iter_mut()).enumerate() {
        let (t, wi) = (y[i], w[i]);
        match objective {
            Objective::Logistic => {
                // log(1 + e^z) - t z, stable for large |z|.
                let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
                loss += f64::from(wi * (softplus - t * z));
                *gi = wi * (sigmoid(z) - t) / n;
            }
            Objective::Squared => {
                loss += f64::from(0.5 * wi * (z - t) * (z - t));
                *gi = wi * (z - t) / n;
            }
        }
    }

    let mut grads = Vec::with_capacity(layers.len());
    for l in (0..layers.len()).rev() {
        if l == 0 {
            grads.push(split.backward(x, &g));
            break;
        }
        grads.push((product(hidden[l - 1].t(), g.view()), g.sum_axis(Axis(0))));
        let mut back = product(g.view(), layers[l].w.t());
        back.zip_mut_with(&pre[l - 1], |gv, &zv| *gv *= derivative(activation, zv));
        if let Some(m) = masks.get(l - 1) {
            back *= m;
        }
        g = back;
    }
    grads.reverse();
    (loss / f64::from(n), grads)
}

/// A dropout mask: each unit dropped (0) with probability `p`, else kept and scaled by the
/// inverse of the keep share (inverted dropout: prediction needs no change). The draw is one
/// 16-bit number per unit from the generator's bulk output (an f32 drawn per unit took a
/// quarter of a training step), filled as 16-bit words so that the comparison runs on whole
/// vectors (read as byte pairs, it took a sixth of the train step's CPU); the words are the
/// same little-endian byte pairs, so the masks are the same bit for bit.
pub(crate) fn dropout_mask(shape: (usize, usize), p: f32, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let mut words = vec![0u16; shape.0 * shape.1];
    rng.fill(words.as_mut_slice());
    // p on the 16-bit grid; the scale uses that same keep share so the mean is unchanged.
    let cut = (f64::from(p) * 65536.0).round().min(65535.0) as u16;
    let scale = (65536.0 / (65536.0 - f64::from(cut))) as f32;
    let mask = words
        .iter()
        .map(|&w| if w < cut { 0.0 } else { scale })
        .collect();
    Array2::from_shape_vec(shape, mask).unwrap_or_else(|_| unreachable!("one value per unit"))
}

/// Adam's running moments for one layer.
struct Moments {
    m_w: Array2<f32>,
    v_w: Array2<f32>,
    m_b: Array1<f32>,
    v_b: Array1<f32>,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// A validation score of predictions (higher is better), e.g. average precision.
pub type Score<'f> = &'f mut (dyn FnMut(&[f32]) -> f64 + Send);

/// Trains a network on `train`. With `val` (rows and a score, higher is better, computed from
/// the network's [`Mlp::predict`] output on those rows) it keeps the weights of the best epoch
/// and stops after `patience` epochs without improvement; without, it runs `max_epochs`.
pub fn fit(
    config: &MlpConfig,
    train: &Rows,
    val: Option<(&Rows, Score)>,
    seed: u64,
) -> Result<Mlp, NnError> {
    check_inputs(config, train, val.as_ref().map(|(rows, _)| *rows))?;
    let (n, d) = train.x.dim();
    let ones = vec![1.0; n];
    let weights = train.weights.unwrap_or(&ones);
    let (target_mean, target_sd) = match config.objective {
        Objective::Logistic => (0.0, 1.0),
        Objective::Squared => standardisation(train.y, weights),
    };
    let targets: Vec<f32> = train
        .y
        .iter()
        .map(|t| (t - target_mean) / target_sd)
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layers = initial_layers(config, d, &mut rng);
    // The first layer trains on the split form of the rows (see `input`): its weights are
    // held in the split's order until the network is handed out.
    let split = ColumnSplit::detect(train.x, input::SPARSE_SHARE);
    layers[0].w = split.to_training(&layers[0].w);
    let rows = split.encode(train.x, None);
    let moments: Vec<Moments> = layers
        .iter()
        .map(|l| Moments {
            m_w: Array2::zeros(l.w.raw_dim()),
            v_w: Array2::zeros(l.w.raw_dim()),
            m_b: Array1::zeros(l.b.raw_dim()),
            v_b: Array1::zeros(l.b.raw_dim()),
        })
        .collect();

    let mut mlp = Mlp {
        layers: Vec::new(),
        activation: config.activation,
        objective: config.objective,
        target_mean,
        target_sd,
        best_epoch: 0,
        epochs_run: 0,
    };
    let mut trainer = Trainer {
        config,
        split: &split,
        rows: &rows,
        targets: &targets,
        weights,
        layers,
        moments,
        order: (0..n).collect(),
        rng,
        step: 0,
        batch: SplitRows::empty(),
    };
    match val {
        None => {
            let never = AtomicBool::new(false);
            for epoch in 1..=config.max_epochs {
                if trainer.epoch(&never) != Epoch::Finite {
                    return Err(NnError::Diverged { epoch });
                }
            }
            mlp.layers = trainer.layers;
            mlp.best_epoch = config.max_epochs;
            mlp.epochs_run = config.max_epochs;
        }
        Some((val, score)) => early_stopped(&mut trainer, &mut mlp, val, score)?,
    }
    mlp.layers[0].w = split.to_original(&mlp.layers[0].w);
    Ok(mlp)
}

/// The configuration, the rows and the targets fit together.
fn check_inputs(config: &MlpConfig, train: &Rows, val: Option<&Rows>) -> Result<(), NnError> {
    config.check()?;
    train.check()?;
    if let Some(rows) = val {
        rows.check()?;
        if rows.x.ncols() != train.x.ncols() {
            return Err(NnError::Shape(format!(
                "validation rows have {} columns, training rows {}",
                rows.x.ncols(),
                train.x.ncols()
            )));
        }
    }
    if config.objective == Objective::Logistic && train.y.iter().any(|&t| !(0.0..=1.0).contains(&t))
    {
        return Err(NnError::Shape("logistic targets must be in [0, 1]".into()));
    }
    Ok(())
}

/// The layers for `d` inputs, drawn from `rng`: He-uniform for the rectifiers, Glorot-uniform
/// for tanh and the linear output; biases zero.
fn initial_layers(config: &MlpConfig, d: usize, rng: &mut ChaCha8Rng) -> Vec<Dense> {
    let mut sizes = vec![d];
    sizes.extend(&config.hidden);
    sizes.push(1);
    sizes
        .windows(2)
        .map(|io| {
            let (fan_in, fan_out) = (io[0], io[1]);
            let limit = if config.activation == Activation::Tanh || fan_out == 1 {
                (6.0 / (fan_in + fan_out) as f32).sqrt()
            } else {
                (6.0 / fan_in as f32).sqrt()
            };
            Dense {
                w: Array2::from_shape_simple_fn((fan_in, fan_out), || {
                    rng.random_range(-limit..limit)
                }),
                b: Array1::zeros(fan_out),
            }
        })
        .collect()
}

/// Trains epoch by epoch, scoring each on `val`, and keeps in `mlp` the best-scoring weights
/// (those of the last epoch scored when no score is finite); stops after the configured
/// patience without improvement.
///
/// An epoch's weights are scored on VAL while the next epoch trains beside them: on small
/// training sets scoring VAL is most of an epoch. The weights kept and the stop are those of
/// scoring each epoch before training the next: a stop cuts the epoch training beside it
/// short, and that epoch is dropped. When the other core is busy, the scoring runs first and
/// the next epoch finds the stop before it starts.
fn early_stopped(
    trainer: &mut Trainer<'_>,
    mlp: &mut Mlp,
    val: &Rows,
    score: Score,
) -> Result<(), NnError> {
    let (config, split) = (trainer.config, trainer.split);
    let encoded = split.encode(val.x, None);
    let chunks: Vec<SplitRows> = (0..encoded.n_rows())
        .step_by(PREDICT_CHUNK)
        .map(|start| encoded.slice(start, (start + PREDICT_CHUNK).min(encoded.n_rows())))
        .collect();
    if trainer.epoch(&AtomicBool::new(false)) != Epoch::Finite {
        return Err(NnError::Diverged { epoch: 1 });
    }
    let mut best: Option<(f64, Vec<Dense>)> = None;
    let mut last = Vec::new();
    for epoch in 1..=config.max_epochs {
        let trained = trainer.layers.clone();
        let stop = AtomicBool::new(false);
        let ((value, better), next) = rayon::join(
            || {
                let margins = split_margins(&trained, split, config.activation, &chunks);
                let value = score(&mlp.outputs(margins));
                let better = value.is_finite() && best.as_ref().is_none_or(|(b, _)| value > *b);
                if !better && epoch - mlp.best_epoch >= config.patience {
                    stop.store(true, Ordering::Relaxed);
                }
                (value, better)
            },
            || (epoch < config.max_epochs).then(|| trainer.epoch(&stop)),
        );
        mlp.epochs_run = epoch;
        if better {
            best = Some((value, trained));
            mlp.best_epoch = epoch;
        } else {
            last = trained;
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        if next == Some(Epoch::Diverged) {
            return Err(NnError::Diverged { epoch: epoch + 1 });
        }
    }
    match best {
        Some((_, kept)) => mlp.layers = kept,
        None => {
            mlp.layers = last;
            mlp.best_epoch = mlp.epochs_run;
        }
    }
    Ok(())
}

/// What an epoch of training reads and moves: the layers, Adam's moments, the shuffle and
/// dropout generator, and the batch buffer.
struct Trainer<'a> {
    config: &'a MlpConfig,
    split: &'a ColumnSplit,
    rows: &'a SplitRows,
    targets: &'a [f32],
    weights: &'a [f32],
    layers: Vec<Dense>,
    moments: Vec<Moments>,
    order: Vec<usize>,
    rng: ChaCha8Rng,
    step: i32,
    batch: SplitRows,
}

impl Trainer<'_> {
    /// One pass over the rows in a fresh order, one AdamW step a batch, unless `stop` is
    /// raised before the pass ends.
    fn epoch(&mut self, stop: &AtomicBool) -> Epoch {
        let config = self.config;
        let (lr, decay) = (config.learning_rate as f32, config.weight_decay as f32);
        let dropout = config.dropout as f32;
        shuffle(&mut self.order, &mut self.rng);
        let mut epoch_loss = 0.0;
        for batch in self.order.chunks(config.batch_size) {
            if stop.load(Ordering::Relaxed) {
                return Epoch::Stopped;
            }
            self.batch = self.rows.gather(
                batch,
                std::mem::replace(&mut self.batch, SplitRows::empty()),
            );
            let yb: Vec<f32> = batch.iter().map(|&i| self.targets[i]).collect();
            let wb: Vec<f32> = batch.iter().map(|&i| self.weights[i]).collect();
            let masks: Vec<Array2<f32>> = if dropout > 0.0 {
                config
                    .hidden
                    .iter()
                    .map(|&units| dropout_mask((batch.len(), units), dropout, &mut self.rng))
                    .collect()
            } else {
                Vec::new()
            };
            let masks: Vec<ArrayView2<f32>> = masks.iter().map(|m| m.view()).collect();
            let step_rows = MiniBatch {
                x: &self.batch,
                y: &yb,
                w: &wb,
                masks: &masks,
                n: batch.len() as f32,
            };
            let (loss, grads) = loss_and_gradients(
                &self.layers,
                self.split,
                config.activation,
                config.objective,
                &step_rows,
            );
            epoch_loss += loss * batch.len() as f64;
            self.step += 1;
            let c1 = 1.0 - BETA1.powi(self.step);
            let c2 = 1.0 - BETA2.powi(self.step);
            for ((layer, m), (dw, db)) in self.layers.iter_mut().zip(&mut self.moments).zip(grads) {
                adamw(&mut layer.w, &mut m.m_w, &mut m.v_w, &dw, lr, decay, c1, c2);
                adamw(&mut layer.b, &mut m.m_b, &mut m.v_b, &db, lr, 0.0, c1, c2);
            }
        }
        if epoch_loss.is_finite() {
            Epoch::Finite
        } else {
            Epoch::Diverged
        }
    }
}

/// How an epoch of training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Epoch {
    /// Every batch ran and the loss stayed finite.
    Finite,
    /// The loss is not finite.
    Diverged,
    /// Stopped before the last batch: the layers are partly trained, and not to be used.
    Stopped,
}

/// [`Mlp::margins`] of rows in split form, cut into chunks, the first layer in the split's
/// order. The chunks run side by side: on small training sets scoring VAL is most of an
/// epoch, and each chunk's numbers do not depend on which core computes them.
fn split_margins(
    layers: &[Dense],
    split: &ColumnSplit,
    activation: Activation,
    chunks: &[SplitRows],
) -> Vec<f32> {
    let each: Vec<Vec<f32>> = chunks
        .par_iter()
        .map(|chunk| {
            let mut a = split.forward(chunk, &layers[0].w, &layers[0].b);
            for layer in &layers[1..] {
                a.mapv_inplace(|v| activate(activation, v));
                a = affine(a.view(), &layer.w, &layer.b);
            }
            a.into_raw_vec_and_offset().0
        })
        .collect();
    each.concat()
}

/// The weighted mean and standard deviation (1 when the targets are constant).
fn standardisation(y: &[f32], w: &[f32]) -> (f32, f32) {
    let total: f64 = w
        .iter()
        .map(|&v| f64::from(v))
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mean = y
        .iter()
        .zip(w)
        .map(|(&t, &v)| f64::from(t * v))
        .sum::<f64>()
        / total;
    let var = y
        .iter()
        .zip(w)
        .map(|(&t, &v)| f64::from(v) * (f64::from(t) - mean).powi(2))
        .sum::<f64>()
        / total;
    let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
    (mean as f32, sd as f32)
}

/// Fisher-Yates with the run's generator (rand's `shuffle` would do the same; this keeps the
/// draw order documented and fixed across rand versions).
fn shuffle(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

/// One AdamW step on `p` (any shape): Adam on the gradient, then decoupled decay.
#[allow(clippy::too_many_arguments)] // the optimiser's state and constants, used once
fn adamw<D: ndarray::Dimension>(
    p: &mut ndarray::Array<f32, D>,
    m: &mut ndarray::Array<f32, D>,
    v: &mut ndarray::Array<f32, D>,
    g: &ndarray::Array<f32, D>,
    lr: f32,
    decay: f32,
    c1: f32,
    c2: f32,
) {
    ndarray::Zip::from(p)
        .and(m)
        .and(v)
        .and(g)
        .for_each(|p, m, v, &g| {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            let step = (*m / c1) / ((*v / c2).sqrt() + EPSILON);
            *p -= lr * (step + decay * *p);
        });
}

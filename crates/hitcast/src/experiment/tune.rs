//! Random search per model family, scored on VAL (average precision for classifiers, R² for
//! regressors), bounded by a trial count and a time budget. Trial 0 is always the documented
//! defaults, so tuning never ends below them on VAL.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Event, ExperimentError, Stage};
use crate::metrics::{average_precision, RegressionMetrics};
use crate::models::{
    Activation, BoostingParams, Classifier, ClassifierKind, ForestParams, LinearParams,
    LogisticParams, MaxFeatures, MlpConfig, ModelSpec, Objective, Regressor, RegressorKind, Task,
    TrainSet,
};

/// Budget of a search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TuneConfig {
    /// Trials per family, the defaults included.
    pub trials: usize,
    /// Wall time per family; the trial running when it runs out is the last.
    pub time_budget: Duration,
}

/// The search spaces, for `--help`.
pub fn search_space_doc() -> &'static str {
    "logreg: l2 log-uniform 1e-3..1e3. \
     linear: l2 log-uniform 1e-3..1e4. \
     rf: n_trees 200-600, max_depth 6-16, min_samples_leaf log-uniform 1..50, \
     max_features sqrt|log2|0.2|0.35|0.5, sample_share 0.3-0.9. \
     gbm: learning_rate log-uniform 0.01..0.2, max_depth 3-10, min_child_weight log-uniform 0.5..50, \
     subsample 0.5-1, colsample_bytree 0.3-1, l2 log-uniform 0.1..50. \
     mlp: hidden [64]|[128,64]|[256,128]|[128,64,32], activation relu|gelu|tanh, dropout 0-0.5, \
     weight_decay log-uniform 1e-6..1e-2, learning_rate log-uniform 3e-4..3e-3, batch_size 128|256|512. \
     stack: not searched (its members keep their defaults)."
}

fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..hi.ln())).exp()
}

/// A random specification of `family`, or `None` for a family without a search space.
fn sample(rng: &mut ChaCha8Rng, task: Task, family: &str) -> Option<ModelSpec> {
    Some(match family {
        "logreg" => ModelSpec::Logistic(LogisticParams {
            l2: log_uniform(rng, 1e-3, 1e3),
            ..Default::default()
        }),
        "linear" => ModelSpec::Linear(LinearParams {
            l2: log_uniform(rng, 1e-3, 1e4),
        }),
        "rf" => ModelSpec::Forest(ForestParams {
            task,
            n_trees: rng.random_range(200..=600),
            max_depth: rng.random_range(6..=16),
            min_samples_leaf: log_uniform(rng, 1.0, 50.0).round(),
            max_features: [
                MaxFeatures::Sqrt,
                MaxFeatures::Log2,
                MaxFeatures::Share(0.2),
                MaxFeatures::Share(0.35),
                MaxFeatures::Share(0.5),
            ][rng.random_range(0..5)],
            sample_share: rng.random_range(0.3..0.9),
            ..ForestParams::default()
        }),
        "gbm" => ModelSpec::Boosting(BoostingParams {
            task,
            learning_rate: log_uniform(rng, 0.01, 0.2),
            max_depth: rng.random_range(3..=10),
            min_child_weight: log_uniform(rng, 0.5, 50.0),
            subsample: rng.random_range(0.5..1.0),
            colsample_bytree: rng.random_range(0.3..1.0),
            l2: log_uniform(rng, 0.1, 50.0),
            ..BoostingParams::default()
        }),
        "mlp" => ModelSpec::Mlp(MlpConfig {
            objective: match task {
                Task::Classification => Objective::Logistic,
                Task::Regression => Objective::Squared,
            },
            hidden: [vec![64], vec![128, 64], vec![256, 128], vec![128, 64, 32]]
                [rng.random_range(0..4)]
            .clone(),
            activation: [Activation::Relu, Activation::Gelu, Activation::Tanh]
                [rng.random_range(0..3)],
            dropout: rng.random_range(0.0..0.5),
            weight_decay: log_uniform(rng, 1e-6, 1e-2),
            learning_rate: log_uniform(rng, 3e-4, 3e-3),
            batch_size: [128, 256, 512][rng.random_range(0..3)],
            ..MlpConfig::default()
        }),
        _ => return None,
    })
}

/// Runs the search and returns the specification with the best VAL score.
fn search(
    family: &str,
    defaults: ModelSpec,
    task: Task,
    config: &TuneConfig,
    seed: u64,
    on_event: &mut dyn FnMut(Event),
    mut score: impl FnMut(&ModelSpec) -> Result<f64, ExperimentError>,
) -> Result<ModelSpec, ExperimentError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7475_6e65);
    let started = Instant::now();
    let mut best = (f64::NEG_INFINITY, defaults.clone());
    for trial in 0..config.trials.max(1) {
        if trial > 0 && started.elapsed() >= config.time_budget {
            break;
        }
        let spec = if trial == 0 {
            defaults.clone()
        } else {
            match sample(&mut rng, task, family) {
                Some(spec) => spec,
                None => break,
            }
        };
        let s = score(&spec)?;
        on_event(Event::Trial(family, trial, s));
        if s > best.0 {
            best = (s, spec);
        }
    }
    tracing::info!(family, score = best.0, params = %best.1.params_json(), "tuned on VAL");
    Ok(best.1)
}

/// Tunes a classifier family on VAL average precision; trial 0 is `defaults`.
pub(crate) fn tune_classifier(
    kind: ClassifierKind,
    defaults: ModelSpec,
    train: &TrainSet,
    val: &TrainSet,
    config: &TuneConfig,
    seed: u64,
    on_event: &mut dyn FnMut(Event),
) -> Result<ModelSpec, ExperimentError> {
    let stage = Stage::Tuning(kind.name());
    let labels: Vec<bool> = val.y.iter().map(|&y| y > 0.5).collect();
    search(
        kind.name(),
        defaults,
        Task::Classification,
        config,
        seed,
        on_event,
        |spec| {
            let model = spec
                .fit_classifier(train, Some(val), seed)
                .map_err(ExperimentError::model(&stage))?;
            average_precision(&model.predict_proba(val.x), &labels)
                .map_err(ExperimentError::metric(&stage))
        },
    )
}

/// Tunes a regressor family on VAL R²; trial 0 is `defaults`.
pub(crate) fn tune_regressor(
    kind: RegressorKind,
    defaults: ModelSpec,
    train: &TrainSet,
    val: &TrainSet,
    config: &TuneConfig,
    seed: u64,
    on_event: &mut dyn FnMut(Event),
) -> Result<ModelSpec, ExperimentError> {
    let stage = Stage::Tuning(kind.name());
    search(
        kind.name(),
        defaults,
        Task::Regression,
        config,
        seed,
        on_event,
        |spec| {
            let model = spec
                .fit_regressor(train, Some(val), seed)
                .map_err(ExperimentError::model(&stage))?;
            RegressionMetrics::new(&model.predict(val.x), val.y)
                .map(|m| m.r2)
                .map_err(ExperimentError::metric(&stage))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_trial_zero_and_the_best_score_wins() {
        let config = TuneConfig {
            trials: 5,
            time_budget: Duration::from_secs(60),
        };
        let mut seen = Vec::new();
        let mut scores = [0.5, 0.2, 0.9, 0.1, 0.3].into_iter();
        let best = search(
            "logreg",
            ModelSpec::classifier(ClassifierKind::Logreg),
            Task::Classification,
            &config,
            1,
            &mut |e| {
                if let Event::Trial(_, n, s) = e {
                    seen.push((n, s));
                }
            },
            |_| Ok(scores.next().unwrap()),
        )
        .unwrap();
        assert_eq!(seen, [(0, 0.5), (1, 0.2), (2, 0.9), (3, 0.1), (4, 0.3)]);
        // Trial 2 won; it is a sampled specification, not the defaults.
        assert_ne!(best, ModelSpec::classifier(ClassifierKind::Logreg));
    }

    #[test]
    fn an_exhausted_budget_stops_after_the_defaults() {
        let config = TuneConfig {
            trials: 50,
            time_budget: Duration::ZERO,
        };
        let mut n = 0;
        let best = search(
            "gbm",
            ModelSpec::classifier(ClassifierKind::Gbm),
            Task::Classification,
            &config,
            1,
            &mut |_| {},
            |_| {
                n += 1;
                Ok(0.1)
            },
        )
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(best, ModelSpec::classifier(ClassifierKind::Gbm));
    }

    #[test]
    fn samples_are_valid_parameters() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(sample(&mut rng, Task::Classification, "stack"), None);
        for family in ["logreg", "linear", "rf", "gbm", "mlp"] {
            for _ in 0..50 {
                let spec = sample(
                    &mut rng,
                    if family == "linear" {
                        Task::Regression
                    } else {
                        Task::Classification
                    },
                    family,
                )
                .unwrap();
                assert!(spec.check().is_ok(), "{family}: {spec:?}");
            }
        }
    }
}

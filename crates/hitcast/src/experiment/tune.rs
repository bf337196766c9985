//! Random search per model family, scored on VAL (average precision for classifiers, R² for
//! regressors), bounded by a trial count and a time budget. Trial 0 is always the documented
//! defaults, so tuning never ends below them on VAL.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Event, ExperimentError};
use crate::metrics::{average_precision, RegressionMetrics};
use crate::models::{
    BoostingParams, Classifier, ClassifierKind, ForestParams, LinearParams, LogisticParams,
    MaxFeatures, ModelSpec, Regressor, RegressorKind, Task, TrainSet,
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
     subsample 0.5-1, colsample_bytree 0.3-1, l2 log-uniform 0.1..50."
}

fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo.ln()..hi.ln())).exp()
}

fn sample(rng: &mut ChaCha8Rng, task: Task, family: &str) -> ModelSpec {
    match family {
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
        }),
        _ => ModelSpec::Boosting(BoostingParams {
            task,
            learning_rate: log_uniform(rng, 0.01, 0.2),
            max_depth: rng.random_range(3..=10),
            min_child_weight: log_uniform(rng, 0.5, 50.0),
            subsample: rng.random_range(0.5..1.0),
            colsample_bytree: rng.random_range(0.3..1.0),
            l2: log_uniform(rng, 0.1, 50.0),
            ..BoostingParams::default()
        }),
    }
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
            sample(&mut rng, task, family)
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

/// Tunes a classifier family on VAL average precision.
pub(super) fn tune_classifier(
    kind: ClassifierKind,
    train: &TrainSet,
    val: &TrainSet,
    config: &TuneConfig,
    seed: u64,
    on_event: &mut dyn FnMut(Event),
) -> Result<ModelSpec, ExperimentError> {
    let cell = format!("tune/{kind}");
    let labels: Vec<bool> = val.y.iter().map(|&y| y > 0.5).collect();
    search(
        kind.name(),
        ModelSpec::classifier(kind),
        Task::Classification,
        config,
        seed,
        on_event,
        |spec| {
            let model = spec
                .fit_classifier(train, Some(val), seed)
                .map_err(|source| ExperimentError::Model {
                    cell: cell.clone(),
                    source,
                })?;
            average_precision(&model.predict_proba(val.x), &labels).map_err(|source| {
                ExperimentError::Metric {
                    cell: cell.clone(),
                    source,
                }
            })
        },
    )
}

/// Tunes a regressor family on VAL R².
pub(super) fn tune_regressor(
    kind: RegressorKind,
    train: &TrainSet,
    val: &TrainSet,
    config: &TuneConfig,
    seed: u64,
    on_event: &mut dyn FnMut(Event),
) -> Result<ModelSpec, ExperimentError> {
    let cell = format!("tune/{kind}");
    search(
        kind.name(),
        ModelSpec::regressor(kind),
        Task::Regression,
        config,
        seed,
        on_event,
        |spec| {
            let model = spec
                .fit_regressor(train, Some(val), seed)
                .map_err(|source| ExperimentError::Model {
                    cell: cell.clone(),
                    source,
                })?;
            RegressionMetrics::new(&model.predict(val.x), val.y)
                .map(|m| m.r2)
                .map_err(|source| ExperimentError::Metric {
                    cell: cell.clone(),
                    source,
                })
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
        for family in ["logreg", "linear", "rf", "gbm"] {
            for _ in 0..50 {
                let spec = sample(
                    &mut rng,
                    if family == "linear" {
                        Task::Regression
                    } else {
                        Task::Classification
                    },
                    family,
                );
                let ok = match spec {
                    ModelSpec::Logistic(p) => crate::models::Params::check(p).is_ok(),
                    ModelSpec::Linear(p) => crate::models::Params::check(p).is_ok(),
                    ModelSpec::Forest(p) => crate::models::Params::check(p).is_ok(),
                    ModelSpec::Boosting(p) => crate::models::Params::check(p).is_ok(),
                };
                assert!(ok, "{family}");
            }
        }
    }
}

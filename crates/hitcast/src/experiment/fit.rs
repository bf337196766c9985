//! One cell fitted and measured: a classifier (VAL picks its F1 threshold, TEST is scored) or
//! a score regressor, with the parameters a cell runs with.

use std::time::Instant;

use super::results::{ClassifierFigures, Figures, RegressorFigures};
use super::{Cell, ExperimentError, Prepared, ResultRow, Stage};
use crate::metrics::{
    average_precision, best_f1_threshold, ClassificationMetrics, RegressionMetrics,
};
use crate::models::{
    Classifier, ClassifierKind, FittedClassifier, ModelSpec, Regressor, RegressorKind, TrainSet,
};
use crate::sampling::Strategy;

pub(crate) fn classify(
    cell: Cell,
    spec: &ModelSpec,
    train: &TrainSet,
    val: &TrainSet,
    data: &Prepared,
    seed: u64,
    fitted: &[&FittedClassifier],
) -> Result<(ResultRow, FittedClassifier), ExperimentError> {
    let stage = Stage::Cell(cell);
    let model_error = ExperimentError::model(&stage);
    let metric_error = ExperimentError::metric(&stage);
    let start = Instant::now();
    let model = spec
        .fit_classifier_reusing(train, Some(val), seed, fitted)
        .map_err(model_error)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let val_labels: Vec<bool> = data.val_y.iter().map(|&y| y > 0.5).collect();
    let val_scores = model.predict_proba(&data.val_x);
    let threshold = best_f1_threshold(&val_scores, &val_labels).map_err(metric_error)?;
    let val_pr_auc = average_precision(&val_scores, &val_labels).map_err(metric_error)?;
    let start = Instant::now();
    let test_scores = model.predict_proba(&data.test_x);
    let predict_seconds = start.elapsed().as_secs_f64();
    let m = ClassificationMetrics::new(&test_scores, &data.test_labels, threshold.value)
        .map_err(metric_error)?;
    Ok((
        ResultRow {
            params: spec.params_json(),
            fit_seconds,
            predict_seconds,
            rows_fit: train.y.len(),
            rounds: model.rounds(),
            ..ResultRow::new(
                cell,
                Figures::Classifier(ClassifierFigures {
                    roc_auc: m.roc_auc,
                    pr_auc: m.pr_auc,
                    f1: m.f1,
                    precision: m.precision,
                    recall: m.recall,
                    accuracy: m.accuracy,
                    balanced_accuracy: m.balanced_accuracy,
                    threshold: threshold.value,
                    val_pr_auc,
                    val_f1: threshold.f1,
                }),
            )
        },
        model,
    ))
}

pub(crate) fn regress(
    cell: Cell,
    spec: &ModelSpec,
    data: &Prepared,
    seed: u64,
) -> Result<ResultRow, ExperimentError> {
    let stage = &Stage::Cell(cell);
    let train = TrainSet::new(&data.fit_x, &data.fit_score);
    let val = TrainSet::new(&data.val_x, &data.val_score);
    let start = Instant::now();
    let model = spec
        .fit_regressor(&train, Some(&val), seed)
        .map_err(ExperimentError::model(stage))?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let val_m = RegressionMetrics::new(&model.predict(&data.val_x), &data.val_score)
        .map_err(ExperimentError::metric(stage))?;
    let start = Instant::now();
    let predicted = model.predict(&data.test_x);
    let predict_seconds = start.elapsed().as_secs_f64();
    let m = RegressionMetrics::new(&predicted, &data.test_score)
        .map_err(ExperimentError::metric(stage))?;
    let row = ResultRow {
        params: spec.params_json(),
        fit_seconds,
        predict_seconds,
        rows_fit: train.y.len(),
        rounds: model.rounds(),
        ..ResultRow::new(
            cell,
            Figures::Regressor(RegressorFigures {
                r2: m.r2,
                rmse: m.rmse,
                mae: m.mae,
                val_r2: val_m.r2,
            }),
        )
    };
    Ok(row)
}

/// The parameters of an untuned classifier cell: the family's defaults for rows resampled by
/// `strategy` ([`ModelSpec::classifier_for`]) with each `--param` of the family applied.
/// `experiment` and `train` both take a cell's parameters from here, so `train --fits` finds
/// the grid's fit.
pub fn classifier_spec(
    kind: ClassifierKind,
    strategy: Strategy,
    params: &[(String, String, String)],
) -> Result<ModelSpec, ExperimentError> {
    with_params(
        ModelSpec::classifier_for(kind, strategy),
        kind.name(),
        params,
    )
}

/// The parameters a score regressor of `kind` runs with: its family's defaults with `params`
/// on top, as [`classifier_spec`] for classifiers.
pub fn regressor_spec(
    kind: RegressorKind,
    params: &[(String, String, String)],
) -> Result<ModelSpec, ExperimentError> {
    with_params(ModelSpec::regressor(kind), kind.name(), params)
}

/// `spec` with each of `params` (`--param FAMILY.KEY=VALUE`) of `family` applied, in order.
pub(crate) fn with_params(
    mut spec: ModelSpec,
    family: &str,
    params: &[(String, String, String)],
) -> Result<ModelSpec, ExperimentError> {
    for (_, key, value) in params.iter().filter(|(f, _, _)| f == family) {
        spec = spec
            .with_param(key, value)
            .map_err(ExperimentError::model(&Stage::Param(format!(
                "{family}.{key}={value}"
            ))))?;
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cells_parameters_are_its_strategys_defaults_with_the_params_on_top() {
        let rate = |spec: ModelSpec| match spec {
            ModelSpec::Boosting(p) => (p.learning_rate, p.max_depth),
            other => panic!("{other:?}"),
        };
        let param = |key: &str, value: &str| ("gbm".to_owned(), key.to_owned(), value.to_owned());
        let gbm = ClassifierKind::Gbm;
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::None, &[]).unwrap()),
            (0.05, 6)
        );
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Smote, &[]).unwrap()),
            (0.1, 6)
        );
        // Another parameter keeps the strategy's rate; a rate given wins.
        let depth = [param("max_depth", "4")];
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Adasyn, &depth).unwrap()),
            (0.1, 4)
        );
        let given = [param("learning_rate", "0.07"), param("max_depth", "4")];
        assert_eq!(
            rate(classifier_spec(gbm, Strategy::Smote, &given).unwrap()),
            (0.07, 4)
        );
        // Other families' params do not touch it; a bad value is named.
        let rf = [("rf".to_owned(), "n_trees".to_owned(), "10".to_owned())];
        assert_eq!(
            classifier_spec(gbm, Strategy::Weights, &rf).unwrap(),
            ModelSpec::classifier(gbm)
        );
        let err = classifier_spec(gbm, Strategy::Smote, &[param("learning_rate", "2")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--param gbm.learning_rate=2"), "{err}");
    }

    #[test]
    fn a_regressors_parameters_are_its_familys_defaults_with_the_params_on_top() {
        let linear = RegressorKind::Linear;
        let l2 = |spec: ModelSpec| match spec {
            ModelSpec::Linear(p) => p.l2,
            other => panic!("{other:?}"),
        };
        assert_eq!(l2(regressor_spec(linear, &[]).unwrap()), 1.0);
        let given = [
            ("linear".to_owned(), "l2".to_owned(), "0.5".to_owned()),
            ("gbm".to_owned(), "max_depth".to_owned(), "4".to_owned()),
        ];
        assert_eq!(l2(regressor_spec(linear, &given).unwrap()), 0.5);
        let bad = [("linear".to_owned(), "l2".to_owned(), "-1".to_owned())];
        let err = regressor_spec(linear, &bad).unwrap_err().to_string();
        assert!(
            err.starts_with("--param linear.l2=-1: model failed"),
            "{err}"
        );
    }
}

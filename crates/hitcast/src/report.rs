//! The joined report: the EDA, the experiment results (one or more protocols side by side) and,
//! with a saved model, its card: TEST metrics, ROC and precision-recall curves, the confusion
//! matrix at the saved threshold, a calibration plot and global feature importance.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::artifact::Metadata;
use crate::data::{RawRow, Tracks};
use crate::eda::html::{figure, page_end, page_start, sections, thousands};
use crate::eda::svg::{self, escape};
use crate::eda::Eda;
use crate::experiment::{Figure, Results};
use crate::explain::{Method, SamplingOptions};
use crate::features::OutlierSetup;
use crate::fsutil::write_atomic;
use crate::metrics::CalibrationBin;
use crate::models::ModelError;
use crate::models::Task;
use crate::predictor::{MeasureError, Predictor};
use crate::split::{Protocol, Split, SplitError};

/// Why a model card could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The data has no popularity column to score TEST against.
    #[error("the data has no popularity column, so the model's TEST rows cannot be scored")]
    Unlabelled,
    /// The model's split could not be rebuilt.
    #[error("cannot rebuild the model's split")]
    Split(#[from] SplitError),
    /// Explaining the model failed.
    #[error("cannot compute feature importance")]
    Model(#[from] ModelError),
    /// TEST could not be measured (one class only, say).
    #[error("cannot measure the model on TEST")]
    Measure(#[from] MeasureError),
}

/// A saved model measured again on its own TEST rows.
#[derive(Clone, Debug, Serialize)]
pub struct ModelCard {
    /// What the model says about itself.
    pub metadata: Metadata,
    /// Whether the data file is the one the model was trained on (same SHA-256).
    pub same_data: bool,
    /// TEST rows scored.
    pub test_rows: usize,
    /// ROC curve: (false positive rate, true positive rate).
    pub roc: Curve,
    /// Precision-recall curve: (recall, precision).
    pub pr: Curve,
    /// Reliability of the calibrated probability: ten bins of equal row count, the top one cut
    /// finer ([`crate::metrics::RELIABILITY_EDGES`]).
    pub calibration: Vec<CalibrationBin>,
    /// The largest calibrated probability on TEST (the chart reaches it: the app shows
    /// chances beyond the top bin's mean).
    pub largest_probability: f64,
    /// Mean |contribution| (log-odds) per feature over a TEST sample, largest first.
    pub importance: Vec<(String, f64)>,
    /// How the contributions were computed, and over how many rows.
    pub importance_method: String,
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The exploratory analysis.
    pub eda: Eda,
    /// Experiment results, the first the main one.
    pub experiments: Vec<Results>,
    /// The model's card, if a model was given.
    pub model: Option<ModelCard>,
}

/// Points of a curve, `(x, y)`.
pub type Curve = Vec<(f64, f64)>;

/// Curves are thinned to about this many points.
const CURVE_POINTS: usize = 300;

/// ROC and precision-recall points at every distinct score, thinned.
fn curves(scores: &[f64], labels: &[bool]) -> (Curve, Curve) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = labels.iter().filter(|&&l| l).count().max(1) as f64;
    let negatives = (labels.len() as f64 - positives).max(1.0);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            roc.push((fp / negatives, tp / positives));
            pr.push((tp / positives, tp / (tp + fp)));
        }
    }
    (thin(roc), thin(pr))
}

fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= CURVE_POINTS {
        return points;
    }
    let step = points.len() as f64 / CURVE_POINTS as f64;
    let last = points[points.len() - 1];
    let mut out: Vec<(f64, f64)> = (0..CURVE_POINTS)
        .map(|k| points[(k as f64 * step) as usize])
        .collect();
    out.push(last);
    out
}

/// Rows explained for the importance: many for exact methods, fewer for sampling.
const IMPORTANCE_ROWS_EXACT: usize = 2000;
const IMPORTANCE_ROWS_SAMPLED: usize = 200;

/// Scores the model's TEST rows in `rows` (the file it was trained on, ideally) and builds its
/// card. `data_sha256` is the file's hash, compared with the model's.
pub fn model_card(
    predictor: &Predictor,
    rows: Vec<RawRow>,
    data_sha256: &str,
) -> Result<ModelCard, ReportError> {
    let m = predictor.metadata();
    let table = m.protocol.table(rows);
    let labels = table
        .labels(m.label_threshold)
        .ok_or(ReportError::Unlabelled)?;
    let split = Split::new(&table, &labels, m.protocol, m.fold.unwrap_or(0), m.seed)?;
    model_card_of(predictor, &table, &split.test, data_sha256)
}

/// [`model_card`] of the model's own table and TEST rows, for a caller that holds them (the
/// main job, which has just trained the model on them).
pub fn model_card_of(
    predictor: &Predictor,
    table: &Tracks,
    test: &[usize],
    data_sha256: &str,
) -> Result<ModelCard, ReportError> {
    let m = predictor.metadata();
    let measured = predictor.measure(table, test, m.label_threshold)?;
    let (scores, test_labels) = (&measured.probabilities, &measured.labels);
    let (roc, pr) = curves(scores, test_labels);
    let x = predictor.pipeline().transform(table, test).matrix;

    let n = if predictor.method() != Method::SamplingShapley {
        IMPORTANCE_ROWS_EXACT
    } else {
        IMPORTANCE_ROWS_SAMPLED
    };
    let mut rng = ChaCha8Rng::seed_from_u64(m.seed);
    let mut sample = rand::seq::index::sample(&mut rng, x.n_rows(), n.min(x.n_rows())).into_vec();
    sample.sort_unstable();
    let options = SamplingOptions {
        samples: 64,
        seed: m.seed,
    };
    let explained = predictor.explain_matrix(&x.select_rows(&sample), options)?;
    let mut totals: Vec<(String, f64)> = Vec::new();
    for e in &explained {
        for c in &e.contributions {
            match totals.iter_mut().find(|t| t.0 == c.feature) {
                Some(t) => t.1 += c.contribution.abs(),
                None => totals.push((c.feature.clone(), c.contribution.abs())),
            }
        }
    }
    let rows_explained = explained.len().max(1) as f64;
    let mut importance: Vec<(String, f64)> = totals
        .into_iter()
        .map(|(f, t)| (f, t / rows_explained))
        .collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1));
    let method = explained
        .first()
        .map_or("none", |e| e.method.describe())
        .to_owned();
    Ok(ModelCard {
        metadata: m.clone(),
        same_data: m.data_sha256 == data_sha256,
        test_rows: scores.len(),
        calibration: measured.reliability.clone(),
        largest_probability: scores.iter().copied().fold(0.0, f64::max),
        roc,
        pr,
        importance,
        importance_method: format!("{method}, over {} TEST rows", explained.len()),
    })
}

/// The page.
pub fn render(report: &Report) -> String {
    let parts = parts(report);
    let mut h = page_start("hitcast report");
    h.push_str("<h1>hitcast report</h1><p class=\"lead\">The data, the experiment grid, and the saved model, on one page. Every choice was made on VAL; TEST was only scored.</p>");
    h.push_str(&parts.models);
    h.push_str("<h2 id=\"data\">The data</h2>");
    h.push_str(&parts.data);
    h.push_str(&page_end("report.json"));
    h
}

/// The report's two halves as HTML fragments (styled by [`crate::eda::html::CSS`]), for pages
/// that show them apart: the web app's Models and Explore pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    /// The model card, the grids' tables and the protocols side by side.
    pub models: String,
    /// The EDA's sections.
    pub data: String,
}

/// File names of the fragments `hitcast report` writes beside index.html.
pub const PART_FILES: [&str; 2] = ["models.part.html", "data.part.html"];

/// Writes `dir/index.html` and its numbers `dir/json_name`, each atomically, creating `dir`.
pub fn write_page(dir: &Path, json_name: &str, json: &[u8], page: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join(json_name), json)?;
    write_atomic(&dir.join("index.html"), page.as_bytes())
}

/// Writes the report to `dir`: the page, its numbers (report.json) and its halves
/// ([`PART_FILES`], for `hitcast serve --report DIR`'s Models and Explore pages). Returns the
/// page.
pub fn write_report(dir: &Path, report: &Report) -> io::Result<String> {
    let json = serde_json::to_vec_pretty(report).map_err(io::Error::other)?;
    let parts = parts(report);
    std::fs::create_dir_all(dir)?;
    for (name, html) in PART_FILES.iter().zip([&parts.models, &parts.data]) {
        write_atomic(&dir.join(name), html.as_bytes())?;
    }
    let page = render(report);
    write_page(dir, "report.json", &json, &page)?;
    Ok(page)
}

/// Splits the report into its [`Parts`].
pub fn parts(report: &Report) -> Parts {
    let mut models = String::new();
    if let Some(card) = &report.model {
        model_section(&mut models, card);
    }
    for (k, results) in report.experiments.iter().enumerate() {
        results_section(&mut models, results, k);
    }
    if report.experiments.len() > 1 {
        side_by_side(&mut models, &report.experiments);
    }
    Parts {
        models,
        data: sections(&report.eda),
    }
}

fn model_section(h: &mut String, card: &ModelCard) {
    model_summary(h, card);
    companions_table(h, &card.metadata);
    metadata_tables(h, &card.metadata);
    model_figures(h, card);
}

/// What the model is and how well it answers, in sentences.
fn model_summary(h: &mut String, card: &ModelCard) {
    let m = &card.metadata;
    let c = &m.test_classification;
    let _ = write!(
        h,
        "<h2 id=\"model\">The saved model</h2><p><b>{}</b> classifier and <b>{}</b> score regressor; imbalance strategy {}; protocol <b>{}</b>{}; popular = popularity &gt; {}. {}</p>",
        escape(&family(&m.classifier)),
        escape(&family(&m.regressor)),
        m.strategy.name(),
        m.protocol,
        m.fold.map(|f| format!(", fold {f}")).unwrap_or_default(),
        m.label_threshold,
        if card.same_data {
            "Scored again on its own TEST rows."
        } else {
            "<b>The data file differs from the one the model was trained on (SHA-256): the curves below are on this file's TEST rows.</b>"
        }
    );
    let _ = write!(
        h,
        "<p>In plain words: of the tracks it flags as hit contenders, <b>{:.0}%</b> are popular; it finds <b>{:.0}%</b> of the popular tracks. TEST: {} tracks, {:.1}% popular; ROC-AUC {:.3}, PR-AUC {:.3}, F1 {:.3}, accuracy {:.3} (always answering \"not popular\" scores {:.3}); the 0-100 score: R² {:.3}, RMSE {:.2}, MAE {:.2}.</p>",
        c.precision * 100.0,
        c.recall * 100.0,
        thousands(c.rows),
        c.positive_rate * 100.0,
        c.roc_auc,
        c.pr_auc,
        c.f1,
        c.accuracy,
        c.majority_accuracy,
        m.test_regression.r2,
        m.test_regression.rmse,
        m.test_regression.mae
    );
    let (cal, iv) = (&m.calibration, &m.interval);
    let _ = write!(
        h,
        "<p>Trustworthy answers, on TEST: the probability is calibrated on VAL ({} scaling, chosen over {} by out-of-fold VAL log-loss {:.4} against {:.4}); its expected calibration error is <b>{:.4}</b> ({:.4} before calibration), and it averages {:.3} against a popular share of {:.3}. The score's {:.0}% range ({}) holds the true score for <b>{:.1}%</b> of TEST tracks, {:.1} points wide on average; the range reaches above {} for {:.0}% of the flagged tracks.</p>",
        cal.choice.method,
        if cal.choice.method == "platt" { "isotonic" } else { "Platt" },
        cal.choice.platt_logloss.min(cal.choice.isotonic_logloss),
        cal.choice.platt_logloss.max(cal.choice.isotonic_logloss),
        cal.test_ece,
        cal.test_ece_raw,
        cal.test_mean_probability,
        c.positive_rate,
        iv.choice.coverage * 100.0,
        iv.choice.method_text(),
        iv.test.coverage * 100.0,
        iv.test.mean_width,
        m.label_threshold,
        iv.test_flagged_reaching * 100.0
    );
}

/// The file's other models: what each answers and how well.
fn companions_table(h: &mut String, m: &Metadata) {
    if !m.companions.is_empty() {
        let _ = write!(
            h,
            "<p>The file's other models answer tracks that have less than the main model reads; every answer says which model gave it.</p><table><tr><th>model</th><th style=\"text-align:left\">answers</th><th>features</th><th>threshold</th><th>TEST ROC-AUC</th><th>PR-AUC</th><th>score R²</th></tr>"
        );
        for c in &m.companions {
            let answers = match c.role {
                crate::artifact::Role::NewSong => "tracks without a track_id (new songs)",
                crate::artifact::Role::NoGenres => {
                    "tracks with no genre it learnt, and every track with --genres ignore"
                }
                crate::artifact::Role::FromAudio => "songs measured from their audio files",
                crate::artifact::Role::Main => "",
            };
            let t = &c.test_classification;
            let _ = write!(
                h,
                "<tr><td>{}</td><td style=\"text-align:left\">{}</td><td>{}</td><td>{:.4}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
                c.role.name(),
                answers,
                c.features.len(),
                c.decision_threshold,
                t.roc_auc,
                t.pr_auc,
                c.test_regression.r2
            );
        }
        h.push_str("</table>");
    }
}

/// Who wrote the model, from what, with which parameters; its confusion matrix on TEST.
fn metadata_tables(h: &mut String, m: &Metadata) {
    let c = &m.test_classification;
    let rounds = |r: Option<usize>| r.map_or_else(String::new, |r| format!(" ({r} rounds kept)"));
    let _ = write!(
        h,
        "<table><tr><th>model metadata</th><th style=\"text-align:left\">value</th></tr><tr><td>written by</td><td style=\"text-align:left\">hitcast {}, {}</td></tr><tr><td>training data SHA-256</td><td style=\"text-align:left\"><code>{}</code></td></tr><tr><td>seed</td><td style=\"text-align:left\">{}</td></tr><tr><td>features</td><td style=\"text-align:left\">{}</td></tr><tr><td>classifier</td><td style=\"text-align:left\">{}{}</td></tr><tr><td>regressor</td><td style=\"text-align:left\">{}{}</td></tr></table>",
        escape(&m.hitcast_version),
        utc_time(m.created_unix),
        escape(&m.data_sha256),
        m.seed,
        m.features.len(),
        escape(&params_text(&m.classifier)),
        rounds(m.classifier_rounds),
        escape(&params_text(&m.regressor)),
        rounds(m.regressor_rounds)
    );
    let k = &c.confusion;
    let _ = write!(
        h,
        "<table><tr><th>at threshold {:.4} (chosen on VAL)</th><th>flagged</th><th>not flagged</th></tr><tr><td>popular</td><td>{}</td><td>{}</td></tr><tr><td>not popular</td><td>{}</td><td>{}</td></tr></table>",
        m.decision_threshold,
        thousands(k.tp),
        thousands(k.fn_),
        thousands(k.fp),
        thousands(k.tn)
    );
}

/// The ROC, precision-recall and calibration curves and the features that move the chance,
/// two a row.
fn model_figures(h: &mut String, card: &ModelCard) {
    let m = &card.metadata;
    let c = &m.test_classification;
    h.push_str("<div class=\"grid-2\">");
    figure(
        h,
        &svg::curves("ROC curve (TEST)", "false positive rate", "true positive rate", &[(&format!("model, AUC {:.3}", c.roc_auc), &card.roc)], true, 1.0),
        "How many popular tracks are found (up) for how many unpopular ones flagged (right); the dashed diagonal is chance.",
    );
    figure(
        h,
        &svg::curves("Precision-recall curve (TEST)", "recall", "precision", &[(&format!("model, AP {:.3}", c.pr_auc), &card.pr)], false, 1.0),
        &format!("Precision at each recall. With {:.1}% popular tracks, a random ranking sits at {:.3}: this is the curve to read at this imbalance.", c.positive_rate * 100.0, c.positive_rate),
    );
    let points: Vec<(f64, f64)> = card
        .calibration
        .iter()
        .map(|b| (b.predicted, b.observed))
        .collect();
    let top = points
        .iter()
        .map(|p| p.0.max(p.1))
        .fold(card.largest_probability, f64::max);
    // Zoom to the predictions, up to the largest one: at a 2.7% base rate most are near 0, and
    // the top bin's mean sits well below the largest chances the app gives.
    let extent = ((top * 1.05 * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
    let top_bin = card.calibration.last().map_or(0, |b| b.rows);
    figure(
        h,
        &svg::curves("Calibration (TEST)", "mean predicted probability", "share popular", &[("model", &points)], true, extent),
        &format!("Ten bins of equal size, the top tenth cut at the 95th, 98th and 99th percentiles so the curve reaches the largest probabilities. Points on the dashed diagonal are calibrated: predicted probabilities match observed shares. The last point averages the top 1% ({} tracks), whose chances run up to {:.0}%, where the axis ends; single tracks that high are too few to check one by one. Expected calibration error {:.4}.", thousands(top_bin as u64), card.largest_probability * 100.0, m.calibration.test_ece),
    );
    let top20: Vec<(String, f64)> = card
        .importance
        .iter()
        .take(20)
        .map(|(feature, v)| (crate::words::label(feature), *v))
        .collect();
    figure(
        h,
        &svg::hbars("What moves the chance most (mean |contribution|, log-odds)", "mean |contribution| to the log-odds", &top20, |v| format!("{v:.3}")),
        &format!("The 20 features that move predictions most, by {}. The genre indicators count as one feature.", card.importance_method),
    );
    h.push_str("</div>");
}

fn family(spec: &crate::models::ModelSpec) -> String {
    spec.classifier_kind()
        .map(|k| k.to_string())
        .or_else(|| spec.regressor_kind().map(|k| k.to_string()))
        .unwrap_or_default()
}

/// A model's family and parameters in words: "gbm: learning rate 0.05, max depth 6, …" (the
/// task is said by the row; unset ones are left out).
fn params_text(spec: &crate::models::ModelSpec) -> String {
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.replace('-', " "),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    };
    let params = spec.params_json();
    let words: Vec<String> = params
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, v)| *key != "task" && !v.is_null())
        .map(|(key, v)| format!("{} {}", key.replace('_', " "), value(v)))
        .collect();
    format!("{}: {}", family(spec), words.join(", "))
}

/// Seconds since 1970 as a UTC date and time, "2026-12-02 03:52 UTC" (the civil-from-days
/// conversion of Howard Hinnant's date algorithms; a calendar crate for one line is not worth
/// its build).
fn utc_time(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let (hour, minute) = ((unix % 86_400) / 3_600, (unix % 3_600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// A metric to 3 decimals, as the results tables print them.
fn fixed(v: Option<f64>) -> String {
    crate::experiment::fixed(v, 3)
}

fn results_section(h: &mut String, r: &Results, k: usize) {
    let leaky = if r.protocol.is_leaky() {
        " (LEAKY: for comparison with published figures only)"
    } else {
        ""
    };
    let _ = write!(
        h,
        "<h2 id=\"experiment-{k}\">Experiment grid: protocol {}{leaky}</h2><p>Fold {}, seed {}; FIT {} rows, VAL {}, TEST {} with {} popular ({:.2}%; always answering \"not popular\" scores accuracy {:.3}). {} features; {}. Ranked by VAL PR-AUC, the honest order.</p>",
        r.protocol,
        r.fold.map_or("-".to_owned(), |f| f.to_string()),
        r.seed,
        thousands(r.fit_rows as u64),
        thousands(r.val_rows as u64),
        thousands(r.test_rows as u64),
        thousands(r.test_positives as u64),
        r.positive_rate * 100.0,
        r.majority_accuracy,
        r.features,
        if r.tuned { "parameters tuned on VAL" } else { "default parameters" }
    );
    for setup in OutlierSetup::ALL {
        let rows: Vec<_> = r
            .ranked_by_val()
            .into_iter()
            .filter(|x| x.cell.setup() == setup)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = write!(h, "<h3>Classification, {setup} data</h3><table><tr><th>strategy / model</th><th>VAL PR-AUC</th><th>ROC-AUC</th><th>PR-AUC</th><th>F1</th><th>precision</th><th>recall</th><th>accuracy</th><th>bal. acc.</th><th>fit s</th></tr>");
        for x in rows {
            let _ = write!(
                h,
                "<tr><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
                x.cell.strategy().name(), escape(x.cell.model_name()),
                fixed(x.figure(Figure::ValPrAuc)), fixed(x.figure(Figure::RocAuc)), fixed(x.figure(Figure::PrAuc)), fixed(x.figure(Figure::F1)), fixed(x.figure(Figure::Precision)), fixed(x.figure(Figure::Recall)), fixed(x.figure(Figure::Accuracy)), fixed(x.figure(Figure::BalancedAccuracy)), x.fit_seconds
            );
        }
        h.push_str("</table>");
    }
    best_per_metric(h, r);
    let regression: Vec<_> = r
        .rows
        .iter()
        .filter(|x| x.task() == Task::Regression)
        .collect();
    if !regression.is_empty() {
        h.push_str("<table><tr><th>score regressor</th><th>VAL R²</th><th>R²</th><th>RMSE</th><th>MAE</th><th>fit s</th></tr>");
        for x in regression {
            let _ = write!(
                h,
                "<tr><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
                x.cell.setup(),
                escape(x.cell.model_name()),
                fixed(x.figure(Figure::ValR2)),
                fixed(x.figure(Figure::R2)),
                fixed(x.figure(Figure::Rmse)),
                fixed(x.figure(Figure::Mae)),
                x.fit_seconds
            );
        }
        h.push_str("</table>");
    }
    if let Some(hl) = &r.headline {
        let _ = write!(h, "<h3>The seed project's headline, reproduced</h3><p>{}</p><table><tr><th>procedure</th><th>TEST rows</th><th>popular</th><th>accuracy</th><th>bal. acc.</th><th>ROC-AUC</th><th>PR-AUC</th></tr>", escape(&hl.explanation));
        for f in std::iter::once(&hl.seed_procedure).chain(&hl.this_run) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
                escape(&f.procedure), thousands(f.test_rows as u64), f.positive_rate * 100.0, f.accuracy, f.balanced_accuracy, f.roc_auc, f.pr_auc
            );
        }
        h.push_str("</table>");
    }
}

/// The VAL pick, and the best TEST value of each metric (for reading, not choosing).
fn best_per_metric(h: &mut String, r: &Results) {
    let Some(best) = r.best_by_val() else {
        return;
    };
    let _ = write!(
        h,
        "<h3>Best per metric</h3><p>Chosen on VAL (best VAL PR-AUC {}): <b>{}</b>, with TEST ROC-AUC {}, PR-AUC {}, F1 {}. The best TEST value of each metric, for reading the tables (choosing by it would be choosing on TEST):</p><table><tr><th>metric</th><th>best</th><th>cell</th></tr>",
        fixed(best.figure(Figure::ValPrAuc)),
        escape(&best.cell.to_string()),
        fixed(best.figure(Figure::RocAuc)),
        fixed(best.figure(Figure::PrAuc)),
        fixed(best.figure(Figure::F1))
    );
    for (name, value, row) in r.best_per_metric() {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{value:.3}</td><td>{}</td></tr>",
            escape(&row.cell.to_string())
        );
    }
    h.push_str("</table>");
}

/// The cells every experiment ran, side by side (TEST ROC-AUC / PR-AUC per protocol).
fn side_by_side(h: &mut String, all: &[Results]) {
    let _ = write!(h, "<h2 id=\"protocols\">Protocols side by side</h2><p>The same cells under each protocol, on each protocol's own TEST rows.</p>");
    let share = |r: &Results| format!("{:.1}%", r.positive_rate * 100.0);
    if let (Some(honest), Some(seed)) = (
        all.iter().find(|r| r.protocol != Protocol::Reference),
        all.iter().find(|r| r.protocol == Protocol::Reference),
    ) {
        let _ = write!(
            h,
            "<p>The columns answer different questions, so the gap is not the leak alone. The reference protocol's TEST is a random fifth of the raw rows ({} rows, {} popular): the same track listed under several genres, and the same artists, sit on both sides of its split, which flatters it. Its ROC-AUC can still read lower than the {} protocol's ({} tracks, {} popular), because each raw row carries one genre where a collapsed track carries all of its genres (their popularity on FIT is among the strongest signals), and a popular track counts once per genre it is listed under. The leak shows in the seed's own headline, accuracy on a TEST undersampled to half popular, reproduced with the honest grid above.</p>",
            thousands(seed.test_rows as u64),
            share(seed),
            honest.protocol,
            thousands(honest.test_rows as u64),
            share(honest)
        );
    }
    h.push_str("<table><tr><th>cell</th>");
    for r in all {
        let _ = write!(
            h,
            "<th>{} ROC-AUC</th><th>{} PR-AUC</th>",
            r.protocol, r.protocol
        );
    }
    h.push_str("</tr>");
    for row in all[0]
        .rows
        .iter()
        .filter(|x| x.task() == Task::Classification)
    {
        let cell = row.cell;
        let _ = write!(h, "<tr><td>{}</td>", escape(&cell.short()));
        for r in all {
            let other = r.rows.iter().find(|x| x.cell == cell);
            let _ = write!(
                h,
                "<td>{}</td><td>{}</td>",
                fixed(other.and_then(|x| x.figure(Figure::RocAuc))),
                fixed(other.and_then(|x| x.figure(Figure::PrAuc)))
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{reliability, RELIABILITY_EDGES};

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34:56, a leap day of a century leap year.
        assert_eq!(utc_time(951_827_696), "2000-02-29 12:34 UTC");
        assert_eq!(utc_time(1_796_186_400), "2026-12-02 04:40 UTC");
    }

    #[test]
    fn parameters_read_as_words_without_the_other_task_s() {
        use crate::models::{ModelSpec, RegressorKind};
        let text = params_text(&ModelSpec::regressor(RegressorKind::Gbm));
        assert!(text.starts_with("gbm: "), "{text}");
        assert!(text.contains("learning rate 0.05"), "{text}");
        for absent in [
            "task",
            "stop metric",
            "scale pos weight",
            "max leaves",
            "{",
            "\"",
        ] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
        let mlp = params_text(&ModelSpec::regressor(RegressorKind::Mlp));
        assert!(mlp.contains("hidden [128, 64]"), "{mlp}");
    }

    #[test]
    fn curves_at_every_distinct_score() {
        // Scores 0.9 (pos), 0.8 (neg), 0.8 (pos), 0.1 (neg): the tie is one step.
        let (roc, pr) = curves(&[0.9, 0.8, 0.8, 0.1], &[true, false, true, false]);
        assert_eq!(roc, [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        assert_eq!(pr, [(0.5, 1.0), (1.0, 2.0 / 3.0), (1.0, 0.5)]);
    }

    #[test]
    fn calibration_bins_hold_equal_rows_and_reach_the_top() {
        let scores: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        let labels: Vec<bool> = (0..100).map(|i| i >= 90).collect();
        let bins = reliability(&scores, &labels, &RELIABILITY_EDGES).unwrap();
        // Nine deciles, then the top tenth as 5 + 3 + 1 + 1 rows.
        let rows: Vec<usize> = bins.iter().map(|b| b.rows).collect();
        assert_eq!(rows, [10, 10, 10, 10, 10, 10, 10, 10, 10, 5, 3, 1, 1]);
        assert_eq!((bins[0].observed, bins[12].observed), (0.0, 1.0));
        assert!((bins[12].predicted - 0.99).abs() < 1e-12);
    }
}

//! The report page: the saved model's card, the experiment grids (protocols side by side) and
//! the EDA's sections, and the same as two fragments for the web app's Models and Explore pages.

use maud::{html, Markup};

use super::{chart, eda, figure, page};
use crate::artifact::{Metadata, Role};
use crate::experiment::{Cell, Figure, ResultRow, Results};
use crate::features::OutlierSetup;
use crate::models::{ModelSpec, Task};
use crate::report::{ModelCard, Report};
use crate::split::Protocol;
use crate::text::thousands;

/// The page, from the report's [`parts`], with a menu of its sections.
pub fn page_of(parts: &Parts) -> String {
    let content = html! {
        (parts.models)
        h2 #data { "The data" }
        (parts.data)
    };
    let sections = super::sections(&content.0);
    page(
        "hitcast report",
        "report.json",
        html! {
            h1 { "hitcast report" }
            p.lead { "The data, the experiment grid, and the saved model, on one page. Every choice was made on VAL; TEST was only scored. The terms are explained at the end of the model's part." }
            nav.contents aria-label="sections" {
                @for (id, title) in &sections { a href=(format!("#{id}")) { (title) } }
            }
            (content)
        },
    )
}

/// The words the tables use, for a reader who does not fit models for a living.
fn terms() -> Markup {
    const TERMS: [(&str, &str); 14] = [
        ("FIT, VAL, TEST", "The three parts of the tracks. Models are fitted on FIT; every choice (the model, its threshold, its calibration) is made on VAL; TEST is only scored, for the figures."),
        ("honest and reference protocols", "The honest protocol splits tracks by their first artist, each track once with all its genres, so no track or artist sits on both sides. The reference protocol is the reference project's: a random split of the raw rows, where a track listed under several genres, and its artist's other tracks, can sit on both sides, which flatters its figures."),
        ("popular", "A popularity above the label threshold (71 by default): about 3 tracks in 100."),
        ("ROC-AUC", "The chance that a popular track gets a higher probability than another track: 0.5 is a guess, 1 is perfect."),
        ("PR-AUC", "Average precision: how many of the tracks ranked highest are popular, as more of the popular ones are found. A guess scores the popular share (about 0.03), so it is the figure to read when hits are rare."),
        ("precision, recall, F1", "At the flag's threshold: precision is the share of flagged tracks that are popular, recall the share of popular tracks flagged, F1 their harmonic mean. The threshold is chosen on VAL for the best F1."),
        ("accuracy, bal. acc.", "Accuracy is the share of tracks answered right (always answering \u{201c}not popular\u{201d} gets 0.97); balanced accuracy averages the share right among popular tracks and among the others."),
        ("calibration, ECE", "A calibrated chance of 10% means about one track in ten given it is popular. Platt (a logistic curve) or isotonic (a step curve) scaling maps the model's output to such a chance, fitted on VAL. The expected calibration error (ECE) is the mean gap between the chance given and the share popular, over bins of tracks: 0.003 is 0.3 percentage points."),
        ("strategies", "How training copes with rare hits: none; weights (popular rows count more); undersample (other rows dropped at random); SMOTE and ADASYN (synthetic popular rows made between neighbours, ADASYN more where they are hard to learn)."),
        ("outlier setups", "raw keeps values as they are; capped clamps values beyond Tukey's fences (1.5 times the interquartile range beyond the quartiles) to the fences; removed drops FIT rows beyond them."),
        ("models", "logreg: logistic regression; rf: a random forest; gbm: gradient-boosted trees; mlp: a neural network; stack: the network and the forest joined by a logistic regression."),
        ("R², RMSE, MAE", "How close the 0-100 score comes: R² is the share of the scores' spread it explains (1 is perfect, 0 no better than the mean), RMSE and MAE the typical miss in points of popularity."),
        ("score range", "The range meant to hold the true score of 80% of the tracks given it (conformal: its width learnt from VAL's misses)."),
        ("contributions", "How much each input moves a track's answer from the model's average answer (Shapley values: TreeSHAP for trees), in percentage points of the chance or points of the score."),
    ];
    html! {
        h2 #terms { "Terms" }
        dl.terms {
            @for (term, meaning) in TERMS { dt { (term) } dd { (meaning) } }
        }
    }
}

/// The report's two halves as HTML fragments (styled by [`super::CSS`]), for pages that show
/// them apart: the web app's Models and Explore pages.
#[derive(Clone, Debug)]
pub struct Parts {
    /// The model card, the grids' tables and the protocols side by side.
    pub models: Markup,
    /// The EDA's sections.
    pub data: Markup,
}

/// Splits the report into its [`Parts`].
pub fn parts(report: &Report) -> Parts {
    let models = html! {
        @if let Some(card) = &report.model { (model_section(card)) }
        @for (k, results) in report.experiments.iter().enumerate() { (results_section(results, k)) }
        @if report.experiments.len() > 1 { (side_by_side(&report.experiments)) }
        @if report.model.is_some() || !report.experiments.is_empty() { (terms()) }
    };
    Parts {
        models,
        data: eda::sections(&report.eda),
    }
}

fn model_section(card: &ModelCard) -> Markup {
    html! {
        (model_summary(card))
        (companions_table(&card.metadata))
        (metadata_tables(&card.metadata))
        (model_figures(card))
    }
}

/// What the model is and how well it answers, in sentences.
fn model_summary(card: &ModelCard) -> Markup {
    let m = &card.metadata;
    let c = &m.test_classification;
    let r = &m.test_regression;
    let (cal, iv) = (&m.calibration, &m.interval);
    let choice = &cal.choice;
    html! {
        h2 #model { "The saved model" }
        p {
            b { (m.classifier.family_name()) } " classifier and " b { (m.regressor.family_name()) }
            " score regressor; imbalance strategy " (m.strategy.name()) "; protocol " b { (m.protocol) }
            @if let Some(f) = m.fold { ", fold " (f) }
            "; popular = popularity > " (m.label_threshold) ". "
            @if card.same_data {
                "Scored again on its own TEST rows."
            } @else {
                b { "The data file differs from the one the model was trained on (SHA-256): the curves below are on this file's TEST rows." }
            }
        }
        p {
            "In plain words: of the tracks it flags as hit contenders, " b { (format!("{:.0}%", c.precision * 100.0)) }
            " are popular; it finds " b { (format!("{:.0}%", c.recall * 100.0)) } " of the popular tracks. TEST: "
            (thousands(c.rows)) " tracks, " (format!("{:.1}%", c.positive_rate * 100.0)) " popular; ROC-AUC "
            (format!("{:.3}", c.roc_auc)) ", PR-AUC " (format!("{:.3}", c.pr_auc)) ", F1 " (format!("{:.3}", c.f1))
            ", accuracy " (format!("{:.3}", c.accuracy)) " (always answering \"not popular\" scores "
            (format!("{:.3}", c.majority_accuracy)) "); the 0-100 score: R² " (format!("{:.3}", r.r2)) ", RMSE "
            (format!("{:.2}", r.rmse)) ", MAE " (format!("{:.2}", r.mae)) "."
        }
        p {
            "Trustworthy answers, on TEST: the probability is calibrated on VAL (" (choice.method) " scaling, chosen over "
            (if choice.method == "platt" { "isotonic" } else { "Platt" }) " by out-of-fold VAL log-loss "
            (format!("{:.4}", choice.platt_logloss.min(choice.isotonic_logloss))) " against "
            (format!("{:.4}", choice.platt_logloss.max(choice.isotonic_logloss))) "); its expected calibration error is "
            b { (format!("{:.4}", cal.test_ece)) } " (" (format!("{:.4}", cal.test_ece_raw)) " before calibration"
            (if cal.test_ece > cal.test_ece_raw { ": both small; the map is fitted on VAL, and a TEST figure this small moves by noise" } else { "" })
            "), and it averages "
            (format!("{:.3}", cal.test_mean_probability)) " against a popular share of " (format!("{:.3}", c.positive_rate))
            ". The score's " (format!("{:.0}%", iv.choice.coverage * 100.0)) " range (" (iv.choice.method_text())
            ") holds the true score for " b { (format!("{:.1}%", iv.test.coverage * 100.0)) } " of TEST tracks, "
            (format!("{:.1}", iv.test.mean_width)) " points wide on average; the range reaches above " (m.label_threshold)
            " for " (format!("{:.0}%", iv.test_flagged_reaching * 100.0)) " of the flagged tracks."
        }
    }
}

/// The file's other models: what each answers and how well.
fn companions_table(m: &Metadata) -> Markup {
    let answers = |role: Role| match role {
        Role::NewSong => "tracks without a track_id (new songs)",
        Role::NoGenres => "tracks with no genre it learnt, and every track with --genres ignore",
        Role::FromAudio => "songs measured from their audio files",
        Role::Main => "",
    };
    html! {
        @if !m.companions.is_empty() {
            p { "The file's other models answer tracks that have less than the main model reads; every answer says which model gave it." }
            table {
                tr {
                    th { "model" } th style="text-align:left" { "answers" } th { "features" } th { "threshold" }
                    th { "TEST ROC-AUC" } th { "PR-AUC" } th { "score R²" }
                }
                @for c in &m.companions {
                    tr {
                        td { (c.role.name()) } td style="text-align:left" { (answers(c.role)) } td { (c.features.len()) }
                        td { (format!("{:.4}", c.decision_threshold)) } td { (format!("{:.3}", c.test_classification.roc_auc)) }
                        td { (format!("{:.3}", c.test_classification.pr_auc)) } td { (format!("{:.3}", c.test_regression.r2)) }
                    }
                }
            }
        }
    }
}

/// Who wrote the model, from what, with which parameters; its confusion matrix on TEST.
fn metadata_tables(m: &Metadata) -> Markup {
    let k = &m.test_classification.confusion;
    let rounds = |r: Option<usize>| r.map_or_else(String::new, |r| format!(" ({r} rounds kept)"));
    let rows = [
        (
            "written by",
            format!(
                "hitcast {}, {}",
                m.hitcast_version,
                utc_time(m.created_unix)
            ),
        ),
        ("seed", m.seed.to_string()),
        ("features", m.features.len().to_string()),
        (
            "classifier",
            params_text(&m.classifier) + &rounds(m.classifier_rounds),
        ),
        (
            "regressor",
            params_text(&m.regressor) + &rounds(m.regressor_rounds),
        ),
    ];
    html! {
        table {
            tr { th { "model metadata" } th style="text-align:left" { "value" } }
            @for (what, value) in &rows[..1] { tr { td { (what) } td style="text-align:left" { (value) } } }
            tr { td { "training data SHA-256" } td style="text-align:left" { code { (m.data_sha256) } } }
            @for (what, value) in &rows[1..] { tr { td { (what) } td style="text-align:left" { (value) } } }
        }
        table {
            tr {
                th { "at threshold " (format!("{:.4}", m.decision_threshold)) " (chosen on VAL)" }
                th { "flagged" } th { "not flagged" }
            }
            tr { td { "popular" } td { (thousands(k.tp)) } td { (thousands(k.fn_)) } }
            tr { td { "not popular" } td { (thousands(k.fp)) } td { (thousands(k.tn)) } }
        }
    }
}

/// The ROC, precision-recall and calibration curves and the features that move the chance,
/// two a row.
fn model_figures(card: &ModelCard) -> Markup {
    let m = &card.metadata;
    let c = &m.test_classification;
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
    let top20: Vec<(String, f64)> = card
        .importance
        .iter()
        .take(20)
        .map(|(feature, v)| (crate::words::label(feature), *v))
        .collect();
    let roc_name = format!("model, AUC {:.3}", c.roc_auc);
    let pr_name = format!("model, AP {:.3}", c.pr_auc);
    html! {
        div.grid-2 {
            (figure(
                &chart::curves("ROC curve (TEST)", "false positive rate", "true positive rate", &[(&roc_name, &card.roc)], true, 1.0),
                "How many popular tracks are found (up) for how many unpopular ones flagged (right); the dashed diagonal is chance.",
            ))
            (figure(
                &chart::curves("Precision-recall curve (TEST)", "recall", "precision", &[(&pr_name, &card.pr)], false, 1.0),
                &format!("Precision at each recall. With {:.1}% popular tracks, a random ranking sits at {:.3}: this is the curve to read at this imbalance.", c.positive_rate * 100.0, c.positive_rate),
            ))
            (figure(
                &chart::curves("Calibration (TEST)", "mean predicted probability", "share popular", &[("model", &points)], true, extent),
                &format!("Ten bins of equal size, the top tenth cut at the 95th, 98th and 99th percentiles so the curve reaches the largest probabilities. Points on the dashed diagonal are calibrated: predicted probabilities match observed shares. The last point averages the top 1% ({} tracks), whose chances run up to {:.0}%, where the axis ends; single tracks that high are too few to check one by one. Expected calibration error {:.4}.", thousands(top_bin as u64), card.largest_probability * 100.0, m.calibration.test_ece),
            ))
            (figure(
                &chart::hbars("What moves the chance most (mean |contribution|, log-odds)", "mean |contribution| to the log-odds", &top20, |v| format!("{v:.3}")),
                &format!("The 20 features that move predictions most, by {}. The genre indicators count as one feature.", card.importance_method),
            ))
        }
    }
}

/// A model's family and parameters in words: "gbm: learning rate 0.05, max depth 6, …" (the
/// task is said by the row; unset ones are left out).
fn params_text(spec: &ModelSpec) -> String {
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
    let words: Vec<String> = spec
        .settings()
        .iter()
        .map(|(key, v)| format!("{} {}", key.replace('_', " "), value(v)))
        .collect();
    format!("{}: {}", spec.family_name(), words.join(", "))
}

/// Seconds since 1970 as a UTC date and time, "2026-12-02 03:52 UTC" (the civil-from-days
/// conversion of Howard Hinnant's date algorithms; a calendar crate for one line is not worth
/// its build).
pub fn utc_time(unix: u64) -> String {
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

/// A figure of a grid row to 3 decimals, as the results tables print them.
fn fixed(row: Option<&ResultRow>, figure: Figure) -> String {
    crate::experiment::fixed(row.and_then(|x| x.figure(figure)), 3)
}

fn results_section(r: &Results, k: usize) -> Markup {
    let classifiers = |setup: OutlierSetup| -> Vec<&ResultRow> {
        r.ranked_by_val()
            .into_iter()
            .filter(|x| x.cell.setup() == setup)
            .collect()
    };
    let regression: Vec<&ResultRow> = r
        .rows
        .iter()
        .filter(|x| x.task() == Task::Regression)
        .collect();
    let chosen = r.chosen();
    html! {
        h2 id=(format!("experiment-{k}")) {
            "Experiment grid: protocol " (r.protocol)
            @if r.protocol.is_leaky() { " (LEAKY: for comparison with published figures only)" }
        }
        p {
            // The reference protocol has one random split, no fold.
            @if let Some(fold) = r.fold { "Fold " (fold) ", seed " } @else { "Seed " }
            (r.seed) "; FIT " (thousands(r.fit_rows as u64))
            " rows, VAL " (thousands(r.val_rows as u64)) ", TEST " (thousands(r.test_rows as u64)) " with "
            (thousands(r.test_positives as u64)) " popular (" (format!("{:.2}%", r.positive_rate * 100.0))
            "; always answering \"not popular\" scores accuracy " (format!("{:.3}", r.majority_accuracy)) "). "
            (r.features) " features; " (if r.tuned { "parameters tuned on VAL" } else { "default parameters" })
            ". Ranked by VAL PR-AUC, the honest order."
        }
        @for setup in OutlierSetup::ALL {
            @let rows = classifiers(setup);
            @if !rows.is_empty() {
                h3 { "Classification, " (setup) " data" }
                table {
                    tr {
                        @for h in ["strategy / model", "VAL PR-AUC", "ROC-AUC", "PR-AUC", "F1", "precision", "recall", "accuracy", "bal. acc.", "rows fit", "fit s"] {
                            th { (h) }
                        }
                    }
                    @for x in rows {
                        tr class=[chosen.contains(&x.cell).then_some("chosen")] {
                            td { (x.cell.strategy().name()) "/" (x.cell.model_name()) (chosen_tag(&chosen, x)) }
                            @for f in [Figure::ValPrAuc, Figure::RocAuc, Figure::PrAuc, Figure::F1, Figure::Precision, Figure::Recall, Figure::Accuracy, Figure::BalancedAccuracy] {
                                td { (fixed(Some(x), f)) }
                            }
                            td { (thousands(x.rows_fit as u64)) }
                            td { (format!("{:.1}", x.fit_seconds)) }
                        }
                    }
                }
            }
        }
        (best_per_metric(r))
        @if !regression.is_empty() {
            table {
                tr { @for h in ["score regressor", "VAL R²", "R²", "RMSE", "MAE", "rows fit", "fit s"] { th { (h) } } }
                @for x in regression {
                    tr class=[chosen.contains(&x.cell).then_some("chosen")] {
                        td { (x.cell.setup()) "/" (x.cell.model_name()) (chosen_tag(&chosen, x)) }
                        @for f in [Figure::ValR2, Figure::R2, Figure::Rmse, Figure::Mae] { td { (fixed(Some(x), f)) } }
                        td { (thousands(x.rows_fit as u64)) }
                        td { (format!("{:.1}", x.fit_seconds)) }
                    }
                }
            }
        }
        @if let Some(hl) = &r.headline {
            h3 { "The reference project's headline, reproduced" }
            p { (hl.explanation) }
            table {
                tr { @for h in ["procedure", "TEST rows", "popular", "accuracy", "bal. acc.", "ROC-AUC", "PR-AUC"] { th { (h) } } }
                @for f in std::iter::once(&hl.seed_procedure).chain(&hl.this_run) {
                    tr {
                        td { (f.procedure) } td { (thousands(f.test_rows as u64)) } td { (format!("{:.1}%", f.positive_rate * 100.0)) }
                        @for v in [f.accuracy, f.balanced_accuracy, f.roc_auc, f.pr_auc] { td { (format!("{v:.3}")) } }
                    }
                }
            }
        }
    }
}

/// After a chosen cell's name in the tables: said in words, not by its row's colour alone.
fn chosen_tag(chosen: &[Cell], row: &ResultRow) -> Markup {
    html! {
        @if chosen.contains(&row.cell) { " " span.chosen-tag { "chosen on VAL" } }
    }
}

/// The VAL pick, and the best TEST value of each metric (for reading, not choosing).
fn best_per_metric(r: &Results) -> Markup {
    let Some(best) = r.best_by_val() else {
        return html! {};
    };
    html! {
        h3 { "Best per metric" }
        p {
            "Chosen on VAL (best VAL PR-AUC " (fixed(Some(best), Figure::ValPrAuc)) "): " b { (best.cell) }
            ", with TEST ROC-AUC " (fixed(Some(best), Figure::RocAuc)) ", PR-AUC " (fixed(Some(best), Figure::PrAuc))
            ", F1 " (fixed(Some(best), Figure::F1))
            ". The best TEST value of each metric, for reading the tables (choosing by it would be choosing on TEST):"
        }
        table {
            tr { th { "metric" } th { "best" } th { "cell" } }
            @for (name, value, row) in r.best_per_metric() {
                tr { td { (name) } td { (format!("{value:.3}")) } td { (row.cell) } }
            }
        }
    }
}

/// The cells every experiment ran, side by side (TEST ROC-AUC / PR-AUC per protocol), and
/// what tells the protocols apart: where the leak shows (PR-AUC), why ROC-AUC need not.
fn side_by_side(all: &[Results]) -> Markup {
    let share = |r: &Results| format!("{:.1}%", r.positive_rate * 100.0);
    let pair = (
        all.iter().find(|r| r.protocol != Protocol::Reference),
        all.iter().find(|r| r.protocol == Protocol::Reference),
    );
    // The classifier cell whose PR-AUC gains most from the reference protocol's split.
    let leak = match pair {
        (Some(honest), Some(reference)) => reference
            .rows
            .iter()
            .filter(|x| x.task() == Task::Classification)
            .filter_map(|r| {
                let h = honest.rows.iter().find(|x| x.cell == r.cell)?;
                let (leaky, fair) = (r.figure(Figure::PrAuc)?, h.figure(Figure::PrAuc)?);
                Some((leaky - fair, r, h))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(gap, _, _)| *gap > 0.0),
        _ => None,
    };
    html! {
        h2 #protocols { "Protocols side by side" }
        p { "The same cells under each protocol, on each protocol's own TEST rows." }
        @if let (Some(honest), Some(seed)) = pair {
            p {
                "The reference protocol is the reference project's: one random split of the raw rows ("
                (thousands(seed.test_rows as u64)) " TEST rows, " (share(seed)) " popular), where the same track listed under several genres, and the same artists, sit on both sides. The "
                (honest.protocol) " protocol splits tracks by artist, each track once with all its genres ("
                (thousands(honest.test_rows as u64)) " TEST tracks, " (share(honest)) " popular)."
            }
            @if let Some((_, leaky, fair)) = leak {
                p {
                    b { "The leak shows in PR-AUC" } ", how well the popular tracks are found: " (leaky.cell.short())
                    " reaches " (fixed(Some(leaky), Figure::PrAuc)) " under the reference protocol against "
                    (fixed(Some(fair), Figure::PrAuc)) " under the " (honest.protocol)
                    " one, as tracks met in training under another genre, and their artists' other tracks, are easy to find again."
                }
            }
            p {
                "ROC-AUC can still read lower under the reference protocol: each raw row carries one genre where a collapsed track carries all of its genres (their popularity on FIT is among the strongest signals), and a popular track counts once per genre it is listed under. The reference project's own headline, 81% accuracy on a TEST undersampled to half popular"
                @match all.iter().find(|r| r.headline.is_some()) {
                    Some(_) => { ", is reproduced above (\u{201c}The reference project's headline, reproduced\u{201d})." }
                    None => { ": this run did not reproduce it." }
                }
            }
        }
        table {
            tr {
                th { "cell" }
                @for r in all { th { (r.protocol) " ROC-AUC" } th { (r.protocol) " PR-AUC" } }
            }
            @for row in all[0].rows.iter().filter(|x| x.task() == Task::Classification) {
                tr {
                    td { (row.cell.short()) }
                    @for r in all {
                        @let other = r.rows.iter().find(|x| x.cell == row.cell);
                        td { (fixed(other, Figure::RocAuc)) } td { (fixed(other, Figure::PrAuc)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocols_speak_of_the_headline_only_where_a_grid_reproduced_it() {
        let quick = [
            Results::empty_for_tests(Protocol::Honest),
            Results::empty_for_tests(Protocol::Reference),
        ];
        let text = side_by_side(&quick).into_string();
        assert!(!text.contains("is reproduced above"), "{text}");
        assert!(text.contains("this run did not reproduce it."), "{text}");

        let figures = crate::experiment::HeadlineFigures {
            procedure: "seed".into(),
            cell: "classification/raw/none/stack".into(),
            test_rows: 10,
            positive_rate: 0.5,
            accuracy: 0.8,
            balanced_accuracy: 0.8,
            roc_auc: 0.9,
            pr_auc: 0.9,
            f1: 0.8,
        };
        let mut full = quick;
        full[0].set_headline(crate::models::ClassifierKind::Stack, figures);
        let text = side_by_side(&full).into_string();
        assert!(text.contains("is reproduced above ("), "{text}");
    }

    /// The cell whose PR-AUC the leaky split flatters most is named, with both figures.
    #[test]
    fn the_leak_is_shown_where_pr_auc_gains_most() {
        use crate::experiment::{ClassifierFigures, Figures};
        let row = |cell: &str, pr_auc: f64| {
            let figures = Figures::Classifier(ClassifierFigures {
                pr_auc,
                roc_auc: 0.9,
                ..ClassifierFigures::default()
            });
            ResultRow::new(cell.parse().unwrap(), figures)
        };
        let mut honest = Results::empty_for_tests(Protocol::Honest);
        let mut reference = Results::empty_for_tests(Protocol::Reference);
        honest.rows = vec![
            row("classification/raw/none/logreg", 0.28),
            row("classification/raw/none/gbm", 0.30),
        ];
        reference.rows = vec![
            row("classification/raw/none/logreg", 0.24),
            row("classification/raw/none/gbm", 0.62),
        ];
        let text = side_by_side(&[honest.clone(), reference]).into_string();
        assert!(
            text.contains("raw/none/gbm reaches 0.620 under the reference protocol against 0.300"),
            "{text}"
        );
        // No cell gains: nothing said of a leak.
        let mut level = Results::empty_for_tests(Protocol::Reference);
        level.rows = vec![row("classification/raw/none/gbm", 0.25)];
        let text = side_by_side(&[honest, level]).into_string();
        assert!(!text.contains("The leak shows"), "{text}");
    }

    #[test]
    fn the_grid_tables_mark_the_trained_cells_and_count_the_rows_fit() {
        use crate::experiment::{ClassifierFigures, Figures, RegressorFigures};
        let classifier = |cell: &str, val_pr_auc: f64, rows_fit| ResultRow {
            rows_fit,
            ..ResultRow::new(
                cell.parse().unwrap(),
                Figures::Classifier(ClassifierFigures {
                    val_pr_auc,
                    ..ClassifierFigures::default()
                }),
            )
        };
        let mut r = Results::empty_for_tests(Protocol::Honest);
        r.rows = vec![
            classifier("classification/raw/none/logreg", 0.28, 58_000),
            classifier("classification/raw/undersample/gbm", 0.30, 3_012),
            ResultRow::new(
                "regression/raw/none/linear".parse().unwrap(),
                Figures::Regressor(RegressorFigures {
                    val_r2: 0.3,
                    ..RegressorFigures::default()
                }),
            ),
        ];
        let text = results_section(&r, 0).into_string();
        assert!(
            text.contains(
                "<tr class=\"chosen\"><td>undersample/gbm <span class=\"chosen-tag\">chosen on VAL</span></td>"
            ),
            "{text}"
        );
        assert!(
            text.contains("<td>raw/linear <span class=\"chosen-tag\">"),
            "{text}"
        );
        assert_eq!(text.matches("class=\"chosen\"").count(), 2, "{text}");
        assert!(
            text.contains("<th>rows fit</th>") && text.contains("<td>3,012</td>"),
            "{text}"
        );
    }

    #[test]
    fn a_grid_without_a_fold_names_none() {
        let reference =
            results_section(&Results::empty_for_tests(Protocol::Reference), 1).into_string();
        assert!(!reference.contains("Fold -"), "{reference}");
        assert!(reference.contains("Seed 42; FIT 100 rows"), "{reference}");
        let honest = results_section(&Results::empty_for_tests(Protocol::Honest), 0).into_string();
        assert!(honest.contains("Fold 0, seed 42; FIT 100 rows"), "{honest}");
    }

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34:56, a leap day of a century leap year.
        assert_eq!(utc_time(951_827_696), "2000-02-29 12:34 UTC");
        assert_eq!(utc_time(1_796_186_400), "2026-12-02 04:40 UTC");
    }

    #[test]
    fn parameters_read_as_words_without_the_other_task_s() {
        use crate::models::RegressorKind;
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
}

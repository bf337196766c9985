//! The EDA page: one self-contained HTML file (inline CSS and SVG, no script, nothing loaded
//! from the network) showing every number of [`Eda`].

use std::fmt::Write as _;

use super::svg::{self, escape, short};
use super::Eda;
pub use crate::text::thousands;

/// The stylesheet of every page (the web app links it too).
pub const CSS: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0 auto; max-width: 1100px; padding: 0 20px 60px; }
h1 { font-size: 26px; margin: 28px 0 4px; } h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; }
td code { overflow-wrap: anywhere; }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(320px, 100%), 1fr)); gap: 12px 24px; }
figure { margin: 0 0 12px; min-width: 0; } figcaption { font-size: 13px; color: #555; margin-top: 2px; }
figure .chart-title { font-size: 15px; font-weight: 600; margin: 4px 0 2px; }
svg.chart { display: block; width: 100%; max-width: 460px; height: auto; background: #fff; }
svg.chart.heatmap { width: auto; max-width: none; }
.scroll-x { overflow-x: auto; max-width: 100%; } p.swipe { display: none; font-size: 13px; color: #555; margin: 0; }
svg .tick, svg .value { font-size: 13px; fill: #444; } svg .label { font-size: 13px; fill: #222; }
svg .cell-value { font-size: 11px; } svg .axis { stroke: #888; } svg .grid { stroke: #eee; }
svg .line { stroke-width: 2; } svg .marker { stroke-width: 2; stroke-dasharray: 5 3; } svg .marker-label { font-size: 13px; }
ul.glance li { margin: 4px 0; }
@media print { h2 { break-after: avoid; } figure { break-inside: avoid; } }
@media (max-width: 760px) { table { display: block; overflow-x: auto; max-width: 100%; } p.swipe { display: block; } }
";

/// Units of the audio columns, for axis labels.
fn unit(column: &str) -> &'static str {
    match column {
        "duration_ms" => " (minutes)",
        "loudness" => " (dB)",
        "tempo" => " (BPM)",
        "key" => "",
        "mode" => "",
        "explicit" => "",
        "time_signature" => " (beats per bar)",
        "popularity" => " (0-100)",
        _ => " (0-1)",
    }
}

/// A column's name on a chart: durations are read in minutes, not milliseconds.
fn name(column: &str) -> &str {
    if column == "duration_ms" {
        "duration"
    } else {
        column
    }
}

/// A column's axis label: its name and unit.
fn label(column: &str) -> String {
    format!("{}{}", name(column), unit(column))
}

/// The factor from a column's stored values to its charted ones (milliseconds to minutes).
fn scale(column: &str) -> f64 {
    if column == "duration_ms" {
        1.0 / 60_000.0
    } else {
        1.0
    }
}

/// Names of a code column's values: the key's pitch classes, major and minor, explicit or not.
fn code_name(column: &str, v: f64) -> String {
    const KEYS: [&str; 12] = [
        "C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B",
    ];
    let code = v.round() as i64;
    match (column, code) {
        ("key", 0..=11) => KEYS[code as usize].to_owned(),
        ("key", _) => "none".to_owned(),
        ("mode", 0) => "minor".to_owned(),
        ("mode", _) => "major".to_owned(),
        ("explicit", 0) => "no".to_owned(),
        ("explicit", _) => "yes".to_owned(),
        _ => code.to_string(),
    }
}

/// A chart with its title above and its caption below.
pub fn figure(out: &mut String, chart: &svg::Chart, caption: &str) {
    let _ = write!(
        out,
        "<figure><div class=\"chart-title\">{}</div>",
        escape(&chart.title)
    );
    if chart.scrolls {
        let _ = write!(
            out,
            "<p class=\"swipe\">Swipe sideways to see every column.</p><div class=\"scroll-x\">{}</div>",
            chart.svg
        );
    } else {
        out.push_str(&chart.svg);
    }
    let _ = write!(out, "<figcaption>{}</figcaption></figure>", escape(caption));
}

/// The opening of a page: doctype, head with the shared CSS, and the body's start.
pub fn page_start(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>",
        escape(title)
    )
}

/// The closing of a page, with where its numbers are.
pub fn page_end(json: &str) -> String {
    format!(
        "<p class=\"lead\">Every number on this page is in {json} beside it. Made by hitcast {}.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    )
}

/// The data file's name without its folders: the page is shown to visitors of a server, whose
/// folders are none of their business (eda.json keeps the path), and a long path would not
/// wrap on a phone.
fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

/// The EDA page.
pub fn render(eda: &Eda) -> String {
    let mut h = page_start(&format!("hitcast EDA: {}", file_name(&eda.summary.path)));
    h.push_str("<h1>What is in the data</h1>");
    h.push_str(&sections(eda));
    h.push_str(&page_end("eda.json"));
    h
}

/// The EDA's sections (from the lead paragraph to the outliers), for this page and the report:
/// what matters for popularity first, then the columns one by one, then how the rows were
/// cleaned.
pub fn sections(eda: &Eda) -> String {
    let mut h = String::new();
    let s = &eda.summary;
    let _ = write!(
        h,
        "<p class=\"lead\">{file}: {rows} rows analysed as the <b>{protocol}</b> protocol's table ({what}). Popular means popularity &gt; {threshold}.</p>",
        file = escape(file_name(&s.path)),
        rows = thousands(eda.rows as u64),
        protocol = eda.protocol,
        what = if eda.protocol.is_leaky() {
            "raw rows, duplicates kept"
        } else {
            "one row per track_id, genres merged"
        },
        threshold = eda.popularity.threshold
    );
    glance(&mut h, eda);
    genres(&mut h, eda);
    relationship(&mut h, eda);
    correlations(&mut h, eda);
    distributions(&mut h, eda);
    summary(&mut h, eda);
    overview(&mut h, eda);
    outliers(&mut h, eda);
    h
}

/// The few facts a reader should leave with, in sentences, beside the popularity histogram.
fn glance(h: &mut String, eda: &Eda) {
    let pop = &eda.popularity;
    h.push_str("<h2 id=\"glance\">At a glance</h2><ul class=\"glance\">");
    let _ = write!(
        h,
        "<li><b>{:.1}%</b> of the {} rows are popular (popularity &gt; {}): the class the models look for is rare, and {} rows score 0.</li>",
        pop.share_popular * 100.0,
        thousands(eda.rows as u64),
        pop.threshold,
        thousands(pop.zeros as u64)
    );
    if let Some(best) = eda
        .genres
        .iter()
        .max_by(|a, b| a.share_popular.total_cmp(&b.share_popular))
    {
        let none = eda.genres.iter().filter(|g| g.share_popular == 0.0).count();
        let _ = write!(
            h,
            "<li><b>Genre tells the most.</b> {:.1}% of {} tracks are popular; {none} of the {} genres have no popular track at all.</li>",
            best.share_popular * 100.0,
            escape(&best.genre),
            eda.genres.len()
        );
    }
    if let Some((column, r)) = strongest_tie(&eda.correlation) {
        let _ = write!(
            h,
            "<li><b>No audio feature alone says much.</b> The one most tied to popularity is {} (Pearson r = {r:.2}).</li>",
            escape(name(column))
        );
    }
    if let Some((column, lo, hi)) = widest_swing(&eda.by_feature) {
        let _ = write!(
            h,
            "<li>Mean popularity moves most with <b>{}</b>: from {lo:.0} to {hi:.0} across its range.</li>",
            escape(name(column))
        );
    }
    let d = &eda.summary.duplicates;
    if !eda.protocol.is_leaky() && d.surplus_rows > 0 {
        let _ = write!(
            h,
            "<li>{} rows were a track listed again under another genre: they are merged, one row a track (<a href=\"#overview\">rows and duplicates</a>).</li>",
            thousands(d.surplus_rows)
        );
    }
    h.push_str("</ul><div class=\"grid-2\">");
    figure(
        h,
        &svg::histogram(
            "Popularity",
            "popularity (0-100)",
            &pop.histogram.edges,
            &pop.histogram.counts,
            Some((f64::from(pop.threshold), &format!("popular > {} ({:.1}% of rows)", pop.threshold, pop.share_popular * 100.0))),
        ),
        &format!(
            "Bins of 5 points. {:.1}% of rows are popular (right of the dashed line): the class the models look for is rare. {} rows score 0.",
            pop.share_popular * 100.0,
            thousands(pop.zeros as u64)
        ),
    );
    h.push_str("</div>");
}

/// The feature whose Pearson correlation with popularity is largest in size.
fn strongest_tie(c: &super::Correlations) -> Option<(&'static str, f64)> {
    let row = c.columns.iter().position(|&col| col == "popularity")?;
    c.columns
        .iter()
        .zip(&c.pearson[row])
        .filter(|(&col, r)| col != "popularity" && r.is_finite())
        .map(|(&col, &r)| (col, r))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
}

/// The feature whose binned mean popularity spans the widest range, with that range.
fn widest_swing(by_feature: &[super::BinnedMeans]) -> Option<(&'static str, f64, f64)> {
    by_feature
        .iter()
        .filter_map(|b| {
            let means = b.mean_popularity.iter().flatten().copied();
            let lo = means.clone().fold(f64::INFINITY, f64::min);
            let hi = means.fold(f64::NEG_INFINITY, f64::max);
            (hi >= lo).then_some((b.column, lo, hi))
        })
        .max_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)))
}

fn overview(h: &mut String, eda: &Eda) {
    let s = &eda.summary;
    let d = &s.duplicates;
    let _ = write!(h, "<h2 id=\"overview\">Rows, duplicates and missing values</h2><table><tr><th>what</th><th>count</th><th>meaning</th></tr>");
    let overview: [(&str, u64, String); 7] = [
        ("raw rows", s.rows_raw, "data lines accepted".into()),
        ("tracks", s.tracks, "distinct track_id".into()),
        (
            "ids listed more than once",
            d.repeated_track_ids,
            format!(
                "{} surplus rows merged into their first row: the same track under several genres",
                thousands(d.surplus_rows)
            ),
        ),
        (
            "exact duplicate rows",
            d.exact_duplicate_rows,
            "same values in every column".into(),
        ),
        (
            "popularity conflicts",
            d.popularity_conflicts,
            "ids whose copies disagree on popularity (first kept)".into(),
        ),
        ("genres", s.genres, "distinct track_genre values".into()),
        (
            "rows skipped",
            s.rows_skipped,
            "rows refused by --on-error skip".into(),
        ),
    ];
    for (what, n, meaning) in overview {
        let _ = write!(
            h,
            "<tr><td>{what}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            thousands(n),
            escape(&meaning)
        );
    }
    let missing: Vec<String> = s
        .missing
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let _ = write!(
        h,
        "<tr><td>missing values</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
        s.missing.values().sum::<u64>(),
        escape(&if missing.is_empty() {
            "none".to_owned()
        } else {
            missing.join(", ") + " (names only: not features)"
        })
    );
    for (what, n) in &eda.edge_values {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">allowed, but worth knowing (rows of the table)</td></tr>", escape(what), thousands(*n as u64));
    }
    h.push_str("</table>");
}

fn summary(h: &mut String, eda: &Eda) {
    // Summary statistics.
    let _ = write!(h, "<h2 id=\"summary\">Summary statistics</h2><table><tr><th>column</th><th>count</th><th>mean</th><th>std</th><th>min</th><th>25%</th><th>50%</th><th>75%</th><th>max</th><th>missing</th><th>distinct</th><th>skewness</th></tr>");
    for n in &eda.numeric {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td></tr>",
            n.column, thousands(n.count as u64), n.mean, n.std, n.min, n.q25, n.q50, n.q75, n.max, n.missing, thousands(n.distinct as u64), n.skewness
        );
    }
    h.push_str("</table><table><tr><th>text column</th><th>distinct</th><th>most frequent</th><th>its count</th><th>missing</th></tr>");
    for c in &eda.categorical {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.column,
            thousands(c.distinct as u64),
            escape(&c.top),
            thousands(c.top_count as u64),
            c.missing
        );
    }
    h.push_str("</table>");
}

fn correlations(h: &mut String, eda: &Eda) {
    // Correlations.
    let c = &eda.correlation;
    let _ = write!(
        h,
        "<h2 id=\"correlation\">Correlations</h2><div class=\"grid-2\">"
    );
    figure(h, &svg::heatmap("Pearson correlation", &c.columns, &c.pearson), "Linear association between each pair of columns. Orange: both rise together; blue: one falls as the other rises. Look at the popularity row: no single audio feature is strongly tied to it.");
    figure(h, &svg::heatmap("Spearman correlation", &c.columns, &c.spearman), "Rank (monotone) association. Where it differs from Pearson, the relation is monotone but not straight, or driven by outliers.");
    h.push_str("</div><table><tr><th>strongest pairs</th><th>Pearson</th><th>Spearman</th></tr>");
    for p in &c.top {
        let _ = write!(
            h,
            "<tr><td>{} / {}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            p.a, p.b, p.pearson, p.spearman
        );
    }
    h.push_str("</table>");
}

fn distributions(h: &mut String, eda: &Eda) {
    let _ = write!(
        h,
        "<h2 id=\"distributions\">Distributions</h2><div class=\"grid-2\">"
    );
    for hist in &eda.histograms {
        figure(
            h,
            &svg::histogram(
                name(hist.column),
                &label(hist.column),
                &hist.edges.iter().map(|e| e * scale(hist.column)).collect::<Vec<_>>(),
                &hist.counts,
                None,
            ),
            &format!(
                "{} in {} equal bins between its 0.5th and 99.5th percentiles ({} rows below and {} above are not drawn); hover a bar for its count.",
                name(hist.column),
                hist.counts.len(),
                thousands(hist.below as u64),
                thousands(hist.above as u64)
            ),
        );
    }
    h.push_str("</div>");
}

fn relationship(h: &mut String, eda: &Eda) {
    // Relationship with popularity.
    let _ = write!(
        h,
        "<h2 id=\"relationship\">Popularity against each feature</h2><div class=\"grid-2\">"
    );
    for b in &eda.by_feature {
        let names = |v: f64| code_name(b.column, v);
        figure(
            h,
            &svg::line(
                &format!("Mean popularity by {}", name(b.column)),
                &label(b.column),
                "mean popularity",
                &b.centres
                    .iter()
                    .map(|c| c * scale(b.column))
                    .collect::<Vec<_>>(),
                &b.mean_popularity,
                &b.counts,
                b.is_code.then_some(&names as svg::TickNames),
            ),
            &if b.is_code {
                format!("Mean popularity of the rows with each value of {}; hover a point for its row count.", name(b.column))
            } else {
                format!(
                    "Mean popularity in 20 bins of {} between its 0.5th and 99.5th percentiles; bins of fewer than {} rows are left out. Flat means: little to learn from this feature alone.",
                    name(b.column),
                    super::MIN_BIN_ROWS
                )
            },
        );
    }
    h.push_str("</div>");
}

fn genres(h: &mut String, eda: &Eda) {
    let pop = &eda.popularity;
    let mut by_mean: Vec<(String, f64)> = eda
        .genres
        .iter()
        .map(|g| (g.genre.clone(), g.mean_popularity))
        .collect();
    by_mean.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut by_share: Vec<(String, f64)> = eda
        .genres
        .iter()
        .map(|g| (g.genre.clone(), g.share_popular))
        .collect();
    by_share.sort_by(|a, b| b.1.total_cmp(&a.1));
    let bottom = |v: &[(String, f64)]| v.iter().rev().take(15).rev().cloned().collect::<Vec<_>>();
    let _ = write!(
        h,
        "<h2 id=\"genres\">Popularity by genre</h2><div class=\"grid-2\">"
    );
    let one = |v: f64| format!("{v:.1}");
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    figure(
        h,
        &svg::hbars(
            "Top 15 genres by mean popularity",
            "mean popularity (0-100)",
            &by_mean[..by_mean.len().min(15)],
            one,
        ),
        "Genre is the strongest single signal in the data.",
    );
    figure(
        h,
        &svg::hbars(
            "Bottom 15 genres by mean popularity",
            "mean popularity (0-100)",
            &bottom(&by_mean),
            one,
        ),
        "Some genres are almost never popular on Spotify.",
    );
    figure(
        h,
        &svg::hbars(
            "Top 15 genres by share popular",
            &format!("share with popularity > {}", pop.threshold),
            &by_share[..by_share.len().min(15)],
            pct,
        ),
        "The share of a genre's tracks above the label threshold: what the classifier learns from.",
    );
    let none_popular = by_share.iter().filter(|g| g.1 == 0.0).count();
    figure(
        h,
        &svg::hbars("Bottom 15 genres by share popular", &format!("share with popularity > {}", pop.threshold), &bottom(&by_share), pct),
        &format!("{none_popular} genres have no popular track at all (15 of them shown): an easy no for the classifier."),
    );
    h.push_str("</div>");
}

fn outliers(h: &mut String, eda: &Eda) {
    // Outliers.
    let _ = write!(h, "<h2 id=\"outliers\">Outliers (Tukey fences)</h2><p>Q1 − 1.5 IQR and Q3 + 1.5 IQR over this table. The <i>capped</i> setup clips FIT values to the fences (fitted on FIT); the <i>removed</i> setup drops FIT rows outside any of them.</p><table><tr><th>column</th><th>Q1</th><th>Q3</th><th>low fence</th><th>high fence</th><th>below</th><th>above</th></tr>");
    for f in &eda.outliers {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.column, short(f.q1), short(f.q3), short(f.low), short(f.high), thousands(f.below as u64), thousands(f.above as u64)
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glance_names_the_strongest_tie_and_the_widest_swing() {
        let c = crate::eda::Correlations {
            columns: vec!["popularity", "energy", "valence"],
            pearson: vec![
                vec![1.0, 0.05, -0.2],
                vec![0.05, 1.0, 0.3],
                vec![-0.2, 0.3, 1.0],
            ],
            spearman: vec![],
            top: vec![],
        };
        assert_eq!(strongest_tie(&c), Some(("valence", -0.2)));
        let bins = |column, means: Vec<Option<f64>>| crate::eda::BinnedMeans {
            column,
            is_code: false,
            centres: vec![0.0; means.len()],
            counts: vec![100; means.len()],
            mean_popularity: means,
        };
        let by_feature = [
            bins("energy", vec![Some(30.0), None, Some(40.0)]),
            bins("tempo", vec![Some(20.0), Some(45.0)]),
            bins("key", vec![None]),
        ];
        assert_eq!(widest_swing(&by_feature), Some(("tempo", 20.0, 45.0)));
    }

    #[test]
    fn charts_speak_minutes_and_names_not_milliseconds_and_codes() {
        assert_eq!(label("duration_ms"), "duration (minutes)");
        assert_eq!(scale("duration_ms") * 210_000.0, 3.5);
        assert_eq!(label("tempo"), "tempo (BPM)");
        assert_eq!(code_name("key", 1.0), "C♯");
        assert_eq!(code_name("key", 11.0), "B");
        assert_eq!(code_name("key", -1.0), "none");
        assert_eq!(code_name("mode", 0.0), "minor");
        assert_eq!(code_name("explicit", 1.0), "yes");
        assert_eq!(code_name("time_signature", 4.0), "4");
    }
}

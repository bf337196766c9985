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
.grid-2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(480px, 100%), 1fr)); gap: 12px 24px; }
figure { margin: 0 0 12px; } figcaption { font-size: 13px; color: #555; margin-top: 2px; }
svg.chart { width: 100%; height: auto; background: #fff; }
svg .title { font-size: 14px; font-weight: 600; fill: #222; }
svg .tick, svg .value { font-size: 11px; fill: #444; } svg .label { font-size: 12px; fill: #222; }
svg .cell-value { font-size: 10px; } svg .axis { stroke: #888; } svg .grid { stroke: #eee; }
svg .line { stroke-width: 2; } svg .marker { stroke-width: 2; stroke-dasharray: 5 3; } svg .marker-label { font-size: 12px; }
@media print { h2 { break-after: avoid; } figure { break-inside: avoid; } }
@media (max-width: 760px) { table { display: block; overflow-x: auto; max-width: 100%; } }
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

/// A chart with its caption.
pub fn figure(out: &mut String, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    );
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

/// The EDA's sections (from the lead paragraph to the outliers), for this page and the report.
pub fn sections(eda: &Eda) -> String {
    let mut h = String::new();
    let s = &eda.summary;
    let d = &s.duplicates;
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

    // Overview.
    let _ = write!(h, "<h2 id=\"overview\">Overview</h2><table><tr><th>what</th><th>count</th><th>meaning</th></tr>");
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

    // Correlations.
    let c = &eda.correlation;
    let _ = write!(
        h,
        "<h2 id=\"correlation\">Correlations</h2><div class=\"grid-2\">"
    );
    figure(&mut h, &svg::heatmap("Pearson correlation", &c.columns, &c.pearson), "Linear association between each pair of columns. Orange: both rise together; blue: one falls as the other rises. Look at the popularity row: no single audio feature is strongly tied to it.");
    figure(&mut h, &svg::heatmap("Spearman correlation", &c.columns, &c.spearman), "Rank (monotone) association. Where it differs from Pearson, the relation is monotone but not straight, or driven by outliers.");
    h.push_str("</div><table><tr><th>strongest pairs</th><th>Pearson</th><th>Spearman</th></tr>");
    for p in &c.top {
        let _ = write!(
            h,
            "<tr><td>{} / {}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            p.a, p.b, p.pearson, p.spearman
        );
    }
    h.push_str("</table>");

    // Distributions.
    let pop = &eda.popularity;
    let _ = write!(
        h,
        "<h2 id=\"distributions\">Distributions</h2><div style=\"max-width:760px\">"
    );
    figure(
        &mut h,
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
    h.push_str("</div><div class=\"grid-2\">");
    for hist in &eda.histograms {
        figure(
            &mut h,
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

    // Relationship with popularity.
    let _ = write!(
        h,
        "<h2 id=\"relationship\">Popularity against each feature</h2><div class=\"grid-2\">"
    );
    for b in &eda.by_feature {
        let names = |v: f64| code_name(b.column, v);
        figure(
            &mut h,
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
        &mut h,
        &svg::hbars(
            "Top 15 genres by mean popularity",
            "mean popularity (0-100)",
            &by_mean[..by_mean.len().min(15)],
            one,
        ),
        "Genre is the strongest single signal in the data.",
    );
    figure(
        &mut h,
        &svg::hbars(
            "Bottom 15 genres by mean popularity",
            "mean popularity (0-100)",
            &bottom(&by_mean),
            one,
        ),
        "Some genres are almost never popular on Spotify.",
    );
    figure(
        &mut h,
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
        &mut h,
        &svg::hbars("Bottom 15 genres by share popular", &format!("share with popularity > {}", pop.threshold), &bottom(&by_share), pct),
        &format!("{none_popular} genres have no popular track at all (15 of them shown): an easy no for the classifier."),
    );
    h.push_str("</div>");

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
    h
}

#[cfg(test)]
mod tests {
    use super::*;

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

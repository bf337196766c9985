//! The EDA page: every number of [`Eda`], what matters for popularity first, then the columns
//! one by one, then how the rows were cleaned.

use maud::{html, Markup};

use super::chart::{self, short};
use super::{figure, page};
use crate::eda::{BinnedMeans, Correlations, Eda, MIN_BIN_ROWS};
use crate::text::thousands;

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
pub fn page_of(eda: &Eda) -> String {
    page(
        &format!("hitcast EDA: {}", file_name(&eda.summary.path)),
        "eda.json",
        html! {
            h1 { "What is in the data" }
            (sections(eda))
        },
    )
}

/// The EDA's sections (from the lead paragraph to the outliers), for this page and the report.
pub fn sections(eda: &Eda) -> Markup {
    let s = &eda.summary;
    html! {
        p.lead {
            (file_name(&s.path)) ": " (thousands(eda.rows as u64)) " rows analysed as the " b { (eda.protocol) }
            " protocol's table ("
            (if eda.protocol.is_leaky() { "raw rows, duplicates kept" } else { "one row per track_id, genres merged" })
            "). Popular means popularity > " (eda.popularity.threshold) "."
        }
        (glance(eda))
        (genres(eda))
        (relationship(eda))
        (correlations(eda))
        (distributions(eda))
        (summary(eda))
        (overview(eda))
        (outliers(eda))
    }
}

/// The few facts a reader should leave with, in sentences, beside the popularity histogram.
fn glance(eda: &Eda) -> Markup {
    let pop = &eda.popularity;
    let percent = pop.share_popular * 100.0;
    let best = eda
        .genres
        .iter()
        .max_by(|a, b| a.share_popular.total_cmp(&b.share_popular));
    // Swings of mean popularity, by genre and by the feature that moves it most, each over
    // groups of at least MIN_BIN_ROWS tracks, to say which tells more.
    let feature_swing = widest_swing(&eda.by_feature);
    let genre_means = || {
        eda.genres
            .iter()
            .filter(|g| g.rows >= MIN_BIN_ROWS)
            .map(|g| g.mean_popularity)
    };
    let genre_swing = (genre_means().count() > 1).then(|| {
        (
            genre_means().fold(f64::INFINITY, f64::min),
            genre_means().fold(f64::NEG_INFINITY, f64::max),
        )
    });
    let d = &eda.summary.duplicates;
    let histogram = chart::histogram(
        "Popularity",
        "popularity (0-100)",
        &pop.histogram.edges,
        &pop.histogram.counts,
        // Between the last unpopular score and the first popular one: a bin's edge.
        Some((
            f64::from(pop.threshold) + 1.0,
            &format!("popular > {} ({percent:.1}% of rows)", pop.threshold),
        )),
    );
    let rare = if pop.share_popular < RARE {
        ": the class the models look for is rare"
    } else {
        ""
    };
    html! {
        h2 #glance { "At a glance" }
        ul.glance {
            @if eda.rows < SMALL_SAMPLE {
                li {
                    b { "A small sample." } " With " (thousands(eda.rows as u64)) " tracks every figure here is rough, and each point of a chart of mean popularity needs "
                    (MIN_BIN_ROWS) " tracks."
                }
            }
            li {
                b { (format!("{percent:.1}%")) } " of the " (thousands(eda.rows as u64)) " rows are popular (popularity > "
                (pop.threshold) ")" (rare) "; " (thousands(pop.zeros as u64)) " rows score 0."
            }
            // One genre tells nothing apart.
            @if let Some(best) = best.filter(|_| eda.genres.len() > 1) {
                li {
                    @if let Some((lo, hi)) = genre_swing {
                        @match feature_swing {
                            Some((column, f_lo, f_hi)) if hi - lo < f_hi - f_lo => {
                                b { "Genre tells less than " (name(column)) "." }
                            }
                            _ => { b { "Genre tells the most." } }
                        }
                        " Mean popularity by genre (of " (MIN_BIN_ROWS) " tracks or more) goes from " (format!("{lo:.0}")) " to " (format!("{hi:.0}")) "; "
                    } @else {
                        b { "Genres." } " "
                    }
                    (format!("{:.1}%", best.share_popular * 100.0)) " of " (best.genre) " tracks are popular; "
                    @match eda.genres.iter().filter(|g| g.share_popular == 0.0).count() {
                        0 => { "every genre has popular tracks." }
                        none => { (none) " of the " (eda.genres.len()) " genres have no popular track at all." }
                    }
                }
            }
            @if let Some((column, r)) = strongest_tie(&eda.correlation) {
                li {
                    @if r.abs() < WEAK_TIE {
                        b { "No audio feature alone says much." } " The one most tied to popularity is "
                    } @else {
                        "The audio feature most tied to popularity is "
                    }
                    (name(column)) " (Pearson r = " (format!("{r:.2}")) ")."
                }
            }
            @if let Some((column, lo, hi)) = feature_swing {
                li {
                    "Mean popularity moves most with " b { (name(column)) } ": from " (format!("{lo:.0}")) " to "
                    (format!("{hi:.0}")) " across its range."
                }
            }
            @if !eda.protocol.is_leaky() && d.surplus_rows > 0 {
                li {
                    (thousands(d.surplus_rows)) " rows listed a track again (under another genre, or the same one): they are merged, one row a track ("
                    a href="#overview" { "rows and duplicates" } ")."
                }
            }
        }
        div.grid-2 {
            (figure(&histogram, &format!(
                "Bins of 5 points{}. {percent:.1}% of rows are popular (right of the dashed line){rare}. {} rows score 0.",
                // Where a bin starts just above the label (not from 99 on: 100 closes the last).
                if pop.threshold < 99 { format!(", one starting at {}", u16::from(pop.threshold) + 1) } else { String::new() },
                thousands(pop.zeros as u64)
            )))
        }
    }
}

/// Under this many tracks the page says its figures are rough.
const SMALL_SAMPLE: usize = 1_000;

/// A popular share under this is called rare.
const RARE: f64 = 0.2;

/// A correlation with popularity under this in size says little on its own.
const WEAK_TIE: f64 = 0.3;

/// The feature whose Pearson correlation with popularity is largest in size.
fn strongest_tie(c: &Correlations) -> Option<(&'static str, f64)> {
    let row = c.columns.iter().position(|&col| col == "popularity")?;
    c.columns
        .iter()
        .zip(&c.pearson[row])
        .filter(|(&col, r)| col != "popularity" && r.is_finite())
        .map(|(&col, &r)| (col, r))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
}

/// The lowest and highest mean popularity of a feature's bins, when at least two bins have a
/// mean and they differ: a real spread, not one bin or a flat line.
fn swing(b: &BinnedMeans) -> Option<(f64, f64)> {
    let means = b.mean_popularity.iter().flatten().copied();
    let lo = means.clone().fold(f64::INFINITY, f64::min);
    let hi = means.clone().fold(f64::NEG_INFINITY, f64::max);
    (means.count() >= 2 && hi > lo).then_some((lo, hi))
}

/// The feature whose binned mean popularity spans the widest range, with that range.
fn widest_swing(by_feature: &[BinnedMeans]) -> Option<(&'static str, f64, f64)> {
    by_feature
        .iter()
        .filter_map(|b| swing(b).map(|(lo, hi)| (b.column, lo, hi)))
        .max_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)))
}

/// A swing of mean popularity this small (in points) reads as flat.
const FLAT: f64 = 3.0;

/// What a feature's chart of binned means shows, in a sentence: its own swing.
fn swing_text(b: &BinnedMeans) -> String {
    match swing(b) {
        Some((lo, hi)) if hi - lo < FLAT => {
            format!("Nearly flat (within {FLAT:.0} points): little to learn from it alone.")
        }
        Some((lo, hi)) => format!("Mean popularity goes from {lo:.0} to {hi:.0} across its range."),
        None => format!("Fewer than two bins hold {MIN_BIN_ROWS} rows: too few to read a trend."),
    }
}

/// A statistic to 4 decimals without trailing zeros, an integer as an integer, and "—" where
/// there is none (NaN: a correlation with a column that never varies, the sd of one value).
fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    if v.fract() == 0.0 {
        return format!("{v:.0}");
    }
    // Four significant figures, at most four decimals: a summary, not the data's precision.
    let magnitude = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).clamp(0, 4) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A coefficient to `decimals` places, "—" where there is none; never "-0.000".
fn fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        let s = format!("{v:.decimals$}");
        match s.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
            _ => s,
        }
    } else {
        "—".to_owned()
    }
}

fn overview(eda: &Eda) -> Markup {
    let s = &eda.summary;
    let d = &s.duplicates;
    let surplus = if eda.protocol.is_leaky() {
        format!(
            "{} surplus rows, the same track listed again (under another genre, or the same one): kept, as this protocol analyses raw rows",
            thousands(d.surplus_rows)
        )
    } else {
        format!(
            "{} surplus rows merged into their first row: the same track listed again (under another genre, or the same one)",
            thousands(d.surplus_rows)
        )
    };
    let counts: [(&str, u64, String); 7] = [
        ("raw rows", s.rows_raw, "data lines accepted".into()),
        ("tracks", s.tracks, "distinct track_id".into()),
        ("ids listed more than once", d.repeated_track_ids, surplus),
        (
            "exact duplicate rows",
            d.exact_duplicate_rows,
            "same values in every column hitcast reads (others, such as playlist ids, may differ)"
                .into(),
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
    let missing: Vec<String> = s
        .missing
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let missing = if missing.is_empty() {
        "none".to_owned()
    } else {
        missing.join(", ") + " (rows kept, the cells read as empty)"
    };
    html! {
        h2 #overview { "Rows, duplicates and missing values" }
        table {
            tr { th { "what" } th { "count" } th { "meaning" } }
            @for (what, n, meaning) in &counts {
                tr { td { (what) } td { (thousands(*n)) } td style="text-align:left" { (meaning) } }
            }
            tr {
                td { "missing values" } td { (s.missing.values().sum::<u64>()) }
                td style="text-align:left" { (missing) }
            }
            @if !eda.absent.is_empty() {
                tr {
                    td { "absent columns" } td { (eda.absent.len()) }
                    td style="text-align:left" {
                        (eda.absent.join(", ")) ": not in the file, so every row holds a default; left out of this whole page"
                    }
                }
            }
            @for (what, n) in &eda.edge_values {
                tr {
                    td { (what) } td { (thousands(*n as u64)) }
                    td style="text-align:left" { "allowed, but worth knowing (rows of the table)" }
                }
            }
        }
    }
}

fn summary(eda: &Eda) -> Markup {
    html! {
        h2 #summary { "Summary statistics" }
        table {
            tr {
                @for h in ["column", "count", "mean", "std", "min", "25%", "50%", "75%", "max", "missing", "distinct", "skewness"] {
                    th { (h) }
                }
            }
            @for n in &eda.numeric {
                @let k = scale(n.column);
                // A key is a pitch class, not a quantity: no mean, spread or skew.
                @let quantity = n.column != "key";
                @let moment = |v: f64| if quantity { compact(v * k) } else { "—".to_owned() };
                tr {
                    td { (label(n.column)) } td { (thousands(n.count as u64)) }
                    td { (moment(n.mean)) } td { (moment(n.std)) }
                    @for v in [n.min, n.q25, n.q50, n.q75, n.max] { td { (compact(v * k)) } }
                    td { (n.missing) } td { (thousands(n.distinct as u64)) }
                    td { (if quantity { fixed(n.skewness, 3) } else { "—".to_owned() }) }
                }
            }
        }
        table {
            tr { th { "text column" } th { "distinct" } th { "most frequent" } th { "its count" } th { "missing" } }
            @for c in &eda.categorical {
                tr {
                    td { (c.column) } td { (thousands(c.distinct as u64)) } td { (c.top) }
                    td { (thousands(c.top_count as u64)) } td { (c.missing) }
                }
            }
        }
    }
}

fn correlations(eda: &Eda) -> Markup {
    let c = &eda.correlation;
    html! {
        h2 #correlation { "Correlations" }
        // One a row: a matrix of 15 columns is wider than a grid cell.
        div {
            (figure(&chart::heatmap("Pearson correlation", &c.columns, &c.pearson), "Linear association between each pair of columns. Orange: both rise together; blue: one falls as the other rises. Look at the popularity row: no single audio feature is strongly tied to it."))
            (figure(&chart::heatmap("Spearman correlation", &c.columns, &c.spearman), "Rank (monotone) association. Where it differs from Pearson, the relation is monotone but not straight, or driven by outliers."))
        }
        table {
            tr { th { "strongest pairs" } th { "Pearson" } th { "Spearman" } }
            @for p in &c.top {
                tr {
                    td { (p.a) " / " (p.b) } td { (fixed(p.pearson, 3)) } td { (fixed(p.spearman, 3)) }
                }
            }
        }
    }
}

fn distributions(eda: &Eda) -> Markup {
    html! {
        h2 #distributions { "Distributions" }
        div.grid-2 {
            @for hist in &eda.histograms {
                @let edges: Vec<f64> = hist.edges.iter().map(|e| e * scale(hist.column)).collect();
                (figure(
                    &chart::histogram(name(hist.column), &label(hist.column), &edges, &hist.counts, None),
                    &format!(
                        "{} in {} equal bins between its 0.5th and 99.5th percentiles ({} rows below and {} above are not drawn); hover a bar for its count (with a mouse; the eda.json `hitcast eda` writes holds every count).",
                        name(hist.column),
                        hist.counts.len(),
                        thousands(hist.below as u64),
                        thousands(hist.above as u64)
                    ),
                ))
            }
        }
    }
}

/// Mean popularity along each feature.
fn relationship(eda: &Eda) -> Markup {
    // A feature none of whose bins holds enough tracks is named, not drawn as an empty frame.
    let (charted, empty): (Vec<&BinnedMeans>, Vec<&BinnedMeans>) = eda
        .by_feature
        .iter()
        .partition(|b| b.mean_popularity.iter().any(Option::is_some));
    let empty: Vec<&str> = empty.iter().map(|b| name(b.column)).collect();
    html! {
        h2 #relationship { "Popularity against each feature" }
        @if charted.is_empty() {
            p {
                "Too few tracks to chart: each point is the mean popularity of at least " (MIN_BIN_ROWS)
                " tracks, and no feature's bin holds that many of these " (thousands(eda.rows as u64)) "."
            }
        } @else {
            @if !empty.is_empty() {
                p {
                    "Not charted, as none of their bins holds " (MIN_BIN_ROWS) " tracks: " (empty.join(", ")) "."
                }
            }
            div.grid-2 {
                @for b in charted {
                    (figure(&binned_means(b), &if b.is_code {
                        format!(
                            "Mean popularity of the rows with each value of {} (values of fewer than {MIN_BIN_ROWS} rows are left out); hover a point for its row count (with a mouse; the eda.json `hitcast eda` writes holds every count). {}",
                            name(b.column),
                            swing_text(b)
                        )
                    } else {
                        format!(
                            "Mean popularity in {} bins of {} between its 0.5th and 99.5th percentiles; bins of fewer than {MIN_BIN_ROWS} rows are left out. {}",
                            b.centres.len(),
                            name(b.column),
                            swing_text(b)
                        )
                    }))
                }
            }
        }
    }
}

/// The chart of one feature's binned means.
fn binned_means(b: &BinnedMeans) -> chart::Chart {
    let names = |v: f64| code_name(b.column, v);
    let centres: Vec<f64> = b.centres.iter().map(|c| c * scale(b.column)).collect();
    chart::line(
        &format!("Mean popularity by {}", name(b.column)),
        &label(b.column),
        "mean popularity (0-100)",
        &centres,
        &b.mean_popularity,
        &b.counts,
        b.is_code.then_some(&names as chart::TickNames),
    )
}

/// Genres charted as top and bottom ones above this many; all of them up to it.
const GENRES_SHOWN: usize = 15;

/// A genre share this low reads as "almost never popular".
const ALMOST_NEVER: f64 = 0.01;

fn genres(eda: &Eda) -> Markup {
    let pop = &eda.popularity;
    let sorted = |of: fn(&crate::eda::GenreStats) -> f64| {
        let mut v: Vec<(String, f64)> = eda
            .genres
            .iter()
            .map(|g| (g.genre.clone(), of(g)))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    };
    let by_mean = sorted(|g| g.mean_popularity);
    let by_share = sorted(|g| g.share_popular);
    let one = |v: f64| format!("{v:.1}");
    let pct = |v: f64| format!("{:.1}%", v * 100.0);
    let mean_axis = "mean popularity (0-100)";
    let share_axis = format!("share with popularity > {}", pop.threshold);
    let none_popular = by_share.iter().filter(|g| g.1 == 0.0).count();
    let (Some(high), Some(low), Some(lowest_share)) =
        (by_mean.first(), by_mean.last(), by_share.last())
    else {
        return html! {};
    };
    let share_caption =
        "The share of a genre's tracks above the label threshold: what the classifier learns from.";
    let spread = if by_mean.len() == 1 {
        format!("One genre: {}, {}.", high.0, one(high.1))
    } else {
        format!(
            "From {} ({}) down to {} ({}).",
            one(high.1),
            high.0,
            one(low.1),
            low.0
        )
    };
    let all_shown = by_share.len() <= GENRES_SHOWN;
    let no_popular = match none_popular {
        0 => format!(
            "Every genre has popular tracks; the fewest: {} of {}.",
            pct(lowest_share.1),
            lowest_share.0
        ),
        1 if all_shown => {
            "1 genre has no popular track at all: an easy no for the classifier.".to_owned()
        }
        n if all_shown => {
            format!("{n} genres have no popular track at all: an easy no for the classifier.")
        }
        n => format!(
            "{n} of the {} genres have no popular track at all ({} of them shown): an easy no for the classifier.",
            by_share.len(),
            n.min(GENRES_SHOWN)
        ),
    };
    if all_shown {
        return html! {
            h2 #genres { "Popularity by genre" }
            div.grid-2 {
                (figure(
                    &chart::hbars("Genres by mean popularity", mean_axis, &by_mean, one),
                    &format!("Mean popularity of each genre's tracks. {spread}"),
                ))
                (figure(
                    &chart::hbars("Genres by share popular", &share_axis, &by_share, pct),
                    &format!("{share_caption} {no_popular}"),
                ))
            }
        };
    }
    let top = |v: &[(String, f64)]| v[..GENRES_SHOWN].to_vec();
    let bottom = |v: &[(String, f64)]| v[v.len() - GENRES_SHOWN..].to_vec();
    // A top and a bottom chart of one measure share its scale: a bottom genre's bar is not
    // drawn as long as the top one's.
    let (most_mean, most_share) = (high.1, by_share.first().map_or(0.0, |g| g.1));
    let bottom_share = bottom(&by_share);
    // Fifteen bars of 0.0% say less than names in a sentence: then every genre without a
    // popular track is named, alphabetically, not fifteen of them picked by the sort's order.
    let never_popular = bottom_share.iter().all(|g| g.1 == 0.0).then(|| {
        let mut names: Vec<&str> = by_share
            .iter()
            .filter(|g| g.1 == 0.0)
            .map(|g| g.0.as_str())
            .collect();
        names.sort_unstable();
        names.join(", ")
    });
    let bottom_mean = if lowest_share.1 < ALMOST_NEVER {
        "Some genres are almost never popular on Spotify.".to_owned()
    } else {
        format!("The lowest: {} ({}).", one(low.1), low.0)
    };
    html! {
        h2 #genres { "Popularity by genre" }
        div.grid-2 {
            (figure(
                &chart::hbars_to("Top 15 genres by mean popularity", mean_axis, &top(&by_mean), one, most_mean),
                &format!("Mean popularity of each genre's tracks. {spread}"),
            ))
            (figure(
                &chart::hbars_to("Bottom 15 genres by mean popularity", mean_axis, &bottom(&by_mean), one, most_mean),
                &bottom_mean,
            ))
            (figure(
                &chart::hbars_to("Top 15 genres by share popular", &share_axis, &top(&by_share), pct, most_share),
                share_caption,
            ))
            @if let Some(names) = &never_popular {
                figure {
                    div.chart-title { "Genres without a popular track" }
                    p { (none_popular) " of the " (by_share.len()) " genres have no popular track at all: an easy no for the classifier. They are " (names) "." }
                }
            } @else {
                (figure(
                    &chart::hbars_to("Bottom 15 genres by share popular", &share_axis, &bottom_share, pct, most_share),
                    &no_popular,
                ))
            }
        }
    }
}

fn outliers(eda: &Eda) -> Markup {
    html! {
        h2 #outliers { "Outliers (Tukey fences)" }
        p {
            "Q1 − 1.5 IQR and Q3 + 1.5 IQR over this table. The " i { "capped" }
            " setup clips FIT values to the fences (fitted on FIT); the " i { "removed" }
            " setup drops FIT rows outside any of them."
        }
        table {
            tr {
                @for h in ["column", "Q1", "Q3", "low fence", "high fence", "below", "above"] { th { (h) } }
            }
            @for f in &eda.outliers {
                tr {
                    @let k = scale(f.column);
                    td { (label(f.column)) } td { (short(f.q1 * k)) } td { (short(f.q3 * k)) } td { (short(f.low * k)) }
                    td { (short(f.high * k)) } td { (thousands(f.below as u64)) } td { (thousands(f.above as u64)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glance_names_the_strongest_tie_and_the_widest_swing() {
        let c = Correlations {
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
        let bins = |column, means: Vec<Option<f64>>| BinnedMeans {
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
        // A flat column and a single bin have no swing: never "from 30 to 30".
        let flat = [
            bins("explicit", vec![Some(30.0), Some(30.0)]),
            bins("mode", vec![Some(30.0), None]),
        ];
        assert_eq!(widest_swing(&flat), None);
    }

    #[test]
    fn each_feature_s_caption_says_its_own_swing() {
        let bins = |means: Vec<Option<f64>>| BinnedMeans {
            column: "loudness",
            is_code: false,
            centres: vec![0.0; means.len()],
            counts: vec![100; means.len()],
            mean_popularity: means,
        };
        assert_eq!(
            swing_text(&bins(vec![Some(24.2), None, Some(30.0), Some(36.8)])),
            "Mean popularity goes from 24 to 37 across its range."
        );
        assert_eq!(
            swing_text(&bins(vec![Some(31.0), Some(33.5)])),
            "Nearly flat (within 3 points): little to learn from it alone."
        );
        assert_eq!(
            swing_text(&bins(vec![Some(31.0), None])),
            "Fewer than two bins hold 50 rows: too few to read a trend."
        );
        let svg = binned_means(&bins(vec![Some(31.0)])).svg.into_string();
        assert!(svg.contains(">mean popularity (0-100)</text>"), "{svg}");
    }

    #[test]
    fn summary_numbers_are_as_compact_as_the_mean() {
        assert_eq!(compact(-8.309_249_999_999_999), "-8.309");
        assert_eq!(compact(0.5), "0.5");
        assert_eq!(compact(174_066.0), "174066");
        assert_eq!(compact(229_141.812_2), "229142");
        assert_eq!(compact(3.819_030_2), "3.819");
        assert_eq!(compact(0.000_123_4), "0.0001");
        assert_eq!(compact(-0.000_01), "0");
        assert_eq!(compact(f64::NAN), "—");
        assert_eq!(fixed(f64::NAN, 3), "—");
        assert_eq!(fixed(-0.000_2, 3), "0.000");
        assert_eq!(fixed(-0.25, 3), "-0.250");
    }

    #[test]
    fn absent_columns_flat_columns_and_duplicates_read_truly() {
        use crate::eda::tests::analysed;
        use crate::split::Protocol;
        // explicit and time_signature absent, mode 1 on every row (NaN correlations).
        let page = page_of(&analysed(60, 6, Protocol::Honest));
        assert!(!page.contains("NaN") && !page.contains("undefined"));
        assert_eq!(
            page.matches("explicit, time_signature: not in the file")
                .count(),
            1
        );
        assert!(!page.contains("Mean popularity by explicit"));
        assert!(page.contains("listed a track again (under another genre, or the same one)"));
        assert!(page.contains("same values in every column hitcast reads"));
        assert!(page.contains("merged into their first row"));
        // The summary names each column with its unit, durations in minutes, and gives a key
        // (a pitch class) no mean.
        let summary = page.split("id=\"summary\"").nth(1).unwrap_or_default();
        assert!(summary.contains("<td>duration (minutes)</td>"), "{summary}");
        assert!(summary.contains("<td>tempo (BPM)</td>"), "{summary}");
        let key = summary.split("<td>key</td>").nth(1).unwrap_or_default();
        assert!(key.starts_with("<td>54</td><td>—</td><td>—</td>"), "{key}");
        let raw = page_of(&analysed(60, 6, Protocol::Reference));
        assert!(!raw.contains("merged into"), "{raw}");
        assert!(raw.contains("kept, as this protocol analyses raw rows"));
    }

    #[test]
    fn a_small_table_says_so_and_draws_no_empty_chart() {
        use crate::eda::tests::analysed;
        use crate::split::Protocol;
        // 54 tracks: only mode (1 on every row) has a value held by 50 of them.
        let small = analysed(60, 6, Protocol::Honest);
        assert_eq!(small.rows, 54);
        let said = glance(&small).into_string();
        assert!(
            said.contains(
                "<li><b>A small sample.</b> With 54 tracks every figure here is rough, and each \
                 point of a chart of mean popularity needs 50 tracks.</li>"
            ),
            "{said}"
        );
        let page = relationship(&small).into_string();
        assert!(
            page.contains(
                "<p>Not charted, as none of their bins holds 50 tracks: duration, danceability, \
                 energy, key, loudness, speechiness, acousticness, instrumentalness, liveness, \
                 valence, tempo.</p>"
            ),
            "{page}"
        );
        assert_eq!(page.matches(r#"role="img""#).count(), 1, "{page}");
        assert!(page.contains("Mean popularity by mode"), "{page}");
        // 18 tracks: no chart at all, one sentence instead.
        let tiny = relationship(&analysed(20, 3, Protocol::Honest)).into_string();
        assert!(
            tiny.contains(
                "<p>Too few tracks to chart: each point is the mean popularity of at least 50 \
                 tracks, and no feature's bin holds that many of these 18.</p>"
            ),
            "{tiny}"
        );
        assert_eq!(tiny.matches(r#"role="img""#).count(), 0);
    }

    #[test]
    fn few_genres_are_charted_all_at_once_and_captions_count_true() {
        use crate::eda::tests::analysed;
        use crate::split::Protocol;
        let six = analysed(60, 6, Protocol::Honest);
        let page = genres(&six).into_string();
        assert!(
            page.contains("Genres by mean popularity") && page.contains("Genres by share popular")
        );
        assert!(
            !page.contains("Top 15") && !page.contains("Bottom 15"),
            "{page}"
        );
        assert!(!page.contains("15 of them"), "{page}");
        assert_eq!(page.matches(r#"role="img""#).count(), 2);

        let many = analysed(120, 40, Protocol::Honest);
        let none = many
            .genres
            .iter()
            .filter(|g| g.share_popular == 0.0)
            .count();
        let lowest = many
            .genres
            .iter()
            .map(|g| g.share_popular)
            .fold(1.0, f64::min);
        let page = genres(&many).into_string();
        assert!(page.contains("Top 15 genres by mean popularity"), "{page}");
        assert!(none > 0);
        assert!(
            page.contains(&format!(
                "{none} of the 40 genres have no popular track at all ({} of them shown)",
                none.min(15)
            )),
            "{page}"
        );
        assert_eq!(
            page.contains("almost never popular"),
            lowest < ALMOST_NEVER,
            "{page}"
        );
        // Fifteen genres of 0.0% are named, not drawn as fifteen empty bars.
        let named = page.contains(
            "<figure><div class=\"chart-title\">Bottom 15 genres by share popular</div><p>",
        );
        assert_eq!(named, none >= 15, "{page}");
        assert_eq!(
            page.matches(r#"role="img""#).count(),
            if named { 3 } else { 4 }
        );
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

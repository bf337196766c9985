//! Exploratory analysis: every number the EDA report shows, computed once, serialisable to
//! `eda.json`, and laid out as a page by [`crate::render::eda`].
//!
//! Statistics are over the protocol's table: collapsed tracks (honest, known-artist) or raw rows
//! (seed). Standard deviations are sample ones (n - 1), quantiles interpolate linearly and
//! skewness is the adjusted Fisher-Pearson coefficient, all as pandas computes them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::{Column, DataSummary, Tracks};
use crate::features::quantile;
use crate::split::Protocol;

/// The numeric columns analysed, in report order: popularity, then the audio columns.
pub fn numeric_columns() -> Vec<Column> {
    std::iter::once(Column::Popularity)
        .chain(Column::AUDIO)
        .collect()
}

/// Audio columns that are codes or flags, not measurements (no histogram of 30 bins, no fences).
const CODES: [Column; 4] = [
    Column::Explicit,
    Column::Key,
    Column::Mode,
    Column::TimeSignature,
];

/// The whole analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Eda {
    /// The file, as `hitcast data check` summarises it (over raw rows and collapsed tracks).
    pub summary: DataSummary,
    /// The table analysed: `honest`/`known-artist` collapse by track id, `seed` keeps raw rows.
    pub protocol: Protocol,
    /// Rows of that table.
    pub rows: usize,
    /// Numeric columns absent from the file: every row holds their default, so every table and
    /// chart below leaves them out.
    pub absent: Vec<&'static str>,
    /// Suspicious values that are allowed: tempo 0, time signature 0 or 1, loudness above 0 dB,
    /// duration 0.
    pub edge_values: BTreeMap<&'static str, usize>,
    /// One entry per numeric column.
    pub numeric: Vec<NumericStats>,
    /// Text columns.
    pub categorical: Vec<CategoricalStats>,
    /// Pearson and Spearman correlations between the numeric columns.
    pub correlation: Correlations,
    /// A histogram per audio column.
    pub histograms: Vec<Histogram>,
    /// Popularity in bins of 5 points, one edge just above the label threshold.
    pub popularity: PopularityDistribution,
    /// Mean popularity per bin of each audio column.
    pub by_feature: Vec<BinnedMeans>,
    /// Popularity per genre.
    pub genres: Vec<GenreStats>,
    /// Tukey fences of the continuous columns over the whole table, and how many values fall
    /// outside (the capped and removed setups use FIT's fences; these are close).
    pub outliers: Vec<Fences>,
}

/// Summary statistics of one numeric column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumericStats {
    /// Column name.
    pub column: &'static str,
    /// Values present.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// First quartile.
    pub q25: f64,
    /// Median.
    pub q50: f64,
    /// Third quartile.
    pub q75: f64,
    /// Largest value.
    pub max: f64,
    /// Empty cells (none survive validation for numeric columns).
    pub missing: usize,
    /// Distinct values.
    pub distinct: usize,
    /// Adjusted Fisher-Pearson skewness (pandas `skew`).
    pub skewness: f64,
}

/// A text column's distinct values and the most frequent one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoricalStats {
    /// Column name.
    pub column: &'static str,
    /// Distinct non-empty values.
    pub distinct: usize,
    /// The most frequent value (ties: the first in byte order).
    pub top: String,
    /// How often it occurs.
    pub top_count: usize,
    /// Empty cells.
    pub missing: usize,
}

/// Correlation matrices, rows and columns in `columns` order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Correlations {
    /// The columns.
    pub columns: Vec<&'static str>,
    /// Pearson coefficients.
    pub pearson: Vec<Vec<f64>>,
    /// Spearman coefficients (Pearson of average ranks).
    pub spearman: Vec<Vec<f64>>,
    /// The strongest pairs by |Pearson|, strongest first.
    pub top: Vec<CorrelationPair>,
}

/// One pair of columns and their correlations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CorrelationPair {
    /// First column.
    pub a: &'static str,
    /// Second column.
    pub b: &'static str,
    /// Pearson coefficient.
    pub pearson: f64,
    /// Spearman coefficient.
    pub spearman: f64,
}

/// Equal-width bins and the count in each. Audio columns are binned between their 0.5th and
/// 99.5th percentiles so a long tail does not squeeze the rest into one bar; the values outside
/// are counted in `below` and `above`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    /// Column name.
    pub column: &'static str,
    /// Bin edges, one more than the counts.
    pub edges: Vec<f64>,
    /// Values per bin (the last bin includes its right edge).
    pub counts: Vec<usize>,
    /// Values below the first edge.
    pub below: usize,
    /// Values above the last edge.
    pub above: usize,
}

/// The popularity score's distribution and the label threshold on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PopularityDistribution {
    /// Scores 0-100 in bins of 5 (the last, 95-100, holds 100 too).
    pub histogram: Histogram,
    /// Popular means popularity > threshold.
    pub threshold: u8,
    /// Share of popular rows in the table.
    pub share_popular: f64,
    /// Rows with popularity 0.
    pub zeros: usize,
}

/// Mean popularity per bin of one column (continuous columns between their 0.5th and 99.5th
/// percentiles; bins with fewer than [`MIN_BIN_ROWS`] rows have no mean).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinnedMeans {
    /// Column name.
    pub column: &'static str,
    /// Whether the column is a code (key, mode, explicit, time signature): one bin per value.
    pub is_code: bool,
    /// Bin centres (codes: the code itself).
    pub centres: Vec<f64>,
    /// Rows per bin.
    pub counts: Vec<usize>,
    /// Mean popularity per bin (`None` for an empty bin).
    pub mean_popularity: Vec<Option<f64>>,
}

/// Popularity of the tracks listed under one genre.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenreStats {
    /// Genre name.
    pub genre: String,
    /// Rows listing it (a collapsed track counts once per genre it carries).
    pub rows: usize,
    /// Their mean popularity.
    pub mean_popularity: f64,
    /// Their share of popular ones.
    pub share_popular: f64,
}

/// Tukey's fences of one column and the values outside them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fences {
    /// Column name.
    pub column: &'static str,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Q1 - 1.5 IQR.
    pub low: f64,
    /// Q3 + 1.5 IQR.
    pub high: f64,
    /// Values below `low`.
    pub below: usize,
    /// Values above `high`.
    pub above: usize,
}

/// Bins of the histograms and binned means.
const BINS: usize = 30;
/// Bins of the binned means: 20, fewer for a small table (one per 100 rows, at least 5), so
/// that its bins can hold [`MIN_BIN_ROWS`] rows.
fn mean_bins(rows: usize) -> usize {
    (rows / 100).clamp(5, 20)
}
/// Bins with fewer rows get no mean: a handful of tracks says nothing.
pub const MIN_BIN_ROWS: usize = 50;
/// Histograms and binned means span these percentiles.
const SPAN: (f64, f64) = (0.005, 0.995);

/// Analyses `table` (the protocol's view of the file `summary` describes). Numeric columns the
/// file lacks (`summary.defaults`) are left out: their constant default says nothing of the data.
pub fn analyse(summary: DataSummary, protocol: Protocol, table: &Tracks, threshold: u8) -> Eda {
    let absent = absent_columns(&summary);
    let columns: Vec<Column> = numeric_columns()
        .into_iter()
        .filter(|c| *c == Column::Popularity || !absent.contains(c))
        .collect();
    let values: Vec<Vec<f64>> = columns.iter().map(|&c| column_values(table, c)).collect();
    // Sorted once per column: the quartiles, percentiles, fences and distinct counts read it.
    let sorted: Vec<Vec<f64>> = values
        .iter()
        .map(|v| {
            let mut s = v.clone();
            s.sort_by(f64::total_cmp);
            s
        })
        .collect();
    let popularity = &values[0];
    let numeric = columns
        .iter()
        .zip(&values)
        .zip(&sorted)
        .map(|((&c, v), sorted)| numeric_stats(c.name(), v, sorted))
        .collect();
    let edge_values = edge_values(table, &absent);
    // The audio columns present, each with its index in `columns`.
    let audio = || {
        columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.audio_index().is_some())
            .map(|(i, &c)| (i, c))
    };
    let histograms = audio()
        .filter(|(_, c)| !CODES.contains(c))
        .map(|(i, c)| histogram(c.name(), &values[i], &sorted[i], BINS))
        .collect();
    let by_feature = audio()
        .map(|(i, c)| binned_means(c, &values[i], &sorted[i], popularity))
        .collect();
    let outliers = audio()
        .filter(|(_, c)| !CODES.contains(c))
        .map(|(i, c)| fences(c.name(), &values[i], &sorted[i]))
        .collect();
    let popular = popularity
        .iter()
        .filter(|&&p| p > f64::from(threshold))
        .count();
    let pop_hist = histogram_on("popularity", popularity, popularity_edges(threshold));
    Eda {
        protocol,
        rows: table.len(),
        absent: absent.iter().map(|c| c.name()).collect(),
        edge_values,
        numeric,
        categorical: categorical(table),
        correlation: correlations(&columns, &values),
        histograms,
        popularity: PopularityDistribution {
            histogram: pop_hist,
            threshold,
            share_popular: popular as f64 / popularity.len().max(1) as f64,
            zeros: popularity.iter().filter(|&&p| p == 0.0).count(),
        },
        by_feature,
        genres: genres(table, threshold),
        outliers,
        summary,
    }
}

/// The numeric columns `summary` lists as absent (filled with a default), in report order. A
/// default may name several columns at once (`danceability, energy, ...`).
fn absent_columns(summary: &DataSummary) -> Vec<Column> {
    let absent: Vec<Column> = summary.defaults.iter().flat_map(|d| d.columns()).collect();
    numeric_columns()
        .into_iter()
        .filter(|c| absent.contains(c))
        .collect()
}

/// A numeric column's values over the table (popularity 0 where a row has none).
fn column_values(table: &Tracks, column: Column) -> Vec<f64> {
    table
        .rows
        .iter()
        .map(|t| match column.audio_index() {
            Some(i) => t.audio[i],
            None => f64::from(t.popularity.unwrap_or(0)),
        })
        .collect()
}

/// Statistics of `v`, given also sorted (`sorted`).
fn numeric_stats(column: &'static str, v: &[f64], sorted: &[f64]) -> NumericStats {
    let n = v.len();
    let nf = n as f64;
    let mean = v.iter().sum::<f64>() / nf.max(1.0);
    let m2 = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    let m3 = v.iter().map(|x| (x - mean).powi(3)).sum::<f64>();
    let std = if n > 1 {
        (m2 / (nf - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    // pandas: G1 = sqrt(n (n - 1)) / (n - 2) * g1, with g1 = m3 / m2^1.5 over n; 0 for a
    // column that never varies, none (NaN, "—" on the page) under three values.
    let skewness = if n <= 2 {
        f64::NAN
    } else if m2 > 0.0 {
        let g1 = (m3 / nf) / (m2 / nf).powf(1.5);
        (nf * (nf - 1.0)).sqrt() / (nf - 2.0) * g1
    } else {
        0.0
    };
    let mut distinct = sorted.to_vec();
    distinct.dedup();
    NumericStats {
        column,
        count: n,
        mean,
        std,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        q25: quantile(sorted, 0.25),
        q50: quantile(sorted, 0.5),
        q75: quantile(sorted, 0.75),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        missing: 0,
        distinct: distinct.len(),
        skewness,
    }
}

/// Counts of the suspicious values, for the columns present (`absent` ones hold a default).
fn edge_values(table: &Tracks, absent: &[Column]) -> BTreeMap<&'static str, usize> {
    type Edge = (&'static str, Column, fn(f64) -> bool);
    let edges: [Edge; 4] = [
        ("tempo = 0", Column::Tempo, |v| v == 0.0),
        ("time_signature 0 or 1", Column::TimeSignature, |v| v <= 1.0),
        ("loudness > 0 dB", Column::Loudness, |v| v > 0.0),
        ("duration_ms = 0", Column::DurationMs, |v| v == 0.0),
    ];
    edges
        .into_iter()
        .filter(|(_, c, _)| !absent.contains(c))
        .filter_map(|(what, c, suspicious)| {
            let i = c.audio_index()?;
            Some((
                what,
                table.rows.iter().filter(|t| suspicious(t.audio[i])).count(),
            ))
        })
        .collect()
}

fn categorical(table: &Tracks) -> Vec<CategoricalStats> {
    type Get = fn(&crate::data::Track) -> &str;
    let columns: [(&'static str, Get); 3] = [
        ("artists", |t| &t.artists),
        ("album_name", |t| &t.album_name),
        ("track_name", |t| &t.track_name),
    ];
    let mut out: Vec<CategoricalStats> = columns
        .iter()
        .map(|(name, get)| most_frequent(name, table.rows.iter().map(get)))
        .collect();
    let genres = table.rows.iter().flat_map(|t| {
        t.genres
            .iter()
            .map(|&g| table.genres[usize::from(g)].as_str())
    });
    out.push(most_frequent("track_genre", genres));
    out
}

fn most_frequent<'a>(
    column: &'static str,
    values: impl Iterator<Item = &'a str>,
) -> CategoricalStats {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut missing = 0;
    for v in values {
        if v.is_empty() {
            missing += 1;
        } else {
            *counts.entry(v).or_default() += 1;
        }
    }
    let (top, top_count) = counts.iter().fold(
        ("", 0),
        |best, (&v, &c)| if c > best.1 { (v, c) } else { best },
    );
    CategoricalStats {
        column,
        distinct: counts.len(),
        top: top.to_owned(),
        top_count,
        missing,
    }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        f64::NAN
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Average ranks (1-based), ties sharing the mean of their positions, as pandas ranks them.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

fn correlations(columns: &[Column], values: &[Vec<f64>]) -> Correlations {
    let ranked: Vec<Vec<f64>> = values.iter().map(|v| ranks(v)).collect();
    let k = columns.len();
    let mut pearson_m = vec![vec![1.0; k]; k];
    let mut spearman_m = vec![vec![1.0; k]; k];
    let mut top = Vec::new();
    for i in 0..k {
        // A column that never varies has no correlation, not even with itself (as pandas).
        if values[i].iter().all(|&x| x == values[i][0]) {
            pearson_m[i][i] = f64::NAN;
            spearman_m[i][i] = f64::NAN;
        }
        for j in i + 1..k {
            let p = pearson(&values[i], &values[j]);
            let s = pearson(&ranked[i], &ranked[j]);
            pearson_m[i][j] = p;
            pearson_m[j][i] = p;
            spearman_m[i][j] = s;
            spearman_m[j][i] = s;
            top.push(CorrelationPair {
                a: columns[i].name(),
                b: columns[j].name(),
                pearson: p,
                spearman: s,
            });
        }
    }
    // A column that never varies has no correlation (NaN): it is not a pair to rank.
    top.retain(|p| p.pearson.is_finite());
    top.sort_by(|x, y| y.pearson.abs().total_cmp(&x.pearson.abs()));
    top.truncate(10);
    Correlations {
        columns: columns.iter().map(|c| c.name()).collect(),
        pearson: pearson_m,
        spearman: spearman_m,
        top,
    }
}

/// Equal-width bins over `[lo, hi]`, the percentiles [`SPAN`] of `v`.
fn histogram(column: &'static str, v: &[f64], sorted: &[f64], bins: usize) -> Histogram {
    let (lo, hi) = (quantile(sorted, SPAN.0), quantile(sorted, SPAN.1));
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else if lo.is_finite() {
        // One value: a narrow span around it, not a unit one that runs past the column's range.
        let w = (lo.abs() * 0.05).max(1e-3);
        (lo - w, lo + w)
    } else {
        (0.0, 1.0)
    };
    let edges: Vec<f64> = (0..=bins)
        .map(|i| lo + (hi - lo) * i as f64 / bins as f64)
        .collect();
    histogram_on(column, v, edges)
}

/// Bins of 5 points from 0 to 100 with an edge just above `threshold`, so that a bar holds
/// popular tracks or none (the end bins are narrower where 5 does not divide the offset).
/// Scores are whole: a bin `[a, b)` holds `a` to `b - 1`, and the last one 100 too.
fn popularity_edges(threshold: u8) -> Vec<f64> {
    // From 99 on, only 100 is popular: it shares the closed last bin.
    let first = (u32::from(threshold) + 1).min(100) % 5;
    std::iter::once(0)
        .chain((first..100).step_by(5).filter(|&e| e > 0))
        .chain(std::iter::once(100))
        .map(f64::from)
        .collect()
}

fn histogram_on(column: &'static str, v: &[f64], edges: Vec<f64>) -> Histogram {
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    Histogram {
        column,
        counts: counts_in(v, &edges),
        below: v.iter().filter(|&&x| x < lo).count(),
        above: v.iter().filter(|&&x| x > hi).count(),
        edges,
    }
}

/// Counts per bin of `edges`; the last bin includes its right edge.
fn counts_in(v: &[f64], edges: &[f64]) -> Vec<usize> {
    let bins = edges.len() - 1;
    let (lo, hi) = (edges[0], edges[bins]);
    let mut counts = vec![0; bins];
    for &x in v {
        if x < lo || x > hi {
            continue;
        }
        let b = edges
            .partition_point(|&e| e <= x)
            .saturating_sub(1)
            .min(bins - 1);
        counts[b] += 1;
    }
    counts
}

fn binned_means(column: Column, v: &[f64], sorted: &[f64], popularity: &[f64]) -> BinnedMeans {
    let edges_or_codes: Vec<f64> = if CODES.contains(&column) {
        let mut codes = sorted.to_vec();
        codes.dedup();
        codes
    } else {
        histogram(column.name(), v, sorted, mean_bins(v.len())).edges
    };
    let is_code = CODES.contains(&column);
    let n_bins = if is_code {
        edges_or_codes.len()
    } else {
        edges_or_codes.len() - 1
    };
    let mut sums = vec![0.0; n_bins];
    let mut counts = vec![0usize; n_bins];
    let (lo, hi) = (edges_or_codes[0], edges_or_codes[edges_or_codes.len() - 1]);
    for (&x, &p) in v.iter().zip(popularity) {
        if x < lo || x > hi {
            continue;
        }
        let b = if is_code {
            edges_or_codes.partition_point(|&c| c < x)
        } else {
            edges_or_codes
                .partition_point(|&e| e <= x)
                .saturating_sub(1)
                .min(n_bins - 1)
        };
        if b < n_bins {
            sums[b] += p;
            counts[b] += 1;
        }
    }
    let centres = if is_code {
        edges_or_codes
    } else {
        edges_or_codes
            .windows(2)
            .map(|w| (w[0] + w[1]) / 2.0)
            .collect()
    };
    BinnedMeans {
        column: column.name(),
        is_code,
        centres,
        mean_popularity: sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| (c >= MIN_BIN_ROWS).then(|| s / c as f64))
            .collect(),
        counts,
    }
}

fn genres(table: &Tracks, threshold: u8) -> Vec<GenreStats> {
    let mut acc = vec![(0usize, 0.0f64, 0usize); table.genres.len()];
    for t in &table.rows {
        let p = t.popularity.unwrap_or(0);
        for &g in &t.genres {
            let a = &mut acc[usize::from(g)];
            a.0 += 1;
            a.1 += f64::from(p);
            a.2 += usize::from(p > threshold);
        }
    }
    table
        .genres
        .iter()
        .zip(acc)
        .filter(|(_, a)| a.0 > 0)
        .map(|(g, (n, sum, popular))| GenreStats {
            genre: g.clone(),
            rows: n,
            mean_popularity: sum / n as f64,
            share_popular: popular as f64 / n as f64,
        })
        .collect()
}

fn fences(column: &'static str, v: &[f64], sorted: &[f64]) -> Fences {
    let (q1, q3) = (quantile(sorted, 0.25), quantile(sorted, 0.75));
    let iqr = q3 - q1;
    let (low, high) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    Fences {
        column,
        q1,
        q3,
        low,
        high,
        below: v.iter().filter(|&&x| x < low).count(),
        above: v.iter().filter(|&&x| x > high).count(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{read_rows_from, summarize, ReadOptions};

    /// The analysis of `rows` rows of a file without explicit and time_signature, every one in
    /// mode 1, spread over `genres` genres; every tenth row repeats the track before it.
    pub(crate) fn analysed(rows: u32, genres: u32, protocol: Protocol) -> Eda {
        let mut csv = "track_id,artists,album_name,track_name,popularity,duration_ms,danceability,\
            energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,\
            tempo,track_genre\n"
            .to_owned();
        for i in 0..rows {
            let x = f64::from(i) / f64::from(rows);
            let id = if i % 10 == 9 { i - 1 } else { i };
            csv += &format!(
                "t{id},a{i},b,c,{},{},{x},{},{},{},1,{x},{x},{x},{x},{x},{},g{}\n",
                (i * 37) % 100,
                200_000 + i * 1000,
                1.0 - x,
                i % 12,
                -10.0 + x,
                90 + i,
                i % genres
            );
        }
        let loaded = read_rows_from(
            std::io::Cursor::new(csv),
            std::path::Path::new("t.csv"),
            &ReadOptions::labelled(),
        )
        .unwrap();
        let raw = loaded.rows.clone();
        let (summary, tracks) = summarize(loaded, 71);
        let table = if protocol.is_leaky() {
            Tracks::one_per_row(raw)
        } else {
            tracks
        };
        analyse(summary, protocol, &table, 71)
    }

    fn without_explicit_and_time_signature() -> Eda {
        analysed(60, 6, Protocol::Honest)
    }

    #[test]
    fn absent_columns_are_left_out_of_every_table_and_chart() {
        let e = without_explicit_and_time_signature();
        assert_eq!(e.absent, ["explicit", "time_signature"]);
        let left_out = |names: Vec<&str>| {
            assert!(
                !names.contains(&"explicit") && !names.contains(&"time_signature"),
                "{names:?}"
            );
            assert!(names.contains(&"tempo"), "{names:?}");
        };
        left_out(e.numeric.iter().map(|n| n.column).collect());
        left_out(e.correlation.columns.clone());
        left_out(e.histograms.iter().map(|h| h.column).collect());
        left_out(e.by_feature.iter().map(|b| b.column).collect());
        left_out(e.outliers.iter().map(|f| f.column).collect());
        assert_eq!(e.correlation.pearson.len(), 1 + crate::data::N_AUDIO - 2);
        assert!(!e.edge_values.contains_key("time_signature 0 or 1"));
        assert!(e.edge_values.contains_key("tempo = 0"));
    }

    #[test]
    fn a_column_that_never_varies_is_not_a_strongest_pair() {
        // Mode is 1 on every row: its correlations are NaN and must not lead the ranking.
        let e = without_explicit_and_time_signature();
        let c = &e.correlation;
        let mode = c.columns.iter().position(|&n| n == "mode").unwrap();
        assert!(c.pearson[0][mode].is_nan());
        assert!(c.pearson[mode][mode].is_nan() && c.spearman[mode][mode].is_nan());
        assert_eq!(c.pearson[0][0], 1.0);
        assert!(!c.top.is_empty());
        assert!(
            c.top
                .iter()
                .all(|p| p.pearson.is_finite() && p.a != "mode" && p.b != "mode"),
            "{:?}",
            c.top
        );
    }

    #[test]
    fn skewness_and_quartiles_as_pandas() {
        // pandas.Series([1, 2, 3, 10]).skew() = 1.763632614803888, quantile(.25) = 1.75
        // Under three values pandas has no skewness; a constant column has 0.
        assert!(numeric_stats("x", &[1.0, 2.0], &[1.0, 2.0])
            .skewness
            .is_nan());
        assert_eq!(numeric_stats("x", &[4.0; 3], &[4.0; 3]).skewness, 0.0);
        let s = numeric_stats("x", &[3.0, 1.0, 10.0, 2.0], &[1.0, 2.0, 3.0, 10.0]);
        assert!(
            (s.skewness - 1.763_632_614_803_888).abs() < 1e-12,
            "{}",
            s.skewness
        );
        assert_eq!((s.q25, s.q50, s.q75), (1.75, 2.5, 4.75));
        assert!((s.std - 4.082_482_904_638_63).abs() < 1e-12);
        assert_eq!(s.distinct, 4);
    }

    #[test]
    fn ranks_average_ties_and_spearman_is_pearson_of_ranks() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), [1.5, 3.0, 1.5, 4.0]);
        // A monotone but non-linear relation: Spearman 1, Pearson below 1.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [1.0, 4.0, 9.0, 16.0, 100.0];
        assert!((pearson(&ranks(&a), &ranks(&b)) - 1.0).abs() < 1e-12);
        assert!(pearson(&a, &b) < 0.95);
    }

    #[test]
    fn popularity_bins_part_at_the_label() {
        let edges = popularity_edges(71);
        assert_eq!(edges[..3], [0.0, 2.0, 7.0]);
        assert!(edges.contains(&72.0) && edges.ends_with(&[97.0, 100.0]));
        let fives: Vec<f64> = (0..=20).map(|i| f64::from(i * 5)).collect();
        assert_eq!(popularity_edges(74), fives);
        assert_eq!(popularity_edges(99), fives);
        assert_eq!(popularity_edges(255), fives);
        // 71 and 72 fall on either side of an edge.
        let h = histogram_on("popularity", &[71.0, 72.0], edges);
        let bin = |x: f64| h.edges.partition_point(|&e| e <= x) - 1;
        assert_ne!(bin(71.0), bin(72.0));
        assert_eq!(h.counts.iter().sum::<usize>(), 2);
    }

    #[test]
    fn histogram_bins_include_the_last_edge_and_count_the_tails() {
        let h = histogram_on("x", &[-1.0, 0.0, 0.5, 1.0, 1.0, 7.0], vec![0.0, 0.5, 1.0]);
        assert_eq!(h.counts, [1, 3]);
        assert_eq!((h.below, h.above), (1, 1));
        // Percentile span: 1..=1000 spans 5.995 to 995.005.
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        let h = histogram("x", &v, &v, 10);
        assert!((h.edges[0] - 5.995).abs() < 1e-9 && (h.edges[10] - 995.005).abs() < 1e-9);
        assert_eq!((h.below, h.above), (5, 5));
        // One value (a one-row table): bins close around it, every row counted.
        let h = histogram("valence", &[0.7], &[0.7], 30);
        assert!((h.edges[0] - 0.665).abs() < 1e-12 && (h.edges[30] - 0.735).abs() < 1e-12);
        assert_eq!(h.counts.iter().sum::<usize>(), 1);
    }
}

//! The figures `hitcast data check` prints: what the file holds and what collapsing did.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::is_popular;
use super::reader::{DefaultUsed, Loaded};
use super::tracks::{CollapseStats, Tracks};

/// A summary of a loaded tracks file.
#[derive(Clone, Debug, Serialize)]
pub struct DataSummary {
    /// The file.
    pub path: String,
    /// Data rows accepted.
    pub rows_raw: u64,
    /// Rows dropped by `--on-error skip`.
    pub rows_skipped: u64,
    /// The first few skipped rows' errors.
    pub skipped_examples: Vec<String>,
    /// Distinct track ids.
    pub tracks: u64,
    /// What collapsing by track id did.
    pub duplicates: CollapseStats,
    /// Distinct genres.
    pub genres: u64,
    /// Rows listing each genre (a row may list several).
    pub rows_per_genre: BTreeMap<String, u64>,
    /// Empty cells per column present in the file.
    pub missing: BTreeMap<&'static str, u64>,
    /// Absent columns and the defaults used for them.
    pub defaults: Vec<DefaultUsed>,
    /// Popularity over the raw rows (`None` when the file has none).
    pub popularity: Option<PopularityStats>,
    /// The label threshold: popular means popularity > threshold.
    pub threshold: u8,
    /// Popular tracks after collapsing.
    pub positives: Option<u64>,
    /// Share of popular tracks after collapsing: the rate the models face.
    pub positive_rate: Option<f64>,
    /// Share of popular raw rows, for comparison with row-level analyses.
    pub positive_rate_rows: Option<f64>,
}

/// Popularity figures over raw rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PopularityStats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1).
    pub sd: f64,
    /// Smallest value.
    pub min: u8,
    /// Largest value.
    pub max: u8,
    /// Rows with popularity 0.
    pub zeros: u64,
}

impl PopularityStats {
    /// Figures over a list of scores; `None` when empty.
    pub fn of(values: &[u8]) -> Option<PopularityStats> {
        let n = values.len() as f64;
        let min = *values.iter().min()?;
        let max = *values.iter().max()?;
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let ss: f64 = values.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum();
        let sd = if values.len() > 1 {
            (ss / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let zeros = values.iter().filter(|&&v| v == 0).count() as u64;
        Some(PopularityStats {
            mean,
            sd,
            min,
            max,
            zeros,
        })
    }
}

/// Summarises a loaded file and collapses it, returning both.
pub fn summarize(loaded: Loaded, threshold: u8) -> (DataSummary, Tracks) {
    let Loaded { rows, report } = loaded;
    let mut per_genre: HashMap<&str, u64> = HashMap::new();
    for genre in rows
        .iter()
        .flat_map(|r| r.genres.iter().map(String::as_str))
    {
        *per_genre.entry(genre).or_insert(0) += 1;
    }
    let rows_per_genre: BTreeMap<String, u64> = per_genre
        .into_iter()
        .map(|(g, n)| (g.to_owned(), n))
        .collect();
    let raw_popularity: Option<Vec<u8>> = rows.iter().map(|r| r.popularity).collect();
    let positive_rate_rows = raw_popularity.as_deref().map(|p| rate(p, threshold));
    let tracks = Tracks::collapse(rows);
    let popularity = tracks.popularity();
    let summary = DataSummary {
        path: report.path.display().to_string(),
        rows_raw: report.rows,
        rows_skipped: report.skipped,
        skipped_examples: report.skipped_examples,
        tracks: tracks.len() as u64,
        duplicates: tracks.collapse.clone(),
        genres: tracks.genres.len() as u64,
        rows_per_genre,
        missing: report.missing,
        defaults: report.defaults,
        popularity: raw_popularity.as_deref().and_then(PopularityStats::of),
        threshold,
        positives: popularity
            .as_deref()
            .map(|p| p.iter().filter(|&&v| is_popular(v, threshold)).count() as u64),
        positive_rate: popularity.as_deref().map(|p| rate(p, threshold)),
        positive_rate_rows,
    };
    (summary, tracks)
}

fn rate(popularity: &[u8], threshold: u8) -> f64 {
    let positives = popularity
        .iter()
        .filter(|&&v| is_popular(v, threshold))
        .count();
    positives as f64 / popularity.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_stats_by_hand() {
        // mean (0 + 10 + 20 + 90) / 4 = 30; squares 900 + 400 + 100 + 3600 = 5000; sd = sqrt(5000/3)
        let s = PopularityStats::of(&[0, 10, 20, 90]).unwrap();
        assert_eq!(s.mean, 30.0);
        assert!((s.sd - (5000.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.zeros), (0, 90, 1));
        assert_eq!(PopularityStats::of(&[]), None);
    }
}

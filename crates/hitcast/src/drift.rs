//! How far a batch of tracks has moved from the tracks a model learnt from: each input's
//! population stability index (PSI) against FIT, and the genres'.
//!
//! `PSI = Σ (a − e) · ln(a / e)` over a column's bins, with `e` FIT's share of tracks in a bin
//! and `a` the batch's (both floored at [`FLOOR`] so an empty bin stays finite). The bins are
//! FIT's deciles for a continuous input (fewer where a value holds many tracks, as
//! instrumentalness's zeros do), each code for a coded one (key, mode, time signature,
//! explicit), each count from none to five or more for the genres a track is listed under (the
//! sign of a file of raw rows, one genre each, where the model learnt from tracks with all their
//! genres joined), and each genre of the vocabulary plus "none the model knows" for the genres
//! (a track spreads its weight over its genres). The usual reading: under 0.1 the column has not
//! moved, 0.1 to 0.25 it has moved some, above 0.25 it has moved a lot.
//!
//! Hand-written: a few lines of counting, which no statistics crate's API would shorten.

use serde::{Deserialize, Serialize};

use crate::data::{Column, Rule, Tracks, N_AUDIO};
use crate::features::quantile;

/// A bin's share is floored at this before the logarithm.
pub const FLOOR: f64 = 1e-4;

/// PSI from which a column counts as moved a lot.
pub const LARGE: f64 = 0.25;

/// PSI from which a column counts as moved some.
pub const MODERATE: f64 = 0.1;

/// Batches smaller than this are not judged: a few tracks' shares are noise.
pub const MIN_ROWS: usize = 200;

/// The name of the genre count among a reference's columns.
pub const GENRES_LISTED: &str = "genres_listed";

/// The highest genre count with a bin of its own: more counts as this.
const MAX_LISTED: i32 = 5;

/// FIT's distribution of one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnReference {
    /// The input's name: an audio column's, or [`GENRES_LISTED`].
    pub name: String,
    /// A coded input's codes, lowest and highest: its bins.
    pub codes: Option<(i32, i32)>,
    /// Upper edges of every bin but the last (a value goes to the first bin whose edge it does
    /// not exceed); for a coded input, empty: its bins are its codes.
    pub edges: Vec<f64>,
    /// FIT's share of tracks in each bin.
    pub shares: Vec<f64>,
    /// The share of FIT's popular tracks in each bin.
    pub popular: Vec<f64>,
    /// The share of FIT's other tracks in each bin.
    pub others: Vec<f64>,
}

/// FIT's distribution of every audio input and of the genres.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// One per audio column, in [`Column::AUDIO`] order, then the genre count.
    pub columns: Vec<ColumnReference>,
    /// FIT's share of genre listings per position of the vocabulary, then of tracks with no
    /// genre.
    pub genres: Vec<f64>,
    /// The same over FIT's popular tracks.
    pub genres_popular: Vec<f64>,
    /// The same over FIT's other tracks.
    pub genres_others: Vec<f64>,
}

/// Counts of a batch in the reference's bins, added to batch by batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    rows: usize,
    columns: Vec<Vec<f64>>,
    genres: Vec<f64>,
}

/// How much one input moved.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// The input: an audio column's name, or `genres`.
    pub column: String,
    /// Its population stability index against FIT.
    pub psi: f64,
}

/// How far a batch moved from FIT, input by input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftReport {
    /// Tracks counted.
    pub rows: usize,
    /// Every audio input, then the genres, the most moved first.
    pub columns: Vec<ColumnDrift>,
}

impl DriftReport {
    /// The report without `absent` columns: a catalogue that lacks a column had every track
    /// given its default, whose distance from the training tracks says nothing of the
    /// catalogue (the reader says which were absent).
    pub fn without(mut self, absent: &[&str]) -> DriftReport {
        // The genre column is counted as two inputs: the genre mix and how many are listed.
        let absent_genres = absent.contains(&Column::TrackGenre.name());
        self.columns.retain(|c| {
            let genres = c.column == "genres" || c.column == GENRES_LISTED;
            !(absent.contains(&c.column.as_str()) || (genres && absent_genres))
        });
        self
    }
}

/// The bin codes of a coded input: `min..=max`.
fn codes(column: Column) -> Option<(i32, i32)> {
    match column.rule() {
        Rule::Integer { min, max } => Some((min, max)),
        Rule::Bool => Some((0, 1)),
        _ => None,
    }
}

impl ColumnReference {
    /// The bins of `values` (FIT's), with each bin's share of the tracks, of the `popular`
    /// ones and of the others.
    fn fit(
        name: &str,
        codes: Option<(i32, i32)>,
        values: &[f64],
        popular: &[bool],
    ) -> ColumnReference {
        let mut sorted = values.to_vec();
        let edges = match codes {
            Some(_) => Vec::new(),
            None => {
                sorted.sort_by(f64::total_cmp);
                let mut edges: Vec<f64> = (1..10)
                    .map(|k| quantile(&sorted, f64::from(k) / 10.0))
                    .collect();
                edges.dedup();
                edges
            }
        };
        let mut reference = ColumnReference {
            name: name.to_owned(),
            codes,
            edges,
            shares: Vec::new(),
            popular: Vec::new(),
            others: Vec::new(),
        };
        let mut counts = [vec![0.0; reference.bins()], vec![0.0; reference.bins()]];
        for (&v, &p) in values.iter().zip(popular) {
            counts[usize::from(p)][reference.bin(v)] += 1.0;
        }
        let all: Vec<f64> = counts[0]
            .iter()
            .zip(&counts[1])
            .map(|(a, b)| a + b)
            .collect();
        reference.shares = shares(&all);
        reference.others = shares(&counts[0]);
        reference.popular = shares(&counts[1]);
        reference
    }

    fn bins(&self) -> usize {
        match self.codes {
            Some((min, max)) => (max - min + 1) as usize,
            None => self.edges.len() + 1,
        }
    }

    fn bin(&self, v: f64) -> usize {
        match self.codes {
            Some((min, max)) => {
                (v.round().clamp(f64::from(min), f64::from(max)) as i32 - min) as usize
            }
            None => self.edges.partition_point(|&e| e < v),
        }
    }
}

/// Each count's share of their sum (all zeros when the sum is).
pub(crate) fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if total > 0.0 { c / total } else { 0.0 })
        .collect()
}

/// PSI of `actual` counts against `expected` shares.
pub(crate) fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(shares(actual))
        .map(|(&e, a)| {
            let (e, a) = (e.max(FLOOR), a.max(FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum()
}

impl Reference {
    /// FIT's distributions: the `fit` rows of `tracks`, whose genre vocabulary is the model's;
    /// `popular` tells the popular ones (one flag per row of `fit`).
    pub fn fit(tracks: &Tracks, fit: &[usize], popular: &[bool]) -> Reference {
        let mut columns: Vec<ColumnReference> = Column::AUDIO
            .iter()
            .enumerate()
            .map(|(i, &column)| {
                let values: Vec<f64> = fit.iter().map(|&r| tracks.rows[r].audio[i]).collect();
                ColumnReference::fit(column.name(), codes(column), &values, popular)
            })
            .collect();
        let listed: Vec<f64> = fit
            .iter()
            .map(|&r| tracks.rows[r].genres.len() as f64)
            .collect();
        columns.push(ColumnReference::fit(
            GENRES_LISTED,
            Some((0, MAX_LISTED)),
            &listed,
            popular,
        ));
        let mut genres = [
            vec![0.0; tracks.genres.len() + 1],
            vec![0.0; tracks.genres.len() + 1],
        ];
        for (&r, &p) in fit.iter().zip(popular) {
            let listed = &tracks.rows[r].genres;
            let bins = &mut genres[usize::from(p)];
            add_genres(bins, listed.iter().map(|&g| usize::from(g)), listed.len());
        }
        let all: Vec<f64> = genres[0]
            .iter()
            .zip(&genres[1])
            .map(|(a, b)| a + b)
            .collect();
        Reference {
            columns,
            genres: shares(&all),
            genres_others: shares(&genres[0]),
            genres_popular: shares(&genres[1]),
        }
    }

    /// The largest PSI, over the inputs, between the batch's `counts` and what FIT's tracks
    /// give mixed at base rate `prior` (its popular tracks' shares with weight `prior`, the
    /// others' with the rest), with that input's name: a batch that differs from FIT in base
    /// rate only is close to that mix in every input.
    pub fn misfit(&self, counts: &Counts, prior: f64) -> Option<(String, f64)> {
        if self.columns.is_empty() || counts.columns.len() != self.columns.len() {
            return None;
        }
        let mix = |popular: &[f64], others: &[f64]| -> Vec<f64> {
            popular
                .iter()
                .zip(others)
                .map(|(p, o)| prior * p + (1.0 - prior) * o)
                .collect()
        };
        self.columns
            .iter()
            .zip(&counts.columns)
            .map(|(c, actual)| (c.name.clone(), psi(&mix(&c.popular, &c.others), actual)))
            .chain(std::iter::once((
                "genres".to_owned(),
                psi(
                    &mix(&self.genres_popular, &self.genres_others),
                    &counts.genres,
                ),
            )))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Empty counts in these bins.
    pub fn counts(&self) -> Counts {
        Counts {
            rows: 0,
            columns: self.columns.iter().map(|c| vec![0.0; c.bins()]).collect(),
            genres: vec![0.0; self.genres.len()],
        }
    }

    /// Checks a reference read from a file: every share finite and each column's edges
    /// ascending with one share a bin.
    pub fn check(&self) -> Result<(), String> {
        let fine = self.columns.iter().all(|c| {
            c.edges.windows(2).all(|w| w[0] < w[1])
                && [&c.shares, &c.popular, &c.others]
                    .iter()
                    .all(|s| s.len() == c.bins() && s.iter().all(|v| v.is_finite()))
                && c.edges.iter().all(|v| v.is_finite())
        }) && [&self.genres, &self.genres_popular, &self.genres_others]
            .iter()
            .all(|s| s.len() == self.genres.len() && s.iter().all(|v| v.is_finite()));
        if fine && (self.columns.is_empty() || self.columns.len() == N_AUDIO + 1) {
            Ok(())
        } else {
            Err("the training tracks' distributions are not valid".into())
        }
    }

    /// The batch's PSI against FIT for every input, the most moved first; `None` when the
    /// model keeps no reference (every one `hitcast train` writes does).
    pub fn report(&self, counts: &Counts) -> Option<DriftReport> {
        if self.columns.is_empty() || counts.columns.len() != self.columns.len() {
            return None;
        }
        let mut columns: Vec<ColumnDrift> = self
            .columns
            .iter()
            .zip(&counts.columns)
            .map(|(c, actual)| ColumnDrift {
                column: c.name.clone(),
                psi: psi(&c.shares, actual),
            })
            .collect();
        columns.push(ColumnDrift {
            column: "genres".into(),
            psi: psi(&self.genres, &counts.genres),
        });
        columns.sort_by(|a, b| b.psi.total_cmp(&a.psi));
        Some(DriftReport {
            rows: counts.rows,
            columns,
        })
    }
}

/// Spreads one track over its genres (the `listed` positions, `n` of them), or to the last
/// bin, "no genre", when it has none.
fn add_genres(bins: &mut [f64], listed: impl Iterator<Item = usize>, n: usize) {
    let none = bins.len() - 1;
    if n == 0 {
        bins[none] += 1.0;
        return;
    }
    for g in listed {
        bins[g.min(none)] += 1.0 / n as f64;
    }
}

impl Counts {
    /// Counts one track: its audio inputs, how many genres it is listed under (`listed`, the
    /// known and the unknown ones), and its genres' positions in the model's vocabulary (the
    /// genres the model does not know left out; a track with none counts as no genre).
    pub fn add(
        &mut self,
        reference: &Reference,
        audio: &[f64; N_AUDIO],
        listed: usize,
        genres: &[usize],
    ) {
        if self.columns.len() != reference.columns.len() {
            return;
        }
        self.rows += 1;
        let values = audio.iter().copied().chain(std::iter::once(listed as f64));
        for ((c, counts), v) in reference.columns.iter().zip(&mut self.columns).zip(values) {
            // A row measured from audio has no learned columns: they are not counted.
            if !v.is_nan() {
                counts[c.bin(v)] += 1.0;
            }
        }
        add_genres(&mut self.genres, genres.iter().copied(), genres.len());
    }

    /// Tracks counted.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds another batch's counts.
    pub fn merge(&mut self, other: &Counts) {
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (x, y) in self.genres.iter_mut().zip(&other.genres) {
            *x += y;
        }
    }
}

impl DriftReport {
    /// The inputs that moved a lot (PSI above [`LARGE`]), the most moved first; none for a
    /// batch under [`MIN_ROWS`] tracks.
    pub fn large(&self) -> Vec<&ColumnDrift> {
        if self.rows < MIN_ROWS {
            return Vec::new();
        }
        self.columns.iter().filter(|c| c.psi > LARGE).collect()
    }

    /// "not moved", "moved some" or "moved a lot", for one PSI.
    pub fn level(psi: f64) -> &'static str {
        if psi > LARGE {
            "moved a lot"
        } else if psi > MODERATE {
            "moved some"
        } else {
            "not moved"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Track;

    fn tracks(n: usize, shift: f64, genre: u16) -> Tracks {
        let rows = (0..n)
            .map(|i| {
                let mut audio = [0.5; N_AUDIO];
                audio[Column::Danceability.audio_index().unwrap()] =
                    ((i % 100) as f64 / 100.0 + shift).min(1.0);
                audio[Column::Key.audio_index().unwrap()] = (i % 12) as f64;
                Track {
                    line: i as u64 + 2,
                    track_id: format!("t{i}"),
                    artists: "a".into(),
                    album_name: String::new(),
                    track_name: String::new(),
                    popularity: Some(10),
                    audio,
                    genres: vec![genre],
                }
            })
            .collect();
        Tracks {
            genres: vec!["a".into(), "b".into()],
            rows,
            collapse: Default::default(),
        }
    }

    fn counted(reference: &Reference, t: &Tracks) -> Counts {
        let mut counts = reference.counts();
        for r in &t.rows {
            let genres: Vec<usize> = r.genres.iter().map(|&g| usize::from(g)).collect();
            counts.add(reference, &r.audio, genres.len(), &genres);
        }
        counts
    }

    #[test]
    fn the_same_tracks_have_not_moved_and_shifted_ones_have() {
        let fit = tracks(1000, 0.0, 0);
        let all: Vec<usize> = (0..1000).collect();
        let reference = Reference::fit(&fit, &all, &[false; 1000]);
        assert!(reference.check().is_ok());
        let same = reference.report(&counted(&reference, &fit)).unwrap();
        assert!(same.columns.iter().all(|c| c.psi < 1e-9), "{same:?}");
        assert!(same.large().is_empty());
        // Danceability 0.3 higher and every track in the other genre.
        let moved = reference
            .report(&counted(&reference, &tracks(1000, 0.3, 1)))
            .unwrap();
        let names: Vec<&str> = moved.large().iter().map(|c| c.column.as_str()).collect();
        assert_eq!(names, ["genres", "danceability"], "{moved:?}");
        assert_eq!(DriftReport::level(moved.columns[0].psi), "moved a lot");
        // A coded input's bins are its codes: key 0-11 everywhere, so it has not moved.
        let key = moved.columns.iter().find(|c| c.column == "key").unwrap();
        assert!(key.psi < 1e-9);
        // A handful of tracks is not judged.
        let few = reference
            .report(&counted(&reference, &tracks(50, 0.3, 1)))
            .unwrap();
        assert!(few.large().is_empty());
    }

    #[test]
    fn a_batch_that_differs_in_base_rate_only_fits_the_mix_of_fit_s_two_kinds() {
        // FIT: the popular tenth has danceability 0.9 and genre b, the others 0.1 and genre a.
        let mut fit = tracks(1000, 0.0, 0);
        let popular: Vec<bool> = (0..1000).map(|i| i % 10 == 0).collect();
        let (d, key) = (
            Column::Danceability.audio_index().unwrap(),
            Column::Key.audio_index().unwrap(),
        );
        for (r, &p) in fit.rows.iter_mut().zip(&popular) {
            r.audio[d] = if p { 0.9 } else { 0.1 };
            r.audio[key] = 0.0;
            r.genres = vec![u16::from(p)];
        }
        let all: Vec<usize> = (0..1000).collect();
        let reference = Reference::fit(&fit, &all, &popular);
        assert!(reference.check().is_ok());
        // A batch with popular tracks as half: it fits the mix at 0.5, not at FIT's 0.1.
        let half = Tracks {
            rows: fit
                .rows
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 10 < 2)
                .map(|(_, r)| r.clone())
                .collect(),
            ..fit.clone()
        };
        let counts = counted(&reference, &half);
        let (_, at_half) = reference.misfit(&counts, 0.5).unwrap();
        let (worst, at_tenth) = reference.misfit(&counts, 0.1).unwrap();
        assert!(at_half < 1e-9, "{at_half}");
        assert!(at_tenth > LARGE, "{worst} {at_tenth}");
    }

    #[test]
    fn a_report_leaves_out_absent_columns_and_an_absent_genre_s_two_inputs() {
        let report = |names: &[&str]| DriftReport {
            rows: 1,
            columns: names
                .iter()
                .map(|&n| ColumnDrift {
                    column: n.to_owned(),
                    psi: 1.0,
                })
                .collect(),
        };
        let all = report(&["genres", GENRES_LISTED, "explicit", "tempo"]);
        let names =
            |r: DriftReport| -> Vec<String> { r.columns.into_iter().map(|c| c.column).collect() };
        assert_eq!(
            names(all.clone().without(&["explicit"])),
            ["genres", GENRES_LISTED, "tempo"]
        );
        assert_eq!(names(all.without(&["track_genre", "explicit"])), ["tempo"]);
    }

    #[test]
    fn psi_of_two_bins_by_hand() {
        // e = (0.5, 0.5), a = (0.8, 0.2): 0.3·ln(1.6) + (−0.3)·ln(0.4) = 0.1410 + 0.2749.
        let v = psi(&[0.5, 0.5], &[8.0, 2.0]);
        assert!(
            (v - (0.3 * 1.6f64.ln() - 0.3 * 0.4f64.ln())).abs() < 1e-12,
            "{v}"
        );
    }

    #[test]
    fn counts_of_two_batches_merge_into_the_whole() {
        let fit = tracks(400, 0.0, 0);
        let all: Vec<usize> = (0..400).collect();
        let reference = Reference::fit(&fit, &all, &[false; 400]);
        let whole = counted(&reference, &fit);
        let (a, b) = fit.rows.split_at(150);
        let mut first = reference.counts();
        let mut second = reference.counts();
        for (counts, rows) in [(&mut first, a), (&mut second, b)] {
            for r in rows {
                counts.add(&reference, &r.audio, 1, &[0]);
            }
        }
        first.merge(&second);
        assert_eq!(first, whole);
    }
}

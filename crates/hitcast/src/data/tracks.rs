//! The table of tracks that features and splits work on: one row per `track_id` (the honest
//! protocol) or one per raw row (the reference protocol), with genres as indices into a sorted
//! vocabulary.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;

use serde::Serialize;

use super::reader::RawRow;
use super::schema::N_AUDIO;

/// One track.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// Line of the first row the track came from.
    pub line: u64,
    /// Spotify track id.
    pub track_id: String,
    /// Artists separated by `;`.
    pub artists: String,
    /// Album title.
    pub album_name: String,
    /// Track title.
    pub track_name: String,
    /// Popularity of the first occurrence, `None` in unlabelled files.
    pub popularity: Option<u8>,
    /// Audio columns in [`super::Column::AUDIO`] order.
    pub audio: [f64; N_AUDIO],
    /// Indices into [`Tracks::genres`], ascending, without repeats.
    pub genres: Vec<u16>,
}

/// A table of tracks and its genre vocabulary.
#[derive(Clone, Debug)]
pub struct Tracks {
    /// Every genre seen, sorted by byte order.
    pub genres: Vec<String>,
    /// The tracks, in order of first occurrence.
    pub rows: Vec<Track>,
    /// What collapsing did (all zeros for [`Tracks::one_per_row`]).
    pub collapse: CollapseStats,
}

/// Counts from collapsing duplicate track ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CollapseStats {
    /// Rows before collapsing.
    pub rows_raw: u64,
    /// Tracks after collapsing.
    pub tracks: u64,
    /// Track ids that occur on more than one row.
    pub repeated_track_ids: u64,
    /// Rows folded into an earlier row of the same track (`rows_raw - tracks`).
    pub surplus_rows: u64,
    /// Rows identical in every column to an earlier row.
    pub exact_duplicate_rows: u64,
    /// Repeated track ids whose copies disagree on popularity (the first is kept).
    pub popularity_conflicts: u64,
    /// Repeated track ids whose copies disagree on an audio column or a name (the first is kept).
    pub feature_conflicts: u64,
}

impl Tracks {
    /// Collapses rows by `track_id` (docs/evaluation.md, "The protocol"): the first occurrence in file order gives
    /// every scalar column; the set of all its genres (of every row, each row may list several)
    /// becomes the track's genre list. A row with an empty id (a new song, in a file to score)
    /// is a track of its own; training data has ids ([`super::ReadOptions::labelled`]).
    pub fn collapse(rows: Vec<RawRow>) -> Tracks {
        let genres = vocabulary(&rows);
        let index = genre_index(&genres);
        let mut stats = CollapseStats {
            rows_raw: rows.len() as u64,
            ..CollapseStats::default()
        };
        // Track of each row, and the previous row of the same track (a chain per track, so the
        // duplicate checks need no allocation per track).
        const NONE: usize = usize::MAX;
        let mut track_of = Vec::with_capacity(rows.len());
        let mut prev_same = vec![NONE; rows.len()];
        let mut first_row: Vec<usize> = Vec::new();
        let mut last_row: Vec<usize> = Vec::new();
        let mut copies: Vec<u8> = Vec::new();
        let mut conflicts: Vec<(bool, bool)> = Vec::new();
        let mut by_id: FxHashMap<&str, usize> =
            FxHashMap::with_capacity_and_hasher(rows.len(), Default::default());
        for (i, row) in rows.iter().enumerate() {
            let next = first_row.len();
            // A row without an id (a new song, in a file to score) is a track of its own.
            let t = if row.track_id.is_empty() {
                next
            } else {
                *by_id.entry(&row.track_id).or_insert(next)
            };
            if t == next {
                first_row.push(i);
                last_row.push(i);
                copies.push(1);
                conflicts.push((false, false));
            } else {
                prev_same[i] = last_row[t];
                last_row[t] = i;
                copies[t] = copies[t].saturating_add(1);
                let first = &rows[first_row[t]];
                let c = &mut conflicts[t];
                c.0 |= row.popularity != first.popularity;
                c.1 |= row.audio != first.audio
                    || row.artists != first.artists
                    || row.album_name != first.album_name
                    || row.track_name != first.track_name;
                let mut j = prev_same[i];
                while j != NONE {
                    if rows[j].same_values(row) {
                        stats.exact_duplicate_rows += 1;
                        break;
                    }
                    j = prev_same[j];
                }
            }
            track_of.push(t);
        }
        drop(by_id);
        stats.repeated_track_ids = copies.iter().filter(|&&n| n > 1).count() as u64;
        stats.popularity_conflicts = conflicts.iter().filter(|c| c.0).count() as u64;
        stats.feature_conflicts = conflicts.iter().filter(|c| c.1).count() as u64;

        let mut tracks: Vec<Track> = Vec::with_capacity(first_row.len());
        for (row, t) in rows.into_iter().zip(track_of) {
            if t == tracks.len() {
                let genres = indices(&row.genres, &index);
                tracks.push(to_track(row, genres));
            } else {
                let list = &mut tracks[t].genres;
                for g in row.genres.iter().map(|g| index[g.as_str()]) {
                    if let Err(at) = list.binary_search(&g) {
                        list.insert(at, g);
                    }
                }
            }
        }
        stats.tracks = tracks.len() as u64;
        stats.surplus_rows = stats.rows_raw - stats.tracks;
        Tracks {
            genres,
            rows: tracks,
            collapse: stats,
        }
    }

    /// One track per raw row, duplicates kept (the reference protocol's leaky view).
    pub fn one_per_row(rows: Vec<RawRow>) -> Tracks {
        let genres = vocabulary(&rows);
        let index = genre_index(&genres);
        let rows: Vec<Track> = rows
            .into_iter()
            .map(|row| {
                let genres = indices(&row.genres, &index);
                to_track(row, genres)
            })
            .collect();
        Tracks {
            genres,
            collapse: CollapseStats {
                rows_raw: rows.len() as u64,
                tracks: rows.len() as u64,
                ..CollapseStats::default()
            },
            rows,
        }
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no tracks.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Popularity of every track, or `None` if the table is unlabelled.
    pub fn popularity(&self) -> Option<Vec<u8>> {
        self.rows.iter().map(|t| t.popularity).collect()
    }
}

fn to_track(row: RawRow, genres: Vec<u16>) -> Track {
    Track {
        line: row.line,
        track_id: row.track_id,
        artists: row.artists,
        album_name: row.album_name,
        track_name: row.track_name,
        popularity: row.popularity,
        audio: row.audio,
        genres,
    }
}

/// A row's genres as ascending vocabulary indices without repeats.
fn indices(genres: &[String], index: &HashMap<&str, u16>) -> Vec<u16> {
    let mut list: Vec<u16> = genres.iter().map(|g| index[g.as_str()]).collect();
    list.sort_unstable();
    list.dedup();
    list
}

fn vocabulary(rows: &[RawRow]) -> Vec<String> {
    let distinct: HashSet<&str> = rows
        .iter()
        .flat_map(|r| r.genres.iter().map(String::as_str))
        .collect();
    let mut genres: Vec<String> = distinct.into_iter().map(str::to_owned).collect();
    genres.sort_unstable();
    genres
}

fn genre_index(genres: &[String]) -> HashMap<&str, u16> {
    // More than 65,535 distinct genres would be a different dataset; saturate rather than wrap.
    genres
        .iter()
        .enumerate()
        .map(|(i, g)| (g.as_str(), u16::try_from(i).unwrap_or(u16::MAX)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, id: &str, popularity: u8, genre: &str) -> RawRow {
        RawRow {
            line,
            track_id: id.into(),
            artists: "A".into(),
            album_name: "B".into(),
            track_name: "C".into(),
            carried: Vec::new(),
            popularity: Some(popularity),
            audio: [1.0; N_AUDIO],
            genres: vec![genre.into()],
        }
    }

    #[test]
    fn rows_without_an_id_are_tracks_of_their_own() {
        let rows = vec![
            row(2, "", 50, "rock"),
            row(3, "x", 10, "pop"),
            row(4, "", 60, "pop"),
        ];
        let tracks = Tracks::collapse(rows);
        let lines: Vec<u64> = tracks.rows.iter().map(|t| t.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert_eq!(tracks.rows[2].popularity, Some(60));
        assert_eq!(tracks.collapse.surplus_rows, 0);
    }

    #[test]
    fn collapse_keeps_first_occurrence_and_unions_genres() {
        let rows = vec![
            row(2, "x", 50, "rock"),
            row(3, "y", 10, "pop"),
            row(4, "x", 60, "acoustic"),
            row(5, "x", 50, "rock"), // exact duplicate of line 2
            row(6, "z", 0, "pop"),
        ];
        let tracks = Tracks::collapse(rows);
        assert_eq!(tracks.genres, ["acoustic", "pop", "rock"]);
        let ids: Vec<_> = tracks.rows.iter().map(|t| t.track_id.as_str()).collect();
        assert_eq!(ids, ["x", "y", "z"]);
        assert_eq!(tracks.rows[0].popularity, Some(50));
        assert_eq!(tracks.rows[0].line, 2);
        assert_eq!(tracks.rows[0].genres, [0, 2]);
        assert_eq!(tracks.rows[1].genres, [1]);
        assert_eq!(
            tracks.collapse,
            CollapseStats {
                rows_raw: 5,
                tracks: 3,
                repeated_track_ids: 1,
                surplus_rows: 2,
                exact_duplicate_rows: 1,
                popularity_conflicts: 1,
                feature_conflicts: 0,
            }
        );
    }

    #[test]
    fn one_per_row_keeps_duplicates() {
        let tracks = Tracks::one_per_row(vec![row(2, "x", 50, "rock"), row(3, "x", 50, "pop")]);
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks.rows[0].genres, [1]);
        assert_eq!(tracks.rows[1].genres, [0]);
    }

    #[test]
    fn rows_listing_several_genres_give_them_all() {
        let mut a = row(2, "x", 50, "rock");
        a.genres = vec!["rock".into(), "jazz".into()];
        let mut b = row(3, "x", 50, "pop");
        b.genres = vec!["jazz".into(), "pop".into()];
        let collapsed = Tracks::collapse(vec![a.clone(), b.clone()]);
        assert_eq!(collapsed.genres, ["jazz", "pop", "rock"]);
        assert_eq!(collapsed.rows[0].genres, [0, 1, 2]);
        let rows = Tracks::one_per_row(vec![a, b]);
        assert_eq!(rows.rows[0].genres, [0, 2]);
        assert_eq!(rows.rows[1].genres, [0, 1]);
    }

    #[test]
    fn missing_genre_gives_an_empty_genre_list() {
        let mut r = row(2, "x", 1, "rock");
        r.genres.clear();
        let tracks = Tracks::collapse(vec![r]);
        assert!(tracks.genres.is_empty());
        assert!(tracks.rows[0].genres.is_empty());
    }
}

//! The dataset's tracks, to fill the prediction form with a real track found by name or id.
//! Loaded on a background thread so the server answers at once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use hitcast::data::{Column, Track, Tracks, N_AUDIO};
use hitcast::features::CONTINUOUS;
use serde::Serialize;
use serde_json::Value;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::track::TrackRequest;

/// Tracks to look up, one per track id.
pub struct Catalogue {
    tracks: Tracks,
    /// Track id → row: the form's hidden id is looked up at every live update.
    by_id: HashMap<String, usize>,
    /// Title, artists and album per track, folded ([`fold`]): what a name search matches.
    haystack: Vec<String>,
    /// Each track's continuous audio inputs as z-scores over the catalogue, row-major
    /// ([`SIMILAR`] columns): the space of the similar-tracks search.
    space: Vec<f32>,
    /// The mean and spread of each [`SIMILAR`] column, to place a query track in `space`.
    scale: Vec<(f64, f64)>,
    /// The SHA-256 of the file the tracks were read from, to tell whether the model being
    /// served (which a reload can change) was trained on it.
    source_sha256: String,
}

/// A track found, as the search lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    /// Spotify's id.
    pub track_id: String,
    /// Title.
    pub track_name: String,
    /// Artists.
    pub artists: String,
    /// Album title: tells apart look-alike titles.
    pub album_name: String,
    /// Genres, by name.
    pub genres: Vec<String>,
    /// Its real popularity, if the file has it.
    pub popularity: Option<u8>,
    /// The track as `POST /api/v1/predict` takes it: a found track can be scored as it is.
    pub features: Value,
}

/// A track near another in audio, as `POST /api/v1/similar` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Similar {
    /// Spotify's id.
    pub track_id: String,
    /// Title.
    pub track_name: String,
    /// Artists.
    pub artists: String,
    /// Album title.
    pub album_name: String,
    /// Genres, `;`-separated.
    pub track_genre: String,
    /// Its real popularity, if the file has it.
    pub popularity: Option<u8>,
    /// Euclidean distance in the audio space (z-scores): 0 is the same sound.
    pub distance: f64,
}

/// The inputs of the similar-tracks space: the model's continuous audio inputs.
const SIMILAR: [Column; 10] = CONTINUOUS;

fn audio_index(column: Column) -> usize {
    column
        .audio_index()
        .unwrap_or_else(|| unreachable!("the continuous inputs are audio columns"))
}

/// A track's place in the similar-tracks space.
fn place(audio: &[f64; N_AUDIO], scale: &[(f64, f64)]) -> Vec<f32> {
    SIMILAR
        .iter()
        .zip(scale)
        .map(|(c, (mean, sd))| ((audio[audio_index(*c)] - mean) / sd) as f32)
        .collect()
}

/// What a search found: how many tracks match, and the first of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Search {
    /// Every track that matches, however many are listed.
    pub total: usize,
    /// The most popular matches first, at most the limit asked for.
    pub tracks: Vec<Found>,
}

impl Catalogue {
    /// A catalogue of `tracks`, read from the file whose SHA-256 is `source_sha256`.
    pub fn new(tracks: Tracks, source_sha256: String) -> Catalogue {
        let haystack = tracks
            .rows
            .iter()
            .map(|t| fold(&format!("{} {} {}", t.track_name, t.artists, t.album_name)))
            .collect();
        let by_id = tracks
            .rows
            .iter()
            .enumerate()
            .map(|(i, t)| (t.track_id.clone(), i))
            .collect();
        let scale: Vec<(f64, f64)> = SIMILAR
            .iter()
            .map(|c| {
                let i = audio_index(*c);
                let n = tracks.len().max(1) as f64;
                let mean = tracks.rows.iter().map(|t| t.audio[i]).sum::<f64>() / n;
                let var = tracks
                    .rows
                    .iter()
                    .map(|t| (t.audio[i] - mean).powi(2))
                    .sum::<f64>()
                    / n;
                // A constant column places every track alike: any positive spread will do.
                (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
            })
            .collect();
        let space = tracks
            .rows
            .iter()
            .flat_map(|t| place(&t.audio, &scale))
            .collect();
        Catalogue {
            tracks,
            by_id,
            haystack,
            space,
            scale,
            source_sha256,
        }
    }

    /// The `k` tracks nearest to `track` in the catalogue's audio space (the ten continuous
    /// audio inputs, each as a z-score over the catalogue), nearest first; with `same_genre`
    /// only tracks sharing one of its genres. Exact: one pass over every track (about a
    /// millisecond for 89,741), so no index is needed.
    pub fn similar(&self, track: &TrackRequest, k: usize, same_genre: bool) -> Vec<Similar> {
        let query = place(&track.audio, &self.scale);
        let wanted: Vec<u16> = self
            .tracks
            .genres
            .iter()
            .enumerate()
            .filter(|(_, g)| track.genres.iter().any(|t| t == *g))
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        let d = SIMILAR.len();
        let mut near: Vec<(f32, usize)> = self
            .space
            .chunks_exact(d)
            .enumerate()
            .filter(|(i, _)| {
                !same_genre
                    || self.tracks.rows[*i]
                        .genres
                        .iter()
                        .any(|g| wanted.contains(g))
            })
            .map(|(i, row)| {
                // A song measured from audio has no learned columns (NaN): it is placed by
                // the measures it has.
                let sq: f32 = row
                    .iter()
                    .zip(&query)
                    .filter(|(_, b)| b.is_finite())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                (sq, i)
            })
            .collect();
        let k = k.min(near.len());
        if k == 0 {
            return Vec::new();
        }
        // Ties broken by row, so the order is the same on every run.
        let order = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        near.select_nth_unstable_by(k - 1, order);
        near.truncate(k);
        near.sort_by(order);
        near.into_iter()
            .map(|(sq, i)| {
                let t = &self.tracks.rows[i];
                Similar {
                    track_id: t.track_id.clone(),
                    track_name: t.track_name.clone(),
                    artists: t.artists.clone(),
                    album_name: t.album_name.clone(),
                    track_genre: self.request(t).genres.join(";"),
                    popularity: t.popularity,
                    distance: f64::from(sq.sqrt()),
                }
            })
            .collect()
    }

    /// A caveat for visitors when the tracks are not the ones the model answering now
    /// (`model_data_sha256`: the file it was trained on) learned from: their popularity was
    /// never seen in training. Which file it is belongs in the server's log, not on the page.
    pub fn note(&self, model_data_sha256: &str) -> Option<&'static str> {
        (self.source_sha256 != model_data_sha256).then_some(
            "These real tracks come from another catalogue than the one the model learned \
             from: their popularity was not seen in training.",
        )
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// No tracks at all.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// The track with this id.
    pub fn get(&self, track_id: &str) -> Option<&Track> {
        self.by_id.get(track_id).map(|&i| &self.tracks.rows[i])
    }

    /// The track with this id, as the search lists it.
    pub fn find(&self, track_id: &str) -> Option<Found> {
        self.get(track_id).map(|t| self.found(t))
    }

    /// Tracks for `query`: the one a Spotify link, URI or id names; else those whose title,
    /// artists and album hold every word of it, accents and case aside ("beyonce" finds
    /// Beyoncé; "The Weeknd - Blinding Lights" finds the song), most popular first; at most
    /// `limit`, with the true count.
    pub fn search(&self, query: &str, limit: usize) -> Search {
        let query = query.trim();
        if query.is_empty() {
            return Search::default();
        }
        if let Some(id) = spotify_id(query).or_else(|| self.get(query).map(|_| query)) {
            let tracks: Vec<Found> = self.find(id).into_iter().collect();
            return Search {
                total: tracks.len(),
                tracks,
            };
        }
        let folded = fold(query);
        // Words without a letter or digit ("-", "&") separate, they do not have to match.
        let words: Vec<&str> = folded
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect();
        if words.is_empty() {
            return Search::default();
        }
        let phrase = words.join(" ");
        let mut hits: Vec<(Match, &Track)> = self
            .tracks
            .rows
            .iter()
            .zip(&self.haystack)
            .filter(|(_, h)| words.iter().all(|w| h.contains(w)))
            .map(|(t, h)| (Match::of(t, h, &words, &phrase), t))
            .collect();
        // The best matches first ("Rosé" is ROSÉ before Guns N' Roses), then the most popular.
        hits.sort_by(|(ma, a), (mb, b)| {
            ma.cmp(mb)
                .then_with(|| b.popularity.cmp(&a.popularity))
                .then_with(|| a.track_name.cmp(&b.track_name))
        });
        let hits: Vec<&Track> = hits.into_iter().map(|(_, t)| t).collect();
        Search {
            total: hits.len(),
            tracks: hits
                .into_iter()
                .take(limit)
                .map(|t| self.found(t))
                .collect(),
        }
    }

    /// The track as the form takes it.
    pub fn request(&self, track: &Track) -> TrackRequest {
        TrackRequest::from_track(track, &self.tracks.genres)
    }

    fn found(&self, t: &Track) -> Found {
        let request = self.request(t);
        Found {
            track_id: t.track_id.clone(),
            track_name: t.track_name.clone(),
            artists: t.artists.clone(),
            album_name: t.album_name.clone(),
            features: request.to_json(),
            genres: request.genres,
            popularity: t.popularity,
        }
    }
}

/// Text as a search compares it: compatibility-decomposed (NFKD), combining marks dropped, lower
/// case, `;` between artists as a space. "Beyoncé" and "BEYONCE" both give "beyonce".
/// How well a track matches a search, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    /// Its title, or one of its artists, is the query.
    Exact,
    /// Every word of the query is a whole word of its title, artists or album.
    Words,
    /// Some word of the query is only part of one ("rose" in "roses").
    Within,
}

impl Match {
    /// `haystack` is the track's folded title, artists and album; `words` the folded query's
    /// words and `phrase` them joined by single spaces.
    fn of(t: &Track, haystack: &str, words: &[&str], phrase: &str) -> Match {
        let exact = std::iter::once(t.track_name.as_str())
            .chain(t.artists.split(';'))
            .any(|name| plain(name) == phrase);
        if exact {
            return Match::Exact;
        }
        let whole: Vec<&str> = haystack
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.iter().all(|w| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            whole.contains(&w)
        }) {
            Match::Words
        } else {
            Match::Within
        }
    }
}

/// A name folded as the search folds the query, its words joined by single spaces.
fn plain(name: &str) -> String {
    fold(name)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|&c| !is_combining_mark(c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ';' { ' ' } else { c })
        .collect()
}

/// The track id in a Spotify link (`https://open.spotify.com/track/ID?si=...`, with or without
/// a locale segment such as `/intl-de/`) or URI (`spotify:track:ID`); `None` for anything else.
fn spotify_id(query: &str) -> Option<&str> {
    let rest = match query.strip_prefix("spotify:track:") {
        Some(rest) => rest,
        None if query.contains("open.spotify.com/") => query.split_once("/track/")?.1,
        None => return None,
    };
    let id = rest.split(['?', '/', '#']).next()?.trim();
    (!id.is_empty()).then_some(id)
}

/// Where the catalogue stands.
pub enum CatalogueState<'a> {
    /// The server was started without a dataset.
    Absent,
    /// Still loading.
    Loading,
    /// Ready.
    Ready(&'a Catalogue),
    /// Loading failed, with why.
    Failed(&'a str),
}

/// A catalogue that may still be loading.
#[derive(Clone, Default)]
pub struct LazyCatalogue(Option<Arc<OnceLock<Result<Catalogue, String>>>>);

impl LazyCatalogue {
    /// No dataset.
    pub fn absent() -> LazyCatalogue {
        LazyCatalogue(None)
    }

    /// Starts `load` on its own thread; the catalogue is [`CatalogueState::Loading`] until it ends.
    pub fn spawn(
        load: impl FnOnce() -> Result<Catalogue, String> + Send + 'static,
    ) -> LazyCatalogue {
        let cell = Arc::new(OnceLock::new());
        let filled = Arc::clone(&cell);
        std::thread::spawn(move || {
            let _ = filled.set(load());
        });
        LazyCatalogue(Some(cell))
    }

    /// A catalogue already loaded.
    pub fn ready(catalogue: Catalogue) -> LazyCatalogue {
        LazyCatalogue(Some(Arc::new(OnceLock::from(Ok(catalogue)))))
    }

    /// Where it stands now.
    pub fn state(&self) -> CatalogueState<'_> {
        match &self.0 {
            None => CatalogueState::Absent,
            Some(cell) => match cell.get() {
                None => CatalogueState::Loading,
                Some(Ok(c)) => CatalogueState::Ready(c),
                Some(Err(e)) => CatalogueState::Failed(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hitcast::data::RawRow;

    use super::*;

    fn row(id: &str, name: &str, artists: &str, album: &str, popularity: u8) -> RawRow {
        RawRow {
            line: 2,
            track_id: id.into(),
            artists: artists.into(),
            album_name: album.into(),
            track_name: name.into(),
            carried: Vec::new(),
            popularity: Some(popularity),
            // explicit = 1
            audio: [
                230666.0, 1.0, 0.676, 0.461, 1.0, -6.746, 0.0, 0.143, 0.0322, 1.01e-06, 0.358,
                0.715, 87.917, 4.0,
            ],
            genres: vec!["pop".into()],
        }
    }

    fn catalogue() -> Catalogue {
        let rows = vec![
            row(
                "0VjIjW4GlUZAMYd2vXMi3b",
                "Blinding Lights",
                "The Weeknd",
                "After Hours",
                91,
            ),
            row("id2", "Halo", "Beyoncé", "I Am... Sasha Fierce", 80),
            row("id3", "Halo", "Another Band", "Live", 10),
            row("id4", "Lights", "Someone;The Weeknd Tribute", "Covers", 5),
        ];
        Catalogue::new(Tracks::collapse(rows), "x".into())
    }

    /// Exact names first, then whole words, then parts of words; popularity within each.
    #[test]
    fn exact_names_and_whole_words_rank_before_popularity() {
        let rows = vec![
            row(
                "roses",
                "Sweet Child O' Mine",
                "Guns N' Roses",
                "Appetite",
                85,
            ),
            row("rose", "On The Ground", "ROSÉ", "R", 72),
            row("rosewood", "Rosewood", "Someone", "Rose Garden", 90),
            row("feat", "Stay", "Other;Rosé", "Stay", 40),
        ];
        let c = Catalogue::new(Tracks::collapse(rows), "x".into());
        assert_eq!(
            ids(&c.search("Rosé", 10)),
            ["rose", "feat", "rosewood", "roses"]
        );
        assert_eq!(ids(&c.search("halo", 10)), Vec::<&str>::new());
        let c = catalogue();
        // "lights" is the whole title of id4: it ranks before the more popular whole-word match.
        assert_eq!(
            ids(&c.search("lights", 10)),
            ["id4", "0VjIjW4GlUZAMYd2vXMi3b"]
        );
    }

    fn ids(s: &Search) -> Vec<&str> {
        s.tracks.iter().map(|f| f.track_id.as_str()).collect()
    }

    #[test]
    fn the_caveat_follows_the_model_being_served() {
        let c = catalogue();
        // Trained on the catalogue's own file: no caveat; a model of another file (after a
        // reload, say): the caveat.
        assert_eq!(c.note("x"), None);
        assert!(c
            .note("another file")
            .is_some_and(|n| n.contains("popularity was not seen in training")));
    }

    #[test]
    fn links_uris_and_ids_find_their_track() {
        let c = catalogue();
        for q in [
            "https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b?si=abc123",
            "open.spotify.com/intl-de/track/0VjIjW4GlUZAMYd2vXMi3b",
            "spotify:track:0VjIjW4GlUZAMYd2vXMi3b",
            "0VjIjW4GlUZAMYd2vXMi3b",
        ] {
            assert_eq!(ids(&c.search(q, 5)), ["0VjIjW4GlUZAMYd2vXMi3b"], "{q}");
        }
        assert_eq!(c.search("spotify:track:unknown", 5), Search::default());
    }

    #[test]
    fn words_match_title_artists_and_album_accents_aside() {
        let c = catalogue();
        assert_eq!(ids(&c.search("beyonce", 5)), ["id2"]);
        assert_eq!(ids(&c.search("BEYONCÉ halo", 5)), ["id2"]);
        assert_eq!(
            ids(&c.search("The Weeknd - Blinding Lights", 5)),
            ["0VjIjW4GlUZAMYd2vXMi3b"]
        );
        assert_eq!(ids(&c.search("sasha fierce", 5)), ["id2"]);
        // The true count beside the ones listed, the most popular first.
        let halo = c.search("halo", 1);
        assert_eq!((halo.total, ids(&halo)), (2, vec!["id2"]));
        // Artists separated by ";" are separate words.
        assert_eq!(ids(&c.search("someone the weeknd tribute", 5)), ["id4"]);
        assert_eq!(c.search(" - ", 5), Search::default());
        assert_eq!(fold("Beyoncé;Jay-Z ＡＢ"), "beyonce jay-z ab");
    }

    #[test]
    fn a_track_is_its_own_nearest_neighbour_and_genres_filter() {
        let c = catalogue();
        let halo = c.request(c.get("id3").unwrap());
        let near = c.similar(&halo, 10, false);
        // All four share the same audio here: distance 0, in row order after the tie-break.
        assert_eq!(near.len(), 4);
        assert!(near.iter().all(|s| s.distance == 0.0));
        let mut other = halo.clone();
        other.audio[audio_index(Column::Energy)] = 0.9;
        let near = c.similar(&other, 2, false);
        assert_eq!(near.len(), 2);
        assert!(near[0].distance > 0.0 && near[0].distance <= near[1].distance);
        let mut jazz = halo;
        jazz.genres = vec!["jazz".into()];
        assert!(
            c.similar(&jazz, 3, true).is_empty(),
            "no jazz in this catalogue"
        );
        assert_eq!(c.similar(&jazz, 3, false).len(), 3);
    }

    #[test]
    fn a_found_track_carries_the_features_the_predict_api_takes() {
        let c = catalogue();
        let found = c.search("beyonce", 1).tracks.remove(0);
        assert_eq!(found.album_name, "I Am... Sasha Fierce");
        let back = TrackRequest::from_json(&found.features, "").unwrap();
        assert_eq!(back, c.request(c.get("id2").unwrap()));
        assert_eq!(found.features["explicit"], serde_json::json!(true));
    }
}

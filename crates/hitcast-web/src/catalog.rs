//! The dataset's tracks, to fill the prediction form with a real track found by name or id.
//! Loaded on a background thread so the server answers at once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use hitcast::data::{Track, Tracks};
use serde::Serialize;

use crate::track::TrackRequest;

/// Tracks to look up, one per track id.
pub struct Catalog {
    tracks: Tracks,
    /// Track id → row: the form's hidden id is looked up at every live update.
    by_id: HashMap<String, usize>,
    /// `"title artists"`, lowercased, per track: what a name search matches.
    haystack: Vec<String>,
    /// Where the tracks came from, for the page.
    source: String,
    /// A caveat to show, e.g. that the file is not the one the model was trained on.
    note: Option<String>,
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
    /// Genres, by name.
    pub genres: Vec<String>,
    /// Its real popularity, if the file has it.
    pub popularity: Option<u8>,
}

impl Catalog {
    /// A catalog of `tracks` read from `source`.
    pub fn new(tracks: Tracks, source: String, note: Option<String>) -> Catalog {
        let haystack = tracks
            .rows
            .iter()
            .map(|t| format!("{} {}", t.track_name, t.artists).to_lowercase())
            .collect();
        let by_id = tracks
            .rows
            .iter()
            .enumerate()
            .map(|(i, t)| (t.track_id.clone(), i))
            .collect();
        Catalog {
            tracks,
            by_id,
            haystack,
            source,
            note,
        }
    }

    /// Where the tracks came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A caveat about the file, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
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

    /// Tracks whose id is `query`, else whose title and artists contain every word of it
    /// (case-insensitive), most popular first; at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Found> {
        let query = query.trim();
        if query.is_empty() {
            return Vec::new();
        }
        if let Some(t) = self.get(query) {
            return vec![self.found(t)];
        }
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let mut hits: Vec<&Track> = self
            .tracks
            .rows
            .iter()
            .zip(&self.haystack)
            .filter(|(_, h)| words.iter().all(|w| h.contains(w.as_str())))
            .map(|(t, _)| t)
            .collect();
        hits.sort_by(|a, b| {
            b.popularity
                .cmp(&a.popularity)
                .then_with(|| a.track_name.cmp(&b.track_name))
        });
        hits.into_iter()
            .take(limit)
            .map(|t| self.found(t))
            .collect()
    }

    /// The track as the form takes it.
    pub fn request(&self, track: &Track) -> TrackRequest {
        TrackRequest::from_track(track, &self.tracks.genres)
    }

    fn found(&self, t: &Track) -> Found {
        Found {
            track_id: t.track_id.clone(),
            track_name: t.track_name.clone(),
            artists: t.artists.clone(),
            genres: self.request(t).genres,
            popularity: t.popularity,
        }
    }
}

/// Where the catalog stands.
pub enum CatalogState<'a> {
    /// The server was started without a dataset.
    Absent,
    /// Still loading.
    Loading,
    /// Ready.
    Ready(&'a Catalog),
    /// Loading failed, with why.
    Failed(&'a str),
}

/// A catalog that may still be loading.
#[derive(Clone, Default)]
pub struct LazyCatalog(Option<Arc<OnceLock<Result<Catalog, String>>>>);

impl LazyCatalog {
    /// No dataset.
    pub fn absent() -> LazyCatalog {
        LazyCatalog(None)
    }

    /// Starts `load` on its own thread; the catalog is [`CatalogState::Loading`] until it ends.
    pub fn spawn(load: impl FnOnce() -> Result<Catalog, String> + Send + 'static) -> LazyCatalog {
        let cell = Arc::new(OnceLock::new());
        let filled = Arc::clone(&cell);
        std::thread::spawn(move || {
            let _ = filled.set(load());
        });
        LazyCatalog(Some(cell))
    }

    /// A catalog already loaded.
    pub fn ready(catalog: Catalog) -> LazyCatalog {
        LazyCatalog(Some(Arc::new(OnceLock::from(Ok(catalog)))))
    }

    /// Where it stands now.
    pub fn state(&self) -> CatalogState<'_> {
        match &self.0 {
            None => CatalogState::Absent,
            Some(cell) => match cell.get() {
                None => CatalogState::Loading,
                Some(Ok(c)) => CatalogState::Ready(c),
                Some(Err(e)) => CatalogState::Failed(e),
            },
        }
    }
}

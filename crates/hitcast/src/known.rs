//! The tracks a model's training data holds, as fingerprints the model file carries, so that
//! another catalogue is measured without its copies of them.
//!
//! A catalogue sampled from the same service shares tracks with the training data: the same
//! `track_id`, or (a track re-released under another id, or listed twice) the same audio values.
//! Of the TidyTuesday sample's 28,356 tracks, 1,964 share an id with the shipped dataset and 288
//! more its exact danceability, energy, loudness, tempo and duration; they are 33.3% popular
//! against 5.0% for the rest (`hitcast model evaluate` prints the counts). Counting them rewards
//! a model for remembering its training tracks. An answer gets a `training_track` warning
//! when its track's audio values are a training track's (answers carry no id).
//!
//! A track is known when the 64-bit FNV-1a hash of its id, or of its five audio values rounded
//! to three decimals, is among the training tracks'. Hashes, not the ids, keep the file small
//! (16 bytes a training track); two different tracks share a 64-bit hash with a chance of about
//! one in 10^14 a pair.

use serde::{Deserialize, Serialize};

use crate::data::{Column, Tracks, N_AUDIO};
use crate::split::fnv1a64;

/// The audio columns whose values, to three decimals, identify a recording.
pub const IDENTIFYING: [Column; 5] = [
    Column::Danceability,
    Column::Energy,
    Column::Loudness,
    Column::Tempo,
    Column::DurationMs,
];

/// Fingerprints of a table's tracks: each id's hash and each audio key's, sorted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KnownTracks {
    ids: Vec<u64>,
    audio: Vec<u64>,
}

/// How a track is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Its `track_id` is a training track's.
    Id,
    /// Another id, but a training track's exact audio values.
    Audio,
}

/// The hash of a track's identifying audio values, each rounded to three decimals.
fn audio_key(audio: &[f64; N_AUDIO]) -> u64 {
    let mut bytes = Vec::with_capacity(IDENTIFYING.len() * 8);
    for column in IDENTIFYING {
        let i = column
            .audio_index()
            .unwrap_or_else(|| unreachable!("the identifying columns are audio columns"));
        let milli = (audio[i] * 1000.0).round() as i64;
        bytes.extend_from_slice(&milli.to_le_bytes());
    }
    fnv1a64(&bytes)
}

impl KnownTracks {
    /// The fingerprints of every track of `tracks`.
    pub fn of(tracks: &Tracks) -> KnownTracks {
        let mut ids: Vec<u64> = tracks
            .rows
            .iter()
            .filter(|t| !t.track_id.is_empty())
            .map(|t| fnv1a64(t.track_id.as_bytes()))
            .collect();
        let mut audio: Vec<u64> = tracks.rows.iter().map(|t| audio_key(&t.audio)).collect();
        for v in [&mut ids, &mut audio] {
            v.sort_unstable();
            v.dedup();
        }
        KnownTracks { ids, audio }
    }

    /// Whether it holds no fingerprint (a model saved without them).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.audio.is_empty()
    }

    /// How many training tracks' ids it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether a track with this id and audio is a training track's, and how.
    pub fn find(&self, track_id: &str, audio: &[f64; N_AUDIO]) -> Option<Known> {
        if !track_id.is_empty()
            && self
                .ids
                .binary_search(&fnv1a64(track_id.as_bytes()))
                .is_ok()
        {
            return Some(Known::Id);
        }
        self.audio
            .binary_search(&audio_key(audio))
            .is_ok()
            .then_some(Known::Audio)
    }

    /// Checks a fingerprint read from a file: sorted, no repeats.
    pub fn check(&self) -> Result<(), String> {
        let sorted = |v: &[u64]| v.windows(2).all(|w| w[0] < w[1]);
        if sorted(&self.ids) && sorted(&self.audio) {
            Ok(())
        } else {
            Err("the training tracks' fingerprints are not sorted".into())
        }
    }
}

/// Which rows of `tracks` a model's training data holds, by [`KnownTracks::find`].
pub fn known_rows(known: &KnownTracks, tracks: &Tracks) -> Vec<Option<Known>> {
    tracks
        .rows
        .iter()
        .map(|t| known.find(&t.track_id, &t.audio))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Track;

    fn track(id: &str, danceability: f64, tempo: f64) -> Track {
        let mut audio = [0.5; N_AUDIO];
        audio[Column::Danceability.audio_index().unwrap()] = danceability;
        audio[Column::Tempo.audio_index().unwrap()] = tempo;
        Track {
            line: 2,
            track_id: id.into(),
            artists: "a".into(),
            album_name: String::new(),
            track_name: String::new(),
            popularity: Some(50),
            audio,
            genres: Vec::new(),
        }
    }

    #[test]
    fn tracks_are_known_by_id_or_by_their_audio_to_three_decimals() {
        let training = Tracks {
            genres: Vec::new(),
            rows: vec![track("a", 0.512, 120.0), track("b", 0.7, 98.5)],
            collapse: Default::default(),
        };
        let known = KnownTracks::of(&training);
        assert_eq!(known.len(), 2);
        assert!(known.check().is_ok());
        assert_eq!(
            known.find("a", &track("x", 0.1, 60.0).audio),
            Some(Known::Id)
        );
        // Another id, the same audio to three decimals (a re-release).
        let again = track("c", 0.5121, 120.0004);
        assert_eq!(known.find("c", &again.audio), Some(Known::Audio));
        // A different third decimal is another recording.
        assert_eq!(known.find("c", &track("c", 0.513, 120.0).audio), None);
        // No id: known by its audio only.
        assert_eq!(
            known.find("", &track("", 0.7, 98.5).audio),
            Some(Known::Audio)
        );
        let empty = KnownTracks::default();
        assert!(empty.is_empty());
        assert_eq!(empty.find("a", &again.audio), None);
    }

    #[test]
    fn a_fingerprint_out_of_order_fails_its_check() {
        let known = KnownTracks {
            ids: vec![3, 1],
            audio: vec![],
        };
        assert!(known.check().is_err());
    }
}

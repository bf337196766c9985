//! What a pipeline is asked for: the outlier setup and the feature set, with the columns they
//! concern.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::extras::{CATALOGUE_ONLY, EXTRA_NAMES, GENRE_DERIVED};
use crate::data::Column;

/// Audio columns that outlier fences apply to (docs/evaluation.md, "Experiments"): the continuous measurements, not
/// codes such as `key` or `time_signature`.
pub const CONTINUOUS: [Column; 10] = [
    Column::DurationMs,
    Column::Danceability,
    Column::Energy,
    Column::Loudness,
    Column::Speechiness,
    Column::Acousticness,
    Column::Instrumentalness,
    Column::Liveness,
    Column::Valence,
    Column::Tempo,
];

/// Audio columns left unscaled: they are already 0/1.
pub const UNSCALED: [Column; 2] = [Column::Explicit, Column::Mode];

/// How FIT rows beyond the IQR fences are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutlierSetup {
    /// Values as they are.
    #[default]
    Raw,
    /// Values clamped to the fences, in every row transformed (FIT, VAL, TEST and serving), so
    /// the model never sees a value outside the range it was fitted on.
    Capped,
    /// FIT rows outside any fence are dropped; other rows are transformed as they are.
    Removed,
}

impl OutlierSetup {
    /// Every setup, in report order.
    pub const ALL: [OutlierSetup; 3] = [
        OutlierSetup::Raw,
        OutlierSetup::Capped,
        OutlierSetup::Removed,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            OutlierSetup::Raw => "raw",
            OutlierSetup::Capped => "capped",
            OutlierSetup::Removed => "removed",
        }
    }
}

impl fmt::Display for OutlierSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OutlierSetup {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutlierSetup::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown outlier setup {s:?}: expected raw, capped or removed"))
    }
}

/// Which columns the pipeline produces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureSet {
    /// The 14 audio columns and one indicator per genre (128 columns on the shipped dataset).
    AudioGenre,
    /// Those, then the 11 extra columns of [`super::EXTRA_NAMES`] (counts, title flags, genre
    /// popularity on FIT).
    #[default]
    Extended,
    /// Extended, then the artist-history columns of [`super::HISTORY_NAMES`]: for the
    /// known-artist protocol only, where TEST artists have FIT tracks.
    KnownArtist,
    /// The 14 audio columns alone, no genre: for catalogues whose genres mean something else,
    /// and the comparison that tells what genres add.
    Audio,
    /// Extended without the extras a new, unreleased song cannot honestly have
    /// ([`super::CATALOGUE_ONLY`]): what answers a track that no catalogue lists yet.
    NewSong,
    /// The 14 audio columns and the extras that read no genre (title, credits): for catalogues
    /// whose genres mean something else, and tracks with no genre the model knows.
    NoGenres,
    /// What an audio file gives (`hitcast features`: duration, loudness, tempo, key, mode,
    /// metre) with explicit, the genres and the new-song extras: the seven learned columns
    /// ([`Column::LEARNED`]) are read as FIT's medians, whatever the row holds, so a model of
    /// this set learns nothing from them and answers rows measured from audio.
    Measured,
}

impl FeatureSet {
    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::AudioGenre => "audio-genre",
            FeatureSet::Extended => "extended",
            FeatureSet::KnownArtist => "known-artist",
            FeatureSet::Audio => "audio",
            FeatureSet::NewSong => "new-song",
            FeatureSet::NoGenres => "no-genres",
            FeatureSet::Measured => "measured",
        }
    }

    /// Whether the genre indicators are columns.
    pub fn has_genres(self) -> bool {
        !matches!(self, FeatureSet::Audio | FeatureSet::NoGenres)
    }

    /// Whether any extra column of [`super::EXTRA_NAMES`] is.
    pub fn has_extras(self) -> bool {
        !self.extra_columns().is_empty()
    }

    /// The positions in [`super::EXTRA_NAMES`] of the extra columns this set has, in order.
    pub fn extra_columns(self) -> Vec<usize> {
        match self {
            FeatureSet::Extended | FeatureSet::KnownArtist => (0..EXTRA_NAMES.len()).collect(),
            FeatureSet::NewSong | FeatureSet::Measured => (0..EXTRA_NAMES.len())
                .filter(|&j| !CATALOGUE_ONLY.contains(&EXTRA_NAMES[j]))
                .collect(),
            FeatureSet::NoGenres => (0..EXTRA_NAMES.len())
                .filter(|&j| !GENRE_DERIVED.contains(&EXTRA_NAMES[j]))
                .collect(),
            FeatureSet::AudioGenre | FeatureSet::Audio => Vec::new(),
        }
    }
}

impl FromStr for FeatureSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            FeatureSet::AudioGenre,
            FeatureSet::Extended,
            FeatureSet::KnownArtist,
            FeatureSet::Audio,
            FeatureSet::NewSong,
            FeatureSet::NoGenres,
            FeatureSet::Measured,
        ]
        .into_iter()
        .find(|f| f.name() == s)
        .ok_or_else(|| {
            format!(
                "unknown feature set {s:?}: expected audio-genre, extended, known-artist, audio, \
                 new-song, no-genres or measured"
            )
        })
    }
}

//! The dataset's columns: their names, how each cell is checked, and what happens when a column
//! is absent from a file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One column hitcast reads. Columns of a file that are not listed here (the unnamed pandas index,
/// album ids, release dates, ...) are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Spotify's track id; duplicates are collapsed on it.
    TrackId,
    /// Artist names separated by `;`.
    Artists,
    /// Album title.
    AlbumName,
    /// Track title.
    TrackName,
    /// Popularity score, an integer 0-100: the target.
    Popularity,
    /// Duration in milliseconds.
    DurationMs,
    /// Explicit lyrics, true/false.
    Explicit,
    /// Danceability, 0-1.
    Danceability,
    /// Energy, 0-1.
    Energy,
    /// Pitch class of the key, -1 (none detected) to 11.
    Key,
    /// Mean loudness in dB.
    Loudness,
    /// 1 major, 0 minor.
    Mode,
    /// Speechiness, 0-1.
    Speechiness,
    /// Acousticness, 0-1.
    Acousticness,
    /// Instrumentalness, 0-1.
    Instrumentalness,
    /// Liveness, 0-1.
    Liveness,
    /// Valence (musical positiveness), 0-1.
    Valence,
    /// Tempo in beats per minute.
    Tempo,
    /// Estimated beats per bar, 0-7.
    TimeSignature,
    /// Genre the track was listed under.
    TrackGenre,
}

/// Number of audio columns, the numeric part of a track.
pub const N_AUDIO: usize = 14;

impl Column {
    /// Every column hitcast reads, in the dataset's header order.
    pub const ALL: [Column; 20] = [
        Column::TrackId,
        Column::Artists,
        Column::AlbumName,
        Column::TrackName,
        Column::Popularity,
        Column::DurationMs,
        Column::Explicit,
        Column::Danceability,
        Column::Energy,
        Column::Key,
        Column::Loudness,
        Column::Mode,
        Column::Speechiness,
        Column::Acousticness,
        Column::Instrumentalness,
        Column::Liveness,
        Column::Valence,
        Column::Tempo,
        Column::TimeSignature,
        Column::TrackGenre,
    ];

    /// The numeric audio columns, in feature-matrix order (DESIGN.md §3). A track's `audio` array
    /// is indexed by position in this list.
    pub const AUDIO: [Column; N_AUDIO] = [
        Column::DurationMs,
        Column::Explicit,
        Column::Danceability,
        Column::Energy,
        Column::Key,
        Column::Loudness,
        Column::Mode,
        Column::Speechiness,
        Column::Acousticness,
        Column::Instrumentalness,
        Column::Liveness,
        Column::Valence,
        Column::Tempo,
        Column::TimeSignature,
    ];

    /// The header name.
    pub fn name(self) -> &'static str {
        match self {
            Column::TrackId => "track_id",
            Column::Artists => "artists",
            Column::AlbumName => "album_name",
            Column::TrackName => "track_name",
            Column::Popularity => "popularity",
            Column::DurationMs => "duration_ms",
            Column::Explicit => "explicit",
            Column::Danceability => "danceability",
            Column::Energy => "energy",
            Column::Key => "key",
            Column::Loudness => "loudness",
            Column::Mode => "mode",
            Column::Speechiness => "speechiness",
            Column::Acousticness => "acousticness",
            Column::Instrumentalness => "instrumentalness",
            Column::Liveness => "liveness",
            Column::Valence => "valence",
            Column::Tempo => "tempo",
            Column::TimeSignature => "time_signature",
            Column::TrackGenre => "track_genre",
        }
    }

    /// The column with this header name, if hitcast reads it.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Position in [`Column::AUDIO`], for audio columns.
    pub fn audio_index(self) -> Option<usize> {
        Column::AUDIO.iter().position(|&c| c == self)
    }

    /// How a cell of this column is checked.
    pub fn rule(self) -> Rule {
        match self {
            Column::TrackId
            | Column::Artists
            | Column::AlbumName
            | Column::TrackName
            | Column::TrackGenre => Rule::Text,
            Column::Popularity => Rule::Integer { min: 0, max: 100 },
            Column::DurationMs | Column::Tempo => Rule::NonNegative,
            Column::Explicit => Rule::Bool,
            Column::Key => Rule::Integer { min: -1, max: 11 },
            Column::Mode => Rule::Integer { min: 0, max: 1 },
            Column::TimeSignature => Rule::Integer { min: 0, max: 7 },
            Column::Loudness => Rule::Finite,
            Column::Danceability
            | Column::Energy
            | Column::Speechiness
            | Column::Acousticness
            | Column::Instrumentalness
            | Column::Liveness
            | Column::Valence => Rule::Unit,
        }
    }

    /// What the reader does when the header lacks this column.
    pub fn when_absent(self) -> Absent {
        match self {
            Column::Artists | Column::AlbumName | Column::TrackName => {
                Absent::Default("empty (names are not model features)")
            }
            Column::TrackGenre => Absent::Default("no genre (an all-zero genre vector)"),
            Column::Explicit => Absent::Default("false"),
            Column::TimeSignature => Absent::Default("4 (the most common time signature)"),
            Column::Popularity => Absent::Unlabelled,
            _ => Absent::Required,
        }
    }

    /// The audio value used when the column is absent, for audio columns that have a default.
    pub fn audio_default(self) -> Option<f64> {
        match self {
            Column::Explicit => Some(0.0),
            Column::TimeSignature => Some(4.0),
            _ => None,
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the reader does when a column is missing from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    /// The file cannot be used without it.
    Required,
    /// Every row gets the described default.
    Default(&'static str),
    /// Required only for training and evaluation; scoring works without it.
    Unlabelled,
}

/// How a cell is validated and converted to a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Free text, kept as it is; empty means missing.
    Text,
    /// A whole number in `min..=max` (`"4.0"` is accepted as 4).
    Integer {
        /// Smallest allowed value.
        min: i32,
        /// Largest allowed value.
        max: i32,
    },
    /// A number in `[0, 1]`.
    Unit,
    /// A finite number `>= 0`.
    NonNegative,
    /// Any finite number.
    Finite,
    /// `true`/`false` in any case, or `1`/`0`.
    Bool,
}

/// Why one cell was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// The cell is empty.
    #[error("missing value (empty field)")]
    Missing,
    /// The cell does not hold the expected form.
    #[error("expected {expected}, got {value:?}")]
    Invalid {
        /// The offending text, shortened to 40 characters.
        value: String,
        /// The accepted form, in words.
        expected: &'static str,
    },
    /// The cell is not valid UTF-8.
    #[error("invalid UTF-8 bytes")]
    NotUtf8,
}

impl Rule {
    /// The accepted form, in words, as shown in error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Rule::Text => "text",
            Rule::Integer { min: 0, max: 100 } => "an integer from 0 to 100",
            Rule::Integer { min: -1, max: 11 } => "an integer from -1 to 11",
            Rule::Integer { min: 0, max: 1 } => "0 or 1",
            Rule::Integer { min: 0, max: 7 } => "an integer from 0 to 7",
            Rule::Integer { .. } => "an integer in range",
            Rule::Unit => "a number from 0 to 1",
            Rule::NonNegative => "a finite number >= 0",
            Rule::Finite => "a finite number",
            Rule::Bool => "true/false or 1/0",
        }
    }

    /// Parses a numeric cell (every rule but [`Rule::Text`]). Surrounding spaces are ignored;
    /// NaN, infinities and numbers too large for an f64 (`1e400`) are rejected.
    pub fn parse(self, text: &str) -> Result<f64, FieldProblem> {
        let text = text.trim_ascii();
        if text.is_empty() {
            return Err(FieldProblem::Missing);
        }
        let invalid = || FieldProblem::Invalid {
            value: shorten(text),
            expected: self.expected(),
        };
        if self == Rule::Bool {
            return match text.as_bytes() {
                b"1" => Ok(1.0),
                b"0" => Ok(0.0),
                t if t.eq_ignore_ascii_case(b"true") => Ok(1.0),
                t if t.eq_ignore_ascii_case(b"false") => Ok(0.0),
                _ => Err(invalid()),
            };
        }
        let x: f64 = text.parse().map_err(|_| invalid())?;
        self.check(x).map_err(|_| invalid())
    }

    /// Checks a number given as a number (the JSON API): finite and in range. Returns it with
    /// `-0` turned into `0`. [`Rule::Text`] accepts no number.
    pub fn check(self, x: f64) -> Result<f64, FieldProblem> {
        let invalid = || FieldProblem::Invalid {
            value: shorten(&x.to_string()),
            expected: self.expected(),
        };
        if !x.is_finite() {
            return Err(invalid());
        }
        // `+ 0.0` turns "-0" into 0.0, so equal inputs give bit-identical features.
        let x = x + 0.0;
        let ok = match self {
            Rule::Integer { min, max } => {
                x.fract() == 0.0 && x >= f64::from(min) && x <= f64::from(max)
            }
            Rule::Unit => (0.0..=1.0).contains(&x),
            Rule::NonNegative => x >= 0.0,
            Rule::Finite => true,
            Rule::Bool => x == 0.0 || x == 1.0,
            Rule::Text => false,
        };
        if ok {
            Ok(x)
        } else {
            Err(invalid())
        }
    }
}

/// Shortens a cell for an error message: a huge field must not flood the terminal.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Column::ALL {
            assert_eq!(Column::from_name(c.name()), Some(c));
        }
        assert_eq!(Column::from_name(""), None);
        assert_eq!(Column::from_name("Popularity"), None);
    }

    #[test]
    fn audio_order_is_the_design_order() {
        let names: Vec<_> = Column::AUDIO.iter().map(|c| c.name()).collect();
        assert_eq!(
            names.join(","),
            "duration_ms,explicit,danceability,energy,key,loudness,mode,speechiness,\
             acousticness,instrumentalness,liveness,valence,tempo,time_signature"
        );
    }

    #[test]
    fn integers_accept_whole_floats_and_reject_fractions_and_range() {
        let pop = Column::Popularity.rule();
        assert_eq!(pop.parse("71"), Ok(71.0));
        assert_eq!(pop.parse(" 71.0 "), Ok(71.0));
        assert_eq!(pop.parse("-0"), Ok(0.0));
        assert!(pop.parse("-0").unwrap().is_sign_positive());
        assert_eq!(
            pop.parse("101").unwrap_err().to_string(),
            "expected an integer from 0 to 100, got \"101\""
        );
        assert!(pop.parse("7.5").is_err());
        assert_eq!(Column::Key.rule().parse("-1"), Ok(-1.0));
        assert!(Column::Key.rule().parse("12").is_err());
        assert_eq!(
            Column::Mode.rule().parse("2").unwrap_err().to_string(),
            "expected 0 or 1, got \"2\""
        );
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        for text in ["NaN", "nan", "inf", "-inf", "infinity", "1e400"] {
            assert!(Rule::Finite.parse(text).is_err(), "{text}");
        }
        assert_eq!(Rule::Finite.parse("-49.531"), Ok(-49.531));
        assert_eq!(Rule::Finite.parse("1.01e-06"), Ok(1.01e-06));
    }

    #[test]
    fn unit_and_nonnegative_ranges() {
        assert_eq!(Rule::Unit.parse("1"), Ok(1.0));
        assert_eq!(Rule::Unit.parse("0.0"), Ok(0.0));
        assert!(Rule::Unit.parse("1.0001").is_err());
        assert!(Rule::Unit.parse("-0.1").is_err());
        assert_eq!(
            Rule::NonNegative.parse("-5").unwrap_err().to_string(),
            "expected a finite number >= 0, got \"-5\""
        );
        assert_eq!(
            Rule::NonNegative.parse("fast").unwrap_err().to_string(),
            "expected a finite number >= 0, got \"fast\""
        );
    }

    #[test]
    fn booleans_in_any_case_or_digits() {
        for (text, want) in [
            ("True", 1.0),
            ("FALSE", 0.0),
            ("true", 1.0),
            ("1", 1.0),
            ("0", 0.0),
        ] {
            assert_eq!(Rule::Bool.parse(text), Ok(want), "{text}");
        }
        assert_eq!(
            Rule::Bool.parse("yes").unwrap_err().to_string(),
            "expected true/false or 1/0, got \"yes\""
        );
    }

    #[test]
    fn empty_cells_are_missing() {
        assert_eq!(Rule::Unit.parse("  "), Err(FieldProblem::Missing));
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(10_000);
        let msg = Rule::Unit.parse(&long).unwrap_err().to_string();
        assert_eq!(
            msg,
            format!(
                "expected a number from 0 to 1, got \"{}...\"",
                "x".repeat(40)
            )
        );
    }
}

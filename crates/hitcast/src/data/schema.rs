//! The dataset's columns: their names, how each cell is checked, and what happens when a column
//! is absent from a file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One column hitcast reads. Columns of a file that are not listed here (the unnamed pandas index,
/// album ids, release dates, ...) are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Spotify's track id; duplicates are collapsed on it. Training needs it; a file to score
    /// may lack it (its rows then have empty ids).
    TrackId,
    /// Artist names separated by `;`.
    Artists,
    /// Album title.
    AlbumName,
    /// Track title.
    TrackName,
    /// Popularity score, an integer 0-100: the target.
    Popularity,
    /// Duration in milliseconds, 0 to 7,200,000 (2 hours).
    DurationMs,
    /// Explicit lyrics, true/false.
    Explicit,
    /// Danceability, 0-1.
    Danceability,
    /// Energy, 0-1.
    Energy,
    /// Pitch class of the key, -1 (none detected) to 11.
    Key,
    /// Mean loudness in dB, -60 to 10.
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
    /// Tempo in beats per minute, 0 to 300.
    Tempo,
    /// Estimated beats per bar, 0-7.
    TimeSignature,
    /// Genre the track was listed under; a cell may list several, separated by `,`, `;` or `|`
    /// (see [`super::genre`]).
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

    /// The numeric audio columns, in feature-matrix order (docs/evaluation.md, "The protocol"). A track's `audio` array
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

    /// The seven audio columns Spotify's models learnt from listeners' judgements: no audio
    /// file gives them. A row to score may leave all seven empty (or the file lack them all):
    /// a row measured from audio (`hitcast features`), which the from-audio model answers.
    pub const LEARNED: [Column; 7] = [
        Column::Danceability,
        Column::Energy,
        Column::Speechiness,
        Column::Acousticness,
        Column::Instrumentalness,
        Column::Liveness,
        Column::Valence,
    ];

    /// Whether the column is one of [`Column::LEARNED`].
    pub fn is_learned(self) -> bool {
        Column::LEARNED.contains(&self)
    }

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

    /// The column a table's header names, written as hitcast does or in another case and with
    /// other separators (`Tempo`, `Track Name`, `duration (ms)`, `TimeSignature`): the letters
    /// and digits tell the columns apart, so no spelling names two.
    pub fn from_header(name: &str) -> Option<Column> {
        Column::from_name(name).or_else(|| {
            let name = folded(name);
            Column::ALL.into_iter().find(|c| folded(c.name()) == name)
        })
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
            Column::DurationMs => Rule::Range(DURATION),
            Column::Tempo => Rule::Range(TEMPO),
            Column::Explicit => Rule::Bool,
            Column::Key => Rule::Integer { min: -1, max: 11 },
            Column::Mode => Rule::Integer { min: 0, max: 1 },
            Column::TimeSignature => Rule::Integer { min: 0, max: 7 },
            Column::Loudness => Rule::Range(LOUDNESS),
            Column::Danceability
            | Column::Energy
            | Column::Speechiness
            | Column::Acousticness
            | Column::Instrumentalness
            | Column::Liveness
            | Column::Valence => Rule::Unit,
        }
    }

    /// The accepted range of a numeric column (every column but the texts and `explicit`), for
    /// help texts and API schemas: the numbers the checks use, not a copy of them.
    pub fn bounds(self) -> Option<Bounds> {
        self.rule().bounds()
    }

    /// What the reader does when the header lacks this column.
    pub fn when_absent(self) -> Absent {
        match self {
            Column::TrackId => Absent::DefaultForScoring(
                "empty ids (the output's track_id stays empty: a made-up id could pass for a \
                 Spotify id)",
            ),
            // Names feed the extras (features/extras.rs): say what an empty one reads as.
            Column::Artists => Absent::Default("empty (each track then counts one artist)"),
            Column::AlbumName => Absent::Default("empty (no title then matches its album's name)"),
            Column::TrackName => {
                Absent::Default("empty (no title: its words and length then read as none)")
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
    /// Required for training (duplicate tracks are collapsed on it); when scoring, every row gets
    /// the described default.
    DefaultForScoring(&'static str),
}

/// How long a track may be: 0 to 2 hours. The dataset's longest is 87 minutes; its one 0 ms
/// row is kept, so 0 is allowed.
const DURATION: Bounds = Bounds {
    what: "a duration",
    min: 0.0,
    max: 7_200_000.0,
    unit: "ms",
    note: "2 hours",
};

/// Mean loudness relative to digital full scale: above +10 dB is clipping no master has (the
/// dataset's loudest is 4.5 dB), below -60 dB near silence (its quietest is -49.5 dB).
const LOUDNESS: Bounds = Bounds {
    what: "a loudness",
    min: -60.0,
    max: 10.0,
    unit: "dB",
    note: "",
};

/// Beats per minute: 0 is Spotify's "no beat found"; above 300 no tempo estimator reports (the
/// dataset's fastest is 243 BPM).
const TEMPO: Bounds = Bounds {
    what: "a tempo",
    min: 0.0,
    max: 300.0,
    unit: "BPM",
    note: "",
};

/// The physical range of a numeric column: what it measures, its bounds and its unit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bounds {
    /// What the number is, with its article, as messages name it: `"a tempo"`.
    pub what: &'static str,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// The unit's symbol (`"BPM"`, `"dB"`, `"ms"`); empty for a plain number.
    pub unit: &'static str,
    /// The range in everyday words where the unit hides it (`"2 hours"`); empty for none.
    pub note: &'static str,
}

impl Bounds {
    /// Whether `x` lies in `min..=max`.
    pub fn contains(&self, x: f64) -> bool {
        (self.min..=self.max).contains(&x)
    }

    /// The range without the noun: `0 to 300 BPM`, `0 to 7,200,000 ms (2 hours)`.
    pub fn range(&self) -> String {
        let mut text = format!("{} to {}", number(self.min), number(self.max));
        if !self.unit.is_empty() {
            text = format!("{text} {}", self.unit);
        }
        if !self.note.is_empty() {
            text = format!("{text} ({})", self.note);
        }
        text
    }
}

impl fmt::Display for Bounds {
    /// As messages say it: `a tempo from 0 to 300 BPM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.what, self.range())
    }
}

/// A bound as people write it: whole numbers with thousands separators (`7,200,000`).
fn number(x: f64) -> String {
    if x.fract() != 0.0 || x.abs() >= 1e15 {
        return x.to_string();
    }
    let digits = format!("{}", x.abs());
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    if x < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// How a cell is validated and converted to a number.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// A number in a physical range, with its unit.
    Range(Bounds),
    /// `true`/`false` in any case, or `1`/`0`.
    Bool,
}

/// Why one cell was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// The cell is empty (or null).
    #[error("missing value")]
    Missing,
    /// A number cell says it has no value: `NaN` or `NA` (or a NaN), shown as written.
    #[error("missing value ({0:?})")]
    MissingMarked(String),
    /// The cell does not hold the expected form.
    #[error("expected {expected}, got {value:?}")]
    Invalid {
        /// The offending text, shortened to 40 characters.
        value: String,
        /// The accepted form, in words.
        expected: String,
    },
    /// The cell is not valid UTF-8.
    #[error("invalid UTF-8 bytes")]
    NotUtf8,
    /// Some of the seven learned columns are empty, not all.
    #[error("missing value: give all of danceability, energy, speechiness, acousticness, instrumentalness, liveness and valence, or none (a row measured from audio, as `hitcast features` writes)")]
    PartlyMeasured,
}

impl FieldProblem {
    /// Whether the cell holds no value, empty or marked so.
    pub fn is_missing(&self) -> bool {
        matches!(self, FieldProblem::Missing | FieldProblem::MissingMarked(_))
    }
}

impl Rule {
    /// The accepted form, in words, as shown in error messages.
    pub fn expected(self) -> String {
        match (self, self.bounds()) {
            (Rule::Integer { min: 0, max: 1 }, _) => "0 or 1".to_owned(),
            (Rule::Bool, _) => "true/false or 1/0".to_owned(),
            (_, Some(bounds)) => bounds.to_string(),
            (_, None) => "text".to_owned(),
        }
    }

    /// The accepted range of a numeric rule; `None` for text and booleans.
    pub fn bounds(self) -> Option<Bounds> {
        let plain = |what, min, max| Bounds {
            what,
            min,
            max,
            unit: "",
            note: "",
        };
        match self {
            Rule::Text | Rule::Bool => None,
            Rule::Integer { min, max } => Some(plain("an integer", f64::from(min), f64::from(max))),
            Rule::Unit => Some(plain("a number", 0.0, 1.0)),
            Rule::Range(bounds) => Some(bounds),
        }
    }

    /// Parses a numeric cell (every rule but [`Rule::Text`]). Surrounding spaces are ignored; an
    /// empty cell is [`FieldProblem::Missing`], `NaN` and `NA` [`FieldProblem::MissingMarked`]
    /// ([`missing_text`]); infinities and numbers too large for an f64 (`1e400`) are rejected.
    pub fn parse(self, text: &str) -> Result<f64, FieldProblem> {
        let text = text.trim_ascii();
        if text.is_empty() {
            return Err(FieldProblem::Missing);
        }
        let invalid = || FieldProblem::Invalid {
            value: shorten(text),
            expected: self.expected(),
        };
        let marked = || FieldProblem::MissingMarked(shorten(text));
        if self == Rule::Bool && missing_text(text) {
            return Err(marked());
        }
        if self == Rule::Bool {
            return match text.as_bytes() {
                b"1" => Ok(1.0),
                b"0" => Ok(0.0),
                t if t.eq_ignore_ascii_case(b"true") => Ok(1.0),
                t if t.eq_ignore_ascii_case(b"false") => Ok(0.0),
                _ => Err(invalid()),
            };
        }
        // Parsed first, the markers checked only where that fails: most cells are numbers
        // (f64's parse reads "NaN" in any case as a NaN).
        match text.parse::<f64>() {
            Ok(x) if x.is_nan() => Err(marked()),
            Ok(x) => self.check(x).map_err(|_| invalid()),
            Err(_) if missing_text(text) => Err(marked()),
            Err(_) => match self.with_decimal_point(text) {
                Some(fixed) => Err(FieldProblem::Invalid {
                    value: shorten(text),
                    expected: format!(
                        "{}, written with a decimal point ({fixed:?})",
                        self.expected()
                    ),
                }),
                None => Err(invalid()),
            },
        }
    }

    /// [`Rule::parse`] for a file whose fields semicolons separate (a spreadsheet's export in
    /// much of Europe: `;` between fields, a comma in numbers): a number written with one comma
    /// and no point reads the comma as its decimal point (`0,676`, `230666,5`).
    pub fn parse_decimal_comma(self, text: &str) -> Result<f64, FieldProblem> {
        let refused = match self.parse(text) {
            Err(problem @ FieldProblem::Invalid { .. }) if self != Rule::Bool => problem,
            parsed => return parsed,
        };
        let t = text.trim_ascii();
        if t.matches(',').count() != 1 || t.contains('.') {
            return Err(refused);
        }
        match t.replacen(',', ".", 1).parse::<f64>() {
            Ok(x) => self.check(x).map_err(|_| refused),
            Err(_) => Err(refused),
        }
    }

    /// `text` with its one comma as a decimal point, as spreadsheets in much of Europe write
    /// numbers, where that reading fits this column and the comma grouping thousands does not
    /// (`230,666` ms may be either, and is not guessed at).
    fn with_decimal_point(self, text: &str) -> Option<String> {
        let fits = |t: &str| t.parse::<f64>().is_ok_and(|x| self.check(x).is_ok());
        let fixed = text.replacen(',', ".", 1);
        (text.matches(',').count() == 1 && fits(&fixed) && !fits(&text.replacen(',', "", 1)))
            .then_some(fixed)
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
            Rule::Range(bounds) => bounds.contains(x),
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

/// Whether a numeric cell's text says "no value": empty, or `NaN` (pandas and polars write a
/// missing number so) or `NA` (R does), in any case and with any surrounding spaces. One rule
/// for every source: a NaN in an Arrow column is missing too.
pub fn missing_text(text: &str) -> bool {
    let text = text.trim_ascii();
    text.is_empty() || text.eq_ignore_ascii_case("nan") || text.eq_ignore_ascii_case("na")
}

/// Shortens a cell for an error message: a huge field must not flood the terminal.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// A name's letters and digits, lower case: what tells header names apart when their case and
/// separators may differ.
pub(crate) fn folded(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
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
        // A header may write a name in its own case and separators.
        for (header, column) in [
            ("Popularity", Column::Popularity),
            ("Track Name", Column::TrackName),
            ("duration (ms)", Column::DurationMs),
            ("TimeSignature", Column::TimeSignature),
            (" track-genre ", Column::TrackGenre),
        ] {
            assert_eq!(Column::from_header(header), Some(column), "{header}");
        }
        for header in ["", "Unnamed: 0", "tempos", "track", "name"] {
            assert_eq!(Column::from_header(header), None, "{header}");
        }
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
    fn a_file_not_separated_by_commas_reads_a_decimal_comma() {
        let dance = Column::Danceability.rule();
        assert_eq!(dance.parse_decimal_comma("0,676"), Ok(0.676));
        assert_eq!(dance.parse_decimal_comma(" 0.5 "), Ok(0.5));
        assert_eq!(
            Column::DurationMs.rule().parse_decimal_comma("230,666"),
            Ok(230.666)
        );
        // Out of range either way, two commas, a comma and a point: refused as parse refuses.
        for bad in ["1,5", "1,2,3", "1.000,5"] {
            assert_eq!(
                dance.parse_decimal_comma(bad).map_err(|e| e.to_string()),
                dance.parse(bad).map_err(|e| e.to_string()),
                "{bad}"
            );
        }
        assert!(Column::Key.rule().parse_decimal_comma("1,5").is_err());
        assert!(Column::Explicit.rule().parse_decimal_comma("1,0").is_err());
    }

    #[test]
    fn a_decimal_comma_is_named() {
        assert_eq!(
            Column::Danceability
                .rule()
                .parse("0,676")
                .unwrap_err()
                .to_string(),
            "expected a number from 0 to 1, written with a decimal point (\"0.676\"), got \"0,676\""
        );
        // A comma that may group thousands is not guessed at; two commas are no number.
        assert_eq!(
            Column::DurationMs
                .rule()
                .parse("230,666")
                .unwrap_err()
                .to_string(),
            format!(
                "expected {}, got \"230,666\"",
                Column::DurationMs.rule().expected()
            )
        );
        assert!(Column::Loudness
            .rule()
            .parse("-6,746")
            .unwrap_err()
            .to_string()
            .contains("decimal point (\"-6.746\")"));
        assert_eq!(
            Column::Tempo
                .rule()
                .parse("1,200,5")
                .unwrap_err()
                .to_string(),
            format!(
                "expected {}, got \"1,200,5\"",
                Column::Tempo.rule().expected()
            )
        );
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        let loudness = Column::Loudness.rule();
        for text in ["inf", "-inf", "infinity", "1e400", "NaNa"] {
            assert!(
                matches!(loudness.parse(text), Err(FieldProblem::Invalid { .. })),
                "{text}"
            );
        }
        // What pandas, polars and R write for a missing number is one, named as written.
        for text in ["", " "] {
            assert_eq!(loudness.parse(text), Err(FieldProblem::Missing), "{text:?}");
            assert_eq!(
                Rule::Bool.parse(text),
                Err(FieldProblem::Missing),
                "{text:?}"
            );
        }
        for text in ["NaN", "nan", " NAN ", "NA", "na"] {
            let marked = Err(FieldProblem::MissingMarked(text.trim().to_owned()));
            assert_eq!(loudness.parse(text), marked, "{text:?}");
            assert_eq!(Rule::Bool.parse(text), marked, "{text:?}");
        }
        assert_eq!(
            loudness.parse(" NA ").unwrap_err().to_string(),
            "missing value (\"NA\")"
        );
        assert!(loudness.parse("NaN").unwrap_err().is_missing());
        assert_eq!(loudness.parse("-49.531"), Ok(-49.531));
        assert_eq!(Rule::Unit.parse("1.01e-06"), Ok(1.01e-06));
    }

    #[test]
    fn unit_range() {
        assert_eq!(Rule::Unit.parse("1"), Ok(1.0));
        assert_eq!(Rule::Unit.parse("0.0"), Ok(0.0));
        assert!(Rule::Unit.parse("1.0001").is_err());
        assert!(Rule::Unit.parse("-0.1").is_err());
    }

    #[test]
    fn physical_quantities_are_refused_outside_their_domain() {
        let tempo = Column::Tempo.rule();
        let loudness = Column::Loudness.rule();
        let duration = Column::DurationMs.rule();
        for (rule, text, want) in [
            (
                tempo,
                "-5",
                "expected a tempo from 0 to 300 BPM, got \"-5\"",
            ),
            (
                tempo,
                "fast",
                "expected a tempo from 0 to 300 BPM, got \"fast\"",
            ),
            (
                tempo,
                "100000",
                "expected a tempo from 0 to 300 BPM, got \"100000\"",
            ),
            (
                tempo,
                "1e300",
                "expected a tempo from 0 to 300 BPM, got \"1e300\"",
            ),
            (
                loudness,
                "1e300",
                "expected a loudness from -60 to 10 dB, got \"1e300\"",
            ),
            (
                loudness,
                "-60.5",
                "expected a loudness from -60 to 10 dB, got \"-60.5\"",
            ),
            (
                loudness,
                "inf",
                "expected a loudness from -60 to 10 dB, got \"inf\"",
            ),
            (
                // 99,999,999 minutes in milliseconds.
                duration,
                "5999999940000",
                "expected a duration from 0 to 7,200,000 ms (2 hours), got \"5999999940000\"",
            ),
            (
                duration,
                "-1",
                "expected a duration from 0 to 7,200,000 ms (2 hours), got \"-1\"",
            ),
        ] {
            assert_eq!(rule.parse(text).unwrap_err().to_string(), want, "{text}");
        }
        // The bounds themselves are inside.
        for (rule, text, want) in [
            (tempo, "0", 0.0),
            (tempo, "300", 300.0),
            (loudness, "-60", -60.0),
            (loudness, "10", 10.0),
            (duration, "0", 0.0),
            (duration, "7200000", 7_200_000.0),
        ] {
            assert_eq!(rule.parse(text), Ok(want), "{text}");
        }
        assert!(duration.parse("7200000.5").is_err());
        // Numbers given as numbers (the JSON API) meet the same check.
        assert!(tempo.check(1e300).is_err());
        assert_eq!(tempo.check(-0.0).map(f64::to_bits), Ok(0.0f64.to_bits()));
    }

    #[test]
    fn every_numeric_column_has_a_domain() {
        let listed: Vec<String> = Column::ALL
            .iter()
            .filter_map(|c| c.bounds().map(|d| format!("{c} {}", d.range())))
            .collect();
        assert_eq!(
            listed,
            [
                "popularity 0 to 100",
                "duration_ms 0 to 7,200,000 ms (2 hours)",
                "danceability 0 to 1",
                "energy 0 to 1",
                "key -1 to 11",
                "loudness -60 to 10 dB",
                "mode 0 to 1",
                "speechiness 0 to 1",
                "acousticness 0 to 1",
                "instrumentalness 0 to 1",
                "liveness 0 to 1",
                "valence 0 to 1",
                "tempo 0 to 300 BPM",
                "time_signature 0 to 7",
            ]
        );
        assert_eq!(Column::Explicit.bounds(), None);
        assert_eq!(Column::TrackGenre.bounds(), None);
        assert_eq!(
            [1234567.0, -1000.0, 999.0, 0.5, -60.0].map(number),
            ["1,234,567", "-1,000", "999", "0.5", "-60"]
        );
    }

    #[test]
    fn the_readme_table_shows_the_domain() {
        let readme = crate::testutil::data_guide();
        for column in Column::ALL {
            if let Some(domain) = column.bounds() {
                let row = format!("| {column} | {} |", domain.range());
                assert!(readme.contains(&row), "docs/data.md lacks {row:?}");
            }
        }
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

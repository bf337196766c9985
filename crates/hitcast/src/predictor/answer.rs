//! The answer a track gets, and its columns: the calibrated chance, the flag and its words, the
//! lift, the score and its range, which model answered, and warnings; as a struct for the API
//! and Python, and as the columns every table of answers (CSV, Parquet, Arrow) writes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::artifact::Role;
use crate::data::{Column, RawRow};
use crate::distribution::Range;
use crate::domain::Warning;

/// What an answer's flag means, in the words every surface uses. A flag marks a chance many
/// times a typical track's, chosen on VAL for the best F1: at the default model's threshold
/// (16%) a flagged track is still more likely not to be popular, so it is "a likely hit" only
/// from a one-half chance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Flagged, with a chance of a popular score of one half or more.
    LikelyHit,
    /// Flagged below a one-half chance.
    Contender,
    /// Not flagged.
    NotFlagged,
}

impl Verdict {
    /// The verdict of an answer with this chance and flag.
    pub fn of(probability: f64, flagged: bool) -> Verdict {
        match (flagged, probability >= 0.5) {
            (false, _) => Verdict::NotFlagged,
            (true, true) => Verdict::LikelyHit,
            (true, false) => Verdict::Contender,
        }
    }

    /// "a likely hit", "a hit contender" or "not flagged".
    pub fn text(self) -> &'static str {
        match self {
            Verdict::LikelyHit => "a likely hit",
            Verdict::Contender => "a hit contender",
            Verdict::NotFlagged => "not flagged",
        }
    }

    /// Every verdict's text, as the API's schema lists them.
    pub const TEXTS: [&'static str; 3] = ["a likely hit", "a hit contender", "not flagged"];
}

/// A lift as people read it: "6.2x", or from ten times "16x".
pub fn times(lift: f64) -> String {
    if lift >= 10.0 {
        format!("{lift:.0}x")
    } else {
        format!("{lift:.1}x")
    }
}

/// The verdict and the lift in one phrase: "a hit contender: 6.2x a typical track's chance".
pub fn verdict_phrase(probability: f64, flagged: bool, lift: f64) -> String {
    format!(
        "{}: {} a typical track's chance",
        Verdict::of(probability, flagged).text(),
        times(lift)
    )
}

/// One track's answer: its chance of being popular, and its 0-100 score with a range.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The chance, and which model gave it.
    pub chance: Chance,
    /// The predicted 0-100 score: the mean of the track's score distribution, whose chance of
    /// a score above the label threshold is `chance.probability`.
    pub popularity: f64,
    /// Lower end of the score's range (a quantile of the same distribution, at the model's
    /// coverage).
    pub popularity_low: f64,
    /// Upper end of the score's range.
    pub popularity_high: f64,
}

/// One track's chance of being popular: what [`super::Predictor::chances`] answers, running the
/// classifier alone (about half the work of a [`Prediction`], which holds one, computed by the
/// same code).
#[derive(Clone, Debug, PartialEq)]
pub struct Chance {
    /// The calibrated chance that the track's popularity is above the label threshold.
    pub probability: f64,
    /// `probability` reaches the answering model's decision threshold, chosen on VAL for the
    /// best F1: a hit contender ([`Verdict`]).
    pub flagged: bool,
    /// `probability` over the share of popular tracks in training: "16x a typical track's
    /// chance".
    pub lift: f64,
    /// Whether the answer reads the track's genres (false: the model without genres answered).
    pub genres_used: bool,
    /// Which of the file's models answered: its threshold and figures are the ones that
    /// describe this answer ([`super::Predictor::metadata_of`]).
    pub model: Role,
    /// What to treat with care: inputs beyond what the model saw in training, genres it does
    /// not know (`track_genre`), a track of the dataset it was built from
    /// ([`super::TRAINING_TRACK`]).
    pub warnings: Vec<Warning>,
    /// Genres the model does not know: they score as no genre.
    pub unknown_genres: Vec<String>,
}

impl Chance {
    /// What the flag means, in words.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.probability, self.flagged)
    }

    /// The warnings' fields, as the `warnings` column writes them.
    pub fn warning_fields(&self) -> String {
        warning_fields(&self.warnings)
    }
}

/// How an answer column is typed wherever answers are a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerType {
    /// Text (UTF-8).
    Text,
    /// True or false.
    Bool,
    /// A number (64-bit float).
    Number,
}

/// One column of the answers, declared once: its name in tables, its field in the API's JSON,
/// its type, range and meaning. The CSV header, the Arrow schema (and so Parquet, Python and
/// Spark) and the OpenAPI document are written from [`ANSWERS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnswerColumn {
    /// Its name in a table (CSV, Parquet, Arrow, Python, Spark).
    pub name: &'static str,
    /// Its field in the API's JSON answer ([`Prediction`]'s, which predate the tables' names).
    pub json: &'static str,
    /// Its type in a table.
    pub kind: AnswerType,
    /// Its smallest and largest values, for numbers that have them.
    pub range: Option<(f64, f64)>,
    /// What it means, in a sentence or two: every surface's documentation of it.
    pub doc: &'static str,
    /// Whether only the score model gives it (a table of [`Chance`]s leaves it out).
    pub score: bool,
}

const fn column(
    name: &'static str,
    json: &'static str,
    kind: AnswerType,
    range: Option<(f64, f64)>,
    doc: &'static str,
) -> AnswerColumn {
    AnswerColumn {
        name,
        json,
        kind,
        range,
        doc,
        score: false,
    }
}

const fn score(column: AnswerColumn) -> AnswerColumn {
    AnswerColumn {
        score: true,
        ..column
    }
}

/// The columns of a scored table, in order, before any kept input columns.
pub const ANSWERS: [AnswerColumn; 9] = [
    column("track_id", "track_id", AnswerType::Text, None, "the track's id as given; empty for a new song"),
    column("popularity_probability", "probability", AnswerType::Number, Some((0.0, 1.0)),
        "the calibrated chance that the track's popularity is above the label threshold (calibrated on validation tracks)"),
    column("flagged", "flagged", AnswerType::Bool, None,
        "a hit contender: the chance reaches the answering model's decision threshold (chosen on validation tracks for the best F1)"),
    column("lift", "lift", AnswerType::Number, Some((0.0, f64::INFINITY)),
        "the chance over the share of popular tracks in training: how many times a typical track's chance"),
    score(column("predicted_popularity", "popularity", AnswerType::Number, Some((0.0, 100.0)),
        "the predicted 0-100 score: the mean of the track's score distribution, whose chance above the label threshold is the probability (so it is never below (threshold + 1) x the probability)")),
    score(column("popularity_low", "popularity_low", AnswerType::Number, Some((0.0, 100.0)),
        "lower end of the score's range: a quantile of the same distribution (80% coverage by default, certified on validation tracks)")),
    score(column("popularity_high", "popularity_high", AnswerType::Number, Some((0.0, 100.0)),
        "upper end of the score's range: above the label threshold whenever the chance of a popular score exceeds the range's upper tail")),
    column("warnings", "warnings", AnswerType::Text, None,
        "what to treat with care: an input beyond what the model saw in training (its 0.1th-99.9th percentiles: the answer is an extrapolation), genres it does not know (track_genre), a track of the dataset it was built from (training_track: the answer partly recalls its popularity); in a table, the fields separated by `;`, in JSON each with its message"),
    column("model", "model", AnswerType::Text, None,
        "which model answered: main; new-song (a track without track_id: only what a new song has is read); no-genres (no genre the model knows, or genres ignored); from-audio (a song measured from its audio file)"),
];

const fn names<const N: usize>(score: Option<bool>) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < ANSWERS.len() {
        let keep = match score {
            None => true,
            Some(s) => ANSWERS[i].score == s,
        };
        if keep {
            out[n] = ANSWERS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
}

/// The names of [`ANSWERS`]: every surface that writes answers as a table (`hitcast predict`'s
/// CSV and Parquet, the Python package, Spark) uses them. A table of [`Chance`]s has these
/// without [`SCORE_COLUMNS`].
pub const ANSWER_COLUMNS: [&str; 9] = names(None);

/// The columns of [`ANSWER_COLUMNS`] that only the score model gives.
pub const SCORE_COLUMNS: [&str; 3] = names(Some(true));

/// An input column copied into answers after their own columns: one hitcast reads, as the
/// model read it ([`RawRow::field`]), or another the reader carried as written
/// ([`crate::data::ReadOptions::carry`]): a catalogue's own id, say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    /// A column hitcast reads.
    Column(Column),
    /// The `index`-th column of the reader's `carry`, named `name` in the input.
    Carried {
        /// The input's name for it.
        name: String,
        /// Its place in [`RawRow::carried`].
        index: usize,
    },
}

impl Kept {
    /// The kept columns for these names: hitcast's columns by their names, any other name
    /// carried ([`Kept::carry`] lists those for the reader).
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Vec<Kept> {
        let mut carried = 0;
        names
            .iter()
            .map(|name| {
                let name = name.as_ref().trim();
                Column::from_name(name).map_or_else(
                    || {
                        carried += 1;
                        Kept::Carried {
                            name: name.to_owned(),
                            index: carried - 1,
                        }
                    },
                    Kept::Column,
                )
            })
            .collect()
    }

    /// The names the reader must carry for `keep`, in [`RawRow::carried`]'s order.
    pub fn carry(keep: &[Kept]) -> Vec<String> {
        keep.iter()
            .filter_map(|k| match k {
                Kept::Carried { name, .. } => Some(name.clone()),
                Kept::Column(_) => None,
            })
            .collect()
    }

    /// The answers' column name.
    pub fn name(&self) -> &str {
        match self {
            Kept::Column(column) => column.name(),
            Kept::Carried { name, .. } => name,
        }
    }

    /// `row`'s value, as text.
    pub fn value(&self, row: &RawRow) -> String {
        match self {
            Kept::Column(column) => row.field(*column),
            Kept::Carried { index, .. } => row.carried.get(*index).cloned().unwrap_or_default(),
        }
    }
}

/// Why input columns cannot be copied into answers as asked: `track_id` is already the
/// answers' first column, and a column named twice, or named as an answer column is, would
/// name two output columns alike (which pyarrow and polars refuse to read). Every surface with
/// a `keep` asks this.
pub fn check_keep(keep: &[Kept]) -> Result<(), String> {
    for (i, k) in keep.iter().enumerate() {
        if *k == Kept::Column(Column::TrackId) {
            return Err("track_id is already the answers' first column".to_owned());
        }
        if k.name().is_empty() {
            return Err("a column name is empty".to_owned());
        }
        if ANSWER_COLUMNS.contains(&k.name()) {
            return Err(format!("{} is one of the answers' own columns", k.name()));
        }
        if keep[..i].iter().any(|other| other.name() == k.name()) {
            return Err(format!("{} is named twice", k.name()));
        }
    }
    Ok(())
}

/// The header of [`answer_record`]s: [`ANSWER_COLUMNS`] (without [`SCORE_COLUMNS`] unless
/// `score`), then the kept input columns.
pub fn answer_header(score: bool, keep: &[Kept]) -> Vec<&str> {
    ANSWER_COLUMNS
        .into_iter()
        .filter(|name| score || !SCORE_COLUMNS.contains(name))
        .chain(keep.iter().map(Kept::name))
        .collect()
}

/// One answer as a CSV record, as `hitcast predict` and the app's file scoring write it: the
/// chance's columns at their printed precision, the score's when `prediction` is given, then
/// `row`'s kept input columns.
pub fn answer_record(
    row: &RawRow,
    chance: &Chance,
    prediction: Option<&Prediction>,
    keep: &[Kept],
) -> Vec<String> {
    let mut fields = vec![
        row.track_id.clone(),
        format!("{:.6}", chance.probability),
        (if chance.flagged { "1" } else { "0" }).to_owned(),
        format!("{:.2}", chance.lift),
    ];
    if let Some(p) = prediction {
        fields
            .extend([p.popularity, p.popularity_low, p.popularity_high].map(|v| format!("{v:.2}")));
    }
    fields.push(chance.warning_fields());
    fields.push(chance.model.name().to_owned());
    fields.extend(keep.iter().map(|k| k.value(row)));
    fields
}

fn warning_fields(warnings: &[Warning]) -> String {
    let fields: Vec<&str> = warnings.iter().map(|w| w.field.as_str()).collect();
    fields.join(";")
}

/// Flat: the chance, the score and its range, then which model answered, with what and what it
/// warns of.
impl Serialize for Prediction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        // Every field by name, so a new one cannot be left out unnoticed.
        let Chance {
            probability,
            flagged,
            lift,
            genres_used,
            model,
            warnings,
            unknown_genres,
        } = &self.chance;
        let mut out = s.serialize_struct("Prediction", 10)?;
        out.serialize_field("probability", probability)?;
        out.serialize_field("flagged", flagged)?;
        out.serialize_field("lift", lift)?;
        out.serialize_field("popularity", &self.popularity)?;
        out.serialize_field("popularity_low", &self.popularity_low)?;
        out.serialize_field("popularity_high", &self.popularity_high)?;
        out.serialize_field("genres_used", genres_used)?;
        out.serialize_field("model", model)?;
        out.serialize_field("warnings", warnings)?;
        out.serialize_field("unknown_genres", unknown_genres)?;
        out.end()
    }
}

impl Prediction {
    /// The answer from its chance, the score and the score's range.
    pub(super) fn new(chance: Chance, popularity: f64, range: Range) -> Prediction {
        Prediction {
            chance,
            popularity,
            popularity_low: range.low,
            popularity_high: range.high,
        }
    }

    /// The score's range.
    pub fn range(&self) -> Range {
        Range {
            low: self.popularity_low,
            high: self.popularity_high,
        }
    }
}

/// Genres the model does not know, each with the number of answers that met it: what a
/// surface scoring many tracks says once, after them (`hitcast predict`'s log line, the Python
/// package's warning), where each answer's own warning says it track by track.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnknownGenres(BTreeMap<String, u64>);

impl UnknownGenres {
    /// Counts an answer's unknown genres.
    pub fn count(&mut self, chance: &Chance) {
        for genre in &chance.unknown_genres {
            // Counted without copying the name once it is known.
            match self.0.get_mut(genre) {
                Some(n) => *n += 1,
                None => {
                    self.0.insert(genre.clone(), 1);
                }
            }
        }
    }

    /// Adds another tally's counts (a chunk answered on another thread).
    pub fn merge(&mut self, other: UnknownGenres) {
        for (genre, n) in other.0 {
            *self.0.entry(genre).or_default() += n;
        }
    }

    /// One line naming each unknown genre with its count of tracks, in byte order; none when
    /// every genre was known.
    pub fn notice(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            let named: Vec<String> = self.0.iter().map(|(g, n)| format!("{g} ({n})")).collect();
            format!(
                "genres the model does not know (not read): {}",
                named.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_genres_are_counted_by_answer_and_named_once() {
        let chance = |genres: &[&str]| Chance {
            probability: 0.1,
            flagged: false,
            lift: 1.0,
            genres_used: true,
            model: Role::Main,
            warnings: Vec::new(),
            unknown_genres: genres.iter().map(|g| (*g).to_owned()).collect(),
        };
        let mut tally = UnknownGenres::default();
        assert_eq!(tally.notice(), None);
        tally.count(&chance(&["vaporwave", "bossa"]));
        tally.count(&chance(&[]));
        let mut other = UnknownGenres::default();
        other.count(&chance(&["vaporwave"]));
        tally.merge(other);
        assert_eq!(
            tally.notice().as_deref(),
            Some("genres the model does not know (not read): bossa (1), vaporwave (2)")
        );
    }

    #[test]
    fn the_column_lists_are_read_from_the_declaration() {
        assert_eq!(
            ANSWER_COLUMNS,
            [
                "track_id",
                "popularity_probability",
                "flagged",
                "lift",
                "predicted_popularity",
                "popularity_low",
                "popularity_high",
                "warnings",
                "model"
            ]
        );
        assert_eq!(
            SCORE_COLUMNS,
            ["predicted_popularity", "popularity_low", "popularity_high"]
        );
        assert!(ANSWERS
            .iter()
            .all(|c| !c.doc.is_empty() && !c.json.is_empty()));
        assert_eq!(answer_header(false, &[]).len(), 6);
    }
}

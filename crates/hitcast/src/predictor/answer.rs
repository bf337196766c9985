//! The answer a track gets, and its columns: the calibrated chance, the flag and its words, the
//! lift, the score and its range, which model answered, and warnings; as a struct for the API
//! and Python, and as the columns every table of answers (CSV, Parquet, Arrow) writes.

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

/// One track's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The calibrated chance that the track's popularity is above the label threshold.
    pub probability: f64,
    /// `probability` reaches the answering model's decision threshold, chosen on VAL for the
    /// best F1: a hit contender ([`Verdict`]).
    pub flagged: bool,
    /// `probability` over the share of popular tracks in training: "16x a typical track's
    /// chance".
    pub lift: f64,
    /// The predicted 0-100 score: the mean of the track's score distribution, whose chance of
    /// a score above the label threshold is `probability`.
    pub popularity: f64,
    /// Lower end of the score's range (a quantile of the same distribution, at the model's
    /// coverage).
    pub popularity_low: f64,
    /// Upper end of the score's range.
    pub popularity_high: f64,
    /// Whether the answer reads the track's genres (false: the model without genres answered).
    pub genres_used: bool,
    /// Which of the file's models answered: its threshold and figures are the ones that
    /// describe this answer ([`Predictor::metadata_of`]).
    pub model: Role,
    /// Inputs beyond what the model saw in training.
    pub warnings: Vec<Warning>,
    /// Genres the model does not know: they score as no genre.
    pub unknown_genres: Vec<String>,
}

/// One track's chance of being popular, without the 0-100 score and its range: what
/// [`Predictor::chances`] answers, running the classifier alone (about half the work of a
/// [`Prediction`], whose first fields these are, computed by the same code).
#[derive(Clone, Debug, PartialEq)]
pub struct Chance {
    /// As [`Prediction::probability`].
    pub probability: f64,
    /// As [`Prediction::flagged`].
    pub flagged: bool,
    /// As [`Prediction::lift`].
    pub lift: f64,
    /// As [`Prediction::genres_used`].
    pub genres_used: bool,
    /// As [`Prediction::model`].
    pub model: Role,
    /// As [`Prediction::warnings`].
    pub warnings: Vec<Warning>,
    /// As [`Prediction::unknown_genres`].
    pub unknown_genres: Vec<String>,
}

impl Chance {
    /// What the flag means, in words.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.probability, self.flagged)
    }

    /// The inputs beyond what the model saw, as the `warnings` column writes them.
    pub fn warning_fields(&self) -> String {
        warning_fields(&self.warnings)
    }
}

/// The columns of a scored table, in order, before any kept input columns: every surface that
/// writes answers as a table (`hitcast predict`'s CSV and Parquet, the Python package, Spark)
/// uses these names. `warnings` lists the inputs beyond what the model saw, `;`-separated;
/// `model` names the model that answered ([`Role::name`]).
/// A table of [`Chance`]s has these without the three score columns ([`SCORE_COLUMNS`]).
pub const ANSWER_COLUMNS: [&str; 9] = [
    "track_id",
    "popularity_probability",
    "flagged",
    "lift",
    "predicted_popularity",
    "popularity_low",
    "popularity_high",
    "warnings",
    "model",
];

/// The columns of [`ANSWER_COLUMNS`] that a table of [`Chance`]s leaves out.
pub const SCORE_COLUMNS: [&str; 3] = ["predicted_popularity", "popularity_low", "popularity_high"];

/// The header of [`answer_record`]s: [`ANSWER_COLUMNS`] (without [`SCORE_COLUMNS`] unless
/// `score`), then the kept input columns.
pub fn answer_header(score: bool, keep: &[Column]) -> Vec<&'static str> {
    ANSWER_COLUMNS
        .into_iter()
        .filter(|name| score || !SCORE_COLUMNS.contains(name))
        .chain(keep.iter().map(|c| c.name()))
        .collect()
}

/// One answer as a CSV record, as `hitcast predict` and the app's file scoring write it: the
/// chance's columns at their printed precision, the score's when `prediction` is given, then
/// `row`'s kept input columns.
pub fn answer_record(
    row: &RawRow,
    chance: &Chance,
    prediction: Option<&Prediction>,
    keep: &[Column],
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
    fields.extend(keep.iter().map(|&column| row.field(column)));
    fields
}

fn warning_fields(warnings: &[Warning]) -> String {
    let fields: Vec<&str> = warnings.iter().map(|w| w.field.as_str()).collect();
    fields.join(";")
}

impl Prediction {
    /// The answer from its chance, the score and the score's range.
    pub(super) fn new(chance: Chance, popularity: f64, range: Range) -> Prediction {
        let Chance {
            probability,
            flagged,
            lift,
            genres_used,
            model,
            warnings,
            unknown_genres,
        } = chance;
        Prediction {
            probability,
            flagged,
            lift,
            popularity,
            popularity_low: range.low,
            popularity_high: range.high,
            genres_used,
            model,
            warnings,
            unknown_genres,
        }
    }

    /// The inputs beyond what the model saw, as the `warnings` column writes them.
    pub fn warning_fields(&self) -> String {
        warning_fields(&self.warnings)
    }

    /// What the flag means, in words.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.probability, self.flagged)
    }

    /// The answer's chance: its fields without the score.
    pub fn chance(&self) -> Chance {
        Chance {
            probability: self.probability,
            flagged: self.flagged,
            lift: self.lift,
            genres_used: self.genres_used,
            model: self.model,
            warnings: self.warnings.clone(),
            unknown_genres: self.unknown_genres.clone(),
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

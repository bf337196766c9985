//! Answers as Arrow record batches: one row per track, the columns of [`ANSWERS`] and then
//! any kept input columns, typed (numbers as Float64, the flag as Boolean, codes as Int64).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
    UInt8Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use hitcast::data::{Column, RawRow, Rule};
use hitcast::explain::Explanation;
use hitcast::predictor::{AnswerColumn, AnswerType, Chance, Kept, Prediction, ANSWERS};

/// The schema of [`answers_batch`] for these kept columns: [`ANSWERS`], each field typed as
/// declared and carrying its meaning as the metadata `description`, then the kept columns.
pub fn answers_schema(keep: &[Kept]) -> SchemaRef {
    schema(ANSWERS.iter(), keep)
}

/// The schema of [`chances_batch`] for these kept columns: [`answers_schema`]'s without the
/// score columns.
pub fn chances_schema(keep: &[Kept]) -> SchemaRef {
    schema(ANSWERS.iter().filter(|c| !c.score), keep)
}

fn schema<'a>(answers: impl Iterator<Item = &'a AnswerColumn>, keep: &[Kept]) -> SchemaRef {
    let mut fields: Vec<Field> = answers
        .map(|c| {
            let data_type = match c.kind {
                AnswerType::Text => DataType::Utf8,
                AnswerType::Bool => DataType::Boolean,
                AnswerType::Number => DataType::Float64,
            };
            let description = HashMap::from([("description".to_owned(), c.doc.to_owned())]);
            Field::new(c.name, data_type, false).with_metadata(description)
        })
        .collect();
    fields.extend(keep.iter().map(kept_field));
    Arc::new(Schema::new(fields))
}

/// A kept input column's field: text as text, popularity as a nullable byte, `explicit` as a
/// boolean, the coded inputs (key, mode, time_signature) as whole numbers, other audio inputs
/// as numbers, null for a learned column a song measured from audio lacks; a column hitcast
/// does not read as the text it was carried as.
fn kept_field(kept: &Kept) -> Field {
    let column = match kept {
        Kept::Column(column) => *column,
        Kept::Carried { name, .. } => return Field::new(name, DataType::Utf8, false),
    };
    let name = column.name();
    match (column, column.audio_index(), column.rule()) {
        (Column::Popularity, ..) => Field::new(name, DataType::UInt8, true),
        (Column::Explicit, ..) => Field::new(name, DataType::Boolean, false),
        (_, Some(_), Rule::Integer { .. }) => Field::new(name, DataType::Int64, false),
        (_, Some(_), _) => Field::new(name, DataType::Float64, column.is_learned()),
        (_, None, _) => Field::new(name, DataType::Utf8, false),
    }
}

/// What a table's answer columns read from one track's answer, with or without the score.
trait Answer: Sized {
    /// The chance part of the answer.
    fn chance_of(&self) -> &Chance;
    /// The columns between the lift and the warnings: [`hitcast::predictor::SCORE_COLUMNS`], or none.
    fn score_columns(answers: &[Self]) -> Vec<ArrayRef>;
}

fn numbers<A>(answers: &[A], f: impl Fn(&A) -> f64) -> ArrayRef {
    Arc::new(answers.iter().map(f).collect::<Float64Array>())
}

impl Answer for Prediction {
    fn chance_of(&self) -> &Chance {
        &self.chance
    }
    fn score_columns(answers: &[Self]) -> Vec<ArrayRef> {
        vec![
            numbers(answers, |a| a.popularity),
            numbers(answers, |a| a.popularity_low),
            numbers(answers, |a| a.popularity_high),
        ]
    }
}

impl Answer for Chance {
    fn chance_of(&self) -> &Chance {
        self
    }
    fn score_columns(_: &[Self]) -> Vec<ArrayRef> {
        Vec::new()
    }
}

/// The answers for `rows` (as [`hitcast::predictor::Predictor::score_rows`] gives them, in
/// order), with the `keep` columns of each row after them.
pub fn answers_batch(
    rows: &[RawRow],
    answers: &[Prediction],
    keep: &[Kept],
) -> Result<RecordBatch, ArrowError> {
    batch(rows, answers, keep, answers_schema(keep))
}

/// The chances for `rows` (as [`hitcast::predictor::Predictor::chances_rows`] gives them, in
/// order), with the `keep` columns of each row after them.
pub fn chances_batch(
    rows: &[RawRow],
    chances: &[Chance],
    keep: &[Kept],
) -> Result<RecordBatch, ArrowError> {
    batch(rows, chances, keep, chances_schema(keep))
}

fn batch<A: Answer>(
    rows: &[RawRow],
    answers: &[A],
    keep: &[Kept],
    schema: SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    if rows.len() != answers.len() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "{} rows but {} answers",
            rows.len(),
            answers.len()
        )));
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.track_id),
        )),
        numbers(answers, |a| a.chance_of().probability),
        Arc::new(BooleanArray::from(
            answers
                .iter()
                .map(|a| a.chance_of().flagged)
                .collect::<Vec<_>>(),
        )),
        numbers(answers, |a| a.chance_of().lift),
    ];
    columns.extend(A::score_columns(answers));
    columns.push(Arc::new(StringArray::from_iter_values(
        answers.iter().map(|a| a.chance_of().warning_fields()),
    )));
    columns.push(Arc::new(StringArray::from_iter_values(
        answers.iter().map(|a| a.chance_of().model.name()),
    )));
    columns.extend(keep.iter().map(|k| kept_column(rows, k)));
    RecordBatch::try_new(schema, columns)
}

fn kept_column(rows: &[RawRow], kept: &Kept) -> ArrayRef {
    let column = match kept {
        Kept::Column(column) => *column,
        Kept::Carried { .. } => {
            return Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| kept.value(r)),
            ))
        }
    };
    match (column, column.audio_index(), column.rule()) {
        (Column::Popularity, ..) => {
            Arc::new(rows.iter().map(|r| r.popularity).collect::<UInt8Array>())
        }
        (Column::Explicit, Some(i), _) => Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.audio[i] == 1.0).collect::<Vec<_>>(),
        )),
        // Validation let only whole numbers through.
        (_, Some(i), Rule::Integer { .. }) => Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.audio[i] as i64),
        )),
        (_, Some(i), _) => Arc::new(
            rows.iter()
                .map(|r| Some(r.audio[i]).filter(|v| !v.is_nan()))
                .collect::<Float64Array>(),
        ),
        (_, None, _) => Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.field(column)),
        )),
    }
}

/// The schema of [`explanations_batch`].
pub fn explanations_schema() -> SchemaRef {
    let f = |name, data_type| Field::new(name, data_type, false);
    Arc::new(Schema::new(vec![
        f("track_id", DataType::Utf8),
        f("popularity_probability", DataType::Float64),
        f("base_log_odds", DataType::Float64),
        f("log_odds", DataType::Float64),
        f("direction", DataType::Utf8),
        f("rank", DataType::UInt32),
        f("feature", DataType::Utf8),
        // The input's value as a number (null for the genres and an input not measured), then
        // as `hitcast explain` prints it, then the value the model read in its place where that
        // differs (a fence under the capped setup, a median for an input not measured).
        Field::new("value", DataType::Float64, true),
        f("value_text", DataType::Utf8),
        Field::new("read_as", DataType::Float64, true),
        f("contribution", DataType::Float64),
    ]))
}

/// Why each track gets its probability, one row per track and feature shown: the `top` largest
/// contributions that raise it (`direction` "up", ranked from 1) and the `top` that lower it
/// ("down"), in calibrated log-odds from the model's baseline (`base_log_odds`), as `hitcast
/// explain` prints them; with, for each of its rows, the index in `rows` of the track it
/// explains (a frame's caller lines them up with its own rows).
pub fn explanations_batch(
    rows: &[RawRow],
    explained: &[(Prediction, Explanation)],
    top: usize,
) -> Result<(RecordBatch, Vec<usize>), ArrowError> {
    let mut sources = Vec::new();
    let mut track_id = Vec::new();
    let mut probability = Vec::new();
    let mut base = Vec::new();
    let mut log_odds = Vec::new();
    let mut direction = Vec::new();
    let mut rank = Vec::new();
    let mut feature = Vec::new();
    let mut value = Vec::new();
    let mut value_text = Vec::new();
    let mut read_as = Vec::new();
    let mut contribution = Vec::new();
    for (i, (row, (answer, x))) in rows.iter().zip(explained).enumerate() {
        let up = x.top_up(top).map(|c| ("up", c));
        let down = x.top_down(top).map(|c| ("down", c));
        let mut ranks = [0u32; 2];
        for (dir, c) in up.chain(down) {
            let r = &mut ranks[usize::from(dir == "down")];
            *r += 1;
            sources.push(i);
            track_id.push(row.track_id.as_str());
            probability.push(answer.chance.probability);
            base.push(x.base);
            log_odds.push(x.log_odds);
            direction.push(dir);
            rank.push(*r);
            feature.push(c.feature.as_str());
            value.push(c.number);
            value_text.push(c.value.as_str());
            read_as.push(c.read_as);
            contribution.push(c.contribution);
        }
    }
    RecordBatch::try_new(
        explanations_schema(),
        vec![
            Arc::new(StringArray::from(track_id)),
            Arc::new(Float64Array::from(probability)),
            Arc::new(Float64Array::from(base)),
            Arc::new(Float64Array::from(log_odds)),
            Arc::new(StringArray::from(direction)),
            Arc::new(UInt32Array::from(rank)),
            Arc::new(StringArray::from(feature)),
            Arc::new(Float64Array::from(value)),
            Arc::new(StringArray::from(value_text)),
            Arc::new(Float64Array::from(read_as)),
            Arc::new(Float64Array::from(contribution)),
        ],
    )
    .map(|batch| (batch, sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_carry_the_declared_types_and_meanings() {
        let keep = Kept::parse(&["track_name", "isrc"]);
        let schema = answers_schema(&keep);
        assert_eq!(schema.fields().len(), ANSWERS.len() + 2);
        for (field, column) in schema.fields().iter().zip(&ANSWERS) {
            assert_eq!(field.name(), column.name);
            assert_eq!(field.metadata()["description"], column.doc);
        }
        assert_eq!(schema.field(2).data_type(), &DataType::Boolean);
        assert_eq!(schema.field(9).name(), "track_name");
        assert_eq!(schema.field(10).name(), "isrc");
        assert_eq!(schema.field(10).data_type(), &DataType::Utf8);
        let chances = chances_schema(&[]);
        let names: Vec<&str> = chances.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "track_id",
                "popularity_probability",
                "flagged",
                "lift",
                "warnings",
                "model"
            ]
        );
    }

    /// Codes are whole numbers, and a song measured from audio has no learned value: null,
    /// not NaN, where its kept columns are read.
    #[test]
    fn kept_columns_are_typed_by_their_rule() {
        let mut row = RawRow {
            line: 1,
            track_id: String::new(),
            artists: String::new(),
            album_name: String::new(),
            track_name: "song".into(),
            carried: vec!["GBUM71029604".into()],
            popularity: None,
            audio: [f64::NAN; hitcast::data::N_AUDIO],
            genres: Vec::new(),
        };
        let at = |c: Column| c.audio_index().unwrap_or(usize::MAX);
        row.audio[at(Column::Key)] = 7.0;
        row.audio[at(Column::Tempo)] = 121.5;
        let keep = Kept::parse(&["key", "tempo", "danceability", "isrc"]);
        let schema = answers_schema(&keep);
        let kept: Vec<_> = keep
            .iter()
            .map(|k| kept_column(&[row.clone()], k))
            .collect();
        let first = ANSWERS.len();
        assert_eq!(schema.field(first).data_type(), &DataType::Int64);
        assert_eq!(schema.field(first + 1).data_type(), &DataType::Float64);
        assert!(schema.field(first + 2).is_nullable());
        for (i, array) in kept.iter().enumerate() {
            assert_eq!(array.data_type(), schema.field(first + i).data_type());
        }
        let key = kept[0]
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| a.value(0));
        assert_eq!(key, Some(7));
        assert_eq!(kept[1].null_count(), 0);
        assert_eq!(kept[2].null_count(), 1);
        let isrc = kept[3]
            .as_any()
            .downcast_ref::<StringArray>()
            .map(|a| a.value(0).to_owned());
        assert_eq!(isrc.as_deref(), Some("GBUM71029604"));
    }
}

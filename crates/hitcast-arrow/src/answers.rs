//! Answers as Arrow record batches: one row per track, the columns of [`ANSWER_COLUMNS`] and then
//! any kept input columns, typed (numbers as Float64, the flag as Boolean).

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt8Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use hitcast::data::{Column, RawRow};
use hitcast::explain::Explanation;
use hitcast::predictor::{Prediction, ANSWER_COLUMNS};

/// The schema of [`answers_batch`] for these kept columns.
pub fn answers_schema(keep: &[Column]) -> SchemaRef {
    let mut fields: Vec<Field> = ANSWER_COLUMNS
        .iter()
        .map(|&name| {
            let data_type = match name {
                "track_id" | "warnings" => DataType::Utf8,
                "flagged" => DataType::Boolean,
                _ => DataType::Float64,
            };
            Field::new(name, data_type, false)
        })
        .collect();
    fields.extend(keep.iter().map(|&c| kept_field(c)));
    Arc::new(Schema::new(fields))
}

/// A kept input column's field: text as text, popularity as a nullable byte, `explicit` as a
/// boolean, other audio inputs as numbers.
fn kept_field(column: Column) -> Field {
    match (column, column.audio_index()) {
        (Column::Popularity, _) => Field::new(column.name(), DataType::UInt8, true),
        (Column::Explicit, _) => Field::new(column.name(), DataType::Boolean, false),
        (_, Some(_)) => Field::new(column.name(), DataType::Float64, false),
        (_, None) => Field::new(column.name(), DataType::Utf8, false),
    }
}

/// The answers for `rows` (as [`hitcast::predictor::Predictor::score_rows`] gives them, in
/// order), with the `keep` columns of each row after them.
pub fn answers_batch(
    rows: &[RawRow],
    answers: &[Prediction],
    keep: &[Column],
) -> Result<RecordBatch, ArrowError> {
    if rows.len() != answers.len() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "{} rows but {} answers",
            rows.len(),
            answers.len()
        )));
    }
    let number = |f: fn(&Prediction) -> f64| -> ArrayRef {
        Arc::new(answers.iter().map(f).collect::<Float64Array>())
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.track_id),
        )),
        number(|a| a.probability),
        Arc::new(BooleanArray::from(
            answers.iter().map(|a| a.flagged).collect::<Vec<_>>(),
        )),
        number(|a| a.lift),
        number(|a| a.popularity),
        number(|a| a.popularity_low),
        number(|a| a.popularity_high),
        Arc::new(StringArray::from_iter_values(
            answers.iter().map(Prediction::warning_fields),
        )),
    ];
    columns.extend(keep.iter().map(|&c| kept_column(rows, c)));
    RecordBatch::try_new(answers_schema(keep), columns)
}

fn kept_column(rows: &[RawRow], column: Column) -> ArrayRef {
    match (column, column.audio_index()) {
        (Column::Popularity, _) => {
            Arc::new(rows.iter().map(|r| r.popularity).collect::<UInt8Array>())
        }
        (Column::Explicit, Some(i)) => Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.audio[i] == 1.0).collect::<Vec<_>>(),
        )),
        (_, Some(i)) => Arc::new(rows.iter().map(|r| r.audio[i]).collect::<Float64Array>()),
        (_, None) => Arc::new(StringArray::from_iter_values(
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
        // The input's value as a number (null for the genres), then as `hitcast explain` prints it.
        Field::new("value", DataType::Float64, true),
        f("value_text", DataType::Utf8),
        f("contribution", DataType::Float64),
    ]))
}

/// Why each track gets its probability, one row per track and feature shown: the `top` largest
/// contributions that raise it (`direction` "up", ranked from 1) and the `top` that lower it
/// ("down"), in calibrated log-odds from a typical track's (`base_log_odds`), as `hitcast
/// explain` prints them.
pub fn explanations_batch(
    rows: &[RawRow],
    explained: &[(Prediction, Explanation)],
    top: usize,
) -> Result<RecordBatch, ArrowError> {
    let mut track_id = Vec::new();
    let mut probability = Vec::new();
    let mut base = Vec::new();
    let mut log_odds = Vec::new();
    let mut direction = Vec::new();
    let mut rank = Vec::new();
    let mut feature = Vec::new();
    let mut value = Vec::new();
    let mut value_text = Vec::new();
    let mut contribution = Vec::new();
    for (row, (answer, x)) in rows.iter().zip(explained) {
        let up = x.top_up(top).map(|c| ("up", c));
        let down = x.top_down(top).map(|c| ("down", c));
        let mut ranks = [0u32; 2];
        for (dir, c) in up.chain(down) {
            let r = &mut ranks[usize::from(dir == "down")];
            *r += 1;
            track_id.push(row.track_id.as_str());
            probability.push(answer.probability);
            base.push(x.base);
            log_odds.push(x.log_odds);
            direction.push(dir);
            rank.push(*r);
            feature.push(c.feature.as_str());
            value.push(c.number);
            value_text.push(c.value.as_str());
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
            Arc::new(Float64Array::from(contribution)),
        ],
    )
}

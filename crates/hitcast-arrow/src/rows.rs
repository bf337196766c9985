//! Tracks from Arrow record batches: the same columns, renames, defaults and checks as the CSV
//! reader ([`ColumnPlan`]), with typed cells instead of text.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Schema};
use hitcast::data::{
    CellValue, Column, ColumnPlan, DataError, DefaultUsed, Header, RawRow, ReadOptions, RowSource,
};

/// Reads validated [`RawRow`]s from the batches of one Arrow stream (a Parquet file, a data
/// frame). Rows are numbered from 1 across batches, for error messages.
#[derive(Debug)]
pub struct ArrowRows {
    path: PathBuf,
    plan: ColumnPlan,
    rows_read: u64,
    missing: [u64; Column::ALL.len()],
}

/// A batch's rows, each validated or the error naming its bad cell.
type Rows = Vec<Result<RawRow, DataError>>;

/// One column of a batch, cast once to the form its cells are read from.
enum Values {
    Text(StringArray),
    Number(Float64Array),
    Null,
}

impl Values {
    fn cell(&self, row: usize) -> CellValue<'_> {
        match self {
            // A NaN is passed on: the core reads it as a missing value, as the text "NaN" in a
            // CSV (pandas turns it into a null, polars and pyarrow keep it).
            Values::Text(a) if a.is_valid(row) => CellValue::Text(a.value(row)),
            Values::Number(a) if a.is_valid(row) => CellValue::Number(a.value(row)),
            _ => CellValue::Null,
        }
    }
}

impl ArrowRows {
    /// Matches the schema's column names as a CSV header is matched; `path` names the table in
    /// messages (a file, or a name such as `<DataFrame>`).
    pub fn new(
        schema: &Schema,
        options: &ReadOptions,
        path: &Path,
    ) -> Result<ArrowRows, DataError> {
        let names = schema.fields().iter().map(|f| f.name().trim().to_owned());
        let plan = ColumnPlan::new(names, options, path, Header::Schema)?;
        for (field, column) in plan.columns() {
            let found = schema.field(field).data_type();
            if kind(found).is_none() {
                return Err(DataError::ColumnType {
                    path: path.to_owned(),
                    column: column.name().to_owned(),
                    found: found.to_string(),
                    expected: "numbers, booleans or text",
                });
            }
        }
        Ok(ArrowRows {
            path: path.to_owned(),
            plan,
            rows_read: 0,
            missing: [0; Column::ALL.len()],
        })
    }

    /// The rows of one batch, each validated: a bad cell is an `Err` naming its row (counted
    /// from the stream's first batch) and column, so the caller can fail or skip it. The batch
    /// must have the schema given to [`ArrowRows::new`]. Empty cells are counted for
    /// [`ArrowRows::missing`].
    pub fn read(&mut self, batch: &RecordBatch) -> Result<Rows, DataError> {
        let (rows, missing) = self.convert(batch, self.rows_read)?;
        self.rows_read += batch.num_rows() as u64;
        for (count, m) in self.missing.iter_mut().zip(missing) {
            *count += m;
        }
        Ok(rows)
    }

    /// As [`ArrowRows::read`], for a batch that follows `before` rows of the stream (a slice
    /// of a larger one, say), without counting empty cells: slices read this way may be read
    /// on several threads at once, in any order.
    pub fn read_at(&self, batch: &RecordBatch, before: u64) -> Result<Rows, DataError> {
        Ok(self.convert(batch, before)?.0)
    }

    /// The rows of `batch`, numbered from `before + 1`, and the empty cells per column over
    /// the rows accepted.
    fn convert(
        &self,
        batch: &RecordBatch,
        before: u64,
    ) -> Result<(Rows, [u64; Column::ALL.len()]), DataError> {
        let mut columns: Vec<Option<Values>> = (0..batch.num_columns()).map(|_| None).collect();
        for (field, column) in self.plan.columns() {
            let array = batch
                .columns()
                .get(field)
                .ok_or_else(|| DataError::ColumnType {
                    path: self.path.clone(),
                    column: column.name().to_owned(),
                    found: "nothing (the batch has fewer columns than its schema)".to_owned(),
                    expected: "numbers, booleans or text",
                })?;
            columns[field] = Some(self.values(array, column)?);
        }
        // Columns kept for the answers, as text whatever their type (a date, an id as a
        // number).
        for &field in self.plan.carried() {
            let name = self.plan.name(field);
            let text = batch
                .columns()
                .get(field)
                .and_then(|array| arrow_cast::cast(array, &DataType::Utf8).ok())
                .ok_or_else(|| DataError::ColumnType {
                    path: self.path.clone(),
                    column: name.to_owned(),
                    found: batch
                        .columns()
                        .get(field)
                        .map_or("nothing".to_owned(), |a| a.data_type().to_string()),
                    expected: "values that read as text, to keep",
                })?;
            columns[field] = Some(Values::Text(text.as_string::<i32>().clone()));
        }
        let mut missing = [0u64; Column::ALL.len()];
        let mut rows = Vec::with_capacity(batch.num_rows());
        for (i, line) in (before + 1..).take(batch.num_rows()).enumerate() {
            let mut row = self.plan.empty_row(line);
            let filled = self.plan.fill(&mut row, |field| {
                columns[field]
                    .as_ref()
                    .map_or(CellValue::Null, |v| v.cell(i))
            });
            rows.push(match filled {
                Ok(empty) => {
                    for (count, was_empty) in missing.iter_mut().zip(empty) {
                        *count += u64::from(was_empty);
                    }
                    Ok(row)
                }
                Err((_, column, problem)) => Err(DataError::Cell {
                    path: self.path.clone(),
                    row: line,
                    column: column.name().to_owned(),
                    problem,
                }),
            });
        }
        Ok((rows, missing))
    }

    fn values(&self, array: &ArrayRef, column: Column) -> Result<Values, DataError> {
        let wrong = |found: &DataType| DataError::ColumnType {
            path: self.path.clone(),
            column: column.name().to_owned(),
            found: found.to_string(),
            expected: "numbers, booleans or text",
        };
        let cast =
            |to: &DataType| arrow_cast::cast(array, to).map_err(|_| wrong(array.data_type()));
        Ok(
            match kind(array.data_type()).ok_or_else(|| wrong(array.data_type()))? {
                Kind::Null => Values::Null,
                Kind::Number => Values::Number(
                    cast(&DataType::Float64)?
                        .as_primitive::<Float64Type>()
                        .clone(),
                ),
                Kind::Text => Values::Text(cast(&DataType::Utf8)?.as_string::<i32>().clone()),
            },
        )
    }

    /// The table being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Absent columns and the defaults used for them.
    pub fn defaults(&self) -> &[DefaultUsed] {
        self.plan.defaults()
    }

    /// Whether the table has a popularity column.
    pub fn has_popularity(&self) -> bool {
        self.plan.has(Column::Popularity)
    }

    /// Whether the table has `column` (after the column map).
    pub fn has(&self, column: Column) -> bool {
        self.plan.has(column)
    }

    /// Empty cells so far per column present, over the rows accepted.
    pub fn missing(&self) -> BTreeMap<&'static str, u64> {
        self.plan.missing_counts(&self.missing)
    }
}

/// How a column's cells are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Number,
    Text,
}

/// The kinds of Arrow column hitcast reads: numbers (booleans as 0 and 1), text in any of
/// Arrow's string layouts (dictionary-encoded included, as pandas categories arrive), and
/// all-null columns. Nested, binary and temporal columns are refused.
fn kind(data_type: &DataType) -> Option<Kind> {
    match data_type {
        DataType::Null => Some(Kind::Null),
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Some(Kind::Number),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(Kind::Text),
        DataType::Dictionary(_, values) => kind(values),
        _ => None,
    }
}

/// The rows of a stream of record batches (a Parquet file's, or a table read by pyarrow), as a
/// [`RowSource`]: validated as a CSV's are, one batch at a time.
pub struct BatchRows<B> {
    batches: B,
    /// The stream's format, for a batch that does not decode ("Parquet").
    what: &'static str,
    rows: ArrowRows,
    pending: VecDeque<Result<RawRow, DataError>>,
    done: bool,
}

impl<B, E> BatchRows<B>
where
    B: Iterator<Item = Result<RecordBatch, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    /// Rows of `batches`, whose columns `schema` gives (matched as a CSV header is); `path` and
    /// `what` name the table in messages.
    pub fn new(
        schema: &Schema,
        batches: B,
        options: &ReadOptions,
        path: &Path,
        what: &'static str,
    ) -> Result<BatchRows<B>, DataError> {
        Ok(BatchRows {
            batches,
            what,
            rows: ArrowRows::new(schema, options, path)?,
            pending: VecDeque::new(),
            done: false,
        })
    }
}

impl<B, E> Iterator for BatchRows<B>
where
    B: Iterator<Item = Result<RecordBatch, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Item = Result<RawRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.done {
            match self.batches.next() {
                None => self.done = true,
                Some(Ok(batch)) => match self.rows.read(&batch) {
                    Ok(rows) => self.pending.extend(rows),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                Some(Err(e)) => {
                    // A batch that does not decode cannot be skipped past.
                    self.done = true;
                    return Some(Err(DataError::Unreadable {
                        path: self.rows.path().to_owned(),
                        what: self.what,
                        source: Box::new(e),
                    }));
                }
            }
        }
        self.pending.pop_front()
    }
}

impl<B, E> RowSource for BatchRows<B>
where
    B: Iterator<Item = Result<RecordBatch, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    fn path(&self) -> &Path {
        self.rows.path()
    }
    fn defaults(&self) -> &[DefaultUsed] {
        self.rows.defaults()
    }
    fn missing(&self) -> BTreeMap<&'static str, u64> {
        self.rows.missing()
    }
    fn has(&self, column: Column) -> bool {
        self.rows.has(column)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        BooleanArray, DictionaryArray, Float32Array, Int64Array, LargeStringArray, ListArray,
        NullArray,
    };
    use arrow_schema::Field;
    use hitcast::data::{ColumnMap, N_AUDIO};

    use super::*;

    /// A two-row batch of the dataset's columns (the fixture row of the CSV reader's tests and a
    /// second one), typed as a data frame holds them; `change` replaces columns by name.
    fn batch(change: &[(&str, ArrayRef)]) -> RecordBatch {
        let f64s = |a: f64, b: f64| -> ArrayRef { Arc::new(Float64Array::from(vec![a, b])) };
        let i64s = |a: i64, b: i64| -> ArrayRef { Arc::new(Int64Array::from(vec![a, b])) };
        let text = |a: &str, b: &str| -> ArrayRef { Arc::new(StringArray::from(vec![a, b])) };
        let genre: DictionaryArray<Int32Type> = vec!["acoustic", "R&B"].into_iter().collect();
        let mut columns: Vec<(&str, ArrayRef)> = vec![
            ("track_id", text("5SuOikwiRyPMVoIQDJUgSV", "x")),
            ("artists", text("Gen Hoshino", "A;B")),
            ("album_name", text("Comedy", "")),
            ("track_name", text("Comedy", "T")),
            ("popularity", i64s(73, 5)),
            ("duration_ms", i64s(230_666, 1000)),
            ("explicit", Arc::new(BooleanArray::from(vec![false, true]))),
            ("danceability", f64s(0.676, 0.5)),
            ("energy", f64s(0.461, 0.5)),
            ("key", i64s(1, 11)),
            ("loudness", f64s(-6.746, -5.0)),
            ("mode", i64s(0, 1)),
            ("speechiness", f64s(0.143, 0.1)),
            ("acousticness", f64s(0.0322, 0.1)),
            ("instrumentalness", f64s(1.01e-06, 0.0)),
            ("liveness", f64s(0.358, 0.1)),
            ("valence", f64s(0.715, 0.1)),
            ("tempo", f64s(87.917, 120.0)),
            ("time_signature", i64s(4, 3)),
            ("track_genre", Arc::new(genre)),
        ];
        for (name, array) in change {
            match columns.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = array.clone(),
                None => columns.push((name, array.clone())),
            }
        }
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays).unwrap()
    }

    fn read(batch: &RecordBatch, options: &ReadOptions) -> Result<Vec<RawRow>, DataError> {
        let mut rows = ArrowRows::new(&batch.schema(), options, Path::new("<frame>"))?;
        rows.read(batch)?.into_iter().collect()
    }

    #[test]
    fn typed_columns_read_as_the_csv_reader_reads_text() {
        let rows = read(&batch(&[]), &ReadOptions::labelled()).unwrap();
        let first = &rows[0];
        assert_eq!(first.line, 1);
        assert_eq!(first.track_id, "5SuOikwiRyPMVoIQDJUgSV");
        assert_eq!(first.popularity, Some(73));
        let audio: [f64; N_AUDIO] = [
            230666.0, 0.0, 0.676, 0.461, 1.0, -6.746, 0.0, 0.143, 0.0322, 1.01e-06, 0.358, 0.715,
            87.917, 4.0,
        ];
        assert_eq!(first.audio, audio);
        assert_eq!(first.genres, ["acoustic"]);
        // Another catalogue's genre spelling is resolved as in a CSV cell.
        assert_eq!(rows[1].genres, ["r-n-b"]);
        assert_eq!(rows[1].audio[1], 1.0, "explicit true is 1");

        // Text cells parse by the column's rule ("False" for a boolean, "4.0" for a code); a
        // Float32 column widens exactly for these values; LargeUtf8 is text.
        let changed = batch(&[
            (
                "explicit",
                Arc::new(StringArray::from(vec!["False", "true"])),
            ),
            (
                "time_signature",
                Arc::new(StringArray::from(vec!["4.0", "3"])),
            ),
            ("tempo", Arc::new(Float32Array::from(vec![87.5f32, 120.0]))),
            (
                "track_name",
                Arc::new(LargeStringArray::from(vec!["Comedy", "T"])),
            ),
        ]);
        let again = read(&changed, &ReadOptions::labelled()).unwrap();
        assert_eq!(again[0].audio[1], 0.0);
        assert_eq!(again[0].audio[13], 4.0);
        assert_eq!(again[0].audio[12], 87.5);
        assert_eq!(again[1].track_name, "T");
    }

    #[test]
    fn bad_cells_name_their_row_counted_across_batches() {
        let good = batch(&[]);
        let bad = batch(&[(
            "energy",
            Arc::new(Float64Array::from(vec![Some(0.5), None])),
        )]);
        let mut rows = ArrowRows::new(
            &good.schema(),
            &ReadOptions::labelled(),
            Path::new("t.parquet"),
        )
        .unwrap();
        assert!(rows.read(&good).unwrap().iter().all(Result::is_ok));
        let second = rows.read(&bad).unwrap();
        assert_eq!(second[0].as_ref().unwrap().line, 3);
        let e = second[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.parquet: row 4, column \"energy\": missing value"
        );
        assert_eq!(e.skippable_line(), Some(4));

        let out_of_range = batch(&[("key", Arc::new(Int64Array::from(vec![1, 12])))]);
        let e = read(&out_of_range, &ReadOptions::labelled()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "<frame>: row 2, column \"key\": expected an integer from -1 to 11, got \"12\""
        );
    }

    #[test]
    fn columns_are_matched_renamed_defaulted_and_refused_as_in_a_csv_header() {
        // Scoring: no popularity or track_id needed; time_signature absent takes its default.
        let mut b = batch(&[]);
        for name in ["popularity", "track_id", "time_signature"] {
            let i = b.schema().index_of(name).unwrap();
            b.remove_column(i);
        }
        let mut rows =
            ArrowRows::new(&b.schema(), &ReadOptions::default(), Path::new("<frame>")).unwrap();
        assert!(!rows.has_popularity());
        let defaulted: Vec<&str> = rows.defaults().iter().map(|d| d.column).collect();
        assert_eq!(defaulted, ["track_id", "time_signature"]);
        let scored = rows.read(&b).unwrap();
        assert_eq!(scored[0].as_ref().unwrap().audio[13], 4.0);
        assert_eq!(scored[0].as_ref().unwrap().track_id, "");
        // Training needs popularity.
        let e = ArrowRows::new(&b.schema(), &ReadOptions::labelled(), Path::new("<frame>"))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("missing required column(s) \"track_id\", \"popularity\""),
            "{e}"
        );
        // A schema has no line 1 and no header, and a frame is renamed with columns=.
        let e = e.to_string();
        assert!(e.starts_with("<frame>: missing"), "{e}");
        assert!(e.contains("; its columns are \""), "{e}");
        assert!(
            e.contains("or columns={\"SRC\": \"DST\"} in Python)"),
            "{e}"
        );

        // --map renames; an all-null optional text column is empty.
        let renamed = batch(&[
            ("track_popularity", Arc::new(Int64Array::from(vec![1, 2]))),
            ("album_name", Arc::new(NullArray::new(2))),
        ]);
        let mut b = renamed.clone();
        let i = b.schema().index_of("popularity").unwrap();
        b.remove_column(i);
        let options = ReadOptions {
            map: ColumnMap::parse(&["track_popularity=popularity"]).unwrap(),
            ..ReadOptions::labelled()
        };
        let rows = read(&b, &options).unwrap();
        assert_eq!(rows[1].popularity, Some(2));
        assert_eq!(rows[0].album_name, "");

        // A nested column cannot hold a value.
        let list =
            ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![Some(0.5)]), None]);
        let nested = batch(&[("energy", Arc::new(list))]);
        let e = read(&nested, &ReadOptions::labelled()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("<frame>: column \"energy\" holds List("),
            "{e}"
        );
        assert!(
            e.to_string()
                .ends_with("expected numbers, booleans or text"),
            "{e}"
        );
    }
}

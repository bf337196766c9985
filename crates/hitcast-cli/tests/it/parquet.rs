//! Parquet in and out of `hitcast predict`, and as `--data`: the same rows, checks and answers
//! as CSV, on the real dataset written as Parquet with typed columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hitcast::data::{Column, RawRow, ReadOptions, RowReader};
use hitcast_arrow::arrow_array::types::Int32Type;
use hitcast_arrow::arrow_array::Array;
use hitcast_arrow::arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    UInt8Array,
};
use hitcast_arrow::arrow_schema::{DataType, Field, Schema};
use hitcast_arrow::ParquetSink;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{dataset, hitcast, predict, scratch, serve, stderr, stdout_json};

/// The dataset's rows, as the CSV reader gives them.
pub(super) fn rows(limit: usize) -> Vec<RawRow> {
    RowReader::open(&dataset(), &ReadOptions::labelled())
        .unwrap()
        .take(limit)
        .map(Result::unwrap)
        .collect()
}

/// Writes `rows` as Parquet the way a data frame would hold them: whole numbers as Int64,
/// `explicit` as Boolean, the genre dictionary-encoded (a pandas category), the rest as text and
/// Float64; then `catalogue_no`, a column hitcast does not read (each row's line times ten, as
/// a catalogue's own number). `energy` of row `bad` (0-based), if any, is set out of range.
pub(super) fn write(path: &Path, rows: &[RawRow], bad: Option<usize>) -> PathBuf {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for column in Column::ALL {
        let name = column.name();
        let (data_type, array): (DataType, ArrayRef) = match (column, column.audio_index()) {
            (Column::Popularity, _) => (
                DataType::UInt8,
                Arc::new(rows.iter().map(|r| r.popularity).collect::<UInt8Array>()),
            ),
            (Column::Explicit, Some(i)) => (
                DataType::Boolean,
                Arc::new(BooleanArray::from(
                    rows.iter().map(|r| r.audio[i] == 1.0).collect::<Vec<_>>(),
                )),
            ),
            (Column::DurationMs | Column::Key | Column::Mode | Column::TimeSignature, Some(i)) => (
                DataType::Int64,
                Arc::new(
                    rows.iter()
                        .map(|r| r.audio[i] as i64)
                        .collect::<Int64Array>(),
                ),
            ),
            (Column::Energy, Some(i)) => (
                DataType::Float64,
                Arc::new(
                    rows.iter()
                        .enumerate()
                        .map(|(k, r)| if Some(k) == bad { 1.5 } else { r.audio[i] })
                        .collect::<Float64Array>(),
                ),
            ),
            (_, Some(i)) => (
                DataType::Float64,
                Arc::new(rows.iter().map(|r| r.audio[i]).collect::<Float64Array>()),
            ),
            (Column::TrackGenre, None) => {
                let values: Vec<String> = rows.iter().map(|r| r.field(column)).collect();
                let genres: DictionaryArray<Int32Type> =
                    values.iter().map(String::as_str).collect();
                (genres.data_type().clone(), Arc::new(genres))
            }
            (_, None) => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.field(column)),
                )),
            ),
        };
        fields.push(Field::new(name, data_type, true));
        columns.push(array);
    }
    fields.push(Field::new("catalogue_no", DataType::Int64, true));
    columns.push(Arc::new(
        rows.iter()
            .map(|r| r.line as i64 * 10)
            .collect::<Int64Array>(),
    ));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut sink = ParquetSink::create(path, batch.schema()).unwrap();
    sink.write(&batch).unwrap();
    sink.commit().unwrap();
    path.to_owned()
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `hitcast predict` into a Parquet file: its batches and column names.
fn predicted_parquet(
    model: &Path,
    tracks: &Path,
    out: &Path,
    extra: &[&str],
) -> (Vec<RecordBatch>, Vec<String>) {
    let o = predict(model, tracks, out, extra);
    assert!(o.status.success(), "{}", stderr(&o));
    let batches = read_parquet(out);
    let names = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    (batches, names)
}

#[test]
fn parquet_scores_and_loads_as_csv_does() {
    let dir = scratch("parquet");
    let all = rows(usize::MAX);
    let tracks = write(&dir.join("tracks.parquet"), &all, None);
    let model = serve::model();

    // Parquet in, CSV out: byte for byte what the CSV gives.
    let keep = ["--keep", "track_name,popularity,explicit,track_genre"];
    let from_csv = dir.join("from-csv.csv");
    let from_parquet = dir.join("from-parquet.csv");
    let o = predict(model, &dataset(), &from_csv, &keep);
    assert!(o.status.success(), "{}", stderr(&o));
    // The dataset lists a track once a genre: each row is scored as given, and said so.
    assert!(
        stderr(&o).contains(
            "16,641 track_ids are listed on several rows (40,900 rows): each row was scored as given"
        ),
        "{}",
        stderr(&o)
    );
    let o = predict(model, &tracks, &from_parquet, &keep);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv_text = std::fs::read_to_string(&from_csv).unwrap();
    assert_eq!(csv_text, std::fs::read_to_string(&from_parquet).unwrap());

    // Parquet out: typed columns, full precision, equal to the CSV at its printed precision.
    let (batches, names) = predicted_parquet(model, &tracks, &dir.join("answers.parquet"), &keep);
    let schema = batches[0].schema();
    assert_eq!(
        names,
        [
            "track_id",
            "popularity_probability",
            "flagged",
            "lift",
            "predicted_popularity",
            "popularity_low",
            "popularity_high",
            "warnings",
            "model",
            "track_name",
            "popularity",
            "explicit",
            "track_genre"
        ]
    );
    assert_eq!(schema.field(2).data_type(), &DataType::Boolean);
    assert_eq!(schema.field(8).data_type(), &DataType::Utf8);
    assert_eq!(schema.field(10).data_type(), &DataType::UInt8);
    let mut csv_lines = csv_text.lines().skip(1);
    let mut n = 0;
    for batch in &batches {
        let p = batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let flagged = batch
            .column(2)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap();
        let score = batch
            .column(4)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        for i in 0..batch.num_rows() {
            let line = csv_lines.next().unwrap();
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(format!("{:.6}", p.value(i)), cells[1], "row {n}");
            assert_eq!(if flagged.value(i) { "1" } else { "0" }, cells[2]);
            assert_eq!(format!("{:.2}", score.value(i)), cells[4], "row {n}");
            n += 1;
        }
    }
    assert_eq!(n, all.len());

    // --no-score: the same rows and chances, without the score's three columns, in CSV and
    // in Parquet (bit for bit).
    let chances_csv = dir.join("chances.csv");
    let o = predict(
        model,
        &tracks,
        &chances_csv,
        &[keep[0], keep[1], "--no-score"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let records = |path: &Path| -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_path(path).unwrap();
        let header = reader.headers().unwrap().clone();
        std::iter::once(header)
            .chain(reader.records().map(Result::unwrap))
            .collect()
    };
    let (full, chances) = (records(&from_parquet), records(&chances_csv));
    assert_eq!(full.len(), chances.len());
    for (f, c) in full.iter().zip(&chances) {
        let without_score: Vec<&str> = f
            .iter()
            .enumerate()
            .filter(|(i, _)| !(4..7).contains(i))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(c.iter().collect::<Vec<_>>(), without_score);
    }
    let (chance_batches, names) = predicted_parquet(
        model,
        &tracks,
        &dir.join("chances.parquet"),
        &[keep[0], keep[1], "--no-score"],
    );
    assert_eq!(
        names,
        [
            "track_id",
            "popularity_probability",
            "flagged",
            "lift",
            "warnings",
            "model",
            "track_name",
            "popularity",
            "explicit",
            "track_genre"
        ]
    );
    let column = |batches: &[RecordBatch], i: usize| -> Vec<f64> {
        batches
            .iter()
            .flat_map(|b| {
                let a = b.column(i).as_any().downcast_ref::<Float64Array>().unwrap();
                a.values().to_vec()
            })
            .collect()
    };
    assert_eq!(column(&chance_batches, 1), column(&batches, 1));
    assert_eq!(column(&chance_batches, 3), column(&batches, 3));

    // A column hitcast does not read is copied as written, as text, each row's own.
    let (kept, names) = predicted_parquet(
        model,
        &tracks,
        &dir.join("kept.parquet"),
        &["--keep", "catalogue_no,track_name", "--no-score"],
    );
    assert_eq!(names[6..], ["catalogue_no", "track_name"]);
    let numbers: Vec<String> = kept
        .iter()
        .flat_map(|b| {
            let a = b.column(6).as_any().downcast_ref::<StringArray>().unwrap();
            (0..a.len())
                .map(|i| a.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let lines: Vec<String> = all.iter().map(|r| (r.line * 10).to_string()).collect();
    assert_eq!(numbers, lines);

    // --data reads Parquet: the same summary as the CSV.
    let check = |data: &Path| {
        let o = hitcast(&["data", "check", "--json", "--data", data.to_str().unwrap()]);
        let mut v = stdout_json(&o);
        v.as_object_mut().unwrap().remove("path");
        v
    };
    assert_eq!(check(&tracks), check(&dataset()));
}

#[test]
fn model_evaluate_reads_parquet_training_data() {
    // The catalogue: the dataset's first 20,000 rows; the training data named: its first
    // 5,000, so their tracks are the known ones by track_id.
    let dir = scratch("parquet-training");
    let all = rows(20_000);
    let catalogue = write(&dir.join("catalogue.parquet"), &all, None);
    let training = write(&dir.join("training.parquet"), &all[..5_000], None);
    let o = hitcast(&[
        "model",
        "evaluate",
        serve::model().to_str().unwrap(),
        "--data",
        catalogue.to_str().unwrap(),
        "--training-data",
        training.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = stdout_json(&o);
    let ids: std::collections::HashSet<&str> =
        all[..5_000].iter().map(|r| r.track_id.as_str()).collect();
    assert_eq!(report["known"]["by_id"], ids.len());
    let known =
        report["known"]["by_id"].as_u64().unwrap() + report["known"]["by_audio"].as_u64().unwrap();
    assert_eq!(
        report["measured"].as_u64().unwrap() + known,
        report["tracks"].as_u64().unwrap()
    );
}

#[test]
fn a_bad_parquet_cell_names_its_row_and_column_and_leaves_no_output() {
    let dir = scratch("parquet-bad");
    let bad = write(&dir.join("bad.parquet"), &rows(100), Some(41));
    let out = dir.join("out.parquet");
    let o = predict(serve::model(), &bad, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "bad.parquet: row 42, column \"energy\": expected a number from 0 to 1, got \"1.5\""
        ),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary left"
    );
    let o = predict(serve::model(), &bad, &out, &["--on-error", "skip"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("skipped 1 bad row(s); first:"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read_parquet(&out)
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>(),
        99
    );

    // A file cut short is refused as Parquet, not read as a CSV.
    let cut = dir.join("cut.parquet");
    let bytes = std::fs::read(&bad).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = predict(serve::model(), &cut, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("cut.parquet: cannot read it as Parquet (is the file truncated or corrupt?)"),
        "{}",
        stderr(&o)
    );
}

//! Reads a tracks CSV (plain or gzip, told apart by magic bytes) into validated [`RawRow`]s.
//!
//! Columns are matched by header name in any order; unknown columns are ignored; `--map` renames
//! another export's columns. One record buffer is reused for the whole file, and only the cells
//! hitcast needs are decoded.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::{DataError, MapError};
use super::inflate::ThreadedGz;
use super::schema::{Absent, Column, FieldProblem, Rule, N_AUDIO};

/// One validated data row, before duplicate tracks are collapsed.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRow {
    /// 1-based line of the row in the decompressed text.
    pub line: u64,
    /// Spotify track id (never empty).
    pub track_id: String,
    /// Artists separated by `;` (may be empty).
    pub artists: String,
    /// Album title (may be empty).
    pub album_name: String,
    /// Track title (may be empty).
    pub track_name: String,
    /// The popularity score, `None` when the file has no popularity column.
    pub popularity: Option<u8>,
    /// The audio columns in [`Column::AUDIO`] order; `explicit` is 0/1.
    pub audio: [f64; N_AUDIO],
    /// The genre, `None` when empty or absent.
    pub genre: Option<String>,
}

impl RawRow {
    /// Whether two rows hold the same values in every column (the line aside).
    pub fn same_values(&self, other: &RawRow) -> bool {
        self.track_id == other.track_id
            && self.artists == other.artists
            && self.album_name == other.album_name
            && self.track_name == other.track_name
            && self.popularity == other.popularity
            && self.audio == other.audio
            && self.genre == other.genre
    }
}

/// Renames of header names, from `--map SRC=DST` (repeatable, or comma-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMap {
    renames: BTreeMap<String, Column>,
}

impl ColumnMap {
    /// Parses specifications such as `track_popularity=popularity` or
    /// `track_artist=artists,playlist_genre=track_genre`.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<ColumnMap, MapError> {
        let mut renames = BTreeMap::new();
        for spec in specs.iter().flat_map(|s| s.as_ref().split(',')) {
            let spec = spec.trim();
            let Some((src, dst)) = spec.split_once('=') else {
                return Err(MapError::Syntax(spec.to_owned()));
            };
            let (src, dst) = (src.trim(), dst.trim());
            if src.is_empty() || dst.is_empty() {
                return Err(MapError::Syntax(spec.to_owned()));
            }
            let column = Column::from_name(dst).ok_or_else(|| MapError::UnknownTarget {
                spec: spec.to_owned(),
                dst: dst.to_owned(),
            })?;
            if renames.insert(src.to_owned(), column).is_some() {
                return Err(MapError::Twice(src.to_owned()));
            }
        }
        Ok(ColumnMap { renames })
    }

    /// The preset for the TidyTuesday `spotify_songs` export in `shared/data/external`.
    pub fn tidytuesday() -> ColumnMap {
        ColumnMap::parse(&["track_popularity=popularity,track_artist=artists,\
             track_album_name=album_name,playlist_genre=track_genre"])
        .unwrap_or_default()
    }

    fn resolve(&self, header: &str) -> Option<Column> {
        self.renames
            .get(header)
            .copied()
            .or_else(|| Column::from_name(header))
    }
}

/// What to do with a row that fails validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop at the first bad row with its error (the default).
    #[default]
    Fail,
    /// Drop bad rows, count them, and keep their errors for the report.
    Skip,
}

/// How to read a tracks file.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Header renames.
    pub map: ColumnMap,
    /// Bad-row policy.
    pub on_error: OnError,
    /// Whether the popularity column must be present (training and evaluation need it; scoring
    /// does not).
    pub require_popularity: bool,
}

impl ReadOptions {
    /// Options for training data: popularity required, stop at the first bad row.
    pub fn labelled() -> ReadOptions {
        ReadOptions {
            require_popularity: true,
            ..ReadOptions::default()
        }
    }
}

/// A column that was absent and the default every row got instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultUsed {
    /// The absent column.
    pub column: &'static str,
    /// The default, in words.
    pub default: &'static str,
}

/// Reads rows one at a time, for files of any size.
pub struct RowReader {
    path: PathBuf,
    csv: csv::Reader<Box<dyn Read + Send>>,
    /// Field position of each column in [`Column::ALL`] order, `None` when absent.
    fields: [Option<usize>; Column::ALL.len()],
    /// The present columns and where their cells go, worked out once from the header.
    plan: Vec<(usize, Column, Target)>,
    /// Audio values of a row before its cells are read: the defaults of absent columns.
    template: [f64; N_AUDIO],
    n_fields: usize,
    record: csv::ByteRecord,
    missing: [u64; Column::ALL.len()],
    defaults: Vec<DefaultUsed>,
    last_line: u64,
    done: bool,
}

impl RowReader {
    /// Opens a file, plain or gzip-compressed, and checks its header.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<RowReader, DataError> {
        let open_error = |source| DataError::Open {
            path: path.to_owned(),
            source,
        };
        if path.is_dir() {
            return Err(open_error(io::Error::other("it is a directory")));
        }
        let file = File::open(path).map_err(open_error)?;
        RowReader::from_reader(file, path, options)
    }

    /// Reads from any byte source; `path` names it in messages.
    pub fn from_reader<R: Read + Send + 'static>(
        source: R,
        path: &Path,
        options: &ReadOptions,
    ) -> Result<RowReader, DataError> {
        let mut buffered = BufReader::with_capacity(1 << 16, source);
        let magic = buffered.fill_buf().map_err(|source| DataError::Read {
            path: path.to_owned(),
            line: 0,
            source,
        })?;
        let input: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(ThreadedGz::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            // Field counts are checked per row, so a bad row can be reported and skipped.
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(input);
        let header = csv
            .byte_headers()
            .map_err(|e| csv_error(path, 0, e))?
            .clone();
        let mut reader = RowReader {
            path: path.to_owned(),
            csv,
            fields: [None; Column::ALL.len()],
            plan: Vec::new(),
            template: [0.0; N_AUDIO],
            n_fields: header.len(),
            record: csv::ByteRecord::new(),
            missing: [0; Column::ALL.len()],
            defaults: Vec::new(),
            last_line: 1,
            done: false,
        };
        reader.match_header(&header, options)?;
        Ok(reader)
    }

    fn match_header(
        &mut self,
        header: &csv::ByteRecord,
        options: &ReadOptions,
    ) -> Result<(), DataError> {
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(DataError::Empty {
                path: self.path.clone(),
            });
        }
        let mut found = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(raw);
            let name = name.trim_start_matches('\u{feff}').trim();
            let Some(column) = options.map.resolve(name) else {
                found.push(name.to_owned());
                continue;
            };
            found.push(column.name().to_owned());
            let slot = &mut self.fields[column_slot(column)];
            if let Some(first) = *slot {
                return Err(DataError::DuplicateColumn {
                    path: self.path.clone(),
                    name: column.name().to_owned(),
                    first: first + 1,
                    second: i + 1,
                });
            }
            *slot = Some(i);
        }
        let mut missing = Vec::new();
        for column in Column::ALL {
            if self.fields[column_slot(column)].is_some() {
                continue;
            }
            match column.when_absent() {
                Absent::Required => missing.push(column.name().to_owned()),
                Absent::Unlabelled if options.require_popularity => {
                    missing.push(column.name().to_owned())
                }
                Absent::Unlabelled => {}
                Absent::Default(default) => self.defaults.push(DefaultUsed {
                    column: column.name(),
                    default,
                }),
            }
        }
        if !missing.is_empty() {
            return Err(DataError::MissingColumns {
                path: self.path.clone(),
                missing,
                found,
            });
        }
        for column in Column::ALL {
            let audio = column.audio_index();
            match (self.fields[column_slot(column)], audio) {
                (Some(field), _) => self.plan.push((field, column, Target::of(column))),
                (None, Some(i)) => self.template[i] = column.audio_default().unwrap_or(0.0),
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Columns absent from the header and the defaults used for them.
    pub fn defaults(&self) -> &[DefaultUsed] {
        &self.defaults
    }

    /// Whether the file has a popularity column.
    pub fn has_popularity(&self) -> bool {
        self.fields[column_slot(Column::Popularity)].is_some()
    }

    /// Empty cells so far per column, over the rows returned.
    pub fn missing(&self) -> BTreeMap<&'static str, u64> {
        Column::ALL
            .iter()
            .filter(|c| self.fields[column_slot(**c)].is_some())
            .map(|&c| (c.name(), self.missing[column_slot(c)]))
            .collect()
    }

    fn parse_record(&mut self) -> Result<RawRow, DataError> {
        let line = self
            .record
            .position()
            .map_or(self.last_line + 1, |p| p.line());
        self.last_line = line;
        if self.record.len() != self.n_fields {
            return Err(DataError::FieldCount {
                path: self.path.clone(),
                line,
                expected: self.n_fields as u64,
                found: self.record.len() as u64,
            });
        }
        let mut row = RawRow {
            line,
            track_id: String::new(),
            artists: String::new(),
            album_name: String::new(),
            track_name: String::new(),
            popularity: None,
            audio: self.template,
            genre: None,
        };
        let mut empty = [false; Column::ALL.len()];
        for &(field, column, target) in &self.plan {
            let fail = |problem| DataError::Field {
                path: self.path.clone(),
                line,
                col: field + 1,
                column: column.name(),
                problem,
            };
            let text = std::str::from_utf8(&self.record[field])
                .map_err(|_| fail(FieldProblem::NotUtf8))?;
            match target {
                Target::Audio(i, rule) => row.audio[i] = rule.parse(text).map_err(fail)?,
                // The rule checks 0..=100, so the cast is exact.
                Target::Popularity(rule) => {
                    row.popularity = Some(rule.parse(text).map_err(fail)? as u8)
                }
                Target::TrackId if text.trim().is_empty() => {
                    return Err(fail(FieldProblem::Missing))
                }
                Target::TrackId => row.track_id = text.to_owned(),
                Target::Artists => row.artists = text.to_owned(),
                Target::AlbumName => row.album_name = text.to_owned(),
                Target::TrackName => row.track_name = text.to_owned(),
                Target::Genre => {
                    let genre = text.trim();
                    if !genre.is_empty() {
                        row.genre = Some(genre.to_owned());
                    }
                }
            }
            empty[column_slot(column)] = text.is_empty();
        }
        for (count, was_empty) in self.missing.iter_mut().zip(empty) {
            *count += u64::from(was_empty);
        }
        Ok(row)
    }
}

impl Iterator for RowReader {
    type Item = Result<RawRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => Some(self.parse_record()),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                // After an I/O or parser failure the stream cannot be resynchronised.
                self.done = true;
                Some(Err(csv_error(&self.path, self.last_line, e)))
            }
        }
    }
}

/// Where one cell's value goes in a [`RawRow`].
#[derive(Clone, Copy, Debug)]
enum Target {
    TrackId,
    Artists,
    AlbumName,
    TrackName,
    Genre,
    Popularity(Rule),
    Audio(usize, Rule),
}

impl Target {
    fn of(column: Column) -> Target {
        match (column, column.audio_index()) {
            (_, Some(i)) => Target::Audio(i, column.rule()),
            (Column::Popularity, None) => Target::Popularity(column.rule()),
            (Column::TrackId, None) => Target::TrackId,
            (Column::Artists, None) => Target::Artists,
            (Column::AlbumName, None) => Target::AlbumName,
            (Column::TrackName, None) => Target::TrackName,
            (_, None) => Target::Genre,
        }
    }
}

fn column_slot(column: Column) -> usize {
    column as usize
}

fn csv_error(path: &Path, line: u64, error: csv::Error) -> DataError {
    let line = error.position().map_or(line, |p| p.line());
    if error.is_io_error() {
        if let csv::ErrorKind::Io(source) = error.into_kind() {
            return DataError::Read {
                path: path.to_owned(),
                line,
                source,
            };
        }
        unreachable!("is_io_error() means an Io kind");
    }
    DataError::Csv {
        path: path.to_owned(),
        line,
        source: error,
    }
}

/// A whole file read into memory, with what the reader saw on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The accepted rows, in file order.
    pub rows: Vec<RawRow>,
    /// Counts and notes about the read.
    pub report: LoadReport,
}

/// What happened while reading a file.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// The file.
    pub path: PathBuf,
    /// Rows accepted.
    pub rows: u64,
    /// Rows dropped by `--on-error skip`.
    pub skipped: u64,
    /// The errors of the first few skipped rows.
    pub skipped_examples: Vec<String>,
    /// Absent columns and their defaults.
    pub defaults: Vec<DefaultUsed>,
    /// Empty cells per column present in the file, over the accepted rows.
    pub missing: BTreeMap<&'static str, u64>,
    /// Whether the rows carry popularity.
    pub labelled: bool,
}

/// How many skipped rows keep their full message in a [`LoadReport`].
pub const SKIPPED_EXAMPLES: usize = 5;

/// Reads and validates a whole file, applying the bad-row policy.
pub fn read_rows(path: &Path, options: &ReadOptions) -> Result<Loaded, DataError> {
    collect(RowReader::open(path, options)?, options.on_error)
}

/// [`read_rows`] over any byte source; `path` names it in messages.
pub fn read_rows_from<R: Read + Send + 'static>(
    source: R,
    path: &Path,
    options: &ReadOptions,
) -> Result<Loaded, DataError> {
    collect(
        RowReader::from_reader(source, path, options)?,
        options.on_error,
    )
}

fn collect(mut reader: RowReader, on_error: OnError) -> Result<Loaded, DataError> {
    let mut rows = Vec::new();
    let mut skipped = 0;
    let mut examples = Vec::new();
    let mut first_error = None;
    for item in reader.by_ref() {
        match item {
            Ok(row) => rows.push(row),
            Err(e) if on_error == OnError::Skip && e.skippable_line().is_some() => {
                skipped += 1;
                if examples.len() < SKIPPED_EXAMPLES {
                    examples.push(e.to_string());
                }
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if rows.is_empty() {
        // Every row was bad: the first error says more than "no rows".
        return Err(first_error.unwrap_or_else(|| DataError::NoRows {
            path: reader.path.clone(),
        }));
    }
    let report = LoadReport {
        path: reader.path.clone(),
        rows: rows.len() as u64,
        skipped,
        skipped_examples: examples,
        defaults: reader.defaults.clone(),
        missing: reader.missing(),
        labelled: reader.has_popularity(),
    };
    Ok(Loaded { rows, report })
}

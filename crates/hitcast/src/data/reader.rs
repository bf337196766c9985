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

use super::error::{DataError, Header, MapError};
use super::inflate::ThreadedGz;
use super::newlines::Newlines;
use super::plan::{CellValue, ColumnPlan};
use super::schema::{Column, FieldProblem, N_AUDIO};

/// One validated data row, before duplicate tracks are collapsed.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRow {
    /// 1-based line of the row in the decompressed text.
    pub line: u64,
    /// Spotify track id: never empty in training data ([`ReadOptions::require_track_id`]);
    /// empty in a file to score that lacks the column or leaves the cell empty.
    pub track_id: String,
    /// Artists separated by `;` (may be empty).
    pub artists: String,
    /// Album title (may be empty).
    pub album_name: String,
    /// Track title (may be empty).
    pub track_name: String,
    /// The cells of the columns [`ReadOptions::carry`] names, as text, in its order (empty
    /// unless a file to score was read with some).
    pub carried: Vec<String>,
    /// The popularity score, `None` when the file has no popularity column.
    pub popularity: Option<u8>,
    /// The audio columns in [`Column::AUDIO`] order; `explicit` is 0/1.
    pub audio: [f64; N_AUDIO],
    /// The genres of the cell, each resolved onto the dataset's spelling
    /// ([`crate::data::genre::parse_cell`]); empty when the cell is empty or the column absent. The
    /// dataset's cells hold one genre each.
    pub genres: Vec<String>,
}

impl RawRow {
    /// The value of `column` as text: strings as read, `explicit` as true/false, numbers in
    /// their shortest exact form, an absent popularity or learned value as "". The genre is
    /// the resolved genres joined with `;` (`R&B, Hip Hop` gives `r-n-b;hip-hop`): what the
    /// model sees, not the cell as written.
    pub fn field(&self, column: Column) -> String {
        match column {
            Column::TrackId => self.track_id.clone(),
            Column::Artists => self.artists.clone(),
            Column::AlbumName => self.album_name.clone(),
            Column::TrackName => self.track_name.clone(),
            Column::Popularity => self.popularity.map(|p| p.to_string()).unwrap_or_default(),
            Column::TrackGenre => self.genres.join(";"),
            audio => match (audio, audio.audio_index()) {
                (Column::Explicit, Some(i)) => (self.audio[i] == 1.0).to_string(),
                // A learned column a song measured from audio lacks.
                (_, Some(i)) if self.audio[i].is_nan() => String::new(),
                (_, Some(i)) => self.audio[i].to_string(),
                (_, None) => String::new(),
            },
        }
    }

    /// Whether two rows hold the same values in every column (the line aside).
    pub fn same_values(&self, other: &RawRow) -> bool {
        self.track_id == other.track_id
            && self.artists == other.artists
            && self.album_name == other.album_name
            && self.track_name == other.track_name
            && self.popularity == other.popularity
            && self.audio == other.audio
            && self.genres == other.genres
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

    /// The header names it renames.
    pub(super) fn sources(&self) -> impl Iterator<Item = &str> {
        self.renames.keys().map(String::as_str)
    }

    pub(super) fn resolve(&self, header: &str) -> Option<Column> {
        self.renames
            .get(header)
            .copied()
            .or_else(|| Column::from_header(header))
    }
}

/// What to do with a row (or an API batch's track) that fails validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Refuse the input with its errors (the default): a file stops at its first bad row; an
    /// API batch is refused whole, with every bad track's errors.
    #[default]
    Fail,
    /// Go on past bad rows: a file drops them, counts them and keeps their errors for the
    /// report; an API batch answers each bad track with its errors in its place.
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
    /// Whether the file is read to be scored, which reads no popularity: a cell that is no
    /// 0-100 score is then read as empty, not refused (what `--keep popularity` copies).
    pub popularity_unread: bool,
    /// Whether every row needs a track id: training collapses duplicate tracks on it. When
    /// false (scoring), the column may be absent and cells empty; such rows get an empty id.
    pub require_track_id: bool,
    /// The CSV field separator; `None` takes the one an Excel `sep=` first line names, else
    /// the one of `,` `;` tab `|` that the header line uses most (a comma on a tie), as
    /// spreadsheets export with the locale's separator.
    pub delimiter: Option<u8>,
    /// Columns hitcast does not read whose cells each row keeps as text
    /// ([`RawRow::carried`]), by their names in the header: a catalogue's own ids (an ISRC) to
    /// copy into the answers.
    pub carry: Vec<String>,
}

impl ReadOptions {
    /// Options for training data: popularity and track ids required, stop at the first bad row.
    pub fn labelled() -> ReadOptions {
        ReadOptions {
            require_popularity: true,
            require_track_id: true,
            ..ReadOptions::default()
        }
    }
}

/// The byte that splits a one-field header into at least two of the dataset's column names,
/// with how many times the field holds it: the file's separator, which neither `--delimiter`
/// nor the sniffed one was.
fn separator_within(field: &[u8]) -> Option<(u8, usize)> {
    let mut counts = [0usize; 128];
    let separator = |b: &&u8| (b.is_ascii_punctuation() && !b"_\"".contains(b)) || **b == b'\t';
    for &b in field.iter().filter(separator) {
        counts[usize::from(b)] += 1;
    }
    let (seen, count) = (0u8..128)
        .map(|b| (b, counts[usize::from(b)]))
        .filter(|&(_, n)| n > 0)
        .max_by_key(|&(b, n)| (n, std::cmp::Reverse(b)))?;
    let names = field
        .split(|&b| b == seen)
        .filter(|name| {
            let name = String::from_utf8_lossy(name);
            Column::from_header(name.trim().trim_matches('"')).is_some()
        })
        .count();
    (names >= 2).then_some((seen, count))
}

/// The field separator a header line uses most, outside quotes, of `,` `;` tab and `|`; a comma
/// on a tie (a one-column file has none).
fn sniff_delimiter(start: &[u8]) -> u8 {
    let line = start
        .split(|&b| b == b'\n' || b == b'\r')
        .next()
        .unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == b) {
                slot.1 += 1;
            }
        }
    }
    // The first of the most used: the comma wins a tie.
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// The separator Excel's hint names on a CSV file's first line, `sep=;` (quoted or not, after
/// a byte-order mark or not): Excel writes it where the list separator is not a comma, and
/// reads it back.
fn excel_separator(start: &[u8]) -> Option<u8> {
    let start = start.strip_prefix(b"\xef\xbb\xbf").unwrap_or(start);
    let end = start.iter().position(|&b| b == b'\n' || b == b'\r')?;
    let line = &start[..end];
    let line = line
        .strip_prefix(b"\"")
        .and_then(|l| l.strip_suffix(b"\""))
        .unwrap_or(line);
    match line {
        [s, e, p, b'=', separator]
            if [s, e, p].map(u8::to_ascii_lowercase) == [b's', b'e', b'p']
                && (separator.is_ascii_punctuation() || *separator == b'\t')
                && *separator != b'"' =>
        {
            Some(*separator)
        }
        _ => None,
    }
}

/// A column that was absent and the default every row got instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultUsed {
    /// The absent column.
    pub column: &'static str,
    /// The default, in words.
    pub default: &'static str,
    /// The header's name most like the column, when one names no column: another export's
    /// spelling (`track_popularity`), which `--map` can rename.
    pub like: Option<String>,
    /// Where the names came from: a CSV line, renamed by `--map`, or a schema, which Python's
    /// `columns=` renames too.
    #[serde(skip)]
    pub header: Header,
}

impl DefaultUsed {
    /// The absent columns this default stands for (one, or the seven learned ones of rows
    /// measured from audio).
    pub fn columns(&self) -> impl Iterator<Item = Column> + '_ {
        self.column
            .split(',')
            .filter_map(|name| Column::from_name(name.trim()))
    }
}

/// The notice every surface gives: `column "track_genre" is absent: using no genre`.
impl std::fmt::Display for DefaultUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column {:?} is absent: using {}",
            self.column, self.default
        )?;
        match &self.like {
            Some(like) => {
                let column = self.column;
                write!(
                    f,
                    "; the header's {like:?} may be it: --map {like}={column}"
                )?;
                match self.header {
                    Header::Schema => {
                        write!(f, ", or columns={{{like:?}: {column:?}}} in Python")
                    }
                    Header::Csv | Header::CsvAfterHint => Ok(()),
                }
            }
            None => Ok(()),
        }
    }
}

/// Reads rows one at a time, for files of any size.
pub struct RowReader {
    path: PathBuf,
    csv: csv::Reader<Box<dyn Read + Send>>,
    plan: ColumnPlan,
    n_fields: usize,
    record: csv::StringRecord,
    missing: [u64; Column::ALL.len()],
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
        // The header line, decompressed, to find the separator.
        let mut input = BufReader::with_capacity(1 << 16, input);
        let start = input.fill_buf().map_err(|source| DataError::Read {
            path: path.to_owned(),
            line: 1,
            source,
        })?;
        // UTF-16's byte order marks (UTF-32LE's starts as UTF-16LE's, then two zeros).
        let utf32 = start.starts_with(&[0xff, 0xfe, 0, 0]);
        if (start.starts_with(&[0xff, 0xfe]) || start.starts_with(&[0xfe, 0xff])) && !utf32 {
            return Err(DataError::Utf16 {
                path: path.to_owned(),
            });
        }
        let hint = excel_separator(start);
        let delimiter = options
            .delimiter
            .or(hint)
            .unwrap_or_else(|| sniff_delimiter(start));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(hint.is_none())
            .delimiter(delimiter)
            // Field counts are checked per row, so a bad row can be reported and skipped.
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(Box::new(Newlines::new(input)) as Box<dyn Read + Send>);
        let header_error = |e: csv::Error| {
            let line = e.position().map_or(0, csv::Position::line);
            csv_error(path, line, e)
        };
        let header = if hint.is_some() {
            // The hint's line is a record of its own; the header is the next.
            let mut header = csv::ByteRecord::new();
            for _ in 0..2 {
                csv.read_byte_record(&mut header).map_err(header_error)?;
            }
            header
        } else {
            csv.byte_headers().map_err(header_error)?.clone()
        };
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(DataError::Empty {
                path: path.to_owned(),
            });
        }
        let binary = |raw: &[u8]| {
            std::str::from_utf8(raw)
                .map_or(true, |t| t.chars().any(|c| c.is_control() && c != '\t'))
        };
        if header.iter().any(binary) {
            return Err(DataError::NotCsv {
                path: path.to_owned(),
            });
        }
        if header.len() == 1 {
            let within = separator_within(&header[0]).filter(|&(seen, _)| seen != delimiter);
            if let Some((seen, count)) = within {
                return Err(DataError::Delimiter {
                    path: path.to_owned(),
                    given: options.delimiter,
                    seen,
                    count,
                });
            }
        }
        let names = header.iter().map(|raw| {
            let name = String::from_utf8_lossy(raw);
            name.trim_start_matches('\u{feff}').trim().to_owned()
        });
        let header_line = if hint.is_some() {
            Header::CsvAfterHint
        } else {
            Header::Csv
        };
        let plan = ColumnPlan::new(names, options, path, header_line)?
            // Semicolons are how Excel separates fields where a comma is the decimal point; a
            // tab file may be written either way, and a comma grouping thousands is not guessed.
            .with_decimal_comma(delimiter == b';');
        Ok(RowReader {
            path: path.to_owned(),
            csv,
            plan,
            n_fields: header.len(),
            record: csv::StringRecord::new(),
            missing: [0; Column::ALL.len()],
            last_line: if hint.is_some() { 2 } else { 1 },
            done: false,
        })
    }

    /// The line of a record or error at csv's `position`, else the one after the last.
    fn line_at(&self, position: Option<&csv::Position>) -> u64 {
        position.map_or(self.last_line + 1, csv::Position::line)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Columns absent from the header and the defaults used for them.
    pub fn defaults(&self) -> &[DefaultUsed] {
        self.plan.defaults()
    }

    /// Whether the file has a popularity column.
    pub fn has_popularity(&self) -> bool {
        self.plan.has(Column::Popularity)
    }

    /// Whether the file has `column` (after `--map`).
    pub fn has(&self, column: Column) -> bool {
        self.plan.has(column)
    }

    /// Empty cells so far per column, over the rows returned.
    pub fn missing(&self) -> BTreeMap<&'static str, u64> {
        self.plan.missing_counts(&self.missing)
    }

    fn parse_record(&mut self) -> Result<RawRow, DataError> {
        let line = self.line_at(self.record.position());
        self.last_line = line;
        if self.record.len() != self.n_fields {
            return Err(DataError::FieldCount {
                path: self.path.clone(),
                line,
                // Line ends are LF here (`Newlines`): each in a field is one more line, but for
                // the file's last line end, which an open quote runs past.
                last_line: line
                    + self
                        .record
                        .as_slice()
                        .trim_end_matches('\n')
                        .matches('\n')
                        .count() as u64,
                expected: self.n_fields as u64,
                found: self.record.len() as u64,
                multiline: self.record.iter().any(|f| f.contains('\n')),
            });
        }
        let mut row = self.plan.empty_row(line);
        let record = &self.record;
        let empty = self
            .plan
            .fill(&mut row, |field| CellValue::Text(&record[field]))
            .map_err(|(field, column, problem)| DataError::Field {
                path: self.path.clone(),
                line,
                col: field + 1,
                column: column.name().to_owned(),
                problem,
            })?;
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
        match self.csv.read_record(&mut self.record) {
            Ok(true) => Some(self.parse_record()),
            // csv checks a record's UTF-8 once, whole; reading goes on after a bad record.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let csv::ErrorKind::Utf8 { pos, err } = e.kind() else {
                    unreachable!("matched above")
                };
                let line = self.line_at(pos.as_ref());
                self.last_line = line;
                Some(Err(DataError::Field {
                    path: self.path.clone(),
                    line,
                    col: err.field() + 1,
                    column: self.plan.name(err.field()).to_owned(),
                    problem: FieldProblem::NotUtf8,
                }))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                // After an I/O or parser failure the stream cannot be resynchronised.
                self.done = true;
                // Without a position (an I/O error), the last line read.
                let line = e.position().map_or(self.last_line, csv::Position::line);
                Some(Err(csv_error(&self.path, line, e)))
            }
        }
    }
}

/// `error` at `line`.
fn csv_error(path: &Path, line: u64, error: csv::Error) -> DataError {
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

/// A field separator as a user names it (`--delimiter`, Python's `delimiter=`): one ASCII
/// character other than a quote or a line break, or `tab` (`\t`) for a tab.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" && t != "\r" => {
            Ok(t.as_bytes()[0])
        }
        t => Err(format!(
            "expected one character (or tab) other than a quote or a line break, got {t:?}"
        )),
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

impl LoadReport {
    /// What a reader of the file should be told: each absent column's default, and the rows
    /// skipped.
    pub fn notices(&self) -> Vec<String> {
        let defaults = self.defaults.iter().map(ToString::to_string);
        defaults.chain(self.skipped_notice()).collect()
    }

    /// How many rows were skipped, with the first few's errors; none when none was.
    pub fn skipped_notice(&self) -> Option<String> {
        (self.skipped > 0).then(|| {
            format!(
                "skipped {} bad row(s); first: {}",
                self.skipped,
                self.skipped_examples.join(" | ")
            )
        })
    }
}

/// How many skipped rows keep their full message in a [`LoadReport`].
pub const SKIPPED_EXAMPLES: usize = 5;

/// Reads and validates a whole file, applying the bad-row policy.
pub fn read_rows(path: &Path, options: &ReadOptions) -> Result<Loaded, DataError> {
    read_all(RowReader::open(path, options)?, options.on_error)
}

/// [`read_rows`] over any byte source; `path` names it in messages.
pub fn read_rows_from<R: Read + Send + 'static>(
    source: R,
    path: &Path,
    options: &ReadOptions,
) -> Result<Loaded, DataError> {
    read_all(
        RowReader::from_reader(source, path, options)?,
        options.on_error,
    )
}

/// A stream of validated rows from one table, CSV or another format, and what its reader
/// learned about the table on the way: what [`read_all`] needs for its report.
pub trait RowSource: Iterator<Item = Result<RawRow, DataError>> {
    /// The table.
    fn path(&self) -> &Path;
    /// Absent columns and their defaults.
    fn defaults(&self) -> &[DefaultUsed];
    /// Empty cells per column present, over the rows returned so far.
    fn missing(&self) -> BTreeMap<&'static str, u64>;
    /// Whether the table has `column` (after `--map`): what `--keep` may copy.
    fn has(&self, column: Column) -> bool;
    /// Whether the table has a popularity column.
    fn has_popularity(&self) -> bool {
        self.has(Column::Popularity)
    }
}

impl RowSource for RowReader {
    fn path(&self) -> &Path {
        RowReader::path(self)
    }
    fn defaults(&self) -> &[DefaultUsed] {
        RowReader::defaults(self)
    }
    fn missing(&self) -> BTreeMap<&'static str, u64> {
        RowReader::missing(self)
    }
    fn has(&self, column: Column) -> bool {
        RowReader::has(self, column)
    }
}

/// Reads every row of `source`, applying the bad-row policy: the one loop behind [`read_rows`]
/// and the readers of other formats.
pub fn read_all<S: RowSource>(mut reader: S, on_error: OnError) -> Result<Loaded, DataError> {
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
        // Every row was bad: said, with the first error, which says more than "no rows".
        let path = reader.path().to_owned();
        return Err(match first_error {
            Some(first) => DataError::AllSkipped {
                path,
                skipped,
                first: Box::new(first),
            },
            None => DataError::NoRows { path },
        });
    }
    let report = LoadReport {
        path: reader.path().to_owned(),
        rows: rows.len() as u64,
        skipped,
        skipped_examples: examples,
        defaults: reader.defaults().to_vec(),
        missing: reader.missing(),
        labelled: reader.has_popularity(),
    };
    Ok(Loaded { rows, report })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    const HEADER: &str = ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,\
        danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,\
        valence,tempo,time_signature,track_genre";
    const ROW: &str = "0,5SuOikwiRyPMVoIQDJUgSV,Gen Hoshino,Comedy,Comedy,73,230666,False,0.676,\
        0.461,1,-6.746,0,0.143,0.0322,1.01e-06,0.358,0.715,87.917,4,acoustic";

    fn read(text: &str, options: &ReadOptions) -> Result<Loaded, DataError> {
        read_rows_from(
            io::Cursor::new(text.as_bytes().to_vec()),
            Path::new("t.csv"),
            options,
        )
    }

    fn labelled(text: &str) -> Result<Loaded, DataError> {
        read(text, &ReadOptions::labelled())
    }

    fn message(text: &str) -> String {
        labelled(text).unwrap_err().to_string()
    }

    /// The fixture row with one cell replaced (by header name).
    fn row_with(column: &str, value: &str) -> String {
        row_with_in(ROW, column, value)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_the_dataset_format() {
        let loaded = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        let row = &loaded.rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(row.track_id, "5SuOikwiRyPMVoIQDJUgSV");
        assert_eq!(row.popularity, Some(73));
        assert_eq!(
            row.audio,
            [
                230666.0, 0.0, 0.676, 0.461, 1.0, -6.746, 0.0, 0.143, 0.0322, 1.01e-06, 0.358,
                0.715, 87.917, 4.0
            ]
        );
        assert_eq!(row.genres, ["acoustic"]);
        assert!(loaded.report.defaults.is_empty());
        assert!(loaded.report.labelled);
        assert_eq!(loaded.report.missing["artists"], 0);
    }

    #[test]
    fn a_row_to_score_may_leave_all_seven_learned_columns_empty_but_not_some() {
        let scoring = ReadOptions {
            require_popularity: false,
            require_track_id: false,
            ..ReadOptions::labelled()
        };
        let learned = Column::LEARNED.map(|c| c.audio_index().unwrap());
        // All seven cells empty: a row measured from audio, its learned values NaN.
        let mut row = ROW.to_owned();
        for c in Column::LEARNED {
            row = row_with_in(&row, c.name(), "");
        }
        let loaded = read(&format!("{HEADER}\n{row}\n"), &scoring).unwrap();
        let audio = loaded.rows[0].audio;
        assert!(learned.iter().all(|&i| audio[i].is_nan()));
        assert_eq!(audio[Column::Tempo.audio_index().unwrap()], 87.917);
        // Training data must have them.
        let err = labelled(&format!("{HEADER}\n{row}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("column \"danceability\": missing value"),
            "{err}"
        );
        // Some empty, some not: refused, naming the first empty one.
        let partly = row_with("energy", "");
        let err = read(&format!("{HEADER}\n{partly}\n"), &scoring)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "t.csv:2:10: column \"energy\": missing value: give all of danceability"
            ),
            "{err}"
        );
        // A file without any of the seven columns: every row is measured.
        let names: Vec<&str> = HEADER.split(',').collect();
        let keep: Vec<usize> = (0..names.len())
            .filter(|&i| Column::from_name(names[i]).is_none_or(|c| !c.is_learned()))
            .collect();
        let cells: Vec<&str> = ROW.split(',').collect();
        let pick = |v: &[&str]| keep.iter().map(|&i| v[i]).collect::<Vec<_>>().join(",");
        let loaded = read(&format!("{}\n{}\n", pick(&names), pick(&cells)), &scoring).unwrap();
        assert!(learned.iter().all(|&i| loaded.rows[0].audio[i].is_nan()));
        let measured = loaded
            .report
            .defaults
            .iter()
            .find(|d| d.default.starts_with("none: rows measured"))
            .unwrap();
        assert!(measured.columns().eq(Column::LEARNED));
    }

    #[test]
    fn a_popularity_to_score_that_is_no_score_is_read_as_empty() {
        let scoring = ReadOptions {
            require_popularity: false,
            require_track_id: false,
            ..ReadOptions::labelled()
        };
        let unread = ReadOptions {
            popularity_unread: true,
            ..scoring.clone()
        };
        for cell in ["abc", "101", "73.5"] {
            let text = format!("{HEADER}\n{}\n", row_with("popularity", cell));
            assert_eq!(read(&text, &unread).unwrap().rows[0].popularity, None);
            // Training and evaluation read it: refused there, named.
            for options in [&scoring, &ReadOptions::labelled()] {
                let said = read(&text, options).unwrap_err().to_string();
                assert!(said.contains("column \"popularity\""), "{said}");
            }
        }
    }

    #[test]
    fn nan_and_na_cells_are_missing_values_as_empty_ones_are() {
        // polars writes a missing number as NaN, R as NA: a measured row to score, unlabelled.
        let scoring = ReadOptions {
            require_popularity: false,
            require_track_id: false,
            ..ReadOptions::labelled()
        };
        let mut row = row_with("popularity", "NA");
        for (c, marker) in Column::LEARNED
            .iter()
            .zip(["NaN", "nan", " NA ", "", "NaN", "na", "NAN"])
        {
            row = row_with_in(&row, c.name(), marker);
        }
        let loaded = read(&format!("{HEADER}\n{row}\n"), &scoring).unwrap();
        assert_eq!(loaded.rows[0].popularity, None);
        let learned = Column::LEARNED.map(|c| c.audio_index().unwrap());
        assert!(learned.iter().all(|&i| loaded.rows[0].audio[i].is_nan()));
        assert_eq!(loaded.report.missing.get("popularity"), Some(&1));
        assert_eq!(loaded.report.missing.get("energy"), Some(&1));
        // A text column keeps them as text: a track may be called "NA". No genre is: a genre
        // cell of NA (R's missing value) lists none, and is counted missing.
        let named = row_with_in(&row_with("track_name", "NA"), "track_genre", "NA");
        let loaded = labelled(&format!("{HEADER}\n{named}\n")).unwrap();
        assert_eq!(loaded.rows[0].track_name, "NA");
        assert!(loaded.rows[0].genres.is_empty());
        assert_eq!(loaded.report.missing.get("track_genre"), Some(&1));
        // Where a number is required, NaN is missing, not a malformed number.
        let err = labelled(&format!("{HEADER}\n{}\n", row_with("tempo", "NaN")))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("column \"tempo\": missing value (\"NaN\")"),
            "{err}"
        );
    }

    /// `row` with one cell replaced (by header name).
    fn row_with_in(row: &str, column: &str, value: &str) -> String {
        let names: Vec<&str> = HEADER.split(',').collect();
        let mut cells: Vec<String> = row.split(',').map(str::to_owned).collect();
        let i = names.iter().position(|n| *n == column).unwrap();
        cells[i] = value.to_owned();
        cells.join(",")
    }

    #[test]
    fn gzip_input_is_detected_by_magic_bytes() {
        let gz = gzip(format!("{HEADER}\n{ROW}\n").as_bytes());
        let loaded = read_rows_from(
            io::Cursor::new(gz),
            Path::new("t.csv"),
            &ReadOptions::labelled(),
        )
        .unwrap();
        assert_eq!(loaded.rows.len(), 1);
    }

    #[test]
    fn columns_match_by_name_in_any_order_and_extras_are_ignored() {
        let names: Vec<&str> = HEADER.split(',').skip(1).collect();
        let cells: Vec<&str> = ROW.split(',').skip(1).collect();
        let header = names
            .iter()
            .rev()
            .copied()
            .chain(["extra"])
            .collect::<Vec<_>>()
            .join(",");
        let row = cells
            .iter()
            .rev()
            .copied()
            .chain(["x"])
            .collect::<Vec<_>>()
            .join(",");
        let a = labelled(&format!("{header}\n{row}\n")).unwrap();
        let b = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        assert_eq!(a.rows[0].audio, b.rows[0].audio);
        assert_eq!(a.rows[0].track_id, b.rows[0].track_id);
    }

    #[test]
    fn excels_separator_hint_is_read_and_lines_keep_their_numbers() {
        let semicolons = |line: &str| line.replace(',', ";");
        let file = format!("sep=;\r\n{}\r\n{}\r\n", semicolons(HEADER), semicolons(ROW));
        let loaded = labelled(&file).unwrap();
        assert_eq!(loaded.rows[0].genres, ["acoustic"]);
        assert_eq!(loaded.rows[0].line, 3);
        // Quoted, after a byte-order mark, as some exports write it.
        let file = format!(
            "\u{feff}\"sep=;\"\n{}\n{}\n",
            semicolons(HEADER),
            semicolons(ROW)
        );
        assert_eq!(labelled(&file).unwrap().rows[0].popularity, Some(73));
        // The header's problems name its line, the second.
        let e = labelled(&format!(
            "sep=;\n{}\n",
            semicolons(&HEADER.replace("tempo", "bpm"))
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(":2: missing required column(s) \"tempo\""),
            "{e}"
        );
        // A file of the hint alone is empty; a first line that is not one is a header.
        assert!(matches!(labelled("sep=;\n"), Err(DataError::Empty { .. })));
        assert_eq!(excel_separator(b"sep=,,x\n"), None);
        assert_eq!(excel_separator(b"sepa;\n"), None);
        assert_eq!(
            excel_separator(b"sep=\"\n"),
            None,
            "a quote separates nothing"
        );
        assert_eq!(excel_separator(b"SEP=|\r\n"), Some(b'|'));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let loaded = labelled(&format!("\u{feff}{HEADER}\r\n{ROW}\r\n")).unwrap();
        assert_eq!(loaded.rows[0].genres, ["acoustic"]);
    }

    #[test]
    fn map_renames_another_exports_columns() {
        let header = HEADER
            .replace("popularity", "track_popularity")
            .replace("track_genre", "playlist_genre");
        let options = ReadOptions {
            map: ColumnMap::parse(&["track_popularity=popularity", "playlist_genre=track_genre"])
                .unwrap(),
            ..ReadOptions::labelled()
        };
        let loaded = read(&format!("{header}\n{ROW}\n"), &options).unwrap();
        assert_eq!(loaded.rows[0].popularity, Some(73));
        assert_eq!(loaded.rows[0].genres, ["acoustic"]);
    }

    #[test]
    fn a_map_source_the_header_lacks_is_refused_with_a_guess() {
        // A typo in --map would otherwise leave the column unread, and popularity absent.
        let header = HEADER.replace("popularity", "track_popularity");
        let options = ReadOptions {
            map: ColumnMap::parse(&["track_popularty=popularity"]).unwrap(),
            ..ReadOptions::labelled()
        };
        let e = read(&format!("{header}\n{ROW}\n"), &options)
            .unwrap_err()
            .to_string();
        let (_, message) = e.split_once(':').unwrap();
        let names = header
            .split(',')
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(
            message,
            format!(
                "1: --map renames \"track_popularty\", which is not a column here; the header has \
                  {names} (did you mean \"track_popularity\" for \"track_popularty\"?)"
            )
        );
        // Another export's map on the dataset's own file: no guess that maps a column onto
        // itself (only typos are guessed here).
        let options = ReadOptions {
            map: ColumnMap::parse(&["track_popularity=popularity"]).unwrap(),
            ..ReadOptions::labelled()
        };
        let e = read(&format!("{HEADER}\n{ROW}\n"), &options)
            .unwrap_err()
            .to_string();
        assert!(e.contains("which is not a column here"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn map_specifications_are_checked() {
        assert_eq!(
            ColumnMap::parse(&["a"]).unwrap_err().to_string(),
            "invalid column mapping \"a\": expected SRC=DST, e.g. track_popularity=popularity"
        );
        assert!(ColumnMap::parse(&["a=popularity,b=nope"])
            .unwrap_err()
            .to_string()
            .starts_with("invalid column mapping \"b=nope\": \"nope\" is not a column hitcast reads (one of track_id, artists,"));
        // A target mistyped is named as the column meant.
        assert_eq!(
            ColumnMap::parse(&["track_popularity=popularty"])
                .unwrap_err()
                .to_string(),
            "invalid column mapping \"track_popularity=popularty\": \"popularty\" is not a \
             column hitcast reads (did you mean \"popularity\"?)"
        );
        assert_eq!(
            ColumnMap::parse(&["a=popularity", "a=tempo"]).unwrap_err(),
            MapError::Twice("a".into())
        );
        assert_eq!(
            ColumnMap::parse(&["=x"]).unwrap_err(),
            MapError::Syntax("=x".into())
        );
        assert_eq!(ColumnMap::tidytuesday().renames.len(), 4);
    }

    #[test]
    fn absent_optional_columns_get_announced_defaults() {
        let drop = ["explicit", "time_signature", "popularity"];
        let names: Vec<&str> = HEADER.split(',').collect();
        let keep: Vec<usize> = (0..names.len())
            .filter(|&i| !drop.contains(&names[i]))
            .collect();
        let pick = |line: &str| {
            let cells: Vec<&str> = line.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        };
        let loaded = read(
            &format!("{}\n{}\n", pick(HEADER), pick(ROW)),
            &ReadOptions::default(),
        )
        .unwrap();
        let row = &loaded.rows[0];
        assert_eq!(row.audio[Column::Explicit.audio_index().unwrap()], 0.0);
        assert_eq!(row.audio[Column::TimeSignature.audio_index().unwrap()], 4.0);
        assert_eq!(row.popularity, None);
        assert!(!loaded.report.labelled);
        let defaults: Vec<_> = loaded.report.defaults.iter().map(|d| d.column).collect();
        assert_eq!(defaults, ["explicit", "time_signature"]);
        assert_eq!(loaded.report.defaults[0].default, "false");
        // Training data needs the label.
        assert_eq!(
            message(&format!("{}\n{}\n", pick(HEADER), pick(ROW))),
            format!(
                "t.csv:1: missing required column(s) \"popularity\"; the header has {} (rename with --map SRC=DST)",
                pick(HEADER).split(',').map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
            )
        );
    }

    #[test]
    fn another_exports_names_are_offered_for_absent_columns() {
        // The external sample's spellings: prefixed, singular, a playlist's genre.
        let renamed = HEADER
            .replace(",popularity,", ",track_popularity,")
            .replace(",artists,", ",track_artist,")
            .replace(",album_name,", ",track_album_name,")
            .replace(",track_genre", ",playlist_subgenre,playlist_genre");
        let text = format!("{renamed}\n{ROW},rock\n");
        let loaded = read(&text, &ReadOptions::default()).unwrap();
        let offered: Vec<(&str, Option<&str>)> = loaded
            .report
            .defaults
            .iter()
            .map(|d| (d.column, d.like.as_deref()))
            .collect();
        assert_eq!(
            offered,
            [
                ("artists", Some("track_artist")),
                ("album_name", Some("track_album_name")),
                ("popularity", Some("track_popularity")),
                ("track_genre", Some("playlist_genre")),
            ]
        );
        assert_eq!(
            loaded.report.defaults[2].to_string(),
            "column \"popularity\" is absent: using none (the tracks are scored, not measured \
             against it); the header's \"track_popularity\" may be it: --map \
             track_popularity=popularity"
        );
        // Required, it is offered in the error; a short core ("name", "id") is not guessed.
        assert!(message(&text).contains("(did you mean \"track_popularity\" for \"popularity\"?)"));
        let unnamed = HEADER.replace(",track_name,", ",name,");
        let loaded = read(&format!("{unnamed}\n{ROW}\n"), &ReadOptions::default()).unwrap();
        assert_eq!(loaded.report.defaults[0].like, None);
        // Nothing like it: no popularity notice for a file to score.
        let plain = HEADER.replace(",popularity,", ",plays,");
        let loaded = read(&format!("{plain}\n{ROW}\n"), &ReadOptions::default()).unwrap();
        assert!(loaded.report.defaults.is_empty());
    }

    #[test]
    fn a_file_to_score_may_lack_track_ids_but_training_data_may_not() {
        let names: Vec<&str> = HEADER.split(',').collect();
        let keep: Vec<usize> = (0..names.len())
            .filter(|&i| names[i] != "track_id")
            .collect();
        let pick = |line: &str| {
            let cells: Vec<&str> = line.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        };
        let text = format!("{}\n{}\n{}\n", pick(HEADER), pick(ROW), pick(ROW));
        let loaded = read(&text, &ReadOptions::default()).unwrap();
        assert_eq!(loaded.rows.len(), 2);
        assert!(loaded.rows.iter().all(|r| r.track_id.is_empty()));
        assert_eq!(
            loaded.report.defaults,
            [DefaultUsed {
                column: "track_id",
                default: "empty ids (the output's track_id stays empty: a made-up id could \
                          pass for a Spotify id)",
                like: None,
                header: Header::Csv,
            }]
        );
        assert_eq!(
            message(&text),
            format!(
                "t.csv:1: missing required column(s) \"track_id\" (training collapses duplicate \
                 tracks on track_id); the header has {} (rename with --map SRC=DST)",
                pick(HEADER)
                    .split(',')
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
        // An empty popularity cell: a new song among released tracks when scoring, refused in
        // training data.
        let text = format!("{HEADER}\n{}\n", row_with("popularity", ""));
        let loaded = read(&text, &ReadOptions::default()).unwrap();
        assert_eq!(loaded.rows[0].popularity, None);
        assert_eq!(
            message(&text),
            "t.csv:2:6: column \"popularity\": missing value"
        );
        // An empty id cell: accepted when scoring, refused in training data (see
        // bad_cells_name_file_line_column_and_value).
        let text = format!("{HEADER}\n{}\n", row_with("track_id", ""));
        let loaded = read(&text, &ReadOptions::default()).unwrap();
        assert_eq!(loaded.rows[0].track_id, "");
        assert_eq!(loaded.report.missing["track_id"], 1);
        assert_eq!(
            message(&text),
            "t.csv:2:2: column \"track_id\": missing value"
        );
    }

    #[test]
    fn a_genre_cell_may_list_several_genres_in_other_spellings() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            row_with("track_genre", "\"R&B, Hip Hop\""),
            row_with("track_genre", "rock;pop|Rock"),
            row_with("track_genre", " "),
        );
        let loaded = labelled(&text).unwrap();
        let genres: Vec<Vec<&str>> = loaded
            .rows
            .iter()
            .map(|r| r.genres.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            genres,
            [vec!["r-n-b", "hip-hop"], vec!["rock", "pop"], vec![]]
        );
        assert_eq!(loaded.rows[0].field(Column::TrackGenre), "r-n-b;hip-hop");
        assert_eq!(loaded.rows[2].field(Column::TrackGenre), "");
    }

    #[test]
    fn missing_required_columns_are_named() {
        let header = HEADER
            .replace(",tempo,", ",bpm,")
            .replace(",energy,", ",power,");
        let msg = message(&format!("{header}\n{ROW}\n"));
        assert!(msg.starts_with("t.csv:1: missing required column(s) \"energy\", \"tempo\"; the header has \"\", \"track_id\""), "{msg}");
        assert!(
            msg.contains("\"power\"") && msg.ends_with("(rename with --map SRC=DST)"),
            "{msg}"
        );
    }

    #[test]
    fn duplicated_header_names_are_refused() {
        let header = HEADER.replace("track_genre", "tempo");
        assert_eq!(
            message(&format!("{header}\n{ROW}\n")),
            "t.csv:1: column \"tempo\" appears twice (fields 19 and 21)"
        );
        // Renamed onto a column the header has: the map is named.
        let options = ReadOptions {
            map: ColumnMap::parse(&["danceability=energy"]).unwrap(),
            ..ReadOptions::labelled()
        };
        assert_eq!(
            read(&format!("{HEADER}\n{ROW}\n"), &options)
                .unwrap_err()
                .to_string(),
            "t.csv:1: column \"energy\" appears twice (fields 9 and 10); field 9 is \
             \"danceability\", renamed to it by --map"
        );
    }

    #[test]
    fn empty_file_and_header_only_are_clear_errors() {
        assert_eq!(
            message(""),
            "t.csv: the file is empty (expected a CSV header line)"
        );
        assert_eq!(
            message("\n"),
            "t.csv: the file is empty (expected a CSV header line)"
        );
        assert_eq!(
            message(&format!("{HEADER}\n")),
            "t.csv: the file has a header but no data rows"
        );
    }

    #[test]
    fn bad_cells_name_file_line_column_and_value() {
        let cases = [
            (
                "tempo",
                "fast",
                "t.csv:2:19: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"fast\"",
            ),
            (
                "tempo",
                "1e300",
                "t.csv:2:19: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"1e300\"",
            ),
            (
                "popularity",
                "101",
                "t.csv:2:6: column \"popularity\": expected an integer from 0 to 100, got \"101\"",
            ),
            (
                "popularity",
                "7.5",
                "t.csv:2:6: column \"popularity\": expected an integer from 0 to 100, got \"7.5\"",
            ),
            (
                "duration_ms",
                "-1",
                "t.csv:2:7: column \"duration_ms\": expected a duration from 0 to 7,200,000 ms (2 hours), got \"-1\"",
            ),
            (
                "loudness",
                "NaN",
                "t.csv:2:12: column \"loudness\": missing value (\"NaN\")",
            ),
            (
                "loudness",
                "inf",
                "t.csv:2:12: column \"loudness\": expected a loudness from -60 to 10 dB, got \"inf\"",
            ),
            (
                "energy",
                "1e400",
                "t.csv:2:10: column \"energy\": expected a number from 0 to 1, got \"1e400\"",
            ),
            (
                "energy",
                "1.5",
                "t.csv:2:10: column \"energy\": expected a number from 0 to 1, got \"1.5\"",
            ),
            (
                "key",
                "12",
                "t.csv:2:11: column \"key\": expected an integer from -1 to 11, got \"12\"",
            ),
            (
                "mode",
                "2",
                "t.csv:2:13: column \"mode\": expected 0 or 1, got \"2\"",
            ),
            (
                "time_signature",
                "8",
                "t.csv:2:20: column \"time_signature\": expected an integer from 0 to 7, got \"8\"",
            ),
            (
                "explicit",
                "maybe",
                "t.csv:2:8: column \"explicit\": expected true/false or 1/0, got \"maybe\"",
            ),
            (
                "valence",
                "",
                "t.csv:2:18: column \"valence\": missing value",
            ),
            (
                "track_id",
                "",
                "t.csv:2:2: column \"track_id\": missing value",
            ),
        ];
        for (column, value, want) in cases {
            assert_eq!(
                message(&format!("{HEADER}\n{ROW}\n{}\n", row_with(column, value)))
                    .replace(":3:", ":2:"),
                want
            );
        }
    }

    #[test]
    fn edge_values_that_are_valid_are_accepted() {
        for (column, value) in [
            ("explicit", "TRUE"),
            ("explicit", "1"),
            ("key", "-1"),
            ("popularity", "-0"),
            ("tempo", "0"),
            ("loudness", "4.532"),
        ] {
            let loaded = labelled(&format!("{HEADER}\n{}\n", row_with(column, value)));
            assert!(loaded.is_ok(), "{column}={value}: {loaded:?}");
        }
    }

    #[test]
    fn an_empty_cell_of_a_column_with_a_default_takes_it() {
        let row = row_with_in(&row_with("explicit", ""), "time_signature", "NA");
        let loaded = labelled(&format!("{HEADER}\n{row}\n")).unwrap();
        let audio = loaded.rows[0].audio;
        assert_eq!(audio[Column::Explicit.audio_index().unwrap()], 0.0);
        assert_eq!(audio[Column::TimeSignature.audio_index().unwrap()], 4.0);
        assert_eq!(loaded.report.missing["explicit"], 1);
        assert_eq!(loaded.report.missing["time_signature"], 1);
        // A value that is not one is still an error.
        let bad = row_with("explicit", "maybe");
        assert!(labelled(&format!("{HEADER}\n{bad}\n")).is_err());
    }

    #[test]
    fn empty_names_are_kept_and_counted_as_missing() {
        let row = row_with("artists", "");
        let row = row.replace("Comedy,Comedy", ",");
        let loaded = labelled(&format!("{HEADER}\n{row}\n")).unwrap();
        assert_eq!(loaded.rows.len(), 1);
        assert_eq!(loaded.report.missing["artists"], 1);
        assert_eq!(loaded.report.missing["album_name"], 1);
        assert_eq!(loaded.report.missing["track_name"], 1);
    }

    #[test]
    fn ragged_rows_and_wrong_delimiters_are_errors() {
        assert_eq!(
            message(&format!("{HEADER}\n{ROW},extra\n")),
            "t.csv:2: expected 21 fields as in the header, found 22"
        );
        // A mistyped header name is guessed at.
        let typo = HEADER.replace("tempo", "tmepo");
        let msg = message(&format!("{typo}\n{ROW}\n"));
        assert!(
            msg.starts_with(
                "t.csv:1: missing required column(s) \"tempo\" \
                 (did you mean \"tmepo\" for \"tempo\"?); the header has"
            ),
            "{msg}"
        );
    }

    #[test]
    fn rows_carry_the_cells_of_columns_named_to_keep() {
        let options = ReadOptions {
            carry: vec!["ISRC".into(), "notes".into()],
            ..ReadOptions::labelled()
        };
        let text = format!("isrc,{HEADER},notes\nGBUM71029604,{ROW},\"a, b\"\n");
        let loaded = read(&text, &options).unwrap();
        assert_eq!(loaded.rows[0].carried, ["GBUM71029604", "a, b"]);
        // The values hitcast reads are as without the extra columns.
        let plain = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        assert!(loaded.rows[0].same_values(&plain.rows[0]));
        let options = ReadOptions {
            carry: vec!["isbn".into()],
            ..ReadOptions::labelled()
        };
        let err = read(&text, &options).unwrap_err().to_string();
        assert!(
            err.starts_with("t.csv:1: no column \"isbn\" to keep; the header has \"isrc\", "),
            "{err}"
        );
    }

    #[test]
    fn headers_in_another_case_or_separators_name_their_columns() {
        let plain = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        let other = HEADER
            .replace(",key,", ",Key,")
            .replace("track_name", "Track Name")
            .replace("duration_ms", "Duration (ms)")
            .replace("time_signature", "TimeSignature");
        let loaded = labelled(&format!("{other}\n{ROW}\n")).unwrap();
        assert_eq!(loaded.rows, plain.rows);
        assert!(loaded.report.defaults.is_empty());
        // Two spellings of one column are one column named twice.
        let twice = format!("{HEADER},Tempo\n{ROW},120\n");
        assert!(
            message(&twice).ends_with("column \"tempo\" appears twice (fields 19 and 22)"),
            "{}",
            message(&twice)
        );
    }

    #[test]
    fn semicolon_tab_and_pipe_separated_files_read_as_comma_separated_ones() {
        let comma = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        for separator in [";", "\t", "|"] {
            let text = format!(
                "{}\n{}\n",
                HEADER.replace(',', separator),
                ROW.replace(',', separator)
            );
            let other = labelled(&text).unwrap();
            assert_eq!(other.rows, comma.rows, "{separator:?}");
        }
        // Told, the reader takes the separator it is given, here wrongly: one field a line,
        // which the error names.
        let options = ReadOptions {
            delimiter: Some(b','),
            ..ReadOptions::labelled()
        };
        let text = format!("{}\n{}\n", HEADER.replace(',', ";"), ROW.replace(',', ";"));
        let told = RowReader::from_reader(
            std::io::Cursor::new(text.into_bytes()),
            Path::new("t.csv"),
            &options,
        );
        assert!(matches!(
            told,
            Err(DataError::Delimiter {
                given: Some(b','),
                seen: b';',
                count: 20,
                ..
            })
        ));
        assert_eq!(sniff_delimiter(b"a,\"b;c;d\",e\nx;y;z;w"), b',');
        // The header ends at a lone CR too (an old Mac's file).
        assert_eq!(sniff_delimiter(b"a,b,c\rx;y;z;w;v"), b',');
    }

    #[test]
    fn a_delimiter_that_leaves_the_header_whole_names_the_one_it_holds() {
        let options = ReadOptions {
            delimiter: Some(b';'),
            ..ReadOptions::labelled()
        };
        let said = read(&format!("{HEADER}\n{ROW}\n"), &options)
            .unwrap_err()
            .to_string();
        assert_eq!(
            said,
            "t.csv:1: split at semicolons (--delimiter ';'), the header is one field, which holds \
             20 commas: the file looks separated by commas; leave out --delimiter, or pass \
             --delimiter ','"
        );
        let tabs = format!(
            "{}\n{}\n",
            HEADER.replace(',', "\t"),
            ROW.replace(',', "\t")
        );
        let said = read(&tabs, &options.clone()).unwrap_err().to_string();
        assert!(
            said.ends_with("20 tabs: the file looks separated by tabs; leave out --delimiter, or pass --delimiter tab"),
            "{said}"
        );
    }

    #[test]
    fn a_semicolon_file_with_decimal_commas_reads_as_the_comma_file() {
        let comma = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        // A European spreadsheet's export: fields by semicolons, numbers with commas.
        let cells: Vec<String> = ROW
            .split(',')
            .map(|c| {
                if c.parse::<f64>().is_ok() {
                    c.replace('.', ",")
                } else {
                    c.to_owned()
                }
            })
            .collect();
        let text = format!("{}\n{}\n", HEADER.replace(',', ";"), cells.join(";"));
        assert!(text.contains("0,676"), "{text}");
        assert_eq!(labelled(&text).unwrap().rows, comma.rows);
        // Tabs: written in either convention, so a comma is named, not read.
        let tabs = format!("{}\n{}\n", HEADER.replace(',', "\t"), cells.join("\t"));
        let said = labelled(&tabs).unwrap_err().to_string();
        assert!(said.contains("written with a decimal point"), "{said}");
    }

    #[test]
    fn a_header_split_by_a_separator_not_sniffed_names_it() {
        let colons = format!("{}\n{}\n", HEADER.replace(',', ":"), ROW.replace(',', ":"));
        let said = labelled(&colons).unwrap_err().to_string();
        assert_eq!(
            said,
            "t.csv:1: the header is one field, which holds 20 ':': the file looks separated \
             by ':'; pass --delimiter ':'"
        );
        let options = ReadOptions {
            delimiter: Some(b':'),
            ..ReadOptions::labelled()
        };
        let comma = labelled(&format!("{HEADER}\n{ROW}\n")).unwrap();
        assert_eq!(read(&colons, &options).unwrap().rows, comma.rows);
        // One field that is no list of the dataset's names is a header of one column.
        let said = labelled("notes: of mine\nx\n").unwrap_err().to_string();
        assert!(said.contains("missing required column(s)"), "{said}");
    }

    #[test]
    fn an_unclosed_quote_is_an_error_not_a_hang() {
        let open = ROW.replace("Comedy,Comedy", "\"Comedy,Comedy");
        let text = format!("{HEADER}\n{ROW}\n{open}\n{ROW}\n{ROW}\n");
        let said = "t.csv:3: expected 21 fields as in the header, found 4 \
             (a field runs from line 3 to line 5: is a quote left open? The rows on those lines \
             cannot be read, so the row is not skipped)";
        assert_eq!(message(&text), said);
        // Skipping it would drop the rows it swallowed, unseen: it stops the read instead.
        let skip = ReadOptions {
            on_error: OnError::Skip,
            ..ReadOptions::labelled()
        };
        assert_eq!(read(&text, &skip).unwrap_err().to_string(), said);
        // On the last row, it swallows no other: said, and skipped.
        let last = format!("{HEADER}\n{ROW}\n{open}\n");
        let loaded = read(&last, &skip).unwrap();
        assert_eq!((loaded.report.rows, loaded.report.skipped), (1, 1));
        assert!(
            loaded.report.skipped_examples[0]
                .ends_with("(a field runs over several lines: is a quote left open?)"),
            "{:?}",
            loaded.report.skipped_examples
        );
        // A row of one line with a field too few is still skipped.
        let short = ROW.rsplit_once(',').unwrap().0;
        let loaded = read(&format!("{HEADER}\n{ROW}\n{short}\n{ROW}\n"), &skip).unwrap();
        assert_eq!((loaded.report.rows, loaded.report.skipped), (2, 1));
    }

    #[test]
    fn crlf_lines_are_numbered_as_lf_lines() {
        // Windows and Excel end lines with CRLF, old Macs with CR, some files a mix: the same
        // rows, the same line numbers.
        let bad = ROW.replacen(",0.461,", ",1.461,", 1);
        assert_ne!(bad, ROW);
        let mixed = format!("{HEADER}\n{ROW}\r\n{ROW}\r{bad}\r\n");
        for (newline, text) in [
            ("LF", [HEADER, ROW, ROW, &bad, ""].join("\n")),
            ("CRLF", [HEADER, ROW, ROW, &bad, ""].join("\r\n")),
            ("CR", [HEADER, ROW, ROW, &bad, ""].join("\r")),
            ("mixed", mixed),
        ] {
            let options = ReadOptions {
                on_error: OnError::Skip,
                ..ReadOptions::labelled()
            };
            let read = read_rows_from(io::Cursor::new(text), Path::new("t.csv"), &options).unwrap();
            let lines: Vec<u64> = read.rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 3], "{newline:?}");
            assert!(
                read.report.skipped_examples[0].starts_with("t.csv:4:"),
                "{newline:?}: {:?}",
                read.report.skipped_examples
            );
        }
    }

    #[test]
    fn non_utf8_bytes_name_the_cell() {
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend(
            ROW.replace("Gen Hoshino", "Gen \u{1}")
                .as_bytes()
                .iter()
                .map(|&b| if b == 1 { 0xff } else { b }),
        );
        bytes.push(b'\n');
        let err = read_rows_from(
            io::Cursor::new(bytes),
            Path::new("t.csv"),
            &ReadOptions::labelled(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:2:3: column \"artists\": invalid UTF-8 bytes"
        );
    }

    #[test]
    fn truncated_and_corrupt_gzip_are_read_errors() {
        let text = format!("{HEADER}\n{}", format!("{ROW}\n").repeat(2000));
        let gz = gzip(text.as_bytes());
        let cut = gz[..gz.len() - 100].to_vec();
        let err = read_rows_from(
            io::Cursor::new(cut),
            Path::new("t.csv.gz"),
            &ReadOptions::labelled(),
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Read { .. }), "{err:?}");
        assert!(err.to_string().starts_with("t.csv.gz:"), "{err}");
        assert!(
            err.to_string()
                .ends_with(": cannot read past this line (is the file truncated or corrupt?)"),
            "{err}"
        );

        let mut corrupt = gz.clone();
        for b in &mut corrupt[20..60] {
            *b ^= 0x5a;
        }
        let err = read_rows_from(
            io::Cursor::new(corrupt),
            Path::new("t.csv.gz"),
            &ReadOptions::labelled(),
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Read { .. }), "{err:?}");
    }

    #[test]
    fn skip_drops_bad_rows_and_reports_them() {
        let text = format!(
            "{HEADER}\n{ROW}\n{}\n{ROW}\n{}\n{ROW},x\n",
            row_with("tempo", "fast"),
            row_with("popularity", "101")
        );
        let options = ReadOptions {
            on_error: OnError::Skip,
            ..ReadOptions::labelled()
        };
        let loaded = read(&text, &options).unwrap();
        assert_eq!(
            loaded.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 4]
        );
        assert_eq!(loaded.report.skipped, 3);
        assert_eq!(
            loaded.report.skipped_examples,
            [
                "t.csv:3:19: column \"tempo\": expected a tempo from 0 to 300 BPM, got \"fast\"",
                "t.csv:5:6: column \"popularity\": expected an integer from 0 to 100, got \"101\"",
                "t.csv:6: expected 21 fields as in the header, found 22",
            ]
        );
        // Header problems are never skipped.
        assert!(read("a,b\n1,2\n", &options).is_err());
        // If every row is bad, that is said, with the first error.
        let all_bad = format!("{HEADER}\n{}\n", row_with("tempo", "x"));
        assert!(read(&all_bad, &options)
            .unwrap_err()
            .to_string()
            .starts_with(
                "t.csv: every row is bad (1 skipped by --on-error skip), so none is left; \
                 the first: t.csv:2:19:"
            ));
    }

    #[test]
    fn binary_data_is_not_taken_for_a_header() {
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let err = read_rows_from(
            io::Cursor::new(bytes),
            Path::new("x.bin"),
            &ReadOptions::labelled(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.bin:1: the first line is not a CSV header (binary data, or compressed other than gzip?)"
        );
    }

    #[test]
    fn utf16_text_is_named_with_the_way_to_utf8() {
        // As Excel's "Unicode Text" writes it: a byte order mark, then UTF-16LE, tab-separated.
        let text = "\u{feff}track_id\tpopularity\nx\t50\n";
        for bytes in [
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ] {
            let err = read_rows_from(
                io::Cursor::new(bytes),
                Path::new("export.txt"),
                &ReadOptions::labelled(),
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "export.txt:1: the file is UTF-16 text (Excel's \"Unicode Text\"); hitcast reads UTF-8: save it as \"CSV UTF-8\", or convert it with iconv -f UTF-16 -t UTF-8"
            );
        }
    }

    #[test]
    fn open_errors_name_the_file() {
        let err = read_rows(Path::new("/no/such/file.csv"), &ReadOptions::labelled()).unwrap_err();
        assert_eq!(err.to_string(), "/no/such/file.csv: cannot open the file");
        let err = read_rows(Path::new("/"), &ReadOptions::labelled()).unwrap_err();
        assert_eq!(err.to_string(), "/: cannot open the file");
    }

    #[test]
    fn row_reader_streams_one_row_at_a_time() {
        let text = format!("{HEADER}\n{ROW}\n{ROW}\n");
        let mut reader = RowReader::from_reader(
            io::Cursor::new(text.into_bytes()),
            Path::new("t"),
            &ReadOptions::default(),
        )
        .unwrap();
        assert!(reader.has_popularity());
        assert_eq!(reader.next().unwrap().unwrap().line, 2);
        assert_eq!(reader.next().unwrap().unwrap().line, 3);
        assert!(reader.next().is_none());
    }
}

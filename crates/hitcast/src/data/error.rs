//! Errors from reading and validating a tracks file. Each names the file, and where it can the
//! line (1-based, of the decompressed text), the column and the offending value.

use std::io;
use std::path::PathBuf;

use super::schema::{folded, FieldProblem};

/// Why a tracks file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened.
    #[error("{}: cannot open the file", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// Reading failed part-way: a truncated or corrupt gzip stream, or an I/O error.
    #[error("{}:{line}: cannot read past this line (is the file truncated or corrupt?)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The last line read completely (0 before the header).
        line: u64,
        /// The reason from the decompressor or the operating system.
        #[source]
        source: io::Error,
    },
    /// The file holds no header line.
    #[error("{}: the file is empty (expected a CSV header line)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is UTF-16 text (it starts with UTF-16's byte order mark): what Excel saves as
    /// "Unicode Text".
    #[error("{}:1: the file is UTF-16 text (Excel's \"Unicode Text\"); hitcast reads UTF-8: save it as \"CSV UTF-8\", or convert it with iconv -f UTF-16 -t UTF-8", path.display())]
    Utf16 {
        /// The file.
        path: PathBuf,
    },
    /// The first line holds bytes no CSV header has: binary data, or compression other than gzip.
    #[error("{}:1: the first line is not a CSV header (binary data, or compressed other than gzip?)", path.display())]
    NotCsv {
        /// The file.
        path: PathBuf,
    },
    /// The header is one field, which another separator splits into the dataset's names: the
    /// one `--delimiter` names, or none of those a header is sniffed for.
    #[error(
        "{}:1: {}the header is one field, which holds {count} {}: the file looks separated by \
         {}; {}pass --delimiter {}",
        path.display(), given.map(|g| format!("split at {} (--delimiter {}), ", separators(g), flag(g))).unwrap_or_default(),
        separators(*seen), separators(*seen), if given.is_some() { "leave out --delimiter, or " } else { "" },
        flag(*seen)
    )]
    Delimiter {
        /// The file.
        path: PathBuf,
        /// The separator asked for, if one was.
        given: Option<u8>,
        /// The separator the header holds.
        seen: u8,
        /// How many times the header holds it.
        count: usize,
    },
    /// The header is there, but no rows follow.
    #[error("{}: the file has a header but no data rows", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// `--on-error skip` skipped every row: nothing is left to use.
    #[error(
        "{}: every row is bad ({} skipped by --on-error skip), so none is left; the first: {first}",
        path.display(), crate::text::thousands(*skipped)
    )]
    AllSkipped {
        /// The file.
        path: PathBuf,
        /// Rows skipped.
        skipped: u64,
        /// The first row's error.
        first: Box<DataError>,
    },
    /// Columns needed for this use of the file are absent from the header.
    #[error(
        "{}{}: missing required column(s) {}{}{}; {} {} (rename with {})",
        path.display(), header.words().line, quoted(missing), guesses(missing, found),
        why(missing), header.words().has, quoted(found), header.words().rename
    )]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// Where the names came from.
        header: Header,
        /// The absent columns.
        missing: Vec<String>,
        /// The header's names, after `--map`.
        found: Vec<String>,
    },
    /// `--map` renames a column the header does not have: a typo there would otherwise leave
    /// the column unread without a word.
    #[error(
        "{}{}: {} renames {}, which {}; {} {}{}",
        path.display(), header.words().line, header.words().map, quoted(unmatched),
        if unmatched.len() == 1 { "is not a column here" } else { "are not columns here" },
        header.words().has, quoted(found),
        closest(unmatched, found.iter(), typo_of)
    )]
    UnmatchedMap {
        /// The file.
        path: PathBuf,
        /// Where the names came from.
        header: Header,
        /// The sources of the map that name no column.
        unmatched: Vec<String>,
        /// The header's names, as written.
        found: Vec<String>,
    },
    /// Columns to copy into the answers as written (`--keep` of a column hitcast does not
    /// read) that the header lacks.
    #[error(
        "{}{}: no column {} to keep; {} {}{}",
        path.display(), header.words().line, quoted(absent),
        header.words().has, quoted(found),
        closest(absent, found.iter(), typo_of)
    )]
    CarriedAbsent {
        /// The file.
        path: PathBuf,
        /// Where the names came from.
        header: Header,
        /// The names to keep that the header lacks.
        absent: Vec<String>,
        /// The header's names, as written.
        found: Vec<String>,
    },
    /// Two header fields name the same column (possibly after `--map`).
    #[error(
        "{}{}: column {name:?} appears twice ({} {first} and {second}){}",
        path.display(), header.words().line, header.words().fields,
        renamed.as_ref().map_or_else(String::new, |(at, from)| {
            format!("; {} {at} is {from:?}, renamed to it by {}", header.words().field, header.words().map)
        })
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// Where the names came from.
        header: Header,
        /// The column name.
        name: String,
        /// 1-based position of the first field.
        first: usize,
        /// 1-based position of the second field.
        second: usize,
        /// The field `--map` renamed to the column (1-based) and its name in the header, if
        /// one was.
        renamed: Option<(usize, String)>,
    },
    /// A row has more or fewer fields than the header.
    #[error(
        "{}:{line}: expected {expected} fields as in the header, found {found}{}",
        path.display(),
        if last_line > line {
            format!(" (a field runs from line {line} to line {last_line}: is a quote left open? \
                     The rows on those lines cannot be read, so the row is not skipped)")
        } else if *multiline {
            " (a field runs over several lines: is a quote left open?)".to_owned()
        } else {
            String::new()
        }
    )]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// The row's line.
        line: u64,
        /// The row's last line: past `line` when a field holds a line break, the mark of an
        /// unclosed quote.
        last_line: u64,
        /// The header's field count.
        expected: u64,
        /// This row's field count.
        found: u64,
        /// Whether a field holds a line break: the mark of an unclosed quote, even where it
        /// runs to the end of the file and `last_line` is `line`.
        multiline: bool,
    },
    /// One cell failed validation.
    #[error("{}:{line}:{col}: column {column:?}: {problem}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The row's line.
        line: u64,
        /// 1-based field position in the row.
        col: usize,
        /// The column's name as hitcast knows it (after `--map`).
        column: String,
        /// What is wrong with the value.
        problem: FieldProblem,
    },
    /// One cell of a typed table (Arrow, Parquet, a data frame) failed validation.
    #[error("{}: row {row}, column {column:?}: {problem}", path.display())]
    Cell {
        /// The table: its file, or a name for a frame.
        path: PathBuf,
        /// 1-based row in the table.
        row: u64,
        /// The column's name as hitcast knows it (after the column map).
        column: String,
        /// What is wrong with the value.
        problem: FieldProblem,
    },
    /// A typed table's column holds a type no value of its column can have.
    #[error("{}: column {column:?} holds {found}, expected {expected}", path.display())]
    ColumnType {
        /// The table.
        path: PathBuf,
        /// The column's name as hitcast knows it (after the column map).
        column: String,
        /// The table's type for it.
        found: String,
        /// What the column takes, in words.
        expected: &'static str,
    },
    /// A file in another table format (Parquet) could not be decoded.
    #[error("{}: cannot read it as {what} (is the file truncated or corrupt?)", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The format tried.
        what: &'static str,
        /// The decoder's reason.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The CSV parser failed in another way.
    #[error("{}:{line}: malformed CSV", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line where the parser stopped.
        line: u64,
        /// The parser's reason.
        #[source]
        source: csv::Error,
    },
}

impl DataError {
    /// The line a row-level error points at, for errors that `--on-error skip` may skip.
    pub fn skippable_line(&self) -> Option<u64> {
        match self {
            // A quote left open: the lines it swallowed are rows that skipping would lose.
            DataError::FieldCount {
                line, last_line, ..
            } if last_line > line => None,
            DataError::FieldCount { line, .. } | DataError::Field { line, .. } => Some(*line),
            DataError::Cell { row, .. } => Some(*row),
            _ => None,
        }
    }
}

/// Why a `--map SRC=DST` specification was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// Not of the form `SRC=DST`.
    #[error("invalid column mapping {0:?}: expected SRC=DST, e.g. track_popularity=popularity")]
    Syntax(String),
    /// DST is not a column hitcast reads.
    #[error(
        "invalid column mapping {spec:?}: {dst:?} is not a column hitcast reads{}",
        meant_column(dst)
    )]
    UnknownTarget {
        /// The whole specification.
        spec: String,
        /// The unknown target.
        dst: String,
    },
    /// The same source column is mapped twice.
    #[error("column {0:?} is mapped twice")]
    Twice(String),
}

/// Where a table's column names come from, for messages that point at them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// A CSV file's first line.
    Csv,
    /// A CSV file's second line, after Excel's `sep=` hint.
    CsvAfterHint,
    /// An Arrow schema: a Parquet file, or a data frame handed to the Python package.
    Schema,
}

/// How messages name a header's parts.
struct HeaderWords {
    /// `:1` for a CSV header (its line), nothing for a schema, which has no lines.
    line: &'static str,
    has: &'static str,
    field: &'static str,
    fields: &'static str,
    /// How to rename: the command line's `--map`, and for a schema also the Python package's
    /// `columns=` (a frame reaches hitcast only through it).
    rename: &'static str,
    /// The renames given, as the user gave them.
    map: &'static str,
}

impl Header {
    fn words(self) -> HeaderWords {
        let csv = |line| HeaderWords {
            line,
            has: "the header has",
            field: "field",
            fields: "fields",
            rename: "--map SRC=DST",
            map: "--map",
        };
        match self {
            Header::Csv => csv(":1"),
            Header::CsvAfterHint => csv(":2"),
            Header::Schema => HeaderWords {
                line: "",
                has: "its columns are",
                field: "column",
                fields: "columns",
                rename: "--map SRC=DST, or columns={\"SRC\": \"DST\"} in Python",
                map: "the column map (--map, or columns= in Python)",
            },
        }
    }
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "no columns".to_owned();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// For each missing column, the header name most like it that names no column, when one is
/// close: a typo, another case or other separators (`Tempo`, `tmepo`, `track name`).
fn guesses(missing: &[String], found: &[String]) -> String {
    closest(
        missing,
        found
            .iter()
            .filter(|f| super::schema::Column::from_name(f).is_none()),
        look_alike,
    )
}

/// For each of `wanted`, the name of `candidates` that `like` finds for it, as " (did you mean
/// ...?)"; nothing when none is found.
fn closest<'a, C: Iterator<Item = &'a String> + Clone>(
    wanted: &[String],
    candidates: C,
    like: impl Fn(&str, C) -> Option<&'a String>,
) -> String {
    let found: Vec<(&String, &String)> = wanted
        .iter()
        .filter_map(|m| Some((like(m, candidates.clone())?, m)))
        .collect();
    // A name offered for several columns tells none of them apart (a header left whole by
    // the wrong separator holds every name).
    let pairs: Vec<String> = found
        .iter()
        .filter(|(name, _)| found.iter().filter(|(other, _)| other == name).count() == 1)
        .map(|(name, m)| format!("{name:?} for {m:?}"))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", pairs.join(", "))
    }
}

/// Separators as a message names them.
fn separators(b: u8) -> String {
    match b {
        b',' => "commas".to_owned(),
        b';' => "semicolons".to_owned(),
        b'\t' => "tabs".to_owned(),
        b'|' => "pipes".to_owned(),
        b => format!("{:?}", b as char),
    }
}

/// A separator as `--delimiter` takes it.
fn flag(b: u8) -> String {
    match b {
        b'\t' => "tab".to_owned(),
        b => format!("'{}'", b as char),
    }
}

/// The column a `--map` target that names none was likely meant to name (`popularty`,
/// `Popularity`), or the list of them.
fn meant_column(dst: &str) -> String {
    let names: Vec<String> = super::schema::Column::ALL
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    match typo_of(dst, names.iter()) {
        Some(name) => format!(" (did you mean {name:?}?)"),
        None => format!(" (one of {})", known()),
    }
}

/// The name of `candidates` that is `wanted` mistyped, if one is: another case, other
/// separators or about one edit in four letters (`Tempo`, `tmepo`, `track name`; "key" is not
/// "mode").
pub(crate) fn typo_of<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a String>,
) -> Option<&'a String> {
    let want = folded(wanted);
    candidates
        .map(|f| (strsim::damerau_levenshtein(&want, &folded(f)), f))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= (want.len() / 4).max(1))
        .map(|(_, name)| name)
}

/// The name of `candidates` most like the column `wanted`: a typo ([`typo_of`]), else the
/// shortest name holding it whole, as other exports prefix theirs (`track_popularity`,
/// `track_album_name`, `track_artist` for artists, `playlist_genre` for track_genre; a core
/// under five letters, `name` or `id`, is too common to tell).
pub(crate) fn look_alike<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a String> + Clone,
) -> Option<&'a String> {
    if let Some(name) = typo_of(wanted, candidates.clone()) {
        return Some(name);
    }
    let want = folded(wanted);
    let cores: Vec<&str> = [
        Some(want.as_str()),
        want.strip_suffix('s'),
        want.strip_prefix("track"),
    ]
    .into_iter()
    .flatten()
    .filter(|core| core.len() >= 5)
    .collect();
    candidates
        .filter(|f| {
            let f = folded(f);
            cores.iter().any(|core| f.contains(core))
        })
        .min_by_key(|f| f.len())
}

/// Why a column that scoring does without is required here.
fn why(missing: &[String]) -> &'static str {
    if missing.iter().any(|m| m == "track_id") {
        " (training collapses duplicate tracks on track_id)"
    } else {
        ""
    }
}

fn known() -> String {
    super::schema::Column::ALL
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

//! Which of a table's columns hitcast reads and where each cell goes ([`ColumnPlan`]), and a
//! cell as its source holds it ([`CellValue`]): the CSV reader and the Arrow and Parquet readers
//! share both, so every source is matched, renamed, defaulted and checked the same way.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{look_alike, DataError, Header};
use super::genre;
use super::reader::{DefaultUsed, RawRow, ReadOptions};
use super::schema::{folded, Absent, Column, FieldProblem, Rule, N_AUDIO};

/// One cell of a table, as its source holds it: CSV gives text; a typed table (Arrow, Parquet)
/// gives numbers, text or nulls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellValue<'a> {
    /// Text, parsed by the column's rule where it is numeric.
    Text(&'a str),
    /// A number (a boolean as 0 or 1), checked by the column's rule; written as text where the
    /// column is text.
    Number(f64),
    /// No value: missing, as an empty CSV cell is.
    Null,
}

impl CellValue<'_> {
    /// Nothing at all: a null, an empty cell or a NaN (how pandas and NumPy hold a missing
    /// value, in any column).
    fn is_empty(self) -> bool {
        match self {
            CellValue::Text(text) => text.is_empty(),
            CellValue::Number(x) => x.is_nan(),
            CellValue::Null => true,
        }
    }

    /// The number of a numeric column's cell; a missing value ([`FieldProblem::is_missing`]) for
    /// a null, a NaN, or text that says none ([`Rule::parse`]: empty, `NaN`, `NA`).
    fn number(self, rule: Rule, decimal_comma: bool) -> Result<f64, FieldProblem> {
        match self {
            CellValue::Text(text) if decimal_comma => rule.parse_decimal_comma(text),
            CellValue::Text(text) => rule.parse(text),
            CellValue::Number(x) if x.is_nan() => Err(FieldProblem::MissingMarked("NaN".into())),
            CellValue::Number(x) => rule.check(x),
            CellValue::Null => Err(FieldProblem::Missing),
        }
    }

    fn text(self) -> String {
        match self {
            CellValue::Text(text) => text.to_owned(),
            CellValue::Number(x) if !x.is_nan() => x.to_string(),
            CellValue::Number(_) | CellValue::Null => String::new(),
        }
    }
}

/// Which of a table's columns hitcast reads and where each goes, worked out once from the
/// column names: the CSV reader's header and an Arrow table's schema both go through it, so both
/// accept, rename (`--map`), default and refuse columns the same way.
#[derive(Clone, Debug)]
pub struct ColumnPlan {
    /// Position of each column in [`Column::ALL`] order, `None` when absent.
    fields: [Option<usize>; Column::ALL.len()],
    /// The present columns and where their cells go.
    plan: Vec<(usize, Column, Target)>,
    /// Audio values of a row before its cells are read: the defaults of absent columns.
    template: [f64; N_AUDIO],
    /// The names after `--map`, for messages about any field.
    names: Vec<String>,
    /// The positions of the columns [`ReadOptions::carry`] names, in its order.
    carried: Vec<usize>,
    defaults: Vec<DefaultUsed>,
    require_track_id: bool,
    /// Rows may leave the seven learned columns empty (files to score, not to train on).
    allow_measured: bool,
    /// Rows may leave popularity empty (files to score: a catalogue of released tracks and
    /// new songs; a catalogue to evaluate on, partly labelled).
    allow_unlabelled: bool,
    /// A popularity that is no score is read as empty (a file read to be scored).
    popularity_unread: bool,
    /// Numbers may be written with a decimal comma ([`ColumnPlan::with_decimal_comma`]).
    decimal_comma: bool,
}

impl ColumnPlan {
    /// Matches column names (in table order) against hitcast's columns; `path` names the table
    /// in errors, `header` says where the names came from. Unknown names are ignored; a column
    /// named twice, a required one absent, or a `--map` source the table lacks is an error.
    pub fn new(
        names: impl IntoIterator<Item = String>,
        options: &ReadOptions,
        path: &Path,
        header: Header,
    ) -> Result<ColumnPlan, DataError> {
        let mut fields = [None; Column::ALL.len()];
        let mut found = Vec::new();
        let names: Vec<String> = names.into_iter().collect();
        let unmatched: Vec<String> = options
            .map
            .sources()
            .filter(|source| !names.iter().any(|n| n == source))
            .map(str::to_owned)
            .collect();
        if !unmatched.is_empty() {
            return Err(DataError::UnmatchedMap {
                path: path.to_owned(),
                header,
                unmatched,
                found: names,
            });
        }
        let (carried, absent): (Vec<_>, Vec<_>) = options
            .carry
            .iter()
            .map(|wanted| {
                let at = names.iter().position(|n| n == wanted).or_else(|| {
                    let wanted = folded(wanted);
                    names.iter().position(|n| folded(n) == wanted)
                });
                (at, wanted)
            })
            .partition(|(at, _)| at.is_some());
        if !absent.is_empty() {
            return Err(DataError::CarriedAbsent {
                path: path.to_owned(),
                header,
                absent: absent.into_iter().map(|(_, n)| n.clone()).collect(),
                found: names,
            });
        }
        let carried = carried.into_iter().filter_map(|(at, _)| at).collect();
        let mut written: Vec<String> = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            let Some(column) = options.map.resolve(&name) else {
                found.push(name.clone());
                written.push(name);
                continue;
            };
            found.push(column.name().to_owned());
            let slot = &mut fields[column_slot(column)];
            if let Some(first) = *slot {
                // A field --map renamed onto a column the header already has: say which.
                let renamed = [(first, &written[first]), (i, &name)]
                    .into_iter()
                    .find(|(_, n)| options.map.sources().any(|source| source == n.as_str()))
                    .map(|(at, n)| (at + 1, n.clone()));
                return Err(DataError::DuplicateColumn {
                    path: path.to_owned(),
                    header,
                    name: column.name().to_owned(),
                    first: first + 1,
                    second: i + 1,
                    renamed,
                });
            }
            *slot = Some(i);
            written.push(name);
        }
        let mut missing = Vec::new();
        let mut defaults = Vec::new();
        // A file to score that lacks all seven learned columns holds rows measured from audio.
        let measured = !options.require_popularity
            && Column::LEARNED
                .iter()
                .all(|&c| fields[column_slot(c)].is_none());
        for column in Column::ALL {
            if fields[column_slot(column)].is_some() {
                continue;
            }
            if measured && column.is_learned() {
                continue;
            }
            // Another export's name for it, among the names that name no column.
            let like = || {
                let unread = found.iter().filter(|f| Column::from_name(f).is_none());
                look_alike(column.name(), unread).cloned()
            };
            match column.when_absent() {
                Absent::Required => missing.push(column.name().to_owned()),
                Absent::Unlabelled if options.require_popularity => {
                    missing.push(column.name().to_owned())
                }
                // Said only where the header seems to hold it under another name: a file to
                // score needs no popularity, but one to evaluate a model on does.
                Absent::Unlabelled => {
                    if let Some(like) = like() {
                        defaults.push(DefaultUsed {
                            column: column.name(),
                            default: "none (the tracks are scored, not measured against it)",
                            like: Some(like),
                            header,
                        })
                    }
                }
                Absent::DefaultForScoring(_) if options.require_track_id => {
                    missing.push(column.name().to_owned())
                }
                Absent::Default(default) | Absent::DefaultForScoring(default) => {
                    defaults.push(DefaultUsed {
                        column: column.name(),
                        default,
                        like: like(),
                        header,
                    })
                }
            }
        }
        if !missing.is_empty() {
            return Err(DataError::MissingColumns {
                path: path.to_owned(),
                header,
                missing,
                found,
            });
        }
        if measured {
            defaults.push(DefaultUsed {
                column: "danceability, energy, speechiness, acousticness, instrumentalness, liveness, valence",
                default: "none: rows measured from audio, which the model's from-audio model answers",
                like: None,
                header,
            });
        }
        let mut plan = Vec::new();
        let mut template = [0.0; N_AUDIO];
        for column in Column::ALL {
            match (fields[column_slot(column)], column.audio_index()) {
                (Some(field), _) => plan.push((field, column, Target::of(column))),
                (None, Some(i)) if column.is_learned() => template[i] = f64::NAN,
                (None, Some(i)) => template[i] = column.audio_default().unwrap_or(0.0),
                (None, None) => {}
            }
        }
        Ok(ColumnPlan {
            fields,
            plan,
            template,
            names: found,
            carried,
            defaults,
            require_track_id: options.require_track_id,
            allow_measured: !options.require_popularity,
            allow_unlabelled: !options.require_popularity,
            popularity_unread: options.popularity_unread,
            decimal_comma: false,
        })
    }

    /// The plan for a CSV separated by semicolons, where a number's one comma is its decimal
    /// point ([`Rule::parse_decimal_comma`]).
    pub fn with_decimal_comma(mut self, yes: bool) -> ColumnPlan {
        self.decimal_comma = yes;
        self
    }

    /// The columns read, each with its position in the table.
    pub fn columns(&self) -> impl Iterator<Item = (usize, Column)> + '_ {
        self.plan.iter().map(|&(field, column, _)| (field, column))
    }

    /// The positions of the columns rows carry as text ([`ReadOptions::carry`]).
    pub fn carried(&self) -> &[usize] {
        &self.carried
    }

    /// Whether the table has `column`.
    pub fn has(&self, column: Column) -> bool {
        self.fields[column_slot(column)].is_some()
    }

    /// The name (after `--map`) of the table's column at `field`.
    pub fn name(&self, field: usize) -> &str {
        self.names.get(field).map_or("", String::as_str)
    }

    /// Absent columns and the defaults every row gets for them.
    pub fn defaults(&self) -> &[DefaultUsed] {
        &self.defaults
    }

    /// `counts` (in [`Column::ALL`] order) for the columns present, by name.
    pub fn missing_counts(&self, counts: &[u64; Column::ALL.len()]) -> BTreeMap<&'static str, u64> {
        Column::ALL
            .iter()
            .filter(|c| self.has(**c))
            .map(|&c| (c.name(), counts[column_slot(c)]))
            .collect()
    }

    /// A row at `line` holding only the defaults of absent columns.
    pub fn empty_row(&self, line: u64) -> RawRow {
        RawRow {
            line,
            track_id: String::new(),
            artists: String::new(),
            album_name: String::new(),
            track_name: String::new(),
            carried: Vec::new(),
            popularity: None,
            audio: self.template,
            genres: Vec::new(),
        }
    }

    /// Validates and stores the cell of every column read, `cell(field)` giving the table's
    /// cell at a position. Returns which columns (in [`Column::ALL`] order) were empty, or the
    /// first bad cell's position, column and problem.
    pub fn fill<'c>(
        &self,
        row: &mut RawRow,
        mut cell: impl FnMut(usize) -> CellValue<'c>,
    ) -> Result<[bool; Column::ALL.len()], (usize, Column, FieldProblem)> {
        let mut empty = [false; Column::ALL.len()];
        // The first learned column left empty, when a row to score may be a measured one.
        let mut first_empty_learned = None;
        for &(field, column, target) in &self.plan {
            let value = cell(field);
            let fail = |problem| (field, column, problem);
            // A number column's cell is parsed once; a missing value is what its parse says.
            let slot = &mut empty[column_slot(column)];
            match target {
                Target::Audio(i, rule) => match value.number(rule, self.decimal_comma) {
                    Ok(x) => row.audio[i] = x,
                    Err(p) if p.is_missing() && self.allow_measured && column.is_learned() => {
                        *slot = true;
                        row.audio[i] = f64::NAN;
                        first_empty_learned.get_or_insert((field, column));
                    }
                    // An empty cell of a column with a default (explicit, time_signature)
                    // takes it, as every row does where the column is absent.
                    Err(p) if p.is_missing() && column.audio_default().is_some() => {
                        *slot = true;
                        row.audio[i] = column.audio_default().unwrap_or_default();
                    }
                    Err(problem) => return Err(fail(problem)),
                },
                // The rule checks 0..=100, so the cast is exact.
                Target::Popularity(rule) => match value.number(rule, self.decimal_comma) {
                    Ok(x) => row.popularity = Some(x as u8),
                    Err(p) if p.is_missing() && self.allow_unlabelled => {
                        *slot = true;
                        row.popularity = None;
                    }
                    // Scoring reads no popularity: a cell that is none does not stop it.
                    Err(_) if self.popularity_unread => row.popularity = None,
                    Err(problem) => return Err(fail(problem)),
                },
                Target::TrackId => {
                    row.track_id = value.text();
                    if self.require_track_id && row.track_id.trim().is_empty() {
                        return Err(fail(FieldProblem::Missing));
                    }
                }
                Target::Artists => row.artists = value.text(),
                Target::AlbumName => row.album_name = value.text(),
                Target::TrackName => row.track_name = value.text(),
                Target::Genre => row.genres = genre::parse_cell(&value.text()),
            }
            match target {
                Target::Audio(..) | Target::Popularity(_) => {}
                // Missing when it names no genre (empty, or R's NA).
                Target::Genre => *slot = row.genres.is_empty(),
                _ => *slot = value.is_empty(),
            }
        }
        row.carried = self
            .carried
            .iter()
            .map(|&field| cell(field).text())
            .collect();
        // All seven learned columns empty is a measured row; some of them, a missing value.
        if let Some((field, column)) = first_empty_learned {
            let learned = Column::LEARNED
                .iter()
                .filter_map(|c| c.audio_index())
                .filter(|&i| row.audio[i].is_nan())
                .count();
            if learned < Column::LEARNED.len() {
                return Err((field, column, FieldProblem::PartlyMeasured));
            }
        }
        Ok(empty)
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

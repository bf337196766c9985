//! The input side of `predict` and `explain`: a file of tracks (no popularity needed) read in
//! bounded batches, with bad rows failing the command or, with `--on-error skip`, counted.

use std::iter::Peekable;
use std::path::{Path, PathBuf};

use anyhow::Context;

use clap::Args;
use hitcast::artifact::Role;
use hitcast::data::{Column, ColumnMap, DataError, OnError, RawRow, ReadOptions, RowSource};
use hitcast::predictor::{Genres, Predictor, UnknownGenres};
use hitcast::text::thousands;

use crate::dataset::{open_rows, warn_defaults, OnErrorArg};
use crate::model_file::load_predictor;

/// Flags for a file of tracks to score.
#[derive(Debug, Args)]
// One of the two sources: without either, the error names both.
#[command(group(clap::ArgGroup::new("tracks").required(true).args(["input", "audio"])))]
pub struct InputArgs {
    /// Tracks to score, CSV, CSV.gz or Parquet (`-`: a CSV on standard input); a popularity
    /// column is not needed.
    // The song flags speak of songs measured from audio: with a file, whose rows name their
    // own genres and titles, they would be silently ignored.
    #[arg(long, value_name = "FILE", long_help = input_help(),
          conflicts_with_all = ["genre", "explicit", "title", "artists", "album"])]
    pub input: Option<PathBuf>,
    /// Songs to measure from their audio files and score in one step, instead of --input (as
    /// `hitcast features` measures them; the model's from-audio model answers them).
    #[arg(long, num_args = 1.., value_name = "SONG", conflicts_with = "input")]
    pub audio: Vec<PathBuf>,
    #[command(flatten)]
    pub song: crate::cmd::features::SongArgs,
    /// Read header column SRC as hitcast's column DST (repeatable or comma-separated).
    #[arg(long = "map", value_name = "SRC=DST", value_parser = crate::dataset::parse_map)]
    pub map: Vec<String>,
    /// The CSV field separator: `,` `;` `tab` `|` or any one character. Default: the one an
    /// Excel `sep=` first line names, else the one of those four the header line uses most.
    #[arg(long, value_name = "CHAR", value_parser = hitcast::data::parse_delimiter)]
    pub delimiter: Option<u8>,
    /// What to do with a row that fails validation.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
    /// use: a track with a genre the model knows is scored with its genres, one without by the
    /// model's no-genres companion. ignore: every track by the no-genres companion, for a
    /// catalogue whose genre labels mean something else than this dataset's (`hitcast model
    /// evaluate` on a labelled sample of it tells which scores better). A song measured from
    /// audio is answered by the from-audio model, which has no counterpart without genres: it
    /// reads the genres named (and --audio refuses ignore).
    #[arg(long, default_value = "use", value_parser = |s: &str| s.parse::<Genres>())]
    pub genres: Genres,
}

/// Rows of the input in batches, and what was skipped or not understood on the way.
pub struct Batches {
    rows: Peekable<Box<dyn RowSource + Send>>,
    /// The input, as its errors name it.
    path: PathBuf,
    skip: bool,
    size: usize,
    skipped: u64,
    first_skip: Option<DataError>,
    /// Genres the model does not know (they are not read), by the answers that met them.
    pub unknown_genres: UnknownGenres,
    /// Rows answered by each model, in [`Role::ALL`] order.
    pub answered: [u64; Role::ALL.len()],
    /// Whether genres are read.
    genres: Genres,
    /// The columns the input lacks (each row given the default).
    pub absent: Vec<&'static str>,
    /// The columns the input has (what --keep may copy).
    present: Vec<Column>,
}

impl Batches {
    /// Whether the input has `column` (songs measured from audio have every column, the
    /// learned ones empty).
    pub fn has(&self, column: Column) -> bool {
        self.present.contains(&column)
    }

    /// Counts an answer of `role`.
    pub fn answered_by(&mut self, role: Role) {
        let i = Role::ALL.iter().position(|&r| r == role).unwrap_or(0);
        self.answered[i] += 1;
    }
}

/// `--input`'s long help: what a file to score holds, the ranges from the checks themselves.
fn input_help() -> String {
    let ranges: Vec<String> = Column::AUDIO
        .iter()
        .filter_map(|c| c.bounds().map(|d| format!("{c} {}", d.range())))
        .collect();
    format!(
        "Tracks to score: CSV, CSV.gz or Parquet (told apart by their first bytes; Parquet \
         columns may hold numbers, booleans or text); `-` reads a CSV or CSV.gz from standard \
         input. Columns are matched by name (see --map); popularity is \
         not needed, track_id may be absent or empty (the output's track_id is then empty), \
         explicit defaults to false and time_signature to 4. A genre cell may list several \
         genres separated by , ; or |, in other catalogues' spellings (R&B, Hip Hop). Values \
         outside these ranges are refused: {}.",
        ranges.join(", ")
    )
}

impl InputArgs {
    /// Loads the model file at `path`, reading or ignoring genres as asked.
    pub fn predictor(&self, path: &Path) -> anyhow::Result<Predictor> {
        if self.genres == Genres::Ignore && !self.audio.is_empty() {
            anyhow::bail!(
                "--genres ignore: a song measured from audio is answered by the from-audio \
                 model, which reads the genres named (it has no counterpart without genres); \
                 leave out --genres ignore"
            );
        }
        let predictor = load_predictor(path)?;
        predictor
            .with_genres(self.genres)
            .with_context(|| format!("{}: --genres ignore", path.display()))
    }

    /// Opens the input for batches of `size` rows: the file's, each row carrying the cells of
    /// the columns `carry` names (hitcast reads them not), or the songs' measured from their
    /// audio files (all of them first, on every core).
    pub fn batches(&self, size: usize, carry: &[String]) -> anyhow::Result<Batches> {
        let skip = self.on_error == OnErrorArg::Skip;
        let rows: Box<dyn RowSource + Send> = match &self.input {
            Some(path) => self.open(path, carry)?,
            None => Box::new(self.song.measured_rows(&self.audio, skip)?),
        };
        Ok(Batches {
            absent: rows.defaults().iter().map(|d| d.column).collect(),
            present: Column::ALL.into_iter().filter(|&c| rows.has(c)).collect(),
            path: rows.path().to_owned(),
            rows: rows.peekable(),
            skip,
            size: size.max(1),
            skipped: 0,
            first_skip: None,
            unknown_genres: UnknownGenres::default(),
            answered: [0; Role::ALL.len()],
            genres: self.genres,
        })
    }

    /// The rows of the file at `path`.
    fn open(&self, path: &Path, carry: &[String]) -> anyhow::Result<Box<dyn RowSource + Send>> {
        let options = ReadOptions {
            map: ColumnMap::parse(&self.map)?,
            on_error: match self.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            require_popularity: false,
            popularity_unread: true,
            require_track_id: false,
            delimiter: self.delimiter,
            carry: carry.to_vec(),
        };
        let reader = if self.reads_stdin() {
            stdin_rows(&options)?
        } else {
            open_rows(path, &options)?
        };
        warn_defaults(reader.defaults(), &self.map);
        Ok(reader)
    }

    /// Whether the tracks come from standard input (`--input -`), which can be read once.
    pub fn reads_stdin(&self) -> bool {
        self.input.as_deref() == Some(Path::new("-"))
    }
}

/// The rows of a CSV (or gzipped CSV) on standard input, named `<stdin>` in messages. Parquet
/// is refused: its index sits at the end of the file, so it cannot be read as a stream.
fn stdin_rows(options: &ReadOptions) -> anyhow::Result<Box<dyn RowSource + Send>> {
    use std::io::BufRead as _;
    let mut input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
    let start = input
        .fill_buf()
        .context("<stdin>: cannot read standard input")?;
    if start.starts_with(b"PAR1") {
        anyhow::bail!(
            "<stdin>: a Parquet file cannot be read from standard input (its index is at its \
             end): give its path to --input"
        );
    }
    let path = Path::new("<stdin>");
    Ok(Box::new(hitcast::data::RowReader::from_reader(
        input, path, options,
    )?))
}

/// Batches read ahead of the one being scored: enough to keep the reader busy, few enough to
/// bound memory.
const AHEAD: usize = 2;

impl Batches {
    /// Calls `f` on each batch in order while the next ones are read on another thread, so
    /// reading the file overlaps scoring it (reading was a third of `hitcast predict`'s time,
    /// on one core while the other idled). Stops at the first error, of reading or of `f`, and
    /// gives back the tallies for [`Batches::report`].
    pub fn read_ahead(
        mut self,
        mut f: impl FnMut(Vec<RawRow>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Batches> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD);
            let reader = scope.spawn(move || {
                loop {
                    let next = self.next_batch();
                    let last = !matches!(next, Ok(Some(_)));
                    // A closed channel: the scoring side stopped at an error.
                    if tx.send(next).is_err() || last {
                        return self;
                    }
                }
            });
            let mut outcome = Ok(());
            for next in &rx {
                outcome = match next {
                    Ok(Some(batch)) => f(batch),
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if outcome.is_err() {
                    break;
                }
            }
            drop(rx);
            let batches = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.map(|()| batches)
        })
    }

    /// The next batch, `None` at the end of the file; a bad row is an error unless skipping.
    pub fn next_batch(&mut self) -> anyhow::Result<Option<Vec<RawRow>>> {
        if self.rows.peek().is_none() {
            return Ok(None);
        }
        let mut batch = Vec::with_capacity(self.size);
        for row in self.rows.by_ref() {
            match row {
                Ok(row) => batch.push(row),
                Err(e) if self.skip && e.skippable_line().is_some() => {
                    self.skipped += 1;
                    self.first_skip.get_or_insert(e);
                }
                Err(e) => return Err(e.into()),
            }
            if batch.len() == self.size {
                break;
            }
        }
        Ok(Some(batch))
    }

    /// Refuses an input of which `--on-error skip` left nothing, naming the first bad row: an
    /// empty output with exit 0 would read as a catalogue scored. (A file of no rows is scored:
    /// its answers are the header line alone.)
    pub fn some_read(&mut self, read: u64) -> anyhow::Result<()> {
        if read > 0 {
            return Ok(());
        }
        // Said as a whole file read with --on-error skip says it.
        match self.first_skip.take() {
            Some(first) => Err(DataError::AllSkipped {
                path: self.path.clone(),
                skipped: self.skipped,
                first: Box::new(first),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Logs the unknown genres, each once with the number of rows listing it, and the skipped
    /// rows, once the input is done.
    pub fn report(&self) {
        let [main, new_song, no_genres, from_audio] = self.answered;
        if new_song + no_genres + from_audio > 0 {
            let mut by = Vec::new();
            if main > 0 {
                by.push(format!("main model {}", thousands(main)));
            }
            if new_song > 0 {
                by.push(format!(
                    "new-song model {} (rows without track_id)",
                    thousands(new_song)
                ));
            }
            if no_genres > 0 {
                by.push(format!(
                    "model without genres {} ({})",
                    thousands(no_genres),
                    if self.genres == Genres::Ignore {
                        "--genres ignore"
                    } else {
                        "no genre the model knows"
                    }
                ));
            }
            if from_audio > 0 {
                by.push(format!(
                    "from-audio model {} (rows measured from audio)",
                    thousands(from_audio)
                ));
            }
            tracing::warn!("rows answered by: {}", by.join("; "));
        }
        if let Some(notice) = self.unknown_genres.notice() {
            tracing::warn!("{notice}");
        }
        if self.skipped > 0 {
            tracing::warn!(
                "skipped {} bad row(s); first: {}",
                self.skipped,
                self.first_skip
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
        }
    }
}

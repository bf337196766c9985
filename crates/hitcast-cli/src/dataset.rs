//! The flags every data-reading subcommand shares (where the data is, which protocol), and
//! turning them into loaded rows and splits.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use hitcast::data::{
    locate_dataset, parse_delimiter, ColumnMap, DefaultUsed, Loaded, OnError, RawRow, ReadOptions,
    RowSource, Tracks, DATA_ENV, DEFAULT_THRESHOLD,
};
use hitcast::split::{Protocol, Split};

/// Where the data comes from and how to read it.
#[derive(Clone, Debug, Args)]
pub struct DataArgs {
    /// The tracks: CSV, CSV.gz or Parquet (told apart by their first bytes). Default: $HITCAST_DATA, else data/spotify_tracks.csv.gz, else
    /// ../shared/data/spotify_tracks.csv.gz.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Read header column SRC as hitcast's column DST (repeatable, or comma-separated), e.g.
    /// --map track_popularity=popularity,track_artist=artists.
    #[arg(long = "map", value_name = "SRC=DST", value_parser = parse_map)]
    pub map: Vec<String>,
    /// The CSV field separator: `,` `;` `tab` `|` or any one character. Default: the one an
    /// Excel `sep=` first line names, else the one of those four the header line uses most.
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// What to do with a row that fails validation.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
}

/// One `--map` value, checked where clap reads it (so a malformed one is a usage error, exit
/// 2): `SRC=DST` pairs, comma-separated, each DST one of hitcast's columns.
pub fn parse_map(text: &str) -> Result<String, String> {
    ColumnMap::parse(&[text])
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// Says which absent columns got defaults; where the header seems to hold two or more of them
/// under other names, one `--map` for all of them, the user's own included.
pub fn warn_defaults(defaults: &[DefaultUsed], given: &[String]) {
    for d in defaults {
        tracing::warn!("{d}");
    }
    let offered: Vec<String> = defaults
        .iter()
        .filter_map(|d| Some(format!("{}={}", d.like.as_ref()?, d.column)))
        .collect();
    if offered.len() > 1 {
        let all: Vec<&str> = given
            .iter()
            .map(String::as_str)
            .chain(offered.iter().map(String::as_str))
            .collect();
        tracing::warn!("to read them all: --map {}", all.join(","));
    }
}

/// `--on-error` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop at the first bad row (or song file) and name it.
    Fail,
    /// Drop bad rows (or song files), then report how many and which.
    Skip,
}

impl DataArgs {
    /// Finds the dataset file (the lookup order of docs/data.md).
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        let env = std::env::var(DATA_ENV).ok();
        // An empty base keeps the defaults relative to the current directory, as typed.
        Ok(locate_dataset(
            self.data.as_deref(),
            env.as_deref(),
            Path::new(""),
        )?)
    }

    /// Reader options for labelled data (popularity and track ids required).
    pub fn options(&self) -> anyhow::Result<ReadOptions> {
        Ok(ReadOptions {
            map: ColumnMap::parse(&self.map)?,
            on_error: match self.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            require_popularity: true,
            require_track_id: true,
            popularity_unread: false,
            delimiter: self.delimiter,
            carry: Vec::new(),
        })
    }

    /// Finds the file, reads and validates it (popularity required), and logs what was
    /// defaulted or skipped.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        self.load_labelled(true)
    }

    /// [`DataArgs::load`], with the popularity column and track ids optional unless
    /// `labelled` (a catalogue to evaluate on may hold new songs).
    pub fn load_labelled(&self, labelled: bool) -> anyhow::Result<Loaded> {
        let path = self.path()?;
        tracing::info!(path = %path.display(), "reading");
        let options = ReadOptions {
            require_popularity: labelled,
            require_track_id: labelled,
            ..self.options()?
        };
        let loaded = hitcast_arrow::read_file(&path, &options)?;
        warn_defaults(&loaded.report.defaults, &self.map);
        if let Some(skipped) = loaded.report.skipped_notice() {
            tracing::warn!("{skipped}");
        }
        Ok(loaded)
    }
}

/// The evaluation protocol flags shared by `data split`, `experiment` and `train`.
#[derive(Clone, Debug, Args)]
pub struct ProtocolArgs {
    /// honest: tracks grouped by primary artist (published figures); reference: the reference
    /// project's leaky random split of raw rows (`seed` reads the same); known-artist: tracks
    /// grouped by track id;
    /// genre-holdout: TEST holds a fifth of the genres (how a model does on genres it never
    /// saw).
    #[arg(long, default_value = "honest", value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// The TEST fold (0-4) of the honest, known-artist and genre-holdout protocols.
    #[arg(long, default_value_t = 0, value_parser = crate::flags::whole_in::<u8, 0, 4>)]
    pub fold: u8,
    /// A track is popular when its popularity is above this.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = crate::flags::whole_in::<u8, 0, 99>)]
    pub threshold: u8,
}

/// Parses `--protocol`.
pub fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
        .map_err(|e: hitcast::split::SplitError| e.to_string())
}

impl ProtocolArgs {
    /// Loads the data as the protocol's table (collapsed tracks, or raw rows for seed) with its
    /// labels.
    pub fn table(&self, data: &DataArgs) -> anyhow::Result<(Tracks, Vec<bool>)> {
        self.table_from(data.load()?.rows)
    }

    /// [`ProtocolArgs::table`] of rows already read.
    pub fn table_from(&self, rows: Vec<RawRow>) -> anyhow::Result<(Tracks, Vec<bool>)> {
        let tracks = self.protocol.table(rows);
        let labels = tracks
            .labels(self.threshold)
            .context("the data has no popularity column")?;
        Ok((tracks, labels))
    }

    /// The protocol's split of `tracks` with TEST fold `fold`.
    pub fn split(
        &self,
        tracks: &Tracks,
        labels: &[bool],
        fold: u8,
        seed: u64,
    ) -> anyhow::Result<Split> {
        Ok(Split::new(tracks, labels, self.protocol, fold, seed)?)
    }
}

/// A table of tracks to read row by row: Parquet when the file starts as one, else CSV (plain
/// or gzip).
pub fn open_rows(path: &Path, options: &ReadOptions) -> anyhow::Result<Box<dyn RowSource + Send>> {
    Ok(hitcast_arrow::open_rows(path, options)?)
}

/// The SHA-256 of a file, in hex (the model metadata's `data_sha256`).
pub fn sha256_file(path: &std::path::Path) -> anyhow::Result<String> {
    hitcast::data::file_sha256(path)
        .with_context(|| format!("{}: cannot read the data file", path.display()))
}

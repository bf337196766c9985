//! `hitcast features`: what can be measured of songs from their audio files, one row a file
//! in the dataset's columns (duration, loudness, tempo, key, mode, metre; the seven columns
//! Spotify learnt are left empty), with the measurements' confidences beside them.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::ArrowError;

use anyhow::Context;
use clap::Args;
use hitcast::data::{Column, DataError, DefaultUsed, RawRow, RowSource};
use hitcast::fsutil::AtomicFile;
use hitcast_arrow::{names_parquet, ParquetSink};
use hitcast_audio::{measure_file, title_of, Measured, Song};
use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::OnErrorArg;
use crate::Globals;

/// The columns written, in order: the file, then the dataset's columns (the learned ones
/// empty), then the confidences.
pub const COLUMNS: [&str; 22] = [
    "file",
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "duration_ms",
    "explicit",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "track_genre",
    "tempo_confidence",
    "key_confidence",
];

/// Flags of `hitcast features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Audio files: WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC), of any channel count and sample rate,
    /// 5 seconds to 2 hours long.
    #[arg(required = true, value_name = "SONG")]
    songs: Vec<PathBuf>,
    /// Write the rows here instead of standard output: Parquet when the name ends in
    /// `.parquet` (the learned columns null), CSV otherwise; written atomically.
    #[arg(long, value_name = "FILE.csv|FILE.parquet", value_parser = crate::output::table_path)]
    output: Option<PathBuf>,
    /// Print the rows as a JSON array instead of CSV.
    #[arg(long, conflicts_with = "output")]
    json: bool,
    #[command(flatten)]
    song: SongArgs,
    /// What to do with a file that cannot be measured: fail (name it, exit 1) or skip it (and
    /// say so).
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    on_error: OnErrorArg,
}

/// What a user says of songs measured from audio: what no audio file gives.
#[derive(Clone, Debug, Default, Args)]
pub struct SongArgs {
    /// The songs' genre (the dataset's names or others': "pop", "R&B"; repeatable).
    #[arg(long, value_name = "GENRE", value_parser = genre_name)]
    pub genre: Vec<String>,
    /// The songs have explicit lyrics.
    #[arg(long)]
    pub explicit: bool,
    /// The song's title (one song only; otherwise each file's name).
    #[arg(long)]
    pub title: Option<String>,
    /// The songs' artists, separated by `;`.
    #[arg(long)]
    pub artists: Option<String>,
    /// The songs' album (a single's album is its title).
    #[arg(long)]
    pub album: Option<String>,
}

/// `--genre`'s value: a name, not an empty one (which would write an empty genre to the row).
fn genre_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("expected a genre's name, not an empty one".to_owned());
    }
    Ok(name.to_owned())
}

impl SongArgs {
    /// Each song measured, on every core, in the order given: a song that cannot be measured
    /// fails the whole, naming it, or with `skip` is left out with a warning.
    pub fn measure(
        &self,
        songs: &[PathBuf],
        skip: bool,
    ) -> anyhow::Result<Vec<(PathBuf, Measured)>> {
        anyhow::ensure!(
            self.title.is_none() || songs.len() <= 1,
            "--title names one song: {} were given",
            songs.len()
        );
        let measured: Vec<(&PathBuf, Result<Measured, hitcast_audio::AudioError>)> = songs
            .par_iter()
            .map(|path| (path, measure_file(path)))
            .collect();
        let mut out = Vec::with_capacity(measured.len());
        let mut first = None;
        for (path, result) in measured {
            let said = match result {
                Ok(m) => {
                    out.push((path.clone(), m));
                    continue;
                }
                Err(e) => format!("{}: {e}{}", path.display(), e.advice()),
            };
            anyhow::ensure!(skip, "{said}");
            tracing::warn!("skipped {said}");
            first.get_or_insert(said);
        }
        // Nothing left to write: refused, as an empty output with exit 0 would pass for one.
        if let (true, Some(first)) = (out.is_empty(), first) {
            anyhow::bail!("every song failed; first: {first}");
        }
        Ok(out)
    }

    /// The title of the song in the file at `path`: `--title`, else the file's name.
    fn title(&self, path: &Path) -> String {
        self.title.clone().unwrap_or_else(|| title_of(path))
    }

    /// What the user said of the song in the file at `path`.
    pub fn song(&self, path: &Path) -> Song {
        Song {
            title: self.title(path),
            artists: self.artists.clone().unwrap_or_default(),
            album: self.album.clone().unwrap_or_default(),
            genres: self.genre.clone(),
            explicit: self.explicit,
        }
    }

    /// The songs measured, as rows to score (see [`SongArgs::measure`]).
    pub fn measured_rows(&self, songs: &[PathBuf], skip: bool) -> anyhow::Result<MeasuredRows> {
        let rows: Vec<RawRow> = self
            .measure(songs, skip)?
            .iter()
            .enumerate()
            .map(|(i, (path, m))| m.row(i as u64 + 1, &self.song(path)))
            .collect();
        Ok(MeasuredRows {
            rows: rows.into_iter(),
        })
    }
}

/// Songs measured from audio, as a source of rows to score.
pub struct MeasuredRows {
    rows: std::vec::IntoIter<RawRow>,
}

impl Iterator for MeasuredRows {
    type Item = Result<RawRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next().map(Ok)
    }
}

impl RowSource for MeasuredRows {
    fn path(&self) -> &Path {
        Path::new("the songs")
    }
    fn defaults(&self) -> &[DefaultUsed] {
        &[]
    }
    fn missing(&self) -> BTreeMap<&'static str, u64> {
        BTreeMap::new()
    }
    fn has(&self, column: Column) -> bool {
        // Every column a song's row has (the learned ones empty), but a popularity.
        column != Column::Popularity
    }
}

/// One song's row.
#[derive(Debug, Serialize)]
struct Row {
    file: String,
    track_id: String,
    artists: String,
    album_name: String,
    track_name: String,
    duration_ms: u64,
    explicit: bool,
    danceability: Option<f64>,
    energy: Option<f64>,
    key: i32,
    loudness: f64,
    mode: u8,
    speechiness: Option<f64>,
    acousticness: Option<f64>,
    instrumentalness: Option<f64>,
    liveness: Option<f64>,
    valence: Option<f64>,
    tempo: f64,
    time_signature: u8,
    track_genre: String,
    tempo_confidence: f64,
    key_confidence: f64,
}

impl FeaturesArgs {
    /// Measures every song, in parallel, and writes the rows in the order given.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        let measured = self
            .song
            .measure(&self.songs, self.on_error == OnErrorArg::Skip)?;
        let rows: Vec<Row> = measured.iter().map(|(path, m)| self.row(path, m)).collect();
        if self.json {
            return crate::output::print_json(&rows);
        }
        match &self.output {
            Some(path) if names_parquet(path) => {
                let batch = batch(&rows)
                    .with_context(|| format!("{}: cannot lay out the rows", path.display()))?;
                let mut sink = ParquetSink::create(path, batch.schema())?;
                sink.write(&batch)?;
                sink.commit()?;
            }
            Some(path) => {
                let file = AtomicFile::create(path)
                    .with_context(|| format!("{}: cannot create the output", path.display()))?;
                let file = write_csv(file, &rows)?;
                file.commit()
                    .with_context(|| format!("{}: cannot write the output", path.display()))?;
            }
            None => {
                let out = write_csv(Vec::new(), &rows)?;
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&out)?;
                stdout.flush()?;
            }
        }
        Ok(())
    }

    fn row(&self, path: &Path, m: &Measured) -> Row {
        let song = &self.song;
        Row {
            file: path.display().to_string(),
            track_id: String::new(),
            artists: song.artists.clone().unwrap_or_default(),
            album_name: song.album.clone().unwrap_or_default(),
            track_name: song.title(path),
            duration_ms: m.duration_ms as u64,
            explicit: song.explicit,
            danceability: None,
            energy: None,
            key: m.key,
            loudness: m.dataset_loudness(),
            mode: m.mode,
            speechiness: None,
            acousticness: None,
            instrumentalness: None,
            liveness: None,
            valence: None,
            tempo: m.tempo,
            time_signature: m.time_signature,
            track_genre: song.genre.join(";"),
            tempo_confidence: m.tempo_confidence,
            key_confidence: m.key_confidence,
        }
    }
}

/// The rows as CSV, header first, into `out`.
fn write_csv<W: std::io::Write>(out: W, rows: &[Row]) -> anyhow::Result<W> {
    let mut csv = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    csv.write_record(COLUMNS)?;
    for row in rows {
        csv.serialize(row)?;
    }
    csv.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the rows: {}", e.error()))
}

/// The rows as one Arrow batch in the order of [`COLUMNS`]: text as text, whole numbers as
/// Int64, `explicit` as a boolean, the rest as Float64, the learned columns null.
fn batch(rows: &[Row]) -> Result<RecordBatch, ArrowError> {
    let text = |f: fn(&Row) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let whole = |f: fn(&Row) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    let number = |f: fn(&Row) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from_iter(rows.iter().map(f)))
    };
    let columns: [(&str, ArrayRef); COLUMNS.len()] = [
        ("file", text(|r| &r.file)),
        ("track_id", text(|r| &r.track_id)),
        ("artists", text(|r| &r.artists)),
        ("album_name", text(|r| &r.album_name)),
        ("track_name", text(|r| &r.track_name)),
        ("duration_ms", whole(|r| r.duration_ms as i64)),
        (
            "explicit",
            Arc::new(BooleanArray::from_iter(
                rows.iter().map(|r| Some(r.explicit)),
            )),
        ),
        ("danceability", number(|r| r.danceability)),
        ("energy", number(|r| r.energy)),
        ("key", whole(|r| i64::from(r.key))),
        ("loudness", number(|r| Some(r.loudness))),
        ("mode", whole(|r| i64::from(r.mode))),
        ("speechiness", number(|r| r.speechiness)),
        ("acousticness", number(|r| r.acousticness)),
        ("instrumentalness", number(|r| r.instrumentalness)),
        ("liveness", number(|r| r.liveness)),
        ("valence", number(|r| r.valence)),
        ("tempo", number(|r| Some(r.tempo))),
        ("time_signature", whole(|r| i64::from(r.time_signature))),
        ("track_genre", text(|r| &r.track_genre)),
        ("tempo_confidence", number(|r| Some(r.tempo_confidence))),
        ("key_confidence", number(|r| Some(r.key_confidence))),
    ];
    debug_assert!(columns.iter().map(|c| c.0).eq(COLUMNS));
    // The learned columns are nullable (empty for every song measured from audio), the rest
    // are always there.
    RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(name, array)| {
        let learned = Column::LEARNED.iter().any(|c| c.name() == name);
        (name, array, learned)
    }))
}

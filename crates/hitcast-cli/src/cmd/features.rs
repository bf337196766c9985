//! `hitcast features`: what can be measured of songs from their audio files, one row a file
//! in the dataset's columns (duration, loudness, tempo, key, mode, metre; the seven columns
//! Spotify learnt are left empty), with the measurements' confidences beside them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use hitcast::fsutil::AtomicFile;
use hitcast_audio::{measure_file, Measured};
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
    /// Audio files: WAV, FLAC, OGG/Vorbis, MP3 or M4A/AAC, of any channel count and sample rate,
    /// 5 seconds to 2 hours long.
    #[arg(required = true, value_name = "SONG")]
    songs: Vec<PathBuf>,
    /// Write the rows here instead of standard output (CSV; written atomically).
    #[arg(long, value_name = "FILE.csv")]
    output: Option<PathBuf>,
    /// Print the rows as a JSON array instead of CSV.
    #[arg(long, conflicts_with = "output")]
    json: bool,
    /// The songs' genre (the dataset's names or others': "pop", "R&B"; repeatable).
    #[arg(long, value_name = "GENRE")]
    genre: Vec<String>,
    /// The songs have explicit lyrics.
    #[arg(long)]
    explicit: bool,
    /// The song's title (one song only).
    #[arg(long)]
    title: Option<String>,
    /// The songs' artists, separated by `;`.
    #[arg(long)]
    artists: Option<String>,
    /// The songs' album (a single's album is its title).
    #[arg(long)]
    album: Option<String>,
    /// What to do with a file that cannot be measured: fail (name it, exit 1) or skip it (and
    /// say so).
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    on_error: OnErrorArg,
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
        anyhow::ensure!(
            self.title.is_none() || self.songs.len() == 1,
            "--title names one song: {} were given",
            self.songs.len()
        );
        let measured: Vec<(&Path, Result<Measured, hitcast_audio::AudioError>)> = self
            .songs
            .par_iter()
            .map(|path| (path.as_path(), measure_file(path)))
            .collect();
        let mut rows = Vec::with_capacity(measured.len());
        for (path, result) in measured {
            match result {
                Ok(m) => rows.push(self.row(path, &m)),
                Err(e) if self.on_error == OnErrorArg::Skip => {
                    tracing::warn!("skipped {}: {e}", path.display());
                }
                Err(e) => anyhow::bail!("{}: {e}", path.display()),
            }
        }
        if self.json {
            return crate::output::print_json(&rows);
        }
        match &self.output {
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
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        Row {
            file: path.display().to_string(),
            track_id: String::new(),
            artists: self.artists.clone().unwrap_or_default(),
            album_name: self.album.clone().unwrap_or_default(),
            track_name: self.title.clone().unwrap_or_else(|| stem.to_owned()),
            duration_ms: m.duration_ms.round() as u64,
            explicit: self.explicit,
            danceability: None,
            energy: None,
            key: m.key,
            loudness: (m.loudness * 1000.0).round() / 1000.0,
            mode: m.mode,
            speechiness: None,
            acousticness: None,
            instrumentalness: None,
            liveness: None,
            valence: None,
            tempo: (m.tempo * 1000.0).round() / 1000.0,
            time_signature: m.time_signature,
            track_genre: self.genre.join(";"),
            tempo_confidence: (m.tempo_confidence * 1000.0).round() / 1000.0,
            key_confidence: (m.key_confidence * 1000.0).round() / 1000.0,
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

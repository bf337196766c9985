//! hitcast-audio: what can be measured of a song from its audio file, as the dataset's columns:
//! `duration_ms`, `loudness`, `tempo`, `key`, `mode` and `time_signature`. No model code: the
//! core library scores what this measures.
//!
//! ```text
//! file ──decode──▶ interleaved f32 blocks ─┬─ loudness (BS.1770, channels by speaker, file's rate)
//!                                          └─ mono, halved to 11-22 kHz (8-11 kHz kept)
//!                    ─┬─ ~93 ms frames ──▶ onset strength ──▶ tempo, beats ──▶ metre
//!                     └─ ~370 ms frames ──▶ chroma ──▶ key, mode
//! ```
//!
//! Decoding and analysis are a stream: blocks are analysed as they are decoded and then
//! dropped, so a two-hour file needs the onset envelopes (8 bytes a frame, a frame every 16
//! to 32 ms by the rate), the loudness blocks and a few frames, not the signal. Every step is a function of samples in and numbers out
//! ([`mono`], [`spectrum`], [`onset`], [`tempo`], [`metre`], [`key`]), tested on synthesized
//! signals.
//!
//! ```no_run
//! let song = hitcast_audio::measure_file("song.mp3".as_ref())?;
//! println!("{:.0} BPM, key {}, {:.1} LUFS", song.tempo, song.key, song.loudness);
//! # Ok::<(), hitcast_audio::AudioError>(())
//! ```
//!
//! Written here, not taken from a crate: the tempo, beat, key and metre estimators are a few
//! hundred lines on the FFT, and writing them keeps the analysis a stream in bounded memory,
//! which the crates that do it whole (stratum-dsp takes the song as one buffer) do not.

pub mod decode;
pub mod key;
pub mod loudness;
pub mod metre;
pub mod mono;
mod mp3;
pub mod onset;
mod opus;
pub mod spectrum;
pub mod tempo;

use std::path::Path;

use hitcast::data::{genre, Column, RawRow, N_AUDIO};
use serde::Serialize;

pub use decode::{Format, Source};

/// The shortest song measured: under 5 s a tempo has too few beats to repeat.
pub const MIN_SECONDS: f64 = 5.0;

/// The longest: two hours, the dataset's limit for a duration.
pub const MAX_SECONDS: f64 = 7200.0;

/// Integrated loudness under this is silence (BS.1770's absolute gate).
pub const SILENCE_LUFS: f64 = -70.0;

/// The dataset's columns an audio file gives: the rest of a measured row is what its makers
/// say (title, credits, genres, explicit) or, for the seven learned columns, empty.
pub const MEASURED_COLUMNS: [Column; 6] = [
    Column::DurationMs,
    Column::Loudness,
    Column::Tempo,
    Column::Key,
    Column::Mode,
    Column::TimeSignature,
];

/// The input columns an answer to a measured song carries, on every surface that writes answers
/// as a table: which song it is (its title, by default its file's name), what was measured,
/// and the genres it was scored with.
pub const KEPT_WITH_ANSWERS: [Column; 8] = {
    let m = MEASURED_COLUMNS;
    [
        Column::TrackName,
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5],
        Column::TrackGenre,
    ]
};

/// The title a song's file gives when nobody names it: the file's name without its extension.
pub fn title_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What was measured of one song, at the dataset's precision: whole milliseconds, thousandths
/// of the rest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measured {
    /// Length, from the decoded frames.
    pub duration_ms: f64,
    /// Integrated loudness, LUFS (ITU-R BS.1770 / EBU R128).
    pub loudness: f64,
    /// Beats per minute.
    pub tempo: f64,
    /// How clearly the onsets repeat at that tempo, 0 to 1.
    pub tempo_confidence: f64,
    /// Pitch class of the tonic, 0 = C, -1 when no key is found.
    pub key: i32,
    /// 1 major, 0 minor.
    pub mode: u8,
    /// How far the best key's profile correlation lies above the next best's.
    pub key_confidence: f64,
    /// Beats a bar: 3 or 4.
    pub time_signature: u8,
    /// The decoded format.
    #[serde(skip)]
    pub format: Format,
}

/// Why a song could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    /// Not an audio format or codec hitcast decodes.
    #[error("{0}")]
    Unsupported(String),
    /// The stream is broken.
    #[error("its audio cannot be decoded: {0}")]
    Decode(String),
    /// Too short to measure.
    #[error(
        "it lasts {:.1} s: at least {MIN_SECONDS:.0} s are needed to measure a tempo",
        // Tenths rounded down: 4.99 s is not "5.0 s" under a 5 s limit.
        (seconds * 10.0).floor() / 10.0
    )]
    TooShort {
        /// Its length.
        seconds: f64,
    },
    /// Too long.
    #[error("it lasts over {} hours: songs up to 2 hours are measured", MAX_SECONDS / 3600.0)]
    TooLong,
    /// Nothing above the absolute gate.
    #[error("it is silent (no sound above {SILENCE_LUFS} LUFS)")]
    Silent,
}

impl AudioError {
    /// What to add to the message so that the user knows what to do instead: the formats
    /// hitcast reads, for a file it cannot decode.
    pub fn advice(&self) -> String {
        match self {
            AudioError::Unsupported(_) => format!("; hitcast reads {FORMATS}"),
            _ => String::new(),
        }
    }
}

/// A WAV file of 16-bit PCM holding `frames` (interleaved, -1 to 1, clipped beyond): the
/// simplest audio file, for tests and examples that synthesize their songs.
/// (Data past the 4 GiB a WAV header can count is written with the largest count it can.)
#[doc(hidden)]
pub fn wav_pcm16(frames: &[f32], channels: u16, rate: u32) -> Vec<u8> {
    let data_len = u32::try_from(frames.len() * 2).unwrap_or(u32::MAX - 36);
    let mut b = Vec::with_capacity(44 + frames.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    b.extend_from_slice(&channels.saturating_mul(2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for &x in frames {
        let v = (f64::from(x).clamp(-1.0, 1.0) * 32767.0).round() as i16;
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// What a song's makers say of it, beside what its audio gives: what no audio file holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Song {
    /// Its title.
    pub title: String,
    /// Its artists, `;`-separated.
    pub artists: String,
    /// Its album (a single's album is its title).
    pub album: String,
    /// Its genres, in any catalogue's spelling ("R&B", "hip hop").
    pub genres: Vec<String>,
    /// Explicit lyrics.
    pub explicit: bool,
}

impl Measured {
    /// The loudness in the dataset's range: the measured LUFS, floored at its -60 dB (a song
    /// measured between -70 and -60 LUFS; quieter is refused as silent). A row to score and
    /// `hitcast features`' row both give this.
    pub fn dataset_loudness(&self) -> f64 {
        self.loudness.max(-60.0)
    }

    /// The song as a row to score: these measurements, what its makers say, the seven learned
    /// columns empty (NaN: no audio file gives them) and no id (a new song). The core's
    /// predictor answers such a row with its from-audio model. Loudness is the measured LUFS,
    /// floored at the dataset's -60 dB (no offset to Spotify's loudness is applied: `bench/
    /// from_audio.py` measures what an offset of 1 or 3 dB would change).
    pub fn row(&self, line: u64, song: &Song) -> RawRow {
        let loudness = self.dataset_loudness();
        let mut audio = [f64::NAN; N_AUDIO];
        for (column, value) in [
            (Column::DurationMs, self.duration_ms),
            (Column::Explicit, f64::from(u8::from(song.explicit))),
            (Column::Key, f64::from(self.key)),
            (Column::Loudness, loudness),
            (Column::Mode, f64::from(self.mode)),
            (Column::Tempo, self.tempo),
            (Column::TimeSignature, f64::from(self.time_signature)),
        ] {
            if let Some(i) = column.audio_index() {
                audio[i] = value;
            }
        }
        RawRow {
            line,
            track_id: String::new(),
            artists: song.artists.clone(),
            album_name: song.album.clone(),
            track_name: song.title.clone(),
            carried: Vec::new(),
            popularity: None,
            audio,
            genres: genre::parse_cell(&song.genres.join(";")),
        }
    }
}

/// The formats hitcast decodes, for messages.
pub const FORMATS: &str =
    "WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)";

/// Measures the audio file at `path` (its extension is a hint to the decoder).
pub fn measure_file(path: &Path) -> Result<Measured, AudioError> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(AudioError::Unsupported("it is a directory".into()));
    }
    if metadata.len() == 0 {
        return Err(AudioError::Unsupported("it is empty".into()));
    }
    let ext = path.extension().and_then(|e| e.to_str());
    measure(Source::File(file), ext)
}

/// Measures the song in `source`; `extension` ("mp3", "flac", ...) is a hint to the decoder.
pub fn measure(source: Source, extension: Option<&str>) -> Result<Measured, AudioError> {
    let mut analysis: Option<Analysis> = None;
    let format = decode::decode(source, extension, |block, format| {
        let a = match &mut analysis {
            Some(a) => a,
            None => analysis.insert(Analysis::new(format)),
        };
        a.push(block);
    })?;
    let Some(analysis) = analysis else {
        return Err(AudioError::Unsupported(
            "its audio track holds no sound".into(),
        ));
    };
    analysis.finish(format)
}

/// The analysis of one song, block by block.
struct Analysis {
    meter: loudness::Loudness,
    mono: mono::Mono,
    spectrum: spectrum::Spectrum,
    onsets: onset::Onsets,
    tonal: spectrum::Spectrum,
    chroma: key::Chroma,
}

impl Analysis {
    fn new(format: Format) -> Analysis {
        let meter = loudness::Loudness::new(format.layout, format.channels, format.rate);
        let mono = mono::Mono::new(format.channels, format.rate);
        let spectrum = spectrum::Spectrum::new(mono.rate);
        let tonal = spectrum::Spectrum::tonal(mono.rate);
        Analysis {
            meter,
            onsets: onset::Onsets::new(spectrum.frequency(1)),
            chroma: key::Chroma::new(tonal.size / 2 + 1, tonal.frequency(1)),
            mono,
            spectrum,
            tonal,
        }
    }

    fn push(&mut self, block: &[f32]) {
        self.meter.push(block);
        let samples = self.mono.push(block);
        let (onsets, chroma) = (&mut self.onsets, &mut self.chroma);
        self.spectrum
            .push(samples, |magnitudes| onsets.push(magnitudes));
        self.tonal
            .push(samples, |magnitudes| chroma.push(magnitudes));
    }

    fn finish(self, format: Format) -> Result<Measured, AudioError> {
        let seconds = format.frames as f64 / f64::from(format.rate);
        if seconds < MIN_SECONDS {
            return Err(AudioError::TooShort { seconds });
        }
        let loudness = self.meter.integrated();
        if !loudness.is_finite() || loudness < SILENCE_LUFS {
            return Err(AudioError::Silent);
        }
        let frame_rate = self.spectrum.frame_rate();
        let envelope = &self.onsets.envelope;
        let beats = if self.onsets.steady() {
            None
        } else {
            tempo::track(envelope, frame_rate)
        };
        let (tempo, tempo_confidence, time_signature) = match beats {
            Some(b) => {
                let period = 60.0 * frame_rate / b.tempo;
                let metre = metre::beats_per_bar(&self.onsets.accents, &b.frames, period);
                (b.tempo, b.confidence, metre)
            }
            // No beat found (noise, say), or a held sound: the dataset writes a tempo of 0
            // then.
            None => (0.0, 0.0, 4),
        };
        let k = self.chroma.key();
        // At the dataset's precision (thousandths, whole milliseconds), once: every surface then
        // shows and scores the same numbers, and a song scored from its file gets the answer its
        // `hitcast features` row gets.
        let thousandths = |x: f64| (x * 1000.0).round() / 1000.0;
        Ok(Measured {
            duration_ms: (seconds * 1000.0).round(),
            loudness: thousandths(loudness),
            tempo: thousandths(tempo),
            tempo_confidence: thousandths(tempo_confidence),
            key: k.key,
            mode: k.mode,
            key_confidence: thousandths(k.confidence),
            time_signature,
            format,
        })
    }
}

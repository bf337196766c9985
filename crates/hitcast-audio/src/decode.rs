//! Decoding: an audio file's first audio track as blocks of interleaved `f32` frames, handed
//! to a sink as they are decoded, so nothing holds the whole signal.

use std::io::Read;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;

use crate::AudioError;

/// What was decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Format {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels.
    pub channels: usize,
    /// Frames decoded (samples per channel).
    pub frames: u64,
}

/// Where the audio comes from.
pub enum Source {
    /// A file.
    File(std::fs::File),
    /// Bytes in memory (an upload).
    Bytes(Vec<u8>),
    /// A stream read once (standard input).
    Stream(Box<dyn Read + Send + Sync>),
}

/// Decodes `source` (`extension` a hint, such as "mp3"), calling `sink` with each block of
/// interleaved frames and the format, until the end. A packet that fails to decode is skipped,
/// as players do; a stream that yields no audio at all is an error.
pub fn decode(
    source: Source,
    extension: Option<&str>,
    mut sink: impl FnMut(&[f32], Format) -> Result<(), AudioError>,
) -> Result<Format, AudioError> {
    let Opened {
        mut format,
        mut decoder,
        track_id,
    } = open(source, extension)?;
    let mut out = Format {
        rate: 0,
        channels: 0,
        frames: 0,
    };
    let mut samples: Vec<f32> = Vec::new();
    let mut failed_packets = 0u64;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file ends in an unexpected end of stream: what came before stands.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(AudioError::Decode(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                failed_packets += 1;
                continue;
            }
            Err(e) => return Err(AudioError::Decode(e.to_string())),
        };
        let spec = decoded.spec();
        let (rate, channels) = (spec.rate(), spec.channels().count());
        if channels == 0 || rate == 0 {
            continue;
        }
        out.settle(rate, channels)?;
        samples.clear();
        decoded.copy_to_vec_interleaved(&mut samples);
        // Full scale is the ceiling, as in any player: a float file's overs and a broken
        // frame's wild values stay within it (unclipped, loudness could pass 0 LUFS), and a
        // NaN is silence.
        for s in &mut samples {
            *s = if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) };
        }
        out.frames += decoded.frames() as u64;
        sink(&samples, out)?;
    }
    if out.frames == 0 {
        return Err(if failed_packets > 0 {
            AudioError::Decode(format!(
                "none of its {failed_packets} audio packets could be decoded"
            ))
        } else {
            AudioError::Unsupported("its audio track holds no sound".into())
        });
    }
    Ok(out)
}

impl Format {
    /// Takes the first decoded block's rate and channels; refuses a later block whose differ.
    fn settle(&mut self, rate: u32, channels: usize) -> Result<(), AudioError> {
        if self.rate == 0 {
            self.rate = rate;
            self.channels = channels;
        } else if (rate, channels) != (self.rate, self.channels) {
            return Err(AudioError::Unsupported(format!(
                "its format changes mid-stream ({} Hz, {} channels, then {rate} Hz, {channels})",
                self.rate, self.channels
            )));
        }
        Ok(())
    }
}

/// A container opened at its default audio track, with that track's decoder.
struct Opened {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
}

/// Probes `source` for a container hitcast reads and opens its default audio track.
fn open(source: Source, extension: Option<&str>) -> Result<Opened, AudioError> {
    let media: Box<dyn MediaSource> = match source {
        Source::File(f) => Box::new(f),
        Source::Bytes(b) => Box::new(std::io::Cursor::new(b)),
        Source::Stream(r) => Box::new(ReadOnlySource::new(r)),
    };
    let stream = MediaSourceStream::new(media, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| unsupported("not an audio file hitcast can read", e))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or(AudioError::Unsupported(
            "the file holds no audio track".into(),
        ))?;
    let params =
        track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(AudioError::Unsupported(
                "the audio track has no codec parameters".into(),
            ))?;
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported("its codec is not one hitcast decodes", e))?;
    let track_id = track.id;
    Ok(Opened {
        format,
        decoder,
        track_id,
    })
}

fn unsupported(what: &str, e: SymphoniaError) -> AudioError {
    AudioError::Unsupported(format!("{what} ({e})"))
}

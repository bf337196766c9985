//! Decoding: an audio file's first audio track as blocks of interleaved `f32` frames, handed
//! to a sink as they are decoded, so nothing holds the whole signal. MP3 files go to nanomp3
//! ([`crate::mp3`]), the rest to symphonia, which hands Opus packets to opus-pure
//! ([`crate::opus`]).

use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;

use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use crate::{AudioError, MAX_SECONDS};

/// The lowest sample rate measured: a telephone's.
pub const MIN_RATE: u32 = 8_000;

/// What was decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Format {
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels.
    pub channels: usize,
    /// Frames decoded (samples per channel).
    pub frames: u64,
    /// Which speakers the channels feed, as far as loudness cares.
    pub layout: Layout,
}

/// How BS.1770-4's loudness sum weighs each channel, by the speaker it feeds: bit `i` of
/// `surround` is set when channel `i` is a surround beside the listener (weighed +1.5 dB), of
/// `unweighed` when it is an LFE or a channel of unknown place after the sixth (left out); the
/// rest weigh 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Surrounds (at 60 to 120 degrees of azimuth).
    pub surround: u64,
    /// LFE, and unknown channels after the sixth.
    pub unweighed: u64,
}

impl Layout {
    /// Channels without named places, by their count, as `ebur128` maps them: 4 are L R Ls Rs,
    /// 5 are L R C Ls Rs, 6 or more begin L R C LFE Ls Rs.
    pub fn by_count(channels: usize) -> Layout {
        let bits = |list: &[usize]| list.iter().fold(0u64, |m, &i| m | 1 << i);
        match channels {
            4 => Layout {
                surround: bits(&[2, 3]),
                unweighed: 0,
            },
            5 => Layout {
                surround: bits(&[3, 4]),
                unweighed: 0,
            },
            n if n >= 6 => Layout {
                surround: bits(&[4, 5]),
                unweighed: bits(&[3]) | (u64::MAX << 6),
            },
            _ => Layout::default(),
        }
    }

    /// From the decoder's channels: by their named places where the file gives them (a WAV's
    /// mask, FLAC's and Vorbis's orders), else by their count. In a layout with both side and
    /// rear pairs (7.1), the sides are the surrounds and the rears (at 135 to 150 degrees)
    /// weigh 1; with one pair (5.1, side or back), that pair is.
    fn of(channels: &Channels) -> Layout {
        let count = channels.count();
        // A file that names no places (a plain WAV, a mask of 0) gets the first `count` place
        // bits from symphonia: not places anyone chose, so the count decides, as for
        // `ebur128` (the two agree up to 3 channels and for 5.1).
        let Channels::Positioned(places) = channels else {
            return Layout::by_count(count);
        };
        if u32::try_from(count)
            .ok()
            .and_then(Position::from_count)
            .is_some_and(|first| first == *places)
        {
            return Layout::by_count(count);
        }
        let sides = Position::SIDE_LEFT | Position::SIDE_RIGHT;
        let surrounds = if places.intersects(sides) {
            sides
        } else {
            Position::REAR_LEFT | Position::REAR_RIGHT
        };
        let mut layout = Layout::default();
        // Channels come in the order of their places' bits.
        let present = (0..64)
            .map(|b| 1u64 << b)
            .filter(|b| places.bits() & b != 0);
        for (i, place) in present.enumerate() {
            let place = Position::from_bits_retain(place);
            if place.intersects(Position::LFE1 | Position::LFE2) {
                layout.unweighed |= 1 << i;
            } else if surrounds.contains(place) {
                layout.surround |= 1 << i;
            }
        }
        layout
    }

    /// Channel `i`'s weight in the loudness sum.
    pub fn weight(&self, i: usize) -> f64 {
        match u32::try_from(i).ok().and_then(|i| 1u64.checked_shl(i)) {
            Some(bit) if self.unweighed & bit != 0 => 0.0,
            Some(bit) if self.surround & bit != 0 => 1.41,
            Some(_) => 1.0,
            // Only a layout by count reaches past 64 channels, and it leaves them out.
            None => 0.0,
        }
    }
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
    mut sink: impl FnMut(&[f32], Format),
) -> Result<Format, AudioError> {
    let (source, head) = peek(source)?;
    let source = if crate::mp3::starts_like_mp3(&head) {
        match crate::mp3::decode(source, &mut sink)? {
            crate::mp3::Decoded::Audio(format) => return Ok(format),
            crate::mp3::Decoded::Elsewhere(source) => source,
        }
    } else {
        source
    };
    decode_with_symphonia(source, extension, &head, sink)
}

/// [`decode`] by symphonia: `source` at its start, `head` its first bytes (see [`peek`]).
pub(crate) fn decode_with_symphonia(
    source: Source,
    extension: Option<&str>,
    head: &[u8],
    mut sink: impl FnMut(&[f32], Format),
) -> Result<Format, AudioError> {
    let Opened {
        mut format,
        mut decoder,
        mut track_id,
    } = open(source, extension, head)?;
    let mut out = Format::default();
    let mut samples: Vec<f32> = Vec::new();
    let mut failed_packets = 0u64;
    loop {
        let next = match guarded(|| format.next_packet()) {
            Ok(next) => next,
            // The reader broke (see `guarded`): what came before stands, as for a cut file.
            Err(broke) if out.frames == 0 => return Err(broke),
            Err(_) => break,
        };
        let packet = match next {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated file ends in an unexpected end of stream: what came before stands.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            // A chained Ogg stream's next link (a broadcast's next song, or files joined end to
            // end): its own track and decoder; `settle` refuses another rate or channel count.
            Err(SymphoniaError::ResetRequired) => {
                (decoder, track_id) = track_decoder(format.as_ref())?;
                continue;
            }
            Err(e) => return Err(AudioError::Decode(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let block = match guarded(|| decoder.decode(&packet, &mut samples)) {
            Ok(Ok(Some(block))) => block,
            Ok(Ok(None)) => continue,
            Ok(Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_))) => {
                failed_packets += 1;
                continue;
            }
            Ok(Err(e)) => return Err(AudioError::Decode(e.to_string())),
            // The decoder broke (see `guarded`): stopped there, once, what came before standing.
            Err(broke) if out.frames == 0 => return Err(broke),
            Err(_) => break,
        };
        out.take(block.rate, block.channels, || block.layout, &mut samples)?;
        sink(&samples, out);
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
    /// Takes a decoded block of interleaved frames at `rate` with `channels` (their `layout`
    /// read once, from the first block): the first block's rate and channels settle the
    /// format, and a later block whose differ is refused; its samples are brought within full
    /// scale; the song is refused once it passes [`MAX_SECONDS`].
    pub(crate) fn take(
        &mut self,
        rate: u32,
        channels: usize,
        layout: impl FnOnce() -> Layout,
        block: &mut [f32],
    ) -> Result<(), AudioError> {
        self.settle(rate, channels, layout)?;
        // Full scale is the ceiling, as in any player: a float file's overs and a broken
        // frame's wild values stay within it (unclipped, loudness could pass 0 LUFS), and a
        // NaN is silence.
        for s in block.iter_mut() {
            *s = if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) };
        }
        self.frames += (block.len() / channels) as u64;
        if self.frames as f64 > MAX_SECONDS * f64::from(rate) {
            return Err(AudioError::TooLong);
        }
        Ok(())
    }

    fn settle(
        &mut self,
        rate: u32,
        channels: usize,
        layout: impl FnOnce() -> Layout,
    ) -> Result<(), AudioError> {
        if self.rate == 0 {
            if rate < MIN_RATE {
                // The loudness filters' shelf lies at 1.7 kHz: under 3.4 kHz it is past the
                // band and they diverge.
                return Err(AudioError::Unsupported(format!(
                    "its sample rate, {rate} Hz, is under the {MIN_RATE} Hz hitcast measures from"
                )));
            }
            self.rate = rate;
            self.channels = channels;
            self.layout = layout();
        } else if (rate, channels) != (self.rate, self.channels) {
            return Err(self.changed_to(rate, channels));
        }
        Ok(())
    }

    /// The refusal of a stream whose later blocks come at another rate or channel count: a
    /// broken stream (422), not a format hitcast does not read (415).
    pub(crate) fn changed_to(&self, rate: u32, channels: usize) -> AudioError {
        let said = |rate: u32, channels: usize| match channels {
            1 => format!("{rate} Hz mono"),
            2 => format!("{rate} Hz stereo"),
            n => format!("{rate} Hz, {n} channels"),
        };
        AudioError::Decode(format!(
            "its format changes mid-stream ({}, then {}), as in files joined end to end",
            said(self.rate, self.channels),
            said(rate, channels)
        ))
    }
}

/// A container opened at its default audio track, with that track's decoder.
struct Opened {
    format: Box<dyn FormatReader>,
    decoder: TrackDecoder,
    track_id: u32,
}

/// A track's decoder: symphonia's, or for Opus, which symphonia does not decode, opus-pure's.
enum TrackDecoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(crate::opus::Stream),
}

/// The rate and channels of a decoded block.
struct Block {
    rate: u32,
    channels: usize,
    layout: Layout,
}

impl TrackDecoder {
    /// Decodes `packet` into `samples` (interleaved, replacing what they held): the block's
    /// format, or `None` for a packet that holds no sound.
    fn decode(
        &mut self,
        packet: &Packet,
        samples: &mut Vec<f32>,
    ) -> Result<Option<Block>, SymphoniaError> {
        match self {
            TrackDecoder::Symphonia(decoder) => {
                let decoded = decoder.decode(packet)?;
                let spec = decoded.spec();
                let (rate, channels) = (spec.rate(), spec.channels().count());
                if channels == 0 || rate == 0 {
                    return Ok(None);
                }
                samples.clear();
                decoded.copy_to_vec_interleaved(samples);
                Ok(Some(Block {
                    rate,
                    channels,
                    layout: Layout::of(spec.channels()),
                }))
            }
            TrackDecoder::Opus(stream) => {
                stream
                    .decode(&packet.data, packet.trim_end.get(), samples)
                    .map_err(|e| match e {
                        opus_pure::Error::InvalidPacket(why) => SymphoniaError::DecodeError(why),
                        _ => SymphoniaError::DecodeError("an Opus packet failed to decode"),
                    })?;
                let (channels, layout) = stream.channels();
                Ok(Some(Block {
                    rate: crate::opus::RATE,
                    channels,
                    layout,
                }))
            }
        }
    }
}

/// The source's first bytes (zeros past its end, and for a stream, read once), and the source
/// at its start again: they tell an MP3 file, and name a container no reader knows.
pub(crate) fn peek(source: Source) -> Result<(Source, [u8; 16]), AudioError> {
    let mut head = [0u8; 16];
    match source {
        Source::File(mut f) => {
            let n = f.read(&mut head)?;
            head[n..].fill(0);
            f.seek(SeekFrom::Start(0))?;
            Ok((Source::File(f), head))
        }
        Source::Bytes(b) => {
            let n = b.len().min(head.len());
            head[..n].copy_from_slice(&b[..n]);
            Ok((Source::Bytes(b), head))
        }
        stream @ Source::Stream(_) => Ok((stream, head)),
    }
}

/// Probes `source`, at its start, for a container hitcast reads and opens its default audio
/// track; `head` is its first bytes (see [`peek`]).
fn open(source: Source, extension: Option<&str>, head: &[u8]) -> Result<Opened, AudioError> {
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
    let format = guarded(|| {
        symphonia::default::get_probe().probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
    })?
    .map_err(|e| match e {
        // No reader knows its first bytes: the decoder's words would say no more.
        SymphoniaError::Unsupported(_) => AudioError::Unsupported(match container_name(head) {
            Some(name) => format!(
                "a {name} file, which hitcast does not read: convert it to FLAC or WAV first \
                 (ffmpeg -i SONG song.flac)"
            ),
            // An MP3 file's tag, with no frame after it (`mp3::decode` found none).
            None if head.starts_with(b"ID3") => {
                "an ID3 tag with no audio after it that hitcast can read: is the file cut short?"
                    .into()
            }
            None => "not an audio file hitcast can read".into(),
        }),
        e => unsupported("not an audio file hitcast can read", e),
    })?;
    let (decoder, track_id) = track_decoder(format.as_ref())?;
    Ok(Opened {
        format,
        decoder,
        track_id,
    })
}

/// The name of an audio container hitcast does not read, from its first bytes.
fn container_name(head: &[u8]) -> Option<&'static str> {
    // ASF's header object GUID, 75B22630-668E-11CF-A6D9-00AA0062CE6C, as stored.
    const ASF: [u8; 16] = [
        0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce,
        0x6c,
    ];
    let named: [(&[u8], &str); 4] = [
        (&ASF, "Windows Media (WMA)"),
        (b"MAC ", "Monkey's Audio"),
        (b"wvpk", "WavPack"),
        (b"#!AMR", "AMR"),
    ];
    named
        .into_iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, name)| name)
}

/// The decoder of the container's default audio track (again after a chained Ogg stream's
/// next link begins), and the track's id. (A header's length is not trusted to refuse a long
/// file early: an MP3's is often an estimate from its first frames, and a WAV written to a
/// pipe holds a placeholder.)
fn track_decoder(format: &dyn FormatReader) -> Result<(TrackDecoder, u32), AudioError> {
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
    if params.codec == symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS {
        let stream = guarded(|| crate::opus::Stream::new(params.extra_data.as_deref()))??;
        return Ok((TrackDecoder::Opus(stream), track.id));
    }
    // Making the decoder reads the file's codec setup (Vorbis codebooks, an AAC config).
    let decoder = guarded(|| {
        symphonia::default::get_codecs().make_audio_decoder(params, &AudioDecoderOptions::default())
    })?
    .map_err(|e| match (&e, codec_name(params.codec)) {
        (SymphoniaError::Unsupported(_), Some(name)) => AudioError::Unsupported(format!(
            "its codec, {name}, is not one hitcast decodes: convert it to FLAC or WAV first \
             (ffmpeg -i SONG song.flac)"
        )),
        _ => unsupported("its codec is not one hitcast decodes", e),
    })?;
    Ok((TrackDecoder::Symphonia(decoder), track.id))
}

/// The name of a codec hitcast does not decode, where the container says which: one a user
/// may well have (Speex in an Ogg file, AC-3 from a video), so the message can say what to
/// convert from.
fn codec_name(id: AudioCodecId) -> Option<&'static str> {
    use symphonia::core::codecs::audio::well_known::*;
    Some(match id {
        CODEC_ID_SPEEX => "Speex",
        CODEC_ID_MUSEPACK => "Musepack",
        CODEC_ID_MP1 => "MPEG Layer 1",
        CODEC_ID_MP2 => "MPEG Layer 2 (MP2)",
        CODEC_ID_AC3 => "AC-3",
        CODEC_ID_EAC3 => "E-AC-3",
        CODEC_ID_DCA => "DTS",
        CODEC_ID_WMA => "Windows Media Audio",
        CODEC_ID_WAVPACK => "WavPack",
        CODEC_ID_MONKEYS_AUDIO => "Monkey's Audio",
        CODEC_ID_TTA => "True Audio",
        CODEC_ID_TRUEHD => "Dolby TrueHD",
        _ => return None,
    })
}

/// Runs `f`, a call into a decoder (symphonia's or nanomp3's), with a panic turned into an
/// error. A crafted file can make a decoder's arithmetic overflow (a panic where overflow is
/// checked: tests and fuzzing) or index past a buffer; a bug in a dependency must not take a server's worker or a batch's
/// other files down with it. Decoding stops at the first such panic.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, AudioError> {
    GUARDED.with(|depth| depth.set(depth.get() + 1));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|depth| depth.set(depth.get() - 1));
    result.map_err(|_| AudioError::Decode("the decoder failed on its contents".into()))
}

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside a call into a decoder whose panic becomes an error: for a
/// panic hook (the fuzz target's) that aborts on every other panic.
#[doc(hidden)]
pub fn in_guarded_call() -> bool {
    GUARDED.with(|depth| depth.get() > 0)
}

fn unsupported(what: &str, e: SymphoniaError) -> AudioError {
    AudioError::Unsupported(format!("{what} ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_weigh_by_the_speakers_they_feed() {
        let weights = |places: Position| -> Vec<f64> {
            let layout = Layout::of(&Channels::Positioned(places));
            (0..places.bits().count_ones() as usize)
                .map(|i| layout.weight(i))
                .collect()
        };
        let front = Position::FRONT_LEFT | Position::FRONT_RIGHT;
        assert_eq!(weights(front), [1.0, 1.0]);
        assert_eq!(weights(front | Position::LFE1), [1.0, 1.0, 0.0], "2.1");
        let base = front | Position::FRONT_CENTER | Position::LFE1;
        let rear = Position::REAR_LEFT | Position::REAR_RIGHT;
        let side = Position::SIDE_LEFT | Position::SIDE_RIGHT;
        let five_one = [1.0, 1.0, 1.0, 0.0, 1.41, 1.41];
        assert_eq!(weights(base | rear), five_one, "5.1 (back)");
        assert_eq!(weights(base | side), five_one, "5.1 (side)");
        // 7.1: the sides are the surrounds beside the listener, the rears lie behind.
        assert_eq!(
            weights(base | rear | side),
            [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.41, 1.41],
            "7.1"
        );
        // Without places, by count, as `ebur128` maps them.
        let by_count = |n: usize| -> Vec<f64> {
            let layout = Layout::of(&Channels::Discrete(n as u16));
            (0..n).map(|i| layout.weight(i)).collect()
        };
        assert_eq!(by_count(4), [1.0, 1.0, 1.41, 1.41]);
        // A plain WAV's channels: symphonia gives them the first places, which name nothing.
        for n in [4u32, 8] {
            let places = Position::from_count(n).unwrap();
            assert_eq!(
                weights(places),
                by_count(n as usize),
                "{n} unnamed channels"
            );
        }
        assert_eq!(by_count(8), [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 0.0, 0.0]);
        assert_eq!(Layout::by_count(100).weight(99), 0.0);
    }
}

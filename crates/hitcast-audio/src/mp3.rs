//! MP3 files and uploads, decoded by nanomp3 (MIT/Apache-2.0, a safe Rust port of minimp3 whose
//! output is minimp3's bit for bit): faster than symphonia's MP3 decoder, for the format most
//! songs come in (docs/performance.md). A source comes here when its first bytes say MP3
//! ([`starts_like_mp3`]); what is not decoded here after all (see [`Decoded::Elsewhere`]) goes
//! to symphonia ([`crate::decode`]), as do every other format and an MP3 track inside another
//! container.

use std::io::Read;

use crate::decode::{guarded, Format, Layout, Source};
use crate::AudioError;

/// Whether `head`, a file's first bytes, begins as an MP3 file does: with an ID3v2 tag, or
/// with an MPEG audio Layer III frame header (its sync, a version, bitrate and rate that exist).
pub(crate) fn starts_like_mp3(head: &[u8]) -> bool {
    match *head {
        [b'I', b'D', b'3', ..] => true,
        [0xff, b1, b2, ..] => {
            let (version, layer) = ((b1 >> 3) & 3, (b1 >> 1) & 3);
            let (bitrate, rate) = (b2 >> 4, (b2 >> 2) & 3);
            b1 & 0xe0 == 0xe0 && version != 1 && layer == 1 && bitrate != 15 && rate != 3
        }
        _ => false,
    }
}

/// The largest MP3 file read whole and decoded here: 64 MiB, the server's upload limit (about
/// 45 minutes at 192 kbit/s), so that a file and its upload decode alike. nanomp3's reader over
/// bytes skips junk of any length between frames, where its reader over a file, which decodes
/// from a 128 KiB window, stops at a longer gap; a longer file goes to symphonia, which streams.
pub(crate) const IN_MEMORY: u64 = 64 << 20;

/// What [`decode`] made of a source that starts like an MP3 file.
pub(crate) enum Decoded {
    /// Its audio, handed to the sink.
    Audio(Format),
    /// Not decoded here, for symphonia: the source, at its start. It held no MP3 frame (an ID3
    /// tag before another format), or it is a file over [`IN_MEMORY`] or a stream read once,
    /// or it holds bytes no MP3 file does (see [`crowded_with_free_format`]).
    Elsewhere(Source),
}

/// Decodes `source` as MP3, calling `sink` with each frame's interleaved samples, as
/// [`crate::decode::decode`] does.
pub(crate) fn decode(
    source: Source,
    sink: &mut impl FnMut(&[f32], Format),
) -> Result<Decoded, AudioError> {
    let bytes = match source {
        Source::File(mut file) if file.metadata()?.len() <= IN_MEMORY => {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            bytes
        }
        Source::Bytes(bytes) => bytes,
        other => return Ok(Decoded::Elsewhere(other)),
    };
    if crowded_with_free_format(&bytes) {
        return Ok(Decoded::Elsewhere(Source::Bytes(bytes)));
    }
    // Its length would need a walk through every frame; nothing here needs it.
    let options = nanomp3::Options::default().skip_scan(true);
    let (format, stopped) = {
        let audio = guarded(|| past_a_short_tag(&bytes))?;
        let mut reader = guarded(|| nanomp3::SliceReader::<f32>::with_options(audio, options))?;
        frames(&mut reader, sink)?
    };
    if stopped {
        guarded(|| nanomp3::frames(&bytes).try_for_each(|frame| change(&format, &frame)))??;
    }
    Ok(if format.frames > 0 {
        Decoded::Audio(format)
    } else {
        Decoded::Elsewhere(Source::Bytes(bytes))
    })
}

/// The bytes to decode: all of them, or those after the first frame when it is a Xing/LAME tag
/// that counts fewer frames than follow it (files joined end to end keep the first one's tag):
/// nanomp3, as minimp3 and symphonia, stops at a tag's count. Without its tag, the encoder's
/// delay and padding (about 50 ms) stay in.
fn past_a_short_tag(bytes: &[u8]) -> &[u8] {
    let mut frames = nanomp3::frames(bytes);
    let Some(first) = frames.next() else {
        return bytes;
    };
    let counted = nanomp3::VbrTag::parse(first.data).and_then(|tag| tag.frames);
    match counted {
        // One frame more allowed: junk whose bytes happen to chain like frames.
        Some(counted) if frames.count() > counted as usize + 1 => {
            &bytes[first.offset + first.data.len()..]
        }
        _ => bytes,
    }
}

/// Whether `bytes` hold more than one free-format Layer III frame header (bitrate index 0) in
/// 256 bytes. minimp3 tries up to 2,304 lengths for each such header it meets, which takes
/// seconds a megabyte of crafted bytes, where symphonia refuses them at once. MP3 audio holds
/// about one in 100,000 bytes by chance, and a real free-format file one a frame, 400 bytes or
/// more apart at the bitrates free format is used for.
fn crowded_with_free_format(bytes: &[u8]) -> bool {
    let headers = memchr::memchr_iter(0xff, bytes)
        .filter(|&i| match bytes.get(i + 1..i + 3) {
            Some(&[b1, b2]) => b2 >> 4 == 0 && starts_like_mp3(&[0xff, b1, b2 | 0x10]),
            _ => false,
        })
        .count();
    headers > bytes.len() / 256
}

/// Decodes the frames of `reader` into `sink`, until its end or until a frame it cannot
/// decode: the format (with no frames when it holds none), and whether it stopped early.
/// nanomp3 stops with one error, `FormatChanged`, both at a frame of another rate, layer or
/// channel count and at bytes that hold no frame (a file cut in the middle of one, junk after
/// the last): the first is refused (see [`change`]); after the others, what came before
/// stands, as in symphonia's streams. (Over bytes, it skips junk between frames.)
fn frames(
    reader: &mut nanomp3::SliceReader<f32>,
    sink: &mut impl FnMut(&[f32], Format),
) -> Result<(Format, bool), AudioError> {
    let rate = reader.sample_rate();
    let channels = reader.channels().map_or(0, |c| usize::from(c.num()));
    let mut out = Format::default();
    // Both are 0 when the reader found no frame to open with.
    if rate == 0 || channels == 0 {
        return Ok((out, false));
    }
    let mut samples: Vec<f32> = Vec::new();
    loop {
        // The closure takes the reader's reference by move: its answer borrows the reader.
        let reading = &mut *reader;
        let frame = match guarded(move || reading.read_frame()) {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => return Ok((out, false)),
            Ok(Err(nanomp3::Error::FormatChanged)) => return Ok((out, true)),
            Ok(Err(e)) => return Err(error(e)),
            // The decoder broke (see `guarded`): stopped there, what came before standing.
            Err(broke) if out.frames == 0 => return Err(broke),
            Err(_) => return Ok((out, false)),
        };
        samples.clear();
        samples.extend_from_slice(frame);
        out.take(rate, channels, Layout::default, &mut samples)?;
        sink(&samples, out);
    }
}

/// The refusal of a stream decoded as `format`, if `frame`, one of its frames, comes at
/// another rate or channel count.
fn change(format: &Format, frame: &nanomp3::Frame) -> Result<(), AudioError> {
    let channels = usize::from(frame.channels.num());
    if format.frames > 0 && (frame.sample_rate, channels) != (format.rate, format.channels) {
        return Err(format.changed_to(frame.sample_rate, channels));
    }
    Ok(())
}

fn error(e: nanomp3::Error) -> AudioError {
    match e {
        nanomp3::Error::Io(e) => AudioError::Io(e),
        e => AudioError::Decode(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_files_are_known_by_their_first_bytes() {
        assert!(starts_like_mp3(b"ID3\x04\x00\x00\x00\x00\x00\x00"));
        // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz; MPEG-2 Layer III, 64 kbit/s, 22.05 kHz.
        assert!(starts_like_mp3(&[0xff, 0xfb, 0x90, 0x64]));
        assert!(starts_like_mp3(&[0xff, 0xf3, 0x80, 0xc4]));
        // Layer II (to symphonia, which names it), a reserved version, a bad bitrate or rate,
        // ADTS AAC's sync, and the containers symphonia reads.
        assert!(!starts_like_mp3(&[0xff, 0xfd, 0x90, 0x64]));
        assert!(!starts_like_mp3(&[0xff, 0xeb, 0x90, 0x64]));
        assert!(!starts_like_mp3(&[0xff, 0xfb, 0xf0, 0x64]));
        assert!(!starts_like_mp3(&[0xff, 0xfb, 0x9c, 0x64]));
        assert!(!starts_like_mp3(&[0xff, 0xf1, 0x50, 0x80]));
        for head in [
            &b"RIFF"[..],
            b"fLaC",
            b"OggS",
            b"FORM",
            b"\0\0\0\x20ftypM4A ",
            b"",
            b"\xff",
        ] {
            assert!(!starts_like_mp3(head), "{head:?}");
        }
    }

    #[test]
    fn nanomp3_decodes_the_samples_symphonia_does() {
        let file = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/bursts.mp3"
        ));
        let file = file.unwrap();
        let mut ours = Vec::new();
        let Ok(Decoded::Audio(format)) = decode(Source::Bytes(file.clone()), &mut |block, _| {
            ours.extend_from_slice(block)
        }) else {
            panic!("no audio");
        };
        let mut theirs = Vec::new();
        let (source, head) = crate::decode::peek(Source::Bytes(file)).unwrap();
        let symphonia = crate::decode::decode_with_symphonia(source, None, &head, |block, _| {
            theirs.extend_from_slice(block)
        });
        // Both cut the encoder's delay and padding by the LAME header: 8 s at 22.05 kHz.
        assert_eq!(format.frames, 8 * 22_050);
        assert_eq!(symphonia.unwrap(), format);
        assert_eq!(ours.len(), theirs.len());
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "{worst}");
    }

    #[test]
    fn bytes_crowded_with_free_format_headers_go_to_symphonia() {
        let file = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/bursts.mp3"
        ));
        assert!(!crowded_with_free_format(&file.unwrap()));
        // Free-format MPEG-1 Layer III headers every 4 bytes, after an ID3 tag.
        let mut crafted = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        crafted.extend([0xff, 0xfb, 0x00, 0x00].repeat(1 << 18));
        assert!(crowded_with_free_format(&crafted));
        let sink = &mut |_: &[f32], _| panic!("no audio");
        assert!(matches!(
            decode(Source::Bytes(crafted), sink),
            Ok(Decoded::Elsewhere(Source::Bytes(_)))
        ));
    }
}

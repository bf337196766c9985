//! Opus, in an Ogg file or a WebM (Matroska) one: symphonia reads the container and hands over
//! the packets and the stream's header (`OpusHead`, RFC 7845 §5.1); opus-pure decodes them, as
//! symphonia has no Opus decoder. The stream comes out as RFC 7845 says a player plays it:
//! at 48 kHz, the encoder's delay (the header's pre-skip) dropped from the start and the
//! container's end trim from the end, and the header's output gain applied.

use opus_pure::{OpusDecoder, OpusMSDecoder};

use crate::decode::Layout;
use crate::AudioError;

/// Opus decodes at 48 kHz, whatever the rate of the recording it was made from.
pub(crate) const RATE: u32 = 48_000;

/// The most samples a channel one packet holds: 120 ms at 48 kHz (RFC 6716 §3.2.5).
const MOST_A_PACKET: usize = 5_760;

/// What an `OpusHead` says about decoding (RFC 7845 §5.1).
#[derive(Clone, Debug, PartialEq)]
struct Head {
    channels: u8,
    /// Samples (48 kHz) at the start that are the encoder's delay, not the song.
    pre_skip: u16,
    /// Gain to apply, dB in Q7.8.
    gain_q8: i16,
    /// 0: mono or stereo; 1: up to 8 channels in Vorbis order; others: no set places.
    family: u8,
    /// For families other than 0: streams, how many of them are stereo pairs, and which
    /// decoded channel each output channel takes.
    streams: u8,
    coupled: u8,
    mapping: Vec<u8>,
}

impl Head {
    /// Reads the header packet, refusing what RFC 7845 forbids. Written here because
    /// opus-pure keeps its reader of this packet to its own Ogg reader, and symphonia's
    /// stops before the channel mapping.
    fn parse(data: &[u8]) -> Result<Head, &'static str> {
        if data.len() < 19 || &data[..8] != b"OpusHead" {
            return Err("its Opus header is missing or cut short");
        }
        // The upper four bits are the major version: only 0 is defined.
        if data[8] >> 4 != 0 {
            return Err("its Opus header has a version hitcast does not know");
        }
        let channels = data[9];
        if channels == 0 {
            return Err("its Opus header declares no channels");
        }
        let family = data[18];
        let (streams, coupled, mapping) = if family == 0 {
            if channels > 2 {
                return Err("its Opus header declares over 2 channels without a mapping");
            }
            (1, channels - 1, Vec::new())
        } else {
            let end = 21 + usize::from(channels);
            let Some(mapping) = data.get(21..end) else {
                return Err("its Opus channel mapping is cut short");
            };
            (data[19], data[20], mapping.to_vec())
        };
        Ok(Head {
            channels,
            pre_skip: u16::from_le_bytes([data[10], data[11]]),
            gain_q8: i16::from_le_bytes([data[16], data[17]]),
            family,
            streams,
            coupled,
            mapping,
        })
    }

    /// How loudness weighs the channels: family 1's orders (RFC 7845 §5.1.1.2) name their
    /// places; the LFE is left out and the surrounds beside the listener weigh 1.41, as
    /// [`Layout`] does for other files (in 7.1, the side pair, not the rear one).
    fn layout(&self) -> Layout {
        let bits = |list: &[usize]| list.iter().fold(0u64, |m, &i| m | 1 << i);
        let (surround, unweighed) = match (self.family, self.channels) {
            // L R RL RR.
            (1, 4) => (bits(&[2, 3]), 0),
            // L C R RL RR.
            (1, 5) => (bits(&[3, 4]), 0),
            // L C R RL RR LFE.
            (1, 6) => (bits(&[3, 4]), bits(&[5])),
            // L C R SL SR RC LFE.
            (1, 7) => (bits(&[3, 4]), bits(&[6])),
            // L C R SL SR RL RR LFE.
            (1, 8) => (bits(&[3, 4]), bits(&[7])),
            // Mono, stereo, L C R, and channels with no set places: each weighs 1.
            _ => (0, 0),
        };
        Layout {
            surround,
            unweighed,
        }
    }
}

/// A decoder, boxed: opus-pure's single-stream one holds 10 KB of state.
enum Decoder {
    One(Box<OpusDecoder>),
    Many(OpusMSDecoder),
}

/// An Opus track's decoder.
pub(crate) struct Stream {
    decoder: Decoder,
    channels: usize,
    layout: Layout,
    gain: f32,
    /// Samples a channel still to drop from the start.
    skip: usize,
    decoded: Vec<f32>,
}

impl Stream {
    /// The decoder for a track whose codec setup is `head` (its `OpusHead` packet, which both
    /// Ogg and WebM carry).
    pub(crate) fn new(head: Option<&[u8]>) -> Result<Stream, AudioError> {
        let head = Head::parse(head.unwrap_or_default())
            .map_err(|why| AudioError::Decode(why.to_owned()))?;
        let channels = usize::from(head.channels);
        let refused = |why: opus_pure::Error| {
            AudioError::Unsupported(format!(
                "its Opus stream ({channels} channels, mapping family {}) is not one hitcast \
                 decodes ({why}): convert it to FLAC or WAV first (ffmpeg -i SONG song.flac)",
                head.family
            ))
        };
        let decoder = if head.family == 0 {
            Decoder::One(Box::new(
                OpusDecoder::new(RATE as i32, channels).map_err(refused)?,
            ))
        } else {
            // opus-pure builds a surround decoder from the family's own layout: a header whose
            // streams or mapping differ from it would decode into the wrong channels.
            let layout =
                opus_pure::ChannelLayout::surround(channels, head.family).map_err(refused)?;
            if (
                layout.nb_streams,
                layout.nb_coupled_streams,
                &layout.mapping[..],
            ) != (
                usize::from(head.streams),
                usize::from(head.coupled),
                &head.mapping[..],
            ) {
                return Err(refused(opus_pure::Error::InvalidArgument(
                    "its channel mapping is not the family's usual one",
                )));
            }
            Decoder::Many(OpusMSDecoder::new(RATE as i32, channels, head.family).map_err(refused)?)
        };
        Ok(Stream {
            decoder,
            channels,
            layout: head.layout(),
            gain: 10f32.powf(f32::from(head.gain_q8) / 256.0 / 20.0),
            skip: usize::from(head.pre_skip),
            decoded: vec![0.0; MOST_A_PACKET * channels],
        })
    }

    /// Channels, and how loudness weighs them.
    pub(crate) fn channels(&self) -> (usize, Layout) {
        (self.channels, self.layout)
    }

    /// Decodes one packet into `out` (interleaved, replacing what it held): its samples but
    /// those of the encoder's delay still to drop and the last `trim_end` a channel, which the
    /// container marks as padding.
    pub(crate) fn decode(
        &mut self,
        packet: &[u8],
        trim_end: u64,
        out: &mut Vec<f32>,
    ) -> Result<(), opus_pure::Error> {
        let frames = match &mut self.decoder {
            Decoder::One(d) => d.decode(packet, MOST_A_PACKET, &mut self.decoded)?,
            Decoder::Many(d) => d.decode(packet, MOST_A_PACKET, &mut self.decoded)?,
        };
        let kept = frames.saturating_sub(usize::try_from(trim_end).unwrap_or(usize::MAX));
        let skipped = self.skip.min(kept);
        self.skip -= skipped;
        out.clear();
        out.extend(
            self.decoded[skipped * self.channels..kept * self.channels]
                .iter()
                .map(|&s| s * self.gain),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, tail: &[u8]) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend_from_slice(&[
            1, channels, 0x38, 0x01, 0x44, 0xac, 0, 0, 0x00, 0xfa, family,
        ]);
        h.extend_from_slice(tail);
        h
    }

    #[test]
    fn the_header_says_channels_delay_gain_and_mapping() {
        let stereo = Head::parse(&head(2, 0, &[])).unwrap();
        assert_eq!(
            (
                stereo.channels,
                stereo.pre_skip,
                stereo.gain_q8,
                stereo.family
            ),
            (2, 312, -1536, 0)
        );
        assert_eq!((stereo.streams, stereo.coupled), (1, 1));
        let surround = Head::parse(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5])).unwrap();
        assert_eq!(
            (surround.streams, surround.coupled, surround.mapping.clone()),
            (4, 2, vec![0, 4, 1, 2, 3, 5])
        );
        assert_eq!(
            surround.layout(),
            Layout {
                surround: 0b11000,
                unweighed: 0b100000
            }
        );
        assert!(
            Head::parse(&head(6, 1, &[4, 2, 0, 4])).is_err(),
            "cut mapping"
        );
        assert!(
            Head::parse(&head(3, 0, &[])).is_err(),
            "3 channels in family 0"
        );
        assert!(Head::parse(&head(0, 0, &[])).is_err(), "no channels");
        assert!(Head::parse(b"OpusHead").is_err(), "cut short");
        assert!(Head::parse(&head(2, 0, &[])[1..]).is_err(), "no magic");
    }

    #[test]
    fn a_mapping_unlike_the_familys_own_is_refused() {
        // 6 channels in family 1 are 4 streams, 2 of them pairs, mapped 0 4 1 2 3 5.
        assert!(Stream::new(Some(&head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5]))).is_ok());
        let swapped = Stream::new(Some(&head(6, 1, &[4, 2, 4, 0, 1, 2, 3, 5])));
        let Err(AudioError::Unsupported(message)) = swapped else {
            panic!("{:?}", swapped.err());
        };
        assert!(
            message.contains("6 channels, mapping family 1"),
            "{message}"
        );
        assert!(matches!(Stream::new(None), Err(AudioError::Decode(_))));
    }
}

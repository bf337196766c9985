//! The whole measurement, file in and columns out, on synthesized signals written as WAV in
//! memory: the EBU Tech 3341 loudness cases, click tracks and drum patterns at known tempi,
//! cadences in all 24 keys, waltzes and marches, and the files that must be refused.

// In a test binary a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::PI;

use hitcast_audio::{measure, measure_file, wav_pcm16 as wav, AudioError, Measured, Source};

fn measured(frames: &[f32], channels: u16, rate: u32) -> Result<Measured, AudioError> {
    measure(Source::Bytes(wav(frames, channels, rate)), Some("wav"))
}

/// A stereo 1 kHz sine whose level runs through `(dBFS, seconds)` passages.
fn passages(rate: u32, levels: &[(f64, f64)]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut i = 0u64;
    for &(dbfs, seconds) in levels {
        let amplitude = 10f64.powf(dbfs / 20.0);
        for _ in 0..(seconds * f64::from(rate)) as u64 {
            let v = (amplitude * (2.0 * PI * 1000.0 * i as f64 / f64::from(rate)).sin()) as f32;
            out.extend([v, v]);
            i += 1;
        }
    }
    out
}

#[test]
fn loudness_meets_the_ebu_tech_3341_cases_within_a_tenth_of_a_lu() {
    // Tech 3341, cases 1-4: stereo 1 kHz sines, gated passages included, all -23 or -33 LUFS.
    let cases: [(&[(f64, f64)], f64); 4] = [
        (&[(-23.0, 20.0)], -23.0),
        (&[(-33.0, 20.0)], -33.0),
        (&[(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0),
        (
            &[
                (-72.0, 10.0),
                (-36.0, 10.0),
                (-23.0, 60.0),
                (-36.0, 10.0),
                (-72.0, 10.0),
            ],
            -23.0,
        ),
    ];
    for (levels, want) in cases {
        let m = measured(&passages(48_000, levels), 2, 48_000).unwrap();
        assert!(
            (m.loudness - want).abs() <= 0.1,
            "{levels:?}: {}",
            m.loudness
        );
    }
}

/// A deterministic noise source (a linear congruential generator), -1 to 1.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Adds a drum hit at `at` seconds: `noise` share of noise, the rest a decaying tone of `hz`.
/// Above 4 kHz the noise is high-passed (a first difference), as a cymbal's is: a hi-hat has
/// little energy below a few kHz.
fn hit(out: &mut [f32], rate: f64, at: f64, hz: f64, noise: f64, gain: f64, rng: &mut Noise) {
    let start = (at * rate) as usize;
    let mut previous = 0.0;
    for i in 0..(0.08 * rate) as usize {
        let Some(x) = out.get_mut(start + i) else {
            return;
        };
        let t = i as f64 / rate;
        let decay = (-t * 60.0).exp();
        let white = rng.next();
        let n = if hz > 4000.0 {
            (white - previous) / 2.0
        } else {
            white
        };
        previous = white;
        let v = gain * decay * ((1.0 - noise) * (2.0 * PI * hz * t).sin() + noise * n);
        *x += v as f32;
    }
}

/// Mono clicks at `bpm` for `seconds`, every `bar`-th louder (1: all alike).
fn clicks(rate: f64, bpm: f64, seconds: f64, bar: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; (seconds * rate) as usize];
    let mut rng = Noise(7);
    let period = 60.0 / bpm;
    let mut beat = 0;
    while (beat as f64) * period < seconds {
        let gain = if bar > 1 && beat % bar == 0 {
            0.8
        } else {
            0.35
        };
        hit(
            &mut out,
            rate,
            0.05 + beat as f64 * period,
            1200.0,
            0.5,
            gain,
            &mut rng,
        );
        beat += 1;
    }
    out
}

/// A rock pattern at `bpm`: kick on beats 1 and 3, snare on 2 and 4, closed hi-hat on eighths.
fn drums(rate: f64, bpm: f64, seconds: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; (seconds * rate) as usize];
    let mut rng = Noise(11);
    let eighth = 30.0 / bpm;
    let mut i = 0;
    while (i as f64) * eighth < seconds {
        let at = 0.05 + i as f64 * eighth;
        hit(&mut out, rate, at, 8000.0, 0.9, 0.12, &mut rng);
        match i % 8 {
            0 | 4 => hit(&mut out, rate, at, 60.0, 0.05, 0.9, &mut rng),
            2 | 6 => hit(&mut out, rate, at, 200.0, 0.7, 0.6, &mut rng),
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn click_tracks_and_drum_patterns_from_60_to_200_bpm_are_within_two_percent() {
    let rate = 44_100.0;
    for bpm in [
        60.0, 72.0, 85.0, 96.0, 110.0, 120.0, 128.0, 140.0, 155.0, 174.0, 200.0,
    ] {
        let m = measured(&clicks(rate, bpm, 30.0, 1), 1, 44_100).unwrap();
        assert!(
            (m.tempo / bpm - 1.0).abs() <= 0.02,
            "clicks {bpm}: {}",
            m.tempo
        );
        let m = measured(&drums(rate, bpm, 30.0), 1, 44_100).unwrap();
        // At 60 and 72 BPM the eighth-note hi-hat pulses at 120 and 144: a rock beat that slow
        // is heard at either level, and the prior around 120 BPM takes the faster one.
        let heard = if bpm < 80.0 && (m.tempo / (2.0 * bpm) - 1.0).abs() <= 0.02 {
            2.0 * bpm
        } else {
            bpm
        };
        assert!(
            (m.tempo / heard - 1.0).abs() <= 0.02,
            "drums {bpm}: {}",
            m.tempo
        );
        assert!(
            m.tempo_confidence > 0.2,
            "drums {bpm}: {}",
            m.tempo_confidence
        );
    }
}

#[test]
fn held_tones_chords_and_noise_have_no_tempo() {
    let rate = 22_050.0;
    let seconds = 12.0;
    let tone = |hz: f64, gain: f64| {
        (0..(seconds * rate) as usize).map(move |i| gain * (2.0 * PI * hz * i as f64 / rate).sin())
    };
    let sine: Vec<f32> = tone(440.0, 0.5).map(|v| v as f32).collect();
    // An A minor chord with noise 60 dB under it, as a synth pad's hiss.
    let mut rng = Noise(3);
    let chord: Vec<f32> = tone(220.0, 0.2)
        .zip(tone(261.6, 0.2))
        .zip(tone(329.6, 0.2))
        .map(|((a, c), e)| (a + c + e + 0.001 * rng.next()) as f32)
        .collect();
    // Noise has no beat either, however long (a sleep track's white noise).
    let mut rng = Noise(7);
    let noise: Vec<f32> = (0..(60.0 * rate) as usize)
        .map(|_| (0.3 * rng.next()) as f32)
        .collect();
    let short_noise = noise[..(seconds * rate) as usize].to_vec();
    for (name, signal) in [
        ("sine", sine),
        ("chord", chord),
        ("noise", noise),
        ("short noise", short_noise),
    ] {
        let m = measured(&signal, 1, 22_050).unwrap();
        // The dataset's tempo for a track without a beat.
        assert_eq!((m.tempo, m.tempo_confidence), (0.0, 0.0), "{name}: {m:?}");
        assert_eq!(m.time_signature, 4, "{name}");
    }
    // The same chord struck on every beat is not held.
    let mut struck = vec![0.0f32; (seconds * rate) as usize];
    for beat in 0..24 {
        let start = (beat as f64 * 0.5 * rate) as usize;
        for midi in [57, 60, 64] {
            note(&mut struck, rate, start, (0.4 * rate) as usize, midi, 0.2);
        }
    }
    let m = measured(&struck, 1, 22_050).unwrap();
    assert!((m.tempo / 120.0 - 1.0).abs() <= 0.02, "{m:?}");
    // A note every two seconds, left to ring: sparse, but struck, so not held.
    let mut sparse = vec![0.0f32; (seconds * rate) as usize];
    for (i, midi) in [57, 60, 64, 67, 57, 60].into_iter().enumerate() {
        let start = (i as f64 * 2.0 * rate) as usize;
        note(&mut sparse, rate, start, (1.9 * rate) as usize, midi, 0.3);
    }
    let m = measured(&sparse, 1, 22_050).unwrap();
    assert!(m.tempo > 0.0, "{m:?}");
}

#[test]
fn waltzes_are_in_three_and_marches_in_four() {
    let rate = 22_050.0;
    for bpm in [90.0, 120.0, 150.0] {
        let waltz = measured(&clicks(rate, bpm, 40.0, 3), 1, 22_050).unwrap();
        assert_eq!(waltz.time_signature, 3, "waltz at {bpm}: {waltz:?}");
        let march = measured(&clicks(rate, bpm, 40.0, 4), 1, 22_050).unwrap();
        assert_eq!(march.time_signature, 4, "march at {bpm}: {march:?}");
        assert_eq!(
            measured(&drums(rate, bpm, 40.0), 1, 22_050)
                .unwrap()
                .time_signature,
            4
        );
    }
}

/// A tone of a MIDI note with six harmonics (amplitudes 1/h).
fn note(out: &mut [f32], rate: f64, start: usize, len: usize, midi: i32, gain: f64) {
    let hz = 440.0 * 2f64.powf(f64::from(midi - 69) / 12.0);
    for i in 0..len {
        let t = i as f64 / rate;
        let envelope = (t * 20.0).min(1.0) * (-t * 1.5).exp();
        let v: f64 = (1..=6)
            .map(|h| (2.0 * PI * hz * f64::from(h) * t).sin() / f64::from(h))
            .sum();
        out[start + i] += (gain * envelope * v) as f32;
    }
}

/// A cadence in the key of `tonic` (0 = C), major or minor: I-IV-V-I (i-iv-V-i), each chord a
/// second with its bass an octave below, played three times.
fn cadence(rate: f64, tonic: i32, major: bool) -> Vec<f32> {
    let third = if major { 4 } else { 3 };
    // Chords as semitones above the tonic; the minor V keeps its major third (harmonic minor).
    let chords: [[i32; 3]; 4] = [
        [0, third, 7],
        [5, 5 + third, 12],
        [7, 11, 14],
        [0, third, 7],
    ];
    let len = rate as usize;
    let mut out = vec![0.0f32; 12 * len];
    for (i, chord) in chords.iter().cycle().take(12).enumerate() {
        let root = 60 + tonic;
        for &n in chord {
            note(&mut out, rate, i * len, len, root + n, 0.08);
        }
        note(&mut out, rate, i * len, len, root + chord[0] - 12, 0.1);
    }
    out
}

#[test]
fn cadences_in_all_24_keys_give_their_key_and_mode() {
    let rate = 22_050.0;
    let mut wrong = Vec::new();
    for tonic in 0..12 {
        for major in [true, false] {
            let m = measured(&cadence(rate, tonic, major), 1, 22_050).unwrap();
            if (m.key, m.mode) != (tonic, u8::from(major)) {
                wrong.push((tonic, major, m.key, m.mode));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "(tonic, major, found key, found mode): {wrong:?}"
    );
}

#[test]
fn any_channel_count_and_rate_measure_alike() {
    // The same march in mono at 22,050 Hz, in 8 channels at 48 kHz, and at 192 kHz.
    let reference = measured(&clicks(22_050.0, 120.0, 20.0, 4), 1, 22_050).unwrap();
    let spread = |mono: Vec<f32>, channels: usize| -> Vec<f32> {
        mono.into_iter()
            .flat_map(|v| std::iter::repeat_n(v, channels))
            .collect()
    };
    let eight = measured(&spread(clicks(48_000.0, 120.0, 20.0, 4), 8), 8, 48_000).unwrap();
    let high = measured(&clicks(192_000.0, 120.0, 20.0, 4), 1, 192_000).unwrap();
    for m in [&eight, &high] {
        assert!((m.tempo - reference.tempo).abs() < 1.0, "{m:?}");
        assert!((m.duration_ms - 20_000.0).abs() < 1.0, "{m:?}");
    }
    assert_eq!(eight.format.channels, 8);
    assert_eq!(high.format.rate, 192_000);
    // A plain WAV names no speakers: its channels weigh by their count, as `ebur128` weighs
    // them (4 are L R Ls Rs; of 8, the LFE and the last two count nothing).
    for channels in [4, 8] {
        let frames = spread(clicks(48_000.0, 120.0, 20.0, 4), channels);
        let ours = measured(&frames, channels as u16, 48_000).unwrap().loudness;
        let mut theirs = ebur128::EbuR128::new(channels as u32, 48_000, ebur128::Mode::I).unwrap();
        theirs.add_frames_f32(&frames).unwrap();
        let theirs = theirs.loudness_global().unwrap();
        assert!(
            (ours - theirs).abs() < 1e-3,
            "{channels} channels: {ours} against {theirs}"
        );
    }
}

#[test]
fn duration_is_exact_from_the_decoded_frames() {
    let m = measured(&clicks(22_050.0, 100.0, 7.5, 1), 1, 22_050).unwrap();
    assert_eq!(m.duration_ms, 7500.0);
}

#[test]
fn files_that_cannot_be_measured_say_why() {
    let text = measure(Source::Bytes(b"track_id,artists\n".to_vec()), Some("wav"));
    assert!(matches!(text, Err(AudioError::Unsupported(_))), "{text:?}");
    let short = measured(&clicks(22_050.0, 120.0, 1.0, 1), 1, 22_050).unwrap_err();
    assert_eq!(
        short.to_string(),
        "it lasts 1.0 s: at least 5 s are needed to measure a tempo"
    );
    let nearly = measured(&clicks(22_050.0, 120.0, 4.99, 1), 1, 22_050).unwrap_err();
    assert_eq!(
        nearly.to_string(),
        "it lasts 4.9 s: at least 5 s are needed to measure a tempo"
    );
    let silence = measured(&vec![0.0; 22_050 * 10], 1, 22_050).unwrap_err();
    assert_eq!(
        silence.to_string(),
        "it is silent (no sound above -70 LUFS)"
    );
    // A truncated file: what was written before the cut is measured.
    let mut cut = wav(&clicks(22_050.0, 120.0, 12.0, 1), 1, 22_050);
    cut.truncate(cut.len() / 2);
    let m = measure(Source::Bytes(cut), Some("wav")).unwrap();
    assert!((m.duration_ms - 6000.0).abs() < 50.0, "{m:?}");
    // Cut in its header: refused.
    let mut header = wav(&clicks(22_050.0, 120.0, 6.0, 1), 1, 22_050);
    header.truncate(30);
    assert!(measure(Source::Bytes(header), Some("wav")).is_err());
    // Under 8 kHz the loudness filters cannot run.
    let low = measured(&clicks(4_000.0, 120.0, 6.0, 1), 1, 4_000).unwrap_err();
    assert_eq!(
        low.to_string(),
        "its sample rate, 4000 Hz, is under the 8000 Hz hitcast measures from"
    );
}

#[test]
fn a_decoder_that_breaks_on_a_crafted_file_is_an_error_not_a_panic() {
    // symphonia's FLAC predictor adds in i32: this stream's samples pass i32::MAX, a panic
    // where overflow is checked (this test build), wrapped values in a release build.
    let result = measure(Source::Bytes(flac_then_overflow(&[])), Some("flac"));
    let err = result.unwrap_err();
    if cfg!(debug_assertions) {
        assert_eq!(
            err.to_string(),
            "its audio cannot be decoded: the decoder failed on its contents"
        );
    } else {
        assert!(matches!(err, AudioError::TooShort { .. }), "{err}");
    }
    // After six seconds of song, the break ends it: what came before is measured.
    let mut song = clicks(44_100.0, 120.0, 6.1, 1);
    song.truncate(65 * 4096);
    let m = measure(Source::Bytes(flac_then_overflow(&song)), Some("flac")).unwrap();
    let song_ms = song.len() as f64 / 44.1;
    // (A release build measures the broken frame's 192 samples too, wrapped: 4.4 ms.)
    assert!((m.duration_ms - song_ms).abs() < 5.0, "{m:?}");
    assert!((m.tempo / 120.0 - 1.0).abs() < 0.02, "{m:?}");
}

/// A mono 16-bit FLAC stream at 44.1 kHz: `song` (a whole number of 4,096-sample blocks) stored
/// verbatim, then a 192-sample frame whose LPC subframe (order 1, coefficient 1, warm-up
/// 32767) carries residuals of 2^29 each, so that the predicted samples pass i32::MAX at the
/// fourth. CRCs are right: only the arithmetic breaks.
fn flac_then_overflow(song: &[f32]) -> Vec<u8> {
    const BLOCK: usize = 4096;
    const LAST: u64 = 192;
    assert_eq!(song.len() % BLOCK, 0);
    let mut info = Bits::default();
    // The block size (the last block's aside), frame sizes (unknown), rate, channels - 1,
    // bits - 1, samples, MD5 (none).
    let block = if song.is_empty() { LAST } else { BLOCK as u64 };
    for (value, width) in [
        (block, 16),
        (block, 16),
        (0, 24),
        (0, 24),
        (44_100, 20),
        (0, 3),
        (15, 5),
        (song.len() as u64 + LAST, 36),
        (0, 64),
        (0, 64),
    ] {
        info.put(value, width);
    }
    let mut file = b"fLaC".to_vec();
    file.extend([0x80, 0, 0, 34]); // the last metadata block: STREAMINFO, 34 bytes
    file.extend(info.bytes());

    for (number, block) in song.chunks(BLOCK).enumerate() {
        // Verbatim, no wasted bits; the samples as they are.
        let mut sub = Bits::default();
        sub.put(0b0000_0010, 8);
        for &x in block {
            sub.put((x.clamp(-1.0, 1.0) * 32_767.0) as i16 as u16 as u64, 16);
        }
        file.extend(flac_frame(number as u64, 0b1100, &sub)); // 4,096 samples
    }
    let mut sub = Bits::default();
    // LPC of order 1, no wasted bits; warm-up; 15-bit coefficients, shift 0, coefficient 1;
    // Rice coding, one partition, escaped to 31 raw bits a residual.
    for (value, width) in [(0b0100_0000, 8), (32_767, 16), (14, 4), (0, 5), (1, 15)] {
        sub.put(value, width);
    }
    for (value, width) in [(0, 2), (0, 4), (15, 4), (31, 5)] {
        sub.put(value, width);
    }
    for _ in 1..LAST {
        sub.put(1 << 29, 31);
    }
    let number = (song.len() / BLOCK) as u64;
    file.extend(flac_frame(number, 0b0001, &sub)); // 192 samples
    file
}

/// One FLAC frame of a mono 16-bit stream at 44.1 kHz in fixed blocks: its header (frame
/// `number`, under 128; `size_code`, the block size's 4-bit code), the subframe, its CRCs.
fn flac_frame(number: u64, size_code: u64, sub: &Bits) -> Vec<u8> {
    assert!(number < 128);
    let mut header = Bits::default();
    // Sync, fixed blocks; the block size, 44.1 kHz, mono, 16 bits, reserved; the number.
    for (value, width) in [
        (0b11_1111_1111_1110, 14),
        (0, 2),
        (size_code, 4),
        (9, 4),
        (0, 4),
        (4, 3),
        (0, 1),
        (number, 8),
    ] {
        header.put(value, width);
    }
    let mut frame = header.bytes();
    frame.push(crc8(&frame));
    frame.extend(sub.bytes());
    let crc = crc16(&frame);
    frame.extend(crc.to_be_bytes());
    frame
}

/// Bits written most significant first, padded with zeros to a whole byte.
#[derive(Default)]
struct Bits(Vec<bool>);

impl Bits {
    fn put(&mut self, value: u64, width: u32) {
        self.0.extend((0..width).rev().map(|i| value >> i & 1 == 1));
    }

    fn bytes(&self) -> Vec<u8> {
        self.0
            .chunks(8)
            .map(|b| (0..8).fold(0, |byte, i| byte << 1 | u8::from(b.get(i) == Some(&true))))
            .collect()
    }
}

/// FLAC's header check: CRC-8, polynomial 0x07.
fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |crc, &b| {
        (0..8).fold(
            crc ^ b,
            |c, _| if c & 0x80 != 0 { c << 1 ^ 0x07 } else { c << 1 },
        )
    })
}

/// FLAC's frame check: CRC-16, polynomial 0x8005.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0, |crc, &b| {
        (0..8).fold(crc ^ u16::from(b) << 8, |c, _| {
            if c & 0x8000 != 0 {
                c << 1 ^ 0x8005
            } else {
                c << 1
            }
        })
    })
}

#[test]
fn a_chained_ogg_file_is_measured_whole() {
    // Two Vorbis streams end to end, as `cat a.ogg b.ogg` or a broadcast's recording makes.
    let song = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/song.ogg")).unwrap();
    let one = measure(Source::Bytes(song.clone()), Some("ogg")).unwrap();
    let two = measure(Source::Bytes([song.clone(), song].concat()), Some("ogg")).unwrap();
    assert_eq!(two.duration_ms, 2.0 * one.duration_ms);
    assert_eq!(two.key, one.key);
    assert!((two.tempo / 120.0 - 1.0).abs() < 0.02, "{two:?}");
}

#[test]
fn aiff_and_alac_measure_as_the_same_samples_in_a_wav() {
    let song = drums(22_050.0, 120.0, 8.0);
    let from_wav = measure(Source::Bytes(wav(&song, 1, 22_050)), Some("wav")).unwrap();
    let from_aiff = measure(Source::Bytes(aiff(&song, 22_050)), Some("aiff")).unwrap();
    assert_eq!(from_aiff, from_wav);
    // tests/data/tone.m4a: ffmpeg's 440 Hz sine at an eighth of full scale, 5 s at 8 kHz
    // (`-f lavfi -i sine=frequency=440:duration=5:sample_rate=8000 -c:a alac`).
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tone.m4a")).unwrap();
    let alac = measure(Source::Bytes(file), Some("m4a")).unwrap();
    let tone: Vec<f32> = (0..40_000)
        .map(|n| (0.125 * (std::f64::consts::TAU * 440.0 * f64::from(n) / 8_000.0).sin()) as f32)
        .collect();
    let pcm = measure(Source::Bytes(wav(&tone, 1, 8_000)), Some("wav")).unwrap();
    assert_eq!(alac.duration_ms, 5_000.0);
    assert!(
        (alac.loudness - pcm.loudness).abs() < 0.01,
        "{alac:?} {pcm:?}"
    );
    assert_eq!((alac.key, alac.mode), (pcm.key, pcm.mode), "{alac:?}");
}

/// tests/data/bursts.mp3: 100 ms of a 440 Hz sine at half scale every half second (120 BPM),
/// 8 s at 22.05 kHz mono, made by ffmpeg:
/// `-f lavfi -i aevalsrc='0.5*sin(2*PI*440*t)*lt(mod(t\,0.5)\,0.1)':s=22050:d=8`
/// `-c:a libmp3lame -b:a 32k`. It begins with an ID3v2 tag, then a LAME header that gives the
/// encoder's delay and padding.
const BURSTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bursts.mp3");

#[test]
fn an_mp3_file_is_measured_from_its_first_sample_to_its_last() {
    let file = std::fs::read(BURSTS).unwrap();
    let m = measure_file(BURSTS.as_ref()).unwrap();
    assert_eq!(
        measure(Source::Bytes(file.clone()), Some("mp3")).unwrap(),
        m
    );
    // The encoder's delay and padding cut: exactly the 8 s encoded.
    assert_eq!(m.duration_ms, 8_000.0);
    assert!((m.tempo / 120.0 - 1.0).abs() < 0.02, "{m:?}");
    assert_eq!(
        (m.key, m.time_signature),
        (9, 4),
        "A, from its one pitch: {m:?}"
    );
    // The same bursts as PCM are 0.45 LU louder: the encoding's loss, which ffmpeg's
    // ebur128 filter measures too (-16.1 LUFS for the MP3, -15.7 for the PCM).
    let pcm: Vec<f32> = (0..8 * 22_050)
        .map(|n| {
            let t = f64::from(n) / 22_050.0;
            if t % 0.5 < 0.1 {
                (0.5 * (2.0 * PI * 440.0 * t).sin()) as f32
            } else {
                0.0
            }
        })
        .collect();
    let pcm = measured(&pcm, 1, 22_050).unwrap();
    assert!(
        (m.loudness - pcm.loudness + 0.45).abs() < 0.05,
        "{m:?} {pcm:?}"
    );
    // Without its tag, the file begins at a frame's sync, and reads the same.
    let tag = 10
        + file[6..10]
            .iter()
            .fold(0usize, |n, &b| n << 7 | usize::from(b));
    assert_eq!(file[tag], 0xff);
    assert_eq!(
        measure(Source::Bytes(file[tag..].to_vec()), None).unwrap(),
        m
    );
    // Cut in the middle of a frame: what came before the cut stands.
    let cut = measure(
        Source::Bytes(file[..file.len() * 3 / 4].to_vec()),
        Some("mp3"),
    )
    .unwrap();
    assert!((cut.duration_ms - 6_000.0).abs() < 100.0, "{cut:?}");
    // 200 KB of zeros in the middle (a damaged download): skipped, as a file and as bytes, at
    // the cost of the frame they cut and the next few, whose bits lay partly in earlier frames
    // (MP3's bit reservoir): 83 ms.
    let middle = file.len() / 2;
    let holed = [&file[..middle], &[0u8; 200_000][..], &file[middle..]].concat();
    let path = std::env::temp_dir().join(format!("hitcast-holed-{}.mp3", std::process::id()));
    std::fs::write(&path, &holed).unwrap();
    let from_file = measure_file(&path);
    std::fs::remove_file(&path).unwrap();
    let from_bytes = measure(Source::Bytes(holed), Some("mp3")).unwrap();
    assert_eq!(from_file.unwrap(), from_bytes);
    assert!(
        (from_bytes.duration_ms - 8_000.0).abs() < 150.0,
        "{from_bytes:?}"
    );
    // A file cut at the end of its tag.
    let said = measure(Source::Bytes(file[..tag].to_vec()), Some("mp3")).unwrap_err();
    assert_eq!(
        said.to_string(),
        "an ID3 tag with no audio after it that hitcast can read: is the file cut short?"
    );
}

#[test]
fn mp3_files_joined_end_to_end_are_measured_whole() {
    // The first file's LAME tag counts its own frames only: read past, not stopped at.
    let file = std::fs::read(BURSTS).unwrap();
    let one = measure(Source::Bytes(file.clone()), Some("mp3")).unwrap();
    let two = measure(Source::Bytes([file.clone(), file].concat()), Some("mp3")).unwrap();
    assert_eq!(one.duration_ms, 8_000.0);
    // Both files' frames, the first one's encoder delay and padding kept (as they are in the
    // second one's): 16 s and about 100 ms.
    assert!((two.duration_ms - 16_100.0).abs() < 100.0, "{two:?}");
    assert_eq!(two.key, one.key);
    assert!((two.tempo / 120.0 - 1.0).abs() < 0.02, "{two:?}");
}

#[test]
fn an_mp3_file_whose_rate_changes_is_refused() {
    // tests/data/blip24.mp3: 0.5 s of ffmpeg's 440 Hz sine at 24 kHz, `-b:a 8k`, no tag.
    let blip = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/blip24.mp3"
    ));
    let joined = [std::fs::read(BURSTS).unwrap(), blip.unwrap()].concat();
    let said = measure(Source::Bytes(joined), Some("mp3")).unwrap_err();
    assert_eq!(
        said.to_string(),
        "its audio cannot be decoded: its format changes mid-stream (22050 Hz mono, then \
         24000 Hz mono), as in files joined end to end"
    );
}

#[test]
fn an_id3_tag_before_another_format_is_read_past() {
    // ID3 tags begin MP3 files, and a few others: a tagged WAV is read as the WAV it is.
    let song = drums(22_050.0, 120.0, 8.0);
    let plain = measured(&song, 1, 22_050).unwrap();
    let tag = *b"ID3\x04\x00\x00\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    let tagged = [&tag[..], &wav(&song, 1, 22_050)].concat();
    assert_eq!(measure(Source::Bytes(tagged), Some("wav")).unwrap(), plain);
}

#[test]
fn a_codec_hitcast_does_not_decode_is_named() {
    // tests/data/blip.mka: 0.2 s of ffmpeg's sine, `-c:a ac3`, in a Matroska file.
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/blip.mka")).unwrap();
    let said = measure(Source::Bytes(file), Some("mka"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        said,
        "its codec, AC-3, is not one hitcast decodes: convert it to FLAC or WAV first \
         (ffmpeg -i SONG song.flac)"
    );
    // A container no reader knows, named from its first bytes: WMA's ASF header.
    let mut asf = vec![
        0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce,
        0x6c,
    ];
    asf.extend([0u8; 4000]);
    let said = measure(Source::Bytes(asf), Some("wma"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        said,
        "a Windows Media (WMA) file, which hitcast does not read: convert it to FLAC or WAV \
         first (ffmpeg -i SONG song.flac)"
    );
}

/// `frames` (interleaved, 48 kHz) as an Ogg Opus file made by opus-pure's encoder: `family`
/// 0 for mono or stereo, 1 for surround in Vorbis order; `gain_db` the header's output gain.
/// The last page's granule ends the stream at the last frame (RFC 7845 §4.4), so the
/// encoder's padding is trimmed as its delay is.
fn ogg_opus(frames: &[f32], channels: usize, family: u8, gain_db: f64) -> Vec<u8> {
    use opus_pure::{Application, OggOpusWriter, OpusHead, OpusMSEncoder};
    let mut encoder = OpusMSEncoder::new(48_000, channels, family, Application::Audio).unwrap();
    let mut head = OpusHead::for_ms_encoder(&encoder, 48_000);
    head.output_gain_q8 = (gain_db * 256.0).round() as i16;
    let (delay, song) = (usize::from(head.pre_skip), frames.len() / channels);
    let mut writer = OggOpusWriter::new(Vec::new(), head).unwrap();
    // The encoder's delay in silence after the song, so that its last frames come out.
    let mut input = frames.to_vec();
    input.resize((song + delay).div_ceil(960) * 960 * channels, 0.0);
    let mut packet = vec![0u8; 8 * opus_pure::MAX_PACKET_BYTES];
    let blocks = input.chunks_exact(960 * channels);
    let last = blocks.len() - 1;
    for (i, block) in blocks.enumerate() {
        let n = encoder.encode(block, 960, &mut packet).unwrap();
        if i == last {
            let end = (delay + song) as i64 - writer.granule();
            writer
                .write_packet_with_duration(&packet[..n], end as u32)
                .unwrap();
        } else {
            writer.write_packet(&packet[..n]).unwrap();
        }
    }
    writer.finish().unwrap()
}

#[test]
fn opus_measures_as_the_samples_it_was_made_from() {
    // Drums in stereo, 8.01 s: not a whole number of 20 ms packets, so the end is trimmed.
    let stereo: Vec<f32> = drums(48_000.0, 120.0, 8.01)
        .into_iter()
        .flat_map(|v| [v, v])
        .collect();
    let pcm = measured(&stereo, 2, 48_000).unwrap();
    let opus = measure(Source::Bytes(ogg_opus(&stereo, 2, 0, 0.0)), Some("opus")).unwrap();
    assert_eq!(opus.duration_ms, 8_010.0, "the delay and padding trimmed");
    assert_eq!(opus.format.rate, 48_000);
    assert!(
        (opus.tempo / pcm.tempo - 1.0).abs() < 0.01,
        "{opus:?} {pcm:?}"
    );
    // The header's output gain is applied, as players apply it.
    let quieter = measure(Source::Bytes(ogg_opus(&stereo, 2, 0, -6.0)), None).unwrap();
    assert!(
        (opus.loudness - quieter.loudness - 6.0).abs() < 0.02,
        "{opus:?} {quieter:?}"
    );
    // Chords keep their key and loudness. (The drums' noise loses 0.4 LU to the encoding, as
    // it does through libopus: -22.65 LUFS by ffmpeg's encoder, against -22.25 as PCM.)
    let chords = cadence(48_000.0, 9, false);
    let pcm = measured(&chords, 1, 48_000).unwrap();
    let minor = measure(Source::Bytes(ogg_opus(&chords, 1, 0, 0.0)), None).unwrap();
    assert_eq!((minor.key, minor.mode), (9, 0), "A minor: {minor:?}");
    assert!(
        (minor.loudness - pcm.loudness).abs() < 0.05,
        "{minor:?} {pcm:?}"
    );
    // libopus's own file (tests/data/blip.opus: 0.2 s of ffmpeg's sine, `-c:a libopus`):
    // its delay and padding trimmed, exactly 0.2 s.
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/blip.opus")).unwrap();
    assert!(matches!(
        measure(Source::Bytes(file), Some("opus")),
        Err(AudioError::TooShort { seconds }) if seconds == 0.2
    ));
}

#[test]
fn surround_opus_weighs_its_channels_by_their_places() {
    // 5.1 in Vorbis order (L C R RL RR LFE): the drums in the left front, then in the left
    // rear, a surround BS.1770 weighs 1.41 (+1.49 dB), then in the LFE, which it leaves out.
    let song = drums(48_000.0, 120.0, 8.0);
    let only_in = |channel: usize| -> Vec<u8> {
        let mut frames = vec![0.0f32; song.len() * 6];
        for (i, &v) in song.iter().enumerate() {
            frames[i * 6 + channel] = v;
        }
        ogg_opus(&frames, 6, 1, 0.0)
    };
    let front = measure(Source::Bytes(only_in(0)), None).unwrap();
    let rear = measure(Source::Bytes(only_in(3)), None).unwrap();
    assert_eq!(front.format.channels, 6);
    assert!(
        (rear.loudness - front.loudness - 10.0 * 1.41f64.log10()).abs() < 0.1,
        "{front:?} {rear:?}"
    );
    assert!(matches!(
        measure(Source::Bytes(only_in(5)), None),
        Err(AudioError::Silent)
    ));
}

#[test]
fn webm_opus_is_measured() {
    // tests/data/bursts.webm: the bursts of bursts.mp3 at 48 kHz, `-c:a libopus -b:a 16k`.
    let webm =
        measure_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bursts.webm").as_ref())
            .unwrap();
    let mp3 = measure_file(BURSTS.as_ref()).unwrap();
    // symphonia does not read WebM's end trim: the last packet's padding (under 20 ms) stays.
    assert!((8_000.0..8_020.0).contains(&webm.duration_ms), "{webm:?}");
    assert!((webm.tempo / 120.0 - 1.0).abs() < 0.02, "{webm:?}");
    assert_eq!(
        (webm.key, webm.time_signature),
        (mp3.key, mp3.time_signature)
    );
    assert!(
        (webm.loudness - mp3.loudness).abs() < 0.5,
        "{webm:?} {mp3:?}"
    );
}

/// A mono 16-bit AIFF of `frames`: big-endian samples, the rate an 80-bit extended float.
fn aiff(frames: &[f32], rate: u32) -> Vec<u8> {
    let data_len = (frames.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"FORM");
    b.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    b.extend_from_slice(b"AIFFCOMM");
    b.extend_from_slice(&18u32.to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes());
    b.extend_from_slice(&(frames.len() as u32).to_be_bytes());
    b.extend_from_slice(&16u16.to_be_bytes());
    let shift = u64::from(rate).leading_zeros();
    b.extend_from_slice(&(16_383 + 63 - shift as u16).to_be_bytes());
    b.extend_from_slice(&(u64::from(rate) << shift).to_be_bytes());
    b.extend_from_slice(b"SSND");
    b.extend_from_slice(&(8 + data_len).to_be_bytes());
    b.extend_from_slice(&[0; 8]);
    for &x in frames {
        let v = (f64::from(x).clamp(-1.0, 1.0) * 32767.0).round() as i16;
        b.extend_from_slice(&v.to_be_bytes());
    }
    b
}

/// A 32-bit float WAV of `frames`, as written, overs and NaN included.
fn wav_f32(frames: &[f32], rate: u32) -> Vec<u8> {
    let data_len = (frames.len() * 4) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for x in frames {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b
}

/// Samples beyond full scale are clipped, as a player would: a float file a hundred times
/// over full scale measures as loud as a full-scale square wave (about +3 LUFS), not +43, and
/// its NaN samples count as silence.
#[test]
fn samples_beyond_full_scale_are_clipped() {
    let rate = 22_050;
    let mut over: Vec<f32> = clicks(f64::from(rate), 120.0, 8.0, 1)
        .iter()
        .map(|x| x * 100.0)
        .collect();
    over[100] = f32::NAN;
    let m = measure(Source::Bytes(wav_f32(&over, rate)), Some("wav")).unwrap();
    assert!(m.loudness <= 3.1, "{m:?}");
    let square: Vec<f32> = (0..rate * 8)
        .map(|i| if (i / 11) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let full = measure(Source::Bytes(wav_f32(&square, rate)), Some("wav")).unwrap();
    assert!(full.loudness > 0.0 && full.loudness < 3.1, "{full:?}");
}

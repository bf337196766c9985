//! Key and mode: the song's pitch-class profile (chroma) against the 24 rotations of the
//! Krumhansl-Kessler major and minor key profiles, the best correlation winning.
//!
//! Each of [`crate::spectrum::Spectrum::tonal`]'s frames (bins under 3 Hz apart) is folded
//! between 60 Hz and 2.1 kHz into 12 pitch classes: a bin's magnitude goes to its nearest class,
//! weighted by how close it lies, so bins between two semitones count little. The song's chroma
//! is the frames' sum, so loud passages count more than quiet ones, as they do to a listener.
//! Tuning is taken as A = 440 Hz.
//!
//! The choices: the bass's fundamentals (which say the tonic), magnitudes rather than power (a
//! loud melody note does not drown the chords), and a sum of frames rather than a mean of
//! frames scaled to one (quiet frames are mostly noise and decay); each beat its alternative
//! on music rendered from MIDI (`bench/audio.py`, docs/performance.md).

/// The lowest frequency read: the bass's fundamentals, whose semitones lie 3.6 Hz apart at
/// 60 Hz, just over the tonal frames' bin spacing.
const LOW_HZ: f64 = 60.0;

/// The highest: above it harmonics, not notes, dominate.
const HIGH_HZ: f64 = 2100.0;

/// Krumhansl and Kessler's (1982) probe-tone ratings of the 12 pitch classes in C major.
pub const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];

/// The same for C minor.
pub const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// A song's mean chroma, built frame by frame.
#[derive(Clone, Debug)]
pub struct Chroma {
    /// Each bin's pitch class and weight (bins outside the range: none).
    bins: Vec<Option<(usize, f32)>>,
    sum: [f64; 12],
    frames: usize,
}

/// A key, as Spotify codes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C; -1 when no key is found (no sound between 60 Hz and
    /// 2.1 kHz, such as a lone tone above them).
    pub key: i32,
    /// 1 major, 0 minor.
    pub mode: u8,
    /// How far the best key's correlation lies above the next best's, 0 to 2.
    pub confidence: f64,
}

impl Chroma {
    /// A chroma for frames of `bins` magnitudes whose bin `k` lies at `k · bin_hz` Hz.
    pub fn new(bins: usize, bin_hz: f64) -> Chroma {
        let bins = (0..bins)
            .map(|k| {
                let f = k as f64 * bin_hz;
                if !(LOW_HZ..=HIGH_HZ).contains(&f) {
                    return None;
                }
                let midi = 69.0 + 12.0 * (f / 440.0).log2();
                let nearest = midi.round();
                let weight = (1.0 - 2.0 * (midi - nearest).abs()).max(0.0);
                Some(((nearest as i64).rem_euclid(12) as usize, weight as f32))
            })
            .collect();
        Chroma {
            bins,
            sum: [0.0; 12],
            frames: 0,
        }
    }

    /// Adds one frame's magnitudes.
    pub fn push(&mut self, magnitudes: &[f32]) {
        let mut frame = [0.0f64; 12];
        for (m, bin) in magnitudes.iter().zip(&self.bins) {
            if let Some((pc, w)) = bin {
                frame[*pc] += f64::from(m * w);
            }
        }
        if frame.iter().sum::<f64>() > 1e-9 {
            for (s, f) in self.sum.iter_mut().zip(frame) {
                *s += f;
            }
            self.frames += 1;
        }
    }

    /// The mean chroma, `None` when no frame had tonal energy.
    pub fn mean(&self) -> Option<[f64; 12]> {
        (self.frames > 0).then(|| self.sum.map(|s| s / self.frames as f64))
    }

    /// The best of the 24 keys for the mean chroma.
    pub fn key(&self) -> Key {
        let Some(chroma) = self.mean() else {
            return Key {
                key: -1,
                mode: 1,
                confidence: 0.0,
            };
        };
        let mut scores: Vec<(f64, i32, u8)> = Vec::with_capacity(24);
        for tonic in 0..12 {
            for (profile, mode) in [(&MAJOR, 1u8), (&MINOR, 0u8)] {
                let rotated: [f64; 12] = std::array::from_fn(|pc| profile[(pc + 12 - tonic) % 12]);
                scores.push((correlation(&chroma, &rotated), tonic as i32, mode));
            }
        }
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (best, key, mode) = scores[0];
        Key {
            key,
            mode,
            confidence: best - scores[1].0,
        }
    }
}

/// Pearson correlation of two 12-vectors (0 when either is constant).
fn correlation(a: &[f64; 12], b: &[f64; 12]) -> f64 {
    let (ma, mb) = (a.iter().sum::<f64>() / 12.0, b.iter().sum::<f64>() / 12.0);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    if aa > 0.0 && bb > 0.0 {
        ab / (aa * bb).sqrt()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_finds_its_own_key_and_pitch_classes_fold_by_octave() {
        let bins = 4097;
        let bin_hz = 22_050.0 / 8192.0;
        let mut c = Chroma::new(bins, bin_hz);
        // The bin nearest 440 Hz (A) and the one nearest 880 Hz fold to pitch class 9.
        let a440 = (440.0 / bin_hz).round() as usize;
        assert_eq!(c.bins[a440].unwrap().0, 9);
        assert_eq!(c.bins[(880.0 / bin_hz).round() as usize].unwrap().0, 9);
        assert!(c.bins[20].is_none(), "below 60 Hz");
        assert!(c.bins[30].is_some(), "above 60 Hz");
        // A frame whose chroma is the E minor profile itself.
        let mut frame = vec![0.0f32; bins];
        for pc in 0..12 {
            // One bin a pitch class, near A4's octave: its magnitude is the profile's rating.
            let hz = 440.0 * 2f64.powf((pc as f64 - 9.0) / 12.0);
            let k = (hz / bin_hz).round() as usize;
            let rating = MINOR[(pc + 12 - 4) % 12];
            frame[k] = (rating / f64::from(c.bins[k].unwrap().1)) as f32;
        }
        c.push(&frame);
        let key = c.key();
        assert_eq!((key.key, key.mode), (4, 0), "{key:?}");
        assert!(key.confidence > 0.0);
        assert_eq!(Chroma::new(bins, bin_hz).key().key, -1, "no frame: no key");
    }
}

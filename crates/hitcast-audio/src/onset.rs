//! Onset strength: how much new energy each frame brings, the signal tempo and metre are read
//! from. Each frame's magnitudes are log-compressed; the strength is the sum over bins below
//! 8 kHz of their rise since the frame before (positive spectral flux), each bin weighted by
//! the mel scale's density there (`700 / (700 + f)`), so that high bins count as a mel
//! spectrogram's few wide bands do (librosa's `onset_strength` reads a mel spectrogram): a
//! hi-hat's broadband hiss does not outweigh the kick and the snare.
//!
//! Beside it, the same flux on the magnitudes themselves, uncompressed: how loud each onset
//! is, which the metre's accents read (compression flattens a downbeat's extra weight).
//!
//! A held tone or chord has no onsets, but its compressed flux is not zero: the log lifts the
//! window's faint side lobes, whose ripple from frame to frame repeats as evenly as a beat.
//! [`Onsets::steady`] tells such a signal by its uncompressed flux, which is a sliver of its
//! level, where music's rises are a tenth of it and more.

/// Bins above this frequency are left out: cymbals' hiss adds noise, not beats. (Only a file
/// at 16 to 22 kHz, analysed at its own rate, has any.)
const TOP_HZ: f64 = 8_000.0;

/// Log compression: `ln(1 + GAIN · magnitude)`.
const GAIN: f32 = 1000.0;

/// A signal is steady when, in 99 frames out of 100, the new energy (uncompressed flux) is
/// under this share of the mean frame's level. Held sines and chords, mixed with noise 60 dB
/// down or starting on a click, stay under 1.5%, a chord swelling every four seconds under 3%;
/// a piano note every four seconds reaches 48%, and music rendered from MIDI 65% to 220%. (Nine
/// frames in ten would not do: a note every two seconds rises in fewer.)
const STEADY: f32 = 0.05;

/// The onset-strength envelopes, one value a frame.
#[derive(Clone, Debug, Default)]
pub struct Onsets {
    previous: Vec<f32>,
    current: Vec<f32>,
    previous_linear: Vec<f32>,
    weights: Vec<f32>,
    /// Log-compressed flux, one value a frame (the first frame, with nothing to rise from,
    /// counts as 0): what tempo and beats are read from.
    pub envelope: Vec<f32>,
    /// Uncompressed flux, one value a frame: how strong each onset is.
    pub accents: Vec<f32>,
    /// The sum of every frame's weighted magnitudes: its level, as the flux weighs it.
    level: f64,
}

impl Onsets {
    /// Envelopes for frames whose bin `k` lies at `k · bin_hz` Hz.
    pub fn new(bin_hz: f64) -> Onsets {
        let top = (TOP_HZ / bin_hz) as usize;
        Onsets {
            weights: (0..top)
                .map(|k| (700.0 / (700.0 + k as f64 * bin_hz)) as f32)
                .collect(),
            ..Onsets::default()
        }
    }

    /// Adds one frame's magnitudes.
    pub fn push(&mut self, magnitudes: &[f32]) {
        let top = self.weights.len().min(magnitudes.len());
        let frame = &magnitudes[..top];
        self.current.clear();
        self.current
            .extend(frame.iter().map(|&m| ln_at_least_1(1.0 + GAIN * m)));
        self.level += f64::from(weighted(frame, frame, &self.weights, |v, _| v));
        let (flux, accent) = if self.previous.is_empty() {
            (0.0, 0.0)
        } else {
            let rise = |now: f32, before: f32| (now - before).max(0.0);
            (
                weighted(&self.current, &self.previous, &self.weights, rise),
                weighted(frame, &self.previous_linear, &self.weights, rise),
            )
        };
        self.envelope.push(flux);
        self.accents.push(accent);
        std::mem::swap(&mut self.previous, &mut self.current);
        self.previous_linear.clear();
        self.previous_linear.extend_from_slice(frame);
    }

    /// Whether the signal holds still: no onsets, only a held sound (see the module's docs),
    /// whose tempo is none. Silence is not steady: it has no level to hold.
    pub fn steady(&self) -> bool {
        let frames = self.accents.len();
        if frames == 0 || self.level <= 0.0 {
            return false;
        }
        let mean_level = (self.level / frames as f64) as f32;
        let mut accents = self.accents.clone();
        // The 99th percentile: 99 frames in 100 at or under it.
        let at = (frames * 99).div_ceil(100) - 1;
        let (_, &mut rise, _) = accents.select_nth_unstable_by(at, f32::total_cmp);
        rise < STEADY * mean_level
    }
}

/// `Σ term(now[i], before[i]) · weights[i]` over the shortest of the three, in eight running
/// sums added at the end: a sum in one order cannot be vector instructions, eight side by side
/// can.
#[inline(always)]
fn weighted(now: &[f32], before: &[f32], weights: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let n = now.len().min(before.len()).min(weights.len());
    let (now, before, weights) = (&now[..n], &before[..n], &weights[..n]);
    let mut sums = [0.0f32; 8];
    for ((c, p), w) in now
        .chunks_exact(8)
        .zip(before.chunks_exact(8))
        .zip(weights.chunks_exact(8))
    {
        for i in 0..8 {
            sums[i] += term(c[i], p[i]) * w[i];
        }
    }
    let whole = (n / 8) * 8;
    let rest: f32 = (whole..n)
        .map(|i| term(now[i], before[i]) * weights[i])
        .sum();
    sums.iter().sum::<f32>() + rest
}

/// `ln(x)` for `x` of 1 or more, within 2e-7 of `f32::ln` (about 2 ulp): written out (the
/// exponent and the atanh series of the mantissa) so that a loop over a frame's bins compiles
/// to vector instructions, where the library's `ln` is one call a value.
#[inline(always)]
fn ln_at_least_1(x: f32) -> f32 {
    const SQRT_2: f32 = std::f32::consts::SQRT_2;
    let bits = x.to_bits();
    // x = 2^e · m, with m moved into [√½, √2) so that t below stays under 0.172.
    let exponent = (bits >> 23) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let (m, exponent) = if m > SQRT_2 {
        (m * 0.5, exponent + 1)
    } else {
        (m, exponent)
    };
    // ln m = 2 atanh t = 2 (t + t³/3 + t⁵/5 + ...): the next term is under 1e-9.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series =
        t * (2.0 + t2 * (2.0 / 3.0 + t2 * (2.0 / 5.0 + t2 * (2.0 / 7.0 + t2 * (2.0 / 9.0)))));
    exponent as f32 * std::f32::consts::LN_2 + series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_logarithm_agrees_with_the_library() {
        assert_eq!(ln_at_least_1(1.0), 0.0);
        let mut x = 1.0f32;
        while x < 1e7 {
            let (ours, std) = (ln_at_least_1(x), x.ln());
            assert!(
                (ours - std).abs() <= 2e-7 * std.max(1.0),
                "ln {x}: {ours} against {std}"
            );
            x = x * 1.001 + 1e-4;
        }
    }

    #[test]
    fn a_rise_is_an_onset_and_a_fall_is_not() {
        let mut o = Onsets::new(10.0);
        o.push(&[0.0, 0.0, 0.0]);
        o.push(&[1.0, 0.0, 0.0]);
        o.push(&[0.0, 0.0, 0.0]);
        assert_eq!(o.envelope[0], 0.0);
        // Bin 0 (0 Hz) has weight 1.
        assert!((o.envelope[1] - 1001.0f32.ln()).abs() < 1e-5);
        assert_eq!(o.accents[1], 1.0);
        assert_eq!((o.envelope[2], o.accents[2]), (0.0, 0.0));
        // A high bin weighs less: 3.5 kHz counts 700 / 4,200 of 0 Hz.
        let mut high = Onsets::new(3500.0);
        high.push(&[0.0, 0.0]);
        high.push(&[0.0, 1.0]);
        assert!(
            (high.accents[1] - 1.0 / 6.0).abs() < 1e-6,
            "{}",
            high.accents[1]
        );
    }
}

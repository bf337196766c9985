//! Integrated loudness by ITU-R BS.1770-4 / EBU R128, in LUFS, as a stream: each channel
//! K-weighted (a high shelf, then a high-pass, at the file's own rate), the weighted squares
//! summed into 100 ms quarters, each 400 ms block (every 100 ms) the mean of four quarters, and
//! the blocks gated twice: at -70 LUFS, then at 10 LU under the mean of those left.
//!
//! Channels weigh by the speakers they feed ([`Layout`]): surrounds beside the listener at
//! 1.41, an LFE not at all, the rest at 1.
//!
//! Written here rather than taken from `ebur128` (the tests check that the two agree): that
//! crate keeps the C library's rounding, so it recomputes each 400 ms block from its samples
//! in one running sum and filters through a 4th-order section, which cost more than the rhythm
//! and pitch analysis together (docs/audio.md). Here every sample is squared and summed once.

use crate::decode::Layout;

/// One second-order section: `y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2]`.
///
/// Run in direct form I: each output waits on the one before through a single multiply-add
/// (the rest is known a sample early), half the chain of the transposed form, whose state
/// update waits on the output and the output on the state.
#[derive(Clone, Copy, Debug)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

/// Added to every section's output so that, in digital silence, it settles on a tiny constant
/// instead of decaying into subnormal numbers, which are many times slower to compute with.
/// The high-pass's output settles under 1e-14 up to 192 kHz: a DC that adds 1e-28 to an
/// energy, where the -70 LUFS gate lies at 1e-7.
const NOT_SUBNORMAL: f64 = 1e-20;

/// One channel's memory of a section: its last two inputs and outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct History {
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    #[inline(always)]
    fn run(&self, x: f64, h: &mut History) -> f64 {
        let early = NOT_SUBNORMAL + self.b[0] * x + self.b[1] * h.x[0] + self.b[2] * h.x[1]
            - self.a[1] * h.y[1];
        let y = early - self.a[0] * h.y[0];
        *h = History {
            x: [x, h.x[0]],
            y: [y, h.y[0]],
        };
        y
    }
}

/// BS.1770's K-weighting at `rate` Hz: the shelf and high-pass of the standard's 48 kHz
/// coefficients, re-derived for any rate from their analog prototypes (as libebur128 does).
fn k_weighting(rate: f64) -> [Biquad; 2] {
    let (f0, gain_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad {
        b: [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    };
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    };
    [shelf, high_pass]
}

/// A song's integrated loudness, built block by block.
#[derive(Clone, Debug)]
pub struct Loudness {
    filters: [Biquad; 2],
    weights: Vec<f64>,
    /// Each channel's memory of the two sections.
    states: Vec<[History; 2]>,
    /// Frames in 100 ms.
    quarter: usize,
    /// Frames summed into the current quarter, and their weighted energy.
    filled: usize,
    energy: f64,
    /// The last four quarters' energies, oldest first, and how many quarters have ended.
    last: [f64; 4],
    quarters: usize,
    /// Each 400 ms block's mean weighted energy.
    blocks: Vec<f64>,
}

impl Loudness {
    /// A meter for frames of `channels` channels, laid out as `layout` says, at `rate` Hz.
    pub fn new(layout: Layout, channels: usize, rate: u32) -> Loudness {
        Loudness {
            filters: k_weighting(f64::from(rate)),
            weights: (0..channels.max(1)).map(|i| layout.weight(i)).collect(),
            states: vec![[History::default(); 2]; channels.max(1)],
            // As `ebur128`: 100 ms rounded to the nearest frame.
            quarter: ((rate as usize + 5) / 10).max(1),
            filled: 0,
            energy: 0.0,
            last: [0.0; 4],
            quarters: 0,
            blocks: Vec::new(),
        }
    }

    /// Adds interleaved frames.
    pub fn push(&mut self, interleaved: &[f32]) {
        // Mono and stereo, nearly every song, with the channel count known to the compiler,
        // which then keeps the filters' states in registers.
        match self.weights.len() {
            1 => self.push_channels::<1>(interleaved),
            2 => self.push_channels::<2>(interleaved),
            _ => self.push_any(interleaved),
        }
    }

    /// Filters and sums whole quarters at a time: within a quarter, the frames' energies go
    /// into one running sum with no test a frame.
    fn push_channels<const C: usize>(&mut self, interleaved: &[f32]) {
        let [shelf, high_pass] = self.filters;
        let weights: [f64; C] = std::array::from_fn(|c| self.weights[c]);
        let mut states: [[History; 2]; C] = std::array::from_fn(|c| self.states[c]);
        let mut rest = interleaved;
        while rest.len() >= C {
            let take = (self.quarter - self.filled).min(rest.len() / C);
            let (now, later) = rest.split_at(take * C);
            // A sum a channel: the channels' filters and sums then run side by side.
            let mut energy = [0.0; C];
            for frame in now.chunks_exact(C) {
                for c in 0..C {
                    let y = shelf.run(f64::from(frame[c]), &mut states[c][0]);
                    let y = high_pass.run(y, &mut states[c][1]);
                    energy[c] += y * y;
                }
            }
            self.add((0..C).map(|c| weights[c] * energy[c]).sum(), take);
            rest = later;
        }
        self.states.copy_from_slice(&states);
    }

    fn push_any(&mut self, interleaved: &[f32]) {
        let [shelf, high_pass] = self.filters;
        for frame in interleaved.chunks_exact(self.weights.len()) {
            let mut energy = 0.0;
            for ((&x, w), s) in frame.iter().zip(&self.weights).zip(&mut self.states) {
                let y = shelf.run(f64::from(x), &mut s[0]);
                let y = high_pass.run(y, &mut s[1]);
                energy += w * y * y;
            }
            self.add(energy, 1);
        }
    }

    /// Adds the weighted energy of `frames` frames, which end the quarter or lie within it.
    #[inline]
    fn add(&mut self, energy: f64, frames: usize) {
        self.energy += energy;
        self.filled += frames;
        if self.filled == self.quarter {
            self.end_quarter();
        }
    }

    fn end_quarter(&mut self) {
        self.last.rotate_left(1);
        self.last[3] = self.energy;
        self.quarters += 1;
        if self.quarters >= 4 {
            let sum: f64 = self.last.iter().sum();
            self.blocks.push(sum / (4 * self.quarter) as f64);
        }
        self.energy = 0.0;
        self.filled = 0;
    }

    /// The integrated loudness, LUFS: minus infinity when no block is above -70 LUFS (silence,
    /// or under 400 ms of sound).
    pub fn integrated(&self) -> f64 {
        let absolute = lufs_to_energy(-70.0);
        let gated: Vec<f64> = self
            .blocks
            .iter()
            .copied()
            .filter(|&e| e >= absolute)
            .collect();
        if gated.is_empty() {
            return f64::NEG_INFINITY;
        }
        let relative = gated.iter().sum::<f64>() / gated.len() as f64 * 0.1;
        let (sum, n) = gated
            .iter()
            .filter(|&&e| e >= relative)
            .fold((0.0, 0usize), |(s, n), e| (s + e, n + 1));
        energy_to_lufs(sum / n as f64)
    }
}

fn energy_to_lufs(energy: f64) -> f64 {
    10.0 * energy.log10() - 0.691
}

fn lufs_to_energy(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic test signal: tones, a noise burst and quiet passages, per channel a
    /// little different.
    fn signal(rate: u32, channels: usize, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut out = Vec::with_capacity(n * channels);
        for i in 0..n {
            let t = i as f64 / f64::from(rate);
            // Loud for 3 s, quiet for 2 s (below the relative gate), over and over.
            let level = if (t % 5.0) < 3.0 { 0.5 } else { 0.01 };
            for c in 0..channels {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let hz = 110.0 * (c + 1) as f64;
                let tone = (2.0 * std::f64::consts::PI * hz * t).sin();
                out.push((level * (0.6 * tone + 0.4 * noise)) as f32);
            }
        }
        out
    }

    #[test]
    fn agrees_with_ebur128_at_any_rate_and_channel_count() {
        for (rate, channels) in [
            (44_100, 2),
            (48_000, 1),
            (22_050, 4),
            (32_000, 5),
            (96_000, 6),
            (8_000, 8),
        ] {
            let x = signal(rate, channels, 12.3);
            let mut ours = Loudness::new(Layout::by_count(channels), channels, rate);
            let mut theirs =
                ebur128::EbuR128::new(channels as u32, rate, ebur128::Mode::I).unwrap();
            // Blocks of uneven size, as a decoder hands them on.
            for block in x.chunks(channels * 1151) {
                ours.push(block);
                theirs.add_frames_f32(block).unwrap();
            }
            let (a, b) = (ours.integrated(), theirs.loudness_global().unwrap());
            assert!(
                (a - b).abs() < 1e-3,
                "{rate} Hz x {channels}: {a} against {b}"
            );
        }
    }

    #[test]
    fn silence_and_short_sound_have_no_loudness() {
        let mut meter = Loudness::new(Layout::default(), 2, 44_100);
        meter.push(&vec![0.0; 2 * 44_100 * 3]);
        assert_eq!(meter.integrated(), f64::NEG_INFINITY);
        let mut meter = Loudness::new(Layout::default(), 1, 44_100);
        meter.push(&signal(44_100, 1, 0.3));
        assert_eq!(
            meter.integrated(),
            f64::NEG_INFINITY,
            "under one 400 ms block"
        );
    }

    #[test]
    fn blocks_of_any_size_give_the_same_loudness() {
        // Quarters of 4,410 frames: 1.2 s is 12 of them, so the last frame ends a quarter.
        for channels in [2, 3] {
            let x = signal(44_100, channels, 1.2);
            let mut whole = Loudness::new(Layout::by_count(channels), channels, 44_100);
            whole.push(&x);
            let whole = whole.integrated();
            assert!(whole.is_finite());
            for size in [1, 2, 4_409, 4_410, 10_000] {
                let mut parts = Loudness::new(Layout::by_count(channels), channels, 44_100);
                parts.push(&[]);
                for block in x.chunks(size * channels) {
                    parts.push(block);
                }
                // Equal but for the order the quarters' sums are added in.
                let parts = parts.integrated();
                assert!(
                    (parts - whole).abs() < 1e-9,
                    "{channels} channels, blocks of {size}: {parts} against {whole}"
                );
            }
        }
    }
}

//! Interleaved frames of any channel count and rate to one mono signal at an analysis rate
//! between 11,025 and 22,050 Hz: channels averaged, then halved in rate while the rate is
//! 22,050 or more (a CD's 44.1 kHz is analysed at 11,025 Hz, a 96 kHz file at 12 kHz; a file
//! under 22,050 Hz keeps its own rate). What the analysis reads lies under half that rate (5.5
//! kHz for a CD): the onsets of kicks, snares, voices and chords, and the notes the key is read
//! from (up to 2.1 kHz). Halving by a fixed filter costs a fraction of a general resampler and
//! folds back only the top of the halved band (see [`TAPS`]), so no resampler is needed.

/// Taps of the half-band low-pass before each halving (a Blackman-windowed sinc, cut-off at a
/// quarter of the input rate): flat to 0.15 of the input rate, -26 dB at 0.3 and -76 dB from
/// 0.35, so only the top of the halved band, which the analysis weighs least, takes any fold.
const TAPS: usize = 31;

/// One halving stage: low-pass, keep every second sample.
#[derive(Clone, Debug)]
struct Halver {
    /// The input not yet wholly read: the next output's window starts at its first sample.
    history: Vec<f32>,
    /// `history`'s even and odd samples, for the block being filtered.
    even: Vec<f32>,
    odd: Vec<f32>,
}

fn half_band() -> [f32; TAPS] {
    let mut h = [0.0f32; TAPS];
    let m = (TAPS - 1) as f64;
    let mut sum = 0.0;
    for (n, tap) in h.iter_mut().enumerate() {
        let x = n as f64 - m / 2.0;
        // A half-band filter: every second tap but the centre is zero (exactly, where the sine
        // would leave 1e-17), and `Halver::push` skips them.
        let sinc = if x == 0.0 {
            0.5
        } else if x % 2.0 == 0.0 {
            0.0
        } else {
            (std::f64::consts::PI * 0.5 * x).sin() / (std::f64::consts::PI * x)
        };
        let w = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / m).cos()
            + 0.08 * (4.0 * std::f64::consts::PI * n as f64 / m).cos();
        // The window's ends are zero, where its cosines leave 1e-17.
        let v = if n == 0 || n == TAPS - 1 {
            0.0
        } else {
            sinc * w
        };
        *tap = v as f32;
        sum += v;
    }
    for tap in &mut h {
        *tap /= sum as f32;
    }
    h
}

impl Halver {
    fn new() -> Halver {
        Halver {
            history: vec![0.0; TAPS - 1],
            even: Vec::new(),
            odd: Vec::new(),
        }
    }

    /// Filters `input` and appends every second sample to `out`: output `n` is the window of
    /// `TAPS` samples ending at input sample `2n`.
    ///
    /// Computed tap by tap over the whole block (output `n` reads `history[2n + t]`, which is
    /// `even[n + t/2]` or `odd[n + t/2]`), so each tap is one pass over contiguous samples that
    /// the compiler turns into vector instructions; a dot product an output, whose sum's order
    /// it must keep, it cannot.
    fn push(&mut self, input: &[f32], taps: &[f32; TAPS], out: &mut Vec<f32>) {
        self.history.extend_from_slice(input);
        if self.history.len() < TAPS {
            return;
        }
        let outputs = (self.history.len() - TAPS) / 2 + 1;
        self.even.clear();
        self.odd.clear();
        self.even.extend(self.history.iter().step_by(2));
        self.odd.extend(self.history.iter().skip(1).step_by(2));
        let first = out.len();
        out.resize(first + outputs, 0.0);
        let block = &mut out[first..];
        for (t, &tap) in taps.iter().enumerate().filter(|(_, &tap)| tap != 0.0) {
            let phase = if t % 2 == 0 { &self.even } else { &self.odd };
            for (y, &x) in block.iter_mut().zip(&phase[t / 2..]) {
                *y += tap * x;
            }
        }
        self.history.drain(..2 * outputs);
    }
}

/// The mono signal at the analysis rate, built block by block.
#[derive(Clone, Debug)]
pub struct Mono {
    channels: usize,
    /// The analysis rate.
    pub rate: f64,
    stages: Vec<Halver>,
    taps: [f32; TAPS],
    mixed: Vec<f32>,
    scratch: Vec<f32>,
}

impl Mono {
    /// The mono signal of frames of `channels` channels at `rate` Hz.
    pub fn new(channels: usize, rate: u32) -> Mono {
        let mut analysis = f64::from(rate);
        let mut stages = Vec::new();
        while analysis >= 22_050.0 {
            analysis /= 2.0;
            stages.push(Halver::new());
        }
        Mono {
            channels: channels.max(1),
            rate: analysis,
            stages,
            taps: half_band(),
            mixed: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Mixes one block of interleaved frames and returns its samples at the analysis rate.
    pub fn push(&mut self, interleaved: &[f32]) -> &[f32] {
        self.mixed.clear();
        let scale = 1.0 / self.channels as f32;
        match self.channels {
            1 => self.mixed.extend_from_slice(interleaved),
            // The common case, written out so that it compiles to vector instructions.
            2 => self.mixed.extend(
                interleaved
                    .chunks_exact(2)
                    .map(|frame| (frame[0] + frame[1]) * 0.5),
            ),
            n => self.mixed.extend(
                interleaved
                    .chunks_exact(n)
                    .map(|frame| frame.iter().sum::<f32>() * scale),
            ),
        }
        for stage in &mut self.stages {
            self.scratch.clear();
            stage.push(&self.mixed, &self.taps, &mut self.scratch);
            std::mem::swap(&mut self.mixed, &mut self.scratch);
        }
        &self.mixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: f64, hz: f64, seconds: f64, channels: usize) -> Vec<f32> {
        let n = (rate * seconds) as usize;
        (0..n)
            .flat_map(|i| {
                let v = (2.0 * std::f64::consts::PI * hz * i as f64 / rate).sin() as f32;
                std::iter::repeat_n(v, channels)
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn rates_land_between_11_025_and_22_050_and_channels_average() {
        assert_eq!(Mono::new(2, 44_100).rate, 11_025.0);
        assert_eq!(Mono::new(2, 48_000).rate, 12_000.0);
        assert_eq!(Mono::new(8, 192_000).rate, 12_000.0);
        assert_eq!(Mono::new(1, 32_000).rate, 16_000.0);
        assert_eq!(Mono::new(1, 22_050).rate, 11_025.0);
        assert_eq!(Mono::new(1, 16_000).rate, 16_000.0);
        let mut m = Mono::new(2, 16_000);
        assert_eq!(m.push(&[1.0, 0.0, 0.5, 0.5]), [0.5, 0.5]);
    }

    #[test]
    fn halving_keeps_a_low_tone_and_removes_one_above_the_new_nyquist() {
        // 96 kHz to 12 kHz: a 1 kHz tone passes at its level; a 9 kHz tone, above the new
        // 6 kHz Nyquist, is gone rather than folded to 3 kHz, and so is an 18 kHz one.
        let mut low = Mono::new(2, 96_000);
        let out = low.push(&sine(96_000.0, 1000.0, 0.5, 2)).to_vec();
        assert_eq!(out.len(), 6_000);
        assert!(
            (rms(&out[1000..]) - 0.5f64.sqrt()).abs() < 0.01,
            "{}",
            rms(&out)
        );
        for hz in [9_000.0, 18_000.0] {
            let mut high = Mono::new(1, 96_000);
            let out = high.push(&sine(96_000.0, hz, 0.5, 1)).to_vec();
            assert!(rms(&out[1000..]) < 0.01, "{hz} Hz: {}", rms(&out[1000..]));
        }
    }

    #[test]
    fn blocks_give_the_same_signal_as_one_push() {
        let signal = sine(48_000.0, 440.0, 0.3, 1);
        let whole = Mono::new(1, 48_000).push(&signal).to_vec();
        let mut m = Mono::new(1, 48_000);
        let mut parts = Vec::new();
        for block in signal.chunks(777) {
            parts.extend_from_slice(m.push(block));
        }
        assert_eq!(parts, whole);
    }
}

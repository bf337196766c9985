//! Short-time spectra of the mono signal, each frame's magnitudes handed on as soon as the
//! frame is complete: Hann-windowed frames of about 93 ms every 23 ms for rhythm (1,024 and 256
//! samples at 11,025 Hz: librosa's 2,048 and 512 at 22,050 Hz, in time), and of about 370 ms
//! every 186 ms for pitch, whose bins (2.7 Hz apart) resolve semitones down to the bass.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Frames of the mono signal and their magnitude spectra.
pub struct Spectrum {
    /// Samples a frame.
    pub size: usize,
    /// Samples between frame starts.
    pub hop: usize,
    /// The analysis rate, Hz.
    pub rate: f64,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    pending: Vec<f32>,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    magnitudes: Vec<f32>,
}

impl Spectrum {
    /// Rhythm's frames for a signal at `rate` Hz (11,025 to 22,050 after
    /// [`crate::mono::Mono`], or lower): 1,024 samples below 16,538 Hz, 2,048 above, so a frame
    /// lasts about the same, every quarter frame.
    pub fn new(rate: f64) -> Spectrum {
        let size = if rate < 16_538.0 { 1024 } else { 2048 };
        Spectrum::with_size(rate, size, size / 4)
    }

    /// Pitch's frames: the fewest samples (a power of two) whose bins lie at most 3 Hz apart,
    /// every half frame.
    pub fn tonal(rate: f64) -> Spectrum {
        let size = ((rate / 3.0).ceil() as usize).next_power_of_two();
        Spectrum::with_size(rate, size, size / 2)
    }

    fn with_size(rate: f64, size: usize, hop: usize) -> Spectrum {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let window = (0..size)
            .map(|n| {
                let x = std::f64::consts::PI * 2.0 * n as f64 / size as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        Spectrum {
            size,
            hop,
            rate,
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            pending: Vec::with_capacity(2 * size),
            magnitudes: vec![0.0; size / 2 + 1],
        }
    }

    /// Frames per second.
    pub fn frame_rate(&self) -> f64 {
        self.rate / self.hop as f64
    }

    /// The frequency of bin `k`, Hz.
    pub fn frequency(&self, k: usize) -> f64 {
        k as f64 * self.rate / self.size as f64
    }

    /// Appends `samples` and calls `frame` with the magnitudes of each frame completed.
    pub fn push(&mut self, samples: &[f32], mut frame: impl FnMut(&[f32])) {
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        while self.pending.len() - start >= self.size {
            let block = &self.pending[start..start + self.size];
            for ((x, &s), &w) in self.input.iter_mut().zip(block).zip(&self.window) {
                *x = s * w;
            }
            // The lengths are the plan's own: the transform cannot fail.
            let _ =
                self.fft
                    .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch);
            for (m, c) in self.magnitudes.iter_mut().zip(&self.output) {
                // Not `norm()`: its overflow-safe `hypot` costs more than the FFT here, and
                // magnitudes of samples in [-1, 1] cannot overflow.
                *m = (c.re * c.re + c.im * c.im).sqrt();
            }
            frame(&self.magnitudes);
            start += self.hop;
        }
        self.pending.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_peaks_in_its_bin_and_frames_come_every_hop() {
        let rate = 11_025.0;
        let mut s = Spectrum::new(rate);
        assert_eq!((s.size, s.hop), (1024, 256));
        // 1,033.6 Hz is bin 96 exactly (96 x 11,025 / 1,024).
        let hz = s.frequency(96);
        let tone: Vec<f32> = (0..11_025)
            .map(|i| (2.0 * std::f64::consts::PI * hz * f64::from(i) / rate).sin() as f32)
            .collect();
        let mut frames = 0;
        let mut peaks = Vec::new();
        for block in tone.chunks(1000) {
            s.push(block, |m| {
                frames += 1;
                let peak = (0..m.len()).max_by(|&a, &b| m[a].total_cmp(&m[b])).unwrap();
                peaks.push(peak);
            });
        }
        // (11,025 - 1,024) / 256 + 1 whole frames.
        assert_eq!(frames, (11_025 - 1024) / 256 + 1);
        assert!(peaks.iter().all(|&p| p == 96), "{peaks:?}");
        assert_eq!(Spectrum::new(22_000.0).size, 2048);
    }
}

//! Tempo and beats from the onset-strength envelope.
//!
//! - **Tempo**: the autocorrelation of the envelope (smoothed over five frames, so a period
//!   that falls between frames is not split between two lags) over lags of 30 to 300 BPM,
//!   weighted by a log-normal prior centred on 120 BPM with a spread of one octave (librosa's
//!   `beat.tempo`); the best lag, refined between frames by a parabola through its neighbours.
//!   Where half that lag repeats nearly as well ([`DOUBLE`]), the faster tempo is taken: even
//!   clicks at 200 BPM repeat every two beats too, and the prior alone would halve them.
//! - **Beats**: dynamic programming (Ellis 2007, "Beat tracking by dynamic programming"): each
//!   frame's best chain of beats scores its onset strength plus the best earlier beat's score,
//!   less a penalty on the log of how far the gap is from the period; the best chain's beats,
//!   traced back.
//! - The reported tempo is the beats' own: the slope of their times against their count, which
//!   reads the period to a fraction of a frame.

/// Lags are searched between these tempi.
/// A beat's confidence times the square root of the envelope's seconds must reach this. White,
/// pink and brown noise of 5 s to 3 min (180 files, `ffmpeg -f lavfi anoisesrc`) reached at
/// most 0.66; music rendered from MIDI, cut to 5 s, at least 0.89 (the bench's 48 pieces).
const NOISE_FLOOR: f64 = 0.85;

const MIN_BPM: f64 = 30.0;
const MAX_BPM: f64 = 300.0;

/// The prior's centre and spread (octaves).
const PRIOR_BPM: f64 = 120.0;
const PRIOR_OCTAVES: f64 = 1.0;

/// Half the best lag is taken when its autocorrelation is at least this share of the best's.
pub const DOUBLE: f64 = 0.95;

/// How strictly beats keep to the period (librosa's `tightness`).
const TIGHTNESS: f64 = 100.0;

/// A song's tempo and beats.
#[derive(Clone, Debug, PartialEq)]
pub struct Beats {
    /// Beats per minute.
    pub tempo: f64,
    /// How clearly the envelope repeats at that period: its autocorrelation there over its
    /// autocorrelation at lag 0, 0 to 1.
    pub confidence: f64,
    /// The beats, as frame indices of the envelope.
    pub frames: Vec<usize>,
}

/// The envelope with its mean removed and scaled to unit standard deviation.
fn normalised(envelope: &[f32]) -> Vec<f64> {
    let n = envelope.len().max(1) as f64;
    let mean = envelope.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = envelope
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let sd = var.sqrt();
    envelope
        .iter()
        .map(|&v| {
            if sd > 0.0 {
                (f64::from(v) - mean) / sd
            } else {
                0.0
            }
        })
        .collect()
}

/// The tempo and beats of `envelope`, at `frame_rate` frames a second; `None` when it is too
/// short for a period of 30 BPM to repeat, or flat (digital silence).
pub fn track(envelope: &[f32], frame_rate: f64) -> Option<Beats> {
    let o = normalised(envelope);
    let min_lag = (60.0 * frame_rate / MAX_BPM).floor().max(1.0) as usize;
    let max_lag = (60.0 * frame_rate / MIN_BPM).ceil() as usize;
    if o.len() < 2 * max_lag || o.iter().all(|&v| v == 0.0) {
        return None;
    }
    let n = o.len();
    let smooth = smoothed(&o);
    let ac: Vec<f64> = (0..=max_lag + 1)
        .map(|lag| {
            (0..n - lag)
                .map(|i| smooth[i] * smooth[i + lag])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    let weight = |lag: f64| {
        let bpm = 60.0 * frame_rate / lag;
        (-0.5 * ((bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES).powi(2)).exp()
    };
    let mut best = (min_lag..=max_lag)
        .max_by(|&a, &b| (ac[a] * weight(a as f64)).total_cmp(&(ac[b] * weight(b as f64))))?;
    // Half the lag, where it repeats nearly as well: the nearest integer lag's best neighbour.
    while best / 2 >= min_lag.max(1) {
        let half = best as f64 / 2.0;
        let candidates = [half.floor() as usize, half.ceil() as usize];
        let Some(&h) = candidates.iter().max_by(|&&a, &&b| ac[a].total_cmp(&ac[b])) else {
            break;
        };
        if ac[h] >= DOUBLE * ac[best] {
            best = h;
        } else {
            break;
        }
    }
    // A parabola through the best lag and its neighbours places the peak between frames.
    let (l, c, r) = (ac[best - 1], ac[best], ac[best + 1]);
    let curve = l - 2.0 * c + r;
    let offset = if curve < 0.0 {
        (0.5 * (l - r) / curve).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let period = best as f64 + offset;
    let confidence = (ac[best] / ac[0]).clamp(0.0, 1.0);
    // Noise repeats at some lag too, the less the longer it lasts: no beat unless the best lag
    // repeats above what noise reaches.
    if confidence * (n as f64 / frame_rate).sqrt() < NOISE_FLOOR {
        return None;
    }
    let frames = beats(&o, period);
    let tempo = match slope(&frames) {
        // Beats that keep to a period near the autocorrelation's give it to a fraction of a
        // frame; otherwise the autocorrelation's stands.
        Some(p) if (p / period - 1.0).abs() < 0.1 => 60.0 * frame_rate / p,
        _ => 60.0 * frame_rate / period,
    }
    // The lag grid and the sub-frame fit can reach a little past the searched range.
    .clamp(MIN_BPM, MAX_BPM);
    Some(Beats {
        tempo,
        confidence,
        frames,
    })
}

/// `o` convolved with the triangle `[1, 2, 3, 2, 1] / 9`.
fn smoothed(o: &[f64]) -> Vec<f64> {
    const KERNEL: [f64; 5] = [1.0, 2.0, 3.0, 2.0, 1.0];
    (0..o.len())
        .map(|i| {
            KERNEL
                .iter()
                .enumerate()
                .filter_map(|(k, w)| (i + k).checked_sub(2).and_then(|j| o.get(j)).map(|v| v * w))
                .sum::<f64>()
                / 9.0
        })
        .collect()
}

/// Beats by dynamic programming over the envelope `o` for a beat period of `period` frames.
fn beats(o: &[f64], period: f64) -> Vec<usize> {
    let n = o.len();
    let mut score = vec![0.0f64; n];
    let mut from = vec![usize::MAX; n];
    let (near, far) = (
        (period / 2.0).round() as usize,
        (2.0 * period).round() as usize,
    );
    // Each gap's penalty, computed once rather than once a frame.
    let penalty: Vec<f64> = (0..=far)
        .map(|gap| TIGHTNESS * (gap as f64 / period).ln().powi(2))
        .collect();
    for t in 0..n {
        let mut best = 0.0;
        let mut best_from = usize::MAX;
        for gap in near.max(1)..=far {
            if gap > t {
                break;
            }
            let candidate = score[t - gap] - penalty[gap];
            if best_from == usize::MAX || candidate > best {
                best = candidate;
                best_from = t - gap;
            }
        }
        // A chain may start anywhere: a negative best start is no start.
        if best_from != usize::MAX && best > 0.0 {
            score[t] = o[t] + best;
            from[t] = best_from;
        } else {
            score[t] = o[t];
        }
    }
    // The chain ends at the best-scoring frame within the last period.
    let tail = n.saturating_sub(period.ceil() as usize);
    let Some(mut t) = (tail..n).max_by(|&a, &b| score[a].total_cmp(&score[b])) else {
        return Vec::new();
    };
    let mut chain = vec![t];
    while from[t] != usize::MAX {
        t = from[t];
        chain.push(t);
    }
    chain.reverse();
    chain
}

/// The least-squares slope of beat frames against their count: the period in frames.
fn slope(frames: &[usize]) -> Option<f64> {
    if frames.len() < 4 {
        return None;
    }
    let n = frames.len() as f64;
    let mean_i = (n - 1.0) / 2.0;
    let mean_f = frames.iter().map(|&f| f as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &f) in frames.iter().enumerate() {
        num += (i as f64 - mean_i) * (f as f64 - mean_f);
        den += (i as f64 - mean_i).powi(2);
    }
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope of impulses every `period` frames (a fractional period lands on the
    /// nearest frame each time).
    fn pulses(period: f64, frames: usize) -> Vec<f32> {
        let mut e = vec![0.0f32; frames];
        let mut t: f64 = 3.0;
        while (t.round() as usize) < frames {
            e[t.round() as usize] = 1.0;
            t += period;
        }
        e
    }

    #[test]
    fn impulses_give_their_tempo_to_a_fraction_of_a_frame() {
        let rate = 22_050.0 / 512.0;
        for bpm in [60.0, 87.5, 120.0, 133.0, 174.0, 200.0] {
            let period = 60.0 * rate / bpm;
            let b = track(&pulses(period, 3000), rate).unwrap();
            assert!((b.tempo / bpm - 1.0).abs() < 0.01, "{bpm}: {}", b.tempo);
            assert!(b.confidence > 0.5, "{bpm}: {}", b.confidence);
            // The beats sit on the pulses.
            let e = pulses(period, 3000);
            assert!(b.frames.iter().all(|&f| e[f] == 1.0), "{bpm}");
        }
        assert!(track(&[0.0; 3000], rate).is_none());
        assert!(track(&pulses(20.0, 50), rate).is_none());
    }

    #[test]
    fn the_slope_reads_the_period_from_beat_frames() {
        assert_eq!(slope(&[0, 10, 20, 30]), Some(10.0));
        assert_eq!(slope(&[0, 10, 20]), None);
    }
}

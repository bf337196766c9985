//! What the model saw: the range of each continuous audio input over FIT, so an answer for a
//! track beyond it carries a warning. (Values outside the physical range of an input, such as a
//! tempo of 1e300, never get this far: the reader and the API refuse them.)

use serde::{Deserialize, Serialize};

use crate::data::{Column, Tracks, N_AUDIO};
use crate::features::{quantile, CONTINUOUS};

/// Share of FIT tracks left out at each end: the range is the 0.1th to the 99.9th percentile.
pub const TAIL: f64 = 0.001;

/// The range of one input over FIT.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// The input.
    pub column: Column,
    /// The 0.1th percentile over FIT.
    pub low: f64,
    /// The 99.9th percentile over FIT.
    pub high: f64,
}

/// The ranges of the continuous audio inputs over FIT.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// One range per column of [`CONTINUOUS`].
    pub seen: Vec<Seen>,
}

/// An input beyond what the model saw in training.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    /// The input's name (a dataset column).
    pub field: String,
    /// The message, in words.
    pub message: String,
}

impl Domain {
    /// The ranges over the `fit` rows of `tracks`.
    pub fn fit(tracks: &Tracks, fit: &[usize]) -> Domain {
        let seen = CONTINUOUS
            .iter()
            .filter_map(|&column| {
                let i = column.audio_index()?;
                let mut values: Vec<f64> = fit.iter().map(|&r| tracks.rows[r].audio[i]).collect();
                values.sort_by(f64::total_cmp);
                Some(Seen {
                    column,
                    low: quantile(&values, TAIL),
                    high: quantile(&values, 1.0 - TAIL),
                })
            })
            .collect();
        Domain { seen }
    }

    /// A warning for each input of `audio` beyond its FIT range.
    pub fn check(&self, audio: &[f64; N_AUDIO]) -> Vec<Warning> {
        self.seen
            .iter()
            .filter_map(|s| {
                let v = audio[s.column.audio_index()?];
                let (side, bound) = if v < s.low {
                    ("below", s.low)
                } else if v > s.high {
                    ("above", s.high)
                } else {
                    return None;
                };
                // A value with a unit says its input ("120 BPM"); a bare one is named.
                let value = shown(s.column, v);
                let value = if value.parse::<f64>().is_ok() {
                    format!("{} {value}", s.column.name())
                } else {
                    value
                };
                Some(Warning {
                    field: s.column.name().to_owned(),
                    message: format!(
                        "{value} is {side} the range the model learnt from ({} to {}, 99.8% of \
                         its training tracks): treat this answer with care",
                        shown(s.column, s.low),
                        shown(s.column, s.high),
                        side = side,
                    ),
                })
                .filter(|_| bound.is_finite())
            })
            .collect()
    }

    /// Checks ranges read from a file: finite and ordered.
    pub fn check_ranges(&self) -> Result<(), String> {
        match self
            .seen
            .iter()
            .find(|s| !(s.low.is_finite() && s.high.is_finite() && s.low <= s.high))
        {
            Some(s) => Err(format!("the training range of {} is not valid", s.column)),
            None => Ok(()),
        }
    }
}

/// A value with its unit (from the input's physical domain), as a person reads it; a duration
/// in minutes and seconds.
fn shown(column: Column, v: f64) -> String {
    match (column, column.bounds()) {
        (Column::DurationMs, _) => {
            let seconds = (v / 1000.0).round() as i64;
            format!("{}:{:02} min", seconds / 60, seconds % 60)
        }
        (_, Some(d)) if !d.unit.is_empty() => {
            let one_decimal = format!("{v:.1}");
            format!("{} {}", one_decimal.trim_end_matches(".0"), d.unit)
        }
        _ => format!("{v:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Track;

    #[test]
    fn tracks_beyond_the_fit_range_are_warned_about() {
        // Tempos 100..=1099 over FIT: the 0.1th percentile is at position 0.999 (100.999), the
        // 99.9th at 998.001 (1098.001).
        let rows = (0..1000)
            .map(|i| {
                let mut audio = [0.5; N_AUDIO];
                audio[Column::Tempo.audio_index().unwrap()] = 100.0 + f64::from(i);
                audio[Column::DurationMs.audio_index().unwrap()] = 200_000.0;
                Track {
                    line: 2,
                    track_id: format!("t{i}"),
                    artists: String::new(),
                    album_name: String::new(),
                    track_name: String::new(),
                    popularity: Some(1),
                    audio,
                    genres: Vec::new(),
                }
            })
            .collect();
        let tracks = Tracks {
            genres: Vec::new(),
            rows,
            collapse: Default::default(),
        };
        let all: Vec<usize> = (0..1000).collect();
        let domain = Domain::fit(&tracks, &all);
        let tempo = domain
            .seen
            .iter()
            .find(|s| s.column == Column::Tempo)
            .unwrap();
        assert!((tempo.low - 100.999).abs() < 1e-9 && (tempo.high - 1098.001).abs() < 1e-9);
        let mut audio = tracks.rows[500].audio;
        assert!(domain.check(&audio).is_empty());
        audio[Column::Tempo.audio_index().unwrap()] = 1200.0;
        let warnings = domain.check(&audio);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "tempo");
        assert_eq!(
            warnings[0].message,
            "1200 BPM is above the range the model learnt from (101 BPM to 1098 BPM, 99.8% of \
             its training tracks): treat this answer with care"
        );
        assert!(domain.check_ranges().is_ok());
    }
}

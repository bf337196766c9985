//! A typical track of the model's training data, for a form to start from.

use super::Predictor;
use crate::data::{Column, Rule, N_AUDIO};

impl Predictor {
    /// The median of each audio input over the model's background rows (FIT tracks), rounded
    /// as a person would type it: whole seconds, loudness and tempo to a tenth, 0-1 measures to
    /// a hundredth, codes to a whole number; explicit is 0. In [`Column::AUDIO`]'s order.
    pub fn typical_audio(&self) -> [f64; N_AUDIO] {
        let payload = &self.artifact().payload;
        let pipeline = &payload.pipeline;
        let width = pipeline.names().len().max(1);
        let rows: Vec<Vec<f64>> = payload
            .background
            .chunks_exact(width)
            .map(|row| pipeline.unscale(row))
            .collect();
        let mut audio = [0.0; N_AUDIO];
        for (i, column) in Column::AUDIO.into_iter().enumerate() {
            let mut values: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            values.sort_by(f64::total_cmp);
            let median = values.get(values.len() / 2).copied().unwrap_or(0.0);
            audio[i] = match column {
                Column::Explicit => 0.0,
                Column::DurationMs => (median / 1000.0).round() * 1000.0,
                Column::Loudness | Column::Tempo => (median * 10.0).round() / 10.0,
                c if c.rule() == Rule::Unit => (median * 100.0).round() / 100.0,
                _ => median.round(),
            };
        }
        audio
    }
}

#[cfg(test)]
mod tests {
    use crate::data::{Column, N_AUDIO};
    use crate::predictor::Predictor;

    #[test]
    fn the_typical_track_is_the_background_s_medians_as_typed() {
        let (artifact, tracks) = crate::testutil::fixture();
        let predictor = Predictor::new(artifact).expect("the fixture's model loads");
        let typical = predictor.typical_audio();
        assert_eq!(typical.len(), N_AUDIO);
        for (i, (column, v)) in Column::AUDIO.into_iter().zip(typical).enumerate() {
            let (lo, hi) = tracks
                .rows
                .iter()
                .map(|t| t.audio[i])
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                });
            assert!(
                v >= lo - 0.5 && v <= hi + 0.5,
                "{column:?}: {v} outside {lo}..{hi}"
            );
            let steps = match column {
                Column::DurationMs => v / 1000.0,
                Column::Loudness | Column::Tempo => v * 10.0,
                Column::Key | Column::Mode | Column::TimeSignature | Column::Explicit => v,
                _ => v * 100.0,
            };
            assert!(
                (steps - steps.round()).abs() < 1e-6,
                "{column:?}: {v} is not rounded"
            );
        }
        assert_eq!(
            Column::Explicit.audio_index().map(|i| typical[i]),
            Some(0.0)
        );
    }
}

//! What-if curves: the answer along one input's range, everything else held.

use super::{FeatureBatch, Prediction, Predictor, WhatIfError};
use crate::data::{Column, Rule};
use crate::features::TrackInput;

impl Predictor {
    /// The values a what-if curve of `column` visits: every code of a coded input (key, mode,
    /// time signature; explicit's 0 and 1); else `points` (at least 2) evenly spaced values over
    /// the range the model saw in training (the 0.1th to 99.9th FIT percentile), or over the
    /// input's physical range where the model keeps none. The track's own value `own` is always
    /// among them, so the curve passes through the track's own answer. Ascending, no repeats.
    pub fn what_if_values(
        &self,
        column: Column,
        own: f64,
        points: usize,
    ) -> Result<Vec<f64>, WhatIfError> {
        column.audio_index().ok_or(WhatIfError::NotAudio(column))?;
        let rule = column.rule();
        let mut values: Vec<f64> = match rule {
            Rule::Integer { min, max } => (min..=max).map(f64::from).collect(),
            Rule::Bool => vec![0.0, 1.0],
            _ => {
                let seen = self.seen_range(column);
                let (low, high) = seen
                    .or_else(|| rule.bounds().map(|d| (d.min, d.max)))
                    .unwrap_or((0.0, 1.0));
                let n = points.max(2);
                (0..n)
                    .map(|i| low + (high - low) * i as f64 / (n - 1) as f64)
                    .collect()
            }
        };
        values.push(own);
        values.sort_by(f64::total_cmp);
        values.dedup();
        Ok(values)
    }

    /// The range of `column` over FIT, if the model keeps one.
    pub(super) fn seen_range(&self, column: Column) -> Option<(f64, f64)> {
        self.models
            .artifact
            .payload
            .domain
            .seen
            .iter()
            .find(|s| s.column == column)
            .map(|s| (s.low, s.high))
    }

    /// What-if: the answer for `track` with one audio input set to each of `values`, everything
    /// else held. A value is checked against the input's rule first (its physical range; a
    /// whole number for codes), so a curve never reaches values the API would refuse.
    pub fn what_if(
        &self,
        track: &TrackInput,
        column: Column,
        values: &[f64],
    ) -> Result<Vec<Prediction>, WhatIfError> {
        let i = column.audio_index().ok_or(WhatIfError::NotAudio(column))?;
        let rule = column.rule();
        let values = values
            .iter()
            .map(|&v| {
                rule.check(v)
                    .map_err(|problem| WhatIfError::Value { column, problem })
            })
            .collect::<Result<Vec<f64>, WhatIfError>>()?;
        let variants: Vec<TrackInput> = values
            .iter()
            .map(|&v| {
                let mut variant = track.clone();
                variant.audio[i] = v;
                variant
            })
            .collect();
        // The variants keep the track's genres, so one head answers them all, and only input
        // `i`'s column differs between their feature rows.
        let track = std::slice::from_ref(track);
        let roles = self.roles(track);
        super::answerable(track, &roles)?;
        let head = self.head(roles[0]);
        let track = &track[0];
        let batch = FeatureBatch {
            x: head.payload.pipeline.transform_variants(track, i, &values),
            audio: variants.iter().map(|t| t.audio).collect(),
            variants: true,
        };
        Ok(self.answer(head, &variants, batch)?)
    }
}

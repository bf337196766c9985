//! Answers adapted to a catalogue's own share of hits: the evidence gathered from its tracks, and
//! the estimate of that share (EM under label shift, [`crate::prior`]).

use super::{Evidence, Predictor};
use crate::artifact::Role;
use crate::features::TrackInput;
use crate::models::ModelError;
use crate::prior::{Answers, PriorError, PriorEstimate};

impl Predictor {
    /// Empty evidence for [`Predictor::estimate_prior`], to gather a catalogue into batch by
    /// batch with [`Predictor::gather`].
    pub fn evidence(&self) -> Evidence {
        Evidence {
            answers: Role::ALL.map(|_| Vec::new()),
            counts: self.reference().counts(),
        }
    }

    /// Adds `tracks` to `evidence`: their unadapted answers and their inputs' histograms.
    pub fn gather(&self, tracks: &[TrackInput], evidence: &mut Evidence) -> Result<(), ModelError> {
        let chances = self.clone_without_prior().chances(tracks)?;
        for c in chances {
            let i = Role::ALL.iter().position(|&r| r == c.model).unwrap_or(0);
            evidence.answers[i].push(c.probability);
        }
        self.count_drift(tracks, &mut evidence.counts);
        Ok(())
    }

    fn clone_without_prior(&self) -> std::borrow::Cow<'_, Predictor> {
        match self.prior {
            None => std::borrow::Cow::Borrowed(self),
            Some(_) => std::borrow::Cow::Owned(Predictor {
                prior: None,
                ..self.clone()
            }),
        }
    }

    /// EM's estimate of the base rate of the catalogue `evidence` was gathered from
    /// ([`crate::prior::estimate`]): refused when its answers, checked against the VAL answers
    /// of the models that gave them, or its inputs, checked against FIT's, do not look like a
    /// change of base rate.
    pub fn estimate_prior(&self, evidence: &Evidence) -> Result<PriorEstimate, PriorError> {
        let answers: Vec<Answers<'_>> = Role::ALL
            .into_iter()
            .zip(&evidence.answers)
            .filter(|(_, p)| !p.is_empty())
            .map(|(role, p)| Answers {
                probabilities: p.clone(),
                shapes: &self.head(role).payload.shapes,
            })
            .collect();
        let reference = self.reference();
        crate::prior::estimate(&answers, self.metadata().base_rate, |prior| {
            reference.misfit(&evidence.counts, prior)
        })
    }
}

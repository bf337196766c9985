//! Another catalogue's base rate, estimated from the model's own answers: label shift by EM
//! (Saerens, Latinne and Decaestecker 2002, "Adjusting the outputs of a classifier to new a
//! priori probabilities").
//!
//! Catalogues differ in how many popular tracks they hold: a sample drawn from playlists of hits
//! holds more than the 2.6% of the training tracks. If a catalogue differs only in that (the
//! same sound and genres make a hit; only their mix changed), Bayes' rule moves every
//! calibrated probability `p` trained at base rate `π₀` to the catalogue's rate `π`:
//!
//! ```text
//! p' = (π/π₀)·p / ((π/π₀)·p + ((1 − π)/(1 − π₀))·(1 − p))
//! ```
//!
//! and `π` is the mean of the moved probabilities: EM alternates the two from `π = π₀` until
//! `π` stops moving. It needs calibrated probabilities (hitcast's are) and enough tracks for
//! their mean to mean something ([`MIN_TRACKS`]).
//!
//! It is wrong for a catalogue whose tracks differ in more than their base rate (another genre
//! mix, another era, tracks picked for how they sound), and there it can be wildly wrong: a
//! weak model's answers moved by such a shift read, to EM, as a catalogue of hits. So the
//! estimate is checked. Under label shift, both the catalogue's answers and its inputs are a mix
//! of what popular and other tracks look like, in the estimated proportion: the answers of VAL's
//! ([`AnswerShapes`]), the inputs of FIT's ([`crate::drift::Reference::misfit`]). When either is
//! far from that mix (PSI over [`MAX_MISFIT`] for the answers, [`MAX_INPUT_MISFIT`] for the
//! input that is farthest), the estimate is refused and the answers are left as they are: a
//! calibrated model's answers already follow tracks that sound different. And a weak model's
//! estimate is noisy (EM divides the answers' small moves by how far apart the model's answers
//! for popular and other tracks lie): the answers are adapted only when the estimate is more
//! than [`MIN_SIGNIFICANCE`] standard errors (from the likelihood's curvature) from the
//! training rate, so a catalogue like the training data's is left as it is.

use serde::{Deserialize, Serialize};

use crate::drift::{psi, shares};

/// Fewer tracks than this are refused: at a 3% base rate, 500 tracks hold about 15 popular
/// ones, and the estimate's standard error is already a third of it.
pub const MIN_TRACKS: usize = 500;

/// EM stops when the estimate moves less than this in a step.
const TOLERANCE: f64 = 1e-9;

/// EM gives up after this many steps (it converges in tens on real catalogues).
const MAX_STEPS: usize = 10_000;

/// The largest PSI between a catalogue's answers and the mix of VAL's answers at the
/// estimated base rate that still reads as a shift of base rate only. TEST, whose base rate is
/// FIT's, sits at 0.01; TEST resampled to other base rates at up to 0.03; the TidyTuesday
/// sample, whose tracks differ in more, at 0.3 (`hitcast model evaluate --adapt-prior`).
pub const MAX_MISFIT: f64 = 0.1;

/// The largest PSI between any input's histogram in a catalogue and the mix, at the estimated
/// base rate, of FIT's popular and other tracks' histograms of it.
pub const MAX_INPUT_MISFIT: f64 = 0.25;

/// How many standard errors the estimate must lie from the training rate for the answers to be
/// adapted: a catalogue whose base rate is the training one can still be estimated a couple of
/// standard errors away, and adapting to that would make the answers worse
/// (docs/performance.md).
pub const MIN_SIGNIFICANCE: f64 = 3.0;

/// The quantiles of VAL's answers at which [`AnswerShapes`] cuts its bins: deciles, and the top
/// tenth cut finer, where the popular tracks' answers lie.
const CUTS: [f64; 11] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

/// How VAL's calibrated answers spread, for its popular tracks and for the others: what a
/// catalogue's answers should look like if it differed in base rate only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerShapes {
    /// Upper edges of every bin but the last.
    pub edges: Vec<f64>,
    /// Share of VAL's popular tracks in each bin.
    pub popular: Vec<f64>,
    /// Share of VAL's other tracks in each bin.
    pub others: Vec<f64>,
}

impl AnswerShapes {
    /// The shapes of VAL's calibrated `probabilities` with their `labels`.
    pub fn fit(probabilities: &[f64], labels: &[bool]) -> AnswerShapes {
        let mut sorted = probabilities.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = CUTS
            .iter()
            .map(|&q| crate::features::quantile(&sorted, q))
            .collect();
        edges.dedup();
        let mut shapes = AnswerShapes {
            edges,
            ..AnswerShapes::default()
        };
        let (mut popular, mut others) = (shapes.empty(), shapes.empty());
        for (&p, &l) in probabilities.iter().zip(labels) {
            let counts = if l { &mut popular } else { &mut others };
            counts[shapes.bin(p)] += 1.0;
        }
        shapes.popular = shares(&popular);
        shapes.others = shares(&others);
        shapes
    }

    fn empty(&self) -> Vec<f64> {
        vec![0.0; self.edges.len() + 1]
    }

    fn bin(&self, p: f64) -> usize {
        self.edges.partition_point(|&e| e < p)
    }

    /// Checks shapes read from a file: as many shares as bins, each finite.
    pub fn check(&self) -> Result<(), String> {
        let bins = self.edges.len() + 1;
        let finite = self.edges.iter().chain(&self.popular).chain(&self.others);
        if self.popular.len() == bins
            && self.others.len() == bins
            && finite.into_iter().all(|v| v.is_finite())
            && self.edges.windows(2).all(|w| w[0] < w[1])
        {
            Ok(())
        } else {
            Err("the validation answers' shapes are not valid".into())
        }
    }
}

/// A share of a batch's answers, given by one model, with that model's VAL shapes.
pub struct Answers<'a> {
    /// The calibrated probabilities.
    pub probabilities: Vec<f64>,
    /// The VAL shapes of the model that gave them.
    pub shapes: &'a AnswerShapes,
}

/// A base rate estimated for a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriorEstimate {
    /// The model's base rate: FIT's share of popular tracks.
    pub training: f64,
    /// The batch's estimated share of popular tracks.
    pub estimate: f64,
    /// The mean calibrated probability before adapting (the estimate EM starts from).
    pub mean_probability: f64,
    /// Tracks the estimate rests on.
    pub tracks: usize,
    /// EM steps taken.
    pub steps: usize,
    /// The estimate's standard error, from the log-likelihood's curvature at it.
    pub standard_error: f64,
    /// PSI between the answers' histogram and the mix of VAL's answers at the estimate: how
    /// far the catalogue is from differing in base rate only.
    pub misfit: f64,
    /// The input farthest from the mix of FIT's tracks at the estimate, and its PSI.
    pub input_misfit: Option<(String, f64)>,
}

/// Why a base rate could not be estimated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PriorError {
    /// The estimate is too close to the training rate, for its noise, to act on.
    #[error("these tracks' share of hits, {estimate:.1}% ± {error:.1}% by EM, is not clearly the training tracks' {training:.1}% or another: not adapted", estimate = .estimate * 100.0, error = .standard_error * 100.0, training = .training * 100.0)]
    NoClearShift {
        /// EM's estimate.
        estimate: f64,
        /// Its standard error.
        standard_error: f64,
        /// The training rate.
        training: f64,
    },
    /// Too few tracks for their mean to mean something.
    #[error("too few tracks ({tracks}) to estimate their base rate (at least {MIN_TRACKS} are needed): not adapted")]
    TooFew {
        /// Tracks given.
        tracks: usize,
    },
    /// The model's base rate is not a share strictly between 0 and 1.
    #[error("the model's base rate {0} is not a share strictly between 0 and 1")]
    Training(f64),
    /// The answers or the inputs do not look like the training tracks' at another base rate.
    #[error("these tracks differ from the training tracks in more than their share of hits: at EM's estimate of {estimate:.1}% they are {misfit:.2} in PSI ({what}) from what a change of base rate alone would give; not adapted", estimate = .estimate * 100.0)]
    NotLabelShift {
        /// EM's estimate.
        estimate: f64,
        /// What is farthest from the mix: "the answers", or an input.
        what: String,
        /// Its PSI against the mix.
        misfit: f64,
    },
}

/// `p`, calibrated at base rate `training`, moved to base rate `prior` by Bayes' rule.
pub fn adapt(p: f64, training: f64, prior: f64) -> f64 {
    let up = prior / training * p;
    let down = (1.0 - prior) / (1.0 - training) * (1.0 - p);
    if up + down > 0.0 {
        up / (up + down)
    } else {
        p
    }
}

/// EM's estimate of the base rate of a batch whose calibrated answers are `answers` (each
/// share with its model's VAL shapes), for models trained at base rate `training`; refused when
/// the answers, or the inputs by `inputs` (the farthest input's name and PSI from FIT's mix at
/// a base rate), do not look like a change of base rate.
pub fn estimate(
    answers: &[Answers<'_>],
    training: f64,
    inputs: impl Fn(f64) -> Option<(String, f64)>,
) -> Result<PriorEstimate, PriorError> {
    let tracks: usize = answers.iter().map(|a| a.probabilities.len()).sum();
    if tracks < MIN_TRACKS {
        return Err(PriorError::TooFew { tracks });
    }
    if !(training > 0.0 && training < 1.0) {
        return Err(PriorError::Training(training));
    }
    let all = || answers.iter().flat_map(|a| a.probabilities.iter().copied());
    let n = tracks as f64;
    let mean_probability = all().sum::<f64>() / n;
    let mut prior = training;
    let mut steps = 0;
    while steps < MAX_STEPS {
        steps += 1;
        let next = all().map(|p| adapt(p, training, prior)).sum::<f64>() / n;
        // A base rate of exactly 0 or 1 would stop EM from ever moving again.
        let next = next.clamp(1e-6, 1.0 - 1e-6);
        let moved = (next - prior).abs();
        prior = next;
        if moved < TOLERANCE {
            break;
        }
    }
    let estimate = PriorEstimate {
        training,
        estimate: prior,
        mean_probability,
        tracks,
        steps,
        standard_error: standard_error(all(), training, prior),
        misfit: misfit(answers, prior),
        input_misfit: inputs(prior),
    };
    if estimate.misfit > MAX_MISFIT {
        return Err(PriorError::NotLabelShift {
            estimate: estimate.estimate,
            what: "the answers".into(),
            misfit: estimate.misfit,
        });
    }
    if let Some((input, misfit)) = &estimate.input_misfit {
        if *misfit > MAX_INPUT_MISFIT {
            return Err(PriorError::NotLabelShift {
                estimate: estimate.estimate,
                what: input.clone(),
                misfit: *misfit,
            });
        }
    }
    if (estimate.estimate - training).abs() < MIN_SIGNIFICANCE * estimate.standard_error {
        return Err(PriorError::NoClearShift {
            estimate: estimate.estimate,
            standard_error: estimate.standard_error,
            training,
        });
    }
    Ok(estimate)
}

/// The standard error of the base rate `prior` from the observed information of the label-shift
/// likelihood `Π (prior·a + (1 − prior)·b)`, with `a = p/training` and `b = (1 − p)/(1 −
/// training)` each track's likelihood ratios.
fn standard_error(probabilities: impl Iterator<Item = f64>, training: f64, prior: f64) -> f64 {
    let information: f64 = probabilities
        .map(|p| {
            let (a, b) = (p / training, (1.0 - p) / (1.0 - training));
            let d = (a - b) / (prior * a + (1.0 - prior) * b);
            d * d
        })
        .sum();
    if information > 0.0 {
        1.0 / information.sqrt()
    } else {
        f64::INFINITY
    }
}

/// PSI between the answers' histogram and the mix, at base rate `prior`, of the VAL answers of
/// the models that gave them.
fn misfit(answers: &[Answers<'_>], prior: f64) -> f64 {
    let (mut observed, mut expected) = (Vec::new(), Vec::new());
    for a in answers {
        let shapes = a.shapes;
        let mut counts = shapes.empty();
        for &p in &a.probabilities {
            counts[shapes.bin(p)] += 1.0;
        }
        let n = a.probabilities.len() as f64;
        observed.extend(counts);
        expected.extend(
            shapes
                .popular
                .iter()
                .zip(&shapes.others)
                .map(|(h1, h0)| n * (prior * h1 + (1.0 - prior) * h0)),
        );
    }
    psi(&shares(&expected), &observed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapting_to_the_training_rate_changes_nothing_and_bayes_moves_the_odds() {
        assert!((adapt(0.3, 0.1, 0.1) - 0.3).abs() < 1e-15);
        // Odds 0.25 at base rate 0.2 (odds 0.25): at base rate 0.5 (odds 1) the prior odds
        // rise 4x, so the odds become 1: p' = 0.5.
        assert!((adapt(0.2, 0.2, 0.5) - 0.5).abs() < 1e-12);
    }

    /// VAL of a model that tells two kinds of track apart: kind A gets 0.5 and is popular
    /// half the time, kind B gets 0.02 and is popular 2% of the time; 1 A to 4.5 B.
    fn val() -> (Vec<f64>, Vec<bool>) {
        let mut p = Vec::new();
        let mut labels = Vec::new();
        for i in 0..5500 {
            let a = i % 11 < 2;
            p.push(if a { 0.5 } else { 0.02 });
            labels.push(if a { i % 2 == 0 } else { i % 50 == 1 });
        }
        (p, labels)
    }

    #[test]
    fn em_finds_the_rate_of_a_batch_that_differs_in_base_rate_only() {
        let (p, labels) = val();
        let training = labels.iter().filter(|&&l| l).count() as f64 / 5500.0;
        let shapes = AnswerShapes::fit(&p, &labels);
        assert!(shapes.check().is_ok());
        // The same tracks: the estimate stays at the training rate, so nothing is adapted.
        let same = estimate(
            &[Answers {
                probabilities: p.clone(),
                shapes: &shapes,
            }],
            training,
            |_| None,
        );
        match same {
            Err(PriorError::NoClearShift { estimate, .. }) => {
                assert!((estimate - training).abs() < 1e-6, "{estimate}")
            }
            other => panic!("{other:?}"),
        }
        // Popular tracks three times as common: resample VAL's popular tracks of each kind
        // three times, the others once. EM finds the new rate.
        let mut shifted = Vec::new();
        for (&pi, &l) in p.iter().zip(&labels) {
            for _ in 0..(if l { 3 } else { 1 }) {
                shifted.push(pi);
            }
        }
        let popular = labels.iter().filter(|&&l| l).count() as f64;
        let truth = 3.0 * popular / (3.0 * popular + 5500.0 - popular);
        let e = estimate(
            &[Answers {
                probabilities: shifted,
                shapes: &shapes,
            }],
            training,
            |_| None,
        )
        .unwrap();
        assert!((e.estimate - truth).abs() < 0.01, "{e:?} against {truth}");
        assert!(e.misfit < MAX_MISFIT, "{e:?}");
        assert!(e.estimate > e.mean_probability, "{e:?}");
        assert!(e.standard_error > 0.0 && e.standard_error < 0.01, "{e:?}");
    }

    #[test]
    fn answers_that_moved_for_another_reason_are_refused() {
        let (p, labels) = val();
        let training = labels.iter().filter(|&&l| l).count() as f64 / 5500.0;
        let shapes = AnswerShapes::fit(&p, &labels);
        // Every answer 0.1: no mix of 0.5s and 0.02s gives that.
        let err = estimate(
            &[Answers {
                probabilities: vec![0.1; 1000],
                shapes: &shapes,
            }],
            training,
            |_| None,
        )
        .unwrap_err();
        assert!(matches!(err, PriorError::NotLabelShift { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with(
                "(the answers) from what a change of base rate alone would give; not adapted"
            ),
            "{err}"
        );
        // Answers that fit, an input that does not.
        let inputs = |prior: f64| Some(("genres".to_owned(), if prior > 0.0 { 3.0 } else { 0.0 }));
        let err = estimate(
            &[Answers {
                probabilities: p.clone(),
                shapes: &shapes,
            }],
            training,
            inputs,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("are 3.00 in PSI (genres)"),
            "{err}"
        );
    }

    #[test]
    fn small_batches_are_refused_with_what_to_do() {
        let shapes = AnswerShapes::default();
        assert_eq!(
            estimate(
                &[Answers {
                    probabilities: vec![0.1; 20],
                    shapes: &shapes
                }],
                0.1,
                |_| None
            )
            .unwrap_err()
            .to_string(),
            "too few tracks (20) to estimate their base rate (at least 500 are needed): not \
             adapted"
        );
    }
}

//! How a saved model does on a catalogue that is not its TEST split: another export of Spotify,
//! or a user's own tracks. The catalogue is read and collapsed as training reads its data (one
//! row per `track_id`, genres merged) and scored through the one [`Predictor`], once reading
//! genres and once ignoring them, since a genre label carries its catalogue's meaning (latin is
//! 2% popular in the shipped dataset and 18% in another sample of Spotify playlists).
//!
//! - **Known tracks** (the same `track_id`, or the same audio values, as a track of the
//!   training data: [`crate::known`]) are left out unless kept, and measured apart, so the
//!   figures say how the model does on tracks it has not seen.
//! - **With labels**, the ways the model card measures TEST: ranking, calibration, the flag,
//!   the score and its range; which way of reading genres ranks better decides the advice.
//! - **Without labels**, each input's drift from the training tracks ([`crate::drift`]); the
//!   genres' drift decides the advice.
//! - **Adapting the prior** ([`crate::prior`]) estimates the catalogue's base rate from the
//!   model's own answers and measures the adapted answers.

use serde::Serialize;

use crate::data::{is_popular, Tracks};
use crate::distribution::IntervalMetrics;
use crate::drift::{DriftReport, LARGE};
use crate::known::{known_rows, Known, KnownTracks};
use crate::metrics::{Confusion, MetricError, RegressionMetrics};
use crate::models::ModelError;
use crate::predictor::{genre_names, table_inputs, Genres, MeasureError, Predictor};
use crate::prior::PriorEstimate;

/// What to measure.
#[derive(Clone, Debug, Default)]
pub struct EvaluateOptions {
    /// Measure the tracks the training data holds with the rest, instead of apart.
    pub keep_known: bool,
    /// Adapt each way's answers to the catalogue's estimated base rate.
    pub adapt_prior: bool,
    /// The training tracks to recognise, when not the model file's own fingerprints (a model
    /// trained on another file, say).
    pub training: Option<KnownTracks>,
    /// Columns the catalogue lacks (given their defaults): left out of the drift report.
    pub absent: Vec<&'static str>,
}

/// The catalogue's tracks the training data holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KnownSummary {
    /// Tracks whose `track_id` is a training track's.
    pub by_id: usize,
    /// Tracks with another id but a training track's exact audio values.
    pub by_audio: usize,
    /// Whether they were measured with the rest (`--keep-known`).
    pub kept: bool,
    /// Their share of popular tracks, when labelled.
    pub popular_rate: Option<f64>,
    /// The other tracks' share, when labelled.
    pub others_popular_rate: Option<f64>,
}

impl KnownSummary {
    /// Known tracks in all.
    pub fn total(&self) -> usize {
        self.by_id + self.by_audio
    }
}

/// How the model does on a labelled catalogue with genres read or ignored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogueFit {
    /// `use` or `ignore`.
    pub genres: &'static str,
    /// Tracks scored.
    pub tracks: usize,
    /// Share of them that are popular.
    pub popular_rate: f64,
    /// Share answered by the no-genres companion.
    pub without_genres: f64,
    /// Ranking of popular tracks; NaN (null in JSON) when the tracks hold one class only.
    pub roc_auc: f64,
    /// Average precision (PR-AUC); NaN (null in JSON) as ROC-AUC.
    pub pr_auc: f64,
    /// Expected calibration error over ten bins of equal count.
    pub ece: f64,
    /// Mean probability, to set beside `popular_rate`.
    pub mean_probability: f64,
    /// The base rate the answers were adapted to, when asked and EM's estimate holds.
    pub prior: Option<PriorEstimate>,
    /// The flag (each answer at its own model's threshold) against the labels.
    pub flagged: Confusion,
    /// The 0-100 score.
    pub score: RegressionMetrics,
    /// The score's range.
    pub range: IntervalMetrics,
}

/// What adapting one way's answers to the catalogue's base rate gave.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PriorOutcome {
    /// `use` or `ignore`.
    pub genres: &'static str,
    /// The estimate the answers were adapted to, if they were.
    pub estimate: Option<PriorEstimate>,
    /// Why they were not, if they were not.
    pub refused: Option<String>,
}

/// Which way to score the catalogue, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// `use` or `ignore`.
    pub genres: &'static str,
    /// Why, in one sentence.
    pub reason: String,
}

/// Everything `hitcast model evaluate` says about a catalogue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogueReport {
    /// The catalogue's tracks (one per `track_id`).
    pub tracks: usize,
    /// Tracks measured: all, or all but the known ones.
    pub measured: usize,
    /// The tracks the training data holds.
    pub known: KnownSummary,
    /// The measured tracks' figures, genres read then ignored; empty without labels.
    pub fits: Vec<CatalogueFit>,
    /// The figures with the known tracks too, when they were left out of `fits`: how much
    /// they move them.
    pub with_known: Vec<CatalogueFit>,
    /// How far the measured tracks' inputs moved from the training tracks.
    pub drift: Option<DriftReport>,
    /// What adapting to the catalogue's base rate gave, genres read then ignored (when asked).
    pub priors: Vec<PriorOutcome>,
    /// Which way to score it.
    pub advice: Option<Advice>,
}

/// Why a catalogue could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A metric is undefined (one class only, say).
    #[error(transparent)]
    Metric(#[from] MetricError),
    /// The model could not answer.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The answers could not be measured.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// Every track is known to the model.
    #[error("every track of the catalogue is one the model's training data holds: nothing is left to measure (--keep-known measures them)")]
    AllKnown,
}

/// Measures `predictor` on `tracks`.
pub fn evaluate(
    predictor: &Predictor,
    tracks: &Tracks,
    options: &EvaluateOptions,
) -> Result<CatalogueReport, EvaluateError> {
    let training = options
        .training
        .as_ref()
        .unwrap_or(&predictor.artifact().payload.known);
    let known = known_rows(training, tracks);
    let labels: Option<Vec<bool>> = tracks.popularity().map(|popularity| {
        let threshold = predictor.metadata().label_threshold;
        popularity
            .iter()
            .map(|&p| is_popular(p, threshold))
            .collect()
    });
    let rate = |rows: &[usize]| {
        labels
            .as_ref()
            .filter(|_| !rows.is_empty())
            .map(|l| rows.iter().filter(|&&i| l[i]).count() as f64 / rows.len() as f64)
    };
    let (known_rows, others): (Vec<usize>, Vec<usize>) =
        (0..tracks.len()).partition(|&i| known[i].is_some());
    let summary = KnownSummary {
        by_id: known.iter().filter(|k| **k == Some(Known::Id)).count(),
        by_audio: known.iter().filter(|k| **k == Some(Known::Audio)).count(),
        kept: options.keep_known,
        popular_rate: rate(&known_rows),
        others_popular_rate: rate(&others),
    };
    let all: Vec<usize> = (0..tracks.len()).collect();
    let measured = if options.keep_known {
        all.clone()
    } else {
        others
    };
    if measured.is_empty() {
        return Err(EvaluateError::AllKnown);
    }
    let measure =
        |rows: &[usize]| -> Result<(Vec<CatalogueFit>, Vec<PriorOutcome>), EvaluateError> {
            let mut fits = Vec::new();
            let mut priors = Vec::new();
            for genres in [Genres::Use, Genres::Ignore] {
                let Ok(p) = predictor.clone().with_genres(genres) else {
                    continue;
                };
                let (fit, prior) = measure_one(&p, tracks, rows, labels.is_some(), options)?;
                fits.extend(fit);
                priors.extend(prior);
            }
            Ok((fits, priors))
        };
    let (fits, priors) = measure(&measured)?;
    let with_known = if summary.total() > 0 && !options.keep_known && labels.is_some() {
        measure(&all)?.0
    } else {
        Vec::new()
    };
    let names = genre_names(tracks, &measured);
    let inputs = table_inputs(tracks, &measured, &names);
    let mut counts = predictor.reference().counts();
    predictor.count_drift(&inputs, &mut counts);
    let drift = predictor
        .reference()
        .report(&counts)
        .map(|d| d.without(&options.absent));
    let advice = advise(&fits, drift.as_ref(), predictor);
    Ok(CatalogueReport {
        tracks: tracks.len(),
        measured: measured.len(),
        known: summary,
        fits,
        with_known,
        drift,
        priors,
        advice,
    })
}

/// One way's figures on `rows` (none without labels), and what adapting its prior gave when
/// asked.
fn measure_one(
    predictor: &Predictor,
    tracks: &Tracks,
    rows: &[usize],
    labelled: bool,
    options: &EvaluateOptions,
) -> Result<(Option<CatalogueFit>, Option<PriorOutcome>), EvaluateError> {
    let names = genre_names(tracks, rows);
    let inputs = table_inputs(tracks, rows, &names);
    let genres = predictor.genres().name();
    let (predictor, outcome) = if options.adapt_prior {
        let mut evidence = predictor.evidence();
        predictor.gather(&inputs, &mut evidence)?;
        match predictor.estimate_prior(&evidence) {
            Ok(estimate) => (
                predictor.clone().with_prior(estimate.estimate),
                Some(PriorOutcome {
                    genres,
                    estimate: Some(estimate.clone()),
                    refused: None,
                }),
            ),
            Err(e) => (
                predictor.clone(),
                Some(PriorOutcome {
                    genres,
                    estimate: None,
                    refused: Some(e.to_string()),
                }),
            ),
        }
    } else {
        (predictor.clone(), None)
    };
    let prior = outcome.as_ref().and_then(|o| o.estimate.clone());
    if !labelled {
        return Ok((None, outcome));
    }
    let m = predictor.measure(tracks, rows, predictor.metadata().label_threshold)?;
    let fit = CatalogueFit {
        genres: predictor.genres().name(),
        tracks: m.labels.len(),
        popular_rate: m.classification.positive_rate,
        without_genres: m.without_genres,
        roc_auc: m.classification.roc_auc,
        pr_auc: m.classification.pr_auc,
        ece: m.ece,
        mean_probability: m.mean_probability,
        prior,
        flagged: m.classification.confusion,
        score: m.score,
        range: m.range,
    };
    Ok((Some(fit), outcome))
}

/// Under this many popular tracks, PR-AUC swings too much to choose a reading of the genres by.
const MIN_POSITIVES_TO_ADVISE: usize = 20;

/// With labels, the way that ranks popular tracks better (PR-AUC), unless they tie or too few
/// tracks are popular to tell; without, ignore the genres when theirs moved a lot from the
/// training tracks'.
fn advise(
    fits: &[CatalogueFit],
    drift: Option<&DriftReport>,
    predictor: &Predictor,
) -> Option<Advice> {
    if let [using, ignoring] = fits {
        let positives = (using.popular_rate * using.tracks as f64).round() as usize;
        if using.pr_auc.is_nan() {
            return Some(Advice {
                genres: "use",
                reason: format!(
                    "{} track is popular, so no reading ranks popular tracks above the others \
                     (ROC-AUC and PR-AUC are undefined): measure a sample with both to choose.",
                    if positives == 0 { "No" } else { "Every" }
                ),
            });
        }
        if positives < MIN_POSITIVES_TO_ADVISE {
            return Some(Advice {
                genres: "use",
                reason: format!(
                    "With {positives} popular track{}, too few to tell which reading ranks \
                     them better (PR-AUC {:.3} reading genres, {:.3} ignoring them).",
                    if positives == 1 { "" } else { "s" },
                    using.pr_auc,
                    ignoring.pr_auc
                ),
            });
        }
        if using.without_genres >= 1.0 {
            return Some(Advice {
                genres: "use",
                reason: "No track names a genre the model knows (or the file has no genre \
                         column), so both readings are the no-genres model's; if the file \
                         names genres under another column, --map it onto track_genre."
                    .to_owned(),
            });
        }
        if (using.pr_auc - ignoring.pr_auc).abs() < 0.0005 {
            return Some(Advice {
                genres: "use",
                reason: format!(
                    "Reading genres and ignoring them rank this catalogue's popular tracks alike \
                     (PR-AUC {:.3}).",
                    using.pr_auc
                ),
            });
        }
        let (better, worse) = if ignoring.pr_auc > using.pr_auc {
            two_apart(ignoring.pr_auc, using.pr_auc)
        } else {
            two_apart(using.pr_auc, ignoring.pr_auc)
        };
        return Some(if ignoring.pr_auc > using.pr_auc {
            Advice {
                genres: "ignore",
                reason: format!(
                    "Ignoring genres ranks this catalogue's popular tracks better (PR-AUC {better} \
                     against {worse}): its genre labels do not mean what they mean in the \
                     training data."
                ),
            }
        } else {
            Advice {
                genres: "use",
                reason: format!(
                    "Reading genres ranks this catalogue's popular tracks better (PR-AUC {better} \
                     against {worse})."
                ),
            }
        });
    }
    if !fits.is_empty() || predictor.clone().with_genres(Genres::Ignore).is_err() {
        return None;
    }
    let genres = drift?.columns.iter().find(|c| c.column == "genres")?;
    Some(if genres.psi > LARGE {
        Advice {
            genres: "ignore",
            reason: format!(
                "Its genres moved a lot from the training tracks' (PSI {:.2}): their labels \
                 likely mean something else here, and without popularity to measure against, \
                 the model without genres is the safer reading.",
                genres.psi
            ),
        }
    } else {
        Advice {
            genres: "use",
            reason: format!(
                "Its genres look like the training tracks' (PSI {:.2}).",
                genres.psi
            ),
        }
    })
}

/// Two figures to three decimals, or to as many more as tell them apart (up to six): "0.139
/// against 0.139" reads as a tie the advice then breaks.
pub fn two_apart(a: f64, b: f64) -> (String, String) {
    let digits = (3..=6)
        .find(|&d| format!("{a:.d$}") != format!("{b:.d$}"))
        .unwrap_or(6);
    (format!("{a:.digits$}"), format!("{b:.digits$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genre_advice_needs_enough_popular_tracks_and_a_difference() {
        let (artifact, _) = crate::testutil::fixture();
        let predictor = Predictor::new(artifact).unwrap();
        let fit = |genres, tracks, popular_rate, pr_auc| CatalogueFit {
            genres,
            tracks,
            popular_rate,
            without_genres: 0.0,
            roc_auc: 0.8,
            pr_auc,
            ece: 0.01,
            mean_probability: popular_rate,
            prior: None,
            flagged: Confusion::default(),
            score: RegressionMetrics::default(),
            range: IntervalMetrics::default(),
        };
        let said = |using: f64, ignoring: f64, tracks: usize, rate: f64| {
            let fits = [
                fit("use", tracks, rate, using),
                fit("ignore", tracks, rate, ignoring),
            ];
            let a = advise(&fits, None, &predictor).unwrap();
            (a.genres, a.reason)
        };
        assert_eq!(
            said(1.0, 1.0, 3, 1.0 / 3.0),
            (
                "use",
                "With 1 popular track, too few to tell which reading ranks them better (PR-AUC \
                 1.000 reading genres, 1.000 ignoring them)."
                    .to_owned()
            )
        );
        // No track names a genre the model knows: both readings are one model's.
        let mut fits = [fit("use", 1000, 0.05, 0.1), fit("ignore", 1000, 0.05, 0.1)];
        for f in &mut fits {
            f.without_genres = 1.0;
        }
        let a = advise(&fits, None, &predictor).unwrap();
        assert_eq!(a.genres, "use");
        assert!(
            a.reason
                .starts_with("No track names a genre the model knows"),
            "{}",
            a.reason
        );
        assert_eq!(
            said(0.3001, 0.3003, 1000, 0.05),
            (
                "use",
                "Reading genres and ignoring them rank this catalogue's popular tracks alike \
                 (PR-AUC 0.300)."
                    .to_owned()
            )
        );
        assert_eq!(
            said(0.082, 0.100, 26_104, 0.05).0,
            "ignore",
            "the external sample's figures"
        );
    }

    #[test]
    fn two_figures_get_the_digits_that_tell_them_apart() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(two_apart(0.156, 0.137), pair("0.156", "0.137"));
        assert_eq!(two_apart(0.13912, 0.13881), pair("0.1391", "0.1388"));
        assert_eq!(two_apart(0.5, 0.5), pair("0.500000", "0.500000"));
    }
}

//! The one way to score a track: the fitted pipeline, the classifier and its calibration, the
//! score model and its range, the input domain and the explanation background, checked to fit
//! together once, at load. `hitcast predict`, `explain`, `report`, `bench` and the server (pages
//! and API) all answer through [`Predictor`], so they agree to the last bit. It scores, explains,
//! and draws what-if curves (one input varied, the rest held).
//!
//! ```text
//! TrackInput ──pipeline──▶ feature row ──classifier──▶ raw p ──calibration──▶ probability, flag, lift
//!                                      └─regressor──▶ score ──interval──▶ low, high
//! audio ──domain──▶ warnings
//! ```

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::artifact::{Artifact, ArtifactError, Metadata, Payload};
use crate::calibration::{logit, Calibration};
use crate::data::{Column, FieldProblem, RawRow, Rule, Tracks, N_AUDIO};
use crate::domain::Warning;
use crate::explain::{
    explain, explain_score, Explanation, Method, SamplingOptions, ScoreExplanation,
};
use crate::features::{FeatureMatrix, FeaturePipeline, TrackInput, Variants};
use crate::interval::{agree, Range};
use crate::models::{Classifier, ModelError, Regressor};

/// One track's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The calibrated chance that the track's popularity is above the label threshold.
    pub probability: f64,
    /// `probability` reaches the decision threshold chosen on VAL: a likely hit.
    pub flagged: bool,
    /// `probability` over the share of popular tracks in training: "16x a typical track's
    /// chance".
    pub lift: f64,
    /// The predicted 0-100 score.
    pub popularity: f64,
    /// Lower end of the score's range (at the model's coverage).
    pub popularity_low: f64,
    /// Upper end of the score's range.
    pub popularity_high: f64,
    /// Whether the answer reads the track's genres (false: the audio-only model answered).
    pub genres_used: bool,
    /// Inputs beyond what the model saw in training.
    pub warnings: Vec<Warning>,
    /// Genres the model does not know: they score as no genre.
    pub unknown_genres: Vec<String>,
}

/// One track's chance of being popular, without the 0-100 score and its range: what
/// [`Predictor::chances`] answers, running the classifier alone (about half the work of a
/// [`Prediction`], whose first fields these are, computed by the same code).
#[derive(Clone, Debug, PartialEq)]
pub struct Chance {
    /// As [`Prediction::probability`].
    pub probability: f64,
    /// As [`Prediction::flagged`].
    pub flagged: bool,
    /// As [`Prediction::lift`].
    pub lift: f64,
    /// As [`Prediction::genres_used`].
    pub genres_used: bool,
    /// As [`Prediction::warnings`].
    pub warnings: Vec<Warning>,
    /// As [`Prediction::unknown_genres`].
    pub unknown_genres: Vec<String>,
}

impl Chance {
    /// The inputs beyond what the model saw, as the `warnings` column writes them.
    pub fn warning_fields(&self) -> String {
        warning_fields(&self.warnings)
    }
}

/// Rows per slice when [`Predictor::score`] spreads a large batch over the cores.
const SCORE_SLICE: usize = 1024;

/// The columns of a scored table, in order, before any kept input columns: every surface that
/// writes answers as a table (`hitcast predict`'s CSV and Parquet, the Python package, Spark)
/// uses these names. `warnings` lists the inputs beyond what the model saw, `;`-separated.
/// A table of [`Chance`]s has these without the three score columns ([`SCORE_COLUMNS`]).
pub const ANSWER_COLUMNS: [&str; 8] = [
    "track_id",
    "popularity_probability",
    "flagged",
    "lift",
    "predicted_popularity",
    "popularity_low",
    "popularity_high",
    "warnings",
];

/// The columns of [`ANSWER_COLUMNS`] that a table of [`Chance`]s leaves out.
pub const SCORE_COLUMNS: [&str; 3] = ["predicted_popularity", "popularity_low", "popularity_high"];

fn warning_fields(warnings: &[Warning]) -> String {
    let fields: Vec<&str> = warnings.iter().map(|w| w.field.as_str()).collect();
    fields.join(";")
}

impl Prediction {
    /// The answer from its chance, the score and the score's range.
    fn new(chance: Chance, popularity: f64, range: Range) -> Prediction {
        let Chance {
            probability,
            flagged,
            lift,
            genres_used,
            warnings,
            unknown_genres,
        } = chance;
        Prediction {
            probability,
            flagged,
            lift,
            popularity,
            popularity_low: range.low,
            popularity_high: range.high,
            genres_used,
            warnings,
            unknown_genres,
        }
    }

    /// The inputs beyond what the model saw, as the `warnings` column writes them.
    pub fn warning_fields(&self) -> String {
        warning_fields(&self.warnings)
    }

    /// The answer's chance: its fields without the score.
    pub fn chance(&self) -> Chance {
        Chance {
            probability: self.probability,
            flagged: self.flagged,
            lift: self.lift,
            genres_used: self.genres_used,
            warnings: self.warnings.clone(),
            unknown_genres: self.unknown_genres.clone(),
        }
    }

    /// The score's range.
    pub fn range(&self) -> Range {
        Range {
            low: self.popularity_low,
            high: self.popularity_high,
        }
    }
}

/// Whether the track's genres are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Genres {
    /// A track with a genre the model knows is scored with its genres; one without by the
    /// audio-only companion.
    #[default]
    Use,
    /// Every track is scored by the audio-only companion: for a catalogue whose genre labels
    /// mean something else than this dataset's (`hitcast model evaluate` measures both).
    Ignore,
}

impl Genres {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Genres::Use => "use",
            Genres::Ignore => "ignore",
        }
    }
}

impl std::str::FromStr for Genres {
    type Err = String;

    fn from_str(s: &str) -> Result<Genres, String> {
        match s {
            "use" => Ok(Genres::Use),
            "ignore" => Ok(Genres::Ignore),
            _ => Err(format!("unknown genre use {s:?}: expected use or ignore")),
        }
    }
}

/// A saved model, checked and ready to answer.
#[derive(Clone, Debug)]
pub struct Predictor {
    artifact: Artifact,
    background: FeatureMatrix,
    /// The audio-only companion's background, when the model has one.
    companion_background: Option<FeatureMatrix>,
    genres: Genres,
}

/// One of the models a predictor answers with: the main one or its audio-only companion.
#[derive(Clone, Copy)]
struct Head<'a> {
    metadata: &'a Metadata,
    payload: &'a Payload,
    background: &'a FeatureMatrix,
}

/// Feature rows of a batch of tracks, with what the answers need beside them.
struct Batch {
    x: FeatureMatrix,
    audio: Vec<[f64; N_AUDIO]>,
    /// The rows are variants of the first (a what-if curve), which tree models score walking
    /// each tree once for all of them.
    variants: bool,
}

fn unfit(reason: String) -> ArtifactError {
    ArtifactError::Decode {
        section: "payload",
        reason,
    }
}

/// Checks that one model's parts fit together and returns its background rows.
fn check(m: &Metadata, p: &Payload) -> Result<FeatureMatrix, ArtifactError> {
    let width = p.pipeline.names().len();
    if m.features.len() != width {
        return Err(unfit(format!(
            "the metadata lists {} features and the pipeline makes {width}",
            m.features.len()
        )));
    }
    let background = FeatureMatrix::new(p.pipeline.names().to_vec(), p.background.clone())
        .filter(|b| b.n_rows() > 0)
        .ok_or_else(|| unfit("the background rows do not match the features".into()))?;
    let part = |name: &'static str| move |e: ModelError| unfit(format!("the {name}: {e}"));
    p.classifier
        .check_inputs(width)
        .map_err(part("classifier"))?;
    p.regressor.check_inputs(width).map_err(part("regressor"))?;
    p.interval
        .check_inputs(width)
        .map_err(part("score's range"))?;
    p.calibration
        .check()
        .map_err(|e| unfit(format!("the calibration: {e}")))?;
    p.domain.check_ranges().map_err(unfit)?;
    if !(m.decision_threshold.is_finite() && m.base_rate > 0.0 && m.base_rate < 1.0) {
        return Err(unfit("the threshold or base rate is not valid".into()));
    }
    Ok(background)
}

impl Predictor {
    /// Checks that the artifact's parts fit together, structurally: the metadata's features
    /// against the pipeline, the background's width, each model's inputs (coefficient counts,
    /// tree feature indices, layer shapes, the stack's members), the calibration and the
    /// interval; the same for the audio-only companion, which must read no genres. A file with
    /// a valid checksum can still be crafted, or written by a buggy tool.
    pub fn new(artifact: Artifact) -> Result<Predictor, ArtifactError> {
        let (m, p) = (&artifact.metadata, &artifact.payload);
        let background = check(m, p)?;
        let companion_background = match (&m.without_genres, &p.without_genres) {
            (None, None) => None,
            (Some(cm), Some(cp)) => {
                let companion = |what: &str| unfit(format!("the audio-only companion {what}"));
                if cm.without_genres.is_some() || cp.without_genres.is_some() {
                    return Err(companion("has a companion of its own"));
                }
                if cp.pipeline.params().features.has_genres() {
                    return Err(companion("reads genres"));
                }
                if cm.label_threshold != m.label_threshold {
                    return Err(companion("was trained for another threshold"));
                }
                Some(check(cm, cp).map_err(|e| match e {
                    ArtifactError::Decode { reason, .. } => {
                        unfit(format!("the audio-only companion: {reason}"))
                    }
                    e => e,
                })?)
            }
            _ => return Err(unfit("the audio-only companion is only half there".into())),
        };
        Ok(Predictor {
            artifact,
            background,
            companion_background,
            genres: Genres::Use,
        })
    }

    /// Reads and checks the model file at `path`.
    pub fn load(path: &Path) -> Result<Predictor, ArtifactError> {
        Predictor::new(Artifact::load(path)?)
    }

    /// The predictor that reads or ignores genres. Ignoring them needs a model that reads no
    /// genres or one with an audio-only companion (every model `hitcast train` writes).
    pub fn with_genres(mut self, genres: Genres) -> Result<Predictor, NoCompanion> {
        if genres == Genres::Ignore && self.has_genres() && self.companion_background.is_none() {
            return Err(NoCompanion);
        }
        self.genres = genres;
        Ok(self)
    }

    /// What the model says about itself.
    pub fn metadata(&self) -> &Metadata {
        &self.artifact.metadata
    }

    /// The saved model.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// The saved model, given back (after measuring it, say).
    pub fn into_artifact(self) -> Artifact {
        self.artifact
    }

    /// The fitted feature pipeline of the main model.
    pub fn pipeline(&self) -> &FeaturePipeline {
        &self.artifact.payload.pipeline
    }

    /// How this model's contributions are computed.
    pub fn method(&self) -> Method {
        Method::of(&self.artifact.payload.classifier)
    }

    /// Whether explaining a track samples (the classifier's or the regressor's method), which
    /// costs milliseconds a track where the exact methods cost microseconds.
    pub fn explanations_sample(&self) -> bool {
        let p = &self.artifact.payload;
        self.method() == Method::SamplingShapley
            || Method::of_regressor(&p.regressor) == Method::SamplingShapley
    }

    /// The decision threshold of the model that gave `answer`.
    pub fn decision_threshold(&self, answer: &Prediction) -> f64 {
        self.head(!answer.genres_used).metadata.decision_threshold
    }

    /// Whether an answer with this `genres_used` came from the audio-only companion although
    /// genres are read: the track had no genre the model knows.
    pub fn answered_without_genres(&self, genres_used: bool) -> bool {
        self.genres == Genres::Use && self.has_genres() && !genres_used
    }

    /// Whether the main model reads genres.
    fn has_genres(&self) -> bool {
        self.pipeline().params().features.has_genres()
    }

    fn head(&self, audio_only: bool) -> Head<'_> {
        let a = &self.artifact;
        match (
            audio_only,
            &a.metadata.without_genres,
            &a.payload.without_genres,
            &self.companion_background,
        ) {
            (true, Some(metadata), Some(payload), Some(background)) => Head {
                metadata,
                payload,
                background,
            },
            _ => Head {
                metadata: &a.metadata,
                payload: &a.payload,
                background: &self.background,
            },
        }
    }

    /// Which tracks the audio-only companion answers: all when genres are ignored, else those
    /// with no genre the main model knows. Without a companion, none.
    fn audio_only(&self, tracks: &[TrackInput]) -> Vec<bool> {
        let pipeline = self.pipeline();
        tracks
            .iter()
            .map(|t| {
                self.companion_background.is_some()
                    && (self.genres == Genres::Ignore || !pipeline.knows_genre(t))
            })
            .collect()
    }

    /// Runs `f` on each head's share of `tracks` and puts the results back in order.
    fn routed<T>(
        &self,
        tracks: &[TrackInput],
        mut f: impl FnMut(Head<'_>, &[TrackInput]) -> Result<Vec<T>, ModelError>,
    ) -> Result<Vec<T>, ModelError> {
        let audio_only = self.audio_only(tracks);
        let first = audio_only.first().copied().unwrap_or(false);
        if audio_only.iter().all(|&a| a == first) {
            return f(self.head(first), tracks);
        }
        let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(tracks.len()).collect();
        for side in [false, true] {
            let rows: Vec<usize> = (0..tracks.len())
                .filter(|&i| audio_only[i] == side)
                .collect();
            let share: Vec<TrackInput> = rows.iter().map(|&i| tracks[i].clone()).collect();
            for (i, answer) in rows.into_iter().zip(f(self.head(side), &share)?) {
                out[i] = Some(answer);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Answers for `tracks`, in order. Fails only if a model gives a number that is not finite,
    /// which inputs inside the domain never cause: the caller reports it, never shows it.
    pub fn score(&self, tracks: &[TrackInput]) -> Result<Vec<Prediction>, ModelError> {
        sliced(tracks, |slice| {
            self.routed(slice, |head, share| {
                self.answer(head, share, head.batch(share))
            })
        })
    }

    /// The chance, flag and lift of each of `tracks`, in order, as [`Predictor::score`] gives
    /// them, without the score and its range: the classifier alone runs.
    pub fn chances(&self, tracks: &[TrackInput]) -> Result<Vec<Chance>, ModelError> {
        sliced(tracks, |slice| {
            self.routed(slice, |head, share| {
                let batch = head.batch(share);
                let raw = head.payload.classifier.predict_proba(&batch.x);
                self.chances_of(head, share, &batch, raw)
            })
        })
    }

    /// [`Predictor::chances`] for rows read from a file.
    pub fn chances_rows(&self, rows: &[RawRow]) -> Result<Vec<Chance>, ModelError> {
        self.chances(&rows.iter().map(input).collect::<Vec<_>>())
    }

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
                    .or_else(|| rule.domain().map(|d| (d.min, d.max)))
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
    fn seen_range(&self, column: Column) -> Option<(f64, f64)> {
        self.artifact
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
        let audio_only = self.audio_only(std::slice::from_ref(track))[0];
        let head = self.head(audio_only);
        let batch = Batch {
            x: head.payload.pipeline.transform_variants(track, i, &values),
            audio: variants.iter().map(|t| t.audio).collect(),
            variants: true,
        };
        Ok(self.answer(head, &variants, batch)?)
    }

    /// [`Predictor::score`] for rows read from a file.
    pub fn score_rows(&self, rows: &[RawRow]) -> Result<Vec<Prediction>, ModelError> {
        self.score(&rows.iter().map(input).collect::<Vec<_>>())
    }

    /// Answers for `tracks` and why each gets its probability: contributions on the calibrated
    /// log-odds scale, from the model's starting point (base) to this track's, by the model
    /// that answered. One feature transform serves both.
    pub fn score_explained(
        &self,
        tracks: &[TrackInput],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        self.routed(tracks, |head, share| {
            if share.is_empty() {
                return Ok(Vec::new());
            }
            let batch = head.batch(share);
            let explanations = head.explain(&batch.x, options)?;
            Ok(self
                .answer(head, share, batch)?
                .into_iter()
                .zip(explanations)
                .collect())
        })
    }

    /// Why each of `tracks` gets its 0-100 score: contributions in points of popularity from a
    /// typical track's score to this one's, by the regressor that answered (the companion's for
    /// a track with no genre the main model knows).
    pub fn explain_scores(
        &self,
        tracks: &[TrackInput],
        options: SamplingOptions,
    ) -> Result<Vec<ScoreExplanation>, ModelError> {
        self.routed(tracks, |head, share| {
            if share.is_empty() {
                return Ok(Vec::new());
            }
            let batch = head.batch(share);
            let p = head.payload;
            explain_score(
                &p.regressor,
                &p.pipeline,
                head.background,
                &batch.x,
                options,
            )
        })
    }

    /// [`Predictor::score_explained`] for rows read from a file.
    pub fn score_explained_rows(
        &self,
        rows: &[RawRow],
        options: SamplingOptions,
    ) -> Result<Vec<(Prediction, Explanation)>, ModelError> {
        self.score_explained(&rows.iter().map(input).collect::<Vec<_>>(), options)
    }

    /// Calibrated probabilities of rows transformed by the main model's pipeline (the report's
    /// TEST rows).
    pub fn probabilities(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.head(false).probabilities(x)
    }

    /// Explanations of rows transformed by the main model's pipeline, calibrated: see
    /// [`calibrate`].
    pub fn explain_matrix(
        &self,
        x: &FeatureMatrix,
        options: SamplingOptions,
    ) -> Result<Vec<Explanation>, ModelError> {
        self.head(false).explain(x, options)
    }

    fn answer(
        &self,
        head: Head<'_>,
        tracks: &[TrackInput],
        batch: Batch,
    ) -> Result<Vec<Prediction>, ModelError> {
        let (p, m) = (head.payload, head.metadata);
        let variants = batch.variants.then(|| Variants::new(&batch.x));
        let (raw, scores) = match &variants {
            Some(v) => (
                p.classifier.predict_proba_variants(v),
                p.regressor.predict_variants(v),
            ),
            None => (
                p.classifier.predict_proba(&batch.x),
                p.regressor.predict(&batch.x),
            ),
        };
        let chances = self.chances_of(head, tracks, &batch, raw)?;
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(no_answer(&batch, i));
        }
        let coverage = m.interval.choice.coverage;
        let ranges = match &variants {
            Some(v) => p.interval.predict_variants(v, &scores),
            None => p.interval.predict(&batch.x, &scores),
        };
        Ok(chances
            .into_iter()
            .zip(scores)
            .zip(ranges)
            .map(|((chance, score), range)| {
                let range = agree(range, chance.probability, coverage, m.label_threshold);
                Prediction::new(chance, score.clamp(0.0, 100.0), range)
            })
            .collect())
    }

    /// The chances of a batch from the classifier's raw probabilities: calibrated, flagged at
    /// the decision threshold, with the domain's warnings and the unknown genres.
    fn chances_of(
        &self,
        head: Head<'_>,
        tracks: &[TrackInput],
        batch: &Batch,
        raw: Vec<f64>,
    ) -> Result<Vec<Chance>, ModelError> {
        let (p, m) = (head.payload, head.metadata);
        let probabilities = head.calibrated(raw);
        if let Some(i) = probabilities.iter().position(|p| !p.is_finite()) {
            return Err(no_answer(batch, i));
        }
        let genres_used = p.pipeline.params().features.has_genres();
        let main = self.pipeline();
        Ok(probabilities
            .into_iter()
            .zip(batch.audio.iter().zip(tracks))
            .map(|(probability, (audio, track))| Chance {
                probability,
                flagged: probability >= m.decision_threshold,
                lift: probability / m.base_rate,
                genres_used,
                warnings: p.domain.check(audio),
                unknown_genres: main.unknown_genres(track),
            })
            .collect())
    }
}

/// The error for row `i` of a batch, whose answer is not a finite number.
fn no_answer(batch: &Batch, i: usize) -> ModelError {
    ModelError::Shape(format!(
        "the model gave no finite answer for the track with audio {:?}",
        batch.audio[i]
    ))
}

/// `f` of `tracks`, in order. Each track's answer depends on that track alone, so slices can
/// be answered on every core at once with the same numbers: the models' own predict steps use
/// two cores poorly (1.2x on 2 cores for a whole `score`, measured by `hitcast bench predict`).
fn sliced<T: Send>(
    tracks: &[TrackInput],
    f: impl Fn(&[TrackInput]) -> Result<Vec<T>, ModelError> + Sync,
) -> Result<Vec<T>, ModelError> {
    if tracks.len() < 2 * SCORE_SLICE {
        return f(tracks);
    }
    let slices: Vec<Vec<T>> = tracks
        .par_chunks(SCORE_SLICE)
        .map(&f)
        .collect::<Result<_, _>>()?;
    Ok(slices.into_iter().flatten().collect())
}

impl Head<'_> {
    fn batch(&self, tracks: &[TrackInput]) -> Batch {
        let pipeline = &self.payload.pipeline;
        let width = pipeline.names().len();
        let mut data = vec![0.0; tracks.len() * width];
        for (t, row) in tracks.iter().zip(data.chunks_exact_mut(width.max(1))) {
            pipeline.transform_into(t, row);
        }
        Batch {
            x: FeatureMatrix::new(pipeline.names().to_vec(), data).unwrap_or_else(|| {
                unreachable!("transform_one writes rows of the pipeline's width")
            }),
            audio: tracks.iter().map(|t| t.audio).collect(),
            variants: false,
        }
    }

    fn probabilities(&self, x: &FeatureMatrix) -> Vec<f64> {
        self.calibrated(self.payload.classifier.predict_proba(x))
    }

    fn calibrated(&self, raw: Vec<f64>) -> Vec<f64> {
        let calibration = &self.payload.calibration;
        raw.into_iter().map(|p| calibration.apply(p)).collect()
    }

    /// Explanations, calibrated: the classifier's raw contributions are rescaled so that the
    /// base plus the contributions is the calibrated log-odds. Platt scaling is affine in log-odds, so there
    /// the rescaling is exact (every contribution times its slope); after isotonic calibration
    /// it shares the calibrated move out in proportion.
    fn explain(
        &self,
        x: &FeatureMatrix,
        options: SamplingOptions,
    ) -> Result<Vec<Explanation>, ModelError> {
        let p = self.payload;
        let mut explanations = explain(&p.classifier, &p.pipeline, self.background, x, options)?;
        for e in &mut explanations {
            calibrate(e, &p.calibration);
        }
        Ok(explanations)
    }
}

/// Genres cannot be ignored: the model reads them and has no audio-only companion.
#[derive(Debug, thiserror::Error)]
#[error("this model reads genres and has no audio-only companion to score without them: retrain it with this hitcast")]
pub struct NoCompanion;

/// Why a what-if curve could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    /// Only the audio inputs can be varied.
    #[error("{0} is not an audio input: only those can be varied")]
    NotAudio(Column),
    /// A value is outside the input's range.
    #[error("{column}: {problem}")]
    Value {
        /// The input.
        column: Column,
        /// Why the value was refused.
        problem: FieldProblem,
    },
    /// The model gave no finite answer.
    #[error("the model could not answer")]
    Model(#[from] ModelError),
}

/// A file row as the predictor's input.
pub fn input(row: &RawRow) -> TrackInput<'_> {
    TrackInput {
        audio: row.audio,
        genres: &row.genres,
        artists: &row.artists,
        album_name: &row.album_name,
        track_name: &row.track_name,
    }
}

/// The genre names of `rows` of a table, which [`table_inputs`] borrows.
pub fn genre_names(tracks: &Tracks, rows: &[usize]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|&i| {
            tracks.rows[i]
                .genres
                .iter()
                .map(|&g| tracks.genres[usize::from(g)].clone())
                .collect()
        })
        .collect()
}

/// `rows` of a table as the predictor's inputs (`names` from [`genre_names`] of the same rows):
/// a table's TEST tracks, or another catalogue, scored the way users' tracks are.
pub fn table_inputs<'a>(
    tracks: &'a Tracks,
    rows: &[usize],
    names: &'a [Vec<String>],
) -> Vec<TrackInput<'a>> {
    rows.iter()
        .zip(names)
        .map(|(&i, genres)| {
            let t = &tracks.rows[i];
            TrackInput {
                audio: t.audio,
                genres,
                artists: &t.artists,
                album_name: &t.album_name,
                track_name: &t.track_name,
            }
        })
        .collect()
}

/// Moves an explanation from the classifier's raw log-odds to the calibrated ones.
fn calibrate(e: &mut Explanation, calibration: &Calibration) {
    let raw_move = e.log_odds - e.base;
    let base = logit(calibration.apply(crate::models::sigmoid(e.base)));
    let probability = calibration.apply(e.probability);
    let log_odds = logit(probability);
    let scale = if raw_move.abs() > 1e-12 {
        (log_odds - base) / raw_move
    } else {
        0.0
    };
    for c in &mut e.contributions {
        c.contribution *= scale;
    }
    // Exactly additive after rescaling: put the rounding residue on the base.
    let sum: f64 = e.contributions.iter().map(|c| c.contribution).sum();
    e.base = log_odds - sum;
    e.log_odds = log_odds;
    e.probability = probability;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::CLIP;
    use crate::interval::IntervalModel;
    use crate::models::FittedRegressor;
    use crate::testutil::fixture;

    fn refused(a: Artifact) -> String {
        match Predictor::new(a) {
            Ok(_) => panic!("a model whose parts disagree was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_model_whose_parts_disagree_is_refused_at_load() {
        // No coefficients: the fuzzer found this as a panic when scoring.
        let (mut a, _) = fixture();
        if let FittedRegressor::Linear(m) = &mut a.payload.regressor {
            m.beta.clear();
        }
        assert_eq!(
            refused(a),
            "the model file is corrupt: cannot decode its payload: the regressor: bad input: 0 \
             coefficients for 28 inputs (expected 29)"
        );
        let (mut a, _) = fixture();
        a.metadata.features.pop();
        assert!(refused(a).ends_with("the metadata lists 27 features and the pipeline makes 28"));
        let (mut a, _) = fixture();
        a.payload.background.pop();
        assert!(refused(a).ends_with("the background rows do not match the features"));
        let (mut a, _) = fixture();
        a.payload.interval = IntervalModel::Split {
            half_width: f64::NAN,
        };
        assert!(refused(a)
            .ends_with("the score's range: bad input: an interval whose width is not finite"));
        let (mut a, _) = fixture();
        a.payload.calibration = Calibration::Isotonic {
            x: vec![],
            y: vec![],
        };
        assert!(refused(a).ends_with("the calibration: 0 isotonic knots for 0 values"));
    }

    #[test]
    fn answers_are_calibrated_flagged_and_ranged() {
        let (a, t) = fixture();
        let raw_model = a.payload.classifier.clone();
        let predictor = Predictor::new(a).unwrap();
        let inputs: Vec<TrackInput> = t
            .rows
            .iter()
            .map(|r| TrackInput {
                audio: r.audio,
                genres: std::slice::from_ref(&t.genres[usize::from(r.genres[0])]),
                artists: &r.artists,
                album_name: &r.album_name,
                track_name: &r.track_name,
            })
            .collect();
        let answers = predictor.score(&inputs).unwrap();
        let all: Vec<usize> = (0..t.len()).collect();
        let x = predictor.pipeline().transform(&t, &all).matrix;
        let raw = raw_model.predict_proba(&x);
        for (answer, raw) in answers.iter().zip(raw) {
            let want = crate::models::sigmoid(1.5 * logit(raw) - 0.5).clamp(CLIP, 1.0 - CLIP);
            assert!((answer.probability - want).abs() < 1e-12);
            assert_eq!(answer.flagged, answer.probability >= 0.5);
            assert!((answer.lift - answer.probability / 0.2).abs() < 1e-12);
            // Split conformal, ±10 around the score, clamped to 0-100, then made to agree with
            // the probability.
            let split = crate::interval::Range {
                low: (answer.popularity - 10.0).max(0.0),
                high: (answer.popularity + 10.0).min(100.0),
            };
            let want = agree(split, answer.probability, 0.8, 71);
            assert!((answer.popularity_high - want.high).abs() < 1e-9);
            assert!((answer.popularity_low - want.low).abs() < 1e-9);
            assert!(answer.unknown_genres.is_empty());
        }
        // The shortest and the longest track lie beyond FIT's 0.1th and 99.9th percentiles.
        let warned: Vec<usize> = (0..answers.len())
            .filter(|&i| !answers[i].warnings.is_empty())
            .collect();
        let durations: Vec<f64> = warned.iter().map(|&i| t.rows[i].audio[0]).collect();
        assert_eq!(durations, [0.0, 7891.0], "{warned:?}");
        assert!(answers[warned[0]].warnings[0]
            .message
            .starts_with("0:00 min is below"));
    }

    #[test]
    fn what_if_of_tree_models_gives_each_variant_row_its_own_answer_to_the_bit() {
        // Tree models score a curve's variants walking each tree once for all of them
        // (hessboost's RowVariants): a forest, a stack with a forest member, a boosted score
        // model and a quantile band must still answer each variant as its own row.
        use crate::models::{BoostingParams, Params, Task, TrainSet};
        use crate::models::{ClassifierKind, ForestParams, ModelSpec, RegressorKind, StackParams};
        let (mut a, t) = fixture();
        let all: Vec<usize> = (0..t.len()).collect();
        let x = a.payload.pipeline.transform(&t, &all).matrix;
        let label = |r: &crate::data::Track| f64::from(u8::from(r.popularity > Some(71)));
        let y: Vec<f64> = t.rows.iter().map(label).collect();
        let score: Vec<f64> = t
            .rows
            .iter()
            .map(|r| f64::from(r.popularity.unwrap()))
            .collect();
        let (classes, scores) = (TrainSet::new(&x, &y), TrainSet::new(&x, &score));
        let forest = ModelSpec::Forest(ForestParams {
            n_trees: 20,
            ..ForestParams::default()
        });
        let stack = ModelSpec::Stack(StackParams {
            members: vec![ClassifierKind::Logreg, ClassifierKind::Rf],
            ..StackParams::default()
        });
        let boosted = BoostingParams {
            task: Task::Regression,
            max_rounds: 30,
            ..BoostingParams::default()
        };
        let band = boosted
            .clone()
            .check()
            .unwrap()
            .fit_band([0.1, 0.9], &scores, None, 1)
            .unwrap();
        a.payload.interval = IntervalModel::Quantile {
            band: Box::new(band),
            correction: 0.5,
        };
        let boosted = ModelSpec::Boosting(boosted);
        let cases = [
            (forest, boosted.clone()),
            (stack, ModelSpec::regressor(RegressorKind::Rf)),
        ];
        for (classifier, regressor) in cases {
            let mut a = a.clone();
            a.payload.classifier = classifier.fit_classifier(&classes, None, 1).unwrap();
            a.payload.regressor = regressor.fit_regressor(&scores, None, 1).unwrap();
            let predictor = Predictor::new(a).unwrap();
            let genres = [t.genres[1].clone()];
            let track = TrackInput {
                audio: t.rows[7].audio,
                genres: &genres,
                artists: "a3",
                album_name: "",
                track_name: "",
            };
            for column in [Column::DurationMs, Column::Danceability] {
                let values = predictor
                    .what_if_values(column, track.audio[column.audio_index().unwrap()], 70)
                    .unwrap();
                let curve = predictor.what_if(&track, column, &values).unwrap();
                let rows: Vec<TrackInput> = values
                    .iter()
                    .map(|&v| {
                        let mut row = track.clone();
                        row.audio[column.audio_index().unwrap()] = v;
                        row
                    })
                    .collect();
                let each: Vec<Prediction> = rows
                    .iter()
                    .map(|r| predictor.score(std::slice::from_ref(r)).unwrap().remove(0))
                    .collect();
                assert_eq!(curve, each, "{column}");
                // A flat curve would show nothing.
                assert!(curve
                    .windows(2)
                    .any(|w| w[0].probability != w[1].probability));
            }
        }
    }

    #[test]
    fn what_if_varies_one_input_and_holds_the_rest() {
        let (a, t) = fixture();
        let predictor = Predictor::new(a).unwrap();
        let genres = [t.genres[0].clone()];
        let track = TrackInput {
            audio: t.rows[3].audio,
            genres: &genres,
            artists: "x",
            album_name: "",
            track_name: "",
        };
        let values = [0.0, 0.25, 0.5, 1.0];
        let curve = predictor
            .what_if(&track, Column::Danceability, &values)
            .unwrap();
        assert_eq!(curve.len(), 4);
        // Each point is exactly the answer for the track with that one value changed.
        let i = Column::Danceability.audio_index().unwrap();
        for (&v, point) in values.iter().zip(&curve) {
            let mut changed = track.clone();
            changed.audio[i] = v;
            assert_eq!(point, &predictor.score(&[changed]).unwrap()[0]);
        }
        assert_eq!(
            predictor
                .what_if(&track, Column::Danceability, &[1.5])
                .unwrap_err()
                .to_string(),
            "danceability: expected a number from 0 to 1, got \"1.5\""
        );
        assert_eq!(
            predictor
                .what_if(&track, Column::TrackName, &[1.0])
                .unwrap_err()
                .to_string(),
            "track_name is not an audio input: only those can be varied"
        );
    }

    #[test]
    fn what_if_values_span_the_seen_range_codes_and_the_own_value() {
        let (a, _) = fixture();
        let predictor = Predictor::new(a).unwrap();
        let (low, high) = predictor.seen_range(Column::Danceability).unwrap();
        let values = predictor
            .what_if_values(Column::Danceability, 0.123_456, 5)
            .unwrap();
        assert_eq!(values.len(), 6);
        assert_eq!((values[0], values[5]), (low, high));
        assert!(values.contains(&0.123_456));
        assert!(values.windows(2).all(|w| w[0] < w[1]));
        // The own value on the grid is not repeated.
        assert_eq!(
            predictor
                .what_if_values(Column::Danceability, low, 5)
                .unwrap()
                .len(),
            5
        );
        let keys = predictor.what_if_values(Column::Key, 3.0, 5).unwrap();
        assert_eq!(keys, (-1..=11).map(f64::from).collect::<Vec<_>>());
        assert_eq!(
            predictor.what_if_values(Column::Explicit, 1.0, 25).unwrap(),
            [0.0, 1.0]
        );
        assert!(predictor
            .what_if_values(Column::TrackGenre, 0.0, 5)
            .is_err());
    }

    #[test]
    fn calibrated_explanations_add_up_to_the_calibrated_probability() {
        let (a, t) = fixture();
        let predictor = Predictor::new(a).unwrap();
        let x = predictor.pipeline().transform(&t, &[0, 9, 18]).matrix;
        let probabilities = predictor.probabilities(&x);
        let explained = predictor
            .explain_matrix(&x, SamplingOptions::default())
            .unwrap();
        for (e, p) in explained.iter().zip(probabilities) {
            let sum: f64 = e.contributions.iter().map(|c| c.contribution).sum();
            assert!((e.base + sum - e.log_odds).abs() < 1e-9);
            assert!((crate::models::sigmoid(e.log_odds) - p).abs() < 1e-9);
            assert_eq!(e.probability, p);
        }
    }

    /// The companion alone, as a predictor of its own.
    fn companion_of(a: &Artifact) -> Predictor {
        let mut metadata = (**a.metadata.without_genres.as_ref().unwrap()).clone();
        let payload = (**a.payload.without_genres.as_ref().unwrap()).clone();
        metadata.without_genres = None;
        Predictor::new(Artifact { metadata, payload }).unwrap()
    }

    #[test]
    fn tracks_without_a_known_genre_are_answered_by_the_audio_only_companion() {
        let (a, t) = crate::testutil::fixture_with_companion();
        let (main_alone, _) = crate::testutil::fixture();
        let main_alone = Predictor::new(main_alone).unwrap();
        let companion = companion_of(&a);
        let predictor = Predictor::new(a).unwrap();
        let known = [t.genres[1].clone()];
        let unknown = ["polka".to_owned()];
        fn track<'a>(t: &Tracks, i: usize, genres: &'a [String]) -> TrackInput<'a> {
            TrackInput {
                audio: t.rows[i].audio,
                genres,
                artists: "x",
                album_name: "",
                track_name: "",
            }
        }
        // A mixed batch keeps its order; each track gets its own model's answer.
        let batch = [
            track(&t, 3, &known),
            track(&t, 4, &unknown),
            track(&t, 5, &[]),
            track(&t, 6, &known),
        ];
        let answers = predictor.score(&batch).unwrap();
        for (i, answer) in answers.iter().enumerate() {
            let alone = if i == 0 || i == 3 {
                &main_alone
            } else {
                &companion
            };
            let mut want = alone.score(&batch[i..=i]).unwrap().remove(0);
            want.unknown_genres = answer.unknown_genres.clone();
            assert_eq!(answer, &want, "track {i}");
            assert_eq!(answer.genres_used, i == 0 || i == 3);
        }
        assert_eq!(answers[1].unknown_genres, ["polka"]);
        assert!(predictor.answered_without_genres(answers[2].genres_used));
        assert_eq!(
            predictor.decision_threshold(&answers[1]),
            companion.metadata().decision_threshold
        );
        // The explanations come from the model that answered.
        let explained = predictor
            .score_explained(&batch, SamplingOptions::default())
            .unwrap();
        for (i, alone) in [(0, &main_alone), (1, &companion)] {
            let want = alone
                .score_explained(&batch[i..=i], SamplingOptions::default())
                .unwrap();
            assert_eq!(explained[i].1, want[0].1, "track {i}");
        }
        assert_ne!(explained[0].1.contributions, explained[1].1.contributions);
        // Ignoring genres: every track by the companion.
        let ignoring = predictor.with_genres(Genres::Ignore).unwrap();
        let answers = ignoring.score(&batch).unwrap();
        for (answer, track) in answers.iter().zip(&batch) {
            assert!(!answer.genres_used);
            assert!(!ignoring.answered_without_genres(answer.genres_used));
            let want = companion
                .score(std::slice::from_ref(track))
                .unwrap()
                .remove(0);
            assert_eq!(answer.probability, want.probability);
        }
    }

    #[test]
    fn chances_are_the_scores_first_fields_for_every_track_of_a_large_mixed_batch() {
        // Over 2 * SCORE_SLICE tracks, so slices run on several threads, and with tracks for
        // both the main model and the audio-only companion.
        let (a, t) = crate::testutil::fixture_with_companion();
        let predictor = Predictor::new(a).unwrap();
        let genres = [vec![t.genres[1].clone()], vec!["polka".to_owned()], vec![]];
        let batch: Vec<TrackInput> = (0..2 * SCORE_SLICE + 300)
            .map(|i| TrackInput {
                audio: t.rows[i % t.rows.len()].audio,
                genres: &genres[i % 3],
                artists: "x",
                album_name: "",
                track_name: "",
            })
            .collect();
        let answers = predictor.score(&batch).unwrap();
        let chances = predictor.chances(&batch).unwrap();
        assert_eq!(chances.len(), batch.len());
        for (i, (c, a)) in chances.iter().zip(&answers).enumerate() {
            assert_eq!(c, &a.chance(), "track {i}");
            assert_eq!(c.probability, a.probability);
        }
        assert!(chances.iter().any(|c| c.genres_used) && chances.iter().any(|c| !c.genres_used));
        assert_eq!(chances[1].unknown_genres, ["polka"]);
    }

    #[test]
    fn genres_can_be_ignored_only_with_a_companion_and_a_broken_one_is_refused() {
        let (a, _) = fixture();
        assert_eq!(
            Predictor::new(a)
                .unwrap()
                .with_genres(Genres::Ignore)
                .unwrap_err()
                .to_string(),
            "this model reads genres and has no audio-only companion to score without them: \
             retrain it with this hitcast"
        );
        let (mut a, _) = crate::testutil::fixture_with_companion();
        a.metadata.without_genres = None;
        assert!(refused(a).ends_with("the audio-only companion is only half there"));
        let (mut a, _) = crate::testutil::fixture_with_companion();
        let (main, _) = fixture();
        a.payload.without_genres = Some(Box::new(main.payload));
        a.metadata.without_genres = Some(Box::new(main.metadata));
        assert!(refused(a).ends_with("the audio-only companion reads genres"));
        let (mut a, _) = crate::testutil::fixture_with_companion();
        if let Some(c) = a.payload.without_genres.as_mut() {
            c.background.pop();
        }
        assert!(refused(a)
            .ends_with("the audio-only companion: the background rows do not match the features"));
        // And it survives the file format.
        let (a, _) = crate::testutil::fixture_with_companion();
        let back = Artifact::from_bytes(&a.to_bytes().unwrap()).unwrap();
        assert_eq!(back.metadata, a.metadata);
        assert!(Predictor::new(back).is_ok());
    }
}

//! The one way to score a track: the fitted pipeline, the classifier and its calibration, the
//! score model and its range, the input domain and the explanation background, checked to fit
//! together once, at load. `hitcast predict`, `explain`, `report`, `bench` and the server (pages
//! and API) all answer through [`Predictor`], so they agree to the last bit. It scores, explains,
//! and draws what-if curves (one input varied, the rest held).
//!
//! ```text
//! TrackInput ──pipeline──▶ feature row ──classifier──▶ raw p ──calibration──▶ probability, flag, lift
//!                                      └─regressor, scale──▶ location ─┬─▶ score distribution
//!                                                          probability ─┘     ──▶ score (mean), range
//! audio ──domain──▶ warnings
//! ```
//!
//! The score and its range are read from one distribution per track whose chance of a score
//! above the label threshold is the calibrated probability itself ([`crate::distribution`]),
//! so the score is never below `(label + 1) ×` the chance, and the range reaches above the
//! label whenever the chance exceeds the range's upper tail.
//!
//! ```text
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::artifact::{Artifact, ArtifactError, Metadata, Payload, Role};
use crate::calibration::{logit, Calibration};
use crate::data::{Column, FieldProblem, RawRow, Tracks, N_AUDIO};
use crate::distribution::Location;
use crate::domain::Warning;
use crate::drift::{Counts, Reference};
use crate::explain::{explain, Explanation, Method, SamplingOptions};
use crate::features::{FeatureMatrix, FeaturePipeline, TrackInput, Variants};
use crate::models::{Classifier, ModelError, Regressor};
use crate::prior::adapt;

mod adapted;
mod answer;
mod check;
mod explained;
mod measure;
mod typical;
mod what_if;

pub use answer::{
    answer_header, answer_record, check_keep, times, verdict_phrase, AnswerColumn, AnswerType,
    Chance, Kept, Prediction, UnknownGenres, Verdict, ANSWERS, ANSWER_COLUMNS, SCORE_COLUMNS,
};
use check::{check, check_companion, unfit};
pub use measure::{MeasureError, Measurement};

/// What [`Predictor::estimate_prior`] reads of a catalogue, gathered batch by batch: its
/// unadapted answers by the model that gave them, and its inputs' histograms (also a drift
/// report's counts).
#[derive(Clone, Debug)]
pub struct Evidence {
    answers: [Vec<f64>; Role::ALL.len()],
    /// The inputs' histograms in the model's reference bins.
    pub counts: Counts,
}

impl Evidence {
    /// Adds evidence gathered from another part of the same catalogue.
    pub fn merge(&mut self, other: &Evidence) {
        for (a, b) in self.answers.iter_mut().zip(&other.answers) {
            a.extend_from_slice(b);
        }
        self.counts.merge(&other.counts);
    }
}

/// Rows per slice when [`Predictor::score`] spreads a large batch over the cores.
const SCORE_SLICE: usize = 1024;

/// Whether the track's genres are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Genres {
    /// A track with a genre the model knows is scored with its genres; one without by the
    /// no-genres companion.
    #[default]
    Use,
    /// Every track is scored by the no-genres companion: for a catalogue whose genre labels
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
            _ => Err("expected use or ignore".to_owned()),
        }
    }
}

/// A saved model, checked and ready to answer.
#[derive(Clone, Debug)]
pub struct Predictor {
    /// Shared, so a predictor that reads genres otherwise or adapts its prior is a cheap copy.
    models: Arc<Models>,
    genres: Genres,
    /// The base rate answers are adapted to ([`Predictor::with_prior`]), if any.
    prior: Option<f64>,
}

/// A checked model file and its background rows.
#[derive(Debug)]
struct Models {
    artifact: Artifact,
    /// The background rows of the main model, then of each companion in the file's order.
    backgrounds: Vec<FeatureMatrix>,
}

/// One of the models a predictor answers with: the main one or a companion.
#[derive(Clone, Copy)]
struct Head<'a> {
    metadata: &'a Metadata,
    payload: &'a Payload,
    background: &'a FeatureMatrix,
}

/// Feature rows of a batch of tracks, with what the answers need beside them.
struct FeatureBatch {
    x: FeatureMatrix,
    audio: Vec<[f64; N_AUDIO]>,
    /// The rows are variants of the first (a what-if curve), which tree models score walking
    /// each tree once for all of them.
    variants: bool,
}

impl Predictor {
    /// Checks that the artifact's parts fit together, structurally: the metadata's features
    /// against the pipeline, the background's width, each model's inputs (coefficient counts,
    /// tree feature indices, layer shapes, the stack's members), the calibration and the
    /// distribution; the same for each companion, which must be of a role of its own (the
    /// no-genres one reading no genres). A file with a valid checksum can still be crafted,
    /// or written by a buggy tool.
    pub fn new(artifact: Artifact) -> Result<Predictor, ArtifactError> {
        let (m, p) = (&artifact.metadata, &artifact.payload);
        if m.role != Role::Main {
            return Err(unfit("the file's first model is not a main model".into()));
        }
        if m.companions.len() != p.companions.len() {
            return Err(unfit(format!(
                "the metadata lists {} companions and the payload holds {}",
                m.companions.len(),
                p.companions.len()
            )));
        }
        let mut backgrounds = vec![check(m, p)?];
        for (i, (cm, cp)) in m.companions.iter().zip(&p.companions).enumerate() {
            if m.companions[..i].iter().any(|c| c.role == cm.role) {
                return Err(unfit(format!("two companions are {}", cm.role.describe())));
            }
            backgrounds.push(check_companion(m, cm, cp)?);
        }
        Ok(Predictor {
            models: Arc::new(Models {
                artifact,
                backgrounds,
            }),
            genres: Genres::Use,
            prior: None,
        })
    }

    /// Reads and checks the model file at `path`.
    pub fn load(path: &Path) -> Result<Predictor, ArtifactError> {
        Predictor::new(Artifact::load(path)?)
    }

    /// The predictor that reads or ignores genres. Ignoring them needs a model that reads no
    /// genres or one with an no-genres companion (every model `hitcast train` writes).
    pub fn with_genres(mut self, genres: Genres) -> Result<Predictor, NoCompanion> {
        if genres == Genres::Ignore && self.has_genres() && !self.has(Role::NoGenres) {
            return Err(NoCompanion);
        }
        self.genres = genres;
        Ok(self)
    }

    /// The predictor whose answers are adapted to a catalogue whose share of popular tracks
    /// is `prior` (in practice [`Predictor::estimate_prior`]'s estimate for it): every
    /// calibrated probability moved by Bayes' rule from the model's base rate
    /// ([`crate::prior::adapt`]), and with it the flag, the lift (over `prior`: a typical track
    /// of this catalogue), the score and its range, and the explanations' base.
    pub fn with_prior(mut self, prior: f64) -> Predictor {
        self.prior = Some(prior.clamp(1e-6, 1.0 - 1e-6));
        self
    }

    /// Whether genres are read or ignored.
    pub fn genres(&self) -> Genres {
        self.genres
    }

    /// The base rate answers are adapted to, if any.
    pub fn prior(&self) -> Option<f64> {
        self.prior
    }

    /// FIT's distributions of the inputs, for drift reports.
    pub fn reference(&self) -> &Reference {
        &self.models.artifact.payload.reference
    }

    /// Adds `tracks` to drift `counts` of [`Predictor::reference`]'s bins: their audio, and
    /// the genres the model knows.
    pub fn count_drift(&self, tracks: &[TrackInput], counts: &mut Counts) {
        let pipeline = self.pipeline();
        let reference = self.reference();
        let mut genres = Vec::new();
        for t in tracks {
            genres.clear();
            genres.extend(t.genres.iter().filter_map(|g| pipeline.genre_column(g)));
            counts.add(reference, &t.audio, t.genres.len(), &genres);
        }
    }

    /// What the model says about itself.
    pub fn metadata(&self) -> &Metadata {
        &self.models.artifact.metadata
    }

    /// What the model of `role` says about itself: the threshold, base rate and TEST figures
    /// of the model that gave an answer of that role (the main model's when the file has no
    /// such companion).
    pub fn metadata_of(&self, role: Role) -> &Metadata {
        self.head(role).metadata
    }

    /// The saved model.
    pub fn artifact(&self) -> &Artifact {
        &self.models.artifact
    }

    /// The saved model, given back (after measuring it, say).
    pub fn into_artifact(self) -> Artifact {
        match Arc::try_unwrap(self.models) {
            Ok(models) => models.artifact,
            Err(shared) => shared.artifact.clone(),
        }
    }

    /// The fitted feature pipeline of the main model.
    pub fn pipeline(&self) -> &FeaturePipeline {
        &self.models.artifact.payload.pipeline
    }

    /// How this model's contributions are computed.
    pub fn method(&self) -> Method {
        Method::of(&self.models.artifact.payload.classifier)
    }

    /// Whether explaining a track samples (the classifier's or the regressor's method), which
    /// costs milliseconds a track where the exact methods cost microseconds.
    pub fn explanations_sample(&self) -> bool {
        let p = &self.models.artifact.payload;
        self.method() == Method::SamplingShapley
            || Method::of_regressor(&p.regressor) == Method::SamplingShapley
            || Method::of_regressor(&p.regressor_above) == Method::SamplingShapley
    }

    /// The decision threshold of the model that gave `answer`.
    pub fn decision_threshold(&self, answer: &Prediction) -> f64 {
        self.metadata_of(answer.chance.model).decision_threshold
    }

    /// Whether an answer of `role` came from the no-genres companion although genres are
    /// read: the track had no genre the model knows.
    pub fn answered_without_genres(&self, role: Role) -> bool {
        self.genres == Genres::Use && role == Role::NoGenres
    }

    /// Whether the main model reads genres.
    fn has_genres(&self) -> bool {
        self.pipeline().params().features.has_genres()
    }

    /// Whether the file has a model of `role` (every file has its main model; files written
    /// before a companion existed lack it).
    pub fn has(&self, role: Role) -> bool {
        role == Role::Main || self.metadata().companions.iter().any(|c| c.role == role)
    }

    /// The model of `role`, or the main model when the file has none.
    fn head(&self, role: Role) -> Head<'_> {
        let a = &self.models.artifact;
        let companion = a
            .metadata
            .companions
            .iter()
            .position(|c| c.role == role && role != Role::Main);
        match companion {
            Some(i) => Head {
                metadata: &a.metadata.companions[i],
                payload: &a.payload.companions[i],
                background: &self.models.backgrounds[i + 1],
            },
            None => Head {
                metadata: &a.metadata,
                payload: &a.payload,
                background: &self.models.backgrounds[0],
            },
        }
    }

    /// Which model answers each of `tracks`: the from-audio companion for a track measured
    /// from audio (its learned columns empty); else the no-genres companion when genres are
    /// ignored or the track has no genre the main model knows; else the new-song companion for
    /// a new song (no `track_id`); else the main model. A role the file has no model of falls
    /// to the main model (a measured track then gets no answer: [`Predictor::score`] says why).
    fn roles(&self, tracks: &[TrackInput]) -> Vec<Role> {
        let pipeline = self.pipeline();
        let (no_genres, new_song) = (self.has(Role::NoGenres), self.has(Role::NewSong));
        let from_audio = self.has(Role::FromAudio);
        tracks
            .iter()
            .map(|t| {
                if from_audio && t.is_measured() {
                    Role::FromAudio
                } else if no_genres && (self.genres == Genres::Ignore || !pipeline.knows_genre(t)) {
                    Role::NoGenres
                } else if new_song && t.new_song {
                    Role::NewSong
                } else {
                    Role::Main
                }
            })
            .collect()
    }

    /// Refuses `tracks` if this model file cannot answer one of them (a song measured from audio,
    /// when it has no from-audio model), as scoring them would: for a caller that must know
    /// before it answers anything (a streamed download).
    pub fn answerable(&self, tracks: &[TrackInput]) -> Result<(), ModelError> {
        answerable(tracks, &self.roles(tracks))
    }

    /// Runs `f` on each model's share of `tracks` and puts the results back in order.
    fn routed<T>(
        &self,
        tracks: &[TrackInput],
        mut f: impl FnMut(Head<'_>, &[TrackInput]) -> Result<Vec<T>, ModelError>,
    ) -> Result<Vec<T>, ModelError> {
        let roles = self.roles(tracks);
        answerable(tracks, &roles)?;
        let first = roles.first().copied().unwrap_or_default();
        if roles.iter().all(|&r| r == first) {
            return f(self.head(first), tracks);
        }
        let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(tracks.len()).collect();
        for role in Role::ALL {
            let rows: Vec<usize> = (0..tracks.len()).filter(|&i| roles[i] == role).collect();
            if rows.is_empty() {
                continue;
            }
            let share: Vec<TrackInput> = rows.iter().map(|&i| tracks[i].clone()).collect();
            for (i, answer) in rows.into_iter().zip(f(self.head(role), &share)?) {
                out[i] = Some(answer);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Answers for `tracks`, in order. Fails when a song measured from audio meets a model file
    /// without a from-audio model ([`ModelError::NoFromAudioModel`], the caller's to fix), or if
    /// a model gives a number that is not finite, which inputs inside the domain never cause.
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

    /// [`Predictor::score`] for rows read from a file.
    pub fn score_rows(&self, rows: &[RawRow]) -> Result<Vec<Prediction>, ModelError> {
        self.score(&rows.iter().map(input).collect::<Vec<_>>())
    }

    fn answer(
        &self,
        head: Head<'_>,
        tracks: &[TrackInput],
        batch: FeatureBatch,
    ) -> Result<Vec<Prediction>, ModelError> {
        let p = head.payload;
        let variants = batch.variants.then(|| Variants::new(&batch.x));
        let (raw, below, above, scales) = match &variants {
            Some(v) => (
                p.classifier.predict_proba_variants(v),
                p.regressor.predict_variants(v),
                p.regressor_above.predict_variants(v),
                p.distribution.scales_variants(v),
            ),
            None => (
                p.classifier.predict_proba(&batch.x),
                p.regressor.predict(&batch.x),
                p.regressor_above.predict(&batch.x),
                p.distribution.scales(&batch.x),
            ),
        };
        let chances = self.chances_of(head, tracks, &batch, raw)?;
        let levels = p.distribution.levels();
        chances
            .into_iter()
            .enumerate()
            .map(|(i, chance)| {
                let at = Location {
                    below: below[i],
                    above: above[i],
                    scale: scales[i],
                    probability: chance.probability,
                };
                if !(at.below + at.above + at.scale).is_finite() {
                    return Err(no_answer(&batch, i));
                }
                let d = p.distribution.at(at);
                Ok(Prediction::new(chance, d.mean(), d.range(levels)))
            })
            .collect()
    }

    /// The chances of a batch from the classifier's raw probabilities: calibrated, flagged at
    /// the decision threshold, with the domain's warnings and the unknown genres.
    fn chances_of(
        &self,
        head: Head<'_>,
        tracks: &[TrackInput],
        batch: &FeatureBatch,
        raw: Vec<f64>,
    ) -> Result<Vec<Chance>, ModelError> {
        let (p, m) = (head.payload, head.metadata);
        let mut probabilities = head.calibrated(raw);
        if let Some(i) = probabilities.iter().position(|p| !p.is_finite()) {
            return Err(no_answer(batch, i));
        }
        let typical = match self.prior {
            Some(prior) => {
                for p in &mut probabilities {
                    *p = adapt(*p, m.base_rate, prior);
                }
                prior
            }
            None => m.base_rate,
        };
        let genres_used = p.pipeline.params().features.has_genres();
        let main = self.pipeline();
        let known = &self.models.artifact.payload.known;
        // Each unknown name's nearest known genre, looked up once a batch.
        let mut typos: HashMap<String, Option<String>> = HashMap::new();
        Ok(probabilities
            .into_iter()
            .zip(batch.audio.iter().zip(tracks))
            .map(|(probability, (audio, track))| {
                let mut warnings = p.domain.check(audio);
                let unknown_genres = main.unknown_genres(track);
                let mut about_genres = (!unknown_genres.is_empty())
                    .then(|| unknown_genres_text(main, &unknown_genres, &mut typos));
                // Every training track had a genre: a song measured from audio without one
                // lies outside what its model saw, and the genre is most of what it reads.
                if m.role == Role::FromAudio && genres_used && !main.knows_genre(track) {
                    let name_one = "an answer from audio leans on the genre most, so name one \
                                    the model knows";
                    about_genres = Some(match about_genres {
                        Some(unknown) => format!("{unknown}; {name_one}"),
                        None => format!("no genre the model knows: {name_one}"),
                    });
                }
                // One warning for the genres, whatever there is to say of them.
                if let Some(message) = about_genres {
                    warnings.push(Warning {
                        field: Column::TrackGenre.name().to_owned(),
                        message,
                    });
                }
                // By its audio values, not its id: the model reads no id, so what it remembers is
                // a training track's inputs (a copy under another id is as well remembered, and
                // a track analysed again, its values changed, is not).
                if known.find("", audio).is_some() {
                    warnings.push(Warning {
                        field: TRAINING_TRACK.to_owned(),
                        message: "this track is in the dataset the model was built from, \
                                  popularity and all: unless it was held out for testing, its \
                                  answer partly recalls that popularity, so it is not a forecast"
                            .to_owned(),
                    });
                }
                Chance {
                    probability,
                    flagged: probability >= m.decision_threshold,
                    lift: probability / typical,
                    genres_used,
                    model: m.role,
                    warnings,
                    unknown_genres,
                }
            })
            .collect())
    }
}

/// The warning field of a track the model file's fingerprints know
/// ([`crate::known::KnownTracks`]): the model may have learnt its popularity.
pub const TRAINING_TRACK: &str = "training_track";

/// What a warning says of genres the main model has no column for: they are not read, and a
/// typo of a known one is named (each name looked up once in `typos`).
fn unknown_genres_text(
    main: &FeaturePipeline,
    unknown: &[String],
    typos: &mut HashMap<String, Option<String>>,
) -> String {
    let named: Vec<String> = unknown
        .iter()
        .map(|g| {
            let like = typos
                .entry(g.clone())
                .or_insert_with(|| main.genre_like(g).map(str::to_owned));
            match like {
                Some(like) => format!("{g:?} (did you mean {like:?}?)"),
                None => format!("{g:?}"),
            }
        })
        .collect();
    let (genres, them) = if unknown.len() == 1 {
        ("genre", "it is")
    } else {
        ("genres", "they are")
    };
    format!(
        "{genres} the model does not know: {}; {them} not read",
        named.join(", ")
    )
}

/// The error for row `i` of a batch, whose answer is not a finite number.
fn no_answer(batch: &FeatureBatch, i: usize) -> ModelError {
    ModelError::Shape(format!(
        "the model gave no finite answer for the track with audio {:?}",
        batch.audio[i]
    ))
}

/// `f` of `tracks`, in order. Each track's answer depends on that track alone, so slices can
/// be answered on every core at once with the same numbers: the models' own predict steps use
/// several cores poorly (docs/performance.md).
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
    fn batch(&self, tracks: &[TrackInput]) -> FeatureBatch {
        let pipeline = &self.payload.pipeline;
        let width = pipeline.names().len();
        let mut data = vec![0.0; tracks.len() * width];
        for (t, row) in tracks.iter().zip(data.chunks_exact_mut(width.max(1))) {
            pipeline.transform_into(t, row);
        }
        FeatureBatch {
            x: FeatureMatrix::new(pipeline.shared_names(), data).unwrap_or_else(|| {
                unreachable!("transform_one writes rows of the pipeline's width")
            }),
            audio: tracks.iter().map(|t| t.audio).collect(),
            variants: false,
        }
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

/// Genres cannot be ignored: the model reads them and has no no-genres companion.
#[derive(Debug, thiserror::Error)]
#[error("this model reads genres and has no no-genres companion to score without them: retrain it with this hitcast")]
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
    /// The model could not answer: a song it has no model for, or no finite answer.
    #[error("the model could not answer: {0}")]
    Model(#[from] ModelError),
}

/// A file row as the predictor's input: a row without a `track_id` is a new song.
pub fn input(row: &RawRow) -> TrackInput<'_> {
    TrackInput {
        audio: row.audio,
        genres: &row.genres,
        artists: &row.artists,
        album_name: &row.album_name,
        track_name: &row.track_name,
        new_song: row.track_id.trim().is_empty(),
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
                new_song: false,
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

/// Refuses a song measured from audio that `roles` send to another model than the from-audio
/// one: that model file has none, and the song's learned columns are empty.
fn answerable(tracks: &[TrackInput], roles: &[Role]) -> Result<(), ModelError> {
    match tracks
        .iter()
        .zip(roles)
        .find(|(t, &r)| r != Role::FromAudio && t.is_measured())
    {
        Some((t, _)) => Err(ModelError::NoFromAudioModel {
            track_name: t.track_name.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Why a model file without a from-audio model refuses a song measured from audio (one whose
/// learned columns are empty): every surface says it in these words.
pub(crate) fn no_from_audio_model(track_name: &str) -> String {
    let name = if track_name.is_empty() {
        String::new()
    } else {
        format!(" (\"{track_name}\")")
    };
    format!(
        "this model has no from-audio model to answer a song measured from audio{name}: its \
         danceability, energy and the other learned columns are empty. Give them, or train the \
         model again with hitcast train, which saves a from-audio model in its file"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::CLIP;
    use crate::distribution::{DistributionModel, ATOMS};
    use crate::features::FeatureSet;
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
        a.payload.distribution = DistributionModel::constant(vec![f64::NAN; ATOMS], [0.1, 0.9], 71);
        assert!(refused(a).ends_with(
            "the score's distribution: bad input: a score distribution whose residual atoms are \
             not finite and ascending"
        ));
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
                new_song: false,
            })
            .collect();
        let answers = predictor.score(&inputs).unwrap();
        let all: Vec<usize> = (0..t.len()).collect();
        let x = predictor.pipeline().transform(&t, &all).matrix;
        let raw = raw_model.predict_proba(&x);
        let p = &predictor.artifact().payload;
        let (below, above) = (p.regressor.predict(&x), p.regressor_above.predict(&x));
        for (i, (answer, raw)) in answers.iter().zip(raw).enumerate() {
            let want = crate::models::sigmoid(1.5 * logit(raw) - 0.5).clamp(CLIP, 1.0 - CLIP);
            assert!((answer.chance.probability - want).abs() < 1e-12);
            assert_eq!(answer.chance.flagged, answer.chance.probability >= 0.5);
            assert!((answer.chance.lift - answer.chance.probability / 0.2).abs() < 1e-12);
            // One distribution: its chance above 71 is the probability, its mean the score,
            // its 10% and 90% quantiles the range.
            let d = p.distribution.at(Location {
                below: below[i],
                above: above[i],
                scale: 1.0,
                probability: answer.chance.probability,
            });
            assert!((d.above(71) - answer.chance.probability).abs() < 1e-12);
            assert_eq!(answer.popularity, d.mean());
            assert!(answer.popularity >= 72.0 * answer.chance.probability);
            assert_eq!(answer.range(), d.range([0.1, 0.9]));
            assert_eq!(
                answer.popularity_high > 71.0,
                answer.chance.probability > 0.1,
                "{answer:?}"
            );
            assert!(answer.chance.unknown_genres.is_empty());
        }
        // Every track is one the model was built from, and says so.
        assert!(answers.iter().all(|a| a
            .chance
            .warnings
            .last()
            .is_some_and(|w| w.field == TRAINING_TRACK)));
        // The shortest and the longest track lie beyond FIT's 0.1th and 99.9th percentiles.
        let warned: Vec<usize> = (0..answers.len())
            .filter(|&i| answers[i].chance.warnings.len() > 1)
            .collect();
        let durations: Vec<f64> = warned.iter().map(|&i| t.rows[i].audio[0]).collect();
        assert_eq!(durations, [0.0, 7891.0], "{warned:?}");
        assert!(answers[warned[0]].chance.warnings[0]
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
        a.payload.distribution = a.payload.distribution.clone().with_band(band);
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
                new_song: false,
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
                    .any(|w| w[0].chance.probability != w[1].chance.probability));
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
            new_song: false,
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
        let rows = [0, 9, 18];
        let x = predictor.pipeline().transform(&t, &rows).matrix;
        let names = genre_names(&t, &rows);
        let probabilities: Vec<f64> = predictor
            .score(&table_inputs(&t, &rows, &names))
            .unwrap()
            .iter()
            .map(|a| a.chance.probability)
            .collect();
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
        let mut metadata = a.metadata.companions[0].clone();
        let payload = a.payload.companions[0].clone();
        metadata.role = Role::Main;
        Predictor::new(Artifact { metadata, payload }).unwrap()
    }

    #[test]
    fn tracks_without_a_known_genre_are_answered_by_the_no_genres_companion() {
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
                new_song: false,
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
            want.chance.unknown_genres = answer.chance.unknown_genres.clone();
            if i != 0 && i != 3 {
                // The companion alone is a main model of its own.
                want.chance.model = Role::NoGenres;
            }
            assert_eq!(answer, &want, "track {i}");
            assert_eq!(answer.chance.genres_used, i == 0 || i == 3);
        }
        assert_eq!(answers[1].chance.unknown_genres, ["polka"]);
        assert!(predictor.answered_without_genres(answers[2].chance.model));
        assert_eq!(answers[2].chance.model, Role::NoGenres);
        assert_eq!(answers[0].chance.model, Role::Main);
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
            assert!(!answer.chance.genres_used);
            assert!(!ignoring.answered_without_genres(answer.chance.model));
            let want = companion
                .score(std::slice::from_ref(track))
                .unwrap()
                .remove(0);
            assert_eq!(answer.chance.probability, want.chance.probability);
        }
    }

    #[test]
    fn a_song_measured_from_audio_is_answered_by_the_from_audio_model_or_refused() {
        use crate::features::PipelineParams;
        let (a, t) = fixture();
        let refusing = Predictor::new(a.clone()).unwrap();
        let (mut with, _) = fixture();
        let params = PipelineParams {
            features: FeatureSet::Measured,
            ..PipelineParams::default()
        };
        let mut c = crate::testutil::build(&t, params, Calibration::Platt { a: 1.0, b: 0.0 });
        c.metadata.role = Role::FromAudio;
        with.metadata.companions.push(c.metadata);
        with.payload.companions.push(c.payload);
        let predictor = Predictor::new(with).unwrap();
        let genres = [t.genres[0].clone()];
        let mut audio = t.rows[3].audio;
        for column in Column::LEARNED {
            audio[column.audio_index().unwrap()] = f64::NAN;
        }
        let song = TrackInput {
            audio,
            genres: &genres,
            artists: "x",
            album_name: "",
            track_name: "demo",
            new_song: true,
        };
        let answer = predictor
            .score(std::slice::from_ref(&song))
            .unwrap()
            .remove(0);
        assert_eq!(answer.chance.model, Role::FromAudio);
        assert!(answer.chance.probability.is_finite() && answer.popularity.is_finite());
        let genre_warned =
            |a: &Prediction| a.chance.warnings.iter().any(|w| w.field == "track_genre");
        assert!(!genre_warned(&answer));
        // Without a genre it knows, the from-audio model answers outside what it saw: said.
        let unnamed = TrackInput {
            genres: &[],
            ..song.clone()
        };
        let answer = predictor
            .score(std::slice::from_ref(&unnamed))
            .unwrap()
            .remove(0);
        assert_eq!(answer.chance.model, Role::FromAudio);
        assert!(genre_warned(&answer), "{:?}", answer.chance.warnings);
        // A misspelt genre: one warning says both what was not read and what to do.
        let typo = [format!("{}x", t.genres[0])];
        let misspelt = TrackInput {
            genres: &typo,
            ..song.clone()
        };
        let answer = predictor
            .score(std::slice::from_ref(&misspelt))
            .unwrap()
            .remove(0);
        let about: Vec<&Warning> = answer
            .chance
            .warnings
            .iter()
            .filter(|w| w.field == "track_genre")
            .collect();
        assert_eq!(about.len(), 1, "{:?}", answer.chance.warnings);
        assert_eq!(
            about[0].message,
            format!(
                "genre the model does not know: {:?} (did you mean {:?}?); it is not read; an \
                 answer from audio leans on the genre most, so name one the model knows",
                typo[0], t.genres[0]
            )
        );
        // The from-audio model reads the learned columns as constants: any values give the
        // same answer as none.
        let mut heard = song.clone();
        heard.audio = t.rows[3].audio;
        let same = predictor
            .head(Role::FromAudio)
            .payload
            .pipeline
            .transform_one(&heard)
            .0;
        assert_eq!(
            same,
            predictor
                .head(Role::FromAudio)
                .payload
                .pipeline
                .transform_one(&song)
                .0
        );
        // Its explanation says the learned columns were not measured, and what was read instead.
        let pipeline = &predictor.head(Role::FromAudio).payload.pipeline;
        let (_, explained) = predictor
            .score_explained(std::slice::from_ref(&song), SamplingOptions::default())
            .unwrap()
            .remove(0);
        for column in Column::LEARNED {
            let i = column.audio_index().unwrap();
            let c = explained
                .contributions
                .iter()
                .find(|c| c.feature == column.name())
                .unwrap();
            assert_eq!(c.value, crate::explain::NOT_MEASURED, "{}", column.name());
            assert_eq!(c.number, None);
            assert_eq!(c.read_as, Some(pipeline.read_value(i, f64::NAN)));
            assert!(c.read_as.is_some_and(f64::is_finite));
        }
        // A track with its learned columns goes to the other models.
        let listed = predictor.score(std::slice::from_ref(&heard)).unwrap();
        assert_ne!(listed[0].chance.model, Role::FromAudio);
        // Without a from-audio model, the song is refused with the reason, as its own error
        // (a server answers it with a 422, not a 500), and so is a what-if curve of it.
        let err = refusing.score(std::slice::from_ref(&song)).unwrap_err();
        assert!(
            matches!(&err, ModelError::NoFromAudioModel { track_name } if track_name == "demo"),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(
                "this model has no from-audio model to answer a song measured from audio (\"demo\""
            ),
            "{err}"
        );
        let curve = refusing.what_if(&song, Column::Tempo, &[100.0, 120.0]);
        assert!(
            matches!(
                curve,
                Err(WhatIfError::Model(ModelError::NoFromAudioModel { .. }))
            ),
            "{curve:?}"
        );
    }

    #[test]
    fn explanations_show_a_capped_input_as_the_track_has_it_and_as_the_model_read_it() {
        use crate::features::{OutlierSetup, PipelineParams};
        let (raw, t) = fixture();
        let params = PipelineParams {
            outliers: OutlierSetup::Capped,
            ..PipelineParams::default()
        };
        let capped = crate::testutil::build(&t, params, Calibration::Platt { a: 1.0, b: 0.0 });
        let fence = capped.payload.pipeline.fences()[0];
        assert_eq!(fence.column, Column::DurationMs);
        let genres = [t.genres[0].clone()];
        let mut audio = t.rows[3].audio;
        audio[0] = 100_000.0;
        assert!(audio[0] > fence.high);
        let track = TrackInput {
            audio,
            genres: &genres,
            artists: "x",
            album_name: "",
            track_name: "",
            new_song: false,
        };
        let length = |contributions: &[crate::explain::Contribution]| {
            contributions
                .iter()
                .find(|c| c.feature == "duration_ms")
                .cloned()
                .unwrap()
        };
        let options = SamplingOptions::default();
        let capped = Predictor::new(capped).unwrap();
        let (_, chance) = capped
            .score_explained(std::slice::from_ref(&track), options)
            .unwrap()
            .remove(0);
        let score = capped
            .explain_scores(std::slice::from_ref(&track), options)
            .unwrap()
            .remove(0);
        for c in [length(&chance.contributions), length(&score.contributions)] {
            assert_eq!((c.value.as_str(), c.number), ("100000", Some(100_000.0)));
            assert_eq!(c.read_as, Some(fence.high));
            assert_eq!(
                c.value_in_words(),
                format!("1:40 (read as {})", crate::words::minutes(fence.high))
            );
        }
        let json = serde_json::to_value(length(&chance.contributions)).unwrap();
        assert_eq!(json["read_as"], fence.high);
        // Read as it is: nothing beside it.
        let raw = Predictor::new(raw).unwrap();
        let (_, chance) = raw
            .score_explained(std::slice::from_ref(&track), options)
            .unwrap()
            .remove(0);
        let c = length(&chance.contributions);
        assert_eq!((c.number, c.read_as), (Some(100_000.0), None));
        assert_eq!(c.value_in_words(), "1:40");
        assert!(serde_json::to_value(&c).unwrap().get("read_as").is_none());
    }

    #[test]
    fn chances_are_the_scores_first_fields_for_every_track_of_a_large_mixed_batch() {
        // Over 2 * SCORE_SLICE tracks, so slices run on several threads, and with tracks for
        // both the main model and the no-genres companion.
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
                new_song: false,
            })
            .collect();
        let answers = predictor.score(&batch).unwrap();
        let chances = predictor.chances(&batch).unwrap();
        assert_eq!(chances.len(), batch.len());
        for (i, (c, a)) in chances.iter().zip(&answers).enumerate() {
            assert_eq!(c, &a.chance, "track {i}");
            assert_eq!(c.probability, a.chance.probability);
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
            "this model reads genres and has no no-genres companion to score without them: \
             retrain it with this hitcast"
        );
        let (mut a, _) = crate::testutil::fixture_with_companion();
        a.metadata.companions.clear();
        assert!(refused(a).ends_with("the metadata lists 0 companions and the payload holds 1"));
        let (mut a, _) = crate::testutil::fixture_with_companion();
        let (main, _) = fixture();
        a.payload.companions[0] = main.payload;
        assert!(refused(a)
            .ends_with("the model without genres (audio, title and credits) reads genres"));
        let (mut a, _) = crate::testutil::fixture_with_companion();
        a.metadata.companions.push(a.metadata.companions[0].clone());
        a.payload.companions.push(a.payload.companions[0].clone());
        assert!(refused(a)
            .ends_with("two companions are the model without genres (audio, title and credits)"));
        let (mut a, _) = crate::testutil::fixture_with_companion();
        a.payload.companions[0].background.pop();
        assert!(refused(a).ends_with(
            "the model without genres (audio, title and credits): the background rows do not \
             match the features"
        ));
        // And it survives the file format.
        let (a, _) = crate::testutil::fixture_with_companion();
        let back = Artifact::from_bytes(&a.to_bytes().unwrap()).unwrap();
        assert_eq!(back.metadata, a.metadata);
        assert!(Predictor::new(back).is_ok());
    }
}

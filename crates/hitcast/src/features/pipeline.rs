//! The fitted feature pipeline: everything learnt from FIT rows that turns a track into a row of
//! model inputs. It is serialisable and travels inside a saved model, so serving transforms a
//! track exactly as training did.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::extras::{ExtraInput, ExtrasFit, EXTRA_NAMES};
use super::history::{ArtistHistory, HISTORY_NAMES};
use super::matrix::FeatureMatrix;
use super::setup::{FeatureSet, OutlierSetup, CONTINUOUS, UNSCALED};
use crate::data::{genre, Column, Track, Tracks, N_AUDIO};

/// Why a pipeline could not be fitted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    /// FIT is empty.
    #[error("no FIT rows to learn outlier fences and scaling from")]
    NoFitRows,
    /// The removed setup would drop every FIT row.
    #[error("all {rows} FIT rows lie outside an outlier fence: nothing left to train on")]
    AllOutliers {
        /// FIT rows before removal.
        rows: usize,
    },
}

/// One track given by value, as the server receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackInput<'a> {
    /// Audio columns in [`Column::AUDIO`] order.
    pub audio: [f64; N_AUDIO],
    /// Genre names.
    pub genres: &'a [String],
    /// `;`-separated artists.
    pub artists: &'a str,
    /// Album title.
    pub album_name: &'a str,
    /// Track title.
    pub track_name: &'a str,
    /// A new song, listed in no catalogue (it has no `track_id`): answered from what a new
    /// song has ([`FeatureSet::NewSong`]).
    pub new_song: bool,
}

impl TrackInput<'_> {
    /// Whether the track was measured from audio: its seven learned columns are empty (NaN).
    pub fn is_measured(&self) -> bool {
        Column::LEARNED
            .iter()
            .filter_map(|c| c.audio_index())
            .all(|i| self.audio[i].is_nan())
    }
}

/// Settings for fitting a [`FeaturePipeline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineParams {
    /// Outlier treatment. Default: raw.
    pub outliers: OutlierSetup,
    /// Z-score the 12 non-binary audio columns with FIT mean and standard deviation. Default:
    /// true (distance-based resampling and linear models need it; trees do not mind).
    pub standardize: bool,
    /// Columns to produce. Default: extended.
    #[serde(default)]
    pub features: FeatureSet,
}

impl Default for PipelineParams {
    fn default() -> Self {
        PipelineParams {
            outliers: OutlierSetup::Raw,
            standardize: true,
            features: FeatureSet::default(),
        }
    }
}

/// Tukey's fences of one column: `Q1 − 1.5 IQR` and `Q3 + 1.5 IQR` over FIT.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fence {
    /// The column.
    pub column: Column,
    /// Lower fence.
    pub low: f64,
    /// Upper fence.
    pub high: f64,
}

/// Mean and (population) standard deviation of one column over FIT.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZScore {
    /// The column.
    pub column: Column,
    /// Mean over the (kept, capped) FIT rows.
    pub mean: f64,
    /// Standard deviation (divisor n); 1 when the column is constant.
    pub sd: f64,
}

impl ZScore {
    /// A value of the column as its z-score.
    fn apply(&self, value: f64) -> f64 {
        (value - self.mean) / self.sd
    }
}

/// The fitted transformation from a track to a feature row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeaturePipeline {
    params: PipelineParams,
    genres: Vec<String>,
    /// Whether FIT has tracks of each genre: a genre only named in the table (one held out
    /// under the genre-holdout protocol) was never learned.
    learned: Vec<bool>,
    names: std::sync::Arc<[String]>,
    fences: Vec<Fence>,
    scaling: Vec<ZScore>,
    extras: Option<ExtrasFit>,
    history: Option<ArtistHistory>,
    /// For [`FeatureSet::Measured`]: FIT's median of each audio input, which the learned ones
    /// are read as; empty otherwise.
    fills: Vec<f64>,
    #[serde(skip)]
    index: GenreIndex,
}

/// The vocabulary's positions by name, for the names that [`genre::resolve`] leaves as they
/// are (every name of a vocabulary saved since names are resolved): one hash lookup instead of
/// resolving and two binary searches, for each genre of each track scored (they were a tenth of
/// scoring a track). Built on first use from `genres`, never saved.
#[derive(Clone, Debug, Default)]
struct GenreIndex(OnceLock<HashMap<String, usize>>);

impl PartialEq for GenreIndex {
    /// A function of the pipeline's vocabulary, which `FeaturePipeline` compares.
    fn eq(&self, _: &GenreIndex) -> bool {
        true
    }
}

/// A transformed table and what could not be represented.
#[derive(Clone, Debug, PartialEq)]
pub struct Transformed {
    /// One row per requested track.
    pub matrix: FeatureMatrix,
    /// Genres of those tracks the pipeline has no column for; they contribute all-zero
    /// indicators.
    pub unknown_genres: BTreeSet<String>,
}

/// The output columns of a pipeline of `params` over `tracks`' genres: the audio columns, then
/// `genre=<name>` per genre, the extras and the artist history, as the feature set has them.
fn column_names(tracks: &Tracks, params: PipelineParams) -> std::sync::Arc<[String]> {
    Column::AUDIO
        .iter()
        .map(|c| c.name().to_owned())
        .chain(
            tracks
                .genres
                .iter()
                .filter(|_| params.features.has_genres())
                .map(|g| format!("genre={g}")),
        )
        .chain(
            params
                .features
                .extra_columns()
                .into_iter()
                .map(|j| EXTRA_NAMES[j].to_owned()),
        )
        .chain(
            HISTORY_NAMES
                .iter()
                .filter(|_| params.features == FeatureSet::KnownArtist)
                .map(|n| (*n).to_owned()),
        )
        .collect()
}

/// Audio column `i` of the `fit` rows, sorted.
fn sorted_column(tracks: &Tracks, fit: &[usize], i: usize) -> Vec<f64> {
    let mut values: Vec<f64> = fit.iter().map(|&r| tracks.rows[r].audio[i]).collect();
    values.sort_by(f64::total_cmp);
    values
}

/// Tukey's fences (1.5 IQR beyond the quartiles) of each continuous column over the `fit` rows.
fn fences(tracks: &Tracks, fit: &[usize]) -> Vec<Fence> {
    CONTINUOUS
        .iter()
        .map(|&column| {
            let values = sorted_column(tracks, fit, audio_index(column));
            let (q1, q3) = (quantile(&values, 0.25), quantile(&values, 0.75));
            let iqr = q3 - q1;
            Fence {
                column,
                low: q1 - 1.5 * iqr,
                high: q3 + 1.5 * iqr,
            }
        })
        .collect()
}

/// The extra columns' fit (title, credits, genre listings) over the kept FIT rows.
fn extras(tracks: &Tracks, kept: &[usize], params: PipelineParams) -> ExtrasFit {
    let genre_lists: Vec<Vec<usize>> = kept
        .iter()
        .map(|&r| {
            tracks.rows[r]
                .genres
                .iter()
                .map(|&g| usize::from(g))
                .collect()
        })
        .collect();
    let inputs = kept.iter().zip(&genre_lists).map(|(&r, genres)| {
        let t = &tracks.rows[r];
        (
            extra_input(t, genres, 0),
            f64::from(t.popularity.unwrap_or(0)),
        )
    });
    ExtrasFit::fit(inputs, tracks.genres.len(), params.features.extra_columns())
}

impl FeaturePipeline {
    /// Learns fences, then z-scores, from the `fit` rows of `tracks`. The genre vocabulary is the
    /// table's. Fails when there are no FIT rows, or when removing outliers would leave none.
    pub fn fit(
        tracks: &Tracks,
        fit: &[usize],
        params: PipelineParams,
    ) -> Result<FeaturePipeline, FeatureError> {
        if fit.is_empty() {
            return Err(FeatureError::NoFitRows);
        }
        let mut learned = vec![false; tracks.genres.len()];
        for &r in fit {
            for &g in &tracks.rows[r].genres {
                learned[usize::from(g)] = true;
            }
        }
        let mut pipeline = FeaturePipeline {
            index: GenreIndex::default(),
            params,
            genres: tracks.genres.clone(),
            learned,
            names: column_names(tracks, params),
            fences: fences(tracks, fit),
            scaling: Vec::new(),
            extras: None,
            history: None,
            fills: Vec::new(),
        };
        if params.features == FeatureSet::Measured {
            pipeline.fills = (0..N_AUDIO)
                .map(|i| quantile(&sorted_column(tracks, fit, i), 0.5))
                .collect();
        }
        let kept = pipeline.kept(tracks, fit);
        if kept.is_empty() {
            return Err(FeatureError::AllOutliers { rows: fit.len() });
        }
        if params.standardize {
            pipeline.scaling = pipeline.z_scores(tracks, &kept);
        }
        if params.features == FeatureSet::KnownArtist {
            let fit_tracks = kept.iter().map(|&r| {
                let t = &tracks.rows[r];
                (t.artists.as_str(), f64::from(t.popularity.unwrap_or(0)))
            });
            pipeline.history = Some(ArtistHistory::fit(fit_tracks));
        }
        if params.features.has_extras() {
            pipeline.extras = Some(extras(tracks, &kept, params));
        }
        Ok(pipeline)
    }

    /// Each scaled column's mean and standard deviation over the kept FIT rows, after capping
    /// (a constant column keeps its values: its deviation is taken as 1).
    fn z_scores(&self, tracks: &Tracks, kept: &[usize]) -> Vec<ZScore> {
        Column::AUDIO
            .iter()
            .filter(|c| !UNSCALED.contains(c))
            .map(|&column| {
                let i = audio_index(column);
                let values: Vec<f64> = kept
                    .iter()
                    .map(|&r| self.cap(column, tracks.rows[r].audio[i]))
                    .collect();
                let n = values.len().max(1) as f64;
                let mean = values.iter().sum::<f64>() / n;
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                ZScore { column, mean, sd }
            })
            .collect()
    }

    /// The settings it was fitted with.
    pub fn params(&self) -> PipelineParams {
        self.params
    }

    /// Output column names: the 14 audio columns, then `genre=<name>` per genre.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The same names, shared: what a [`FeatureMatrix`] of its rows takes.
    pub fn shared_names(&self) -> std::sync::Arc<[String]> {
        std::sync::Arc::clone(&self.names)
    }

    /// The genre vocabulary, sorted.
    pub fn genres(&self) -> &[String] {
        &self.genres
    }

    /// The fitted fences.
    pub fn fences(&self) -> &[Fence] {
        &self.fences
    }

    /// Genre indicator columns: one per genre, or none for [`FeatureSet::Audio`].
    fn genre_columns(&self) -> usize {
        if self.params.features.has_genres() {
            self.genres.len()
        } else {
            0
        }
    }

    /// The fitted z-scores (empty when not standardising).
    pub fn scaling(&self) -> &[ZScore] {
        &self.scaling
    }

    /// Whether a track lies outside any fence.
    pub fn is_outlier(&self, audio: &[f64; N_AUDIO]) -> bool {
        self.fences.iter().any(|f| {
            let v = audio[audio_index(f.column)];
            v < f.low || v > f.high
        })
    }

    /// The rows of `fit` a model trains on: all of them, or for [`OutlierSetup::Removed`] those
    /// inside every fence. Never apply this to VAL or TEST.
    pub fn kept(&self, tracks: &Tracks, fit: &[usize]) -> Vec<usize> {
        match self.params.outliers {
            OutlierSetup::Removed => fit
                .iter()
                .copied()
                .filter(|&r| !self.is_outlier(&tracks.rows[r].audio))
                .collect(),
            OutlierSetup::Raw | OutlierSetup::Capped => fit.to_vec(),
        }
    }

    /// Audio input `i`'s value as the models read it: a learned column's FIT median under
    /// [`FeatureSet::Measured`], the value itself otherwise.
    fn read(&self, i: usize, value: f64) -> f64 {
        match self.fills.get(i) {
            Some(&fill) if Column::AUDIO[i].is_learned() => fill,
            _ => value,
        }
    }

    fn cap(&self, column: Column, value: f64) -> f64 {
        if self.params.outliers != OutlierSetup::Capped {
            return value;
        }
        match self.fences.iter().find(|f| f.column == column) {
            Some(f) => value.clamp(f.low, f.high),
            None => value,
        }
    }

    /// The value the models read for audio input `i` of a track: the track's own, held at a
    /// fence under the capped setup, or a learned column's FIT median for a track measured
    /// from audio. Explanations show it beside the track's own where the two differ.
    pub fn read_value(&self, i: usize, value: f64) -> f64 {
        self.cap(Column::AUDIO[i], self.read(i, value))
    }

    /// Audio input `i`'s feature: capped (under the capped setup), then z-scored if it is
    /// scaled. The audio inputs are the row's first columns, and no other column reads them.
    fn audio_feature(&self, i: usize, value: f64) -> f64 {
        let column = Column::AUDIO[i];
        let value = self.read_value(i, value);
        match self.scaling.iter().find(|z| z.column == column) {
            Some(z) => z.apply(value),
            None => value,
        }
    }

    /// The feature rows of `track` with audio input `i` set to each of `values` (a what-if
    /// curve): one transform of the track, then only that input's column changes, as
    /// [`FeaturePipeline::transform_one`] of each variant would give.
    pub fn transform_variants(
        &self,
        track: &TrackInput,
        i: usize,
        values: &[f64],
    ) -> FeatureMatrix {
        let (base, _) = self.transform_one(track);
        let mut data = Vec::with_capacity(base.len() * values.len());
        for &v in values {
            let start = data.len();
            data.extend_from_slice(&base);
            data[start + i] = self.audio_feature(i, v);
        }
        FeatureMatrix::new(self.shared_names(), data)
            .unwrap_or_else(|| unreachable!("whole rows of the pipeline's width"))
    }

    /// A transformed row back on its input scale: z-scores undone (capping stays), so a person
    /// can read each feature's value.
    pub fn unscale(&self, row: &[f64]) -> Vec<f64> {
        let mut out = row.to_vec();
        for z in &self.scaling {
            let i = audio_index(z.column);
            out[i] = out[i] * z.sd + z.mean;
        }
        let extras_start = N_AUDIO + self.genre_columns();
        let extras = self.extras.iter().flat_map(|e| e.scaling.iter());
        let history = self.history.iter().flat_map(|h| h.scaling().iter());
        for (v, (mean, sd)) in out[extras_start..].iter_mut().zip(extras.chain(history)) {
            *v = *v * sd + mean;
        }
        out
    }

    /// Writes one track's features into `out` (as wide as [`FeaturePipeline::names`]): audio
    /// columns, genre indicators, then the extras.
    fn write_row(
        &self,
        audio: &[f64; N_AUDIO],
        extra: &ExtraInput,
        own: Option<f64>,
        out: &mut [f64],
    ) {
        // As `audio_feature` for each input, with the scaled columns looked up once a row
        // rather than once a column (13% of a batch transform's time).
        for (i, &value) in audio.iter().enumerate() {
            out[i] = self.read_value(i, value);
        }
        for z in &self.scaling {
            let i = audio_index(z.column);
            out[i] = z.apply(out[i]);
        }
        let genre_end = N_AUDIO + self.genre_columns();
        out[N_AUDIO..genre_end].fill(0.0);
        if genre_end > N_AUDIO {
            for &g in extra.genres {
                out[N_AUDIO + g] = 1.0;
            }
        }
        let extras_end = genre_end + self.extras.as_ref().map_or(0, ExtrasFit::width);
        if let Some(extras) = &self.extras {
            extras.write(extra, &mut out[genre_end..extras_end]);
        }
        if let Some(history) = &self.history {
            history.write(extra.artists, own, &mut out[extras_end..]);
        }
    }

    /// Transforms the given rows of a table. The table's genres are matched to the pipeline's
    /// by name, so a table loaded from another file works too.
    pub fn transform(&self, tracks: &Tracks, rows: &[usize]) -> Transformed {
        self.transform_rows(tracks, rows, false)
    }

    /// Transforms FIT rows for training: as [`FeaturePipeline::transform`], except that the
    /// artist-history columns leave each track's own popularity out.
    pub fn transform_fit(&self, tracks: &Tracks, rows: &[usize]) -> Transformed {
        self.transform_rows(tracks, rows, true)
    }

    fn transform_rows(&self, tracks: &Tracks, rows: &[usize], fit: bool) -> Transformed {
        let mapping: Vec<Option<usize>> =
            tracks.genres.iter().map(|g| self.genre_column(g)).collect();
        let mut unknown_genres = BTreeSet::new();
        let width = self.names.len();
        let mut data = vec![0.0; rows.len() * width];
        for (out, &r) in data.chunks_exact_mut(width).zip(rows) {
            let track = &tracks.rows[r];
            for &g in &track.genres {
                // A model without genres reads none, so none is unknown to it.
                if mapping[usize::from(g)].is_none() && self.params.features.has_genres() {
                    unknown_genres.insert(tracks.genres[usize::from(g)].clone());
                }
            }
            let genres: Vec<usize> = track
                .genres
                .iter()
                .filter_map(|&g| mapping[usize::from(g)])
                .collect();
            let unknown = track.genres.len() - genres.len();
            let own = if fit {
                track.popularity.map(f64::from)
            } else {
                None
            };
            self.write_row(
                &track.audio,
                &extra_input(track, &genres, unknown),
                own,
                out,
            );
        }
        Transformed {
            matrix: FeatureMatrix::new(self.shared_names(), data)
                .unwrap_or_else(|| unreachable!("width is at least the 14 audio columns")),
            unknown_genres,
        }
    }

    /// Whether any of the track's genres is one this pipeline learned: it has a column for it
    /// and FIT had tracks of it.
    pub fn knows_genre(&self, track: &TrackInput) -> bool {
        track.genres.iter().any(|g| {
            self.genre_column(g)
                .is_some_and(|i| self.learned.get(i).copied().unwrap_or(false))
        })
    }

    /// The track's genres this pipeline has no column for (reported, never silently dropped).
    pub fn unknown_genres(&self, track: &TrackInput) -> Vec<String> {
        let mut unknown: Vec<String> = Vec::new();
        for g in track.genres {
            if self.genre_column(g).is_none() && !unknown.contains(g) {
                unknown.push(g.clone());
            }
        }
        unknown
    }

    /// The genre this pipeline knows that `name`, which it does not, is a typo of, as a
    /// header name is of a column's ([`crate::data::typo_of`]).
    pub fn genre_like(&self, name: &str) -> Option<&str> {
        crate::data::typo_of(name, self.genres.iter()).map(String::as_str)
    }

    /// Transforms one track given by value, as the server receives it. Returns the feature row
    /// and the genres it does not know (they get all-zero indicators).
    pub fn transform_one(&self, track: &TrackInput) -> (Vec<f64>, Vec<String>) {
        let mut out = vec![0.0; self.names.len()];
        let unknown = self.write_track(track, &mut out);
        (out, unknown.into_iter().cloned().collect())
    }

    /// Writes one track's feature row into `out`, as wide as [`FeaturePipeline::names`]: the
    /// row [`FeaturePipeline::transform_one`] returns, without allocating it.
    pub fn transform_into(&self, track: &TrackInput, out: &mut [f64]) {
        self.write_track(track, out);
    }

    /// Writes the track's row and returns the genres it has no column for (none when the
    /// pipeline reads no genres).
    fn write_track<'t>(&self, track: &TrackInput<'t>, out: &mut [f64]) -> Vec<&'t String> {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for g in track.genres {
            match self.genre_column(g) {
                Some(i) if !known.contains(&i) => known.push(i),
                Some(_) => {}
                None if self.params.features.has_genres() => unknown.push(g),
                None => {}
            }
        }
        known.sort_unstable();
        let extra = ExtraInput {
            artists: track.artists,
            album_name: track.album_name,
            track_name: track.track_name,
            genres: &known,
            unknown_genres: unknown.len(),
            untitled: track.track_name.trim().is_empty(),
        };
        self.write_row(&track.audio, &extra, None, out);
        unknown
    }
}

impl FeaturePipeline {
    /// The vocabulary position of a genre given in any catalogue's spelling
    /// ([`genre::resolve`]); the name as given is tried too, for vocabularies saved before
    /// names were resolved.
    /// The position in the vocabulary of a genre name, resolved as the reader resolves names
    /// (`R&B` is `r-n-b`); `None` for a genre the pipeline does not know.
    pub fn genre_column(&self, name: &str) -> Option<usize> {
        let index = self.index.0.get_or_init(|| {
            (self.genres.iter().enumerate())
                .filter(|(_, g)| genre::resolve(g) == g.as_str())
                .map(|(i, g)| (g.clone(), i))
                .collect()
        });
        // A name in the index resolves to itself, so the search below would find it there.
        if let Some(&i) = index.get(name) {
            return Some(i);
        }
        let find = |n: &str| self.genres.binary_search_by(|g| g.as_str().cmp(n)).ok();
        find(&genre::resolve(name)).or_else(|| find(name))
    }
}

fn extra_input<'a>(track: &'a Track, genres: &'a [usize], unknown_genres: usize) -> ExtraInput<'a> {
    ExtraInput {
        artists: &track.artists,
        album_name: &track.album_name,
        track_name: &track.track_name,
        genres,
        unknown_genres,
        untitled: false,
    }
}

fn audio_index(column: Column) -> usize {
    column
        .audio_index()
        .unwrap_or_else(|| unreachable!("{column} is an audio column"))
}

/// The `q` quantile of sorted values with linear interpolation between order statistics (numpy's
/// and pandas' default): position `q (n − 1)`. NaN for an empty slice.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Track;

    /// The base feature set, so column counts below are 14 + genres.
    const AG: PipelineParams = PipelineParams {
        outliers: OutlierSetup::Raw,
        standardize: true,
        features: FeatureSet::AudioGenre,
    };

    fn track(duration: f64, energy: f64, explicit: f64, genres: Vec<u16>) -> Track {
        let mut audio = [0.5; N_AUDIO];
        audio[audio_index(Column::DurationMs)] = duration;
        audio[audio_index(Column::Energy)] = energy;
        audio[audio_index(Column::Explicit)] = explicit;
        audio[audio_index(Column::Mode)] = 1.0;
        Track {
            line: 0,
            track_id: String::new(),
            artists: String::new(),
            album_name: String::new(),
            track_name: String::new(),
            popularity: Some(0),
            audio,
            genres,
        }
    }

    fn table() -> Tracks {
        // Durations 1..=8 and one outlier of 100 on row 8.
        let mut rows: Vec<Track> = (1..=8)
            .map(|d| {
                track(
                    f64::from(d),
                    0.1 * f64::from(d),
                    f64::from(d % 2),
                    vec![(d % 2) as u16],
                )
            })
            .collect();
        rows.push(track(100.0, 0.5, 0.0, vec![0, 1]));
        Tracks {
            genres: vec!["pop".into(), "rock".into()],
            rows,
            collapse: Default::default(),
        }
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75; [1..9] 0.75 -> 7.0
        assert_eq!(quantile(&[1., 2., 3., 4.], 0.25), 1.75);
        assert_eq!(quantile(&[1., 2., 3., 4., 5., 6., 7., 8., 9.], 0.75), 7.0);
        assert_eq!(quantile(&[5.], 0.5), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn fences_are_tukeys_on_fit_rows() {
        let t = table();
        let fit: Vec<usize> = (0..9).collect();
        let p = FeaturePipeline::fit(&t, &fit, AG).unwrap();
        // durations 1..8, 100: Q1 = 3, Q3 = 7, IQR 4 -> fences -3 and 13.
        let f = p
            .fences()
            .iter()
            .find(|f| f.column == Column::DurationMs)
            .unwrap();
        assert_eq!((f.low, f.high), (-3.0, 13.0));
        assert!(p.is_outlier(&t.rows[8].audio));
        assert!(!p.is_outlier(&t.rows[0].audio));
    }

    #[test]
    fn names_are_audio_then_genres() {
        let t = table();
        let p = FeaturePipeline::fit(&t, &[0, 1], AG).unwrap();
        assert_eq!(p.names().len(), 16);
        assert_eq!(p.names()[0], "duration_ms");
        assert_eq!(p.names()[14..], ["genre=pop", "genre=rock"]);
    }

    #[test]
    fn the_audio_set_reads_no_genre() {
        let t = table();
        let audio = PipelineParams {
            features: FeatureSet::Audio,
            ..AG
        };
        let p = FeaturePipeline::fit(&t, &[0, 1, 2], audio).unwrap();
        assert_eq!(p.names().len(), N_AUDIO);
        let genres = ["rock".to_owned(), "polka".to_owned()];
        let input = TrackInput {
            audio: t.rows[0].audio,
            genres: &genres,
            artists: "",
            album_name: "",
            track_name: "",
            new_song: false,
        };
        let (row, unknown) = p.transform_one(&input);
        // The same row as with no genre at all, and no genre is "unknown" to it.
        let (bare, _) = p.transform_one(&TrackInput {
            genres: &[],
            ..input.clone()
        });
        assert_eq!(row, bare);
        assert!(unknown.is_empty());
        assert_eq!(row, p.transform(&t, &[0]).matrix.row(0));
    }

    #[test]
    fn removed_drops_fit_outliers_and_scales_on_the_rest() {
        let t = table();
        let fit: Vec<usize> = (0..9).collect();
        let params = PipelineParams {
            outliers: OutlierSetup::Removed,
            standardize: true,
            features: FeatureSet::AudioGenre,
        };
        let p = FeaturePipeline::fit(&t, &fit, params).unwrap();
        assert_eq!(p.kept(&t, &fit), (0..8).collect::<Vec<_>>());
        // Durations 1..8: mean 4.5, population variance 5.25.
        let z = p
            .scaling()
            .iter()
            .find(|z| z.column == Column::DurationMs)
            .unwrap();
        assert_eq!(z.mean, 4.5);
        assert!((z.sd - 5.25f64.sqrt()).abs() < 1e-12);
        // The outlier row is still transformed, as it is, when scored.
        let out = p.transform(&t, &[8]).matrix;
        assert!((out.row(0)[0] - (100.0 - 4.5) / 5.25f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn capped_clamps_every_transformed_row() {
        let t = table();
        let fit: Vec<usize> = (0..9).collect();
        let params = PipelineParams {
            outliers: OutlierSetup::Capped,
            standardize: false,
            features: FeatureSet::AudioGenre,
        };
        let p = FeaturePipeline::fit(&t, &fit, params).unwrap();
        assert_eq!(p.kept(&t, &fit).len(), 9);
        let out = p.transform(&t, &[8, 0]).matrix;
        assert_eq!(out.row(0)[0], 13.0);
        assert_eq!(out.row(1)[0], 1.0);
        assert!(p.scaling().is_empty());
    }

    #[test]
    fn binary_columns_and_genres_are_not_scaled() {
        let t = table();
        let p = FeaturePipeline::fit(&t, &[0, 1, 2, 3], AG).unwrap();
        let out = p.transform(&t, &[0, 8]).matrix;
        let explicit = audio_index(Column::Explicit);
        let mode = audio_index(Column::Mode);
        assert_eq!(out.row(0)[explicit], 1.0);
        assert_eq!(out.row(0)[mode], 1.0);
        assert_eq!(out.row(0)[14..], [0.0, 1.0]);
        assert_eq!(out.row(1)[14..], [1.0, 1.0]);
    }

    #[test]
    fn unscale_undoes_the_z_scores_of_audio_and_extras() {
        let t = table();
        let params = PipelineParams {
            features: FeatureSet::Extended,
            ..AG
        };
        let p = FeaturePipeline::fit(&t, &[0, 1, 2, 3, 4, 5], params).unwrap();
        let unscaled = p.unscale(p.transform(&t, &[8]).matrix.row(0));
        for (a, b) in unscaled[..N_AUDIO].iter().zip(&t.rows[8].audio) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        // The extras come back as counts and flags: row 8 is listed under both genres.
        let at = |name: &str| unscaled[p.names().iter().position(|n| n == name).unwrap()];
        assert_eq!(unscaled[N_AUDIO..N_AUDIO + 2], [1.0, 1.0]);
        assert!((at("n_genres") - 2.0).abs() < 1e-9, "{}", at("n_genres"));
        // The fixture names no artists: one nobody typed.
        assert!((at("n_artists") - 1.0).abs() < 1e-9, "{}", at("n_artists"));
    }

    #[test]
    fn genres_match_by_name_and_unknown_genres_are_zero_and_reported() {
        let t = table();
        let p = FeaturePipeline::fit(&t, &[0, 1], AG).unwrap();
        let mut other = table();
        other.genres = vec!["jazz".into(), "rock".into()];
        let out = p.transform(&other, &[8]);
        assert_eq!(out.matrix.row(0)[14..], [0.0, 1.0]);
        assert_eq!(out.unknown_genres.into_iter().collect::<Vec<_>>(), ["jazz"]);

        let genres = ["rock".to_owned(), "polka".to_owned()];
        let input = TrackInput {
            audio: t.rows[8].audio,
            genres: &genres,
            artists: "",
            album_name: "",
            track_name: "",
            new_song: false,
        };
        let (row, unknown) = p.transform_one(&input);
        assert_eq!(row[14..], [0.0, 1.0]);
        assert_eq!(unknown, ["polka"]);
        assert_eq!(
            row,
            p.transform(&t, &[8]).matrix.row(0)[..14]
                .iter()
                .copied()
                .chain([0.0, 1.0])
                .collect::<Vec<_>>()
        );

        // Other catalogues' spellings find the same columns; unknown names come back as given.
        let genres = [" ROCK".to_owned(), "Pop".to_owned(), "Chill Hop".to_owned()];
        let (row, unknown) = p.transform_one(&TrackInput {
            genres: &genres,
            ..input
        });
        assert_eq!(row[14..], [1.0, 1.0]);
        assert_eq!(unknown, ["Chill Hop"]);
        other.genres = vec!["Rock".into(), "jazz".into()];
        let out = p.transform(&other, &[8]);
        assert_eq!(out.matrix.row(0)[14..], [0.0, 1.0]);
        assert_eq!(out.unknown_genres.into_iter().collect::<Vec<_>>(), ["jazz"]);
        // An unknown name one letter from a known genre is taken for its typo; others are not.
        assert_eq!(p.genre_like("Rokc"), Some("rock"));
        assert_eq!(p.genre_like("popp"), Some("pop"));
        assert_eq!(p.genre_like("polka"), None);
    }

    #[test]
    fn an_empty_fit_set_is_an_error_not_nan_fences() {
        let t = table();
        let capped = PipelineParams {
            outliers: OutlierSetup::Capped,
            standardize: true,
            features: FeatureSet::AudioGenre,
        };
        assert_eq!(
            FeaturePipeline::fit(&t, &[], capped).unwrap_err(),
            FeatureError::NoFitRows
        );
    }

    #[test]
    fn removing_every_fit_row_is_an_error() {
        // Five rows equal in every column but one each: row k is extreme in column k, where
        // Q1 = Q3 = 0.5 makes both fences 0.5. Every row is then an outlier somewhere.
        let columns = [
            Column::Danceability,
            Column::Energy,
            Column::Speechiness,
            Column::Acousticness,
            Column::Liveness,
        ];
        let rows = columns
            .iter()
            .map(|&c| {
                let mut t = track(1.0, 0.5, 0.0, vec![]);
                t.audio[audio_index(c)] = 0.9;
                t
            })
            .collect();
        let t = Tracks {
            genres: vec![],
            rows,
            collapse: Default::default(),
        };
        let removed = PipelineParams {
            outliers: OutlierSetup::Removed,
            standardize: true,
            features: FeatureSet::AudioGenre,
        };
        assert_eq!(
            FeaturePipeline::fit(&t, &[0, 1, 2, 3, 4], removed)
                .unwrap_err()
                .to_string(),
            "all 5 FIT rows lie outside an outlier fence: nothing left to train on"
        );
        let raw = AG;
        assert!(FeaturePipeline::fit(&t, &[0, 1, 2, 3, 4], raw).is_ok());
    }

    #[test]
    fn known_artist_features_leave_fit_tracks_own_label_out() {
        let mut t = table();
        for (i, row) in t.rows.iter_mut().enumerate() {
            row.artists = if i < 4 {
                "same".into()
            } else {
                format!("solo {i}")
            };
            row.popularity = Some(10 * i as u8);
        }
        let params = PipelineParams {
            features: FeatureSet::KnownArtist,
            ..PipelineParams::default()
        };
        let p = FeaturePipeline::fit(&t, &[0, 1, 2, 3, 4], params).unwrap();
        assert_eq!(p.names().len(), 14 + 2 + 11 + 2);
        assert_eq!(
            p.names()[27..],
            ["artist_popularity_mean", "artist_fit_tracks"]
        );
        let fit = p.transform_fit(&t, &[0, 4]).matrix;
        let served = p.transform(&t, &[0, 4]).matrix;
        // FIT rows leave themselves out, so their history differs from a served copy's ...
        assert_ne!(fit.row(0)[27], served.row(0)[27]);
        assert_ne!(fit.row(1)[28], served.row(1)[28]);
        // ... and everything before the history columns is the same.
        assert_eq!(fit.row(0)[..27], served.row(0)[..27]);
    }

    #[test]
    fn pipeline_round_trips_through_json() {
        let t = table();
        let p = FeaturePipeline::fit(&t, &[0, 1, 2], AG).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: FeaturePipeline = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.transform(&t, &[4]), p.transform(&t, &[4]));
    }
}

//! The Python extension module `hitcast._hitcast`: a saved model that scores and explains Arrow
//! tables. The Python package around it (`python/hitcast`) accepts pandas, polars and pyarrow
//! frames and returns the kind it was given.
//!
//! Every answer comes from the core's [`Predictor`], through the same reader rules
//! ([`ArrowRows`]) and the same answer columns ([`answers_batch`]) as `hitcast predict`, so
//! Python, Spark, the CLI and the server give the same numbers. Scoring releases the GIL.

use std::path::{Path, PathBuf};

use hitcast::artifact::ArtifactError;
use hitcast::data::{
    file_sha256, locate_dataset, parse_delimiter, Column, ColumnMap, DataError, OnError, RawRow,
    ReadOptions, DATA_ENV,
};
use hitcast::explain::SamplingOptions;
use hitcast::job::{check_out, run_job, JobConfig, JobError, JobEvent, STEPS};
use hitcast::models::ModelError;
use hitcast::predictor::{self, Genres, Kept, Predictor, UnknownGenres, ANSWER_COLUMNS};
use hitcast_arrow::arrow_array::RecordBatch;
use hitcast_arrow::arrow_schema::{ArrowError, SchemaRef};
use hitcast_arrow::{
    answers_batch, answers_schema, chances_batch, chances_schema, explanations_batch,
    explanations_schema, ArrowRows, BatchRows,
};
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError,
    PyValueError,
};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::{PySchema, PyTable};
use rayon::prelude::*;

/// Rows scored at a time: bounds the memory of one scoring step.
const CHUNK: usize = 8192;

/// A saved hitcast model, loaded and checked.
#[pyclass(frozen, module = "hitcast._hitcast")]
struct Model {
    predictor: Predictor,
    path: PathBuf,
}

pyo3::create_exception!(
    hitcast,
    PriorRefused,
    PyValueError,
    "The estimate of the tracks' share of hits was refused (too few tracks, tracks that differ \
     from the training tracks in more than that share, or a share not clearly another): a \
     ValueError, told apart from a bad input so that `predict(adapt_prior=True)` can go on \
     without adapting."
);

/// What one call reads: the tracks, named as it names them.
struct Input {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    options: ReadOptions,
}

/// `columns={"theirs": "hitcast's"}` as the `--map` it stands for.
fn column_map(columns: Option<Vec<(String, String)>>) -> PyResult<ColumnMap> {
    let specs: Vec<String> = columns
        .unwrap_or_default()
        .into_iter()
        .map(|(src, dst)| format!("{src}={dst}"))
        .collect();
    ColumnMap::parse(&specs).map_err(|e| PyValueError::new_err(format!("columns: {e}")))
}

impl Input {
    fn new(
        tracks: AnyRecordBatch,
        columns: Option<Vec<(String, String)>>,
        on_error: &str,
    ) -> PyResult<Input> {
        let map = column_map(columns)?;
        let on_error = on_error_of(on_error)?;
        let reader = tracks.into_reader()?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<_>, ArrowError>>()
            .map_err(|e| PyValueError::new_err(format!("cannot read the tracks: {e}")))?;
        Ok(Input {
            batches,
            schema,
            options: ReadOptions {
                map,
                on_error,
                require_popularity: false,
                popularity_unread: true,
                require_track_id: false,
                // Arrow tables have no separator to read.
                delimiter: None,
                // A frame's other columns join its answers through their rows.
                carry: Vec::new(),
            },
        })
    }

    /// The first of `keep` the tracks have no column for (after the column map), if any.
    fn lacking(&self, keep: &[Kept]) -> Result<Option<Column>, Failure> {
        let reader = ArrowRows::new(&self.schema, &self.options, "tracks".as_ref())
            .map_err(Failure::Input)?;
        Ok(keep.iter().find_map(|k| match k {
            Kept::Column(c) if !reader.has(*c) => Some(*c),
            _ => None,
        }))
    }

    /// Runs `f` on the validated rows, chunk by chunk, and collects what it returns in order,
    /// with the notices the CLI would print (absent columns' defaults, rows skipped).
    /// Chunks are zero-copy slices of at most [`CHUNK`] rows, read and handed to `f` on every
    /// core at once: reading and writing answers are a quarter of a call's work, which one
    /// thread around a parallel scoring left on one core. A bad row fails the call naming the
    /// first bad row and its column, or is dropped under `on_error="skip"`.
    fn map_chunks<T: Send>(
        &self,
        f: impl Fn(&[RawRow]) -> Result<T, Failure> + Sync,
    ) -> Result<ReadChunks<T>, Failure> {
        let reader = ArrowRows::new(&self.schema, &self.options, "tracks".as_ref())
            .map_err(Failure::Input)?;
        let mut slices = Vec::new();
        let mut before = 0u64;
        for batch in &self.batches {
            for offset in (0..batch.num_rows()).step_by(CHUNK) {
                let len = CHUNK.min(batch.num_rows() - offset);
                slices.push((batch.slice(offset, len), before));
                before += len as u64;
            }
        }
        let skip = self.options.on_error == OnError::Skip;
        type Slice<T> = (Option<T>, Vec<DataError>);
        let done: Vec<Result<Slice<T>, Failure>> = slices
            .par_iter()
            .map(|(slice, before)| {
                let mut rows = Vec::with_capacity(slice.num_rows());
                let mut skipped = Vec::new();
                for row in reader.read_at(slice, *before).map_err(Failure::Input)? {
                    match row {
                        Ok(row) => rows.push(row),
                        Err(e) if skip && e.skippable_line().is_some() => skipped.push(e),
                        Err(e) => return Err(Failure::Input(e)),
                    }
                }
                // A slice whose rows were all skipped adds no empty batch.
                Ok(((!rows.is_empty()).then(|| f(&rows)).transpose()?, skipped))
            })
            .collect();
        // In order, so the error raised is the first bad row's, as reading row by row gives.
        let mut read = ReadChunks {
            parts: Vec::new(),
            notices: reader.defaults().iter().map(ToString::to_string).collect(),
        };
        let (mut skipped, mut first) = (0usize, None);
        for slice in done {
            let (part, dropped) = slice?;
            read.parts.extend(part);
            skipped += dropped.len();
            first = first.or(dropped.into_iter().next());
        }
        if let Some(first) = first {
            read.notices
                .push(format!("skipped {skipped} bad row(s); first: {first}"));
        }
        Ok(read)
    }
}

/// What [`Input::map_chunks`] gives back.
struct ReadChunks<T> {
    /// Each chunk's result, in order.
    parts: Vec<T>,
    /// What the caller should be told: absent columns' defaults, rows skipped.
    notices: Vec<String>,
}

/// The answers of one chunk, the input row (0-based) each answer row belongs to, and the
/// genres they did not know.
type Answered = (RecordBatch, Vec<u64>, UnknownGenres);

/// The input rows of `rows`, 0-based (their lines count from 1 across the input's batches).
fn positions(rows: &[RawRow]) -> Vec<u64> {
    rows.iter().map(|r| r.line - 1).collect()
}

/// The answers of a call: a table, each row's input row, and the notices.
type Answers = (PyTable, Vec<u64>, Vec<String>);

/// Joins the chunks' answers into what a call returns.
fn answers(read: ReadChunks<Answered>, schema: SchemaRef) -> PyResult<Answers> {
    let (mut batches, mut rows) = (Vec::new(), Vec::new());
    let mut unknown = UnknownGenres::default();
    for (batch, of, met) in read.parts {
        batches.push(batch);
        rows.extend(of);
        unknown.merge(met);
    }
    let mut notices = read.notices;
    notices.extend(unknown.notice());
    Ok((table(batches, schema)?, rows, notices))
}

/// Why a call failed, before it becomes a Python exception.
enum Failure {
    Input(DataError),
    /// A track the model cannot take: a song measured from audio, given to a model file
    /// without a from-audio model.
    Refused(String),
    Model(String),
    Audio(String),
}

impl Failure {
    /// A failure of the model or of building the answers: never the caller's input.
    fn model(e: impl std::fmt::Display) -> Failure {
        Failure::Model(e.to_string())
    }

    /// A scoring error: the caller's track where the model refuses it, the model's otherwise.
    fn scoring(e: ModelError) -> Failure {
        match e {
            ModelError::NoFromAudioModel { .. } => Failure::Refused(e.to_string()),
            e => Failure::model(e),
        }
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Input(e) => PyValueError::new_err(e.to_string()),
            Failure::Refused(e) => PyValueError::new_err(e),
            Failure::Model(e) => PyRuntimeError::new_err(e),
            Failure::Audio(e) => PyValueError::new_err(e),
        }
    }
}

fn keep_columns(keep: Vec<String>) -> PyResult<Vec<Kept>> {
    let columns = keep
        .iter()
        .map(|name| {
            Column::from_name(name.trim())
                .map(Kept::Column)
                .ok_or_else(|| {
                    let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
                    PyValueError::new_err(format!(
                        "keep: unknown column {name:?}: expected one of {}",
                        names.join(", ")
                    ))
                })
        })
        .collect::<PyResult<Vec<Kept>>>()?;
    hitcast::predictor::check_keep(&columns)
        .map_err(|e| PyValueError::new_err(format!("keep: {e}")))?;
    Ok(columns)
}

fn table(batches: Vec<RecordBatch>, schema: SchemaRef) -> PyResult<PyTable> {
    PyTable::try_new(batches, schema)
}

#[pymethods]
impl Model {
    /// Loads and checks a model file written by `hitcast train`.
    #[new]
    #[pyo3(signature = (path, *, genres = "use"))]
    fn new(path: PathBuf, genres: &str) -> PyResult<Model> {
        let genres: Genres = genres.parse().map_err(|_| {
            PyValueError::new_err(format!("genres={genres:?}: expected \"use\" or \"ignore\""))
        })?;
        let predictor = Predictor::load(&path).map_err(|e| load_error(&path, e))?;
        let predictor = predictor.with_genres(genres).map_err(|e| {
            PyValueError::new_err(format!("{}: genres=\"ignore\": {e}", path.display()))
        })?;
        Ok(Model { predictor, path })
    }

    /// Scores an Arrow table or stream; returns an Arrow table of the answers (without the
    /// score columns when `score` is false: the classifier alone runs), adapted to base rate
    /// `prior` when given; with the input row of each answer and the notices.
    #[pyo3(signature = (tracks, *, columns = None, keep = Vec::new(), on_error = "fail", score = true, prior = None))]
    #[allow(clippy::too_many_arguments)]
    fn predict(
        &self,
        py: Python<'_>,
        tracks: AnyRecordBatch,
        columns: Option<Vec<(String, String)>>,
        keep: Vec<String>,
        on_error: &str,
        score: bool,
        prior: Option<f64>,
    ) -> PyResult<Answers> {
        let keep = keep_columns(keep)?;
        let input = Input::new(tracks, columns, on_error)?;
        if let Some(c) = input.lacking(&keep)? {
            return Err(PyValueError::new_err(format!(
                "keep: the tracks have no {c} column"
            )));
        }
        let predictor = match prior {
            Some(p) if p > 0.0 && p < 1.0 => self.predictor.clone().with_prior(p),
            Some(p) => {
                return Err(PyValueError::new_err(format!(
                    "prior={p}: expected a share strictly between 0 and 1"
                )))
            }
            None => self.predictor.clone(),
        };
        let read = py.detach(|| {
            input.map_chunks(|chunk| {
                let mut unknown = UnknownGenres::default();
                let batch = if score {
                    let answers = predictor.score_rows(chunk).map_err(Failure::scoring)?;
                    answers.iter().for_each(|a| unknown.count(&a.chance));
                    answers_batch(chunk, &answers, &keep)
                } else {
                    let chances = predictor.chances_rows(chunk).map_err(Failure::scoring)?;
                    chances.iter().for_each(|c| unknown.count(c));
                    chances_batch(chunk, &chances, &keep)
                };
                Ok((batch.map_err(Failure::model)?, positions(chunk), unknown))
            })
        })?;
        let schema = if score {
            answers_schema(&keep)
        } else {
            chances_schema(&keep)
        };
        answers(read, schema)
    }

    /// EM's estimate of the base rate of an Arrow table or stream of tracks, as JSON text;
    /// a ValueError says why when it is refused (too few tracks, or tracks that differ from the
    /// training tracks in more than their share of hits).
    #[pyo3(signature = (tracks, *, columns = None, on_error = "fail"))]
    fn estimate_prior(
        &self,
        py: Python<'_>,
        tracks: AnyRecordBatch,
        columns: Option<Vec<(String, String)>>,
        on_error: &str,
    ) -> PyResult<String> {
        let input = Input::new(tracks, columns, on_error)?;
        let parts = py.detach(|| {
            input.map_chunks(|chunk| {
                let mut evidence = self.predictor.evidence();
                let inputs: Vec<_> = chunk.iter().map(predictor::input).collect();
                self.predictor
                    .gather(&inputs, &mut evidence)
                    .map_err(Failure::scoring)?;
                Ok(evidence)
            })
        })?;
        let mut evidence = self.predictor.evidence();
        for part in &parts.parts {
            evidence.merge(part);
        }
        let estimate = self
            .predictor
            .estimate_prior(&evidence)
            .map_err(|e| PriorRefused::new_err(e.to_string()))?;
        serde_json::to_string(&estimate).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Measures songs from their audio files and scores them (the model's from-audio model
    /// answers): an Arrow table of the answers, each with the measured columns kept, in the
    /// order given, and the notices. A file that cannot be measured raises a ValueError naming
    /// it.
    #[pyo3(signature = (paths, *, genres = Vec::new(), explicit = false, title = None, artists = String::new(), album = String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn predict_audio(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        genres: Vec<String>,
        explicit: bool,
        title: Option<String>,
        artists: String,
        album: String,
    ) -> PyResult<(PyTable, Vec<String>)> {
        if self.predictor.genres() == Genres::Ignore {
            return Err(PyValueError::new_err(
                "genres=\"ignore\": a song measured from audio is answered by the from-audio \
                 model, which reads the genres named (it has no counterpart without genres); \
                 load the model without genres=\"ignore\"",
            ));
        }
        if title.is_some() && paths.len() > 1 {
            return Err(PyValueError::new_err(format!(
                "title names one song: {} were given",
                paths.len()
            )));
        }
        let keep = hitcast_audio::KEPT_WITH_ANSWERS.map(Kept::Column);
        let (batch, unknown) = py.detach(|| -> Result<(RecordBatch, UnknownGenres), Failure> {
            let measured: Vec<(PathBuf, Result<hitcast_audio::Measured, String>)> = paths
                .par_iter()
                .map(|p| {
                    (
                        p.clone(),
                        hitcast_audio::measure_file(p).map_err(|e| format!("{e}{}", e.advice())),
                    )
                })
                .collect();
            let mut rows = Vec::with_capacity(measured.len());
            for (i, (path, result)) in measured.into_iter().enumerate() {
                let m = result.map_err(|e| Failure::Audio(format!("{}: {e}", path.display())))?;
                let song = hitcast_audio::Song {
                    title: title
                        .clone()
                        .unwrap_or_else(|| hitcast_audio::title_of(&path)),
                    artists: artists.clone(),
                    album: album.clone(),
                    genres: genres.clone(),
                    explicit,
                };
                rows.push(m.row(i as u64 + 1, &song));
            }
            let answers = self.predictor.score_rows(&rows).map_err(Failure::scoring)?;
            let mut unknown = UnknownGenres::default();
            answers.iter().for_each(|a| unknown.count(&a.chance));
            let batch = answers_batch(&rows, &answers, &keep).map_err(Failure::model)?;
            Ok((batch, unknown))
        })?;
        let notices = unknown.notice().into_iter().collect();
        Ok((table(vec![batch], answers_schema(&keep))?, notices))
    }

    /// Explains an Arrow table or stream; returns an Arrow table, one row per track and
    /// feature shown, with the input row of each and the notices.
    #[pyo3(signature = (tracks, *, columns = None, top = 5, samples = 256, seed = 42, on_error = "fail"))]
    #[allow(clippy::too_many_arguments)]
    fn explain(
        &self,
        py: Python<'_>,
        tracks: AnyRecordBatch,
        columns: Option<Vec<(String, String)>>,
        top: usize,
        samples: usize,
        seed: u64,
        on_error: &str,
    ) -> PyResult<Answers> {
        if top == 0 || samples == 0 {
            return Err(PyValueError::new_err("top and samples must be at least 1"));
        }
        let input = Input::new(tracks, columns, on_error)?;
        let options = SamplingOptions { samples, seed };
        let read = py.detach(|| {
            input.map_chunks(|chunk| {
                let explained = self
                    .predictor
                    .score_explained_rows(chunk, options)
                    .map_err(Failure::scoring)?;
                let mut unknown = UnknownGenres::default();
                explained.iter().for_each(|(a, _)| unknown.count(&a.chance));
                let (batch, sources) =
                    explanations_batch(chunk, &explained, top).map_err(Failure::model)?;
                let rows = sources.iter().map(|&i| chunk[i].line - 1).collect();
                Ok((batch, rows, unknown))
            })
        })?;
        answers(read, explanations_schema())
    }

    /// The schema of `predict`'s answers with these kept columns, and the score columns
    /// unless `score` is false.
    #[staticmethod]
    #[pyo3(signature = (keep = Vec::new(), score = true))]
    fn answers_schema(keep: Vec<String>, score: bool) -> PyResult<PySchema> {
        let keep = keep_columns(keep)?;
        Ok(PySchema::new(if score {
            answers_schema(&keep)
        } else {
            chances_schema(&keep)
        }))
    }

    /// The model's metadata as JSON text (what `hitcast model info --json` prints).
    #[getter]
    fn metadata_json(&self) -> PyResult<String> {
        serde_json::to_string(self.predictor.metadata())
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The model file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }
}

/// `on_error`'s value.
fn on_error_of(text: &str) -> PyResult<OnError> {
    match text {
        "fail" => Ok(OnError::Fail),
        "skip" => Ok(OnError::Skip),
        other => Err(PyValueError::new_err(format!(
            "on_error={other:?}: expected \"fail\" or \"skip\""
        ))),
    }
}

/// The main job (`hitcast run`, in-process) on the data file `data` (or the default lookup), into
/// `out`; returns its summary as JSON and the notices (absent columns' defaults, rows
/// skipped). A Parquet file is read through pyarrow (the wheel has no Parquet reader of its
/// own), then validated as the CLI validates it.
#[pyfunction]
#[pyo3(signature = (data, out, quick, seed, columns, progress, on_error = "fail", delimiter = None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
    quick: bool,
    seed: u64,
    columns: Option<Vec<(String, String)>>,
    progress: bool,
    on_error: &str,
    delimiter: Option<String>,
) -> PyResult<(String, Vec<String>)> {
    let on_error = on_error_of(on_error)?;
    let delimiter = delimiter
        .map(|d| parse_delimiter(&d))
        .transpose()
        .map_err(|e| PyValueError::new_err(format!("delimiter: {e}")))?;
    let config = JobConfig {
        quick,
        seed,
        ..JobConfig::default()
    };
    let out = out.unwrap_or_else(|| config.default_out().into());
    check_out(&out).map_err(job_error)?;
    let env = std::env::var(DATA_ENV).ok();
    let path = locate_dataset(data.as_deref(), env.as_deref(), Path::new(""))
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
    let options = ReadOptions {
        map: column_map(columns)?,
        on_error,
        delimiter,
        ..ReadOptions::labelled()
    };
    let parquet = if hitcast_arrow::is_parquet(&path) {
        Some(read_parquet(py, &path)?)
    } else {
        None
    };
    let (job, notices) = py.detach(|| {
        let loaded = match parquet {
            Some((schema, batches)) => {
                let batches = batches.into_iter().map(Ok::<_, ArrowError>);
                BatchRows::new(&schema, batches, &options, &path, "Parquet")
                    .and_then(|rows| hitcast::data::read_all(rows, options.on_error))
            }
            None => hitcast::data::read_rows(&path, &options),
        }
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let notices = loaded.report.notices();
        let sha256 = file_sha256(&path)
            .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
        let mut on_event = |event: JobEvent| match event {
            JobEvent::Started { first, count } if progress => {
                eprintln!("hitcast.run: {}", STEPS[first..first + count].join("; "));
            }
            JobEvent::Chosen {
                classifier,
                regressor,
            } if progress => {
                eprintln!(
                    "  chosen on VAL: classifier {}, score regressor {}",
                    classifier.short(),
                    regressor.short()
                );
            }
            JobEvent::Finished { elapsed } if progress => {
                eprintln!("  done in {:.1} s", elapsed.as_secs_f64());
            }
            _ => {}
        };
        let job = run_job(loaded, &sha256, &config, &out, &mut on_event).map_err(job_error)?;
        Ok::<_, PyErr>((job, notices))
    })?;
    let m = &job.metadata;
    let summary = serde_json::json!({
        "out": job.out,
        "model": job.model_path(),
        "report": job.out.join("report").join("index.html"),
        "classifier": job.classifier.to_string(),
        "regressor": job.regressor.to_string(),
        "test_classification": m.test_classification,
        "test_regression": m.test_regression,
        "seconds": job.elapsed.as_secs_f64(),
    });
    Ok((summary.to_string(), notices))
}

/// Why a model file could not be loaded, as the `OSError` a caller expects: a file that
/// cannot be read raises the subclass of its reason (`FileNotFoundError`, `PermissionError`),
/// and every message names the file and says why.
fn load_error(path: &Path, e: ArtifactError) -> PyErr {
    let ArtifactError::Io { source, .. } = &e else {
        return PyOSError::new_err(format!("{}: {e}", path.display()));
    };
    // The error names the file; its source says why.
    let said = format!("{e}: {source}");
    match source.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(said),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(said),
        _ => PyOSError::new_err(said),
    }
}

/// The Parquet file at `path`, read by pyarrow: its schema and batches.
fn read_parquet(py: Python<'_>, path: &Path) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let parquet = py.import("pyarrow.parquet").map_err(|_| {
        PyValueError::new_err(format!(
            "{}: a Parquet file, which hitcast reads in Python through pyarrow: pip install pyarrow",
            path.display()
        ))
    })?;
    let table = parquet
        .call_method1("read_table", (path,))
        .and_then(|t| t.extract::<AnyRecordBatch>())
        .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
    let reader = table.into_reader()?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, ArrowError>>()
        .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
    Ok((schema, batches))
}

/// The job's error with its causes, as the exception a Python caller expects: `OSError` for a
/// file that cannot be written, `RuntimeError` for the rest.
fn job_error(e: JobError) -> PyErr {
    let mut said = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        said.push_str(": ");
        said.push_str(&cause.to_string());
        source = cause.source();
    }
    match e {
        JobError::Write { .. } => PyOSError::new_err(said),
        JobError::Occupied { .. } => PyFileExistsError::new_err(said),
        _ => PyRuntimeError::new_err(said),
    }
}

/// The compiled half of the `hitcast` package.
#[pymodule]
fn _hitcast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ANSWER_COLUMNS", ANSWER_COLUMNS.to_vec())?;
    m.add(
        "INPUT_COLUMNS",
        Column::ALL.iter().map(|c| c.name()).collect::<Vec<_>>(),
    )?;
    m.add("PriorRefused", m.py().get_type::<PriorRefused>())?;
    Ok(())
}

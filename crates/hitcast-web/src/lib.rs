//! hitcast's web app and JSON API: an [axum] server over a saved model.
//!
//! | path | what |
//! |---|---|
//! | `GET /` | welcome: what the model predicts and how well, in plain words |
//! | `GET /predict`, `POST /predict` | the prediction form (works without JavaScript) |
//! | `POST /predict/result` | the result panel alone, for the page's live updates |
//! | `POST /predict/audio` | the form with a song's audio file: measured, the form filled, the from-audio model's answer |
//! | `POST /predict/batch` | a file of tracks (CSV, CSV.gz, Parquet; multipart part `file`) → a CSV of answers, streamed |
//! | `GET /compare` | two to four tracks or scenarios (`s`, repeated: the form's query strings) side by side |
//! | `GET /explore`, `GET /models` | the EDA and the experiment tables of a `hitcast report` |
//! | `POST /api/v1/predict` | one track object or `{"tracks": [...]}` → predictions (`?explain=true`) |
//! | `POST /api/v1/predict/audio` | a song's audio file → what was measured and the from-audio model's answer |
//! | `GET /api/v1/model` | the model's metadata |
//! | `GET /api/v1/tracks?q=` | tracks of the dataset by title, artist, album, id or Spotify link |
//! | `POST /api/v1/what-if` | the answer along one audio input's range, the rest held |
//! | `POST /api/v1/similar` | the dataset's tracks nearest in sound to a track |
//! | `GET /api/docs` | the API's documentation, rendered from the OpenAPI document |
//! | `GET /healthz`, `GET /api/openapi.json` | liveness; the OpenAPI 3 document |
//!
//! Everything the pages need (CSS, a little JavaScript) is compiled into the binary: the app
//! works with no network. Requests are bounded in size ([`Limits::body_bytes`]; audio files
//! [`Limits::audio_bytes`]), batch length, concurrency (audio files measured at once:
//! [`Limits::audio_concurrency`]) and time.
//!
//! Kept out of the core crate so that the library builds without a web stack (see docs/ARCHITECTURE.md).

mod access;
mod admin;
pub mod api;
mod audio;
mod batch;
pub mod catalogue;
mod connections;
mod encoding;
mod error;
mod fill;
pub mod live;
mod metrics;
mod openapi;
pub mod pages;
mod process;
pub mod score;
mod trace;
pub mod track;
mod v2;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use hitcast::models::ModelError;
use hitcast::predictor::Predictor;
use hitcast::prior::{PriorError, PriorEstimate};
use hitcast::report::PART_FILES;
use tower_http::timeout::TimeoutLayer;

pub use access::{ApiKey, ApiKeyError};
pub use admin::reload_on_hangup;
pub use catalogue::{Catalogue, LazyCatalogue};
pub use connections::{serve, stop_signal, Signals};
use error::ApiError;
pub use live::{LiveModel, ReloadError, Served};
use metrics::Metrics;
use score::Scored;
use track::TrackRequest;

/// Up to this many tracks (exact explanations only) are scored on the async thread: moving
/// them to the blocking pool costs more than scoring them.
const INLINE_TRACKS: usize = 16;

/// Room a batch's body gives one track: the dataset's longest names and genre lists, as JSON,
/// with room to spare.
pub const TRACK_BYTES: usize = 1600;

/// What a request may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body. Default 16 MiB: a batch of `batch` tracks fits at up to
    /// [`TRACK_BYTES`] a track (the dataset's tracks take about 450 bytes as JSON).
    pub body_bytes: usize,
    /// Most tracks in one API call. Default 10,000.
    pub batch: usize,
    /// Requests answered at once; one more is refused with a 503 and `Retry-After` (health
    /// checks and `/metrics` excepted). Default 64.
    pub concurrency: usize,
    /// Longest time one request may take, its body's upload included; for a file upload,
    /// outside it, the longest wait for the upload's next bytes. Default 30 s.
    pub timeout: Duration,
    /// Most tracks one call may ask the sampling explanation for (the network and the stack
    /// explain by sampling, far slower than the trees' exact method). Default 100.
    pub sampled_explanations: usize,
    /// (background row, order) samples per sampled explanation. Default 128.
    pub explanation_samples: usize,
    /// Largest audio file `POST /api/v1/predict/audio` takes. Default 64 MB: a WAV of six
    /// minutes, an MP3 of 45 at 192 kbit/s.
    pub audio_bytes: usize,
    /// Audio files read and measured at once (each takes a core while it is decoded and
    /// measured); more wait their turn. Uploads hold at most `audio_bytes` times this in memory.
    /// Default 4.
    pub audio_concurrency: usize,
    /// Largest file of tracks `POST /predict/batch` takes. Default 1 GB: it goes to a temporary
    /// file as it arrives, so memory does not grow with it; the disk must hold it.
    pub batch_file_bytes: usize,
    /// Files of tracks received and scored at once; more wait their turn. Default 2.
    pub batch_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 16 << 20,
            batch: 10_000,
            concurrency: 64,
            timeout: Duration::from_secs(30),
            sampled_explanations: 100,
            explanation_samples: 128,
            audio_bytes: 64_000_000,
            audio_concurrency: 4,
            batch_file_bytes: 1_000_000_000,
            batch_files: 2,
        }
    }
}

impl Limits {
    /// Tracks a request body holds at [`TRACK_BYTES`] a track: the figure the start-up warning
    /// and a 413's message both give.
    pub fn tracks_in_body(&self) -> usize {
        self.body_bytes / TRACK_BYTES
    }

    /// Where these limits contradict one another, in sentences naming the flags: the server
    /// warns of each when it starts. A batch of `batch` tracks must fit in the body limit, and
    /// the audio files and files of tracks allowed at once must fit in the requests answered
    /// at once.
    pub fn disagreements(&self) -> Vec<String> {
        let mut out = Vec::new();
        let room = self.tracks_in_body();
        if room < self.batch {
            out.push(format!(
                "--body-limit {} holds about {room} tracks at {TRACK_BYTES} bytes a track, fewer than --max-batch {}: larger batches get a 413; raise --body-limit to at least {}",
                self.body_bytes,
                self.batch,
                self.batch.saturating_mul(TRACK_BYTES)
            ));
        }
        let c = self.concurrency;
        if self.audio_concurrency > c {
            out.push(format!(
                "--audio-concurrency {} is over --max-concurrency {c}: no more than {c} run at once",
                self.audio_concurrency
            ));
        }
        // Not a flag: said as what it is.
        if self.batch_files > c {
            out.push(format!(
                "the Predict page scores up to {} uploaded files at once, over --max-concurrency {c}: no more than {c} run at once",
                self.batch_files
            ));
        }
        out
    }
}

/// Failures that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The model cannot serve.
    #[error("the model cannot be served: {0}")]
    Model(#[from] ModelError),
    /// A report fragment is missing or unreadable.
    #[error("{path}: cannot read ({source}); write the report with `hitcast report --out {dir}`")]
    Report {
        /// The fragment.
        path: PathBuf,
        /// The report directory.
        dir: String,
        /// Why.
        source: io::Error,
    },
}

/// The two halves of a `hitcast report` page, shown by Models and Explore.
#[derive(Clone, Debug)]
pub struct ReportPages {
    /// The model card and the experiment tables.
    pub models: String,
    /// The EDA.
    pub data: String,
    /// The report's directory.
    pub source: PathBuf,
    /// When the model its card describes was written (`created_unix`, from report.json), if
    /// it has one: a report of another model must not pass for the served one's.
    pub model_created_unix: Option<u64>,
}

impl ReportPages {
    /// Reads the fragments `hitcast report` writes beside its index.html.
    pub fn load(dir: &Path) -> Result<ReportPages, WebError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| WebError::Report {
                path,
                dir: dir.display().to_string(),
                source,
            })
        };
        // report.json is the report's numbers; without it (or a model in it) nothing is checked.
        let model_created_unix = std::fs::read(dir.join("report.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|json| json["model"]["metadata"]["created_unix"].as_u64());
        Ok(ReportPages {
            models: read(PART_FILES[0])?,
            data: read(PART_FILES[1])?,
            source: dir.to_owned(),
            model_created_unix,
        })
    }
}

/// How a server is reached and named, beyond its limits.
#[derive(Clone, Debug)]
pub struct Options {
    /// The model's name in the Open Inference Protocol's routes (`/v2/models/{name}`).
    /// Default `hitcast`.
    pub model_name: String,
    /// When set, every route but the health checks needs `Authorization: Bearer KEY`.
    pub api_key: Option<ApiKey>,
    /// When set, `POST /admin/reload` exists and needs `Authorization: Bearer KEY` with it.
    pub admin_key: Option<ApiKey>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model_name: "hitcast".to_owned(),
            api_key: None,
            admin_key: None,
        }
    }
}

/// Everything a request handler reads.
pub struct AppState {
    model: Arc<LiveModel>,
    catalogue: LazyCatalogue,
    report: Option<ReportPages>,
    limits: Limits,
    options: Options,
    /// One permit a request being answered ([`Limits::concurrency`]); a request that finds
    /// none is shed with a 503.
    permits: Arc<tokio::sync::Semaphore>,
    /// One permit an audio file being read or measured ([`Limits::audio_concurrency`]).
    audio_permits: Arc<tokio::sync::Semaphore>,
    /// One permit a file of tracks being received or scored ([`Limits::batch_files`]).
    batch_permits: Arc<tokio::sync::Semaphore>,
    /// The API's OpenAPI document, built once: it depends on the limits and options only.
    openapi: serde_json::Value,
    metrics: Metrics,
    /// When load shedding was last said in the log ([`access::Throttled`]).
    shed_said: access::Throttled,
    /// The API docs page's example answers, for the model that gave them (its checksum and
    /// load time): computed on the first visit after each load, not on every visit.
    docs_examples: std::sync::Mutex<Option<(String, u64, pages::Examples)>>,
    /// Set once a stop has begun ([`stop_signal`]): readiness then says not ready.
    stopping: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// The state of a server of `predictor`, held in memory (nothing to reload).
    pub fn new(
        predictor: Predictor,
        catalogue: LazyCatalogue,
        report: Option<ReportPages>,
        limits: Limits,
    ) -> Result<AppState, WebError> {
        let model = LiveModel::new(Served::new(predictor, String::new()), None);
        Ok(AppState::of(model, catalogue, report, limits))
    }

    /// The state of a server of `served`, read from the model file at `path`, which a reload
    /// reads again.
    pub fn from_file(
        served: Served,
        path: &Path,
        catalogue: LazyCatalogue,
        report: Option<ReportPages>,
        limits: Limits,
    ) -> AppState {
        AppState::of(
            LiveModel::new(served, Some(path.to_owned())),
            catalogue,
            report,
            limits,
        )
    }

    fn of(
        model: LiveModel,
        catalogue: LazyCatalogue,
        report: Option<ReportPages>,
        limits: Limits,
    ) -> AppState {
        let model = Arc::new(model);
        let options = Options::default();
        AppState {
            openapi: openapi::document(&limits, &options),
            metrics: Metrics::new(Arc::clone(&model), &options.model_name),
            model,
            catalogue,
            report,
            permits: Arc::new(tokio::sync::Semaphore::new(limits.concurrency.max(1))),
            audio_permits: Arc::new(tokio::sync::Semaphore::new(limits.audio_concurrency.max(1))),
            batch_permits: Arc::new(tokio::sync::Semaphore::new(limits.batch_files.max(1))),
            limits,
            options,
            shed_said: access::Throttled::every(10),
            docs_examples: std::sync::Mutex::new(None),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Marks the server as stopping: readiness says not ready from now on, while every other
    /// route still answers.
    pub fn start_stopping(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a stop has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The same state with `options`.
    pub fn with_options(mut self, options: Options) -> AppState {
        self.metrics = Metrics::new(Arc::clone(&self.model), &options.model_name);
        self.openapi = openapi::document(&self.limits, &options);
        self.options = options;
        self
    }

    /// The model answering now: a request holds it to its end.
    pub fn model(&self) -> Arc<Served> {
        self.model.current()
    }

    /// Reads the model file again and swaps it in ([`LiveModel::reload`]), logging and
    /// counting the outcome: SIGHUP and `POST /admin/reload` both come here.
    pub async fn reload(&self) -> Result<Arc<Served>, ReloadError> {
        let outcome = self.model.reload().await;
        match &outcome {
            Ok(served) => tracing::info!(
                sha256 = %served.sha256,
                "model reloaded from {}",
                self.model.source().map(|p| p.display().to_string()).unwrap_or_default()
            ),
            Err(e) => tracing::error!("model not reloaded: {e}"),
        }
        self.metrics.reloaded(outcome.is_ok());
        outcome
    }

    /// Scores tracks: a few with an exact method in place (tens of microseconds), the rest off
    /// the async threads (a sampled explanation takes tens of milliseconds; 10,000 tracks, ten).
    /// A track the model cannot take is a 422; any other failure a 500 whose cause goes to the
    /// log ([`ApiError::scoring`]).
    async fn score(
        self: &Arc<Self>,
        tracks: Vec<TrackRequest>,
        explain: bool,
    ) -> Result<Vec<Scored>, ApiError> {
        let model = self.model();
        self.score_with(&model.predictor, tracks, explain).await
    }

    /// [`AppState::score`] adapted to the batch's base rate as EM estimates it from the model's
    /// answers: the answers, and the estimate they were adapted to or why it was refused (then
    /// the answers are the model's own).
    async fn score_adapted(
        self: &Arc<Self>,
        tracks: Vec<TrackRequest>,
        explain: bool,
    ) -> Result<(Vec<Scored>, Result<PriorEstimate, PriorError>), ApiError> {
        let predictor = self.model().predictor.clone();
        let model = predictor.clone();
        let (tracks, outcome) = access::spawn_in_slot(move || {
            let mut evidence = model.evidence();
            let inputs: Vec<_> = tracks.iter().map(TrackRequest::input).collect();
            let gathered = model.gather(&inputs, &mut evidence);
            drop(inputs);
            gathered.map(|()| (tracks, model.estimate_prior(&evidence)))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::scoring)?;
        match outcome {
            Ok(estimate) => {
                let adapted = predictor.with_prior(estimate.estimate);
                let scored = self.score_with(&adapted, tracks, explain).await?;
                Ok((scored, Ok(estimate)))
            }
            Err(refused) => {
                let scored = self.score_with(&predictor, tracks, explain).await?;
                Ok((scored, Err(refused)))
            }
        }
    }

    async fn score_with(
        self: &Arc<Self>,
        predictor: &Predictor,
        tracks: Vec<TrackRequest>,
        explain: bool,
    ) -> Result<Vec<Scored>, ApiError> {
        let sampled = explain && predictor.explanations_sample();
        let samples = self.limits.explanation_samples;
        let scored = if tracks.len() <= INLINE_TRACKS && !sampled {
            score::score(predictor, &tracks, explain, samples).map_err(ApiError::scoring)?
        } else {
            // A copy of the predictor is two pointers and flags: its models are shared.
            let predictor = predictor.clone();
            access::spawn_in_slot(move || score::score(&predictor, &tracks, explain, samples))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::scoring)?
        };
        self.metrics
            .answered(scored.iter().map(|s| s.answer.chance.model));
        Ok(scored)
    }

    /// Scores and explains one track.
    async fn score_one(self: &Arc<Self>, track: TrackRequest) -> Result<Scored, ApiError> {
        self.score(vec![track], true)
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal("no prediction came back"))
    }
}

/// The app's routes, with its limits applied. Every request passes, outermost first: the error
/// bodies (around the routing), its id and trace, the metrics, the key check, a compressed
/// body's 415, the slot (or a 503), then the route's own body limit and timeout.
pub fn router(state: Arc<AppState>) -> Router {
    let routed = routes(&state)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::shed,
        ))
        .layer(axum::middleware::from_fn(encoding::refuse_compressed))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::require_key,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(trace::layer())
        .layer(axum::middleware::from_fn(trace::request_id));
    // A router's layers wrap each route; this one wraps the routing itself (see `fill_empty`).
    Router::new()
        .fallback_service(routed)
        .layer(axum::middleware::from_fn_with_state(
            state,
            fill::fill_empty,
        ))
}

/// The routes with their body limits and timeout, without the layers every request passes: what
/// the API docs page sends its examples through (they are not clients' requests, so they are
/// neither counted, keyed nor shed).
fn routes(state: &Arc<AppState>) -> Router {
    let limits = state.limits;
    let mut app = Router::new()
        .route("/", get(pages::welcome))
        .route(
            "/predict",
            get(pages::predict_get).post(pages::predict_post),
        )
        .route("/predict/result", post(pages::result_fragment))
        .route(
            "/predict/audio",
            post(pages::predict_audio).layer(DefaultBodyLimit::max(audio::route_limit(&limits))),
        )
        .route("/compare", get(pages::compare))
        .route("/explore", get(pages::explore))
        .route("/models", get(pages::models))
        .route("/assets/app.css", get(pages::css))
        .route("/assets/app.js", get(pages::js))
        .route("/api/v1/predict", post(api::predict))
        .route(
            "/api/v1/predict/audio",
            post(audio::predict_audio).layer(DefaultBodyLimit::max(audio::route_limit(&limits))),
        )
        .route("/api/v1/model", get(api::model))
        .route("/api/v1/tracks", get(api::tracks))
        .route("/api/v1/what-if", post(api::what_if))
        .route("/api/v1/similar", post(api::similar))
        .route("/api/docs", get(pages::docs))
        .route("/api/openapi.json", get(api::openapi))
        .route("/healthz", get(api::health))
        .route("/metrics", get(metrics::render))
        .merge(v2::routes());
    if state.options.admin_key.is_some() {
        app = app.route("/admin/reload", post(admin::reload));
    }
    app.fallback(not_found)
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        // Outside the request timeout: a large file takes as long as its upload and scoring
        // take, and streams its answers as they come.
        .merge(
            Router::new()
                .route(
                    "/predict/batch",
                    post(pages::predict_batch).layer(DefaultBodyLimit::max(
                        limits.batch_file_bytes.saturating_add(64 << 10),
                    )),
                )
                .with_state(state.clone()),
        )
}

async fn not_found(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    if is_for_programs(uri.path()) {
        api::not_found(uri.path(), &state.options.model_name)
    } else {
        pages::not_found(uri.path())
    }
}

/// Whether `path` is for programs, whose errors are `{"error": ...}` (the JSON API, the Open
/// Inference routes, the admin, health and metrics endpoints), rather than a page for people.
pub(crate) fn is_for_programs(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under("/api") || under("/v2") || under("/admin") || path == "/metrics" || path == "/healthz"
}

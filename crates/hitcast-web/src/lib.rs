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

pub mod api;
mod audio;
mod batch;
pub mod catalog;
mod error;
mod openapi;
pub mod pages;
pub mod score;
mod trace;
pub mod track;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use hitcast::models::ModelError;
use hitcast::predictor::Predictor;
use hitcast::prior::{PriorError, PriorEstimate};
use hitcast::report::PART_FILES;
use tokio::net::TcpListener;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use catalog::{Catalog, LazyCatalog};
use error::ApiError;
use pages::Typical;
use score::Scored;
use track::TrackRequest;

/// Up to this many tracks (exact explanations only) are scored on the async thread: moving
/// them to the blocking pool costs more than scoring them.
const INLINE_TRACKS: usize = 16;

/// What a request may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body. Default 1 MiB.
    pub body_bytes: usize,
    /// Most tracks in one API call. Default 10,000.
    pub batch: usize,
    /// Requests handled at once; more wait their turn. Default 64.
    pub concurrency: usize,
    /// Longest time one request may take. Default 30 s.
    pub timeout: Duration,
    /// Most tracks one call may ask the sampling explanation for (the network and the stack:
    /// about 50 ms each). Default 100.
    pub sampled_explanations: usize,
    /// (background row, order) samples per sampled explanation. Default 128.
    pub explanation_samples: usize,
    /// Largest audio file `POST /api/v1/predict/audio` takes. Default 64 MB: a WAV of six
    /// minutes, an MP3 of 45 at 192 kbit/s.
    pub audio_bytes: usize,
    /// Audio files read and measured at once (each takes a core for about 0.3 s a 3-minute
    /// MP3); more wait their turn. Uploads hold at most `audio_bytes` times this in memory.
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
            body_bytes: 1 << 20,
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
        Ok(ReportPages {
            models: read(PART_FILES[0])?,
            data: read(PART_FILES[1])?,
            source: dir.to_owned(),
        })
    }
}

/// Everything a request handler reads.
pub struct AppState {
    predictor: Predictor,
    typical: Typical,
    catalog: LazyCatalog,
    report: Option<ReportPages>,
    limits: Limits,
    /// One permit an audio file being read or measured ([`Limits::audio_concurrency`]).
    audio_permits: tokio::sync::Semaphore,
    /// One permit a file of tracks being received or scored ([`Limits::batch_files`]).
    batch_permits: Arc<tokio::sync::Semaphore>,
    /// The API's OpenAPI document, built once: it depends on the limits only.
    openapi: serde_json::Value,
}

impl AppState {
    /// The state of a server of `predictor`.
    pub fn new(
        predictor: Predictor,
        catalog: LazyCatalog,
        report: Option<ReportPages>,
        limits: Limits,
    ) -> Result<AppState, WebError> {
        let typical = Typical::of(&predictor);
        let openapi = openapi::document(&limits);
        Ok(AppState {
            openapi,
            predictor,
            typical,
            catalog,
            report,
            audio_permits: tokio::sync::Semaphore::new(limits.audio_concurrency.max(1)),
            batch_permits: Arc::new(tokio::sync::Semaphore::new(limits.batch_files.max(1))),
            limits,
        })
    }

    /// Scores tracks: a few with an exact method in place (tens of microseconds), the rest off
    /// the async threads (a sampled explanation takes tens of milliseconds; 10,000 tracks, ten).
    /// A failure is a 500 whose cause goes to the log ([`ApiError::internal`]).
    async fn score(
        self: &Arc<Self>,
        tracks: Vec<TrackRequest>,
        explain: bool,
    ) -> Result<Vec<Scored>, ApiError> {
        self.score_with(&self.predictor, tracks, explain).await
    }

    /// [`AppState::score`] adapted to the batch's base rate as EM estimates it from the model's
    /// answers: the answers, and the estimate they were adapted to or why it was refused (then
    /// the answers are the model's own).
    async fn score_adapted(
        self: &Arc<Self>,
        tracks: Vec<TrackRequest>,
        explain: bool,
    ) -> Result<(Vec<Scored>, Result<PriorEstimate, PriorError>), ApiError> {
        let state = Arc::clone(self);
        let (tracks, outcome) = tokio::task::spawn_blocking(move || {
            let mut evidence = state.predictor.evidence();
            let inputs: Vec<_> = tracks.iter().map(TrackRequest::input).collect();
            let gathered = state.predictor.gather(&inputs, &mut evidence);
            drop(inputs);
            gathered.map(|()| (tracks, state.predictor.estimate_prior(&evidence)))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        match outcome {
            Ok(estimate) => {
                let adapted = self.predictor.clone().with_prior(estimate.estimate);
                let scored = self.score_with(&adapted, tracks, explain).await?;
                Ok((scored, Ok(estimate)))
            }
            Err(refused) => {
                let scored = self.score(tracks, explain).await?;
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
        if tracks.len() <= INLINE_TRACKS && !sampled {
            return score::score(predictor, &tracks, explain, samples).map_err(ApiError::internal);
        }
        // A copy of the predictor is two pointers and flags: its models are shared.
        let predictor = predictor.clone();
        tokio::task::spawn_blocking(move || score::score(&predictor, &tracks, explain, samples))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    /// Scores and explains one track.
    async fn score_one(self: &Arc<Self>, track: TrackRequest) -> Result<Scored, ApiError> {
        self.score(vec![track], true)
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal("no prediction came back"))
    }
}

/// The app's routes, with its limits applied.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.limits;
    Router::new()
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
        .fallback(not_found)
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
        .layer(ConcurrencyLimitLayer::new(limits.concurrency))
        .layer(axum::middleware::from_fn_with_state(
            state,
            error::fill_empty,
        ))
        .layer(trace::layer())
        .layer(axum::middleware::from_fn(trace::request_id))
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api::not_found(uri.path())
    } else {
        pages::not_found(uri.path())
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

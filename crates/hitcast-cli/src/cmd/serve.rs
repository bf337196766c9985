//! `hitcast serve`: the web app and the JSON API over a saved model.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use hitcast::data::Tracks;
use hitcast_web::{
    reload_on_hangup, router, serve, stop_signal, ApiKey, AppState, Catalogue, LazyCatalogue,
    Limits, Options, ReportPages, Signals,
};

use crate::dataset::{sha256_file, DataArgs};
use crate::flags::{at_least_1, whole_in};
use crate::model_file::load_served;
use crate::Globals;

/// Flags of `hitcast serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The saved model (from `hitcast train`).
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A directory written by `hitcast report`, for the Explore and Models pages.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// The dataset, so the prediction page can load real tracks (loaded in the background; if it
    /// cannot be found the rest of the app works without it).
    #[command(flatten)]
    data: DataArgs,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", value_parser = at_least_1::<usize>, default_value_t = Limits::default().body_bytes)]
    body_limit: usize,
    /// Most tracks in one API call (JSON batch or Open Inference Protocol request).
    #[arg(long, value_name = "N", value_parser = at_least_1::<usize>, default_value_t = Limits::default().batch)]
    max_batch: usize,
    /// Requests answered at once; one more is refused at once with 503 and Retry-After (health
    /// checks and /metrics excepted).
    #[arg(long, value_name = "N", value_parser = at_least_1::<usize>, default_value_t = Limits::default().concurrency)]
    max_concurrency: usize,
    /// Longest time one request may take, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = Limits::default().timeout.as_secs())]
    timeout: u64,
    /// Largest audio file `POST /api/v1/predict/audio` and the Predict page take, in bytes.
    #[arg(long, value_name = "BYTES", value_parser = at_least_1::<usize>, default_value_t = Limits::default().audio_bytes)]
    audio_limit: usize,
    /// Audio files read and measured at once; more wait their turn (uploads hold at most
    /// --audio-limit times this in memory).
    #[arg(long, value_name = "N", value_parser = at_least_1::<usize>, default_value_t = Limits::default().audio_concurrency)]
    audio_concurrency: usize,
    /// Largest file of tracks the Predict page's upload box (POST /predict/batch) takes, in
    /// bytes; it is kept on disk while it is scored, not in memory.
    #[arg(long, value_name = "BYTES", value_parser = at_least_1::<usize>, default_value_t = Limits::default().batch_file_bytes)]
    batch_file_limit: usize,
    /// On SIGTERM or Ctrl-C: stop accepting, then give requests in flight this long to finish,
    /// in seconds (a second signal ends them at once); the server exits 0 either way.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 30)]
    shutdown_timeout: u64,
    /// On SIGTERM or Ctrl-C, first keep answering for this long, in seconds, new connections
    /// included, while readiness (/v2/health/ready, a model's ready route) answers 400, not ready: time
    /// for a load balancer to stop sending requests before connections are refused. A second
    /// signal stops the server at once.
    #[arg(long, value_name = "SECONDS", value_parser = whole_in::<u64, 0, 86_400>, default_value_t = 0)]
    shutdown_delay: u64,
    /// The model's name in the Open Inference Protocol's routes (/v2/models/NAME/infer).
    #[arg(long, value_name = "NAME", default_value = "hitcast", value_parser = a_name)]
    model_name: String,
    /// A file holding the API key (its first line): every route but the health checks then
    /// needs 'Authorization: Bearer KEY', which a browser cannot send (the pages then say so).
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// A file holding the admin key: POST /admin/reload (reload the model file) exists only
    /// with it, and needs 'Authorization: Bearer KEY'. SIGHUP reloads too, with no key.
    #[arg(long, value_name = "FILE")]
    admin_key_file: Option<PathBuf>,
}

/// `--timeout`: 1 second to a day (a deadline past that would overflow the clock's arithmetic).
fn seconds(text: &str) -> Result<u64, String> {
    let n = at_least_1::<u64>(text)?;
    if n > 86_400 {
        return Err("must be at most 86400 (a day)".to_owned());
    }
    Ok(n)
}

/// The model's name in routes: one path segment of letters, digits, `.`, `_` and `-`.
fn a_name(text: &str) -> Result<String, String> {
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if text.is_empty() || !text.chars().all(fits) {
        Err("expected a name for the routes' path: letters, digits, '.', '_' or '-'".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

impl ServeArgs {
    /// Loads the model and serves until Ctrl-C or SIGTERM.
    pub fn run(self, _globals: Globals) -> anyhow::Result<()> {
        let started = Instant::now();
        let key = |file: &Option<PathBuf>| file.as_deref().map(ApiKey::read).transpose();
        let options = Options {
            model_name: self.model_name.clone(),
            api_key: key(&self.api_key_file)?,
            admin_key: key(&self.admin_key_file)?,
        };
        let report = self.report.as_deref().map(ReportPages::load).transpose()?;
        let limits = Limits {
            body_bytes: self.body_limit,
            batch: self.max_batch,
            concurrency: self.max_concurrency,
            timeout: Duration::from_secs(self.timeout),
            audio_bytes: self.audio_limit,
            audio_concurrency: self.audio_concurrency,
            batch_file_bytes: self.batch_file_limit,
            ..Limits::default()
        };
        let header_timeout = limits.timeout;
        for disagreement in limits.disagreements() {
            tracing::warn!("{disagreement}");
        }
        // The file is read and checked once; the catalogue starts loading once it is known good.
        let served = load_served(&self.model)?;
        let catalogue = catalogue(
            self.data.clone(),
            served.predictor.metadata().data_sha256.clone(),
        );
        let state = AppState::from_file(served, &self.model, catalogue, report, limits)
            .with_options(options);
        let state = Arc::new(state);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let outcome = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(self.addr)
                .await
                .with_context(|| format!("cannot listen on {}", self.addr))?;
            let addr = listener.local_addr()?;
            // The handlers first: a signal sent as soon as the line below appears is caught.
            let signals = Signals::listen();
            reload_on_hangup(Arc::clone(&state));
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "hitcast serve: listening on http://{addr} (model {}, ready in {} ms); Ctrl-C to stop, SIGHUP to reload the model",
                self.model.display(),
                started.elapsed().as_millis()
            )?;
            out.flush()?;
            drop(out);
            let drain = Duration::from_secs(self.shutdown_timeout);
            let stop = stop_signal(
                Arc::clone(&state),
                Duration::from_secs(self.shutdown_delay),
                signals.clone(),
            );
            let now = signals.count(2);
            serve(listener, router(state), stop, now, drain, header_timeout).await?;
            println!("hitcast serve: stopped");
            anyhow::Ok(())
        });
        // Not a plain drop, which would wait for scoring still running on the blocking threads
        // (a dropped request's work) as long as it takes: a moment for the dropped requests'
        // clean-up (an upload's temporary file), then the process ends.
        runtime.shutdown_timeout(Duration::from_secs(2));
        outcome
    }
}

/// The dataset's tracks, loaded on a background thread; a warning in the log if the file is not
/// the one the model was trained on (the page says so in plain words).
fn catalogue(data: DataArgs, model_sha256: String) -> LazyCatalogue {
    LazyCatalogue::spawn(move || {
        let load = || -> anyhow::Result<Catalogue> {
            let path = data.path()?;
            let loaded = data.load()?;
            let tracks = Tracks::collapse(loaded.rows);
            let source_sha256 = sha256_file(&path)?;
            if source_sha256 != model_sha256 {
                tracing::warn!(
                    "{} is not the file the model was trained on (SHA-256 differs): search and \
                     similar tracks come from it; pass the training file with --data (and its \
                     --map) to search the model's own catalogue",
                    path.display()
                );
            }
            let catalogue = Catalogue::new(tracks, source_sha256);
            tracing::info!(
                "real tracks loaded: {} tracks from {}",
                hitcast::text::thousands(catalogue.len() as u64),
                path.display()
            );
            Ok(catalogue)
        };
        load().map_err(|e| {
            tracing::warn!("real tracks cannot be loaded: {e:#}");
            format!("{e:#}")
        })
    })
}

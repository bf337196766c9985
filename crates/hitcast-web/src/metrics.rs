//! `GET /metrics`: the server's metrics in the Prometheus text format (OpenMetrics 1.0).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `hitcast_http_requests_total` | counter | `method` (a method outside HTTP's common seven is `other`), `route`, `status` (499: the client hung up first) |
//! | `hitcast_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `hitcast_http_requests_in_flight` | gauge | |
//! | `hitcast_http_requests_shed_total` | counter | (503s for want of a free slot) |
//! | `hitcast_answers_total` | counter | `model`: which model answered (main, new-song, no-genres, from-audio) |
//! | `hitcast_model_reloads_total` | counter | `result`: ok, failed |
//! | `hitcast_model_info` | gauge, 1 | `name`, `sha256`, `hitcast_version`, `classifier` |
//! | `hitcast_model_trained_timestamp_seconds` | gauge | when the model file was written |
//! | `hitcast_model_loaded_timestamp_seconds` | gauge | when this server loaded it |
//! | `process_*` | | CPU seconds, resident and virtual memory, open and most file descriptors, threads, start time (Linux) |
//!
//! `route` is the route's pattern (`/v2/models/{name}/infer`), never the path a client sent,
//! so a scan of made-up paths adds one series (`unmatched`), not one a path. Each server has a
//! registry of its own, so servers in one process (the tests) count apart.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hitcast::artifact::Role;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::error::ApiError;
use crate::live::LiveModel;
use crate::AppState;

/// Latency buckets, seconds: from a one-track answer (well under a millisecond) to a sampled
/// explanation of a large batch (seconds).
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// One server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
    shed: Counter,
    answers: Family<ModelLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
}

impl Metrics {
    /// The metrics of a server of `model`, named `name`.
    pub(crate) fn new(model: Arc<LiveModel>, name: &str) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "hitcast_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(BUCKETS)) as fn() -> Histogram,
        );
        registry.register_with_unit(
            "hitcast_http_request_duration",
            "Time from a request's arrival to its answer's head",
            Unit::Seconds,
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "hitcast_http_requests_in_flight",
            "Requests being answered now",
            in_flight.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "hitcast_http_requests_shed",
            "Requests refused with 503 because every slot (--max-concurrency) was taken",
            shed.clone(),
        );
        let answers = Family::<ModelLabels, Counter>::default();
        for role in Role::ALL {
            // Every model's series exists from the start, at 0, so rates need no absent series.
            let _ = answers.get_or_create(&ModelLabels { model: role.name() });
        }
        registry.register(
            "hitcast_answers",
            "Tracks answered, by which model answered",
            answers.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        for result in ["ok", "failed"] {
            let _ = reloads.get_or_create(&ResultLabels { result });
        }
        registry.register(
            "hitcast_model_reloads",
            "Model reloads (SIGHUP, POST /admin/reload), by result",
            reloads.clone(),
        );
        registry.register_collector(Box::new(ModelCollector {
            model,
            name: name.to_owned(),
        }));
        registry.register_collector(Box::new(ProcessCollector));
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            shed,
            answers,
            reloads,
        }
    }

    /// Counts tracks answered by each model.
    pub(crate) fn answered(&self, models: impl Iterator<Item = Role>) {
        for model in models {
            self.answers
                .get_or_create(&ModelLabels {
                    model: model.name(),
                })
                .inc();
        }
    }

    /// Counts one reload.
    pub(crate) fn reloaded(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// Counts one request shed for want of a slot.
    pub(crate) fn shed(&self) {
        self.shed.inc();
    }

    /// The exposition text.
    fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Middleware: counts and times every request under its route's pattern.
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    // Any token is a method: a client's own would add series without bound.
    let method = match *request.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::OPTIONS => request.method().as_str(),
        _ => "other",
    }
    .to_owned();
    let mut request_in_flight = InFlight::new(&state.metrics, method, route);
    let response = next.run(request).await;
    request_in_flight.answered(response.status().as_u16());
    response
}

/// A request's place in `in_flight`, held until it is answered or dropped: a client that hangs
/// up drops the request mid-way, and it is then counted with status 499 (nginx's "client closed
/// request"), so the gauge comes back down and every request is counted once.
struct InFlight<'a> {
    metrics: &'a Metrics,
    route: RouteLabels,
    started: Instant,
    status: u16,
}

impl<'a> InFlight<'a> {
    fn new(metrics: &'a Metrics, method: String, route: String) -> InFlight<'a> {
        metrics.in_flight.inc();
        InFlight {
            metrics,
            route: RouteLabels { method, route },
            started: Instant::now(),
            status: CLIENT_CLOSED,
        }
    }

    fn answered(&mut self, status: u16) {
        self.status = status;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let m = self.metrics;
        m.in_flight.dec();
        m.latency
            .get_or_create(&self.route)
            .observe(self.started.elapsed().as_secs_f64());
        m.requests
            .get_or_create(&RequestLabels {
                method: self.route.method.clone(),
                route: self.route.route.clone(),
                status: self.status,
            })
            .inc();
    }
}

/// The status a request the client gave up on is counted with.
const CLIENT_CLOSED: u16 = 499;

/// [`CLIENT_CLOSED`] as an answer's status: for a request whose client left while it was read.
pub(crate) fn client_closed() -> StatusCode {
    StatusCode::from_u16(CLIENT_CLOSED).unwrap_or(StatusCode::BAD_REQUEST)
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<Arc<AppState>>) -> Response {
    match state.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            ApiError::internal(format!("the metrics could not be written: {e}")).into_response()
        }
    }
}

/// The model's identity, read at each scrape, so a reload shows at once.
#[derive(Debug)]
struct ModelCollector {
    model: Arc<LiveModel>,
    name: String,
}

impl Collector for ModelCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let served = self.model.current();
        let m = served.predictor.metadata();
        let labels = [
            ("name", self.name.clone()),
            ("sha256", served.sha256.clone()),
            ("hitcast_version", m.hitcast_version.clone()),
            ("classifier", classifier_family(&m.classifier)),
        ];
        let info = ConstGauge::new(1i64);
        let mut family = encoder.encode_descriptor(
            "hitcast_model_info",
            "The model answering now: its name, file checksum, writer and classifier",
            None,
            info.metric_type(),
        )?;
        info.encode(family.encode_family(&labels)?)?;
        for (name, help, value) in [
            (
                "hitcast_model_trained_timestamp",
                "When the model file was written (Unix time)",
                m.created_unix as f64,
            ),
            (
                "hitcast_model_loaded_timestamp",
                "When this server loaded the model answering now (Unix time)",
                served.loaded_unix,
            ),
        ] {
            let gauge = ConstGauge::new(value);
            let metric =
                encoder.encode_descriptor(name, help, Some(&Unit::Seconds), gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

/// The classifier's family as the CLI names it (`gbm`, `stack`, ...).
fn classifier_family(spec: &hitcast::models::ModelSpec) -> String {
    spec.classifier_kind()
        .and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The process's CPU time, memory, file descriptors and threads, read from `/proc` at each
/// scrape (Linux; elsewhere nothing). Written here: the crates that read them report to other
/// metrics libraries' registries, not to `prometheus-client`'s.
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(p) = crate::process::Process::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(p.cpu_seconds);
        let metric = encoder.encode_descriptor(
            "process_cpu",
            "User and system CPU time spent",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?;
        cpu.encode(metric)?;
        for (name, help, unit, value) in [
            (
                "process_resident_memory",
                "Resident memory size",
                Some(Unit::Bytes),
                p.resident_bytes,
            ),
            (
                "process_virtual_memory",
                "Virtual memory size",
                Some(Unit::Bytes),
                p.virtual_bytes,
            ),
            (
                "process_start_time",
                "Start time of the process since the Unix epoch",
                Some(Unit::Seconds),
                p.start_unix,
            ),
            (
                "process_open_fds",
                "Open file descriptors",
                None,
                p.open_fds,
            ),
            (
                "process_max_fds",
                "Most open file descriptors",
                None,
                p.max_fds,
            ),
            ("process_threads", "OS threads", None, p.threads),
        ] {
            if value.is_nan() {
                continue;
            }
            let gauge = ConstGauge::new(value);
            let metric =
                encoder.encode_descriptor(name, help, unit.as_ref(), gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

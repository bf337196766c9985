//! Who may call, and how many at once: the API key, the admin key, and load shedding.
//!
//! - With an API key ([`crate::Options::api_key`]) every route but the health checks
//!   (`/healthz`, `/v2/health/live`, `/v2/health/ready`) and the pages' style and script needs
//!   `Authorization: Bearer KEY`; without it the answer is a 401, with a JSON body for programs'
//!   routes and a page for the pages'. `/admin/...` takes the admin key instead.
//! - Keys are compared in constant time (their SHA-256 digests, so not even the length leaks)
//!   and never written to a log or an answer.
//! - At most [`crate::Limits::concurrency`] requests are answered at once. One more is refused
//!   at once with a 503 and `Retry-After`, not queued: a queue without a bound turns a burst
//!   into timeouts for everyone. Health checks and `/metrics` are never shed, so a busy server
//!   is not taken for a dead one.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::AppState;

/// Seconds a shed client is told to wait.
const RETRY_AFTER: u32 = 1;

/// A secret a client must present as `Authorization: Bearer KEY`. Its `Debug` shows nothing of
/// it.
#[derive(Clone)]
pub struct ApiKey {
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// Unreadable.
    #[error("{path}: cannot read the key file")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Empty, or not a key a header can carry.
    #[error("{path}: the key file must hold one line of at least 16 printable ASCII characters, without spaces")]
    Unusable {
        /// The file.
        path: std::path::PathBuf,
    },
}

impl ApiKey {
    /// The key in the file at `path`: its first line, trimmed.
    pub fn read(path: &Path) -> Result<ApiKey, ApiKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ApiKeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let line = text.lines().next().unwrap_or_default().trim();
        ApiKey::new(line).ok_or_else(|| ApiKeyError::Unusable {
            path: path.to_owned(),
        })
    }

    /// `text` as a key: at least 16 printable ASCII characters, no spaces.
    pub fn new(text: &str) -> Option<ApiKey> {
        let usable = text.len() >= 16 && text.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| ApiKey {
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    /// Whether `headers` carry this key as a bearer token.
    fn presented_in(&self, headers: &HeaderMap) -> bool {
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
        else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
    }
}

/// Health checks: open without a key and never shed. With a slash after, the path is no route,
/// and its 404 needs no key either (a 401 would send the operator looking for one).
fn is_health(path: &str) -> bool {
    matches!(
        path.strip_suffix('/').unwrap_or(path),
        "/healthz" | "/v2/health/live" | "/v2/health/ready"
    )
}

/// The pages' style and script: the same for everyone, and what the key's own page is drawn with.
fn is_style(path: &str) -> bool {
    matches!(path, "/assets/app.css" | "/assets/app.js")
}

/// Middleware: the API key on every route but the health checks, the admin key on `/admin/`.
pub(crate) async fn require_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let (key, which) = if path.starts_with("/admin/") {
        (state.options.admin_key.as_ref(), "the admin key")
    } else {
        (state.options.api_key.as_ref(), "the API key")
    };
    match key {
        Some(key)
            if !is_health(path) && !is_style(path) && !key.presented_in(request.headers()) =>
        {
            // A person at a browser, which cannot send the header, gets a page that says so.
            let mut answer = if crate::is_for_programs(path) {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    format!("this server needs {which}: send it as 'Authorization: Bearer KEY'"),
                )
                .into_response()
            } else {
                // No link: every page would answer the same.
                crate::pages::error_page_back(
                    StatusCode::UNAUTHORIZED,
                    "This server asks for an API key, which a browser cannot send: its pages are for servers started without --api-key-file, or behind a sign-in of your own (programs send the key as 'Authorization: Bearer KEY')",
                    None,
                )
            };
            answer.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hitcast\""),
            );
            answer
        }
        _ => next.run(request).await,
    }
}

/// Middleware: one slot a request; none free, a 503 with `Retry-After`.
pub(crate) async fn shed(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if is_health(path) || path == "/metrics" {
        return next.run(request).await;
    }
    let Ok(slot) = Arc::clone(&state.permits).try_acquire_owned() else {
        state.metrics.shed();
        let n = state.limits.concurrency;
        if state.shed_said.due() {
            let slots = if n == 1 {
                "its one slot is busy".to_owned()
            } else {
                format!("all {n} slots are busy")
            };
            tracing::warn!(
                "turning requests away with 503: {slots} (--max-concurrency); \
                 hitcast_http_requests_shed_total counts them (said at most once every {} s)",
                state.shed_said.seconds
            );
        }
        let requests = if n == 1 { "request" } else { "requests" };
        let message = format!(
            "the server is answering {n} {requests}, its most at once (--max-concurrency): try again in {RETRY_AFTER} s"
        );
        let mut answer = if crate::is_for_programs(path) {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).into_response()
        } else {
            crate::pages::error_page(StatusCode::SERVICE_UNAVAILABLE, &message)
        };
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER));
        return answer;
    };
    SLOT.scope(Arc::new(slot), next.run(request)).await
}

/// A log line said at most once every `seconds`: load shedding answers every request of a
/// burst, and a line each would flood the log.
#[derive(Debug)]
pub(crate) struct Throttled {
    seconds: u64,
    /// Seconds since the Unix epoch when it was last said (0: never).
    last: AtomicU64,
}

impl Throttled {
    pub(crate) fn every(seconds: u64) -> Throttled {
        Throttled {
            seconds,
            last: AtomicU64::new(0),
        }
    }

    /// Whether to say it now (and remember that it was).
    fn due(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last.load(Ordering::Relaxed);
        now >= last + self.seconds
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

tokio::task_local! {
    /// The slot of the request this task answers. Work it hands to a blocking thread takes a
    /// share ([`slot_share`]), so a request that timed out (408) while its work runs on keeps
    /// its slot until that work ends: `--max-concurrency` bounds the work, not only the
    /// requests waiting for it.
    static SLOT: Arc<OwnedSemaphorePermit>;
}

/// A share of the current request's slot, to move into work that may outlive the request;
/// `None` outside one (health checks, `/metrics`, tests without the middleware).
fn slot_share() -> Option<Arc<OwnedSemaphorePermit>> {
    SLOT.try_with(Arc::clone).ok()
}

/// Runs `work` on a blocking thread that holds a share of the current request's slot until the
/// work ends, however the request ends (answered, timed out, or its client gone).
pub(crate) fn spawn_in_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let slot = slot_share();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_handed_off_holds_the_requests_slot_until_it_ends() {
        let permits = Arc::new(tokio::sync::Semaphore::new(1));
        let slot = Arc::clone(&permits).try_acquire_owned().unwrap();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let work = SLOT.sync_scope(Arc::new(slot), || {
            spawn_in_slot(move || wait.recv().is_ok())
        });
        // The request is over (a 408, say); its work is not: the slot stays taken.
        assert_eq!(permits.available_permits(), 0);
        go.send(()).unwrap();
        assert!(work.await.unwrap());
        assert_eq!(permits.available_permits(), 1);
        // Outside a request, work holds nothing.
        assert!(spawn_in_slot(|| true).await.unwrap());
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn a_throttled_line_is_said_once_a_period() {
        let said = Throttled::every(3600);
        assert!(said.due());
        assert!(!said.due());
    }

    #[test]
    fn only_the_key_itself_opens() {
        let key = ApiKey::new("s3cret-s3cret-s3cret").unwrap_or_else(|| panic!("a usable key"));
        assert!(key.presented_in(&bearer("s3cret-s3cret-s3cret")));
        let mut lower = bearer("s3cret-s3cret-s3cret");
        lower.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer s3cret-s3cret-s3cret"),
        );
        assert!(key.presented_in(&lower));
        for wrong in ["s3cret-s3cret-s3cre", "s3cret-s3cret-s3cret2", ""] {
            assert!(!key.presented_in(&bearer(wrong)), "{wrong:?}");
        }
        assert!(!key.presented_in(&HeaderMap::new()));
        let mut basic = HeaderMap::new();
        basic.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic s3cret-s3cret-s3cret"),
        );
        assert!(!key.presented_in(&basic));
        assert_eq!(format!("{key:?}"), "ApiKey(..)");
    }

    #[test]
    fn short_or_spaced_keys_are_refused() {
        assert!(ApiKey::new("short").is_none());
        assert!(ApiKey::new("has a space in it, long").is_none());
        assert!(ApiKey::new("0123456789abcdef").is_some());
    }
}

//! Operations on a running server: reloading its model, on `POST /admin/reload` (which exists
//! only with an admin key) and on SIGHUP.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::live::ReloadError;
use crate::AppState;

/// `POST /admin/reload`: `{"reloaded": true, "sha256", "loaded_unix"}`, or why the old model
/// stays (409 with no file to read, 422 for a file that cannot serve, with the reason: the
/// caller holds the admin key; not a 500, as the server is well and the file is not). A reload
/// whose thread failed is the server's fault: a 500.
pub(crate) async fn reload(State(state): State<Arc<AppState>>) -> Response {
    match state.reload().await {
        Ok(served) => Json(json!({
            "reloaded": true,
            "sha256": served.sha256,
            "loaded_unix": served.loaded_unix,
        }))
        .into_response(),
        Err(e @ ReloadError::NoFile) => {
            ApiError::new(StatusCode::CONFLICT, e.to_string()).into_response()
        }
        Err(e @ ReloadError::Load { .. }) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e @ ReloadError::Stopped(_)) => ApiError::internal(e).into_response(),
    }
}

/// Reloads the model on every SIGHUP until the process ends (Unix; elsewhere, never), on a
/// task of the current runtime. The handler is in place when this returns: a SIGHUP sent as
/// soon as the server says it listens reloads rather than ends it.
pub fn reload_on_hangup(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("SIGHUP cannot be caught here: reload with POST /admin/reload");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                // The outcome is logged and counted by the reload itself.
                let _ = state.reload().await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = state;
}

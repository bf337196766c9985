//! The model a server answers with, and its reload without downtime.
//!
//! A request takes the model that is current when it starts ([`LiveModel::current`], an
//! `Arc`) and answers with it to the end, so a reload never mixes two models in one answer.
//! [`LiveModel::reload`] reads the file again, checks it as fully as a start does (checksum,
//! then every part against the others: [`Predictor::new`]) and only then swaps it in; a file
//! that fails leaves the old model answering. Reloads run one at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use hitcast::artifact::{Artifact, ArtifactError};
use hitcast::predictor::Predictor;
use sha2::{Digest, Sha256};

use crate::pages::Typical;

/// One loaded model and what the server derives from it once.
pub struct Served {
    /// The model.
    pub predictor: Predictor,
    /// The form's typical track, from the model's background rows.
    pub(crate) typical: Typical,
    /// SHA-256 of the model file, hex (`sha256sum` prints the same); empty for a model that was
    /// not read from a file.
    pub sha256: String,
    /// When it was loaded, in seconds since the Unix epoch.
    pub loaded_unix: f64,
}

impl Served {
    /// `predictor`, loaded now, from a file with checksum `sha256`.
    pub fn new(predictor: Predictor, sha256: String) -> Served {
        Served {
            typical: Typical::of(&predictor),
            predictor,
            sha256,
            loaded_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }

    /// Reads and checks the model file at `path`. The checksum is of the bytes that were
    /// checked, so a file replaced while it is read cannot be named by the other's sum.
    pub fn load(path: &Path) -> Result<Served, ArtifactError> {
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            path: path.to_owned(),
            action: "read",
            source,
        })?;
        let predictor = Predictor::new(Artifact::from_bytes(&bytes)?)?;
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Served::new(predictor, sha256))
    }
}

/// Why a reload left the old model in place.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The server was given a model, not a file, so there is nothing to read again.
    #[error("this server's model was not read from a file: there is nothing to reload")]
    NoFile,
    /// The file cannot serve.
    #[error("{}; the model loaded before keeps answering", .source.about(.path))]
    Load {
        /// The model file.
        path: PathBuf,
        /// Why.
        source: ArtifactError,
    },
    /// The reload's thread failed.
    #[error("the reload stopped: {0}")]
    Stopped(String),
}

/// The current model, swapped whole on reload.
pub struct LiveModel {
    current: ArcSwap<Served>,
    /// The file a reload reads; `None` for a model given in memory.
    source: Option<PathBuf>,
    /// Reloads one at a time: two at once would read the file twice for one swap.
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for LiveModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveModel")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl LiveModel {
    /// Serves `served`; reloads read `source`.
    pub fn new(served: Served, source: Option<PathBuf>) -> LiveModel {
        LiveModel {
            current: ArcSwap::from_pointee(served),
            source,
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The model answering now. Hold the `Arc` for a whole request.
    pub fn current(&self) -> Arc<Served> {
        self.current.load_full()
    }

    /// The file reloads read.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Reads the model file again, checks it and swaps it in: the new model, or why the old
    /// one stays. The file is read off the async threads.
    pub async fn reload(&self) -> Result<Arc<Served>, ReloadError> {
        let path = self.source.clone().ok_or(ReloadError::NoFile)?;
        let _one_at_a_time = self.reloading.lock().await;
        let read = path.clone();
        let served = tokio::task::spawn_blocking(move || Served::load(&read))
            .await
            .map_err(|e| ReloadError::Stopped(e.to_string()))?
            .map_err(|source| ReloadError::Load { path, source })?;
        let served = Arc::new(served);
        self.current.store(Arc::clone(&served));
        Ok(served)
    }
}

//! Reading a model file named on the command line, with errors that name it once.

use std::path::Path;

use hitcast::artifact::{load_metadata, Metadata};
use hitcast::predictor::Predictor;
use hitcast_web::Served;

/// The predictor of the model file at `path`.
pub fn load_predictor(path: &Path) -> anyhow::Result<Predictor> {
    Predictor::load(path).map_err(|e| anyhow::anyhow!(e.about(path)))
}

/// The model file at `path`, for the server.
pub fn load_served(path: &Path) -> anyhow::Result<Served> {
    Served::load(path).map_err(|e| anyhow::anyhow!(e.about(path)))
}

/// The metadata of the model file at `path`, read without its models.
pub fn load_model_metadata(path: &Path) -> anyhow::Result<Metadata> {
    load_metadata(path).map_err(|e| anyhow::anyhow!(e.about(path)))
}

//! Finds the dataset: `--data PATH`, else `$HITCAST_DATA`, else `data/spotify_tracks.csv.gz`,
//! else `../shared/data/spotify_tracks.csv.gz` (docs/data.md).

use std::path::{Path, PathBuf};

/// The environment variable that names the dataset.
pub const DATA_ENV: &str = "HITCAST_DATA";

/// Paths tried, in order, when neither `--data` nor `$HITCAST_DATA` is given.
pub const DEFAULT_PATHS: [&str; 2] = [
    "data/spotify_tracks.csv.gz",
    "../shared/data/spotify_tracks.csv.gz",
];

/// The dataset was not found.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    /// An explicitly named file does not exist.
    #[error("{} (from {origin}) does not exist", path.display())]
    Named {
        /// The path given.
        path: PathBuf,
        /// Where the path came from: `--data` or `$HITCAST_DATA`.
        origin: &'static str,
    },
    /// None of the default locations holds the file.
    #[error(
        "no dataset found: tried {}. hitcast's repository \
         ships it as data/spotify_tracks.csv.gz: run from the repository's root, or pass --data \
         PATH or set {DATA_ENV}=PATH. Without the repository, download the public \"Spotify \
         Tracks Dataset\" (Kaggle maharshipandya/-spotify-tracks-dataset or Hugging Face \
         maharshipandya/spotify-tracks-dataset, file dataset.csv) and pass it the same way \
         (gzipped or not: both load)",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound {
        /// The paths tried.
        tried: Vec<PathBuf>,
    },
}

/// Resolves the dataset path. `explicit` is `--data`; `env` is the value of `$HITCAST_DATA`
/// (passed in so tests need not touch the process environment); the defaults are joined to
/// `base` (an empty path keeps them relative to the current directory).
pub fn locate_dataset(
    explicit: Option<&Path>,
    env: Option<&str>,
    base: &Path,
) -> Result<PathBuf, LocateError> {
    let named = explicit.map(|p| (p.to_owned(), "--data")).or_else(|| {
        env.filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), "$HITCAST_DATA"))
    });
    if let Some((path, origin)) = named {
        return if path.exists() {
            Ok(path)
        } else {
            Err(LocateError::Named { path, origin })
        };
    }
    let tried: Vec<PathBuf> = DEFAULT_PATHS.iter().map(|p| base.join(p)).collect();
    match tried.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(LocateError::NotFound { tried }),
    }
}

/// The SHA-256 of a file, in hex: how a model's metadata (`data_sha256`) names the data it was
/// trained on.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    // Streamed: a catalogue need not fit in memory twice to be named.
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::ScratchDir;

    fn scratch(name: &str) -> ScratchDir {
        ScratchDir::new(&format!("locate-{name}"))
    }

    #[test]
    fn explicit_path_wins_and_must_exist() {
        let dir = scratch("explicit");
        let file = dir.join("x.csv");
        std::fs::write(&file, "a\n").unwrap();
        assert_eq!(locate_dataset(Some(&file), Some("/nope"), &dir), Ok(file));
        let err = locate_dataset(Some(Path::new("/no/such.csv")), None, &dir).unwrap_err();
        assert_eq!(err.to_string(), "/no/such.csv (from --data) does not exist");
        let err = locate_dataset(None, Some("/no/env.csv"), &dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/no/env.csv (from $HITCAST_DATA) does not exist"
        );
    }

    #[test]
    fn defaults_are_tried_in_order() {
        let dir = scratch("defaults");
        let err = locate_dataset(None, None, &dir).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!(
            "no dataset found: tried {}/data/spotify_tracks.csv.gz, {}/../shared/data/spotify_tracks.csv.gz.",
            dir.display(),
            dir.display()
        )), "{msg}");
        assert!(msg.contains("file dataset.csv"), "{msg}");
        assert!(msg.contains("run from the repository's root"), "{msg}");
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/spotify_tracks.csv.gz"), "").unwrap();
        assert_eq!(
            locate_dataset(None, Some(""), &dir),
            Ok(dir.join("data/spotify_tracks.csv.gz"))
        );
    }
}

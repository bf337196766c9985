//! Train/validation/test splits (docs/evaluation.md, "The protocol").
//!
//! - **honest**: grouped by primary artist, so no artist has tracks on both sides.
//! - **known-artist**: grouped by track id; artists recur across sides, as for a new release by a
//!   known artist.
//! - **seed**: the reference project's leaky split: a stratified random 80/20 of raw rows.
//! - **genre-holdout**: TEST = the tracks listed under any genre of a held-out fifth of the genres
//!   (a genre's fold is the FNV-1a hash of its name mod 5); tracks by TEST's primary artists are
//!   left out of TRAIN, so the protocol is as honest as `honest` and also measures what a model
//!   does on genres it never saw, as on another catalogue.
//!
//! The hash protocols put a track in TEST when `h % 5 == fold`; inside TRAIN, VAL is
//! `(h / 5) % 5 == 0` and FIT is the rest, where `h` is the 64-bit FNV-1a hash of the group key.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::{RawRow, Track, Tracks};

/// Number of folds of the hash protocols.
pub const FOLDS: u8 = 5;

/// Share of rows the reference protocol holds out for TEST, and then of TRAIN for VAL.
pub const REFERENCE_HOLDOUT: f64 = 0.2;

/// How tracks are divided into FIT, VAL and TEST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Collapsed tracks, grouped by primary artist: the figures hitcast publishes.
    Honest,
    /// Raw rows, stratified random split, as the reference project did: comparable with its
    /// published numbers, but leaky. Also read as `seed`, its former name.
    #[serde(alias = "seed")]
    Reference,
    /// Collapsed tracks, grouped by track id: new tracks by artists already seen.
    KnownArtist,
    /// Collapsed tracks; TEST holds a fifth of the genres, and no TEST artist is in TRAIN.
    GenreHoldout,
}

impl Protocol {
    /// Every protocol, in the order reports list them.
    pub const ALL: [Protocol; 4] = [
        Protocol::Honest,
        Protocol::Reference,
        Protocol::KnownArtist,
        Protocol::GenreHoldout,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Honest => "honest",
            Protocol::Reference => "reference",
            Protocol::KnownArtist => "known-artist",
            Protocol::GenreHoldout => "genre-holdout",
        }
    }

    /// Whether results under this protocol are inflated by leakage between TRAIN and TEST.
    pub fn is_leaky(self) -> bool {
        self == Protocol::Reference
    }

    /// The key of the unit this protocol keeps on one side of a split: the primary artist under
    /// `honest`, the track id otherwise. Grouped folds inside FIT (the stack's) use the same key,
    /// so they hold out what TEST holds out.
    pub fn group_key(self, track: &Track) -> u64 {
        match self {
            Protocol::Honest | Protocol::GenreHoldout => {
                fnv1a64(primary_artist(&track.artists).as_bytes())
            }
            Protocol::Reference | Protocol::KnownArtist => fnv1a64(track.track_id.as_bytes()),
        }
    }

    /// Builds the table this protocol works on: raw rows for `seed`, tracks collapsed by id
    /// otherwise.
    pub fn table(self, rows: Vec<RawRow>) -> Tracks {
        match self {
            Protocol::Reference => Tracks::one_per_row(rows),
            Protocol::Honest | Protocol::KnownArtist | Protocol::GenreHoldout => {
                Tracks::collapse(rows)
            }
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = SplitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `seed`, the reference protocol's former name, read the same.
        let s = if s == "seed" { "reference" } else { s };
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| SplitError::UnknownProtocol(s.to_owned()))
    }
}

/// Why a split could not be made.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// The fold is out of range.
    #[error("fold must be 0 to {max}, got {0}", max = FOLDS - 1)]
    Fold(u8),
    /// The protocol name is unknown.
    #[error("unknown protocol {0:?}: expected honest, reference, known-artist or genre-holdout")]
    UnknownProtocol(String),
    /// The labels do not match the table.
    #[error("{labels} labels for {tracks} tracks")]
    LabelCount {
        /// Labels given.
        labels: usize,
        /// Tracks in the table.
        tracks: usize,
    },
}

/// Row indices (into a [`Tracks`] table, ascending) of each part of a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// The protocol.
    pub protocol: Protocol,
    /// The TEST fold of the hash protocols; `None` for `seed`.
    pub fold: Option<u8>,
    /// Rows models are fitted on.
    pub fit: Vec<usize>,
    /// Rows for early stopping, tuning and the decision threshold.
    pub val: Vec<usize>,
    /// Rows that are only ever scored.
    pub test: Vec<usize>,
}

impl Split {
    /// Splits `tracks` under `protocol`. `labels` stratify the reference protocol (the others ignore
    /// them); `fold` picks TEST for the hash protocols; `seed` drives the reference protocol.
    pub fn new(
        tracks: &Tracks,
        labels: &[bool],
        protocol: Protocol,
        fold: u8,
        seed: u64,
    ) -> Result<Split, SplitError> {
        if fold >= FOLDS {
            return Err(SplitError::Fold(fold));
        }
        match protocol {
            Protocol::Honest | Protocol::KnownArtist => Ok(by_hash(
                protocol,
                fold,
                tracks.rows.iter().map(|t| protocol.group_key(t)),
            )),
            Protocol::GenreHoldout => Ok(by_genre(tracks, fold)),
            Protocol::Reference => {
                if labels.len() != tracks.len() {
                    return Err(SplitError::LabelCount {
                        labels: labels.len(),
                        tracks: tracks.len(),
                    });
                }
                Ok(stratified(labels, seed))
            }
        }
    }

    /// TRAIN = FIT + VAL, ascending.
    pub fn train(&self) -> Vec<usize> {
        let mut train = [self.fit.as_slice(), self.val.as_slice()].concat();
        train.sort_unstable();
        train
    }

    /// SHA-256 over the TEST track ids in table order, each followed by a newline: a short
    /// fingerprint to check that two runs tested on the same tracks.
    pub fn test_fingerprint(&self, tracks: &Tracks) -> String {
        let mut hasher = Sha256::new();
        for &i in &self.test {
            hasher.update(tracks.rows[i].track_id.as_bytes());
            hasher.update(b"\n");
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Sizes and positives of each part, for reports.
    pub fn summary(&self, tracks: &Tracks, labels: &[bool]) -> SplitSummary {
        let positives = |rows: &[usize]| {
            rows.iter()
                .filter(|&&i| labels.get(i).copied().unwrap_or(false))
                .count()
        };
        SplitSummary {
            protocol: self.protocol,
            leaky: self.protocol.is_leaky(),
            fold: self.fold,
            tracks: tracks.len(),
            train: self.fit.len() + self.val.len(),
            fit: self.fit.len(),
            val: self.val.len(),
            test: self.test.len(),
            fit_positives: positives(&self.fit),
            val_positives: positives(&self.val),
            test_positives: positives(&self.test),
            test_track_ids_sha256: self.test_fingerprint(tracks),
        }
    }
}

/// Sizes of a split, as `hitcast data split` prints them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SplitSummary {
    /// The protocol.
    pub protocol: Protocol,
    /// Whether the protocol leaks between TRAIN and TEST.
    pub leaky: bool,
    /// The TEST fold, `None` for `seed`.
    pub fold: Option<u8>,
    /// Rows of the table split.
    pub tracks: usize,
    /// FIT + VAL.
    pub train: usize,
    /// FIT rows.
    pub fit: usize,
    /// VAL rows.
    pub val: usize,
    /// TEST rows.
    pub test: usize,
    /// Popular FIT rows.
    pub fit_positives: usize,
    /// Popular VAL rows.
    pub val_positives: usize,
    /// Popular TEST rows.
    pub test_positives: usize,
    /// See [`Split::test_fingerprint`].
    pub test_track_ids_sha256: String,
}

/// 64-bit FNV-1a: tiny, stable across platforms and versions, and specified in docs/evaluation.md ("The protocol"), so
/// any implementation reproduces our splits. Hand-written because the whole function is 4 lines.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The grouping key of the honest protocol: `artists` up to the first `;`, trimmed, lowercased.
pub fn primary_artist(artists: &str) -> String {
    artists
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

fn by_hash(protocol: Protocol, fold: u8, hashes: impl Iterator<Item = u64>) -> Split {
    let folds = u64::from(FOLDS);
    let mut split = Split {
        protocol,
        fold: Some(fold),
        fit: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
    };
    for (i, h) in hashes.enumerate() {
        if h % folds == u64::from(fold) {
            split.test.push(i);
        } else if (h / folds) % folds == 0 {
            split.val.push(i);
        } else {
            split.fit.push(i);
        }
    }
    split
}

/// The genre-holdout split: TEST = tracks with a genre whose name hashes to `fold`; TRAIN = the
/// other tracks whose primary artist has no TEST track, with VAL by artist hash as in `honest`.
fn by_genre(tracks: &Tracks, fold: u8) -> Split {
    let folds = u64::from(FOLDS);
    let held: Vec<bool> = tracks
        .genres
        .iter()
        .map(|g| fnv1a64(g.as_bytes()) % folds == u64::from(fold))
        .collect();
    let artist = |t: &Track| fnv1a64(primary_artist(&t.artists).as_bytes());
    let is_test = |t: &Track| t.genres.iter().any(|&g| held[usize::from(g)]);
    let test_artists: std::collections::HashSet<u64> = tracks
        .rows
        .iter()
        .filter(|t| is_test(t))
        .map(artist)
        .collect();
    let mut split = Split {
        protocol: Protocol::GenreHoldout,
        fold: Some(fold),
        fit: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
    };
    for (i, t) in tracks.rows.iter().enumerate() {
        let h = artist(t);
        if is_test(t) {
            split.test.push(i);
        } else if test_artists.contains(&h) {
            // The artist has TEST tracks: in TRAIN they would leak the artist across.
        } else if (h / folds) % folds == 0 {
            split.val.push(i);
        } else {
            split.fit.push(i);
        }
    }
    split
}

/// Stratified random split: per class, shuffle and hold out `round(0.2 n)` for TEST, then the
/// same inside TRAIN for VAL.
pub(crate) fn stratified(labels: &[bool], seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut split = Split {
        protocol: Protocol::Reference,
        fold: None,
        fit: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
    };
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n_test = holdout(rows.len());
        let (test, train) = rows.split_at_mut(n_test);
        train.shuffle(&mut rng);
        let n_val = holdout(train.len());
        split.test.extend_from_slice(test);
        split.val.extend_from_slice(&train[..n_val]);
        split.fit.extend_from_slice(&train[n_val..]);
    }
    split.fit.sort_unstable();
    split.val.sort_unstable();
    split.test.sort_unstable();
    split
}

fn holdout(n: usize) -> usize {
    (n as f64 * REFERENCE_HOLDOUT).round() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Track, N_AUDIO};

    fn tracks(artists: &[&str]) -> Tracks {
        let rows = artists
            .iter()
            .enumerate()
            .map(|(i, a)| Track {
                line: i as u64 + 2,
                track_id: format!("id{i}"),
                artists: (*a).to_owned(),
                album_name: String::new(),
                track_name: String::new(),
                popularity: Some(0),
                audio: [0.0; N_AUDIO],
                genres: vec![],
            })
            .collect();
        Tracks {
            genres: vec![],
            rows,
            collapse: Default::default(),
        }
    }

    #[test]
    fn fnv1a_matches_published_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn primary_artist_is_first_trimmed_lowercased() {
        assert_eq!(primary_artist(" Gen Hoshino ;Other"), "gen hoshino");
        assert_eq!(primary_artist("ÉDITH PIAF"), "édith piaf");
        assert_eq!(primary_artist(""), "");
    }

    #[test]
    fn honest_split_follows_the_hash_rule_and_keeps_artists_together() {
        let names = [
            "a", "b", "c", "d", "e", "f", "g", "A;x", "b ; y", "h", "i", "j",
        ];
        let t = tracks(&names);
        let split = Split::new(&t, &[], Protocol::Honest, 0, 0).unwrap();
        let all: usize = split.fit.len() + split.val.len() + split.test.len();
        assert_eq!(all, names.len());
        for (i, name) in names.iter().enumerate() {
            let h = fnv1a64(primary_artist(name).as_bytes());
            let part = if h.is_multiple_of(5) {
                &split.test
            } else if (h / 5).is_multiple_of(5) {
                &split.val
            } else {
                &split.fit
            };
            assert!(part.contains(&i), "{name}");
        }
        // "a" and "A;x" share a primary artist, so they share a part.
        let side = |i| split.test.contains(&i);
        assert_eq!(side(0), side(7));
        assert_eq!(side(1), side(8));
    }

    #[test]
    fn folds_partition_the_table() {
        let names: Vec<String> = (0..200).map(|i| format!("artist {i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let t = tracks(&refs);
        let mut seen = vec![0; names.len()];
        for fold in 0..FOLDS {
            for i in Split::new(&t, &[], Protocol::KnownArtist, fold, 0)
                .unwrap()
                .test
            {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert_eq!(
            Split::new(&t, &[], Protocol::Honest, 5, 0)
                .unwrap_err()
                .to_string(),
            "fold must be 0 to 4, got 5"
        );
    }

    #[test]
    fn seed_split_is_stratified_and_deterministic() {
        let t = tracks(&["x"; 1000]);
        let labels: Vec<bool> = (0..1000).map(|i| i % 10 == 0).collect(); // 100 positives
        let a = Split::new(&t, &labels, Protocol::Reference, 0, 42).unwrap();
        let b = Split::new(&t, &labels, Protocol::Reference, 0, 42).unwrap();
        let c = Split::new(&t, &labels, Protocol::Reference, 0, 43).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.test, c.test);
        // 900 negatives -> 180 test, 720 train -> 144 val; 100 positives -> 20, 80 -> 16.
        assert_eq!((a.test.len(), a.val.len(), a.fit.len()), (200, 160, 640));
        let s = a.summary(&t, &labels);
        assert_eq!(
            (s.test_positives, s.val_positives, s.fit_positives),
            (20, 16, 64)
        );
        assert!(s.leaky);
        assert_eq!(s.fold, None);
        let mut all = a.train();
        all.extend(&a.test);
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn protocol_names_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(p.name().parse::<Protocol>(), Ok(p));
        }
        assert_eq!(
            "random".parse::<Protocol>().unwrap_err().to_string(),
            "unknown protocol \"random\": expected honest, reference, known-artist or genre-holdout"
        );
    }

    #[test]
    fn fingerprint_is_sha256_of_newline_terminated_ids() {
        let t = tracks(&["a", "b"]);
        let split = Split {
            protocol: Protocol::Honest,
            fold: Some(0),
            fit: vec![],
            val: vec![],
            test: vec![0, 1],
        };
        // sha256("id0\nid1\n"), computed with coreutils sha256sum.
        assert_eq!(
            split.test_fingerprint(&t),
            "ba94559b5f4c629ffbef97949b4295be33b090c78274c0f73ecff4296d63ce66"
        );
    }
}

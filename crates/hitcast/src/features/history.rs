//! The artist-history columns of the known-artist protocol (docs/evaluation.md, "The protocol"): the mean popularity
//! and the number of the primary artist's FIT tracks. A FIT track's own popularity is left out of
//! its values (leave-one-out), so no row learns from its own label; VAL, TEST and served tracks
//! see every FIT track of their artist.
//!
//! Under the honest protocol no TEST artist has FIT tracks, so these columns would differ in kind
//! between training and testing: they belong to the known-artist feature set only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::split::primary_artist;

/// Names of the history columns, in order.
pub const HISTORY_NAMES: [&str; 2] = ["artist_popularity_mean", "artist_fit_tracks"];

/// Pseudo-tracks at the overall mean added to every artist, so an artist with one FIT track
/// does not get that track's popularity as a certainty.
const SHRINK: f64 = 5.0;

/// Per-artist sums of FIT popularity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ArtistHistory {
    /// Primary artist -> (sum of popularity, FIT tracks).
    artists: BTreeMap<String, (f64, u32)>,
    /// Mean popularity over FIT.
    prior: f64,
    /// Mean and standard deviation of each column over FIT (leave-one-out values).
    scaling: [(f64, f64); 2],
}

impl ArtistHistory {
    /// Learns from FIT tracks given as `(artists, popularity)`.
    pub(crate) fn fit<'a>(fit: impl Iterator<Item = (&'a str, f64)> + Clone) -> ArtistHistory {
        let mut artists: BTreeMap<String, (f64, u32)> = BTreeMap::new();
        let (mut total, mut n) = (0.0, 0.0);
        for (names, popularity) in fit.clone() {
            let entry = artists.entry(primary_artist(names)).or_default();
            entry.0 += popularity;
            entry.1 += 1;
            total += popularity;
            n += 1.0;
        }
        let mut history = ArtistHistory {
            artists,
            prior: if n > 0.0 { total / n } else { 0.0 },
            scaling: [(0.0, 1.0); 2],
        };
        let rows: Vec<[f64; 2]> = fit.map(|(names, p)| history.raw(names, Some(p))).collect();
        for j in 0..2 {
            let m = rows.iter().map(|r| r[j]).sum::<f64>() / rows.len().max(1) as f64;
            let var =
                rows.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / rows.len().max(1) as f64;
            history.scaling[j] = (m, if var > 0.0 { var.sqrt() } else { 1.0 });
        }
        history
    }

    /// Unscaled values; `own` is the track's popularity when it is a FIT track (left out).
    fn raw(&self, artists: &str, own: Option<f64>) -> [f64; 2] {
        let (mut sum, mut count) = self
            .artists
            .get(&primary_artist(artists))
            .map_or((0.0, 0.0), |&(s, c)| (s, f64::from(c)));
        if let Some(p) = own {
            sum -= p;
            count -= 1.0;
        }
        let count = count.max(0.0);
        [
            (sum + SHRINK * self.prior) / (count + SHRINK),
            count.ln_1p(),
        ]
    }

    /// Writes the two scaled columns into `out`.
    /// Mean and standard deviation of each column over FIT, to undo the z-scores.
    pub(crate) fn scaling(&self) -> &[(f64, f64); 2] {
        &self.scaling
    }

    /// Writes the artist's history columns (z-scored) into `out`.
    pub(crate) fn write(&self, artists: &str, own: Option<f64>, out: &mut [f64]) {
        for ((o, v), (m, sd)) in out
            .iter_mut()
            .zip(self.raw(artists, own))
            .zip(&self.scaling)
        {
            *o = (v - m) / sd;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_for_fit_rows_and_all_fit_rows_for_others() {
        // Artist "a" has FIT tracks at 80 and 40; "b" one at 10. Prior (80 + 40 + 10) / 3.
        let fit = [("A; feat", 80.0), ("a", 40.0), ("B", 10.0)];
        let h = ArtistHistory::fit(fit.iter().copied());
        let prior = 130.0 / 3.0;
        // A new track by "a": both FIT tracks, (120 + 5 prior) / 7, count 2.
        let [mean, count] = h.raw("a", None);
        assert!((mean - (120.0 + 5.0 * prior) / 7.0).abs() < 1e-12);
        assert_eq!(count, 2f64.ln_1p());
        // The FIT track at 80 sees only the other one: (40 + 5 prior) / 6, count 1.
        let [mean, count] = h.raw("A; feat", Some(80.0));
        assert!((mean - (40.0 + 5.0 * prior) / 6.0).abs() < 1e-12);
        assert_eq!(count, 1f64.ln_1p());
        // "b"'s only FIT track sees nothing of itself: the prior.
        assert!((h.raw("b", Some(10.0))[0] - prior).abs() < 1e-12);
        // Unknown artists get the prior and count 0.
        assert_eq!(h.raw("nobody", None), [prior, 0.0]);
    }
}

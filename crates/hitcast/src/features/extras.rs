//! Features beyond audio and genre indicators, of the kind a music analyst would try: how many
//! genre lists and artists a track has, what its title says (a feature, a remix, a live take, a
//! remaster), and how popular its genres are on FIT. They are part of the fitted pipeline, so
//! serving computes them exactly as training did.

use serde::{Deserialize, Serialize};

/// Names of the extra columns, in order.
pub const EXTRA_NAMES: [&str; 11] = [
    "n_genres",
    "n_artists",
    "title_feat",
    "title_remix",
    "title_live",
    "title_remaster",
    "title_acoustic",
    "title_length",
    "title_is_album",
    "genre_popularity_mean",
    "genre_popularity_max",
];

/// The extras a new, unreleased song cannot honestly have. How many of the dataset's genre lists
/// hold a track is an artefact of how it was collected (one search per genre), not a fact about
/// the song; every other extra is something a song's makers know before its release (its title,
/// its credits, whether it comes out as a single, the genres they name). What leaving it out
/// costs is in docs/performance.md ("Why the defaults").
pub const CATALOGUE_ONLY: [&str; 1] = ["n_genres"];

/// The extras computed from a track's genres: a model that reads no genres reads none of these.
pub const GENRE_DERIVED: [&str; 3] = ["n_genres", "genre_popularity_mean", "genre_popularity_max"];

/// The position of `title_length` in [`EXTRA_NAMES`].
const TITLE_LENGTH: usize = 7;

/// Which extra columns are 0/1 flags (left unscaled).
const FLAG: [bool; 11] = [
    false, false, true, true, true, true, true, false, true, false, false,
];

/// Mean FIT popularity of each genre, shrunk towards the overall mean by `SHRINK` pseudo-rows
/// so rare genres do not get extreme values. Computed in-sample: with about 500 FIT tracks per
/// genre a track's own label moves its genre's mean by about 0.2%, too little to leak.
const SHRINK: f64 = 20.0;

/// What the extra columns learn from FIT.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExtrasFit {
    /// Smoothed mean popularity per genre (pipeline vocabulary order).
    pub genre_popularity: Vec<f64>,
    /// Mean popularity over FIT, for tracks without a known genre.
    pub prior: f64,
    /// The positions in [`EXTRA_NAMES`] of the columns written, in order.
    #[serde(default = "all_columns")]
    pub columns: Vec<usize>,
    /// Mean and standard deviation over FIT of each column written (flags: 0 and 1).
    pub scaling: Vec<(f64, f64)>,
}

fn all_columns() -> Vec<usize> {
    (0..EXTRA_NAMES.len()).collect()
}

/// The text and genres of one track the extras read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExtraInput<'a> {
    /// `;`-separated artists.
    pub artists: &'a str,
    /// Album title.
    pub album_name: &'a str,
    /// Track title.
    pub track_name: &'a str,
    /// The track's genres as positions in the pipeline vocabulary.
    pub genres: &'a [usize],
    /// Genres the pipeline does not know (counted in `n_genres`).
    pub unknown_genres: usize,
    /// A track scored without a title (a form or a request that gives none): its title's
    /// length is unknown, read as FIT's mean, so it is not marked down as a title of length 0.
    /// A table's rows keep theirs as training read them (the dataset has one untitled track).
    pub untitled: bool,
}

/// Which of the title flags' words a lower-case title holds as whole words (runs of letters
/// and digits): featuring, remix, live, acoustic. One pass over the title: a pass per word was
/// a tenth of scoring a track.
fn title_words(title: &str) -> [bool; 4] {
    let mut found = [false; 4];
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        match word {
            "feat" | "ft" => found[0] = true,
            "remix" | "mix" => found[1] = true,
            "live" => found[2] = true,
            "acoustic" | "unplugged" => found[3] = true,
            _ => {}
        }
    }
    found
}

/// The raw (unscaled) extra values of one track.
fn raw(input: &ExtraInput, genre_popularity: &[f64], prior: f64) -> [f64; 11] {
    let title = input.track_name.to_lowercase();
    let [feat, remix, live, acoustic] = title_words(&title);
    let flag = |b: bool| f64::from(u8::from(b));
    // Every track has an artist: an empty field is one artist nobody typed, not none (the
    // dataset's one track without artists would otherwise teach a form left empty a penalty).
    let n_artists = input
        .artists
        .split(';')
        .filter(|a| !a.trim().is_empty())
        .count()
        .max(1);
    let (mut sum, mut max) = (0.0, f64::MIN);
    for &g in input.genres {
        sum += genre_popularity[g];
        max = max.max(genre_popularity[g]);
    }
    let (mean, max) = if input.genres.is_empty() {
        (prior, prior)
    } else {
        (sum / input.genres.len() as f64, max)
    };
    [
        (input.genres.len() + input.unknown_genres) as f64,
        n_artists as f64,
        flag(feat || title.contains("(with ")),
        flag(remix),
        flag(live),
        flag(title.contains("remaster")),
        flag(acoustic),
        input.track_name.chars().count() as f64,
        flag(
            !input.track_name.is_empty() && input.track_name.eq_ignore_ascii_case(input.album_name),
        ),
        mean,
        max,
    ]
}

impl ExtrasFit {
    /// Learns genre popularity and column scaling from FIT tracks, given as inputs with their
    /// popularity; `n_genres` is the vocabulary size, `columns` the positions in [`EXTRA_NAMES`]
    /// of the columns to write.
    pub(crate) fn fit<'a>(
        fit: impl Iterator<Item = (ExtraInput<'a>, f64)> + Clone,
        n_genres: usize,
        columns: Vec<usize>,
    ) -> ExtrasFit {
        let mut sum = vec![0.0; n_genres];
        let mut count = vec![0.0; n_genres];
        let (mut total, mut n) = (0.0, 0.0);
        for (input, popularity) in fit.clone() {
            total += popularity;
            n += 1.0;
            for &g in input.genres {
                sum[g] += popularity;
                count[g] += 1.0;
            }
        }
        let prior = if n > 0.0 { total / n } else { 0.0 };
        let genre_popularity: Vec<f64> = sum
            .iter()
            .zip(&count)
            .map(|(s, c)| (s + SHRINK * prior) / (c + SHRINK))
            .collect();
        let rows: Vec<[f64; 11]> = fit
            .map(|(input, _)| raw(&input, &genre_popularity, prior))
            .collect();
        let scaling = columns
            .iter()
            .map(|&j| {
                if FLAG[j] || rows.is_empty() {
                    return (0.0, 1.0);
                }
                let m = rows.iter().map(|r| r[j]).sum::<f64>() / rows.len() as f64;
                let var = rows.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / rows.len() as f64;
                (m, if var > 0.0 { var.sqrt() } else { 1.0 })
            })
            .collect();
        ExtrasFit {
            genre_popularity,
            prior,
            columns,
            scaling,
        }
    }

    /// How many columns it writes.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// Writes one track's scaled extra columns into `out` ([`ExtrasFit::width`] wide).
    pub(crate) fn write(&self, input: &ExtraInput, out: &mut [f64]) {
        let values = raw(input, &self.genre_popularity, self.prior);
        for ((o, &j), (m, sd)) in out.iter_mut().zip(&self.columns).zip(&self.scaling) {
            *o = if input.untitled && j == TITLE_LENGTH {
                0.0
            } else {
                (values[j] - m) / sd
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        track: &'a str,
        album: &'a str,
        artists: &'a str,
        genres: &'a [usize],
    ) -> ExtraInput<'a> {
        ExtraInput {
            artists,
            album_name: album,
            track_name: track,
            genres,
            unknown_genres: 0,
            untitled: false,
        }
    }

    #[test]
    fn title_flags_and_counts() {
        let v = raw(
            &input("Song (feat. X) - Live", "Other", "A;B; C", &[0, 1]),
            &[10.0, 30.0],
            20.0,
        );
        assert_eq!(v[0], 2.0); // genres
        assert_eq!(v[1], 3.0); // artists
        assert_eq!(v[2..7], [1.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(v[7], 21.0);
        assert_eq!(v[8], 0.0);
        assert_eq!((v[9], v[10]), (20.0, 30.0));
        let v = raw(
            &input(
                "Delivery - 2011 Remaster",
                "delivery - 2011 remaster",
                "",
                &[],
            ),
            &[],
            7.0,
        );
        // No artist typed counts as one: every track has one.
        assert_eq!((v[1], v[4], v[5], v[8]), (1.0, 0.0, 1.0, 1.0));
        // "live" must be a word: "Oliver" and "alive" are not live recordings.
        assert_eq!(
            raw(&input("Oliver is alive", "", "a", &[]), &[], 0.0)[4],
            0.0
        );
        assert_eq!((v[9], v[10]), (7.0, 7.0));
    }

    #[test]
    fn genre_popularity_is_shrunk_towards_the_mean() {
        // Genre 0: two tracks at 80 and 60; genre 1: one at 10. Prior (80 + 60 + 10) / 3 = 50.
        let g0 = [0usize];
        let g1 = [1usize];
        let fit = vec![
            (input("a", "", "x", &g0), 80.0),
            (input("b", "", "x", &g0), 60.0),
            (input("c", "", "x", &g1), 10.0),
        ];
        let f = ExtrasFit::fit(fit.into_iter(), 2, all_columns());
        assert_eq!(f.prior, 50.0);
        // (140 + 20 * 50) / 22 and (10 + 20 * 50) / 21
        assert!((f.genre_popularity[0] - 1140.0 / 22.0).abs() < 1e-12);
        assert!((f.genre_popularity[1] - 1010.0 / 21.0).abs() < 1e-12);
        assert_eq!(f.scaling[2], (0.0, 1.0)); // a flag stays 0/1
    }

    #[test]
    fn a_track_scored_without_a_title_reads_as_a_title_of_the_mean_length() {
        let g = [0usize];
        let fit = vec![
            (input("ab", "", "x", &g), 80.0),
            (input("abcdef", "", "x", &g), 20.0),
            (input(" ", "", "x", &g), 20.0),
        ];
        let f = ExtrasFit::fit(fit.into_iter(), 1, all_columns());
        // Lengths 2, 6 and 1: mean 3, sd sqrt(14/3).
        assert_eq!(EXTRA_NAMES[TITLE_LENGTH], "title_length");
        let (m, sd) = f.scaling[TITLE_LENGTH];
        assert!((m - 3.0).abs() < 1e-12 && (sd - (14.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let mut row = [f64::NAN; 11];
        // A table's row keeps its length 0; a track scored without a title reads as the mean.
        f.write(&input("", "", "x", &g), &mut row);
        assert!((row[TITLE_LENGTH] + 3.0 / sd).abs() < 1e-12);
        let untitled = ExtraInput {
            untitled: true,
            ..input("", "", "x", &g)
        };
        f.write(&untitled, &mut row);
        assert_eq!(row[TITLE_LENGTH], 0.0);
        f.write(&input("abcdef", "", "x", &g), &mut row);
        assert!((row[TITLE_LENGTH] - 3.0 / sd).abs() < 1e-12);
    }

    #[test]
    fn a_subset_of_columns_is_written_in_order_and_scaled_as_the_whole() {
        let g = [0usize];
        let fit = vec![
            (input("a (feat. b)", "", "x;y", &g), 80.0),
            (input("c", "c", "x", &g), 20.0),
        ];
        let all = ExtrasFit::fit(fit.clone().into_iter(), 1, all_columns());
        let some = ExtrasFit::fit(fit.into_iter(), 1, vec![1, 2, 8]);
        assert_eq!(some.width(), 3);
        assert_eq!(
            some.scaling,
            [all.scaling[1], all.scaling[2], all.scaling[8]]
        );
        let track = input("d (feat. e)", "d (feat. e)", "x;y;z", &g);
        let (mut whole, mut part) = ([0.0; 11], [0.0; 3]);
        all.write(&track, &mut whole);
        some.write(&track, &mut part);
        assert_eq!(part, [whole[1], whole[2], whole[8]]);
    }
}

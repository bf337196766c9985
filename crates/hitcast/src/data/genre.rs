//! Genre names from other catalogues, read onto the dataset's vocabulary: its 114 genres are
//! lowercase and hyphenated (`r-n-b`, `hip-hop`, `rock-n-roll`), other exports write `R&B`,
//! `Hip Hop` or `Dance/Electronic`, and some list several genres in one cell.
//!
//! [`resolve`] is the one mapping: [`canonical`] spelling, then the [`ALIASES`] table. The reader
//! applies it to every genre it reads and the feature pipeline to every name it looks up, so a
//! file and an API request meet the model's vocabulary the same way.

use std::borrow::Cow;

/// Other catalogues' names for the dataset's genres, as `(alias, genre)` pairs. Both sides are
/// canonical ([`canonical`]); every genre is one of the dataset's 114, and no alias is one of
/// them (a dataset genre always means itself). Spellings that [`canonical`] already maps
/// (`Hip Hop`, `R&B`, `Rock and Roll`) need no entry.
pub const ALIASES: &[(&str, &str)] = &[
    ("alternative-rock", "alt-rock"),
    ("brazilian", "brazil"),
    ("country-music", "country"),
    ("d-n-b", "drum-and-bass"),
    ("dance-electronic", "edm"),
    ("dnb", "drum-and-bass"),
    ("drum-n-bass", "drum-and-bass"),
    ("electronic-dance-music", "edm"),
    ("electronica", "electronic"),
    ("forró", "forro"),
    ("hip-hop-rap", "hip-hop"),
    ("hiphop", "hip-hop"),
    ("intelligent-dance-music", "idm"),
    ("jpop", "j-pop"),
    ("jrock", "j-rock"),
    ("kpop", "k-pop"),
    ("musica-popular-brasileira", "mpb"),
    ("música-popular-brasileira", "mpb"),
    ("powerpop", "power-pop"),
    ("psychedelic-rock", "psych-rock"),
    ("r-n-b-soul", "r-n-b"),
    ("rap", "hip-hop"),
    ("rap-hip-hop", "hip-hop"),
    ("reggaetón", "reggaeton"),
    ("rhythm-and-blues", "r-n-b"),
    ("rhythm-n-blues", "r-n-b"),
    ("rnb", "r-n-b"),
    ("rock-and-roll", "rock-n-roll"),
    ("showtunes", "show-tunes"),
    ("synthpop", "synth-pop"),
    ("triphop", "trip-hop"),
    ("world", "world-music"),
];

/// A genre name in the dataset's spelling: trimmed and lowercased; apostrophes dropped
/// (`rock 'n' roll`); `&`, and `and` or `n` standing as a word between two words, become `n`
/// (`r&b` → `r-n-b`, `rock and roll` → `rock-n-roll`); spaces, underscores and `/` become `-`;
/// hyphens are never doubled nor at the ends. Each of the dataset's 114 genres is its own
/// canonical form (`drum-and-bass` keeps its `and`: only a word between spaces is replaced).
pub fn canonical(name: &str) -> String {
    let lower = name.trim().to_lowercase().replace(['\'', '’'], "");
    let spaced = lower.replace('&', " n ");
    let words: Vec<&str> = spaced
        .split(|c: char| c.is_whitespace() || c == '_' || c == '/')
        .filter(|w| !w.is_empty())
        .collect();
    let last = words.len().saturating_sub(1);
    let mut out = String::with_capacity(spaced.len());
    for (i, word) in words.iter().enumerate() {
        let word = if *word == "and" && i > 0 && i < last {
            "n"
        } else {
            word
        };
        for part in word.split('-').filter(|p| !p.is_empty()) {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(part);
        }
    }
    out
}

/// The dataset genre `name` means: its [`canonical`] form, through [`ALIASES`]. Names the
/// dataset does not know come back canonical. Borrows when `name` is already in canonical
/// form and no alias (every name of the dataset itself).
pub fn resolve(name: &str) -> Cow<'_, str> {
    let spelled: Cow<'_, str> = if is_canonical(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(canonical(name))
    };
    match ALIASES.iter().find(|(alias, _)| *alias == spelled) {
        Some((_, genre)) => Cow::Borrowed(genre),
        None => spelled,
    }
}

/// What separates a cell's genres: the dataset's `;`, and `,` and `|` of other exports.
const SEPARATORS: [char; 3] = [',', ';', '|'];

/// The genres of one cell: split at `,`, `;` and `|`, each [`resolve`]d, empty parts and
/// repeats dropped, in the order written. `/` does not split (`Dance/Electronic` is one name).
/// A cell of R's `NA` (how `write.csv` writes a missing value) lists none: no genre is named
/// so.
pub fn parse_cell(cell: &str) -> Vec<String> {
    if cell.trim() == "NA" {
        return Vec::new();
    }
    let mut genres: Vec<String> = Vec::new();
    for part in cell.split(SEPARATORS) {
        let genre = resolve(part);
        if !genre.is_empty() && !genres.iter().any(|g| *g == genre) {
            genres.push(genre.into_owned());
        }
    }
    genres
}

/// Whether `name` is already canonical: the fast path for the dataset's own names.
fn is_canonical(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 114 genres of the shipped dataset (`track_genre`), sorted. The integration tests
    /// check the file's own names the same way.
    #[rustfmt::skip]
    const DATASET_GENRES: [&str; 114] = [
        "acoustic", "afrobeat", "alt-rock", "alternative", "ambient", "anime", "black-metal",
        "bluegrass", "blues", "brazil", "breakbeat", "british", "cantopop", "chicago-house",
        "children", "chill", "classical", "club", "comedy", "country", "dance", "dancehall",
        "death-metal", "deep-house", "detroit-techno", "disco", "disney", "drum-and-bass", "dub",
        "dubstep", "edm", "electro", "electronic", "emo", "folk", "forro", "french", "funk",
        "garage", "german", "gospel", "goth", "grindcore", "groove", "grunge", "guitar", "happy",
        "hard-rock", "hardcore", "hardstyle", "heavy-metal", "hip-hop", "honky-tonk", "house",
        "idm", "indian", "indie", "indie-pop", "industrial", "iranian", "j-dance", "j-idol",
        "j-pop", "j-rock", "jazz", "k-pop", "kids", "latin", "latino", "malay", "mandopop",
        "metal", "metalcore", "minimal-techno", "mpb", "new-age", "opera", "pagode", "party",
        "piano", "pop", "pop-film", "power-pop", "progressive-house", "psych-rock", "punk",
        "punk-rock", "r-n-b", "reggae", "reggaeton", "rock", "rock-n-roll", "rockabilly",
        "romance", "sad", "salsa", "samba", "sertanejo", "show-tunes", "singer-songwriter", "ska",
        "sleep", "songwriter", "soul", "spanish", "study", "swedish", "synth-pop", "tango",
        "techno", "trance", "trip-hop", "turkish", "world-music",
    ];

    #[test]
    fn other_catalogues_spellings_become_the_datasets() {
        for (name, want) in [
            ("R&B", "r-n-b"),
            ("r & b", "r-n-b"),
            (" Hip Hop ", "hip-hop"),
            ("Hip-Hop/Rap", "hip-hop"),
            ("rap", "hip-hop"),
            ("HipHop", "hip-hop"),
            ("Dance/Electronic", "edm"),
            ("Rock and Roll", "rock-n-roll"),
            ("rock 'n' roll", "rock-n-roll"),
            ("Rock & Roll", "rock-n-roll"),
            ("Drum and Bass", "drum-and-bass"),
            ("drum n bass", "drum-and-bass"),
            ("DnB", "drum-and-bass"),
            ("Rhythm and Blues", "r-n-b"),
            ("K-Pop", "k-pop"),
            ("kpop", "k-pop"),
            ("Singer_Songwriter", "singer-songwriter"),
            ("ELECTRONICA", "electronic"),
            ("Reggaetón", "reggaeton"),
            ("edm", "edm"),
            ("latin", "latin"),
            ("Latino", "latino"),
            ("chillhop", "chillhop"),
            ("Lo-Fi  Beats", "lo-fi-beats"),
            ("--weird--", "weird"),
            ("and", "and"),
            ("   ", ""),
        ] {
            assert_eq!(resolve(name), want, "{name:?}");
        }
        assert_eq!(canonical("R&B/Soul"), "r-n-b-soul");
        assert_eq!(canonical("Dance / Electronic"), "dance-electronic");
        // Unicode lowercase, not only ASCII.
        assert_eq!(canonical("MÚSICA"), "música");
    }

    #[test]
    fn a_cell_may_list_several_genres() {
        assert_eq!(parse_cell("hip hop, pop"), ["hip-hop", "pop"]);
        assert_eq!(parse_cell("rock;pop|jazz"), ["rock", "pop", "jazz"]);
        assert_eq!(parse_cell("Dance/Electronic"), ["edm"]);
        assert_eq!(parse_cell("rap; Hip Hop ;;"), ["hip-hop"]);
        assert_eq!(parse_cell("acoustic"), ["acoustic"]);
        assert!(parse_cell(" ").is_empty());
        assert!(parse_cell(",;|").is_empty());
    }

    #[test]
    fn the_datasets_genres_are_fixed_points() {
        for genre in DATASET_GENRES {
            assert_eq!(canonical(genre), genre);
            assert!(
                matches!(resolve(genre), Cow::Borrowed(g) if g == genre),
                "{genre}"
            );
            assert_eq!(parse_cell(genre), [genre]);
        }
        assert!(DATASET_GENRES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_alias_names_a_dataset_genre_and_is_none() {
        assert!(ALIASES.len() >= 20 && ALIASES.len() <= 40);
        for &(alias, genre) in ALIASES {
            assert_eq!(canonical(alias), alias, "alias {alias} is not canonical");
            assert!(
                DATASET_GENRES.binary_search(&genre).is_ok(),
                "{alias} -> {genre}: not a dataset genre"
            );
            assert!(
                DATASET_GENRES.binary_search(&alias).is_err(),
                "{alias} is a dataset genre"
            );
            // Resolving twice changes nothing.
            assert_eq!(resolve(&resolve(alias)), genre);
        }
        assert!(
            ALIASES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeats"
        );
    }

    #[test]
    fn the_readme_lists_every_alias() {
        let readme = crate::testutil::data_guide();
        for (alias, genre) in ALIASES {
            let pair = format!("`{alias}` → `{genre}`");
            assert!(readme.contains(&pair), "docs/data.md lacks {pair}");
        }
    }
}

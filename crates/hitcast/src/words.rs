//! Features in music words: what each model input is called for people (the app, `hitcast
//! explain`), and its value with its unit (key names, major/minor, minutes:seconds, BPM, dB),
//! instead of column names and raw numbers.

/// The pitch classes, as Spotify's `key` numbers them (0 = C).
pub const KEYS: [&str; 12] = [
    "C",
    "C♯/D♭",
    "D",
    "D♯/E♭",
    "E",
    "F",
    "F♯/G♭",
    "G",
    "G♯/A♭",
    "A",
    "A♯/B♭",
    "B",
];

/// A model input's name for people.
pub fn label(feature: &str) -> String {
    let known = match feature {
        "genre" => "Genre",
        "duration_ms" => "Length",
        "explicit" => "Explicit lyrics",
        "danceability" => "Danceability",
        "energy" => "Energy",
        "key" => "Key",
        "loudness" => "Loudness",
        "mode" => "Mode",
        "speechiness" => "Spoken words",
        "acousticness" => "Acoustic sound",
        "instrumentalness" => "Instrumental (no vocals)",
        "liveness" => "Live audience",
        "valence" => "Mood (valence)",
        "tempo" => "Tempo",
        "time_signature" => "Time signature",
        "n_genres" => "Genres listed",
        "n_artists" => "Artists credited",
        "title_feat" => "A featured artist in the title",
        "title_remix" => "A remix (by its title)",
        "title_live" => "A live version (by its title)",
        "title_remaster" => "A remaster (by its title)",
        "title_acoustic" => "An acoustic version (by its title)",
        "title_length" => "Title length",
        "title_is_album" => "A single (title = album)",
        "genre_popularity_mean" => "Its genres' usual popularity",
        "genre_popularity_max" => "Its most popular genre's usual popularity",
        "artist_popularity_mean" => "The artist's usual popularity",
        "artist_fit_tracks" => "The artist's tracks in training",
        "hit_chance" => "Its chance of a hit (a popular score)",
        other => return other.replace('_', " "),
    };
    known.to_owned()
}

/// A model input's value for people, from the explanation's text of it: a track's, so a tempo
/// or metre of 0 says what the dataset means by it (no beat).
pub fn value(feature: &str, text: &str) -> String {
    match (feature, text.parse::<f64>()) {
        ("tempo", Ok(0.0)) => "0 BPM (no beat)".to_owned(),
        ("time_signature", Ok(0.0)) => "no beat".to_owned(),
        _ => quantity(feature, text),
    }
}

/// A model input's value as a quantity, in its unit or words: a point of its range, as a
/// chart's axis shows it.
pub fn quantity(feature: &str, text: &str) -> String {
    let Ok(x) = text.parse::<f64>() else {
        return text.to_owned();
    };
    let yes_no = |x: f64| (if x >= 0.5 { "yes" } else { "no" }).to_owned();
    match feature {
        "duration_ms" => minutes(x),
        "key" => match x.round() as i64 {
            k @ 0..=11 => KEYS[k as usize].to_owned(),
            _ => "none detected".to_owned(),
        },
        "mode" => (if x >= 0.5 { "major" } else { "minor" }).to_owned(),
        "loudness" => format!("{x:.1} dB"),
        "tempo" => format!("{x:.0} BPM"),
        "time_signature" => format!("{x:.0} beats a bar"),
        "explicit" | "title_feat" | "title_remix" | "title_live" | "title_remaster"
        | "title_acoustic" | "title_is_album" => yes_no(x),
        "title_length" => format!("{x:.0} characters"),
        "genre_popularity_mean" | "genre_popularity_max" | "artist_popularity_mean" => {
            format!("{x:.0} of 100")
        }
        "n_genres" | "n_artists" | "artist_fit_tracks" => format!("{x:.0}"),
        // The 0-1 measures: two decimals say all a listener can hear.
        _ if (0.0..=1.0).contains(&x) => format!("{x:.2}"),
        _ => text.to_owned(),
    }
}

/// A duration in milliseconds as minutes:seconds.
pub fn minutes(ms: f64) -> String {
    let seconds = (ms / 1000.0).round().max(0.0) as u64;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_read_in_music_words() {
        assert_eq!(value("key", "1"), "C♯/D♭");
        assert_eq!(value("key", "-1"), "none detected");
        assert_eq!(value("mode", "0"), "minor");
        assert_eq!(value("duration_ms", "233712"), "3:54");
        assert_eq!(value("loudness", "-6.746"), "-6.7 dB");
        assert_eq!(value("tempo", "87.92"), "88 BPM");
        assert_eq!(value("tempo", "0"), "0 BPM (no beat)");
        assert_eq!(quantity("tempo", "0"), "0 BPM");
        assert_eq!(value("time_signature", "0"), "no beat");
        assert_eq!(value("title_is_album", "0"), "no");
        assert_eq!(value("genre_popularity_max", "47.06"), "47 of 100");
        assert_eq!(value("danceability", "0.36734693877551"), "0.37");
        assert_eq!(value("genre", "acoustic, j-pop"), "acoustic, j-pop");
        assert_eq!(label("title_is_album"), "A single (title = album)");
        assert_eq!(label("something_new"), "something new");
    }
}

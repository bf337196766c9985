//! The prediction page's form: every input the model reads, grouped as a person thinks of a
//! song (its audio file, its sound, tempo and loudness, key and metre, names and genres), each
//! with its error beside it and a place for its what-if curve.

use hitcast::data::Column;
use hitcast::words;
use maud::{html, Markup};

use crate::track::{FieldError, FormValues};
use crate::AppState;

/// The 0-1 audio features, shown as sliders, with what each measures.
const SLIDERS: [(Column, &str); 7] = [
    (
        Column::Danceability,
        "How suitable for dancing: tempo, rhythm stability, beat strength.",
    ),
    (
        Column::Energy,
        "Intensity: loud, fast, noisy tracks score high.",
    ),
    (
        Column::Valence,
        "Musical positiveness: cheerful tracks score high.",
    ),
    (
        Column::Acousticness,
        "Confidence that the track is acoustic.",
    ),
    (
        Column::Instrumentalness,
        "No vocals: above 0.5 is likely instrumental.",
    ),
    (
        Column::Speechiness,
        "Spoken words: above 0.66 is mostly speech.",
    ),
    (
        Column::Liveness,
        "An audience in the recording: above 0.8 is likely live.",
    ),
];

/// A slider's value as its label shows it: three significant figures (0.367, 0.0322), as
/// `assets/app.js` shows it while the slider moves. The input keeps the exact value.
fn three_figures(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(x) if x != 0.0 && x.is_finite() => {
            let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 10) as usize;
            let s = format!("{x:.decimals$}");
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            } else {
                s
            }
        }
        _ => text.to_owned(),
    }
}

fn field_error<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// The error under a field, tied to its input by `aria-describedby`.
fn error_note(errors: &[FieldError], field: &str) -> Markup {
    html! {
        @if let Some(message) = field_error(errors, field) {
            p.error id=(format!("{field}-error")) role="alert" { (message) }
        }
    }
}

pub(super) fn track_form(
    state: &AppState,
    values: &FormValues,
    errors: &[FieldError],
    audio_error: Option<&str>,
) -> Markup {
    let form = Form::new(values, errors);
    let model = state.model();
    html! {
        form #track-form.track method="post" action="/predict" novalidate {
            input type="hidden" name="track_id" value=(form.value("track_id"));
            (audio_fieldset(&form, state.limits.audio_bytes, audio_error))
            (sound_fieldset(&form))
            (tempo_fieldset(&form))
            (key_fieldset(&form))
            (names_fieldset(&form, model.predictor.pipeline().genres()))
            button #submit type="submit" { "Predict" }
        }
    }
}

/// The form's values and errors, and whether its song was measured from audio: what every
/// fieldset reads.
struct Form<'a> {
    values: &'a FormValues,
    errors: &'a [FieldError],
    /// A song measured from audio: none of the learned qualities (their sliders are disabled,
    /// so the form sends none of them back, and the from-audio model keeps answering).
    measured: bool,
}

impl<'a> Form<'a> {
    fn new(values: &'a FormValues, errors: &'a [FieldError]) -> Form<'a> {
        let measured = Column::LEARNED
            .iter()
            .all(|c| values.get(c.name()).is_none_or(|v| v.trim().is_empty()));
        Form {
            values,
            errors,
            measured,
        }
    }

    fn value(&self, name: &str) -> String {
        self.values.get(name).unwrap_or_default().to_owned()
    }

    fn invalid(&self, name: &str) -> Option<&'static str> {
        field_error(self.errors, name).map(|_| "true")
    }

    fn described(&self, name: &str) -> Option<String> {
        field_error(self.errors, name).map(|_| format!("{name}-error"))
    }

    /// The tag of an input the audio file gave.
    fn tag(&self) -> Markup {
        html! { @if self.measured { " " span.tag { "measured" } } }
    }

    /// A number input of `column`'s bounds, with its error and its what-if curve's slot.
    fn number(&self, column: Column, label: &str) -> Markup {
        let name = column.name();
        html! {
            div.field {
                label for=(name) { (label) (self.tag()) }
                input #(name) type="number" name=(name) min=(bound(column, false)) max=(bound(column, true)) step="any" value=(self.value(name))
                    aria-invalid=[self.invalid(name)] aria-describedby=[self.described(name)];
                (error_note(self.errors, name))
                (curve_slot(name))
            }
        }
    }

    /// A choice among `options` (value, words).
    fn select(&self, name: &str, label: &str, options: &[(String, String)]) -> Markup {
        let chosen = self.value(name);
        html! {
            div.field {
                label for=(name) { (label) (self.tag()) }
                select #(name) name=(name) aria-invalid=[self.invalid(name)] aria-describedby=[self.described(name)] {
                    @for (code, words) in options {
                        option value=(code) selected[chosen == *code] { (words) }
                    }
                }
                (error_note(self.errors, name))
            }
        }
    }

    /// A free-text input.
    fn text(&self, name: &str, label: &str) -> Markup {
        html! {
            div.field {
                label for=(name) { (label) }
                input #(name) type="text" name=(name) value=(self.value(name)) maxlength="1000"
                    aria-invalid=[self.invalid(name)] aria-describedby=[self.described(name)];
                (error_note(self.errors, name))
            }
        }
    }
}

/// The audio file's box: pick or drop a file; after a measure, where it came from.
fn audio_fieldset(form: &Form<'_>, audio_bytes: usize, audio_error: Option<&str>) -> Markup {
    let limit_mb = audio_bytes as f64 / 1e6;
    let measured_from = form.value("measured_from");
    html! {
        fieldset #audio-drop.audio {
            legend { "From an audio file" }
            p.muted {
                "A new song's file (WAV, AIFF, FLAC, MP3, OGG, Opus, WebM or M4A, up to " (format!("{limit_mb:.0}")) " MB): hitcast measures its tempo, loudness, length, key, mode and metre, and a model trained on just those, with the genres and names below, answers."
            }
            div.row {
                input #audio-file type="file" name="file" accept="audio/*,.mp3,.wav,.aif,.aiff,.flac,.ogg,.oga,.opus,.webm,.weba,.m4a" aria-label="audio file";
                button #measure type="submit" formaction="/predict/audio" formmethod="post" formenctype="multipart/form-data" formnovalidate { "Measure" }
            }
            p.muted.drop-hint hidden { "Or drop the file on this box." }
            p.muted #audio-status role="status" aria-live="polite" {}
            @if let Some(message) = audio_error {
                p.notice #audio-error role="alert" { (message) }
            }
            @if form.measured {
                input type="hidden" name="measured_from" value=(measured_from);
                p.measured role="status" {
                    "Measured from " b { (if measured_from.is_empty() { "an audio file" } else { measured_from.as_str() }) } ". "
                    "The measures marked " span.tag { "measured" } " came from the file; change them if you know better (a beat tracker may land on half or double a song's tempo: check it by ear). "
                    "The seven qualities Spotify learnt from audio it no longer serves (danceability, energy and the rest) cannot be measured from a file: they are left out, and the from-audio model answers. "
                    a href="/predict" { "Start again from a typical pop track" } "."
                }
            }
        }
    }
}

/// The learned qualities' sliders (disabled for a song measured from audio).
fn sound_fieldset(form: &Form<'_>) -> Markup {
    html! {
        fieldset {
            legend { "Sound" }
            @if form.measured {
                p.muted { "Not measured: no audio file gives these." }
            }
            @for (column, help) in SLIDERS {
                @let name = column.name();
                div.field {
                    label for=(name) { (words::label(name)) " " output #(format!("{name}-value")) for=(name) {
                        @if form.measured { "not measured" } @else { (three_figures(&form.value(name))) }
                    } }
                    input #(name) type="range" name=(name) min="0" max="1" step="any" value=(form.value(name))
                        disabled[form.measured]
                        aria-invalid=[form.invalid(name)] aria-describedby=[form.described(name)];
                    small { (help) }
                    (error_note(form.errors, name))
                    (curve_slot(name))
                }
            }
        }
    }
}

/// Tempo, loudness and the length in minutes and seconds.
fn tempo_fieldset(form: &Form<'_>) -> Markup {
    html! {
        fieldset {
            legend { "Tempo, loudness, length" }
            (form.number(Column::Tempo, "tempo (beats per minute)"))
            (form.number(Column::Loudness, "loudness (dB, usually -60 to 0)"))
            div.field {
                span.label #duration-label { "duration" (form.tag()) }
                div.row role="group" aria-labelledby="duration-label" {
                    input #duration_min type="number" name="duration_min" min="0" step="1" value=(form.value("duration_min"))
                        aria-label="minutes" aria-invalid=[form.invalid("duration")] aria-describedby=[form.described("duration")];
                    span { "min" }
                    input #duration_sec type="number" name="duration_sec" min="0" max="59.999" step="any" value=(form.value("duration_sec"))
                        aria-label="seconds" aria-invalid=[form.invalid("duration")];
                    span { "s" }
                }
                (error_note(form.errors, "duration"))
                (curve_slot("duration_ms"))
            }
        }
    }
}

/// Key, mode, time signature and the explicit flag.
fn key_fieldset(form: &Form<'_>) -> Markup {
    let keys: Vec<(String, String)> =
        std::iter::once(("-1".to_owned(), "none detected".to_owned()))
            .chain(
                words::KEYS
                    .iter()
                    .enumerate()
                    .map(|(code, name)| (code.to_string(), (*name).to_owned())),
            )
            .collect();
    let modes = [("1", "major"), ("0", "minor")].map(|(c, w)| (c.to_owned(), w.to_owned()));
    let metres: Vec<(String, String)> = (0..=7)
        .map(|n| {
            let words = if n == 0 {
                "unknown (0)".to_owned()
            } else {
                format!("{n}/4")
            };
            (n.to_string(), words)
        })
        .collect();
    html! {
        fieldset {
            legend { "Key, mode, metre" }
            (form.select("key", "key", &keys))
            (form.select("mode", "mode", &modes))
            (form.select("time_signature", "time signature", &metres))
            div.field.check {
                input #explicit type="checkbox" name="explicit" checked[form.values.get("explicit").is_some_and(|v| !v.is_empty())];
                label for="explicit" { "explicit lyrics" }
            }
        }
    }
}

/// The genres (a multi-select the page's script turns into chips with a type-ahead) and the
/// names.
fn names_fieldset(form: &Form<'_>, genres: &[String]) -> Markup {
    // As the model reads them: "R&B" is r-n-b; a genre it does not know stays chosen, marked,
    // so the form shows what the answer read.
    let mut selected: Vec<String> = Vec::new();
    for name in form.values.all("genres") {
        let genre = hitcast::data::genre::resolve(name).into_owned();
        if !genre.is_empty() && !selected.contains(&genre) {
            selected.push(genre);
        }
    }
    let unknown: Vec<&String> = selected.iter().filter(|g| !genres.contains(g)).collect();
    let quoted: Vec<String> = unknown
        .iter()
        .map(|g| format!("\u{201c}{g}\u{201d}"))
        .collect();
    html! {
        fieldset {
            legend { "Genres and names" }
            div.field {
                label #genres-label for="genres" { "genres (hold Ctrl or ⌘ to pick several)" }
                // With the page's script: the chosen genres as chips, and this box as a
                // type-ahead that adds one (the list below stays the form's field).
                div #genre-chips.chips hidden {}
                div.combo {
                    input #genre-filter type="search" placeholder="add a genre: type its name" aria-label="add a genre" hidden
                        role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="genre-list" autocomplete="off";
                    ul #genre-list role="listbox" aria-label="genres" hidden {}
                }
                select #genres name="genres" multiple size="8" aria-invalid=[form.invalid("genres")] aria-describedby=[form.described("genres")] {
                    @for g in genres {
                        option value=(g) selected[selected.contains(g)] { (g) }
                    }
                    @for g in &unknown {
                        option value=(g) selected data-unknown { (g) " (not a genre the model knows)" }
                    }
                }
                p.muted #genres-chosen aria-live="polite" {
                    @if selected.is_empty() { "No genre chosen." } @else { "Chosen: " (selected.join(", ")) "." }
                    @if !unknown.is_empty() { " The model knows no genre " (quoted.join(", ")) ": not read." }
                }
                (error_note(form.errors, "genres"))
            }
            (form.text("track_name", "title (optional: words like \u{201c}remix\u{201d} or \u{201c}feat.\u{201d} count)"))
            (form.text("artists", "artists (optional, separated by ;)"))
            (form.text("album_name", "album (optional: a single's album is its title)"))
        }
    }
}

/// Where the page's script puts a measure's what-if curve, beside its control (empty without
/// the script: the curves stay under the answer).
fn curve_slot(feature: &str) -> Markup {
    html! { div.curve-slot data-feature=(feature) {} }
}

/// An input's lower or upper physical bound, from the one place the checks read it.
fn bound(column: Column, upper: bool) -> String {
    column
        .bounds()
        .map(|d| if upper { d.max } else { d.min })
        .map_or_else(String::new, |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slider_labels_show_three_significant_figures() {
        assert_eq!(three_figures("0.36734693877551"), "0.367");
        assert_eq!(three_figures("0.0322"), "0.0322");
        assert_eq!(three_figures("0.5"), "0.5");
        assert_eq!(three_figures("1"), "1");
        assert_eq!(three_figures("0"), "0");
        assert_eq!(three_figures("0.00000101"), "0.00000101");
    }
}

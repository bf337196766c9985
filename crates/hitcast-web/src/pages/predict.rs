//! The prediction page: a form with every input the model uses, a search that fills it with a
//! real track, and the answer with the contributions behind it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hitcast::data::Column;
use maud::{html, Markup};

use super::answer::result_panel;
use super::{page, respond};
use crate::audio::{self, Fields, Place};
use crate::catalogue::{CatalogueState, Found, Search};
use crate::error::ApiError;
use crate::track::{FieldError, FormValues, TrackRequest};
use crate::AppState;
use hitcast::words;

/// Tracks a name search lists.
const SEARCH_LIMIT: usize = 20;

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

/// A typical track, to prefill the form: the model's typical audio inputs
/// ([`hitcast::predictor::Predictor::typical_audio`]) and the genre pop.
#[derive(Clone, Debug, PartialEq)]
pub struct Typical(pub TrackRequest);

impl Typical {
    /// The typical track of `state`'s model.
    pub fn of(predictor: &hitcast::predictor::Predictor) -> Typical {
        let audio = predictor.typical_audio();
        let pipeline = predictor.pipeline();
        let genres = pipeline
            .genres()
            .iter()
            .filter(|g| g.as_str() == "pop")
            .cloned()
            .collect();
        Typical(TrackRequest {
            track_id: String::new(),
            track_name: String::new(),
            artists: String::new(),
            album_name: String::new(),
            audio,
            genres,
        })
    }
}

/// `GET /predict`: the form with a typical track, or with the track `?track=ID` or the one
/// search `?q=TEXT` finds (and its prediction), or with the fields in the query string (a
/// shared scenario: the form's own fields, as `POST /predict` takes them).
pub async fn predict_get(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = FormValues::parse(query.as_deref().unwrap_or_default().as_bytes());
    // A scenario's link (the page's script keeps the form's fields in the address as they
    // change): the form as it was, and its answer.
    if query
        .0
        .iter()
        .any(|(name, _)| name != "q" && name != "track")
    {
        let (status, errors, result) = answer(&state, &query).await;
        let body = layout(&state, &query, &errors, &Lookup::default(), None, result);
        return respond(status, page("Predict", "Predict", body));
    }
    let search = query.get("q").unwrap_or_default().trim().to_owned();
    let wanted = query.get("track").map(str::to_owned);
    let mut note = None;
    let mut found = Search::default();
    let mut loaded = None;
    if wanted.is_some() || !search.is_empty() {
        match state.catalogue.state() {
            CatalogueState::Ready(catalogue) => {
                found = match &wanted {
                    Some(id) => catalogue.search(id, 1),
                    None => catalogue.search(&search, SEARCH_LIMIT),
                };
                let matches = &found.tracks;
                match matches.len() {
                    // Not a dead end: say why a song may be missing, and what to do instead.
                    0 => {
                        note = Some(format!(
                            "No track matches \u{201c}{}\u{201d} among the catalogue's {} \
                             tracks (the dataset hitcast ships was collected in 2022: newer \
                             songs are not in it). Set the song's features below, or measure \
                             it from its audio file.",
                            wanted.as_deref().unwrap_or(&search),
                            hitcast::text::thousands(catalogue.len() as u64),
                        ))
                    }
                    1 => {
                        loaded = catalogue
                            .get(&matches[0].track_id)
                            .map(|t| catalogue.request(t))
                    }
                    _ => {}
                }
            }
            other => note = Some(catalogue_note(&other)),
        }
    }
    // The answer is there on first load: the loaded track's, else the typical track's the
    // form starts with.
    let model = state.model();
    let track = loaded.as_ref().unwrap_or(&model.typical.0);
    let values = FormValues::from_request(track);
    let shown = loaded.as_ref().and(found.tracks.first());
    let result = match state.score_one(track.clone()).await {
        Ok(s) => result_panel(&state, track, &s, shown),
        Err(e) => error_panel(e.message()),
    };
    if found.tracks.len() < 2 {
        found = Search::default();
    }
    let body = layout(
        &state,
        &values,
        &[],
        &Lookup {
            search: &search,
            note: note.as_deref(),
            found: Some(&found),
        },
        None,
        result,
    );
    respond(StatusCode::OK, page("Predict", "Predict", body))
}

/// `POST /predict`: the form submitted without JavaScript. Invalid values re-render the form
/// with a message at each field (422).
pub async fn predict_post(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let values = match form(body, &state.limits) {
        Ok(v) => v,
        Err(rejected) => return rejected.into_response(),
    };
    let (status, errors, result) = answer(&state, &values).await;
    let body = layout(&state, &values, &errors, &Lookup::default(), None, result);
    respond(status, page("Predict", "Predict", body))
}

/// `POST /predict/audio`: the form with a song's audio file (multipart, from the form's
/// Measure button or a file dropped on the page). The file is measured; the form comes back
/// with what was measured in place of the typed measures, the seven learned qualities left out
/// (no file gives them), and the from-audio model's answer. A file that cannot be measured
/// comes back as a message above the form, the form as it was sent.
pub async fn predict_audio(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Ok(_permit) = state.audio_permits.acquire().await else {
        return super::error_page(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
    };
    let (upload, sent) = match audio::receive(request, &state).await {
        Ok(received) => received,
        Err(e) => {
            let values = FormValues::from_request(&state.model().typical.0);
            return audio_refused(&state, &values, e.status(), e.message()).await;
        }
    };
    let mut fields = Fields::default();
    fields.read(&sent, Place::Page);
    let song = match fields.finish() {
        Ok((song, _)) => song,
        Err(e) => return audio_refused(&state, &sent, e.status(), e.message()).await,
    };
    let name = upload.name.clone();
    let measured = match audio::measure(upload).await {
        Ok(m) => m,
        Err(e) => return audio_refused(&state, &sent, e.status(), e.message()).await,
    };
    let track = audio::track(&measured, song);
    let mut values = FormValues::from_request(&track);
    values.0.push(("measured_from".into(), name));
    let (status, errors, result) = answer(&state, &values).await;
    let body = layout(&state, &values, &errors, &Lookup::default(), None, result);
    respond(status, page("Predict", "Predict", body))
}

/// `POST /predict/batch`: a file of tracks from the page's upload box, answered with a CSV
/// to download (see the `batch` module); a file that cannot be scored gets a page saying why.
pub async fn predict_batch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match crate::batch::score_upload(state, request).await {
        Ok(download) => download,
        Err(refused) => super::error_page(refused.status(), refused.message()),
    }
}

/// The page after a file that was not measured: the form as sent, its answer, and why.
async fn audio_refused(
    state: &Arc<AppState>,
    values: &FormValues,
    status: StatusCode,
    message: &str,
) -> Response {
    let (_, errors, result) = answer(state, values).await;
    let body = layout(
        state,
        values,
        &errors,
        &Lookup::default(),
        Some(message),
        result,
    );
    respond(status, page("Predict", "Predict", body))
}

/// `POST /predict/result`: the result panel alone, for the live updates of `app.js`.
pub async fn result_fragment(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let values = match form(body, &state.limits) {
        Ok(v) => v,
        Err(rejected) => return rejected.into_response(),
    };
    let (status, _, panel) = answer(&state, &values).await;
    (status, Html(panel.into_string())).into_response()
}

/// A form body's fields, or the answer to a body that could not be read (413 over the limit).
fn form(
    body: Result<Bytes, BytesRejection>,
    limits: &crate::Limits,
) -> Result<FormValues, (StatusCode, String)> {
    body.map(|b| FormValues::parse(&b)).map_err(|e| {
        let e = ApiError::from_rejection(e, limits);
        (e.status(), e.message().to_owned())
    })
}

/// The result panel for a submitted form, with its status and the fields to mark.
async fn answer(
    state: &Arc<AppState>,
    values: &FormValues,
) -> (StatusCode, Vec<FieldError>, Markup) {
    match TrackRequest::from_form(values) {
        Ok(track) => {
            let found = loaded_from_form(state, values);
            match state.score_one(track.clone()).await {
                Ok(s) => (
                    StatusCode::OK,
                    Vec::new(),
                    result_panel(state, &track, &s, found.as_ref()),
                ),
                Err(e) => (e.status(), Vec::new(), error_panel(e.message())),
            }
        }
        Err(errors) => {
            let panel = invalid_panel(&errors);
            (StatusCode::UNPROCESSABLE_ENTITY, errors, panel)
        }
    }
}

/// The real track the form was loaded from (its hidden `track_id`), if the catalogue has it.
fn loaded_from_form(state: &AppState, values: &FormValues) -> Option<Found> {
    let id = values.get("track_id").filter(|id| !id.is_empty())?;
    match state.catalogue.state() {
        CatalogueState::Ready(catalogue) => catalogue.find(id),
        _ => None,
    }
}

fn catalogue_note(state: &CatalogueState) -> String {
    match state {
        CatalogueState::Loading => "The dataset is still loading: try again in a moment.".into(),
        // The reason (a path, a flag to pass) is for whoever runs the server: it is in the
        // server's log, not on the page.
        CatalogueState::Failed(_) | CatalogueState::Absent => {
            "Searching real tracks is not available on this server: it has no copy of the \
             dataset. You can still set every feature by hand."
                .into()
        }
        CatalogueState::Ready(_) => String::new(),
    }
}

/// The search box's part of the page: what was looked for, a note on it, what was found.
#[derive(Default)]
struct Lookup<'a> {
    search: &'a str,
    note: Option<&'a str>,
    found: Option<&'a Search>,
}

/// The whole page body: the search box, the form and the result.
fn layout(
    state: &AppState,
    values: &FormValues,
    errors: &[FieldError],
    lookup: &Lookup,
    audio_error: Option<&str>,
    result: Markup,
) -> Markup {
    let Lookup {
        search,
        note,
        found,
    } = lookup;
    html! {
        h1 { "Predict a track's popularity" }
        p.lead { "Set the track's features, load a real track, or measure a new song from its audio file: the answer follows the sliders (without JavaScript, press Predict)." }
        form.load method="get" action="/predict" role="search" {
            label for="q" { "Load a real track by title, artist or Spotify id" }
            div.row.combo {
                // A combobox once the page's script runs: suggestions from /api/v1/tracks as
                // you type, chosen with the arrow keys and Enter, or a click.
                input #q type="search" name="q" value=(search) placeholder="e.g. Comedy Gen Hoshino" autocomplete="off"
                    role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="q-list";
                button type="submit" { "Load" }
                ul #q-list role="listbox" aria-label="tracks found" hidden {}
            }
            @if let Some(note) = note { p.notice role="status" { (note) } }
            @if let CatalogueState::Ready(c) = state.catalogue.state() {
                @if let Some(caveat) = c.note() { p.muted { (caveat) } }
            }
        }
        @if let Some(found) = found.filter(|f| !f.tracks.is_empty()) {
            section.matches aria-label="tracks found" {
                p {
                    @if found.total > found.tracks.len() {
                        (found.total) " tracks match; the " (found.tracks.len()) " most popular:"
                    } @else {
                        (found.total) " tracks match, the most popular first:"
                    }
                }
                ul {
                    @for m in &found.tracks {
                        li {
                            a href=(format!("/predict?track={}", encode(&m.track_id))) { (m.track_name) }
                            " · " (m.artists.replace(';', ", "))
                            @if !m.album_name.is_empty() { " · from " i { (m.album_name) } }
                            " · " (m.genres.join(", "))
                            @if let Some(p) = m.popularity { " · popularity " (p) }
                        }
                    }
                }
            }
        }
        div.predict {
            (track_form(state, values, errors, audio_error))
            div #result aria-live="polite" { (result) }
        }
        section.batch aria-labelledby="batch-title" {
            h2 #batch-title { "Score a file of tracks" }
            p.muted {
                "A CSV (or CSV.gz) or Parquet file with the dataset's columns, up to "
                (state.limits.batch_file_bytes / 1_000_000) " MB: popularity is not needed, nor "
                "track_id (a row without one is a new song). The answers come back as a CSV to "
                "download, one row a track, in the columns " code { "hitcast predict" } " writes."
            }
            form.batch method="post" action="/predict/batch" enctype="multipart/form-data" {
                div.row {
                    input #batch-file type="file" name="file" accept=".csv,.gz,.parquet,text/csv" required aria-label="file of tracks";
                    button #batch-submit type="submit" { "Score the file" }
                }
            }
        }
    }
}

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

/// Percent-encodes a query value.
pub(super) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

fn track_form(
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
                "A new song's file (WAV, FLAC, OGG, MP3 or M4A, up to " (format!("{limit_mb:.0}")) " MB): hitcast measures its tempo, loudness, length, key, mode and metre, and a model trained on just those, with the genres and names below, answers."
            }
            div.row {
                input #audio-file type="file" name="file" accept="audio/*,.mp3,.wav,.flac,.ogg,.m4a" aria-label="audio file";
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
                    "The measures marked " span.tag { "measured" } " came from the file; change them if you know better. "
                    "The seven qualities Spotify learnt from audio it no longer serves (danceability, energy and the rest) cannot be measured from a file: they are left out, and the from-audio model answers. "
                    a href="/predict" { "Start again from a typical track" } "."
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
    let selected: Vec<&str> = form.values.all("genres").collect();
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
                        option value=(g) selected[selected.contains(&g.as_str())] { (g) }
                    }
                }
                p.muted #genres-chosen aria-live="polite" {
                    @if selected.is_empty() { "No genre chosen." } @else { "Chosen: " (selected.join(", ")) }
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

fn invalid_panel(errors: &[FieldError]) -> Markup {
    html! {
        section.result.invalid {
            h2 { "Some values need fixing" }
            ul {
                @for e in errors { li { b { (e.field) } ": " (e.message) } }
            }
        }
    }
}

fn error_panel(message: &str) -> Markup {
    html! {
        section.result.invalid {
            h2 { "The model could not score this track" }
            p { (message) }
        }
    }
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

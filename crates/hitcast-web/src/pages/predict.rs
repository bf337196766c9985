//! The prediction page: a form with every input the model uses, a search that fills it with a
//! real track, and the answer with the contributions behind it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hitcast::artifact::Metadata;
use hitcast::data::{Column, N_AUDIO};
use hitcast::explain::{Contribution, Explanation};
use maud::{html, Markup};

use super::{page, respond};
use crate::catalog::{CatalogState, Found};
use crate::score::Scored;
use crate::track::{FieldError, FormValues, TrackRequest};
use crate::AppState;

/// Contributions shown each way.
const TOP: usize = 6;
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

/// Pitch classes, as `key` codes them from 0.
const KEYS: [&str; 12] = [
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

/// A typical track, to prefill the form: the median of each audio column over the model's
/// background rows (FIT tracks), codes rounded, and the genre pop.
#[derive(Clone, Debug, PartialEq)]
pub struct Typical(pub TrackRequest);

impl Typical {
    /// The typical track of `state`'s model.
    pub fn of(predictor: &hitcast::predictor::Predictor) -> Typical {
        let artifact = predictor.artifact();
        let pipeline = &artifact.payload.pipeline;
        let width = pipeline.names().len();
        let rows: Vec<Vec<f64>> = artifact
            .payload
            .background
            .chunks_exact(width.max(1))
            .map(|row| pipeline.unscale(row))
            .collect();
        let mut audio = [0.0; N_AUDIO];
        for (i, column) in Column::AUDIO.into_iter().enumerate() {
            let mut values: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            values.sort_by(f64::total_cmp);
            let median = values.get(values.len() / 2).copied().unwrap_or(0.0);
            audio[i] = match column {
                Column::Explicit => 0.0,
                Column::DurationMs => (median / 1000.0).round() * 1000.0,
                Column::Loudness | Column::Tempo => (median * 10.0).round() / 10.0,
                c if c.rule() == hitcast::data::Rule::Unit => (median * 100.0).round() / 100.0,
                _ => median.round(),
            };
        }
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
/// search `?q=TEXT` finds (and its prediction).
pub async fn predict_get(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = FormValues::parse(query.as_deref().unwrap_or_default().as_bytes());
    let search = query.get("q").unwrap_or_default().trim().to_owned();
    let wanted = query.get("track").map(str::to_owned);
    let mut note = None;
    let mut matches = Vec::new();
    let mut loaded = None;
    if wanted.is_some() || !search.is_empty() {
        match state.catalog.state() {
            CatalogState::Ready(catalog) => {
                matches = match &wanted {
                    Some(id) => catalog.find(id).into_iter().collect(),
                    None => catalog.search(&search, SEARCH_LIMIT),
                };
                match matches.len() {
                    0 => {
                        note = Some(format!(
                            "No track matches \u{201c}{}\u{201d}.",
                            wanted.as_deref().unwrap_or(&search)
                        ))
                    }
                    1 => {
                        loaded = catalog
                            .get(&matches[0].track_id)
                            .map(|t| catalog.request(t))
                    }
                    _ => {}
                }
            }
            other => note = Some(catalog_note(&other)),
        }
    }
    let (values, result) = match &loaded {
        Some(track) => {
            let scored = state.score_one(track.clone()).await;
            (FormValues::from_request(track), Some(scored))
        }
        None => (FormValues::from_request(&state.typical.0), None),
    };
    let found = loaded.as_ref().and(matches.first());
    let result = match result {
        Some(Ok(s)) => result_panel(&state, &s, found),
        Some(Err(e)) => error_panel(&e),
        None => empty_panel(),
    };
    let list = if matches.len() > 1 {
        matches
    } else {
        Vec::new()
    };
    let body = layout(
        &state,
        &values,
        &[],
        &search,
        note.as_deref(),
        &list,
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
    let values = match form(body) {
        Ok(v) => v,
        Err(rejected) => return rejected.into_response(),
    };
    let (status, errors, result) = answer(&state, &values).await;
    let body = layout(&state, &values, &errors, "", None, &[], result);
    respond(status, page("Predict", "Predict", body))
}

/// `POST /predict/result`: the result panel alone, for the live updates of `app.js`.
pub async fn result_fragment(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let values = match form(body) {
        Ok(v) => v,
        Err(rejected) => return rejected.into_response(),
    };
    let (status, _, panel) = answer(&state, &values).await;
    (status, Html(panel.into_string())).into_response()
}

/// A form body's fields, or the answer to a body that could not be read (413 over the limit).
fn form(body: Result<Bytes, BytesRejection>) -> Result<FormValues, (StatusCode, String)> {
    body.map(|b| FormValues::parse(&b))
        .map_err(|e| (e.status(), e.body_text()))
}

/// The result panel for a submitted form, with its status and the fields to mark.
async fn answer(
    state: &Arc<AppState>,
    values: &FormValues,
) -> (StatusCode, Vec<FieldError>, Markup) {
    match TrackRequest::from_form(values) {
        Ok(track) => {
            let found = loaded_from_form(state, values);
            match state.score_one(track).await {
                Ok(s) => (
                    StatusCode::OK,
                    Vec::new(),
                    result_panel(state, &s, found.as_ref()),
                ),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Vec::new(),
                    error_panel(&e),
                ),
            }
        }
        Err(errors) => {
            let panel = invalid_panel(&errors);
            (StatusCode::UNPROCESSABLE_ENTITY, errors, panel)
        }
    }
}

/// The real track the form was loaded from (its hidden `track_id`), if the catalog has it.
fn loaded_from_form(state: &AppState, values: &FormValues) -> Option<Found> {
    let id = values.get("track_id").filter(|id| !id.is_empty())?;
    match state.catalog.state() {
        CatalogState::Ready(catalog) => catalog.find(id),
        _ => None,
    }
}

fn catalog_note(state: &CatalogState) -> String {
    match state {
        CatalogState::Loading => "The dataset is still loading: try again in a moment.".into(),
        CatalogState::Failed(why) => format!("Real tracks cannot be loaded: {why}"),
        CatalogState::Absent => {
            "Real tracks cannot be loaded: the server was started without a dataset (--data)."
                .into()
        }
        CatalogState::Ready(_) => String::new(),
    }
}

/// The whole page body: the search box, the form and the result.
fn layout(
    state: &AppState,
    values: &FormValues,
    errors: &[FieldError],
    search: &str,
    note: Option<&str>,
    matches: &[Found],
    result: Markup,
) -> Markup {
    html! {
        h1 { "Predict a track's popularity" }
        p.lead { "Set the track's features, or load a real track, and press Predict. With JavaScript on, the answer follows the sliders." }
        form.load method="get" action="/predict" role="search" {
            label for="q" { "Load a real track by title, artist or Spotify id" }
            div.row {
                input #q type="search" name="q" value=(search) placeholder="e.g. Comedy Gen Hoshino" autocomplete="off";
                button type="submit" { "Load" }
            }
            @if let Some(note) = note { p.notice role="status" { (note) } }
            @if let CatalogState::Ready(c) = state.catalog.state() {
                @if let Some(caveat) = c.note() { p.muted { (caveat) } }
            }
        }
        @if !matches.is_empty() {
            section.matches aria-label="tracks found" {
                p { (matches.len()) " tracks match (the most popular first). Pick one:" }
                ul {
                    @for m in matches {
                        li {
                            a href=(format!("/predict?track={}", encode(&m.track_id))) { (m.track_name) }
                            " · " (m.artists) " · " (m.genres.join(", "))
                            @if let Some(p) = m.popularity { " · popularity " (p) }
                        }
                    }
                }
            }
        }
        div.predict {
            (track_form(state, values, errors))
            div #result aria-live="polite" { (result) }
        }
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
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

fn track_form(state: &AppState, values: &FormValues, errors: &[FieldError]) -> Markup {
    let value = |name: &str| values.get(name).unwrap_or_default().to_owned();
    let invalid = |name: &str| field_error(errors, name).map(|_| "true");
    let described = |name: &str| field_error(errors, name).map(|_| format!("{name}-error"));
    let selected_genres: Vec<&str> = values.all("genres").collect();
    let key = value("key");
    let mode = value("mode");
    let time_signature = value("time_signature");
    html! {
        form #track-form.track method="post" action="/predict" novalidate {
            input type="hidden" name="track_id" value=(value("track_id"));
            fieldset {
                legend { "Sound" }
                @for (column, help) in SLIDERS {
                    @let name = column.name();
                    div.field {
                        label for=(name) { (name) " " output #(format!("{name}-value")) for=(name) { (value(name)) } }
                        input #(name) type="range" name=(name) min="0" max="1" step="any" value=(value(name))
                            aria-invalid=[invalid(name)] aria-describedby=[described(name)];
                        small { (help) }
                        (error_note(errors, name))
                    }
                }
            }
            fieldset {
                legend { "Tempo, loudness, length" }
                div.field {
                    label for="tempo" { "tempo (beats per minute)" }
                    input #tempo type="number" name="tempo" min=(bound(Column::Tempo, false)) max=(bound(Column::Tempo, true)) step="any" value=(value("tempo"))
                        aria-invalid=[invalid("tempo")] aria-describedby=[described("tempo")];
                    (error_note(errors, "tempo"))
                }
                div.field {
                    label for="loudness" { "loudness (dB, usually -60 to 0)" }
                    input #loudness type="number" name="loudness" min=(bound(Column::Loudness, false)) max=(bound(Column::Loudness, true)) step="any" value=(value("loudness"))
                        aria-invalid=[invalid("loudness")] aria-describedby=[described("loudness")];
                    (error_note(errors, "loudness"))
                }
                div.field {
                    span.label #duration-label { "duration" }
                    div.row role="group" aria-labelledby="duration-label" {
                        input #duration_min type="number" name="duration_min" min="0" step="1" value=(value("duration_min"))
                            aria-label="minutes" aria-invalid=[invalid("duration")] aria-describedby=[described("duration")];
                        span { "min" }
                        input #duration_sec type="number" name="duration_sec" min="0" max="59.999" step="any" value=(value("duration_sec"))
                            aria-label="seconds" aria-invalid=[invalid("duration")];
                        span { "s" }
                    }
                    (error_note(errors, "duration"))
                }
            }
            fieldset {
                legend { "Key, mode, metre" }
                div.field {
                    label for="key" { "key" }
                    select #key name="key" aria-invalid=[invalid("key")] aria-describedby=[described("key")] {
                        option value="-1" selected[key == "-1"] { "none detected" }
                        @for (code, name) in KEYS.iter().enumerate() {
                            @let code = code.to_string();
                            option value=(code) selected[key == code] { (name) }
                        }
                    }
                    (error_note(errors, "key"))
                }
                div.field {
                    label for="mode" { "mode" }
                    select #mode name="mode" aria-invalid=[invalid("mode")] aria-describedby=[described("mode")] {
                        option value="1" selected[mode == "1"] { "major" }
                        option value="0" selected[mode == "0"] { "minor" }
                    }
                    (error_note(errors, "mode"))
                }
                div.field {
                    label for="time_signature" { "time signature" }
                    select #time_signature name="time_signature" aria-invalid=[invalid("time_signature")] aria-describedby=[described("time_signature")] {
                        @for n in 0..=7 {
                            @let code = n.to_string();
                            option value=(code) selected[time_signature == code] {
                                @if n == 0 { "unknown (0)" } @else { (n) "/4" }
                            }
                        }
                    }
                    (error_note(errors, "time_signature"))
                }
                div.field.check {
                    input #explicit type="checkbox" name="explicit" checked[values.get("explicit").is_some_and(|v| !v.is_empty())];
                    label for="explicit" { "explicit lyrics" }
                }
            }
            fieldset {
                legend { "Genres and names" }
                div.field {
                    label for="genres" { "genres (hold Ctrl or ⌘ to pick several)" }
                    input #genre-filter type="search" placeholder="filter genres" aria-label="filter genres" hidden;
                    select #genres name="genres" multiple size="8" aria-invalid=[invalid("genres")] aria-describedby=[described("genres")] {
                        @for g in state.predictor.pipeline().genres() {
                            option value=(g) selected[selected_genres.contains(&g.as_str())] { (g) }
                        }
                    }
                    p.muted #genres-chosen aria-live="polite" {
                        @if selected_genres.is_empty() { "No genre chosen." } @else { "Chosen: " (selected_genres.join(", ")) }
                    }
                    (error_note(errors, "genres"))
                }
                div.field {
                    label for="track_name" { "title (optional: words like \u{201c}remix\u{201d} or \u{201c}feat.\u{201d} count)" }
                    input #track_name type="text" name="track_name" value=(value("track_name")) maxlength="1000"
                        aria-invalid=[invalid("track_name")] aria-describedby=[described("track_name")];
                    (error_note(errors, "track_name"))
                }
                div.field {
                    label for="artists" { "artists (optional, separated by ;)" }
                    input #artists type="text" name="artists" value=(value("artists")) maxlength="1000"
                        aria-invalid=[invalid("artists")] aria-describedby=[described("artists")];
                    (error_note(errors, "artists"))
                }
            }
            button #submit type="submit" { "Predict" }
        }
    }
}

/// An input's lower or upper physical bound, from the one place the checks read it.
fn bound(column: Column, upper: bool) -> String {
    column
        .domain()
        .map(|d| if upper { d.max } else { d.min })
        .map_or_else(String::new, |v| v.to_string())
}

fn empty_panel() -> Markup {
    html! {
        section.result {
            h2 { "The prediction" }
            p.muted { "Press Predict to see the chance that this track is popular, its score, and why." }
        }
    }
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

/// The family of the classifier, for people.
pub fn family(m: &Metadata) -> String {
    m.classifier
        .classifier_kind()
        .map_or_else(|| "model".to_owned(), |k| k.to_string())
}

fn result_panel(state: &AppState, s: &Scored, loaded: Option<&Found>) -> Markup {
    let m = state.predictor.metadata();
    let a = &s.answer;
    html! {
        section.result {
            h2 { "The prediction" }
            p.probability {
                span #probability data-probability=(format!("{}", a.probability)) { (format!("{:.1}%", a.probability * 100.0)) }
                " chance that its popularity is above " (m.label_threshold)
            }
            p {
                span #label .(if a.flagged { "badge popular" } else { "badge" }) { (s.label) }
                @if a.flagged {
                    " " (format!("{:.0}x", a.lift)) " the chance of a typical track (" (format!("{:.1}%", m.base_rate * 100.0))
                    " of training tracks are popular); tracks are flagged from " (format!("{:.1}%", m.decision_threshold * 100.0)) "."
                } @else {
                    " " (format!("{:.1}x", a.lift)) " the chance of a typical track (" (format!("{:.1}%", m.base_rate * 100.0))
                    " of training tracks are popular); tracks are flagged as likely hits from " (format!("{:.1}%", m.decision_threshold * 100.0)) "."
                }
            }
            p {
                "Predicted popularity score: " b #score { (format!("{:.0}", a.popularity)) } " out of 100, likely between "
                b #score-low { (format!("{:.0}", a.popularity_low)) } " and " b #score-high { (format!("{:.0}", a.popularity_high)) }
                " (" (format!("{:.0}%", m.interval.choice.coverage * 100.0)) " of test tracks fall in their range)."
            }
            @if !a.warnings.is_empty() {
                ul.notice #warnings {
                    @for w in &a.warnings { li { (w.message) } }
                }
            }
            @if let Some(t) = loaded {
                p.real {
                    "The real track \u{201c}" (t.track_name) "\u{201d} by " (t.artists)
                    @match t.popularity {
                        Some(p) => { " has popularity " b #real-popularity { (p) } @if p > m.label_threshold { " (popular)" } @else { " (not popular)" } "." }
                        None => { " has no popularity in the file." }
                    }
                    " The prediction uses the values in the form."
                }
            }
            @if !a.unknown_genres.is_empty() {
                p.notice { "The model does not know the genre " (a.unknown_genres.join(", ")) ": it is not read."
                    @if !a.genres_used { " With no genre it knows, the track is scored by the model's audio-only companion." } }
            }
            @if let Some(e) = &s.explanation { (contributions(e)) }
        }
    }
}

fn contributions(e: &Explanation) -> Markup {
    let up: Vec<&Contribution> = e.top_up(TOP).collect();
    let down: Vec<&Contribution> = e.top_down(TOP).collect();
    let largest = up
        .iter()
        .chain(&down)
        .map(|c| c.contribution.abs())
        .fold(1e-12, f64::max);
    let bars = |items: &[&Contribution], class: &str| {
        html! {
            ul.bars {
                @for c in items {
                    li {
                        span.name title=(format!("{} = {}", c.feature, c.value)) { (c.feature) " = " (c.value) }
                        span.track {
                            span.(format!("bar {class}")) style=(format!("width:{:.1}%", c.contribution.abs() / largest * 100.0)) {}
                        }
                        span.amount { (format!("{:+.2}", c.contribution)) }
                    }
                }
            }
        }
    };
    html! {
        h3 { "Why" }
        p.muted {
            "Each bar is how much one feature moves the (calibrated) prediction, in log-odds, from the model's starting point ("
            (format!("{:.1}%", hitcast::explain::probability(e.base) * 100.0)) ", its average log-odds over training tracks) to this one. "
            "Computed by " (e.method.describe()) "; the genres count as one feature."
        }
        div.why {
            div { h4 { "Raising it" } @if up.is_empty() { p.muted { "Nothing." } } @else { (bars(&up, "up")) } }
            div { h4 { "Lowering it" } @if down.is_empty() { p.muted { "Nothing." } } @else { (bars(&down, "down")) } }
        }
    }
}

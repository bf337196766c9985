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
use super::form::track_form;
use super::{page, respond};
use crate::audio::{self, Fields, Place};
use crate::catalogue::{CatalogueState, Found, Search};
use crate::error::ApiError;
use crate::track::{FieldError, FormValues, TrackRequest};
use crate::AppState;

/// Tracks a name search lists.
const SEARCH_LIMIT: usize = 20;

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
        let query = measures_filled(&query, &state.model().typical.0);
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
    // Which track was loaded, said at the top (its answer and real popularity may lie below
    // the fold on a phone), and in the tab's title.
    let title = match shown {
        Some(t) => {
            note = Some(format!(
                "Loaded \u{201c}{}\u{201d} by {}{}: its features fill the form, and the answer is the model's.",
                t.track_name,
                t.artists.replace(';', ", "),
                t.popularity
                    .map(|p| format!(" (its real popularity: {p})"))
                    .unwrap_or_default()
            ));
            format!("{} \u{b7} Predict", t.track_name)
        }
        None => "Predict".to_owned(),
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
    respond(StatusCode::OK, page(&title, "Predict", body))
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
    let Ok(permit) = audio::audio_permit(&state).await else {
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
    let measured = match audio::measure(upload, permit).await {
        Ok(m) => m,
        Err(e) => {
            let shown = with_typical(&sent, &state.model().typical.0);
            return audio_refused(&state, &shown, e.status(), e.message()).await;
        }
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
        Err(refused) => super::error_page_back(
            refused.status(),
            refused.message(),
            Some(("/predict", "Back to the Predict page")),
        ),
    }
}

/// A link's fields with the typical track's measures where it names none (a link may name
/// only what it changes: `?tempo=90`). The learned qualities are filled too, unless the link
/// is a song measured from audio (`measured_from`), which has none; the genres, names and the
/// explicit box stay as the link has them, since the form leaves out an empty one.
fn measures_filled(query: &FormValues, typical: &TrackRequest) -> FormValues {
    let measured = query.get("measured_from").is_some();
    let mut filled = query.clone();
    for (name, value) in FormValues::from_request(typical).0 {
        let column = Column::from_name(&name);
        let a_measure = name.starts_with("duration_")
            || column.is_some_and(|c| c.audio_index().is_some() && c != Column::Explicit);
        let lacking = measured && column.is_some_and(Column::is_learned);
        if a_measure && !lacking && query.get(&name).is_none() {
            filled.0.push((name, value));
        }
    }
    filled
}

/// The page after a file that was not measured: the form as sent, its answer, and why.
/// The form to show beside a song that could not be measured: as the page sent it, or, for an
/// upload without the page's form (curl's `-F file=@song.mp3`, which would read as a song
/// measured from an empty file), the typical track's with what was sent over it.
fn with_typical(sent: &FormValues, typical: &TrackRequest) -> FormValues {
    if sent.get("tempo").is_some() {
        return sent.clone();
    }
    let mut shown = sent.clone();
    let typical = FormValues::from_request(typical);
    for (name, value) in typical.0 {
        if sent.get(&name).is_none() {
            shown.0.push((name, value));
        }
    }
    shown
}

/// The Predict page after a file that was not measured: the form, the reason beside the
/// audio box, and no answer in the panel (the form's own would read as the file's).
async fn audio_refused(
    state: &Arc<AppState>,
    values: &FormValues,
    status: StatusCode,
    message: &str,
) -> Response {
    // The fields to mark; the answer itself is not shown, so not computed.
    let errors = TrackRequest::from_form(values).err().unwrap_or_default();
    let result = html! {
        section.result.invalid {
            h2 { "This file could not be measured" }
            p { (message) }
            p { "The form keeps the values it had: press Predict, or change one, for their answer." }
        }
    };
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
                @if let Some(caveat) = c.note(&state.model().predictor.metadata().data_sha256) { p.muted { (caveat) } }
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

/// Percent-encodes a query value.
pub(super) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn invalid_panel(errors: &[FieldError]) -> Markup {
    // In words, as the form's labels say them: "Time signature", not time_signature.
    let named = |field: &str| match field {
        "duration" => "Duration".to_owned(),
        other => hitcast::words::label(other),
    };
    let fields: Vec<String> = errors.iter().map(|e| named(&e.field)).collect();
    html! {
        section.result.invalid {
            // On phones the bar at the foot says what stops the answer, where it showed one.
            div.summary-bar aria-hidden="true" { "Some values need fixing: " (fields.join(", ")) }
            h2 { "Some values need fixing" }
            ul {
                // `data-field` lets the page's script mark the field while the answer follows
                // the inputs (a submitted form marks them itself).
                @for e in errors { li data-field=(e.field) data-message=(e.message) { b { (named(&e.field)) } ": " (e.message) } }
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

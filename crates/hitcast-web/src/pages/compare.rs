//! `GET /compare`: two to four tracks or scenarios side by side: the chance, the flag, the
//! score and its range, the model that answered, and the inputs whose push on the chance
//! differs most between them.
//!
//! A scenario is the Predict form's fields as a query string, the same one a shared Predict
//! link holds, given as a repeated `s` parameter (`s=track%3DID` for a catalogue track); `q`
//! finds a track and adds it. The page is a link, so a comparison can be shared or reloaded.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::{page, respond};
use crate::catalogue::CatalogueState;
use crate::score::Scored;
use crate::track::{FormValues, TrackRequest};
use crate::AppState;

/// Scenarios compared at most.
pub(crate) const MAX_SCENARIOS: usize = 4;

/// Inputs listed under "what differs most".
const DIFFERENCES: usize = 6;

/// One scenario of the comparison: a column of its table.
struct Compared {
    /// Its query string, as `s` and as a Predict link take it.
    scenario: String,
    name: String,
    /// A catalogue track's real popularity, to set beside its answer.
    real: Option<u8>,
    scored: Scored,
    /// Each input's step on the chance, in music words: (label, value, change in points).
    steps: Vec<(String, String, f64)>,
}

/// `GET /compare?s=...&s=...[&q=...]`.
pub async fn compare(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let query = FormValues::parse(query.as_deref().unwrap_or_default().as_bytes());
    let mut scenarios: Vec<String> = query.all("s").map(str::to_owned).collect();
    let mut notes = Vec::new();
    if let Some(q) = query.get("q").map(str::trim).filter(|q| !q.is_empty()) {
        match state.catalogue.state() {
            CatalogueState::Ready(catalogue) => match catalogue.search(q, 1).tracks.first() {
                Some(found) => scenarios.push(format!("track={}", encode(&found.track_id))),
                None => notes.push(format!("No track matches \u{201c}{q}\u{201d}.")),
            },
            _ => notes.push("Searching tracks is not available on this server.".to_owned()),
        }
    }
    if scenarios.len() > MAX_SCENARIOS {
        notes.push(format!(
            "At most {MAX_SCENARIOS} are compared: the first {MAX_SCENARIOS} are shown."
        ));
        scenarios.truncate(MAX_SCENARIOS);
    }
    let mut columns = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        match track_of(&state, scenario) {
            Ok((track, name, real)) => {
                let name = name.unwrap_or_else(|| format!("Scenario {}", i + 1));
                match state.score(vec![track], true).await {
                    Ok(mut scored) => {
                        let Some(scored) = scored.pop() else { continue };
                        let steps = scored
                            .explanation
                            .as_ref()
                            .map(|e| {
                                e.chance_steps(usize::MAX)
                                    .into_iter()
                                    .map(|s| (s.label, s.value, (s.to - s.from) * 100.0))
                                    .collect()
                            })
                            .unwrap_or_default();
                        columns.push(Compared {
                            scenario: scenario.clone(),
                            name,
                            real,
                            scored,
                            steps,
                        });
                    }
                    Err(e) => notes.push(format!("{name}: {}", e.message())),
                }
            }
            Err(message) => notes.push(format!("Scenario {}: {message}", i + 1)),
        }
    }
    let body = html! {
        h1 { "Compare tracks and scenarios" }
        p.lead {
            "Up to " (MAX_SCENARIOS) " side by side: their chance of a hit, score and range, the model "
            "that answered, and the inputs whose push on the chance differs most. Add the form's "
            "scenario with " i { "Add to comparison" } " on the Predict page, or a real track here."
        }
        @for note in &notes { p.notice role="status" { (note) } }
        @if columns.len() < MAX_SCENARIOS {
            form.load method="get" action="/compare" role="search" {
                @for c in &columns { input type="hidden" name="s" value=(c.scenario); }
                label for="compare-q" { "Add a real track by title, artist or Spotify id" }
                div.row {
                    input #compare-q type="search" name="q" placeholder="e.g. Blinding Lights" autocomplete="off";
                    button type="submit" { "Add" }
                }
            }
        }
        @if columns.is_empty() {
            p { "Nothing to compare yet." }
        } @else {
            (table(&columns, state.model().predictor.metadata().label_threshold))
        }
    };
    respond(StatusCode::OK, page("Compare", "Compare", body))
}

/// The track a scenario describes, its name when it is a real track or names one, and a real
/// track's popularity.
#[allow(clippy::type_complexity)]
fn track_of(
    state: &AppState,
    scenario: &str,
) -> Result<(TrackRequest, Option<String>, Option<u8>), String> {
    let values = FormValues::parse(scenario.as_bytes());
    if let Some(id) = values.get("track") {
        return match state.catalogue.state() {
            CatalogueState::Ready(catalogue) => match catalogue.get(id) {
                Some(t) => Ok((
                    catalogue.request(t),
                    Some(format!(
                        "{} \u{b7} {}",
                        t.track_name,
                        t.artists.replace(';', ", ")
                    )),
                    t.popularity,
                )),
                None => Err(format!("no track has the id {id}")),
            },
            _ => Err("searching tracks is not available on this server".to_owned()),
        };
    }
    let track = TrackRequest::from_form(&values).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let name = (!track.track_name.is_empty()).then(|| {
        if track.artists.is_empty() {
            track.track_name.clone()
        } else {
            format!(
                "{} \u{b7} {}",
                track.track_name,
                track.artists.replace(';', ", ")
            )
        }
    });
    Ok((track, name, None))
}

/// The comparison: one column a scenario; a real popularity above `threshold` is marked
/// popular.
fn table(columns: &[Compared], threshold: u8) -> Markup {
    let without = |skip: usize| -> String {
        let kept: Vec<String> = columns
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, c)| format!("s={}", encode(&c.scenario)))
            .collect();
        format!("/compare?{}", kept.join("&"))
    };
    html! {
        div.table-scroll {
            table #compare {
                thead {
                    tr {
                        th { }
                        @for (i, c) in columns.iter().enumerate() {
                            th scope="col" {
                                (c.name)
                                br;
                                span.links {
                                    a href=(format!("/predict?{}", c.scenario)) { "edit" }
                                    " \u{b7} "
                                    a href=(without(i)) aria-label=(format!("remove {}", c.name)) { "remove" }
                                }
                            }
                        }
                    }
                }
                tbody {
                    tr {
                        th scope="row" { "chance of a hit" }
                        @for c in columns {
                            td.chance data-probability=(format!("{}", c.scored.answer.chance.probability)) {
                                b { (format!("{:.1}%", c.scored.answer.chance.probability * 100.0)) }
                                br; span.muted { (c.scored.label) }
                            }
                        }
                    }
                    tr {
                        th scope="row" { "score (range)" }
                        @for c in columns {
                            @let a = &c.scored.answer;
                            td { b { (format!("{:.0}", a.popularity)) } " (" (format!("{:.0}", a.popularity_low)) "\u{2013}" (format!("{:.0}", a.popularity_high)) ")" }
                        }
                    }
                    @if columns.iter().any(|c| c.real.is_some()) {
                        tr {
                            th scope="row" { "real popularity" }
                            @for c in columns {
                                td {
                                    @match c.real {
                                        Some(p) => { b { (p) } @if p > threshold { " " span.muted { "(popular)" } } }
                                        None => span.muted { "\u{2013}" },
                                    }
                                }
                            }
                        }
                    }
                    tr {
                        th scope="row" { "answered by" }
                        @for c in columns { td { (c.scored.answer.chance.model.name()) " model" } }
                    }
                    @for (label, cells) in differences(columns) {
                        tr.difference {
                            th scope="row" { (label) }
                            @for cell in cells {
                                td {
                                    @match cell {
                                        Some((value, change)) => {
                                            (value) br;
                                            @let shown = super::answer::signed(change);
                                            // A change that rounds to 0.0 takes neither colour.
                                            @let class = if shown.starts_with('+') { "up" } else if shown.starts_with('-') { "down" } else { "" };
                                            span class=(class) { (shown) " pp" }
                                        }
                                        None => { "\u{2013}" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.muted {
            "The rows under the answers are the inputs whose push on the chance differs most "
            "between the columns: each input's value, and how many percentage points it moves "
            "that scenario's chance, from the model's baseline (its average answer), after the inputs "
            "that move it more."
        }
    }
}

/// The inputs whose step on the chance differs most between the columns, largest spread
/// first: each column's value and step, or nothing where a column lacks the input (a song
/// measured from audio has no danceability).
#[allow(clippy::type_complexity)]
fn differences(columns: &[Compared]) -> Vec<(String, Vec<Option<(String, f64)>>)> {
    let mut labels: Vec<&str> = Vec::new();
    for c in columns {
        for (label, _, _) in &c.steps {
            if !labels.contains(&label.as_str()) {
                labels.push(label);
            }
        }
    }
    let mut rows: Vec<(f64, String, Vec<Option<(String, f64)>>)> = labels
        .into_iter()
        .map(|label| {
            let cells: Vec<Option<(String, f64)>> = columns
                .iter()
                .map(|c| {
                    c.steps
                        .iter()
                        .find(|(l, _, _)| l == label)
                        .map(|(_, value, change)| (value.clone(), *change))
                })
                .collect();
            let changes = cells.iter().map(|c| c.as_ref().map_or(0.0, |c| c.1));
            let spread =
                changes.clone().fold(f64::MIN, f64::max) - changes.fold(f64::MAX, f64::min);
            (spread, label.to_owned(), cells)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rows.into_iter()
        .take(DIFFERENCES)
        .map(|(_, label, cells)| (label, cells))
        .collect()
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

//! Server-rendered pages (maud escapes every value it prints, names from the data included).
//! Each works without JavaScript; `assets/app.js` only adds live updates, the genre filter and the what-if curves beside their controls.

mod answer;
mod compare;
mod docs;
mod form;
mod predict;
mod welcome;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::AppState;
use std::sync::Arc;

pub use compare::compare;
pub use docs::{docs, Examples};
pub use predict::{
    predict_audio, predict_batch, predict_get, predict_post, result_fragment, Typical,
};
pub use welcome::welcome;

/// The page chrome: head, navigation, and `body`.
fn page(title: &str, active: &str, body: Markup) -> Markup {
    let nav = [
        ("/", "Home"),
        ("/predict", "Predict"),
        ("/explore", "Explore"),
        ("/models", "Models"),
        ("/api/docs", "API"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · hitcast" }
                link rel="stylesheet" href="/assets/app.css";
                // No icon: without this line every page asks for /favicon.ico and gets a 404.
                link rel="icon" href="data:,";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#content" { "Skip to the content" }
                header.top {
                    a.brand href="/" { "hitcast" }
                    nav aria-label="pages" {
                        @for (href, name) in nav {
                            a href=(href) aria-current=[(name == active).then_some("page")] { (name) }
                        }
                    }
                }
                main #content { (body) }
                footer { "hitcast " (env!("CARGO_PKG_VERSION")) " · the model's figures were measured on test tracks it never saw while it was fitted or tuned; Explore describes the whole dataset." }
            }
        }
    }
}

/// A page answered with `status`.
fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// The Explore page: the EDA's charts from `--report`.
pub async fn explore(State(state): State<Arc<AppState>>) -> Response {
    report_page(&state, "Explore", "What is in the data", |r| &r.data, false)
}

/// The Models page: the experiment grids and the model card from `--report`.
pub async fn models(State(state): State<Arc<AppState>>) -> Response {
    report_page(&state, "Models", "Models compared", |r| &r.models, true)
}

/// Why the report's model card is not the served model's, when it is not: written for a model
/// file of another time (another `--report`, or the model reloaded since).
fn another_model(report: &crate::ReportPages, served: u64) -> Option<String> {
    let written = report.model_created_unix?;
    (written != served).then(|| {
        format!(
            "This report was written with another model (saved {}), not the one served now \
             (saved {}): its model card and figures are not this model's, which are on the \
             start page. Write the report again with this model file (hitcast report --model) \
             to see them here.",
            hitcast::render::report::utc_time(written),
            hitcast::render::report::utc_time(served)
        )
    })
}

fn report_page(
    state: &AppState,
    name: &str,
    heading: &str,
    part: fn(&crate::ReportPages) -> &String,
    model_card: bool,
) -> Response {
    let body = match &state.report {
        Some(report) => {
            let part = part(report);
            let served = state.model().predictor.metadata().created_unix;
            let another = model_card.then(|| another_model(report, served)).flatten();
            html! {
                h1 { (heading) }
                @if let Some(why) = &another {
                    p.notice { (why) }
                } @else if model_card && report.model_created_unix.is_some() {
                    p.lead { "From the report written with this model: every figure is measured, none typed in." }
                } @else {
                    p.lead { "From the report: every figure is measured, none typed in." }
                }
                // A menu of the sections that stays in reach while the long page scrolls.
                nav.contents aria-label="sections" {
                    @for (id, title) in hitcast::render::sections(part) {
                        a href=(format!("#{id}")) { (title) }
                    }
                }
                (PreEscaped(part))
            }
        }
        None => html! {
            h1 { (heading) }
            p.notice {
                "No report was given. Write one with "
                code { "hitcast report --experiment DIR --model MODEL --out REPORT" }
                " and start the server with "
                code { "--report REPORT" } "."
            }
        },
    };
    respond(StatusCode::OK, page(name, name, body))
}

/// 404 for pages (the API answers JSON: see [`crate::api::not_found`]).
pub fn not_found(path: &str) -> Response {
    respond(
        StatusCode::NOT_FOUND,
        page(
            "Not found",
            "",
            html! {
                h1 { "Not found" }
                p { "There is no page at " code { (path) } ". " a href="/" { "Back to the start" } "." }
            },
        ),
    )
}

/// Any other error of a page, in a sentence (the API answers JSON: see [`crate::error`]).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    error_page_back(status, message, Some(("/", "Back to the start")))
}

/// [`error_page`] with a link back to `href`, named `back`: the page the request came from;
/// or none, where every page would answer the same. A message of several lines is its first
/// line, then a list of the others.
pub(crate) fn error_page_back(
    status: StatusCode,
    message: &str,
    back: Option<(&str, &str)>,
) -> Response {
    let title = headline(status);
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let listed: Vec<&str> = rest.lines().filter(|line| !line.is_empty()).collect();
    respond(
        status,
        page(
            title,
            "",
            html! {
                h1 { (title) }
                @if listed.is_empty() {
                    p {
                        (first) "."
                        @if let Some((href, name)) = back { " " a href=(href) { (name) } "." }
                    }
                } @else {
                    p { (first) }
                    ul { @for line in &listed { li { (line) } } }
                    @if let Some((href, name)) = back { p { a href=(href) { (name) } "." } }
                }
            },
        ),
    )
}

/// An error page's heading: what happened in words, not the status's name ("Unprocessable
/// Entity"); the message under it says why and what to do.
fn headline(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "This request cannot be read",
        401 => "This server asks for a key",
        404 => "Not found",
        405 => "Not a request this address takes",
        408 => "The upload stopped",
        413 => "Too large",
        415 => "Not a kind of file this page reads",
        422 => "This cannot be answered",
        429 | 503 => "The server is busy",
        501 => "Not on this server",
        500..=599 => "Something went wrong on the server",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// The stylesheet: the report's, then the app's own.
pub async fn css() -> Response {
    let body = format!(
        "{}{}",
        hitcast::render::CSS,
        include_str!("../../assets/app.css")
    );
    asset("text/css; charset=utf-8", body)
}

/// The script: live updates and the genre filter.
pub async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js").to_owned(),
    )
}

fn asset(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

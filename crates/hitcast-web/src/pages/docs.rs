//! `GET /api/docs`: the API's documentation, rendered by the server from the same OpenAPI
//! document it serves at `/api/openapi.json` (no CDN, no script), so the two cannot differ.
//! Each endpoint's example answer is the server's own answer to the example request, sent
//! through the app's router when the page is rendered, so it cannot drift either.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;
use tower::ServiceExt as _;

use super::{page, respond};
use crate::AppState;

/// Each operation's example answer, in the document's order.
pub type Examples = Arc<Vec<Option<(u16, Value)>>>;

/// `GET /api/docs`.
pub async fn docs(State(state): State<Arc<AppState>>) -> Response {
    let doc = &state.openapi;
    let answers = examples(&state).await;
    let mut answers = answers.iter().cloned();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let body = html! {
        h1 { "The JSON API" }
        p.lead {
            (text(&doc["info"]["description"])) " Version " (text(&doc["info"]["version"]))
            "; the machine-readable document is " a href="/api/openapi.json" { "/api/openapi.json" } " (OpenAPI 3)."
        }
        p {
            "Errors answer " code { r#"{"error": "...", "errors": [{"field": "...", "message": "..."}]}"# }
            " with the status below each endpoint."
        }
        @if let Some(paths) = doc["paths"].as_object() {
            @for (path, operations) in paths {
                @if let Some(operations) = operations.as_object() {
                    @for (method, op) in operations {
                        (endpoint(path, method, op, answers.next().flatten()))
                    }
                }
            }
        }
        section.endpoint aria-labelledby="track-fields" {
            h2 #track-fields { "A track's fields" }
            p { (text(&doc["components"]["schemas"]["Track"]["description"])) }
            (fields(&doc["components"]["schemas"]["Track"]))
        }
    };
    respond(StatusCode::OK, page("API", "API", body))
}

/// The example answers of the model answering now: computed once per model (a reload computes
/// them again), through the routes without the layers clients' requests pass.
async fn examples(state: &Arc<AppState>) -> Examples {
    let served = state.model();
    let key = (served.sha256.clone(), served.loaded_unix.to_bits());
    if let Ok(cached) = state.docs_examples.lock() {
        if let Some((sha, loaded, examples)) = cached.as_ref() {
            if (sha, loaded) == (&key.0, &key.1) {
                return Arc::clone(examples);
            }
        }
    }
    let router = crate::routes(state);
    let mut answers = Vec::new();
    if let Some(paths) = state.openapi["paths"].as_object() {
        for (path, operations) in paths {
            for (method, op) in operations.as_object().into_iter().flatten() {
                answers.push(example_answer(&router, method, path, op).await);
            }
        }
    }
    let answers = Arc::new(answers);
    if let Ok(mut cached) = state.docs_examples.lock() {
        *cached = Some((key.0, key.1, Arc::clone(&answers)));
    }
    answers
}

/// The server's answer to an operation's example request (its JSON example body, its query
/// parameters' examples), through the app's router; `None` for an operation without one (the
/// audio upload) and for the docs pages themselves.
async fn example_answer(
    router: &axum::Router,
    method: &str,
    path: &str,
    op: &Value,
) -> Option<(u16, Value)> {
    let body = &op["requestBody"]["content"]["application/json"]["example"];
    let query: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let example = p["example"].as_str()?;
            let name = p["name"].as_str()?;
            let pairs: String = form_urlencoded::Serializer::new(String::new())
                .append_pair(name, example)
                .finish();
            Some(pairs)
        })
        .collect();
    let request = match method {
        "post" if !body.is_null() => Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        "get" if path.starts_with("/api/v1/") => {
            let uri = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", query.join("&"))
            };
            Request::get(uri).body(Body::empty())
        }
        _ => return None,
    }
    .ok()?;
    let response = router.clone().oneshot(request).await.ok()?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .ok()?;
    Some((status, serde_json::from_slice(&bytes).ok()?))
}

/// A description as written in the OpenAPI document: its `backticked` names as code, the rest
/// as text.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// One operation: its summary, parameters, request example, the server's answer to it and the
/// responses.
fn endpoint(path: &str, method: &str, op: &Value, answer: Option<(u16, Value)>) -> Markup {
    let id = format!(
        "{method}-{}",
        path.trim_start_matches('/').replace('/', "-")
    );
    let example = &op["requestBody"]["content"]["application/json"]["example"];
    html! {
        section.endpoint aria-labelledby=(id) {
            h2 #(id) { code { (method.to_uppercase()) " " (path) } }
            p { (prose(op["summary"].as_str().unwrap_or_default())) }
            @if let Some(parameters) = op["parameters"].as_array() {
                div.table-scroll {
                    table {
                        thead { tr { th { "parameter" } th { "in" } th { "required" } th { "what" } } }
                        tbody {
                            @for p in parameters {
                                tr {
                                    td { code { (p["name"].as_str().unwrap_or_default()) } }
                                    td { (p["in"].as_str().unwrap_or_default()) }
                                    td { (if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" }) }
                                    td { (p["description"].as_str().map_or_else(|| html! { (schema_words(&p["schema"])) }, prose)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(description) = op["requestBody"]["description"].as_str() {
                p { "Body: " (prose(description)) "." }
            }
            @if !example.is_null() {
                p { "Example body:" }
                pre { code { (serde_json::to_string_pretty(example).unwrap_or_default()) } }
            }
            @if let Some((status, answer)) = answer {
                details.example {
                    summary { "Example answer (" (status) ")" }
                    pre { code { (serde_json::to_string_pretty(&answer).unwrap_or_default()) } }
                }
            }
            @if let Some(responses) = op["responses"].as_object() {
                dl.responses {
                    @for (status, response) in responses {
                        dt { (status) }
                        dd { (prose(response["description"].as_str().unwrap_or_default())) }
                    }
                }
            }
        }
    }
}

/// The fields of an object schema, with their types and ranges.
fn fields(schema: &Value) -> Markup {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    html! {
        div.table-scroll {
            table {
                thead { tr { th { "field" } th { "takes" } th { "required" } } }
                tbody {
                    @if let Some(properties) = schema["properties"].as_object() {
                        @for (name, field) in properties {
                            tr {
                                td { code { (name) } }
                                td { (field["description"].as_str().map_or_else(|| html! { (schema_words(field)) }, prose)) }
                                td { (if required.contains(&name.as_str()) { "yes" } else { "no" }) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A schema in words: its type and bounds.
fn schema_words(schema: &Value) -> String {
    let kind = schema["type"].as_str().unwrap_or("any");
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => format!("{kind} from {min} to {max}"),
        _ => kind.to_owned(),
    }
}

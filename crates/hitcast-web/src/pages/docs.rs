//! `GET /api/docs`: the API's documentation, rendered by the server from the same OpenAPI
//! document it serves at `/api/openapi.json` (no CDN, no script), so the two cannot differ.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;

use super::{page, respond};
use crate::AppState;

/// `GET /api/docs`.
pub async fn docs(State(state): State<Arc<AppState>>) -> Response {
    let doc = crate::openapi::document(&state.limits);
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
                        (endpoint(path, method, op))
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

/// One operation: its summary, parameters, request example and responses.
fn endpoint(path: &str, method: &str, op: &Value) -> Markup {
    let id = format!(
        "{method}-{}",
        path.trim_start_matches('/').replace('/', "-")
    );
    let example = &op["requestBody"]["content"]["application/json"]["example"];
    html! {
        section.endpoint aria-labelledby=(id) {
            h2 #(id) { code { (method.to_uppercase()) " " (path) } }
            p { (op["summary"].as_str().unwrap_or_default()) }
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
                                    td { (p["description"].as_str().map_or_else(|| schema_words(&p["schema"]), str::to_owned)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(description) = op["requestBody"]["description"].as_str() {
                p { "Body: " (description) "." }
            }
            @if !example.is_null() {
                p { "Example body:" }
                pre { code { (serde_json::to_string_pretty(example).unwrap_or_default()) } }
            }
            @if let Some(responses) = op["responses"].as_object() {
                dl.responses {
                    @for (status, response) in responses {
                        dt { (status) }
                        dd { (response["description"].as_str().unwrap_or_default()) }
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
                                td { (field["description"].as_str().map_or_else(|| schema_words(field), str::to_owned)) }
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

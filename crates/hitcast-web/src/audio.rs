//! `POST /api/v1/predict/audio`: a song's audio file in, what was measured of it and the
//! from-audio model's answer out.
//!
//! The file comes as the whole body (`Content-Type` an `audio/...` type or
//! `application/octet-stream`; the song's fields in the query string) or as a
//! `multipart/form-data` part named `file` (the fields as other parts, or in the query string).
//! The fields are the predict API's: `genres` (repeatable; `genre` too), `explicit`,
//! `track_name`, `artists`, `album_name`, and `explain` in the query string.
//!
//! Limits: [`Limits::audio_bytes`] a file (413 over it), [`Limits::audio_concurrency`] files
//! read and measured at once (others wait, within the request timeout), so uploads hold at most
//! their product in memory. A body that is not audio hitcast decodes is a 415; a song too short,
//! too long or silent, or a field that breaks the rules, a 422.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitcast::data::Column;
use hitcast_audio::{AudioError, Measured, Song, Source, FORMATS};
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::track::{FieldError, FormValues, TrackRequest, MAX_GENRES, MAX_TEXT};
use crate::AppState;

/// `POST /api/v1/predict/audio[?explain=true&genres=pop&...]`.
pub(crate) async fn predict_audio(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let query = FormValues::parse(request.uri().query().unwrap_or_default().as_bytes());
    // Waiting here, before the body is read, keeps the uploads held at once to the limit.
    let permit = audio_permit(&state).await.map_err(ApiError::internal)?;
    let mut fields = Fields::default();
    fields.read(&query, Place::Query);
    let (upload, text) = receive(request, &state).await?;
    fields.read(&text, Place::Body);
    let (song, explain) = fields.finish()?;
    let measured = measure(upload, permit).await?;
    let track = track(&measured, song);
    let track_json = track.to_json();
    let mut scored = state.score(vec![track], explain).await?;
    Ok(Json(json!({
        "prediction": scored.pop(),
        "measured": measured_json(&measured),
        "track": track_json,
    }))
    .into_response())
}

/// The audio file of a request and, from a multipart body, its text fields: the whole body
/// when its type is audio (or `application/octet-stream`), a part named `file` of a
/// `multipart/form-data` body; any other type is refused (415).
pub(crate) async fn receive(
    request: Request,
    state: &Arc<AppState>,
) -> Result<(Upload, FormValues), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        read_multipart(request, state).await
    } else if content_type.starts_with("audio/")
        || content_type.starts_with("application/octet-stream")
    {
        let bytes = read_body(request, state.limits.audio_bytes).await?;
        if bytes.is_empty() {
            return Err(ApiError::with_field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file",
                format!("the body is empty: send the audio file ({FORMATS}) as the body, or as multipart/form-data with a part named file"),
            ));
        }
        let upload = Upload {
            hint: extension_of_type(&content_type),
            name: "the body".to_owned(),
            bytes,
        };
        Ok((upload, FormValues::default()))
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type {content_type:?} is not audio: send the file ({FORMATS}) as the body with an audio/... or application/octet-stream type, or as multipart/form-data with a part named file"
            ),
        ))
    }
}

/// A turn among the audio files read and measured at once (`--audio-concurrency`), taken
/// before the body is read.
pub(crate) async fn audio_permit(
    state: &Arc<AppState>,
) -> Result<OwnedSemaphorePermit, tokio::sync::AcquireError> {
    Arc::clone(&state.audio_permits).acquire_owned().await
}

/// Measures an upload off the async threads. The measuring holds `permit` (and the request's
/// slot) until it ends, even if the request ends first (a 408): the flags bound the files being
/// measured, and so their memory.
pub(crate) async fn measure(
    upload: Upload,
    permit: OwnedSemaphorePermit,
) -> Result<Measured, ApiError> {
    let Upload { hint, name, bytes } = upload;
    crate::access::spawn_in_slot(move || {
        let _permit = permit;
        hitcast_audio::measure(Source::Bytes(bytes.into()), hint.as_deref())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| refusal(&name, e))
}

/// The measured song as the predict API takes it: no id, the learned columns absent.
pub(crate) fn track(measured: &Measured, song: Song) -> TrackRequest {
    let row = measured.row(0, &song);
    TrackRequest {
        track_id: String::new(),
        track_name: row.track_name,
        artists: row.artists,
        album_name: row.album_name,
        audio: row.audio,
        genres: song.genres,
    }
}

/// The measurements, as `hitcast features --json` writes them.
fn measured_json(m: &Measured) -> serde_json::Value {
    serde_json::to_value(m).unwrap_or_default()
}

/// Why a file was not measured: 415 for what is not audio hitcast decodes, 422 for a song it
/// cannot measure.
fn refusal(name: &str, e: AudioError) -> ApiError {
    let status = match e {
        AudioError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::with_field(status, "file", format!("{name}: {e}{}", e.advice()))
}

/// The file and what to call it in messages.
pub(crate) struct Upload {
    /// The decoder's hint: an extension ("mp3").
    hint: Option<String>,
    /// The file's name, or "the body".
    pub(crate) name: String,
    bytes: Bytes,
}

/// The whole body, refused with a 413 over `limit`.
async fn read_body(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the audio file is over the server's limit of {} (hitcast serve --audio-limit): send a shorter song, or compress it (an MP3 of a 4-minute song is about 6 MB)",
            hitcast::text::bytes(limit as u64)
        ),
    )
}

/// The `file` part and the text fields of a multipart body.
async fn read_multipart(
    request: Request,
    state: &Arc<AppState>,
) -> Result<(Upload, FormValues), ApiError> {
    let limit = state.limits.audio_bytes;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            ApiError::new(
                e.status(),
                format!("the multipart body cannot be read: {e}"),
            )
        }
    };
    // The route's body limit is the file's with room for the text fields beside it
    // ([`route_limit`]); the file alone is checked against the file's.
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let mut upload = None;
    let mut text = Vec::new();
    while let Some(part) = multipart.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = part
                .file_name()
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            let hint = file_name
                .as_deref()
                .and_then(|n| n.rsplit_once('.'))
                .map(|(_, ext)| ext.to_ascii_lowercase())
                .or_else(|| part.content_type().and_then(extension_of_type));
            let bytes = part.bytes().await.map_err(bad)?;
            if bytes.len() > limit {
                return Err(too_large(limit));
            }
            // A form's file input left empty sends a part with no name and no bytes.
            if bytes.is_empty() && file_name.is_none() {
                continue;
            }
            upload = Some(Upload {
                hint,
                name: file_name.unwrap_or_else(|| "the file".to_owned()),
                bytes,
            });
        } else {
            let value = part.text().await.map_err(bad)?;
            text.push((name, value));
        }
    }
    let upload = upload.ok_or_else(|| {
        ApiError::with_field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            "no audio file: send it as a part named file".to_owned(),
        )
    })?;
    Ok((upload, FormValues(text)))
}

/// The body limit of the route: a file of [`Limits::audio_bytes`] and, in a multipart body, the
/// text fields beside it.
pub(crate) fn route_limit(limits: &crate::Limits) -> usize {
    limits.audio_bytes.saturating_add(64 << 10)
}

/// The decoder's hint for a media type.
fn extension_of_type(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let ext = match essence {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/ogg" | "audio/vorbis" => "ogg",
        "audio/opus" => "opus",
        "audio/webm" => "webm",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "wav",
        "audio/aiff" | "audio/x-aiff" => "aiff",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/aac" => "m4a",
        _ => return None,
    };
    Some(ext.to_owned())
}

/// Where fields come from: the API's query string (where `explain` belongs) or body, which
/// take only the song's fields, or the prediction page's form, whose other fields (the
/// measures the file replaces) are left aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Query,
    Body,
    Page,
}

/// The song's fields as read, and every problem with them.
#[derive(Default)]
pub(crate) struct Fields {
    song: Song,
    explain: bool,
    errors: Vec<FieldError>,
}

impl Fields {
    /// Reads `values`, which came from `place`.
    pub(crate) fn read(&mut self, values: &FormValues, place: Place) {
        let query = place == Place::Query;
        for (key, value) in &values.0 {
            let mut error = |message: String| {
                self.errors.push(FieldError {
                    field: key.clone(),
                    message,
                })
            };
            if value.chars().count() > MAX_TEXT {
                error(format!("longer than {MAX_TEXT} characters"));
                continue;
            }
            match key.as_str() {
                "genres" | "genre" | "track_genre" => {
                    // A field may hold one name or a cell of them ("pop;dance"), as a file's.
                    for name in hitcast::data::genre::parse_cell(value) {
                        if self.song.genres.len() == MAX_GENRES {
                            error(format!("more than {MAX_GENRES} genres"));
                            break;
                        }
                        self.song.genres.push(name);
                    }
                }
                "explicit" => match flag(value) {
                    Some(on) => self.song.explicit = on,
                    None => error(format!("expected true or false, got {value:?}")),
                },
                "explain" if query => match flag(value) {
                    Some(on) => self.explain = on,
                    None => error(format!("expected true or false, got {value:?}")),
                },
                "track_name" => value.clone_into(&mut self.song.title),
                "artists" => value.clone_into(&mut self.song.artists),
                "album_name" => value.clone_into(&mut self.song.album),
                _ if place == Place::Page => {}
                // A column of the track's: what to do instead, as the file decides it.
                _ => error(match Column::from_name(key) {
                    Some(c) if hitcast_audio::MEASURED_COLUMNS.contains(&c) => format!(
                        "{key} is measured from the file: to score a {key} of your own, post \
                         the track this route returns, changed, to /api/v1/predict"
                    ),
                    Some(c) if c.is_learned() => format!(
                        "{key} cannot be measured from audio: to score a track with it, post \
                         the track this route returns, with it, to /api/v1/predict"
                    ),
                    _ => format!(
                        "unknown field: expected {}, {}, {}, {}, genres{}",
                        Column::TrackName.name(),
                        Column::Artists.name(),
                        Column::AlbumName.name(),
                        Column::Explicit.name(),
                        if query { " or explain" } else { "" },
                    ),
                }),
            }
        }
    }

    /// The song and the `explain` flag, or a 422 listing every field refused.
    pub(crate) fn finish(self) -> Result<(Song, bool), ApiError> {
        if self.errors.is_empty() {
            Ok((self.song, self.explain))
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }
}

/// `true|1|on|""` or `false|0|off`, as a checkbox or a query flag says it.
fn flag(value: &str) -> Option<bool> {
    match value {
        "true" | "1" | "on" | "" => Some(true),
        "false" | "0" | "off" => Some(false),
        _ => None,
    }
}

//! `POST /predict/batch`: a file of tracks (CSV, CSV.gz or Parquet) in a multipart form's part
//! `file`, answered with a CSV of `hitcast predict`'s columns (and the tracks' names).
//!
//! Both ways are streamed, so a large file needs no more memory than a small one: the upload
//! goes to a temporary file as it arrives (Parquet needs its footer, at the end, before any
//! row), is read once to check every row (a bad one is a 422 naming its line and column before
//! any answer is sent, as `hitcast predict` fails), then once more to score it in batches whose
//! answers are sent as they are written. [`Limits::batch_file_bytes`] bounds the upload (413),
//! [`Limits::batch_files`] the files scored at once. The route is outside the request timeout
//! (a large file on a slow link takes as long as it takes), but an upload that stalls, nothing
//! arriving for [`Limits::timeout`], or that trickles, a span of it behind
//! [`MIN_BYTES_PER_SECOND`], is ended with a 408: a client that stops sending, or sends a byte now and then,
//! would otherwise hold its request slot and a file permit for good.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hitcast::data::{Column, DataError, OnError, RawRow, ReadOptions, RowSource};
use hitcast::predictor::{self, answer_header, answer_record, Kept, Predictor};
use tokio::io::AsyncWriteExt as _;

use crate::error::ApiError;
use crate::AppState;

/// Rows scored, and answers sent, at a time.
const BATCH_ROWS: usize = 4096;

/// The input columns written after the answers, so a row can be told by its name.
const KEEP: [Kept; 2] = [
    Kept::Column(Column::TrackName),
    Kept::Column(Column::Artists),
];

/// An uploaded file on disk, in a folder of its own that is removed with it.
struct Upload {
    dir: PathBuf,
    path: PathBuf,
    /// The name the browser gave, for messages and the answer's name.
    name: String,
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Scores the file of a `multipart/form-data` request: the answers as a streamed CSV download,
/// or why not.
pub(crate) async fn score_upload(
    state: Arc<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    // Held until the last answer is sent.
    let permit = state
        .batch_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"))?;
    let upload = receive(request, &state).await?;
    let checked = {
        let path = upload.path.clone();
        let model = state.model();
        crate::access::spawn_in_slot(move || check(&path, &model.predictor))
            .await
            .map_err(ApiError::internal)?
    };
    if let Err(e) = checked {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            named(&e, &upload),
        ));
    }
    let download = format!(
        "{}.predictions.csv",
        Path::new(&upload.name)
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.trim_end_matches(".csv"))
            .filter(|s| !s.is_empty())
            .unwrap_or("tracks")
    );
    // Two batches of answers in flight at most: the scorer waits for the client.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    // Not in the request's slot: the stream waits on the client as long as it reads; the
    // batch permit it holds (`Limits::batch_files`) bounds these.
    tokio::task::spawn_blocking(move || {
        if let Err(e) = stream_answers(&state, &upload.path, &sender) {
            // The answer has begun: the client sees the download break off; the log says why.
            let e = named(&e, &upload);
            tracing::error!("a file's answers stopped: {e}");
            let _ = sender.blocking_send(Err(std::io::Error::other(e)));
        }
        drop(upload);
        drop(permit);
    });
    let body = Body::from_stream(futures_util::stream::unfold(receiver, |mut r| async {
        r.recv().await.map(|chunk| (chunk, r))
    }));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download.replace('"', "")),
            ),
        ],
        body,
    )
        .into_response())
}

/// A message about the temporary file, told with the name the user knows it by.
fn named(message: &str, upload: &Upload) -> String {
    message.replace(&upload.path.display().to_string(), &upload.name)
}

/// The slowest upload taken: one may fall behind this by a span of [`Limits::timeout`] (a
/// pause, a slow start), no more. A phone on a poor link sends many times this.
const MIN_BYTES_PER_SECOND: usize = 1_000;

/// Copies the part `file` of the request to a temporary file as it arrives.
async fn receive(request: Request, state: &Arc<AppState>) -> Result<Upload, ApiError> {
    let limit = state.limits.batch_file_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the file is over the server's limit of {} (hitcast serve --batch-file-limit)",
                hitcast::text::bytes(limit as u64)
            ),
        )
    };
    let stall = state.limits.timeout;
    let stalled = || {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload stalled: nothing arrived for {} s (hitcast serve --timeout)",
                stall.as_secs_f64()
            ),
        )
    };
    let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send the file as multipart/form-data, in a part named file ({e})"),
        )
    })?;
    static UPLOADS: AtomicU64 = AtomicU64::new(0);
    loop {
        let next = tokio::time::timeout(stall, multipart.next_field());
        let field = match next.await.map_err(|_| stalled())? {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(multipart_error(e)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field
            .file_name()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "tracks.csv".to_owned());
        let dir = std::env::temp_dir().join(format!(
            "hitcast-upload-{}-{}",
            std::process::id(),
            UPLOADS.fetch_add(1, Ordering::Relaxed)
        ));
        let fail = |e: std::io::Error| ApiError::internal(format!("cannot keep the upload: {e}"));
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let path = dir.join("upload");
        let upload = Upload { dir, path, name };
        let mut file = tokio::fs::File::create(&upload.path).await.map_err(fail)?;
        let mut field = field;
        let mut written = 0usize;
        // How many bytes the upload is behind MIN_BYTES_PER_SECOND: it starts a span ahead,
        // and banks no more than a span, so a fast start does not buy a long trickle.
        let span = MIN_BYTES_PER_SECOND as f64 * stall.as_secs_f64();
        let (mut behind, mut last) = (-span, std::time::Instant::now());
        loop {
            match tokio::time::timeout(stall, field.chunk())
                .await
                .map_err(|_| stalled())?
            {
                Ok(Some(chunk)) => {
                    written += chunk.len();
                    if written > limit {
                        return Err(too_large());
                    }
                    let now = std::time::Instant::now();
                    behind += MIN_BYTES_PER_SECOND as f64 * (now - last).as_secs_f64()
                        - chunk.len() as f64;
                    behind = behind.max(-span);
                    last = now;
                    if behind > 0.0 {
                        return Err(trickled(stall));
                    }
                    file.write_all(&chunk).await.map_err(fail)?;
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(multipart_error(e)),
            }
        }
        file.flush().await.map_err(fail)?;
        if written == 0 {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: the file is empty", upload.name),
            ));
        }
        return Ok(upload);
    }
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "no file: send the tracks in a part named file (CSV, CSV.gz or Parquet)",
    ))
}

/// The 408 of an upload that fell a span of `stall` behind [`MIN_BYTES_PER_SECOND`].
fn trickled(stall: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the upload was too slow: it fell {} s behind {} a second, the slowest the server \
             takes (hitcast serve --timeout)",
            stall.as_secs(),
            hitcast::text::bytes(MIN_BYTES_PER_SECOND as u64)
        ),
    )
}

/// A form that could not be read: malformed, or cut off by its client leaving (499, as for the
/// API's bodies: [`ApiError::from_rejection`]).
fn multipart_error(e: MultipartError) -> ApiError {
    if crate::error::client_left(&e) {
        ApiError::new(
            crate::metrics::client_closed(),
            "the client closed the connection before its upload was whole",
        )
    } else {
        ApiError::new(e.status(), e.body_text())
    }
}

/// The rows of the file, read as `hitcast predict` reads them.
fn open(path: &Path) -> Result<Box<dyn RowSource + Send>, DataError> {
    let options = ReadOptions {
        on_error: OnError::Fail,
        require_popularity: false,
        popularity_unread: true,
        require_track_id: false,
        ..ReadOptions::default()
    };
    hitcast_arrow::open_rows(path, &options)
}

/// Reads every row once. Rows that are bad, or that the model cannot answer (a song measured
/// from audio, when the model file has no from-audio model), are the error: how many, and the
/// first [`LISTED_BAD_ROWS`] of them, so one upload shows what to mend. Found here, it is a
/// 422; found while answering, it would break a download already begun.
fn check(path: &Path, predictor: &Predictor) -> Result<u64, String> {
    let mut rows = 0;
    let mut bad = Vec::new();
    let mut count = 0u64;
    let mut stopped = None;
    for row in open(path).map_err(|e| e.to_string())? {
        let problem = match row {
            Ok(row) => match predictor.answerable(&[predictor::input(&row)]) {
                Ok(()) => {
                    rows += 1;
                    continue;
                }
                Err(e) => format!("{}:{}: {e}", path.display(), row.line),
            },
            Err(e) if e.skippable_line().is_some() => e.to_string(),
            // The file cannot be read past this point: alone, the error; after bad rows, said
            // after them, so the list found so far is kept.
            Err(e) if count == 0 => return Err(e.to_string()),
            Err(e) => {
                stopped = Some(e.to_string());
                break;
            }
        };
        count += 1;
        if bad.len() < LISTED_BAD_ROWS {
            bad.push(problem);
        }
    }
    // One row a line: the page lists them under the first.
    let then = stopped.map_or_else(String::new, |e| format!("\nand reading stopped: {e}"));
    match count {
        0 => Ok(rows),
        1 if then.is_empty() => Err(bad.remove(0)),
        n => Err(format!(
            "{n} {} cannot be scored{}:\n{}{then}",
            if n == 1 { "row" } else { "rows" },
            if n as usize > bad.len() {
                format!(" (the first {} listed)", bad.len())
            } else {
                String::new()
            },
            bad.join("\n")
        )),
    }
}

/// Bad rows a refused upload names.
const LISTED_BAD_ROWS: usize = 5;

/// Scores the file in batches and sends each batch's CSV records as they are written.
fn stream_answers(
    state: &AppState,
    path: &Path,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), String> {
    let send = |bytes: Vec<u8>| sender.blocking_send(Ok(Bytes::from(bytes))).is_ok();
    // One model for the whole file, even if it is reloaded meanwhile.
    let model = state.model();
    let predictor = &model.predictor;
    let mut header = Some(answer_header(true, &KEEP));
    let mut rows = open(path).map_err(|e| e.to_string())?;
    let mut batch: Vec<RawRow> = Vec::with_capacity(BATCH_ROWS);
    loop {
        batch.clear();
        for row in rows.by_ref().take(BATCH_ROWS) {
            batch.push(row.map_err(|e| e.to_string())?);
        }
        if batch.is_empty() {
            break;
        }
        let answers = predictor.score_rows(&batch).map_err(|e| e.to_string())?;
        state
            .metrics
            .answered(answers.iter().map(|answer| answer.chance.model));
        let mut out = csv::Writer::from_writer(Vec::with_capacity(batch.len() * 128));
        if let Some(header) = header.take() {
            out.write_record(header).map_err(|e| e.to_string())?;
        }
        for (row, answer) in batch.iter().zip(&answers) {
            out.write_record(answer_record(row, &answer.chance, Some(answer), &KEEP))
                .map_err(|e| e.to_string())?;
        }
        let chunk = out.into_inner().map_err(|e| e.to_string())?;
        if !send(chunk) {
            // The client went away: stop scoring.
            return Ok(());
        }
    }
    // A file of no rows: the header alone.
    if let Some(header) = header {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(header).map_err(|e| e.to_string())?;
        send(out.into_inner().map_err(|e| e.to_string())?);
    }
    Ok(())
}

//! One track as the API and the form send it, checked by the dataset's own rules
//! ([`Column::rule`]), so the server accepts exactly what a CSV file may hold.

use hitcast::data::{genre, Absent, Bounds, Column, FieldProblem, OnError, Rule, Track, N_AUDIO};
use hitcast::features::TrackInput;
use serde::Serialize;
use serde_json::Value;

/// The most genres one track may list (the dataset's tracks have up to 7).
pub const MAX_GENRES: usize = 32;
/// The longest text field accepted, in characters.
pub const MAX_TEXT: usize = 1000;
/// Points a what-if curve may ask for.
pub const MAX_POINTS: usize = 200;
/// Tracks `POST /api/v1/similar` lists at most.
pub const MAX_SIMILAR: usize = 100;

/// One checked track.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackRequest {
    /// The caller's id, echoed back (may be empty).
    pub track_id: String,
    /// Title (the title features read it: "remix", "feat." ...).
    pub track_name: String,
    /// `;`-separated artists.
    pub artists: String,
    /// Album title.
    pub album_name: String,
    /// Audio columns in [`Column::AUDIO`] order.
    pub audio: [f64; N_AUDIO],
    /// Genre names.
    pub genres: Vec<String>,
}

/// Why one field was refused: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name, with its place in a batch: `tracks[3].energy`.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl TrackRequest {
    /// The track as the feature pipeline takes it.
    pub fn input(&self) -> TrackInput<'_> {
        TrackInput {
            audio: self.audio,
            genres: &self.genres,
            artists: &self.artists,
            album_name: &self.album_name,
            track_name: &self.track_name,
            new_song: self.track_id.trim().is_empty(),
        }
    }

    /// A track of the dataset, with its genres by name.
    pub fn from_track(track: &Track, genre_names: &[String]) -> TrackRequest {
        TrackRequest {
            track_id: track.track_id.clone(),
            track_name: track.track_name.clone(),
            artists: track.artists.clone(),
            album_name: track.album_name.clone(),
            audio: track.audio,
            genres: track
                .genres
                .iter()
                .filter_map(|&g| genre_names.get(usize::from(g)).cloned())
                .collect(),
        }
    }

    /// The track as a JSON object that [`TrackRequest::from_json`] reads back to the same
    /// track: the dataset's column names, `explicit` as a boolean, `genres` as a list.
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        for (column, text) in [
            (Column::TrackId, &self.track_id),
            (Column::TrackName, &self.track_name),
            (Column::Artists, &self.artists),
            (Column::AlbumName, &self.album_name),
        ] {
            object.insert(column.name().into(), Value::from(text.as_str()));
        }
        for (column, &x) in Column::AUDIO.iter().zip(&self.audio) {
            // Codes as JSON integers, as the OpenAPI schema types them.
            let value = match column.rule() {
                Rule::Bool => Value::from(x == 1.0),
                Rule::Integer { .. } => Value::from(x as i64),
                _ => Value::from(x),
            };
            object.insert(column.name().into(), value);
        }
        object.insert("genres".into(), Value::from(self.genres.clone()));
        Value::Object(object)
    }

    /// Reads one JSON track object. Field names are the dataset's columns; `genres` takes a
    /// list and `track_genre` a cell as the dataset writes it (`acoustic;j-pop`); `popularity`
    /// is ignored, so dataset rows can be posted as they are. Errors name fields as
    /// `{prefix}{name}`.
    pub fn from_json(value: &Value, prefix: &str) -> Result<TrackRequest, Vec<FieldError>> {
        let Some(object) = value.as_object() else {
            let field = prefix.trim_end_matches('.');
            return Err(vec![FieldError {
                field: if field.is_empty() { "body" } else { field }.to_owned(),
                message: format!("expected a track object, got {}", kind(value)),
            }]);
        };
        let mut b = Builder::new(prefix);
        for (key, value) in object {
            b.json_field(key, value);
        }
        b.finish()
    }

    /// Reads the prediction form: the dataset's column names, except that the duration comes as
    /// `duration_min` and `duration_sec`, `explicit` is a checkbox (absent means false), and
    /// `genres` repeats.
    pub fn from_form(form: &FormValues) -> Result<TrackRequest, Vec<FieldError>> {
        let mut b = Builder::new("");
        for column in Column::AUDIO {
            let text = match column {
                Column::DurationMs => continue,
                Column::Explicit => {
                    let on = form.get("explicit").is_some_and(|v| !v.is_empty());
                    (if on { "1" } else { "0" }).to_owned()
                }
                _ => form.get(column.name()).unwrap_or_default().to_owned(),
            };
            // A learned column without a value (empty, NA, NaN: the rule a file's cell follows)
            // is absent: all seven absent is a song measured from audio.
            let parsed = column.rule().parse(&text);
            if column.is_learned() && parsed.as_ref().is_err_and(FieldProblem::is_missing) {
                continue;
            }
            b.number(column, column.name(), parsed);
        }
        let longest = Column::DurationMs.bounds().map_or(f64::MAX, |d| d.max);
        let minutes = duration_part("a number of minutes", longest / 60_000.0)
            .parse(form.get("duration_min").unwrap_or_default());
        let seconds = duration_part("a number of seconds", 60.0)
            .parse(form.get("duration_sec").unwrap_or_default());
        match (minutes, seconds) {
            (Ok(m), Ok(s)) if s < 60.0 => {
                // Whole milliseconds, the dataset's unit (and 50.666 s gives back 50,666 ms exactly).
                let ms = ((m * 60.0 + s) * 1000.0).round();
                let checked = Column::DurationMs.rule().check(ms);
                b.number(Column::DurationMs, "duration", checked);
            }
            (Ok(_), Ok(_)) => b.failed(
                Column::DurationMs,
                "duration",
                "seconds must be below 60".to_owned(),
            ),
            (Err(e), _) => b.failed(Column::DurationMs, "duration", format!("minutes: {e}")),
            (_, Err(e)) => b.failed(Column::DurationMs, "duration", format!("seconds: {e}")),
        }
        for name in ["track_id", "track_name", "artists", "album_name"] {
            b.text(name, form.get(name).unwrap_or_default());
        }
        for genre in form.all("genres") {
            b.genre("genres", genre);
        }
        b.finish()
    }
}

/// The rule for the form's minutes or seconds, from 0 to `max` (their sum is then checked as a
/// duration).
fn duration_part(what: &'static str, max: f64) -> Rule {
    Rule::Range(Bounds {
        what,
        min: 0.0,
        max,
        unit: "",
        note: "",
    })
}

/// Decoded `application/x-www-form-urlencoded` pairs, in order (a name may repeat).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormValues(pub Vec<(String, String)>);

impl FormValues {
    /// Decodes a form body or query string.
    pub fn parse(bytes: &[u8]) -> FormValues {
        FormValues(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs as a query string (a shared Predict link's, a comparison's scenario).
    pub fn to_query(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish()
    }

    /// The form that shows `track` (the inverse of [`TrackRequest::from_form`]).
    pub fn from_request(track: &TrackRequest) -> FormValues {
        let mut pairs = vec![("track_id".to_owned(), track.track_id.clone())];
        for (column, &v) in Column::AUDIO.iter().zip(&track.audio) {
            // A learned column a song measured from audio lacks: left out, as the form sends it.
            if v.is_nan() {
                continue;
            }
            match column {
                Column::DurationMs => {
                    // Milliseconds kept as decimals of the seconds: a loaded track keeps its value.
                    let minutes = (v / 60_000.0).floor();
                    let seconds = (v - minutes * 60_000.0) / 1000.0;
                    pairs.push(("duration_min".into(), format!("{minutes}")));
                    pairs.push(("duration_sec".into(), format!("{seconds}")));
                }
                Column::Explicit if v == 0.0 => {}
                Column::Explicit => pairs.push(("explicit".into(), "on".into())),
                _ => pairs.push((column.name().into(), format!("{v}"))),
            }
        }
        pairs.push(("track_name".into(), track.track_name.clone()));
        pairs.push(("artists".into(), track.artists.clone()));
        pairs.push(("album_name".into(), track.album_name.clone()));
        for g in &track.genres {
            pairs.push(("genres".into(), g.clone()));
        }
        FormValues(pairs)
    }
}

/// Collects a track's fields and every problem with them.
struct Builder<'p> {
    prefix: &'p str,
    track: TrackRequest,
    seen: [bool; N_AUDIO],
    errors: Vec<FieldError>,
    /// Whether "more than MAX_GENRES genres" was said.
    too_many_genres: bool,
}

impl<'p> Builder<'p> {
    fn new(prefix: &'p str) -> Builder<'p> {
        Builder {
            prefix,
            track: TrackRequest {
                track_id: String::new(),
                track_name: String::new(),
                artists: String::new(),
                album_name: String::new(),
                audio: [0.0; N_AUDIO],
                genres: Vec::new(),
            },
            seen: [false; N_AUDIO],
            errors: Vec::new(),
            too_many_genres: false,
        }
    }

    fn error(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: format!("{}{field}", self.prefix),
            message,
        });
    }

    fn number(&mut self, column: Column, field: &str, value: Result<f64, FieldProblem>) {
        let Some(i) = column.audio_index() else {
            return;
        };
        self.seen[i] = true;
        match value {
            Ok(v) => self.track.audio[i] = v,
            Err(e) if e.is_missing() => self.error(field, required(column.rule())),
            Err(e) => self.error(field, e.to_string()),
        }
    }

    /// An audio field that was given but is wrong: one error, and no "missing" besides.
    fn failed(&mut self, column: Column, field: &str, message: String) {
        if let Some(i) = column.audio_index() {
            self.seen[i] = true;
        }
        self.error(field, message);
    }

    fn text(&mut self, field: &str, text: &str) {
        if text.chars().count() > MAX_TEXT {
            return self.error(field, format!("longer than {MAX_TEXT} characters"));
        }
        let slot = match field {
            "track_id" => &mut self.track.track_id,
            "track_name" => &mut self.track.track_name,
            "artists" => &mut self.track.artists,
            _ => &mut self.track.album_name,
        };
        text.clone_into(slot);
    }

    fn genre(&mut self, field: &str, name: &str) {
        if self.track.genres.len() == MAX_GENRES {
            // Said once, however many more there are.
            if !std::mem::replace(&mut self.too_many_genres, true) {
                self.error(field, format!("more than {MAX_GENRES} genres"));
            }
            return;
        }
        if name.chars().count() > MAX_TEXT {
            return self.error(field, format!("a genre longer than {MAX_TEXT} characters"));
        }
        if !name.trim().is_empty() {
            self.track.genres.push(name.trim().to_owned());
        }
    }

    fn json_field(&mut self, key: &str, value: &Value) {
        match key {
            "genres" => match value {
                Value::Array(items) => {
                    for (k, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(name) => self.genre(key, name),
                            None => self.error(
                                &format!("genres[{k}]"),
                                format!("expected a genre name (a string), got {}", kind(item)),
                            ),
                        }
                    }
                }
                Value::Null => {}
                other => self.error(
                    key,
                    format!("expected a list of genre names, got {}", kind(other)),
                ),
            },
            // Ignored: a dataset row may be posted as it is.
            "popularity" => {}
            _ => match Column::from_name(key) {
                // One cell, as the dataset writes it ("acoustic;j-pop"): read as a file's is.
                Some(Column::TrackGenre) => match value {
                    Value::String(cell) => {
                        for name in genre::parse_cell(cell) {
                            self.genre(key, &name);
                        }
                    }
                    Value::Null => {}
                    other => self.error(key, format!("expected a genre name, got {}", kind(other))),
                },
                Some(
                    c @ (Column::TrackId | Column::TrackName | Column::Artists | Column::AlbumName),
                ) => match value {
                    Value::String(text) => self.text(c.name(), text),
                    Value::Null => {}
                    other => self.error(key, format!("expected text, got {}", kind(other))),
                },
                Some(column) => {
                    let rule = column.rule();
                    let parsed = match value {
                        Value::Number(n) => match n.as_f64().map(|x| rule.check(x)) {
                            Some(Ok(x)) => Ok(x),
                            _ => Err(format!("expected {}, got {n}", rule.expected())),
                        },
                        Value::Bool(b) if rule == Rule::Bool => Ok(f64::from(u8::from(*b))),
                        // Absent: all seven absent is a song measured from audio.
                        Value::Null if column.is_learned() => return,
                        Value::Null => Err(required(rule)),
                        other => Err(format!("expected {}, got {}", rule.expected(), kind(other))),
                    };
                    match parsed {
                        Ok(x) => self.number(column, key, Ok(x)),
                        Err(message) => self.failed(column, key, message),
                    }
                }
                None => self.error(
                    key,
                    format!(
                        "unknown field: expected the dataset's columns ({}) or genres",
                        Column::ALL.map(Column::name).join(", ")
                    ),
                ),
            },
        }
    }

    fn finish(mut self) -> Result<TrackRequest, Vec<FieldError>> {
        // None of the seven learned columns: a song measured from its audio file, which the
        // from-audio model answers. Some of them: the others are missing.
        let measured = Column::LEARNED
            .iter()
            .all(|c| c.audio_index().is_some_and(|i| !self.seen[i]));
        for (i, column) in Column::AUDIO.into_iter().enumerate() {
            if self.seen[i] {
                continue;
            }
            match (column.when_absent(), column.audio_default()) {
                (Absent::Default(_), Some(v)) => self.track.audio[i] = v,
                _ if column.is_learned() && measured => self.track.audio[i] = f64::NAN,
                _ if column.is_learned() => self.error(
                    column.name(),
                    format!(
                        "{}; or leave out all seven learned columns ({}) for a song measured from its audio file",
                        required(column.rule()),
                        Column::LEARNED.map(Column::name).join(", ")
                    ),
                ),
                _ => self.error(column.name(), required(column.rule())),
            }
        }
        if self.errors.is_empty() {
            Ok(self.track)
        } else {
            Err(self.errors)
        }
    }
}

/// A JSON value's type, in words, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The tracks of a predict request: one object, or `{"tracks": [...], "adapt_prior": bool,
/// "on_error": "fail" | "skip"}`.
pub enum PredictBody {
    /// One track object: the answer is one object.
    One(Value),
    /// A list: the answer is `{"predictions": [...]}`.
    Many {
        /// The track objects.
        items: Vec<Value>,
        /// Adapt the answers to the batch's own base rate (`"adapt_prior": true`).
        adapt_prior: bool,
        /// What bad tracks do to the batch (`"on_error"`).
        on_error: OnError,
    },
}

impl PredictBody {
    /// Tells the two shapes apart. An object with a `tracks` key is a batch.
    pub fn from_json(value: Value) -> Result<PredictBody, FieldError> {
        let error = |field: &str, message: String| FieldError {
            field: field.to_owned(),
            message,
        };
        match value {
            Value::Object(mut object) => match object.remove("tracks") {
                None => Ok(PredictBody::One(Value::Object(object))),
                Some(Value::Array(items)) => {
                    let adapt_prior = match object.remove("adapt_prior") {
                        None => false,
                        Some(Value::Bool(b)) => b,
                        Some(other) => {
                            return Err(error(
                                "adapt_prior",
                                format!("expected true or false, got {}", kind(&other)),
                            ))
                        }
                    };
                    let on_error = match object.remove("on_error") {
                        None => OnError::Fail,
                        Some(Value::String(s)) if s == "fail" => OnError::Fail,
                        Some(Value::String(s)) if s == "skip" => OnError::Skip,
                        Some(other) => {
                            return Err(error(
                                "on_error",
                                format!("expected \"fail\" or \"skip\", got {other}"),
                            ))
                        }
                    };
                    if object.is_empty() {
                        Ok(PredictBody::Many {
                            items,
                            adapt_prior,
                            on_error,
                        })
                    } else {
                        Err(error(
                            "body",
                            "a batch object holds only \"tracks\", \"adapt_prior\" and \"on_error\""
                                .to_owned(),
                        ))
                    }
                }
                Some(other) => Err(error(
                    "tracks",
                    format!("expected a list of track objects, got {}", kind(&other)),
                )),
            },
            other => Err(error(
                "body",
                format!(
                    "expected a track object or {{\"tracks\": [...]}}, got {}",
                    kind(&other)
                ),
            )),
        }
    }
}

/// At most this many field errors are listed for a batch; a last entry counts the rest.
pub const MAX_ERRORS: usize = 100;

/// A batch's field errors: the first [`MAX_ERRORS`], then an entry counting the rest, and how
/// many there were in all.
#[derive(Debug)]
pub struct BatchErrors {
    /// The errors listed.
    pub listed: Vec<FieldError>,
    /// Every error, listed or not.
    pub total: usize,
}

/// Checks every track of a batch; the errors of all of them together.
pub fn read_batch(items: &[Value]) -> Result<Vec<TrackRequest>, BatchErrors> {
    let mut tracks = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    let mut more = 0;
    for (k, item) in items.iter().enumerate() {
        match TrackRequest::from_json(item, &format!("tracks[{k}].")) {
            Ok(t) => tracks.push(t),
            Err(e) => {
                let room = MAX_ERRORS.saturating_sub(errors.len());
                more += e.len().saturating_sub(room);
                errors.extend(e.into_iter().take(room));
            }
        }
    }
    let total = errors.len() + more;
    if more > 0 {
        errors.push(FieldError {
            field: "tracks".to_owned(),
            message: format!("{more} more errors not listed"),
        });
    }
    if errors.is_empty() {
        Ok(tracks)
    } else {
        Err(BatchErrors {
            listed: errors,
            total,
        })
    }
}

/// The message for a field that has no value: what it takes, in words.
fn required(rule: Rule) -> String {
    format!("required: {}", rule.expected())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn comedy() -> Value {
        json!({
            "track_id": "5SuOikwiRyPMVoIQDJUgSV", "track_name": "Comedy", "artists": "Gen Hoshino",
            "duration_ms": 230666, "danceability": 0.676, "energy": 0.461, "key": 1,
            "loudness": -6.746, "mode": 0, "speechiness": 0.143, "acousticness": 0.0322,
            "instrumentalness": 0.00000101, "liveness": 0.358, "valence": 0.715, "tempo": 87.917,
            "track_genre": "acoustic", "genres": ["j-pop"], "popularity": 73
        })
    }

    fn errors(value: Value) -> Vec<(String, String)> {
        TrackRequest::from_json(&value, "")
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn a_json_track_reads_with_the_csv_defaults() {
        let t = TrackRequest::from_json(&comedy(), "").unwrap();
        let at = |c: Column| t.audio[c.audio_index().unwrap()];
        assert_eq!(at(Column::DurationMs), 230_666.0);
        assert_eq!(at(Column::Explicit), 0.0);
        assert_eq!(at(Column::TimeSignature), 4.0);
        assert_eq!(at(Column::Loudness), -6.746);
        // JSON objects are read in key order: genres, then track_genre.
        assert_eq!(t.genres, ["j-pop", "acoustic"]);
        // track_genre is a cell as the dataset (and /api/v1/similar) writes it.
        let mut cell = comedy();
        cell["genres"] = Value::Null;
        cell["track_genre"] = json!("acoustic;j-pop, singer-songwriter||");
        let split = TrackRequest::from_json(&cell, "").unwrap();
        assert_eq!(split.genres, ["acoustic", "j-pop", "singer-songwriter"]);
        // Too many genres is one error, however many there are.
        let mut many = comedy();
        many["genres"] = json!((0..1000).map(|i| format!("g{i}")).collect::<Vec<_>>());
        assert_eq!(
            errors(many),
            [(
                "genres".to_owned(),
                format!("more than {MAX_GENRES} genres")
            )]
        );
        assert_eq!(
            (t.track_id.as_str(), t.artists.as_str()),
            ("5SuOikwiRyPMVoIQDJUgSV", "Gen Hoshino")
        );

        let mut v = comedy();
        v["explicit"] = json!(true);
        v["loudness"] = json!(-0.0);
        let t = TrackRequest::from_json(&v, "").unwrap();
        assert_eq!(t.audio[Column::Explicit.audio_index().unwrap()], 1.0);
        let zero = t.audio[Column::Loudness.audio_index().unwrap()];
        assert_eq!(zero.to_bits(), 0.0f64.to_bits(), "-0 reads as 0");
        v["explicit"] = json!(1);
        assert!(TrackRequest::from_json(&v, "").is_ok());
    }

    #[test]
    fn every_bad_field_is_named_with_what_was_expected() {
        let mut v = comedy();
        v["energy"] = json!(1.5);
        v["key"] = json!(2.5);
        v["mode"] = json!("1");
        v["explicit"] = json!(2);
        v["tempo"] = Value::Null;
        v["genres"] = json!(["pop", 7]);
        v["track_name"] = json!(["a"]);
        v["bpm"] = json!(120);
        v.as_object_mut().unwrap().remove("valence");
        let got = errors(v);
        let expect = [
            ("energy", "expected a number from 0 to 1, got 1.5"),
            ("key", "expected an integer from -1 to 11, got 2.5"),
            ("mode", "expected 0 or 1, got a string"),
            ("explicit", "expected true/false or 1/0, got 2"),
            ("tempo", "required: a tempo from 0 to 300 BPM"),
            (
                "genres[1]",
                "expected a genre name (a string), got a number",
            ),
            ("track_name", "expected text, got a list"),
            (
                "valence",
                "required: a number from 0 to 1; or leave out all seven learned columns \
                 (danceability, energy, speechiness, acousticness, instrumentalness, liveness, \
                 valence) for a song measured from its audio file",
            ),
        ];
        for (field, message) in expect {
            assert!(
                got.contains(&(field.to_owned(), message.to_owned())),
                "{field}: {got:?}"
            );
        }
        assert!(got
            .iter()
            .any(|(f, m)| f == "bpm" && m.starts_with("unknown field")));
        assert_eq!(got.len(), expect.len() + 1, "{got:?}");
        assert_eq!(
            errors(json!("a track")),
            [(
                "body".to_owned(),
                "expected a track object, got a string".to_owned()
            )]
        );
        let long = "x".repeat(MAX_TEXT + 1);
        let mut v = comedy();
        v["artists"] = json!(long);
        assert_eq!(errors(v)[0].1, "longer than 1000 characters");
    }

    #[test]
    fn numbers_outside_their_physical_range_are_refused() {
        let mut v = comedy();
        v["tempo"] = json!(1e300);
        v["loudness"] = json!(1e300);
        // 99,999,999 minutes in milliseconds.
        v["duration_ms"] = json!(5_999_999_940_000u64);
        v["speechiness"] = json!(-1e-9);
        assert_eq!(
            errors(v),
            [
                (
                    "duration_ms".to_owned(),
                    "expected a duration from 0 to 7,200,000 ms (2 hours), got 5999999940000"
                        .to_owned()
                ),
                (
                    "loudness".to_owned(),
                    "expected a loudness from -60 to 10 dB, got 1e+300".to_owned()
                ),
                (
                    "speechiness".to_owned(),
                    "expected a number from 0 to 1, got -1e-9".to_owned()
                ),
                (
                    "tempo".to_owned(),
                    "expected a tempo from 0 to 300 BPM, got 1e+300".to_owned()
                ),
            ]
        );
        let mut v = comedy();
        v["tempo"] = json!(100_000);
        assert_eq!(
            errors(v)[0].1,
            "expected a tempo from 0 to 300 BPM, got 100000"
        );
        // The bounds themselves are inside.
        let mut v = comedy();
        v["tempo"] = json!(300);
        v["loudness"] = json!(-60);
        v["duration_ms"] = json!(7_200_000);
        assert!(TrackRequest::from_json(&v, "").is_ok());
    }

    #[test]
    fn batches_are_told_apart_and_their_errors_capped() {
        assert!(matches!(
            PredictBody::from_json(comedy()),
            Ok(PredictBody::One(_))
        ));
        assert!(matches!(
            PredictBody::from_json(json!({"tracks": []})),
            Ok(PredictBody::Many { items, adapt_prior: false, on_error: OnError::Fail }) if items.is_empty()
        ));
        assert!(matches!(
            PredictBody::from_json(json!({"tracks": [], "on_error": "skip"})),
            Ok(PredictBody::Many {
                on_error: OnError::Skip,
                ..
            })
        ));
        assert_eq!(
            PredictBody::from_json(json!({"tracks": [], "on_error": "ignore"}))
                .err()
                .unwrap()
                .message,
            "expected \"fail\" or \"skip\", got \"ignore\""
        );
        assert!(matches!(
            PredictBody::from_json(json!({"tracks": [], "adapt_prior": true})),
            Ok(PredictBody::Many {
                adapt_prior: true,
                ..
            })
        ));
        assert_eq!(
            PredictBody::from_json(json!({"tracks": [], "adapt_prior": "yes"}))
                .err()
                .unwrap()
                .message,
            "expected true or false, got a string"
        );
        assert_eq!(
            PredictBody::from_json(json!({"tracks": 3}))
                .err()
                .unwrap()
                .field,
            "tracks"
        );
        assert_eq!(
            PredictBody::from_json(json!({"tracks": [], "x": 1}))
                .err()
                .unwrap()
                .field,
            "body"
        );
        assert_eq!(
            PredictBody::from_json(json!([1])).err().unwrap().field,
            "body"
        );

        // 20 tracks x 5 required fields (the learned ones may all be absent): all listed.
        let bad = vec![json!({}); 20];
        let e = read_batch(&bad).unwrap_err();
        assert_eq!((e.listed.len(), e.total), (MAX_ERRORS, MAX_ERRORS));
        assert_eq!(e.listed[0].field, "tracks[0].duration_ms");
        let bad = vec![json!({}); 30];
        let e = read_batch(&bad).unwrap_err();
        assert_eq!(e.listed.len(), MAX_ERRORS + 1);
        // 30 x 5, 100 listed.
        assert_eq!(e.listed[MAX_ERRORS].message, "50 more errors not listed");
        assert_eq!(e.total, 150);
    }

    #[test]
    fn the_form_round_trips_a_track() {
        let t = TrackRequest::from_json(&comedy(), "").unwrap();
        let form = FormValues::from_request(&t);
        assert_eq!(form.get("duration_min"), Some("3"));
        assert_eq!(form.get("duration_sec"), Some("50.666"));
        let back = TrackRequest::from_form(&form).unwrap();
        assert_eq!(back.audio, t.audio);
        assert_eq!(back.genres, t.genres);
        assert_eq!(back.track_id, t.track_id);
        // The whole track: a single (its album is its title) stays one.
        assert_eq!(back, t);

        let body = b"danceability=0.5&energy=0.5&valence=0.5&acousticness=0.5&instrumentalness=0\
            &speechiness=0.1&liveness=0.1&tempo=abc&loudness=-5&duration_min=3&duration_sec=61\
            &key=12&mode=1&time_signature=4&genres=pop&genres=rock&explicit=on";
        let e = TrackRequest::from_form(&FormValues::parse(body)).unwrap_err();
        let fields: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("key", "expected an integer from -1 to 11, got \"12\""),
                ("tempo", "expected a tempo from 0 to 300 BPM, got \"abc\""),
                (
                    "duration",
                    "seconds: expected a number of seconds from 0 to 60, got \"61\""
                ),
            ]
        );
        let form = |minutes: &str, seconds: &str| {
            let text = String::from_utf8_lossy(body)
                .replace("tempo=abc", "tempo=120")
                .replace("key=12", "key=11")
                .replace("min=3", &format!("min={minutes}"))
                .replace("sec=61", &format!("sec={seconds}"));
            TrackRequest::from_form(&FormValues::parse(text.as_bytes()))
        };
        let message = |minutes, seconds| form(minutes, seconds).unwrap_err()[0].message.clone();
        assert_eq!(
            message("500", "0"),
            "minutes: expected a number of minutes from 0 to 120, got \"500\""
        );
        assert_eq!(
            message("120", "30"),
            "expected a duration from 0 to 7,200,000 ms (2 hours), got \"7230000\""
        );
        assert_eq!(
            message("1", "-1"),
            "seconds: expected a number of seconds from 0 to 60, got \"-1\""
        );
        assert_eq!(message("1", "60"), "seconds must be below 60");
        assert!(form("120", "0").is_ok());
        let ok = String::from_utf8_lossy(body)
            .replace("tempo=abc", "tempo=120")
            .replace("key=12", "key=11")
            .replace("sec=61", "sec=0");
        let t = TrackRequest::from_form(&FormValues::parse(ok.as_bytes())).unwrap();
        assert_eq!(t.genres, ["pop", "rock"]);
        assert_eq!(t.audio[Column::Explicit.audio_index().unwrap()], 1.0);
        assert_eq!(
            t.audio[Column::DurationMs.audio_index().unwrap()],
            180_000.0
        );
    }
}

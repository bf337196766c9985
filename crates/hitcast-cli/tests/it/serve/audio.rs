//! A song's audio file sent to the API and to the Predict page: measured, answered by the
//! from-audio model, and refused with the right status when it cannot be.

use serde_json::{json, Value};

use super::{comedy, model, multipart, Server};
use crate::scratch;

#[test]
fn a_song_s_audio_file_is_measured_and_answered_by_the_api_and_the_page() {
    let dir = scratch("serve-audio");
    let song = dir.join("demo.wav");
    crate::click_song(&song, 120.0, 20.0);
    let wav = std::fs::read(&song).unwrap();
    assert!(wav.len() < 1_000_000);
    let server = Server::start(&["--audio-limit", "1000000"]);
    let json = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };

    // The file as the body, the song's fields in the query string.
    let path = "/api/v1/predict/audio?genres=pop&track_name=Demo&artists=Me";
    let (status, text) = server.request("POST", path, "audio/wav", &wav);
    assert_eq!(status, 200, "{text}");
    let raw = json(&text);
    assert_eq!(raw["prediction"]["model"], "from-audio", "{raw}");
    let tempo = raw["measured"]["tempo"].as_f64().unwrap();
    assert!((tempo - 120.0).abs() < 2.4, "{raw}");
    assert_eq!(raw["measured"]["duration_ms"], json!(20_000.0));
    assert_eq!(
        raw["track"]["danceability"],
        Value::Null,
        "learned columns absent"
    );
    assert_eq!(raw["track"]["genres"], json!(["pop"]));
    assert_eq!(raw["track"]["track_name"], "Demo");

    // As multipart: the same answer.
    let (content_type, body) = multipart(
        &[("genres", "pop"), ("track_name", "Demo"), ("artists", "Me")],
        ("file", "demo.wav", &wav),
    );
    let (status, text) = server.request("POST", "/api/v1/predict/audio", &content_type, &body);
    assert_eq!(status, 200, "{text}");
    let parted = json(&text);
    assert_eq!(parted["prediction"], raw["prediction"]);
    assert_eq!(parted["measured"], raw["measured"]);

    // The measured track posted back to the JSON API, learned columns absent: the same
    // answer, from the same model; `hitcast predict --audio` gives it too.
    let (status, back) = server.post_json("/api/v1/predict", &raw["track"]);
    assert_eq!(status, 200, "{back}");
    assert_eq!(back, raw["prediction"]);
    let o = crate::hitcast(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
        "--title",
        "Demo",
        "--artists",
        "Me",
    ]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let csv = String::from_utf8(o.stdout).unwrap();
    let cells: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let cli: f64 = cells[1].parse().unwrap();
    let api = raw["prediction"]["probability"].as_f64().unwrap();
    assert!((cli - api).abs() < 1e-6, "CLI {cli} against API {api}");

    // Some learned columns but not all: refused, naming the missing ones.
    let mut partial = comedy();
    partial.as_object_mut().unwrap().remove("valence");
    let (status, refused) = server.post_json("/api/v1/predict", &partial);
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "valence");
    assert_eq!(
        refused["errors"][0]["message"],
        "required: a number from 0 to 1; or leave out all seven learned columns (danceability, \
         energy, speechiness, acousticness, instrumentalness, liveness, valence) for a song \
         measured from its audio file"
    );

    // What is refused, and how.
    let refused = |content_type: &str, body: &[u8], want: u16, says: &str| {
        let (status, text) = server.request("POST", "/api/v1/predict/audio", content_type, body);
        assert_eq!(status, want, "{text}");
        assert_eq!(json(&text)["error"], says, "{text}");
    };
    refused(
        "text/plain",
        b"la la",
        415,
        "Content-Type \"text/plain\" is not audio: send the file (WAV, AIFF, FLAC, MP3, Ogg or WebM \
         (Vorbis or Opus), or M4A (AAC or ALAC)) as the body with an audio/... or application/octet-stream type, or as \
         multipart/form-data with a part named file",
    );
    refused(
        "audio/wav",
        b"",
        422,
        "the body is empty: send the audio file (WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)) as the \
         body, or as multipart/form-data with a part named file",
    );
    refused(
        "audio/mpeg",
        &[7u8; 4000],
        415,
        "the body: not an audio file hitcast can read; hitcast reads WAV, AIFF, FLAC, MP3, Ogg or WebM \
         (Vorbis or Opus), or M4A (AAC or ALAC)",
    );
    refused(
        "audio/wav",
        &vec![0u8; 1_200_000],
        413,
        "the audio file is over the server's limit of 1 MB (hitcast serve --audio-limit): send a \
         shorter song, or compress it (an MP3 of a 4-minute song is about 6 MB)",
    );
    let clip = dir.join("clip.wav");
    crate::click_song(&clip, 120.0, 1.0);
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict/audio",
        "audio/wav",
        &std::fs::read(&clip).unwrap(),
    );
    assert_eq!(status, 422, "{text}");
    assert_eq!(
        json(&text)["errors"][0],
        json!({"field": "file", "message": "the body: it lasts 1.0 s: at least 5 s are needed to measure a tempo"})
    );
    let (status, text) =
        server.request("POST", "/api/v1/predict/audio?tempo=120", "audio/wav", &wav);
    assert_eq!(status, 422, "{text}");
    assert_eq!(
        json(&text)["errors"][0],
        json!({"field": "tempo", "message": "tempo is measured from the file: to score a tempo \
            of your own, post the track this route returns, changed, to /api/v1/predict"})
    );
    let (status, text) = server.request(
        "POST",
        "/api/v1/predict/audio?valence=0.5&bpm=1",
        "audio/wav",
        &wav,
    );
    assert_eq!(status, 422, "{text}");
    let errors = &json(&text)["errors"];
    assert_eq!(
        errors[0],
        json!({"field": "valence", "message": "valence cannot be measured from audio: to score a \
            track with it, post the track this route returns, with it, to /api/v1/predict"})
    );
    assert_eq!(errors[1]["field"], "bpm");
    assert!(
        errors[1]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("unknown field: expected track_name")),
        "{text}"
    );
    let (content_type, body) = multipart(&[("genres", "pop")], ("other", "x.wav", b"x"));
    let (status, text) = server.request("POST", "/api/v1/predict/audio", &content_type, &body);
    assert_eq!(status, 422, "{text}");
    let no_file = "no audio file: send it as a part named file";
    assert_eq!(
        json(&text),
        json!({"error": no_file, "errors": [{"field": "file", "message": no_file}]})
    );

    // The page: the whole form with the file (its Measure button), back with what was
    // measured, the learned sliders disabled and the from-audio model's answer.
    let (content_type, body) = multipart(
        &[
            ("track_id", ""),
            ("danceability", "0.5"),
            ("tempo", "99"),
            ("genres", "pop"),
            ("track_name", "Demo"),
        ],
        ("file", "demo.wav", &wav),
    );
    let (status, page) = server.request("POST", "/predict/audio", &content_type, &body);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Measured from <b>demo.wav</b>"), "{page}");
    assert!(page.contains("data-model=\"from-audio\""), "{page}");
    assert!(
        page.contains("id=\"danceability\" type=\"range\" name=\"danceability\" min=\"0\" max=\"1\" step=\"any\" value=\"\" disabled"),
        "the learned sliders are disabled"
    );
    assert!(
        !page.contains("value=\"99\""),
        "the measured tempo replaces the typed one"
    );
    // Its live answer, from the form as the browser sends it (disabled sliders left out).
    let (status, panel) = server.post_form(
        "/predict/result",
        &[
            ("track_id", ""),
            ("tempo", &tempo.to_string()),
            ("loudness", "-20"),
            ("duration_min", "0"),
            ("duration_sec", "20"),
            ("key", "9"),
            ("mode", "0"),
            ("time_signature", "4"),
            ("genres", "pop"),
            ("measured_from", "demo.wav"),
        ],
    );
    assert_eq!(status, 200, "{panel}");
    assert!(panel.contains("data-model=\"from-audio\""), "{panel}");
    // A file that cannot be measured: the form comes back as sent, with why.
    let (content_type, body) = multipart(
        &[("genres", "pop"), ("track_name", "Demo")],
        ("file", "clip.wav", &std::fs::read(&clip).unwrap()),
    );
    let (status, page) = server.request("POST", "/predict/audio", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    // The message above the form (the one element with this id).
    let notice = "<p class=\"notice\" id=\"audio-error\" role=\"alert\">";
    let said = &page[page
        .find(notice)
        .unwrap_or_else(|| panic!("no message in {page}"))..];
    let said = &said[notice.len()..said.find("</p>").unwrap()];
    assert_eq!(
        said,
        "clip.wav: it lasts 1.0 s: at least 5 s are needed to measure a tempo"
    );
}

//! The app's pages without a browser: escaped names, errors at their fields, forms that work
//! without JavaScript, a file of tracks scored from the page, and the comparison page.

use serde_json::Value;

use super::{multipart, predicted_csv, Server};
use crate::scratch;

#[test]
fn the_pages_escape_names_show_errors_at_fields_and_work_without_javascript() {
    let server = Server::start(&[]);
    let (status, home) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        home.contains("Of the tracks it flags as hit contenders, <b>"),
        "{home}"
    );
    let (status, page) = server.get("/predict");
    assert_eq!(status, 200);
    for name in [
        "danceability",
        "tempo",
        "loudness",
        "duration_min",
        "duration_sec",
        "key",
        "mode",
        "time_signature",
        "explicit",
        "genres",
    ] {
        assert!(
            page.contains(&format!("name=\"{name}\"")),
            "no input {name}"
        );
    }

    // The typical track, posted back as a browser without JavaScript would.
    let mut form = vec![
        ("track_id", ""),
        ("danceability", "0.6"),
        ("energy", "0.7"),
        ("valence", "0.5"),
        ("acousticness", "0.1"),
        ("instrumentalness", "0"),
        ("speechiness", "0.05"),
        ("liveness", "0.12"),
        ("tempo", "120"),
        ("loudness", "-6"),
        ("duration_min", "3"),
        ("duration_sec", "30"),
        ("key", "5"),
        ("mode", "1"),
        ("time_signature", "4"),
        ("genres", "pop"),
        ("genres", "dance"),
        ("track_name", "<script>alert(1)</script>"),
        ("artists", "A & B"),
    ];
    let (status, page) = server.post_form("/predict", &form);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("chance that its popularity is above 71"));
    assert!(page.contains("id=\"score-low\""));
    assert!(page.contains("id=\"probability\" data-probability=\"0."));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("value=\"A &amp; B\""));
    assert!(page.contains("Chosen: pop, dance"));
    // A link's genres as the model reads them: "R&B" is r-n-b, and one it does not know stays
    // chosen, marked, and said.
    let (status, page) = server.get("/predict?genres=R%26B&genres=polka");
    assert_eq!(status, 200);
    assert!(page.contains("<option value=\"r-n-b\" selected>"), "{page}");
    assert!(
        page.contains("<option value=\"polka\" selected data-unknown>polka (not a genre the model knows)</option>"),
        "{page}"
    );
    assert!(
        page.contains(
            "Chosen: r-n-b, polka. The model knows no genre \u{201c}polka\u{201d}: not read."
        ),
        "{page}"
    );

    // A bad value comes back at its field, the rest of the form kept.
    form[8] = ("tempo", "-5");
    form[11] = ("duration_sec", "75");
    let (status, page) = server.post_form("/predict", &form);
    assert_eq!(status, 422);
    assert!(page.contains("<p class=\"error\" id=\"tempo-error\" role=\"alert\">expected a tempo from 0 to 300 BPM, got &quot;-5&quot;</p>"), "{page}");
    assert!(page.contains("id=\"duration-error\" role=\"alert\">seconds: expected a number of seconds from 0 to 60, got &quot;75&quot;</p>"), "{page}");
    assert!(page.contains("value=\"-5\""));
    let (status, fragment) = server.post_form("/predict/result", &form);
    assert_eq!(status, 422);
    assert!(
        fragment.starts_with("<section class=\"result invalid\">"),
        "{fragment}"
    );

    // Loading a real track by name fills the form and shows its real popularity.
    server.wait_for_catalogue();
    let (status, page) = server.get("/predict?q=comedy+gen+hoshino");
    assert_eq!(status, 200);
    assert!(page.contains("id=\"real-popularity\">73</b>"), "{page}");
    assert!(page.contains("value=\"5SuOikwiRyPMVoIQDJUgSV\""));
    let (_, page) = server.get("/predict?q=love");
    // The true count, beside the 20 listed (3,092 tracks say "love" in title, artists or album).
    assert!(
        page.contains("3092 tracks match; the 20 most popular:"),
        "{page}"
    );
    // A pasted Spotify link loads its track.
    let (_, page) = server
        .get("/predict?q=https%3A%2F%2Fopen.spotify.com%2Ftrack%2F5SuOikwiRyPMVoIQDJUgSV%3Fsi%3Dx");
    assert!(page.contains("value=\"5SuOikwiRyPMVoIQDJUgSV\""), "{page}");
    // A song the catalogue lacks: why, and what to do instead.
    let (_, page) = server.get("/predict?q=flowers+miley");
    assert!(
        page.contains("No track matches \u{201c}flowers miley\u{201d} among the catalogue's 89,741 tracks (the dataset hitcast ships was collected in 2022"),
        "{page}"
    );
    assert!(page.contains("measure it from its audio file"), "{page}");
    // An artist's own name ranks their tracks first: ROSÉ before Guns N' Roses.
    let (status, found) = server.get("/api/v1/tracks?q=Ros%C3%A9&limit=3");
    assert_eq!(status, 200);
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["tracks"][0]["artists"], "ROSÉ", "{found}");

    // Without --report, Explore and Models say how to get one.
    let (status, page) = server.get("/explore");
    assert_eq!(status, 200);
    assert!(page.contains("No report was given"));
    let (status, css) = server.get("/assets/app.css");
    assert_eq!(status, 200);
    assert!(css.contains("svg.chart"));
}

/// The Predict page's upload box: a file of tracks in (CSV or Parquet), `hitcast predict`'s
/// CSV out, streamed; a bad row named by its line before any answer; the upload's temporary
/// file gone afterwards.
#[test]
fn a_file_of_tracks_is_scored_from_the_page_as_predict_scores_it() {
    let dir = scratch("serve-batch");
    let csv = dir.join("tracks.csv");
    let text = crate::dataset_head(5000);
    std::fs::write(&csv, &text).unwrap();
    let parquet = dir.join("tracks.parquet");
    crate::parquet::write(&parquet, &crate::parquet::rows(5000), None);
    let server = Server::start(&["--batch-file-limit", "3000000"]);
    let expected = predicted_csv(&csv);
    assert_eq!(expected.lines().count(), 5001);
    for (name, path) in [("tracks.csv", &csv), ("tracks.parquet", &parquet)] {
        let (content_type, body) = multipart(&[], ("file", name, &std::fs::read(path).unwrap()));
        let (status, answer) = server.request("POST", "/predict/batch", &content_type, &body);
        assert_eq!(status, 200, "{name}: {}", &answer[..answer.len().min(500)]);
        assert!(
            answer == expected,
            "{name}: the answers differ from hitcast predict's"
        );
    }
    // A bad row: named by the file's own name, line and column, nothing scored.
    let bad = text.replacen("87.917", "-5", 1);
    let (content_type, body) = multipart(&[], ("file", "mine.csv", bad.as_bytes()));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("mine.csv:2:"), "{page}");
    assert!(
        page.contains("expected a tempo from 0 to 300 BPM"),
        "{page}"
    );
    // Over the limit: 413, naming the flag.
    let big = vec![b'x'; 3_100_000];
    let (content_type, body) = multipart(&[], ("file", "big.csv", &big));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("--batch-file-limit"), "{page}");
    // No file part.
    let (content_type, body) = multipart(&[], ("other", "x.csv", b"a"));
    let (status, page) = server.request("POST", "/predict/batch", &content_type, &body);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("no file"), "{page}");
    // Every upload's temporary folder is gone.
    let prefix = format!("hitcast-upload-{}-", server.child.id());
    let left: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The page has the box.
    let (_, page) = server.get("/predict");
    assert!(
        page.contains("action=\"/predict/batch\" enctype=\"multipart/form-data\""),
        "{page}"
    );
}

/// `/compare`: scenarios as the Predict form's query strings (or a track's id), side by side,
/// each answer the API's own.
#[test]
fn scenarios_and_tracks_are_compared_side_by_side() {
    let server = Server::start(&[]);
    server.wait_for_catalogue();
    let encode = |s: &str| -> String { form_urlencoded_encode(s) };
    let comedy_id = "track=5SuOikwiRyPMVoIQDJUgSV";
    // A scenario: a typed song, as the Predict page's link holds it.
    let typed = "track_id=&duration_min=3&duration_sec=20&danceability=0.8&energy=0.7&key=0\
                 &loudness=-5&mode=1&speechiness=0.05&acousticness=0.1&instrumentalness=0\
                 &liveness=0.1&valence=0.6&tempo=120&time_signature=4&genres=pop&track_name=Mine";
    let (status, page) = server.get(&format!(
        "/compare?s={}&s={}&q=Blinding+Lights+Weeknd",
        encode(comedy_id),
        encode(typed)
    ));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<th scope=\"col\">").count(), 3, "{page}");
    assert!(page.contains("Comedy · Gen Hoshino"), "{page}");
    assert!(page.contains("Blinding Lights · The Weeknd"), "{page}");
    assert!(
        page.contains(">Mine<br>") || page.contains("Mine<br>"),
        "{page}"
    );
    assert_eq!(
        page.matches("<tr class=\"difference\">").count(),
        6,
        "{page}"
    );
    // The real tracks' popularity beside their answers; none for the typed song.
    let real = page
        .split("real popularity</th>")
        .nth(1)
        .and_then(|row| row.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        real.starts_with("<td><b>73</b> <span class=\"muted\">(popular)</span></td>"),
        "{real}"
    );
    assert_eq!(real.matches("<td><b>").count(), 2, "{real}");
    assert!(
        real.contains("<span class=\"muted\">\u{2013}</span>"),
        "{real}"
    );
    // Each column's chance is the API's for the same track (the catalogue's, genres merged).
    let (_, found) = server.get("/api/v1/tracks?q=5SuOikwiRyPMVoIQDJUgSV");
    let found: Value = serde_json::from_str(&found).unwrap();
    let (_, one) = server.post_json("/api/v1/predict", &found["tracks"][0]["features"]);
    let chance = format!(
        "data-probability=\"{}\"",
        one["probability"].as_f64().unwrap()
    );
    assert!(page.contains(&chance), "{chance} in {page}");
    // Its remove link keeps the others; a fifth scenario is one too many.
    assert!(
        page.contains(&format!("href=\"/compare?s={}&amp;s=", encode(typed))),
        "{page}"
    );
    let five: Vec<String> = (0..5).map(|_| format!("s={}", encode(comedy_id))).collect();
    let (status, page) = server.get(&format!("/compare?{}", five.join("&")));
    assert_eq!(status, 200);
    assert!(page.contains("At most 4 are compared"), "{page}");
    // A bad scenario says what is wrong with it, and the rest are compared.
    let (_, page) = server.get(&format!(
        "/compare?s={}&s={}",
        encode(comedy_id),
        encode("tempo=-5")
    ));
    assert!(page.contains("Scenario 2: "), "{page}");
    assert_eq!(page.matches("<th scope=\"col\">").count(), 1, "{page}");
    // The Predict page links its scenario.
    let (_, page) = server.get("/predict?q=Comedy+Gen+Hoshino");
    assert!(
        page.contains("id=\"compare-add\" href=\"/compare?s=track_id%3D5SuOikwiRyPMVoIQDJUgSV"),
        "{page}"
    );
}

/// Percent-encodes a query value as a form does.
fn form_urlencoded_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! The EDA page and the report in headless Chromium: every chart drawn, no console errors.

use std::path::PathBuf;

use serde_json::Value;

use super::{
    chromium, dataset, headless, hitcast, scratch, serve, small_report, stderr, train_quick,
};

#[test]
fn the_eda_page_renders_in_a_browser_with_every_chart_and_no_console_errors() {
    let dir = scratch("eda");
    let o = hitcast(&[
        "eda",
        "--data",
        dataset().to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.starts_with(&format!("wrote {}/index.html (30 charts", dir.display())),
        "{said}"
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("eda.json")).unwrap()).unwrap();
    assert_eq!(json["rows"], 89_741);
    // The page names the data file, not the folders it sits in (a server shows it to anyone).
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let folder = dataset().parent().unwrap().display().to_string();
    assert!(
        page.contains("<p class=\"lead\">spotify_tracks.csv.gz: 89,741 rows"),
        "{}",
        &page[..2000.min(page.len())]
    );
    assert!(!page.contains(&folder), "{folder} on the page");
    // 89,741 tracks: no small-sample warning, every feature charted.
    assert!(!page.contains("A small sample") && !page.contains("Not charted"));
    // --out names a folder: a file there is said to be one.
    let file = dir.join("index.html");
    let data = dataset();
    let o = hitcast(&[
        "eda",
        "--data",
        data.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "{}: a file, not a folder: --out names a folder for index.html and eda.json",
            file.display()
        )),
        "{}",
        stderr(&o)
    );

    let Some(chromium) = chromium() else { return };
    let url = format!("file://{}", dir.join("index.html").display());
    let (dom, log) = headless(&chromium, &url, &["--dump-dom"]);
    // The parsed document holds every chart, each with a title for screen readers.
    assert_eq!(dom.matches(r#"role="img""#).count(), 30, "{log}");
    // ... and the two heatmaps' row labels, a picture each beside the cells, for the eye only.
    assert_eq!(dom.matches("<svg").count(), 32);
    // Chromium logs console messages as `INFO:CONSOLE:<line>] "<text>"`.
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(!log.contains("Failed to load resource"), "{log}");
    // A screenshot to look at (target/screenshots, not committed).
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("eda.png");
    let (_, log) = headless(
        &chromium,
        &url,
        &[
            "--window-size=1200,4000",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{e}: {log}"));
    assert_eq!(&bytes[1..4], b"PNG");
}

#[test]
fn the_report_joins_data_grids_and_a_model_card_and_renders_in_a_browser() {
    let dir = scratch("report");
    let model = train_quick(&dir, "m.hitcast", "gbm", "linear");
    let (out, o) = small_report(&dir, &model);
    // 30 EDA charts and the card's 4: ROC, precision-recall, calibration, importance.
    assert!(String::from_utf8_lossy(&o.stdout).contains("index.html (34 charts"));
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let card = &report["model"];
    assert_eq!(card["same_data"], true);
    assert_eq!(card["test_rows"], 17_993);
    let roc = card["roc"].as_array().unwrap();
    assert_eq!(roc.first().unwrap(), &serde_json::json!([0.0, 0.0]));
    assert_eq!(roc.last().unwrap(), &serde_json::json!([1.0, 1.0]));
    // The curve is the model's: its area (trapezoids over the thinned points) is the saved AUC.
    let area: f64 = roc
        .windows(2)
        .map(|w| {
            let (x0, y0) = (w[0][0].as_f64().unwrap(), w[0][1].as_f64().unwrap());
            let (x1, y1) = (w[1][0].as_f64().unwrap(), w[1][1].as_f64().unwrap());
            (x1 - x0) * (y0 + y1) / 2.0
        })
        .sum();
    let auc = card["metadata"]["test_classification"]["roc_auc"]
        .as_f64()
        .unwrap();
    assert!((area - auc).abs() < 0.005, "{area} vs {auc}");
    // Ten bins of equal size, the top one cut at the 95th, 98th and 99th percentiles.
    assert_eq!(card["calibration"].as_array().unwrap().len(), 13);
    let ece = card["metadata"]["calibration"]["test_ece"]
        .as_f64()
        .unwrap();
    assert!(ece < 0.02, "{ece}");
    assert_eq!(card["importance"][0][0], "genre");
    assert_eq!(report["experiments"].as_array().unwrap().len(), 2);

    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("<h2 id=\"protocols\">Protocols side by side</h2>"));
    // A menu of every section at the top, the words the tables use explained at the end.
    assert!(
        page.contains("<nav class=\"contents\" aria-label=\"sections\"><a href=\"#model\">The saved model</a>"),
        "{page}"
    );
    assert!(page.contains("<a href=\"#terms\">Terms</a>"));
    assert!(page.contains("<h2 id=\"terms\">Terms</h2><dl class=\"terms\"><dt>FIT, VAL, TEST</dt>"));
    assert!(page.contains("Experiment grid: protocol reference (LEAKY"));
    assert!(
        page.contains("<h3>Classification, raw data</h3>")
            && page.contains("<h3>Best per metric</h3>")
    );

    // `hitcast serve --report` shows the two halves on its Explore and Models pages.
    let server = serve::Server::start_with(&model, &["--report", out.to_str().unwrap()]);
    let (status, explore) = server.get("/explore");
    assert_eq!(status, 200);
    assert_eq!(explore.matches(r#"role="img""#).count(), 30);
    let (status, models) = server.get("/models");
    assert_eq!(status, 200);
    assert_eq!(models.matches(r#"role="img""#).count(), 4);
    assert!(models.contains("Protocols side by side") && models.contains("The saved model"));
    drop(server);

    let Some(chromium) = chromium() else { return };
    let url = format!("file://{}", out.join("index.html").display());
    let (dom, log) = headless(&chromium, &url, &["--dump-dom"]);
    assert_eq!(dom.matches(r#"role="img""#).count(), 34, "{log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    headless(
        &chromium,
        &url,
        &[
            "--window-size=1200,3000",
            &format!("--screenshot={}", png.display()),
        ],
    );
    assert!(png.is_file());
}

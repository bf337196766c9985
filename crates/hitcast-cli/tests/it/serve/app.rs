//! The web app end to end in headless Chromium through WebDriver (chromedriver).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::{json, Value};

use super::{model, predicted_csv, Server};
use crate::scratch;

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// ChromeDriver for `chromium`, if installed; killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<Driver> {
    let binary = std::env::var_os("CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("chromedriver"), PathBuf::from);
    let port = free_port();
    let Ok(child) = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        assert!(
            std::env::var_os("HITCAST_REQUIRE_BROWSER").is_none(),
            "HITCAST_REQUIRE_BROWSER is set but {} does not run",
            binary.display()
        );
        eprintln!("note: no chromedriver: browser test skipped (apt install chromium-driver)");
        return None;
    };
    let driver = Driver(child, port);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(driver)
}

/// A Chrome DevTools command through chromedriver's passthrough (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.0, "params": self.1});
        (http::Method::POST, Some(body.to_string()))
    }
}

#[test]
fn the_web_app_works_end_to_end_in_headless_chromium() {
    let Some(chromium) = crate::chromium() else {
        return;
    };
    let Some(driver) = chromedriver() else { return };
    // A small report, so Explore and Models have their tables and charts at both widths.
    let report_dir = scratch("app-report");
    let (report, _) = crate::small_report(&report_dir, model());
    let server = Server::start(&["--report", report.to_str().unwrap()]);
    server.wait_for_catalogue();
    let audio_dir = scratch("app-audio");
    let song = audio_dir.join("demo.wav");
    crate::click_song(&song, 120.0, 20.0);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = scratch("webdriver-profile");
    // A file of 40 real tracks for the upload box, and what `hitcast predict` answers for it.
    let downloads = scratch("webdriver-downloads");
    let upload_dir = scratch("app-upload");
    let upload = upload_dir.join("mine.csv");
    std::fs::write(&upload, crate::dataset_head(40)).unwrap();
    let expected_download = predicted_csv(&upload);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let b = Browser::open(&chromium, &driver, &profile, &downloads, &server, shots).await;
        let before = load_a_track(&b).await;
        let live = live_answer(&b, &before).await;
        submit_and_field_errors(&b, &live).await;
        wide_screen(&b).await;
        what_if_curves(&b).await;
        upload_box(&b, &upload, &downloads, &expected_download).await;
        search_as_you_type(&b).await;
        genre_chips(&b).await;
        compare(&b).await;
        audio_file(&b, &song).await;
        desktop_charts(&b).await;
        phones(&b).await;
        phone_explore_menu(&b).await;
        phone_predict(&b).await;
        b.c.close().await.unwrap();
    });
}

/// The browser on the server's pages, and what the scenarios below share.
struct Browser {
    c: fantoccini::Client,
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// Where screenshots go (`target/screenshots`), to be looked at.
    shots: PathBuf,
}

impl Browser {
    /// Headless Chromium through `driver`, with its profile and downloads in these folders.
    async fn open(
        chromium: &Path,
        driver: &Driver,
        profile: &Path,
        downloads: &Path,
        server: &Server,
        shots: PathBuf,
    ) -> Browser {
        let mut options = json!({
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,1800", format!("--user-data-dir={}", profile.display())],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false}
        });
        // A bare name is left to chromedriver, which knows where its Chromium is.
        if chromium.is_absolute() {
            options["binary"] = json!(chromium);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await
            .unwrap();
        Browser {
            c,
            base: format!("http://{}", server.addr),
            shots,
        }
    }

    /// Opens the server's page at `path` (`/predict?q=...`; empty for the welcome page).
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Clicks the element `at`.
    async fn click(&self, at: Locator<'_>) {
        self.c.find(at).await.unwrap().click().await.unwrap();
    }

    /// The element `at`, once the page shows it.
    async fn wait_for(&self, at: Locator<'_>) -> fantoccini::elements::Element {
        self.c.wait().for_element(at).await.unwrap()
    }

    /// Saves a screenshot of the window as `name`.
    async fn shot(&self, name: &str) {
        std::fs::write(self.shots.join(name), self.c.screenshot().await.unwrap()).unwrap();
    }

    /// The text of the element at `css`.
    ///
    /// The live answer re-renders as the page's script updates it: an element found just
    /// before a re-render is stale by the time its text is read, and on a loaded machine one
    /// may be looked for while the page is between two answers. Find it again then.
    async fn text(&self, css: &str) -> String {
        use fantoccini::error::{CmdError, ErrorStatus};
        for _ in 0..40 {
            let found = match self.c.find(Locator::Css(css)).await {
                Ok(element) => element.text().await,
                Err(e) => Err(e),
            };
            match found {
                Ok(text) => return text,
                Err(CmdError::Standard(e))
                    if e.error == ErrorStatus::StaleElementReference
                        || e.error == ErrorStatus::NoSuchElement =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
        panic!("{css}: still re-rendering after 40 tries")
    }

    /// How many live updates the Predict page's answer has had (none before the first).
    async fn updates(&self) -> Option<String> {
        self.c
            .find(Locator::Id("result"))
            .await
            .unwrap()
            .attr("data-updates")
            .await
            .unwrap()
    }

    /// Waits until the answer has updated since `before`, then lets the last of the debounced
    /// updates land; fails with `what` after 10 s.
    async fn answer_updated(&self, before: Option<String>, what: &str) {
        let started = Instant::now();
        while self.updates().await == before {
            assert!(started.elapsed() < Duration::from_secs(10), "{what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }

    /// The ids of the fields marked invalid, in the page's order.
    async fn marked(&self) -> Value {
        self.c
            .execute(
                "return [...document.querySelectorAll('[aria-invalid=true]')].map(e => e.id)",
                vec![],
            )
            .await
            .unwrap()
    }

    /// Whether the element at `css` is shown whole within the window.
    async fn in_view(&self, css: &str) -> Value {
        self.c
            .execute(
                &format!(
                    "const r = document.querySelector('{css}').getBoundingClientRect();
                     return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;"
                ),
                vec![],
            )
            .await
            .unwrap()
    }

    /// Chart text that reads under 11 px at the size the page draws it (a chart's text shrinks
    /// with its viewBox), or that spills out of its chart: at most eight, none expected.
    async fn unreadable_text(&self) -> Value {
        self.c
            .execute(
                "const bad = [];
                 for (const t of document.querySelectorAll('svg text')) {
                   const r = t.getBoundingClientRect();
                   if (r.width === 0 || !t.checkVisibility()) continue;
                   const svg = t.ownerSVGElement, box = svg.viewBox.baseVal, b = svg.getBoundingClientRect();
                   const scale = box && box.width ? b.width / box.width : 1;
                   const px = parseFloat(getComputedStyle(t).fontSize) * scale;
                   if (px < 10.95) bad.push(t.textContent + ' at ' + px.toFixed(1) + ' px');
                   if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1)
                     bad.push(t.textContent + ' cut off');
                 }
                 return bad.slice(0, 8);",
                vec![],
            )
            .await
            .unwrap()
    }
}

/// The welcome page, then the Predict page with a real track loaded by name: its values fill the
/// form, its real popularity shows. Returns the answer shown.
async fn load_a_track(b: &Browser) -> String {
    let c = &b.c;
    b.goto("").await;
    assert!(b.text("h1").await.contains("popular on Spotify"));
    b.shot("app-welcome.png").await;
    b.click(Locator::LinkText("Predict")).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/predict");

    // Load a real track by name: its values fill the form, its real popularity shows.
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys("Comedy Gen Hoshino").await.unwrap();
    b.click(Locator::Css("form.load button")).await;
    b.wait_for(Locator::Id("real-popularity")).await;
    assert_eq!(b.text("#real-popularity").await, "73");
    let energy = c.find(Locator::Id("energy")).await.unwrap();
    assert_eq!(
        energy.prop("value").await.unwrap().as_deref(),
        Some("0.461")
    );
    b.text("#probability").await
}

/// A slider moved: the answer (`before` it) follows without a submit, and the scenario is in the
/// address, so reloading it gives the same form and answer. Returns the new answer.
async fn live_answer(b: &Browser, before: &str) -> String {
    let c = &b.c;
    let energy = c.find(Locator::Id("energy")).await.unwrap();
    assert_eq!(b.updates().await, None);
    // 20 presses of the right arrow key: with step="any" (so a loaded track's 0.0322 stays
    // 0.0322), each moves a hundredth of the range.
    energy.send_keys(&"\u{E014}".repeat(20)).await.unwrap();
    let moved: f64 = energy
        .prop("value")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!((moved - 0.661).abs() < 1e-9, "{moved}");
    assert_eq!(b.text("#energy-value").await, moved.to_string());
    let acousticness = c.find(Locator::Id("acousticness")).await.unwrap();
    assert_eq!(
        acousticness.prop("value").await.unwrap().as_deref(),
        Some("0.0322")
    );
    b.answer_updated(None, "no live update").await;
    let live = b.text("#probability").await;
    assert_ne!(live, before, "moving energy did not change the probability");
    b.shot("app-predict-live.png").await;
    // The scenario is in the address: reloading it gives the same form and answer.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/predict");
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "energy" && v == moved.to_string()),
        "{url}"
    );
    c.refresh().await.unwrap();
    b.wait_for(Locator::Id("probability")).await;
    assert_eq!(b.text("#probability").await, live, "the reloaded scenario");
    let energy = c.find(Locator::Id("energy")).await.unwrap();
    assert_eq!(
        energy.prop("value").await.unwrap().as_deref(),
        Some(moved.to_string().as_str())
    );
    live
}

/// Submit: the page comes back with the same answer (`live`), its explanation adds up, and a
/// bad value is marked at its field alone.
async fn submit_and_field_errors(b: &Browser, live: &str) {
    let c = &b.c;
    b.click(Locator::Id("submit")).await;
    b.wait_for(Locator::Css("#probability")).await;
    let submitted = b.text("#probability").await;
    assert!(submitted.ends_with('%'), "{submitted}");
    let p: f64 = submitted.trim_end_matches('%').parse().unwrap();
    assert!((0.0..=100.0).contains(&p));
    assert_eq!(submitted, live);
    // The button asks for the answer as a change does: the address keeps the scenario.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/predict");
    assert!(url.query().unwrap_or_default().contains("tempo="), "{url}");
    // The waterfall adds up: a typical track's chance plus every step is the chance shown.
    let sums = c
        .execute(
            "const w = document.querySelector('ol.waterfall');
             let sum = parseFloat(w.dataset.start) * 100;
             for (const li of w.querySelectorAll('li')) sum += parseFloat(li.dataset.change);
             const shown = parseFloat(document.querySelector('#probability').dataset.probability);
             return [sum, shown * 100, w.querySelectorAll('li').length];",
            vec![],
        )
        .await
        .unwrap();
    let (sum, shown) = (sums[0].as_f64().unwrap(), sums[1].as_f64().unwrap());
    assert!((sum - shown).abs() < 1e-9, "{sums}");
    assert_eq!(
        sums[2],
        json!(9),
        "eight inputs and everything else: {sums}"
    );
    let why = b.text("ol.waterfall").await;
    assert!(why.contains("Everything else"), "{why}");
    assert!(
        !why.contains("log-odds") && !why.contains("_"),
        "code words in {why}"
    );

    // A bad value: the message at the field.
    let tempo = c.find(Locator::Id("tempo")).await.unwrap();
    tempo.clear().await.unwrap();
    tempo.send_keys("-5").await.unwrap();
    // Marked as it is typed, by the live answer, before any submit (the empty box that
    // clear() left may be marked first, and each answer draws the mark anew).
    let said = "expected a tempo from 0 to 300 BPM, got \"-5\"";
    let started = Instant::now();
    while b.text("#tempo-error").await != said {
        assert!(started.elapsed() < Duration::from_secs(10), "no live mark");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.marked().await, json!(["tempo"]));
    // A duration of 75 seconds: both of its boxes marked, the reason under them.
    c.execute(
        "const s = document.getElementById('duration_sec'); s.value = '75';
         s.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let marked = b.marked().await;
        if marked == json!(["tempo", "duration_min", "duration_sec"]) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "duration not marked: {marked}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.execute(
        "const s = document.getElementById('duration_sec'); s.value = '15';
         s.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    b.click(Locator::Id("submit")).await;
    // Read through `text`: a live answer still landing redraws the mark under the submit.
    let started = Instant::now();
    while b.text("#tempo-error").await != said {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mark after submit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.shot("app-predict-error.png").await;

    // Only that field is marked.
    assert_eq!(b.marked().await, json!(["tempo"]));
}

/// Wide screens keep the answer in view: at 1280x900, scrolled down to the genres, a change of
/// genre updates the answer where it can be seen.
async fn wide_screen(b: &Browser) {
    let c = &b.c;
    c.set_window_size(1280, 900).await.unwrap();
    b.goto("/predict?q=Comedy+Gen+Hoshino").await;
    b.wait_for(Locator::Id("real-popularity")).await;
    let first = b.text("#probability").await;
    c.execute(
        "const g = document.getElementById('genres');
         g.scrollIntoView();
         for (const o of g.options) o.selected = o.value === 'latin';
         g.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    b.answer_updated(None, "no update after the genre").await;
    assert_ne!(
        b.text("#probability").await,
        first,
        "the genre did not change the answer"
    );
    assert_eq!(
        b.in_view("#probability").await,
        json!(true),
        "answer out of view"
    );
    b.shot("wide-genre-changed.png").await;
    // Only the figures stick: the explanation under them keeps most of a laptop's window.
    let stuck = c
        .execute(
            "return document.querySelector('div.answer').getBoundingClientRect().height;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        stuck.as_f64().is_some_and(|h| h > 0.0 && h < 250.0),
        "the stuck answer is {stuck} px tall"
    );
}

/// The what-if curves sit beside their controls; one opens to its large chart and stays open,
/// beside its slider, when another slider moves the answer.
async fn what_if_curves(b: &Browser) {
    let c = &b.c;
    let placed = c
        .execute(
            "return [document.querySelectorAll('form .curve-slot details.curve').length,
                     document.querySelector('section.what-if-curves').hidden];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(placed, json!([10, true]), "curves beside their controls");
    let summary = c
        .find(Locator::Css(
            ".curve-slot[data-feature=danceability] summary",
        ))
        .await
        .unwrap();
    c.execute(
        "document.querySelector('.curve-slot[data-feature=danceability]').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    summary.click().await.unwrap();
    let large = |c: fantoccini::Client| async move {
        c.execute(
            "const f = document.querySelector('.curve-slot[data-feature=danceability] details[open] figure.large');
             return f ? [f.getBoundingClientRect().height, f.querySelector('figcaption').textContent] : null;",
            vec![],
        )
        .await
        .unwrap()
    };
    let opened = large(c.clone()).await;
    assert!(opened[0].as_f64().unwrap() > 150.0, "{opened}");
    assert!(
        opened[1]
            .as_str()
            .unwrap()
            .starts_with("Danceability from "),
        "{opened}"
    );
    let before = b.updates().await;
    c.find(Locator::Id("valence"))
        .await
        .unwrap()
        .send_keys(&"\u{E014}".repeat(10))
        .await
        .unwrap();
    b.answer_updated(before, "no update after valence").await;
    assert!(
        large(c.clone()).await[0].as_f64().unwrap() > 150.0,
        "closed by the update"
    );
    assert_eq!(
        b.unreadable_text().await,
        json!([]),
        "the what-if chart's text"
    );
    b.shot("wide-what-if-open.png").await;
}

/// A file of tracks through the upload box comes back as a download, with the answers `hitcast
/// predict` gives for it (`expected`).
async fn upload_box(b: &Browser, upload: &Path, downloads: &Path, expected: &str) {
    let c = &b.c;
    b.goto("/predict").await;
    c.find(Locator::Id("batch-file"))
        .await
        .unwrap()
        .send_keys(upload.to_str().unwrap())
        .await
        .unwrap();
    b.click(Locator::Id("batch-submit")).await;
    let saved = downloads.join("mine.predictions.csv");
    let started = Instant::now();
    while !saved.exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "no download");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), expected);
}

/// Search as you type: suggestions under the box, the arrow keys and Enter load one.
async fn search_as_you_type(b: &Browser) {
    let c = &b.c;
    b.goto("/predict").await;
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys("blinding lights weeknd").await.unwrap();
    b.wait_for(Locator::Css("#q-list li[role=option]")).await;
    assert_eq!(
        q.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    let first = b.text("#q-list li[role=option]").await;
    assert!(
        first.starts_with("Blinding Lights · The Weeknd · After Hours · popularity 91"),
        "{first}"
    );
    b.shot("app-search-suggestions.png").await;
    q.send_keys("\u{E015}").await.unwrap(); // arrow down
    assert_eq!(
        q.attr("aria-activedescendant").await.unwrap().as_deref(),
        Some("q-option-0")
    );
    q.send_keys("\u{E007}").await.unwrap(); // Enter
    b.wait_for(Locator::Id("real-popularity")).await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.query(), Some("track=0VjIjW4GlUZAMYd2vXMi3b"), "{url}");
}

/// Genres as chips: typed, suggested, added with the keys; a chip's button removes it.
async fn genre_chips(b: &Browser) {
    let c = &b.c;
    let chosen = |c: fantoccini::Client| async move {
        c.execute(
            "return [Array.from(document.getElementById('genres').selectedOptions, o => o.value),
                     Array.from(document.querySelectorAll('#genre-chips button.chip'), b => b.getAttribute('aria-label'))];",
            vec![],
        )
        .await
        .unwrap()
    };
    let before = chosen(c.clone()).await;
    // A mark on this page: gone if Enter submitted the form.
    c.execute("window.stayed = true", vec![]).await.unwrap();
    let add = c.find(Locator::Id("genre-filter")).await.unwrap();
    add.send_keys("hip-h").await.unwrap();
    b.wait_for(Locator::Css("#genre-list li[role=option]"))
        .await;
    add.send_keys("\u{E015}\u{E007}").await.unwrap(); // arrow down, Enter
    let after = chosen(c.clone()).await;
    assert!(
        after[0].as_array().unwrap().contains(&json!("hip-hop")),
        "{before} then {after}"
    );
    assert!(
        after[1]
            .as_array()
            .unwrap()
            .contains(&json!("remove hip-hop")),
        "{after}"
    );
    assert_eq!(
        c.execute("return window.stayed === true", vec![])
            .await
            .unwrap(),
        json!(true),
        "Enter submitted the form"
    );
    b.shot("app-genre-chips.png").await;
    b.click(Locator::Css(
        "#genre-chips button[aria-label='remove hip-hop']",
    ))
    .await;
    assert_eq!(chosen(c.clone()).await, before);
    // A name the model does not know is said to match none; Enter adds nothing.
    let add = c.find(Locator::Id("genre-filter")).await.unwrap();
    add.send_keys("synthwave").await.unwrap();
    b.wait_for(Locator::Css("#genre-list li.muted")).await;
    let said = b.text("#genre-list").await;
    assert_eq!(
        said,
        "No genre the model knows matches \u{201c}synthwave\u{201d}"
    );
    add.send_keys("\u{E007}").await.unwrap();
    assert_eq!(chosen(c.clone()).await, before);
    add.clear().await.unwrap();
}

/// Compare: "Add to comparison" on two tracks' pages puts them side by side (the tab remembers
/// the first), with what differs most between them.
async fn compare(b: &Browser) {
    let c = &b.c;
    for track in ["q=Comedy+Gen+Hoshino", "track=0VjIjW4GlUZAMYd2vXMi3b"] {
        b.goto(&format!("/predict?{track}")).await;
        b.wait_for(Locator::Id("compare-add"))
            .await
            .click()
            .await
            .unwrap();
        b.wait_for(Locator::Id("compare")).await;
    }
    let compared = c
        .execute(
            "return [Array.from(document.querySelectorAll('#compare th[scope=col]'), t => t.firstChild.textContent.trim()),
                     document.querySelectorAll('#compare tr.difference').length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        compared,
        json!([["Comedy · Gen Hoshino", "Blinding Lights · The Weeknd"], 6]),
        "{compared}"
    );
    b.shot("app-compare.png").await;
}

/// A new song from its audio file: picked in the file box, it is measured at once; the measures
/// fill the form, marked, the learned sliders are disabled, and the from-audio model answers.
async fn audio_file(b: &Browser, song: &Path) {
    let c = &b.c;
    b.goto("/predict").await;
    c.execute(
        "const g = document.getElementById('genres');
         for (const o of g.options) o.selected = o.value === 'pop';",
        vec![],
    )
    .await
    .unwrap();
    let file = c.find(Locator::Id("audio-file")).await.unwrap();
    file.send_keys(song.to_str().unwrap()).await.unwrap();
    b.wait_for(Locator::Css("p.measured")).await;
    let note = b.text("p.measured").await;
    assert!(note.starts_with("Measured from demo.wav."), "{note}");
    let tempo: f64 = c
        .find(Locator::Id("tempo"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!((tempo - 120.0).abs() < 2.4, "measured tempo {tempo}");
    let disabled = c
        .execute(
            "return [document.getElementById('danceability').disabled,
                     document.getElementById('answered-by').dataset.model,
                     Array.from(document.getElementById('genres').selectedOptions, o => o.value)];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(disabled, json!([true, "from-audio", ["pop"]]));
    b.shot("app-predict-audio.png").await;

    // The measured song's address is its scenario's (not the upload's): opened again, the
    // same song, measured, answered by the from-audio model.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/predict");
    assert!(
        url.query()
            .unwrap_or_default()
            .contains("measured_from=demo.wav"),
        "{url}"
    );
    let answer = b.text("#probability").await;
    c.goto(url.as_str()).await.unwrap();
    b.wait_for(Locator::Css("p.measured")).await;
    assert_eq!(b.text("#probability").await, answer);
    let model = "return document.getElementById('answered-by').dataset.model;";
    assert_eq!(c.execute(model, vec![]).await.unwrap(), json!("from-audio"));

    // A link that names only what it changes: the typical track's measures fill the rest,
    // and the main model answers, where the measures it lacks were errors.
    b.goto("/predict?tempo=90&genres=pop").await;
    b.wait_for(Locator::Css("#probability")).await;
    assert_eq!(b.marked().await, json!([]));
    assert_eq!(c.execute(model, vec![]).await.unwrap(), json!("new-song"));
    let tempo = c.find(Locator::Id("tempo")).await.unwrap();
    assert_eq!(tempo.prop("value").await.unwrap().as_deref(), Some("90"));

    // The server out of reach: the answer shown says it is for the inputs before the change.
    c.execute(
        "window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
         const t = document.getElementById('tempo'); t.value = '95';
         t.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    let started = Instant::now();
    while !b
        .text("#result p.notice")
        .await
        .contains("cannot be reached")
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no notice");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The charts of Explore and Models: their text readable and whole at 1200 px.
async fn desktop_charts(b: &Browser) {
    for path in ["/explore", "/models"] {
        b.goto(path).await;
        assert_eq!(
            b.unreadable_text().await,
            json!([]),
            "{path}: chart text at 1200 px"
        );
    }
}

/// Phones, as Chromium's device emulation draws them (390 x 844 CSS px, a mobile viewport,
/// touch), from here on: no page scrolls sideways, the navigation included, and chart text is
/// readable.
async fn phones(b: &Browser) {
    let c = &b.c;
    c.issue_cmd(Cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    ))
    .await
    .unwrap();
    c.issue_cmd(Cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": true, "maxTouchPoints": 5}),
    ))
    .await
    .unwrap();
    for (path, name) in [
        ("/", "phone-welcome.png"),
        ("/predict?q=Comedy+Gen+Hoshino", "phone-predict.png"),
        ("/explore", "phone-explore.png"),
        ("/models", "phone-models.png"),
        ("/api/docs", "phone-docs.png"),
        (
            "/compare?s=track%3D5SuOikwiRyPMVoIQDJUgSV&s=track%3D0VjIjW4GlUZAMYd2vXMi3b",
            "phone-compare.png",
        ),
    ] {
        b.goto(path).await;
        let widths = c
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            widths[0].as_f64().unwrap() <= widths[1].as_f64().unwrap(),
            "{path} scrolls sideways at 390 px: {widths}"
        );
        assert_eq!(
            b.unreadable_text().await,
            json!([]),
            "{path}: chart text at 390 px"
        );
        b.shot(name).await;
    }
}

/// On a phone, Explore has a menu of its sections that stays in reach: a jump lands on the
/// section with the menu still at the top.
async fn phone_explore_menu(b: &Browser) {
    let c = &b.c;
    b.goto("/explore").await;
    let menu = c
        .execute(
            "return Array.from(document.querySelectorAll('nav.contents a'), a => a.getAttribute('href'));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        menu.as_array().unwrap().contains(&json!("#outliers")),
        "{menu}"
    );
    // It opens with what matters for popularity, not with how the rows were cleaned.
    assert_eq!(menu[0], json!("#glance"), "{menu}");
    c.execute(
        "document.querySelector('nav.contents a[href=\"#correlation\"]').click()",
        vec![],
    )
    .await
    .unwrap();
    let placed = c
        .execute(
            "const h = document.getElementById('correlation').getBoundingClientRect();
             const n = document.querySelector('nav.contents').getBoundingClientRect();
             return [Math.round(n.top), Math.round(n.bottom), Math.round(h.top)];",
            vec![],
        )
        .await
        .unwrap();
    let (top, bottom, section) = (
        placed[0].as_i64().unwrap(),
        placed[1].as_i64().unwrap(),
        placed[2].as_i64().unwrap(),
    );
    assert!(
        top == 0 && section >= bottom - 1 && section < bottom + 60,
        "menu and section after the jump: {placed}"
    );
    b.shot("phone-explore-menu.png").await;
}

/// On a phone, the Predict page: every control a thumb can hit is at least 44 px tall, the
/// similar tracks and the explanation fit, a what-if chart is readable, and after a slider
/// moves the summary bar at the foot shows the new answer.
async fn phone_predict(b: &Browser) {
    let c = &b.c;
    b.goto("/predict?q=Comedy+Gen+Hoshino").await;
    b.wait_for(Locator::Id("real-popularity")).await;
    // Every control a thumb can hit is at least 44 px tall.
    let small = c
        .execute(
            "const small = [];
             for (const e of document.querySelectorAll('button, select, input:not([type=hidden]):not([type=checkbox]), summary, header nav a, .field.check label')) {
               const h = e.getBoundingClientRect().height;
               if (h > 0 && h < 44) small.push((e.id || e.tagName) + ' ' + h);
             }
             return small;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(small, json!([]), "tap targets under 44 px on a phone");
    // The similar tracks and the explanation fit: nothing cut off or scrolled within.
    let cut = c
        .execute(
            "const t = document.getElementById('similar');
             const names = Array.from(document.querySelectorAll('ol.waterfall .name'))
               .filter(n => n.scrollWidth > n.clientWidth + 1).length;
             return [t ? t.scrollWidth <= t.parentElement.clientWidth : null, names];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        cut,
        json!([true, 0]),
        "similar table fits, no clipped names"
    );
    // A what-if curve opened on a phone: its large chart's text is readable and whole.
    c.execute(
        "const s = document.querySelector('.curve-slot[data-feature=danceability] summary');
         s.scrollIntoView(); s.click();",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        b.unreadable_text().await,
        json!([]),
        "the what-if chart on a phone"
    );
    b.shot("phone-what-if-open.png").await;
    let bar = b.text("div.summary-bar").await;
    let energy = c.find(Locator::Id("energy")).await.unwrap();
    c.execute("document.getElementById('energy').scrollIntoView()", vec![])
        .await
        .unwrap();
    energy.send_keys(&"\u{E014}".repeat(30)).await.unwrap();
    b.answer_updated(None, "no live update on a phone").await;
    assert_ne!(b.text("div.summary-bar").await, bar);
    assert_eq!(b.in_view("div.summary-bar").await, json!(true));
    b.shot("phone-slider-moved.png").await;
}

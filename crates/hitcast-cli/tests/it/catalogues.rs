//! Catalogues other than the shipped one: `hitcast run` on another file, and a model scoring
//! the external sample with and without its genres.

use std::path::Path;

use serde_json::Value;

use super::{dataset, external, hitcast, hitcast_in, predict, scratch, serve, stderr, stdout_json};

#[test]
fn run_on_another_catalogue_prints_a_serve_line_that_searches_it() {
    let Some(external) = external() else {
        return;
    };
    let dir = scratch("run-external");
    let map = "track_popularity=popularity,track_artist=artists,track_album_name=album_name,playlist_genre=track_genre";
    let o = hitcast_in(
        &dir,
        &[
            "run",
            "--quick",
            "--data",
            external.to_str().unwrap(),
            "--map",
            map,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    let line = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("hitcast serve "))
        .unwrap_or_else(|| panic!("no serve line in {said}"));
    assert!(line.ends_with(&format!("--map {map}")), "{line}");
    // As printed (run from the run's directory), real-track search included.
    let args: Vec<String> = line
        .split_whitespace()
        .map(|a| match a.starts_with("runs/") {
            true => dir.join(a).display().to_string(),
            false => a.to_owned(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = serve::Server::start_args(&args);
    server.wait_for_catalogue();
    let (status, found) = server.get("/api/v1/tracks?q=ed+sheeran");
    assert_eq!(status, 200, "{found}");
    let found: Value = serde_json::from_str(&found).unwrap();
    assert!(found["total"].as_u64().unwrap() > 0, "{found}");
}

#[test]
fn a_model_scores_another_catalogue_without_its_training_tracks_and_with_genres_or_without() {
    let Some(external) = external() else {
        return;
    };
    let external = external.to_str().unwrap();
    let map = "track_popularity=popularity,track_artist=artists,track_album_name=album_name,playlist_genre=track_genre";
    let model = serve::model();
    let evaluate = |extra: &[&str]| {
        let mut args = vec![
            "model",
            "evaluate",
            model.to_str().unwrap(),
            "--data",
            external,
        ];
        args.extend(extra);
        hitcast(&args)
    };
    let o = evaluate(&["--map", map, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = stdout_json(&o);
    // 32,833 rows, one per track_id; 1,964 share an id with the training data, 288 more its
    // exact audio values, and they are left out.
    assert_eq!(report["tracks"], 28356);
    assert_eq!(report["known"]["by_id"], 1964);
    assert_eq!(report["known"]["by_audio"], 288);
    assert_eq!(report["measured"], 28356 - 1964 - 288);
    assert!(
        report["known"]["popular_rate"].as_f64().unwrap() > 0.3,
        "{report}"
    );
    let fits = report["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 2);
    assert_eq!(fits[0]["genres"], "use");
    assert_eq!(fits[1]["genres"], "ignore");
    for f in fits {
        assert_eq!(f["tracks"], 26104);
        let rate = f["popular_rate"].as_f64().unwrap();
        assert!((rate - 0.050).abs() < 0.001, "{f}");
        let roc = f["roc_auc"].as_f64().unwrap();
        assert!(roc > 0.6 && roc < 0.8, "{f}");
    }
    // Every genre of the sample is one the model learned; ignoring them, the companion answers.
    assert_eq!(fits[0]["without_genres"], 0.0);
    assert_eq!(fits[1]["without_genres"], 1.0);
    // The known tracks make every figure look better.
    let with = report["with_known"].as_array().unwrap();
    for (clean, all) in fits.iter().zip(with) {
        assert_eq!(all["tracks"], 28356);
        assert!(all["pr_auc"].as_f64().unwrap() > clean["pr_auc"].as_f64().unwrap());
    }
    // The genres are what moved most. The columns the sample lacks, each track given their
    // default, are not counted as moved.
    let drift = report["drift"]["columns"].as_array().unwrap();
    assert_eq!(drift[0]["column"], "genres");
    assert!(drift[0]["psi"].as_f64().unwrap() > 1.0);
    for absent in ["explicit", "time_signature"] {
        assert!(
            drift.iter().all(|c| c["column"] != absent),
            "{absent}: {drift:?}"
        );
    }
    // Kept, they are measured with the rest.
    let kept = stdout_json(&evaluate(&["--map", map, "--json", "--keep-known"]));
    assert_eq!(kept["fits"][0]["tracks"], 28356);
    assert!((kept["fits"][0]["popular_rate"].as_f64().unwrap() - 2054.0 / 28356.0).abs() < 1e-12);

    // Ignoring genres, the model answers as the same families trained without genre columns
    // on the same rows (--features no-genres), to the last digit.
    let dir = scratch("external-twin");
    let twin_model = dir.join("no-genres.hitcast");
    let o = hitcast(&[
        "train",
        "--data",
        dataset().to_str().unwrap(),
        "--model",
        "gbm",
        "--regressor",
        "linear",
        "--strategy",
        "undersample",
        "--setup",
        "raw",
        "--features",
        "no-genres",
        "--out",
        twin_model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let input = Path::new(external);
    // Every column but the last, which names the model that answered.
    let answers = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_owned())
            .collect()
    };
    let ignoring = {
        let out = dir.join("ignore.csv");
        let o = predict(model, input, &out, &["--map", map, "--genres", "ignore"]);
        assert!(o.status.success(), "{}", stderr(&o));
        // Genres not read are not said to have moved, nor is ignoring them advised again.
        let said = stderr(&o);
        let moved = said
            .lines()
            .find(|l| l.contains("moved a lot"))
            .unwrap_or_default();
        assert!(moved.contains(" in acousticness (PSI "), "{said}");
        assert!(!moved.contains("genres"), "{said}");
        let text = std::fs::read_to_string(out).unwrap();
        assert!(text.lines().skip(1).all(|l| l.ends_with(",no-genres")));
        answers(text)
    };
    let twin = {
        let out = dir.join("twin.csv");
        let o = predict(&twin_model, input, &out, &["--map", map]);
        assert!(o.status.success(), "{}", stderr(&o));
        answers(std::fs::read_to_string(out).unwrap())
    };
    assert_eq!(ignoring, twin);

    // The text names the better use for this catalogue, from the figures above.
    let o = evaluate(&["--map", map]);
    let text = String::from_utf8(o.stdout).unwrap();
    let (using, ignoring) = (
        fits[0]["pr_auc"].as_f64().unwrap(),
        fits[1]["pr_auc"].as_f64().unwrap(),
    );
    // Three decimals, or as many more as tell the two apart.
    let d = (3..=6)
        .find(|&d| format!("{using:.d$}") != format!("{ignoring:.d$}"))
        .unwrap_or(6);
    let verdict = if ignoring > using {
        format!("Ignoring genres ranks this catalogue's popular tracks better (PR-AUC {ignoring:.d$} against {using:.d$})")
    } else {
        format!("Reading genres ranks this catalogue's popular tracks better (PR-AUC {using:.d$} against {ignoring:.d$})")
    };
    assert!(text.contains(&verdict), "{text}");
    for said in [
        "28,356 tracks (32,833 rows, one per track_id), 7.2% popular",
        "known         2,252 tracks the model's training data holds (1,964 by track_id, 288 more by their exact audio)",
        "measured      26,104 tracks, 5.0% popular",
        "moved a lot genres (",
    ] {
        assert!(text.contains(said), "{said} in {text}");
    }

    // Adapting the prior is refused for this sample, with the reason, and changes nothing.
    let o = evaluate(&["--map", map, "--adapt-prior", "--json"]);
    let adapted = stdout_json(&o);
    for (outcome, fit) in adapted["priors"].as_array().unwrap().iter().zip(fits) {
        let reason = outcome["refused"].as_str().unwrap();
        assert!(
            reason.starts_with(
                "these tracks differ from the training tracks in more than their share of hits"
            ),
            "{reason}"
        );
        let same = adapted["fits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["genres"] == fit["genres"])
            .unwrap();
        assert_eq!(same["ece"], fit["ece"]);
    }

    // Without popularity: the drift, and advice from the genres' drift alone.
    let o = evaluate(&[
        "--map",
        "track_artist=artists,track_album_name=album_name,playlist_genre=track_genre",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("no popularity: the drift of its inputs, not the model's figures"),
        "{text}"
    );
    assert!(
        text.contains("Its genres moved a lot from the training tracks' (PSI ")
            && text.contains("Score it with --genres ignore."),
        "{text}"
    );
}

#[test]
fn another_exports_column_names_are_offered_as_one_map() {
    // The external sample's spellings, the user having mapped one of them already.
    let dir = scratch("offered-map");
    let header = super::HEADER
        .replace("popularity,", "track_popularity,")
        .replace("artists,", "track_artist,")
        .replace("album_name,", "track_album_name,")
        .replace("track_genre", "playlist_genre");
    let input = dir.join("tracks.csv");
    std::fs::write(&input, format!("{header}\n{}\n", super::ROW)).unwrap();
    let o = predict(
        serve::model(),
        &input,
        &dir.join("out.csv"),
        &["--map", "playlist_genre=track_genre"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    assert!(
        said.contains(
            "column \"artists\" is absent: using empty (each track then counts one artist); \
             the header's \"track_artist\" may be it: --map track_artist=artists"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "to read them all: --map playlist_genre=track_genre,track_artist=artists,\
             track_album_name=album_name,track_popularity=popularity\n"
        ),
        "{said}"
    );
}

//! Songs from their audio files: `hitcast features`, and `hitcast predict --audio` answered by
//! the from-audio model.

use serde_json::Value;

use super::{click_song, hitcast, scratch, serve, stderr, stdout_json};

#[test]
fn features_measures_songs_into_the_dataset_s_columns_and_names_a_file_it_cannot_read() {
    let dir = scratch("features");
    let (song, other) = (dir.join("song.wav"), dir.join("other.wav"));
    click_song(&song, 128.0, 12.0);
    click_song(&other, 96.0, 8.0);
    let bad = dir.join("notes.mp3");
    std::fs::write(&bad, "not audio").unwrap();
    let o = hitcast(&[
        "features",
        song.to_str().unwrap(),
        other.to_str().unwrap(),
        "--genre",
        "pop",
        "--artists",
        "Me",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "file,track_id,artists,album_name,track_name,duration_ms,explicit,danceability,energy,\
         key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,\
         time_signature,track_genre,tempo_confidence,key_confidence"
    );
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[0], song.to_str().unwrap());
    assert_eq!(
        (cells[2], cells[4], cells[5], cells[6]),
        ("Me", "song", "12000", "false")
    );
    // The seven learned columns are empty; A minor; 128 BPM; 4 beats a bar; pop.
    for i in [7, 8, 12, 13, 14, 15, 16] {
        assert_eq!(cells[i], "", "column {i}");
    }
    assert_eq!((cells[9], cells[11]), ("9", "0"));
    let tempo: f64 = cells[17].parse().unwrap();
    assert!((tempo - 128.0).abs() < 2.0, "{tempo}");
    assert_eq!((cells[18], cells[19]), ("4", "pop"));
    let tempo: f64 = lines[2].split(',').nth(17).unwrap().parse().unwrap();
    assert!((tempo - 96.0).abs() < 2.0, "{tempo}");
    // JSON: the same numbers, the learned columns null.
    let o = hitcast(&["features", song.to_str().unwrap(), "--json"]);
    let rows = stdout_json(&o);
    assert_eq!(rows[0]["key"], 9);
    assert_eq!(rows[0]["danceability"], Value::Null);
    // A file that is not audio: named, exit 1; skipped with --on-error skip.
    let o = hitcast(&["features", bad.to_str().unwrap(), song.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim_end(),
        format!(
            "error: {}: not an audio file hitcast can read; hitcast reads WAV, AIFF, FLAC, MP3, Ogg or WebM (Vorbis or Opus), or M4A (AAC or ALAC)",
            bad.display()
        )
    );
    // An empty file and a folder say so.
    let empty = dir.join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    for (path, what) in [
        (empty.as_path(), "it is empty"),
        (dir.path(), "it is a directory"),
    ] {
        let o = hitcast(&["features", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).starts_with(&format!("error: {}: {what}; ", path.display())),
            "{}",
            stderr(&o)
        );
    }
    // With --on-error skip, a batch of which nothing is left is refused all the same.
    let o = hitcast(&["features", bad.to_str().unwrap(), "--on-error", "skip"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "every song failed; first: {}: not an audio file",
            bad.display()
        )),
        "{}",
        stderr(&o)
    );
    let out = dir.join("rows.csv");
    let o = hitcast(&[
        "features",
        bad.to_str().unwrap(),
        song.to_str().unwrap(),
        "--on-error",
        "skip",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped "), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 2);
}

#[test]
fn a_song_is_measured_and_scored_by_the_from_audio_model_in_one_step_or_two() {
    let dir = scratch("predict-audio");
    let song = dir.join("demo.wav");
    click_song(&song, 120.0, 40.0);
    let model = serve::model();
    // One step: measured and scored, the answers to standard output.
    let o = hitcast(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
        "--keep",
        "track_name,track_genre",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rows answered by: from-audio model 1 (rows measured from audio)"),
        "{}",
        stderr(&o)
    );
    let one = String::from_utf8(o.stdout).unwrap();
    let line = one.lines().nth(1).unwrap();
    assert!(
        line.starts_with(',') && line.ends_with(",from-audio,demo,pop"),
        "{one}"
    );
    // Without --keep, each answer says which song it is and what was measured.
    let o = hitcast(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "track_id,popularity_probability,flagged,lift,predicted_popularity,popularity_low,\
         popularity_high,warnings,model,track_name,duration_ms,loudness,tempo,key,mode,\
         time_signature,track_genre",
    );
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cells[8..11], ["from-audio", "demo", "40000"], "{text}");
    let tempo: f64 = cells[12].parse().unwrap();
    assert!((tempo - 120.0).abs() < 2.4, "{text}");
    assert_eq!(cells[16], "pop");
    // Two steps: the features file (CSV, or Parquet with the learned columns null), then
    // predict on it: the same answer.
    for name in ["features.csv", "features.parquet"] {
        let features = dir.join(name);
        let o = hitcast(&[
            "features",
            song.to_str().unwrap(),
            "--genre",
            "pop",
            "--output",
            features.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            hitcast_arrow::is_parquet(&features),
            name.ends_with(".parquet"),
            "{name} is written in the format its name says"
        );
        let o = hitcast(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--input",
            features.to_str().unwrap(),
            "--keep",
            "track_name,track_genre",
            "--output",
            "-",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(String::from_utf8(o.stdout).unwrap(), one, "{name}");
    }
    // A file of measured songs without the learned columns at all: they cannot be kept.
    let text = std::fs::read_to_string(dir.join("features.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let kept: Vec<usize> = (0..rows[0].len())
        .filter(|&i| {
            [
                "track_name",
                "duration_ms",
                "loudness",
                "tempo",
                "key",
                "mode",
                "track_genre",
            ]
            .contains(&rows[0][i])
        })
        .collect();
    let measured: String = rows
        .iter()
        .map(|r| kept.iter().map(|&i| r[i]).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    let file = dir.join("measured.csv");
    std::fs::write(&file, measured).unwrap();
    let o = hitcast(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        file.to_str().unwrap(),
        "--keep",
        "track_name,energy",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).ends_with("error: --keep energy: the input has no energy column\n"),
        "{}",
        stderr(&o)
    );
    // Its explanation comes from the same model.
    let o = hitcast(&[
        "explain",
        "--model",
        model.to_str().unwrap(),
        "--audio",
        song.to_str().unwrap(),
        "--genre",
        "pop",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("(the from-audio model, which flags from"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

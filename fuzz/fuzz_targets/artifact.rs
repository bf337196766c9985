//! The model file loader on arbitrary bytes. Under `--cfg fuzzing` the loader skips its
//! checksum, so the fuzzer reaches the metadata and payload decoders (a checksum is no defence:
//! anyone can write a file with a valid one). A file that loads must then score and explain a
//! track without panicking, or be refused by the predictor's structural checks.
#![no_main]

use hitcast::artifact::Artifact;
use hitcast::predictor::Predictor;
use hitcast_web::score::score;
use hitcast_web::track::TrackRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(artifact) = Artifact::from_bytes(data) else {
        return;
    };
    let Ok(predictor) = Predictor::new(artifact) else {
        return;
    };
    let track = serde_json::json!({
        "duration_ms": 230666, "danceability": 0.676, "energy": 0.461, "key": 1,
        "loudness": -6.746, "mode": 0, "speechiness": 0.143, "acousticness": 0.0322,
        "instrumentalness": 0.00000101, "liveness": 0.358, "valence": 0.715, "tempo": 87.917,
        "genres": ["acoustic"], "track_name": "Comedy (feat. X)", "artists": "Gen Hoshino"
    });
    if let Ok(track) = TrackRequest::from_json(&track, "") {
        let _ = score(&predictor, &[track], true, 4);
    }
});

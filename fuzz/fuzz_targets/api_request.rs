//! The API's request parsing on arbitrary bytes: a JSON body (one track or a batch) and a form
//! body, as `POST /api/v1/predict` and `POST /predict` read them.
#![no_main]

use hitcast_web::track::{read_batch, PredictBody, FormValues, TrackRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        match PredictBody::from_json(value) {
            Ok(PredictBody::One(track)) => {
                if let Ok(t) = TrackRequest::from_json(&track, "") {
                    // What the form shows must read back as the same track.
                    let back = TrackRequest::from_form(&FormValues::from_request(&t));
                    assert!(back.is_ok(), "{t:?} -> {back:?}");
                }
            }
            Ok(PredictBody::Many { items, .. }) => {
                let _ = read_batch(&items);
            }
            Err(_) => {}
        }
    }
    let _ = TrackRequest::from_form(&FormValues::parse(data));
});

//! The CSV reader on arbitrary bytes, under both bad-row policies, then the collapse of
//! duplicate tracks: errors are fine, panics are not.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use hitcast::data::{read_rows_from, OnError, ReadOptions, Tracks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (on_error, require_popularity) in [(OnError::Fail, true), (OnError::Skip, false)] {
        let options = ReadOptions {
            on_error,
            require_popularity,
            ..ReadOptions::labelled()
        };
        let source = Cursor::new(data.to_vec());
        if let Ok(loaded) = read_rows_from(source, Path::new("fuzz.csv"), &options) {
            let tracks = Tracks::collapse(loaded.rows);
            let _ = tracks.popularity();
        }
    }
});

//! The audio decoder and analysis on arbitrary bytes, as `POST /api/v1/predict/audio` and
//! `hitcast features` meet them. Whatever the bytes, `measure` returns an error or a measurement
//! that the predict API takes: finite numbers within the schema's domains.
#![no_main]

use hitcast_audio::decode::in_guarded_call;
use hitcast_audio::{measure, Song, Source, MEASURED_COLUMNS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // libfuzzer-sys's panic hook aborts on any panic, before it unwinds. `measure` turns a
        // panic inside its calls into a decoder (symphonia's, nanomp3's, opus-pure's) into an
        // error (this build checks overflow, and a crafted file overflows a decoder's
        // arithmetic), so those unwind to it; any other panic still aborts, with its message.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !in_guarded_call() {
                abort(info);
            }
        }));
    },
    |data: &[u8]| {
        // The first byte picks the extension hint, as a file name or a Content-Type would give it.
        let Some((&pick, bytes)) = data.split_first() else {
            return;
        };
        let hint = [
            None,
            Some("wav"),
            Some("mp3"),
            Some("flac"),
            Some("ogg"),
            Some("m4a"),
            Some("opus"),
            Some("webm"),
        ][usize::from(pick) % 8];
        let Ok(m) = measure(Source::Bytes(bytes.to_vec()), hint) else {
            return;
        };
        // The row it makes, as every surface scores it: each measured column within its domain.
        let row = m.row(0, &Song::default());
        for column in MEASURED_COLUMNS {
            let Some(i) = column.audio_index() else {
                continue;
            };
            let value = row.audio[i];
            assert!(
                column.rule().check(value).is_ok(),
                "{column} = {value} breaks its rule: {m:?}"
            );
        }
        assert!(m.mode <= 1 && matches!(m.time_signature, 3 | 4), "{m:?}");
        assert!((0.0..=1.0).contains(&m.tempo_confidence), "{m:?}");
        assert!(m.key_confidence.is_finite(), "{m:?}");
    }
);

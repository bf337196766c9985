"""The Python package against the CLI on real tracks, across frame kinds, errors and threads."""

import concurrent.futures
import os
import pathlib
import re
import warnings

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hitcast
from conftest import dataset, hitcast as cli

KEEP = ["track_name", "popularity", "explicit"]


@pytest.fixture(scope="module")
def model(model_path):
    return hitcast.load(str(model_path))


@pytest.fixture(scope="module")
def frame(tracks_csv):
    return pd.read_csv(tracks_csv)


def test_answers_equal_hitcast_predict_bit_for_bit(model, model_path, tracks_csv, frame, tmp_path):
    ours = model.predict(frame, keep=KEEP)
    # The CLI's Parquet output carries full precision: the same floats, bit for bit.
    out = tmp_path / "cli.parquet"
    cli("predict", "--model", str(model_path), "--input", str(tracks_csv), "--output", str(out),
        "--keep", ",".join(KEEP))
    theirs = pq.read_table(out).to_pandas()
    assert list(ours.columns) == list(hitcast.ANSWER_COLUMNS) + KEEP
    assert len(ours) == 2000
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    # And the CSV to its printed precision.
    out_csv = tmp_path / "cli.csv"
    cli("predict", "--model", str(model_path), "--input", str(tracks_csv), "--output", str(out_csv))
    printed = pd.read_csv(out_csv, dtype={"popularity_probability": str, "predicted_popularity": str})
    assert (ours.popularity_probability.map("{:.6f}".format) == printed.popularity_probability).all()
    assert (ours.predicted_popularity.map("{:.2f}".format) == printed.predicted_popularity).all()
    assert (ours.flagged.astype(int) == printed.flagged).all()


def test_pandas_polars_and_pyarrow_give_the_same_answers_in_their_own_kind(model, frame):
    from_pandas = model.predict(frame)
    assert isinstance(from_pandas, pd.DataFrame)
    from_polars = model.predict(pl.from_pandas(frame))
    assert isinstance(from_polars, pl.DataFrame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    from_table = model.predict(table)
    assert isinstance(from_table, pa.Table)
    reader = model.predict(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=300)))
    assert isinstance(reader, pa.RecordBatchReader)
    batch = model.predict(table.combine_chunks().to_batches()[0])
    assert isinstance(batch, pa.RecordBatch)
    expected = pa.Table.from_pandas(from_pandas, preserve_index=False)
    for other in (from_polars.to_arrow(), from_table, reader.read_all(), pa.table(batch)):
        got = other.cast(expected.schema)
        assert got.equals(expected)


def test_columns_are_renamed_and_popularity_and_ids_may_be_absent(model, frame):
    renamed = frame.drop(columns=["popularity", "track_id"]).rename(
        columns={"artists": "track_artist", "track_genre": "playlist_genre"}
    )
    with pytest.warns(UserWarning, match='column "track_id" is absent: using empty ids'):
        answers = model.predict(
            renamed, columns={"track_artist": "artists", "playlist_genre": "track_genre"}
        )
    assert (answers.track_id == "").all()
    # Without their ids the tracks are new songs, answered by the new-song model: as the same
    # tracks with empty ids.
    assert (answers.model == "new-song").all()
    expected = model.predict(frame.assign(track_id=""))
    assert (answers.popularity_probability == expected.popularity_probability).all()
    assert (model.predict(frame).model == "main").all()


def test_bad_input_raises_value_error_naming_row_and_column(model, frame):
    bad = frame.head(10).copy()
    bad.loc[6, "tempo"] = 400.0
    with pytest.raises(ValueError, match=r'^tracks: row 7, column "tempo": expected a tempo from 0 to 300 BPM, got "400"$'):
        model.predict(bad)
    with pytest.warns(UserWarning, match=r"skipped 1 bad row\(s\); first: tracks: row 7"):
        skipped = model.predict(bad, on_error="skip")
    assert len(skipped) == 9
    missing = frame.head(3).copy()
    missing.loc[1, "energy"] = None
    with pytest.raises(ValueError, match=r'row 2, column "energy": missing value'):
        model.predict(missing)
    with pytest.raises(ValueError, match=r'missing required column\(s\) "danceability"'):
        model.predict(frame.drop(columns=["danceability"]))
    with pytest.raises(ValueError, match=r'keep: unknown column "bpm"'):
        model.predict(frame, keep=["bpm"])
    with pytest.raises(ValueError, match=r"keep: track_id is already the answers' first column"):
        model.predict(frame, keep=["track_id"])
    with pytest.raises(ValueError, match=r"keep: tempo is named twice"):
        model.predict(frame, keep=["tempo", "tempo"])
    with pytest.raises(ValueError, match=r"keep: the tracks have no popularity column"):
        model.predict(frame.drop(columns=["popularity"]), keep=["popularity"])
    with pytest.raises(ValueError, match=r'on_error="maybe"'):
        model.predict(frame, on_error="maybe")
    with pytest.raises(ValueError, match=r"columns: "):
        model.predict(frame, columns={"x": "not_a_column"})
    with pytest.raises(TypeError, match=r"expected a pandas or polars DataFrame"):
        model.predict([1, 2, 3])
    with pytest.raises(FileNotFoundError, match=r"^/nonexistent/model.hitcast: cannot read the model file: No such file"):
        hitcast.load("/nonexistent/model.hitcast")
    with pytest.raises(OSError, match=r"conftest.py: not a hitcast model file"):
        hitcast.load(pathlib.Path(__file__).with_name("conftest.py"))
    with pytest.raises(ValueError, match=r'^genres="skip": expected "use" or "ignore"$'):
        hitcast.load("/nonexistent/model.hitcast", genres="skip")


def test_explain_gives_ranked_contributions_that_move_the_log_odds(model, frame):
    x = model.explain(frame.head(20), top=3)
    assert list(x.columns) == [
        "track_id", "popularity_probability", "base_log_odds", "log_odds", "direction", "rank",
        "feature", "value", "value_text", "read_as", "contribution",
    ]
    # Raw setup, every input measured: the model read each track's own value.
    assert x.read_as.isna().all()
    # The value is a number for every input but the genres: the track's own (raw setup, so
    # only the z-scores are undone).
    assert x.value.dtype == "float64"
    genre = x.feature == "genre"
    assert x[genre].value.isna().all() and x[~genre].value.notna().all()
    first_track = frame.iloc[0]
    for _, r in x[(x.track_id == first_track.track_id) & ~genre].iterrows():
        if r.feature in frame.columns:
            assert abs(r.value - float(first_track[r.feature])) < 1e-9 * max(1.0, abs(r.value)), r.feature
    assert x.groupby("track_id").size().max() <= 6
    assert (x[x.direction == "up"].contribution > 0).all()
    assert (x[x.direction == "down"].contribution < 0).all()
    first = x[(x.track_id == frame.track_id[0]) & (x.direction == "up")]
    assert list(first["rank"]) == list(range(1, len(first) + 1))
    assert (first.contribution.diff().dropna() <= 0).all(), "largest first"
    answers = model.predict(frame.head(20))
    probability = dict(zip(answers.track_id, answers.popularity_probability))
    assert all(abs(probability[t] - p) < 1e-12 for t, p in zip(x.track_id, x.popularity_probability))
    # A count under 1 is a ValueError, negative ones included (not pyo3's OverflowError).
    for top in (0, -1):
        with pytest.raises(ValueError, match="top and samples must be at least 1"):
            model.explain(frame.head(2), top=top)


def test_score_false_gives_the_same_chances_without_the_score_columns(model, frame):
    full = model.predict(frame, keep=KEEP)
    chances = model.predict(frame, keep=KEEP, score=False)
    score_columns = ["predicted_popularity", "popularity_low", "popularity_high"]
    assert list(chances.columns) == [c for c in full.columns if c not in score_columns]
    pd.testing.assert_frame_equal(chances, full.drop(columns=score_columns), check_exact=True)
    schema = hitcast.answers_schema(KEEP, score=False)
    assert pa.Table.from_pandas(chances, preserve_index=False).cast(schema).schema == schema
    # One name is one column, as predict's keep= reads it, not its letters.
    one = hitcast.answers_schema("track_name", score=False)
    assert one.names == [c for c in schema.names if c not in ("popularity", "explicit")]
    assert len(model.predict(frame.head(0), score=False)) == 0


def test_a_large_frame_names_its_first_bad_row_and_skips_each_bad_row(model, frame):
    # 20,000 rows are read in slices of 8,192 on every core: the error is still the first bad
    # row's, whichever slice is read first, and skipping drops exactly the bad rows.
    big = pd.concat([frame] * 10, ignore_index=True)
    for i in (19_000, 9_000, 15_000):
        big.loc[i, "tempo"] = 400.0
    with pytest.raises(ValueError, match=r'^tracks: row 9001, column "tempo"'):
        model.predict(big)
    with pytest.warns(UserWarning, match=r"skipped 3 bad row\(s\)"):
        skipped = model.predict(big, on_error="skip", keep=["tempo"])
    assert len(skipped) == 20_000 - 3
    assert (skipped.tempo <= 300).all()
    # The answers keep the input's labels: the bad rows' are the ones missing.
    good = big.drop(index=[9_000, 15_000, 19_000])
    pd.testing.assert_frame_equal(skipped, model.predict(good, keep=["tempo"]), check_exact=True)


def test_info_is_the_metadata(model, model_path):
    info = model.info
    assert info["classifier"]["family"] == "boosting"
    assert 0 < info["decision_threshold"] < 1
    assert info["label_threshold"] == 71
    assert model.path == str(model_path)
    assert "boosting classifier" in repr(model)


def test_one_model_scores_from_many_threads_with_the_same_answers(model, frame):
    expected = model.predict(frame)
    parts = [frame.iloc[i::4] for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(model.predict, parts))
    for part, got in zip(parts, results):
        want = expected.loc[part.index]
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@pytest.fixture(scope="module")
def hits_playlist(tmp_path_factory):
    """Every fourth of fold 0's TEST tracks (docs/evaluation.md: the primary artist's hash mod 5),
    their genres joined, each popular one four times under new ids: a catalogue that differs
    from the training data in its share of hits only. Written as CSV for the CLI too."""
    from conftest import dataset

    rows = pd.read_csv(dataset(), index_col=0)
    genres = rows.groupby("track_id").track_genre.agg(";".join)
    tracks = rows.drop_duplicates("track_id").set_index("track_id")
    tracks["track_genre"] = genres
    tracks = tracks.reset_index()
    primary = tracks.artists.fillna("").str.split(";").str[0].str.strip().str.lower()
    test = tracks[primary.map(lambda a: fnv1a64(a) % 5 == 0)].iloc[::4]
    popular = test[test.popularity > 71]
    copies = [popular.assign(track_id=popular.track_id + f"-{k}") for k in range(1, 4)]
    playlist = pd.concat([test, *copies], ignore_index=True)
    path = tmp_path_factory.mktemp("playlist") / "playlist.csv"
    playlist.to_csv(path, index=False)
    return playlist, path


def test_adapt_prior_estimates_a_shifted_base_rate_and_moves_every_answer_as_the_cli(model, model_path, hits_playlist, tmp_path):
    playlist, path = hits_playlist
    rate = (playlist.popularity > 71).mean()
    estimate = model.estimate_prior(playlist)
    assert abs(estimate["estimate"] - rate) < 0.02, (estimate, rate)
    assert estimate["standard_error"] > 0
    plain = model.predict(playlist)
    adapted = model.predict(playlist, adapt_prior=True)
    assert (adapted.popularity_probability > plain.popularity_probability).all()
    assert abs(adapted.popularity_probability.mean() - rate) < abs(plain.popularity_probability.mean() - rate)
    out = tmp_path / "adapted.parquet"
    cli("predict", "--model", str(model_path), "--input", str(path), "--output", str(out), "--adapt-prior")
    pd.testing.assert_frame_equal(adapted, pq.read_table(out).to_pandas(), check_exact=True)


def test_adapt_prior_refuses_tracks_that_differ_in_more_and_says_why(model, frame):
    # The dataset's first rows: one genre each, two genres in all, far from the training mix.
    with pytest.warns(UserWarning, match="differ from the training tracks in more than their share of hits"):
        refused = model.predict(frame, adapt_prior=True)
    pd.testing.assert_frame_equal(refused, model.predict(frame), check_exact=True)
    with pytest.raises(hitcast.PriorRefused, match=r"too few tracks \(20\)"):
        model.estimate_prior(frame.head(20))
    assert issubclass(hitcast.PriorRefused, ValueError)
    # A bad row is not a refused estimate: it is raised, not turned into a warning.
    bad = frame.copy()
    bad.loc[6, "tempo"] = 400.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r'row 7, column "tempo"'):
            model.predict(bad, adapt_prior=True)


def click_song(path, bpm=120.0, seconds=30.0, rate=22050):
    """A mono 16-bit WAV of clicks at `bpm` over an A minor chord."""
    import math
    import struct
    import wave

    n = int(seconds * rate)
    samples = [0.0] * n
    at = 0.05
    while at < seconds:
        start = int(at * rate)
        for i in range(int(0.06 * rate)):
            if start + i < n:
                t = i / rate
                samples[start + i] += 0.5 * math.exp(-t * 60) * math.sin(2 * math.pi * 1200 * t)
        at += 60.0 / bpm
    for midi in (57, 60, 64):
        hz = 440 * 2 ** ((midi - 69) / 12)
        for i in range(n):
            samples[i] += 0.05 * math.sin(2 * math.pi * hz * i / rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in samples))


def test_predict_audio_measures_and_scores_a_song_as_the_cli(model, model_path, tmp_path):
    song = tmp_path / "demo.wav"
    click_song(song)
    answers = model.predict_audio([song], genres=["pop"], artists="Me")
    # One path and one genre, given as strings, are one item each (not their letters).
    assert model.predict_audio(song, genres="pop", artists="Me").equals(answers)
    row = answers.to_pylist()[0]
    assert row["model"] == "from-audio"
    assert row["track_name"] == "demo" and row["track_genre"] == "pop"
    assert abs(row["tempo"] - 120.0) < 2.0 and row["key"] == 9 and row["mode"] == 0
    assert row["duration_ms"] == 30000.0
    # Codes are whole numbers, as `hitcast features` writes them.
    for code in ("key", "mode", "time_signature"):
        assert answers.schema.field(code).type == pa.int64()
    with pytest.warns(UserWarning, match=r"genres the model does not know \(not read\): vaporwavez \(1\)"):
        model.predict_audio([song], genres=["vaporwavez"])
    # The command line's answers to a song keep the same columns by default.
    out = tmp_path / "cli.parquet"
    cli("predict", "--model", str(model_path), "--audio", str(song), "--genre", "pop",
        "--artists", "Me", "--output", str(out))
    assert pq.read_table(out).equals(answers)
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match="notes.mp3: not an audio file hitcast can read"):
        model.predict_audio([bad])


def _without_timings(results):
    """A results.json's rows without their timings (the one thing two runs may differ in)."""
    return [{k: v for k, v in row.items() if not k.endswith("_seconds")} for row in results["rows"]]


def test_run_is_hitcast_run_in_process_with_the_same_results(tmp_path, monkeypatch):
    import json

    # Every fifth track of the dataset: every genre, a tenth of the time of the whole file.
    sample = tmp_path / "sample.csv"
    pd.read_csv(dataset()).iloc[::5].to_csv(sample, index=False)
    # Without `out`, a quick job writes to runs/quick, as the CLI's.
    monkeypatch.chdir(tmp_path)
    summary = hitcast.run(sample, quick=True, progress=False)
    py = tmp_path / "runs" / "quick"
    cli("run", "--quick", "--data", str(sample), "--out", str(tmp_path / "cli"))

    for grid in ("grid", "grid-reference"):
        ours = json.loads((py / grid / "results.json").read_text())
        theirs = json.loads((tmp_path / "cli" / grid / "results.json").read_text())
        assert _without_timings(ours) == _without_timings(theirs)
    assert summary["model"] == os.path.join("runs", "quick", "model.hitcast")
    assert summary["classifier"].startswith("classification/raw/")
    model = hitcast.load(summary["model"])
    assert model.info["test_classification"] == summary["test_classification"]
    assert hitcast.load(str(tmp_path / "cli" / "model.hitcast")).info["test_classification"] == (
        summary["test_classification"]
    )
    assert (py / "report" / "index.html").is_file()
    assert (py / "eda" / "eda.json").is_file()

    # The same tracks as Parquet (read through pyarrow): the same grid and model.
    parquet = tmp_path / "sample.parquet"
    pd.read_csv(sample).to_parquet(parquet)
    from_parquet = hitcast.run(parquet, tmp_path / "parquet", quick=True, progress=False)
    for grid in ("grid", "grid-reference"):
        ours = json.loads((tmp_path / "parquet" / grid / "results.json").read_text())
        theirs = json.loads((py / grid / "results.json").read_text())
        assert _without_timings(ours) == _without_timings(theirs)
    assert from_parquet["test_classification"] == summary["test_classification"]


def test_run_refuses_unlabelled_data_and_leaves_the_old_results(tmp_path, tracks_csv):
    out = tmp_path / "out"
    (out / "grid").mkdir(parents=True)  # an earlier run's
    (out / "grid" / "results.json").write_text("previous results")
    unlabelled = tmp_path / "unlabelled.csv"
    pd.read_csv(tracks_csv).drop(columns=["popularity"]).to_csv(unlabelled, index=False)
    with pytest.raises(ValueError, match="popularity"):
        hitcast.run(unlabelled, out, quick=True, progress=False)
    assert (out / "grid" / "results.json").read_text() == "previous results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "unlabelled.csv"]


def test_run_names_a_bad_parquet_cell_by_file_row_and_column(tmp_path, tracks_csv):
    bad = pd.read_csv(tracks_csv)
    bad.loc[41, "energy"] = 1.5
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path)
    with pytest.raises(ValueError, match=r'bad\.parquet: row 42, column "energy": expected a number from 0 to 1, got "1\.5"'):
        hitcast.run(path, tmp_path / "out", quick=True, progress=False)
    assert not (tmp_path / "out").exists()


def test_pandas_answers_keep_the_index_and_skipped_rows_and_defaults_are_warned(model, frame):
    part = frame[frame.popularity > 50]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        answers = model.predict(part, keep="track_name")
    assert list(answers.index) == list(part.index)
    # Put beside the frame, each answer lands on its own track's row.
    joined = pd.concat([part[["track_id"]], answers[["track_id"]].add_prefix("answer_")], axis=1)
    assert len(joined) == len(part) and (joined.track_id == joined.answer_track_id).all()

    bad = part.copy()
    second, fifth = bad.index[1], bad.index[4]
    bad.loc[second, "energy"] = 1.5
    bad.loc[fifth, "tempo"] = -1.0
    with pytest.warns(UserWarning, match=r'skipped 2 bad row\(s\); first: tracks: row 2, column "energy"'):
        answers = model.predict(bad, on_error="skip")
    assert list(answers.index) == [i for i in part.index if i not in (second, fifth)]

    with pytest.warns(UserWarning, match='column "track_genre" is absent: using no genre'):
        answers = model.predict(part.drop(columns=["track_genre"]))
    assert set(answers.model) == {"no-genres"}
    # Another export's name for it: the fix in Python's words too.
    renamed = part.rename(columns={"track_genre": "playlist_genre"})
    fix = '--map playlist_genre=track_genre, or columns={"playlist_genre": "track_genre"} in Python'
    with pytest.warns(UserWarning, match=re.escape(fix)):
        model.predict(renamed)

    explained = model.explain(part.iloc[:3], top=2)
    assert list(explained.index.unique()) == list(part.index[:3])
    for label, rows in explained.groupby(level=0):
        assert (rows.track_id == part.track_id[label]).all()


def test_a_nan_is_a_missing_value_in_every_frame_kind(model, frame):
    learned = ["danceability", "energy", "speechiness", "acousticness", "instrumentalness",
               "liveness", "valence"]
    measured = frame.head(50).copy()
    measured[learned] = float("nan")
    expected = model.predict(measured)
    assert set(expected.model) == {"from-audio"}
    polars_nan = pl.from_pandas(measured, nan_to_null=False)
    assert polars_nan["energy"].is_nan().all()
    assert model.predict(polars_nan).to_pandas().equals(expected)


def test_a_column_hitcast_does_not_read_may_hold_anything(model, frame):
    mixed = frame.head(10).copy()
    mixed["notes"] = [1, "a"] * 5
    assert model.predict(mixed).equals(model.predict(frame.head(10)))
    # Its renamed columns are read too.
    renamed = mixed.rename(columns={"track_genre": "playlist_genre"})
    answers = model.predict(renamed, columns={"playlist_genre": "track_genre"})
    assert answers.equals(model.predict(frame.head(10)))
    mixed["track_name"] = mixed["track_name"].astype(object)
    mixed.loc[3, "track_name"] = 5
    with pytest.raises(ValueError, match="row 4, track_name: 5 is a number where the rows above hold text"):
        model.predict(mixed)


def test_other_inputs_are_taken_or_refused_with_what_to_do(model, frame, tracks_csv):
    lazy = pl.from_pandas(frame.head(30)).lazy()
    answers = model.predict(lazy)
    assert isinstance(answers, pl.DataFrame)
    assert answers.equals(model.predict(pl.from_pandas(frame.head(30))))
    with pytest.raises(TypeError, match=r"got the path .*tracks\.csv'?: read it first"):
        model.predict(str(tracks_csv))
    with pytest.raises(TypeError, match="read it first"):
        model.predict(tracks_csv)


def test_unknown_genres_are_warned_once_with_their_counts(model, frame):
    part = frame.head(12).copy()
    part.loc[part.index[:3], "track_genre"] = "vaporwavez"
    with pytest.warns(UserWarning, match=r"genres the model does not know \(not read\): vaporwavez \(3\)$"):
        answers = model.predict(part)
    assert answers.warnings.str.contains("track_genre").sum() == 3
    with pytest.warns(UserWarning, match=r"vaporwavez \(3\)"):
        model.explain(part, top=1)


def test_adapt_prior_reads_a_one_shot_stream_once(model, hits_playlist):
    class Once:
        """A stream that can be read once, as a nanoarrow or database cursor's."""

        def __init__(self, reader):
            self.reader = reader

        def __arrow_c_stream__(self, requested_schema=None):
            return self.reader.__arrow_c_stream__(requested_schema)

    playlist, _ = hits_playlist
    table = pa.Table.from_pandas(playlist, preserve_index=False)
    answers = model.predict(Once(table.to_reader()), adapt_prior=True)
    assert isinstance(answers, pa.Table), "another Arrow object's answers are a pyarrow Table"
    answers = answers.to_pandas()
    pd.testing.assert_frame_equal(answers, model.predict(playlist, adapt_prior=True), check_exact=True)


def test_a_model_pickles_as_its_file_and_options(model, model_path, frame):
    import pickle

    again = pickle.loads(pickle.dumps(model))
    assert again.path == model.path
    assert again.predict(frame.head(20)).equals(model.predict(frame.head(20)))
    ignoring = pickle.loads(pickle.dumps(hitcast.load(str(model_path), genres="ignore")))
    assert "genres='ignore'" in repr(ignoring)
    assert set(ignoring.predict(frame.head(20)).model) == {"no-genres"}


def test_run_takes_a_path_not_a_frame(frame, tmp_path):
    with pytest.raises(TypeError, match="data: expected the path of a CSV, CSV.gz or Parquet file, got DataFrame"):
        hitcast.run(frame, tmp_path / "out", quick=True, progress=False)
    with pytest.raises(FileNotFoundError, match="no-such.csv does not exist"):
        hitcast.run(tmp_path / "no-such.csv", tmp_path / "out", quick=True, progress=False)


def test_run_skips_bad_rows_of_a_file_with_its_own_separator(tmp_path):
    sample = pd.read_csv(dataset()).iloc[::5].reset_index(drop=True)
    sample.loc[7, "energy"] = 1.5
    path = tmp_path / "colons.csv"
    sample.to_csv(path, index=False, sep=":")
    # A separator no header is sniffed for is named, with the fix.
    with pytest.raises(ValueError, match="separated by ':'; pass --delimiter ':'"):
        hitcast.run(path, tmp_path / "out", quick=True, progress=False)
    with pytest.raises(ValueError, match=r'colons\.csv:9:10: column "energy"'):
        hitcast.run(path, tmp_path / "out", quick=True, progress=False, delimiter=":")
    with pytest.warns(UserWarning, match=r'skipped 1 bad row\(s\); first: .*colons\.csv:9:10: column "energy"'):
        summary = hitcast.run(path, tmp_path / "out", quick=True, progress=False,
                              on_error="skip", delimiter=":")
    assert pathlib.Path(summary["model"]).is_file()
    with pytest.raises(ValueError, match="delimiter: expected one character"):
        hitcast.run(path, tmp_path / "other", delimiter="||")
    with pytest.raises(ValueError, match='on_error="drop": expected "fail" or "skip"'):
        hitcast.run(path, tmp_path / "other", on_error="drop")


def test_run_refuses_an_out_with_files_of_its_own(tmp_path, tracks_csv):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="mine: a folder with files of its own"):
        hitcast.run(tracks_csv, out, quick=True, progress=False)
    assert (out / "notes.txt").read_text() == "mine"

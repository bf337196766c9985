"""LightGBM's side of bench/predict.sh: a classifier of the same shape as hitcast's (TREES trees of
depth <= 6, 139 feature columns built from the same file), timed on ROWS rows (the dataset
repeated) with 1 and 2 threads, and pandas + LightGBM end to end on the CSV.

    python3 bench/predict_lightgbm.py DATA CSV ROWS TREES RUNS

Prints lines of `name rows_per_second`.
"""

import statistics
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd

AUDIO = ["duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
         "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
         "time_signature"]


def features(df, genres, genre_mean):
    """139 columns, as hitcast's extended set: 14 audio, 114 genre indicators, 11 extras."""
    x = df[AUDIO].astype("float32")
    x["explicit"] = df["explicit"].astype(str).str.lower().eq("true").astype("float32")
    onehot = pd.get_dummies(pd.Categorical(df["track_genre"], categories=genres), dtype="float32")
    title = df["track_name"].fillna("").str.lower()
    extras = pd.DataFrame({
        "n_genres": np.ones(len(df), dtype="float32"),
        "n_artists": df["artists"].fillna("").str.count(";").add(1).astype("float32"),
        "title_feat": title.str.contains("feat", regex=False).astype("float32"),
        "title_remix": title.str.contains("remix", regex=False).astype("float32"),
        "title_live": title.str.contains("live", regex=False).astype("float32"),
        "title_remaster": title.str.contains("remaster", regex=False).astype("float32"),
        "title_acoustic": title.str.contains("acoustic", regex=False).astype("float32"),
        "title_length": title.str.len().astype("float32"),
        "title_is_album": (df["track_name"] == df["album_name"]).astype("float32"),
        "genre_popularity_mean": df["track_genre"].map(genre_mean).astype("float32"),
        "genre_popularity_max": df["track_genre"].map(genre_mean).astype("float32"),
    })
    return np.ascontiguousarray(
        np.hstack([x.to_numpy(), onehot.to_numpy(), extras.to_numpy()]), dtype=np.float32)


def median_rate(rows, runs, fn):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return rows / statistics.median(times)


def main():
    data, csv, rows, trees, runs = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    df = pd.read_csv(data)
    genres = sorted(df["track_genre"].unique())
    genre_mean = df.groupby("track_genre")["popularity"].mean()
    x = features(df, genres, genre_mean)
    y = (df["popularity"] > 71).astype(int).to_numpy()
    model = lgb.LGBMClassifier(n_estimators=trees, max_depth=6, num_leaves=63,
                               learning_rate=0.05, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.5, verbose=-1, random_state=42)
    model.fit(x, y)
    booster = model.booster_
    leaves = booster.dump_model()["tree_info"]
    mean_leaves = statistics.mean(t["num_leaves"] for t in leaves)
    print(f"model {len(leaves)} {mean_leaves:.1f} {x.shape[1]}")
    big = np.ascontiguousarray(np.resize(x, (rows, x.shape[1])))
    for threads in (1, 2):
        rate = median_rate(rows, runs, lambda: booster.predict(big, num_threads=threads))
        print(f"lightgbm_{threads} {rate:.0f}")

    def end_to_end():
        frame = pd.read_csv(csv)
        booster.predict(features(frame, genres, genre_mean), num_threads=2)

    print(f"pandas_lightgbm_csv {median_rate(rows, max(1, runs // 2), end_to_end):.0f}")


if __name__ == "__main__":
    main()

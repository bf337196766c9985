#!/usr/bin/env python3
"""hitcast from Python and on Spark: end-to-end scoring speed beside the Python stack.

    python3 bench/python.py [--runs 3] [--rows 1000000] [--model M]

1. `hitcast.Model.predict` on a ROWS-row pandas frame (the dataset repeated), frame in and frame
   out, beside XGBoost's and LightGBM's Python predict on classifiers of the same tree count and
   depth, fitted on the same 139 feature columns. Their end-to-end time builds those columns
   from the frame with pandas (bench/predict_lightgbm.py) and returns a frame of
   probabilities; hitcast's also validates every cell and calibrates. `predict(score=False)`
   runs the classifier alone, as they do (the like-for-like ratio); plain `predict` also runs
   the score regressor and its range. "predict alone" times the booster on a ready float32
   matrix.
2. `hitcast predict` Parquet to Parquet against CSV to CSV, on the same ROWS rows.
3. examples/spark_score.py in local[2] mode on that Parquet file against `hitcast predict` on
   it: the engine's overhead (JVM start and Arrow transfer included).

Medians of RUNS runs after a warm-up. Run it alone on the machine. Needs the wheel (pip install
./crates/hitcast-py), a release build, and: pip install pandas pyarrow xgboost lightgbm pyspark
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from predict_lightgbm import features, median_rate  # noqa: E402  (one feature builder, one timer)

import hitcast  # noqa: E402


def median_seconds(runs, fn):
    """Median seconds of `runs` calls after a warm-up (bench/predict_lightgbm.py's timer)."""
    return 1.0 / median_rate(1, runs, fn)


def cli(*args):
    subprocess.run([str(ROOT / "target" / "release" / "hitcast"), "-q", *args], check=True,
                   stdout=subprocess.DEVNULL)


def row(name, seconds, rows, *bases):
    ratios = "  ".join(f"{seconds / base:5.1f}x" for base in bases)
    print(f"  {name:<58} {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s  {ratios}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--model", help="a model file; default: `hitcast train` with its defaults")
    args = p.parse_args()
    data = Path(os.environ.get("HITCAST_DATA", ROOT / "data" / "spotify_tracks.csv.gz"))
    work = Path(tempfile.mkdtemp(prefix="hitcast-bench-"))
    model_path = Path(args.model) if args.model else work / "model.hitcast"
    if not args.model:
        cli("train", "--data", str(data), "--out", str(model_path))
    model = hitcast.load(str(model_path))
    info = model.info
    trees, depth = info["classifier_rounds"], info["classifier"]["params"]["max_depth"]

    small = pd.read_csv(data)
    frame = small.iloc[np.arange(args.rows) % len(small)].reset_index(drop=True)
    rows = len(frame)
    print(f"hitcast {hitcast.__version__}, {rows:,} rows (the dataset repeated), medians of {args.runs} runs")
    # The installed wheel, so a stale build is seen (its version does not change between builds).
    compiled = Path(hitcast._hitcast.__file__)
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(compiled.stat().st_mtime))
    print(f"wheel: {compiled} (built {built})")
    print(f"model: {info['classifier']['family']} classifier of {trees} trees, depth {depth}; "
          f"{info['regressor']['family']} regressor of {info['regressor_rounds']} trees\n")

    print("1. Python, pandas frame in, frame out (ratios: against predict(score=False), then predict)")
    chance = median_seconds(args.runs, lambda: model.predict(frame, score=False))
    ours = median_seconds(args.runs, lambda: model.predict(frame))
    row("hitcast Model.predict(score=False) (validate, classify)", chance, rows)
    row("hitcast Model.predict (validate, classify, score, range)", ours, rows)

    genres = sorted(small["track_genre"].unique())
    genre_mean = small.groupby("track_genre")["popularity"].mean()
    x = features(small, genres, genre_mean)
    y = (small["popularity"] > 71).astype(int).to_numpy()
    big = np.ascontiguousarray(np.resize(x, (rows, x.shape[1])))
    import lightgbm as lgb
    import xgboost as xgb

    boosters = {
        f"XGBoost {xgb.__version__}": xgb.XGBClassifier(
            n_estimators=trees, max_depth=depth, learning_rate=0.05, subsample=0.8,
            colsample_bytree=0.5, tree_method="hist", max_bin=64, n_jobs=2, random_state=42),
        f"LightGBM {lgb.__version__}": lgb.LGBMClassifier(
            n_estimators=trees, max_depth=depth, num_leaves=63, learning_rate=0.05,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.5, max_bin=64, n_jobs=2,
            verbose=-1, random_state=42),
    }
    for name, booster in boosters.items():
        booster.fit(x, y)

        def end_to_end(b=booster):
            p = b.predict_proba(features(frame, genres, genre_mean))[:, 1]
            return pd.DataFrame({"track_id": frame["track_id"], "popularity_probability": p})

        row(f"{name} features + predict_proba", median_seconds(args.runs, end_to_end), rows,
            chance, ours)
        row(f"{name} predict_proba alone (ready matrix)",
            median_seconds(args.runs, lambda b=booster: b.predict_proba(big)), rows, chance, ours)

    print("\n2. hitcast predict, file to file")
    csv_in, parquet_in = work / "tracks.csv", work / "tracks.parquet"
    frame.to_csv(csv_in, index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_in,
                   row_group_size=100_000)
    m = str(model_path)
    csv_s = median_seconds(args.runs, lambda: cli(
        "predict", "--model", m, "--input", str(csv_in), "--output", str(work / "out.csv")))
    parquet_s = median_seconds(args.runs, lambda: cli(
        "predict", "--model", m, "--input", str(parquet_in), "--output", str(work / "out.parquet")))
    chance_s = median_seconds(args.runs, lambda: cli(
        "predict", "--model", m, "--input", str(parquet_in), "--output",
        str(work / "chances.parquet"), "--no-score"))
    row("CSV to CSV", csv_s, rows)
    row("Parquet to Parquet (ratio: against CSV)", parquet_s, rows, csv_s)
    row("Parquet to Parquet --no-score (ratio: against Parquet)", chance_s, rows, parquet_s)

    print("\n3. Spark local[2] against hitcast predict, Parquet to Parquet")
    spark_s = median_seconds(max(1, args.runs), lambda: subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spark_score.py"), "--model", m,
         "--input", str(parquet_in), "--output", str(work / "spark"), "--master", "local[2]"],
        check=True, capture_output=True))
    row("hitcast predict", parquet_s, rows)
    row("examples/spark_score.py (JVM start included)", spark_s, rows, parquet_s)


if __name__ == "__main__":
    main()

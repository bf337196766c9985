"""The pandas equivalent of `hitcast bench load`: read + validate + collapse by track_id.

Prints two lines, `read_csv` alone and the whole job, each: median, min and max milliseconds over
RUNS runs after one warm-up.
Usage: python3 bench/load_pandas.py DATA RUNS
"""
import statistics
import sys
import time

import pandas as pd

path, runs = sys.argv[1], int(sys.argv[2])
UNIT = ["danceability", "energy", "speechiness", "acousticness", "instrumentalness",
        "liveness", "valence"]


def load():
    df = pd.read_csv(path, index_col=0)
    # The same range checks hitcast makes (a failing check would raise).
    assert df["popularity"].between(0, 100).all()
    assert df[UNIT].apply(lambda c: c.between(0, 1)).all().all()
    assert (df["tempo"] >= 0).all() and (df["duration_ms"] >= 0).all()
    assert df["key"].between(-1, 11).all() and df["mode"].isin([0, 1]).all()
    # Collapse: first occurrence per track_id, plus the multi-hot genres of each track (the
    # fastest of the pandas ways tried: groupby().unique() and .agg(set) take 1.5-5 s).
    genres = pd.get_dummies(df["track_genre"]).groupby(df["track_id"], sort=False).max()
    tracks = df.drop_duplicates("track_id", keep="first").set_index("track_id")
    return tracks.join(genres)


def timed(job):
    job()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = job()
        times.append(time.perf_counter() - start)
    ms = [t * 1e3 for t in times]
    print(f"{statistics.median(ms):.1f} {min(ms):.1f} {max(ms):.1f}")
    return result


timed(lambda: pd.read_csv(path, index_col=0))
assert len(timed(load)) == 89_741

#!/usr/bin/env python3
"""hitcast on another catalogue, beside a plain LightGBM, without the tracks either trained on.

The TidyTuesday sample (../shared/data/external) shares tracks with the shipped dataset: the
same track_id, or the same danceability, energy, loudness, tempo and duration to three
decimals. Those are left out (as `hitcast model evaluate` does), the rest collapsed to one row
per track_id with their playlist genres joined. On them: a saved hitcast model, genres read and
ignored (`hitcast model evaluate --json`), and LightGBM trained on the honest protocol's TRAIN
(fold 0, FIT and VAL) on the 14 audio columns, 400 rounds at learning rate 0.03 with 31
leaves, the plain model a notebook would fit.

    python3 bench/external.py --model runs/latest/model.hitcast [--hitcast target/release/hitcast]

Needs pandas, scikit-learn and lightgbm.
"""

import json
import subprocess
import sys
from pathlib import Path

import lightgbm
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

import honest

EXTERNAL = Path("../shared/data/external/tidytuesday_spotify_songs.csv.gz")
EXTERNAL_MAP = (
    "track_popularity=popularity,track_artist=artists,"
    "track_album_name=album_name,playlist_genre=track_genre"
)
AUDIO = [
    "duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "time_signature",
]
IDENTIFYING = ["danceability", "energy", "loudness", "tempo", "duration_ms"]


def audio_key(frame):
    return list(zip(*[(frame[c] * 1000).round().astype("int64") for c in IDENTIFYING]))


def main():
    a = honest.model_args(__doc__)

    data = honest.rows(a.data).drop_duplicates("track_id")
    data["explicit"] = data["explicit"].astype(int)
    train = data[~honest.in_test(data)]

    ext = pd.read_csv(EXTERNAL)
    ext = ext.rename(columns={"track_popularity": "popularity"})
    ext["explicit"] = 0
    ext["time_signature"] = 4
    ext = ext.drop_duplicates("track_id")
    known = ext["track_id"].isin(set(data["track_id"])) | pd.Series(
        audio_key(ext), index=ext.index
    ).isin(set(audio_key(data)))
    clean = ext[~known]
    y = clean["popularity"] > 71

    booster = lightgbm.LGBMClassifier(
        n_estimators=400, learning_rate=0.03, num_leaves=31, verbose=-1, random_state=42
    )
    booster.fit(train[AUDIO], train["popularity"] > 71)
    p = booster.predict_proba(clean[AUDIO])[:, 1]

    report = json.loads(
        subprocess.run(
            [a.hitcast, "model", "evaluate", a.model, "--data", str(EXTERNAL), "--map",
             EXTERNAL_MAP, "--json", "-q"],
            check=True, capture_output=True,
        ).stdout
    )
    print(f"clean sample: {len(clean)} tracks ({known.sum()} known left out), "
          f"{y.mean():.3f} popular; hitcast measured {report['measured']}\n")
    print("| model | ROC-AUC | PR-AUC |")
    print("|---|---|---|")
    for fit in report["fits"]:
        way = "read" if fit["genres"] == "use" else "ignored"
        print(f"| hitcast, genres {way} | {fit['roc_auc']:.3f} | {fit['pr_auc']:.3f} |")
    print(f"| LightGBM, 14 audio columns of TRAIN | {roc_auc_score(y, p):.3f} "
          f"| {average_precision_score(y, p):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What measurement error costs the from-audio model, on fold 0's TEST tracks.

A song measured from its audio file has no danceability, energy or the other learned columns:
the model's from-audio companion answers it. This builds fold 0's TEST tracks (which no model
of fold 0 saw; genres joined) as such rows, with the learned columns empty, and scores them as
they are and with one measurement off at a time:

- loudness offset by -3, -1, +1 and +3 dB (the model learnt Spotify's loudness, which is not
  the LUFS `hitcast features` measures: no offset is applied);
- tempo halved and doubled (a beat tracker's octave errors);
- key off by a fifth (the commonest key error);
- mode flipped.

It prints ROC-AUC, PR-AUC and the expected calibration error (ten bins of equal count) of each,
and the full model's on the same tracks with every column.

    python3 bench/from_audio.py --model runs/latest/model.hitcast [--hitcast target/release/hitcast]

Needs pandas and scikit-learn.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

import honest

LEARNED = ["danceability", "energy", "speechiness", "acousticness", "instrumentalness",
           "liveness", "valence"]


def tracks(data):
    """Fold 0's TEST tracks, one row each, their genres joined."""
    rows = honest.rows(data)
    genres = rows.groupby("track_id", sort=False).track_genre.agg(";".join)
    t = rows.drop_duplicates("track_id").set_index("track_id")
    t["track_genre"] = genres
    t = t.reset_index()
    return t[honest.in_test(t)].reset_index(drop=True)


def ece(p, y, bins=10):
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            total += len(chunk) * abs(p[chunk].mean() - y[chunk].mean())
    return total / len(p)


def score(hitcast, model, frame, tmp, name):
    path = Path(tmp) / f"{name}.csv"
    out = Path(tmp) / f"{name}.out.csv"
    frame.to_csv(path, index=False)
    subprocess.run([hitcast, "predict", "-q", "--model", model, "--input", str(path),
                    "--output", str(out)], check=True)
    answers = pd.read_csv(out)
    return answers.popularity_probability.to_numpy(), answers.model.iloc[0]


def main():
    a = honest.model_args(__doc__)
    test = tracks(a.data)
    y = (test.popularity > 71).to_numpy()
    measured = test.assign(**{c: np.nan for c in LEARNED})
    cases = [("every column (the main model)", test)]
    cases.append(("measured columns, as they are", measured))
    for db in (-3, -1, 1, 3):
        cases.append((f"loudness {db:+d} dB",
                      measured.assign(loudness=(measured.loudness + db).clip(-60, 10))))
    cases.append(("tempo halved", measured.assign(tempo=measured.tempo / 2)))
    cases.append(("tempo doubled", measured.assign(tempo=(measured.tempo * 2).clip(0, 300))))
    cases.append(("key off by a fifth",
                  measured.assign(key=np.where(measured.key >= 0, (measured.key + 7) % 12, -1))))
    cases.append(("mode flipped", measured.assign(mode=1 - measured["mode"])))
    print(f"fold 0 TEST: {len(test)} tracks, {y.mean():.3f} popular\n")
    print("| inputs | model | ROC-AUC | PR-AUC | ECE |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, frame) in enumerate(cases):
            p, model = score(a.hitcast, a.model, frame, tmp, f"case{i}")
            print(f"| {name} | {model} | {roc_auc_score(y, p):.3f} | "
                  f"{average_precision_score(y, p):.3f} | {ece(p, y):.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

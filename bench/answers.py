#!/usr/bin/env python3
"""How far to trust an answer: whom the score range covers, and how a saved model answers the
tracks it was trained on against those it was not.

The range is calibrated on VAL to hold its target share of tracks on average; averages hide
where it holds less, so the first table gives fold 0's TEST tracks over all and by group
(popular tracks, flagged ones, tracks scoring 0). The second compares PR-AUC and ROC-AUC on
TEST with the tracks outside it (FIT and VAL, which the model fitted on or was tuned on): the
gap is what answers for the training dataset's own tracks owe to memory. Each track is scored
once (its rows collapsed on `track_id`, the first row's values and every row's genres, as
hitcast collapses them), with `hitcast predict`.

    python3 bench/answers.py --model model.hitcast [--hitcast target/release/hitcast]

Needs pandas and a release build of hitcast.
"""

import subprocess
import tempfile
from pathlib import Path

import pandas as pd

import honest


def collapsed(frame):
    """One row a track_id, genres joined with `;`."""
    genres = frame.groupby("track_id", sort=False)["track_genre"].agg(
        lambda g: ";".join(dict.fromkeys(g)))
    first = frame.drop_duplicates("track_id").set_index("track_id")
    first["track_genre"] = genres
    return first.reset_index()


def average_precision(labels, scores):
    """PR-AUC as average precision: the precision at each positive, ranked by score."""
    order = scores.sort_values(ascending=False, kind="stable").index
    hits = labels.loc[order].to_numpy()
    found = hits.cumsum()
    return (found[hits] / (1 + hits.nonzero()[0])).mean()


def roc_auc(labels, scores):
    """The chance a positive outranks a negative (ties half), by ranks."""
    ranks = scores.rank()
    n_pos, n_neg = labels.sum(), (~labels).sum()
    return (ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def main():
    a = honest.model_args(__doc__)
    frame = honest.rows(a.data)
    tracks = collapsed(frame)
    in_test = honest.in_test(tracks)
    with tempfile.TemporaryDirectory() as tmp:
        path, scores = Path(tmp) / "tracks.csv", Path(tmp) / "scores.csv"
        tracks.to_csv(path, index=False)
        subprocess.run([a.hitcast, "predict", "--model", a.model, "--input", str(path),
                        "--output", str(scores), "-q"], check=True)
        answers = pd.read_csv(scores, dtype={"track_id": str}, keep_default_na=False)
    both = tracks.reset_index(drop=True).join(answers.drop(columns="track_id"))
    test = both[in_test.to_numpy()]
    truth = test["popularity"]
    inside = (truth >= test["popularity_low"]) & (truth <= test["popularity_high"])
    width = test["popularity_high"] - test["popularity_low"]
    groups = [
        ("all TEST tracks", truth == truth),
        ("popular (> 71)", truth > 71),
        ("flagged", test["flagged"] == 1),
        ("flagged and popular", (test["flagged"] == 1) & (truth > 71)),
        ("not flagged", test["flagged"] == 0),
        ("popularity 0", truth == 0),
        ("popularity 1-71", (truth > 0) & (truth <= 71)),
    ]
    print(f"{a.model}, fold 0's TEST: {len(test):,} tracks\n")
    print("| tracks | count | in their range | mean width |")
    print("|---|--:|--:|--:|")
    for name, rows in groups:
        print(f"| {name} | {rows.sum():,} | {inside[rows].mean():.1%} | {width[rows].mean():.1f} |")

    print("\n| tracks | count | popular | PR-AUC | ROC-AUC | warned training_track |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, part in [("TEST", both[in_test.to_numpy()]),
                       ("FIT and VAL", both[~in_test.to_numpy()])]:
        labels = part["popularity"] > 71
        p = part["popularity_probability"]
        warned = part["warnings"].str.contains("training_track").mean()
        print(f"| {name} | {len(part):,} | {labels.mean():.1%} | "
              f"{average_precision(labels, p):.3f} | {roc_auc(labels, p):.3f} | {warned:.0%} |")
    # The calibrated chance is clipped 1e-4 from 1: how many answers reach 99.9%.
    for name, part in [("TEST", both[in_test.to_numpy()]),
                       ("FIT and VAL", both[~in_test.to_numpy()])]:
        sure = part[part["popularity_probability"] >= 0.999]
        print(f"  {name}: {len(sure)} answers of 99.9% or more, "
              f"{(sure['popularity'] > 71).sum()} of them popular")

if __name__ == "__main__":
    main()

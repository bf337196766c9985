#!/usr/bin/env python3
"""`--adapt-prior` on catalogues whose base rate differs from the training data's.

Builds catalogues from the shipped dataset's fold-0 TEST tracks (which no model of fold 0 saw):
TEST as it is, and TEST with its popular tracks drawn more often (a shift of base rate only,
the case EM under label shift is for), then measures a model on each, and on the external
TidyTuesday sample (which differs in more than its base rate), with and without
`--adapt-prior`. Prints, per catalogue and way of reading genres: the true popular rate, EM's
estimate (or why it was refused) and the ECE before and after.

    python3 bench/shift.py --model runs/latest/model.hitcast [--hitcast target/release/hitcast]

Needs pandas and a release build of hitcast.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

import honest

EXTERNAL = Path("../shared/data/external/tidytuesday_spotify_songs.csv.gz")
EXTERNAL_MAP = (
    "track_popularity=popularity,track_artist=artists,"
    "track_album_name=album_name,playlist_genre=track_genre"
)


def test_rows(data):
    """The raw rows of fold 0's TEST tracks."""
    frame = honest.rows(data)
    return frame[honest.in_test(frame)]


def resampled(frame, times):
    """Every popular track's rows `times` times (each copy a new track_id), the others once."""
    popular = frame[frame["popularity"] > 71]
    copies = [frame]
    for k in range(1, times):
        copy = popular.copy()
        copy["track_id"] = copy["track_id"] + f"-copy{k}"
        copies.append(copy)
    return pd.concat(copies)


def evaluate(hitcast, model, data, adapt, extra=()):
    args = [hitcast, "model", "evaluate", model, "--data", str(data), "--json", "-q", *extra]
    if adapt:
        args.append("--adapt-prior")
    return json.loads(subprocess.run(args, check=True, capture_output=True).stdout)


def main():
    a = honest.model_args(__doc__)
    test = test_rows(a.data)
    with tempfile.TemporaryDirectory() as tmp:
        catalogues = []
        for name, frame in [
            ("TEST", test),
            ("TEST, popular x2", resampled(test, 2)),
            ("TEST, popular x4", resampled(test, 4)),
            ("TEST, popular x8", resampled(test, 8)),
        ]:
            path = Path(tmp) / (name.replace(" ", "_").replace(",", "") + ".csv")
            frame.to_csv(path)
            catalogues.append((name, path, ["--keep-known"]))
        if EXTERNAL.exists():
            catalogues.append(("TidyTuesday, clean", EXTERNAL, ["--map", EXTERNAL_MAP]))
        print("| catalogue | genres | popular | EM estimate | ECE | ECE adapted | PR-AUC |")
        print("|---|---|---|---|---|---|---|")
        for name, path, extra in catalogues:
            plain = evaluate(a.hitcast, a.model, path, False, extra)
            adapted = evaluate(a.hitcast, a.model, path, True, extra)
            for before, after, prior in zip(plain["fits"], adapted["fits"], adapted["priors"]):
                if prior["estimate"]:
                    e = prior["estimate"]
                    misfit = e["input_misfit"][1] if e["input_misfit"] else 0.0
                    worst = e['input_misfit'][0] if e['input_misfit'] else '-'
                    said = f"{e['estimate']:.3f} (misfits {e['misfit']:.3f}, {worst} {misfit:.3f})"
                else:
                    said = "refused: " + prior["refused"].split(": at EM's estimate of ")[-1]
                print(
                    f"| {name} | {before['genres']} | {before['popular_rate']:.3f} | {said} "
                    f"| {before['ece']:.4f} | {after['ece']:.4f} | {after['pr_auc']:.3f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

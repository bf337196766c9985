#!/usr/bin/env python3
"""What each of the 11 extra feature columns adds, over the five artist folds.

Runs `hitcast experiment --folds all` on the default model's cells (capped setup, no
resampling: the boosted classifier and score regressor) once with every column and once
without each extra column (`--drop`), then without groups of them, and prints each ablation's
change in TEST PR-AUC, ROC-AUC and R² against the full set, fold by fold paired: mean ± sample
sd of the five differences. A negative change means the column helps.

    python3 bench/ablation.py [--hitcast target/release/hitcast] [--out runs/ablation]

Needs only the Python standard library and a release build of hitcast.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

EXTRAS = [
    "n_genres",
    "n_artists",
    "title_feat",
    "title_remix",
    "title_live",
    "title_remaster",
    "title_acoustic",
    "title_length",
    "title_is_album",
    "genre_popularity_mean",
    "genre_popularity_max",
]

GROUPS = {
    "the title flags": [
        "title_feat",
        "title_remix",
        "title_live",
        "title_remaster",
        "title_acoustic",
    ],
    "genre popularity": ["genre_popularity_mean", "genre_popularity_max"],
    "all 11": EXTRAS,
}

CELLS = "classification/capped/none/gbm,regression/capped/none/gbm"


def run(hitcast, out, drop):
    """Per-fold TEST figures of one ablation: {fold: {metric: value}}."""
    args = [hitcast, "experiment", "-q", "--only", CELLS, "--folds", "all", "--out", str(out)]
    if drop:
        args += ["--drop", ",".join(drop)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    figures = {}
    for fold in range(5):
        rows = json.loads((out / f"fold-{fold}" / "results.json").read_text())["rows"]
        f = {}
        for row in rows:
            if row["task"] == "classification":
                f["pr_auc"], f["roc_auc"] = row["pr_auc"], row["roc_auc"]
            else:
                f["r2"] = row["r2"]
        figures[fold] = f
    return figures


def paired(base, other, metric):
    deltas = [other[k][metric] - base[k][metric] for k in sorted(base)]
    return statistics.mean(deltas), statistics.stdev(deltas)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hitcast", default="target/release/hitcast")
    parser.add_argument("--out", default="runs/ablation", type=Path)
    a = parser.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    base = run(a.hitcast, a.out / "all", [])
    mean = lambda m: statistics.mean(base[k][m] for k in base)
    print(
        f"all columns: TEST PR-AUC {mean('pr_auc'):.4f}, ROC-AUC {mean('roc_auc'):.4f}, "
        f"R² {mean('r2'):.4f} (means over folds 0-4)\n"
    )
    print("| without | Δ PR-AUC | Δ ROC-AUC | Δ R² |")
    print("|---|---|---|---|")
    ablations = [(c, [c]) for c in EXTRAS] + list(GROUPS.items())
    for name, drop in ablations:
        figures = run(a.hitcast, a.out / name.replace(" ", "-"), drop)
        cells = []
        for metric in ["pr_auc", "roc_auc", "r2"]:
            m, sd = paired(base, figures, metric)
            cells.append(f"{m:+.4f} ± {sd:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

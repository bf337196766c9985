#!/usr/bin/env python3
"""The grid, cell for cell: hitcast against the Python stack on the same rows.

hitcast writes FIT, VAL and TEST of one outlier setup as its grid reads them, and FIT as its
SMOTE, ADASYN and undersampling cells resample it (`hitcast data split --export --resampled`);
each run then fits every selected cell (strategy x family) with `hitcast experiment` and with
its Python counterparts on those same rows, the two sides of a cell back to back, hitcast's
first in odd runs and Python's first in even ones (the machine's speed drifts, and a fit can
pay for the load before it). The table gives the median fit time of each side, their ratio,
and each side's VAL PR-AUC (the metric the grid chooses by). Both sides' models fit on the
same resampled rows, so that VAL PR-AUC compares models, not draws: imbalanced-learn's
resamplers are timed on FIT on a row of their own, and their rows are not fitted on. Run it alone on the machine: a build beside it
skews every figure.

    python3 bench/grid.py [--runs 3] [--setup capped] [--strategies none,smote]
                          [--families logreg,rf,gbm,mlp,stack] [--threads 2]

Counterparts (same settings where both sides have them; see PARAMS):
  logreg  scikit-learn LogisticRegression (L2, lbfgs)
  rf      scikit-learn RandomForestClassifier (200 trees, depth 16, 3 rows a leaf, sqrt features)
  gbm     XGBoost (hist) and LightGBM: depth 6, learning rate 0.05 (0.1 on SMOTE and ADASYN
          rows, as hitcast's defaults there), subsample 0.8, columns 0.5, 256 bins, early
          stopping after 50 rounds on VAL log-loss, at most 2,000 rounds
  mlp     scikit-learn MLPClassifier (128, 64), Adam 1e-3, batch 256, at most 60 epochs,
          early stopping after 8 (scikit-learn holds out 10% of FIT for it: it cannot watch VAL)
  stack   scikit-learn StackingClassifier of the two above, logistic meta-learner, 2 grouped folds (as hitcast's default)
Resampling: imbalanced-learn SMOTE, ADASYN (5 neighbours) and RandomUnderSampler, timed
against hitcast's on their own row; class weights as scikit-learn's "balanced" (hitcast's
weights are the same: n / (2 n_class)).

Needs: pip install scikit-learn xgboost lightgbm imbalanced-learn pandas
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# XGBoost's and scikit-learn's deprecation notices say nothing about speed or quality.
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

ROOT = Path(__file__).resolve().parent.parent
HITCAST = ROOT / "target" / "release" / "hitcast"
STRATEGIES = ["none", "weights", "smote", "adasyn", "undersample"]
FAMILIES = ["logreg", "rf", "gbm", "mlp", "stack"]
SEED = 42


def load(directory, name):
    import pandas as pd

    frame = pd.read_csv(directory / name)
    y = frame.pop("popular").to_numpy().astype(int)
    frame.pop("popularity")
    groups = frame.pop("group").to_numpy()
    return frame.to_numpy(dtype="float64"), y, groups


RESAMPLERS = ["smote", "adasyn", "undersample"]


def resampling_seconds(strategy, x, y):
    """Seconds imbalanced-learn's resampler for `strategy` takes on FIT (its rows are dropped:
    both sides fit on hitcast's)."""
    from imblearn.over_sampling import ADASYN, SMOTE
    from imblearn.under_sampling import RandomUnderSampler

    sampler = {
        "smote": lambda: SMOTE(k_neighbors=5, random_state=SEED),
        "adasyn": lambda: ADASYN(n_neighbors=5, random_state=SEED),
        "undersample": lambda: RandomUnderSampler(random_state=SEED),
    }[strategy]()
    started = time.perf_counter()
    sampler.fit_resample(x, y)
    return time.perf_counter() - started


def training_rows(strategy, work, fit):
    """FIT rows as `strategy`'s cells fit on them (hitcast's resampled rows, a synthetic row in
    its source's group), with scikit-learn's "balanced" weights for `weights`."""
    from sklearn.utils.class_weight import compute_sample_weight

    x, y, groups = fit
    if strategy in RESAMPLERS:
        x, y, groups = load(work, f"fit-{strategy}.csv")
    weights = compute_sample_weight("balanced", y) if strategy == "weights" else None
    return x, y, groups, weights


def python_models(threads):
    """Each family's Python counterparts: name -> a function (x, y, w, groups, vx, vy) -> proba."""
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier, StackingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.neural_network import MLPClassifier

    def forest():
        return RandomForestClassifier(
            n_estimators=200, max_depth=16, min_samples_leaf=3, max_features="sqrt",
            n_jobs=threads, random_state=SEED)

    def mlp():
        return MLPClassifier(
            hidden_layer_sizes=(128, 64), alpha=1e-4, batch_size=256, learning_rate_init=1e-3,
            max_iter=60, early_stopping=True, n_iter_no_change=8, random_state=SEED)

    def logreg(x, y, w, g, vx, vy, rate):
        m = LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=w)
        return m.predict_proba(vx)[:, 1]

    def rf(x, y, w, g, vx, vy, rate):
        return forest().fit(x, y, sample_weight=w).predict_proba(vx)[:, 1]

    def xgboost(x, y, w, g, vx, vy, rate):
        vw = None
        if w is not None:  # VAL weighed per class as FIT is, as hitcast does
            vw = [w[y == c].mean() for c in (0, 1)]
            vw = [vw[c] for c in vy]
        m = xgb.XGBClassifier(
            n_estimators=2000, learning_rate=rate, max_depth=6, subsample=0.8,
            colsample_bytree=0.5, reg_lambda=1.0, min_child_weight=1.0, max_bin=256,
            tree_method="hist", early_stopping_rounds=50, eval_metric="logloss",
            n_jobs=threads, random_state=SEED)
        m.fit(x, y, sample_weight=w, eval_set=[(vx, vy)],
              sample_weight_eval_set=None if vw is None else [vw], verbose=False)
        return m.predict_proba(vx, iteration_range=(0, m.best_iteration + 1))[:, 1]

    def lightgbm(x, y, w, g, vx, vy, rate):
        m = lgb.LGBMClassifier(
            n_estimators=2000, learning_rate=rate, max_depth=6, num_leaves=63, subsample=0.8,
            subsample_freq=1, colsample_bytree=0.5, reg_lambda=1.0, max_bin=255,
            n_jobs=threads, random_state=SEED, verbose=-1)
        m.fit(x, y, sample_weight=w, eval_set=[(vx, vy)], eval_metric="binary_logloss",
              callbacks=[lgb.early_stopping(50, verbose=False)])
        return m.predict_proba(vx)[:, 1]

    def mlp_fit(x, y, w, g, vx, vy, rate):
        return mlp().fit(x, y).predict_proba(vx)[:, 1]  # MLPClassifier takes no weights

    def stack(x, y, w, g, vx, vy, rate):
        folds = list(GroupKFold(n_splits=2).split(x, y, g))
        m = StackingClassifier(
            estimators=[("mlp", mlp()), ("rf", forest())],
            final_estimator=LogisticRegression(), cv=folds, stack_method="predict_proba")
        return m.fit(x, y).predict_proba(vx)[:, 1]

    return {
        "logreg": [("scikit-learn", logreg)],
        "rf": [("scikit-learn", rf)],
        "gbm": [("XGBoost", xgboost), ("LightGBM", lightgbm)],
        "mlp": [("scikit-learn", mlp_fit)],
        "stack": [("scikit-learn", stack)],
    }


def learning_rate(strategy):
    """The boosters' learning rate: hitcast's default for rows resampled by `strategy`
    (`ModelSpec::classifier_for`: 0.1 on SMOTE and ADASYN rows, else 0.05)."""
    return 0.1 if strategy in ("smote", "adasyn") else 0.05


def run_hitcast(setup, strategy, family, out, threads):
    """One family's cell of `strategy` in a `hitcast experiment` of its own: in one run the
    network fits beside the other families (the grid fills both cores so), and their times
    would overlap. The stack's run holds the network and forest cells too, so that it takes
    their fits as the grid does (the forest's out-of-fold probabilities included); the stack's
    time is its own cell's plus those two cells', summed (they overlap: the network fits beside
    the forest), so that it is the whole cost of a stack, as scikit-learn's is. Returns the fit
    seconds, VAL PR-AUC and resampling seconds."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    members = ["mlp", "rf", "stack"] if family == "stack" else [family]
    cells = [f"classification/{setup}/{strategy}/{m}" for m in members]
    subprocess.run(
        [str(HITCAST), "-q", "experiment", "--only", ",".join(cells), "--no-headline",
         "--out", str(out)], check=True, env=env, stdout=subprocess.DEVNULL)
    rows = [r for r in json.loads((out / "results.json").read_text())["rows"]
            if r["task"] == "classification"]
    (cell,) = [r for r in rows if r["model"] == family]
    seconds = sum(r["fit_seconds"] for r in rows)
    return seconds, cell["val_pr_auc"], cell["resample_seconds"]


def fit_python(counterparts, rows, vx, vy, rate):
    """Fits each Python counterpart of a cell on `rows`: (side, fit seconds, VAL PR-AUC)."""
    from sklearn.metrics import average_precision_score

    rx, ry, rg, w = rows
    fitted = []
    for side, fit_model in counterparts:
        started = time.perf_counter()
        p = fit_model(rx, ry, w, rg, vx, vy, rate)
        fitted.append((side, time.perf_counter() - started, average_precision_score(vy, p)))
    return fitted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--setup", default="capped")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    families = args.families.split(",")
    work = Path(tempfile.mkdtemp(prefix="hitcast-grid-"))
    resampled = [s for s in strategies if s in RESAMPLERS]
    subprocess.run([str(HITCAST), "-q", "data", "split", "--export",
                    str(work), "--setup", args.setup]
                   + (["--resampled", ",".join(resampled)] if resampled else []),
                   check=True, stdout=subprocess.DEVNULL)
    fit = load(work, "fit.csv")
    vx, vy, _ = load(work, "val.csv")
    models = python_models(args.threads)

    # Read once: each run fits on the same rows.
    training = {strategy: training_rows(strategy, work, fit) for strategy in strategies}
    times = {}  # (side, strategy, family) -> [seconds]
    quality = {}  # (side, strategy, family) -> VAL PR-AUC (deterministic per side)
    for run in range(args.runs):
        for strategy in strategies:
            for family in families:
                # A family's pair back to back, seconds apart; which side goes first alternates
                # from run to run, so that neither always follows the other's load.
                for hitcast_side in ((True, False) if run % 2 == 0 else (False, True)):
                    if hitcast_side:
                        seconds, pr, resampling = run_hitcast(
                            args.setup, strategy, family,
                            work / f"hitcast-{run}-{strategy}-{family}", args.threads)
                        fitted = [("hitcast", seconds, pr)]
                    else:
                        fitted = fit_python(models[family], training[strategy], vx, vy,
                                            learning_rate(strategy))
                    for side, seconds, pr in fitted:
                        times.setdefault((side, strategy, family), []).append(seconds)
                        quality[(side, strategy, family)] = pr
            if strategy in RESAMPLERS:
                times.setdefault(("hitcast", strategy, "resample"), []).append(resampling)
                times.setdefault(("imbalanced-learn", strategy, "resample"), []).append(
                    resampling_seconds(strategy, fit[0], fit[1]))
            # Each run's times, so that a median's spread can be read back from the log.
            took = ", ".join(f"{side} {family} {times[(side, strategy, family)][-1]:.2f}"
                             for family in families
                             for side in ["hitcast"] + [s for s, _ in models[family]])
            print(f"run {run + 1}/{args.runs}: {strategy} done ({took} s)", file=sys.stderr)

    median = {k: statistics.median(v) for k, v in times.items()}
    import imblearn, lightgbm, sklearn, xgboost
    print(f"\nscikit-learn {sklearn.__version__}, XGBoost {xgboost.__version__}, LightGBM "
          f"{lightgbm.__version__}, imbalanced-learn {imblearn.__version__}")
    print(f"setup {args.setup}, FIT {len(fit[1]):,} rows, VAL {len(vy):,}; {args.threads} "
          f"threads; medians of {args.runs} run(s); both sides fit on hitcast's resampled rows\n")
    print(f"  {'strategy':<12}{'family':<8}{'hitcast s':>10}{'VAL PR':>8}   "
          f"{'Python':<14}{'s':>8}{'VAL PR':>8}{'ratio':>8}")
    for strategy in strategies:
        for family in families:
            h = ("hitcast", strategy, family)
            if h not in median:
                continue
            for side, _ in models[family]:
                p = (side, strategy, family)
                print(f"  {strategy:<12}{family:<8}{median[h]:>10.2f}{quality[h]:>8.3f}   "
                      f"{side:<14}{median[p]:>8.2f}{quality[p]:>8.3f}"
                      f"{median[p] / max(median[h], 1e-9):>7.1f}x")
        r, h = ("imbalanced-learn", strategy, "resample"), ("hitcast", strategy, "resample")
        if strategy not in ("none", "weights") and h in median:
            print(f"  {strategy:<12}{'resample':<8}{median[h]:>10.2f}{'':>8}   "
                  f"{'imbalanced-learn':<14}{median[r]:>8.2f}{'':>8}"
                  f"{median[r] / max(median[h], 1e-9):>7.1f}x")
    total = {side: sum(v for (s, _, f), v in median.items() if s == side and f != "resample")
             for side in {"hitcast", "scikit-learn", "XGBoost", "LightGBM"}}
    print("\n  fit seconds summed over the cells: " + ", ".join(
        f"{side} {total[side]:.1f}" for side in sorted(total) if total[side] > 0))
    python = total["scikit-learn"] + total["XGBoost"]
    print(f"  the grid: hitcast {total['hitcast']:.1f} s against {python:.1f} s for scikit-learn "
          f"with XGBoost's boosting ({python / max(total['hitcast'], 1e-9):.1f}x)")

    print(f"\n  {'family':<10}{'against':<18}hitcast faster, over the strategies")
    for family in families + ["resample"]:
        sides = ["imbalanced-learn"] if family == "resample" else [
            side for side, _ in models[family]]
        for side in sides:
            ratios = {s: median[(side, s, family)] / max(median[("hitcast", s, family)], 1e-9)
                      for s in strategies if (side, s, family) in median
                      and ("hitcast", s, family) in median}
            if not ratios:
                continue
            low = min(ratios, key=ratios.get)
            print(f"  {family:<10}{side:<18}{min(ratios.values()):.1f}-"
                  f"{max(ratios.values()):.1f}x (lowest: {low})")


if __name__ == "__main__":
    main()

"""Shared fixtures: the real dataset, the `hitcast` binary and a model it trains."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def dataset() -> pathlib.Path:
    return pathlib.Path(os.environ.get("HITCAST_DATA", ROOT / "data" / "spotify_tracks.csv.gz"))


def binary() -> pathlib.Path:
    """`$HITCAST_BIN`, else the workspace's release build, else its debug build."""
    if "HITCAST_BIN" in os.environ:
        return pathlib.Path(os.environ["HITCAST_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("release", "debug"):
        path = target / profile / "hitcast"
        if path.is_file():
            return path
    pytest.fail("no hitcast binary: run `cargo build --release` or set HITCAST_BIN")


def hitcast(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(binary()), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="session")
def model_path(tmp_path_factory) -> pathlib.Path:
    """A gradient-boosting model trained by `hitcast train` on undersampled FIT (quick)."""
    path = tmp_path_factory.mktemp("model") / "m.hitcast"
    hitcast(
        "train", "--data", str(dataset()), "--model", "gbm", "--regressor", "linear",
        "--strategy", "undersample", "--setup", "raw", "--out", str(path),
    )
    return path


@pytest.fixture(scope="session")
def tracks_csv(tmp_path_factory) -> pathlib.Path:
    """The dataset's first 2,000 rows as a plain CSV."""
    import pandas as pd

    path = tmp_path_factory.mktemp("tracks") / "tracks.csv"
    pd.read_csv(dataset(), nrows=2000).to_csv(path, index=False)
    return path

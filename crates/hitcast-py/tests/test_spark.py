"""examples/spark_score.py in Spark's local mode against `hitcast predict` on the same Parquet."""

import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, dataset, hitcast as cli

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)


def test_spark_scores_every_row_as_hitcast_predict(model_path, tmp_path):
    tracks = tmp_path / "tracks.parquet"
    # The whole dataset, in several row groups so Spark splits it across tasks.
    pq.write_table(pyarrow.csv.read_csv(dataset()), tracks, row_group_size=20_000)
    out = tmp_path / "scored"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spark_score.py"), "--model", str(model_path),
         "--input", str(tracks), "--output", str(out), "--keep", "track_name,popularity",
         "--master", "local[2]"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    cli_out = tmp_path / "cli.parquet"
    cli("predict", "--model", str(model_path), "--input", str(tracks), "--output", str(cli_out),
        "--keep", "track_name,popularity")
    spark = pq.read_table(out)
    expected = pq.read_table(cli_out)
    assert spark.num_rows == expected.num_rows == 114_000
    assert spark.column_names == expected.column_names
    # Spark may reorder partitions: compare as sorted tables (equal tracks get equal answers).
    keys = [(name, "ascending") for name in expected.column_names]
    expected = expected.cast(spark.schema).sort_by(keys)
    assert spark.sort_by(keys).equals(expected)


def test_spark_without_the_score_gives_the_clis_chances(model_path, tracks_csv, tmp_path):
    tracks = tmp_path / "tracks.parquet"
    pq.write_table(pyarrow.csv.read_csv(tracks_csv), tracks, row_group_size=500)
    out = tmp_path / "scored"
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spark_score.py"), "--model", str(model_path),
         "--input", str(tracks), "--output", str(out), "--no-score", "--master", "local[2]"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    cli_out = tmp_path / "cli.parquet"
    cli("predict", "--model", str(model_path), "--input", str(tracks), "--output", str(cli_out),
        "--no-score")
    spark, expected = pq.read_table(out), pq.read_table(cli_out)
    assert spark.column_names == expected.column_names
    assert "predicted_popularity" not in spark.column_names
    keys = [(name, "ascending") for name in expected.column_names]
    assert spark.sort_by(keys).equals(expected.cast(spark.schema).sort_by(keys))

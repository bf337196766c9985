"""Score a Parquet catalogue of tracks on Apache Spark with a hitcast model.

    python examples/spark_score.py --model runs/latest/model.hitcast \
        --input tracks.parquet --output scored/ [--keep track_name,artists] [--no-score] \
        [--master local[2]]

Each Spark task loads the model once (shipped to the executors with ``SparkContext.addFile``)
and scores its partition's Arrow batches with the ``hitcast`` Python package through
``mapInArrow``: no row-by-row Python, no pandas. The output is a directory of Parquet files with
the columns of ``hitcast predict``. On a cluster, install the wheel on every executor (``pip
install ./crates/hitcast-py``, or ship it with ``--py-files``-style packaging) and run this with
``spark-submit``; nothing else changes.
"""

import argparse
import os
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="a model file from `hitcast train`")
    p.add_argument("--input", required=True, help="Parquet file or directory of tracks")
    p.add_argument("--output", required=True, help="directory for the scored Parquet files (replaced)")
    p.add_argument("--keep", default="", help="input columns to copy after the answers, comma-separated")
    p.add_argument("--genres", default="use", choices=["use", "ignore"])
    p.add_argument("--no-score", action="store_true",
                   help="leave out the score and its range: the classifier alone runs")
    p.add_argument("--master", default=None, help="Spark master; default: spark-submit's, else local[2]")
    return p.parse_args(argv)


def spark_schema(keep, score=True):
    """The answers' schema as Spark takes it: Spark has no unsigned integers, so a kept
    popularity (uint8) travels as int16."""
    import pyarrow as pa
    import hitcast

    arrow = hitcast.answers_schema(keep, score=score)
    fields = [
        pa.field(f.name, pa.int16(), f.nullable) if f.type == pa.uint8() else f for f in arrow
    ]
    return pa.schema(fields)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # The executors' Python is this one (local mode; on a cluster, set PYSPARK_PYTHON yourself).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql.pandas.types import from_arrow_schema

    builder = SparkSession.builder.appName("hitcast-score")
    if args.master or "SPARK_HOME" not in os.environ:
        builder = builder.master(args.master or "local[2]")
    spark = builder.getOrCreate()
    try:
        keep = [c.strip() for c in args.keep.split(",") if c.strip()]
        score_too = not args.no_score
        schema = spark_schema(keep, score_too)
        spark.sparkContext.addFile(os.path.abspath(args.model))
        model_name = os.path.basename(args.model)
        genres = args.genres

        def score(batches):
            import pyarrow as pa
            from pyspark import SparkFiles

            import hitcast

            model = hitcast.load(SparkFiles.get(model_name), genres=genres)
            for batch in batches:
                answers = model.predict(batch, keep=keep, score=score_too)
                yield from pa.Table.from_batches([answers]).cast(schema).to_batches()

        tracks = spark.read.parquet(args.input)
        scored = tracks.mapInArrow(score, from_arrow_schema(schema))
        scored.write.mode("overwrite").parquet(args.output)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()

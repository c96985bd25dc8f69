"""Example Spark job: clean the pages of WARC files into Parquet (or JSON Lines).

    spark-submit examples/spark_clean_warc.py --output cleaned/ crawl-*.warc.gz
    spark-submit examples/spark_clean_warc.py --model models/my.joblib --format json \\
        --output s3://bucket/cleaned/ --paths-from warc.paths

One task per WARC file (a WARC.gz is read as a stream, one record at a time, so a 1 GB file
needs no more memory than its largest page). Each output row is one page record, or one report
of a record that held no cleanable page (``error`` set); the columns are
`filter.integrations.spark.OUTPUT_SCHEMA`. See docs/crawl-scale.md for running it on a cluster.
"""

from __future__ import annotations

import argparse
from functools import partial

from pyspark.sql import SparkSession

from filter.cleaner import Limits
from filter.integrations.spark import OUTPUT_SCHEMA, clean_warc_files, ship_model


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warcs", nargs="*", help="WARC files (local paths or fsspec URLs)")
    parser.add_argument("--paths-from", help="a text file with one WARC path per line")
    parser.add_argument("--output", required=True, help="output folder (Spark writes parts)")
    parser.add_argument("--format", choices=("parquet", "json"), default="parquet")
    parser.add_argument("--model", help="model file to ship to the executors "
                                        "(default: the model installed with noisefilter)")
    parser.add_argument("--partitions", type=int,
                        help="tasks (default: one per WARC file)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout)
    parser.add_argument("--max-bytes", type=int, default=Limits.max_bytes)
    args = parser.parse_args(argv)
    if args.paths_from:
        with open(args.paths_from, encoding="utf-8") as fh:
            args.warcs += [line.strip() for line in fh if line.strip()]
    if not args.warcs:
        parser.error("no WARC files given")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    spark = SparkSession.builder.appName("noisefilter-clean-warc").getOrCreate()
    sc = spark.sparkContext
    model = ship_model(sc, args.model) if args.model else None
    paths = sc.parallelize(args.warcs, args.partitions or len(args.warcs))
    rows = paths.mapPartitions(partial(clean_warc_files, model=model, max_bytes=args.max_bytes,
                                       timeout=args.timeout))
    frame = spark.createDataFrame(rows, OUTPUT_SCHEMA)
    writer = frame.write.mode("overwrite")
    if args.format == "parquet":
        writer.parquet(args.output)
    else:  # JSON Lines, one part file per task; null fields written, as by noisefilter batch
        writer.option("ignoreNullFields", False).json(args.output)


if __name__ == "__main__":
    main()

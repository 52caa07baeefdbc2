"""City-scale proof for govrisk (issue 9): a deterministic data generator, benchmarks with floors, a load test.

    python -m benchmarks run --scale small|city|province [--json FILE] [--db FILE|URL] [--fresh]
    python -m benchmarks generate --scale city            # only build the city database

`run` builds the city once (reused while the seed and scale match; `--fresh` rebuilds), then times every operation
on its real code path with a floor measured in the same run (benchmarks/measure.py), prints the targets of the
domain issues and whether each holds, and finishes with a throughput run against gunicorn (benchmarks/load.py).
Not part of the test suite. The older single-domain scripts (catalog_bench.py, flows_bench.py, risks_bench.py,
review_bench.py) still run on their own.
"""

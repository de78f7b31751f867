"""Stage `knn`: memorising the data, the tutorial's lookup table and its k-nearest fix.

    python -m stages.knn --train data/prepared/train.csv --test data/prepared/test.csv \
        --model models/knn.json --metrics metrics/knn.json

A KNN's model is its training set: fitting only files the rows in a k-d tree.
So this stage checks k against the data, measures what the tutorial's exact
lookup table would do, and records k in ``models/knn.json``; `evaluate` builds
the tree from the same split (``fromzero.neighbors.make_knn_regressor``).
"""

import argparse

from fromzero.neighbors import lookup_table_report
from stages.cli import StageError, stage_main
from stages.files import read_split, write_json
from stages.params import read_params


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--metrics", required=True)
    args = parser.parse_args(argv)

    params = read_params(args.params)
    columns = (params["data"]["feature"], params["data"]["target"])
    k = params["knn"]["k"]
    x_train, _ = read_split(args.train, columns)
    x_test, _ = read_split(args.test, columns)
    if k > len(x_train):
        raise StageError(f"params.yaml: knn.k = {k} is more than the {len(x_train)} training rows "
                         f"in {args.train}; lower knn.k or use more data")

    dropped_rows, miss_rate = lookup_table_report(x_train, x_test)

    write_json(args.model, {"k": k, "n_train": int(len(x_train))})
    write_json(args.metrics, {"knn": {
        "lookup_miss": miss_rate,  # share of test inputs the exact-match dict cannot answer
        "lookup_dropped": dropped_rows,  # training rows the dict loses to repeated keys
    }})


if __name__ == "__main__":
    raise SystemExit(main())

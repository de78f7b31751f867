"""Stage `knn`: memorising the data, the tutorial's lookup table and its k-nearest fix.

    python -m stages.knn --train data/prepared/train.csv --test data/prepared/test.csv \
        --model models/knn.json --metrics metrics/knn.json

A KNN's model is its training set: fitting only files the rows in a k-d tree.
So this stage checks k against the data, measures what the tutorial's exact
lookup table would do, and records k in ``models/knn.json``; `evaluate` builds
the tree from the same split (``fromzero.neighbors.make_knn_regressor``).
"""

from fromzero.neighbors import lookup_table_report
from stages.cli import StageError, stage_arguments, stage_main
from stages.files import read_feature_target, write_json


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "test", "model", "metrics")
    k = params["knn"]["k"]
    x_train, _ = read_feature_target(args.train, params)
    x_test, _ = read_feature_target(args.test, params)
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

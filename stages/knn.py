"""Stage `knn`: memorising the data, the tutorial's lookup table and its k-nearest fix.

    python -m stages.knn --train data/prepared/train.csv --test data/prepared/test.csv \
        --model models/knn.json --cv models/knn.cv.json --metrics metrics/knn.json

A KNN's model is its training set (standardised), so ``models/knn.json`` holds
the rows. The metrics say what the tutorial's exact lookup table, keyed on the
whole input row, would do with this split.
"""

from fromzero.neighbors import KNearestNeighbors, lookup_table_report
from stages import crossval
from stages.cli import StageError, check_work, stage_arguments, stage_main
from stages.files import read_xy, write_json, write_model


def make_model(params):
    return KNearestNeighbors(k=params["knn"]["k"])


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "test", "model", "cv", "metrics")
    k = params["knn"]["k"]
    X_train, y_train = read_xy(args.train, params)
    X_test, _ = read_xy(args.test, params)
    if k > len(X_train):
        raise StageError(f"params.yaml: knn.k = {k} is more than the {len(X_train)} training rows "
                         f"in {args.train}; lower knn.k or use more data")
    cv_rows = min(len(X_train), crossval.MAX_ROWS)
    fold_rows = cv_rows - -(-cv_rows // params["cv"]["folds"])  # the smallest fold's training rows
    if k > fold_rows:
        raise StageError(f"params.yaml: knn.k = {k} is more than the {fold_rows} training rows of a "
                         f"cross-validation fold (cv.folds = {params['cv']['folds']}); lower knn.k or cv.folds")
    # Answering a query holds and averages its k neighbours: about 24 bytes and 40-90 ns a
    # query·neighbour (measured), for evaluate's test rows and the cross-validation folds' rows.
    queries = len(X_test) + cv_rows
    check_work("knn.k", k, queries, 24, 100e-9, what=f"{queries} query rows (the test split and the folds)")
    dropped_rows, miss_rate = lookup_table_report(X_train, X_test)

    folds = crossval.cross_validation("knn", lambda: make_model(params), X_train, y_train, params)
    model = make_model(params).fit(X_train, y_train)
    write_json(args.cv, folds)
    write_model(args.model, "knn", model)
    write_json(args.metrics, {"knn": {
        "lookup_miss": miss_rate,  # share of test rows the exact-match dict cannot answer
        "lookup_dropped": dropped_rows,  # training rows the dict loses to repeated keys
    }})


if __name__ == "__main__":
    raise SystemExit(main())

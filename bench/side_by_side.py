"""fromzero's models and scikit-learn's, side by side on one split in one process (issue 24).

    python -m bench.side_by_side REPO [--out side.json]

REPO is a copy of the project after `dvc repro`: its params.yaml, models.yaml and splits
(data/prepared/*.csv, read by project/splits.py as every stage reads them). Each model is fitted
once on the whole training split and predicts the test rows evaluate scored (all of them, or the
seeded sample evaluate.json names), timed apart, beside its scikit-learn counterpart on the same
arrays:

  baseline       DummyRegressor (the mean)
  least_squares  LinearRegression
  knn            KNeighborsRegressor on the same standardised features (the model's own mean_ and
                 scale_), n_jobs=-1 as ours uses both cores, at its best algorithm: kd_tree,
                 ball_tree and brute are each fitted and timed on a probe of the queries, and the
                 fastest answers them all; the share of equal predictions is reported
  gd             SGDRegressor after StandardScaler, its defaults (it stops on its own tolerance)
  net            MLPRegressor with the net's hidden units (logistic), adam at its defaults, X and y
                 standardised, the net's batch size and as many epochs as the net's steps cover
  random_search  none (a blind search has no peer)

It is the library's speed, fit against fit: the pipeline does more (further seeds, folds, the
bootstrap, plots), which bench/pipeline.py's scale part times stage by stage.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from fromzero.sigmoid_net import auto_batch_size
from project.files import read_json
from project.models import read_models
from project.params import read_params
from project.splits import read_xy
from stages.evaluate import sampled_rows

PROBE_QUERIES = 200  # queries each KNN algorithm is timed on before the fastest answers them all


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def peer(name, model, X, y, params):
    """The scikit-learn estimator standing for fromzero's ``name`` (fitted ``model`` gives what they share)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import LinearRegression, SGDRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "baseline":
        return "DummyRegressor", DummyRegressor()
    if name == "least_squares":
        return "LinearRegression", LinearRegression()
    if name == "gd":
        return "SGDRegressor", make_pipeline(StandardScaler(), SGDRegressor(random_state=params["seed"]))
    if name == "net":
        batch = auto_batch_size(model.batch_size, len(X), model.optimizer) or len(X)
        epochs = max(1, int(np.ceil(int(model.steps) * batch / len(X))))
        mlp = MLPRegressor(hidden_layer_sizes=(int(model.hidden),), activation="logistic", solver="adam",
                           batch_size=batch, max_iter=epochs, random_state=params["seed"])
        return (f"MLPRegressor (adam, batch {batch}, {epochs} epochs)",
                TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp), transformer=StandardScaler()))
    return None, None


def best_knn(model, Z, y, Z_test):
    """(its name, seconds to fit, the fitted KNeighborsRegressor): the algorithm fastest on a probe of Z_test."""
    from sklearn.neighbors import KNeighborsRegressor

    probe = Z_test[:PROBE_QUERIES]
    trials = {}
    for algorithm in ("kd_tree", "ball_tree", "brute"):
        knn = KNeighborsRegressor(n_neighbors=int(model.k), algorithm=algorithm, n_jobs=-1)
        fit_s, _ = timed(lambda: knn.fit(Z, y))
        probe_s, _ = timed(lambda: knn.predict(probe))
        trials[algorithm] = (fit_s, probe_s, knn)
    algorithm = min(trials, key=lambda name: trials[name][1] + trials[name][0] * len(probe) / max(len(Z_test), 1))
    fit_s, _, knn = trials[algorithm]
    return (f"KNeighborsRegressor ({algorithm}, the fastest of kd_tree/ball_tree/brute on {len(probe)} queries: "
            + ", ".join(f"{name} {probe_s:.2f} s" for name, (_, probe_s, _) in trials.items()) + ")", fit_s, knn)


def side_by_side(repo):
    repo = Path(repo)
    registry = read_models(repo / "models.yaml")
    keys = ["seed", "data.target", "data.features", *dict.fromkeys(key for entry in registry for key in entry.params)]
    params = read_params(repo / "params.yaml", keys=keys, entries=list(registry))
    features, target = params["data"]["features"], params["data"]["target"]
    X, y = read_xy(repo / "data" / "prepared" / "train.csv", features, target)
    X_test, y_test = read_xy(repo / "data" / "prepared" / "test.csv", features, target)
    evaluated = read_json(repo / "metrics" / "evaluate.json")["details"]
    sampled = evaluated.get("test_sampled_rows")
    if sampled:
        rows = sampled_rows(len(y_test), params["seed"], sampled)
        X_test, y_test = X_test[rows], y_test[rows]
    results = {"train_rows": len(y), "test_rows_scored": len(y_test), "features": len(features), "models": {}}
    for entry in registry:
        model = entry.build(params)
        ours_fit, _ = timed(lambda: model.fit(X, y))
        ours_predict, ours = timed(lambda: model.predict(X_test))
        row = {"fromzero": {"fit_s": round(ours_fit, 3), "predict_s": round(ours_predict, 3),
                            "mse": round(float(np.mean((ours - y_test) ** 2)), 4)}}
        if entry.name == "knn":
            Z, Z_test = (X - model.mean_) / model.scale_, (X_test - model.mean_) / model.scale_
            name, fit_s, estimator = best_knn(model, Z, y, Z_test)
            predict_s, theirs = timed(lambda: estimator.predict(Z_test))
            row["same_predictions"] = round(float(np.mean(theirs == ours)), 4)
        else:
            name, estimator = peer(entry.name, model, X, y, params)
            if estimator is None:
                results["models"][entry.name] = row
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MLPRegressor's ConvergenceWarning: its epochs are set on purpose
                fit_s, _ = timed(lambda: estimator.fit(X, y))
            predict_s, theirs = timed(lambda: estimator.predict(X_test))
        row["scikit-learn"] = {"estimator": name, "fit_s": round(fit_s, 3), "predict_s": round(predict_s, 3),
                               "mse": round(float(np.mean((theirs - y_test) ** 2)), 4)}
        row["time_ratio"] = round((ours_fit + ours_predict) / max(fit_s + predict_s, 1e-9), 2)
        results["models"][entry.name] = row
        print(f"side by side: {entry.name}: {row}", file=sys.stderr, flush=True)
    paired = [row for row in results["models"].values() if "scikit-learn" in row]
    results["fromzero_s"] = round(sum(r["fromzero"]["fit_s"] + r["fromzero"]["predict_s"] for r in paired), 2)
    results["scikit-learn_s"] = round(sum(r["scikit-learn"]["fit_s"] + r["scikit-learn"]["predict_s"]
                                          for r in paired), 2)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = json.dumps(side_by_side(args.repo), indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()

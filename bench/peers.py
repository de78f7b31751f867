"""The sigmoid net against scikit-learn's MLPRegressor at its best setting (issue 12).

Both see the same thing: X and y standardised with the training split's mean and
std (ours inside ``fit``; MLPRegressor through StandardScaler on X and a
TransformedTargetRegressor on y), logistic hidden units, one hidden layer of 1,
4 or 8 units, 5 seeds. MLPRegressor runs with both of its solvers,
adam (its default) and lbfgs (what scikit-learn's guide advises for small data
sets), each until its own stopping rule, ``max_iter`` raised to the net's step
budget. For each width the better solver by median test MSE is
the peer; our net runs with ``optimizer="gd"`` and ``optimizer="lbfgs"``, every
other setting from the repository's params.yaml (learning rate, steps).
"""

import statistics
import time
import warnings

from bench.data import settings, split
from fromzero.least_squares import LeastSquares
from fromzero.linear import mean_squared_error
from fromzero.sigmoid_net import SigmoidNet

WIDTHS = (1, 4, 8)
SEEDS = (0, 1, 2, 3, 4)


def _timed(fit):
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def _mlp(hidden, solver, seed, max_iter):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPRegressor(hidden_layer_sizes=(hidden,), activation="logistic", solver=solver, max_iter=max_iter,
                       random_state=seed)
    return TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp), transformer=StandardScaler())


def bench_peers(widths=WIDTHS, seeds=SEEDS, features=("RM",)):
    from sklearn.exceptions import ConvergenceWarning

    X, y, X_test, y_test = split(features=features)
    net = settings("net")
    steps, learning_rate = int(net["steps"]), float(net["learning_rate"])
    runs = {}

    def record(key, seconds, model, iterations):
        runs.setdefault(key, []).append({"mse": mean_squared_error(y_test, model.predict(X_test)),
                                         "seconds": seconds, "iterations": iterations})

    # Warm-up, untimed: scikit-learn's and scipy's imports would land in the first timed fit.
    for optimizer in ("gd", "lbfgs"):
        SigmoidNet(hidden=1, steps=5, optimizer=optimizer).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in ("adam", "lbfgs"):
            _mlp(1, solver, 0, 5).fit(X, y)
    for hidden in widths:
        for seed in seeds:
            for optimizer in ("gd", "lbfgs"):
                seconds, model = _timed(lambda: SigmoidNet(hidden=hidden, learning_rate=learning_rate, steps=steps,
                                                           seed=seed, optimizer=optimizer).fit(X, y))
                record((hidden, f"net {optimizer}"), seconds, model, int(getattr(model, "n_iter_", steps)))
            for solver in ("adam", "lbfgs"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)  # the iterations are reported instead
                    seconds, model = _timed(lambda: _mlp(hidden, solver, seed, steps).fit(X, y))
                record((hidden, f"MLP {solver}"), seconds, model, int(model.regressor_[-1].n_iter_))
    rows = []
    for hidden in widths:
        medians = {}
        for name in ("net gd", "net lbfgs", "MLP adam", "MLP lbfgs"):
            entries = runs[(hidden, name)]
            medians[name] = {"mse": round(statistics.median(e["mse"] for e in entries), 3),
                             "seconds": round(statistics.median(e["seconds"] for e in entries), 4),
                             "iterations": int(statistics.median(e["iterations"] for e in entries)),
                             "mse_per_seed": [round(e["mse"], 3) for e in entries]}
        peer = min(("MLP adam", "MLP lbfgs"), key=lambda name: medians[name]["mse"])
        row = {"hidden": hidden, "runs": medians, "peer": peer}
        for ours in ("net gd", "net lbfgs"):
            row[ours] = {"mse_ratio": round(medians[ours]["mse"] / medians[peer]["mse"], 3),
                         "time_ratio_vs_peer": round(medians[ours]["seconds"] / medians[peer]["seconds"], 2),
                         "time_ratio_vs_mlp_lbfgs": round(medians[ours]["seconds"]
                                                          / medians["MLP lbfgs"]["seconds"], 2)}
        rows.append(row)
    line = LeastSquares().fit(X, y)
    return {"rows": rows, "seeds": list(seeds), "features": list(features), "net_steps": steps,
            "net_learning_rate": learning_rate, "mlp_max_iter": steps,
            "least_squares_mse": round(mean_squared_error(y_test, line.predict(X_test)), 3),
            "train_rows": len(y), "test_rows": len(y_test)}

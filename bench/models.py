"""The library's models against the tutorial's own methods: KNN's search, gradient descent's scaling."""

import statistics
import time

import numpy as np

from bench.data import split
from bench.make_data import synthetic_array
from fromzero.gradient_descent import GradientDescentLinear
from fromzero.linear import mean_squared_error
from fromzero.neighbors import KNearestNeighbors


def median_time(function, repeats):
    """(median seconds, last result) of calling ``function()`` ``repeats`` times."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def find_price_by_similar(history, query_x, topn=3):
    """The tutorial's KNN: sort every (rm, price) pair by distance to the query, average the top n.

    The tutorial sorts ``dict.items()``; here the same code sorts a list of every
    row's pair, so it does the work for the whole table, as our KNN does, rather
    than for the fewer rows a dict keyed on RM keeps.
    """
    most_similar_items = sorted(history, key=lambda e: (e[0] - query_x) ** 2)[:topn]
    return np.mean([price for rm, price in most_similar_items])


def bench_knn(repeats, sizes=(10**3, 10**4, 10**5)):
    """Queries per second: the tutorial's sort per query against KNearestNeighbors (RM alone, k = 3)."""
    rows = []
    for n in sizes:
        columns, values = synthetic_array(n + 1000, seed=1)
        x, y = values[:n, columns.index("RM")], values[:n, columns.index("MEDV")]
        queries = values[n:, columns.index("RM")]
        table = list(zip(x.tolist(), y.tolist()))  # every row, as Python pairs the way the tutorial holds them
        tutorial_queries = queries[: max(10, min(1000, 2 * 10**6 // n))]
        tutorial_s, expected = median_time(lambda: [find_price_by_similar(table, q) for q in tutorial_queries],
                                           repeats)
        model = KNearestNeighbors(k=3).fit(x[:, None], y)
        model.predict(queries[:1, None])  # the index is built on the first predict: not a query's cost
        ours_s, predicted = median_time(lambda: model.predict(queries[:, None]), repeats)
        # Ties at the third distance may pick different rows; on continuous RM they are rare.
        agree = float(np.mean(np.isclose(predicted[:len(expected)], expected)))
        tutorial_qps, ours_qps = len(tutorial_queries) / tutorial_s, len(queries) / ours_s
        rows.append({"train_rows": n, "tutorial_qps": round(tutorial_qps, 1), "ours_qps": round(ours_qps),
                     "speedup": round(ours_qps / tutorial_qps, 1), "same_answer_share": round(agree, 3)})
    return rows


def bench_gd(repeats):
    """Steps to numpy.linalg.lstsq's loss (relative 1e-9), raw feature against standardised, at lr 0.01."""
    X, y, _, _ = split(features=("RM",))
    design = np.column_stack([X, np.ones(len(y))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    optimum = mean_squared_error(y, design @ solution)
    result = {"lstsq_loss": optimum, "learning_rate": 0.01}
    cap = 400_000
    for label, standardize in (("raw", False), ("standardized", True)):
        # tol=0: never stop early; the loss history says when the optimum was reached.
        history = GradientDescentLinear(learning_rate=0.01, steps=cap, standardize=standardize, tol=0.0,
                                        seed=42).fit(X, y).loss_history_
        reached = np.flatnonzero(history <= optimum * (1 + 1e-9))
        steps = int(reached[0]) if reached.size else None
        seconds, _ = median_time(lambda: GradientDescentLinear(learning_rate=0.01, steps=max(steps or cap, 1),
                                                               standardize=standardize, tol=0.0,
                                                               seed=42).fit(X, y), repeats)
        result[label] = {"steps_to_lstsq": steps, "seconds": round(seconds, 4),
                         "gap_after_2000_steps": float(history[min(2000, len(history) - 1)] / optimum - 1)}
    raw, std = result["raw"]["steps_to_lstsq"], result["standardized"]["steps_to_lstsq"]
    result["step_ratio"] = round(raw / std, 1) if raw and std else None
    standardized = np.column_stack([(X - X.mean(0)) / X.std(0), np.ones(len(y))])
    # Of the loss's Hessian (2/n)·XᵀX: how elongated the valley is that the descent walks down.
    result["condition_number"] = {"raw": round(float(np.linalg.cond(design.T @ design)), 1),
                                  "standardized": round(float(np.linalg.cond(standardized.T @ standardized)), 3)}
    return result

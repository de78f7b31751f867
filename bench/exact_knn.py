"""Exact KNN against the strongest exact anchors (issue 24): fromzero, scikit-learn, faiss-cpu's IndexFlatL2.

    python -m bench.exact_knn [--train 200000 --queries 50000 --features 12 --k 3]

Normal data (no ties), every method on the same standardised rows (fromzero's own mean_ and scale_),
k = 3, all cores. Reported: each method's seconds (index build + queries), its answers against
fromzero's (the share of equal predictions; faiss works in float32, so its neighbours can differ
where two distances agree to float32's 7 digits), and the arithmetic limit of brute force: m·n·d
subtractions, squares and sums (2·m·n·d flops, 2.4·10^11 at the defaults) at the GEMM rate this
machine measures in float64, which no exact brute-force search can beat; a k-d tree can, by
computing fewer distances. scikit-learn's kd_tree is timed on a tenth of the queries (it is the
slowest here) and scaled, and says so. faiss-cpu is a bench-only dependency (bench/requirements.txt).
"""

import argparse
import json
import os
import time

import numpy as np

from fromzero.neighbors import KNearestNeighbors


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def gemm_gflops(size=1500, repeats=3):
    """float64 matrix-product rate on all cores (numpy's BLAS), in GFLOP/s: the brute-force ceiling."""
    a = np.random.default_rng(0).normal(size=(size, size))
    a @ a
    best = min(timed(lambda: a @ a)[0] for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def bench_exact_knn(train=200_000, queries=50_000, features=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X, X_query = rng.normal(size=(train, features)), rng.normal(size=(queries, features))
    y = rng.normal(size=train)
    rows = {}
    ours = KNearestNeighbors(k=k)
    fit_s, _ = timed(lambda: ours.fit(X, y))
    predict_s, expected = timed(lambda: ours.predict(X_query))
    rows["fromzero KNearestNeighbors (k-d tree, float64)"] = {"seconds": round(fit_s + predict_s, 2),
                                                             "build_s": round(fit_s, 2), "same_answers": 1.0}
    Z, Z_query = (X - ours.mean_) / ours.scale_, (X_query - ours.mean_) / ours.scale_

    from sklearn.neighbors import KNeighborsRegressor

    for algorithm, share in (("brute", 1), ("kd_tree", 10)):
        part = Z_query[: len(Z_query) // share]
        knn = KNeighborsRegressor(n_neighbors=k, algorithm=algorithm, n_jobs=-1)
        fit_s, _ = timed(lambda: knn.fit(Z, y))
        predict_s, answers = timed(lambda: knn.predict(part))
        label = f"scikit-learn KNeighborsRegressor {algorithm} (float64)"
        if share > 1:
            label += f" (timed on {len(part):,} queries, × {share})"
        rows[label] = {"seconds": round(fit_s + predict_s * share, 2), "build_s": round(fit_s, 2),
                       "same_answers": round(float(np.mean(answers == expected[: len(part)])), 4)}
    try:
        import faiss
    except ImportError:
        rows["faiss-cpu IndexFlatL2 (float32)"] = {"error": "not installed: pip install -r bench/requirements.txt"}
    else:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        index = faiss.IndexFlatL2(features)
        fit_s, _ = timed(lambda: index.add(np.ascontiguousarray(Z, dtype=np.float32)))
        search_s, (_, found) = timed(lambda: index.search(np.ascontiguousarray(Z_query, dtype=np.float32), k))
        answers = y[found].mean(axis=1)
        rows["faiss-cpu IndexFlatL2 (float32)"] = {
            "seconds": round(fit_s + search_s, 2), "build_s": round(fit_s, 2),
            "same_answers": round(float(np.mean(np.isclose(answers, expected, rtol=0, atol=1e-12))), 4),
            "version": faiss.__version__}
    flops = 2.0 * train * queries * features
    rate = gemm_gflops()
    return {"train_rows": train, "queries": queries, "features": features, "k": k, "rows": rows,
            "brute_force_flops": flops, "gemm_gflops": round(rate, 1),
            "brute_force_floor_s": round(flops / (rate * 1e9), 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(bench_exact_knn(args.train, args.queries, args.features, args.k), indent=2))


if __name__ == "__main__":
    main()

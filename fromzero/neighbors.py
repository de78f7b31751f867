"""Memorising the data, better than a lookup table: k-nearest neighbours (the table is fromzero/lookup.py)."""

import numpy as np

from fromzero.base import Cost, Estimator
from fromzero.errors import SettingError
from fromzero.settings import Whole
from fromzero.validation import check_fitted, check_X_y, params_array, params_int

CHUNK_VALUES = 1 << 20  # neighbour distances held at once while resolving ties (24 MiB with targets and rows)


class KNearestNeighbors(Estimator):
    """The tutorial's ``find_price_by_similar``: the mean target of the k nearest training rows.

    Distances are Euclidean on standardised features, z = (x - mean) / std with
    the training mean and std to 6 significant digits (a constant feature gets
    std 1): in raw units TAX (hundreds) would drown NOX (tenths). Every training
    row is a neighbour in its own right (duplicates kept, unlike the tutorial's
    dict).

    Ties: when the row after the k-th nearest is exactly as far as the k-th,
    which tied rows to take would be arbitrary (and depend on the order of the
    training rows). Instead the c rows strictly closer than the k-th distance
    get weight 1 and the m rows at exactly that distance share the remaining
    k - c equally:

        ŷ = (Σ_closer y + (k - c)/m · Σ_tied y) / k

    the k-nearest mean averaged over every admissible choice of the tied rows.
    The answer depends on the training rows as a set, never on their order;
    without a tie it is the plain mean of the k nearest (scikit-learn's
    KNeighborsRegressor's). Distances are |x - x_i| on the raw values for d = 1
    (scaling one axis changes no order), the k-d tree's Euclidean distances on
    z for d > 1.

    Attributes after ``fit``: ``X_train_`` (n, d) in original units, ``y_train_``,
    ``mean_``, ``scale_`` (d,), ``n_features_in_``.
    """

    settings = {"k": Whole(1)}

    def __init__(self, *, k=3):
        self.k = k

    def fit(self, X, y):
        X, y = check_X_y(X, y, estimator=self)
        _check_k(self.checked_settings()["k"], X.shape[0])
        mean, std = X.mean(axis=0), X.std(axis=0)
        # Any shift and positive scale standardise; these are rounded to 6 significant digits so the
        # model file (floats at 10) holds them exactly, and the rebuilt model finds the same neighbours.
        return self._remember(X, y, _short(mean), _short(np.where(std > 0, std, 1.0)))

    def _remember(self, X, y, mean, scale):
        self.X_train_, self.y_train_, self.mean_, self.scale_ = X, y, mean, scale
        self._index = _build_index(X, y, mean, scale)  # here, not in predict: predict changes nothing
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """X (m, d) -> (m,): each row's mean of its k nearest training targets, ties shared."""
        X = self._check_predict_input(X)
        k = _check_k(self.k, len(self.y_train_))
        if self.n_features_in_ == 1:
            return _predict_1d(*self._index, X[:, 0], k)
        return _predict_tree(*self._index, (X - self.mean_) / self.scale_, k)

    def cost(self, n_samples, n_features, n_predictions=0):
        """The cost, measured here, of a fit on (n_samples, n_features) and predicting ``n_predictions`` rows.

        The fit is an index (a sort, or a k-d tree): about 40 bytes a value of the training rows, which the
        model keeps. A query holds and sums its k neighbours (about 24 bytes and 0.5 µs a neighbour, 5 µs in
        all in one or two dimensions); from about 4 dimensions the k-d tree visits a growing share of the
        rows, about 7.7 ns × n^0.7 a feature at 12 features, more for a larger k (4 ms a query at 8·10^5
        rows × 12, k = 50).
        """
        k = min(int(self.k), max(n_samples, 1))  # a k beyond the rows cannot run: fit says so, naming k
        tree = min(1.0, max(0.0, (n_features - 2) / 10)) ** 1.5  # how far the k-d tree has degraded to brute force
        search = 7.7e-9 * max(n_samples, 1) ** 0.7 * n_features * tree * (1 + 0.6 * np.sqrt(k))
        per_query = 5e-6 + 0.5e-6 * k + search
        return Cost(40.0 * n_samples * (n_features + 1) + 24.0 * k * n_predictions,
                    2e-7 * n_samples * np.log2(max(n_samples, 2)) + per_query * n_predictions, "k", "k")

    def to_dict(self):
        check_fitted(self)
        # The training rows as they were read (exact already); mean and scale at 6 digits (see fit).
        return {"n_features_in": self.n_features_in_, "k": int(self.k), "mean": self.mean_, "scale": self.scale_,
                "X_train": self.X_train_, "y_train": self.y_train_}

    @classmethod
    def from_dict(cls, params):
        """A fitted model that predicts as the one whose ``to_dict()`` gave ``params``; ValueError if malformed."""
        name = cls.__name__
        d = params_int(name, params, "n_features_in", 1)
        k = params_int(name, params, "k", 1)
        X = params_array(name, params, "X_train", ndim=2)
        if X.shape[1] != d:
            raise ValueError(f"{name} parameter 'X_train' has {X.shape[1]} columns for n_features_in = {d}")
        y = params_array(name, params, "y_train", ndim=1, length=len(X))
        mean = params_array(name, params, "mean", ndim=1, length=d)
        scale = params_array(name, params, "scale", ndim=1, length=d)
        if np.any(scale <= 0):
            raise ValueError(f"{name} parameter 'scale' must be positive, got {scale.tolist()}")
        _check_k(k, len(X))
        return cls(k=k)._remember(X, y, mean, scale)


def _check_k(k, n):
    k = KNearestNeighbors.settings["k"].check("k", k)
    if k > n:
        raise SettingError("k", k, f"k = {k} is more than the training rows (n_samples = {n}): k must be between 1 "
                           f"and {n}", "lower")
    return k


def _short(values):
    return np.array([float(f"{value:.6g}") for value in values])


def _build_index(X, y, mean, scale):
    """What predict searches: for d = 1 the sorted values, their targets (and a 0 after them), and
    the values mirrored (-v, in increasing order); for d > 1 a k-d tree of the distinct
    standardised rows, with each one's count and the sum of its targets.

    Both depend on the training rows as a set, not their order: d = 1 sorts by value, then
    target; d > 1 numbers the distinct rows in an order set by their bytes and sums a row's
    targets in sorted order. Many duplicate rows make a small tree and cheap ties.
    """
    if X.shape[1] == 1:
        order = np.lexsort((y, X[:, 0]))
        return X[order, 0], np.append(y[order], 0.0), -X[order[::-1], 0]
    Z = np.ascontiguousarray((X - mean) / scale + 0.0)  # + 0.0: -0.0 becomes 0.0, so equal rows have equal bytes
    odd = np.uint64(0x9E3779B97F4A7C15) * np.arange(1, 2 * Z.shape[1], 2, dtype=np.uint64)  # wrapping uint64
    key = (Z.view(np.uint64) * odd).sum(axis=1)  # a hash of each row's bytes: equal rows, equal keys
    order = np.argsort(key)
    if np.all(np.diff(key[order]) != 0):  # no two rows alike (the usual case): one point per row, in hash order
        return _tree(Z[order]), np.ones(len(y), dtype=np.int64), y[order]
    _, group = np.unique(Z.view(np.dtype((np.void, Z.itemsize * Z.shape[1]))).ravel(), return_inverse=True)
    order = np.lexsort((y, group.ravel()))  # by distinct row (in byte order), then by target
    starts = np.flatnonzero(np.diff(group.ravel()[order], prepend=-1))
    return _tree(Z[order[starts]]), np.diff(starts, append=len(y)), np.add.reduceat(y[order], starts)


def _tree(points):  # leaves of 32, sliding-midpoint splits: 12-d queries 1.3x as fast as scipy's default here
    from scipy.spatial import cKDTree  # (the answers never depend on the tree's shape)

    return cKDTree(points, leafsize=32, balanced_tree=False)


def _predict_1d(values, targets, mirrored, x, k):
    """Predictions (m,) at x (m,) from sorted training values (n,), their targets (n + 1,: a 0 last)
    and the mirrored values (n,).

    searchsorted puts each query between two sorted neighbours (O(log n)); the
    window [lo, hi) then takes whichever of its outer neighbours is closer, k
    times, all queries at once: O(m·(log n + k)) time and O(m·k) memory. Rows
    left of p = searchsorted(x) are x - v away, the others v - x.
    """
    n = values.size
    p = np.searchsorted(values, x)
    lo, hi = p.copy(), p.copy()
    for _ in range(k):
        left = np.where(lo > 0, x - values[np.maximum(lo - 1, 0)], np.inf)
        right = np.where(hi < n, values[np.minimum(hi, n - 1)] - x, np.inf)
        take_left = left <= right
        lo -= take_left
        hi += ~take_left
    predictions = targets[lo[:, np.newaxis] + np.arange(k)].mean(axis=1)
    # The k-th distance is the window's farther end; a tie when the next row out is as far.
    kth = np.maximum(x - values[lo], values[hi - 1] - x)
    next_left = np.where(lo > 0, x - values[np.maximum(lo - 1, 0)], np.inf)
    next_right = np.where(hi < n, values[np.minimum(hi, n - 1)] - x, np.inf)
    tie = np.flatnonzero(np.minimum(next_left, next_right) == kth)
    if tie.size:
        x, p, lo, hi, kth = x[tie], p[tie], lo[tie], hi[tie], kth[tie]
        # The rows exactly kth away are a run on each side, [a_left, b_left) and [a_right, b_right),
        # around the closer ones between. The right side is the left side of the mirrored values.
        a_left, b_left = _left_run(values, x, p, lo, kth)
        mirror_a, mirror_b = _left_run(mirrored, -x, n - p, n - hi, kth)
        a_right, b_right = n - mirror_b, n - mirror_a
        closer = _segment_sums(targets, b_left, a_right)
        tied = _segment_sums(targets, a_left, b_left) + _segment_sums(targets, a_right, b_right)
        share = (k - (a_right - b_left)) / ((b_left - a_left) + (b_right - a_right))
        predictions[tie] = (closer + share * tied) / k
    return predictions


def _left_run(values, x, p, lo, kth):
    """[a, b): per query, the rows left of p (x - v away) exactly kth away; the k nearest start at lo.

    Distances fall towards p, so these rows are a run just before the closer ones. It is
    usually one value repeated: searchsorted finds that value's rows from one known to be kth
    away, and they are the whole run when the rows just outside are not; else bisection.
    """
    def distance(i):  # of rows left of p; an index out of range is clipped (and its answer unused)
        return x - values[np.clip(i, 0, len(values) - 1)]

    row = np.where((lo < p) & (distance(lo) == kth), lo, lo - 1)  # the window's first row, or the one before
    found = (row >= 0) & (distance(row) == kth)
    a, b = lo.copy(), lo.copy()  # none: the run is empty where the window starts
    same = values[row[found]]
    a[found], b[found] = np.searchsorted(values, same, "left"), np.searchsorted(values, same, "right")
    whole = ((a == 0) | (distance(a - 1) > kth)) & ((b == p) | (distance(b) < kth))
    odd = np.flatnonzero(found & ~whole)  # equal distances from unequal values: rounding; rare
    if odd.size:
        x, p, lo, kth = x[odd], p[odd], lo[odd], kth[odd]
        a[odd] = _first(np.zeros_like(p), lo, lambda i: x - values[i] <= kth)
        b[odd] = _first(lo, p, lambda i: x - values[i] < kth)
    return a, b


def _first(lo, hi, holds):
    """Per query, the first index i in [lo, hi) where ``holds(i)`` (true from there on), else hi: bisection."""
    lo, hi = lo.copy(), hi.copy()
    while np.any(lo < hi):
        active = lo < hi
        mid = (lo + hi) // 2
        ok = holds(np.where(active, mid, 0))
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    return lo


def _segment_sums(values, starts, ends):
    """Σ values[s:e] for each (s, e) pair, each summed in index order (an empty segment gives 0).
    ``values`` ends with a spare element, so that e may be the last real index + 1.

    One reduceat over the pairs sorted by start: it also sums the gaps between
    consecutive pairs, and sorted, those gaps add up to at most the n values.
    """
    order = np.argsort(starts, kind="stable")
    bounds = np.column_stack([starts[order], ends[order]]).ravel()
    sums = np.empty(len(starts))
    sums[order] = np.add.reduceat(values, bounds)[::2]
    return np.where(ends > starts, sums, 0.0)


def _predict_tree(tree, counts, sums, Z, k):
    """Predictions (m,) at Z (m, d) from the k-d tree of the distinct rows, their counts and target sums.

    One query for the k + 1 nearest distinct rows settles most queries: the
    plain mean of k single rows when the next one is farther. Otherwise (a
    duplicate among them, or a tie) the tie rule, weighting each distinct row by
    its count; a query whose k-th distance is shared beyond the rows it got
    counts the rows within that distance (the radius errs outwards) and asks for
    that many, rounded up to a power of two so that a few queries serve them
    all, a bounded number of rows at a time. The queries are independent, so
    they run on every core (the answer does not depend on how many). Brute force
    costs m·n distances: 10^5 queries against 10^5 rows took 100 s here against
    the tree's 20 s at d = 12.
    """
    n, size = tree.n, min(k + 1, tree.n)
    distance, rows = _query(tree, Z, size)
    predictions, plain = np.empty(len(Z)), np.zeros(len(Z), dtype=bool)
    if size > k:  # the plain mean of k single rows when the next distinct row is farther: most queries
        plain = np.all(counts[rows[:, :k]] == 1, axis=1) & (distance[:, k] > distance[:, k - 1])
        predictions[plain] = sums[rows[plain, :k]].mean(axis=1)
    rest = np.flatnonzero(~plain)
    work = [(rest, size, distance[rest], rows[rest])]
    while work:
        queries, size, distance, rows = work.pop()
        kth, whole = _kth(distance, counts[rows], k, size == n)
        predictions[queries[whole]] = _shared(distance[whole], counts[rows[whole]], sums[rows[whole]], kth[whole], k)
        missing = queries[~whole]
        if missing.size:  # more distinct rows at the k-th distance than asked for: count them, ask again
            count = tree.query_ball_point(Z[missing], kth[~whole] * (1.0 + 1e-9), return_length=True, workers=-1)
            wanted = np.minimum(2 ** np.ceil(np.log2(np.asarray(count) + 1.0)).astype(np.int64), n)
            wanted = np.maximum(wanted, min(2 * size, n))  # should the count fall short, progress anyway
            for size in np.unique(wanted).tolist():
                group = missing[wanted == size]
                for part in np.array_split(group, -(-group.size * size // CHUNK_VALUES)):
                    work.append((part, size, *_query(tree, Z[part], size)))
    return predictions


def _kth(distance, counts, k, everything):
    """(the k-th row's distance (m,), whether every distinct row that near was queried (m,))."""
    position = np.argmax(np.cumsum(counts, axis=1) >= k, axis=1)  # the distinct row holding the k-th row
    kth = distance[np.arange(len(distance)), position]
    return kth, everything | (distance[:, -1] > kth)


def _shared(distance, counts, sums, kth, k):
    """The tie rule over distinct rows (m, K): c rows closer than kth weigh 1, the m tied share k - c."""
    closer, tied = distance < kth[:, np.newaxis], distance == kth[:, np.newaxis]
    share = (k - np.where(closer, counts, 0).sum(axis=1)) / np.where(tied, counts, 0).sum(axis=1)
    return (np.where(closer, sums, 0.0).sum(axis=1) + share * np.where(tied, sums, 0.0).sum(axis=1)) / k


def _query(tree, Z, k):
    """(distances (m, k), distinct-row numbers (m, k)) of the k nearest, nearest first; at equal distance
    by row number (the rows' byte order), so every sum over them is the same whatever the training order."""
    distance, rows = tree.query(Z, k=k, workers=-1)
    distance, rows = np.asarray(distance).reshape(len(Z), k), np.asarray(rows).reshape(len(Z), k)
    level = np.flatnonzero(np.any(distance[:, 1:] == distance[:, :-1], axis=1))  # rows with an equal distance
    if level.size:
        order = np.lexsort((rows[level], distance[level]), axis=-1)
        distance[level] = np.take_along_axis(distance[level], order, axis=-1)
        rows[level] = np.take_along_axis(rows[level], order, axis=-1)
    return distance, rows

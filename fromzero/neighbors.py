"""Memorising the data: the tutorial's lookup table, and k-nearest neighbours."""

import numpy as np

from fromzero.validation import check_x_y


def lookup_table_report(train_x, test_x):
    """What the tutorial's ``{rm: price}`` dict does with this split.

    Returns (dropped_rows, miss_rate): how many training rows the dict loses to
    a repeated key, and the share of test inputs with no exact key, which the
    dict cannot answer at all.
    """
    train_x, test_x = check_x_y(train_x), check_x_y(test_x)
    keys = np.unique(train_x)
    dropped_rows = int(train_x.size - keys.size)
    miss_rate = float(np.mean(~np.isin(test_x, keys)))
    return dropped_rows, miss_rate


def make_knn_regressor(k):
    """scikit-learn's k-nearest-neighbour regressor, as the knn stage uses it.

    Every training row is a neighbour in its own right (duplicate x values are
    all kept, unlike the tutorial's dict), and the prediction is the plain mean
    of the k nearest targets, as ``find_price_by_similar`` takes. A k-d tree
    answers each query in O(log n) instead of sorting the whole table.
    """
    from sklearn.neighbors import KNeighborsRegressor  # heavy: only when a KNN is made

    return KNeighborsRegressor(n_neighbors=int(k), weights="uniform", algorithm="kd_tree")

"""Tier 1: the lookup table on whole rows, and KNN against brute force and scikit-learn.

KNN's tie rule: rows strictly closer than the k-th distance weigh 1, the m rows at exactly the
k-th distance share the remaining k - c; the answer depends on the training rows as a set.
"""

import json

import numpy as np
import pytest

import fromzero.neighbors as neighbors
from fromzero.lookup import lookup_table_report
from fromzero.neighbors import KNearestNeighbors
from tests.test_linear import boston_xy


def tie_rule_reference(model, X_query):
    """The tie rule by brute force: every training row's distance, as the model computes it.

    d = 1: |x - v| on the raw values (x - v left of x, v - x from x on); d > 1: a k-d tree's
    Euclidean distances on the standardised rows, all n of them (scipy computes each pair's
    distance the same way whatever the tree).
    """
    from scipy.spatial import cKDTree

    k, y = model.k, model.y_train_
    X_query = np.asarray(X_query, dtype=np.float64).reshape(-1, model.n_features_in_)
    predictions = []
    for query in X_query:
        if model.n_features_in_ == 1:
            v, x = model.X_train_[:, 0], query[0]
            distance, targets = np.where(v < x, x - v, v - x), y
        else:
            tree = cKDTree((model.X_train_ - model.mean_) / model.scale_)  # every row, duplicates too
            distance, rows = tree.query((query - model.mean_) / model.scale_, k=len(y))
            distance, targets = np.atleast_1d(distance), y[np.atleast_1d(rows)]
        kth = np.sort(distance)[k - 1]
        closer, tied = distance < kth, distance == kth
        predictions.append((targets[closer].sum() + (k - closer.sum()) / tied.sum() * targets[tied].sum()) / k)
    return np.array(predictions)


def has_tie(model, X_query):
    """Per query: is the row after the k-th nearest exactly as far (brute force, d = 1)?"""
    v, k = model.X_train_[:, 0], model.k
    ties = []
    for x in np.asarray(X_query, dtype=np.float64).reshape(-1):
        distance = np.sort(np.where(v < x, x - v, v - x))
        ties.append(k < len(v) and distance[k] == distance[k - 1])
    return np.array(ties)


def test_knn_keeps_duplicates_the_tutorials_dict_drops():
    x = np.array([1.0, 1.0, 1.0, 5.0, 9.0])
    y = np.array([10.0, 20.0, 30.0, 50.0, 90.0])
    knn = KNearestNeighbors(k=3).fit(x, y)
    # All three rows at x = 1 are neighbours; a dict keyed on x would keep only one of them.
    assert knn.predict([1.2])[0] == pytest.approx(20.0)
    assert lookup_table_report(x, np.array([1.0, 2.0])) == (2, 0.5)


def test_rows_tied_at_the_kth_distance_share_its_weight():
    x = np.array([1.0, 1.0, 1.0, 5.0, 9.0, 13.0])
    y = np.array([10.0, 20.0, 60.0, 50.0, 90.0, 0.0])
    knn = KNearestNeighbors(k=3).fit(x, y)
    # From 7: 5 and 9 are 2 away; the three rows at 1 and the one at 13 tie, 6 away, for the last place.
    assert knn.predict([7.0])[0] == pytest.approx((50.0 + 90.0 + (10.0 + 20.0 + 60.0 + 0.0) / 4) / 3, rel=1e-15)
    # From 3: the rows at 1 and 5 are all 2 away: four rows share the three places.
    assert knn.predict([3.0])[0] == pytest.approx(3 / 4 * (10.0 + 20.0 + 60.0 + 50.0) / 3, rel=1e-15)
    # From -100: the three rows at 1 fill the three places exactly: no tie, their mean.
    assert knn.predict([-100.0])[0] == pytest.approx(30.0, rel=1e-15)
    # From 100 with k = 4: 13, 9 and 5, then one of the three rows at 1: each weighs 1/3.
    knn = KNearestNeighbors(k=4).fit(x, y)
    assert knn.predict([100.0])[0] == pytest.approx((0.0 + 90.0 + 50.0 + 90.0 / 3) / 4, rel=1e-15)
    # In two dimensions: four rows on a circle of radius 1 around the query, k = 2.
    square = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [5.0, 5.0]])
    knn = KNearestNeighbors(k=2).fit(square, [1.0, 2.0, 3.0, 4.0, 100.0])
    assert knn.predict([[0.0, 0.0]])[0] == pytest.approx(2 / 4 * 10.0 / 2, rel=1e-15)  # each tied row weighs 1/2


@pytest.mark.parametrize("d", [1, 2, 12])
def test_shuffling_the_training_rows_changes_no_prediction(d):
    X, y, X_test, _ = boston_xy(d)
    queries = np.vstack([X_test, X, (X[:-1] + X[1:]) / 2])
    expected = KNearestNeighbors(k=3).fit(X, y).predict(queries)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(y))
        np.testing.assert_array_equal(KNearestNeighbors(k=3).fit(X[order], y[order]).predict(queries), expected)


@pytest.mark.parametrize("seed", range(8))
def test_the_tie_rule_equals_brute_force_on_data_full_of_ties(seed):
    rng = np.random.default_rng(seed)
    d = (1, 1, 2, 3)[seed % 4]
    n = int(rng.integers(1, 60))
    X = rng.integers(0, 5, size=(n, d)).astype(float)  # a lattice: duplicates and equal distances galore
    y = rng.normal(size=n)
    k = int(rng.integers(1, n + 1))
    queries = np.vstack([rng.integers(-1, 6, size=(30, d)).astype(float), rng.uniform(-1, 6, size=(30, d)), X])
    model = KNearestNeighbors(k=k).fit(X, y)
    np.testing.assert_allclose(model.predict(queries), tie_rule_reference(model, queries), rtol=1e-13, atol=1e-13)
    order = rng.permutation(n)
    np.testing.assert_array_equal(KNearestNeighbors(k=k).fit(X[order], y[order]).predict(queries),
                                  model.predict(queries))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_a_tie_among_many_duplicate_rows_is_one_shared_weight(d):
    rng = np.random.default_rng(d)
    X = np.vstack([np.zeros((200, d)), rng.normal(size=(50, d)) + 5.0])
    y = rng.normal(size=250)
    model = KNearestNeighbors(k=3).fit(X, y)
    queries = np.vstack([np.zeros((5, d)), np.full((3, d), 0.1), rng.normal(size=(20, d)) + 5.0])
    np.testing.assert_allclose(model.predict(queries), tie_rule_reference(model, queries), rtol=1e-13)
    assert model.predict(np.zeros((1, d)))[0] == pytest.approx(y[:200].mean(), rel=1e-12)  # 200 rows share 3 places


def test_a_tie_among_many_distinct_rows_is_resolved_a_few_rows_at_a_time(monkeypatch):
    monkeypatch.setattr(neighbors, "CHUNK_VALUES", 16)  # the tied queries' second look: chunks of 16 distances
    # (±3, ±4) and (±4, ±3): eight distinct rows exactly as far from the origin (squares summed either way).
    signs = [(a, b) for a in (-1.0, 1.0) for b in (-1.0, 1.0)]
    ring = np.array([(3 * a, 4 * b) for a, b in signs] + [(4 * a, 3 * b) for a, b in signs])
    X = np.vstack([ring, ring * 10])  # mean 0, the same spread on both axes: z keeps the symmetry
    y = np.arange(16.0)
    model = KNearestNeighbors(k=3).fit(X, y)
    np.testing.assert_array_equal(model.mean_, [0.0, 0.0])
    predicted = model.predict(np.zeros((6, 2)))
    np.testing.assert_allclose(predicted, y[:8].mean(), rtol=1e-15)  # the eight share the three places
    np.testing.assert_allclose(predicted, tie_rule_reference(model, np.zeros((6, 2))), rtol=1e-15)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_on_one_feature_equals_the_brute_force_reference(k):
    X, y, X_test, _ = boston_xy(1)
    # Queries: the test inputs plus points between, on and beyond training values (many ties in RM).
    queries = np.concatenate([X_test[:, 0], X[:50, 0], np.linspace(X.min() - 1, X.max() + 1, 200)])
    model = KNearestNeighbors(k=k).fit(X, y)
    assert has_tie(model, queries).sum() > 20  # RM repeats: the rule is exercised
    np.testing.assert_allclose(model.predict(queries), tie_rule_reference(model, queries), rtol=1e-13)


def test_the_tie_rule_on_rm_keeps_its_test_mse():
    X, y, X_test, y_test = boston_xy(1)
    mse = float(np.mean((KNearestNeighbors(k=3).fit(X, y).predict(X_test) - y_test) ** 2))
    assert f"{mse:.5g}" == "45.462"  # 46.013 before the rule: the first of the tied rows in sorted order


def test_knn_by_hand_on_two_features_standardised():
    # Column 2 is column 1 times 1000: standardised, both weigh the same.
    X = np.array([[0.0, 0.0], [1.0, 1000.0], [2.0, 2000.0], [10.0, 0.0]])
    y = np.array([0.0, 10.0, 20.0, 30.0])
    knn = KNearestNeighbors(k=2).fit(X, y)
    np.testing.assert_array_equal(knn.mean_, [3.25, 750.0])
    np.testing.assert_allclose(knn.predict([[1.4, 1400.0], [9.0, 100.0]]), [15.0, 15.0])


@pytest.mark.parametrize("d", [1, 2, 12])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_equals_sklearn_where_there_is_no_tie(d, k):
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    X, y, X_test, _ = boston_xy(d)
    queries = np.vstack([X_test, X[:40]])  # training rows query themselves, as the knn stage does not
    ours = KNearestNeighbors(k=k).fit(X, y)
    scaler = StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, scaler.mean_, rtol=5e-6)  # to the 6 digits it keeps
    np.testing.assert_allclose(ours.scale_, scaler.scale_, rtol=5e-6)
    scaler.mean_, scaler.scale_ = ours.mean_, ours.scale_  # the same standardisation, to the last bit
    theirs = KNeighborsRegressor(n_neighbors=k).fit(scaler.transform(X), y).predict(scaler.transform(queries))
    predicted = ours.predict(queries)
    if d > 1:  # [RM, LSTAT] and the 12 columns: no tie at the k-th distance, the same floats
        np.testing.assert_array_equal(predicted, theirs)
    else:  # RM repeats: where there is no tie the same neighbours, summed in another order of equal rows
        plain = ~has_tie(ours, queries)
        assert plain.mean() > 0.75
        np.testing.assert_allclose(predicted[plain], theirs[plain], rtol=1e-15)


def test_a_constant_feature_gets_scale_one():
    X = np.column_stack([np.arange(6.0), np.full(6, 5.0)])
    knn = KNearestNeighbors(k=1).fit(X, np.arange(6.0) * 10)
    assert knn.scale_[1] == 1.0
    np.testing.assert_array_equal(knn.predict([[2.1, 5.0], [3.9, -7.0]]), [20.0, 40.0])


def test_knn_checks_k_and_widths():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match=r"k = 4 is more than the training rows \(n_samples = 3\)"):
        KNearestNeighbors(k=4).fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(NotFittedError, match="not fitted"):
        KNearestNeighbors().predict([1.0])
    with pytest.raises(ValueError, match="X has 1 features, but KNearestNeighbors is expecting 2 features"):
        KNearestNeighbors(k=1).fit(np.ones((3, 2)), np.ones(3)).predict([1.0])


@pytest.mark.parametrize("d", [1, 2])
def test_predict_changes_nothing(d):
    X, y, X_test, _ = boston_xy(d)
    model = KNearestNeighbors(k=3).fit(X, y)
    before = dict(vars(model))
    model.predict(X_test)
    assert vars(model).keys() == before.keys() and all(vars(model)[key] is before[key] for key in before)


def test_k_equal_to_n_predicts_the_training_mean_everywhere():
    y = np.array([1.0, 2.0, 9.0])
    for X in (np.array([0.0, 1.0, 2.0]), np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])):
        knn = KNearestNeighbors(k=3).fit(X, y)
        np.testing.assert_allclose(knn.predict(X[:2] * 7), [4.0, 4.0])


def test_lookup_table_on_the_full_data_drops_60_rows(boston):
    dropped, miss = lookup_table_report(boston.RM.to_numpy(), boston.RM.to_numpy())
    assert dropped == 60  # 506 rows, 446 distinct RM values
    assert miss == 0.0


def test_lookup_table_is_keyed_on_the_whole_row():
    X_train = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 3.0], [2.0, 2.0]])
    X_test = np.array([[1.0, 2.0], [2.0, 3.0], [1.0, 3.0], [3.0, 3.0]])
    # One repeated row; [2, 3] shares each value with some training row but is not a training row.
    assert lookup_table_report(X_train, X_test) == (1, 0.5)
    assert lookup_table_report([[0.0, 1.0], [-0.0, 1.0]], [[0.0, 1.0]]) == (1, 0.0)  # -0.0 is 0.0
    with pytest.raises(ValueError, match="X has 3 features, but lookup_table_report is expecting 2"):
        lookup_table_report(X_train, np.ones((2, 3)))


def test_lookup_table_misses_more_with_more_features():
    X, _, X_test, _ = boston_xy(1)
    _, miss_one = lookup_table_report(X, X_test)
    X, _, X_test, _ = boston_xy(2)
    dropped_two, miss_two = lookup_table_report(X, X_test)
    assert miss_one < miss_two == 1.0 and dropped_two == 0


@pytest.mark.parametrize("d", [1, 12])
def test_the_model_file_rebuilds_the_same_predictions_ties_included(d):
    X, y, X_test, _ = boston_xy(d)
    model = KNearestNeighbors(k=3).fit(X, y)
    queries = np.vstack([X_test, X, (X[:-1] + X[1:]) / 2])  # midpoints: ties between two rows
    # The model file holds the training rows exactly and the scaling at 6 digits: the same neighbours, ties too.
    np.testing.assert_array_equal(KNearestNeighbors.from_dict(model.to_dict()).predict(queries), model.predict(queries))


GOOD = {"n_features_in": 1, "k": 2, "mean": [1.0], "scale": [2.0], "X_train": [[0.0], [1.0], [2.0]],
        "y_train": [1.0, 2.0, 3.0]}


@pytest.mark.parametrize("change, match", [
    ({"k": 4}, r"k = 4 is more than the training rows \(n_samples = 3\)"),
    ({"k": 0}, "'k' must be an integer at least 1"),
    ({"y_train": [1.0, 2.0]}, "'y_train' must be 1-D with 3 values"),
    ({"X_train": [], "y_train": []}, "'X_train' is empty"),
    ({"X_train": [[0.0, 1.0]] * 3}, "'X_train' has 2 columns for n_features_in = 1"),
    ({"X_train": [[0.0], [float("nan")], [2.0]]}, "'X_train' contains NaN or infinite"),
    ({"scale": [0.0]}, "'scale' must be positive"),
    ({"mean": [1.0, 2.0]}, "'mean' must be 1-D with 1 values"),
    ({"y_train": None}, "'y_train'"),
])
def test_from_dict_refuses_a_malformed_dict(change, match):
    KNearestNeighbors.from_dict(GOOD)  # the unchanged dict is fine
    with pytest.raises(ValueError, match=match):
        KNearestNeighbors.from_dict({**GOOD, **change})

"""Tier 1: the lookup table on whole rows, and KNN against brute force and scikit-learn."""

import numpy as np
import pytest

from fromzero.neighbors import KNearestNeighbors, lookup_table_report
from tests.test_linear import boston_xy


def admissible_range(Z_train, y_train, query, k):
    """The range of k-nearest means over every way of breaking distance ties (brute force).

    Every training row counts (duplicates included); rows tied with the k-th
    nearest may be taken in any order, so the answer is exact when there is no
    tie at the boundary and a narrow range when there is. Distances within a
    rounding error of the k-th count as tied.
    """
    distance = np.sqrt(((Z_train - query) ** 2).sum(axis=1))
    kth = np.sort(distance)[k - 1]
    slack = 1e-9 * max(kth, 1e-12)
    inside = y_train[distance < kth - slack]
    tied = np.sort(y_train[np.abs(distance - kth) <= slack])
    need = k - inside.size
    return (inside.sum() + tied[:need].sum()) / k, (inside.sum() + tied[-need:].sum()) / k


def assert_admissible(model, X_query, predictions, exact_share):
    """Every prediction lies in its admissible range; most queries (no tie) pin it exactly."""
    Z_train = (model.X_train_ - model.mean_) / model.scale_
    Z_query = (np.asarray(X_query, dtype=np.float64).reshape(len(predictions), -1) - model.mean_) / model.scale_
    exact = 0
    for query, predicted in zip(Z_query, predictions):
        low, high = admissible_range(Z_train, model.y_train_, query, model.k)
        assert low - 1e-9 <= predicted <= high + 1e-9
        exact += low == high
    assert exact >= exact_share * len(predictions)


def test_knn_keeps_duplicates_the_tutorials_dict_drops():
    x = np.array([1.0, 1.0, 1.0, 5.0, 9.0])
    y = np.array([10.0, 20.0, 30.0, 50.0, 90.0])
    knn = KNearestNeighbors(k=3).fit(x, y)
    # All three rows at x = 1 are neighbours; a dict keyed on x would keep only one of them.
    assert knn.predict([1.2])[0] == pytest.approx(20.0)
    # Far right: 9 and 5, then one of the three rows tied at x = 1, whichever the window takes.
    far = knn.predict([[100.0]])[0]
    assert min(abs(far - (90 + 50 + y_tied) / 3) for y_tied in (10.0, 20.0, 30.0)) < 1e-12
    assert knn.predict([-100.0])[0] == pytest.approx(20.0)
    assert lookup_table_report(x, np.array([1.0, 2.0])) == (2, 0.5)


def test_knn_by_hand_on_two_features_standardised():
    # Column 2 is column 1 times 1000: standardised, both weigh the same.
    X = np.array([[0.0, 0.0], [1.0, 1000.0], [2.0, 2000.0], [10.0, 0.0]])
    y = np.array([0.0, 10.0, 20.0, 30.0])
    knn = KNearestNeighbors(k=2).fit(X, y)
    np.testing.assert_array_equal(knn.mean_, [3.25, 750.0])
    np.testing.assert_allclose(knn.predict([[1.4, 1400.0], [9.0, 100.0]]), [15.0, 15.0])


@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_on_one_feature_equals_the_brute_force_reference(k):
    X, y, X_test, _ = boston_xy(1)
    # Queries: the test inputs plus points between, on and beyond training values (many ties in RM).
    queries = np.concatenate([X_test[:, 0], X[:50, 0], np.linspace(X.min() - 1, X.max() + 1, 200)])
    model = KNearestNeighbors(k=k).fit(X, y)
    assert_admissible(model, queries, model.predict(queries), exact_share=0.8)


@pytest.mark.parametrize("seed", range(5))
def test_the_1d_window_on_integer_data_full_of_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 12, size=60).astype(float)
    y = rng.normal(size=60)
    k = int(rng.integers(1, 60))
    queries = np.concatenate([np.arange(-2, 14, 0.5), x[:5]])
    model = KNearestNeighbors(k=k).fit(x, y)
    assert_admissible(model, queries, model.predict(queries), exact_share=0.0)


@pytest.mark.parametrize("d", [1, 2, 12])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_equals_sklearn_on_the_same_standardisation(d, k):
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
    exact_share = 0.75 if d == 1 else 0.95  # RM has repeated values: ties at the k-th distance
    assert_admissible(ours, queries, predicted, exact_share)
    assert_admissible(ours, queries, theirs, exact_share)
    same = np.isclose(predicted, theirs, rtol=1e-12)
    assert same.mean() >= (0.8 if d == 1 else 0.99)  # they differ only where ties are broken differently


def test_a_constant_feature_gets_scale_one():
    X = np.column_stack([np.arange(6.0), np.full(6, 5.0)])
    knn = KNearestNeighbors(k=1).fit(X, np.arange(6.0) * 10)
    assert knn.scale_[1] == 1.0
    np.testing.assert_array_equal(knn.predict([[2.1, 5.0], [3.9, -7.0]]), [20.0, 40.0])


def test_knn_checks_k_and_widths():
    with pytest.raises(ValueError, match="k must be between 1 and the 3 training rows"):
        KNearestNeighbors(k=4).fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="k must be"):
        KNearestNeighbors(k=0).fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="not fitted"):
        KNearestNeighbors().predict([1.0])
    with pytest.raises(ValueError, match="fitted on 2"):
        KNearestNeighbors(k=1).fit(np.ones((3, 2)), np.ones(3)).predict([1.0])


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
    with pytest.raises(ValueError, match="fitted on 2"):
        lookup_table_report(X_train, np.ones((2, 3)))


def test_lookup_table_misses_more_with_more_features():
    X, _, X_test, _ = boston_xy(1)
    _, miss_one = lookup_table_report(X, X_test)
    X, _, X_test, _ = boston_xy(2)
    dropped_two, miss_two = lookup_table_report(X, X_test)
    assert miss_one < miss_two == 1.0 and dropped_two == 0


@pytest.mark.parametrize("d", [1, 12])
def test_the_model_file_rebuilds_the_same_predictions_ties_included(d):
    import json

    X, y, X_test, _ = boston_xy(d)
    model = KNearestNeighbors(k=3).fit(X, y)
    queries = np.vstack([X_test, X, (X[:-1] + X[1:]) / 2])  # midpoints: ties between two rows
    # The stages write floats at 10 significant digits: the scaling has 6, the Boston data fewer than 10.
    text = json.dumps(model.to_dict())
    rounded = json.loads(text, parse_float=lambda value: float(f"{float(value):.10g}"))
    np.testing.assert_array_equal(KNearestNeighbors.from_dict(rounded).predict(queries), model.predict(queries))

import numpy as np
import pytest

from fromzero.neighbors import lookup_table_report, make_knn_regressor


def brute_force_range(x_train, y_train, query, k):
    """The range of k-nearest means over every way of breaking distance ties.

    Every training row counts (duplicate x values included); rows tied with the
    k-th nearest may be taken in any order, so the answer is exact when there is
    no tie at the boundary and a narrow range when there is.
    """
    distance = np.abs(x_train - query)
    kth = np.sort(distance)[k - 1]
    inside = y_train[distance < kth]
    tied = np.sort(y_train[distance == kth])
    need = k - inside.size
    low = (inside.sum() + tied[:need].sum()) / k
    high = (inside.sum() + tied[-need:].sum()) / k
    return low, high


def test_knn_keeps_duplicates_the_tutorials_dict_drops():
    x = np.array([1.0, 1.0, 1.0, 5.0, 9.0])
    y = np.array([10.0, 20.0, 30.0, 50.0, 90.0])
    knn = make_knn_regressor(3).fit(x.reshape(-1, 1), y)
    # All three rows at x = 1 are neighbours; a dict keyed on x would keep only one of them.
    assert knn.predict([[1.2]])[0] == pytest.approx(20.0)
    assert lookup_table_report(x, np.array([1.0, 2.0])) == (2, 0.5)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_equals_the_brute_force_reference_on_boston(boston_split, k):
    x, y, x_test, _ = boston_split
    # Queries: the test inputs plus points between and on training values (many ties in RM).
    queries = np.concatenate([x_test, x[:50], np.linspace(x.min() - 1, x.max() + 1, 200)])
    predictions = make_knn_regressor(k).fit(x.reshape(-1, 1), y).predict(queries.reshape(-1, 1))
    exact = 0
    for query, predicted in zip(queries, predictions):
        low, high = brute_force_range(x, y, query, k)
        assert low - 1e-9 <= predicted <= high + 1e-9
        exact += low == high
    assert exact > 0.8 * len(queries)  # most queries have no tie: there the check is exact


def test_lookup_table_on_the_full_data_drops_60_rows(boston):
    dropped, miss = lookup_table_report(boston.RM.to_numpy(), boston.RM.to_numpy())
    assert dropped == 60  # 506 rows, 446 distinct RM values
    assert miss == 0.0

"""Tier 1: k-fold splits, and cross-validated least squares against scikit-learn's cross_val_score."""

import numpy as np
import pytest

from fromzero.baseline import MeanBaseline
from fromzero.cross_validation import cross_validate, kfold_indices
from fromzero.least_squares import LeastSquares
from fromzero.neighbors import KNearestNeighbors
from tests.test_linear import boston_xy


@pytest.mark.parametrize("n, folds", [(10, 2), (10, 3), (404, 5), (7, 7)])
def test_folds_partition_the_rows_in_near_equal_parts(n, folds):
    splits = kfold_indices(n, folds, seed=0)
    assert len(splits) == folds
    tests = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))  # every row is a test row exactly once
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1
    for train, test in splits:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


def test_folds_are_shuffled_and_seeded():
    first, again, other = (kfold_indices(100, 5, seed=seed) for seed in (1, 1, 2))
    for (_, a), (_, b) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other))
    assert not np.array_equal(first[0][1], np.arange(20))  # not the first 20 rows in order


@pytest.mark.parametrize("d", [1, 2, 12])
def test_cv_of_least_squares_equals_sklearns_cross_val_score(d):
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score

    X, y, _, _ = boston_xy(d)
    ours = cross_validate(LeastSquares, X, y, folds=5, seed=42)
    theirs = -cross_val_score(LinearRegression(), X, y, cv=kfold_indices(len(y), 5, seed=42),
                              scoring="neg_mean_squared_error")
    assert ours.shape == (5,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_each_fold_gets_a_fresh_model():
    X, y, _, _ = boston_xy(1)
    made = []

    def make_model():
        made.append(MeanBaseline())
        return made[-1]

    scores = cross_validate(make_model, X, y, folds=4, seed=0)
    assert len({id(model) for model in made}) == 4
    assert scores.shape == (4,) and np.all(scores > 0)


@pytest.mark.parametrize("folds", [1, 11])
def test_folds_out_of_range_are_rejected(folds):
    with pytest.raises(ValueError, match="folds"):
        kfold_indices(10, folds, seed=0)


def test_an_estimator_is_cloned_for_each_fold():
    from sklearn.base import clone as sklearn_clone

    X, y, _, _ = boston_xy(2)
    model = KNearestNeighbors(k=5)
    scores = cross_validate(model, X, y, folds=5, seed=42)
    assert not hasattr(model, "n_features_in_")  # the model given stays unfitted: each fold fits a clone
    np.testing.assert_array_equal(scores, cross_validate(lambda: KNearestNeighbors(k=5), X, y, folds=5, seed=42))
    clone = sklearn_clone(model)
    assert clone is not model and clone.get_params() == {"k": 5}

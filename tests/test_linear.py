import numpy as np
import pytest

from fromzero.linear import LeastSquaresLine, line_loss_and_gradient, mean_squared_error


def lstsq_line(x, y):
    design = np.column_stack([x, np.ones_like(x)])
    (k, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return k, b


def test_mse_matches_the_tutorials_example_and_sklearn():
    from sklearn.metrics import mean_squared_error as sk_mse

    # The tutorial's example: [3, 6, 7] against [3, 4, 7] and [3, 6, 6].
    assert mean_squared_error([3, 6, 7], [3, 4, 7]) == pytest.approx(4 / 3)
    assert mean_squared_error([3, 6, 7], [3, 6, 6]) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=50), rng.normal(size=50)
    assert mean_squared_error(y, y_hat) == pytest.approx(sk_mse(y, y_hat), rel=1e-12)


def test_least_squares_matches_numpy_lstsq(line_data):
    x, y = line_data
    model = LeastSquaresLine().fit(x, y)
    k, b = lstsq_line(x, y)
    assert model.k_ == pytest.approx(k, rel=1e-10)
    assert model.b_ == pytest.approx(b, rel=1e-10)
    assert model.predict(x).shape == (len(x),)


def test_least_squares_on_boston_matches_lstsq(boston_split):
    x, y, _, _ = boston_split
    model = LeastSquaresLine().fit(x, y)
    assert (model.k_, model.b_) == pytest.approx(lstsq_line(x, y), rel=1e-10)


@pytest.mark.parametrize("k, b", [(0.0, 0.0), (9.1, -34.0), (-50.0, 100.0)])
def test_partials_match_central_finite_differences(line_data, k, b):
    x, y = line_data
    _, dk, db = line_loss_and_gradient(k, b, x, y)
    h = 1e-6
    fd_k = (line_loss_and_gradient(k + h, b, x, y)[0] - line_loss_and_gradient(k - h, b, x, y)[0]) / (2 * h)
    fd_b = (line_loss_and_gradient(k, b + h, x, y)[0] - line_loss_and_gradient(k, b - h, x, y)[0]) / (2 * h)
    assert dk == pytest.approx(fd_k, rel=1e-6, abs=1e-6)
    assert db == pytest.approx(fd_b, rel=1e-6, abs=1e-6)


def test_least_squares_rejects_constant_x_and_unfitted_predict():
    with pytest.raises(ValueError, match="constant"):
        LeastSquaresLine().fit(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="not fitted"):
        LeastSquaresLine().predict([1.0])
    with pytest.raises(ValueError, match="NaN"):
        LeastSquaresLine().fit([1.0, np.nan], [1.0, 2.0])

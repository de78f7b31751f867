import warnings

import numpy as np
import pytest

from fromzero.errors import DivergenceError
from fromzero.linear import LeastSquaresLine, mean_squared_error
from fromzero.sigmoid_net import SigmoidNet, loss_and_gradients, sigmoid, sigmoid_pieces, sum_of_sigmoids


def test_sigmoid_matches_scipy_and_never_overflows():
    from scipy.special import expit

    z = np.concatenate([np.linspace(-50, 50, 1001), [-1e308, -1000.0, -710.0, 710.0, 1000.0, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        s = sigmoid(z)
    np.testing.assert_allclose(s, expit(z), rtol=1e-15, atol=1e-300)  # subnormals: ours keeps e^-710
    assert s[-6] == 0.0 and s[-1] == 1.0
    assert sigmoid(0.0) == 0.5


def test_one_unit_is_the_tutorials_formula():
    x = np.linspace(-3, 3, 11)
    k1, b1, k2, b2 = 1.7, -0.4, 2.5, 0.3
    expected = k2 * (1 / (1 + np.exp(-(k1 * x + b1)))) + b2
    np.testing.assert_allclose(sum_of_sigmoids(x, np.array([k1]), np.array([b1]), np.array([k2]), b2), expected)


def finite_difference_gradients(x, y, params, h=1e-6):
    grads = {}
    for name, value in params.items():
        flat = np.atleast_1d(np.array(value, dtype=np.float64))
        grad = np.empty_like(flat)
        for i in range(flat.size):
            plus, minus = flat.copy(), flat.copy()
            plus[i] += h
            minus[i] -= h
            shaped = (lambda v: v if np.ndim(value) else float(v[0]))
            up = loss_and_gradients(x, y, **{**params, name: shaped(plus)})[0]
            down = loss_and_gradients(x, y, **{**params, name: shaped(minus)})[0]
            grad[i] = (up - down) / (2 * h)
        grads[name] = grad if np.ndim(value) else float(grad[0])
    return grads


@pytest.mark.parametrize("hidden", [1, 3, 8])
def test_backprop_matches_central_finite_differences(hidden):
    rng = np.random.default_rng(hidden)
    x = rng.normal(size=40)
    y = np.sin(2 * x) + rng.normal(scale=0.1, size=40)
    params = {"k1": rng.normal(size=hidden), "b1": rng.normal(size=hidden),
              "k2": rng.normal(size=hidden), "b2": float(rng.normal())}
    _, analytic = loss_and_gradients(x, y, **params)
    numeric = finite_difference_gradients(x, y, params)
    for name in params:
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-5, atol=1e-9, err_msg=name)


def test_pieces_sum_to_the_net():
    rng = np.random.default_rng(0)
    k1, b1, k2 = rng.normal(size=(3, 4))
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(sigmoid_pieces(x, k1, b1, k2).sum(axis=1) + 0.5,
                               sum_of_sigmoids(x, k1, b1, k2, 0.5))


def test_default_net_beats_the_least_squares_line_on_the_test_split(boston_split):
    x, y, x_test, y_test = boston_split
    net = SigmoidNet(hidden=4, learning_rate=0.3, steps=2000, seed=42).fit(x, y)
    line = LeastSquaresLine().fit(x, y)
    net_mse = mean_squared_error(y_test, net.predict(x_test))
    line_mse = mean_squared_error(y_test, line.predict(x_test))
    assert net_mse < 0.9 * line_mse
    assert net.loss_history_[-1] < net.loss_history_[0]


def test_net_is_no_worse_than_sklearns_mlp_with_the_same_units(boston_split):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, x_test, y_test = boston_split
    mlp = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,), activation="logistic",
                                                     max_iter=5000, tol=1e-6, random_state=42)),
        transformer=StandardScaler()).fit(x.reshape(-1, 1), y)
    net = SigmoidNet(hidden=4, learning_rate=0.3, steps=2000, seed=42).fit(x, y)
    ours = mean_squared_error(y_test, net.predict(x_test))
    theirs = mean_squared_error(y_test, mlp.predict(x_test.reshape(-1, 1)))
    assert ours <= 1.02 * theirs


def test_weights_in_original_units_predict_what_the_standardised_net_learned(boston_split):
    x, y, _, _ = boston_split
    net = SigmoidNet(hidden=3, learning_rate=0.3, steps=300, seed=1).fit(x, y)
    # The last recorded loss is before the last step; one step later it can only be close.
    assert mean_squared_error(y, net.predict(x)) == pytest.approx(net.loss_history_[-1], rel=1e-3)


def test_same_seed_same_net_and_mini_batches_are_reproducible(boston_split):
    x, y, _, _ = boston_split
    a = SigmoidNet(hidden=2, steps=200, seed=5, batch_size=64).fit(x, y)
    b = SigmoidNet(hidden=2, steps=200, seed=5, batch_size=64).fit(x, y)
    c = SigmoidNet(hidden=2, steps=200, seed=6, batch_size=64).fit(x, y)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    np.testing.assert_array_equal(a.k1_, b.k1_)
    assert not np.array_equal(a.k1_, c.k1_)


def test_a_rate_that_explodes_raises_divergence(boston_split):
    x, y, _, _ = boston_split
    with pytest.raises(DivergenceError) as caught:
        SigmoidNet(hidden=4, learning_rate=5.0, steps=2000, seed=42).fit(x, y)
    assert caught.value.reason == "became non-finite"
    assert 0 < caught.value.step < 2000

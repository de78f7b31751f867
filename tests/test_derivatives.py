import numpy as np
import pytest

from fromzero.derivatives import finite_difference_gradient


def test_central_differences_of_a_quadratic_are_exact_to_rounding():
    # L = Σ a_ij² · w_ij + 3·c² - c·Σ v:  dL/da = 2·a·w, dL/dc = 6c - Σ v, dL/dv = -c
    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3))
    params = {"a": rng.normal(size=(2, 3)), "c": 0.7, "v": rng.normal(size=4)}

    def loss(p):
        return float(np.sum(p["a"] ** 2 * w) + 3 * p["c"] ** 2 - p["c"] * p["v"].sum())

    grads = finite_difference_gradient(loss, params)
    np.testing.assert_allclose(grads["a"], 2 * params["a"] * w, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(grads["v"], -0.7 * np.ones(4), rtol=1e-7)
    assert isinstance(grads["c"], float)
    assert grads["c"] == pytest.approx(6 * 0.7 - params["v"].sum(), rel=1e-7)
    assert grads["a"].shape == (2, 3) and grads["v"].shape == (4,)


def test_the_parameters_are_left_unchanged_and_the_loss_is_called_twice_per_scalar():
    params = {"a": np.array([[1.0, 2.0]]), "b": 3.0}
    before = {"a": params["a"].copy(), "b": params["b"]}
    calls = []

    def loss(p):
        calls.append(1)
        return float(np.sum(np.sin(p["a"])) * p["b"])

    grads = finite_difference_gradient(loss, params)
    np.testing.assert_array_equal(params["a"], before["a"])
    assert params["b"] == before["b"]
    assert len(calls) == 2 * 3
    np.testing.assert_allclose(grads["a"], 3.0 * np.cos([[1.0, 2.0]]), rtol=1e-8)
    assert grads["b"] == pytest.approx(np.sin(1.0) + np.sin(2.0), rel=1e-8)


def test_error_shrinks_like_h_squared():
    def loss(p):
        return float(np.exp(p["x"]))

    errors = [abs(finite_difference_gradient(loss, {"x": 0.5}, h=h)["x"] - np.exp(0.5)) for h in (1e-2, 1e-3)]
    assert errors[1] < errors[0] / 50  # O(h²): a tenth of h, a hundredth of the error

import doctest
import warnings

import numpy as np
import pytest

from fromzero import autodiff
from fromzero.autodiff import Tensor
from fromzero.sigmoid_net import net_loss_and_gradients_autodiff
from fromzero.derivatives import finite_difference_gradient
from fromzero.sigmoid_net import loss_and_gradients, sigmoid


def check_against_finite_differences(build, **arrays):
    """Gradient of Σ (build(**tensors) · W), W random, by backward() and by central differences."""
    rng = np.random.default_rng(len(arrays))
    out_shape = build(**{name: Tensor(value) for name, value in arrays.items()}).shape
    weights = rng.normal(size=out_shape)

    def loss(params):
        return float((build(**{name: Tensor(value) for name, value in params.items()}) * weights).sum().data)

    tensors = {name: Tensor(value) for name, value in arrays.items()}
    (build(**tensors) * weights).sum().backward()
    numeric = finite_difference_gradient(loss, arrays)
    for name, tensor in tensors.items():
        assert tensor.grad.shape == np.shape(arrays[name]), name
        np.testing.assert_allclose(tensor.grad, numeric[name], rtol=1e-6, atol=1e-8, err_msg=name)


RNG = np.random.default_rng(1)
A23, B23, C34 = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
V3, V2, V4 = RNG.normal(size=3), RNG.normal(size=2), RNG.normal(size=4)

OPS = {
    "add": (lambda a, b: a + b, {"a": A23, "b": B23}),
    "sub": (lambda a, b: a - b, {"a": A23, "b": B23}),
    "mul": (lambda a, b: a * b, {"a": A23, "b": B23}),
    "neg": (lambda a: -a, {"a": A23}),
    "pow2": (lambda a: a ** 2, {"a": A23}),
    "pow3": (lambda a: a ** 3, {"a": A23}),
    "pow-half": (lambda a: a ** -0.5, {"a": np.abs(A23) + 0.5}),
    "sum": (lambda a: a.sum(), {"a": A23}),
    "sum-axis0": (lambda a: a.sum(axis=0), {"a": A23}),
    "sum-axis1": (lambda a: a.sum(axis=1), {"a": A23}),
    "mean": (lambda a: a.mean(), {"a": A23}),
    "mean-axis0": (lambda a: a.mean(axis=0), {"a": A23}),
    "sigmoid": (lambda a: a.sigmoid(), {"a": 3 * A23}),
    "matmul-2d-2d": (lambda a, b: a @ b, {"a": A23, "b": C34}),
    "matmul-2d-1d": (lambda a, b: a @ b, {"a": A23, "b": V3}),
    "matmul-1d-2d": (lambda a, b: a @ b, {"a": V2, "b": A23}),
    "matmul-1d-1d": (lambda a, b: a @ b, {"a": V3, "b": V3 + 1}),
    "constants": (lambda a: 2.0 - (3.0 * a + 1.0) * 0.5, {"a": A23}),
    "reused": (lambda a: a * a + a, {"a": A23}),  # one value used three times: gradients add up
    "pow-np-int64": (lambda a: a ** np.int64(2), {"a": A23}),
    "pow-np-int32-odd": (lambda a: a ** np.int32(3), {"a": A23}),
    "pow-np-int64-negative": (lambda a: a ** np.int64(-1), {"a": np.abs(A23) + 0.5}),
    "pow-np-uint8": (lambda a: a ** np.uint8(2), {"a": A23}),
    "pow-np-float64": (lambda a: a ** np.float64(2.5), {"a": np.abs(A23) + 0.5}),
    "pow-np-float32": (lambda a: a ** np.float32(0.5), {"a": np.abs(A23) + 0.5}),
    "pow-0d-array": (lambda a: a ** np.array(3), {"a": A23}),
    "ndarray + tensor": (lambda a: B23 + a, {"a": A23}),
    "ndarray - tensor": (lambda a: B23 - a, {"a": A23}),
    "ndarray * tensor": (lambda a: B23 * a, {"a": A23}),
    "np.float64 * tensor": (lambda a: np.float64(1.5) * a, {"a": A23}),
    "ndarray @ tensor": (lambda a: A23 @ a, {"a": C34}),
}


@pytest.mark.parametrize("name", OPS)
def test_each_operations_gradient_matches_finite_differences(name):
    build, arrays = OPS[name]
    check_against_finite_differences(build, **arrays)


A234 = RNG.normal(size=(2, 3, 4))
REDUCTIONS = [  # (method, keyword arguments) as a numpy user writes them, on a (2, 3, 4) array
    ("sum", {}), ("sum", {"axis": 1}), ("sum", {"axis": -1}), ("sum", {"axis": np.int64(2)}),
    ("sum", {"axis": (0, 2)}), ("sum", {"axis": (-1, 0)}), ("sum", {"axis": (0, 1, 2)}), ("sum", {"axis": ()}),
    ("sum", {"keepdims": True}), ("sum", {"axis": 1, "keepdims": True}), ("sum", {"axis": (0, -1), "keepdims": True}),
    ("mean", {}), ("mean", {"axis": 0}), ("mean", {"axis": -2}), ("mean", {"axis": np.int64(2)}),
    ("mean", {"axis": (0, 2)}), ("mean", {"axis": (-1, -3)}), ("mean", {"axis": (2, 0, 1)}), ("mean", {"axis": ()}),
    ("mean", {"keepdims": True}), ("mean", {"axis": -1, "keepdims": True}), ("mean", {"axis": (1, 2), "keepdims": True}),
]


def call(method, kwargs):
    return f"{method}({', '.join(f'{key}={value!r}' for key, value in kwargs.items())})"


@pytest.mark.parametrize("method, kwargs", REDUCTIONS, ids=[call(m, k) for m, k in REDUCTIONS])
def test_reductions_match_numpy_and_finite_differences(method, kwargs):
    value = getattr(Tensor(A234), method)(**kwargs).data
    expected = getattr(np, method)(A234, **kwargs)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-14, atol=1e-15)
    check_against_finite_differences(lambda a: getattr(a, method)(**kwargs), a=A234)


BAD_AXES = [({"axis": 3}, ValueError), ({"axis": -4}, ValueError), ({"axis": (0, 3)}, ValueError),
            ({"axis": (1, -2)}, ValueError), ({"axis": 1.0}, TypeError)]  # out of range, repeated, not an integer


@pytest.mark.parametrize("kwargs, error", BAD_AXES, ids=[call("", k) for k, _ in BAD_AXES])
@pytest.mark.parametrize("method", ["sum", "mean"])
def test_bad_axes_raise_as_numpy_does(method, kwargs, error):
    with pytest.raises(error):
        getattr(A234, method)(**kwargs)
    with pytest.raises(error):
        getattr(Tensor(A234), method)(**kwargs)


def test_numpy_number_exponents_give_the_same_bits_as_python_numbers():
    for numpy_exponent, python_exponent in [(np.int64(2), 2), (np.int32(-1), -1), (np.float64(0.5), 0.5),
                                            (np.float32(0.25), 0.25), (np.array(3), 3)]:
        a, b = Tensor(np.abs(A23) + 0.5), Tensor(np.abs(A23) + 0.5)
        x, y = a ** numpy_exponent, b ** python_exponent
        x.sum().backward()
        y.sum().backward()
        assert x.data.tobytes() == y.data.tobytes() and a.grad.tobytes() == b.grad.tobytes(), numpy_exponent


@pytest.mark.parametrize("exponent", [Tensor(2.0), np.array([2, 3]), 2j, np.complex128(2), "2", None])
def test_exponents_other_than_a_real_number_are_refused(exponent):
    with pytest.raises(TypeError, match="exponent must be a constant real number"):
        Tensor(A23) ** exponent


def test_an_array_on_the_left_gives_a_tensor_not_an_array_of_tensors():
    for result in (B23 + Tensor(A23), B23 * Tensor(A23), np.float64(2.0) * Tensor(A23), A23 @ Tensor(C34)):
        assert isinstance(result, Tensor)


BROADCASTS = {
    "row-vector + matrix": ({"a": A23, "b": V3}, lambda a, b: a + b),
    "matrix * column": ({"a": A23, "b": V2[:, np.newaxis]}, lambda a, b: a * b),
    "scalar * matrix": ({"a": A23, "b": np.array(1.7)}, lambda a, b: a * b),
    "(1,3) - (2,1)": ({"a": V3[np.newaxis, :], "b": V2[:, np.newaxis]}, lambda a, b: a - b),
    "vector + scalar": ({"a": V4, "b": np.array(0.3)}, lambda a, b: (a + b).sigmoid()),
}


@pytest.mark.parametrize("name", BROADCASTS)
def test_broadcast_inputs_get_the_sum_of_their_copies_gradients(name):
    arrays, build = BROADCASTS[name]
    check_against_finite_differences(build, **arrays)


def test_a_broadcast_bias_gradient_is_the_column_sum():
    x = Tensor(np.ones((5, 3)))
    bias = Tensor(np.zeros(3))
    (x + bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, [5.0, 5.0, 5.0])


def test_backward_twice_gives_the_same_gradients_not_twice_them():
    w = Tensor([1.0, -2.0])
    loss = ((w * 3.0) ** 2).sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(w.grad, first)
    np.testing.assert_array_equal(first, [18.0, -36.0])


def test_constants_receive_no_gradient():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=False)
    w = Tensor([0.5, -1.0])
    (x @ w).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((3, 2)))
    np.testing.assert_array_equal(w.grad, [6.0, 9.0])


def test_sigmoid_op_equals_the_nets_sigmoid_and_never_overflows():
    z = np.array([-1e308, -1000.0, -5.0, 0.0, 5.0, 1000.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(z)
        t.sigmoid().sum().backward()
    np.testing.assert_array_equal(Tensor(z).sigmoid().data, sigmoid(z))
    assert np.all(np.isfinite(t.grad)) and t.grad[0] == 0.0 and t.grad[3] == 0.25


def test_matmul_rejects_3d():
    with pytest.raises(ValueError, match="1-D and 2-D"):
        Tensor(np.ones((2, 2, 2))) @ Tensor(np.ones(2))


def test_module_example_runs():
    assert doctest.testmod(autodiff).failed == 0


@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize("hidden", [1, 3, 8])
def test_net_gradients_autodiff_equal_hand_written_and_finite_differences(d, hidden):
    rng = np.random.default_rng(10 * d + hidden)
    n = 30
    X = rng.normal(size=(n, d))
    y = np.sin(X @ rng.normal(size=d)) + rng.normal(scale=0.1, size=n)
    params = {"k1": rng.normal(size=(d, hidden)), "b1": rng.normal(size=hidden),
              "k2": rng.normal(size=hidden), "b2": float(rng.normal())}
    loss_auto, auto = net_loss_and_gradients_autodiff(X, y, **params)
    loss_hand, hand = loss_and_gradients(X, y, **params)
    numeric = finite_difference_gradient(lambda p: loss_and_gradients(X, y, **p)[0], params)
    assert loss_auto == pytest.approx(loss_hand, rel=1e-14)
    assert isinstance(auto["b2"], float)
    for name in params:
        assert np.shape(auto[name]) == np.shape(params[name]), name
        np.testing.assert_allclose(auto[name], hand[name], rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(auto[name], numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)


def test_backward_through_a_100000_operation_chain_matches_the_closed_form():
    # y = x, then 50,000 times y = y·c + 0.5 (100,000 operations deep): dy/dx = c^50000; recursion would stop at ~1,000
    x = Tensor([0.5, -1.0, 2.0])
    c, half = Tensor(1.00001, requires_grad=False), Tensor(0.5, requires_grad=False)
    y = x
    for _ in range(50_000):
        y = y * c + half
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, 1.00001 ** 50_000), rtol=1e-10)


def test_backward_through_deep_diamonds_gives_each_shared_node_its_complete_gradient():
    # 2,000 times: a = y·c, y = a·p + a·q (a used twice, 8,000 operations deep): dy/dx = (c(p + q))^2000
    x = Tensor([0.3, -1.7])
    y, c, p, q = x, 0.5, 0.75, 1.2505
    for _ in range(2_000):
        a = y * c
        y = a * p + a * q
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(2, (c * (p + q)) ** 2_000), rtol=1e-11)


@pytest.mark.parametrize("n, d, hidden", [(7, 1, 1), (30, 1, 4), (12, 3, 5)])
def test_net_gradients_are_exactly_these_numpy_operations(n, d, hidden):
    """The pipeline's outputs are byte-for-byte reproducible, so the bits of the net's autodiff gradients are
    pinned: backward() does exactly the numpy operations below (each grad starts at 0.0 and has its
    contribution added; constants get nothing). An engine change that alters a bit fails here."""
    rng = np.random.default_rng(100 * n + 10 * d + hidden)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    k1, b1, k2, b2 = rng.normal(0, 2, size=(d, hidden)), rng.normal(size=hidden), rng.normal(size=hidden), 0.3
    loss, auto = net_loss_and_gradients_autodiff(X, y, k1, b1, k2, b2)

    def grad(contribution):
        return np.zeros(np.shape(contribution)) + contribution

    s = sigmoid(X @ k1 + b1)  # forward, as the graph computes it: y_hat - y = (s @ k2 + b2) + y · -1
    residual = (s @ k2 + b2) + y * -1.0
    g_sum = grad(np.array(1.0 / n) * np.ones(()))  # mean = sum · (1/n)
    g_squares = grad(np.broadcast_to(g_sum, (n,)))  # sum
    g_residual = grad(2 * residual ** 1 * g_squares)  # ** 2
    g_y_hat = grad(g_residual)  # + (y · -1)
    g_s_k2 = grad(g_y_hat)  # + b2
    g_b2 = grad(g_y_hat.sum(axis=0))
    g2 = g_s_k2.reshape(n, 1)  # s @ k2
    g_s = grad((g2 @ k2[:, np.newaxis].T).reshape(s.shape))
    g_k2 = grad((s.T @ g2).reshape(k2.shape))
    g_z = grad(s * (1.0 - s) * g_s)  # sigmoid
    g_x_k1 = grad(g_z)  # + b1
    g_b1 = grad(g_z.sum(axis=0))
    g_k1 = grad((X.T @ g_x_k1.reshape(n, hidden)).reshape(k1.shape))  # X @ k1
    assert loss == float((residual ** 2).sum() * (1.0 / n))
    for name, expected in {"k1": g_k1, "b1": g_b1, "k2": g_k2}.items():
        assert auto[name].dtype == np.float64 and auto[name].tobytes() == expected.tobytes(), name
    assert auto["b2"] == float(g_b2)

"""The net's loss and its gradient: the chain rule written out by hand, and the same by autodiff.

    f(X) = σ(X @ k1 + b1) @ k2 + b2 = Σ_j k2_j · σ(Σ_i X_i · k1_ij + b1_j) + b2

Shapes throughout: X (n, d), y (n,); k1 (d, hidden); b1, k2 (hidden,); b2 a float. Each gradient
function returns (loss, {"k1", "b1", "k2", "b2"}), each gradient shaped like its parameter; tests
hold both against central finite differences (fromzero/derivatives.py).
"""

import numpy as np

from fromzero.activations import sigmoid
from fromzero.autodiff import Tensor


def sigmoid_pieces(X, k1, b1, k2):
    """Each unit's contribution k2_j·σ(X @ k1_j + b1_j): shape (n, hidden).

    X is (n, d), or (n,) for one feature; k1 is (d, hidden), or (hidden,) for
    one feature; b1 and k2 are (hidden,).
    """
    X = np.asarray(X, dtype=np.float64)
    X = X[:, np.newaxis] if X.ndim == 1 else X
    k1 = np.asarray(k1, dtype=np.float64)
    k1 = k1[np.newaxis, :] if k1.ndim == 1 else k1
    return sigmoid(X @ k1 + b1) * k2


def sum_of_sigmoids(X, k1, b1, k2, b2):
    """f(X), shape (n,), for the shapes ``sigmoid_pieces`` takes; b2 a float."""
    return sigmoid_pieces(X, k1, b1, k2).sum(axis=1) + b2


def loss_and_gradients(X, y, k1, b1, k2, b2):
    """MSE of the net on (X, y) and its partials, by the chain rule written out by hand.

    Shapes: X (n, d), y (n,); k1 (d, hidden); b1, k2 (hidden,); b2 a float.
    Returns (loss, {"k1", "b1", "k2", "b2"}) with each gradient shaped like its parameter.
    Memory: a few (n, hidden) arrays.
    """
    n = X.shape[0]
    z = X @ k1 + b1  # (n, hidden): each unit's input
    s = sigmoid(z)  # (n, hidden): each unit's output
    y_hat = s @ k2 + b2  # (n,)
    residual = y_hat - y
    loss = float(residual @ residual / n)
    g = 2.0 * residual / n  # dL/dy_hat_i = 2 (y_hat_i - y_i) / n, (n,)
    grad_k2 = s.T @ g  # dL/dk2_j = Σ_i g_i · s_ij
    grad_b2 = float(g.sum())  # dL/db2 = Σ_i g_i
    g_z = np.outer(g, k2) * s * (1.0 - s)  # dL/dz_ij = g_i · k2_j · σ'(z_ij), σ' = s(1 - s)
    grad_k1 = X.T @ g_z  # dL/dk1_ij = Σ_r X_ri · dL/dz_rj
    grad_b1 = g_z.sum(axis=0)  # dL/db1_j = Σ_i dL/dz_ij
    return loss, {"k1": grad_k1, "b1": grad_b1, "k2": grad_k2, "b2": grad_b2}


def net_loss_and_gradients_autodiff(X, y, k1, b1, k2, b2):
    """The net's MSE and its gradients, by building the loss as one graph and calling backward().

    The same contract as ``loss_and_gradients``: X (n, d),
    y (n,), k1 (d, hidden), b1 and k2 (hidden,), b2 a float; returns (loss,
    {"k1", "b1", "k2", "b2"}) with each gradient shaped like its parameter.
    """
    params = {"k1": Tensor(k1), "b1": Tensor(b1), "k2": Tensor(k2), "b2": Tensor(b2)}
    X, y = Tensor(X, requires_grad=False), Tensor(y, requires_grad=False)
    hidden = (X @ params["k1"] + params["b1"]).sigmoid()  # (n, hidden)
    y_hat = hidden @ params["k2"] + params["b2"]  # (n,)
    loss = ((y_hat - y) ** 2).mean()
    loss.backward()
    grads = {name: tensor.grad for name, tensor in params.items()}
    grads["b2"] = float(grads["b2"])
    return float(loss.data), grads


def net_loss(X, y, k1, b1, k2, b2):
    """The MSE alone (a forward pass, no gradient)."""
    residual = sum_of_sigmoids(X, k1, b1, k2, b2) - y
    return float(residual @ residual / X.shape[0])

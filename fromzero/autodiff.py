"""Reverse-mode automatic differentiation, from scratch, over numpy arrays.

How do computers find derivatives? Not by algebra, and not (only) by nudging:
every value remembers the operation that made it and the values it was made
from, and every operation knows its own local derivative. ``backward()`` then
walks that graph from the output back to the inputs, multiplying local
derivatives by the chain rule, so one backward pass, costing about as much as
the forward pass, yields the gradient with respect to every input at once.

This is micrograd (github.com/karpathy/micrograd) with arrays instead of
scalars, so a whole batch of the net is one graph. Arrays add one rule: when an
operation broadcast an input (a bias (h,) added to every row of an (n, h)
array), the input was used many times, so its gradient is the sum of the
gradients of all its copies (``_unbroadcast``).

    >>> w = Tensor([1.0, 2.0]); x = Tensor([[3.0, 4.0]], requires_grad=False)
    >>> loss = ((x @ w - 12.0) ** 2).mean(); loss.backward(); w.grad
    array([-6., -8.])
"""

import math

import numpy as np

from fromzero.activations import sigmoid


class Tensor:
    """A numpy array that records how it was computed, and its gradient.

    ``data``: the value (float64 ndarray). ``grad``: d(output)/d(this), same
    shape, filled in by ``output.backward()``. ``requires_grad=False`` marks a
    constant (the data X, y): nothing is propagated into it.
    """

    __array_ufunc__ = None  # ndarray + Tensor: numpy defers to Tensor.__radd__, no array of Tensors

    def __init__(self, data, requires_grad=True, _parents=(), _op=""):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.requires_grad = requires_grad
        self._parents = _parents  # the Tensors this one was computed from
        self._op = _op  # for printing the graph
        self._backward = lambda: None  # adds this node's grad into its parents' grads

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return f"Tensor(shape={self.shape}, op={self._op!r})"

    # ---- operations: each computes its value and says how gradients flow back ----

    def __add__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data + other.data, _parents=(self, other), _op="+")

        def _backward():
            # d(a + b)/da = 1, d(a + b)/db = 1: the gradient passes through unchanged
            _accumulate(self, out.grad)
            _accumulate(other, out.grad)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_tensor(other)
        out = Tensor(self.data * other.data, _parents=(self, other), _op="*")

        def _backward():
            # d(a·b)/da = b, d(a·b)/db = a (elementwise)
            if self.requires_grad:
                _accumulate(self, other.data * out.grad)
            if other.requires_grad:
                _accumulate(other, self.data * out.grad)
        out._backward = _backward
        return out

    def __matmul__(self, other):
        other = _as_tensor(other)
        a, b = self.data, other.data
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"@ supports 1-D and 2-D arrays only, got shapes {a.shape} and {b.shape}")
        out = Tensor(a @ b, _parents=(self, other), _op="@")

        def _backward():
            # C = A @ B: dL/dA = dL/dC @ Bᵀ, dL/dB = Aᵀ @ dL/dC (a 1-D operand is a row or a column)
            g = out.grad
            a2 = a if a.ndim == 2 else a[np.newaxis, :]  # a vector on the left is one row
            b2 = b if b.ndim == 2 else b[:, np.newaxis]  # a vector on the right is one column
            g2 = g.reshape(a2.shape[0], b2.shape[1])
            if self.requires_grad:
                _accumulate(self, (g2 @ b2.T).reshape(a.shape))
            if other.requires_grad:
                _accumulate(other, (a2.T @ g2).reshape(b.shape))
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, (np.generic, np.ndarray)) and np.ndim(exponent) == 0:
            exponent = exponent.item()  # np.int64(2), np.float32(0.5): the Python number it holds
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"the exponent must be a constant real number, got {exponent!r}")
        out = Tensor(self.data ** exponent, _parents=(self,), _op=f"**{exponent}")

        def _backward():
            # d(aᵖ)/da = p·aᵖ⁻¹
            _accumulate(self, exponent * self.data ** (exponent - 1) * out.grad)
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all; an int or a tuple, negative counting from the end), as numpy."""
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), _parents=(self,), _op="sum")

        def _backward():
            # d(Σ a)/da_i = 1: every summed element receives the output's gradient
            # (the summed axes put back as length 1, then stretched to the input's shape)
            g = out.grad if axis is None or keepdims else np.expand_dims(out.grad, axis)
            _accumulate(self, np.broadcast_to(g, self.shape))
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``, as numpy: the sum divided by the number of elements summed."""
        total = self.sum(axis=axis, keepdims=keepdims)
        if axis is None:
            count = self.data.size
        else:
            count = math.prod(self.shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))
        return total * (1.0 / count)  # built from sum and *: no backward of its own

    def sigmoid(self):
        out = Tensor(sigmoid(self.data), _parents=(self,), _op="σ")

        def _backward():
            # dσ(a)/da = σ(a)·(1 - σ(a)), from the value already computed
            _accumulate(self, out.data * (1.0 - out.data) * out.grad)
        out._backward = _backward
        return out

    # ---- the rest follows from the above ----

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_as_tensor(other))

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return _as_tensor(other) - self

    def __rmul__(self, other):
        return self * other

    def __rmatmul__(self, other):
        return _as_tensor(other) @ self

    # ---- the backward pass ----

    def backward(self):
        """Fill ``.grad`` of every Tensor this one was computed from with d(self)/d(it).

        The output's own gradient is 1 (for a non-scalar output: ones, i.e. the
        gradient of its sum). Gradients are recomputed, not accumulated, on
        every call.
        """
        # Topological order without recursion, so without a depth limit: a depth-first walk with a stack of (node,
        # its parents not yet walked) lists each node after its parents; reversed, a grad is complete before use.
        order, visited, stack = [], {self}, [(self, iter(self._parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in visited:  # walk into the first parent not seen yet, come back later
                    visited.add(parent)
                    stack.append((parent, iter(parent._parents)))
                    break
            else:  # every parent listed: list the node
                stack.pop()
                order.append(node)
        for node in order:
            if node.requires_grad:  # a constant's grad is never written: it stays zeros
                node.grad = np.zeros_like(node.data)
        self.grad = np.ones_like(self.data)  # dL/dL = 1
        for node in reversed(order):  # from the output back to the inputs
            node._backward()


def _as_tensor(value):
    """A plain number or array used in an operation is a constant."""
    return value if isinstance(value, Tensor) else Tensor(value, requires_grad=False)


def _accumulate(node, grad):
    """node.grad += grad, summed back down to node's shape where the forward pass broadcast it.

    A value used several times (directly, or copied by broadcasting) collects the
    sum of the gradients of all its uses.
    """
    if node.requires_grad:
        node.grad = node.grad + _unbroadcast(grad, node.shape)


def _unbroadcast(grad, shape):
    """Sum ``grad`` over the axes along which an array of ``shape`` was broadcast."""
    while grad.ndim > len(shape):  # leading axes that broadcasting added
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # axes of length 1 that broadcasting stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad

"""How do computers find derivatives? One gradient of the net's MSE, three ways (docs/derivatives.md's table).

For the net at growing widths on Boston RM (the 404 training rows, standardised as the net
trains), the time of one full gradient by finite differences, the hand-derived chain rule
and reverse-mode autodiff, and the max abs difference of FD and autodiff from the hand one.
"""
import time

import numpy as np

from bench.data import split
from fromzero.derivatives import finite_difference_gradient
from fromzero.sigmoid_net import loss_and_gradients, net_loss, net_loss_and_gradients_autodiff


def best_time(function, budget=0.3, at_most=200):
    """Best of several calls (the machine is shared): seconds per call."""
    times, spent = [], 0.0
    while spent < budget and len(times) < at_most:
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return min(times)


def gradient_table(X, y, widths=(1, 4, 16, 64), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for hidden in widths:
        d = X.shape[1]
        params = {"k1": rng.normal(0, 2, size=(d, hidden)), "b1": rng.normal(size=hidden),
                  "k2": rng.normal(0, 1 / np.sqrt(hidden), size=hidden), "b2": 0.1}
        _, hand = loss_and_gradients(X, y, **params)
        _, auto = net_loss_and_gradients_autodiff(X, y, **params)
        fd = finite_difference_gradient(lambda p: net_loss(X, y, **p), params)
        flat = lambda g: np.concatenate([np.ravel(g[k]) for k in ("k1", "b1", "k2", "b2")])  # noqa: E731
        rows.append({
            "hidden": hidden, "parameters": flat(hand).size,
            "fd_s": best_time(lambda: finite_difference_gradient(lambda p: net_loss(X, y, **p), params)),
            "hand_s": best_time(lambda: loss_and_gradients(X, y, **params)),
            "autodiff_s": best_time(lambda: net_loss_and_gradients_autodiff(X, y, **params)),
            "fd_err": float(np.max(np.abs(flat(fd) - flat(hand)))),
            "autodiff_err": float(np.max(np.abs(flat(auto) - flat(hand)))),
            "grad_scale": float(np.max(np.abs(flat(hand)))),
        })
    return rows


def main():
    X_train, y, _, _ = split(features=("RM",))  # the pipeline's own split of the Boston data (bench/data.py)
    x = X_train[:, 0]
    X = ((x - x.mean()) / x.std())[:, None]
    t = (y - y.mean()) / y.std()
    print(f"Boston RM, {len(t)} training rows, standardised; one gradient of the MSE; best of repeated calls")
    print("| hidden | parameters | finite differences | hand-derived | autodiff | FD / hand | autodiff / hand "
          "| max abs error FD | max abs error autodiff | largest gradient |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in gradient_table(X, t):
        print(f"| {r['hidden']} | {r['parameters']} | {r['fd_s'] * 1e3:.2f} ms | {r['hand_s'] * 1e6:.0f} µs | "
              f"{r['autodiff_s'] * 1e6:.0f} µs | {r['fd_s'] / r['hand_s']:.0f}× | {r['autodiff_s'] / r['hand_s']:.1f}× | "
              f"{r['fd_err']:.1e} | {r['autodiff_err']:.1e} | {r['grad_scale']:.2g} |")


if __name__ == "__main__":
    main()

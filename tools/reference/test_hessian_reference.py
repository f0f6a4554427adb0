#!/usr/bin/env python3
"""Self-checks of hessian_reference.py (run: python3 tools/reference/test_hessian_reference.py).

1. Convergence: for every activation the default node count agrees with 1.5 times as many nodes to
   1e-12 relative to max|H| (polynomials are integrated exactly, so they agree to rounding).
2. Linear closed form: H = [[ (a a^T) (x) I, a (x) W1^T ... ]] written out by hand.
3. Monte Carlo: E[J J^T] from 200k plain Gaussian samples of x (no row-space reduction) agrees
   entrywise within 6 standard errors estimated from the samples.
4. Nh > 3 is refused with exit status 1.
"""

import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hessian_reference as ref  # noqa: E402

ACTS = [
    {"kind": "linear"},
    {"kind": "quadratic", "epsilon": 0.7},
    {"kind": "polynomial", "coefficients": [0.1, 1.0, -0.5, 0.3, 0.2]},
    {"kind": "erf"},
    {"kind": "tanh"},
]


def nets(seed):
    rng = np.random.default_rng(seed)
    for ni, nh in [(5, 3), (2, 3), (4, 1), (3, 2)]:
        w1 = rng.standard_normal((nh, ni)) / math.sqrt(ni) * 1.8
        w2 = rng.standard_normal(nh)
        yield w1, w2


def jac_samples(w1, w2, act, x):
    g, dg = ref.activation_functions(act)
    z = w1 @ x.T  # Nh x n
    nh, ni = w1.shape
    jw1 = ((dg(z) * w2[:, None])[:, None, :] * x.T[None, :, :]).reshape(nh * ni, -1)
    return np.vstack([jw1, g(z)])  # D x n


def check_convergence():
    worst = 0.0
    for act in ACTS:
        for w1, w2 in nets(11):
            n = ref.default_nodes(act, w1)
            a = ref.reference_hessian(w1, w2, act, n)
            b = ref.reference_hessian(w1, w2, act, (3 * n) // 2)
            rel = np.abs(a - b).max() / np.abs(b).max()
            worst = max(worst, rel)
            assert rel < 1e-12, (act, w1.shape, rel)
    print(f"convergence: worst relative change on raising the nodes 1.5-fold {worst:.2e}")


def check_linear():
    for w1, w2 in nets(12):
        nh, ni = w1.shape
        h = ref.reference_hessian(w1, w2, {"kind": "linear"}, 4)
        d = nh * ni + nh
        e = np.zeros((d, d))
        for m in range(nh):
            for n in range(ni):
                for p in range(nh):
                    e[m * ni + n, p * ni + n] = w2[m] * w2[p]
                for k in range(nh):
                    e[m * ni + n, nh * ni + k] = w2[m] * w1[k, n]
                    e[nh * ni + k, m * ni + n] = w2[m] * w1[k, n]
        e[nh * ni :, nh * ni :] = w1 @ w1.T
        assert np.abs(h - e).max() < 1e-13 * np.abs(e).max(), (w1.shape, np.abs(h - e).max())
    print("linear closed form: ok")


def check_monte_carlo():
    rng = np.random.default_rng(13)
    n = 200_000
    worst = 0.0
    for act in ACTS:
        for w1, w2 in nets(14):
            h = ref.reference_hessian(w1, w2, act, ref.default_nodes(act, w1))
            x = rng.standard_normal((n, w1.shape[1]))
            j = jac_samples(w1, w2, act, x)
            mean = j @ j.T / n
            second = (j * j) @ (j * j).T / n
            se = np.sqrt(np.maximum(second - mean**2, 0.0) * n / (n - 1) / n)
            z = np.abs(mean - h) / np.maximum(se, 1e-300)
            z[se == 0] = 0.0
            assert np.all(np.abs(mean - h)[se == 0] < 1e-12), act
            worst = max(worst, z.max())
            assert z.max() < 6.0, (act, w1.shape, z.max())
    print(f"monte carlo: worst |exact - mean| / SE = {worst:.2f} (limit 6)")


def check_refuses_large():
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"activation": {"kind": "erf"}, "w1": [[1.0]] * 4, "w2": [1.0] * 4}, f)
    r = subprocess.run([sys.executable, ref.__file__, f.name], capture_output=True, text=True)
    os.unlink(f.name)
    assert r.returncode == 1 and "Nh <= 3" in r.stderr and r.stdout == "", r
    print("refuses Nh > 3: ok")


if __name__ == "__main__":
    check_linear()
    check_convergence()
    check_monte_carlo()
    check_refuses_large()


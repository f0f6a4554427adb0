#!/usr/bin/env python3
"""Self-checks of hessian_reference.py (run: python3 tools/reference/test_hessian_reference.py).

1. Convergence: for every activation the default node count agrees with 1.5 times as many nodes to
   1e-12 relative to max|H| (polynomials are integrated exactly, so they agree to rounding).
2. Linear closed form: H = [[ (a a^T) (x) I, a (x) W1^T ... ]] written out by hand.
3. Monte Carlo: E[J J^T] from 200k plain Gaussian samples of x (no row-space reduction) agrees
   entrywise within 6 standard errors estimated from the samples.
4. Nh > 3 is refused with exit status 1.
5. The student reference (student_reference.py): at student = teacher it equals the optimum
   reference (the functional term vanishes); at other students (another width, another
   activation, biases on one side) it agrees with a plain Monte Carlo average of
   J J^T + r d2y/dtheta2 within 6 standard errors, and with 1.5 times the nodes to 1e-11.
"""

import math
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hessian_reference as ref  # noqa: E402
import student_reference as sref  # noqa: E402

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


def student_samples(teacher, student, x):
    """Per-sample J J^T + r d2y/dtheta2 (D x D x n, plain samples of x, no reduction)."""
    tw1, tw2, tb1, tb2 = sref.network(teacher)
    sw1, sw2, sb1, sb2 = sref.network(student)
    g, dg = ref.activation_functions(student["activation"])
    d2g = sref.second_derivative(student["activation"])
    h_t, _ = ref.activation_functions(teacher["activation"])
    nh, ni = sw1.shape
    z = sw1 @ x.T + (0.0 if sb1 is None else sb1[:, None])
    zt = tw1 @ x.T + (0.0 if tb1 is None else tb1[:, None])
    res = sw2 @ g(z) + (sb2 or 0.0) - tw2 @ h_t(zt) - (tb2 or 0.0)
    ag1 = dg(z) * sw2[:, None]
    rows = [(ag1[:, None, :] * x.T[None, :, :]).reshape(nh * ni, -1), g(z)]
    if sb1 is not None:
        rows.append(ag1)
    if sb2 is not None:
        rows.append(np.ones((1, x.shape[0])))
    j = np.vstack(rows)
    d = j.shape[0]
    out = j[:, None, :] * j[None, :, :]
    iw2, ib1 = nh * ni, nh * ni + nh
    for m in range(nh):
        a2 = sw2[m] * d2g(z[m]) * res
        for n in range(ni):
            for q in range(ni):
                out[m * ni + n, m * ni + q] += a2 * x[:, n] * x[:, q]
            v = dg(z[m]) * res * x[:, n]
            out[m * ni + n, iw2 + m] += v
            out[iw2 + m, m * ni + n] += v
            if sb1 is not None:
                out[m * ni + n, ib1 + m] += a2 * x[:, n]
                out[ib1 + m, m * ni + n] += a2 * x[:, n]
        if sb1 is not None:
            out[iw2 + m, ib1 + m] += dg(z[m]) * res
            out[ib1 + m, iw2 + m] += dg(z[m]) * res
            out[ib1 + m, ib1 + m] += a2
    assert out.shape[:2] == (d, d)
    return out


def check_student():
    rng = np.random.default_rng(15)

    def net(act, nh, ni, b1=False, b2=False, scale=1.2):
        d = {
            "activation": act,
            "w1": (rng.standard_normal((nh, ni)) * scale / math.sqrt(ni)).tolist(),
            "w2": rng.standard_normal(nh).tolist(),
        }
        if b1:
            d["b1"] = (0.3 * rng.standard_normal(nh)).tolist()
        if b2:
            d["b2"] = 0.2
        return d

    erf, tanh = {"kind": "erf"}, {"kind": "tanh"}
    quad = {"kind": "quadratic", "epsilon": 0.6}
    # At student = teacher the functional term is zero.
    for act in [erf, quad, tanh]:
        t = net(act, 2, 3, b1=True, b2=True)
        h, _ = sref.student_hessian(t, t)
        w1, w2 = np.asarray(t["w1"]), np.asarray(t["w2"])
        h0 = ref.reference_hessian(w1, w2, act, ref.default_nodes(act, w1), t["b1"], t["b2"])
        assert np.abs(h - h0).max() < 1e-12 * np.abs(h0).max(), act
    cases = [
        (net(erf, 2, 3), net(erf, 2, 3)),
        (net(erf, 1, 2), net(erf, 3, 2)),
        (net(tanh, 1, 2, b1=True), net(erf, 1, 2, b2=True)),
        (net(quad, 2, 2), net(quad, 3, 2, b1=True, b2=True)),
        (net(erf, 1, 2, b1=True, b2=True), net({"kind": "gelu"}, 1, 2, b1=True)),
        (net({"kind": "softplus"}, 1, 2), net({"kind": "silu"}, 2, 2, b1=True)),
        (net({"kind": "sigmoid"}, 2, 2), net({"kind": "sigmoid"}, 1, 2, b1=True)),
    ]
    n = 100_000
    worst, worst_conv = 0.0, 0.0
    for teacher, student in cases:
        h, nodes = sref.student_hessian(teacher, student)
        h2, _ = sref.student_hessian(teacher, student, (3 * nodes) // 2)
        conv = np.abs(h - h2).max() / np.abs(h2).max()
        worst_conv = max(worst_conv, conv)
        assert conv < 1e-11, (student["activation"], conv)
        x = rng.standard_normal((n, len(teacher["w1"][0])))
        per = student_samples(teacher, student, x)
        mean = per.mean(axis=2)
        se = per.std(axis=2, ddof=1) / math.sqrt(n)
        z = np.abs(mean - h) / np.maximum(se, 1e-300)
        z[se == 0] = 0.0
        worst = max(worst, z.max())
        assert z.max() < 6.0, (teacher["activation"], student["activation"], z.max())
    print(
        f"student reference: = optimum reference at student = teacher; worst |ref - MC| / SE "
        f"= {worst:.2f} (limit 6); worst change on 1.5x nodes {worst_conv:.1e}"
    )


if __name__ == "__main__":
    check_student()
    check_linear()
    check_convergence()
    check_monte_carlo()
    check_refuses_large()


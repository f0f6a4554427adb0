#!/usr/bin/env python3
"""Self-checks of kinked_reference.py (run: python3 tools/reference/test_kinked_reference.py).

1. Convergence: doubling the Gauss-Legendre nodes per piece changes H by <= 1e-13 of max|H|, at
   the optimum and at students (relu, leaky_relu; biases; r = 1 and r = 2).
2. Monte Carlo, no row-space reduction: the area part from plain samples x ~ N(0, I_Ni) of
   J J^T + r (smooth second derivatives); the Dirac part a_m J E[r delta(z_m - kappa) (x x^T, x, 1)]
   from samples of x conditioned on z_m = kappa (x = P_perp xi + (kappa - c_m) s_m / |s_m|^2, times
   the density of z_m at kappa). Every entry within 5 standard errors (the SE widened by the
   reference's own 1e-13 of max|H|, for entries of zero sample variance).
3. Smooth activations through the same kink-aware machinery (split at an artificial line
   z = 0.3 of zero jump) equal hessian_reference.py / student_reference.py to 1e-12.
4. Deliberate errors are caught: dropping the Dirac term (Monte Carlo z >> 5), moving the kink
   the quadrature splits at by 0.05 (Monte Carlo), and ignoring the kinks in the rule (no longer
   converged to 1e-10 on doubling).
5. r > 2 and an unknown activation are refused with exit status 2 and a one-line message.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hessian_reference as ref  # noqa: E402
import kinked_reference as kref  # noqa: E402
import student_reference as sref  # noqa: E402

RELU = {"kind": "relu"}
LEAKY = {"kind": "leaky_relu", "slope": 0.15}
LEAKY2 = {"kind": "leaky_relu", "slope": -0.4}
ERF = {"kind": "erf"}


def plane(rng, ni):
    """An Ni x min(Ni, 2) orthonormal basis of a random plane (rows drawn in it)."""
    k = min(ni, 2)
    q, _ = np.linalg.qr(rng.standard_normal((ni, k)))
    return q


def net(rng, act, nh, ni, b1=False, b2=False, q=None, scale=1.2):
    k = ni if q is None else q.shape[1]
    c = rng.standard_normal((nh, k)) * scale / math.sqrt(k)
    w1 = c if q is None else c @ q.T
    d = {"activation": act, "w1": w1.tolist(), "w2": rng.standard_normal(nh).tolist()}
    if b1:
        d["b1"] = (0.4 * rng.standard_normal(nh)).tolist()
    if b2:
        d["b2"] = 0.3
    return d


def cases(rng):
    """(teacher, student or None) pairs: r <= 2, every kinked activation, biases."""
    out = []
    q3 = plane(rng, 3)
    q4 = plane(rng, 4)
    out.append((net(rng, RELU, 2, 2), None))
    out.append((net(rng, LEAKY, 3, 3, b1=True, b2=True, q=q3), None))
    out.append((net(rng, RELU, 2, 1, b1=True), None))
    out.append((net(rng, RELU, 2, 2), net(rng, RELU, 3, 2)))
    out.append((net(rng, LEAKY, 2, 4, b1=True, q=q4), net(rng, LEAKY, 2, 4, b1=True, b2=True, q=q4)))
    out.append((net(rng, ERF, 1, 3, b2=True, q=q3), net(rng, RELU, 2, 3, b1=True, q=q3)))
    out.append((net(rng, LEAKY2, 2, 2, b1=True), net(rng, ERF, 2, 2, b1=True)))
    out.append((net(rng, RELU, 2, 1, b1=True, b2=True), net(rng, LEAKY, 3, 1, b1=True)))
    return out


def _unpack(netd):
    w1, w2, b1, b2 = kref.network(netd)
    return w1, w2, (np.zeros(w1.shape[0]) if b1 is None else b1), b1 is not None, b2


def per_sample(teacher, student, x):
    """Per-sample J J^T + r * (every second derivative except the Dirac part): D x D x n."""
    at_opt = student is None
    student = teacher if at_opt else student
    sw1, sw2, sb1, has_b1, sb2 = _unpack(student)
    tw1, tw2, tb1, _, tb2 = _unpack(teacher)
    sa, ta = kref.Act(student["activation"]), kref.Act(teacher["activation"])
    nh, ni = sw1.shape
    z = sw1 @ x.T + sb1[:, None]
    res = 0.0 * z[0]
    if not at_opt:
        res = sw2 @ sa.g(z) + (sb2 or 0.0) - tw2 @ ta.g(tw1 @ x.T + tb1[:, None]) - (tb2 or 0.0)
    ag1 = sa.dg(z) * sw2[:, None]
    rows = [(ag1[:, None, :] * x.T[None, :, :]).reshape(nh * ni, -1), sa.g(z)]
    if has_b1:
        rows.append(ag1)
    if sb2 is not None:
        rows.append(np.ones((1, x.shape[0])))
    j = np.vstack(rows)
    out = j[:, None, :] * j[None, :, :]
    iw2, ib1 = nh * ni, nh * ni + nh
    for m in range(nh):
        a2 = sw2[m] * sa.d2g(z[m]) * res
        g1r = sa.dg(z[m]) * res
        for n in range(ni):
            for p in range(ni):
                out[m * ni + n, m * ni + p] += a2 * x[:, n] * x[:, p]
            out[m * ni + n, iw2 + m] += g1r * x[:, n]
            out[iw2 + m, m * ni + n] += g1r * x[:, n]
            if has_b1:
                out[m * ni + n, ib1 + m] += a2 * x[:, n]
                out[ib1 + m, m * ni + n] += a2 * x[:, n]
        if has_b1:
            out[iw2 + m, ib1 + m] += g1r
            out[ib1 + m, iw2 + m] += g1r
            out[ib1 + m, ib1 + m] += a2
    return out


def dirac_samples(teacher, student, rng, n):
    """Per-sample Dirac part (D x D x n) from x conditioned on each kinked student unit's kink."""
    sw1, sw2, sb1, has_b1, sb2 = _unpack(student)
    tw1, tw2, tb1, _, tb2 = _unpack(teacher)
    sa, ta = kref.Act(student["activation"]), kref.Act(teacher["activation"])
    nh, ni = sw1.shape
    d = nh * ni + nh + (nh if has_b1 else 0) + (1 if sb2 is not None else 0)
    out = np.zeros((d, d, n))
    ib1 = nh * ni + nh
    for m in range(nh):
        s = sw1[m]
        s2 = float(s @ s)
        for kappa, jump in sa.kinks:
            xi = rng.standard_normal((n, ni))
            x = xi - np.outer(xi @ s, s) / s2 + (kappa - sb1[m]) * s[None, :] / s2
            dens = math.exp(-0.5 * (kappa - sb1[m]) ** 2 / s2) / math.sqrt(2 * math.pi * s2)
            z = sw1 @ x.T + sb1[:, None]
            res = sw2 @ sa.g(z) + (sb2 or 0.0) - tw2 @ ta.g(tw1 @ x.T + tb1[:, None]) - (tb2 or 0.0)
            f = sw2[m] * jump * dens * res
            blk = slice(m * ni, (m + 1) * ni)
            out[blk, blk] += f[None, None, :] * x.T[:, None, :] * x.T[None, :, :]
            if has_b1:
                out[blk, ib1 + m] += f * x.T
                out[ib1 + m, blk] += f * x.T
                out[ib1 + m, ib1 + m] += f
    return out


def mc_z(teacher, student, h, rng, n=100_000):
    """max over entries of |h - MC| / SE, and the MC estimate."""
    x = rng.standard_normal((n, len(teacher["w1"][0])))
    a = per_sample(teacher, student, x)
    mean, var = a.mean(axis=2), a.var(axis=2, ddof=1) / n
    if student is not None:
        b = dirac_samples(teacher, student, rng, n)
        mean, var = mean + b.mean(axis=2), var + b.var(axis=2, ddof=1) / n
    # The reference's own error (<= 1e-13 of max|H|, check 1) is added to the SE: entries whose
    # sample variance is (nearly) zero, e.g. a unit that never reaches its kink, are then held
    # to that accuracy instead of dividing rounding by a zero SE.
    se = np.sqrt(var + (1e-13 * np.abs(h).max()) ** 2)
    z = np.abs(mean - h) / se
    return float(z.max())


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def check_convergence(all_cases):
    worst = 0.0
    for t, s in all_cases:
        h, _ = kref.kinked_hessian(t, s, kref.DEFAULT_NODES)
        h2, _ = kref.kinked_hessian(t, s, 2 * kref.DEFAULT_NODES)
        worst = max(worst, rel(h, h2))
        assert rel(h, h2) <= 1e-13, (t["activation"], s and s["activation"], rel(h, h2))
    print(f"kinked convergence: worst relative change on doubling the nodes {worst:.1e} (limit 1e-13)")


def check_monte_carlo(all_cases, rng):
    worst = 0.0
    for t, s in all_cases:
        h, _ = kref.kinked_hessian(t, s)
        z = mc_z(t, s, h, rng)
        worst = max(worst, z)
        assert z < 5.0, (t["activation"], s and s["activation"], z)
    print(f"kinked monte carlo: worst |ref - MC| / SE = {worst:.2f} (limit 5)")


def check_smooth(rng):
    q3 = plane(rng, 3)
    softplus, silu = {"kind": "softplus"}, {"kind": "silu"}
    worst = 0.0
    pairs = [
        (net(rng, ERF, 2, 2, b1=True, b2=True), None),
        (net(rng, softplus, 3, 3, b1=True, q=q3), None),
        (net(rng, ERF, 2, 2, b1=True), net(rng, ERF, 3, 2, b1=True, b2=True)),
        (net(rng, softplus, 1, 3, q=q3), net(rng, silu, 2, 3, b1=True, q=q3)),
    ]
    for t, s in pairs:
        h, _ = kref.kinked_hessian(t, s, smooth_splits=True)
        if s is None:
            w1, w2 = np.asarray(t["w1"]), np.asarray(t["w2"])
            act = t["activation"]
            h0 = ref.reference_hessian(w1, w2, act, ref.default_nodes(act, w1), t.get("b1"), t.get("b2"))
        else:
            h0, _ = sref.student_hessian(t, s)
        worst = max(worst, rel(h, h0))
        assert rel(h, h0) < 1e-12, (t["activation"], s and s["activation"], rel(h, h0))
    print(f"smooth activations through the kink-aware rule: worst deviation from the smooth references {worst:.1e} (limit 1e-12)")


def check_deliberate_errors(rng):
    t = net(rng, RELU, 2, 2, b1=True)
    s = net(rng, LEAKY, 2, 2, b1=True, b2=True)
    z_nodirac = mc_z(t, s, kref.kinked_hessian(t, s, dirac=False)[0], rng)
    assert z_nodirac > 20.0, z_nodirac
    z_moved = mc_z(t, s, kref.kinked_hessian(t, s, kink_shift=0.05)[0], rng)
    assert z_moved > 10.0, z_moved
    a, _ = kref.kinked_hessian(t, s, split=False)
    b, _ = kref.kinked_hessian(t, s, 2 * kref.DEFAULT_NODES, split=False)
    assert rel(a, b) > 1e-10, rel(a, b)
    print(
        f"deliberate errors caught: no Dirac term z = {z_nodirac:.0f}, kink moved by 0.05 "
        f"z = {z_moved:.0f}, kinks ignored: doubling changes H by {rel(a, b):.1e}"
    )


def check_refusals(rng):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kinked_reference.py")
    bad = [
        ({"activation": RELU, "w1": np.eye(3).tolist(), "w2": [1.0, 1.0, 1.0]}, "dimension <= 2"),
        ({"activation": {"kind": "swish9"}, "w1": [[1.0, 0.0]], "w2": [1.0]}, "unknown activation"),
    ]
    for d, msg in bad:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(d, f)
        r = subprocess.run([sys.executable, script, f.name], capture_output=True, text=True)
        os.unlink(f.name)
        assert r.returncode == 2 and msg in r.stderr and r.stdout == "", r
        assert r.stderr.count("\n") == 1, r.stderr
    print("refuses r > 2 and unknown activations (exit 2): ok")


if __name__ == "__main__":
    rng = np.random.default_rng(20261202)
    all_cases = cases(rng)
    check_convergence(all_cases)
    check_monte_carlo(all_cases, rng)
    check_smooth(rng)
    check_deliberate_errors(rng)
    check_refusals(rng)

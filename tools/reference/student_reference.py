#!/usr/bin/env python3
"""Independent NumPy reference for the population Hessian at any student, functional term included.

Usage: student_reference.py TEACHER.json STUDENT.json [--nodes N]

Prints one JSON object {"eigenvalues": [...ascending...], "hessian": [[...]], "nodes": N}.

H = E[J J^T] + E[r(x) d^2 y_s / dtheta^2] for L = 1/2 E[r^2], r = y_s(x) - y_t(x), x ~ N(0, I),
theta the student's parameters in the order of INTERFACE.md (W1 row by row, W2, b1, b2). The
nonzero second derivatives of y_s = sum_m a_m g(z_m) + b2, z_m = s_m . x + c_m, are

    d2/dW1[m,n] dW1[m,q] = a_m g''(z_m) x_n x_q      d2/dW1[m,n] da_m = g'(z_m) x_n
    d2/dW1[m,n] db1_m    = a_m g''(z_m) x_n          d2/da_m db1_m    = g'(z_m)
    d2/db1_m^2           = a_m g''(z_m)

Route (shares nothing with the library's projection onto pairs of rows): x = Q s + P t with Q an
orthonormal basis of the span of ALL rows (student and teacher), so that r and every z depend on
s only; the complement enters the W1-W1 blocks as (I - Q Q^T) times a scalar expectation; the
r-dimensional expectation (r <= 3) by tensor Gauss-Hermite (polynomials: exact) or the
trapezoid rule (smooth activations), directly on the products of the derivatives.
"""

import json
import math
import sys

import numpy as np

import hessian_reference as ref


def second_derivative(act):
    """g'' as a vectorised NumPy function, coded from the activation's formula."""
    kind = act.get("kind")
    if kind == "linear":
        return lambda z: np.zeros_like(z)
    if kind == "quadratic":
        eps = float(act["epsilon"])
        return lambda z: np.full_like(z, 2.0 * eps)
    if kind == "polynomial":
        c = np.asarray(act["coefficients"], dtype=float)
        d2 = np.array([k * (k - 1) * c[k] for k in range(2, c.size)]) if c.size > 2 else np.zeros(1)

        def f(z):
            out = np.zeros_like(z)
            for ck in d2[::-1]:
                out = out * z + ck
            return out

        return f
    if kind == "erf":
        s = math.sqrt(2.0 / math.pi)
        return lambda z: -s * z * np.exp(-0.5 * z * z)
    if kind == "tanh":
        return lambda z: -2.0 * np.tanh(z) / np.cosh(z) ** 2
    sig = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731
    if kind == "sigmoid":
        return lambda z: sig(z) * sig(-z) * (1.0 - 2.0 * sig(z))
    if kind == "softplus":
        return lambda z: sig(z) * sig(-z)
    if kind == "silu":
        # d/dz [s (1 + z (1 - s))] = s'(1 + z(1 - s)) + s((1 - s) - z s'), s' = s (1 - s)
        def silu2(z):
            s, sp = sig(z), sig(z) * sig(-z)
            return sp * (1.0 + z * sig(-z)) + s * (sig(-z) - z * sp)

        return silu2
    if kind == "gelu":
        pdf = lambda z: np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # noqa: E731
        return lambda z: pdf(z) * (2.0 - z * z)
    ref.fail(f"the student reference has no second derivative for {kind!r}")


def is_smooth(act):
    return act["kind"] in ref.SMOOTH


def default_nodes(teacher_act, student_act, rows):
    """Exact for polynomial pairs; the trapezoid step of hessian_reference otherwise."""
    smooth = is_smooth(teacher_act) or is_smooth(student_act)
    if smooth:
        act = teacher_act if is_smooth(teacher_act) else student_act
        return ref.default_nodes(act, rows)

    def degree(a):
        return {"linear": 1, "quadratic": 2}.get(a["kind"], len(a.get("coefficients", [0, 0])) - 1)

    return max(degree(teacher_act), degree(student_act)) + 3


def network(net):
    w1 = np.asarray(net["w1"], dtype=float)
    w2 = np.asarray(net["w2"], dtype=float)
    b1 = net.get("b1")
    b2 = net.get("b2")
    return w1, w2, (None if b1 is None else np.asarray(b1, dtype=float)), b2


def student_hessian(teacher, student, nodes=None):
    tw1, tw2, tb1, tb2 = network(teacher)
    sw1, sw2, sb1, sb2 = network(student)
    tact, sact = teacher["activation"], student["activation"]
    nh, ni = sw1.shape
    if tw1.shape[1] != ni:
        ref.fail(f"student has Ni = {ni}, teacher Ni = {tw1.shape[1]}")
    rows = np.vstack([sw1, tw1])
    u, sv, _ = np.linalg.svd(rows.T, full_matrices=False)
    keep = sv > (sv.max() if sv.size else 0.0) * 1e-13
    q = u[:, keep]
    r = q.shape[1]
    if r > 3:
        ref.fail(f"the student reference handles a joint row space of dimension <= 3, got {r}")
    if nodes is None:
        nodes = default_nodes(tact, sact, rows)
    comp = np.eye(ni) - q @ q.T
    smooth = is_smooth(tact) or is_smooth(sact)
    x1, w1d = ref.rule_1d({"kind": "erf"} if smooth else {"kind": "polynomial"}, nodes)
    grids = np.meshgrid(*([x1] * r), indexing="ij")
    s = np.stack([gr.ravel() for gr in grids]) if r else np.zeros((0, 1))
    wts = np.ones(s.shape[1])
    if r:
        for wg in np.meshgrid(*([w1d] * r), indexing="ij"):
            wts = wts * wg.ravel()
    g, dg = ref.activation_functions(sact)
    d2g = second_derivative(sact)
    h_t, _ = ref.activation_functions(tact)
    sshift = np.zeros(nh) if sb1 is None else sb1
    tshift = np.zeros(tw1.shape[0]) if tb1 is None else tb1
    d = nh * ni + nh + (nh if sb1 is not None else 0) + (1 if sb2 is not None else 0)
    H = np.zeros((d, d))
    iw2 = nh * ni
    ib1 = iw2 + nh
    chunk = 200_000
    for start in range(0, s.shape[1], chunk):
        sc, wc = s[:, start : start + chunk], wts[start : start + chunk]
        xs = q @ sc
        z = sw1 @ xs + sshift[:, None]
        zt = tw1 @ xs + tshift[:, None]
        res = sw2 @ g(z) + (sb2 or 0.0) - tw2 @ h_t(zt) - (tb2 or 0.0)
        g0, g1, g2 = g(z), dg(z), d2g(z)
        ag1 = g1 * sw2[:, None]
        jw1 = (ag1[:, None, :] * xs[None, :, :]).reshape(nh * ni, -1)
        jrows = [jw1, g0]
        if sb1 is not None:
            jrows.append(ag1)
        if sb2 is not None:
            jrows.append(np.ones((1, z.shape[1])))
        jac = np.vstack(jrows)
        H += (jac * wc) @ jac.T
        e11 = (ag1 * wc) @ ag1.T
        H[:iw2, :iw2] += np.kron(e11, comp)
        # Functional term, block-diagonal per student unit.
        rw = res * wc
        for m in range(nh):
            blk = slice(m * ni, (m + 1) * ni)
            f2 = sw2[m] * g2[m] * rw  # r a_m g''(z_m) w
            H[blk, blk] += (xs * f2) @ xs.T + comp * f2.sum()
            v = xs @ (g1[m] * rw)  # E[r g' x]
            H[blk, iw2 + m] += v
            H[iw2 + m, blk] += v
            if sb1 is not None:
                u2 = xs @ f2  # E[r a_m g'' x]
                H[blk, ib1 + m] += u2
                H[ib1 + m, blk] += u2
                e = (g1[m] * rw).sum()
                H[iw2 + m, ib1 + m] += e
                H[ib1 + m, iw2 + m] += e
                H[ib1 + m, ib1 + m] += f2.sum()
    return 0.5 * (H + H.T), nodes


def main(argv):
    args = argv[1:]
    nodes = None
    if "--nodes" in args:
        i = args.index("--nodes")
        try:
            nodes = int(args[i + 1])
        except (IndexError, ValueError):
            ref.fail("--nodes needs a positive integer")
        del args[i : i + 2]
    if len(args) != 2:
        ref.fail("usage: student_reference.py TEACHER.json STUDENT.json [--nodes N]")
    nets = []
    for path in args:
        try:
            with open(path) as f:
                nets.append(json.load(f))
        except (OSError, ValueError) as e:
            ref.fail(f"cannot read network file {path}: {e}")
    h, nodes = student_hessian(nets[0], nets[1], nodes)
    json.dump(
        {"eigenvalues": np.linalg.eigvalsh(h).tolist(), "hessian": h.tolist(), "nodes": nodes},
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/env python3
"""Independent NumPy reference for kinked activations (relu, leaky_relu): the population Hessian
at the optimum and at any student, functional term included.

Usage: kinked_reference.py NETWORK.json [--nodes N]              (at the optimum: E[J J^T])
       kinked_reference.py TEACHER.json STUDENT.json [--nodes N] (at a student)

Prints one JSON object {"eigenvalues": [...ascending...], "hessian": [[...]], "nodes": N,
"joint_rank": r}. Refuses (one-line error, exit status 2) a joint row space of dimension r > 2,
an unknown activation, and a student unit with zero input weights that sits exactly on a kink.

Route (shares no code or formulas with the library: no arc-cosine kernels, no Stein reduction,
no conditional-Gaussian moment formulas). x = Q y + P t, Q (Ni x r) an orthonormal basis of the
span of ALL rows (student and teacher), so every pre-activation, the residual and the row-space
part of x depend on y ~ N(0, I_r) only; the complement enters the W1-W1 blocks as (I - Q Q^T)
times a scalar expectation. For r < 2 the coordinates are padded to two (the integrand does not
depend on the extra ones), so one 2-D rule serves r = 0, 1, 2.

* Area integrals E[F(y)]: every kinked unit m (student or teacher) has a kink line
  {y : w_m . y + b_m = kappa}, across which F is continuous but not smooth. Coordinates (u, v)
  are rotated so that no kink line is close to parallel to the v axis; the outer integral over u
  in [-L, L] is split at every u where two kink lines cross and where a kink line leaves the box
  (v = +-L); for each u node the inner integral over v in [-L, L] is split where each kink line
  crosses. Every range is also split on a grid of step 2.5 (pieces stay short). Gauss-Legendre
  with N nodes on every piece, on which F is smooth (piecewise
  polynomial times the Gaussian weight, or erf/softplus/... for a smooth other network).
* Dirac terms: a kinked student activation has g'' = J delta(z - kappa) with J the jump of g'
  (1 for relu, 1 - slope for leaky_relu), so E[F g''(z_m)] = J E[F delta(w_m . y + b_m - kappa)]
  = (J / |w_m|) * integral of F phi_2 along the kink line (arc length), split at the crossings
  with the other kink lines, Gauss-Legendre on each piece over |t| <= L.
L = 10: the Gaussian mass beyond is below 1e-22, far under the polynomial growth of F.
The node count N is checked by doubling it (tools/reference/test_kinked_reference.py).
"""

import json
import math
import sys

import numpy as np

import hessian_reference as ref
import student_reference as sref

HALF_WIDTH = 10.0
# Every range is also split on a fixed grid of this step, so that no piece is longer than the
# step: Gauss-Legendre then resolves the Gaussian factor exp(-t^2/2) with few nodes.
GRID_STEP = 2.5
DEFAULT_NODES = 24
KINKED = ("relu", "leaky_relu")


def refuse(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


class Act:
    """An activation: g, g', and for kinked ones the kink kappa and jump J of g'; smooth ones
    also g'' (all from the INTERFACE.md formulas)."""

    def __init__(self, spec, kink_shift=0.0, smooth_splits=False):
        kind = spec.get("kind") if isinstance(spec, dict) else None
        self.kind = kind
        if kind == "relu":
            self.slope = 0.0
        elif kind == "leaky_relu":
            try:
                self.slope = float(spec["slope"])
            except (KeyError, TypeError, ValueError):
                refuse("leaky_relu needs a numeric slope")
        elif kind in ref.SMOOTH or kind in ("linear", "quadratic", "polynomial"):
            self.slope = None
            g, dg = ref.activation_functions(spec)
            self.g, self.dg = g, dg
            self.d2g = sref.second_derivative(spec)
            # smooth_splits: a kink line of zero jump at z = 0.3, so that the self-test runs a
            # smooth activation through the splitting machinery.
            self.kinks = [(0.3, 0.0)] if smooth_splits else []
            return
        else:
            refuse(f"unknown activation kind {kind!r} for the kinked reference")
        # relu / leaky_relu: g(z) = z for z > 0, slope z otherwise. kink_shift moves the kink the
        # quadrature splits at (only the self-test's deliberate error uses it).
        s = self.slope
        self.g = lambda z: np.where(z > 0.0, z, s * z)
        self.dg = lambda z: np.where(z > 0.0, 1.0, s)
        self.d2g = lambda z: np.zeros_like(z)  # zero off the kink; the kink is the Dirac term
        self.kinks = [(0.0 + kink_shift, 1.0 - s)]  # (kappa, jump of g')


def gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def phi(t):
    return np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def pick_rotation(lines):
    """Angle theta so that, in y = R(theta) (u, v), every kink line's normal has the largest
    possible v component relative to its length (no line near-parallel to the v axis)."""
    if not lines:
        return np.eye(2)
    best, best_t = -1.0, 0.0
    for t in np.linspace(0.0, math.pi, 721)[:-1] + 0.0123:
        c, s = math.cos(t), math.sin(t)
        worst = min(abs(-s * w[0] + c * w[1]) / np.linalg.norm(w) for w, _ in lines)
        if worst > best:
            best, best_t = worst, t
    c, s = math.cos(best_t), math.sin(best_t)
    return np.array([[c, -s], [s, c]])


def area_rule(lines, n, half=HALF_WIDTH, split=True):
    """Points Y (2 x P) and weights for E[F(y)], y ~ N(0, I_2), F smooth off the lines
    {w . y + beta = 0} (lines: list of (w, beta)). split=False ignores the lines (self-test)."""
    lines = lines if split else []
    rot = pick_rotation(lines)
    # In (u, v): a u + c v + beta = 0 with (a, c) = R^T w.
    uv = [(rot.T @ w, beta) for w, beta in lines]
    grid = list(np.arange(-half, half + 0.5 * GRID_STEP, GRID_STEP))
    ubreaks = list(grid)
    for i in range(len(uv)):
        (ai, ci), bi = uv[i]
        for vb in (-half, half):  # the line leaves the box
            if ai != 0.0:
                ubreaks.append((-bi - ci * vb) / ai)
        for j in range(i + 1, len(uv)):
            (aj, cj), bj = uv[j]
            det = ai * cj - aj * ci
            if abs(det) > 1e-14 * math.hypot(ai, ci) * math.hypot(aj, cj):
                ubreaks.append((-bi * cj + bj * ci) / det)
    ub = np.unique(np.clip(np.array(ubreaks), -half, half))
    xg, wg = gauss_legendre(n)
    ys, ws = [], []
    for u0, u1 in zip(ub[:-1], ub[1:]):
        if u1 - u0 <= 0.0:
            continue
        hu = 0.5 * (u1 - u0)
        u = 0.5 * (u0 + u1) + hu * xg  # n
        wu = hu * wg * phi(u)
        vb = [np.full(n, gv) for gv in grid]
        for (a, c), beta in uv:
            vb.append(np.clip((-beta - a * u) / c, -half, half))
        vb = np.sort(np.stack(vb, axis=1), axis=1)  # n x (k + 2)
        lo, hi = vb[:, :-1], vb[:, 1:]  # n x pieces
        hv = 0.5 * (hi - lo)
        v = 0.5 * (lo + hi)[:, :, None] + hv[:, :, None] * xg[None, None, :]  # n x pieces x n
        wv = hv[:, :, None] * wg[None, None, :] * phi(v)
        uu = np.broadcast_to(u[:, None, None], v.shape)
        ys.append(np.stack([uu.ravel(), v.ravel()]))
        ws.append((wu[:, None, None] * wv).ravel())
    y = rot @ np.concatenate(ys, axis=1)
    return y, np.concatenate(ws)


def line_rule(w, beta, others, n, half=HALF_WIDTH):
    """Points Y (2 x P) and weights for E[F(y) delta(w . y + beta)], y ~ N(0, I_2): the line
    integral (1/|w|) int F phi_2 dl, split where the other lines cross."""
    nw = float(np.linalg.norm(w))
    y0 = -beta * w / (nw * nw)
    e = np.array([-w[1], w[0]]) / nw
    tb = list(np.arange(-half, half + 0.5 * GRID_STEP, GRID_STEP))
    for w2, b2 in others:
        de = float(w2 @ e)
        if abs(de) > 1e-14 * float(np.linalg.norm(w2)):
            tb.append(-(float(w2 @ y0) + b2) / de)
    tb = np.unique(np.clip(np.array(tb), -half, half))
    xg, wg = gauss_legendre(n)
    ts, wts = [], []
    for t0, t1 in zip(tb[:-1], tb[1:]):
        if t1 - t0 <= 0.0:
            continue
        ht = 0.5 * (t1 - t0)
        t = 0.5 * (t0 + t1) + ht * xg
        ts.append(t)
        wts.append(ht * wg * phi(t))
    t = np.concatenate(ts)
    y = y0[:, None] + e[:, None] * t[None, :]
    return y, np.concatenate(wts) * phi(float(np.linalg.norm(y0))) / nw


def network(net):
    w1 = np.asarray(net["w1"], dtype=float)
    w2 = np.asarray(net["w2"], dtype=float)
    b1 = net.get("b1")
    b2 = net.get("b2")
    if w1.ndim != 2 or w2.ndim != 1 or w1.shape[0] != w2.shape[0] or w1.size == 0:
        refuse(f"bad network shapes: w1 {w1.shape}, w2 {w2.shape}")
    b1 = None if b1 is None else np.asarray(b1, dtype=float)
    return w1, w2, b1, (None if b2 is None else float(b2))


def kinked_hessian(teacher, student=None, nodes=DEFAULT_NODES, dirac=True, split=True,
                   kink_shift=0.0, smooth_splits=False):
    """The Hessian (D x D) of L = 1/2 E[(y_s - y_t)^2] at the student (at the optimum when
    student is None: E[J J^T]). dirac=False drops the Dirac terms, split=False ignores the kinks,
    kink_shift moves the kink the quadrature splits at: deliberate errors for the self-test;
    smooth_splits splits a smooth activation's integrals at z = 0.3 (self-test)."""
    at_optimum = student is None
    student = teacher if at_optimum else student
    tw1, tw2, tb1, tb2 = network(teacher)
    sw1, sw2, sb1, sb2 = network(student)
    nh, ni = sw1.shape
    if tw1.shape[1] != ni:
        refuse(f"student has Ni = {ni}, teacher Ni = {tw1.shape[1]}")
    tact = Act(teacher["activation"], kink_shift, smooth_splits)
    sact = Act(student["activation"], kink_shift, smooth_splits)
    rows = np.vstack([sw1, tw1])
    u, sv, _ = np.linalg.svd(rows.T, full_matrices=False)
    keep = sv > (sv.max() if sv.size else 0.0) * 1e-13
    q = u[:, keep]
    r = q.shape[1]
    if r > 2:
        refuse(f"the kinked reference handles a joint row space of dimension <= 2, got {r}")
    qpad = np.hstack([q, np.zeros((ni, 2 - r))])  # x's row-space part = qpad @ y, y in R^2
    comp = np.eye(ni) - q @ q.T
    sshift = np.zeros(nh) if sb1 is None else sb1
    tshift = np.zeros(tw1.shape[0]) if tb1 is None else tb1
    # Kink lines in y: (qpad^T w) . y + (b - kappa) = 0, for every kinked unit on either side.
    lines = []  # (w2d, beta, side, unit, jump)
    for side, act, w1, shift in (("s", sact, sw1, sshift), ("t", tact, tw1, tshift)):
        if at_optimum and side == "t":
            continue  # the same units as the student's
        for m in range(w1.shape[0]):
            w2d = qpad.T @ w1[m]
            for kappa, jump in act.kinks:
                if np.linalg.norm(w2d) <= 1e-300:
                    if side == "s" and shift[m] == kappa and not at_optimum:
                        refuse(f"student unit {m} has zero input weights and sits on a kink")
                    continue
                lines.append((w2d, shift[m] - kappa, side, m, jump))
    geo = [(w, b) for w, b, *_ in lines]
    y, wts = area_rule(geo, nodes, split=split)

    g, dg, d2g = sact.g, sact.dg, sact.d2g
    iw2, ib1 = nh * ni, nh * ni + nh
    d = ib1 + (nh if sb1 is not None else 0) + (1 if sb2 is not None else 0)

    def fields(yc):
        xs = qpad @ yc
        z = sw1 @ xs + sshift[:, None]
        if at_optimum:
            res = np.zeros(z.shape[1])
        else:
            zt = tw1 @ xs + tshift[:, None]
            res = sw2 @ g(z) + (sb2 or 0.0) - tw2 @ tact.g(zt) - (tb2 or 0.0)
        return xs, z, res

    H = np.zeros((d, d))
    chunk = 100_000
    for start in range(0, y.shape[1], chunk):
        yc, wc = y[:, start : start + chunk], wts[start : start + chunk]
        xs, z, res = fields(yc)
        g0, g1 = g(z), dg(z)
        ag1 = g1 * sw2[:, None]
        jrows = [(ag1[:, None, :] * xs[None, :, :]).reshape(nh * ni, -1), g0]
        if sb1 is not None:
            jrows.append(ag1)
        if sb2 is not None:
            jrows.append(np.ones((1, z.shape[1])))
        jac = np.vstack(jrows)
        H += (jac * wc) @ jac.T
        H[:iw2, :iw2] += np.kron((ag1 * wc) @ ag1.T, comp)
        if at_optimum:
            continue
        # Functional term, smooth parts: r g' (first derivatives) and r a g'' off the kinks.
        rw = res * wc
        g2 = d2g(z)
        for m in range(nh):
            blk = slice(m * ni, (m + 1) * ni)
            f2 = sw2[m] * g2[m] * rw
            H[blk, blk] += (xs * f2) @ xs.T + comp * f2.sum()
            v = xs @ (g1[m] * rw)
            H[blk, iw2 + m] += v
            H[iw2 + m, blk] += v
            if sb1 is not None:
                u2 = xs @ f2
                H[blk, ib1 + m] += u2
                H[ib1 + m, blk] += u2
                e = (g1[m] * rw).sum()
                H[iw2 + m, ib1 + m] += e
                H[ib1 + m, iw2 + m] += e
                H[ib1 + m, ib1 + m] += f2.sum()
    if not at_optimum and dirac:
        # Dirac terms of a kinked student: a_m J E[r delta(z_m - kappa) (x x^T, x, 1)].
        for k, (w, beta, side, m, jump) in enumerate(lines):
            if side != "s":
                continue
            others = [geo[j] for j in range(len(geo)) if j != k]
            yl, wl = line_rule(w, beta, others if split else [], nodes)
            xs, _, res = fields(yl)
            f = sw2[m] * jump * res * wl
            blk = slice(m * ni, (m + 1) * ni)
            H[blk, blk] += (xs * f) @ xs.T + comp * f.sum()
            if sb1 is not None:
                u2 = xs @ f
                H[blk, ib1 + m] += u2
                H[ib1 + m, blk] += u2
                H[ib1 + m, ib1 + m] += f.sum()
    return 0.5 * (H + H.T), r


def main(argv):
    args = argv[1:]
    nodes = DEFAULT_NODES
    if "--nodes" in args:
        i = args.index("--nodes")
        try:
            nodes = int(args[i + 1])
        except (IndexError, ValueError):
            refuse("--nodes needs a positive integer")
        if nodes < 1:
            refuse("--nodes needs a positive integer")
        del args[i : i + 2]
    if len(args) not in (1, 2):
        refuse("usage: kinked_reference.py NETWORK.json [STUDENT.json] [--nodes N]")
    nets = []
    for path in args:
        try:
            with open(path) as f:
                nets.append(json.load(f))
        except (OSError, ValueError) as e:
            refuse(f"cannot read network file {path}: {e}")
    try:
        h, r = kinked_hessian(nets[0], nets[1] if len(nets) == 2 else None, nodes)
    except (KeyError, TypeError, ValueError) as e:
        refuse(f"bad network file: {e}")
    json.dump(
        {
            "eigenvalues": np.linalg.eigvalsh(h).tolist(),
            "hessian": h.tolist(),
            "nodes": nodes,
            "joint_rank": r,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)

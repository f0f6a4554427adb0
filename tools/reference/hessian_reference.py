#!/usr/bin/env python3
"""Independent NumPy reference for the population Hessian of y = W2 g(W1 x) at the optimum.

Usage: hessian_reference.py NETWORK.json [--nodes N]

Prints one JSON object {"eigenvalues": [...ascending...], "hessian": [[...]], "nodes": N}.

Route (deliberately different from the library's Stein reduction to pair moments):
at the optimum H = E[J J^T] with J = dy/dtheta, theta = W1 row by row, then W2 (INTERFACE.md):

    dy/dW1[m][n] = a_m g'(z_m) x_n,   dy/dW2[k] = g(z_k),   z = W1 x,  a = W2.

Write x = Q s + P t with Q (Ni x r) an orthonormal basis of the span of the W1 rows (SVD of W1^T),
P its orthogonal complement, s ~ N(0, I_r) and t ~ N(0, I) independent. z = W1 Q s depends on s
only, so the complement is integrated analytically:

    E[f(s) x_n x_q] = E[f(s) (Qs)_n (Qs)_q] + (I - Q Q^T)_nq E[f(s)],   E[f(s) x_n] = E[f(s) (Qs)_n],

and the remaining r-dimensional expectations (r <= Nh <= 3) are computed by tensor-product
Gauss-Hermite quadrature (probabilists' nodes; for erf and tanh, where Gauss-Hermite converges
slowly, the trapezoid rule on [-9, 9]) directly on the products of derivatives: no
integration by parts, no bivariate moment formulas.
"""

import json
import math
import sys

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import erf


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def activation_functions(act):
    """(g, g') as vectorised NumPy functions for an INTERFACE.md activation object."""
    kind = act.get("kind")
    if kind == "linear":
        return (lambda z: z), (lambda z: np.ones_like(z))
    if kind == "quadratic":
        eps = float(act["epsilon"])
        return (lambda z: z + eps * z * z), (lambda z: 1.0 + 2.0 * eps * z)
    if kind == "polynomial":
        c = np.asarray(act["coefficients"], dtype=float)
        if c.size == 0:
            fail("polynomial activation needs at least one coefficient")
        dc = np.array([k * c[k] for k in range(1, c.size)]) if c.size > 1 else np.zeros(1)

        def horner(coef):
            def f(z):
                out = np.zeros_like(z)
                for ck in coef[::-1]:
                    out = out * z + ck
                return out

            return f

        return horner(c), horner(dc)
    if kind == "erf":
        s = math.sqrt(2.0 / math.pi)
        return (lambda z: erf(z / math.sqrt(2.0))), (lambda z: s * np.exp(-0.5 * z * z))
    if kind == "tanh":
        return np.tanh, (lambda z: 1.0 / np.cosh(z) ** 2)
    # Smooth activations beyond the paper (docs/activations.md); coded here from their formulas.
    sig = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731 (overflow-free logistic)
    if kind == "sigmoid":
        return sig, (lambda z: sig(z) * sig(-z))
    if kind == "softplus":
        return (lambda z: np.logaddexp(0.0, z)), sig
    if kind == "silu":
        return (lambda z: z * sig(z)), (lambda z: sig(z) * (1.0 + z * sig(-z)))
    if kind == "gelu":
        cdf = lambda z: 0.5 * (1.0 + erf(z / math.sqrt(2.0)))  # noqa: E731
        pdf = lambda z: np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # noqa: E731
        return (lambda z: z * cdf(z)), (lambda z: cdf(z) + z * pdf(z))
    fail(f"unknown activation kind {kind!r} (the reference has no kinked activations)")


def default_nodes(act, w1=None):
    """Nodes per dimension: exact for polynomials, converged (checked by raising it) otherwise."""
    kind = act["kind"]
    if kind == "linear":
        return 4
    if kind == "quadratic":
        return 6
    if kind == "polynomial":
        deg = len(act["coefficients"]) - 1
        # Integrand degree in s is at most 2*(deg-1) + 2 = 2*deg; GH with N nodes is exact to 2N-1.
        return max(deg + 2, 4)
    # erf and tanh: the trapezoid rule on [-L, L] (Gauss-Hermite converges slowly for tanh,
    # whose poles at z = i*pi/2 bound a strip of half-width d = pi / (2 max|w_m|), and for erf
    # once the Gaussian factors exp(-|w_m|^2 s^2 / 2) get narrow). Trapezoid error: about
    # exp(-2 pi d / h) for tanh and exp(-2 pi^2 / (alpha h^2)) for a Gaussian exp(-alpha s^2 / 2),
    # alpha <= 1 + 2 max|w_m|^2; h is chosen to make both exponents exceed 40.
    wmax = 1.0 if w1 is None else max(float(np.max(np.linalg.norm(w1, axis=1))), 1e-3)
    h = min(
        0.1,
        (2.0 * math.pi) * (math.pi / (2.0 * wmax)) / 40.0,
        math.pi / math.sqrt(20.0 * (1.0 + 2.0 * wmax * wmax)),
    )
    return int(math.ceil(2.0 * TRAP_HALF_WIDTH / h)) + 1


TRAP_HALF_WIDTH = 9.0  # phi(9) ~ 1e-18: the truncated tails are negligible
# Non-polynomial activations: trapezoid rule (sigmoid, softplus, silu have poles at z = i*pi, a
# wider strip than tanh's i*pi/2, so tanh's step is conservative; gelu is entire).
SMOOTH = ("tanh", "erf", "sigmoid", "softplus", "silu", "gelu")


def rule_1d(act, nodes):
    """Nodes and weights of a 1-D rule for E[f(s)], s ~ N(0, 1)."""
    if act["kind"] in SMOOTH:
        x = np.linspace(-TRAP_HALF_WIDTH, TRAP_HALF_WIDTH, nodes)
        w = (x[1] - x[0]) * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return x, w
    x, w = hermegauss(nodes)
    return x, w / math.sqrt(2.0 * math.pi)


def reference_hessian(w1, w2, act, nodes, b1=None, b2=None):
    """Population Hessian E[J J^T] (D x D) by quadrature over the row space of W1.

    With biases z = W1 x + b1 (non-centred); theta = W1, W2, then b1 and b2 where present
    (INTERFACE.md): dy/db1[m] = a_m g'(z_m), dy/db2 = 1. The complement of the row space only
    enters the W1-W1 block (its part of x has mean zero and is independent of z)."""
    nh, ni = w1.shape
    if nh > 3:
        fail(f"the reference handles Nh <= 3 hidden units, got Nh = {nh}")
    g, dg = activation_functions(act)
    # Orthonormal basis of the row space of W1 (left singular vectors of W1^T with nonzero
    # singular values; any basis containing the row space would do, a smaller one is faster).
    u, sv, _ = np.linalg.svd(w1.T, full_matrices=False)
    keep = sv > (sv.max() if sv.size else 0.0) * 1e-13
    q = u[:, keep] if keep.any() else np.zeros((ni, 0))
    r = q.shape[1]
    comp = np.eye(ni) - q @ q.T  # projector on the orthogonal complement
    x1, w1d = rule_1d(act, nodes)
    if r == 0:  # W1 = 0: z = 0 for every x, one node suffices
        s, wts = np.zeros((0, 1)), np.ones(1)
    else:
        grids = np.meshgrid(*([x1] * r), indexing="ij")
        s = np.stack([gr.ravel() for gr in grids])  # r x P
        wts = np.ones(s.shape[1])
        for wg in np.meshgrid(*([w1d] * r), indexing="ij"):
            wts = wts * wg.ravel()
    d = nh * ni + nh + (nh if b1 is not None else 0) + (1 if b2 is not None else 0)
    h = np.zeros((d, d))
    shift = np.zeros(nh) if b1 is None else np.asarray(b1, dtype=float)
    chunk = 200_000
    b = w1 @ q  # Nh x r: z = b s
    for start in range(0, s.shape[1], chunk):
        sc = s[:, start : start + chunk]
        wc = wts[start : start + chunk]
        z = b @ sc + shift[:, None]  # Nh x P
        xs = q @ sc  # Ni x P: the row-space part of x
        g0 = g(z)
        g1 = dg(z) * w2[:, None]  # a_m g'(z_m)
        # Row-space part of J (the W1 block) and the W2 block.
        jw1 = (g1[:, None, :] * xs[None, :, :]).reshape(nh * ni, -1)
        rows = [jw1, g0]
        if b1 is not None:
            rows.append(g1)
        if b2 is not None:
            rows.append(np.ones((1, z.shape[1])))
        jac = np.vstack(rows)  # D x P
        h += (jac * wc) @ jac.T
        # Complement: E[a_m a_p g'(z_m) g'(z_p)] (I - QQ^T)_nq on the W1-W1 block.
        e11 = (g1 * wc) @ g1.T  # Nh x Nh
        h[: nh * ni, : nh * ni] += np.kron(e11, comp)
    return 0.5 * (h + h.T)


def main(argv):
    args = argv[1:]
    nodes = None
    if "--nodes" in args:
        i = args.index("--nodes")
        try:
            nodes = int(args[i + 1])
        except (IndexError, ValueError):
            fail("--nodes needs a positive integer")
        if nodes < 1:
            fail("--nodes needs a positive integer")
        del args[i : i + 2]
    if len(args) != 1:
        fail("usage: hessian_reference.py NETWORK.json [--nodes N]")
    try:
        with open(args[0]) as f:
            net = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read network file {args[0]}: {e}")
    try:
        w1 = np.asarray(net["w1"], dtype=float)
        w2 = np.asarray(net["w2"], dtype=float)
        act = net["activation"]
        b1 = net.get("b1")
        b2 = net.get("b2")
    except (KeyError, ValueError, TypeError) as e:
        fail(f"bad network file {args[0]}: {e}")
    if w1.ndim != 2 or w2.ndim != 1 or w1.shape[0] != w2.shape[0] or w1.size == 0:
        fail(f"bad network shapes: w1 {w1.shape}, w2 {w2.shape}")
    if nodes is None:
        nodes = default_nodes(act, w1)
    h = reference_hessian(w1, w2, act, nodes, b1, b2)
    ev = np.linalg.eigvalsh(h)
    json.dump({"eigenvalues": ev.tolist(), "hessian": h.tolist(), "nodes": nodes}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)

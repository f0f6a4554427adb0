"""Top eigenvalues of the exact population Hessian at D ≈ 10⁵ with scipy's eigsh.

An erf teacher with Ni = Nh = 316 has D = 316·316 + 316 = 100,172 parameters: its dense Hessian
would take 8·D² = 80 GB. ``nearopt.hessian_operator`` keeps only the Nh² bivariate Gaussian pair
moments (paper Eqs. 16–18, 7 numbers per pair of hidden units) and computes each product in
O(Nh² Ni), so ARPACK (``scipy.sparse.linalg.eigsh``) finds the top of the spectrum in seconds.
The residuals ‖Hv − λv‖ are checked with the same operator.

    python examples/eigsh_large.py [--n 316] [--k 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

import nearopt


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=316, help="Ni = Nh")
    p.add_argument("--k", type=int, default=6, help="number of eigenvalues")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    teacher = nearopt.Network.sample_teacher("erf", args.n, args.n, seed=1)
    d = teacher.dim
    print(f"erf teacher Ni = Nh = {args.n}: D = {d:,} (a dense Hessian would need {8 * d * d / 1e9:.0f} GB)")
    t0 = time.perf_counter()
    op = nearopt.hessian_operator(teacher, threads=args.threads)
    t_build = time.perf_counter() - t0
    v = np.random.default_rng(0).standard_normal(d)
    t0 = time.perf_counter()
    op.matvec(v)
    t_mv = time.perf_counter() - t0
    print(f"operator: {t_build:.2f} s for the {args.n ** 2:,} pair moments, {1e3 * t_mv:.1f} ms per product")
    t0 = time.perf_counter()
    calls = {"n": 0}

    def matvec(x):
        calls["n"] += 1
        return op.matvec(x)

    # The operator itself goes to eigsh; the wrapper only counts the products.
    counting = LinearOperator(op.shape, matvec=matvec, dtype=np.float64)
    lam, vecs = eigsh(counting, k=args.k, which="LA", tol=1e-10)
    t_eig = time.perf_counter() - t0
    order = np.argsort(lam)[::-1]
    lam, vecs = lam[order], vecs[:, order]
    print(f"eigsh: top {args.k} eigenvalues in {t_eig:.1f} s ({calls['n']} products)")
    for i, l in enumerate(lam):
        r = np.linalg.norm(op.matvec(vecs[:, i]) - l * vecs[:, i])
        print(f"  λ_{i + 1} = {l:.10f}   ‖Hv − λv‖ = {r:.1e}")
    print(f"  Rayleigh quotient of the top vector: {vecs[:, 0] @ op.matvec(vecs[:, 0]):.10f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""NumPy reference for `nearopt bench`: the same population Hessians, assembled with a
vectorised closed form and diagonalised with `numpy.linalg.eigvalsh` (LAPACK dsyevd via the
BLAS NumPy links, OpenBLAS here).

Usage: numpy_bench.py CASES.json OUT.json

CASES.json (written by `nearopt bench --numpy`):
  {"threads": 2,
   "cases":    [{"label", "activation": {"kind": ..., "epsilon"?}, "ni", "nh", "w1" (row-major), "w2", "repeats"}],
   "ensemble": {"activation", "ni", "nh", "teachers": [{"w1", "w2"}, ...]} or null}

OUT.json: per case the best wall time (s) of assembly and of eigvalsh over `repeats` runs and
the eigenvalues of the last run; for the ensemble the wall time of the whole loop (assembly +
eigvalsh per teacher) and all eigenvalues. Thread count: set OMP_NUM_THREADS /
OPENBLAS_NUM_THREADS before NumPy loads (the caller does); the BLAS in use is reported via
threadpoolctl.
"""
import json
import sys
import time

import numpy as np


def pair_moments(act, w1):
    """K_ab(m, p) for all pairs, as Nh x Nh arrays (same formulas as the Rust library)."""
    q_mat = w1 @ w1.T
    q = np.diag(q_mat)
    kind = act["kind"]
    if kind == "erf":
        # g(x) = erf(x / sqrt 2): paper Eqs. 16-18.
        q1 = (1.0 + q)[:, None]
        q2 = (1.0 + q)[None, :]
        delta = q1 * q2 - q_mat**2
        sd = np.sqrt(delta)
        k11 = (2.0 / np.pi) / sd
        return dict(
            k00=(2.0 / np.pi) * np.arctan2(q_mat, sd),
            k11=k11,
            k20=-k11 * q_mat / q1,
            k22=k11 * q_mat / delta,
            k31=-k11 * q2 / delta,
            k13=-k11 * q1 / delta,
        )
    if kind == "quadratic":
        # g(x) = x + eps x^2: exact Gaussian moments.
        eps = act["epsilon"]
        nh = len(q)
        return dict(
            k00=q_mat + eps**2 * (np.outer(q, q) + 2.0 * q_mat**2),
            k11=1.0 + 4.0 * eps**2 * q_mat,
            k20=2.0 * eps**2 * np.broadcast_to(q[None, :], (nh, nh)),
            k22=np.full((nh, nh), 4.0 * eps**2),
            k31=np.zeros((nh, nh)),
            k13=np.zeros((nh, nh)),
        )
    raise ValueError(f"unsupported activation {kind}")


def population_hessian(act, w1, a, chunk_elems=4_000_000):
    """The dense D x D population Hessian at the optimum, D = Nh Ni + Nh.

    H[(m,n),(p,q)] = a_m a_p [d_nq K11 + u_n u_q K31 + (u_n v_q + v_n u_q) K22 + v_n v_q K13]
    H[(m,n),k]     = a_m [u_n K20(m,k) + w_kn K11(m,k)]
    H[k,j]         = K00(k,j)
    Vectorised over blocks of hidden units m (bounded temporaries).
    """
    nh, ni = w1.shape
    d = nh * ni + nh
    k = pair_moments(act, w1)
    s = np.outer(a, a)
    s11, s31, s22, s13 = s * k["k11"], s * k["k31"], s * k["k22"], s * k["k13"]
    h = np.empty((d, d))
    wt = w1.T  # (ni, nh): wt[n, p] = w_pn
    # rows per chunk: each row block m has ni * nh * ni entries
    step = max(1, chunk_elems // (ni * nh * ni))
    idx = np.arange(ni)
    for m0 in range(0, nh, step):
        m1 = min(nh, m0 + step)
        u = w1[m0:m1]  # (M, ni)
        # blk[M, n, p, q]
        blk = s31[m0:m1, None, :, None] * u[:, :, None, None] * u[:, None, None, :]
        blk += s22[m0:m1, None, :, None] * (
            u[:, :, None, None] * w1[None, None, :, :] + wt[None, :, :, None] * u[:, None, None, :]
        )
        blk += s13[m0:m1, None, :, None] * (wt[None, :, :, None] * w1[None, None, :, :])
        # advanced indices split by a slice: the indexed view has shape (ni, M, nh)
        blk[:, idx, :, idx] += s11[m0:m1][None, :, :]
        h[m0 * ni : m1 * ni, : nh * ni] = blk.reshape((m1 - m0) * ni, nh * ni)
        c = a[m0:m1, None, None] * (
            u[:, :, None] * k["k20"][m0:m1, None, :] + wt[None, :, :] * k["k11"][m0:m1, None, :]
        )  # (M, ni, nh)
        h[m0 * ni : m1 * ni, nh * ni :] = c.reshape((m1 - m0) * ni, nh)
    h[nh * ni :, : nh * ni] = h[: nh * ni, nh * ni :].T
    h[nh * ni :, nh * ni :] = k["k00"]
    return h


def main():
    cases_path, out_path = sys.argv[1], sys.argv[2]
    spec = json.load(open(cases_path))
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: i.get(k) for k in ("internal_api", "num_threads", "version", "architecture")}
            for i in threadpool_info()
        ]
    except Exception as e:  # threadpoolctl missing: report, do not fail
        blas = [{"error": str(e)}]
    out = {"numpy": np.__version__, "blas": blas, "cases": [], "ensemble": None}
    for case in spec["cases"]:
        ni, nh = case["ni"], case["nh"]
        w1 = np.array(case["w1"], dtype=float).reshape(nh, ni)
        a = np.array(case["w2"], dtype=float)
        best_asm, best_eig = np.inf, np.inf
        for _ in range(case["repeats"]):
            t0 = time.perf_counter()
            h = population_hessian(case["activation"], w1, a)
            t1 = time.perf_counter()
            ev = np.linalg.eigvalsh(h)
            t2 = time.perf_counter()
            best_asm, best_eig = min(best_asm, t1 - t0), min(best_eig, t2 - t1)
            del h
        out["cases"].append(
            {"label": case["label"], "assembly_s": best_asm, "eigvalsh_s": best_eig, "eigenvalues": ev.tolist()}
        )
    ens = spec.get("ensemble")
    if ens:
        ni, nh = ens["ni"], ens["nh"]
        teachers = [
            (np.array(t["w1"], dtype=float).reshape(nh, ni), np.array(t["w2"], dtype=float)) for t in ens["teachers"]
        ]
        best, evs = np.inf, None
        for _ in range(ens.get("repeats", 1)):
            t0 = time.perf_counter()
            evs = [np.linalg.eigvalsh(population_hessian(ens["activation"], w1, a)) for (w1, a) in teachers]
            best = min(best, time.perf_counter() - t0)
        out["ensemble"] = {"total_s": best, "eigenvalues": [e.tolist() for e in evs]}
    check_finite(out)
    with open(out_path, "w") as f:
        json.dump(out, f, allow_nan=False)


def check_finite(out):
    """Refuse to report a non-finite time or eigenvalue (the caller refuses them too)."""
    for case in out["cases"]:
        values = [case["assembly_s"], case["eigvalsh_s"], *case["eigenvalues"]]
        if not np.all(np.isfinite(values)):
            raise ValueError(f"non-finite result for case {case['label']}")
    ens = out["ensemble"]
    if ens is not None:
        values = [ens["total_s"], *(v for e in ens["eigenvalues"] for v in e)]
        if not np.all(np.isfinite(values)):
            raise ValueError("non-finite result for the ensemble")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the caller's error message, non-zero exit
        print(f"numpy_bench.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)

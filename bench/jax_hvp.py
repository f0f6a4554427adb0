#!/usr/bin/env python3
"""A *sampled* Hessian-vector product by JAX autodiff, the reference for the exact product of
`nearopt density` (docs/performance.md, "Large-scale spectra").

For the erf network y = W2 · erf(W1 x / √2) with Ni = Nh = N (D = N² + N), the loss
L(θ) = ½ mean_s (y_θ(x_s) − y_teacher(x_s))² over n Gaussian inputs x_s ~ N(0, I), and the
product v ↦ jvp(grad(L), θ, v) (forward-over-reverse, float64, jit-compiled, the standard
autodiff HVP) at a student θ near the teacher. Prints one JSON object per N:
{"n_hidden": N, "dimension": D, "samples": n, "min_s": ..., "median_s": ..., "cpu_s": ...,
 "flops_estimate": ...} with the minimum and median wall time over REPS products (after
compilation and a warm-up) and the process CPU seconds per product (user + sys, all threads:
the load-independent figure).

Usage: jax_hvp.py [N ...] [--samples 10000] [--reps 5] [--threads 2]
(default N: 100 316 1000). Threads: XLA's CPU backend is limited with
XLA_FLAGS=--xla_cpu_multi_thread_eigen / intra_op threads set below before jax is imported.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[100, 316, 1000])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault(
        "XLA_FLAGS",
        f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={args.threads}",
    )
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import erf

    for n in args.sizes:
        rng = np.random.default_rng(args.seed)
        ni = nh = n
        w1_t = rng.standard_normal((nh, ni)) / np.sqrt(ni)
        w2_t = rng.standard_normal(nh)
        x = jnp.asarray(rng.standard_normal((args.samples, ni)))
        g = lambda z: erf(z / np.sqrt(2.0))
        y_t = g(x @ w1_t.T) @ w2_t

        def loss(theta):
            w1 = theta[: nh * ni].reshape(nh, ni)
            w2 = theta[nh * ni :]
            y = g(x @ w1.T) @ w2
            return 0.5 * jnp.mean((y - y_t) ** 2)

        @jax.jit
        def hvp(theta, v):
            return jax.jvp(jax.grad(loss), (theta,), (v,))[1]

        d = nh * ni + nh
        theta = jnp.asarray(np.concatenate([w1_t.ravel(), w2_t]) + 1e-3 * rng.standard_normal(d))
        v = jnp.asarray(rng.standard_normal(d))
        hvp(theta, v).block_until_ready()  # compile
        hvp(theta, v).block_until_ready()  # warm-up
        times = []
        c0 = time.process_time()
        for _ in range(args.reps):
            t0 = time.perf_counter()
            hvp(theta, v).block_until_ready()
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - c0) / args.reps
        times.sort()
        s = args.samples
        # forward X W1ᵀ, backward δᵀ X, and their tangents: four n × Ni × Nh GEMMs.
        flops = 8.0 * s * ni * nh
        print(
            json.dumps(
                {
                    "n_hidden": n,
                    "dimension": d,
                    "samples": s,
                    "min_s": times[0],
                    "median_s": times[len(times) // 2],
                    "cpu_s": cpu,
                    "flops_estimate": flops,
                    "jax_version": jax.__version__,
                    "threads": args.threads,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())

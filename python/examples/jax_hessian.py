"""The population Hessian of an erf network against a sampled Hessian by JAX autodiff.

nearopt's exact population Hessian at the optimum (paper Eqs. 16–18, ``nearopt.hessian``) is the
limit of the Hessian of the empirical loss ``½ (1/n) Σ_i (y(x_i) − y*(x_i))²`` as ``n → ∞``.
Here JAX differentiates that empirical loss twice, on the very inputs nearopt uses
(``nearopt.inputs``), so that

1. JAX's Hessian equals ``nearopt.sampled_hessian`` (two independent codes for paper
   Eqs. 3–5), at the optimum and at a student away from it (functional term included), to
   ~3e-11: nearopt's erf (from statrs) is within 1e-10 relative of the correctly rounded one;
2. it approaches ``nearopt.hessian`` as ``n`` grows, at the Monte Carlo rate ``1/√n``.

Needs JAX (``pip install jax``); without it the example says so and stops.

    python examples/jax_hessian.py [--max-n 100000]
"""

from __future__ import annotations

import sys

import numpy as np

import nearopt

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import erf
except ImportError:
    print("JAX is not installed (pip install jax): skipping the autodiff comparison.")
    sys.exit(0)

jax.config.update("jax_enable_x64", True)


def network_output(theta, x, ni, nh):
    """y = W2 · erf(W1 x / √2) for a batch x (n × Ni), θ in nearopt's order (W1 rows, W2)."""
    w1 = theta[: nh * ni].reshape(nh, ni)
    w2 = theta[nh * ni:]
    return erf(x @ w1.T / jnp.sqrt(2.0)) @ w2


def jax_sampled_hessian(student, teacher, x):
    """∇²_θ ½ mean((y_student − y_teacher)²) at the student, by JAX."""
    ni, nh = teacher.ni, teacher.nh
    y_star = network_output(jnp.asarray(teacher.params), x, ni, nh)

    def loss(theta):
        r = network_output(theta, x, ni, nh) - y_star
        return 0.5 * jnp.mean(r * r)

    return np.asarray(jax.hessian(loss)(jnp.asarray(student.params)))


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-n", type=int, default=100000, help="largest sample size of part 2")
    args = p.parse_args()
    teacher = nearopt.Network.sample_teacher("erf", ni=5, nh=4, seed=3)
    exact = nearopt.hessian(teacher)
    scale = np.abs(exact).max()
    print(f"erf teacher Ni={teacher.ni} Nh={teacher.nh}: D = {teacher.dim}, max |H| = {scale:.4f}")

    # 1. The same empirical Hessian by two codes, at the optimum and at a student.
    n, seed = 2000, 7
    x = nearopt.inputs(teacher.ni, n, seed)
    student = teacher.with_params(teacher.params + 0.1 * np.random.default_rng(0).standard_normal(teacher.dim))
    for name, s in [("optimum", teacher), ("student", student)]:
        ours = nearopt.sampled_hessian(teacher, n, seed, student=None if s is teacher else s)
        theirs = jax_sampled_hessian(s, teacher, x)
        print(f"  n={n} at the {name}: max |nearopt − JAX| / max |H| = {np.abs(ours - theirs).max() / scale:.2e}")

    # 2. JAX's sampled Hessian converges to the exact population Hessian like 1/√n.
    print("  JAX sampled Hessian at the optimum against nearopt.hessian (exact):")
    for n in [n for n in [100, 1000, 10000, 100000] if n <= args.max_n]:
        theirs = jax_sampled_hessian(teacher, teacher, nearopt.inputs(teacher.ni, n, 11))
        err = np.abs(theirs - exact).max() / scale
        print(f"    n={n:6d}: max |H_n − H| / max |H| = {err:.2e}   (√n · error = {err * np.sqrt(n):.2f})")


if __name__ == "__main__":
    main()

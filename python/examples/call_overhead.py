"""The overhead of calling nearopt from Python: wall times of ``nearopt.hessian(t)`` and of one
``hessian_operator(t).matvec(v)`` for seeded erf teachers (``Ni = Nh = n``, ``D = n² + n``), to
set against the same library calls timed in Rust by
``cargo run --example call_overhead -p nearopt-py -- 10 100`` (``crates/nearopt-py/examples``).

    python examples/call_overhead.py 10 100
"""

from __future__ import annotations

import sys
import time

import numpy as np

import nearopt


def best(repeats, f):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(sizes):
    for n in sizes:
        t = nearopt.Network.sample_teacher("erf", n, n, seed=1)
        d = t.dim
        repeats = 3 if d > 3000 else 50
        dense = best(repeats, lambda: nearopt.hessian(t))
        op = nearopt.hessian_operator(t)
        v = np.ones(d)
        matvec = best(repeats * 20, lambda: op.matvec(v))
        raw = best(repeats * 20, lambda: op._op.matvec(v))
        print(f"n = {n}, D = {d}: hessian {dense:.6e} s, matvec {matvec:.6e} s "
              f"(LinearOperator), {raw:.6e} s (extension)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100])

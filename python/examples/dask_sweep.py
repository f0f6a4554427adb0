"""A rank and spectrum sweep over teacher ensembles on Dask distributed.

Every task samples one teacher (its own seed and stream, as ``nearopt teacher --seed S --stream
K``), builds the exact population Hessian at the optimum and returns its rank and spectrum
(``nearopt.spectrum``). The tasks share nothing, so the sweep is embarrassingly parallel: here
on a ``LocalCluster`` of worker processes, in production on any Dask cluster (SSH, SLURM via
dask-jobqueue, Kubernetes) by changing the one line that makes the client. The results are the
same, bit for bit, as the serial loop, since every draw is seeded and no result depends on the
thread count.

    python examples/dask_sweep.py            # 2 worker processes
    python examples/dask_sweep.py --workers 8 --teachers 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nearopt

# The paper's rank grid (Section 4): activation, inputs Ni, hidden units Nh.
GRID = [
    ("linear", 6, 3), ("linear", 3, 6),
    ({"kind": "quadratic", "epsilon": 1.0}, 3, 4), ({"kind": "quadratic", "epsilon": 1.0}, 4, 4),
    ("erf", 4, 4), ("erf", 8, 5),
]


def tasks(teachers: int, seed: int = 1):
    """One task per (grid point, teacher): ``(activation, ni, nh, seed, stream)``."""
    return [(act, ni, nh, seed, k) for (act, ni, nh) in GRID for k in range(teachers)]


def one_teacher(activation, ni, nh, seed, stream):
    """Rank, λ_min (paper Eq. 7) and the eigenvalues of one teacher's Hessian at the optimum."""
    t = nearopt.Network.sample_teacher(activation, ni, nh, seed=seed, stream=stream)
    s = nearopt.spectrum(t, threads=1)  # one thread per task: the workers are the parallelism
    return {"ni": ni, "nh": nh, "dimension": s["dimension"], "rank": s["rank"],
            "lambda_min": s["lambda_min"], "eigenvalues": s["eigenvalues"]}


def run_serial(task_list):
    return [one_teacher(*t) for t in task_list]


def run_dask(client, task_list):
    futures = client.map(one_teacher, *zip(*task_list), pure=True)
    return client.gather(futures)


def same(a, b) -> bool:
    """Bit-for-bit equality of two sweeps."""
    return len(a) == len(b) and all(
        x.keys() == y.keys()
        and all(np.asarray(x[k]).tobytes() == np.asarray(y[k]).tobytes() for k in x)
        for x, y in zip(a, b)
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--teachers", type=int, default=10)
    args = p.parse_args()
    from dask.distributed import Client, LocalCluster

    todo = tasks(args.teachers)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        distributed = run_dask(client, todo)
        t_dask = time.perf_counter() - t0
    t0 = time.perf_counter()
    serial = run_serial(todo)
    t_serial = time.perf_counter() - t0
    print(f"{len(todo)} teachers: dask ({args.workers} workers) {t_dask:.2f} s, serial {t_serial:.2f} s")
    print("identical to the serial run:", same(distributed, serial))
    for act, ni, nh in GRID:
        rows = [r for r, t in zip(distributed, todo) if t[:3] == (act, ni, nh)]
        ranks = sorted({r["rank"] for r in rows})
        lmin = np.median([r["lambda_min"] for r in rows])
        name = act if isinstance(act, str) else act["kind"]
        print(f"  {name:9s} Ni={ni:2d} Nh={nh:2d} D={rows[0]['dimension']:3d}: rank {ranks}, median λ_min {lmin:.3e}")


if __name__ == "__main__":
    main()

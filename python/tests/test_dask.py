"""The Dask sweep example on a LocalCluster of two worker processes equals the serial run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dask import distributed

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_dask_sweep_equals_the_serial_run():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import dask_sweep as ex
    finally:
        sys.path.remove(str(EXAMPLES))
    todo = ex.tasks(teachers=2, seed=5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids  # two worker processes
        # Dask's way to ship a module that the workers cannot import.
        client.upload_file(str(EXAMPLES / "dask_sweep.py"))
        got = ex.run_dask(client, todo)
    serial = ex.run_serial(todo)
    assert ex.same(got, serial)
    assert len(got) == len(todo) and got[0]["eigenvalues"].dtype.name == "float64"
    # The comparison can fail: another seed gives other spectra.
    assert not ex.same(got, ex.run_serial(ex.tasks(teachers=2, seed=6)))

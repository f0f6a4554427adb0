"""The examples run (small sizes) and say what they should."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

import nearopt

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name, *args):
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_eigsh_example_finds_eigenpairs():
    out = _run("eigsh_large.py", "--n", "30", "--k", "3")
    assert "D = 930" in out and "top 3 eigenvalues" in out
    t = nearopt.Network.sample_teacher("erf", 30, 30, seed=1)
    top = np.linalg.eigvalsh(nearopt.hessian(t))[-3:][::-1]
    for lam in top:
        assert f"{lam:.10f}"[:-1] in out  # the printed eigenvalues are the dense ones


def test_jax_example_agrees_or_says_it_cannot_run():
    out = _run("jax_hessian.py", "--max-n", "1000")
    if importlib.util.find_spec("jax") is None:
        assert "JAX is not installed" in out
    else:
        diffs = [float(line.split("=")[-1]) for line in out.splitlines() if "nearopt − JAX" in line]
        assert len(diffs) == 2 and max(diffs) < 1e-9


def test_figure2_ensemble_follows_the_linear_law():
    spec = importlib.util.spec_from_file_location("figure2_example", EXAMPLES / "figure2_histogram.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    ni, nh, teachers = 10, 20, 60
    ev = ex.pooled_eigenvalues(ni, nh, teachers)
    assert ev.size == teachers * ni  # rank Ni per linear teacher
    x = np.linspace(0, 15, 6001)
    p = nearopt.linear_spectrum_density(ni, nh, x)
    dx = x[1] - x[0]
    assert abs(p.sum() * dx - 1) < 1e-3
    assert abs((x * p).sum() * dx - (1 + nh / ni)) < 1e-3
    # Per-teacher means are independent: the pooled mean is within 4 standard errors.
    means = ev.reshape(teachers, ni).mean(axis=1)
    assert abs(means.mean() - (1 + nh / ni)) < 4 * means.std(ddof=1) / np.sqrt(teachers)


def test_call_overhead_example_times_both_calls():
    out = _run("call_overhead.py", "3")
    assert "n = 3, D = 12: hessian" in out and "(LinearOperator)" in out and "(extension)" in out

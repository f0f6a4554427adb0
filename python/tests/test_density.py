"""`nearopt.density` against `nearopt density --json` (same seed: the same numbers, bit for
bit), and against the exact spectrum."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nearopt
from cli_compare import assert_same

ARRAYS = ["nodes", "weights", "top_eigenvalues", "top_residual_bounds", "top_gap_bounds"]


@pytest.mark.parametrize("kind, flags", [
    ("erf", []),
    ("quadratic", ["--probes", 5, "--steps", 12, "--top", 3, "--seed", 7]),
    ("tanh", ["--probes", 3, "--steps", 4, "--top", 0, "--grid", 50]),
])
def test_density_is_the_cli_json(nearopt_cli, teacher_files, teachers, kind, flags):
    expected = json.loads(nearopt_cli.ok("density", "--network", teacher_files[kind], "--json", *flags))
    kwargs = {flag.lstrip("-").replace("-", "_"): value for flag, value in zip(flags[::2], flags[1::2])}
    got = nearopt.density(teachers[kind], threads=1, **kwargs)
    for key in ARRAYS:
        assert isinstance(got[key], np.ndarray) and got[key].dtype == np.float64, key
    assert got["log_peaks"].ndim == 2 and got["linear"]["x"].dtype == np.float64
    assert_same(got, expected, ignore=("seconds",))
    # The test can fail: another seed gives other nodes.
    other = nearopt.density(teachers[kind], threads=1, **{**kwargs, "seed": got["seed"] + 1})
    assert other["nodes"].tobytes() != got["nodes"].tobytes()


def test_density_matches_the_exact_spectrum(teachers):
    t = teachers["erf"]
    ev = nearopt.spectrum(t)["eigenvalues"]
    got = nearopt.density(t, probes=8, steps=t.dim, top=4, threads=2)
    assert got["dimension"] == t.dim
    # Exact moments (closed forms) against the eigenvalues: rounding only.
    np.testing.assert_allclose(got["trace"], ev.sum(), rtol=1e-12)
    np.testing.assert_allclose(got["trace_squared"], (ev ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(got["weights"].sum(), 1.0, rtol=1e-12)
    # Block Lanczos to a 1e-10 relative residual: the top eigenvalues within that.
    np.testing.assert_allclose(got["top_eigenvalues"], ev[::-1][:4], rtol=1e-8)
    # The same seed gives the same numbers whatever the thread count.
    one = nearopt.density(t, probes=8, steps=t.dim, top=4, threads=1)
    assert one["nodes"].tobytes() == got["nodes"].tobytes()


def test_density_errors_carry_the_cli_message(nearopt_cli, teacher_files, teachers):
    message = nearopt_cli.error("density", "--network", teacher_files["erf"], "--probes", 0)
    with pytest.raises(ValueError) as e:
        nearopt.density(teachers["erf"], probes=0)
    assert str(e.value) == message
    with pytest.raises(ValueError, match="top_tol must be a positive number"):
        nearopt.density(teachers["erf"], top_tol=0.0)
    with pytest.raises(ValueError, match="--memory must be a size such as 800M or 1.5G"):
        nearopt.density(teachers["erf"], memory="lots")
    small = nearopt.density(teachers["erf"], memory=10**9, probes=2, steps=3, top=1)
    assert small["probes"] == 2

"""`nearopt.spectrum` against `nearopt spectrum --json`, key by key and bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nearopt
from cli_compare import assert_same


CASES = [
    ("erf", []),
    ("linear", []),
    ("quadratic", []),
    ("polynomial", []),
    ("tanh", []),
    ("erf", ["--rank-tol", 1e-3]),
    ("erf", ["--samples", 11]),  # n < D: through the NTK Gram matrix
    ("quadratic", ["--samples", 500, "--seed", 7]),  # n > D
]


@pytest.mark.parametrize("kind, flags", CASES)
def test_spectrum_is_the_cli_json(nearopt_cli, teacher_files, teachers, kind, flags):
    expected = json.loads(nearopt_cli.ok("spectrum", "--network", teacher_files[kind], "--json", *flags))
    kwargs = {}
    for flag, value in zip(flags[::2], flags[1::2]):
        kwargs[flag.lstrip("-").replace("-", "_")] = value
    got = nearopt.spectrum(teachers[kind], **kwargs)
    assert_same(got, expected)
    # The test can fail: a one-ulp change is caught.
    ev = got["eigenvalues"].copy()
    ev[-1] = np.nextafter(ev[-1], np.inf)
    assert ev.tobytes() != np.asarray(expected["eigenvalues"]).tobytes()


def test_eigenvectors_are_the_cli_ones(nearopt_cli, teacher_files, teachers, tmp_path):
    out = tmp_path / "V.npy"
    expected = json.loads(nearopt_cli.ok("spectrum", "--network", teacher_files["erf"], "--json",
                                         "--vectors", out))
    got = nearopt.spectrum(teachers["erf"], vectors=True, threads=2)
    assert got["vectors"].tobytes() == np.load(out).tobytes()
    assert got["eigenvalues"].tobytes() == np.asarray(expected["eigenvalues"]).tobytes()
    h = nearopt.hessian(teachers["erf"])
    v, lam = got["vectors"], got["eigenvalues"]
    np.testing.assert_allclose(h @ v, v * lam, rtol=0, atol=1e-13)
    np.testing.assert_allclose(v.T @ v, np.eye(len(lam)), rtol=0, atol=1e-13)


def test_spectrum_against_numpy(teachers):
    for t in teachers.values():
        h = nearopt.hessian(t)
        s = nearopt.spectrum(t)
        ref = np.linalg.eigvalsh(h)
        np.testing.assert_allclose(s["eigenvalues"], ref, rtol=0, atol=64 * np.finfo(float).eps * ref[-1])
        assert s["rank"] == np.linalg.matrix_rank(h, hermitian=True)


def test_bad_spectrum_arguments(teachers):
    t = teachers["erf"]
    with pytest.raises(ValueError, match="seed only applies with samples"):
        nearopt.spectrum(t, seed=3)
    with pytest.raises(ValueError, match="samples must be at least 1"):
        nearopt.spectrum(t, samples=0)
    with pytest.raises(ValueError, match="rank_tol must be a finite number"):
        nearopt.spectrum(t, rank_tol=float("nan"))

"""Hessians against the command line (bit for bit), the operator against the dense matrix, and
the sampled quantities against each other and against NumPy formulas."""

from __future__ import annotations

import math
import os
import resource

import numpy as np
import pytest
import scipy.sparse.linalg as sla

import nearopt

KINDS = ["erf", "linear", "quadratic", "polynomial", "tanh"]


@pytest.mark.parametrize("kind", KINDS)
def test_hessian_is_the_cli_hessian_bit_for_bit(nearopt_cli, teacher_files, teachers, tmp_path, kind):
    out = tmp_path / "H.npy"
    nearopt_cli.ok("hessian", "--network", teacher_files[kind], "--out", out)
    expected = np.load(out)
    h = nearopt.hessian(teachers[kind])
    assert h.dtype == np.float64 and h.flags.c_contiguous and h.shape == expected.shape
    assert h.tobytes() == expected.tobytes()


def test_threads_do_not_change_the_hessian(teachers):
    t = nearopt.Network.sample_teacher("erf", 30, 33, seed=4)  # D = 1023: the parallel assembly
    a = nearopt.hessian(t, threads=1)
    b = nearopt.hessian(t, threads=2)
    assert a.tobytes() == b.tobytes()
    with pytest.raises(ValueError, match="threads must be at least 1"):
        nearopt.hessian(t, threads=0)


@pytest.mark.parametrize("kind", ["erf", "quadratic", "tanh"])
def test_operator_products_equal_the_dense_matrix(teachers, kind):
    t = teachers[kind]
    h = nearopt.hessian(t)
    op = nearopt.hessian_operator(t)
    assert op.shape == h.shape and op.dtype == np.float64
    rng = np.random.default_rng(5)
    v = rng.standard_normal(t.dim)
    x = rng.standard_normal((t.dim, 7))
    # Different summation orders: rounding of a D-term dot product, a few ulps of |H| |v|.
    tol = 8 * t.dim * np.finfo(float).eps * np.abs(h).max() * np.abs(x).max()
    np.testing.assert_allclose(op.matvec(v), h @ v, rtol=0, atol=tol)
    np.testing.assert_allclose(op @ x, h @ x, rtol=0, atol=tol)
    np.testing.assert_allclose(op.rmatvec(v), h @ v, rtol=0, atol=tol)
    np.testing.assert_allclose(op.T @ v, h @ v, rtol=0, atol=tol)
    # matmat's columns are matvec's products, bit for bit; Fortran order and (D, 1) work.
    cols = np.stack([op.matvec(x[:, j]) for j in range(x.shape[1])], axis=1)
    assert (op.matmat(np.asfortranarray(x)) == cols).all()
    assert op.matvec(v.reshape(-1, 1)).shape == (t.dim, 1)
    assert op.dense().tobytes() == h.tobytes()
    # The test can fail: a perturbed matrix is told apart.
    h2 = h.copy()
    h2[0, 1] += 1e-6
    assert np.abs(op.matvec(v) - h2 @ v).max() > tol


def test_operator_rejects_wrong_lengths(teachers):
    op = nearopt.hessian_operator(teachers["erf"])
    with pytest.raises(ValueError, match="has 3 rows but the operator is 28 × 28"):
        op._op.matvec(np.zeros(3))
    with pytest.raises(ValueError):
        op.matvec(np.zeros(3))


def test_eigsh_finds_the_top_of_the_dense_spectrum():
    t = nearopt.Network.sample_teacher("erf", 25, 16, seed=2)  # D = 416
    dense = np.linalg.eigvalsh(nearopt.hessian(t))
    k = 6
    top = np.sort(sla.eigsh(nearopt.hessian_operator(t, threads=2), k=k, which="LA", tol=1e-12)[0])
    np.testing.assert_allclose(top, dense[-k:], rtol=1e-10, atol=0)


@pytest.mark.parametrize("n, seed", [(37, 1), (700, 9)])
def test_sampled_hessian_is_the_cli_one(nearopt_cli, teacher_files, teachers, tmp_path, n, seed):
    out = tmp_path / "H.npy"
    nearopt_cli.ok("hessian", "--network", teacher_files["erf"], "--samples", n, "--seed", seed, "--out", out)
    h = nearopt.sampled_hessian(teachers["erf"], n, seed)
    assert h.tobytes() == np.load(out).tobytes()


def test_sampled_hessian_at_a_student_is_the_cli_one(nearopt_cli, teacher_files, teachers, tmp_path):
    t = teachers["erf"]
    student = t.with_params(t.params + 0.05 * np.random.default_rng(1).standard_normal(t.dim))
    sfile = tmp_path / "s.json"
    student.to_file(sfile)
    out = tmp_path / "H.npy"
    nearopt_cli.ok("hessian", "--network", teacher_files["erf"], "--student", sfile,
                   "--samples", 300, "--seed", 4, "--out", out)
    h = nearopt.sampled_hessian(t, 300, 4, student=student, threads=1)
    assert h.tobytes() == np.load(out).tobytes()
    # The functional term is there: away from the optimum H differs from JᵀJ/n.
    j = nearopt.jacobian(student, 300, 4)
    assert np.abs(h - j.T @ j / 300).max() > 1e-6
    other = nearopt.Network.sample_teacher("erf", 6, 5)
    with pytest.raises(ValueError, match="student has Ni = 6, Nh = 5"):
        nearopt.sampled_hessian(t, 10, student=other)


def _erf_jacobian(net, x):
    """J_i = (a_m g'(z_m) x_n, g(z_k)) for g = erf(·/√2), in NumPy."""
    z = x @ net.w1.T
    gp = math.sqrt(2 / math.pi) * np.exp(-z * z / 2)
    g = np.vectorize(math.erf)(z / math.sqrt(2))
    jw1 = (net.w2 * gp)[:, :, None] * x[:, None, :]
    return np.concatenate([jw1.reshape(len(x), -1), g], axis=1)


def test_jacobian_gram_and_inputs_agree_with_numpy(teachers):
    t = teachers["erf"]
    n = 300  # two input chunks of 256
    x = nearopt.inputs(t.ni, n, seed=3)
    assert x.shape == (n, t.ni)
    assert abs(x.mean()) < 5 / math.sqrt(x.size) and abs(x.var() - 1) < 5 * math.sqrt(2 / x.size)
    j = nearopt.jacobian(t, n, 3)
    ref = _erf_jacobian(t, x)
    w1 = t.nh * t.ni
    np.testing.assert_allclose(j[:, :w1], ref[:, :w1], rtol=0, atol=1e-14)
    # g(z) = erf(z/√2) comes from statrs, measured up to 9.5e-11 relative off math.erf (near
    # |z| ≈ 0.7); elsewhere to rounding.
    np.testing.assert_allclose(j[:, w1:], ref[:, w1:], rtol=2e-10, atol=1e-15)
    gram = nearopt.ntk_gram(t, n, 3)
    np.testing.assert_allclose(gram, j @ j.T / n, rtol=0, atol=1e-14)
    h = nearopt.sampled_hessian(t, n, 3)
    np.testing.assert_allclose(h, j.T @ j / n, rtol=0, atol=1e-14)


def test_sampled_hessian_converges_to_the_population_hessian(teachers):
    # Monte Carlo: entries of JᵀJ/n have standard error ≤ sd(J_a J_b)/√n; 6 standard errors.
    t = teachers["erf"]
    n = 4000
    j = nearopt.jacobian(t, n, 11)
    prods = j[:, :, None] * j[:, None, :]
    se = prods.std(axis=0) / math.sqrt(n)
    diff = np.abs(nearopt.sampled_hessian(t, n, 11) - nearopt.hessian(t))
    assert (diff <= 6 * se + 1e-12).all()


def test_bad_sample_counts():
    t = nearopt.Network.sample_teacher("erf", 3, 2)
    for f in (nearopt.sampled_hessian, nearopt.jacobian, nearopt.ntk_gram):
        with pytest.raises(ValueError, match="must be at least 1"):
            f(t, 0)


def test_dense_requests_that_cannot_fit_raise_memory_error_first(nearopt_cli, tmp_path, monkeypatch):
    # D = 2·10⁶ + 1000: a dense Hessian would need 29 TiB; refused before the Nh² moments.
    big = nearopt.Network.sample_teacher("erf", 2000, 1000, seed=1)
    with pytest.raises(MemoryError, match="needs"):
        nearopt.hessian(big)
    # With NEAROPT_MEMORY_LIMIT the message is the CLI's, and nothing was filled first.
    t = nearopt.Network.sample_teacher("erf", 60, 60, seed=1)  # D = 3660: 102 MiB dense
    path = tmp_path / "t.json"
    t.to_file(path)
    expected = nearopt_cli.error("hessian", "--network", path, "--out", tmp_path / "H.npy",
                                 env={"NEAROPT_MEMORY_LIMIT": "64M"})
    monkeypatch.setenv("NEAROPT_MEMORY_LIMIT", "64M")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MemoryError) as e:
        nearopt.hessian(t)
    # Both name the size the dense matrix would need and the limit (the CLI's gate words it as
    # "allows only", the library as "is available").
    for msg in (str(e.value), expected):
        assert "needs" in msg and "MiB" in msg, msg
    for call in (lambda: nearopt.spectrum(t), lambda: nearopt.sampled_hessian(t, 10),
                 lambda: nearopt.hessian_operator(t).dense(), lambda: nearopt.ntk_gram(t, 5000)):
        with pytest.raises(MemoryError, match="needs"):
            call()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024, f"peak memory grew by {grown_kib} KiB"
    # The operator needs no dense matrix and still works under the limit.
    assert nearopt.hessian_operator(t).matvec(np.ones(t.dim)).shape == (t.dim,)
    monkeypatch.setenv("NEAROPT_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="NEAROPT_MEMORY_LIMIT must be a size"):
        nearopt.hessian(t)
    assert "NEAROPT_MEMORY_LIMIT" in os.environ


"""The exact population Hessian at a student (``student=``, INTERFACE.md): against
``nearopt hessian/spectrum --network T --student S`` bit for bit, for students of another
width, with biases and with another activation; the operator against the dense matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nearopt
from cli_compare import assert_same

TEACHER = ["--activation", "erf", "--ni", 3, "--nh", 2, "--seed", 1]
STUDENTS = {
    "wider": ["--activation", "erf", "--ni", 3, "--nh", 4, "--seed", 2],
    "biases": ["--activation", "erf", "--ni", 3, "--nh", 2, "--seed", 3, "--b1-std", 0.3,
               "--b2-std", 0.2],
    "tanh-narrow": ["--activation", "tanh", "--ni", 3, "--nh", 1, "--seed", 4, "--b1-std", 0.1],
}


@pytest.fixture(scope="module")
def files(nearopt_cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("student")
    out = {"teacher": d / "teacher.json"}
    nearopt_cli.ok("teacher", *TEACHER, "--out", out["teacher"])
    for name, flags in STUDENTS.items():
        out[name] = d / f"{name}.json"
        nearopt_cli.ok("teacher", *flags, "--out", out[name])
    return out


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_hessian_at_the_student_is_the_cli_one(nearopt_cli, files, tmp_path, name):
    out = tmp_path / "H.npy"
    nearopt_cli.ok("hessian", "--network", files["teacher"], "--student", files[name], "--out", out)
    expected = np.load(out)
    t = nearopt.Network.from_file(files["teacher"])
    s = nearopt.Network.from_file(files[name])
    h = nearopt.hessian(t, s)
    assert h.shape == (s.dim, s.dim) and h.tobytes() == expected.tobytes()
    assert nearopt.hessian(t, student=s, threads=1).tobytes() == h.tobytes()
    # The operator: its products are the dense matrix's (rounding), its dense() is the matrix.
    op = nearopt.hessian_operator(t, s)
    assert op.shape == h.shape and op.dense().tobytes() == h.tobytes()
    x = np.random.default_rng(7).standard_normal((s.dim, 3))
    tol = 16 * s.dim * np.finfo(float).eps * np.abs(h).max() * np.abs(x).max()
    np.testing.assert_allclose(op @ x, h @ x, rtol=0, atol=tol)
    # Away from the optimum the functional term is there: not the Gauss–Newton matrix E[J Jᵀ]
    # of the student (which is the Hessian at the optimum of the student as its own teacher).
    gn = nearopt.hessian(s)
    assert np.abs(h - gn).max() > 1e3 * tol


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_spectrum_at_the_student_is_the_cli_json(nearopt_cli, files, name):
    expected = json.loads(nearopt_cli.ok("spectrum", "--network", files["teacher"], "--student",
                                         files[name], "--json"))
    t = nearopt.Network.from_file(files["teacher"])
    s = nearopt.Network.from_file(files[name])
    got = nearopt.spectrum(t, s)
    # The CLI names the student's file; the package returns the student itself.
    assert_same(got, expected, ignore=("student",))
    assert got["student"] == s and got["point"] == "student" == expected["point"]
    np.testing.assert_allclose(got["eigenvalues"], np.linalg.eigvalsh(nearopt.hessian(t, s)),
                               rtol=0, atol=1e-12 * np.abs(got["eigenvalues"]).max())


def test_student_equal_to_the_teacher_gives_the_hessian_at_the_optimum(files):
    t = nearopt.Network.from_file(files["teacher"])
    h0 = nearopt.hessian(t)
    h = nearopt.hessian(t, t)
    # The functional term vanishes there (y_s = y_t): rounding of its quadratures only.
    np.testing.assert_allclose(h, h0, rtol=0, atol=1e-10 * np.abs(h0).max())


def test_a_student_with_other_inputs_is_refused(files):
    t = nearopt.Network.from_file(files["teacher"])
    other = nearopt.Network.sample_teacher("erf", 4, 2)
    for call in (nearopt.hessian, nearopt.hessian_operator, nearopt.spectrum):
        with pytest.raises(ValueError, match="Ni"):
            call(t, other)


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_density_at_the_student_is_the_cli_json_and_exact(nearopt_cli, files, name):
    flags = ["--probes", 5, "--steps", 8, "--top", 2]
    expected = json.loads(nearopt_cli.ok(
        "density", "--network", files["teacher"], "--student", files[name], "--json", *flags))
    teacher = nearopt.Network.from_file(files["teacher"])
    student = nearopt.Network.from_file(files[name])
    got = nearopt.density(teacher, student=student, probes=5, steps=8, top=2, threads=1)
    # The CLI names the student's file, Python returns the student itself.
    assert expected["student"] == str(files[name]) and got["student"] == student
    assert got["point"] == expected["point"] == "student"
    assert_same(got, expected, ignore=("seconds", "student"))
    ev = nearopt.spectrum(teacher, student=student)["eigenvalues"]
    scale = np.abs(ev).sum()
    assert abs(got["trace"] - ev.sum()) <= 1e-12 * scale
    np.testing.assert_allclose(got["trace_squared"], (ev ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(got["top_eigenvalues"][0], ev[-1], rtol=1e-9)

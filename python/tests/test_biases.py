"""Networks with biases (``y = W2 · g(W1 x + b1) + b2``, INTERFACE.md): construction, files and
seeded teachers, and every Hessian and spectrum, against the command line bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nearopt
from cli_compare import assert_same

# (teacher flags, the same as keyword arguments of Network.sample_teacher)
BIASED = {
    "erf-b1b2": (["--activation", "erf", "--ni", 4, "--nh", 3, "--b1-std", 0.5, "--b2-std", 1.0],
                 dict(activation="erf", ni=4, nh=3, b1_std=0.5, b2_std=1.0)),
    "tanh-b1": (["--activation", "tanh", "--ni", 3, "--nh", 4, "--b1-std", 0.3, "--seed", 5],
                dict(activation="tanh", ni=3, nh=4, b1_std=0.3, seed=5)),
    "quadratic-b2": (["--activation", "quadratic", "--epsilon", 0.4, "--ni", 3, "--nh", 2,
                      "--b2-std", 2.0, "--stream", 3],
                     dict(activation={"kind": "quadratic", "epsilon": 0.4}, ni=3, nh=2,
                          b2_std=2.0, stream=3)),
    "relu-b1b2": (["--activation", "relu", "--ni", 3, "--nh", 3, "--b1-std", 0.2, "--b2-std", 0.1,
                   "--weights", "laplace", "--seed", 9],
                  dict(activation="relu", ni=3, nh=3, b1_std=0.2, b2_std=0.1, weights="laplace",
                       seed=9)),
}


@pytest.fixture(scope="module")
def biased_files(nearopt_cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("biased")
    files = {}
    for name, (flags, _) in BIASED.items():
        files[name] = d / f"{name}.json"
        nearopt_cli.ok("teacher", *flags, "--out", files[name])
    return files


@pytest.mark.parametrize("name", sorted(BIASED))
def test_sample_teacher_with_biases_is_the_cli_teacher(biased_files, tmp_path, name):
    net = nearopt.Network.sample_teacher(**BIASED[name][1])
    assert net == nearopt.Network.from_file(biased_files[name])
    mine = tmp_path / "mine.json"
    net.to_file(mine)
    assert mine.read_bytes() == biased_files[name].read_bytes()
    # The weights are those of the bias-free teacher of the same seed and stream.
    kwargs = {k: v for k, v in BIASED[name][1].items() if k not in ("b1_std", "b2_std")}
    plain = nearopt.Network.sample_teacher(**kwargs)
    assert net.w1.tobytes() == plain.w1.tobytes() and net.w2.tobytes() == plain.w2.tobytes()
    assert net != plain and plain.b1 is None and plain.b2 is None


def test_biases_in_and_out(tmp_path):
    w1 = np.array([[0.12, -0.40, 0.05], [0.33, 0.08, -0.71]])
    w2 = np.array([0.91, -0.27])
    both = nearopt.Network(w1, w2, "erf", b1=[0.10, -0.20], b2=0.05)
    assert both.dim == 2 * 3 + 2 + 2 + 1
    assert both.b1.dtype == np.float64 and not both.b1.flags.writeable
    assert both.b2 == 0.05
    np.testing.assert_array_equal(both.params, np.concatenate([w1.ravel(), w2, [0.10, -0.20], [0.05]]))
    only_b2 = nearopt.Network(w1, w2, "erf", b2=-1.5)
    assert only_b2.b1 is None and only_b2.dim == 9
    only_b1 = nearopt.Network(w1, w2, {"kind": "erf"}, b1=np.array([1.0, 2.0]))
    assert only_b1.b2 is None and only_b1.dim == 10
    # The file round trip keeps them, exactly; the INTERFACE.md example reads back the same.
    path = tmp_path / "n.json"
    both.to_file(path)
    back = nearopt.Network.from_file(path)
    assert back == both and back.params.tobytes() == both.params.tobytes()
    doc = json.loads(path.read_text())
    assert doc["b1"] == [0.10, -0.20] and doc["b2"] == 0.05
    # with_params keeps the biases present; repr names them.
    assert both.with_params(both.params * 2).b2 == 0.1
    assert "biases=b1+b2" in repr(both) and "biases" not in repr(nearopt.Network(w1, w2, "erf"))
    assert nearopt.Network(w1, w2, "erf", b1=[0.0, 0.0]) != nearopt.Network(w1, w2, "erf")


@pytest.mark.parametrize(
    "b1, b2, needle",
    [
        ([1.0], None, "b1 has 1 entries but the network has 2 hidden units"),
        ([1.0, np.nan], None, "b1[1] is not finite"),
        (None, np.inf, "b2 is not finite"),
        ([[1.0, 2.0]], None, "b1 must be a 1-D array"),
    ],
)
def test_bad_biases_raise_value_error(b1, b2, needle):
    with pytest.raises(ValueError) as e:
        nearopt.Network([[1.0], [2.0]], [1.0, 1.0], "erf", b1=b1, b2=b2)
    assert needle in str(e.value)
    with pytest.raises(ValueError, match="standard deviation of b1"):
        nearopt.Network.sample_teacher("erf", 2, 2, b1_std=-1.0)


@pytest.mark.parametrize("name", sorted(BIASED))
def test_hessian_with_biases_is_the_cli_hessian(nearopt_cli, biased_files, tmp_path, name):
    out = tmp_path / "H.npy"
    nearopt_cli.ok("hessian", "--network", biased_files[name], "--out", out)
    expected = np.load(out)
    net = nearopt.Network.from_file(biased_files[name])
    h = nearopt.hessian(net)
    assert h.shape == (net.dim, net.dim)
    assert h.tobytes() == expected.tobytes()
    # The operator: products equal the dense matrix up to rounding, dense() bit for bit.
    op = nearopt.hessian_operator(net)
    assert op.shape == h.shape and op.dense().tobytes() == h.tobytes()
    x = np.random.default_rng(3).standard_normal((net.dim, 3))
    tol = 8 * net.dim * np.finfo(float).eps * np.abs(h).max() * np.abs(x).max()
    np.testing.assert_allclose(op @ x, h @ x, rtol=0, atol=tol)
    # ... and a wrong matrix is caught: dropping the bias block changes the products.
    h2 = h.copy()
    h2[-1, -1] = 0.0
    assert np.abs(h2 @ x - op @ x).max() > 100 * tol


@pytest.mark.parametrize("name", sorted(BIASED))
def test_spectrum_with_biases_is_the_cli_json(nearopt_cli, biased_files, name):
    expected = json.loads(nearopt_cli.ok("spectrum", "--network", biased_files[name], "--json"))
    got = nearopt.spectrum(nearopt.Network.from_file(biased_files[name]))
    assert got["dimension"] == nearopt.Network.from_file(biased_files[name]).dim
    assert_same(got, expected)


def test_sampled_hessian_with_biases_is_the_cli_one(nearopt_cli, biased_files, tmp_path):
    out = tmp_path / "H.npy"
    path = biased_files["erf-b1b2"]
    nearopt_cli.ok("hessian", "--network", path, "--out", out, "--samples", 300, "--seed", 4)
    h = nearopt.sampled_hessian(nearopt.Network.from_file(path), 300, 4)
    assert h.tobytes() == np.load(out).tobytes()


@pytest.mark.parametrize("name", ["erf-b1b2", "quadratic-b2", "relu-b1b2"])
def test_density_with_biases_is_the_cli_json_and_exact(nearopt_cli, biased_files, name):
    path = biased_files[name]
    net = nearopt.Network.from_file(path)
    flags = ["--probes", 6, "--steps", 8, "--top", 3]
    expected = json.loads(nearopt_cli.ok("density", "--network", path, "--json", *flags))
    got = nearopt.density(net, probes=6, steps=8, top=3, threads=1)
    assert_same(got, expected, ignore=("seconds",))
    assert got["point"] == "optimum" and got["student"] is None
    # The exact moments against the dense spectrum (the bias rows included): rounding only.
    ev = nearopt.spectrum(net)["eigenvalues"]
    np.testing.assert_allclose(got["trace"], ev.sum(), rtol=1e-12)
    np.testing.assert_allclose(got["trace_squared"], (ev ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(got["top_eigenvalues"][0], ev[-1], rtol=1e-9)


def test_rank_of_a_biased_erf_network_is_float64_and_not_certified(biased_files):
    # certify decides biased polynomial networks exactly; other activations with biases get a
    # float64 rank, reported as not certified (as `nearopt rank --json` does).
    net = nearopt.Network.from_file(biased_files["erf-b1b2"])
    r = nearopt.rank(net)
    assert r["certified"] is False and r["dimension"] == net.dim

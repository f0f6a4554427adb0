"""Networks: construction, network files and seeded teachers against the command line."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import nearopt


@pytest.mark.parametrize(
    "cli_args, py_kwargs",
    [
        (["--activation", "erf", "--ni", 7, "--nh", 5, "--seed", 3],
         dict(activation="erf", ni=7, nh=5, seed=3)),
        (["--activation", "quadratic", "--epsilon", 0.5, "--ni", 4, "--nh", 6, "--stream", 2],
         dict(activation={"kind": "quadratic", "epsilon": 0.5}, ni=4, nh=6, stream=2)),
        (["--activation", "linear", "--ni", 3, "--nh", 9, "--weights", "student-t", "--nu", 4],
         dict(activation="linear", ni=3, nh=9, weights="student-t", nu=4.0)),
        (["--activation", "tanh", "--ni", 2, "--nh", 3, "--weights", "rademacher"],
         dict(activation="tanh", ni=2, nh=3, weights="rademacher")),
        (["--activation", "polynomial", "--coefficients", "0,1,0.5", "--ni", 3, "--nh", 2,
          "--weights", "laplace", "--seed", 8],
         dict(activation={"kind": "polynomial", "coefficients": [0, 1, 0.5]}, ni=3, nh=2,
              weights="laplace", seed=8)),
        (["--activation", "erf", "--ni", 3, "--nh", 2, "--weights", "uniform"],
         dict(activation="erf", ni=3, nh=2, weights="uniform")),
    ],
)
def test_sample_teacher_is_the_cli_teacher(nearopt_cli, tmp_path, cli_args, py_kwargs):
    path = tmp_path / "t.json"
    nearopt_cli.ok("teacher", *cli_args, "--out", path)
    net = nearopt.Network.sample_teacher(**py_kwargs)
    assert net == nearopt.Network.from_file(path)
    # The file the package writes is byte for byte the CLI's.
    mine = tmp_path / "mine.json"
    net.to_file(mine)
    assert mine.read_bytes() == path.read_bytes()


def test_arrays_in_and_out(teachers):
    t = teachers["erf"]
    assert (t.ni, t.nh, t.dim) == (6, 4, 6 * 4 + 4)
    assert t.w1.dtype == np.float64 and t.w1.shape == (4, 6) and t.w1.flags.c_contiguous
    assert t.w2.shape == (4,)
    assert not t.w1.flags.writeable and not t.w2.flags.writeable
    np.testing.assert_array_equal(t.params, np.concatenate([t.w1.ravel(), t.w2]))
    # Lists, integers and Fortran-order arrays are converted; the copy is equal.
    again = nearopt.Network(np.asfortranarray(t.w1), list(t.w2), t.activation)
    assert again == t
    ints = nearopt.Network([[1, 2], [3, 4]], [1, -1], {"kind": "linear"})
    assert ints.w1.dtype == np.float64
    theta = t.params * 2
    np.testing.assert_array_equal(t.with_params(theta).params, theta)
    assert t.activation == {"kind": "erf"}


def test_pickle_and_json_round_trip_exactly(teachers):
    for t in teachers.values():
        assert pickle.loads(pickle.dumps(t)) == t
        back = nearopt.Network.from_json(t.to_json())
        assert back.params.tobytes() == t.params.tobytes()


@pytest.mark.parametrize(
    "w1, w2, activation, needle",
    [
        ([[1.0, 2.0]], [1.0, 2.0], "erf", "w2 has 2 entries but w1 has 1 rows"),
        ([[1.0, np.nan]], [1.0], "erf", "w1[0][1] is not finite"),
        ([[1.0]], [np.inf], "erf", "w2[0] is not finite"),
        ([1.0, 2.0], [1.0], "erf", "w1 must be a 2-D array"),
        ([[1.0]], [1.0], "swish3", "unknown activation kind `swish3`"),
        ([[1.0]], [1.0], "quadratic", "needs the key `epsilon`"),
        ([[1.0]], [1.0], {"kind": "erf", "slope": 1}, "unknown key `slope`"),
        ([[1.0]], [1.0], 3, "activation must be a dict"),
        ([["a"]], [1.0], "erf", "w1 is not an array of numbers"),
    ],
)
def test_bad_networks_raise_value_error(w1, w2, activation, needle):
    with pytest.raises(ValueError) as e:
        nearopt.Network(w1, w2, activation)
    assert needle in str(e.value)


BAD_FILES = {
    "ragged": '{"activation":{"kind":"erf"},"w1":[[1,2],[3]],"w2":[1,2]}',
    "w2-length": '{"activation":{"kind":"erf"},"w1":[[1,2]],"w2":[1,2]}',
    "unknown-key": '{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"bias":[0]}',
    "duplicate-key": '{"activation":{"kind":"erf"},"w1":[[1]],"w2":[1],"w2":[2]}',
    "unknown-kind": '{"activation":{"kind":"swish"},"w1":[[1]],"w2":[1]}',
    "not-json": '{"activation":',
    "not-a-number": '{"activation":{"kind":"erf"},"w1":[[1,"a"]],"w2":[1]}',
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_raise_value_error_with_the_cli_message(nearopt_cli, tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_text(BAD_FILES[name])
    expected = nearopt_cli.error("spectrum", "--network", path, "--json")
    with pytest.raises(ValueError) as e:
        nearopt.Network.from_file(path)
    assert str(e.value) == expected


def test_missing_file_is_file_not_found_with_the_cli_message(nearopt_cli, tmp_path):
    path = tmp_path / "absent.json"
    expected = nearopt_cli.error("spectrum", "--network", path, "--json")
    with pytest.raises(FileNotFoundError) as e:
        nearopt.Network.from_file(path)
    assert str(e.value) == expected


def test_bad_teacher_arguments():
    with pytest.raises(ValueError, match="nu only applies"):
        nearopt.Network.sample_teacher("erf", 2, 2, nu=3.0)
    with pytest.raises(ValueError, match="finite variance"):
        nearopt.Network.sample_teacher("erf", 2, 2, weights="student-t", nu=2.0)
    with pytest.raises(ValueError, match="unknown weight distribution"):
        nearopt.Network.sample_teacher("erf", 2, 2, weights="cauchy")
    with pytest.raises(ValueError, match="ni must be at least 1"):
        nearopt.Network.sample_teacher("erf", 0, 2)
    with pytest.raises(OverflowError):
        nearopt.Network.sample_teacher("erf", -1, 2)

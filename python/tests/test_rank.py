"""`nearopt.rank` against `nearopt rank --json`: the same keys and values (the wall time aside)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nearopt
from cli_compare import assert_same


@pytest.mark.parametrize("kind, flags", [
    ("erf", []),
    ("linear", []),
    ("quadratic", []),
    ("polynomial", []),
    ("tanh", []),
    ("erf", ["--start-bits", 32, "--no-kept-bound"]),
])
def test_rank_is_the_cli_json(nearopt_cli, teacher_files, teachers, kind, flags):
    expected = json.loads(nearopt_cli.ok("rank", "--network", teacher_files[kind], "--json", *flags))
    kwargs = {}
    if "--start-bits" in flags:
        kwargs["start_bits"] = flags[flags.index("--start-bits") + 1]
    if "--no-kept-bound" in flags:
        kwargs["kept_bound"] = False
    got = nearopt.rank(teachers[kind], threads=1, **kwargs)
    assert_same(got, expected, ignore=("seconds",))
    assert got["seconds"] >= 0 and set(got) == set(expected)
    assert {"dimension", "rank", "certified", "method"} <= set(got)
    # The rank agrees with an independent float64 count on the dense matrix where it is
    # certified (the spectrum gap is wide at these sizes).
    if got["certified"]:
        assert got["rank"] == np.linalg.matrix_rank(nearopt.hessian(teachers[kind]))


def test_rank_errors_are_value_errors():
    t = nearopt.Network.sample_teacher("erf", 3, 2)
    with pytest.raises(ValueError, match="max_bits must be between 16 and 65536, got 8"):
        nearopt.rank(t, max_bits=8)
    with pytest.raises(ValueError, match=r"start_bits must be between 16 and max_bits \(64\), got 128"):
        nearopt.rank(t, start_bits=128, max_bits=64)


def test_too_much_work_is_a_value_error_with_the_cli_message(nearopt_cli, tmp_path):
    path = tmp_path / "big.json"
    nearopt_cli.ok("teacher", "--activation", "erf", "--ni", 20, "--nh", 10, "--out", path)
    message = nearopt_cli.error("rank", "--network", path, "--json")
    with pytest.raises(ValueError) as e:
        nearopt.rank(nearopt.Network.from_file(path))
    assert str(e.value) in message and "operations" in str(e.value)

"""Comparing a result of the package with the JSON the command line printed: same keys, same
values bit for bit (float64 arrays as bytes, floats as the float64 json reads back)."""

from __future__ import annotations

import numpy as np


def assert_same(py_value, cli_value, key="result", ignore=()):
    """Asserts ``py_value`` (from the package) equals ``cli_value`` (parsed CLI JSON), keys
    ``ignore`` (wall times) left out at every level."""
    if isinstance(py_value, dict):
        assert isinstance(cli_value, dict), key
        assert set(py_value) - set(ignore) == set(cli_value) - set(ignore), key
        for k, v in cli_value.items():
            if k not in ignore:
                assert_same(py_value[k], v, f"{key}.{k}", ignore)
    elif isinstance(py_value, np.ndarray):
        assert py_value.dtype == np.float64, key
        expected = np.asarray(cli_value, dtype=np.float64).reshape(py_value.shape)
        assert py_value.tobytes() == expected.tobytes(), key
    elif isinstance(py_value, float):
        # json reads the CLI's shortest round-trip digits back to the same float64.
        assert isinstance(cli_value, (int, float)) and float(cli_value) == py_value, key
    elif isinstance(py_value, list):
        assert isinstance(cli_value, list) and len(py_value) == len(cli_value), key
        for i, (a, b) in enumerate(zip(py_value, cli_value)):
            assert_same(a, b, f"{key}[{i}]", ignore)
    else:
        assert py_value == cli_value, key

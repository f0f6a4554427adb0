"""`train` against `nearopt train` and `reproduce` against `nearopt reproduce`."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

import nearopt

CSV_COLUMNS = {
    "t": "times", "mean": "mean", "stderr": "stderr", "q10": "q10", "median": "median",
    "q90": "q90", "eq7": "eq7", "asymptote": "asymptote", "draw0_quadratic_model": "draw0_quadratic_model",
}


@pytest.mark.parametrize(
    "flags, kwargs",
    [
        (["--draws", 3, "--t-max", 3, "--grid-points", 6, "--seed", 2],
         dict(draws=3, t_max=3.0, grid_points=6, seed=2)),
        (["--trainer", "gd", "--lr", 0.05, "--samples", 64, "--steps", 40, "--draws", 2, "--grid-points", 4],
         dict(trainer="gd", lr=0.05, samples=64, steps=40, draws=2, grid_points=4)),
    ],
)
def test_train_is_the_cli_run(nearopt_cli, teacher_files, teachers, tmp_path, flags, kwargs):
    out = tmp_path / "run"
    nearopt_cli.ok("train", "--network", teacher_files["erf"], *flags, "--out", out)
    got = nearopt.train(teachers["erf"], **kwargs)
    with open(out / "loss.csv") as f:
        rows = list(csv.DictReader(f))
    for column, key in CSV_COLUMNS.items():
        # The CSV holds shortest round-trip digits: float() gives the float64 back exactly.
        expected = np.array([float(r[column]) for r in rows])
        assert got[key].tobytes() == expected.tobytes(), column
    np.testing.assert_array_equal(got["losses"][0], [float(r["draw0"]) for r in rows])
    summary = json.loads((out / "summary.json").read_text())
    for key, value in summary.items():
        assert got[key] == value, key
    assert got["losses"].shape == (kwargs["draws"], len(rows))
    np.testing.assert_allclose(got["losses"].mean(axis=0), got["mean"], rtol=1e-15, atol=0)


def test_bad_train_arguments(nearopt_cli, teacher_files, teachers, tmp_path):
    t = teachers["erf"]
    with pytest.raises(ValueError, match='lr does not apply to trainer="flow"'):
        nearopt.train(t, lr=0.1)
    with pytest.raises(ValueError, match='trainer="gd" needs lr and samples'):
        nearopt.train(t, trainer="gd")
    with pytest.raises(ValueError, match="unknown trainer"):
        nearopt.train(t, trainer="adam")
    with pytest.raises(ValueError, match="sigma0 must be a positive number"):
        nearopt.train(t, sigma0=-1.0)
    expected = nearopt_cli.error("train", "--network", teacher_files["erf"], "--trainer", "sgd",
                                 "--lr", 50, "--batch", 4, "--steps", 200, "--draws", 2,
                                 "--grid-points", 3, "--out", tmp_path / "run")
    with pytest.raises(ValueError) as e:
        nearopt.train(t, trainer="sgd", lr=50.0, batch=4, steps=200, draws=2, grid_points=3)
    assert "diverged" in expected and str(e.value) == expected


# Every experiment at its smallest: the report's machinery, not its statistics.
TINY = {
    "bins": 8, "linear_shapes": [[4, 3], [3, 4]], "linear_teachers": 6,
    "distributions": [{"kind": "uniform"}], "distribution_teachers": 3,
    "quadratic_sizes": [3, 4], "quadratic_teachers": 1, "erf_sizes": [3, 4], "erf_teachers": 1,
    "chi_hidden": [3], "chi_teachers": 8, "mp_shapes": [[5, 4]], "mp_teachers": 3,
    "rank_quadratic_max": 2, "rank_poly_inputs": [1, 2], "rank_poly_hidden": [1, 2],
    "rank_erf_shapes": [[2, 2]], "dynamics": False,
}


def test_reproduce_writes_the_cli_report(nearopt_cli, tmp_path):
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    nearopt_cli.ok("reproduce", "--quick", "--config", cfg, "--seed", 3, "--out", tmp_path / "cli")
    got = nearopt.reproduce(tmp_path / "py", quick=True, config=TINY, seed=3, threads=2)
    expected = json.loads((tmp_path / "cli" / "summary.json").read_text())
    # The certified-rank notes say how long the decisions took (wall times, "0.002 s", "0.87 s")
    # and which was slowest ("slowest 0.016 s at 1x1"): the one thing that may differ between runs.
    timing = re.compile(r"\d+(\.\d+)?(e-?\d+)? s\b( at \d+x\d+)?")
    untimed = lambda text: timing.sub("T s", text)
    assert json.loads(untimed(json.dumps(got))) == json.loads(untimed(json.dumps(expected)))
    assert untimed((tmp_path / "py" / "summary.json").read_text()) == untimed(
        (tmp_path / "cli" / "summary.json").read_text())
    for fig in got["figures"]:
        for kind in ("svg", "png", "csv"):
            assert (tmp_path / "py" / fig[kind]).stat().st_size > 0
        assert (tmp_path / "py" / fig["csv"]).read_bytes() == (tmp_path / "cli" / fig["csv"]).read_bytes()
    assert (tmp_path / "py" / "index.html").is_file()
    with pytest.raises(ValueError, match="config: unknown key `bogus`"):
        nearopt.reproduce(tmp_path / "bad", config={"bogus": 1})
    assert not (tmp_path / "bad").exists()

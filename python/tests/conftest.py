"""Shared fixtures: the ``nearopt`` command line (the reference every result is compared with)
and a few network files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import nearopt

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli() -> Path:
    """The ``nearopt`` binary: ``$NEAROPT_CLI`` if set, else built here by cargo (release)."""
    given = os.environ.get("NEAROPT_CLI")
    if given:
        path = Path(given)
        assert path.is_file(), f"NEAROPT_CLI={given} is not a file"
        return path
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "nearopt-cli"], cwd=REPO, check=True
    )
    path = REPO / "target" / "release" / "nearopt"
    assert path.is_file(), f"cargo built no {path}"
    return path


class Cli:
    """Runs the command line and returns what it printed."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *args, env=None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [str(self.path), *map(str, args)], capture_output=True, text=True, env=full_env
        )

    def ok(self, *args, env=None) -> str:
        r = self.run(*args, env=env)
        assert r.returncode == 0, f"nearopt {' '.join(map(str, args))} failed: {r.stderr}"
        return r.stdout

    def error(self, *args, env=None) -> str:
        """The one-line message of a failing command, without its ``error: `` prefix."""
        r = self.run(*args, env=env)
        assert r.returncode != 0, f"nearopt {' '.join(map(str, args))} did not fail"
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
        return lines[0][len("error: "):]


@pytest.fixture(scope="session")
def nearopt_cli(cli) -> Cli:
    return Cli(cli)


# Small networks of every activation kind, as network files written by the command line's
# `teacher` command (so files and weights come from the CLI, not from the package under test).
TEACHERS = {
    "erf": ["--activation", "erf", "--ni", 6, "--nh", 4],
    "linear": ["--activation", "linear", "--ni", 5, "--nh", 3],
    "quadratic": ["--activation", "quadratic", "--epsilon", 0.7, "--ni", 4, "--nh", 5],
    "polynomial": ["--activation", "polynomial", "--coefficients", "0.1,1,0.5,-0.2", "--ni", 3, "--nh", 3],
    "tanh": ["--activation", "tanh", "--ni", 3, "--nh", 2],
}


@pytest.fixture(scope="session")
def teacher_files(nearopt_cli, tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("teachers")
    files = {}
    for i, (name, args) in enumerate(TEACHERS.items()):
        path = d / f"{name}.json"
        nearopt_cli.ok("teacher", *args, "--seed", 10 + i, "--out", path)
        files[name] = path
    return files


@pytest.fixture(scope="session")
def teachers(teacher_files) -> dict:
    return {k: nearopt.Network.from_file(p) for k, p in teacher_files.items()}

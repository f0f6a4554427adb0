"""The package's surface: every public name documented (with the paper's equations where they
apply), typed in the stubs, signatures visible to help()."""

from __future__ import annotations

import ast
import inspect
import pydoc
from pathlib import Path

import nearopt

STUB = Path(nearopt.__file__).with_name("__init__.pyi")


def test_every_public_name_is_documented_and_stubbed():
    tree = ast.parse(STUB.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign) for t in [n.target]}
    for name in nearopt.__all__:
        obj = getattr(nearopt, name)
        assert name in stubbed, f"{name} is not in {STUB.name}"
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 80, f"{name} has no real docstring"
    assert (STUB.parent / "py.typed").is_file()


def test_help_shows_signatures_and_equations():
    text = pydoc.render_doc(nearopt.hessian, renderer=pydoc.plaintext)
    assert "hessian(teacher, student=None, *, threads=None)" in text
    assert "Eqs. 8–10" in text and "MemoryError" in text
    assert str(inspect.signature(nearopt.sampled_hessian)) == "(teacher, n, seed=1, *, student=None, threads=None)"
    for f, eq in [(nearopt.sampled_hessian, "Eqs. 3–5"), (nearopt.spectrum, "Eq. 7"),
                  (nearopt.train, "Eq. 7"), (nearopt.hessian_operator, "Eqs. 8–18"),
                  (nearopt.density, "Eqs. 8–18"), (nearopt.rank, "Eqs. 8–18"),
                  (nearopt.Network, "Eq. 1")]:
        assert eq in f.__doc__, f.__name__


def test_version_matches_the_cli(nearopt_cli):
    assert nearopt_cli.ok("--version").split()[-1] == nearopt.__version__

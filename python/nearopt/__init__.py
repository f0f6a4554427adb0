"""nearopt: curvature and learning dynamics of two-layer teacher-student networks near the optimum.

The networks are ``y = W2 · g(W1 x + b1) + b2`` (biases optional) with inputs ``x ~ N(0, I)`` (paper: "A Teacher-Student
Perspective on the Dynamics of Learning Near the Optimal Point"). Everything is computed by the
Rust library ``nearopt`` (the same code as the ``nearopt`` command line), with the GIL released:

- :class:`Network`: networks, network files (``INTERFACE.md``) and seeded teachers;
- :func:`hessian`: the exact population Hessian at the optimum as a dense ``ndarray``
  (paper Eqs. 8–18), bit for bit ``nearopt hessian``;
- :func:`hessian_operator`: the same Hessian as a ``scipy.sparse.linalg.LinearOperator`` whose
  products never form the matrix (``eigsh`` works on it up to ``D ≈ 10⁵`` and beyond);
- :func:`sampled_hessian`, :func:`jacobian`, :func:`ntk_gram`, :func:`inputs`: estimates from
  Gaussian samples at any student (Eqs. 3–5);
- :func:`spectrum`: ``nearopt spectrum --json`` as a dict;
- :func:`rank`: ``nearopt rank --json`` (the rank certified in exact or interval arithmetic);
- :func:`density`: ``nearopt density --json`` (stochastic Lanczos quadrature, matrix-free);
- :func:`linear_spectrum_density`: the linear network's eigenvalue law (Section 3.1, Fig. 2);
- :func:`train`: training runs against Eq. 7 (``nearopt train``);
- :func:`reproduce`: the paper's report (``nearopt reproduce``).

Arrays are float64 in C order in the parameter order of ``INTERFACE.md`` (W1 row by row, then
W2, then b1 and b2 where the network has them). Bad input raises ``ValueError`` with the command line's message; a dense matrix that cannot
fit raises ``MemoryError`` before anything is allocated (the limit is the available memory or
the environment variable ``NEAROPT_MEMORY_LIMIT``, e.g. ``"8G"``). ``threads=`` sets the worker
threads of one call; results never depend on it.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from scipy.sparse.linalg import LinearOperator

from . import _nearopt
from ._nearopt import (
    Network,
    PopulationOperator,
    density,
    hessian,
    inputs,
    jacobian,
    linear_spectrum_density,
    ntk_gram,
    rank,
    reproduce,
    sampled_hessian,
    spectrum,
    train,
)

__version__: str = _nearopt.__version__

__all__ = [
    "Network",
    "HessianOperator",
    "density",
    "hessian",
    "hessian_operator",
    "inputs",
    "jacobian",
    "linear_spectrum_density",
    "ntk_gram",
    "rank",
    "reproduce",
    "sampled_hessian",
    "spectrum",
    "train",
    "__version__",
]


class HessianOperator(LinearOperator):
    """The exact population Hessian (at the optimum, or at a student) as a
    ``scipy.sparse.linalg.LinearOperator``.

    Made by :func:`hessian_operator`. Products cost ``O(Nh² Ni)`` each and never form the
    ``D × D`` matrix; ``matmat`` runs its columns in parallel. The operator is symmetric, so
    ``rmatvec`` is ``matvec`` and ``H.T``/``H.H`` is ``H``. ``dense()`` gives the matrix (the
    same as :func:`hessian`).
    """

    def __init__(
        self,
        teacher: Network,
        student: Optional[Network] = None,
        threads: Optional[int] = None,
    ):
        self._op = PopulationOperator(teacher, student, threads=threads)
        d = self._op.dim
        super().__init__(dtype=np.dtype(np.float64), shape=(d, d))

    def _matvec(self, x):
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        return self._op.matvec(x)

    def _rmatvec(self, x):
        return self._matvec(x)

    def _matmat(self, X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        return self._op.matmat(X)

    def _rmatmat(self, X):
        return self._matmat(X)

    def _adjoint(self):
        return self

    def _transpose(self):
        return self

    def dense(self) -> np.ndarray:
        """The dense ``D × D`` matrix (``MemoryError`` when it cannot fit)."""
        return self._op.dense()


def hessian_operator(
    teacher: Network,
    student: Optional[Network] = None,
    *,
    threads: Optional[int] = None,
) -> HessianOperator:
    """The exact population Hessian as a matrix-free ``LinearOperator``.

    The same matrix as :func:`hessian` (the Hessian of ``½ E[(y − y*)²]``; without ``student``
    at student = teacher, paper Eqs. 8–18 in the corrected form of ``docs/derivations.md``),
    but products ``H v`` cost ``O(Nh² Ni)`` from the ``Nh²`` bivariate Gaussian pair moments,
    instead of ``O(D²)`` memory and time. With ``G[m][p] = w_m · V_p`` (``V_p`` the W1 part of
    ``v`` for unit ``p``, ``b`` its W2 part)::

        (Hv)_m = Σ_p a_m a_p [K11 V_p + K31 w_m G_mp + K22 (w_m G_pp + w_p G_mp) + K13 w_p G_pp]
                 + a_m Σ_k b_k (w_m K20(m,k) + w_k K11(m,k))
        (Hv)_k = Σ_m a_m (K20(m,k) G_mm + K11(m,k) G_km) + Σ_j K00(k,j) b_j

    (plus the bias rows where the network has biases). With ``student`` (the teacher's ``Ni``;
    any ``Nh``, activation and biases) the operator is the Hessian at the student: the
    Gauss–Newton term ``E[J Jᵀ]`` of the student plus the functional term
    ``E[(y_s − y_t) ∇²y_s]`` (paper Eqs. 3–5 in expectation, ``docs/student.md``); ``D`` and the
    parameter order are the student's, and eigenvalues may be negative.

    ``scipy.sparse.linalg.eigsh(hessian_operator(t), k=10)`` finds the top of the spectrum at
    ``D ≈ 10⁵`` in seconds. ``threads``: worker threads of every product (one pool, made once).
    """
    return HessianOperator(teacher, student, threads=threads)

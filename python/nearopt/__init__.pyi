"""Type stubs of the nearopt package (the extension module ``nearopt._nearopt`` and the
SciPy operator of ``nearopt/__init__.py``)."""

from os import PathLike
from typing import Any, Dict, List, Literal, Optional, Union

import numpy as np
import numpy.typing as npt
from scipy.sparse.linalg import LinearOperator

__version__: str

Activation = Union[str, Dict[str, Any]]
"""An activation as in a network file: ``{"kind": "erf"}``, ``{"kind": "quadratic",
"epsilon": 0.5}``, ``{"kind": "polynomial", "coefficients": [...]}``, or a kind string."""

Array1 = npt.NDArray[np.float64]
Array2 = npt.NDArray[np.float64]
Path = Union[str, "PathLike[str]"]

class Network:
    """A two-layer network ``y = W2 · g(W1 x + b1) + b2`` (paper Section 1.1; biases optional),
    immutable."""

    def __init__(
        self,
        w1: npt.ArrayLike,
        w2: npt.ArrayLike,
        activation: Activation,
        b1: Optional[npt.ArrayLike] = None,
        b2: Optional[float] = None,
    ) -> None: ...
    @staticmethod
    def from_file(path: Path) -> "Network": ...
    @staticmethod
    def from_json(text: str) -> "Network": ...
    def to_file(self, path: Path) -> None: ...
    def to_json(self) -> str: ...
    @staticmethod
    def sample_teacher(
        activation: Activation,
        ni: int,
        nh: int,
        *,
        weights: Literal["normal", "uniform", "rademacher", "laplace", "student-t"] = "normal",
        nu: Optional[float] = None,
        seed: int = 1,
        stream: int = 0,
        b1_std: Optional[float] = None,
        b2_std: Optional[float] = None,
    ) -> "Network": ...
    def with_params(self, theta: npt.ArrayLike) -> "Network": ...
    @property
    def ni(self) -> int: ...
    @property
    def nh(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def w1(self) -> Array2: ...
    @property
    def w2(self) -> Array1: ...
    @property
    def b1(self) -> Optional[Array1]: ...
    @property
    def b2(self) -> Optional[float]: ...
    @property
    def params(self) -> Array1: ...
    @property
    def activation(self) -> Dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

class PopulationOperator:
    """The Rust side of :class:`HessianOperator`."""

    def __init__(
        self, teacher: Network, student: Optional[Network] = None, *, threads: Optional[int] = None
    ) -> None: ...
    @property
    def dim(self) -> int: ...
    def matvec(self, v: Array1) -> Array1: ...
    def matmat(self, x: Array2) -> Array2: ...
    def dense(self) -> Array2: ...

class HessianOperator(LinearOperator):
    """The exact population Hessian (at the optimum or a student) as a ``LinearOperator``."""

    def __init__(
        self, teacher: Network, student: Optional[Network] = None, threads: Optional[int] = None
    ) -> None: ...
    def dense(self) -> Array2: ...

def hessian(
    teacher: Network, student: Optional[Network] = None, *, threads: Optional[int] = None
) -> Array2: ...
def hessian_operator(
    teacher: Network, student: Optional[Network] = None, *, threads: Optional[int] = None
) -> HessianOperator: ...
def sampled_hessian(
    teacher: Network,
    n: int,
    seed: int = 1,
    *,
    student: Optional[Network] = None,
    threads: Optional[int] = None,
) -> Array2: ...
def jacobian(net: Network, n: int, seed: int = 1, *, threads: Optional[int] = None) -> Array2: ...
def ntk_gram(net: Network, n: int, seed: int = 1, *, threads: Optional[int] = None) -> Array2: ...
def inputs(ni: int, n: int, seed: int = 1) -> Array2: ...
def linear_spectrum_density(ni: int, nh: int, x: Array1) -> Array1: ...
def spectrum(
    teacher: Network,
    student: Optional[Network] = None,
    *,
    rank_tol: Optional[float] = None,
    samples: Optional[int] = None,
    seed: Optional[int] = None,
    vectors: bool = False,
    parallel_eigensolver: bool = False,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def rank(
    net: Network,
    *,
    start_bits: int = 64,
    max_bits: int = 1024,
    kept_bound: bool = True,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def density(
    net: Network,
    *,
    student: Optional[Network] = None,
    probes: int = 16,
    steps: int = 60,
    top: int = 10,
    block: int = 4,
    top_tol: float = 1e-10,
    max_basis: int = 400,
    max_top_products: int = 4000,
    seed: int = 1,
    grid: int = 400,
    kappa: float = 3.0,
    kappa_log: float = 1.04,
    log_floor: float = 1e-10,
    memory: Union[int, str, None] = None,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def train(
    teacher: Network,
    *,
    sigma0: float = 1e-3,
    trainer: Literal["flow", "gd", "sgd"] = "flow",
    lr: Optional[float] = None,
    batch: Optional[int] = None,
    samples: Optional[int] = None,
    steps: Optional[int] = None,
    t_max: Optional[float] = None,
    rtol: float = 1e-6,
    draws: int = 100,
    grid_points: int = 40,
    seed: int = 1,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def reproduce(
    out: Path,
    *,
    quick: bool = False,
    config: Optional[Dict[str, Any]] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...

__all__: List[str]

"""rampup: learning-rate warmup, done right.

A schedule is a pure, closed-form function of the training step::

    >>> import rampup
    >>> s = rampup.parse("linear(10%) >> cosine(to=0.01)").bind(total_steps=1000)
    >>> s(0), s(99), s(100)
    (0.01, 1.0, 1.0)

Values are multipliers of each parameter group's own learning rate (the peak is 1).

This package root is the public surface of the core: it imports the core only (the standard
library, numpy and rampup's core modules). The tools (``Monitor``, ``AdaptiveWarmup``, ``plot``,
``suggest``, ``Suggestion``) and the torch probe (``probe``) are loaded on first use through a
lazy table, and the adapters
(``rampup.torch``, ``rampup.optax``, ``rampup.keras``) only when imported. The layers and their
import rules: the README's Layout section.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from rampup.core._errors import RampupError
from rampup.core.auto_warmup import Auto as auto
from rampup.core.measured import ProbeResult
from rampup.core.recipes import tri_stage, warmup_cosine, warmup_linear, wsd
from rampup.core.schedule import Schedule
from rampup.core.shapes import (
    Constant as constant,
)
from rampup.core.shapes import (
    Cosine as cosine,
)
from rampup.core.shapes import (
    Exp as exp,
)
from rampup.core.shapes import (
    InvSqrt as invsqrt,
)
from rampup.core.shapes import (
    Linear as linear,
)
from rampup.core.shapes import (
    Log as log,
)
from rampup.core.shapes import (
    MultiStep as multistep,
)
from rampup.core.shapes import (
    Noam as noam,
)
from rampup.core.shapes import (
    OneCycle as onecycle,
)
from rampup.core.shapes import (
    Poly as poly,
)
from rampup.core.shapes import (
    RAdam as radam,
)
from rampup.core.shapes import (
    Restarts as restarts,
)
from rampup.core.shapes import (
    Sqrt as sqrt,
)
from rampup.core.shapes import (
    Step as step,
)
from rampup.core.shapes import (
    Untuned as untuned,
)
from rampup.core.spec import from_dict, parse

if TYPE_CHECKING:
    from rampup.advice import Suggestion, suggest
    from rampup.cli.plots import plot
    from rampup.guard import AdaptiveWarmup, Monitor
    from rampup.torch.probe import probe

#: The tools, loaded on first use: ``import rampup`` loads the core only (no monitor, no
#: matplotlib); ``rampup.Monitor`` imports :mod:`rampup.guard` when it is first read.
_LAZY = {
    "AdaptiveWarmup": "rampup.guard",
    "Monitor": "rampup.guard",
    "Suggestion": "rampup.advice",
    "plot": "rampup.cli.plots",
    "probe": "rampup.torch.probe",
    "suggest": "rampup.advice",
}


def __getattr__(name: str) -> object:
    """Load the tools of :data:`_LAZY` on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rampup' has no attribute {name!r}")
    from importlib import import_module  # noqa: PLC0415  # only on a tool's first use

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Only the public names (``__all__``): no helper, typing name or submodule."""
    return sorted(__all__)


try:
    __version__ = version("rampup")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

__all__ = [
    "AdaptiveWarmup",
    "Monitor",
    "ProbeResult",
    "RampupError",
    "Schedule",
    "Suggestion",
    "__version__",
    "auto",
    "constant",
    "cosine",
    "exp",
    "from_dict",
    "invsqrt",
    "linear",
    "log",
    "multistep",
    "noam",
    "onecycle",
    "parse",
    "plot",
    "poly",
    "probe",
    "radam",
    "restarts",
    "sqrt",
    "step",
    "suggest",
    "tri_stage",
    "untuned",
    "warmup_cosine",
    "warmup_linear",
    "wsd",
]

# helper names of this module, not part of its surface (``from __future__`` binds one too)
del PackageNotFoundError, TYPE_CHECKING, annotations, version

"""The command line and its plots (a tool): ``rampup plot | show | suggest | lab``.

- :mod:`rampup.cli.app`: the Typer application (:data:`app`, :func:`main`, behind
  ``python -m rampup`` and the ``rampup`` script); :mod:`rampup.cli._click` its error style;
- :mod:`rampup.cli.curves`: :class:`~rampup.cli.curves.Curve`, the labelled curves both plots draw;
- :mod:`rampup.cli.plots`: matplotlib figures (:func:`~rampup.cli.plots.plot`, public as
  ``rampup.plot``);
- :mod:`rampup.cli.terminal`: the plot drawn as text in the terminal.

Imports: the standard library, numpy, the core, the tools' shared run check
(``rampup.advice._runs``), the advice (:mod:`rampup.advice`, public names), the lab's command
registration, and its own optional dependencies lazily: typer and rich in :mod:`rampup.cli.app`
only, matplotlib inside the functions that draw a figure. So the plots import without typer, and
this package's ``__init__`` loads nothing: :data:`app` and :func:`main` come from
:mod:`rampup.cli.app` on first use. Nothing in the core, the adapters or the guard imports this
package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rampup.cli.app import app, main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """:data:`app` and :func:`main` from :mod:`rampup.cli.app`, which needs typer and rich."""
    if name not in __all__:
        raise AttributeError(f"module 'rampup.cli' has no attribute {name!r}")
    value = getattr(import_module("rampup.cli.app"), name)
    globals()[name] = value
    return value

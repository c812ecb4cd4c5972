"""Callbacks for Lightning and the Hugging Face Trainer that feed the stability monitor.

The public import path of :mod:`rampup.torch.callbacks`, where they live (the PyTorch adapter
layer): see there for what they feed, log and stop. Nothing is imported until a name is used, so
``import rampup.callbacks`` needs neither torch nor a framework; a callback class imports its
framework on first use::

    from rampup.callbacks import LightningCallback          # imports lightning
    trainer = lightning.Trainer(callbacks=[LightningCallback(guard=guard)])

    from rampup.callbacks import HFCallback            # imports transformers
    trainer = transformers.Trainer(..., callbacks=[HFCallback(guard=guard)])
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["HFCallback", "LightningCallback", "group_values"]  # noqa: F822  # see __getattr__


def __getattr__(name: str) -> Any:
    """``rampup.torch.callbacks``'s public names, imported on first access."""
    if name not in __all__:
        raise AttributeError(f"module 'rampup.callbacks' has no attribute {name!r}")
    return getattr(import_module("rampup.torch.callbacks"), name)

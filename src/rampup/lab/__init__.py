"""The lab: small, real training experiments that measure what warmup does.

A tool: it builds on the core (``rampup.parse``, schedules, ``rampup.RampupError``) and the
PyTorch adapter (``rampup.torch``, imported when a run trains) through their public API only,
never a ``rampup._*`` module; nothing outside the tools imports it.

Bring your own task: :class:`Task` (the protocol, :mod:`rampup.lab.protocol`) holds a model
built from a seed, the seed's batches, a loss and an evaluation; ``rampup lab run --task
module:name`` (or ``path/to/file.py:name``) trains a grid on it. Importing the lab does not
import torch.
"""

from rampup.lab.protocol import Evaluation, SeedStream, Task

__all__ = ["Evaluation", "SeedStream", "Task"]

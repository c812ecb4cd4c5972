r"""The PyTorch adapter layer: rampup schedules driving a torch optimizer's param groups.

:class:`Scheduler` is a ``torch.optim.lr_scheduler.LRScheduler`` that sets, before every
optimizer update, each param group's learning rate to

.. math:: lr_g(c) = base_g \cdot s_g(c)

with :math:`base_g` the group's own rate, :math:`s_g` its schedule and :math:`c` the clock (the
updates taken, unless a :class:`~rampup.core.clock.ClockController` moves it); any other numeric key
(momentum, ``betas[0]``, weight decay) follows a schedule in absolute values. :func:`warmup`
multiplies a warmup factor onto any torch scheduler, ``ReduceLROnPlateau`` included;
:func:`scaler_step` steps under a gradient scaler; :func:`save_atomic` writes a checkpoint that is
never left half-written.

Modules, one concept each:

- ``scheduler``: :class:`Scheduler`;
- ``wrap``: :class:`Warmup` (``warmup``), the warmup factor over another torch scheduler;
- ``planning``: the per-group plan (which schedule drives which key of which group), validated
  before anything in the optimizer changes, and the writes into the groups;
- ``states``: the checks of a rampup scheduler's state; ``torch_states``: those of every
  built-in torch scheduler's state (what a warmup's ``after`` may load);
- ``amp``: :func:`scaler_step`; ``checkpoint``: :func:`save_atomic`;
- ``callbacks``: the Lightning and Hugging Face Trainer callbacks (public as ``rampup.callbacks``;
  they import their framework on first use).

Import rules: this package is the only place in rampup that imports torch, and ``import rampup``
never imports it. It may import the core's public modules (``rampup.core.schedule``,
``rampup.core.spec``, ``rampup.core.clock``, ``rampup.core.shapes``, ``rampup.core.recipes``,
``rampup.core.compat``, ``rampup.core.checks``) and torch; ``callbacks`` also the guard's public
``Monitor`` and ``AdaptiveWarmup``. It never imports another adapter or a tool; the core and the
tools never import it, except through this public surface.

>>> import torch, rampup.torch
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> sched = rampup.torch.Scheduler(opt, "linear(4) >> cosine", total_steps=8)
>>> [round(g["lr"], 4) for g in opt.param_groups]
[0.025]
"""

from __future__ import annotations

try:
    import torch  # noqa: F401  # checked here once, so every module below may import it
except ImportError as exc:  # the one import-error style of the adapters
    raise ImportError(f"rampup.torch needs PyTorch: pip install 'rampup[torch]' ({exc})") from exc

from rampup.core.clock import ClockController
from rampup.torch.amp import scaler_step
from rampup.torch.checkpoint import save_atomic
from rampup.torch.rewind import Rewinder
from rampup.torch.scheduler import Scheduler
from rampup.torch.wrap import Warmup

#: The documented entry point of :class:`Warmup`: ``warmup(optimizer, warmup, after=...)``.
warmup = Warmup

__all__ = [
    "ClockController",
    "Rewinder",
    "Scheduler",
    "Warmup",
    "save_atomic",
    "scaler_step",
    "warmup",
]

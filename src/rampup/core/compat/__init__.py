r"""Compatibility: the peers' own curves (HF transformers, torch, timm, pytorch_warmup), exactly.

Each function returns an ordinary rampup schedule whose values equal the peer's for the same
configuration, conventions included (a step-0 learning rate of 0, a peak one step late, a cosine
that never reaches its peak, ...), so a user can switch to rampup without their training changing.
The values are multipliers of the optimizer's own learning rate, as everywhere in rampup.

Where the peer runs on after the end of its run (HF's cosine rising again, torch's cosine
annealing turning back up), the rampup schedule holds its final value instead: within the run the
curves are the same; past it rampup never rises again.

The four constructors, each also a name of the spec language:

- :func:`transformers` -- HF transformers' ``get_*_schedule_with_warmup`` family;
- :func:`torch_sequential` -- ``SequentialLR(LinearLR | ConstantLR, CosineAnnealingLR)``;
- :func:`timm_cosine` -- timm's ``CosineLRScheduler`` stepped per update;
- :func:`pytorch_warmup` -- the warmup factors of the ``pytorch_warmup`` package.

Four peer conventions have no equivalent among rampup's shapes and are defined here as phases
(spec names in brackets): :class:`HFCosine` (``hf_cosine``: HF's cosine with ``num_cycles``),
:class:`HFSqrtWarmup` (``hf_sqrt_warmup``: HF's "1-sqrt" warmup), :class:`TimmDecay`
(``timm_decay``: timm's cosine cycles, on the global step by default) and :class:`ExpoWarmup`
(``expo_warmup``: pytorch_warmup's exponential factor). Everything else is built from the
ordinary shapes, so the schedules print, compare and compose like any other.

One module per peer, each with its constructor and the phases only it needs:
:mod:`~rampup.core.compat.hf` (transformers), :mod:`~rampup.core.compat.torch_lr`,
:mod:`~rampup.core.compat.timm_lr` and :mod:`~rampup.core.compat.warmup_factors`
(pytorch_warmup); ``_common`` holds their shared argument checks. Import the names from here.
"""

from __future__ import annotations

from collections.abc import Callable

from rampup.core.compat.hf import HFCosine, HFSqrtWarmup, transformers
from rampup.core.compat.timm_lr import TimmDecay, timm_cosine
from rampup.core.compat.torch_lr import torch_sequential
from rampup.core.compat.warmup_factors import ExpoWarmup, pytorch_warmup
from rampup.core.schedule import Phase, Schedule

__all__ = [
    "ExpoWarmup",
    "HFCosine",
    "HFSqrtWarmup",
    "TimmDecay",
    "pytorch_warmup",
    "timm_cosine",
    "torch_sequential",
    "transformers",
]

#: Phase classes defined here, registered in the spec language.
PHASES: tuple[type[Phase], ...] = (HFCosine, HFSqrtWarmup, TimmDecay, ExpoWarmup)
#: Named constructors defined here, registered in the spec language.
RECIPES: dict[str, Callable[..., Schedule]] = {
    "pytorch_warmup": pytorch_warmup,
    "timm_cosine": timm_cosine,
    "torch_sequential": torch_sequential,
    "transformers": transformers,
}

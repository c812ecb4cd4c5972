"""Compatibility: the peers' own curves (HF transformers, torch, timm, pytorch_warmup), exactly.

Each function returns an ordinary rampup schedule whose values equal the peer's for the same
configuration (step-0 learning rate of 0, peak one step late, ... as the peer does it), so a
user can switch to rampup without their training changing.
"""

from __future__ import annotations

from collections.abc import Callable

from rampup.schedule import Phase, Schedule

__all__: list[str] = []

#: Phase classes defined here, registered in the spec language.
PHASES: tuple[type[Phase], ...] = ()
#: Named constructors defined here, registered in the spec language.
RECIPES: dict[str, Callable[..., Schedule]] = {}

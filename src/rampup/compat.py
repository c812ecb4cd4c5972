"""The public path of :mod:`rampup.core.compat`: the peers' conventions, reproduced exactly."""

from __future__ import annotations

from rampup.core.compat import (
    ExpoWarmup,
    HFCosine,
    HFSqrtWarmup,
    TimmDecay,
    pytorch_warmup,
    timm_cosine,
    torch_sequential,
    transformers,
)

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

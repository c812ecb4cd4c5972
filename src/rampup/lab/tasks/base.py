"""The pieces the built-in task families share.

The protocol itself (:class:`~rampup.lab.protocol.Task`, :class:`~rampup.lab.protocol.Evaluation`,
:class:`~rampup.lab.protocol.SeedStream`) is :mod:`rampup.lab.protocol`, re-exported here. Below
it: the entropies behind the constant level (plug-in, nats: ``-sum p log p``), the
cross-entropy over flattened positions, the causal mask and the Transformer body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampup.lab.protocol import Evaluation, SeedStream, Task

if TYPE_CHECKING:
    import torch

__all__ = ["Evaluation", "SeedStream", "Task"]


# -- shared pieces -----------------------------------------------------------------------------
def _entropy(counts: Any) -> float:
    import numpy as np  # noqa: PLC0415

    p = np.asarray(counts, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def _positional_entropy(targets: Any, classes: int, pad: int | None = None) -> float:
    """Loss of the best input-independent predictor that knows the position (plug-in, nats)."""
    import numpy as np  # noqa: PLC0415

    total, count = 0.0, 0
    for j in range(targets.shape[1]):
        col = targets[:, j]
        if pad is not None:
            col = col[col != pad]
        if len(col):
            total += _entropy(np.bincount(col, minlength=classes)) * len(col)
            count += len(col)
    return total / count


def _token_loss(
    logits: torch.Tensor, targets: torch.Tensor, classes: int, ignore_index: int = -100
) -> torch.Tensor:
    """Mean cross-entropy over every position: ``-mean log softmax(logits)[target]``."""
    import torch.nn.functional as F  # noqa: N812, PLC0415

    return F.cross_entropy(
        logits.reshape(-1, classes), targets.reshape(-1), ignore_index=ignore_index
    )


def _scored(logits: torch.Tensor, targets: torch.Tensor, classes: int) -> Evaluation:
    """Validation loss (:func:`_token_loss`) and error: the share of argmax predictions missed."""
    loss = float(_token_loss(logits, targets, classes))
    err = float((logits.argmax(-1) != targets).float().mean())
    return Evaluation(loss, err)


def _causal_mask(n: int) -> torch.Tensor:
    import torch  # noqa: PLC0415

    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def _encoder(d: int, depth: int, *, pre_ln: bool) -> torch.nn.TransformerEncoder:
    """The tasks' Transformer body: ``depth`` layers of width ``d``, 4 heads, ff 256, no dropout.

    Post-LN (torch's default) or Pre-LN with a final LayerNorm: the only difference between a
    task and its control.
    """
    from torch import nn  # noqa: PLC0415

    layer = nn.TransformerEncoderLayer(d, 4, 256, dropout=0.0, batch_first=True, norm_first=pre_ln)
    return nn.TransformerEncoder(
        layer, depth, norm=nn.LayerNorm(d) if pre_ln else None, enable_nested_tensor=False
    )

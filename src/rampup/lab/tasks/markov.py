"""The Markov tasks: a causal Transformer LM on an order-1 Markov chain.

``markov-postln`` / ``markov-preln``: a 6-layer causal Transformer LM (d 64, 4 heads, ff 256),
Post-LN and its Pre-LN control, on sequences (length 32, batch 16, 200 steps) of a random order-1
Markov chain over 32 states (rows from Dirichlet(0.1), fixed data seed), AdamW.

The constant level is the unigram entropy of the validation set's targets; the best loss L* is the
chain's entropy rate (its Bayes loss, :func:`markov_levels`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import (
    Evaluation,
    SeedStream,
    Task,
    _causal_mask,
    _encoder,
    _entropy,
    _token_loss,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["markov_levels"]


_MK_STATES, _MK_LEN, _MK_BATCH, _MK_VAL, _MK_DATA_SEED = 32, 32, 16, 128, 1234


@functools.cache
def _markov_chain() -> tuple[Any, Any]:
    """The fixed chain: transition rows from Dirichlet(0.1) and its stationary distribution."""
    import numpy as np  # noqa: PLC0415

    rng = np.random.default_rng(_MK_DATA_SEED)
    p = rng.dirichlet(np.full(_MK_STATES, 0.1), size=_MK_STATES)
    p = np.maximum(p, 1e-12)
    p /= p.sum(axis=1, keepdims=True)
    w, v = np.linalg.eig(p.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    pi = np.abs(pi) / np.abs(pi).sum()
    return p, pi


def _markov_sample(rng: Any, n: int) -> Any:
    import numpy as np  # noqa: PLC0415

    p, pi = _markov_chain()
    cum = np.cumsum(p, axis=1)
    x = np.empty((n, _MK_LEN), dtype=np.int64)
    x[:, 0] = rng.choice(_MK_STATES, size=n, p=pi)
    for j in range(1, _MK_LEN):
        u = rng.random(n)
        x[:, j] = np.minimum((u[:, None] > cum[x[:, j - 1]]).sum(axis=1), _MK_STATES - 1)
    return x


def markov_levels() -> tuple[float, float]:
    """The chain's Bayes loss (entropy rate) and unigram loss (stationary entropy), in nats."""
    import numpy as np  # noqa: PLC0415

    p, pi = _markov_chain()
    rows = [-(r[r > 0] * np.log(r[r > 0])).sum() for r in p]
    return float(np.dot(pi, rows)), _entropy(pi)


def _markov_val() -> Any:
    import numpy as np  # noqa: PLC0415

    return _markov_sample(np.random.default_rng(_MK_DATA_SEED + 1), _MK_VAL)


def _markov_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _entropy(np.bincount(_markov_val()[:, 1:].ravel(), minlength=_MK_STATES))


def _markov_model(seed: int, *, pre_ln: bool) -> nn.Module:
    """The LM, its parameters drawn after ``torch.manual_seed(seed)``."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    d, n = 64, _MK_LEN

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(_MK_STATES, d)
            self.pos = nn.Parameter(torch.randn(n, d) * 0.02)
            self.body = _encoder(d, 6, pre_ln=pre_ln)
            self.head = nn.Linear(d, _MK_STATES)
            self.register_buffer("mask", _causal_mask(n - 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.tok(x) + self.pos[: x.shape[1]]
            return self.head(self.body(h, mask=self.mask, is_causal=True))  # type: ignore[no-any-return]

    return LM()


#: Seed s's training sequences: batch after batch from ``default_rng(s)``.
_STREAM: SeedStream[Any] = SeedStream(lambda rng: _markov_sample(rng, _MK_BATCH))


def _markov_batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s sequences: the tokens but the last in, the next tokens out."""
    import torch  # noqa: PLC0415

    x = torch.from_numpy(_STREAM(seed, step))
    return x[:, :-1], x[:, 1:]


def _markov_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _token_loss(logits, targets, _MK_STATES)


@functools.cache
def _markov_val_tensor() -> torch.Tensor:
    import torch  # noqa: PLC0415

    return torch.from_numpy(_markov_val())


def _markov_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss and next-token error on the fixed validation sequences."""
    val = _markov_val_tensor()
    logits = model(val[:, :-1])
    loss = float(_token_loss(logits, val[:, 1:], _MK_STATES))
    err = float((logits.argmax(-1) != val[:, 1:]).float().mean())
    return Evaluation(loss, err)


def _markov_task(name: str, pre_ln: bool, control: str | None) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"6-layer {ln} causal Transformer LM on a 32-state Markov chain, AdamW, 200 steps",
        steps=200,
        eval_every=20,
        optimizer="adamw",
        model=functools.partial(_markov_model, pre_ln=pre_ln),
        batch=_markov_batch,
        loss=_markov_loss,
        evaluate=_markov_evaluate,
        constant_loss=_markov_constant,
        best_loss=lambda: markov_levels()[0],
        score_name="error",
        betas=(0.9, 0.999),
        control=control,
    )

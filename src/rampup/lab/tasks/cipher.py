"""The cipher tasks: a bidirectional encoder that deciphers a sequence under a keyed cipher.

``postln-cipher`` / ``preln-cipher``: a 4-layer encoder (d 64, 4 heads, ff 256, no dropout),
Post-LN and its Pre-LN control. A fixed set of 16 random permutations of 32 symbols (the
ciphers, drawn from a fixed data seed) is the task. A sequence is a key token ``k`` (one of 16,
its own vocabulary) followed by 15 symbols; the target at each symbol's position is its image
under the key's cipher::

    x = (k, s_1, ..., s_15),    y_i = P_k[s_i]    (i = 1 .. 15)

The output at a position depends on that position's symbol and on the key at position 0, so the
encoder must attend to the key: a per-token rule ignoring it stalls near ``log 16`` (each symbol
has up to 16 images), below the constant level ``log 32``. Adam (0.9, 0.999), batch 32, 300
updates: the untuned warmup 2 / (1 - beta2) = 2000 updates is longer than the run.

The constant level is the per-position entropy of the validation targets (about ``log 32``); the
best loss is 0 (the target is a function of the input).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import (
    Evaluation,
    SeedStream,
    Task,
    _encoder,
    _positional_entropy,
    _scored,
    _token_loss,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__: list[str] = []


#: Symbols, ciphers (keys), sequence length (key included), batch, validation size, data seed.
_CI_SYMBOLS, _CI_KEYS, _CI_LEN, _CI_BATCH, _CI_VAL, _CI_DATA_SEED = 32, 16, 16, 32, 512, 5678
_CI_DEPTH, _CI_D = 4, 64


@functools.cache
def _ciphers() -> Any:
    """The 16 ciphers: row ``k`` is a permutation of the 32 symbols, from the data seed."""
    import numpy as np  # noqa: PLC0415

    rng = np.random.default_rng(_CI_DATA_SEED)
    return np.stack([rng.permutation(_CI_SYMBOLS) for _ in range(_CI_KEYS)])


def _cipher_sample(rng: Any, n: int) -> Any:
    """``n`` sequences (n, 16): a key in 0..15 (column 0), then 15 symbols in 0..31."""
    import numpy as np  # noqa: PLC0415

    keys = rng.integers(0, _CI_KEYS, size=(n, 1))
    syms = rng.integers(0, _CI_SYMBOLS, size=(n, _CI_LEN - 1))
    return np.concatenate([keys, syms], axis=1)


def _cipher_targets(x: Any) -> Any:
    """Each symbol's image under its row's cipher: ``P[x[:, 0], x[:, 1:]]``, shape (n, 15)."""
    return _ciphers()[x[:, :1], x[:, 1:]]


def _cipher_val() -> Any:
    import numpy as np  # noqa: PLC0415

    return _cipher_sample(np.random.default_rng(_CI_DATA_SEED + 1), _CI_VAL)


def _cipher_constant() -> float:
    return _positional_entropy(_cipher_targets(_cipher_val()), _CI_SYMBOLS)


def _cipher_model(seed: int, *, pre_ln: bool) -> nn.Module:
    """The decipherer, its parameters drawn after ``torch.manual_seed(seed)``.

    Keys and symbols have separate embeddings (the key's, 16 rows, at position 0), a learned
    positional embedding, the encoder and a linear head read at positions 1..15.
    """
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    d = _CI_D

    class Decipherer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.key = nn.Embedding(_CI_KEYS, d)
            self.tok = nn.Embedding(_CI_SYMBOLS, d)
            self.pos = nn.Parameter(torch.randn(_CI_LEN, d) * 0.02)
            self.body = _encoder(d, _CI_DEPTH, pre_ln=pre_ln)
            self.head = nn.Linear(d, _CI_SYMBOLS)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.cat([self.key(x[:, :1]), self.tok(x[:, 1:])], dim=1) + self.pos
            return self.head(self.body(h)[:, 1:])  # type: ignore[no-any-return]

    return Decipherer()


#: Seed s's training sequences: batch after batch from ``default_rng(s)``.
_STREAM: SeedStream[Any] = SeedStream(lambda rng: _cipher_sample(rng, _CI_BATCH))


def _cipher_batch(seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s sequences (32, 16) and their deciphered symbols (32, 15)."""
    import torch  # noqa: PLC0415

    x = _STREAM(seed, step)
    return torch.from_numpy(x), torch.from_numpy(_cipher_targets(x))


def _cipher_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _token_loss(logits, targets, _CI_SYMBOLS)


@functools.cache
def _cipher_val_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    import torch  # noqa: PLC0415

    val = _cipher_val()
    return torch.from_numpy(val), torch.from_numpy(_cipher_targets(val))


def _cipher_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss and token error on the fixed validation sequences."""
    val, val_y = _cipher_val_tensors()
    return _scored(model(val), val_y, _CI_SYMBOLS)


def _cipher_task(name: str, pre_ln: bool, control: str | None) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"4-layer {ln} encoder deciphering 15 symbols under one of 16 keyed ciphers, "
        "Adam (0.9, 0.999), batch 32, 300 steps",
        steps=300,
        eval_every=30,
        optimizer="adam",
        model=functools.partial(_cipher_model, pre_ln=pre_ln),
        batch=_cipher_batch,
        loss=_cipher_loss,
        evaluate=_cipher_evaluate,
        constant_loss=_cipher_constant,
        best_loss=0.0,
        score_name="error",
        betas=(0.9, 0.999),
        control=control,
    )

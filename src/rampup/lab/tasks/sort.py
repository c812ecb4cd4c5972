"""The sort tasks: a bidirectional encoder that sorts 16 tokens.

``postln-sort`` / ``preln-sort``: a 4-layer encoder (d 64, 4 heads, ff 256), Post-LN and its
Pre-LN control, sorting 16 tokens over 32 values, batch 64, 400 steps, AdamW (0.9, 0.98).

The constant level is the per-position entropy of the sorted validation sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import Evaluation, Setup, Task, _encoder, _positional_entropy

if TYPE_CHECKING:
    import torch

__all__: list[str] = []


_SO_VALUES, _SO_LEN, _SO_BATCH, _SO_VAL, _SO_DATA_SEED = 32, 16, 64, 256, 4321


def _sort_val() -> Any:
    import numpy as np  # noqa: PLC0415

    return np.random.default_rng(_SO_DATA_SEED).integers(0, _SO_VALUES, size=(_SO_VAL, _SO_LEN))


def _sort_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _positional_entropy(np.sort(_sort_val(), axis=1), _SO_VALUES)


def _build_sort(seed: int, *, pre_ln: bool) -> Setup:
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    d = 64

    class Sorter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(_SO_VALUES, d)
            self.pos = nn.Parameter(torch.randn(_SO_LEN, d) * 0.02)
            self.body = _encoder(d, 4, pre_ln=pre_ln)
            self.head = nn.Linear(d, _SO_VALUES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(self.tok(x) + self.pos))  # type: ignore[no-any-return]

    model = Sorter()
    rng = np.random.default_rng(seed)
    val = torch.from_numpy(_sort_val())
    val_y = torch.sort(val, dim=1).values
    loss_fn = nn.CrossEntropyLoss()

    def train_loss(step: int) -> torch.Tensor:
        x = torch.from_numpy(rng.integers(0, _SO_VALUES, size=(_SO_BATCH, _SO_LEN)))
        y = torch.sort(x, dim=1).values
        return loss_fn(model(x).reshape(-1, _SO_VALUES), y.reshape(-1))  # type: ignore[no-any-return]

    def evaluate() -> Evaluation:
        model.eval()
        with torch.no_grad():
            logits = model(val)
            loss = float(loss_fn(logits.reshape(-1, _SO_VALUES), val_y.reshape(-1)))
            err = float((logits.argmax(-1) != val_y).float().mean())
        model.train()
        return Evaluation(loss, err)

    return Setup(model, train_loss, evaluate)


def _sort_task(name: str, pre_ln: bool, control: str | None) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"4-layer {ln} encoder sorting 16 tokens over 32 values, AdamW (0.9, 0.98), "
        "batch 64, 400 steps",
        steps=400,
        eval_every=40,
        optimizer="adamw",
        constant_loss=_sort_constant,
        build=lambda seed: _build_sort(seed, pre_ln=pre_ln),
        score_name="error",
        betas=(0.9, 0.98),
        control=control,
    )

"""The shapes tasks: a small conv net with batch norm on synthetic 12x12 images, SGD.

``shapes-bn`` / ``shapes-bn-b64``: ten stroke patterns (bars at four orientations, a plus, a
cross, a square outline, a dot, an L and a T), each drawn at a random place in a 12x12 image with
a random contrast and Gaussian pixel noise; a fixed pool of training images and a fixed
validation set, both generated in-process from fixed data seeds (no download). The model is a
4-layer conv net with batch norm after every convolution, global average pooling and a linear
head; SGD momentum 0.9, 100 steps, at batch 512 (``shapes-bn``, large-batch SGD) and at batch 64
(``shapes-bn-b64``, the control: the same net and updates on an eighth of the data per update).

An image of class ``c`` with top-left corner ``(i, j)``, contrast ``a`` and noise ``e`` is::

    x[u, v] = a * P_c[u - i, v - j] + e[u, v],   a ~ U(0.6, 1.4),   e ~ N(0, 0.3^2)

(``P_c`` the 5x5 pattern, zero outside it). The constant level is the class entropy of the
validation labels (classes are drawn uniformly).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import Evaluation, SeedStream, Task, _entropy, _scored, _token_loss

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__: list[str] = []


#: Image side, classes, pool sizes, batch, pixel noise, data seeds (train pool, validation).
_SH_SIDE, _SH_CLASSES, _SH_TRAIN, _SH_VAL = 12, 10, 8192, 1024
_SH_NOISE, _SH_DATA_SEED = 0.3, 2024
#: Channels of the four convolutions (the second and the fourth have stride 2: 12 -> 6 -> 3).
_SH_CHANNELS = (16, 32, 32, 64)

_PATTERNS = (
    "..... ..... ##### ..... .....",  # horizontal bar
    "..#.. ..#.. ..#.. ..#.. ..#..",  # vertical bar
    "#.... .#... ..#.. ...#. ....#",  # diagonal
    "....# ...#. ..#.. .#... #....",  # anti-diagonal
    "..#.. ..#.. ##### ..#.. ..#..",  # plus
    "#...# .#.#. ..#.. .#.#. #...#",  # cross
    "##### #...# #...# #...# #####",  # square outline
    "..... .###. .###. .###. .....",  # dot
    "#.... #.... #.... #.... #####",  # L
    "##### ..#.. ..#.. ..#.. ..#..",  # T
)


def _patterns() -> Any:
    """The ten 5x5 patterns as a (10, 5, 5) float array of 0s and 1s."""
    import numpy as np  # noqa: PLC0415

    return np.array(
        [[[c == "#" for c in row] for row in p.split()] for p in _PATTERNS], dtype=np.float32
    )


def _shapes_sample(rng: Any, n: int) -> tuple[Any, Any]:
    """``n`` images (n, 1, 12, 12) float32 and their labels (n,) int64, drawn from ``rng``."""
    import numpy as np  # noqa: PLC0415

    pats = _patterns()
    y = rng.integers(0, _SH_CLASSES, size=n)
    off = rng.integers(0, _SH_SIDE - 5 + 1, size=(n, 2))
    amp = rng.uniform(0.6, 1.4, size=n).astype(np.float32)
    x = rng.normal(0.0, _SH_NOISE, size=(n, _SH_SIDE, _SH_SIDE)).astype(np.float32)
    for k in range(n):
        i, j = off[k]
        x[k, i : i + 5, j : j + 5] += amp[k] * pats[y[k]]
    return x[:, None], y.astype(np.int64)


@functools.cache
def _shapes() -> tuple[Any, Any, Any, Any]:
    """The fixed training pool (8192 images) and validation set (1024), from the data seeds."""
    import numpy as np  # noqa: PLC0415

    xtr, ytr = _shapes_sample(np.random.default_rng(_SH_DATA_SEED), _SH_TRAIN)
    xva, yva = _shapes_sample(np.random.default_rng(_SH_DATA_SEED + 1), _SH_VAL)
    return xtr, ytr, xva, yva


def _shapes_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _entropy(np.bincount(_shapes()[3], minlength=_SH_CLASSES))


def _shapes_model(seed: int) -> nn.Module:
    """The conv net, its parameters drawn after ``torch.manual_seed(seed)``.

    ``conv3x3 -> BatchNorm -> ReLU`` four times (channels 16, 32, 32, 64; strides 1, 2, 1, 2; the
    convolutions without bias), global average pooling, ``Linear(64, 10)``: 33,338 parameters.
    """
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    c_in = 1
    for k, c_out in enumerate(_SH_CHANNELS):
        layers.append(nn.Conv2d(c_in, c_out, 3, stride=1 + k % 2, padding=1, bias=False))
        layers += [nn.BatchNorm2d(c_out), nn.ReLU()]
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, _SH_CLASSES)]
    return nn.Sequential(*layers)


@functools.cache
def _shapes_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch  # noqa: PLC0415

    xtr, ytr, xva, yva = (torch.from_numpy(a) for a in _shapes())
    return xtr, ytr, xva, yva


def _indices(size: int) -> SeedStream[Any]:
    """Seed s's batches of ``size`` indices into the training pool, from ``default_rng(s)``."""
    return SeedStream(lambda rng: rng.integers(0, _SH_TRAIN, size=size))


#: The streams of the two batch sizes.
_STREAMS: dict[int, SeedStream[Any]] = {512: _indices(512), 64: _indices(64)}


def _shapes_batch(seed: int, step: int, *, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``step``'s ``size`` images (drawn with replacement from the pool), their labels."""
    import torch  # noqa: PLC0415

    xtr, ytr, _, _ = _shapes_tensors()
    idx = torch.from_numpy(_STREAMS[size](seed, step))
    return xtr[idx], ytr[idx]


def _shapes_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _token_loss(logits, targets, _SH_CLASSES)


def _shapes_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss and classification error on the 1024 validation images."""
    _, _, xva, yva = _shapes_tensors()
    return _scored(model(xva), yva, _SH_CLASSES)


def _shapes_task(name: str, *, batch: int, control: str | None) -> Task:
    role = "" if control else " (control)"
    return Task(
        name=name,
        summary=f"4-layer conv net with batch norm on synthetic 12x12 shapes, SGD momentum 0.9, "
        f"batch {batch}{role}, 100 steps",
        steps=100,
        eval_every=10,
        optimizer="sgd",
        model=_shapes_model,
        batch=functools.partial(_shapes_batch, size=batch),
        loss=_shapes_loss,
        evaluate=_shapes_evaluate,
        constant_loss=_shapes_constant,
        score_name="error",
        objective="error",
        weight_decay=0.0,
        control=control,
    )

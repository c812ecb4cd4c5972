"""The lab's tasks: small, real training problems where warmup can decide the outcome.

Each task builds, from a seed, a model, a batch sampler and an evaluation, all deterministic given
the seed (one torch thread, seeded generators, no download). A task also knows its *constant
level*: the validation loss of the best input-independent predictor (the unigram entropy for the
Markov LM, the per-position entropy for sorting and the seq2seq task, the class entropy for the
digits), so a run that collapsed to a constant predictor is caught as a failure even when its
loss is finite.

Tasks (``TASKS``):

- ``markov-postln`` / ``markov-preln``: a 6-layer causal Transformer LM (d 64, 4 heads, ff 256),
  Post-LN and its Pre-LN control, on sequences (length 32, batch 16, 200 steps) of a random
  order-1 Markov chain over 32 states (rows from Dirichlet(0.1), fixed data seed), AdamW.
- ``postln-sort`` / ``preln-sort``: a 4-layer encoder (d 64, 4 heads, ff 256), Post-LN and its
  Pre-LN control, sorting 16 tokens over 32 values, batch 64, 400 steps, AdamW (0.9, 0.98).
- ``digits-largebatch`` / ``digits-largebatch-nobn``: scikit-learn's ``load_digits``, a residual
  MLP with batch norm (and its control without), SGD momentum 0.9, batch 1024, 100 steps.
- ``digits-plainmlp``: an 8-layer MLP without normalisation (the negative control).
- ``digits-words`` / ``digits-words-preln``: a classic toy seq2seq (integers 0-999 to their
  digit words) with a Post-LN ``nn.Transformer`` (and its Pre-LN control), Adam (0.9, 0.98).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rampup import RampupError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["TASKS", "Evaluation", "Setup", "Task", "get_task"]


@dataclass(frozen=True)
class Evaluation:
    """One evaluation on the validation set: loss (nats) and the task's score."""

    loss: float
    score: float


@dataclass
class Setup:
    """A task instantiated for one seed: the model and the two closures the trainer calls."""

    model: nn.Module
    #: ``train_loss(step)``: the mean training loss on batch ``step`` (a scalar tensor, graph kept).
    train_loss: Callable[[int], torch.Tensor]
    #: ``evaluate()``: validation loss and score, with the model in eval mode and no gradient.
    evaluate: Callable[[], Evaluation]


@dataclass(frozen=True)
class Task:
    """A training problem of the lab, with its optimiser and its failure criterion."""

    name: str
    summary: str
    steps: int
    eval_every: int
    optimizer: str  # "adamw", "adam" or "sgd"
    #: Validation loss of the best constant predictor (measured on the validation set).
    constant_loss: Callable[[], float]
    build: Callable[[int], Setup]
    score_name: str  # "error" (lower is better) for every task
    #: What comparisons score: "loss" (validation cross-entropy) or "error" (the score).
    objective: str = "loss"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.01
    #: The control this task is paired with (Pre-LN, no batch norm), if any.
    control: str | None = None
    #: A run whose final validation loss is at least this fraction of the constant level
    #: has collapsed to (nearly) a constant predictor.
    collapse_ratio: float = 0.98
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def beta2(self) -> float | None:
        """Adam's beta2 for the Adam-family tasks; None for SGD."""
        return None if self.optimizer == "sgd" else self.betas[1]


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


def _causal_mask(n: int) -> torch.Tensor:
    import torch  # noqa: PLC0415

    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


# -- markov: a causal Transformer LM on an order-1 Markov chain --------------------------------
_MK_STATES, _MK_LEN, _MK_BATCH, _MK_VAL, _MK_DATA_SEED = 32, 32, 16, 128, 1234


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


def _build_markov(seed: int, *, pre_ln: bool) -> Setup:
    import numpy as np  # noqa: PLC0415
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

    model = LM()
    rng = np.random.default_rng(seed)
    val = torch.from_numpy(_markov_val())
    loss_fn = nn.CrossEntropyLoss()

    def loss_on(x: torch.Tensor) -> torch.Tensor:
        logits = model(x[:, :-1])
        return loss_fn(logits.reshape(-1, _MK_STATES), x[:, 1:].reshape(-1))  # type: ignore[no-any-return]

    def train_loss(step: int) -> torch.Tensor:
        return loss_on(torch.from_numpy(_markov_sample(rng, _MK_BATCH)))

    def evaluate() -> Evaluation:
        model.eval()
        with torch.no_grad():
            logits = model(val[:, :-1])
            loss = float(loss_fn(logits.reshape(-1, _MK_STATES), val[:, 1:].reshape(-1)))
            err = float((logits.argmax(-1) != val[:, 1:]).float().mean())
        model.train()
        return Evaluation(loss, err)

    return Setup(model, train_loss, evaluate)


# -- sort: a bidirectional encoder that sorts 16 tokens ---------------------------------------
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


# -- digits: scikit-learn's 8x8 digits, large-batch SGD ----------------------------------------
_DG_BATCH, _DG_VAL = 1024, 497


def _digits() -> tuple[Any, Any, Any, Any]:
    """load_digits split into train (1300) and validation (497) by a fixed permutation."""
    import numpy as np  # noqa: PLC0415
    from sklearn.datasets import load_digits  # noqa: PLC0415

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0 - 0.5).astype(np.float32)
    perm = np.random.default_rng(0).permutation(len(y))
    tr, va = perm[_DG_VAL:], perm[:_DG_VAL]
    return x[tr], y[tr].astype(np.int64), x[va], y[va].astype(np.int64)


def _digits_constant() -> float:
    import numpy as np  # noqa: PLC0415

    return _entropy(np.bincount(_digits()[3], minlength=10))


def _build_digits(seed: int, *, kind: str) -> Setup:
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)
    width = 128

    class Block(nn.Module):
        def __init__(self, bn: bool) -> None:
            super().__init__()
            norm: Callable[[], nn.Module] = (lambda: nn.BatchNorm1d(width)) if bn else nn.Identity
            self.f = nn.Sequential(
                nn.Linear(width, width), norm(), nn.ReLU(), nn.Linear(width, width), norm()
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x + self.f(x))

    layers: list[nn.Module]
    if kind == "plain":
        layers = [nn.Linear(64, width), nn.ReLU()]
        for _ in range(6):
            layers += [nn.Linear(width, width), nn.ReLU()]
        layers.append(nn.Linear(width, 10))
        # He initialisation: with torch's default the 8-layer ReLU stack does not train at all
        for m in layers:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
    else:
        bn = kind == "bn"
        stem_norm: nn.Module = nn.BatchNorm1d(width) if bn else nn.Identity()
        layers = [nn.Linear(64, width), stem_norm, nn.ReLU()]
        layers += [Block(bn) for _ in range(3)]
        layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    xtr, ytr, xva, yva = (torch.from_numpy(a) for a in _digits())
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()

    def train_loss(step: int) -> torch.Tensor:
        idx = torch.from_numpy(rng.integers(0, len(ytr), size=_DG_BATCH))
        return loss_fn(model(xtr[idx]), ytr[idx])  # type: ignore[no-any-return]

    def evaluate() -> Evaluation:
        model.eval()
        with torch.no_grad():
            logits = model(xva)
            loss = float(loss_fn(logits, yva))
            err = float((logits.argmax(-1) != yva).float().mean())
        model.train()
        return Evaluation(loss, err)

    return Setup(model, train_loss, evaluate)


# -- digits-words: a toy seq2seq, numbers to digit words -----------------------------------------
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_W_PAD, _W_SOS, _W_EOS = 0, 1, 2  # target vocabulary: pad, sos, eos, then the ten words
_W_SRC_PAD = 10  # source vocabulary: the ten digits, then pad
_W_BATCH, _W_VAL = 32, 200


def words_of(n: int) -> list[str]:
    """The target for ``n``: its decimal digits as words (123 -> one two three)."""
    return [WORDS[int(c)] for c in str(n)]


def _words_data() -> tuple[Any, Any, Any, Any]:
    """Source (digits, padded to 3) and target (sos, words, eos, padded to 5) for 0-999.

    A fixed permutation holds out 200 numbers for validation; the model must generalise.
    """
    import numpy as np  # noqa: PLC0415

    src = np.full((1000, 3), _W_SRC_PAD, dtype=np.int64)
    tgt = np.full((1000, 5), _W_PAD, dtype=np.int64)
    for n in range(1000):
        digits = [int(c) for c in str(n)]
        src[n, : len(digits)] = digits
        row = [_W_SOS, *(3 + WORDS.index(w) for w in words_of(n)), _W_EOS]
        tgt[n, : len(row)] = row
    perm = np.random.default_rng(0).permutation(1000)
    tr, va = perm[_W_VAL:], perm[:_W_VAL]
    return src[tr], tgt[tr], src[va], tgt[va]


def _words_constant() -> float:
    return _positional_entropy(_words_data()[3][:, 1:], 13, pad=_W_PAD)


def _build_words(seed: int, *, pre_ln: bool, layers: int = 3, d: int = 64) -> Setup:
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)

    class Seq2Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.src_emb = nn.Embedding(11, d)
            self.tgt_emb = nn.Embedding(13, d)
            self.pos = nn.Parameter(torch.randn(8, d) * 0.02)
            # the encoder nn.Transformer would build, without nested tensors (no warning)
            encoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(
                    d, 4, 4 * d, dropout=0.0, batch_first=True, norm_first=pre_ln
                ),
                layers,
                norm=nn.LayerNorm(d),
                enable_nested_tensor=False,
            )
            self.transformer = nn.Transformer(
                d_model=d, nhead=4, num_encoder_layers=layers, num_decoder_layers=layers,
                dim_feedforward=4 * d, dropout=0.0, batch_first=True, norm_first=pre_ln,
                custom_encoder=encoder,
            )  # fmt: skip
            self.fc = nn.Linear(d, 13)

        def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
            s = self.src_emb(src) + self.pos[: src.shape[1]]
            t = self.tgt_emb(tgt) + self.pos[: tgt.shape[1]]
            mask = _causal_mask(tgt.shape[1])
            # the source pad is an ordinary token (no key-padding mask, so no nested tensors)
            out = self.transformer(s, t, tgt_mask=mask, tgt_is_causal=True)
            return self.fc(out)  # type: ignore[no-any-return]

    model = Seq2Seq()
    str_, ttr, sva, tva = (torch.from_numpy(a) for a in _words_data())
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss(ignore_index=_W_PAD)

    def loss_on(src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        logits = model(src, tgt[:, :-1])
        return loss_fn(logits.reshape(-1, 13), tgt[:, 1:].reshape(-1))  # type: ignore[no-any-return]

    def train_loss(step: int) -> torch.Tensor:
        idx = torch.from_numpy(rng.integers(0, len(ttr), size=_W_BATCH))
        return loss_on(str_[idx], ttr[idx])

    def evaluate() -> Evaluation:
        model.eval()
        with torch.no_grad():
            loss = float(loss_on(sva, tva))
            # greedy decoding; exact match = every token up to and including eos
            out = torch.full((len(sva), 1), _W_SOS, dtype=torch.long)
            for _ in range(tva.shape[1] - 1):
                nxt = model(sva, out)[:, -1].argmax(-1, keepdim=True)
                out = torch.cat([out, nxt], dim=1)
            want = tva[:, 1:]
            ok = ((out[:, 1:] == want) | (want == _W_PAD)).all(dim=1)
        model.train()
        return Evaluation(loss, 1.0 - float(ok.float().mean()))

    return Setup(model, train_loss, evaluate)


# -- the registry ------------------------------------------------------------------------------
def _markov_task(name: str, pre_ln: bool, control: str | None) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"6-layer {ln} causal Transformer LM on a 32-state Markov chain, AdamW, 200 steps",
        steps=200,
        eval_every=20,
        optimizer="adamw",
        constant_loss=_markov_constant,
        build=lambda seed: _build_markov(seed, pre_ln=pre_ln),
        score_name="error",
        betas=(0.9, 0.999),
        control=control,
    )


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


def _digits_task(name: str, kind: str, summary: str, control: str | None) -> Task:
    return Task(
        name=name,
        summary=summary,
        steps=100,
        eval_every=10,
        optimizer="sgd",
        constant_loss=_digits_constant,
        build=lambda seed: _build_digits(seed, kind=kind),
        score_name="error",
        objective="error",
        weight_decay=0.0,
        control=control,
    )


def _words_task(name: str, pre_ln: bool, control: str | None, steps: int = 400) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"toy seq2seq (0-999 to digit words), 3+3-layer {ln} nn.Transformer, "
        f"Adam (0.9, 0.98), {steps} steps",
        steps=steps,
        eval_every=40,
        optimizer="adam",
        constant_loss=_words_constant,
        build=lambda seed: _build_words(seed, pre_ln=pre_ln),
        score_name="error",
        betas=(0.9, 0.98),
        weight_decay=0.0,
        control=control,
    )


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        _markov_task("markov-postln", pre_ln=False, control="markov-preln"),
        _markov_task("markov-preln", pre_ln=True, control=None),
        _sort_task("postln-sort", pre_ln=False, control="preln-sort"),
        _sort_task("preln-sort", pre_ln=True, control=None),
        _digits_task(
            "digits-largebatch",
            "bn",
            "residual MLP with batch norm on load_digits, SGD momentum 0.9, batch 1024, 100 steps",
            "digits-largebatch-nobn",
        ),
        _digits_task(
            "digits-largebatch-nobn",
            "nobn",
            "the same residual MLP without batch norm (control), SGD, batch 1024, 100 steps",
            None,
        ),
        _digits_task(
            "digits-plainmlp",
            "plain",
            "8-layer ReLU MLP (He init), no normalisation (negative control), SGD, 100 steps",
            None,
        ),
        _words_task("digits-words", pre_ln=False, control="digits-words-preln"),
        _words_task("digits-words-preln", pre_ln=True, control=None),
    )
}


def get_task(name: object, *, func: str = "get_task") -> Task:
    """The task called ``name``; a :class:`~rampup.RampupError` naming the known ones otherwise."""
    if not isinstance(name, str) or name not in TASKS:
        raise RampupError.invalid(func, "task", name, "one of " + ", ".join(TASKS))
    return TASKS[name]


def constant_level(task: Task) -> float:
    """The task's constant-predictor validation loss (cached per process)."""
    return _constant_cache(task.name)


_CONSTANTS: dict[str, float] = {}


def _constant_cache(name: str) -> float:
    if name not in _CONSTANTS:
        _CONSTANTS[name] = TASKS[name].constant_loss()
    return _CONSTANTS[name]


def is_finite(x: float) -> bool:
    """True for a finite float."""
    return math.isfinite(x)

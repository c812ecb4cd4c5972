"""Which warmup to use: :func:`suggest` and its :class:`Suggestion`.

:func:`suggest` turns a few facts about a run into a warmup spec, each number derived from a
stated, published rule (see its docstring): Ma & Yarats' untuned warmup ``2 / (1 - beta2)``, the
5-10 % guideline and the per-model table of the classic recipes, and the linear scaling rule of
Goyal et al. (2017) when the batch grows; a caution is added wherever the rules disagree.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from rampup import RampupError
from rampup.advice.summary import LONG_WARMUP
from rampup.core.checks import check_choice, check_count, check_number
from rampup.core.schedule import Schedule
from rampup.core.shapes import Untuned
from rampup.core.spec import parse

__all__ = ["GUIDELINE", "MODELS", "OPTIMIZERS", "SIZES", "TABLE", "Suggestion", "suggest"]


def _nearest(x: float) -> int:
    """Round to the nearest whole step, halves up: the core's rule for lengths."""
    return math.floor(x + 0.5)


OPTIMIZERS = ("adamw", "adam", "sgd")
MODELS = ("transformer", "cnn", "mlp", "other", "bert-finetune", "gpt-pretrain")
SIZES = ("small", "large")

#: The per-model warmup table of the classic recipes ("Warmup Duration Guidelines"):
#: (model, size) -> (low, high, unit, the row as written there).
TABLE: dict[tuple[str, str], tuple[float, float, str, str]] = {
    ("cnn", "small"): (0, 5, "epochs", "small CNN: 0-5 epochs (often unnecessary)"),
    ("cnn", "large"): (5, 10, "epochs", "large CNN: 5-10 epochs (helpful for stability)"),
    ("transformer", "small"): (1000, 2000, "steps", "small Transformer: 1-2k steps"),
    ("transformer", "large"): (4000, 10000, "steps", "large Transformer: 4-10k steps"),
    ("bert-finetune", "small"): (6, 10, "percent", "BERT fine-tuning: 6-10 % of the steps"),
    ("gpt-pretrain", "small"): (1000, 2000, "steps", "GPT pretraining: 1-2k steps"),
}
#: The 5-10 % guideline of the classic recipes: warmup as a fraction of the whole run.
GUIDELINE = (0.05, 0.10)

_TABLE_SOURCE = "the classic recipes' per-model warmup table"
_GUIDE_SOURCE = "the classic recipes' rule of thumb, 5-10 % of total training"
_UNTUNED = "Ma & Yarats 2019, 'On the adequacy of untuned warmup for adaptive optimization'"
_GOYAL = "Goyal et al. 2017, 'Accurate, Large Minibatch SGD'"
_MALLADI = "Malladi et al. 2022, 'On the SDEs and scaling rules for adaptive gradient algorithms'"


@dataclass(frozen=True)
class Suggestion:
    """A suggested warmup: the spec, the reasons (each citing its source) and the numbers.

    ``spec`` is a warmup followed by a cosine decay over the rest of the run; bind it with
    ``total_steps``. ``start`` is the warmup's first factor when a rule sets it (None: the default
    ``1 / warmup_steps``). ``peak_lr`` is the scaled peak learning rate (None without ``base_lr``).
    ``guideline_steps``, ``table_steps`` and ``untuned_steps`` are each rule's own numbers;
    ``batch_scale`` is ``batch_size / base_batch_size``. ``cautions`` lists where rules disagree.
    """

    spec: str
    warmup_steps: int
    start: float | None
    peak_lr: float | None
    batch_scale: float
    guideline_steps: tuple[int, int]
    table_steps: tuple[int, int] | None
    table_row: str | None
    untuned_steps: int | None
    total_steps: int
    batch_size: int
    base_batch_size: int
    base_lr: float | None
    optimizer: str
    beta2: float | None
    model: str
    size: str
    steps_per_epoch: float | None
    reasons: tuple[str, ...]
    cautions: tuple[str, ...]

    def schedule(self) -> Schedule:
        """The suggested schedule bound to the run (``parse(spec).bind(total_steps=...)``)."""
        return parse(self.spec).bind(
            total_steps=self.total_steps, steps_per_epoch=self.steps_per_epoch
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the ``rampup suggest --json`` schema); tuples become lists."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data


def _table_steps(
    model: str, size: str, total: int, steps_per_epoch: float | None
) -> tuple[tuple[int, int] | None, str | None, str | None]:
    """The table's range in steps, its row, and why it could not be used (or None)."""
    row = TABLE.get((model, size)) or TABLE.get((model, "small"))
    if row is None:
        return None, None, None
    lo, hi, unit, text = row
    if unit == "steps":
        return (int(lo), int(hi)), text, None
    if unit == "percent":
        return (_nearest(lo * total / 100), _nearest(hi * total / 100)), text, None
    if steps_per_epoch is None:
        return (
            None,
            text,
            (
                f"{_TABLE_SOURCE} gives the {text.split(':')[0]} warmup in epochs, and no steps per"
                " epoch were given: the table is not used (pass steps_per_epoch to use it)"
            ),
        )
    return (_nearest(lo * steps_per_epoch), _nearest(hi * steps_per_epoch)), text, None


def suggest(
    total_steps: int,
    batch_size: int,
    *,
    base_batch_size: int = 256,
    base_lr: float | None = None,
    optimizer: str = "adamw",
    beta2: float | None = None,
    model: str = "other",
    size: str = "small",
    steps_per_epoch: float | None = None,
) -> Suggestion:
    """Suggest a warmup for a run, with every number derived from a stated rule.

    The rules, in order (``T = total_steps``, ``k = batch_size / base_batch_size``; lengths are
    rounded to the nearest step, halves up, as everywhere in rampup):

    1. **Guideline** (the classic recipes): warm up for 5-10 % of the run,
       ``[round(0.05 T), round(0.1 T)]``.
    2. **Per-model table** (the classic recipes): small CNN 0-5 epochs, large CNN 5-10 epochs,
       small Transformer 1-2k steps, large 4-10k, BERT fine-tuning 6-10 % of the steps, GPT
       pretraining 1-2k steps (epochs need ``steps_per_epoch``). When it applies, its range is
       used instead of the guideline's (it is the more specific rule).
    3. **Untuned warmup** (Ma & Yarats 2019), Adam and AdamW only: ``round(2 / (1 - beta2))``
       steps (2000 for the default 0.999). The warmup is this number, moved to the nearest end of
       the range when outside it; without Adam, the middle of the range.
    4. **Linear scaling** (Goyal et al. 2017) when ``k != 1``: the peak learning rate is
       ``k * base_lr``. When the batch grows (``k > 1``), the warmup is lengthened in proportion
       (``round(k * W)``, the classic recipes' large-batch rule) but capped at the upper end of
       the range and of the guideline, whichever is larger (Goyal et al. kept 5 epochs up to
       batch 8k; a warmup beyond the range, capped or not, is cautioned);
       with SGD the warmup starts from the base-batch learning rate, ``start = 1/k`` of the peak
       (Goyal et al.'s gradual warmup). For Adam-type optimizers a caution gives the square-root
       rule (Malladi et al. 2022) as the safer alternative.

    The warmup always leaves at least one update for the decay (``W <= T - 1``). The suggested
    spec is ``linear(W) >> cosine``: the warmup, then a cosine decay over the rest of the run.

    >>> s = suggest(100_000, 256, optimizer="adamw", model="transformer")
    >>> s.spec, s.untuned_steps, s.table_steps, s.guideline_steps
    ('linear(2000) >> cosine', 2000, (1000, 2000), (5000, 10000))
    """
    func = "suggest"
    total = check_count(func, "total_steps", total_steps, 2, "an int >= 2 (warmup and decay)")
    batch = check_count(func, "batch_size", batch_size, 1, "a positive int (examples per update)")
    base_batch = check_count(
        func, "base_batch_size", base_batch_size, 1, "a positive int (the batch base_lr is for)"
    )
    if base_lr is not None:
        base_lr = check_number(
            func, "base_lr", base_lr, low=0.0, low_open=True,
            what="a positive finite learning rate (tuned at base_batch_size), or None",
        )  # fmt: skip
    check_choice(func, "optimizer", optimizer, OPTIMIZERS)
    check_choice(func, "model", model, MODELS)
    check_choice(func, "size", size, SIZES)
    if steps_per_epoch is not None:
        steps_per_epoch = check_number(
            func, "steps_per_epoch", steps_per_epoch, low=0.0, low_open=True,
            what="a positive finite number of updates per epoch, or None",
        )  # fmt: skip
    if optimizer == "sgd" and beta2 is not None:
        raise RampupError.invalid(
            func, "beta2", beta2, "None with optimizer='sgd' (beta2 is Adam's parameter)"
        )
    if optimizer != "sgd":
        beta2 = check_number(
            func, "beta2", 0.999 if beta2 is None else beta2, low=0.0, high=1.0, low_open=True,
            high_open=True, what="Adam's beta2 in (0, 1), e.g. 0.999, or None",
        )  # fmt: skip
    notes = _Notes([], [])
    guide = (max(1, _nearest(GUIDELINE[0] * total)), max(1, _nearest(GUIDELINE[1] * total)))
    notes.reasons.append(
        f"guideline ({_GUIDE_SOURCE}): 5 % of {total} steps is {guide[0]}, 10 % is {guide[1]}"
    )
    table, row, rng, rng_name = _range(notes, model, size, total, steps_per_epoch, guide)
    untuned = None if beta2 is None else Untuned(beta2).warmup_steps
    warmup = _choose(notes, optimizer, beta2, untuned, rng, rng_name)
    k = batch / base_batch
    peak_lr = None if base_lr is None else base_lr * k
    warmup, start = _scale(notes, optimizer, k, batch, base_batch, base_lr, warmup, rng, guide)
    if warmup > total - 1:
        notes.cautions.append(
            f"the warmup ({warmup} steps) does not fit a run of {total} steps with a decay;"
            f" shortened to {total - 1} steps"
        )
        warmup = total - 1
    if warmup > LONG_WARMUP * total:
        notes.cautions.append(
            f"the warmup takes {warmup / total:.0%} of the run (more than {LONG_WARMUP:.0%}):"
            " consider a longer run or a shorter warmup"
        )
    start_arg = "" if start is None else f", start={start:g}"
    notes.reasons.append(
        "then a cosine decay to 0 over the rest of the run (the classic recipes' warmup + decay"
        " pattern; cosine annealing from Loshchilov & Hutter 2017, SGDR)"
    )
    result = Suggestion(
        spec=f"linear({warmup}{start_arg}) >> cosine",
        warmup_steps=warmup,
        start=start,
        peak_lr=peak_lr,
        batch_scale=k,
        guideline_steps=guide,
        table_steps=table,
        table_row=row,
        untuned_steps=untuned,
        total_steps=total,
        batch_size=batch,
        base_batch_size=base_batch,
        base_lr=base_lr,
        optimizer=optimizer,
        beta2=beta2,
        model=model,
        size=size,
        steps_per_epoch=steps_per_epoch,
        reasons=tuple(notes.reasons),
        cautions=tuple(notes.cautions),
    )
    result.schedule()  # the spec must parse and bind to the run
    return result


@dataclass(frozen=True)
class _Notes:
    """The reasons and cautions :func:`suggest` collects, in order."""

    reasons: list[str]
    cautions: list[str]


def _range(
    notes: _Notes,
    model: str,
    size: str,
    total: int,
    steps_per_epoch: float | None,
    guide: tuple[int, int],
) -> tuple[tuple[int, int] | None, str | None, tuple[int, int], str]:
    """Rule 2: the table's range if it applies, else the guideline's: (table, row, range, name)."""
    table, row, unused = _table_steps(model, size, total, steps_per_epoch)
    if unused is not None:
        notes.cautions.append(unused)
    if model == "cnn" and size == "small":
        notes.reasons.append(f"{_TABLE_SOURCE} notes warmup is often unnecessary for small CNNs")
    if table is None:
        if model in ("mlp", "other"):
            notes.reasons.append(f"per-model table ({_TABLE_SOURCE}): no row for model={model!r}")
        return None, row, guide, "the guideline's range"
    notes.reasons.append(
        f"per-model table ({_TABLE_SOURCE}): {row}, i.e. {table[0]}-{table[1]} steps"
    )
    if table[1] < guide[0] or table[0] > guide[1]:
        notes.cautions.append(
            f"rules disagree: the table's {table[0]}-{table[1]} steps and the guideline's"
            f" {guide[0]}-{guide[1]} steps do not overlap; rampup follows the table, the more"
            " specific rule"
        )
    return table, row, table, "the table's range"


def _choose(
    notes: _Notes,
    optimizer: str,
    beta2: float | None,
    untuned: int | None,
    rng: tuple[int, int],
    rng_name: str,
) -> int:
    """Rule 3: the untuned length moved into the range (Adam), or the range's middle (SGD)."""
    if untuned is None:
        notes.reasons.append(
            "SGD: the untuned rule does not apply (it derives from Adam's beta2); the classic"
            " recipes note warmup matters less for plain SGD but helps large models and large"
            " batches"
        )
        warmup = _nearest((rng[0] + rng[1]) / 2)
        notes.reasons.append(
            f"chosen: {warmup} steps, the middle of {rng_name} ({rng[0]}-{rng[1]},"
            " the classic recipes)"
        )
        return max(1, warmup)
    notes.reasons.append(
        f"untuned warmup for {optimizer} ({_UNTUNED}): 2 / (1 - beta2) = 2 / (1 - {beta2:g})"
        f" = {untuned} steps"
    )
    warmup = min(max(untuned, rng[0]), rng[1])
    if warmup == untuned:
        notes.reasons.append(
            f"chosen: {warmup} steps, the untuned rule's length (Ma & Yarats 2019), within"
            f" {rng_name} (the classic recipes)"
        )
    else:
        notes.cautions.append(
            f"rules disagree: the untuned rule's {untuned} steps lie outside {rng_name}"
            f" ({rng[0]}-{rng[1]}); rampup uses its nearest end, {warmup} steps"
        )
    return max(1, warmup)


def _scale(
    notes: _Notes,
    optimizer: str,
    k: float,
    batch: int,
    base_batch: int,
    base_lr: float | None,
    warmup: int,
    rng: tuple[int, int],
    guide: tuple[int, int],
) -> tuple[int, float | None]:
    """Rule 4: linear scaling of the peak lr and the warmup; returns (warmup, start)."""
    if k == 1:
        notes.reasons.append(
            f"batch {batch} is the base batch: the linear scaling rule ({_GOYAL}) changes nothing"
        )
        return warmup, None
    lr_text = "" if base_lr is None else f": peak lr {k:g} x {base_lr:g} = {base_lr * k:g}"
    notes.reasons.append(
        f"linear scaling rule ({_GOYAL}): batch {batch} is {k:g} x the base batch"
        f" {base_batch}, so the peak learning rate is scaled by {k:g}{lr_text}"
    )
    if base_lr is None:
        notes.cautions.append(
            "no base_lr given: pass the rate tuned at base_batch_size to get the scaled peak lr"
        )
    adam = optimizer != "sgd"
    if adam:
        sqrt_text = "" if base_lr is None else f" (peak lr {base_lr * math.sqrt(k):g})"
        notes.cautions.append(
            f"the linear scaling rule was established for SGD ({_GOYAL}); for {optimizer}"
            f" the square-root rule ({_MALLADI}) scales the lr by sqrt({k:g}) ="
            f" {math.sqrt(k):.4g}{sqrt_text} and is often safer"
        )
    if k < 1:
        return warmup, None
    scaled = _nearest(k * warmup)
    cap = max(rng[1], guide[1])
    notes.reasons.append(
        "larger batches need a proportionally longer warmup (the classic recipes' large-batch rule:"
        f" scale the warmup like the lr): {k:g} x {warmup} = {scaled} steps"
    )
    if scaled > cap:
        notes.cautions.append(
            f"rules disagree: the batch-scaled warmup ({scaled} steps) exceeds what the table"
            f" and the 5-10 % guideline allow ({cap} steps), and {_GOYAL} kept a 5-epoch"
            f" warmup unchanged up to batch 8k; rampup caps it at {cap} steps"
        )
    elif scaled > rng[1]:
        notes.cautions.append(
            f"rules disagree: the batch-scaled warmup ({scaled} steps) is longer than the"
            f" range chosen above ({rng[0]}-{rng[1]} steps); rampup keeps it, as it stays within"
            f" the larger of that range's and the guideline's upper ends ({cap} steps)"
        )
    warmup = min(scaled, cap)
    if adam:
        notes.reasons.append(
            f"{optimizer}: the warmup starts near 0 (the default 1/W), not at the base-batch"
            f" lr, because Adam's moment estimates start at zero ({_UNTUNED})"
        )
        return warmup, None
    start = float(f"{1 / k:.6g}")
    notes.reasons.append(
        f"gradual warmup ({_GOYAL}): ramp from the base-batch lr to {k:g} x that lr, i.e."
        f" start at 1/{k:g} = {start:g} of the peak"
    )
    return warmup, start

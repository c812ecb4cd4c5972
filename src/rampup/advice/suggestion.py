"""Which warmup to use: :func:`suggest` and its :class:`Suggestion`.

:func:`suggest` turns a few facts about a run into a warmup spec, each number derived from a
stated, published rule (see its docstring): Ma & Yarats' untuned warmup ``2 / (1 - beta2)``, the
5-10 % guideline and the per-model table of the classic recipes, and, when the base batch is
given, Goyal et al.'s (2017) large-batch SGD rules (linear lr scaling, 5 epochs of gradual warmup)
or the square-root rule for Adam (Malladi et al. 2022). No warmup is longer than rampup's cap, a
quarter of the run (:data:`rampup.core.measured.WARMUP_CAP`, shared with ``auto`` and the probe).
Given a measured critical lr (a :class:`~rampup.core.measured.ProbeResult` or ``critical_lr``),
the warmup is the measured one (:func:`rampup.core.measured.measured_warmup`). A caution is added
wherever the rules disagree. The batch and measurement rules live in
:mod:`rampup.advice._rules`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rampup import RampupError
from rampup.advice._rules import Notes, batch_rules, capped, from_critical, from_probe, nearest
from rampup.advice.summary import LONG_WARMUP
from rampup.core.checks import check_choice, check_count, check_number
from rampup.core.measured import ProbeResult
from rampup.core.schedule import Schedule
from rampup.core.shapes import Untuned
from rampup.core.spec import parse

__all__ = ["GUIDELINE", "MODELS", "OPTIMIZERS", "SIZES", "TABLE", "Suggestion", "suggest"]

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


@dataclass(frozen=True)
class Suggestion:
    """A suggested warmup: the spec, the reasons (each citing its source) and the numbers.

    ``spec`` is a warmup followed by a cosine decay over the rest of the run (``cosine`` alone
    when a measured critical lr says no warmup is needed); bind it with ``total_steps``.
    ``warmup_steps`` is at most ``cap_steps``, :data:`~rampup.core.measured.WARMUP_CAP` (a
    quarter) of the run. ``start`` is the warmup's first factor when a rule sets it (None: the
    default ``1 / warmup_steps``). ``peak_lr`` is the peak learning rate: ``base_lr`` scaled to
    the batch when ``base_batch_size`` is given, ``base_lr`` itself when not, the probe's peak
    with a probe and no ``base_lr``, None when no lr is known. ``critical_lr`` is the measured
    critical lr the warmup starts from (None without one). ``guideline_steps``, ``table_steps``
    and ``untuned_steps`` are each rule's own numbers; ``batch_scale`` is
    ``batch_size / base_batch_size`` (None without a base batch). ``cautions`` lists where
    rules disagree.
    """

    spec: str
    warmup_steps: int
    start: float | None
    peak_lr: float | None
    critical_lr: float | None
    batch_scale: float | None
    guideline_steps: tuple[int, int]
    table_steps: tuple[int, int] | None
    table_row: str | None
    untuned_steps: int | None
    cap_steps: int
    total_steps: int
    batch_size: int
    base_batch_size: int | None
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
        return (nearest(lo * total / 100), nearest(hi * total / 100)), text, None
    if steps_per_epoch is None:
        return (
            None,
            text,
            (
                f"{_TABLE_SOURCE} gives the {text.split(':')[0]} warmup in epochs, and no steps per"
                " epoch were given: the table is not used (pass steps_per_epoch to use it)"
            ),
        )
    return (nearest(lo * steps_per_epoch), nearest(hi * steps_per_epoch)), text, None


def suggest(
    total_steps: int,
    batch_size: int,
    *,
    base_batch_size: int | None = None,
    base_lr: float | None = None,
    optimizer: str = "adamw",
    beta2: float | None = None,
    model: str = "other",
    size: str = "small",
    steps_per_epoch: float | None = None,
    probe: ProbeResult | None = None,
    critical_lr: float | None = None,
) -> Suggestion:
    r"""Suggest a warmup for a run, with every number derived from a stated rule.

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
    4. **Batch scaling, only when** ``base_batch_size`` **is given** (the batch ``base_lr`` was
       tuned at; without it the peak is ``base_lr`` unscaled, and a reason says how to scale):

       - SGD: the linear scaling rule of Goyal et al. (2017), peak ``k * base_lr``; above the
         base batch (``k > 1``) their gradual warmup, **5 epochs** from the base-batch lr
         (``start = 1/k``). Without ``steps_per_epoch`` the 5 epochs are read as 5 of their 90,
         ``round(5 T / 90)`` steps.
       - Adam and AdamW: the square-root rule (Malladi et al. 2022), peak ``sqrt(k) * base_lr``;
         for ``k > 1`` the warmup is lengthened like the lr (the classic recipes' large-batch
         rule), ``round(sqrt(k) W)``, at most the larger of the range's and the guideline's
         upper ends; it still starts near 0 (Adam's moments start at zero).
    5. **The cap** (rampup's, shared with ``auto`` and the probe): no warmup is longer than
       :data:`~rampup.core.measured.WARMUP_CAP` (a quarter) of the run, ``c = max(1,
       floor(T / 4))``. A longer choice is replaced by the shared rule's length,
       :func:`~rampup.core.measured.rule_steps`: ``min(round(2 / (1 - beta2)), c)``, or ``c``
       for SGD.
    6. **Measured** (Kalra & Barkeshli 2024): with ``probe`` (what :func:`rampup.probe`
       returns) or ``critical_lr`` (the largest stable first-update lr, measured elsewhere;
       needs ``base_lr``), the warmup starts at the critical lr and keeps the rule's slope,
       :func:`~rampup.core.measured.measured_warmup`: the probe's own warmup when the peak, the
       run's length and beta2 are the probe's, re-derived for this peak and run otherwise. A
       peak at or below the critical lr needs no warmup (the spec is ``cosine``). With a probe
       and no ``beta2``, the probe's beta2 is used.

    The suggested spec is ``linear(W) >> cosine``: the warmup, then a cosine decay over the
    rest of the run.

    >>> s = suggest(100_000, 256, optimizer="adamw", model="transformer")
    >>> s.spec, s.untuned_steps, s.table_steps, s.guideline_steps, s.cap_steps
    ('linear(2000) >> cosine', 2000, (1000, 2000), (5000, 10000), 25000)
    >>> suggest(200, 256, beta2=0.98, model="transformer").spec  # min(100, 200 / 4)
    'linear(50) >> cosine'
    """
    func = "suggest"
    total = check_count(func, "total_steps", total_steps, 2, "an int >= 2 (warmup and decay)")
    batch = check_count(func, "batch_size", batch_size, 1, "a positive int (examples per update)")
    base_batch = None
    if base_batch_size is not None:
        base_batch = check_count(
            func, "base_batch_size", base_batch_size, 1,
            "a positive int (the batch base_lr was tuned at), or None (no scaling)",
        )  # fmt: skip
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
    crit = _check_measured(func, probe, critical_lr, base_lr)
    if optimizer == "sgd" and beta2 is not None:
        raise RampupError.invalid(
            func, "beta2", beta2, "None with optimizer='sgd' (beta2 is Adam's parameter)"
        )
    notes = Notes([], [])
    if optimizer != "sgd":
        if beta2 is None and probe is not None and probe.beta2 is not None:
            beta2 = probe.beta2
            notes.reasons.append(
                f"beta2 = {beta2:g}, the probe's (Kalra & Barkeshli 2024's measurement was taken"
                " with it), as none was given"
            )
        beta2 = check_number(
            func, "beta2", 0.999 if beta2 is None else beta2, low=0.0, high=1.0, low_open=True,
            high_open=True, what="Adam's beta2 in (0, 1), e.g. 0.999, or None",
        )  # fmt: skip
    guide = (max(1, nearest(GUIDELINE[0] * total)), max(1, nearest(GUIDELINE[1] * total)))
    notes.reasons.append(
        f"guideline ({_GUIDE_SOURCE}): 5 % of {total} steps is {guide[0]}, 10 % is {guide[1]}"
    )
    table, row, rng, rng_name = _range(notes, model, size, total, steps_per_epoch, guide)
    untuned = None if beta2 is None else Untuned(beta2).warmup_steps
    warmup = _choose(notes, optimizer, beta2, untuned, rng, rng_name)
    k, peak_lr, warmup, start = batch_rules(
        notes, optimizer=optimizer, batch=batch, base_batch=base_batch, base_lr=base_lr,
        warmup=warmup, rng=rng, rng_name=rng_name, guide=guide, total=total,
        steps_per_epoch=steps_per_epoch,
    )  # fmt: skip
    warmup, cap = capped(notes, warmup, total, beta2)
    m = None
    if probe is not None:
        m, crit, peak_lr = from_probe(notes, probe, peak_lr, warmup, total, beta2)
    elif crit is not None and peak_lr is not None:  # a critical lr comes with base_lr
        m = from_critical(notes, crit, peak_lr, warmup, total, beta2)
    if m is not None:
        warmup = m.steps
        start = float(f"{m.start:.4g}") if m.steps and m.start > 0 else None
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
        spec=f"linear({warmup}{start_arg}) >> cosine" if warmup else "cosine",
        warmup_steps=warmup,
        start=start,
        peak_lr=peak_lr,
        critical_lr=crit,
        batch_scale=k,
        guideline_steps=guide,
        table_steps=table,
        table_row=row,
        untuned_steps=untuned,
        cap_steps=cap,
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


def _check_measured(
    func: str, probe: object, critical_lr: object, base_lr: float | None
) -> float | None:
    """Check ``probe`` and ``critical_lr`` (at most one; a critical lr needs a peak)."""
    if probe is not None and not isinstance(probe, ProbeResult):
        raise RampupError.invalid(
            func, "probe", probe, "a ProbeResult (what rampup.probe returns), or None"
        )
    if critical_lr is None:
        return None
    if probe is not None:
        raise RampupError.invalid(
            func, "critical_lr", critical_lr,
            "None when a probe is given (the probe's critical lr is used)",
        )  # fmt: skip
    crit = check_number(
        func, "critical_lr", critical_lr, low=0.0,
        what="a finite lr >= 0 (the largest stable first-update lr), or None",
    )  # fmt: skip
    if base_lr is None:
        raise RampupError.invalid(
            func, "critical_lr", critical_lr,
            "a peak to climb to as well: pass base_lr too (the warmup climbs from the critical lr"
            " to it)",
        )  # fmt: skip
    return crit


def _range(
    notes: Notes,
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
    notes: Notes,
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
        warmup = nearest((rng[0] + rng[1]) / 2)
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
        notes.reasons.append(
            f"chosen: {warmup} steps, the end of {rng_name} ({rng[0]}-{rng[1]}, the classic"
            " recipes) nearest to the untuned rule's length (Ma & Yarats 2019)"
        )
        notes.cautions.append(
            f"rules disagree: the untuned rule's {untuned} steps lie outside {rng_name}"
            f" ({rng[0]}-{rng[1]}); rampup uses its nearest end, {warmup} steps"
        )
    return max(1, warmup)

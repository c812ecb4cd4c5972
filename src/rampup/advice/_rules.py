"""The rules of :func:`rampup.suggest` that set the peak and bound the warmup (rules 4-6).

- **batch scaling** (:func:`batch_rules`), only when the base batch is given: the linear rule and
  the 5-epoch gradual warmup of Goyal et al. (2017) for SGD, the square-root rule of Malladi et
  al. (2022) for Adam;
- **the cap** (:func:`capped`): no warmup longer than :data:`~rampup.core.measured.WARMUP_CAP` of
  the run, the rule ``auto`` and the probe share (:func:`~rampup.core.measured.rule_steps`);
- **the measured warmup** (:func:`from_probe`, :func:`from_critical`): from a critical lr,
  :func:`~rampup.core.measured.measured_warmup` (Kalra & Barkeshli 2024).

Each rule appends its reasons (with their numbers and sources) and cautions to :class:`Notes`.
Private to :mod:`rampup.advice`; it imports only the core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rampup.core.measured import (
    WARMUP_CAP,
    MeasuredWarmup,
    ProbeResult,
    measured_warmup,
    rule_steps,
)

GOYAL = "Goyal et al. 2017, 'Accurate, Large Minibatch SGD'"
MALLADI = "Malladi et al. 2022, 'On the SDEs and scaling rules for adaptive gradient algorithms'"
KALRA = "Kalra & Barkeshli 2024, 'Why warmup the learning rate?'"
_UNTUNED = "Ma & Yarats 2019"
#: Goyal et al.'s gradual warmup: 5 epochs, of their 90-epoch ResNet-50 run on ImageNet.
GOYAL_WARMUP_EPOCHS = 5
GOYAL_RUN_EPOCHS = 90


def nearest(x: float) -> int:
    """Round to the nearest whole step, halves up: the core's rule for lengths."""
    return math.floor(x + 0.5)


@dataclass(frozen=True)
class Notes:
    """The reasons and cautions :func:`rampup.suggest` collects, in order."""

    reasons: list[str]
    cautions: list[str]


def batch_rules(
    notes: Notes,
    *,
    optimizer: str,
    batch: int,
    base_batch: int | None,
    base_lr: float | None,
    warmup: int,
    rng: tuple[int, int],
    rng_name: str,
    guide: tuple[int, int],
    total: int,
    steps_per_epoch: float | None,
) -> tuple[float | None, float | None, int, float | None]:
    """Rule 4, the batch: ``(k, peak_lr, warmup, start)``; nothing is scaled without a base batch.

    ``k = batch / base_batch``. SGD: peak ``k * base_lr`` (Goyal et al.'s linear rule) and, for
    ``k > 1``, their 5-epoch warmup from the base-batch lr (``start = 1/k``). Adam: peak
    ``sqrt(k) * base_lr`` (Malladi et al.'s square-root rule) and, for ``k > 1``, the warmup
    lengthened like the lr, ``round(sqrt(k) W)``, at most ``max(rng[1], guide[1])``.
    """
    sgd = optimizer == "sgd"
    rule = (
        f"the linear scaling rule ({GOYAL})"
        if sgd
        else f"the square-root scaling rule for adaptive optimizers ({MALLADI})"
    )
    if base_batch is None:
        goyal = (
            f", and, above the base batch, to warm up as {GOYAL} do ({GOYAL_WARMUP_EPOCHS} epochs"
            " from the base-batch lr)"
            if sgd
            else ""
        )
        if base_lr is None:
            notes.reasons.append(
                "no base batch size and no lr given: no peak lr is suggested; pass base_lr and"
                f" base_batch_size (the batch it was tuned at) to get one for batch {batch} by"
                f" {rule}{goyal}"
            )
        else:
            notes.reasons.append(
                f"no base batch size given: the peak lr is the given {base_lr:g}, unscaled;"
                " pass base_batch_size (the batch the lr was tuned at) to scale it to batch"
                f" {batch} by {rule}{goyal}"
            )
        return None, base_lr, warmup, None
    k = batch / base_batch
    if k == 1:
        notes.reasons.append(f"batch {batch} is the base batch: {rule} changes nothing")
        return 1.0, base_lr, warmup, None
    scale = k if sgd else math.sqrt(k)
    peak = None if base_lr is None else base_lr * scale
    lr_text = "" if base_lr is None else f": peak lr {scale:.4g} x {base_lr:g} = {peak:g}"
    how = f"{k:g}" if sgd else f"sqrt({k:g}) = {scale:.4g}"
    notes.reasons.append(
        f"{rule}: batch {batch} is {k:g} x the base batch {base_batch}, so the peak learning"
        f" rate is scaled by {how}{lr_text}"
        + ("" if sgd else f" (the linear rule of {GOYAL} was established for SGD)")
    )
    if base_lr is None:
        notes.cautions.append(
            "no base_lr given: pass the rate tuned at base_batch_size to get the scaled peak lr"
        )
    if k < 1:
        return k, peak, warmup, None
    if sgd:
        steps, start = _goyal(notes, k, warmup, rng, rng_name, total, steps_per_epoch)
        return k, peak, steps, start
    return k, peak, _adam_longer(notes, optimizer, scale, warmup, rng, guide), None


def _goyal(
    notes: Notes,
    k: float,
    warmup: int,
    rng: tuple[int, int],
    rng_name: str,
    total: int,
    steps_per_epoch: float | None,
) -> tuple[int, float]:
    """Goyal et al.'s gradual warmup: 5 epochs, from the base-batch lr; ``(steps, start)``."""
    epochs, run = GOYAL_WARMUP_EPOCHS, GOYAL_RUN_EPOCHS
    if steps_per_epoch is not None:
        steps = max(1, nearest(epochs * steps_per_epoch))
        how = f"{epochs} x {steps_per_epoch:g} steps per epoch = {steps} steps"
    else:
        steps = max(1, nearest(epochs * total / run))
        how = (
            f"no steps per epoch given, so the {epochs} epochs are read as {epochs} of their"
            f" {run}, the same fraction of this run: {epochs}/{run} x {total} = {steps} steps"
            " (pass steps_per_epoch to use it instead)"
        )
    notes.reasons.append(
        f"gradual warmup ({GOYAL}): above the base batch, warm up for {epochs} epochs (they kept"
        f" {epochs} epochs up to batch 8k), in place of the {warmup} steps above; {how}"
    )
    if not rng[0] <= steps <= rng[1]:
        notes.cautions.append(
            f"rules disagree: Goyal et al.'s {epochs}-epoch warmup ({steps} steps) lies outside"
            f" {rng_name} ({rng[0]}-{rng[1]} steps); rampup follows Goyal et al., the"
            " large-batch rule"
        )
    start = float(f"{1 / k:.6g}")
    notes.reasons.append(
        f"gradual warmup ({GOYAL}): ramp from the base-batch lr to {k:g} x that lr, i.e."
        f" start at 1/{k:g} = {start:g} of the peak"
    )
    return steps, start


def _adam_longer(
    notes: Notes,
    optimizer: str,
    scale: float,
    warmup: int,
    rng: tuple[int, int],
    guide: tuple[int, int],
) -> int:
    """Adam above the base batch: the warmup lengthened like the lr (``sqrt(k)``), bounded."""
    scaled = nearest(scale * warmup)
    cap = max(rng[1], guide[1])
    notes.reasons.append(
        "larger batches need a proportionally longer warmup (the classic recipes' large-batch rule:"
        f" scale the warmup like the lr): {scale:.4g} x {warmup} = {scaled} steps"
    )
    if scaled > cap:
        notes.cautions.append(
            f"rules disagree: the batch-scaled warmup ({scaled} steps) exceeds what the table"
            f" and the 5-10 % guideline allow ({cap} steps); rampup caps it at {cap} steps"
        )
    elif scaled > rng[1]:
        notes.cautions.append(
            f"rules disagree: the batch-scaled warmup ({scaled} steps) is longer than the"
            f" range chosen above ({rng[0]}-{rng[1]} steps); rampup keeps it, as it stays within"
            f" the larger of that range's and the guideline's upper ends ({cap} steps)"
        )
    notes.reasons.append(
        f"{optimizer}: the warmup starts near 0 (the default 1/W), not at the base-batch"
        f" lr, because Adam's moment estimates start at zero ({_UNTUNED})"
    )
    return min(scaled, cap)


def capped(notes: Notes, warmup: int, total: int, beta2: float | None) -> tuple[int, int]:
    """Rule 5, the cap: ``(warmup, cap)``; a warmup over the cap becomes :func:`rule_steps`."""
    cap = max(1, math.floor(WARMUP_CAP * total))
    head = (
        f"rampup's cap (shared with auto and the probe): no warmup longer than"
        f" {WARMUP_CAP * 100:g} % of the run, {cap} of {total} steps, since past that the peak"
        " is held too briefly for the decay to use it"
    )
    if warmup <= cap:
        notes.reasons.append(f"{head}: {warmup} steps are within it")
        return warmup, cap
    rule = rule_steps(total, beta2)
    how = (
        f"min(2 / (1 - beta2) = {round(2 / (1 - beta2))}, {cap}) = {rule} steps ({_UNTUNED},"
        " cut to the cap)"
        if beta2 is not None
        else f"the cap, {rule} steps (no beta2)"
    )
    notes.reasons.append(
        f"{head}: the {warmup} steps above exceed it, so the warmup is the shared rule's length,"
        f" {how}"
    )
    return rule, cap


def _words(m: MeasuredWarmup) -> str:
    if m.steps == 0:
        return "no warmup"
    return f"a warmup of {m.steps} steps from {m.start:.3g} of the peak"


def from_probe(
    notes: Notes,
    probe: ProbeResult,
    peak: float | None,
    warmup: int,
    total: int,
    beta2: float | None,
) -> tuple[MeasuredWarmup, float, float]:
    """Rule 6 with a probe: ``(warmup, critical_lr, peak_lr)``.

    The probe's own warmup, re-derived with :func:`~rampup.core.measured.measured_warmup` when
    the peak, the run's length or beta2 differ from the probe's (or its warmup is over the cap).
    """
    crit = probe.critical_lr
    source = "given" if probe.peak_given else "recommended"
    if peak is None:
        peak = probe.peak_lr
    head = (
        f"measured ({KALRA}): the probe found the critical lr {crit:.3g} (first unstable"
        f" {probe.unstable_lr:.3g}), for its {source} peak {probe.peak_lr:.3g} over"
        f" {probe.total_steps} steps"
    )
    diffs = []
    if peak != probe.peak_lr:
        diffs.append(f"the peak {peak:.3g}")
    if total != probe.total_steps:
        diffs.append(f"{total} steps")
    if beta2 != probe.beta2:
        diffs.append("no beta2" if beta2 is None else f"beta2 {beta2:g}")
    if not diffs and probe.warmup.steps > max(1, math.floor(WARMUP_CAP * total)):
        diffs.append("the cap")
    if diffs:
        m = measured_warmup(crit, peak, total, beta2)
        notes.reasons.append(
            f"{head}; re-derived for {', '.join(diffs)}: {_words(m)}, in place of the"
            f" {warmup} steps above"
        )
    else:
        m = probe.warmup
        notes.reasons.append(f"{head}: its warmup, {_words(m)}, replaces the {warmup} steps above")
    notes.reasons.extend(f"measured warmup (Kalra & Barkeshli 2024): {r}" for r in m.reasons)
    return m, crit, peak


def from_critical(
    notes: Notes, crit: float, peak: float, warmup: int, total: int, beta2: float | None
) -> MeasuredWarmup:
    """Rule 6 with a given critical lr: :func:`~rampup.core.measured.measured_warmup`."""
    m = measured_warmup(crit, peak, total, beta2)
    notes.reasons.append(
        f"measured ({KALRA}): the given critical lr {crit:.3g} (the largest stable first-update"
        f" lr) for the peak {peak:.3g}: {_words(m)}, in place of the {warmup} steps above"
    )
    notes.reasons.extend(f"measured warmup (Kalra & Barkeshli 2024): {r}" for r in m.reasons)
    return m

"""The scorecard's arithmetic: the oracle sweep, the oracle's choice and each strategy's score.

Everything here is computed from result records (plain dicts, one JSON line each) alone, so a
scorecard can be rebuilt from a results file, and tested without training.

For one task, per peak lr (``obj`` the task's objective: the validation loss, or the error for
tasks scored by error; a run's value is :func:`rampup.lab.report.outcome`, its final objective
capped at its initial value, so a failed run counts as no progress, as in the lab report):

- the **oracle sweep**: fixed linear warmups of :data:`SWEEP` % of the run, each followed by the
  shared decay (``linear(p%) >> cosine(to=0)``; 0 % is the ``none`` strategy);
- the **oracle**: the sweep member with the lowest mean objective over the *pick* seeds (ties: the
  shorter warmup), scored by its mean ``L_oracle`` over the *held-out* seeds;
- a strategy's **delta**: ``100 * (L - L_oracle) / L_oracle`` % on loss, or ``100 * (E -
  E_oracle)`` error points on error, with ``L`` its held-out mean;
- its **excess ratio**, where the task knows its best possible loss ``L*`` (``best_loss``) and
  the objective is the loss: ``(L - L*) / (L_oracle - L*)`` (1 is the oracle, 2 twice its excess;
  undefined when ``L_oracle <= L*``);
- **never worse than no warmup**: ``L <= L_none * (1 + tol)`` on loss (``E <= E_none + tol`` on
  error), held-out means, *and* no more failed runs than ``none`` over the seeds both ran.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rampup.lab.report import outcome
from rampup.lab.strategies import DECAY

__all__ = [
    "PICK",
    "SWEEP",
    "TOLERANCE",
    "Cell",
    "Oracle",
    "Score",
    "score",
    "sweep_specs",
]

#: The oracle sweep's warmup lengths, in % of the run.
SWEEP = (0, 2, 5, 10, 25, 50)
#: How many seeds (the first ones) pick the oracle; the rest, 2 or more, score it.
PICK = 3
#: The tolerance of "never worse than no warmup": 1 % of none's loss, or 1 point of error.
TOLERANCE = 0.01


def sweep_specs(total_steps: int) -> dict[str, float]:
    """The sweep's strategies for a run of ``total_steps``: ``{strategy: warmup %}``.

    0 % is ``none``; ``p`` % is ``linear(p%) >> cosine(to=0)``, or ``linear(1) >> ...`` where
    ``p`` % of the run rounds below one update. Members whose warmups round to the same number of
    updates are kept once (the shorter percentage).
    """
    out: dict[str, float] = {}
    seen: set[int] = set()
    for pct in SWEEP:
        if pct == 0:
            out["none"] = 0.0
            seen.add(0)
            continue
        w = max(1, math.floor(pct / 100 * total_steps + 0.5))
        if w in seen or w >= total_steps:
            continue
        seen.add(w)
        length = f"{pct}%" if math.floor(pct / 100 * total_steps + 0.5) >= 1 else "1"
        out[f"linear({length}) >> {DECAY}"] = float(pct)
    return out


@dataclass(frozen=True)
class Oracle:
    """The oracle of one peak lr: the sweep member chosen on the pick seeds, and its scores."""

    peak_lr: float
    strategy: str
    warmup_pct: float
    pick_mean: float
    held_mean: float
    held_failed: int
    held_runs: int
    all_failed: int
    all_runs: int
    #: Over the sweep's members: the lowest and highest held-out mean (the PNG's band).
    sweep_low: float
    sweep_high: float


@dataclass(frozen=True)
class Cell:
    """One strategy at one peak lr, scored on the held-out seeds against that lr's oracle.

    ``delta`` is % of the oracle's loss (or error points); ``all_failed``/``all_runs`` count every
    seed of the scorecard (None where the strategy did not run on all); ``never_worse`` is None for
    ``none`` itself; ``excess`` is None where ``L*`` is unknown or the ratio undefined.
    """

    strategy: str
    peak_lr: float
    held_mean: float
    delta: float
    held_failed: int
    held_runs: int
    all_failed: int | None
    all_runs: int | None
    never_worse: bool | None
    excess: float | None


@dataclass(frozen=True)
class Score:
    """A task's scorecard: one oracle per lr, the strategies' cells, and the protocol's terms."""

    task: str
    objective: str
    best_loss: float | None
    lrs: tuple[float, ...]
    pick_seeds: tuple[int, ...]
    held_seeds: tuple[int, ...]
    sweep: dict[str, float]
    oracles: dict[float, Oracle]
    cells: tuple[Cell, ...]
    tolerance: float

    def cells_of(self, strategy: str) -> list[Cell]:
        """The cells of one strategy, by peak lr."""
        return sorted((c for c in self.cells if c.strategy == strategy), key=lambda c: c.peak_lr)

    @property
    def strategies(self) -> list[str]:
        """The scored strategies, in first-seen order."""
        return list(dict.fromkeys(c.strategy for c in self.cells))


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return statistics.fmean(vals) if vals else math.nan


def delta(value: float, oracle: float, objective: str) -> float:
    """``100 (L - L_o) / L_o`` % (loss) or ``100 (E - E_o)`` points (error)."""
    if objective == "error":
        return 100.0 * (value - oracle)
    return 100.0 * (value - oracle) / oracle if oracle != 0 else math.nan


def excess_ratio(value: float, oracle: float, best: float | None) -> float | None:
    """``(L - L*) / (L_oracle - L*)``, or None without ``L*`` or when ``L_oracle <= L*``."""
    if best is None or not oracle > best:
        return None
    return (value - best) / (oracle - best)


def not_worse(
    value: float, failed: int, none_value: float, none_failed: int, objective: str, tol: float
) -> bool:
    """Never worse than no warmup: the objective within ``tol`` of none's, no more failures.

    On loss ``L <= L_none (1 + tol)``; on error ``E <= E_none + tol``.
    """
    bound = none_value + tol if objective == "error" else none_value * (1 + tol)
    return value <= bound and failed <= none_failed


def score(
    records: Iterable[dict[str, Any]],
    strategies: Sequence[str],
    sweep: dict[str, float],
    seeds: Sequence[int],
    *,
    task: str | None = None,
    tolerance: float = TOLERANCE,
) -> Score:
    """Score ``strategies`` against the per-lr oracle chosen from ``sweep``, from ``records``.

    ``seeds[:PICK]`` pick the oracle, ``seeds[PICK:]`` score everything. Records of one task;
    other strategies' records are ignored. A (strategy, lr) missing a held-out seed is left out;
    a lr whose sweep misses a pick or held-out seed has no oracle and no cells.
    """
    recs = list(records)
    if not recs:
        raise ValueError("no records to score")
    first = recs[0]
    name = task if task is not None else str(first["config"]["task"])
    objective = str(first["task"].get("objective", "loss"))
    best_raw = first["task"].get("best_loss")
    best = float(best_raw) if best_raw is not None and objective == "loss" else None
    pick, held = tuple(seeds[:PICK]), tuple(seeds[PICK:])
    vals: dict[tuple[str, float], dict[int, tuple[float, bool]]] = {}
    for rec in recs:
        c = rec["config"]
        vals.setdefault((str(c["strategy"]), float(c["peak_lr"])), {})[int(c["seed"])] = (
            outcome(rec),
            bool(rec["diverged"]),
        )
    lrs = tuple(sorted({lr for _, lr in vals}))

    def has(strat: str, lr: float, want: Sequence[int]) -> bool:
        return all(s in vals.get((strat, lr), {}) for s in want)

    def held_of(strat: str, lr: float) -> tuple[float, int]:
        got = vals[(strat, lr)]
        return _mean(got[s][0] for s in held), sum(got[s][1] for s in held)

    oracles: dict[float, Oracle] = {}
    cells: list[Cell] = []
    for lr in lrs:
        members = [m for m in sweep if has(m, lr, pick + held)]
        if len(members) < len(sweep):
            continue
        choice = min(members, key=lambda m: (_mean(vals[(m, lr)][s][0] for s in pick), sweep[m]))
        o_mean, o_failed = held_of(choice, lr)
        means = [held_of(m, lr)[0] for m in members]
        oracles[lr] = Oracle(
            lr, choice, sweep[choice], _mean(vals[(choice, lr)][s][0] for s in pick), o_mean,
            o_failed, len(held), sum(vals[(choice, lr)][s][1] for s in seeds), len(seeds),
            min(means), max(means),
        )  # fmt: skip
        none_ok = has("none", lr, held)
        for strat in strategies:
            if not has(strat, lr, held):
                continue
            mean, failed = held_of(strat, lr)
            every = has(strat, lr, seeds)
            all_failed = sum(vals[(strat, lr)][s][1] for s in seeds) if every else None
            verdict: bool | None = None
            if strat != "none" and none_ok:
                n_mean, _ = held_of("none", lr)
                shared = seeds if every and has("none", lr, seeds) else held
                mine = sum(vals[(strat, lr)][s][1] for s in shared)
                theirs = sum(vals[("none", lr)][s][1] for s in shared)
                verdict = not_worse(mean, mine, n_mean, theirs, objective, tolerance)
            cells.append(
                Cell(
                    strat, lr, mean, delta(mean, o_mean, objective), failed, len(held),
                    all_failed, len(seeds) if every else None, verdict,
                    excess_ratio(mean, o_mean, best),
                )
            )  # fmt: skip
    return Score(
        name, objective, best, lrs, pick, held, dict(sweep), oracles, tuple(cells), tolerance
    )

"""Summaries of lab results: tables, plots (matplotlib, Agg) and the lab's markdown report.

Every number is computed from the JSON-lines records alone, so a report can be rebuilt from a
results file at any time (``rampup lab report DIR``).

Definitions (per task; the *objective* is the validation loss, or the error for the digits tasks,
where fitted models are overconfident):

- a run's **outcome** is its final objective, capped at its initial value (a diverged run, or a
  run worse than its untrained model, counts as no progress: Wortsman et al. 2023's convention);
- **learning-rate sensitivity** (Wortsman et al. 2023): the mean over the lr grid of
  ``min(outcome, initial)`` minus the best outcome over the grid, outcomes averaged over seeds;
- the **oracle protocol**: the seeds are split (the first half, rounded down, for tuning, the
  rest held out); for each (task, lr) the oracle is the strategy with the best mean outcome on the
  tuning seeds, scored on the held-out seeds. A strategy's regret is its held-out mean minus the
  oracle's, averaged over the lr grid, with a 95 % bootstrap interval over held-out seeds.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

#: The file of a lab folder listing the ``rampup lab run`` commands that filled it.
COMMANDS_NAME = "commands.txt"

__all__ = [
    "COMMANDS_NAME",
    "Row",
    "Stat",
    "aggregate",
    "final_loss",
    "fmt",
    "lab_report",
    "oracle_regret",
    "outcome",
    "plot_loss_curves",
    "plot_lr_curves",
    "plot_lr_window",
    "sensitivity",
]


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def objective_name(rec: dict[str, Any]) -> str:
    """The record's objective: "loss" or "error"."""
    return str(rec["task"].get("objective", "loss"))


def _objective(point: dict[str, Any], name: str) -> float:
    return _num(point["val_loss"] if name == "loss" else point["score"])


def outcome(rec: dict[str, Any]) -> float:
    """The run's final objective, capped at its initial value (no progress if diverged)."""
    name = objective_name(rec)
    initial = _objective(rec["curve"][0], name)
    final = _objective(rec["final"], name)
    if rec["diverged"] and not math.isfinite(final):
        return initial
    return min(final, initial) if math.isfinite(final) else initial


class Stat(NamedTuple):
    """A mean over seeds: ``sd`` is NaN below two finite values; ``n`` of ``total`` are finite."""

    mean: float
    sd: float
    n: int
    total: int


def _stat(xs: Sequence[float]) -> Stat:
    finite = [x for x in xs if math.isfinite(x)]
    if not finite:
        return Stat(math.nan, math.nan, 0, len(xs))
    sd = statistics.stdev(finite) if len(finite) > 1 else math.nan
    return Stat(statistics.fmean(finite), sd, len(finite), len(xs))


@dataclass(frozen=True)
class Row:
    """Seeds of one (task, strategy, lr) aggregated."""

    task: str
    strategy: str
    peak_lr: float
    seeds: int
    loss: Stat  # final validation loss over the runs where it is finite
    score: Stat  # final error (failed runs count as 1, so over every seed)
    diverged: int
    wall: float  # mean wall time per run, seconds
    per_seed: tuple[float, ...]  # final validation loss per seed (nan if none)


def aggregate(records: Iterable[dict[str, Any]]) -> list[Row]:
    """One row per (task, strategy, peak lr), in first-seen order."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        c = rec["config"]
        groups[(c["task"], c["strategy"], float(c["peak_lr"]))].append(rec)
    rows = []
    for (task, strat, lr), recs in groups.items():
        recs.sort(key=lambda r: r["config"]["seed"])
        losses = [_num(r["final"]["val_loss"]) for r in recs]
        scores = [_num(r["final"]["score"]) for r in recs]
        scores = [s if math.isfinite(s) else 1.0 for s in scores]
        rows.append(
            Row(
                task, strat, lr, len(recs), _stat(losses), _stat(scores),
                sum(bool(r["diverged"]) for r in recs),
                statistics.fmean(float(r["wall_time"]) for r in recs), tuple(losses),
            )
        )  # fmt: skip
    return rows


def fmt(stat: Stat, digits: int = 3, unit: str = "") -> str:
    """A table cell: ``mean ± sd`` over two finite values or more, else the mean alone.

    Where some runs have no finite value the cell says how many the mean is over:
    ``1.042 (1 of 2 seeds)``, ``0.800 ± 0.231 (2 of 3 seeds)``; ``-`` when none is finite.
    """
    if stat.n == 0 or not math.isfinite(stat.mean):
        return "-"
    text = f"{stat.mean:.{digits}f}{unit}"
    if stat.n > 1:
        text += f" ± {stat.sd:.{digits}f}"
    if stat.n < stat.total:
        text += f" ({stat.n} of {stat.total} seeds)"
    return text


# -- plots -------------------------------------------------------------------------------------
def _pyplot() -> Any:
    import matplotlib as mpl  # noqa: PLC0415

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _colors(names: Sequence[str]) -> dict[str, Any]:
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    return {n: cmap(i % 10) for i, n in enumerate(names)}


_STYLES = ("-", "--", "-.", ":")


def _strategy(rec: dict[str, Any]) -> str:
    return str(rec["config"]["strategy"])


def _save(plt: Any, fig: Any, ax: Any, path: Path) -> None:
    """Add the legend, write the figure to ``path`` and free it."""
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_lr_curves(
    records: Sequence[dict[str, Any]],
    path: Path,
    title: str,
    label: Callable[[dict[str, Any]], str] = _strategy,
) -> None:
    """The learning rate of each strategy over the run (one seed each: they are identical).

    Line styles alternate so that identical schedules (``none`` and ``radam``) both show.
    """
    plt = _pyplot()
    seen: dict[str, dict[str, Any]] = {}
    for rec in records:
        seen.setdefault(label(rec), rec)
    colors = _colors(list(seen))
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, rec) in enumerate(seen.items()):
        pts = rec["lr_curve"]
        ax.plot(
            [p[0] for p in pts], [p[1] for p in pts], label=name, color=colors[name],
            linestyle=_STYLES[i % len(_STYLES)],
        )  # fmt: skip
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    _save(plt, fig, ax, path)


def plot_loss_curves(
    records: Sequence[dict[str, Any]],
    path: Path,
    title: str,
    label: Callable[[dict[str, Any]], str] = _strategy,
) -> None:
    """Validation loss at the eval points: one thin line per seed, one colour per strategy."""
    plt = _pyplot()
    names = list(dict.fromkeys(label(r) for r in records))
    colors = _colors(names)
    fig, ax = plt.subplots(figsize=(7, 4))
    labelled: set[str] = set()
    for rec in records:
        name = label(rec)
        xs = [p["step"] for p in rec["curve"]]
        ys = [_num(p["val_loss"]) for p in rec["curve"]]
        ax.plot(
            xs, ys, color=colors[name], alpha=0.8, linewidth=1.2,
            linestyle=_STYLES[names.index(name) % len(_STYLES)],
            label=None if name in labelled else name,
        )  # fmt: skip
        labelled.add(name)
    const = rec_const(records)
    if const is not None:
        ax.axhline(const, color="grey", linestyle=":", linewidth=1, label="constant predictor")
    ax.set_yscale("log")
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("validation loss (nats)")
    ax.set_title(title)
    _save(plt, fig, ax, path)


def final_loss(rec: dict[str, Any]) -> float:
    """The final validation loss, or the initial one where it is not finite (a diverged run)."""
    final = _num(rec["final"]["val_loss"])
    return final if math.isfinite(final) else _num(rec["curve"][0]["val_loss"])


def plot_lr_window(
    records: Sequence[dict[str, Any]],
    path: Path,
    title: str,
    *,
    label: Callable[[dict[str, Any]], str] = _strategy,
    dashed: Callable[[dict[str, Any]], bool] = lambda rec: False,
    failed: Callable[[dict[str, Any]], bool] = lambda rec: bool(rec["diverged"]),
) -> None:
    """Final validation loss and exact match (``100 * (1 - error)``) against peak lr (log x).

    One line per ``label`` through the median over seeds, a band from the minimum to the maximum,
    one dot per seed and an ``x`` per run where ``failed(rec)``; lines where ``dashed(rec)`` (a
    control) are dashed. A diverged run is drawn at its initial loss and 0 % exact match.
    """
    plt = _pyplot()
    names = list(dict.fromkeys(label(r) for r in records))
    colors = _colors(names)
    groups: dict[str, dict[float, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        groups[label(rec)][float(rec["config"]["peak_lr"])].append(rec)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels: tuple[tuple[Callable[[dict[str, Any]], float], str], ...] = (
        (final_loss, "final validation loss (nats)"),
        (lambda r: 100 * (1 - _num(r["final"]["score"])) if math.isfinite(
            _num(r["final"]["score"])) else 0.0, "exact match (%)"),
    )  # fmt: skip
    for ax, (value, ylabel) in zip(axes, panels, strict=True):
        for name in names:
            lrs = sorted(groups[name])
            vals = [[value(r) for r in groups[name][lr]] for lr in lrs]
            style = "--" if dashed(groups[name][lrs[0]][0]) else "-"
            color = colors[name]
            ax.plot(lrs, [statistics.median(v) for v in vals], style, color=color, label=name)
            ax.fill_between(lrs, [min(v) for v in vals], [max(v) for v in vals], color=color,
                            alpha=0.12, linewidth=0)  # fmt: skip
            for lr in lrs:
                for rec in groups[name][lr]:
                    bad = failed(rec)
                    ax.plot([lr], [value(rec)], "x" if bad else ".", color=color,
                            markersize=7 if bad else 4, alpha=0.9)  # fmt: skip
        ax.set_xscale("log")
        ticks = sorted({lr for by_lr in groups.values() for lr in by_lr})
        ax.set_xticks(ticks, [f"{lr:g}" for lr in ticks])
        ax.minorticks_off()
        ax.set_xlabel("peak learning rate")
        ax.set_ylabel(ylabel)
    axes[0].set_yscale("log")
    axes[0].plot([], [], "x", color="grey", label="a failed run")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rec_const(records: Sequence[dict[str, Any]]) -> float | None:
    """The constant-predictor level of the records' task (None if mixed or absent)."""
    levels = {
        None if r["task"]["constant_loss"] is None else round(float(r["task"]["constant_loss"]), 9)
        for r in records
    }
    return levels.pop() if len(levels) == 1 else None


def _plot_vs_lr(rows: Sequence[Row], records: Sequence[dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    names = list(dict.fromkeys(r.strategy for r in rows))
    colors = _colors(names)
    fig, ax = plt.subplots(figsize=(7, 4))
    by: dict[str, list[tuple[float, float]]] = defaultdict(list)
    outs: dict[tuple[str, float], list[float]] = defaultdict(list)
    for rec in records:
        outs[(rec["config"]["strategy"], float(rec["config"]["peak_lr"]))].append(outcome(rec))
    for (name, lr), vals in outs.items():
        by[name].append((lr, statistics.fmean(vals)))
    for name in names:
        pts = sorted(by[name])
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=name, color=colors[name])
    ax.set_xscale("log")
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel(f"final {objective_name(records[0])} (mean over seeds, capped)")
    _save(plt, fig, ax, path)


# -- sensitivity and the oracle protocol -------------------------------------------------------
def _outcomes(records: Iterable[dict[str, Any]]) -> dict[tuple[str, float], dict[int, float]]:
    out: dict[tuple[str, float], dict[int, float]] = defaultdict(dict)
    for rec in records:
        c = rec["config"]
        out[(c["strategy"], float(c["peak_lr"]))][int(c["seed"])] = outcome(rec)
    return out


def sensitivity(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Wortsman et al. (2023)'s lr sensitivity per strategy, for the records of one task.

    Outcomes are already capped at the initial value; per lr they are averaged over seeds.
    """
    outs = _outcomes(records)
    per: dict[str, list[float]] = defaultdict(list)
    for (strat, _lr), seeds in outs.items():
        per[strat].append(statistics.fmean(seeds.values()))
    return {s: statistics.fmean(v) - min(v) for s, v in per.items()}


def oracle_regret(
    records: Sequence[dict[str, Any]], *, resamples: int = 2000, seed: int = 0
) -> dict[str, tuple[float, float, float]] | None:
    """Regret of each strategy against the tuned-on-other-seeds oracle: (mean, ci_lo, ci_hi).

    None when fewer than two seeds are shared by every cell (nothing to hold out).
    """
    import random  # noqa: PLC0415

    outs = _outcomes(records)
    if not outs:
        return None
    seeds = sorted(set.intersection(*(set(v) for v in outs.values())))
    if len(seeds) < 2:
        return None
    tune, held = seeds[: len(seeds) // 2], seeds[len(seeds) // 2 :]
    strategies = sorted({s for s, _ in outs})
    lrs = sorted({lr for _, lr in outs})
    # per lr: the oracle's choice on the tuning seeds
    diffs: dict[str, list[list[float]]] = {s: [] for s in strategies}  # [lr][held seed]
    for lr in lrs:
        present = [s for s in strategies if (s, lr) in outs]
        if not present:
            continue
        best = min(present, key=lambda s: statistics.fmean(outs[(s, lr)][k] for k in tune))
        for s in present:
            diffs[s].append([outs[(s, lr)][k] - outs[(best, lr)][k] for k in held])
    rng = random.Random(seed)  # noqa: S311  # bootstrap resampling, not cryptography
    res: dict[str, tuple[float, float, float]] = {}
    for s, table in diffs.items():
        if not table:
            continue
        mean = statistics.fmean(statistics.fmean(row) for row in table)
        boots = []
        for _ in range(resamples):
            pick = [rng.randrange(len(held)) for _ in held]
            boots.append(statistics.fmean(statistics.fmean(row[i] for i in pick) for row in table))
        boots.sort()
        lo = boots[int(0.025 * (resamples - 1))]
        hi = boots[int(0.975 * (resamples - 1))]
        res[s] = (mean, lo, hi)
    return res


# -- the lab report ----------------------------------------------------------------------------
def _table(rows: Sequence[Row]) -> list[str]:
    head = [
        "| strategy | peak lr | seeds | final val loss | final error | failed | s/run |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    return head + [
        f"| `{r.strategy}` | {r.peak_lr:g} | {r.seeds} | {fmt(r.loss)} | {fmt(r.score)} "
        f"| {r.diverged}/{r.seeds} | {r.wall:.1f} |"
        for r in rows
    ]


def lab_report(folder: Path) -> Path:
    """Write ``folder/report.md`` and its PNGs from ``folder/results.jsonl``; return the path.

    The commands recorded in ``folder/commands.txt`` are listed as the way to reproduce it.
    """
    from rampup import RampupError  # noqa: PLC0415
    from rampup.lab import results  # noqa: PLC0415

    recs = list(results.read(folder / results.RESULTS_NAME))
    if not recs:
        raise RampupError.invalid(
            "lab report", "folder", str(folder), f"a folder with a non-empty {results.RESULTS_NAME}"
        )
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in recs:
        by_task[rec["config"]["task"]].append(rec)
    out = [f"# Lab report: {folder.name}", ""]
    commands = folder / COMMANDS_NAME
    if commands.exists():
        lines = commands.read_text(encoding="utf-8").splitlines()
        out += [
            "Reproduce with (exactly, on the same CPU path: another CPU capability sums floats "
            "in another order, and a run at the edge of stability can land on either side):",
            "", "```", *lines, f"rampup lab report {folder}", "```", "",
        ]  # fmt: skip
    out += [
        f"Ran on: {results.platform_line(recs)}.",
        "",
        f"{len(recs)} runs. Failed = non-finite, blown up, or collapsed to the constant "
        "predictor (final validation loss >= 0.98 x the constant level). Cells are mean ± sd "
        "over seeds (no spread below two finite values; `k of n seeds` where some runs have no "
        "finite loss). Outcomes for the sensitivity and oracle columns are capped at the "
        "untrained model's value.",
        "",
    ]
    for task, trecs in by_task.items():
        trecs.sort(
            key=lambda r: (r["config"]["strategy"], r["config"]["peak_lr"], r["config"]["seed"])
        )
        obj = objective_name(trecs[0])
        const = trecs[0]["task"]["constant_loss"]
        level = "not given" if const is None else f"{float(const):.3f}"
        rows = sorted(aggregate(trecs), key=lambda r: (r.peak_lr, r.strategy))
        out += [
            f"## {task}",
            "",
            f"Objective: validation {obj}. Constant-predictor loss: {level}.",
            "",
        ]
        out += _table(rows)
        out.append("")
        sens = sensitivity(trecs)
        regret = oracle_regret(trecs)
        out += ["| strategy | lr sensitivity | failure rate | regret vs oracle (95 % CI) |",
                "| --- | ---: | ---: | --- |"]  # fmt: skip
        for strat in sorted(sens):
            srecs = [r for r in trecs if r["config"]["strategy"] == strat]
            rate = sum(bool(r["diverged"]) for r in srecs) / len(srecs)
            reg = "n/a (needs >= 2 seeds)"
            if regret is not None and strat in regret:
                m, lo, hi = regret[strat]
                reg = f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            out.append(f"| `{strat}` | {sens[strat]:.3f} | {rate:.0%} | {reg} |")
        out.append("")
        slug = task.replace("/", "_").replace(":", "_")
        lrs = sorted({float(r["config"]["peak_lr"]) for r in trecs})
        for lr in lrs:
            sub = [r for r in trecs if float(r["config"]["peak_lr"]) == lr]
            name = f"{slug}-loss-lr{lr:g}.png"
            plot_loss_curves(sub, folder / name, f"{task}, peak lr {lr:g}")
            out += [f"![loss curves, lr {lr:g}]({name})", ""]
        if len(lrs) > 1:
            name = f"{slug}-vs-lr.png"
            _plot_vs_lr(rows, trecs, folder / name)
            out += [f"![final {obj} versus peak lr]({name})", ""]
    path = folder / "report.md"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path

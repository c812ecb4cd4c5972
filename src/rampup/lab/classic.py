"""``rampup demo --schedules``: the classic recipes' schedules side by side at key steps.

Each classic recipe (a manual linear loop, a constant warmup, LambdaLR + step, linear + cosine,
Noam, WSD) as a rampup spec, in absolute learning rates; no training.
"""

from __future__ import annotations

from rampup.core.schedule import Schedule
from rampup.core.spec import parse

# (column title, spec, peak learning rate the recipe multiplies by)
STEP_SYSTEMS: list[tuple[str, str, float]] = [
    ("manual loop", "linear(1000)", 1e-3),
    ("constant warmup", "constant(1000, 0.1) >> constant", 1e-3),
    ("LambdaLR+step", "linear(1000) >> step(10000)", 1e-3),
    ("linear+cosine", "bind(linear(4000) >> cosine(to=0.001), total_steps=14000)", 1e-3),
    ("Noam d=128", "noam(d_model=128, warmup=4000)", 1.0),
    ("WSD", "bind(wsd(1000, decay=20%), total_steps=20000)", 1e-3),
]
STEP_KEYS = [0, 1, 99, 999, 1000, 3999, 4000, 10999, 11000, 15999, 16000, 19999]

EPOCH_SYSTEMS: list[tuple[str, str, float]] = [
    ("LinearLR+Cosine", "linear(10, start=0.1, endpoint=false) >> cosine(90, to=0.001)", 1e-3),
    ("get_lr_with_warmup", "bind(linear(10) >> cosine(to=0.001), total_steps=100)", 1e-3),
]
EPOCH_KEYS = [0, 1, 9, 10, 11, 50, 99, 100]


def _table(title: str, systems: list[tuple[str, str, float]], keys: list[int], unit: str) -> str:
    schedules: list[tuple[str, Schedule, float]] = [
        (name, parse(spec), peak) for name, spec, peak in systems
    ]
    width = max(12, *(len(name) + 1 for name, _, _ in systems))
    head = f"{unit:>7} " + "".join(f"{name:>{width}}" for name, _, _ in schedules)
    lines = [title, "=" * len(head), head, "-" * len(head)]
    for k in keys:
        row = f"{k:>7} " + "".join(f"{peak * s(k):>{width}.4e}" for _, s, peak in schedules)
        lines.append(row)
    lines.append("")
    lines += [f"  {name}: {s}" for name, s, _ in schedules]
    return "\n".join(lines)


def render() -> str:
    """The demo's text: two tables (per-step and per-epoch systems) with their specs."""
    return "\n\n".join(
        [
            _table(
                "Classic recipes stepped per optimizer update (lr)", STEP_SYSTEMS, STEP_KEYS, "step"
            ),
            _table("Classic recipes stepped per epoch (lr)", EPOCH_SYSTEMS, EPOCH_KEYS, "epoch"),
        ]
    )


def run_demo() -> int:
    """Print the demo tables; return the exit status."""
    print(render())  # noqa: T201  # the demo's output is the table
    return 0

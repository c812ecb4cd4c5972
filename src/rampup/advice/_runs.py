"""The checks of a run (total steps, steps per epoch, peak) shared by the tools.

``rampup show`` (:mod:`rampup.advice.summary`) and the plots (:mod:`rampup.cli.plots`,
:mod:`rampup.cli.terminal`) take the same three numbers about a run and check them the same way;
this private helper holds that one check, so neither tool imports the other's private names.
It imports only the core's shared checks.
"""

from __future__ import annotations

from rampup.core.checks import check_count, check_number


def checked_run(
    func: str, total_steps: object, steps_per_epoch: object, peak: object
) -> tuple[int, float | None, float]:
    """``(total_steps, steps_per_epoch, scale)`` of a run, checked; ``scale`` is ``peak`` or 1."""
    total = check_count(func, "total_steps", total_steps, 1, "a positive int (the whole run)")
    spe = None
    if steps_per_epoch is not None:
        spe = check_number(
            func, "steps_per_epoch", steps_per_epoch, low=0.0, low_open=True,
            what="a positive finite number of updates per epoch, or None",
        )  # fmt: skip
    scale = 1.0
    if peak is not None:
        scale = check_number(
            func, "peak", peak, low=0.0, low_open=True, what="a positive peak learning rate or None"
        )
    return total, spe, scale

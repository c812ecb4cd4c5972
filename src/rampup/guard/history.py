"""The monitor's history: one row per update (step, lr, loss, gradient norm, update norm).

Kept in compact arrays (``array('q')`` steps, ``array('d')`` columns; a value not given is NaN),
and exported as columns, curves to plot, CSV and strict JSON. The decisions of the monitor never
depend on it. The curves are :class:`rampup.cli.curves.Curve` objects, loaded only when asked for
(the plots are another tool).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.core.checks import check_writable
from rampup.guard._fields import Fields, floats, plain
from rampup.guard.events import Event

if TYPE_CHECKING:
    from rampup.cli.curves import Curve

__all__ = ["COLUMNS", "History"]

#: The history's columns, in their CSV order.
COLUMNS = ("step", "lr", "loss", "grad_norm", "update_norm")


class History:
    """The rows of the updates fed so far: ``steps`` and one float column per signal."""

    def __init__(self) -> None:
        self.steps = array("q")
        self.cols = {c: array("d") for c in COLUMNS[1:]}

    def record(self, t: int, rate: float, x: float, g: float, u: float) -> None:
        """Append the row of step ``t``: lr, loss, gradient norm, update norm (NaN: not given)."""
        self.steps.append(t)
        cols = self.cols
        cols["lr"].append(rate)
        cols["loss"].append(x)
        cols["grad_norm"].append(g)
        cols["update_norm"].append(u)

    def columns(self) -> dict[str, list[float]]:
        """The history as columns: step, lr, loss, grad_norm, update_norm."""
        out: dict[str, list[float]] = {"step": [float(s) for s in self.steps]}
        for c, col in self.cols.items():
            out[c] = list(col)
        return out

    def curves(self, func: str, events: Sequence[Event], columns: tuple[str, ...]) -> list[Curve]:
        """One curve per column (its finite values), the events' steps marked on each."""
        from rampup.cli.curves import Curve  # noqa: PLC0415  # the plots are a tool, loaded on use

        for c in columns:
            if c not in COLUMNS[1:]:
                raise RampupError.invalid(func, "columns", columns, f"names among {COLUMNS[1:]}")
        import numpy as np  # noqa: PLC0415  # with plotting only

        marks = tuple(sorted({e.step for e in events}))
        steps = np.asarray(self.steps, dtype=np.float64)
        out = []
        for c in columns:
            values = np.asarray(self.cols[c], dtype=np.float64)
            keep = np.isfinite(values)
            out.append(Curve(c, steps[keep], values[keep], marks))
        return out

    def to_csv(self, func: str, events: Sequence[Event], path: str | Path | None) -> str:
        """CSV with the header ``step,lr,loss,grad_norm,update_norm,event``; written to ``path``.

        The ``event`` column holds the kinds of the events at that step, joined by ``;``. Empty
        cells are values that were not given (a NaN loss is written, as ``nan``).
        """
        kinds: dict[int, list[str]] = {}
        for e in events:
            kinds.setdefault(e.step, []).append(e.kind)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([*COLUMNS, "event"])
        cols = [self.cols[c] for c in COLUMNS[1:]]
        for i, s in enumerate(self.steps):
            row: list[object] = [s]
            for col in cols:
                v = col[i]
                row.append("" if math.isnan(v) and col is not self.cols["loss"] else repr(v))
            row.append(";".join(kinds.get(s, [])))
            w.writerow(row)
        text = buf.getvalue()
        if path is not None:
            check_writable(func, path).write_text(text, encoding="utf-8")
        return text

    def to_json(self, func: str, events: Sequence[Event], path: str | Path | None) -> str:
        """The history and the events as strict JSON ('nan'/'inf' written as strings)."""
        data = {"history": self.state(), "events": [e.to_dict() for e in events]}
        text = json.dumps(data, allow_nan=False)
        if path is not None:
            check_writable(func, path).write_text(text, encoding="utf-8")
        return text

    def state(self) -> dict[str, list[Any]]:
        """The columns as plain data (non-finite values as 'nan', 'inf', '-inf')."""
        out: dict[str, list[Any]] = {"step": list(self.steps)}
        for c, col in self.cols.items():
            out[c] = [plain(x) for x in col]
        return out

    @classmethod
    def read(cls, h: Fields, step: int) -> History:
        """:meth:`state`'s data, checked: increasing steps from 0 ending at ``step``, full rows."""
        steps = h.get("step")
        ok = isinstance(steps, list) and all(
            isinstance(s, int) and not isinstance(s, bool) for s in steps
        )
        ok = ok and all(a < b for a, b in itertools.pairwise(steps))
        ok = ok and (steps[-1] == step if steps else step == -1) and (steps or [0])[0] >= 0
        if not ok:
            raise h.bad("step", f"increasing update numbers from 0, ending at {step}")
        out = cls()
        for c in COLUMNS[1:]:
            xs = floats(h.get(c))
            if xs is None or len(xs) != len(steps):
                raise h.bad(c, f"a list of {len(steps)} numbers (or 'nan', 'inf'), one per row")
            out.cols[c] = array("d", xs)
        out.steps = array("q", steps)
        return out

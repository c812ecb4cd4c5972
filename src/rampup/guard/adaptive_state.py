"""The adaptive warmup's checkpoint: its state as plain data, and that data read back, checked.

:func:`dump` is :meth:`rampup.guard.adaptive.AdaptiveWarmup.state_dict` (the stretch, the
cooldown, the counters, a pending action, the last snapshot's position, the signals read but not
yet acted on, and the monitor's state); :func:`load` checks every field before anything changes.
A state of version 1 (before rewinds and buffered reads) loads into a controller whose new
options are at their defaults.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

from rampup import RampupError
from rampup.guard import monitor_state
from rampup.guard._fields import Fields, plain, unplain
from rampup.guard.actions import Action

if TYPE_CHECKING:
    from rampup.guard.adaptive import AdaptiveWarmup
    from rampup.guard.reads import Row

__all__ = ["STATE_VERSION", "dump", "load"]

#: The version of the states :func:`dump` writes (:func:`load` reads 1 too).
STATE_VERSION = 2
#: The options a version-1 state was made without, and their defaults then.
_V1_DEFAULTS = {"rewind": False, "snapshot_every": 16, "max_rewinds": 4, "read_every": None}


def dump(a: AdaptiveWarmup) -> dict[str, Any]:
    """The state of controller ``a`` as plain data (its unread signals are read first)."""
    a.reads.read()
    buffer = [[None if v is None else plain(v) for v in row[:4]] + [row[4]] for row in a.reads.rows]
    return {
        "version": STATE_VERSION,
        "config": a._config(),
        "factor": a.factor,
        "cooling": a.cooling,
        "fresh": a.fresh,
        "pending": None if a.pending is None else a.pending.to_dict(),
        "holds": a.holds,
        "held": a.held,
        "slowed": a.slowed,
        "clock_hint": a._clock_hint,
        "unstable": a.unstable,
        "update": a.update,
        "snapshot": None if a.snapshot is None else list(a.snapshot),
        "rewinds": a.rewinds,
        "buffer": buffer,
        "monitor": a.monitor.state_dict(),
    }


def load(a: AdaptiveWarmup, state: object) -> None:  # one check per field
    """Check ``state`` completely, then put it into ``a`` (a bad state changes nothing)."""
    func = "AdaptiveWarmup.load_state_dict"
    maker = "AdaptiveWarmup.state_dict"
    f = Fields(func, "state", state, maker)
    version = f.get("version")
    if type(version) is not int or version not in (1, STATE_VERSION):
        raise f.bad("version", f"1 or {STATE_VERSION} (a state made by {maker})")
    mine = a._config()
    if version == 1:
        mine = {k: v for k, v in mine.items() if k not in _V1_DEFAULTS}
        if any(getattr(a, k) != v for k, v in _V1_DEFAULTS.items()):
            raise RampupError.invalid(
                func,
                f.name("version"),
                version,
                f"2: a version-1 state has no rewinds nor buffered reads ({_V1_DEFAULTS})",
            )
    if f.get("config") != mine:
        raise RampupError.invalid(
            func,
            f.name("config"),
            f.get("config"),
            f"the state of a controller configured as this one ({mine})",
        )
    factor = f.float_("factor", finite=True)
    least = min(a.stretch, a.max_stretch)  # the stretch after one non-finite loss
    if not (factor == 1.0 or least <= factor <= a.max_stretch):
        raise f.bad(
            "factor",
            f"1 (never stretched) or a stretch in [{least:g}, max_stretch="
            f"{a.max_stretch:g}] (stretch={a.stretch:g} per non-finite loss)",
        )
    cooling = f.int_("cooling", 0, a.cooldown)
    fresh = f.bool_("fresh")
    top = sys.maxsize
    holds, held, slowed = f.int_("holds", 0, top), f.int_("held", 0, top), f.int_("slowed", 0, top)
    hint = f.float_("clock_hint", finite=True, low=0.0)
    action = None
    if f.get("pending") is not None:
        p = f.sub("pending", "Action.to_dict")
        action = Action.read(p, top)
        if action.kind == "rewind" and not a.rewind:
            raise p.bad("kind", "'restore' (this controller does not rewind)")
        if action.stretch != factor:
            raise p.bad("stretch", f"the state's factor {factor:g} (the stretch it asked for)")
    monitor = monitor_state.read(a.monitor, f.get("monitor"), func, f.name("monitor"))
    if fresh and monitor.step < 0:
        raise f.bad("fresh", "False: the monitor state has seen no loss yet")
    if action is not None and action.step > monitor.step:
        raise RampupError.invalid(
            func,
            f.sub("pending", "Action.to_dict").name("step"),
            action.step,
            f"a step <= the monitor's last step {monitor.step}",
        )
    v1: tuple[bool, int, tuple[int, float, int] | None, int, list[Row]]
    v1 = (fresh and monitor.unstable, 0, None, 0, [])
    unstable, update, snapshot, rewinds, rows = (
        v1 if version == 1 else _since_v2(f, a, monitor.step)
    )
    a.monitor.__dict__.update(monitor.__dict__)  # nothing raises from here on
    a.factor, a.cooling, a.fresh, a.pending = factor, cooling, fresh, action
    a.holds, a.slowed, a.held, a._clock_hint = holds, slowed, held, hint
    a.unstable, a.update, a.snapshot, a.rewinds = unstable, update, snapshot, rewinds
    a.reads.rows = rows
    a.reads._last = monitor.step + len(rows)
    a.reads._every = a.read_every or (1 if not rows else _deferred_every())


def _since_v2(
    f: Fields, a: AdaptiveWarmup, step: int
) -> tuple[bool, int, tuple[int, float, int] | None, int, list[Row]]:
    """The fields of version 2: unstable, update, snapshot, rewinds, buffer."""
    update = f.int_("update", 0, sys.maxsize)
    return (
        f.bool_("unstable"),
        update,
        _snapshot(f, a, update, step),
        f.int_("rewinds", 0, a.max_rewinds),
        _rows(f),
    )


def _deferred_every() -> int:
    from rampup.guard.reads import DEFERRED_READ_EVERY  # noqa: PLC0415  # one constant

    return DEFERRED_READ_EVERY


def _snapshot(
    f: Fields, a: AdaptiveWarmup, update: int, step: int
) -> tuple[int, float, int] | None:
    """The last snapshot's position: None, or [update, clock, monitor step], checked."""
    snap = f.get("snapshot")
    if snap is None:
        return None
    what = (
        f"None or [update <= {update}, a finite clock >= 0, a monitor step in [-1, {step}]]"
        " (rewind=True only)"
    )
    if not (a.rewind and isinstance(snap, list) and len(snap) == 3):
        raise f.bad("snapshot", what)
    u, c, s = snap
    ints = all(type(v) is int for v in (u, s))
    if not (ints and isinstance(c, int | float) and not isinstance(c, bool)):
        raise f.bad("snapshot", what)
    if not (0 <= u <= update and -1 <= s <= step and math.isfinite(c) and c >= 0):
        raise f.bad("snapshot", what)
    return u, float(c), s


def _rows(f: Fields) -> list[Row]:
    """The signals read but not yet acted on: [loss, grad, update, lr, in warmup] each."""
    raw = f.get("buffer")
    what = "a list of [loss, grad_norm, update_norm, lr (numbers or None), in_warmup (bool)]"
    if not isinstance(raw, list):
        raise f.bad("buffer", what)
    rows: list[Row] = []
    for row in raw:
        if not (isinstance(row, list) and len(row) == 5 and isinstance(row[4], bool)):
            raise f.bad("buffer", what)
        try:
            values = [None if v is None else unplain(v) for v in row[:4]]
        except (TypeError, OverflowError):
            raise f.bad("buffer", what) from None
        if values[0] is None:
            raise f.bad("buffer", what + ", the loss given")
        rows.append((values[0], values[1], values[2], values[3], row[4]))
    return rows

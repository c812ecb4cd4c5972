"""What the guard asks the caller to do: an :class:`Action` (restore, or rewind), as plain data.

- ``kind="restore"``: the loss (or a norm) was non-finite: restore the model and the optimizer
  from the last good checkpoint, keep the scheduler (and the guard) as they are, then call
  :meth:`~rampup.guard.adaptive.AdaptiveWarmup.restored`.
- ``kind="rewind"`` (a guard with ``rewind=True`` and a snapshot): a non-finite value, a
  divergence or a stall: restore the model and the optimizer from the snapshot the guard was told
  of (:meth:`~rampup.guard.adaptive.AdaptiveWarmup.snapshotted`), which it names by ``update``
  (the scheduler's update count then), set the scheduler's clock back to ``clock`` (the clock
  then; the update count goes on), then call ``restored()``.
  :class:`rampup.torch.rewind.Rewinder` does all three.

``stretch`` is the factor the remaining warmup now runs slower by. An action satisfies
:class:`rampup.core.watch.Notice`.

>>> a = Action("rewind", 140, 2.0, "loss stalled ...", update=48, clock=48.0)
>>> Action.from_dict(a.to_dict()) == a
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from rampup import RampupError
from rampup.guard._fields import Fields

__all__ = ["Action", "RestoreRequired"]


@dataclass(frozen=True)
class Action:
    """What the caller must do: ``"restore"`` the last good checkpoint, or ``"rewind"``.

    ``step`` is the monitor step (the update) of the value that caused it; ``update`` and
    ``clock`` (rewind only, else None) the snapshot's update count and clock.
    """

    kind: Literal["restore", "rewind"]
    step: int
    stretch: float
    message: str
    update: int | None = None
    clock: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The action as plain data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        """Read back :meth:`to_dict`'s plain data (strictly: a wrong field is a RampupError)."""
        return cls.read(Fields("Action.from_dict", "data", data, "Action.to_dict"), 2**63 - 1)

    @classmethod
    def read(cls, p: Fields, top: int) -> Action:
        """The action in the fields ``p``, each checked; an action of version 1 has no position."""
        kind = p.get("kind")
        if kind not in ("restore", "rewind"):
            raise p.bad("kind", "'restore' or 'rewind'")
        step, stretch, message = p.int_("step", 0, top), p.float_("stretch"), p.str_("message")
        if kind == "restore":
            for key in ("update", "clock"):
                if p.data.get(key) is not None:
                    raise p.bad(key, "None (a restore has no snapshot)")
            return cls("restore", step, stretch, message)
        return cls(
            "rewind",
            step,
            stretch,
            message,
            update=p.int_("update", 0, top),
            clock=p.float_("clock", finite=True, low=0.0),
        )


class RestoreRequired(RampupError):  # noqa: N818  # reads as the state it reports
    """The caller stepped on without the restore (or rewind) an :class:`Action` asked for."""

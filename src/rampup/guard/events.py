"""The monitor's events: what it noticed, where, the numbers, and what to do about it.

An :class:`Event` is plain data (:meth:`Event.to_dict` and :meth:`Event.from_dict` round-trip
it, non-finite numbers as the strings 'nan', 'inf', '-inf'); :data:`EVENT_KINDS` lists every kind
the monitor reports. It satisfies :class:`rampup.core.watch.Finding`, what the framework callbacks
read of an event.

>>> e = Event(9, "spike", 25.0, 1.9, True, "loss spiked")
>>> Event.from_dict(e.to_dict()) == e, round(e.ratio, 2)
(True, 13.16)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeAlias, cast, get_args

from rampup.guard._fields import Fields, plain

__all__ = ["EVENT_KINDS", "MAX_STEP", "Event", "EventKind"]

#: Every kind of event the monitor reports.
EventKind: TypeAlias = Literal[
    "nonfinite_loss",
    "nonfinite_grad",
    "nonfinite_update",
    "spike",
    "grad_spike",
    "divergence",
    "classic_rule",
    "stall",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
#: Kinds renamed since: read under their new name.
_LEGACY_KINDS = {"seeds_rule": "classic_rule"}
#: Steps are kept in a signed 64-bit array: every step is below this.
MAX_STEP = 2**63


@dataclass(frozen=True)
class Event:
    """One thing the monitor noticed: its kind, where, the numbers, and what to do about it.

    ``value`` is the offending value (the loss, or the gradient / update norm), ``reference``
    what it was compared with (the running median, the initial loss; NaN for non-finite values),
    ``during_warmup`` whether the step is inside the warmup (False when the warmup is unknown).
    """

    step: int
    kind: EventKind
    value: float
    reference: float
    during_warmup: bool
    message: str

    @property
    def ratio(self) -> float:
        """``value / reference`` (NaN when it has no meaning: a reference <= 0 or non-finite)."""
        if not (math.isfinite(self.value) and math.isfinite(self.reference)):
            return math.nan
        return self.value / self.reference if self.reference > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The event as plain data (non-finite numbers as the strings 'nan', 'inf', '-inf')."""
        d = asdict(self)
        d["value"] = plain(self.value)
        d["reference"] = plain(self.reference)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Read back :meth:`to_dict`'s plain data (strictly: a wrong field is a RampupError).

        The kind ``seeds_rule`` of older states is read as ``classic_rule`` (its new name).
        """
        return cls.read(Fields("Event.from_dict", "data", data, "Event.to_dict"))

    @classmethod
    def read(cls, f: Fields) -> Event:
        """The event in the fields ``f`` (a state's list entry), each field checked."""
        kind = f.get("kind")
        kind = _LEGACY_KINDS.get(kind, kind) if isinstance(kind, str) else kind
        if kind not in EVENT_KINDS:
            raise f.bad("kind", "one of " + ", ".join(EVENT_KINDS))
        return cls(
            step=f.int_("step", 0, MAX_STEP - 1),
            kind=cast("EventKind", kind),
            value=f.float_("value"),
            reference=f.float_("reference"),
            during_warmup=f.bool_("during_warmup"),
            message=f.str_("message"),
        )

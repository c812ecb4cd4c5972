r"""Reading the guard's signals without a host sync every update: buffered, read every k updates.

On a GPU, ``loss.item()`` waits for the device to finish every queued kernel: a guard that calls
it each update stalls the pipeline once per update. :class:`Reads` keeps each update's signals
(loss, gradient norm, update norm, lr) as they were given and reads them every ``k`` updates,
all at once. A value is *deferred* (kept unread) when it is array-like (it has ``tolist`` and
``new_empty``, as a torch tensor on any device); Python and numpy numbers are read at once, as
they cost nothing. :func:`read_values` reads the deferred values of a batch with **one** host
read, framework-free, through the values' own methods (no torch import here)::

    buf = first.double().new_empty((n,))   # a float64 buffer on the values' device
    buf[i] = value                         # for each value: a copy on the device, no sync
    buf.tolist()                           # the one host read

float64 holds every float16, bfloat16 and float32 exactly, so each float equals the value's own
``item()``. Another framework (JAX, a device without item assignment) passes its own ``reader``.

The batch is read when the monitor step of its last row is ``k - 1`` modulo ``k`` (k = 1: at
once), so where the reads fall never depends on when a checkpoint was written: a state saved
in between reads the buffered values (one read) and keeps them, as floats, until then.

>>> r = Reads(read_every=None)
>>> r.add(0, (2.5, None, None, None, True)), r.due()
(None, True)
>>> r.take()
[(2.5, None, None, None, True)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rampup import RampupError
from rampup.core.checks import check_real

__all__ = ["DEFERRED_READ_EVERY", "Reader", "Reads", "Row", "is_deferred", "read_values"]

#: How a batch of deferred values is read: the values -> their floats, in order.
Reader = Callable[[Sequence[Any]], list[float]]
#: One update's signals: loss, gradient norm, update norm, lr (None: not given), and whether
#: the update was inside the warmup. Each signal is a float or a deferred value until read.
Row = tuple[Any, Any, Any, Any, bool]
#: Updates between reads when a signal is deferred and ``read_every`` is not given.
DEFERRED_READ_EVERY = 16
_PARAMS = ("loss", "grad_norm", "update_norm", "lr")


def is_deferred(value: object) -> bool:
    """Whether ``value`` is kept unread until the next batch read (array-like, not a number)."""
    return hasattr(value, "tolist") and hasattr(value, "new_empty")


def read_values(values: Sequence[Any]) -> list[float]:
    """The floats of deferred 0-dim values, with one host read for all of them (see above)."""
    if not values:
        return []
    buf = values[0].double().new_empty((len(values),))
    for i, v in enumerate(values):
        buf[i] = v
    out = buf.tolist()
    return [float(x) for x in out]


class Reads:
    """The signals observed but not read yet, and when to read them.

    ``read_every``: updates per read; None: 1 while every signal is a number, and
    :data:`DEFERRED_READ_EVERY` for an update with a deferred one. ``reader``: how a batch of
    deferred values is read (default :func:`read_values`).
    """

    def __init__(self, read_every: int | None, reader: Reader | None = None) -> None:
        self.read_every = read_every
        self.reader: Reader = read_values if reader is None else reader
        self.rows: list[Row] = []
        self._last = -1  # the monitor step of the last row added
        self._every = 1  # updates per read for the batch being collected
        self.host_reads = 0  # batch reads so far (calls of the reader)

    def add(self, step: int, row: Row) -> None:
        """Keep the signals of monitor step ``step`` (checked: a bad value raises now)."""
        func = "AdaptiveWarmup.observe"
        checked: list[Any] = []
        deferred = False
        for name, v in zip(_PARAMS, row[:4], strict=True):
            if v is None:
                checked.append(None)
            elif is_deferred(v):
                numel = getattr(v, "numel", None)
                if numel is not None and numel() != 1:
                    raise RampupError.invalid(
                        func, name, v, "a real number (a float, an int, a 0-d tensor)"
                    )
                checked.append(v.detach() if hasattr(v, "detach") else v)  # no graph kept
                deferred = True
            else:
                checked.append(check_real(func, name, v))
        every = self.read_every or (DEFERRED_READ_EVERY if deferred else 1)
        self._every = max(self._every, every) if self.rows else every
        self.rows.append((checked[0], checked[1], checked[2], checked[3], row[4]))
        self._last = step

    def due(self) -> bool:
        """Whether the rows are to be read and acted on now."""
        return bool(self.rows) and (self._last + 1) % self._every == 0

    def read(self) -> None:
        """Read every deferred value of the rows (one call of the reader), keeping the rows."""
        where = [(i, j) for i, row in enumerate(self.rows) for j in range(4) if is_deferred(row[j])]
        if not where:
            return
        values = self.reader([self.rows[i][j] for i, j in where])
        self.host_reads += 1
        if len(values) != len(where):
            raise RampupError(
                f"AdaptiveWarmup.observe(): reader={self.reader!r} is invalid: expected a"
                f" callable returning {len(where)} floats, got {len(values)}"
            )
        rows = [list(r) for r in self.rows]
        for (i, j), x in zip(where, values, strict=True):
            rows[i][j] = check_real("AdaptiveWarmup.observe", _PARAMS[j], x)
        self.rows = [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def take(self) -> list[Row]:
        """The rows, read, oldest first; the buffer is then empty."""
        self.read()
        rows, self.rows = self.rows, []
        return rows

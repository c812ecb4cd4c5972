r"""Rolling windows: the last ``size`` finite values, with their running median and MAD.

The monitor's baselines. The spike level of a window with median :math:`m` is

.. math:: m + \max\big((k - 1)\,|m|,\; z \cdot 1.4826\,\mathrm{MAD},\; \mathrm{floor}\big)

(1.4826 MAD is the standard deviation of a normal distribution). Pushing a value costs a
binary search and an insertion into the sorted copy (``O(size)`` moves, no sort).

>>> w = Window(3)
>>> for x in [1.0, 5.0, 2.0, 3.0]:
...     w.push(x)
>>> list(w.recent), w.median(), w.threshold(2.0, 0.0, 0.0)
([5.0, 2.0, 3.0], 3.0, 6.0)
"""

from __future__ import annotations

import bisect
import math
from collections import deque

__all__ = ["MAD_TO_STD", "Window", "median"]

#: MAD times this is the standard deviation of a normal distribution.
MAD_TO_STD = 1.4826


class Window:
    """The last ``size`` finite values, also kept sorted: a running median and MAD."""

    def __init__(self, size: int) -> None:
        self.recent: deque[float] = deque(maxlen=size)
        self.sorted: list[float] = []

    def __len__(self) -> int:
        return len(self.sorted)

    def push(self, x: float) -> None:
        """Add ``x``; the oldest value leaves a full window."""
        if len(self.recent) == self.recent.maxlen:
            del self.sorted[bisect.bisect_left(self.sorted, self.recent[0])]
        self.recent.append(x)
        bisect.insort(self.sorted, x)

    def load(self, values: list[float]) -> None:
        """Replace the contents by ``values`` (oldest first; the last ``size`` are kept)."""
        self.recent.clear()
        self.recent.extend(values)
        self.sorted = sorted(self.recent)

    def median(self) -> float:
        """The median of the window (NaN if empty)."""
        return median(self.sorted)

    def threshold(self, factor: float, mads: float, floor: float) -> float:
        """The spike level: median + max((factor - 1) |median|, mads * 1.4826 MAD, floor)."""
        m = self.median()
        mad = median(sorted(abs(x - m) for x in self.sorted))
        return m + max((factor - 1.0) * abs(m), mads * MAD_TO_STD * mad, floor)


def median(s: list[float]) -> float:
    """The median of a sorted list (NaN if empty)."""
    n = len(s)
    if n == 0:
        return math.nan
    mid = n // 2
    return s[mid] if n % 2 else 0.5 * s[mid - 1] + 0.5 * s[mid]  # halves first: no overflow

r"""The stall rule: the loss stopped improving far above its start while the gradient collapsed.

A Post-LN Transformer whose warmup was too short does not spike or diverge: its loss drops to the
unigram level (the best prediction that ignores the context, below the initial loss), sticks
there, and its gradient norm falls by an order of magnitude or more. The other rules see nothing.
This rule sees that picture. With :math:`m_t` the smoothed loss (the median of the monitor's last
``window`` finite losses), :math:`r_t` the gradient's recent level (the median of its last
``grad_spike_recent`` finite norms, 8 by default) and :math:`G_t = \max_{s \le t} r_s` its
peak so far, the update :math:`t` is a **stall** when all three hold:

.. math::

    \underbrace{m_{t-P} - m_t < \epsilon\,|m_{t-P}|}_{\text{flat for } P \text{ updates}}
    \qquad \underbrace{m_t > \lambda\,\ell_0}_{\text{far above where it heads}}
    \qquad \underbrace{r_t < \gamma\,G_t}_{\text{the gradient collapsed}}

with :math:`P` = ``stall_patience`` (64 updates), :math:`\epsilon` = ``stall_progress`` (0.01),
:math:`\lambda` = ``stall_level`` (0.5) and :math:`\gamma` = ``stall_grad`` (0.15). The reasons:

- *flat*: a loss that still improves by 1 % over 64 updates is learning, however slowly; a loss
  that rose back (a collapse after a good start) is flat too (its "progress" is negative);
- *high*: a stall sits at a trivial level, e.g. the unigram loss of a language model, 0.9 of
  the initial loss on the lab's Markov task; a run that converged far below half its initial
  loss is done, not stuck (a healthy run's gradient collapses there, as the loss goes to 0);
- *collapsed*: a healthy run's minibatch gradient keeps the noise of its batches even where its
  loss is flat and high (a regression on random targets: 0.39 of its peak at the lowest, over
  2400 updates), and one that learns keeps more while its loss is high (the lab's Pre-LN
  Markov LM at 3e-2: 0.14 at the lowest, its loss falling); the five Post-LN stalls measured
  (the lab's Markov LM, peak 1e-2 to 1e-1, warmups of 2 updates to 25 %) fell to 0.04-0.08 of
  it. 0.15 sits between: x2.6 below the flat healthy run, x1.9 above the highest stall.

**It needs the gradient norm.** A flat loss alone does not tell a stall from a healthy plateau:
a regression on random targets is flat at its initial loss for ever, a plateau-then-drop is flat
until it drops. Without a gradient norm the rule stays silent. It needs a positive initial loss
(a cross-entropy, an MSE: its level is a fraction of it) and starts once :math:`P + 1` smoothed
losses are known. Like the other rules it reports once per episode.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["STALL_RECENT", "Stall"]

#: The gradient's recent level is the median of its last this many finite norms.
STALL_RECENT = 8


class Stall:
    """The stall rule's memory: the last ``patience + 1`` smoothed losses and the gradient peak."""

    def __init__(self, patience: int) -> None:
        self.smoothed: deque[float] = deque(maxlen=patience + 1)
        self.peak_grad = math.nan  # G_t: the largest recent gradient level so far (NaN: none)
        self.stalling = False  # inside a stall episode

    def push(self, m: float, r: float) -> None:
        """Remember the smoothed loss ``m`` and the gradient's recent level ``r`` (NaN: none)."""
        self.smoothed.append(m)
        if not math.isnan(r) and not (r <= self.peak_grad):
            self.peak_grad = r

    def holds(
        self, l0: float, r: float, *, progress: float, level: float, grad: float
    ) -> tuple[bool, float]:
        """Whether the last update stalls, and the smoothed loss :math:`m_{t-P}` it is flat from.

        ``r`` is the gradient's recent level at this update (NaN when none was given).
        """
        s = self.smoothed
        if len(s) < (s.maxlen or 0) or math.isnan(r) or not l0 > 0:
            return False, math.nan
        then, now = s[0], s[-1]
        flat = then - now < progress * abs(then)
        return flat and now > level * l0 and r < grad * self.peak_grad, then

    def improving(self, l0: float, *, progress: float, level: float) -> bool:
        """Whether the loss is visibly learning: a snapshot now is one worth going back to.

        True while fewer than half the horizon's smoothed losses are known, once the smoothed
        loss is at most ``level`` x ``l0``, or while it fell by at least ``progress`` of itself
        over the last half of the horizon (:math:`P / 2` updates).
        """
        s = self.smoothed
        half = (s.maxlen or 0) // 2
        if len(s) <= half or not l0 > 0 or s[-1] <= level * l0:
            return True
        then = s[-1 - half]
        return then - s[-1] >= progress * abs(then)

    def forget(self) -> None:
        """Start the horizon again (after a rewind: the losses seen since are gone)."""
        self.smoothed.clear()
        self.stalling = False

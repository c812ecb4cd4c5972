"""The guard's host reads: 0-dim tensors are kept and read every k updates, with one read."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch

from rampup import Monitor
from rampup.adaptive import AdaptiveWarmup
from rampup.guard.reads import DEFERRED_READ_EVERY, read_values

torch.set_num_threads(1)


class Counted:
    """A 0-dim value with a tensor's duck type that counts host reads (item() and tolist())."""

    reads = 0

    def __init__(self, x: float) -> None:
        self.x = x

    def item(self) -> float:
        """Read the value (counted)."""
        Counted.reads += 1
        return self.x

    def tolist(self) -> float:
        """Read the value as a list would be read (counted)."""
        Counted.reads += 1
        return self.x

    def numel(self) -> int:
        """One element."""
        return 1

    def detach(self) -> Counted:
        """Itself."""
        return self

    def double(self) -> Counted:
        """Itself (as float64)."""
        return self

    def new_empty(self, shape: tuple[int]) -> Buffer:
        """A buffer of the stub's kind."""
        return Buffer(shape[0])


class Buffer:
    """The device buffer of the stub: item assignment without a read, one read by tolist()."""

    def __init__(self, n: int) -> None:
        self.values = [math.nan] * n

    def __setitem__(self, i: int, v: Counted) -> None:
        self.values[i] = v.x  # a device copy: no host read

    def tolist(self) -> list[float]:
        """The one host read of the batch."""
        Counted.reads += 1
        return list(self.values)


def _quiet(**kwargs: Any) -> AdaptiveWarmup:
    return AdaptiveWarmup(50, monitor=Monitor(50, warm_start=3), cooldown=0, **kwargs)


@pytest.mark.parametrize("k", [1, 4, 16])
def test_k_updates_cost_one_host_read(k: int) -> None:
    """read_every=k: 3k updates with a loss and a gradient norm each are 3 reads, not 6k."""
    Counted.reads = 0
    guard, clock = _quiet(read_every=k), 0.0
    for n in range(1, 3 * k + 1):
        guard.observe(Counted(1.0), grad_norm=Counted(0.5))
        assert guard.monitor.step == (n // k) * k - 1  # fed only at each read
        clock = guard.advance(n, clock)
    assert Counted.reads == 3 == guard.host_reads


def test_tensors_default_to_one_read_per_16_updates_and_floats_to_none() -> None:
    """Default: 0-dim tensors are read every DEFERRED_READ_EVERY (16) updates; floats at once."""
    Counted.reads = 0
    guard = _quiet()
    for _ in range(2 * DEFERRED_READ_EVERY):
        guard.observe(Counted(1.0))
    assert (Counted.reads, guard.monitor.step) == (2, 31)
    floats = _quiet()
    floats.observe(1.0)
    assert (floats.host_reads, floats.monitor.step) == (0, 0)


def test_read_values_equals_item_for_every_dtype() -> None:
    """One batched read gives each tensor's own item(): float64 holds f16, bf16, f32 exactly."""
    values = [
        torch.tensor(1 / 3, dtype=torch.float16),
        torch.tensor(1 / 3, dtype=torch.bfloat16),
        torch.tensor(1 / 3, dtype=torch.float32),
        torch.tensor(math.nan),
        torch.tensor(-math.inf),
        torch.tensor(2.5, dtype=torch.float64, requires_grad=True) * 1.0,
    ]
    got = read_values(values)
    want = [v.item() for v in values]
    assert got[:3] == want[:3]
    assert got[5] == want[5] == 2.5
    assert math.isnan(got[3])
    assert got[4] == -math.inf


def test_decisions_lag_by_at_most_k_minus_1_updates() -> None:
    """A spike on the 6th loss, read_every=4: read with losses 5-8, the clock holds on update 8.

    Read at once, the update the spike was observed for (the 6th) holds; buffered, the update
    of the read (the 8th). The same hold, 2 updates later: at most k - 1 = 3.
    """
    losses = [1.0] * 5 + [50.0] + [1.0] * 6

    def clocks(guard: AdaptiveWarmup, wrap: Any) -> list[float]:
        clock, out = 0.0, []
        for n, x in enumerate(losses, start=1):
            guard.observe(wrap(x))
            clock = guard.advance(n, clock)
            out.append(clock)
        return out

    at_once = clocks(_quiet(), float)
    buffered = clocks(_quiet(read_every=4), torch.tensor)
    assert at_once == [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11]
    assert buffered == [1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11]


def test_a_checkpoint_between_reads_moves_no_decision() -> None:
    """state_dict() in mid-batch reads the buffer once and keeps it; the resumed run is the same."""
    losses = [1.0, 1.1, 0.9, 1.0, 1.0, 30.0, 1.0, math.nan, 1.0, 1.0, 1.0, 1.0]

    def run(cut: int | None) -> list[tuple[float, str | None]]:
        guard, clock = _quiet(read_every=4), 0.0
        out: list[tuple[float, str | None]] = []
        for n, x in enumerate(losses, start=1):
            if n == cut:
                state = json.loads(json.dumps(guard.state_dict(), allow_nan=False))
                guard = _quiet(read_every=4)
                guard.load_state_dict(state)
            action = guard.observe(torch.tensor(x))
            if action is not None:
                guard.restored()
            clock = guard.advance(n, clock)
            out.append((clock, None if action is None else action.kind))
        return out

    expected = run(None)
    assert "restore" in [a for _, a in expected]
    for cut in range(1, len(losses) + 1):
        assert run(cut) == expected, cut


def test_a_bad_tensor_is_refused_when_observed() -> None:
    """A tensor of several elements is a RampupError at observe, not at the later read."""
    from rampup import RampupError  # noqa: PLC0415

    guard = _quiet()
    with pytest.raises(RampupError, match=r"AdaptiveWarmup\.observe\(\): loss=.* 0-d tensor"):
        guard.observe(torch.ones(3))
    assert guard.reads.rows == []

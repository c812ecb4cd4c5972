"""The stability monitor: events on recorded real training curves, rules by hand, state, export."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampup import Monitor, RampupError
from rampup.checks import check_count, check_flag, check_optional_count, check_optional_flag
from rampup.monitor import EVENT_KINDS, Event
from rampup.plotting import plot_curves

CURVES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "monitor" / "curves.json").read_text(encoding="utf-8")
)
HEALTHY = sorted(k for k, v in CURVES.items() if v["healthy"])


def feed(m: Monitor, losses: list[float], norms: list[float] | None = None) -> list[Event]:
    """Feed every loss (and gradient norm); return all events."""
    out: list[Event] = []
    for i, x in enumerate(losses):
        out += m.update(x, grad_norm=None if norms is None else norms[i])
    return out


# -- recorded curves ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", HEALTHY)
@pytest.mark.parametrize("warmup", [None, 40, 100])
def test_healthy_recorded_curves_raise_no_event(name: str, warmup: int | None) -> None:
    """Real healthy runs (fast early drop, small-batch noise, loss near 0) give no event."""
    curve = CURVES[name]
    assert feed(Monitor(warmup), curve["loss"], curve["grad_norm"]) == []


@pytest.mark.parametrize("name", ["postln_no_warmup_s0", "postln_no_warmup_s1"])
def test_post_ln_without_warmup_is_caught_by_its_gradient_spikes(name: str) -> None:
    """Post-LN at a high lr without warmup: its gradient norm jumps > x3 within 40 updates."""
    curve = CURVES[name]
    norms = curve["grad_norm"]
    events = feed(Monitor(40), curve["loss"], norms)
    assert events, "the instability was missed"
    first = events[0]
    assert first.kind == "grad_spike"
    assert first.step < 40
    assert norms[first.step] > 3 * sorted(norms[: first.step])[first.step // 2]
    assert "consider a longer warmup" in first.message


def test_gradient_spikes_after_the_warmup_are_not_reported() -> None:
    """A x10 gradient norm after the warmup is no event; the same inside the warmup is one."""
    norms = [1.0] * 10 + [10.0]
    assert feed(Monitor(5), [1.0] * 11, norms) == []
    events = feed(Monitor(20), [1.0] * 11, norms)
    assert [(e.step, e.kind) for e in events] == [(10, "grad_spike")]


def test_a_low_first_loss_is_not_the_reference() -> None:
    """The initial loss is the median of the first warm_start losses, not the first draw alone.

    The first seed's own loop (batch-32 MSE) drew 0.747 first, then ordinary losses above 1.12
    for 5 updates: with the first loss as the reference that was reported as a divergence.
    """
    curve = CURVES["seeds_loop_s1"]["loss"]
    first = sorted(curve[:8])
    assert Monitor(warm_start=1).update(curve[0]) == []
    assert any(
        all(x > 1.5 * curve[0] for x in curve[i - 4 : i + 1]) for i in range(4, 40)
    )  # the old rule's false divergence
    m = Monitor(1000)
    assert feed(m, curve[:8]) == []
    assert m.initial_loss == (first[3] + first[4]) / 2
    assert feed(m, curve[8:]) == []  # the seed's warmup is 1000 iterations
    losses = [0.5] + [1.0] * 20  # by hand: a low first draw, then a flat loss
    m = Monitor()
    assert feed(m, losses) == []
    assert m.initial_loss == 1.0


def test_a_rare_minibatch_draw_is_not_a_spike() -> None:
    """A x2.4 draw of the seed loop's chi-square MSE is inside 10 robust deviations: no spike."""
    curve = CURVES["seeds_loop_s6"]["loss"]
    window = curve[2275 - 32 : 2275]
    median = float(np.median(window))
    mad = float(np.median(np.abs(np.asarray(window) - median)))
    assert curve[2275] > 2 * median  # the ratio margin alone would call it a spike
    assert curve[2275] < median + 10 * 1.4826 * mad  # the noise margin does not
    assert feed(Monitor(1000), curve) == []


def test_healthy_curves_cover_fast_drop_and_noise() -> None:
    """The healthy fixtures really contain a fast early drop and strong minibatch noise."""
    adam = CURVES["mlp_adam"]["loss"]
    assert adam[5] < 0.6 * adam[0]  # the loss loses 40 % in five updates
    noisy = CURVES["mlp_sgd_noisy"]["loss"][200:]
    ratios = [b / a for a, b in itertools.pairwise(noisy)]
    assert max(ratios) > 5  # consecutive minibatch losses differ by more than x5


def test_real_loss_spike_is_reported_at_its_step() -> None:
    """The lr bump on updates 150-152 shows in the loss of update 151: the first event there."""
    curve = CURVES["mlp_sgd_bump"]
    events = feed(Monitor(), curve["loss"])
    assert events, "the spike was missed"
    first = events[0]
    assert (first.step, first.kind) == (curve["spike_at"] + 1, "spike")
    assert first.value == curve["loss"][151]
    assert first.ratio > 10
    assert "spiked x" in first.message
    assert "at step 151" in first.message


def test_geometric_divergence_is_reported_then_the_nonfinite_loss() -> None:
    """Unstable SGD: divergence after 5 updates above 1.5x the initial loss, then inf at once.

    The initial loss is the median of the first 8 losses (known at update 7), counted from there.
    """
    losses = CURVES["regression_diverges"]["loss"]
    first = sorted(losses[:8])
    initial = (first[3] + first[4]) / 2
    above = [x > 1.5 * initial for x in losses]
    expected_div = next(i for i in range(7 + 4, len(losses)) if all(above[i - 4 : i + 1]))
    first_inf = next(i for i, x in enumerate(losses) if not math.isfinite(x))
    events = feed(Monitor(warmup_steps=100), losses)
    div = [e for e in events if e.kind == "divergence"]
    assert div[0].step == expected_div
    assert "during warmup" in div[0].message
    assert "longer warmup" in div[0].message
    bad = [e for e in events if e.kind == "nonfinite_loss"]
    assert bad[0].step == first_inf
    assert len(bad) == sum(not math.isfinite(x) for x in losses)  # every one, not an episode
    assert "restore the last good checkpoint" in bad[0].message


def test_classic_preset_fires_where_the_classic_check_warns() -> None:
    """Monitor.classic(W) reports exactly where `epoch < W and loss > 10 * initial` first holds."""
    losses = CURVES["regression_diverges"]["loss"]
    warmup = 20
    expected = next(t for t, x in enumerate(losses) if t < warmup and x > 10 * losses[0])
    events = feed(Monitor.classic(warmup), losses)
    classic = [e for e in events if e.kind == "classic_rule"]
    assert [e.step for e in classic] == [expected]  # one episode: it holds until the warmup ends
    assert {e.kind for e in events} <= {"classic_rule", "nonfinite_loss"}
    assert "consider a longer warmup" in classic[0].message
    assert "the classic rule: a warmup loss above 10x its initial value" in classic[0].message
    assert "seeds" not in classic[0].message


def test_seeds_is_an_alias_of_the_classic_preset() -> None:
    """Monitor.seeds(W) (the preset's former name) builds the same monitor as Monitor.classic."""
    alias, classic = Monitor.seeds(20, factor=4.0), Monitor.classic(20, factor=4.0)
    assert alias.state_dict() == classic.state_dict()


def test_classic_preset_names_itself_in_errors() -> None:
    """Monitor.classic(0) and a factor <= 1 (no rise) are errors naming the preset called."""
    with pytest.raises(RampupError, match=r"^Monitor\.classic\(\): warmup_steps=0 is invalid"):
        Monitor.classic(0)
    with pytest.raises(RampupError, match=r"^Monitor\.classic\(\): factor=1 is invalid"):
        Monitor.classic(10, factor=1)
    with pytest.raises(RampupError, match=r"^Monitor\.seeds\(\): factor=0 is invalid"):
        Monitor.seeds(10, factor=0)
    with pytest.raises(RampupError, match=r"^Monitor\(\): classic_factor=0\.5 is invalid"):
        Monitor(classic_factor=0.5)


def test_classic_preset_ignores_the_rule_after_warmup() -> None:
    """After the warmup the classic rule does not apply (the check is `epoch < warmup`)."""
    assert feed(Monitor.classic(3), [1.0, 1.0, 1.0, 50.0]) == []


def test_classic_rule_with_a_positive_initial_loss_is_ten_times_it() -> None:
    """Initial loss 2: 20 is not above 10 x 2, 20.5 is; one event, its reference the 2."""
    m = Monitor.classic(10)
    assert feed(m, [2.0, 5.0, 20.0]) == []
    assert m.classic_level() == 20.0
    (event,) = m.update(20.5)
    assert (event.kind, event.step, event.reference, event.ratio) == ("classic_rule", 3, 2.0, 10.25)
    assert "20.5 is above 10x the initial loss (2)" in event.message


def test_classic_rule_with_a_negative_initial_loss_is_a_rise_by_nine_magnitudes() -> None:
    """Initial loss -1 (a log-likelihood): the level is -1 + 9 x 1 = 8, not 10 x -1 = -10.

    The first loss, and a loss back at -1 or at 0, are no event; 8 is not above the level, 8.5 is.
    """
    m = Monitor.classic(10)
    assert m.update(-1.0) == []
    assert m.classic_level() == 8.0
    assert feed(m, [-1.0, 0.0, -0.5, 8.0]) == []
    (event,) = m.update(8.5)
    assert (event.kind, event.step, event.reference) == ("classic_rule", 5, -1.0)
    assert math.isnan(event.ratio)  # no ratio against a negative reference
    assert "above 8, the initial loss (-1) plus 9x its magnitude" in event.message
    m7 = Monitor(100, classic_factor=10)  # the default warm_start of 8: l0 known at step 7
    assert feed(m7, [-1.0] * 8) == []
    assert m7.classic_level() == 8.0


def test_classic_rule_with_a_zero_initial_loss_has_no_scale_and_stays_silent() -> None:
    """Initial loss 0: no multiple of it is a level; even 1e6 is no classic_rule event."""
    m = Monitor.classic(10)
    assert feed(m, [0.0, 1.0, 1e6]) == []
    assert m.classic_level() == math.inf
    assert not m.unstable


@given(st.floats(-1e6, 1e6).filter(lambda x: x != 0), st.floats(1.01, 100.0))
@settings(max_examples=100, deadline=None)
def test_classic_rule_never_fires_on_its_initial_loss(l0: float, k: float) -> None:
    """Any sign: the initial loss itself never fires the rule; the level is l0 + (k - 1) |l0|."""
    m = Monitor.classic(10, factor=k)
    assert m.update(l0) == []
    assert m.update(l0) == []
    assert m.classic_level() >= l0  # equal only where (k - 1) |l0| underflows
    assert m.classic_level() == pytest.approx(l0 + (k - 1) * abs(l0))


# -- the spike rule by hand --------------------------------------------------------------------
def test_spike_threshold_is_the_largest_margin() -> None:
    """Over a constant window of 1.0 the threshold is 1 + max(1 x 1, 0, 0.1 x 1) = 2."""
    m = Monitor(spike_factor=2.0, warm_start=8)
    feed(m, [1.0] * 8)
    assert m.spike_threshold() == 2.0
    assert m.update(2.0) == []
    assert m.update(2.0000001)[0].kind == "spike"


def test_spike_margin_follows_the_minibatch_noise() -> None:
    """Noisy window: median 1, MAD 0.5, so the margin is 8 x 1.4826 x 0.5 = 5.9304."""
    m = Monitor(spike_factor=2.0, spike_mads=8.0, warm_start=4)
    feed(m, [0.5, 1.5, 1.0, 0.5, 1.5])  # deviations from 1: 0.5 0.5 0 0.5 0.5 -> MAD 0.5
    assert m.baseline == 1.0
    assert m.spike_threshold() == pytest.approx(1.0 + 8 * 1.4826 * 0.5)
    assert m.update(6.9) == []
    m2 = Monitor(spike_factor=2.0, spike_mads=8.0, warm_start=4)
    feed(m2, [0.5, 1.5, 1.0, 0.5, 1.5])
    assert m2.update(6.95)[0].kind == "spike"


def test_spike_floor_ignores_wobbles_near_zero() -> None:
    """Near 0 a x20 wobble is below 10 % of the initial loss: no spike.

    Initial loss: the median of the first 4, (2 + 2) / 2 = 2. Window: three 2.0, five 0.01, so
    the median is 0.01 and the MAD 0: the threshold is 0.01 + max(0.01, 0, 0.1 x 2) = 0.21.
    """
    losses = [2.0, 2.0, 2.0] + [0.01] * 5
    m = Monitor(warm_start=4, divergence_factor=None)
    feed(m, losses)
    assert m.initial_loss == 2.0
    assert m.spike_threshold() == pytest.approx(0.21)
    assert m.update(0.2) == []
    m2 = Monitor(warm_start=4, divergence_factor=None)
    feed(m2, losses)
    assert m2.update(0.22)[0].kind == "spike"


def test_spike_is_one_event_per_episode() -> None:
    """A spike lasting three updates is one event; a second spike later is another."""
    m = Monitor(warm_start=4, divergence_factor=None)
    events = feed(m, [1.0] * 10 + [5.0, 5.0, 5.0] + [1.0] * 3 + [5.0])
    assert [(e.step, e.kind) for e in events] == [(10, "spike"), (16, "spike")]


def test_warm_start_defers_the_spike_rule() -> None:
    """Before warm_start finite losses the spike rule cannot fire."""
    m = Monitor(warm_start=5, divergence_factor=None)
    assert feed(m, [1.0, 1.0, 1.0, 1.0, 9.0]) == []
    assert m.update(9.0)[0].kind == "spike"


def test_negative_losses_use_the_magnitude_of_the_median() -> None:
    """With a median of -2 the ratio margin is (2 - 1) x 2 = 2: a spike above 0 only."""
    m = Monitor(warm_start=4, divergence_factor=None, spike_floor=0.0)
    feed(m, [-2.0] * 5)
    assert m.update(-0.5) == []
    event = m.update(0.5)[0]
    assert event.kind == "spike"
    assert "by +2.5" in event.message


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=80))
@settings(max_examples=60, deadline=None)
def test_a_falling_loss_never_alarms(xs: list[float]) -> None:
    """Any non-increasing positive loss (the early drop, however fast) gives no event."""
    losses = sorted(xs, reverse=True)
    assert feed(Monitor(warmup_steps=10), losses) == []


# -- non-finite values and types ------------------------------------------------------------------
def test_nonfinite_norms_are_events() -> None:
    """A NaN gradient norm and an inf update norm are events, with a finite loss."""
    m = Monitor()
    m.update(1.0, grad_norm=0.5, update_norm=0.1)
    events = m.update(1.0, grad_norm=math.nan, update_norm=math.inf)
    assert [e.kind for e in events] == ["nonfinite_grad", "nonfinite_update"]
    assert m.nonfinite
    assert m.unstable


NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 5e-324, 1e308, -1e308, math.nan, math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.fractions(),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@given(
    st.lists(
        st.tuples(NUMBERS, st.one_of(st.none(), NUMBERS), st.one_of(st.none(), NUMBERS)),
        max_size=60,
    )
)
@settings(max_examples=150, deadline=None)
def test_any_number_never_raises(rows: list[tuple[Any, Any, Any]]) -> None:
    """Any real numbers, NaN, infinities and ints beyond the float range: events, not errors."""
    m = Monitor(warmup_steps=20, classic_factor=10.0, warm_start=3)
    for loss, grad, lr in rows:
        for e in m.update(loss, grad_norm=grad, lr=lr):
            assert e.kind in EVENT_KINDS
            assert e.message
    json.loads(m.to_json())
    assert len(m.to_csv().splitlines()) == len(rows) + 1


def test_numpy_scalars_and_one_element_arrays_are_numbers() -> None:
    """np.float32, np.int64 and a one-element array are read as their value."""
    m = Monitor()
    m.update(np.float32(1.5), grad_norm=np.int64(2), lr=np.array([0.1]))
    hist = m.history()
    assert hist["loss"] == [1.5]
    assert hist["grad_norm"] == [2.0]
    assert hist["lr"] == [0.1]


@pytest.mark.parametrize(
    ("param", "value"),
    [("loss", "1.0"), ("loss", None), ("loss", True), ("loss", [1.0]), ("grad_norm", "x")],
)
def test_a_wrong_type_is_a_clear_error(param: str, value: object) -> None:
    """A string, None, a bool or a list is a RampupError naming function, parameter, value."""
    m = Monitor()
    kwargs: dict[str, Any] = {"loss": 1.0}
    kwargs[param] = value
    loss = kwargs.pop("loss")
    with pytest.raises(RampupError, match=rf"^Monitor\.update\(\): {param}=.* expected a real"):
        m.update(loss, **kwargs)


def test_a_multi_element_array_is_a_clear_error() -> None:
    """A loss with several elements is refused (reduce it first)."""
    with pytest.raises(RampupError, match="one-element"):
        Monitor().update(np.array([1.0, 2.0]))


def test_decimals_are_numbers_even_a_signalling_nan() -> None:
    """Decimal is numeric: 1.5 is 1.5, 1e400 is +inf, NaN and sNaN are non-finite loss events."""
    m = Monitor()
    assert m.update(Decimal("1.5")) == []
    kinds = [[e.kind for e in m.update(Decimal(d))] for d in ("1e400", "NaN", "sNaN")]
    assert kinds == [["nonfinite_loss"]] * 3
    loss = m.history()["loss"]
    assert loss[:2] == [1.5, math.inf]
    assert all(math.isnan(x) for x in loss[2:])


def test_torch_tensors_are_read_with_item() -> None:
    """A 0-d tensor, a [1] tensor with grad, bfloat16, an int tensor; a bool tensor is refused."""
    torch = pytest.importorskip("torch")
    m = Monitor()
    x = torch.tensor([2.0], requires_grad=True) * 1.5
    m.update(torch.tensor(1.25), grad_norm=torch.tensor(2, dtype=torch.int64))
    m.update(x, grad_norm=torch.tensor(0.5, dtype=torch.bfloat16))
    events = m.update(torch.tensor(float("nan")))
    assert [e.kind for e in events] == ["nonfinite_loss"]
    assert m.history()["loss"][:2] == [1.25, 3.0]
    assert m.history()["grad_norm"][:2] == [2.0, 0.5]
    with pytest.raises(RampupError, match=r"^Monitor\.update\(\): loss=True is invalid"):
        m.update(torch.tensor(True))


def test_huge_ints_and_fractions_become_infinities() -> None:
    """10**400 is +inf (a non-finite loss event), Fraction(1, 3) is 1/3."""
    m = Monitor()
    assert m.update(Fraction(1, 3)) == []
    assert m.update(-(10**400))[0].kind == "nonfinite_loss"
    assert m.history()["loss"] == [1 / 3, -math.inf]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"window": 2}, "window"),
        ({"warm_start": 0}, "warm_start"),
        ({"window": 4, "warm_start": 5}, "warm_start"),
        ({"spike_factor": 1.0}, "spike_factor"),
        ({"spike_factor": math.nan}, "spike_factor"),
        ({"spike_mads": None}, "spike_mads"),
        ({"spike_floor": -0.1}, "spike_floor"),
        ({"divergence_patience": 0}, "divergence_patience"),
        ({"warmup_steps": 0}, "warmup_steps"),
        ({"history": 1}, "history"),
        ({"grad_spike_mads": -1.0}, "grad_spike_mads"),
        ({"grad_spike_recent": 0}, "grad_spike_recent"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], param: str) -> None:
    """Every invalid argument is a RampupError naming Monitor and the parameter."""
    with pytest.raises(RampupError, match=rf"^Monitor\(\): {param}="):
        Monitor(**kwargs)


def test_step_must_increase() -> None:
    """An explicit step must be larger than the last one fed."""
    m = Monitor()
    m.update(1.0, step=10)
    assert m.update(1.0).__class__ is list
    assert m.step == 11
    with pytest.raises(RampupError, match=r"step=11 is invalid: expected an int > 11"):
        m.update(1.0, step=11)
    with pytest.raises(RampupError, match=r"step=9223372036854775808 is invalid"):
        m.update(1.0, step=2**63)  # beyond the 64-bit history: refused, nothing changed
    assert (m.step, len(m.history()["step"])) == (11, 2)


# -- state and export -----------------------------------------------------------------------------
SEQ = st.lists(
    st.one_of(st.floats(0.0, 50.0), st.sampled_from([math.nan, math.inf, 1e6])), max_size=60
)


@given(SEQ, SEQ)
@settings(max_examples=80, deadline=None)
def test_state_round_trip_gives_identical_decisions(first: list[float], rest: list[float]) -> None:
    """Resume from a JSON round-trip of the state: the same events as an uninterrupted run."""
    whole = Monitor(warmup_steps=30, warm_start=3, classic_factor=10.0)
    expected = feed(whole, first + rest)
    a = Monitor(warmup_steps=30, warm_start=3, classic_factor=10.0)
    got = feed(a, first)
    b = Monitor(warmup_steps=30, warm_start=3, classic_factor=10.0)
    b.load_state_dict(json.loads(json.dumps(a.state_dict(), allow_nan=False)))
    got += feed(b, rest)
    assert [e.to_dict() for e in got] == [e.to_dict() for e in expected]
    assert b.history()["loss"] == pytest.approx(whole.history()["loss"], nan_ok=True)


def test_a_corrupt_state_changes_nothing() -> None:
    """A state with a missing key is a clear error and the monitor keeps its own state."""
    m = Monitor(warm_start=1)
    m.update(3.0)
    state = Monitor(warm_start=1).state_dict()
    del state["recent_grad"]
    with pytest.raises(
        RampupError, match=r"Monitor\.load_state_dict\(\): state=.*\(no key 'recent_grad'\)"
    ):
        m.load_state_dict(state)
    assert (m.step, m.initial_loss, m.history()["loss"]) == (0, 3.0, [3.0])


def _fed_state() -> dict[str, Any]:
    """The JSON state of Monitor(20, warm_start=3) after 1, 1, 1, 9 (a spike at step 3)."""
    m = Monitor(20, warm_start=3)
    feed(m, [1.0, 1.0, 1.0, 9.0], [0.5, 0.5, 0.5, 0.5])
    state: dict[str, Any] = json.loads(json.dumps(m.state_dict(), allow_nan=False))
    return state


def _set(state: dict[str, Any], path: tuple[Any, ...], value: object) -> None:
    """Set state[path[0]][path[1]]... to value."""
    for key in path[:-1]:
        state = state[key]
    state[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("version",), 4, r"1, 2 or 3"),
        (("version",), True, r"1, 2 or 3"),
        (("version",), 2.0, r"1, 2 or 3"),
        (("step",), "x", r"an int in \[-1, 9223372036854775807\]"),
        (("step",), 2.0, r"an int in \[-1, "),
        (("step",), -2, r"an int in \[-1, "),
        (("step",), 2, r"a list of at most 3 finite numbers"),  # 4 losses in 3 updates
        (("recent",), [1.0, "x", 1.0, 9.0], r"a list of at most 4 finite numbers"),
        (("recent",), [1.0, 1.0, "nan", 9.0], r"a list of at most 4 finite numbers"),
        (("recent",), "1, 1", r"a list of at most 4 finite numbers"),
        (("recent_grad",), [10**400], r"a list of at most 4 finite numbers"),
        (("initial_loss",), "inf", r"a finite number once warm_start=3 finite losses"),
        (("initial_loss",), "nan", r"a finite number once warm_start=3 finite losses"),
        (("initial_loss",), "1.0", r"a finite number once warm_start=3 finite losses"),
        (("above",), -1, r"an int in \[0, 4\]"),
        (("above",), True, r"an int in \[0, 4\]"),
        (
            ("diverging",),
            True,
            r"False \(state\['above'\]=1 updates in a row, divergence_patience=5\)",
        ),
        (("spiking",), "x", r"True or False"),
        (("grad_spiking",), 0, r"True or False"),
        (("classic_active",), None, r"True or False"),
        (("unstable",), 1, r"True or False"),
        (("nonfinite",), "False", r"True or False"),
        (("events",), {}, r"a list of events"),
        (("events", 0, "kind"), "boom", r"one of nonfinite_loss"),
        (("events", 0, "step"), 4, r"a step <= the state's step 3"),
        (("events", 0, "step"), -1, r"an int in \[0, "),
        (("events", 0, "during_warmup"), 1, r"True or False"),
        (("events", 0, "value"), "x", r"a number \(or 'nan', 'inf', '-inf'\)"),
        (("events", 0, "message"), None, r"a str"),
        (("history", "step"), [0, 2, 1, 3], r"increasing update numbers from 0, ending at 3"),
        (("history", "step"), [0, 1, 2], r"increasing update numbers from 0, ending at 3"),
        (("history", "loss"), [1.0, 1.0, 1.0], r"a list of 4 numbers"),
        (("history", "lr"), ["nan", "nan", "nan", "x"], r"a list of 4 numbers"),
    ],
)
def test_each_bad_state_field_is_refused_by_name_and_changes_nothing(
    path: tuple[Any, ...], value: object, expected: str
) -> None:
    """Every field is checked, never coerced: the error names state[...] and its expectation."""
    state = _fed_state()
    Monitor(20, warm_start=3).load_state_dict(json.loads(json.dumps(state)))  # valid as made
    _set(state, path, value)
    m = Monitor(20, warm_start=3)
    feed(m, [2.0, 2.0])
    before = m.state_dict()
    where = "".join(f"\\[{k!r}\\]" for k in path[: 1 if path[0] in ("step",) else len(path)])
    with pytest.raises(RampupError, match=r"^Monitor\.load_state_dict\(\): state") as info:
        m.load_state_dict(state)
    assert re.search(expected, str(info.value)), str(info.value)
    if path != ("step",) or value != 2:
        assert re.search(rf"state{where}=", str(info.value)), str(info.value)
    assert m.state_dict() == before


def test_a_version_1_state_loads_under_the_new_names() -> None:
    """A version-1 state (seeds_factor, seeds_active, seeds_rule) loads; same decisions after."""
    m = Monitor.classic(10)
    feed(m, [1.0, 5.0, 11.0, 12.0])
    state = json.loads(json.dumps(m.state_dict(), allow_nan=False))
    assert [e["kind"] for e in state["events"]] == ["classic_rule"]
    old = dict(state, version=1)
    old["config"] = {
        ("seeds_factor" if k == "classic_factor" else k): v
        for k, v in state["config"].items()
        if k != "grad_spike_recent"
    }
    old["seeds_active"] = old.pop("classic_active")
    old["events"] = [dict(e, kind="seeds_rule") for e in state["events"]]
    resumed = Monitor.classic(10)
    resumed.load_state_dict(old)
    assert resumed.state_dict() == state
    assert feed(resumed, [2.0, 13.0]) == feed(m, [2.0, 13.0])


def test_csv_has_a_row_per_update_and_the_events() -> None:
    """The CSV export: header, one row per update, event kinds at their step, blanks if absent."""
    m = Monitor(warm_start=3)
    for i, x in enumerate([1.0, 1.0, 1.0, 9.0, math.nan]):
        m.update(x, lr=0.1 * (i + 1), grad_norm=None if i else 0.5)
    rows = list(csv.reader(io.StringIO(m.to_csv())))
    assert rows[0] == ["step", "lr", "loss", "grad_norm", "update_norm", "event"]
    assert rows[1] == ["0", "0.1", "1.0", "0.5", "", ""]
    assert rows[4][2:] == ["9.0", "", "", "spike"]
    assert rows[5][2] == "nan"
    assert rows[5][5] == "nonfinite_loss"


def test_json_export_is_strict_json(tmp_path: Path) -> None:
    """The JSON export has no bare NaN/Infinity; non-finite numbers are strings."""
    m = Monitor()
    m.update(math.inf, lr=0.5)
    path = tmp_path / "h.json"
    text = m.to_json(path)

    def refuse(name: str) -> None:
        raise AssertionError(name)

    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    assert text == path.read_text(encoding="utf-8")
    assert data["history"]["loss"] == ["inf"]
    assert data["history"]["lr"] == [0.5]
    assert data["events"][0]["kind"] == "nonfinite_loss"


def test_exports_refuse_a_bad_path_before_writing(tmp_path: Path) -> None:
    """A path that is not a str/Path, or in a missing directory: a RampupError, no file."""
    m = Monitor()
    m.update(1.0)
    with pytest.raises(RampupError, match=r"^Monitor\.to_csv\(\): path=3 is invalid"):
        m.to_csv(3)  # type: ignore[arg-type]  # bad on purpose
    missing = tmp_path / "missing" / "h.json"
    with pytest.raises(RampupError, match=r"^Monitor\.to_json\(\): path=.* existing directory"):
        m.to_json(missing)
    assert not missing.parent.exists()


def test_history_can_be_switched_off() -> None:
    """history=False keeps no rows but takes the same decisions."""
    losses = CURVES["mlp_sgd_bump"]["loss"]
    on, off = Monitor(), Monitor(history=False)
    assert [e.to_dict() for e in feed(off, losses)] == [e.to_dict() for e in feed(on, losses)]
    assert off.history()["loss"] == []
    assert "history" not in off.state_dict()


def test_curves_feed_the_plotting_functions() -> None:
    """History as plotting Curves: finite values only, event steps marked; plot_curves draws it."""
    m = Monitor(warm_start=3)
    for i, x in enumerate([1.0, 1.0, 1.0, 1.0, 9.0, math.nan, 1.0]):
        m.update(x, lr=0.1 * (i + 1))
    loss, lr = m.curves()
    assert (loss.label, lr.label) == ("loss", "lr")
    assert loss.steps.tolist() == [0, 1, 2, 3, 4, 6]  # the NaN at step 5 is not drawn
    assert loss.bounds == (4, 5)  # the spike and the non-finite loss
    assert lr.values.tolist() == pytest.approx([0.1 * k for k in range(1, 8)])
    assert len(plot_curves([loss, lr], log=True).axes) >= 1
    with pytest.raises(RampupError, match=r"Monitor\.curves\(\): columns="):
        m.curves(("accuracy",))


def test_a_gradient_norm_that_climbed_is_not_a_spike_against_its_old_level() -> None:
    """24 norms of 1, then 8 of 2 (the norm climbed): 4 is a jump against the window only.

    Window of 32: median 1, MAD 0, initial norm 1, so its level is 1 + max(2 x 1, 0, 0.5) = 3;
    the recent level (median of the last 8) is 2, so 3 x 2 = 6: 4 is no spike, 6.5 is one.
    Without the recent term (grad_spike_recent=None, the rule before) 4 was a spike.
    """
    norms = [1.0] * 24 + [2.0] * 8
    m = Monitor(100)
    assert feed(m, [1.0] * 32, norms) == []
    assert m.grad_spike_threshold() == 6.0
    assert m.update(1.0, grad_norm=4.0) == []
    (event,) = m.update(1.0, grad_norm=6.5)
    assert (event.kind, event.step) == ("grad_spike", 33)
    old = Monitor(100, grad_spike_recent=None)
    feed(old, [1.0] * 32, norms)
    assert old.grad_spike_threshold() == 3.0
    assert [e.kind for e in old.update(1.0, grad_norm=4.0)] == ["grad_spike"]


def test_a_jump_against_a_flat_gradient_norm_is_still_a_spike() -> None:
    """32 norms of 1: both levels are 3, so 3.5 is a spike, and so is each later isolated jump.

    Isolated jumps (3.5, 8, 5, a few updates apart) do not lift the recent median of 8.
    """
    m = Monitor(100)
    assert feed(m, [1.0] * 32, [1.0] * 32) == []
    assert m.grad_spike_threshold() == 3.0
    norms = [3.5, 1.0, 1.0, 8.0, 1.0, 1.0, 1.0, 5.0, 1.0]
    events = feed(m, [1.0] * len(norms), norms)
    assert [(e.step, e.kind) for e in events] == [
        (32, "grad_spike"),
        (35, "grad_spike"),
        (39, "grad_spike"),
    ]


def test_the_recent_level_is_at_most_the_window() -> None:
    """grad_spike_recent takes None or 1 to window; 0, window + 1, a float or a bool are refused."""
    assert Monitor(window=10, grad_spike_recent=10).grad_spike_recent == 10
    assert Monitor(grad_spike_recent=None).grad_spike_recent is None
    for bad in (0, 33, 2.0, True):
        with pytest.raises(RampupError, match=r"^Monitor\(\): grad_spike_recent=.*window=32"):
            Monitor(grad_spike_recent=bad)  # type: ignore[arg-type]  # bad on purpose


def test_the_climb_to_the_peak_of_a_healthy_post_ln_run_is_no_spike() -> None:
    """Recorded Post-LN run with warmup (default kernel) that learned: the old rule fired at 94.

    Its gradient norm climbed from about 0.8 to 1.3 over the last updates of the warmup, the
    loss falling: at update 94 the norm is above 3x the window's median, not above 3x the
    recent median, and with the recent term nothing is reported.
    """
    curve = CURVES["postln_warmup_s0_default"]
    loss, norms = curve["loss"], curve["grad_norm"]
    assert sum(loss[-20:]) / 20 < 0.01  # it learned the task
    t = 94
    assert norms[t] > 3 * float(np.median(norms[t - 32 : t]))
    assert norms[t] < 3 * float(np.median(norms[t - 8 : t]))
    old = feed(Monitor(100, grad_spike_recent=None), loss, norms)
    assert [(e.step, e.kind) for e in old][:1] == [(t, "grad_spike")]
    assert feed(Monitor(100), loss, norms) == []


def test_a_gradient_spike_from_zero_is_worded_as_a_rise() -> None:
    """Gradient norms of 0 then 1: a spike 'by +1' (no division by a zero median)."""
    events = feed(Monitor(20), [1.0] * 9, [0.0] * 8 + [1.0])
    assert [e.kind for e in events] == ["grad_spike"]
    assert "spiked by +1 during warmup" in events[0].message


def test_the_former_seeds_factor_keyword_still_works_and_warns() -> None:
    """Monitor(seeds_factor=10) is classic_factor=10 with a DeprecationWarning; both is an error."""
    with pytest.warns(DeprecationWarning, match="classic_factor"):
        m = Monitor(seeds_factor=10)
    assert m.classic_factor == 10
    with pytest.raises(RampupError, match=r"seeds_factor=10 is invalid: expected None when"):
        Monitor(seeds_factor=10, classic_factor=5)


def test_the_monitor_checks_are_the_shared_ones() -> None:
    """The monitor's int, optional-int and flag checks are rampup.checks', with their wording."""
    with pytest.raises(RampupError) as shared:
        check_optional_count("Monitor", "grad_spike_recent", 40, 1, "x", high=32)
    with pytest.raises(RampupError) as monitor:
        Monitor(grad_spike_recent=40)
    assert str(shared.value).split(" is invalid")[0] == str(monitor.value).split(" is invalid")[0]
    assert check_optional_count("f", "p", None, 1, "x") is None
    assert check_count("f", "p", 5, 1, "x", high=5) == 5
    with pytest.raises(RampupError, match=r"^f\(\): p=6 is invalid: expected x$"):
        check_count("f", "p", 6, 1, "x", high=5)
    assert check_flag("f", "p", False) is False
    assert check_optional_flag("f", "p", None) is None
    with pytest.raises(RampupError, match=r"^f\(\): p='no' is invalid: expected True or False$"):
        check_flag("f", "p", "no")
    with pytest.raises(RampupError, match=r"expected True, False or None$"):
        check_optional_flag("f", "p", 1)
    with pytest.raises(RampupError, match=r"^Monitor\(\): history=1 is invalid: expected True or"):
        Monitor(history=1)  # type: ignore[arg-type]  # bad on purpose

"""Invariants of every schedule, checked with hypothesis over random shapes, lengths and steps."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
from rampup import RampupError, Schedule
from rampup.core import registry
from rampup.core.schedule import Product
from rampup.core.shapes import Ramp

SETTINGS = settings(max_examples=150, deadline=None)

RAMPS: list[type[Ramp]] = [
    rampup.linear,
    rampup.cosine,
    rampup.poly,
    rampup.sqrt,
    rampup.log,
    rampup.exp,
]

lengths = st.integers(min_value=1, max_value=60)
factors = st.floats(min_value=0.0, max_value=2.0, allow_subnormal=False)
positive = st.floats(min_value=1e-3, max_value=2.0)
steps = st.integers(min_value=0, max_value=400)


@st.composite
def ramps(draw: st.DrawFn, *, positive_ends: bool = False) -> Ramp:
    """Any ramp: a random shape, length, start, to and endpoint (exp needs ends > 0)."""
    kind = draw(st.sampled_from(RAMPS))
    ends = positive if positive_ends or kind is rampup.exp else factors
    start = draw(st.none() | ends)
    to = draw(ends if kind is rampup.exp else st.none() | ends)  # exp cannot fall to 0
    endpoint = draw(st.sampled_from([None, True, False]))
    n = draw(lengths)
    if kind is rampup.poly:
        return rampup.poly(n, start=start, to=to, endpoint=endpoint, power=draw(positive))
    return kind(n, start=start, to=to, endpoint=endpoint)


open_ended: st.SearchStrategy[Schedule] = st.one_of(
    st.builds(lambda d, w: rampup.noam(d_model=d, warmup=w), st.integers(1, 1024), lengths),
    st.builds(lambda g: rampup.exp(gamma=g), st.floats(0.5, 1.0)),
    st.builds(lambda e, g: rampup.step(e, gamma=g), lengths, st.floats(0.0, 1.0)),
    st.builds(lambda a, b: rampup.multistep((a, a + b)), lengths, lengths),
    st.builds(lambda ts: rampup.invsqrt(timescale=ts), lengths),
    st.builds(
        lambda p, m, d, to: rampup.restarts(period=p, mult=m, decay=d, to=to),
        lengths,
        st.floats(1.0, 3.0),
        st.floats(0.0, 1.0),
        st.floats(0.0, 0.5),
    ),
    st.builds(rampup.untuned, st.floats(0.9, 0.9999)),
    st.builds(lambda b: rampup.untuned(b, shape="exp"), st.floats(0.5, 0.9999)),
    st.builds(rampup.radam, st.floats(0.7, 0.9999)),
    st.just(rampup.constant(value=0.3)),
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """A random lone ramp, chain of ramps, open-ended phase, chain ending open, or product."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(ramps())
    if kind == 1:
        return draw(ramps()) >> draw(ramps())
    if kind == 2:
        return draw(ramps()) >> draw(ramps()) >> draw(ramps())
    if kind == 3:
        return draw(open_ended)
    if kind == 4:
        return draw(ramps()) >> draw(open_ended)
    return draw(factors) * (draw(ramps()) >> draw(ramps())) * draw(open_ended)


def within_ulp(a: np.ndarray, b: np.ndarray, ulps: int = 1) -> bool:
    """Every pair differs by at most ``ulps`` ulps of the larger magnitude."""
    scale = np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(np.abs(a - b) <= ulps * np.spacing(scale)))


def ulps_of(s: Schedule) -> int:
    """The paths agree within an ulp per factor: math.exp and np.exp may round differently."""
    return len(s.factors) if isinstance(s, Product) else 1


# -- scalar, vectorised and array_formula paths agree ----------------------------------------------
@SETTINGS
@given(schedules(), st.lists(steps, min_size=1, max_size=30))
def test_scalar_equals_values_within_one_ulp(s: Schedule, ts: list[int]) -> None:
    """s(t) and s.values(ts) agree within one ulp (per factor of a product) at every step."""
    scalar = np.array([s(t) for t in ts])
    assert within_ulp(s.values(ts), scalar, ulps_of(s))
    assert within_ulp(s.values(np.array(ts, dtype=np.float64)), scalar, ulps_of(s))


@SETTINGS
@given(schedules(), st.lists(st.floats(0.0, 400.0), min_size=1, max_size=20))
def test_scalar_equals_values_at_fractional_steps(s: Schedule, ts: list[float]) -> None:
    """Fractional steps (between updates) agree on both paths too."""
    scalar = np.array([s(t) for t in ts])
    assert within_ulp(s.values(ts), scalar, ulps_of(s))


@SETTINGS
@given(schedules(), st.lists(steps, min_size=1, max_size=30))
def test_array_formula_with_numpy_equals_values(s: Schedule, ts: list[int]) -> None:
    """array_formula(numpy), the branch-free form used for jax, equals values()."""
    t = np.array(ts, dtype=np.float64)
    with np.errstate(all="ignore"):  # branch-free: the unused side of a where may overflow
        formula = np.asarray(s.array_formula(np)(t), dtype=np.float64) + np.zeros_like(t)
    assert within_ulp(formula, s.values(t))


#: A numpy-like namespace that is not numpy itself: formulas take their branch-free path (jax's).
NUMPY_LIKE = SimpleNamespace(
    **{
        name: getattr(np, name)
        for name in (
            "cos", "sqrt", "exp", "expm1", "float_power", "log", "floor", "minimum", "maximum",
            "where",
        )
    }
)  # fmt: skip


@SETTINGS
@given(schedules(), st.lists(st.floats(0.0, 400.0), min_size=1, max_size=30))
def test_branch_free_formula_equals_values(s: Schedule, ts: list[float]) -> None:
    """The branch-free array_formula (xp.where between phases, as under jax.jit) equals values()."""
    t = np.array(ts, dtype=np.float64)
    with np.errstate(all="ignore"):  # branch-free: the unused side of a where may overflow
        formula = np.asarray(s.array_formula(NUMPY_LIKE)(t), dtype=np.float64) + np.zeros_like(t)
    assert within_ulp(formula, s.values(t))


@SETTINGS
@given(schedules(), schedules(), positive | st.just(0.0), st.lists(steps, min_size=1, max_size=20))
def test_product_equals_product_of_values(
    a: Schedule, b: Schedule, k: float, ts: list[int]
) -> None:
    """(k * a * b)(t) equals k * a(t) * b(t) on both paths."""
    s = k * a * b
    expected = np.array([k * a(t) * b(t) for t in ts])
    # below the normal range (2.2e-308) a float keeps absolute, not relative, precision: the
    # two orders of multiplication may differ there by a few subnormal steps
    tiny = np.finfo(np.float64).tiny
    assert np.allclose([s(t) for t in ts], expected, rtol=1e-14, atol=tiny)
    assert np.allclose(s.values(ts), k * a.values(ts) * b.values(ts), rtol=1e-14, atol=tiny)


# -- shapes --------------------------------------------------------------------------------------
@SETTINGS
@given(ramps(), steps | st.floats(min_value=0.0, max_value=400.0))
def test_ramp_stays_between_its_endpoints(r: Ramp, t: float) -> None:
    """A ramp's values lie within [min(start, to), max(start, to)] at every step, fractional too."""
    assert isinstance(r.length, int)
    if r.start is None and r.to is None:  # a lone phase without endpoints: the default warmup
        first, last = 1 / r.length, 1.0
    else:  # an endpoint left out is the peak, 1
        first = 1.0 if r.start is None else r.start
        last = 1.0 if r.to is None else r.to
    lo, hi = min(first, last), max(first, last)
    value = r(t)
    assert lo - 1e-12 <= value <= hi + 1e-12
    assert lo - 1e-12 <= r.values([t])[0] <= hi + 1e-12


@SETTINGS
@given(st.sampled_from(RAMPS), st.integers(2, 60), st.floats(0.0, 1.0, exclude_max=True))
def test_rising_ramp_holds_the_peak_between_its_last_step_and_the_end(
    kind: type[Ramp], n: int, frac: float
) -> None:
    """A warmup is exactly 1 at fractional steps in [n - 1, n): it never overshoots the peak."""
    r = kind(n, start=0.5 if kind is rampup.exp else 0.0, to=1.0)
    t = n - 1 + frac
    assert r(t) == 1.0
    assert r.values([t])[0] == 1.0


@SETTINGS
@given(st.sampled_from(RAMPS), st.integers(2, 200), st.none() | positive)
def test_warmup_is_monotone_and_reaches_the_peak_on_its_last_step(
    kind: type[Ramp], n: int, start: float | None
) -> None:
    """A rising ramp never decreases, starts at `start` (default 1/n) and is 1 at t = n - 1."""
    if start is not None and start >= 1:
        start = 1 / (1 + start)
    r = kind(n, start=start)
    values = r.values(np.arange(n + 5))
    assert np.all(np.diff(values) >= 0)
    assert values[0] == pytest.approx(1 / n if start is None else start, rel=1e-12)
    assert values[n - 1] == pytest.approx(1.0, rel=1e-12)
    assert np.all(values[n - 1 :] == values[-1])


@SETTINGS
@given(st.floats(0.6001, 0.9999), st.booleans())
def test_adam_warmups_rise_towards_one(beta2: float, exponential: bool) -> None:
    """The untuned and radam warmup factors rise monotonically, stay in (0, 1] and tend to 1."""
    s = rampup.untuned(beta2, shape="exp") if exponential else rampup.radam(beta2)
    values = s.values(np.arange(3000))
    assert np.all(np.diff(values) >= -1e-15)
    assert np.all((values > 0) & (values <= 1 + 1e-12))
    assert s(10**9) == pytest.approx(1.0, abs=1e-9)


@SETTINGS
@given(st.integers(1, 2048), st.integers(1, 500), st.floats(0.1, 10.0))
def test_noam_rises_until_its_warmup_then_falls(d_model: int, warmup: int, factor: float) -> None:
    """Noam increases up to update warmup - 1 and decreases after, never reaching 0."""
    s = rampup.noam(d_model=d_model, warmup=warmup, factor=factor)
    values = s.values(np.arange(3 * warmup + 2))
    assert np.all(np.diff(values[:warmup]) > 0)
    assert np.all(np.diff(values[warmup - 1 :]) < 0)
    assert values[0] > 0


CONTINUOUS: list[Callable[[int, int], Schedule]] = [
    lambda w, d: rampup.linear(w) >> rampup.cosine(d),
    lambda w, d: rampup.linear(w) >> rampup.linear(d, to=0.1),
    lambda w, d: rampup.cosine(w) >> rampup.cosine(d, to=0.01),
    lambda w, d: rampup.poly(w, power=2.0) >> rampup.poly(d, power=2.0, to=0.0),
    lambda w, d: rampup.sqrt(w) >> rampup.sqrt(d, to=0.0),
    lambda w, d: rampup.exp(w, start=0.01) >> rampup.exp(d, to=0.01),
    lambda w, d: rampup.linear(w) >> rampup.invsqrt(),
    lambda w, d: rampup.log(w) >> rampup.constant(d) >> rampup.cosine(d),
    lambda w, d: rampup.wsd(w, decay=d, shape="linear").bind(total_steps=w + 3 * d),
    lambda w, d: rampup.tri_stage(w, d, d),
]


@SETTINGS
@given(st.sampled_from(range(len(CONTINUOUS))), st.integers(3, 200), st.integers(3, 200))
def test_continuous_shapes_do_not_jump_at_phase_boundaries(k: int, w: int, d: int) -> None:
    """At each boundary b, |s(b) - s(b - 1)| is no larger than the neighbouring per-step changes."""
    s = CONTINUOUS[k](w, d)
    for b in s.bounds:
        if b < 2:
            continue
        jump = abs(s(b) - s(b - 1))
        slope = max(abs(s(b - 1) - s(b - 2)), abs(s(b + 1) - s(b)))
        assert jump <= slope + 1e-12, (b, jump, slope)


@SETTINGS
@given(schedules(), steps)
def test_final_value_never_changes_after_the_end(s: Schedule, t: int) -> None:
    """Past final_step, the value is the same at every later step, including 10**12."""
    end = s.final_step
    if end is None:
        return
    assert s(end + t) == s(end) == s(10**12)


@SETTINGS
@given(schedules(), steps)
def test_values_are_finite(s: Schedule, t: int) -> None:
    """Every schedule gives a finite, non-negative value at every step."""
    value = s(t)
    assert math.isfinite(value)
    assert value >= 0


# -- fuzz: extreme numbers in every numeric argument ---------------------------------------------
#: Numbers as a spec writes them: huge, tiny, subnormal, negative, beyond 2**53, around 1.
EXTREME_NUMBERS = [
    "0", "1", "2", "3", "10", "0.5", "0.999", "0.6000000000000001", "0.9999999999999999",
    "1.0000000000000002", "1e-9", "1e-300", "5e-324", "1e300", "1.7e308", "9007199254740992",
    "9007199254740993", "100000000000000000000", "-1", "-1e300", "-0.5",
]  # fmt: skip
#: Lengths as a spec writes them: fractions and epochs, huge and tiny.
EXTREME_LENGTHS = ["50%", "100%", "1e-300%", "2ep", "0.5ep", "1e308ep", "1e-300ep"]
#: Words the string parameters take (a wrong one is a RampupError too).
WORDS = [
    "linear", "cosine", "exp", "sqrt", "poly", "cos", "1-sqrt", "constant", "polynomial",
    "cosine_with_restarts", "cosine_with_min_lr", "warmup_stable_decay", "inverse_sqrt",
    "exponential", "untuned_linear", "untuned_exponential", "radam", "true", "false", "none",
]  # fmt: skip
#: Keyword arguments of transformers() beyond its signature (it takes **kwargs).
HF_EXTRAS = ["num_cycles", "min_lr_rate", "lr_init", "lr_end", "power", "timescale",
             "num_decay_steps", "num_stable_steps", "min_lr_ratio"]  # fmt: skip
#: Every name of the spec language but the adaptive controller (a tool, fuzzed with the guard).
FUZZED = [n for n in registry.NAMES if n not in ("auto", "bind")]
#: bind()'s arguments, as Python values: every kind of bad number, and good ones.
BIND_TOTALS: list[object] = [None, 1, 2, 10, 1000, 2**53, 2**53 + 1, 10**20, 10**400, 0, -5,
                             1.5, math.nan, math.inf]  # fmt: skip
BIND_PER_EPOCH: list[object] = [None, 1, 10, 0.5, 1e-300, 5e-324, 1e308, 2**53, 2.0**60,
                                10**400, math.inf, math.nan, -1, 0]  # fmt: skip


@st.composite
def extreme_specs(draw: st.DrawFn, name: str) -> str:
    """A spec calling ``name`` with extreme values in its numeric arguments."""
    sig = registry.signature(name)
    assert sig is not None
    args: list[str] = []
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    extras = HF_EXTRAS if name == "transformers" else []
    for param in params:
        if param.default is not param.empty and not draw(st.booleans()):
            continue
        hint = str(param.annotation)
        if "bool" in hint and "float" not in hint:
            value = draw(st.sampled_from(["true", "false", "none"]))
        elif hint == "str":
            value = draw(st.sampled_from(WORDS))
        elif "Sequence" in hint:
            items = draw(
                st.lists(st.sampled_from(EXTREME_NUMBERS + EXTREME_LENGTHS), min_size=1, max_size=3)
            )
            value = "[" + ", ".join(items) + "]"
        elif "Length" in hint:
            value = draw(st.sampled_from(EXTREME_NUMBERS + EXTREME_LENGTHS))
        else:
            value = draw(st.sampled_from(EXTREME_NUMBERS))
        args.append(f"{param.name}={value}")
    chosen = draw(st.lists(st.sampled_from(extras), max_size=3, unique=True)) if extras else []
    args += [f"{key}={draw(st.sampled_from(EXTREME_NUMBERS + WORDS[:3]))}" for key in chosen]
    return f"{name}({', '.join(args)})"


def _checked_values(s: Schedule) -> None:
    """s(t) and s.values at the run's landmarks are finite, >= 0 and agree (or a RampupError)."""
    try:
        end = s.final_step
    except RampupError:
        return  # a length that needs binding: an error at evaluation is the expected outcome
    total = end if end is not None else 1000
    ts = sorted({0, 1, total // 2, max(total - 1, 0), total, 10**18, 1.7e308})
    scalar = [s(t) for t in ts]
    vector = s.values(ts).tolist()
    for t, a, b in zip(ts, scalar, vector, strict=True):
        assert math.isfinite(a), (str(s), t, a)
        assert math.isfinite(b), (str(s), t, b)
        assert min(a, b) >= 0, (str(s), t, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300), (str(s), t, a, b)


@pytest.mark.parametrize("name", FUZZED)
@settings(max_examples=200, deadline=None)
@given(
    data=st.data(), total=st.sampled_from(BIND_TOTALS), per_epoch=st.sampled_from(BIND_PER_EPOCH)
)
def test_extreme_numbers_give_a_rampup_error_or_finite_agreeing_values(
    name: str, data: st.DataObject, total: object, per_epoch: object
) -> None:
    """Only RampupError escapes parse(), bind() and evaluation; what constructs is finite.

    Any other exception (OverflowError, ZeroDivisionError, TypeError, a numpy RuntimeWarning,
    which the suite turns into an error) fails the test.
    """
    text = data.draw(extreme_specs(name), label="spec")
    try:
        s = rampup.parse(text)
    except RampupError:
        return
    _checked_values(s)
    try:
        bound = s.bind(total, per_epoch)  # type: ignore[arg-type]  # bad types on purpose
    except RampupError:
        return
    _checked_values(bound)


# -- single steps read segments: the phase's own formula on its own steps -------------------------
@SETTINGS
@given(schedules(), st.lists(steps | st.floats(0.0, 400.0), min_size=1, max_size=30))
def test_segment_of_a_step_gives_its_value_exactly(s: Schedule, ts: list[float]) -> None:
    """s.segment(t) = (lo, hi, offset, f) contains t, and f(t - offset) is s(t), bit for bit."""
    for t in ts:
        lo, hi, offset, f = s.segment(t)
        assert lo <= t < hi
        assert f(t - offset) == s(t) or (math.isnan(s(t)) and math.isnan(f(t - offset)))


@SETTINGS
@given(schedules(), st.lists(steps | st.floats(0.0, 400.0), min_size=1, max_size=30))
def test_single_steps_do_not_depend_on_the_order_they_are_asked_in(
    s: Schedule, ts: list[float]
) -> None:
    """The runner keeps the segment of the last step: any order gives the values of a fresh one."""
    asked = [s(t) for t in ts]
    fresh = [copy.deepcopy(s)(t) for t in ts]  # a new runner for every step
    again = [s(t) for t in reversed(ts)][::-1]
    assert np.array_equal(asked, fresh, equal_nan=True)
    assert np.array_equal(asked, again, equal_nan=True)

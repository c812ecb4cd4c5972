"""Composition, evaluation and identity of schedules: chains, products, binding, steps, pickling."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from transformers import get_cosine_schedule_with_warmup

import rampup
from rampup import Schedule


def cos_decay(t: float, n: int, start: float = 1.0, to: float = 0.0) -> float:
    """A cosine decay of n steps from start (t = 0) to `to` (t = n), written out."""
    return to + (start - to) * (1 + math.cos(math.pi * t / n)) / 2


# -- composition -----------------------------------------------------------------------------------
def test_each_phase_sees_its_local_step() -> None:
    """In a chain, phase k is evaluated at t minus the steps of the phases before it."""
    s = rampup.constant(3, 0.5) >> rampup.linear(4, start=0.2, to=0.9) >> rampup.step(2, gamma=0.5)
    # constant on 0..2; the rising ramp on 3..6 with local u = (t - 3) / 3; step from 7 on.
    assert [s(t) for t in range(3)] == [0.5, 0.5, 0.5]
    for t in range(3, 7):
        assert s(t) == pytest.approx(0.2 + 0.7 * (t - 3) / 3, rel=1e-15)
    assert [s(t) for t in (7, 8, 9, 10, 11)] == [1.0, 1.0, 0.5, 0.5, 0.25]  # 0.5**((t - 7) // 2)


def test_phase_without_length_takes_the_rest_of_the_run() -> None:
    """linear(4) >> cosine >> constant(3, 0.1) in 20 steps gives the cosine 20 - 4 - 3 = 13."""
    s = (rampup.linear(4) >> rampup.cosine() >> rampup.constant(3, 0.1)).bind(total_steps=20)
    assert s.bounds == (4, 17, 20)
    assert s.final_step == 20
    for t in range(4, 17):
        assert s(t) == pytest.approx(cos_decay(t - 4, 13), rel=1e-12, abs=1e-16)
    assert [s(t) for t in (17, 19, 20, 10**6)] == [0.1, 0.1, 0.1, 0.1]


def test_two_phases_without_length_are_an_error() -> None:
    """Only one phase may take the rest of the run: two such phases raise at construction."""
    with pytest.raises(rampup.RampupError, match="more than one phase leaves out its length"):
        rampup.linear(4) >> rampup.cosine() >> rampup.linear(to=0.1)


def test_rest_phase_without_total_steps_is_an_error_when_evaluated() -> None:
    """A closed phase taking the rest of the run needs total_steps: without, evaluating raises."""
    s = rampup.linear(4) >> rampup.cosine()
    with pytest.raises(rampup.RampupError, match="total_steps"):
        s(0)


def test_open_ended_last_phase_runs_for_ever_without_total_steps() -> None:
    """An open-ended last phase (invsqrt) needs no total_steps: it runs for ever."""
    s = rampup.linear(4) >> rampup.invsqrt()
    assert s.final_step is None
    assert s(4 + 12) == pytest.approx(0.5, rel=1e-15)  # 1 / sqrt((12 + 4) / 4)


def test_lone_warmup_phase_rises_then_holds_one() -> None:
    """A lone linear(10%) is a warmup over 10 % of the run, then 1 holds to the end and after."""
    s = rampup.linear("10%").bind(total_steps=100)
    assert [s(t) for t in (0, 1, 9)] == [0.1, 0.2, 1.0]  # (t + 1) / 10
    assert [s(t) for t in (10, 50, 99, 100, 10**9)] == [1.0] * 5


def _cosine_decay(t: int, d: int) -> float:
    """The half-cosine from 1 to 0 over d steps, written out: 1/2 (1 + cos(pi t / d))."""
    return 0.5 * (1.0 + math.cos(math.pi * t / d))


def test_warmup_factor_times_bare_cosine_is_warmup_times_cosine_decay() -> None:
    """linear(5%) * cosine over 1000 steps: min(1, (t + 1) / 50) * 1/2 (1 + cos(pi t / 1000)).

    A lengthless cosine takes the whole run, so it is a decay (from 1 to 0), in a product too:
    the factor dampens the start of the decay, as the README's composition row says.
    """
    s = rampup.parse("linear(5%) * cosine").bind(total_steps=1000)
    expected = {
        0: 0.02,  # 1/50 * 1
        49: _cosine_decay(49, 1000),  # the warmup reaches 1 on its last step
        500: 0.5,  # the decay's midpoint
        999: 0.5 * (1.0 - math.cos(math.pi / 1000)),  # 1/2 (1 + cos(0.999 pi)): ~2.5e-6
        1000: 0.0,  # the decay's end value holds
    }
    for t, value in expected.items():
        assert s(t) == pytest.approx(value, rel=1e-12, abs=1e-15), t
        assert s.values([t])[0] == pytest.approx(value, rel=1e-12, abs=1e-15), t
    assert s(999) < 1e-5


def test_a_lone_lengthless_ramp_is_a_decay_over_the_run() -> None:
    """A bare cosine (or linear) takes the whole run and falls from 1 to 0 over it."""
    cos = rampup.parse("cosine").bind(total_steps=1000)
    assert [cos(t) for t in (0, 500, 1000)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)
    assert cos(250) == pytest.approx(_cosine_decay(250, 1000), rel=1e-15)
    lin = rampup.linear().bind(total_steps=10)
    assert [lin(t) for t in range(11)] == pytest.approx([(10 - t) / 10 for t in range(11)])


def test_a_ramp_with_a_length_first_is_still_the_default_warmup() -> None:
    """cosine(100) first (with a length) warms up from 1/100 to 1: only lengthless ramps decay."""
    s = rampup.cosine(100)
    assert s(0) == pytest.approx(0.01, rel=1e-15)
    assert s(99) == 1.0
    t = 40
    assert s(t) == pytest.approx(0.01 + 0.99 * 0.5 * (1 - math.cos(math.pi * t / 99)), rel=1e-14)


def test_bare_cosine_after_a_warmup_is_the_same_decay_as_in_a_product() -> None:
    """In linear(5%) >> cosine the bare cosine decays over the other 950 steps, from 1 to 0."""
    s = rampup.parse("linear(5%) >> cosine").bind(total_steps=1000)
    assert [s(t) for t in (0, 49, 50)] == [0.02, 1.0, 1.0]
    assert s(50 + 475) == pytest.approx(0.5, rel=1e-15)
    assert s(999) == pytest.approx(_cosine_decay(949, 950), rel=1e-12)


def test_warmup_longer_than_the_run_is_an_error_at_bind() -> None:
    """A warmup of 200 steps in a run of 100 raises at bind(), naming the lengths."""
    with pytest.raises(rampup.RampupError, match="total_steps=100"):
        (rampup.linear(200) >> rampup.cosine()).bind(total_steps=100)
    with pytest.raises(rampup.RampupError, match="total_steps=100"):
        rampup.linear(200).bind(total_steps=100)
    with pytest.raises(rampup.RampupError, match="total_steps=100"):
        (rampup.linear(100) >> rampup.cosine()).bind(total_steps=100)  # leaves 0 for the decay


def test_unbound_relative_length_is_an_error_when_evaluated() -> None:
    """A chain with a '%' length that was never bound raises RampupError on evaluation."""
    s = rampup.linear("5%") >> rampup.cosine(100)
    with pytest.raises(rampup.RampupError, match="total_steps"):
        s(0)
    with pytest.raises(rampup.RampupError, match="total_steps"):
        s.values(np.arange(3))


def test_rebinding_a_bound_schedule_uses_the_new_run() -> None:
    """Binding a bound schedule again re-binds it: the decay stretches to the longer run."""
    s = rampup.warmup_cosine(10).bind(total_steps=100).bind(total_steps=200)
    assert s(10 + 95) == pytest.approx(cos_decay(95, 190), rel=1e-12)
    assert s.final_step == 200


def test_bind_takes_numpy_numbers() -> None:
    """total_steps=np.int64(200) and steps_per_epoch=np.float32(10) bind like int and float."""
    s = rampup.parse("linear(5%) >> cosine")
    assert s.bind(total_steps=np.int64(200)) == s.bind(total_steps=200)
    e = rampup.linear("1.5ep").bind(steps_per_epoch=np.float32(10))
    assert e.final_step == 15  # 1.5 epochs of 10 updates
    with pytest.raises(rampup.RampupError, match=r"total_steps=np.True_ is invalid"):
        s.bind(total_steps=np.bool_(True))  # type: ignore[arg-type]  # the wrong type on purpose


# -- products --------------------------------------------------------------------------------------
def test_product_of_schedules_multiplies_their_values() -> None:
    """(a * b)(t) = a(t) * b(t), each evaluated at the global step; the final values multiply."""
    a = rampup.untuned(0.99, shape="exp")
    b = (rampup.linear(4) >> rampup.cosine(to=0.1)).bind(total_steps=24)
    s = a * b
    for t in (0, 1, 3, 4, 13, 23, 24, 500):
        warm = 1 - math.exp(-0.01 * (t + 1))
        base = (t + 1) / 4 if t < 4 else cos_decay(t - 4, 20, 1, 0.1) if t < 24 else 0.1
        assert s(t) == pytest.approx(warm * base, rel=1e-12)


def test_number_times_schedule_scales_it() -> None:
    """1e-3 * s and s * 2 scale every value, and a product of products flattens."""
    s = rampup.linear(4)
    assert [(1e-3 * s)(t) for t in range(5)] == [1e-3 * (t + 1) / 4 for t in range(4)] + [1e-3]
    assert [(s * 2)(t) for t in range(5)] == [0.5, 1.0, 1.5, 2.0, 2.0]
    product = 2 * (3 * s)
    assert isinstance(product, rampup.core.schedule.Product)
    assert product.scale == 6.0
    assert product.factors == (s,)


def test_product_holds_each_factor_after_its_own_end() -> None:
    """A closed factor holds its final value while a longer factor goes on."""
    s = rampup.linear(2) * rampup.linear(6, start=0.4, to=1.0, endpoint=False)
    # linear(2): 0.5, 1, then 1; the second: 0.4 + 0.6 t / 6.
    assert [s(t) for t in range(7)] == pytest.approx(
        [0.5 * 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], rel=1e-15
    )


def test_joining_a_product_is_an_error() -> None:
    """Only phases and chains join with >>: a product on either side is a RampupError."""
    with pytest.raises(rampup.RampupError, match="only phases and chains"):
        (2 * rampup.linear(4)) >> rampup.cosine(4)


# -- after the end ---------------------------------------------------------------------------------
def test_value_never_rises_again_after_the_run_unlike_hf_cosine() -> None:
    """HF's cosine schedule rises again past num_training_steps; ours holds the final value."""
    n, w = 100, 10
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    hf = get_cosine_schedule_with_warmup(opt, num_warmup_steps=w, num_training_steps=n)
    hf_lambda = hf.lr_lambdas[0]
    assert hf_lambda(n + 20) > hf_lambda(n) + 0.01  # theirs: cos(pi * progress) with progress > 1
    s = rampup.warmup_cosine(w).bind(total_steps=n)
    after = [s(t) for t in range(n, n + 200)]
    assert after == [0.0] * 200
    assert max(after) <= min(s(t) for t in range(n))
    assert s.values(np.arange(n, n + 200)).tolist() == after


def test_value_never_rises_again_after_the_run_unlike_torch_sequentiallr() -> None:
    """SequentialLR(LinearLR, CosineAnnealingLR) rises again past T_max; ours holds."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1e-3)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=90, eta_min=1e-6)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[10])
    theirs = []
    for _ in range(130):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        seq.step()
    assert theirs[125] > theirs[100] * 10  # theirs climbs back towards the peak
    s = (rampup.linear(10, start=0.1, endpoint=False) >> rampup.cosine(90, to=1e-3)) * 1e-3
    ours = [s(t) for t in range(130)]
    assert ours[100:] == [pytest.approx(1e-6, rel=1e-12)] * 30
    assert max(ours[100:]) <= min(ours[:100])


@pytest.mark.parametrize(
    "s",
    [
        rampup.warmup_cosine(5).bind(total_steps=30),
        rampup.warmup_linear(5, to=0.1).bind(total_steps=30),
        rampup.wsd(5).bind(total_steps=30),
        rampup.tri_stage(5, 5, 10),
        rampup.restarts(30, period=7),
        rampup.onecycle(30),
        rampup.linear(5) >> rampup.linear(10, to=0.2) >> rampup.constant(4, 0.05),
    ],
    ids=str,
)
def test_final_value_holds_for_ever(s: Schedule) -> None:
    """From the end of the last phase on, every step gives the same final value."""
    end = s.final_step
    assert end is not None
    final = s(end)
    for t in (end + 1, end + 7, 10**6, 10**12):
        assert s(t) == final
    assert s.values([end, end + 1, 10**12]).tolist() == [final] * 3


# -- steps -----------------------------------------------------------------------------------------
T12 = 10**12


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        (rampup.warmup_cosine(100, to=0.01).bind(total_steps=10**6), 0.01),
        (rampup.linear(4), 1.0),
        (rampup.noam(d_model=512, warmup=4000), 512**-0.5 * (T12 + 1) ** -0.5),
        (rampup.exp(gamma=0.999), 0.0),  # 0.999**1e12 underflows to 0
        (rampup.step(1000, gamma=0.5), 0.0),
        (rampup.invsqrt(timescale=10**4), math.sqrt(10**4 / (T12 + 10**4))),
        (rampup.restarts(period=4), 1.0),  # 10**12 = 0 mod 4: a cycle's first step
        (
            rampup.restarts(period=1, mult=2.0),
            (1 + math.cos(math.pi * (T12 + 1 - 2**39) / 2**39)) / 2,
        ),
        (rampup.untuned(0.999, shape="exp"), 1.0),
        (rampup.radam(0.999), 1.0),
        (rampup.constant(), 1.0),
    ],
    ids=str,
)
def test_steps_up_to_ten_to_the_twelve_work(s: Schedule, expected: float) -> None:
    """Step 10**12 evaluates on both paths to the formula's value there."""
    assert s(T12) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert s.values(np.array([T12]))[0] == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert s.values(np.array([T12], dtype=np.int64))[0] == s(T12)


BAD_STEPS: list[object] = [-1, -0.5, -1e-300, math.nan, math.inf, -math.inf, "3", "a", None, 1j]
SCHEDULES: list[Schedule] = [
    rampup.linear(4),
    rampup.noam(),
    rampup.exp(gamma=0.5),
    rampup.linear(4) >> rampup.cosine(4),  # warmup >> cosine, the most common chain
    rampup.linear(4) >> rampup.linear(4),  # warmup >> linear decay
    rampup.linear(4) >> rampup.poly(4, power=2.0, to=0.0),  # a general two-phase chain
    rampup.linear(2) >> rampup.constant(2) >> rampup.cosine(4),  # three phases
    rampup.linear(4) * rampup.untuned(0.999, shape="exp"),
    2.0 * rampup.warmup_cosine(4).bind(total_steps=10),
]


@pytest.mark.parametrize("step", BAD_STEPS, ids=repr)
@pytest.mark.parametrize("s", SCHEDULES, ids=str)
def test_invalid_step_is_a_rampup_error(s: Schedule, step: object) -> None:
    """Negative, NaN, infinite and non-numeric steps raise RampupError on every path."""
    with pytest.raises(rampup.RampupError, match="step="):
        s(step)  # type: ignore[arg-type]  # bad types on purpose
    with pytest.raises(rampup.RampupError, match="step="):
        s.as_function()(step)  # type: ignore[arg-type]  # bad types on purpose
    with pytest.raises(rampup.RampupError, match="step="):
        s.values([0, step])  # type: ignore[arg-type]  # bad types on purpose


@pytest.mark.parametrize("s", SCHEDULES, ids=str)
def test_values_equal_scalar_path(s: Schedule) -> None:
    """values() over an array equals s(t) step by step within one ulp, in any order and shape."""
    steps = np.array([*range(12), 50, 1000, 12345.0, 2.5, 0.25])
    scalar = np.array([s(float(t)) for t in steps])
    assert np.all(np.abs(s.values(steps) - scalar) <= np.spacing(np.abs(scalar)))
    shuffled = steps[::-1].reshape(-1, 1)  # unsorted and 2-D
    assert s.values(shuffled).shape == (len(steps), 1)
    assert np.all(
        np.abs(s.values(shuffled)[:, 0] - scalar[::-1]) <= np.spacing(np.abs(scalar[::-1]))
    )


# -- identity --------------------------------------------------------------------------------------
IDENTITY_CASES: list[Schedule] = [
    rampup.linear(10),
    rampup.cosine("5%", to=0.01).bind(total_steps=400),
    rampup.linear(4) >> rampup.cosine(40, to=0.1),
    rampup.warmup_cosine("5%").bind(total_steps=1000),
    rampup.wsd("2ep", decay="10%").bind(total_steps=1000, steps_per_epoch=50),
    rampup.noam(d_model=128, warmup=4000),
    rampup.multistep((10, 20), gamma=0.5),
    rampup.restarts(period=4, mult=2.0, decay=0.9),
    1e-3 * (rampup.untuned(0.999, shape="exp") * rampup.linear(8)),
]


@pytest.mark.parametrize("s", IDENTITY_CASES, ids=str)
def test_pickle_round_trip_gives_an_equal_schedule(s: Schedule) -> None:
    """A pickled schedule (even one already evaluated) loads equal, with the same values."""
    steps = np.arange(0, 1200, 7)
    before = s.values(steps)
    s(0)  # compile the scalar closure first: it must not end up in the pickle
    loaded = pickle.loads(pickle.dumps(s))  # noqa: S301  # our own bytes
    assert loaded == s
    assert hash(loaded) == hash(s)
    assert loaded.values(steps).tolist() == before.tolist()
    assert [loaded(float(t)) for t in steps[:20]] == [s(float(t)) for t in steps[:20]]


@pytest.mark.parametrize("s", IDENTITY_CASES, ids=str)
def test_copies_and_class_attributes_call_like_the_original(s: Schedule) -> None:
    """copy, deepcopy and a schedule kept as a class attribute all evaluate like ``s``.

    ``s(t)`` dispatches through a slot holding the compiled closure; a copy must not share a
    stale closure, and a schedule stored on a class must not turn into a method that receives
    the instance as its step.
    """
    expected = [s(float(t)) for t in range(0, 40, 3)]
    for other in (copy.copy(s), copy.deepcopy(s)):
        assert other == s
        assert [other(float(t)) for t in range(0, 40, 3)] == expected

    class Config:
        lr = s

    assert [Config().lr(float(t)) for t in range(0, 40, 3)] == expected
    assert [Config.lr(float(t)) for t in range(0, 40, 3)] == expected
    assert "__call__" not in vars(s)  # the closure is not part of the value's fields


@pytest.mark.parametrize("s", IDENTITY_CASES, ids=str)
def test_values_returns_a_fresh_array_and_leaves_the_steps_alone(s: Schedule) -> None:
    """``values`` never aliases or alters its input, even a float64 array it need not convert."""
    steps = np.arange(0.0, 1200.0, 7.0)
    kept = steps.copy()
    out = s.values(steps)
    assert out.shape == steps.shape
    assert out.dtype == np.float64
    assert not np.shares_memory(out, steps)
    out[:] = -1.0  # writing the result must change neither the input nor a later evaluation
    assert steps.tolist() == kept.tolist()
    scalar = [s(float(t)) for t in steps]  # the scalar path: equal within an ulp per factor
    np.testing.assert_allclose(s.values(steps), scalar, rtol=1e-15, atol=0)


def test_inspect_signature_of_a_schedule_is_one_step() -> None:
    """inspect.signature: a schedule takes one positional step; a class keeps its constructor's."""
    import inspect  # noqa: PLC0415

    for s in (rampup.linear(10), rampup.parse("linear(5%) >> cosine").bind(total_steps=100)):
        sig = inspect.signature(s)
        assert [(p.name, p.kind) for p in sig.parameters.values()] == [
            ("step", inspect.Parameter.POSITIONAL_ONLY)
        ]
        assert sig.return_annotation is float
        assert sig.bind(3).args == (3,)  # what a caller may pass
    ctor = inspect.signature(type(rampup.linear(10)))
    assert list(ctor.parameters) == ["length", "start", "to", "endpoint"]


def test_equal_parameters_give_equal_hashable_schedules() -> None:
    """Schedules compare by value: equal parameters are equal and hash alike; others differ."""
    assert rampup.linear(10) == rampup.linear(10)
    assert rampup.linear(10) == rampup.linear(10.0)  # type: ignore[arg-type]  # a whole float is the step count 10
    assert rampup.linear(10) != rampup.linear(11)
    assert rampup.linear(10) != rampup.cosine(10)  # type: ignore[comparison-overlap]  # on purpose
    assert rampup.linear(10, start=0.1) != rampup.linear(10)
    a = rampup.linear(4) >> rampup.cosine(to=0.1)
    b = rampup.linear(4) >> rampup.cosine(to=0.1)
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, rampup.linear(4), rampup.linear(4)}) == 2
    assert a.bind(total_steps=100) == b.bind(total_steps=100)
    assert a.bind(total_steps=100) != b.bind(total_steps=101)
    assert 2 * rampup.linear(4) == rampup.linear(4) * 2


def test_evaluation_does_not_change_equality() -> None:
    """Evaluating a schedule (which caches its compiled form) leaves it equal to a fresh one."""
    s = rampup.warmup_cosine(4).bind(total_steps=20)
    s(3)
    s.values([1, 2])
    assert s == rampup.warmup_cosine(4).bind(total_steps=20)
    assert hash(s) == hash(rampup.warmup_cosine(4).bind(total_steps=20))


def test_segments_cut_a_chain_at_its_phases_the_cap_and_the_end() -> None:
    """linear(4) >> cosine(4): the warmup to its last step, its peak to 4, the decay, the hold."""
    s = rampup.linear(4) >> rampup.cosine(4)
    lo, hi, offset, f = s.segment(0)
    assert (lo, offset) == (0, 0)
    assert hi == math.nextafter(3.0, math.inf)  # t <= 3: the formula
    assert [f(t) for t in (0, 1, 2, 3)] == [0.25, 0.5, 0.75, 1.0]
    lo, hi, offset, f = s.segment(3.5)  # between the last warmup step and the decay: the peak
    assert (lo, hi, f(3.5 - offset)) == (math.nextafter(3.0, math.inf), 4, 1.0)
    lo, hi, offset, f = s.segment(5)
    assert (lo, hi, offset) == (4, 8, 4)
    assert f(1) == s(5) == 0.5 + 0.5 * math.cos(math.pi / 4)
    lo, hi, offset, f = s.segment(10**400)  # an int beyond the float range: the final value
    assert (lo, hi, f(10**400 - offset)) == (8, math.inf, 0.0)


@pytest.mark.parametrize("step", BAD_STEPS, ids=repr)
def test_segment_of_an_invalid_step_is_a_rampup_error(step: object) -> None:
    """segment() checks its step as s(t) does."""
    with pytest.raises(rampup.RampupError, match="step="):
        (rampup.linear(4) >> rampup.cosine(4)).segment(step)  # type: ignore[arg-type]  # on purpose

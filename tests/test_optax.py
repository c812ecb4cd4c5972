"""rampup.optax: the schedule under jax.jit, equal to the numpy path, driving real optax optimizers.

Precision: JAX computes in float32 by default. Tests in float32 compare within float32 rounding,
``rtol = atol / peak = 16 * eps32`` (about 1.9e-6; the formulas chain a few float32 operations
and the cosine of a rounded argument). Tests marked "x64" run inside ``jax.enable_x64(True)``
(scoped: the global setting is untouched) and compare to float64 rounding (1e-12). Expected
values come from ``Schedule.values`` (the numpy path), from hand-written formulas, or from
optax's own schedules; never from the adapter itself.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
import rampup.optax
from rampup.core import compat, registry
from rampup.core.schedule import iter_phases

EPS32 = float(np.finfo(np.float32).eps)
#: float32 comparisons: relative to the schedule's largest value (see the module docstring).
TOL32 = 16 * EPS32
#: float64 comparisons (x64 mode): jnp's cos/pow are not numpy's libm, so a few ulps apart.
TOL64 = 1e-12

#: Every phase of shapes.py and compat.py, and the composites, as (spec, total_steps).
SPECS: list[tuple[str, int | None]] = [
    ("linear(10) >> cosine", 100),
    ("cosine(10) >> cosine(to=0.1)", 100),
    ("poly(10, power=2) >> poly(power=0.5, start=1.0, to=0.0)", 100),
    ("sqrt(10) >> sqrt(start=1.0, to=0.0)", 100),
    ("log(10) >> log(start=1.0, to=0.01)", 100),
    ("exp(10, start=0.01, to=1.0) >> exp(start=1.0, to=0.01)", 100),
    ("linear(10) >> exp(gamma=0.97)", None),
    ("constant(10, 0.1) >> constant", 100),
    ("step(7, gamma=0.5)", None),
    ("multistep([10, 30, 60], gamma=0.5)", None),
    ("linear(5) >> invsqrt", None),
    ("invsqrt(timescale=20)", None),
    ("restarts(100, period=20, decay=0.8, to=0.01)", None),
    ("restarts(200, period=10, mult=2.0, decay=0.9)", None),
    ("restarts(100, cycles=2.5)", None),
    ("onecycle(100)", None),
    ("onecycle(100, three_phase=true, anneal=linear)", None),
    ("noam(d_model=64, warmup=20)", None),
    ("untuned(0.99)", None),
    ("untuned(0.99, shape=exp)", None),
    ("radam(0.9)", None),
    ("hf_cosine(100, cycles=1.5, to=0.1)", None),
    ("hf_sqrt_warmup(20, start=0.1)", None),
    ("timm_decay(30, to=0.1, mult=2.0, decay=0.5, limit=3, skip=5)", None),
    ("timm_decay(30, to=0.1, limit=2, skip=5)", None),
    ("expo_warmup(20)", None),
    ("untuned(0.99, shape=exp) * (linear(10) >> cosine)", 100),
    ("0.5 * linear(10)", None),
    ("wsd(10, decay=20)", 100),
    ("tri_stage(10, 20, 30)", None),
    ("linear(1) >> cosine(5)", None),
    ("transformers('cosine', num_warmup_steps=10, num_training_steps=100)", None),
    ("timm_cosine(30, base_lr=0.1, warmup_t=5, lr_min=0.001, cycle_mul=2.0, cycle_limit=3)", None),
    ("torch_sequential(warmup_iters=10, start_factor=0.1, t_max=90)", None),
    ("auto(0.98) >> cosine", 400),
]
#: Traced fine, but float32 rounding changes a value by far more than float32 rounding: exact
#: with x64 (see test_every_shape_traces_and_equals_numpy_x64).
FLOAT32_GAPS: list[tuple[str, int | None, str]] = [
    ("radam(0.999)", None, "the rectifier's cancellation near rho = 4 loses ~2% at step 0"),
]

#: Integer steps: every step of the first 300, the end of the runs, and far beyond.
INT_STEPS = np.concatenate([np.arange(300), [399, 400, 10**6, 10**9 - 1, 10**9, 2**31 - 1]])
#: Fractional steps between the integers, within and past the runs.
FLOAT_STEPS = np.concatenate([np.arange(300) + 0.25, np.arange(300) + 0.5, [1e6 + 0.5]])


@contextmanager
def x64() -> Iterator[None]:
    """JAX's 64-bit mode, for the duration of a block only."""
    with jax.enable_x64(True):
        yield


def bound(spec: str, total: int | None) -> rampup.Schedule:
    """The spec parsed, bound to ``total`` steps when given."""
    s = rampup.parse(spec)
    return s if total is None else s.bind(total_steps=total)


def jitted(f: Callable[[Any], Any], steps: npt.NDArray[Any], dtype: Any) -> npt.NDArray[Any]:
    """``f`` under jax.jit on ``steps`` as a JAX array of ``dtype``, back as float64 numpy."""
    return np.asarray(jax.jit(f)(jnp.asarray(steps, dtype=dtype)), dtype=np.float64)


def assert_close32(got: npt.NDArray[Any], expected: npt.NDArray[Any]) -> None:
    """Equal within float32 rounding, relative to the largest value of the schedule."""
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(got, expected, rtol=TOL32, atol=TOL32 * scale)


# -- import ---------------------------------------------------------------------------------------
def test_import_rampup_never_imports_jax_keras_or_optax() -> None:
    """`import rampup` loads no framework; `import rampup.optax` loads jax only (not optax)."""
    code = textwrap.dedent(
        """
        import sys
        import rampup
        rampup.parse("linear(5%) >> cosine").bind(total_steps=100).values(range(100))
        frameworks = {"jax", "jaxlib", "optax", "keras", "torch", "tensorflow"}
        print(sorted(m for m in frameworks if m in sys.modules))
        import rampup.optax
        print(sorted(m for m in frameworks if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "['jax', 'jaxlib']"]


# -- jit equals the numpy path --------------------------------------------------------------------
def test_specs_cover_every_phase_of_the_spec_language() -> None:
    """SPECS and FLOAT32_GAPS use every phase the spec language knows, so each one is traced."""
    used = {
        phase.spec_name
        for spec, total in [*SPECS, *((spec, total) for spec, total, _ in FLOAT32_GAPS)]
        for phase in iter_phases(bound(spec, total))
    }
    assert set(registry.PHASES) <= used


@pytest.mark.parametrize(("spec", "total"), SPECS)
def test_every_shape_traces_and_equals_numpy(spec: str, total: int | None) -> None:
    """Under jit in float32, integer and fractional steps equal s.values() to float32 rounding."""
    s = bound(spec, total)
    f = rampup.optax.schedule(s)
    assert_close32(jitted(f, INT_STEPS, jnp.int32), s.values(INT_STEPS))
    # fractional steps are float32 JAX arrays: the reference is taken at the same float32 steps
    steps32 = FLOAT_STEPS.astype(np.float32).astype(np.float64)
    assert_close32(jitted(f, FLOAT_STEPS, jnp.float32), s.values(steps32))


@pytest.mark.parametrize(
    ("spec", "total"), [*SPECS, *((spec, total) for spec, total, _ in FLOAT32_GAPS)]
)
def test_every_shape_traces_and_equals_numpy_x64(spec: str, total: int | None) -> None:
    """In scoped 64-bit mode, jitted values equal s.values() to float64 rounding."""
    s = bound(spec, total)
    with x64():
        f = rampup.optax.schedule(s)
        got_int = jitted(f, INT_STEPS, jnp.int64)
        got_float = jitted(f, FLOAT_STEPS, jnp.float64)
    np.testing.assert_allclose(got_int, s.values(INT_STEPS), rtol=TOL64, atol=TOL64)
    np.testing.assert_allclose(got_float, s.values(FLOAT_STEPS), rtol=TOL64, atol=TOL64)


@pytest.mark.parametrize(
    ("spec", "total"),
    [
        pytest.param(spec, total, marks=pytest.mark.xfail(reason=why, strict=True))
        for spec, total, why in FLOAT32_GAPS
    ],
)
def test_known_float32_gaps(spec: str, total: int | None) -> None:
    """These shapes trace but lose more than float32 rounding in float32 (reported to the core)."""
    s = bound(spec, total)
    assert_close32(jitted(rampup.optax.schedule(s), INT_STEPS, jnp.int32), s.values(INT_STEPS))


@settings(max_examples=10, deadline=None)  # each example compiles a new schedule
@given(
    warmup=st.integers(1, 50),
    rest=st.integers(1, 200),
    to=st.floats(0.0, 0.5),
    shape=st.sampled_from(["linear({})", "cosine({})", "sqrt({})", "poly({}, power=2.0)"]),
    steps=st.lists(st.floats(0.0, 400.0), min_size=1, max_size=20),
)
def test_random_warmup_decay_equals_numpy_x64(
    warmup: int, rest: int, to: float, shape: str, steps: list[float]
) -> None:
    """Random warmup >> decay and random steps: jitted values equal s.values() (x64)."""
    decay = shape.format(f"start=1.0, to={to!r}")
    s = rampup.parse(f"linear({warmup}) >> {decay}").bind(total_steps=warmup + rest)
    t = np.array([*steps, *(round(x) for x in steps)])
    with x64():
        got = jitted(rampup.optax.schedule(s), t, jnp.float64)
    np.testing.assert_allclose(got, s.values(t), rtol=TOL64, atol=TOL64)


def test_steps_near_a_billion_equal_numpy() -> None:
    """A 2e9-step run: int32 steps near 10**9 and past the end equal the numpy path."""
    s = rampup.parse("linear(1000) >> cosine(to=0.01)").bind(total_steps=2_000_000_000)
    steps = np.array(
        [0, 999, 1000, 10**9 - 1, 10**9, 10**9 + 1, 1_999_999_999, 2_000_000_000, 2**31 - 1]
    )
    f = rampup.optax.schedule(s)
    assert_close32(jitted(f, steps, jnp.int32), s.values(steps))
    with x64():
        got = jitted(rampup.optax.schedule(s), steps, jnp.int64)
    np.testing.assert_allclose(got, s.values(steps), rtol=TOL64, atol=TOL64)


def test_integer_steps_keep_boundaries_exact_past_float32_precision() -> None:
    """A phase ending at 999_999_995: int32 steps 999_999_994 and _995 fall on either side."""
    f = rampup.optax.schedule("constant(999999995, 0.1) >> constant")
    got = jitted(f, np.array([999_999_994, 999_999_995]), jnp.int32)
    assert got.tolist() == [float(np.float32(0.1)), 1.0]


def test_python_and_numpy_steps_outside_jit() -> None:
    """Called eagerly on Python and NumPy numbers, values equal s(t) (ints above int32 too)."""
    s = rampup.parse("linear(4) >> cosine").bind(total_steps=8)
    f = rampup.optax.schedule(s, peak=2.0)
    for t in [0, 3, 4.5, np.int64(6), np.float32(7.0), 8, 3_000_000_000]:
        assert float(f(t)) == pytest.approx(2.0 * s(float(t)), rel=TOL32, abs=TOL32)
    assert np.asarray(f([0, 1])).tolist() == [0.5, 1.0]


def test_bad_traced_steps_give_nan() -> None:
    """Inside jit a step cannot raise: negative, NaN and infinite steps give NaN."""
    f = rampup.optax.schedule("linear(4) >> cosine", total_steps=8)
    assert np.isnan(jitted(f, np.array([-1]), jnp.int32)).all()
    assert np.isnan(jitted(f, np.array([-0.5, np.nan, np.inf]), jnp.float32)).all()


def test_output_is_float32_by_default_and_float64_in_x64() -> None:
    """The value's dtype is JAX's default float, for integer and float steps alike."""
    f = rampup.optax.schedule("linear(4) >> cosine", total_steps=8)
    assert f(jnp.asarray(3)).dtype == jnp.float32
    assert f(jnp.asarray(3.5)).dtype == jnp.float32
    with x64():
        assert f(jnp.asarray(3)).dtype == jnp.float64


def test_vmap_and_scan_trace() -> None:
    """The schedule runs under jax.vmap and inside jax.lax.scan (traced integer counter)."""
    s = rampup.parse("linear(10) >> cosine").bind(total_steps=50)
    f = rampup.optax.schedule(s)
    steps = np.arange(60)
    assert_close32(np.asarray(jax.vmap(f)(jnp.asarray(steps))), s.values(steps))

    def body(count: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
        return count + 1, f(count)

    _, values = jax.lax.scan(body, jnp.asarray(0), None, length=60)
    assert_close32(np.asarray(values), s.values(steps))


# -- binding, peak, inputs ------------------------------------------------------------------------
def test_total_steps_and_steps_per_epoch_bind() -> None:
    """A spec string with relative lengths binds through total_steps= and steps_per_epoch=."""
    f = rampup.optax.schedule("linear(2ep) >> cosine(to=0.1)", total_steps=100, steps_per_epoch=5)
    assert f.schedule == rampup.parse("linear(2ep) >> cosine(to=0.1)").bind(
        total_steps=100, steps_per_epoch=5
    )
    # the hand formula: (t + 1) / 10 for t < 10, then 0.1 + 0.9 * (1 + cos(pi (t - 10) / 90)) / 2
    assert float(f(9)) == 1.0
    assert float(f(55)) == pytest.approx(0.1 + 0.9 * 0.5, rel=TOL32)
    assert float(f(100)) == pytest.approx(0.1, rel=TOL32)


def test_rebinding_a_bound_schedule_keeps_what_is_not_overridden() -> None:
    """Given a bound schedule, total_steps= re-binds it and keeps its steps_per_epoch."""
    s = rampup.parse("linear(1ep) >> cosine").bind(total_steps=100, steps_per_epoch=4)
    f = rampup.optax.schedule(s, total_steps=200)
    assert f.schedule == rampup.parse("linear(1ep) >> cosine").bind(
        total_steps=200, steps_per_epoch=4
    )


def test_dict_input_and_peak() -> None:
    """to_dict()'s plain data is accepted; peak scales every value."""
    s = rampup.parse("linear(4) >> cosine").bind(total_steps=8)
    f = rampup.optax.schedule(s.to_dict(), peak=1e-3)
    assert f.schedule == s
    assert float(f(1)) == pytest.approx(1e-3 * 2 / 4, rel=TOL32)
    assert (
        repr(f) == "rampup.optax.schedule('bind(linear(4) >> cosine, total_steps=8)', peak=0.001)"
    )


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"s": 3}, "optax.schedule(): s=3 is invalid: expected a rampup Schedule"),
        ({"s": "linear(5%) >>"}, "optax.schedule(): s='linear(5%) >>' is invalid: expected a spec"),
        ({"s": {"type": "lin"}}, "optax.schedule(): s={'type': 'lin'} is invalid: expected to_d"),
        ({"s": "linear(5%) >> cosine"}, "optax.schedule(): s='linear(5%) >> cosine' cannot be b"),
        ({"s": "linear(2ep)", "total_steps": 10}, "no steps_per_epoch is known"),
        ({"s": "linear(50) >> cosine", "total_steps": 20}, "total_steps=20, steps_per_epoch=None"),
        ({"s": "linear(10)", "peak": 0}, "optax.schedule(): peak=0 is invalid: expected a finite"),
        ({"s": "linear(10)", "peak": math.inf}, "peak=inf is invalid"),
        ({"s": "linear(10)", "peak": True}, "peak=True is invalid"),
        (
            {"s": "linear(10)", "total_steps": 0},
            "total_steps=0 is invalid: expected a positive int",
        ),
        ({"s": "linear(10)", "total_steps": 1.5}, "total_steps=1.5 is invalid: expected a positi"),
        ({"s": "linear(10)", "steps_per_epoch": -1}, "steps_per_epoch=-1 is invalid: expected a p"),
        (
            {"s": "-1 * linear(10)", "peak": 1e-3},
            "scale=-1.0 is invalid: expected a finite number >= 0",
        ),
    ],
)
def test_bad_arguments_raise_rampup_error(kwargs: dict[str, Any], fragment: str) -> None:
    """Each bad argument is a RampupError naming the function, the parameter, value, expectation."""
    with pytest.raises(rampup.RampupError) as info:
        rampup.optax.schedule(**kwargs)
    assert fragment in str(info.value)
    assert str(info.value).startswith("optax.schedule(): ")


@pytest.mark.parametrize(
    ("step", "shown"),
    [
        (-1, "-1.0"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("3", "'3'"),
        (None, "None"),
        ([1, -2], "-2.0"),
        (True, "True"),  # regression: a bool passed as step 1
        (np.array([0, 1], dtype=bool), "False"),
    ],
)
def test_bad_eager_steps_raise_rampup_error(step: Any, shown: str) -> None:
    """A negative, NaN, infinite or non-numeric Python step is a RampupError, as for s(t)."""
    f = rampup.optax.schedule("linear(4)")
    with pytest.raises(rampup.RampupError) as info:
        f(step)
    assert str(info.value) == (
        f"OptaxSchedule(): step={shown} is invalid: expected a finite step >= 0"
        " (t = 0 is the first update)"
    )


# -- optax ----------------------------------------------------------------------------------------
def _regression() -> tuple[jax.Array, jax.Array, dict[str, jax.Array]]:
    """A tiny linear regression problem (fixed seed) and its zero-initialised parameters."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    return jnp.asarray(x), jnp.asarray(y), params


def _loss(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


def _train(opt: optax.GradientTransformation, steps: int) -> tuple[list[float], list[Any], Any]:
    """Run ``steps`` jitted updates; return the losses, the states after each update, params."""
    x, y, params = _regression()
    state = opt.init(params)

    @jax.jit
    def update(params: Any, state: Any) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    losses, states = [], []
    for _ in range(steps):
        params, state, loss = update(params, state)
        losses.append(float(loss))
        states.append(state)
    return losses, states, params


def _warmup_cosine(t: int, warmup: int, total: int) -> float:
    """The seeds' warmup+cosine by hand: (t + 1) / W, then a half cosine from 1 to 0."""
    if t < warmup:
        return (t + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (t - warmup) / (total - warmup)))


def test_adamw_trains_and_uses_the_schedule_each_step() -> None:
    """optax.adamw with the schedule trains; update t's lr (inject_hyperparams) is peak * s(t)."""
    peak, warmup, total = 0.1, 10, 60
    lr = rampup.optax.schedule("linear(10) >> cosine", total_steps=total, peak=peak)
    losses, states, params = _train(optax.inject_hyperparams(optax.adamw)(learning_rate=lr), total)
    assert losses[-1] < 0.05 * losses[0]
    used = [float(st.hyperparams["learning_rate"]) for st in states]
    expected = [peak * _warmup_cosine(t, warmup, total) for t in range(total)]
    np.testing.assert_allclose(used, expected, rtol=TOL32, atol=TOL32 * peak)
    # plain optax.adamw with the same schedule trains the same way (XLA fuses it differently,
    # and Adam's normalisation carries the float32 differences along: equal to 1e-3)
    plain_losses, _, plain_params = _train(optax.adamw(learning_rate=lr), total)
    np.testing.assert_allclose(plain_losses, losses, rtol=1e-3)
    for key in params:
        np.testing.assert_allclose(plain_params[key], params[key], rtol=1e-3, atol=1e-4)


def test_sgd_update_reveals_the_lr_of_each_step() -> None:
    """With plain optax.sgd the update is -lr * g: the lr recovered from it is peak * s(t)."""
    peak, warmup, total = 0.1, 10, 60
    opt = optax.sgd(rampup.optax.schedule("linear(10) >> cosine", total_steps=total, peak=peak))
    x, y, params = _regression()
    state = opt.init(params)

    @jax.jit
    def update(params: Any, state: Any) -> tuple[Any, Any, jax.Array]:
        grads = jax.grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, -updates["b"] / grads["b"]

    used = []
    for _ in range(total + 5):
        params, state, lr_t = update(params, state)
        used.append(float(lr_t))
    expected = [peak * _warmup_cosine(min(t, total), warmup, total) for t in range(total + 5)]
    np.testing.assert_allclose(used, expected, rtol=TOL32, atol=TOL32 * peak)


def test_inject_hyperparams_with_a_b1_schedule() -> None:
    """Adam's b1 scheduled by rampup (absolute values): each update uses s(t), first moment too."""
    b1 = rampup.optax.schedule("linear(20, start=0.5, to=0.9)")  # then 0.9 holds
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=0.05, b1=b1)
    losses, states, _ = _train(opt, 40)
    assert losses[-1] < 0.1 * losses[0]
    used = [float(st.hyperparams["b1"]) for st in states]
    # by hand: 0.5 + 0.4 * t / 19 reaches 0.9 on step 19, then 0.9 holds
    expected = [0.5 + 0.4 * min(t, 19) / 19 for t in range(40)]
    np.testing.assert_allclose(used, expected, rtol=TOL32, atol=TOL32)
    # the first update's moment is (1 - b1(0)) * g0 = 0.5 * g0: b1 really reached adam
    x, y, params = _regression()
    g0 = jax.grad(_loss)(params, x, y)
    mu = states[0].inner_state[0].mu
    np.testing.assert_allclose(np.asarray(mu["w"]), 0.5 * np.asarray(g0["w"]), rtol=1e-6)


# -- optax's own warmup_cosine_decay_schedule ------------------------------------------------------
WCD_CASES = [(0.0, 1e-3, 10, 100, 0.0), (1e-5, 3e-4, 7, 50, 1e-6), (0.1, 1.0, 1, 20, 0.5)]


@pytest.mark.parametrize(("init", "peak", "warmup", "decay_steps", "end"), WCD_CASES)
def test_equals_optax_warmup_cosine_decay_schedule(
    init: float, peak: float, warmup: int, decay_steps: int, end: float
) -> None:
    """Optax's convention is linear(W, start=init/peak, endpoint=false) >> cosine(to=end/peak)."""
    spec = f"linear({warmup}, start={init / peak!r}, endpoint=false) >> cosine(to={end / peak!r})"
    steps = np.arange(decay_steps + 20)
    theirs = optax.warmup_cosine_decay_schedule(init, peak, warmup, decay_steps, end)
    ours = rampup.optax.schedule(spec, total_steps=decay_steps, peak=peak)
    assert_close32(jitted(ours, steps, jnp.int32), np.asarray(jax.jit(jax.vmap(theirs))(steps)))
    with x64():
        theirs = optax.warmup_cosine_decay_schedule(init, peak, warmup, decay_steps, end)
        expected = np.asarray(jax.jit(jax.vmap(theirs))(jnp.asarray(steps)), dtype=np.float64)
        got = jitted(rampup.optax.schedule(spec, total_steps=decay_steps, peak=peak), steps, int)
    np.testing.assert_allclose(got, expected, rtol=TOL64, atol=TOL64 * peak)
    # optax's warmup reaches the peak one step late, at t = W; the default warmup on t = W - 1
    assert float(theirs(warmup - 1)) < peak


def test_hf_compat_cosine_equals_optax_warmup_cosine_from_zero() -> None:
    """compat.transformers('cosine') is optax's warmup_cosine_decay_schedule(0, peak, W, T)."""
    s = compat.transformers("cosine", num_warmup_steps=10, num_training_steps=100)
    steps = np.arange(120)
    with x64():
        theirs = optax.warmup_cosine_decay_schedule(0.0, 2e-3, 10, 100)
        expected = np.asarray(jax.jit(jax.vmap(theirs))(jnp.asarray(steps)), dtype=np.float64)
        got = jitted(rampup.optax.schedule(s, peak=2e-3), steps, int)
    np.testing.assert_allclose(got, expected, rtol=TOL64, atol=TOL64 * 2e-3)


def test_seeds_warmup_cosine_equals_optax_pieces_joined_at_w() -> None:
    """Seeds' get_lr_with_warmup = rampup's default = optax's linear to W - 1 joined at W."""
    base, floor, warmup, total = 1e-3, 1e-6, 10, 100
    theirs = optax.join_schedules(
        [
            optax.linear_schedule(base / warmup, base, warmup - 1),
            optax.cosine_decay_schedule(base, total - warmup, alpha=floor / base),
        ],
        [warmup],
    )
    spec = f"linear({warmup}) >> cosine(to={floor / base!r})"
    steps = np.arange(total + 10)

    def seed(epoch: int) -> float:  # seed 002's get_lr_with_warmup, re-typed
        if epoch < warmup:
            return base * (epoch + 1) / warmup
        progress = (epoch - warmup) / (total - warmup)
        return floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    with x64():
        optax_values = np.asarray(jax.jit(jax.vmap(theirs))(jnp.asarray(steps)), dtype=np.float64)
        got = jitted(rampup.optax.schedule(spec, total_steps=total, peak=base), steps, int)
    np.testing.assert_allclose(got, optax_values, rtol=TOL64, atol=TOL64 * base)
    within = [seed(t) for t in range(total)]  # the seed is defined within the run
    np.testing.assert_allclose(got[:total], within, rtol=TOL64, atol=TOL64 * base)
    assert got[warmup - 1] == got[warmup] == base


def test_the_docstrings_keep_their_examples() -> None:
    """rampup.optax's docstrings hold at least 4 examples (tests/test_doctests.py runs them)."""
    import doctest  # noqa: PLC0415  # only this test needs it

    examples = sum(len(test.examples) for test in doctest.DocTestFinder().find(rampup.optax))
    assert examples >= 4


def test_without_jax_the_message_names_the_extra_and_the_cause() -> None:
    """No JAX: rampup.optax says what to install, then the underlying error (the house style)."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['jax'] = None; import rampup.optax"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.stderr.strip().splitlines()[-1] == (
        "ImportError: rampup.optax needs JAX: pip install 'rampup[jax]'"
        " (import of jax halted; None in sys.modules)"
    )


def test_beta2_tells_a_bare_auto_the_optimizers_value() -> None:
    """beta2=0.98: auto's rule is round(2 / 0.02) = 100 updates; without it 2 / 0.001 = 2000."""
    told = rampup.optax.schedule("auto >> cosine", total_steps=10_000, peak=1e-3, beta2=0.98)
    assert told.schedule.bounds == (100, 10_000)
    assert float(told(0)) == pytest.approx(1e-3 / 100)
    assert rampup.optax.schedule("auto >> cosine", total_steps=10_000).schedule.bounds[0] == 2000
    given = rampup.optax.schedule("auto(0.95) >> cosine", total_steps=10_000, beta2=0.98)
    assert given.schedule.bounds[0] == 40  # a given beta2 is kept: 2 / 0.05
    with pytest.raises(rampup.RampupError, match=r"schedule\(\): beta2=1.5 is invalid"):
        rampup.optax.schedule("auto >> cosine", total_steps=100, beta2=1.5)

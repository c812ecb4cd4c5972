"""rampup.keras: a Keras 3 LearningRateSchedule, on the torch backend (and JAX in a subprocess).

Keras computes in float32 (``floatx``); values are compared within float32 rounding,
``rtol = atol / scale = 16 * eps32``. Expected values come from ``Schedule.values`` (the numpy
path) or from hand-written formulas; the learning rate each update used is read back from the
weights an SGD update moved, not from the adapter.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: no TensorFlow here

import keras  # the backend is chosen by the environment variable above
import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
import rampup.keras

EPS32 = float(np.finfo(np.float32).eps)
TOL32 = 16 * EPS32
#: Keras' torch backend converts a Variable with np.array(x, copy=False), which numpy 2 flags;
#: saving a model does it for every variable. Keras' own warning, not ours.
KERAS_NUMPY2_WARNING = (
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def assert_close32(got: Any, expected: npt.NDArray[Any], scale: float | None = None) -> None:
    """Equal within float32 rounding, relative to the largest value of the schedule."""
    scale = float(np.max(np.abs(expected))) if scale is None else scale
    got = np.asarray(got, dtype=np.float64)
    np.testing.assert_allclose(got, expected, rtol=TOL32, atol=TOL32 * scale)


def warmup_cosine(t: int, warmup: int, total: int) -> float:
    """The seeds' warmup+cosine by hand: (t + 1) / W, a half cosine from 1 to 0, then 0."""
    if t < warmup:
        return (t + 1) / warmup
    if t >= total:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * (t - warmup) / (total - warmup)))


def test_backend_is_torch() -> None:
    """These tests run Keras on the torch backend (no TensorFlow installed)."""
    assert keras.backend.backend() == "torch"


# -- values ---------------------------------------------------------------------------------------
SPECS: list[tuple[str, int | None]] = [
    ("linear(10) >> cosine(to=0.01)", 100),
    ("cosine(10) >> sqrt(start=1.0, to=0.0)", 100),
    ("exp(10, start=0.01, to=1.0) >> exp(gamma=0.97)", None),
    ("poly(10, power=2) >> poly(power=0.5, start=1.0, to=0.0)", 100),
    ("multistep([10, 30], gamma=0.5) * untuned(0.99, shape=exp)", None),
    ("linear(5) >> invsqrt", None),
    ("restarts(200, period=10, mult=2.0, decay=0.9)", None),
    ("onecycle(100)", None),
    ("noam(d_model=64, warmup=20)", None),
    ("timm_cosine(30, base_lr=0.1, warmup_t=5, lr_min=0.001, cycle_mul=2.0, cycle_limit=3)", None),
    ("wsd(10, decay=20)", 100),
]
INT_STEPS = np.concatenate([np.arange(250), [10**6, 10**9 - 1, 10**9, 2**31 - 1]])
FLOAT_STEPS = np.concatenate([np.arange(250) + 0.25, np.arange(250) + 0.5])


@pytest.mark.parametrize(("spec", "total"), SPECS)
def test_values_equal_numpy(spec: str, total: int | None) -> None:
    """On int64 and float32 torch tensors, values equal s.values() to float32 rounding."""
    s = rampup.parse(spec)
    s = s if total is None else s.bind(total_steps=total)
    k = rampup.keras.Schedule(s)
    assert_close32(k(torch.tensor(INT_STEPS, dtype=torch.int64)), s.values(INT_STEPS))
    steps32 = FLOAT_STEPS.astype(np.float32)  # the reference at the same float32 steps
    assert_close32(k(torch.tensor(steps32)), s.values(steps32.astype(np.float64)))


@settings(max_examples=40, deadline=None)
@given(
    warmup=st.integers(1, 50),
    rest=st.integers(1, 200),
    to=st.floats(0.0, 0.5),
    shape=st.sampled_from(["linear({})", "cosine({})", "sqrt({})", "poly({}, power=2.0)"]),
    steps=st.lists(st.integers(0, 400), min_size=1, max_size=20),
)
def test_random_warmup_decay_equals_numpy(
    warmup: int, rest: int, to: float, shape: str, steps: list[int]
) -> None:
    """Random warmup >> decay and random int64 steps: values equal s.values() (float32)."""
    decay = shape.format(f"start=1.0, to={to!r}")
    s = rampup.parse(f"linear({warmup}) >> {decay}").bind(total_steps=warmup + rest)
    got = rampup.keras.Schedule(s)(torch.tensor(steps, dtype=torch.int64))
    assert_close32(got, s.values(steps), scale=1.0)  # the peak is 1


def test_python_numpy_and_variable_steps() -> None:
    """Python and NumPy steps, and an int Variable like the optimizer's iterations, all work."""
    s = rampup.parse("linear(4) >> cosine").bind(total_steps=8)
    k = rampup.keras.Schedule(s, peak=2.0)
    for t in [0, 3, 4.5, np.int64(6), np.float32(7.0), 8, 3_000_000_000]:
        assert float(k(t)) == pytest.approx(2.0 * s(float(t)), rel=TOL32, abs=TOL32)
    iterations = keras.Variable(5, dtype="int64", trainable=False)
    assert float(k(iterations)) == pytest.approx(2.0 * s(5), rel=TOL32)


def test_integer_steps_keep_boundaries_exact_past_float32_precision() -> None:
    """A phase ending at 999_999_995: int64 steps 999_999_994 and _995 fall on either side."""
    k = rampup.keras.Schedule("constant(999999995, 0.1) >> constant")
    got = k(torch.tensor([999_999_994, 999_999_995], dtype=torch.int64))
    assert got.tolist() == [float(np.float32(0.1)), 1.0]


def test_values_are_floatx_and_bad_tensor_steps_are_nan() -> None:
    """The value is a floatx tensor; a negative or NaN step in a tensor gives NaN."""
    k = rampup.keras.Schedule("linear(4) >> cosine", total_steps=8)
    assert keras.backend.standardize_dtype(k(torch.tensor(3)).dtype) == keras.backend.floatx()
    assert torch.isnan(k(torch.tensor([-1]))).all()
    assert torch.isnan(k(torch.tensor([-0.5, math.nan, math.inf]))).all()


# -- training -------------------------------------------------------------------------------------
class Recorder(keras.callbacks.Callback):  # type: ignore[misc]  # keras is untyped
    """Per batch: the optimizer's iterations and lr before the update, the kernel before/after."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, float, float]] = []
        self.after: list[float] = []

    def _kernel(self) -> float:
        kernel = self.model.layers[0].kernel.value  # a torch Parameter on this backend
        return float(kernel.detach().reshape(-1)[0])

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Record the clock, the lr the coming update uses, and the weight before it."""
        opt = self.model.optimizer
        self.rows.append((int(opt.iterations.value), float(opt.learning_rate), self._kernel()))

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Record the weight after the update."""
        self.after.append(self._kernel())


def test_fit_uses_peak_times_the_schedule_each_update() -> None:
    """SGD on a loss of gradient 1: each update moves the weight by exactly its lr = peak * s(t)."""
    peak, warmup, total = 0.1, 5, 20
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    lr = rampup.keras.Schedule("linear(25%) >> cosine", peak=peak, total_steps=total)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mae")
    # |w * 1 - (-1000)| has gradient 1 in w while w > -1000: SGD's update is w -= lr
    x, y = np.ones((32, 1), np.float32), np.full((32, 1), -1000.0, np.float32)
    rec = Recorder()
    model.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[rec])  # 24 updates
    steps = [t for t, _, _ in rec.rows]
    assert steps == list(range(24))
    expected = np.array([peak * warmup_cosine(t, warmup, total) for t in steps])
    assert_close32([lr_t for _, lr_t, _ in rec.rows], expected)
    moved = np.array([row[2] - after for row, after in zip(rec.rows, rec.after, strict=True)])
    # the weight is about 1 in float32: each difference is exact to about 2 float32 ulps of 1
    np.testing.assert_allclose(moved, expected, rtol=0, atol=4 * EPS32)


def test_fit_on_the_jax_backend_traces_the_schedule_in_a_compiled_step() -> None:
    """KERAS_BACKEND=jax (a subprocess): fit's jitted step uses peak * s(t) at each update."""
    code = textwrap.dedent(
        """
        import json, numpy as np, keras, rampup.keras
        lr = rampup.keras.Schedule("linear(25%) >> cosine", peak=0.1, total_steps=20)
        dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")
        model = keras.Sequential([keras.Input((1,)), dense])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mae")
        kernels = [0.0]
        class Record(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):  # self.model syncs JAX's state
                kernel = self.model.layers[0].kernel.value
                kernels.append(float(np.asarray(kernel).reshape(-1)[0]))
        x, y = np.ones((32, 1), "float32"), np.full((32, 1), -1000.0, "float32")
        model.fit(x, y, batch_size=8, epochs=6, verbose=0, shuffle=False, callbacks=[Record()])
        print(keras.backend.backend(), json.dumps([a - b for a, b in zip(kernels, kernels[1:])]))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    backend, moved = out.stdout.strip().split(" ", 1)
    assert backend == "jax"
    expected = np.array([0.1 * warmup_cosine(t, 5, 20) for t in range(24)])
    np.testing.assert_allclose(json.loads(moved), expected, rtol=0, atol=4 * EPS32)


@pytest.mark.filterwarnings(KERAS_NUMPY2_WARNING)
def test_fit_save_load_keeps_the_schedule(tmp_path: Path) -> None:
    """Fit, save to .keras, load_model: same schedule and values; training resumes on the clock."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    lr = rampup.keras.Schedule("linear(25%) >> cosine", peak=0.1, total_steps=20)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mse")
    fit = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)  # deterministic
    losses = [float(v) for v in fit.history["loss"]]
    assert losses[2] < losses[1] < losses[0]
    assert losses[2] < 0.5 * losses[0]
    model.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras")
    restored = loaded.optimizer._learning_rate  # the schedule object Keras deserialised
    assert isinstance(restored, rampup.keras.Schedule)
    assert restored.schedule == lr.schedule
    assert restored.peak == 0.1
    assert restored.get_config() == lr.get_config()
    steps = torch.arange(30)
    assert torch.equal(restored(steps), lr(steps))
    # training resumes at update 12 with lr 0.1 * s(12), then continues along the schedule
    rec = Recorder()
    loaded.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[rec])
    assert [t for t, _, _ in rec.rows] == [12, 13, 14, 15]
    expected = np.array([0.1 * warmup_cosine(t, 5, 20) for t in range(12, 16)])
    assert_close32([lr_t for _, lr_t, _ in rec.rows], expected)


# -- config ---------------------------------------------------------------------------------------
def test_get_config_is_json_and_round_trips() -> None:
    """get_config() is plain JSON data; from_config() rebuilds an equal schedule and peak."""
    k = rampup.keras.Schedule("linear(2ep) >> cosine(20, to=0.01)", peak=3e-4, steps_per_epoch=10)
    config = json.loads(json.dumps(k.get_config()))
    assert config == {
        "schedule": {
            "type": "bind",
            "schedule": {
                "type": "chain",
                "phases": [
                    {"type": "linear", "length": "2ep"},
                    {"type": "cosine", "length": 20, "to": 0.01},
                ],
            },
            "steps_per_epoch": 10,
        },
        "peak": 3e-4,
    }
    again = rampup.keras.Schedule.from_config(config)
    assert again.schedule == k.schedule
    assert again.peak == k.peak
    assert repr(again) == (
        "rampup.keras.Schedule('bind(linear(2ep) >> cosine(20, to=0.01), steps_per_epoch=10)',"
        " peak=0.0003)"
    )


def test_keras_serialization_finds_the_registered_class() -> None:
    """keras.saving.serialize/deserialize round-trip through the registered name."""
    k = rampup.keras.Schedule("linear(10) >> cosine", peak=1e-3, total_steps=50)
    data = keras.saving.serialize_keras_object(k)
    assert data["registered_name"] == "rampup>Schedule"
    again = keras.saving.deserialize_keras_object(json.loads(json.dumps(data)))
    assert isinstance(again, rampup.keras.Schedule)
    assert again.schedule == k.schedule


def test_peak_scales_the_multipliers() -> None:
    """Schedule(s, peak=p) equals Schedule(p * s): the peak is the lr the multiplier 1 means."""
    s = rampup.parse("linear(10) >> cosine").bind(total_steps=50)
    steps = torch.arange(60)
    a = rampup.keras.Schedule(s, peak=1e-3)(steps)
    b = rampup.keras.Schedule(1e-3 * s)(steps)
    assert_close32(a, b.numpy().astype(np.float64))
    assert float(a[9]) == pytest.approx(1e-3, rel=TOL32)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((3,), {}, "keras.Schedule(): s=3 is invalid: expected a rampup Schedule"),
        (("cosine >>",), {}, "keras.Schedule(): s='cosine >>' is invalid: expected a spec string"),
        (("linear(5%)",), {}, "keras.Schedule(): s='linear(5%)' cannot be bound with total_steps"),
        (("linear(10)",), {"peak": -1.0}, "keras.Schedule(): peak=-1.0 is invalid: expected a f"),
        (("linear(10)",), {"peak": "1e-3"}, "keras.Schedule(): peak='1e-3' is invalid"),
        (("linear(10)",), {"total_steps": -5}, "keras.Schedule(): total_steps=-5 is invalid: exp"),
        (("linear(10)",), {"steps_per_epoch": 0}, "keras.Schedule(): steps_per_epoch=0 is invali"),
        (
            ("-1e-3 * linear(10)",),
            {},
            "scale=-0.001 is invalid: expected a finite number >= 0",
        ),
    ],
)
def test_bad_arguments_raise_rampup_error(
    args: tuple[Any, ...], kwargs: dict[str, Any], fragment: str
) -> None:
    """Each bad argument is a RampupError naming the function, the parameter, value, expectation."""
    with pytest.raises(rampup.RampupError) as info:
        rampup.keras.Schedule(*args, **kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("linear(10)", "config='linear(10)' is invalid: expected get_config()'s dict"),
        ({"peak": 1.0}, "config={'peak': 1.0} is invalid: expected get_config()'s dict"),
        ({"schedule": {"type": "linear", "length": 5}, "lr": 1}, "not 'lr'"),
        ({"schedule": {"type": "linaer"}}, "keras.Schedule(): s={'type': 'linaer'} is invalid"),
    ],
)
def test_bad_config_raises_rampup_error(config: Any, fragment: str) -> None:
    """from_config() refuses what get_config() cannot have produced, naming the key."""
    with pytest.raises(rampup.RampupError) as info:
        rampup.keras.Schedule.from_config(config)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("step", "shown"), [(-1, "-1.0"), (math.nan, "nan"), ("5", "'5'"), (True, "True")]
)
def test_bad_eager_steps_raise_rampup_error(step: Any, shown: str) -> None:
    """A negative, NaN or non-numeric Python step is a RampupError, as for s(t)."""
    k = rampup.keras.Schedule("linear(4)")
    with pytest.raises(rampup.RampupError) as info:
        k(step)
    assert str(info.value).startswith(f"keras.Schedule(): step={shown} is invalid: expected")


def test_the_docstrings_keep_their_examples() -> None:
    """rampup.keras's docstrings hold at least 3 examples (tests/test_doctests.py runs them)."""
    import doctest  # noqa: PLC0415  # only this test needs it

    examples = sum(len(test.examples) for test in doctest.DocTestFinder().find(rampup.keras))
    assert examples >= 3


def _import_in_a_subprocess(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
    )


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_a_missing_backend_is_named_with_what_to_do() -> None:
    """KERAS_BACKEND=tensorflow, TensorFlow not installed: the message names it and the fix."""
    pytest.importorskip("keras")
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed here")
    out = _import_in_a_subprocess("import rampup.keras", KERAS_BACKEND="tensorflow")
    assert out.returncode != 0
    assert _last_line(out.stderr) == (
        "ImportError: rampup.keras needs Keras 3 and its backend, 'tensorflow'"
        " (KERAS_BACKEND=tensorflow), which is not installed: set"
        " KERAS_BACKEND=torch|jax|tensorflow to a backend you have, or install it"
        " (pip install tensorflow) (No module named 'tensorflow')"
    )


def test_keras_unset_backend_says_it_is_keras_default() -> None:
    """No KERAS_BACKEND at all: the message says TensorFlow is Keras' default, and the fix."""
    pytest.importorskip("keras")
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed here")
    code = "import os; os.environ.pop('KERAS_BACKEND', None); import rampup.keras"
    out = _import_in_a_subprocess(code)
    assert "(Keras' default, KERAS_BACKEND is unset)" in out.stderr
    assert "set KERAS_BACKEND=torch|jax|tensorflow" in out.stderr


def test_without_keras_the_message_names_the_extra_and_the_cause() -> None:
    """No Keras at all: rampup.keras says what to install, then the underlying error."""
    out = _import_in_a_subprocess("import sys; sys.modules['keras'] = None; import rampup.keras")
    assert _last_line(out.stderr) == (
        "ImportError: rampup.keras needs Keras 3: pip install 'rampup[keras]'"
        " (import of keras halted; None in sys.modules)"
    )


def test_beta2_tells_a_bare_auto_the_optimizers_value() -> None:
    """beta2=0.98: auto's rule is round(2 / 0.02) = 100 updates, kept through get_config."""
    lr = rampup.keras.Schedule("auto >> cosine", total_steps=10_000, peak=1e-3, beta2=0.98)
    assert lr.schedule.bounds == (100, 10_000)
    again = rampup.keras.Schedule.from_config(lr.get_config())
    assert again.schedule.bounds == (100, 10_000)
    assert rampup.keras.Schedule("auto >> cosine", total_steps=10_000).schedule.bounds[0] == 2000
    with pytest.raises(rampup.RampupError, match=r"beta2='0.9' is invalid"):
        rampup.keras.Schedule("auto >> cosine", total_steps=100, beta2="0.9")  # type: ignore[arg-type]

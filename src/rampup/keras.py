r"""Keras 3 adapter: a rampup schedule as a ``keras.optimizers.schedules.LearningRateSchedule``.

``rampup.keras.Schedule(s, peak=...)`` drives any Keras optimizer, on every Keras backend
(tested with the torch and JAX backends; not with TensorFlow, see below). There is no second
copy of the math: the schedule's own formulas (:meth:`rampup.Schedule.array_formula`) are
evaluated with ``keras.ops``, so the value is computed by the backend, inside a compiled train
step too.

>>> import keras, rampup.keras
>>> lr = rampup.keras.Schedule("linear(5%) >> cosine", peak=1e-3, total_steps=1000)
>>> opt = keras.optimizers.AdamW(learning_rate=lr)

**The peak.** Values are multipliers (the peak of a warmup is 1); ``peak`` is the learning rate
the multiplier 1 stands for, so update ``t`` uses ``peak * s(t)``. The schedule is the
optimizer's ``learning_rate``, so the peak is given here, not to the optimizer. ``peak=1`` with
absolute values in the spec (``1e-3 * (linear(5%) >> cosine)``) is the same thing.

**Saving.** The class is registered (``rampup>Schedule``), and its config is the schedule's plain
data (:meth:`rampup.Schedule.to_dict`, bound to its run) and the peak, so a model saved to
``.keras`` loads back with ``keras.saving.load_model`` with the same values, no
``custom_objects`` needed (``import rampup.keras`` first, which registers it).

**The clock.** Keras calls the schedule with the optimizer's ``iterations``, the number of
updates applied so far: update ``t`` uses ``s(t)``, as everywhere in rampup. Integer steps stay
integers for the phase boundaries (exact at any step; on TensorFlow, which does not mix integer
tensors with Python floats, steps are cast to ``floatx``: untested, no TensorFlow here);
fractional steps are rounded to ``keras.backend.floatx()``. With
``gradient_accumulation_steps=k`` Keras passes the micro-batch count (its documented behaviour):
update ``u`` then uses ``s(k * u + k - 1)``, so give lengths in micro-batches.

Values are ``floatx`` (float32 by default): they equal ``s.values(...)`` to float32 rounding.
Steps given as Python or NumPy numbers are checked as ``s(t)`` checks them (a bool is refused
too); a negative or NaN step in a tensor gives NaN (a compiled step cannot raise).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from rampup import RampupError
from rampup.core.adapting import Ops, checked_steps, resolve
from rampup.core.checks import check_number
from rampup.core.schedule import Schedule as RampupSchedule

#: Keras 3's backends, by the module each one imports (``KERAS_BACKEND`` names them alike).
_BACKENDS = ("torch", "jax", "tensorflow")


def _missing(exc: ImportError) -> ImportError:
    """The ImportError to raise when ``import keras`` failed with ``exc``: what to do about it.

    Keras imports its backend when it is imported, TensorFlow unless ``KERAS_BACKEND`` says
    otherwise, so a missing backend fails ``import keras`` although Keras is installed.
    """
    missing = (exc.name or "").split(".")[0]
    if missing in _BACKENDS:
        chosen = os.environ.get("KERAS_BACKEND")
        source = f"KERAS_BACKEND={chosen}" if chosen else "Keras' default, KERAS_BACKEND is unset"
        return ImportError(
            f"rampup.keras needs Keras 3 and its backend, {missing!r} ({source}), which is not"
            f" installed: set KERAS_BACKEND={'|'.join(_BACKENDS)} to a backend you have, or"
            f" install it (pip install {missing}) ({exc})"
        )
    return ImportError(f"rampup.keras needs Keras 3: pip install 'rampup[keras]' ({exc})")


try:
    import keras
    from keras import ops
except ImportError as exc:  # pragma: no cover - depends on the environment (tested in a subprocess)
    raise _missing(exc) from exc

__all__ = ["Schedule"]

_FUNC = "keras.Schedule"
_INT32_MAX = 2**31 - 1


def _float_power(x: Any, y: Any) -> Any:
    return ops.power(x, y)


#: The operations the formulas use (see :mod:`rampup.core.adapting`), on the Keras backend's
#: tensors. ``keras.ops`` has no ``float_power``; ``power`` is the same function on float tensors.
_KERAS_OPS: Ops = SimpleNamespace(
    cos=ops.cos,
    sqrt=ops.sqrt,
    exp=ops.exp,
    expm1=ops.expm1,
    float_power=_float_power,
    log=ops.log,
    floor=ops.floor,
    minimum=ops.minimum,
    maximum=ops.maximum,
    where=ops.where,
)


def _host_steps(func: str, step: object) -> npt.NDArray[Any] | None:
    """Check steps given as Python or NumPy numbers; None for a tensor (it cannot be checked)."""
    if ops.is_tensor(step) or isinstance(step, keras.Variable):
        return None
    raw, t = checked_steps(func, step)
    if raw.dtype.kind in "biu" and (raw.size == 0 or int(raw.max()) <= _INT32_MAX):
        return raw.astype(np.int32)  # every backend holds an int32 exactly
    return t


@keras.saving.register_keras_serializable(package="rampup", name="Schedule")
class Schedule(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]  # keras is untyped
    """A rampup schedule as a Keras learning-rate schedule: update ``t`` uses ``peak * s(t)``.

    ``s`` is a rampup schedule, a spec string (``"linear(5%) >> cosine"``) or
    :meth:`~rampup.Schedule.to_dict`'s plain data. ``peak`` is the learning rate the multiplier
    1 stands for (e.g. ``1e-3``). ``total_steps`` is the whole run in optimizer updates, warmup
    included (``epochs * steps_per_epoch`` for ``model.fit``): it binds lengths given as a
    fraction of the run (``"5%"``) and the phase that takes the rest of the run;
    ``steps_per_epoch`` binds lengths in epochs (``"2ep"``). ``beta2`` is the optimizer's Adam
    beta2 (``keras.optimizers.AdamW(beta_2=...)``: the schedule is built before the optimizer
    and never sees it), which a bare ``auto`` then uses instead of 0.999. A bad argument is a
    :class:`~rampup.RampupError` raised here.

    ``self.schedule`` is the bound rampup schedule and ``self.peak`` the peak;
    :meth:`get_config` / :meth:`from_config` round-trip both through plain data.
    """

    def __init__(
        self,
        s: RampupSchedule | str | Mapping[str, Any],
        *,
        peak: float = 1.0,
        total_steps: int | None = None,
        steps_per_epoch: float | None = None,
        beta2: float | None = None,
    ) -> None:
        self.peak = check_number(
            _FUNC, "peak", peak, low=0.0, low_open=True, what="a finite number > 0"
        )
        self.schedule = resolve(_FUNC, s, total_steps, steps_per_epoch, beta2=beta2)
        self._formula = self.schedule.array_formula(_KERAS_OPS)
        bounds = self.schedule.bounds
        #: The largest integer the formula compares steps with.
        self._last = max(bounds) if bounds else 0

    def __call__(self, step: Any) -> Any:
        """``peak * s(step)`` as a ``floatx`` tensor; ``step`` is the optimizer's ``iterations``."""
        host = _host_steps("keras.Schedule", step)
        t = ops.convert_to_tensor(step if host is None else host)
        floatx = keras.backend.floatx()
        dtype = keras.backend.standardize_dtype(t.dtype)
        # TensorFlow does not mix integer tensors with Python floats (t + 1.0): floats there.
        if (
            dtype.startswith("int")
            and self._last <= np.iinfo(dtype).max
            and keras.backend.backend() != "tensorflow"
        ):
            valid = ops.greater_equal(t, 0)  # integer steps stay integers: exact boundaries
        else:
            t = ops.cast(
                t, floatx if dtype == "float16" or not dtype.startswith("float") else dtype
            )
            valid = ops.logical_and(ops.greater_equal(t, 0), ops.less(t, math.inf))
        out = ops.where(valid, self.peak * self._formula(t), math.nan)
        return ops.cast(out, floatx)

    def get_config(self) -> dict[str, Any]:
        """The schedule (bound to its run) as plain data, and the peak: JSON-ready."""
        return {"schedule": self.schedule.to_dict(), "peak": self.peak}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Schedule:
        """Rebuild from :meth:`get_config`'s output (what ``keras.saving.load_model`` calls)."""
        func = "keras.Schedule.from_config"
        if not isinstance(config, Mapping) or "schedule" not in config:
            raise RampupError.invalid(
                func, "config", config, "get_config()'s dict, with 'schedule' and 'peak'"
            )
        for key in config:
            if key not in ("schedule", "peak"):
                raise RampupError.invalid(
                    func, "config", config, f"only 'schedule' and 'peak', not {key!r}"
                )
        return cls(config["schedule"], peak=config.get("peak", 1.0))

    def __repr__(self) -> str:
        peak = "" if self.peak == 1.0 else f", peak={self.peak!r}"
        return f"rampup.keras.Schedule({str(self.schedule)!r}{peak})"

"""Callbacks for Lightning and the Hugging Face Trainer that feed the stability monitor.

Public as :mod:`rampup.callbacks` (which re-exports them from here, lazily).

Each callback, once per optimizer update:

- feeds the monitor it is given (a :class:`~rampup.Monitor`), or the guard (an
  :class:`~rampup.AdaptiveWarmup`, whose monitor it is), with the training loss, the gradient
  norm and the learning rate;
- logs ``lr/<group>`` and ``momentum/<group>`` (SGD's ``momentum`` or Adam's ``betas[0]``) for
  every param group, named by the group's ``"name"`` key or its index, and one
  ``rampup/<kind>`` metric per event (its value: the offending loss or norm) to the trainer's
  loggers;
- writes every event's message to the Python logger ``"rampup"`` as a warning (an error for a
  non-finite loss);
- on a non-finite loss under a guard, stops training (``trainer.should_stop`` /
  ``control.should_training_stop``) with an error telling which checkpoint to restore: it never
  silently continues from NaN weights.

With ``probe=True``, once before the first update, each runs :func:`rampup.torch.probe.probe` on
the model and its (first) optimizer: the first training batch, the run's length, the peak each
group was configured with (its ``initial_lr``, not the scheduler's first value), and stores the
result as ``callback.probe_result``, logs it (INFO on ``"rampup"``; Lightning also
``rampup/critical_lr`` to its loggers) and calls ``on_probe(result)``. Training is then exactly
what it would have been without the probe (the probe restores the model, the optimizer and the
RNGs; the batch is drawn without touching the training stream). A probe that cannot run is a
warning, never a crash (see :mod:`rampup.torch._probing`).

- Lightning: the batch is the one ``on_train_batch_start`` gets for the first update (on the
  device); the loss is ``pl_module.training_step(batch, 0)`` (a tensor, or a mapping's
  ``"loss"``) under the precision plugin's ``train_step_context``, with ``self.log`` and
  ``self.log_dict`` silenced so the trials' losses are not logged as training metrics. The run's
  length is ``trainer.estimated_stepping_batches`` (``max_steps`` when it is shorter). Manual
  optimization is not probed (its ``training_step`` steps the optimizers itself).
- HF Trainer: at ``on_train_begin``, the first batch of ``train_dataloader`` (a side draw, see
  :func:`~rampup.torch._probing.first_batch`), moved to ``args.device``; the loss is
  ``model(**batch)``'s ``"loss"`` (as ``Trainer.compute_loss`` without a custom loss), with the
  model in training mode; the run's length is ``state.max_steps``.

The frameworks are imported when a callback class is first used, never by ``import rampup``::

    from rampup.callbacks import LightningCallback          # imports lightning
    trainer = lightning.Trainer(callbacks=[LightningCallback(guard=guard)])

    from rampup.callbacks import HFCallback            # imports transformers
    trainer = transformers.Trainer(..., callbacks=[HFCallback(rampup.Monitor(500))])

The monitor or the guard is the caller's (one of them is required): this adapter never imports
the guard, a tool. It relies on the protocols of :mod:`rampup.core.watch` only, a
:class:`~rampup.core.watch.Watcher` (``update``, ``events``, ``state_dict``) and a
:class:`~rampup.core.watch.Guard` (``observe``, ``monitor``), which the monitor and the guard
satisfy (as would a monitor of the user's own).

Gradient accumulation. Lightning calls ``on_train_batch_end`` after every micro-batch; the
callback feeds once per optimizer update (when the trainer's ``global_step`` moved), with the
sum of the micro-batch losses Lightning reports (each divided by the number accumulated), i.e.
the loss of the update. The HF Trainer's ``on_log`` already comes once per update.

Timing. Both frameworks step the learning-rate scheduler before the hooks that see an update's
loss (Lightning's ``on_train_batch_end``, the HF Trainer's ``on_log``), so a guard's decision
applies from the update after the next one: it lags by one update. The HF Trainer reports the loss
averaged over ``logging_steps`` (set ``logging_steps=1`` to feed every update) and hides a NaN loss
unless ``logging_nan_inf_filter=False``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from rampup import RampupError
from rampup.core.checks import check_flag, check_real, shown
from rampup.core.measured import ProbeResult
from rampup.core.watch import Finding, Guard, Notice, Watcher
from rampup.torch._probing import Prober, first_batch, to_device, train_mode

__all__ = ["HFCallback", "LightningCallback", "group_values"]  # noqa: F822  # see __getattr__

#: Where events are written (warnings; errors for non-finite values).
logger = logging.getLogger("rampup")


def group_values(optimizers: Iterable[Any]) -> dict[str, float]:
    """``lr/<name>`` and ``momentum/<name>`` of every param group of ``optimizers``.

    A group's name is its ``"name"`` key, else its index; with several optimizers the index of
    the optimizer comes first (``lr/1.0``). Momentum is ``momentum`` (SGD, RMSprop) or
    ``betas[0]`` (Adam and its kin); a group with neither logs no momentum.
    """
    out: dict[str, float] = {}
    opts = list(optimizers)
    for j, opt in enumerate(opts):
        for i, group in enumerate(getattr(opt, "param_groups", [])):
            name = str(group.get("name", i))
            if len(opts) > 1:
                name = f"{j}.{name}"
            lr = group.get("lr")
            if lr is not None:
                out[f"lr/{name}"] = float(lr)
            momentum = group.get("momentum")
            if momentum is None and isinstance(group.get("betas"), tuple | list):
                momentum = group["betas"][0]
            if momentum is not None:
                out[f"momentum/{name}"] = float(momentum)
    return out


class _Feeder:
    """What both callbacks do, framework-free: feed, turn events into metrics and log lines."""

    def __init__(self, func: str, monitor: Watcher | None, guard: Guard | None) -> None:
        if guard is not None and not isinstance(guard, Guard):
            raise RampupError.invalid(
                func, "guard", guard, "a rampup.adaptive.AdaptiveWarmup or None"
            )
        if monitor is not None and not isinstance(monitor, Watcher):
            raise RampupError.invalid(func, "monitor", monitor, "a rampup.Monitor or None")
        if monitor is not None and guard is not None and monitor is not guard.monitor:
            raise RampupError.invalid(
                func, "monitor", monitor, "None with a guard (the guard has its monitor)"
            )
        self.guard = guard
        if guard is not None:
            self.monitor: Watcher = guard.monitor
        elif monitor is not None:
            self.monitor = monitor
        else:
            raise RampupError.invalid(
                func,
                "monitor",
                monitor,
                "the rampup.Monitor to feed, e.g. rampup.Monitor(warmup_steps), or a guard=",
            )

    def feed(
        self, loss: object, grad_norm: object, lr: object
    ) -> tuple[Sequence[Finding], Notice | None]:
        """Feed one update; return its events and the guard's action (if any)."""
        n = len(self.monitor.events)
        action = None
        if self.guard is not None:
            action = self.guard.observe(loss, grad_norm=grad_norm, lr=lr)
        else:
            self.monitor.update(loss, grad_norm=grad_norm, lr=lr)
        events = self.monitor.events[n:]
        for e in events:
            level = logging.ERROR if e.kind.startswith("nonfinite") else logging.WARNING
            logger.log(level, "rampup: %s", e.message)
        if action is not None:
            logger.error("rampup: training stopped: %s", action.message)
        return events, action

    @staticmethod
    def metrics(events: Sequence[Finding]) -> dict[str, float]:
        """One ``rampup/<kind>`` metric per event: the offending value (NaN/inf as they are)."""
        return {f"rampup/{e.kind}": e.value for e in events}


def _grad_norm(parameters: Iterable[Any]) -> float:
    """The total 2-norm of the gradients (NaN or inf if any gradient is)."""
    total = 0.0
    for p in parameters:
        g = getattr(p, "grad", None)
        if g is not None:
            total += float(g.detach().double().pow(2).sum())
    return math.sqrt(total) if math.isfinite(total) else total


def _loss_of(func: str, out: object, source: str) -> Any:
    """The loss in ``out`` (a tensor, a mapping's ``"loss"``, a tuple's first item)."""
    loss = out.get("loss") if isinstance(out, Mapping) else out
    if isinstance(out, tuple | list) and out:
        loss = out[0]
    if not hasattr(loss, "backward"):
        raise RampupError(
            f"{func}(): the probe needs the loss from {source} (a tensor, or a mapping with "
            f"'loss'); it gave {shown(out)}"
        )
    return loss


@contextmanager
def _silenced(module: Any, names: tuple[str, ...] = ("log", "log_dict")) -> Iterator[None]:
    """``module.log`` and ``module.log_dict`` do nothing inside (instance attributes, removed)."""
    before = {n: vars(module)[n] for n in names if n in vars(module)}
    for n in names:
        object.__setattr__(module, n, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for n in names:
            object.__delattr__(module, n)
            if n in before:
                object.__setattr__(module, n, before[n])


def _missing(what: str, extra: str, exc: ImportError) -> ImportError:
    """The adapters' one import-error style: what is needed, the extra that installs it, why."""
    return ImportError(f"rampup.callbacks needs {what}: pip install 'rampup[{extra}]' ({exc})")


def _lightning_class() -> type:
    try:
        from lightning.pytorch import Callback  # noqa: PLC0415  # the framework, on first use
    except ImportError as exc:
        raise _missing("Lightning", "lightning", exc) from exc

    class LightningCallback(Callback):
        """Feeds the monitor (or guard) from Lightning; logs lr/momentum per group and events.

        Args:
            monitor: the Monitor to feed (required without ``guard``), or None with ``guard``.
            guard: an AdaptiveWarmup (the scheduler's controller) to feed instead.
            grad_norm: also feed the total gradient norm (measured before each optimizer step).
            log_groups: log ``lr/<group>`` and ``momentum/<group>`` every update.
            probe: probe the model on the first batch, before the first update (see the
                module's docstring); the result is ``probe_result``.
            on_probe: called with the :class:`~rampup.core.measured.ProbeResult` (needs
                ``probe=True``).

        """

        def __init__(
            self,
            monitor: Watcher | None = None,
            *,
            guard: Guard | None = None,
            grad_norm: bool = True,
            log_groups: bool = True,
            probe: bool = False,
            on_probe: Callable[[ProbeResult], None] | None = None,
        ) -> None:
            super().__init__()
            self.grad_norm = check_flag("LightningCallback", "grad_norm", grad_norm)
            self.log_groups = check_flag("LightningCallback", "log_groups", log_groups)
            self.feeder = _Feeder("LightningCallback", monitor, guard)
            self.monitor = self.feeder.monitor
            self.prober = Prober("LightningCallback", probe, on_probe)
            self._probe_due = False  # set at train start, done on the first batch
            self._norm: float | None = None
            self._step: int | None = None  # the trainer's global_step at the last update fed
            self._micro: list[float] = []  # losses of the micro-batches since then

        @property
        def probe_result(self) -> ProbeResult | None:
            """The probe's result (None before train start, without a probe, or if it failed)."""
            return self.prober.result

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self._step, self._micro = trainer.global_step, []
            self._probe_due = self.prober.enabled

        def on_train_batch_start(
            self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
        ) -> None:
            if not self._probe_due:
                return
            self._probe_due = False
            context = getattr(trainer.precision_plugin, "train_step_context", nullcontext)

            def loss_fn(module: Any, data: Any) -> Any:
                if not module.automatic_optimization:
                    raise RampupError(
                        "LightningCallback(): manual optimization is not probed (training_step "
                        "steps the optimizers itself); call rampup.probe from your own code"
                    )
                with _silenced(module), context():
                    out = module.training_step(data, 0)
                return _loss_of("LightningCallback", out, "training_step(batch, 0)")

            result = self.prober.run(
                pl_module,
                trainer.optimizers[0] if trainer.optimizers else None,
                lambda: batch,
                loss_fn,
                total_steps=trainer.estimated_stepping_batches,
                done=trainer.global_step,
            )
            if result is not None:
                for lg in trainer.loggers:
                    lg.log_metrics({"rampup/critical_lr": result.critical_lr}, step=0)

        def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
            if self.grad_norm:
                self._norm = _grad_norm(pl_module.parameters())

        def on_train_batch_end(
            self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
        ) -> None:
            loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
            if loss is None:
                return
            detach = getattr(loss, "detach", None)
            self._micro.append(
                check_real("LightningCallback", "loss", detach() if callable(detach) else loss)
            )
            if trainer.global_step == (self._step or 0):
                return  # gradient accumulation: no optimizer update after this micro-batch
            self._step = trainer.global_step
            # Lightning divides each micro-batch loss by the number accumulated: their sum is
            # the loss the update's gradient comes from (the plain loss without accumulation).
            total, self._micro = math.fsum(self._micro), []
            lr = None
            if trainer.optimizers and trainer.optimizers[0].param_groups:
                lr = trainer.optimizers[0].param_groups[0].get("lr")
            events, action = self.feeder.feed(total, self._norm, lr)
            self._norm = None
            metrics = group_values(trainer.optimizers) if self.log_groups else {}
            metrics.update(self.feeder.metrics(events))
            if metrics:
                for lg in trainer.loggers:
                    lg.log_metrics(metrics, step=trainer.global_step)
            if action is not None:
                trainer.should_stop = True

        def state_dict(self) -> dict[str, Any]:
            # with a guard, the scheduler's state already holds the monitor
            return {} if self.feeder.guard is not None else self.monitor.state_dict()

        def load_state_dict(self, state_dict: dict[str, Any]) -> None:
            if state_dict and self.feeder.guard is None:
                self.monitor.load_state_dict(state_dict)

    return LightningCallback


def _hf_class() -> type:
    try:
        from transformers import TrainerCallback  # noqa: PLC0415  # the framework, on use
    except ImportError as exc:
        raise _missing("Hugging Face transformers", "hf", exc) from exc

    class HFCallback(TrainerCallback):
        """Feeds the monitor (or guard) from the HF Trainer's logs; adds lr/momentum and events.

        Reads ``loss``, ``grad_norm`` and ``learning_rate`` from each ``on_log``; adds
        ``lr/<group>``, ``momentum/<group>`` and ``rampup/<kind>`` to the logs (and to
        ``state.log_history``). Use ``logging_steps=1`` and ``logging_nan_inf_filter=False``:
        at the start of training it warns, on the ``rampup`` logger, of any setting that hides
        updates or non-finite losses from it.

        Args:
            monitor: the Monitor to feed (required without ``guard``), or None with ``guard``.
            guard: an AdaptiveWarmup (the scheduler's controller) to feed instead.
            log_groups: add ``lr/<group>`` and ``momentum/<group>`` to every log.
            probe: probe the model at ``on_train_begin`` (see the module's docstring); the
                result is ``probe_result``.
            on_probe: called with the :class:`~rampup.core.measured.ProbeResult` (needs
                ``probe=True``).

        """

        def __init__(
            self,
            monitor: Watcher | None = None,
            *,
            guard: Guard | None = None,
            log_groups: bool = True,
            probe: bool = False,
            on_probe: Callable[[ProbeResult], None] | None = None,
        ) -> None:
            super().__init__()
            self.log_groups = check_flag("HFCallback", "log_groups", log_groups)
            self.feeder = _Feeder("HFCallback", monitor, guard)
            self.monitor = self.feeder.monitor
            self.prober = Prober("HFCallback", probe, on_probe)

        @property
        def probe_result(self) -> ProbeResult | None:
            """The probe's result (None before train start, without a probe, or if it failed)."""
            return self.prober.result

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            for problem in _hf_logging_problems(args):
                logger.warning("HFCallback: %s", problem)
            if not self.prober.enabled:
                return
            model = kwargs.get("model")

            def loss_fn(module: Any, data: Any) -> Any:
                if not isinstance(data, Mapping):
                    raise RampupError(
                        f"HFCallback(): the probe calls model(**batch), but the batch is "
                        f"{shown(data)}, not a mapping"
                    )
                return _loss_of("HFCallback", module(**data), "model(**batch)")

            with train_mode(model):
                self.prober.run(
                    model,
                    kwargs.get("optimizer"),
                    lambda: to_device(first_batch(kwargs.get("train_dataloader")), args.device),
                    loss_fn,
                    total_steps=state.max_steps,
                    done=state.global_step,
                )

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            if logs is None or "loss" not in logs:
                return
            events, action = self.feeder.feed(
                logs["loss"], logs.get("grad_norm"), logs.get("learning_rate")
            )
            extra: dict[str, float] = {}
            optimizer = kwargs.get("optimizer")
            if self.log_groups and optimizer is not None:
                extra.update(group_values([optimizer]))
            extra.update(self.feeder.metrics(events))
            logs.update(extra)
            if state.log_history and state.log_history[-1].get("loss") == logs["loss"]:
                state.log_history[-1].update(extra)
            if action is not None:
                control.should_training_stop = True

    return HFCallback


def _hf_logging_problems(args: Any) -> list[str]:
    """What in the HF ``TrainingArguments`` keeps the monitor from seeing every update's loss."""
    problems = []
    strategy = str(getattr(args, "logging_strategy", "steps"))
    strategy = strategy.rsplit(".", 1)[-1].lower()  # an IntervalStrategy member or its value
    steps = getattr(args, "logging_steps", 1)
    fix = "set logging_strategy='steps' and logging_steps=1 to feed every update"
    if strategy != "steps":
        seen = (
            "reports the loss once per epoch" if strategy == "epoch" else "never reports the loss"
        )
        problems.append(
            f"logging_strategy={strategy!r}: the Trainer {seen}, so the monitor misses (nearly) "
            f"every update; {fix}"
        )
    elif steps != 1:
        problems.append(
            f"logging_steps={steps!r}: the monitor sees the loss averaged over several updates, "
            f"once per log, so spikes are diluted and found late; {fix}"
        )
    if getattr(args, "logging_nan_inf_filter", False):
        problems.append(
            "logging_nan_inf_filter=True: the Trainer leaves NaN and inf losses out of what it "
            "logs, so a divergence is never seen; set logging_nan_inf_filter=False"
        )
    return problems


_BUILDERS = {"LightningCallback": _lightning_class, "HFCallback": _hf_class}
_BUILT: dict[str, type] = {}


def __getattr__(name: str) -> Any:
    """Build the callback classes on first access (importing their framework then)."""
    build = _BUILDERS.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = build()
    return _BUILT[name]

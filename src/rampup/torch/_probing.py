"""The callbacks' opt-in probe at train start (:mod:`rampup.torch.callbacks`): no Lightning, no HF.

:class:`Prober` runs :func:`rampup.torch.probe.probe` once, before the first update, on the
module and its optimizer, with the run's length and the peak each group was configured with:

- **the peak.** At train start a scheduler has already written its first value into the groups
  (a warmup from 0 leaves ``lr = 0``). Each group's ``initial_lr`` (torch's and rampup's
  convention: the lr it was created with), else its ``lr``, is put back in the group for the
  probe, which then takes group 0's as the peak and keeps the groups' ratios; afterwards every
  group entry is the very object it was before (a tensor lr stays the same tensor).
- **a failure** the probe reports (a :class:`~rampup.RampupError`: a run too short for one
  trial, a loss that is not a scalar tensor, a non-finite loss at initialisation) is a warning on
  the ``rampup`` logger naming the reason; training goes on, ``result`` stays None and
  ``on_probe`` is not called. So is a run that resumes (an update already done: the probe
  measures the model at initialisation) and one of unknown length.
- **the batch.** :func:`first_batch` draws the first batch of a loader (the HF Trainer's) without
  touching the loader's own iteration: a side loader on the same dataset, sampler and collate
  function, in this process (no workers), with every RNG it could draw from (torch's, numpy's,
  Python's, the loader's and the samplers' generators) put back afterwards. Lightning hands the
  batch itself to ``on_train_batch_start``, so nothing is drawn there.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim import Optimizer
from torch.utils.data import DataLoader, IterableDataset

from rampup import RampupError
from rampup.core.checks import check_flag
from rampup.core.measured import ProbeResult

__all__ = ["LossFn", "Prober", "first_batch", "inner_optimizer", "to_device", "train_mode"]

logger = logging.getLogger("rampup")

LossFn = Callable[[nn.Module, Any], torch.Tensor]


class Prober:
    """The probe a callback runs at train start (see the module's docstring).

    ``probe`` turns it on; ``on_probe`` (only with ``probe=True``) is called with the result.
    """

    def __init__(
        self, func: str, probe: bool, on_probe: Callable[[ProbeResult], None] | None
    ) -> None:
        self.func = func
        self.enabled = check_flag(func, "probe", probe)
        if on_probe is not None and not callable(on_probe):
            raise RampupError.invalid(
                func, "on_probe", on_probe, "a callable taking the ProbeResult, or None"
            )
        if on_probe is not None and not self.enabled:
            raise RampupError.invalid(
                func, "on_probe", on_probe, "None without probe=True (it would never be called)"
            )
        self.on_probe = on_probe
        self.result: ProbeResult | None = None

    def run(
        self,
        model: Any,
        optimizer: Any,
        batch: Callable[[], Any],
        loss_fn: LossFn,
        *,
        total_steps: object,
        done: int,
    ) -> ProbeResult | None:
        """Probe ``model`` under ``optimizer`` on ``batch()``; the result, or None (warned why).

        ``batch`` gives the batch (drawn only when the probe runs); ``total_steps`` is the run's
        length in updates, ``done`` the updates already made.
        """
        from rampup.torch.probe import probe  # noqa: PLC0415  # only when a probe is asked for

        self.result = None
        try:
            if done > 0:
                raise RampupError(
                    f"training resumes after {done} update(s); the probe measures the model at "
                    "initialisation, before the first one"
                )
            total = _run_length(self.func, total_steps)
            opt = inner_optimizer(optimizer)
            with _configured_lrs(opt):
                result = probe(model, opt, batch(), loss_fn, total_steps=total)
        except RampupError as exc:
            logger.warning(
                "rampup: %s: the probe was skipped, training goes on: %s", self.func, exc
            )
            return None
        self.result = result
        logger.info(
            "rampup: probe: critical lr %.3g (first unstable %.3g), peak %.3g, %d update(s): "
            "advised %s",
            result.critical_lr, result.unstable_lr, result.peak_lr, result.total_steps,
            result.spec,
        )  # fmt: skip
        if self.on_probe is not None:
            self.on_probe(result)
        return result


def _run_length(func: str, total_steps: object) -> int:
    """The run's length as an int >= 1, or a RampupError saying it is unknown."""
    if isinstance(total_steps, float) and total_steps.is_integer():
        total_steps = int(total_steps)
    if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps < 1:
        raise RampupError.invalid(
            func, "total_steps", total_steps, "the run's length in updates, known at train start "
            "(set max_steps, or give the data loader a length)",
        )  # fmt: skip
    return total_steps


def inner_optimizer(optimizer: Any) -> Any:
    """The torch optimizer inside a wrapper (accelerate's ``AcceleratedOptimizer``).

    A wrapper may skip ``step()`` between gradient-accumulation boundaries or step through a
    gradient scaler; the probe steps the optimizer it wraps (its ``optimizer`` attribute).
    """
    for _ in range(8):  # a wrapper of a wrapper, at most a few deep
        inner = getattr(optimizer, "optimizer", None)
        if not isinstance(inner, Optimizer):
            break
        optimizer = inner
    return optimizer


@contextmanager
def _configured_lrs(optimizer: Any) -> Iterator[None]:
    """Each group's lr set to its ``initial_lr`` (if it has one); the groups restored after.

    Restored as the very objects they were: the original list and dicts, with their original
    entries (a tensor lr stays the same tensor), so whatever holds a group (a scheduler, the
    user's code) still holds the optimizer's own. (The probe itself restores in place too.)
    """
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list):
        yield  # not an optimizer: the probe says so
        return
    saved = [dict(g) for g in groups]
    for g in groups:
        if "initial_lr" in g:
            g["lr"] = float(g["initial_lr"])
    try:
        yield
    finally:
        for g, values in zip(groups, saved, strict=True):
            g.clear()
            g.update(values)
        optimizer.param_groups = groups


@contextmanager
def train_mode(model: object) -> Iterator[None]:
    """``model`` in training mode (as a training step runs it), each module's mode restored."""
    if not isinstance(model, nn.Module):
        yield  # not a module: the probe says so
        return
    modes = [(m, m.training) for m in model.modules()]
    model.train()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def to_device(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor in it (in mappings, lists and tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple) and not hasattr(batch, "_fields"):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def first_batch(loader: Any) -> Any:
    """The first batch of ``loader``'s data, drawn without changing the loader's own iteration.

    A side :class:`~torch.utils.data.DataLoader` in this process on the loader's dataset,
    (batch) sampler and collate function; every RNG the draw may use is restored afterwards. A
    loader without a dataset, or an iterable dataset that is a one-pass stream, cannot be drawn
    from this way: the caller's error then names it.
    """
    dataset = getattr(loader, "dataset", None)
    if dataset is None:
        raise RampupError.invalid(
            "first_batch", "train_dataloader", loader, "a torch DataLoader (with a dataset)"
        )
    # the loader's generator too: its iterator draws a seed from it before the sampler runs
    collate, gen = getattr(loader, "collate_fn", None), getattr(loader, "generator", None)
    side: DataLoader[Any]
    if isinstance(dataset, IterableDataset):
        side = DataLoader(
            dataset, batch_size=loader.batch_size, drop_last=loader.drop_last,
            collate_fn=collate, generator=gen,
        )  # fmt: skip
    elif getattr(loader, "batch_sampler", None) is not None:
        side = DataLoader(
            dataset, batch_sampler=loader.batch_sampler, collate_fn=collate, generator=gen
        )
    else:
        side = DataLoader(
            dataset, sampler=loader.sampler, batch_size=None, collate_fn=collate, generator=gen
        )
    with _kept_rngs(_generator_holders(loader)):
        try:
            return next(iter(side))
        except StopIteration:
            raise RampupError.invalid(
                "first_batch", "train_dataloader", loader, "a data loader with a batch"
            ) from None


def _generator_holders(loader: Any) -> list[Any]:
    """The loader and the samplers inside it: whatever may hold a ``generator``."""
    found: list[Any] = []
    todo = [loader]
    while todo and len(found) < 16:
        obj = todo.pop()
        if obj is None or any(obj is f for f in found):
            continue
        found.append(obj)
        todo += [getattr(obj, k, None) for k in ("sampler", "batch_sampler")]
    return found


@contextmanager
def _kept_rngs(holders: Sequence[Any]) -> Iterator[None]:
    """Torch's, numpy's and Python's global RNGs and the holders' generators, restored on exit."""
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None  # type: ignore[no-untyped-call]  # torch leaves it untyped
    np_state = np.random.get_state()
    py_state = random.getstate()
    gens = []
    for h in holders:
        g = getattr(h, "generator", None)
        if g is None or isinstance(g, torch.Generator):
            gens.append((h, g, None if g is None else g.get_state()))
    try:
        yield
    finally:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        np.random.set_state(np_state)
        random.setstate(py_state)
        for h, g, state in gens:
            if getattr(h, "generator", None) is not g:
                h.generator = g  # a sampler that made its generator on first use
            if g is not None and state is not None:
                g.set_state(state)

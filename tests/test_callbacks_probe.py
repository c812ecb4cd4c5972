"""The callbacks' probe at train start (``probe=True``), with the real Lightning and HF Trainer.

What is asserted is derived by hand, not read back from the probe: the peak each group was
configured with (not the scheduler's first value), the run's length (``max_steps``, or
batches / accumulation x epochs), the size of the smallest run with one trial
(ceil((4/3) / 0.03) = 45 updates), and, against a second run without the probe, that training is
bit for bit the same (parameters, optimizer state, every logged loss). The probe's first trial
starts from the same state, batch and RNG as the first update, so its loss before the update is
the first training loss, exactly.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L  # noqa: N812  # Lightning's own convention
import numpy as np
import pytest
import torch
from torch import nn

import rampup
import rampup.torch
from lightning_code import quiet_trainer
from rampup import Monitor, RampupError
from rampup.callbacks import HFCallback, LightningCallback
from rampup.core.measured import ProbeResult
from rampup.torch._probing import Prober, first_batch
from test_callbacks import hf_trainer

torch.set_num_threads(1)

LIGHTNING_WARNINGS = [
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning",
    "ignore:.*does not have many workers:UserWarning",
    "ignore:.*smaller than the logging interval:UserWarning",
]


def lightning_quiet(test: Any) -> Any:
    """Lightning 2.6.6's hints about torch 2.13's LeafSpec, workers and the log interval."""
    for spec in LIGHTNING_WARNINGS:
        test = pytest.mark.filterwarnings(spec)(test)
    return test


def test_probe_arguments_are_checked_at_construction() -> None:
    """A non-bool probe, a non-callable on_probe, on_probe without probe: clear RampupErrors."""
    for cls, name in ((LightningCallback, "LightningCallback"), (HFCallback, "HFCallback")):
        with pytest.raises(RampupError, match=rf"^{name}\(\): probe='yes' is invalid: expected"):
            cls(Monitor(), probe="yes")
        with pytest.raises(
            RampupError, match=rf"^{name}\(\): on_probe=3 is invalid: expected a callable"
        ):
            cls(Monitor(), probe=True, on_probe=3)
        with pytest.raises(RampupError, match=r"on_probe=.* expected None without probe=True"):
            cls(Monitor(), on_probe=print)
        assert cls(Monitor(), probe=True, on_probe=print).probe_result is None


# -- Prober, without a framework ---------------------------------------------------------------
def _warmed_sgd(lr: Any) -> tuple[nn.Module, torch.optim.Optimizer, Any]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: t / 10)  # a warmup from 0
    return model, opt, sched


def _mse(model: nn.Module, batch: Any) -> torch.Tensor:
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


@pytest.mark.parametrize(
    "lr", [0.05, torch.tensor(0.05, dtype=torch.float64)], ids=["float", "tensor"]
)
def test_prober_probes_at_the_configured_peak_and_gives_back_the_groups(lr: Any) -> None:
    """Peak = initial_lr (the group's lr is the warmup's 0); the same group objects after."""
    model, opt, _ = _warmed_sgd(lr)
    groups, group, lr_obj = opt.param_groups, opt.param_groups[0], opt.param_groups[0]["lr"]
    assert float(lr_obj) == 0.0  # LambdaLR wrote lambda(0) * 0.05 into the group
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    seen: list[ProbeResult] = []
    result = Prober("Demo", probe=True, on_probe=seen.append).run(
        model, opt, lambda: (x, x.sum(1, keepdim=True)), _mse, total_steps=300, done=0
    )
    assert result is not None
    assert seen == [result]
    assert result.peak_lr == 0.05
    assert result.total_steps == 300
    assert len(result.trials) >= 1
    assert opt.param_groups is groups
    assert opt.param_groups[0] is group
    assert group["lr"] is lr_obj  # a tensor lr is still the very tensor
    assert float(group["lr"]) == 0.0
    assert float(group["initial_lr"]) == 0.05


@pytest.mark.parametrize(
    ("total", "done", "reason"),
    [
        (30, 0, "a run of 45 updates or more"),
        (math.inf, 0, "total_steps=inf is invalid: expected the run's length in updates"),
        (-1, 0, "total_steps=-1 is invalid"),
        (300, 3, "training resumes after 3 update(s)"),
    ],
)
def test_prober_warns_and_goes_on_when_it_cannot_probe(
    caplog: pytest.LogCaptureFixture, total: object, done: int, reason: str
) -> None:
    """Too short for one trial, of unknown length, resumed: a warning, no result, no call."""
    model, opt, _ = _warmed_sgd(0.05)
    x = torch.randn(16, 4)
    seen: list[ProbeResult] = []
    prober = Prober("Demo", probe=True, on_probe=seen.append)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        out = prober.run(model, opt, lambda: (x, x), _mse, total_steps=total, done=done)
    assert out is None
    assert prober.result is None
    assert seen == []
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("rampup: Demo: the probe was skipped, training goes on: ")
    assert reason in message


def test_first_batch_is_the_loaders_first_and_leaves_every_rng() -> None:
    """A shuffling loader: the side draw is the batch training sees first; no RNG has moved."""
    data = torch.utils.data.TensorDataset(torch.arange(40.0))
    gen = torch.Generator().manual_seed(5)
    shuffled = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True)
    own = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True, generator=gen)
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    before = torch.get_rng_state(), gen.get_state()
    got, got_own = first_batch(shuffled), first_batch(own)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert torch.equal(gen.get_state(), before[1])
    drawn = np.random.random(), random.random()
    np.random.seed(3)
    random.seed(3)
    assert drawn == (np.random.random(), random.random())
    assert torch.equal(got[0], next(iter(shuffled))[0])
    assert torch.equal(got_own[0], next(iter(own))[0])
    assert not torch.equal(got[0], torch.arange(4.0))  # (it did shuffle)
    with pytest.raises(RampupError, match=r"train_dataloader=None is invalid"):
        first_batch(None)


# -- Lightning ---------------------------------------------------------------------------------
class Dropping(L.LightningModule):
    """Regression with dropout; logs its loss with self.log; SGD under a rampup linear warmup."""

    def __init__(self, total: int, manual: bool = False) -> None:
        super().__init__()
        self.body, self.head, self.drop = nn.Linear(4, 16), nn.Linear(16, 1), nn.Dropout(0.2)
        self.total = total
        self.automatic_optimization = not manual
        self.logged = 0  # calls of self.log that reached Lightning

    def log(self, *args: Any, **kwargs: Any) -> None:
        """Lightning's ``log``, counted."""
        self.logged += 1
        super().log(*args, **kwargs)

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        """The loss (as a mapping), logged; manual optimization steps the optimizer here."""
        x, y = batch
        loss = nn.functional.mse_loss(self.head(self.drop(torch.tanh(self.body(x)))), y)
        self.log("train_loss", loss)
        if not self.automatic_optimization:
            opt = self.optimizers()
            opt.zero_grad()  # type: ignore[union-attr]  # one optimizer
            self.manual_backward(loss)
            opt.step()  # type: ignore[union-attr]
        return {"loss": loss}

    def configure_optimizers(self) -> Any:
        """SGD at 0.02 with momentum, under linear(20) >> cosine stepped every update."""
        opt = torch.optim.SGD(self.parameters(), lr=0.02, momentum=0.9)
        sched = rampup.torch.Scheduler(opt, "linear(20) >> cosine", total_steps=self.total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def lightning_run(
    tmp_path: Path, callback: LightningCallback, *, manual: bool = False, **settings: Any
) -> tuple[Dropping, L.Trainer, list[dict[str, str]]]:
    """Train Dropping on 320 shuffled rows (seed 0); the module, the trainer, the CSV rows."""
    torch.manual_seed(0)
    x = torch.randn(320, 4)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    module = Dropping(settings.get("max_steps", 60), manual)
    trainer = quiet_trainer(tmp_path, [callback], **settings)
    trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=8, shuffle=True))
    text = (tmp_path / "run" / "version_0" / "metrics.csv").read_text(encoding="utf-8")
    return module, trainer, list(csv.DictReader(io.StringIO(text)))


@pytest.mark.training  # trains twice and compares the runs bit for bit
@lightning_quiet
def test_lightning_probe_runs_once_and_training_is_bit_identical(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One probe before the first update; parameters, momenta and logged losses unchanged."""
    plain_cb = LightningCallback(Monitor())
    plain, plain_trainer, plain_rows = lightning_run(tmp_path / "a", plain_cb, max_steps=60)
    seen: list[ProbeResult] = []
    cb = LightningCallback(Monitor(), probe=True, on_probe=seen.append)
    with caplog.at_level(logging.INFO, logger="rampup"):
        probed, trainer, rows = lightning_run(tmp_path / "b", cb, max_steps=60)
    assert len(seen) == 1
    result = seen[0]
    assert cb.probe_result is result
    assert result.peak_lr == 0.02  # the configured lr, not linear(20)'s first 0.02 / 20
    assert result.total_steps == 60
    rampup.parse(result.spec)
    # the first trial: the first batch, from the first update's state and RNG (dropout masks)
    assert result.trials[0].loss_before == cb.monitor.history()["loss"][0]
    assert trainer.global_step == plain_trainer.global_step == 60
    for p, q in zip(plain.parameters(), probed.parameters(), strict=True):
        assert torch.equal(p, q)
    state, plain_state = trainer.optimizers[0].state, plain_trainer.optimizers[0].state
    for p, q in zip(plain.parameters(), probed.parameters(), strict=True):
        assert torch.equal(plain_state[p]["momentum_buffer"], state[q]["momentum_buffer"])
    # self.log in training_step is silenced during the probe: the same losses, the same rows
    assert probed.logged == plain.logged == 60
    losses = [r["train_loss"] for r in rows if r.get("train_loss")]
    assert losses == [r["train_loss"] for r in plain_rows if r.get("train_loss")]
    assert len(losses) == 60
    (probe_row,) = [r for r in rows if r.get("rampup/critical_lr")]
    assert float(probe_row["rampup/critical_lr"]) == pytest.approx(result.critical_lr)
    assert probe_row["step"] == "0"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rampup" and r.levelno == 20]
    assert f"critical lr {result.critical_lr:.3g}" in line
    assert line.endswith(f"advised {result.spec}")


@pytest.mark.training  # a real (short) Lightning run
@lightning_quiet
def test_lightning_probe_takes_the_runs_length_from_epochs_and_accumulation(
    tmp_path: Path,
) -> None:
    """40 batches an epoch, 2 accumulated, 3 epochs: ceil(40 / 2) x 3 = 60 updates."""
    seen: list[ProbeResult] = []
    cb = LightningCallback(Monitor(), probe=True, on_probe=seen.append)
    _, trainer, _ = lightning_run(tmp_path, cb, max_epochs=3, accumulate_grad_batches=2)
    assert trainer.global_step == 60
    assert [r.total_steps for r in seen] == [60]


@pytest.mark.training  # a real (short) Lightning run
@lightning_quiet
@pytest.mark.parametrize(
    ("manual", "steps", "reason"),
    [
        (False, 30, "a run of 45 updates or more"),  # 0.03 x 30 < 4/3: no trial fits
        (True, 60, "manual optimization is not probed"),
    ],
)
def test_lightning_probe_that_cannot_run_warns_and_training_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, manual: bool, steps: int, reason: str
) -> None:
    """A run too short for one trial, manual optimization: a warning, no result, full training."""
    seen: list[ProbeResult] = []
    cb = LightningCallback(Monitor(), probe=True, on_probe=seen.append)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        _, trainer, rows = lightning_run(tmp_path, cb, manual=manual, max_steps=steps)
    assert trainer.global_step == steps
    assert seen == []
    assert cb.probe_result is None
    skipped = [r.getMessage() for r in caplog.records if "probe was skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert skipped[0].startswith("rampup: LightningCallback: the probe was skipped")
    assert reason in skipped[0]
    assert not any(r.get("rampup/critical_lr") for r in rows)


# -- Hugging Face Trainer ----------------------------------------------------------------------
class HFDropping(nn.Module):
    """forward(x, labels) -> {'loss': ...} with dropout; counts its calls, notes their mode."""

    def __init__(self, p: float = 0.2) -> None:
        super().__init__()
        self.body, self.head, self.drop = nn.Linear(4, 16), nn.Linear(16, 1), nn.Dropout(p)
        self.calls = 0
        self.modes: list[bool] = []  # self.training at each call

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """The MSE loss."""
        self.calls += 1
        self.modes.append(self.training)
        out = self.head(self.drop(torch.tanh(self.body(x))))
        return {"loss": nn.functional.mse_loss(out, labels)}


def hf_run(
    tmp_path: Path,
    callback: HFCallback,
    make: Callable[[], HFDropping] = HFDropping,
    **overrides: Any,
) -> tuple[HFDropping, Any]:
    """Train ``make()`` (in eval mode, as from_pretrained leaves a model) under a warmup."""
    torch.manual_seed(0)
    model = make().eval()
    settings = {"lr_scheduler_type": "linear", "warmup_steps": 10, **overrides}
    trainer = hf_trainer(tmp_path, model, callback, **settings)  # type: ignore[arg-type]
    trainer.train()
    return model, trainer


def _logs(trainer: Any) -> list[dict[str, Any]]:
    return [h for h in trainer.state.log_history if "loss" in h]


@pytest.mark.training  # trains twice and compares the runs bit for bit
def test_hf_probe_runs_once_and_training_is_bit_identical(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At on_train_begin, the peak the Trainer configured, its max_steps; training unchanged."""
    plain, plain_trainer = hf_run(tmp_path / "a", HFCallback(Monitor()), max_steps=80)
    seen: list[ProbeResult] = []
    cb = HFCallback(Monitor(), probe=True, on_probe=seen.append)
    with caplog.at_level(logging.INFO, logger="rampup"):
        probed, trainer = hf_run(tmp_path / "b", cb, max_steps=80)
    assert len(seen) == 1
    result = seen[0]
    assert cb.probe_result is result
    assert result.peak_lr == 0.05  # learning_rate, not the linear warmup's 0 at train begin
    assert result.total_steps == 80
    assert result.beta2 == 0.999  # the Trainer's AdamW, reached inside accelerate's wrapper
    rampup.parse(result.spec)
    probe_calls = 2 * len(result.trials)  # two forwards a trial, before training's
    assert probed.calls == plain.calls + probe_calls
    assert probed.modes[:probe_calls] == [True] * probe_calls  # in training mode, as given: eval
    for p, q in zip(plain.parameters(), probed.parameters(), strict=True):
        assert torch.equal(p, q)
    assert [h["loss"] for h in _logs(trainer)] == [h["loss"] for h in _logs(plain_trainer)]
    assert [sorted(h) for h in _logs(trainer)] == [sorted(h) for h in _logs(plain_trainer)]
    assert len(_logs(trainer)) == 80
    (line,) = [r.getMessage() for r in caplog.records if r.name == "rampup" and r.levelno == 20]
    assert f"critical lr {result.critical_lr:.3g}" in line
    assert line.endswith(f"advised {result.spec}")


@pytest.mark.training  # a real (short) HF run
def test_hf_probe_draws_the_first_batch_training_sees(tmp_path: Path) -> None:
    """Without dropout, the probe's loss before its update is the first logged loss, exactly.

    (The Trainer's epoch iterator draws from torch's RNG after on_train_begin, so with dropout
    the masks differ; the batch, drawn by the same shuffling sampler, is the same.)
    """
    cb = HFCallback(Monitor(), probe=True)
    _, trainer = hf_run(tmp_path, cb, lambda: HFDropping(p=0.0), max_steps=50)
    assert cb.probe_result is not None
    assert cb.probe_result.trials[0].loss_before == _logs(trainer)[0]["loss"]


@pytest.mark.training  # a real (short) HF run
def test_hf_probe_that_cannot_run_warns_and_training_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run of 30 updates is too short for one trial: a warning, no result, 30 updates."""
    seen: list[ProbeResult] = []
    cb = HFCallback(Monitor(), probe=True, on_probe=seen.append)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        _, trainer = hf_run(tmp_path, cb, max_steps=30)
    assert trainer.state.global_step == 30
    assert seen == []
    assert cb.probe_result is None
    (message,) = [r.getMessage() for r in caplog.records if "probe" in r.getMessage()]
    assert message.startswith("rampup: HFCallback: the probe was skipped, training goes on: ")
    assert "a run of 45 updates or more" in message


def test_hf_probe_needs_a_loss_from_the_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A model output without 'loss' at the probe's call: the warning says what it needs."""

    class LossLater(HFDropping):
        def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            """No loss on the first call (the probe's), the loss from then on (training's)."""
            out = super().forward(x, labels)
            return {"logits": out["loss"]} if self.calls == 1 else out

    seen: list[ProbeResult] = []
    cb = HFCallback(Monitor(), probe=True, on_probe=seen.append)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        _, trainer = hf_run(tmp_path, cb, LossLater, max_steps=50)
    assert trainer.state.global_step == 50
    assert seen == []
    (message,) = [r.getMessage() for r in caplog.records if "probe" in r.getMessage()]
    assert "the probe needs the loss from model(**batch) (a tensor, or a mapping with" in message
    assert "it gave {'logits': tensor(" in message

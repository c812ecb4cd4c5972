"""The Lightning and HF Trainer callbacks, with the real libraries and tiny models."""

from __future__ import annotations

import csv
import io
import logging
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L  # noqa: N812  # Lightning's own convention
import pytest
import torch
from torch import nn
from transformers import Trainer, TrainingArguments

import rampup.torch
from lightning_code import quiet_trainer
from rampup import Monitor, RampupError
from rampup.adaptive import AdaptiveWarmup
from rampup.callbacks import HFCallback, LightningCallback, group_values
from rampup.core.watch import Finding, Guard, Notice, Watcher

torch.set_num_threads(1)

SPIKE_AT = 12  # the update whose loss is multiplied by 50


def quiet_guard(warmup: int) -> AdaptiveWarmup:
    """A guard whose monitor starts the spike rule early and has no divergence rule."""
    return AdaptiveWarmup(warmup, monitor=Monitor(warmup, warm_start=4, divergence_factor=None))


def test_group_values_names_groups_and_reads_betas() -> None:
    """The lr and momentum per group, by name or index; Adam's momentum is betas[0]."""
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    groups: list[dict[str, Any]] = [
        {"params": a.parameters(), "name": "body"},
        {"params": b.parameters(), "lr": 0.5},
    ]
    sgd = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    adam = torch.optim.Adam(a.parameters(), lr=0.01, betas=(0.8, 0.99))
    assert group_values([sgd]) == {
        "lr/body": 0.1,
        "momentum/body": 0.9,
        "lr/1": 0.5,
        "momentum/1": 0.9,
    }
    assert group_values([sgd, adam])["momentum/1.0"] == 0.8


def test_callbacks_refuse_a_foreign_monitor() -> None:
    """Passing both a guard and another monitor is a clear error."""
    with pytest.raises(RampupError, match=r"HFCallback\(\): monitor="):
        HFCallback(Monitor(), guard=AdaptiveWarmup(5))


def test_callbacks_need_the_monitor_or_the_guard_they_feed() -> None:
    """The adapter builds no monitor itself (a tool): without monitor or guard, a clear error."""
    for cls, name in ((LightningCallback, "LightningCallback"), (HFCallback, "HFCallback")):
        with pytest.raises(RampupError, match=rf"^{name}\(\): monitor=None is invalid: expected"):
            cls()
    with pytest.raises(RampupError, match=r"HFCallback\(\): guard=.* expected a rampup.adaptive"):
        HFCallback(guard=Monitor())  # a monitor is not a guard


def test_the_monitor_and_the_guard_satisfy_the_watch_protocols() -> None:
    """Monitor is a Watcher (its events Findings), AdaptiveWarmup a Guard (its Action a Notice).

    Checked by the type checker (the assignments) and at run time (``isinstance``).
    """
    monitor: Watcher = Monitor(warm_start=1)
    found: Sequence[Finding] = monitor.update(math.nan)
    assert isinstance(monitor, Watcher)
    assert not isinstance(monitor, Guard)
    assert [(e.kind, e.step) for e in found] == [("nonfinite_loss", 0)]
    assert found[0].to_dict()["value"] == "nan"
    assert math.isnan(found[0].value)
    guard: Guard = AdaptiveWarmup(5)
    action: Notice | None = guard.observe(math.inf)
    assert isinstance(guard, Guard)
    assert isinstance(guard.monitor, Watcher)
    assert action is not None
    assert isinstance(action, Notice)
    assert (action.kind, action.step) == ("restore", 0)
    assert "restore" in action.message


def test_callbacks_refuse_flags_that_are_not_bools() -> None:
    """grad_norm='no' would be truthy: a RampupError naming the callback and the parameter."""
    with pytest.raises(RampupError, match=r"^LightningCallback\(\): grad_norm='no' is invalid"):
        LightningCallback(grad_norm="no")  # bad on purpose (the class is built lazily: Any)
    with pytest.raises(RampupError, match=r"^HFCallback\(\): log_groups=1 is invalid"):
        HFCallback(log_groups=1)  # bad on purpose


# -- Lightning ------------------------------------------------------------------------------------
# lightning 2.6.6 calls torch's LeafSpec, which torch 2.13 deprecates; its data loader hints
@pytest.mark.training  # the monitor/guard reads the losses of a real training run
@pytest.mark.filterwarnings(
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"
)
@pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning")
@pytest.mark.filterwarnings("ignore:.*smaller than the logging interval:UserWarning")
def test_lightning_callback_logs_groups_and_holds_on_a_spike(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lightning: lr/momentum per named group in the CSV log, the spike logged, the warmup held."""
    guard = quiet_guard(30)

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.head = nn.Linear(4, 8), nn.Linear(8, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            loss = nn.functional.mse_loss(self.head(torch.tanh(self.body(x))), y)
            return loss * 50 if self.global_step == SPIKE_AT else loss

        def configure_optimizers(self) -> Any:
            groups: list[dict[str, Any]] = [
                {"params": self.body.parameters(), "name": "body"},
                {"params": self.head.parameters(), "name": "head", "lr": 0.02},
            ]
            opt = torch.optim.SGD(groups, lr=0.05, momentum=0.9)
            sched = rampup.torch.Scheduler(
                opt, "linear(30) >> cosine", total_steps=40, controller=guard
            )
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    g = torch.Generator().manual_seed(0)
    x = torch.randn(320, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    trainer = quiet_trainer(tmp_path, [LightningCallback(guard=guard)], max_steps=30)
    torch.manual_seed(0)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        trainer.fit(Tiny(), loader)
    spikes = [e for e in guard.monitor.events if e.kind == "spike"]
    assert spikes[0].step == SPIKE_AT  # (the x50 gradient then really shakes the model)
    assert any("spiked" in r.getMessage() for r in caplog.records)
    assert guard.holds >= 1
    text = (tmp_path / "run" / "version_0" / "metrics.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert float(rows[0]["lr/body"]) == pytest.approx(0.05 * 2 / 30)  # after the first update
    assert float(rows[0]["lr/head"]) == pytest.approx(0.02 * 2 / 30)
    assert float(rows[0]["momentum/body"]) == 0.9
    spike_rows = [r for r in rows if r.get("rampup/spike")]
    assert len(spike_rows) == len(spikes)
    assert float(spike_rows[0]["rampup/spike"]) == pytest.approx(spikes[0].value)


@pytest.mark.filterwarnings(
    "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"
)
@pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning")
@pytest.mark.filterwarnings("ignore:.*smaller than the logging interval:UserWarning")
def test_lightning_callback_feeds_once_per_update_under_gradient_accumulation() -> None:
    """accumulate_grad_batches=2, 5 updates: 5 losses fed, each the mean of its 2 micro-batches."""

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 1)
            self.seen: list[float] = []

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            loss = nn.functional.mse_loss(self.lin(x), y)
            self.seen.append(float(loss.detach()))
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    callback = LightningCallback(Monitor())
    module = Tiny()
    trainer = quiet_trainer(None, [callback], max_steps=5, accumulate_grad_batches=2)
    torch.manual_seed(0)
    trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=4))
    history = callback.monitor.history()
    assert trainer.global_step == 5
    assert history["step"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    pairs = [(module.seen[2 * i] + module.seen[2 * i + 1]) / 2 for i in range(5)]
    assert history["loss"] == pytest.approx(pairs, rel=1e-6)
    assert all(math.isfinite(g) for g in history["grad_norm"])  # one norm per update


# -- Hugging Face Trainer ---------------------------------------------------------------------
class HFTiny(nn.Module):
    """A regression model in the HF calling convention: forward(x, labels) -> {'loss': ...}."""

    def __init__(self, poison: dict[int, float]) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.poison = poison  # call index -> factor (math.nan for a NaN loss)
        self.calls = 0

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """The MSE loss, scaled at the poisoned calls."""
        loss = nn.functional.mse_loss(self.lin(x), labels)
        factor = self.poison.get(self.calls, 1.0)
        self.calls += 1
        return {"loss": loss * factor}


class Rows(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """320 rows of x and its sum."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(320, 4, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "labels": self.x[i].sum(0, keepdim=True)}


def hf_trainer(
    tmp_path: Path,
    model: HFTiny,
    callback: Any,
    optimizers: Any = (None, None),
    **overrides: Any,
) -> Any:
    """A CPU HF Trainer logging every update, NaN filter off, no saving or reporting."""
    settings: dict[str, Any] = {
        "max_steps": 30,
        "logging_steps": 1,
        "logging_nan_inf_filter": False,
        "lr_scheduler_type": "constant",
        **overrides,
    }
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        learning_rate=0.05,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **settings,
    )
    return Trainer(
        model=model,
        args=args,
        train_dataset=Rows(),
        callbacks=[callback],
        optimizers=optimizers,
    )


@pytest.mark.training  # the monitor/guard reads the losses of a real training run
def test_hf_callback_logs_groups_and_the_spike(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """HF: lr and momentum (betas[0]) of the group in the log history; the spike is logged."""
    torch.manual_seed(0)
    callback = HFCallback(Monitor(warm_start=4, divergence_factor=None))
    trainer = hf_trainer(tmp_path, HFTiny({SPIKE_AT: 50.0}), callback)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logs) == 30
    assert logs[0]["lr/0"] == pytest.approx(0.05)
    assert logs[0]["momentum/0"] == 0.9  # AdamW's betas[0]
    events = callback.monitor.events
    assert [(e.step, e.kind) for e in events] == [(SPIKE_AT, "spike")]
    assert "rampup/spike" in logs[SPIKE_AT]
    assert any("spiked" in r.getMessage() for r in caplog.records)


@pytest.mark.training  # the monitor/guard reads the losses of a real training run
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"logging_steps": 5}, ["logging_steps=5: the monitor sees the loss averaged"]),
        (
            {"logging_nan_inf_filter": True},
            ["logging_nan_inf_filter=True: the Trainer leaves NaN and inf losses out"],
        ),
        (
            {"logging_strategy": "epoch", "logging_nan_inf_filter": True},
            ["logging_strategy='epoch': the Trainer reports the loss once per epoch", "nan_inf"],
        ),
        ({"logging_strategy": "no"}, ["logging_strategy='no': the Trainer never reports the loss"]),
    ],
)
def test_hf_callback_warns_of_logging_settings_that_hide_updates(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    expected: list[str],
) -> None:
    """At train start: one warning per setting that hides updates or NaN losses; none if fine."""
    torch.manual_seed(0)
    callback = HFCallback(Monitor(warm_start=4, divergence_factor=None))
    trainer = hf_trainer(tmp_path, HFTiny({}), callback, max_steps=6, **overrides)
    with caplog.at_level(logging.WARNING, logger="rampup"):
        trainer.train()
    found = [r.getMessage() for r in caplog.records if r.getMessage().startswith("HFCallback:")]
    assert len(found) == len(expected)
    for message, part in zip(found, expected, strict=True):
        assert part in message
        assert message.endswith(("to feed every update", "logging_nan_inf_filter=False"))


@pytest.mark.training  # the monitor/guard reads the losses of a real training run
def test_hf_callback_stops_training_on_a_nan_loss_under_a_guard(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A NaN loss with a guard: an error in the log and training stops; it never goes on."""
    torch.manual_seed(0)
    model = HFTiny({8: math.nan})
    guard = quiet_guard(20)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = rampup.torch.Scheduler(opt, "linear(20) >> cosine", total_steps=30, controller=guard)
    trainer = hf_trainer(tmp_path, model, HFCallback(guard=guard), (opt, sched))
    with caplog.at_level(logging.WARNING, logger="rampup"):
        trainer.train()
    assert trainer.state.global_step == 9  # the NaN was update 8's loss: stopped after it
    assert guard.pending is not None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("training stopped" in r.getMessage() for r in errors)


def test_lightning_callback_checkpoints_its_monitor() -> None:
    """Without a guard the callback's state is its monitor's; with one, the scheduler has it."""
    cb = LightningCallback(Monitor(window=8, warm_start=1))
    cb.monitor.update(2.0)
    state = cb.state_dict()
    other = LightningCallback(Monitor(window=8, warm_start=1))
    other.load_state_dict(state)
    assert other.monitor.initial_loss == 2.0
    assert LightningCallback(guard=AdaptiveWarmup(5)).state_dict() == {}


@pytest.mark.parametrize(
    ("name", "hidden", "message"),
    [
        (
            "LightningCallback",
            "lightning",
            "rampup.callbacks needs Lightning: pip install 'rampup[lightning]'"
            " (No module named 'lightning')",
        ),
        (
            "HFCallback",
            "transformers",
            "rampup.callbacks needs Hugging Face transformers: pip install 'rampup[hf]'"
            " (No module named 'transformers')",
        ),
    ],
)
def test_a_callback_without_its_framework_says_what_to_install(
    name: str, hidden: str, message: str
) -> None:
    """rampup.callbacks imports without the frameworks; a callback then names what to install."""
    hide = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] == {hidden!r}:\n"
        f'            raise ModuleNotFoundError("No module named {hidden!r}")\n'
        "sys.meta_path.insert(0, Hide())\n"
    )
    code = (
        "import rampup.callbacks\n"
        "try:\n"
        f"    from rampup.callbacks import {name}\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", hide + code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"ImportError {message}"

"""rampup.torch.Scheduler inside real trainers: a Lightning Trainer and an HF Trainer.

Each trainer runs a tiny model for a few updates; an optimizer step pre-hook records the lr every
update actually used, which must be the schedule's value at that update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning
import pytest
import torch
import transformers
from torch import nn

import rampup
import rampup.torch as rt

torch.set_num_threads(1)

SPEC = "linear(4) >> cosine(to=0.1)"
TOTAL = 12
BASE = 0.05


def _expected(n: int) -> list[float]:
    s = rampup.parse(SPEC).bind(total_steps=TOTAL)
    return [BASE * s(t) for t in range(n)]


def _record(optimizer: torch.optim.Optimizer) -> list[float]:
    used: list[float] = []

    def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        used.append(float(opt.param_groups[0]["lr"]))

    optimizer.register_step_pre_hook(hook)
    return used


def _data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    return x, x.sum(dim=1, keepdim=True)


# -- Lightning ------------------------------------------------------------------------------------
class _LightningTiny(lightning.LightningModule):
    """A linear layer whose optimizer records the lr of every update in ``used``."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)
        self.used: list[float] = []

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """The MSE loss of the batch."""
        inputs, targets = batch
        return nn.functional.mse_loss(self.layer(inputs), targets)

    def configure_optimizers(self) -> Any:
        """SGD with the rampup scheduler, stepped per update."""
        opt = torch.optim.SGD(self.parameters(), lr=BASE)
        self.used = _record(opt)
        sched = rt.Scheduler(opt, SPEC, total_steps=TOTAL)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def _lightning_trainer(max_steps: int, root: Path) -> Any:
    return lightning.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
    )


def _loader() -> torch.utils.data.DataLoader[Any]:
    x, y = _data()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)


# lightning's _pytree still calls a torch.utils._pytree API that torch 2.13 deprecates
@pytest.mark.filterwarnings("ignore:.*treespec, LeafSpec.* is deprecated:FutureWarning")
def test_lightning_trainer_steps_the_scheduler_per_update(tmp_path: Path) -> None:
    """Lightning (interval='step'): the lr each update used is base * s(t) for t = 0 .. 11."""
    model = _LightningTiny()
    _lightning_trainer(TOTAL, tmp_path).fit(model, _loader())
    assert model.used == _expected(TOTAL)
    assert model.used[3] == model.used[4] == BASE


@pytest.mark.filterwarnings("ignore:.*treespec, LeafSpec.* is deprecated:FutureWarning")
# a mid-epoch checkpoint: lightning warns that the data order may differ; the lrs do not
@pytest.mark.filterwarnings("ignore:.*resuming from a checkpoint that ended before the epoch")
def test_lightning_resumes_from_a_checkpoint_at_the_schedules_values(tmp_path: Path) -> None:
    """Lightning fit(ckpt_path=...) at update 5: updates 5 .. 11 run at base * s(t), exactly."""
    first = _LightningTiny()
    trainer = _lightning_trainer(5, tmp_path)
    trainer.fit(first, _loader())
    trainer.save_checkpoint(tmp_path / "at5.ckpt")
    resumed = _LightningTiny()
    _lightning_trainer(TOTAL, tmp_path).fit(resumed, _loader(), ckpt_path=tmp_path / "at5.ckpt")
    assert first.used == _expected(5)
    assert resumed.used == _expected(TOTAL)[5:]


# -- HF Trainer -----------------------------------------------------------------------------------
class _HFTiny(nn.Module):
    """A model HF's Trainer can drive: forward(x, labels) returns {'loss': ...}."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """The MSE loss of a linear layer."""
        return {"loss": nn.functional.mse_loss(self.layer(x), labels)}


def _hf_args(tmp_path: Path, **settings: Any) -> Any:
    """HF TrainingArguments for a CPU run of TOTAL updates of batch 2, no logging or reporting."""
    return transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=TOTAL,
        per_device_train_batch_size=2,
        learning_rate=BASE,
        report_to=[],
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **settings,
    )


@pytest.mark.parametrize("accumulation", [1, 2])
def test_hf_trainer_uses_the_schedule_at_every_update(tmp_path: Path, accumulation: int) -> None:
    """HF Trainer(optimizers=(opt, sched)): update t runs at base * s(t), accumulation included."""
    x, y = _data()
    dataset = [{"x": x[i], "labels": y[i]} for i in range(len(x))]
    model = _HFTiny()
    opt = torch.optim.SGD(model.parameters(), lr=BASE)
    used = _record(opt)
    sched = rt.Scheduler(opt, SPEC, total_steps=TOTAL)
    args = _hf_args(tmp_path, gradient_accumulation_steps=accumulation, save_strategy="no")
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        optimizers=(opt, sched),  # type: ignore[arg-type]  # HF annotates LambdaLR; any works
    )
    trainer.train()
    assert used == _expected(TOTAL)
    assert sched.last_epoch == TOTAL


def test_hf_trainer_resumes_from_a_checkpoint_at_the_schedules_values(tmp_path: Path) -> None:
    """HF resume_from_checkpoint at update 5: updates 5 .. 11 run at base * s(t), exactly."""
    x, y = _data()
    dataset = [{"x": x[i], "labels": y[i]} for i in range(len(x))]

    def run(resume: str | None) -> tuple[list[float], rt.Scheduler]:
        model = _HFTiny()
        opt = torch.optim.SGD(model.parameters(), lr=BASE)
        used = _record(opt)
        sched = rt.Scheduler(opt, SPEC, total_steps=TOTAL)
        args = _hf_args(tmp_path, save_strategy="steps", save_steps=5)
        trainer = transformers.Trainer(
            model=model,
            args=args,
            train_dataset=dataset,
            optimizers=(opt, sched),  # type: ignore[arg-type]  # HF annotates LambdaLR
        )
        trainer.train(resume_from_checkpoint=resume)
        return used, sched

    whole, _ = run(None)
    resumed, sched = run(str(tmp_path / "checkpoint-5"))
    assert whole == _expected(TOTAL)
    assert resumed == _expected(TOTAL)[5:]
    assert sched.last_epoch == TOTAL


# -- accelerate -----------------------------------------------------------------------------------
def test_accelerate_prepared_scheduler_with_accumulation() -> None:
    """accelerator.prepare(scheduler), 2 micro-batches per update: update t runs at base * s(t)."""
    import accelerate  # noqa: PLC0415  # only this test needs it
    from accelerate.state import AcceleratorState, GradientState  # noqa: PLC0415

    try:
        acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
        model = nn.Linear(4, 1)
        opt = torch.optim.SGD(model.parameters(), lr=BASE)
        used = _record(opt)
        sched = rt.Scheduler(opt, SPEC, total_steps=TOTAL)
        x, y = _data(2 * 2 * TOTAL)  # batch 2, 2 micro-batches per update
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=2)
        model, prepared_opt, loader, prepared = acc.prepare(model, opt, loader, sched)
        assert prepared.scheduler is sched
        for inputs, targets in loader:
            with acc.accumulate(model):
                acc.backward(nn.functional.mse_loss(model(inputs), targets))
                prepared_opt.step()
                prepared.step()  # accelerate steps the scheduler only on a real update
                prepared_opt.zero_grad()
        assert used == _expected(TOTAL)
        assert sched.last_epoch == TOTAL
    finally:  # accelerate keeps its state in process-wide singletons
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()

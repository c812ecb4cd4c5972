"""Shared helper of the Lightning callback tests: a quiet CPU trainer that logs to CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L  # noqa: N812  # Lightning's own convention
from lightning.pytorch.loggers import CSVLogger


def quiet_trainer(tmp_path: Path | None, callbacks: list[Any], **settings: Any) -> L.Trainer:
    """A CPU trainer on one device, without checkpoints, progress bar or model summary.

    Every step is logged to tmp_path's CSV; ``tmp_path=None``: no logger.
    """
    return L.Trainer(
        logger=False if tmp_path is None else CSVLogger(tmp_path, name="run"),
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
        log_every_n_steps=1,
        **settings,
    )

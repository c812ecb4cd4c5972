"""Rich progress bars for a running grid: one overall bar and one bar per run in flight."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rampup.lab.train import RunConfig

__all__ = ["GridProgress"]


class GridProgress:
    """A context manager whose :meth:`on_event` feeds :func:`rampup.lab.runner.run_grid`."""

    def __init__(
        self, total: int, *, console: Any = None, label: str = "grid", completed: int = 0
    ) -> None:
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._overall = self._progress.add_task(f"[bold]{label}", total=total, completed=completed)
        self._bars: dict[str, Any] = {}

    def __enter__(self) -> GridProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    @staticmethod
    def _label(cfg: RunConfig) -> str:
        return f"  {cfg.task} · {cfg.strategy} · lr {cfg.peak_lr:g} · seed {cfg.seed}"

    def on_event(self, kind: str, cfg: RunConfig, payload: Any) -> None:
        """Start, advance or finish the bar of run ``cfg``."""
        key = cfg.key()
        if kind == "start":
            self._bars[key] = self._progress.add_task(self._label(cfg), total=None)
        elif kind == "step" and key in self._bars:
            step, total = payload
            self._progress.update(self._bars[key], completed=step, total=total)
        elif kind == "done":
            bar = self._bars.pop(key, None)
            if bar is not None:
                self._progress.remove_task(bar)
            status = "[red]failed" if payload["diverged"] else "[green]ok"
            self._progress.console.print(f"{self._label(cfg)}: {status}", highlight=False)
            self._progress.advance(self._overall)

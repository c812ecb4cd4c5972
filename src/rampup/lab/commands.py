"""The lab's commands of the ``rampup`` CLI: ``rampup demo`` (and, later, ``rampup lab``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the lab's commands to the ``rampup`` application."""

    @app.command()
    def demo() -> None:
        """Run the main job: the seeds' schedules side by side at their key steps."""
        from rampup._demo import run_demo  # noqa: PLC0415  # keep start-up light

        raise typer.Exit(run_demo())

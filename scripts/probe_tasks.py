"""The critical lr of every built-in lab task at initialisation, seeds 0-2 (docs/probe.md).

Each probe gets a generous budget (the whole run) so that the bracket closes to a few % and the
number is the model's, not the budget's: ``rampup lab probe`` with its default 3 % budget gives
the same number, coarser. Prints a markdown table and the CPU path. Run:

    .venv/bin/python scripts/probe_tasks.py
"""

from __future__ import annotations

import torch

from rampup.lab.probing import probe_task
from rampup.lab.tasks import TASKS
from rampup.lab.train import platform_info

torch.set_num_threads(1)
SEEDS = (0, 1, 2)


def main() -> None:
    """Print the table."""
    print("| task | optimiser | critical lr, seeds 0 / 1 / 2 | trials |")
    print("| --- | --- | --- | ---: |")
    for name, task in TASKS.items():
        found = [probe_task(name, 100.0, s, budget=1.0) for s in SEEDS]
        crit = " / ".join(f"{r.critical_lr:.3g}" for r in found)
        print(f"| `{name}` | {task.optimizer} | {crit} | {len(found[0].trials)} |", flush=True)
    p = platform_info()
    print(f"\nRan on torch {torch.__version__}, CPU capability {p['cpu_capability']}, one thread.")


if __name__ == "__main__":
    main()

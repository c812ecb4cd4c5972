"""The guard under torch.distributed: 2 processes on gloo (CPU) take the same decisions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

import rampup.torch
from rampup import Monitor
from rampup.adaptive import AdaptiveWarmup

torch.set_num_threads(1)

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import torch
    import torch.distributed as dist
    import rampup.torch
    from rampup import Monitor
    from rampup.adaptive import AdaptiveWarmup

    torch.set_num_threads(1)
    rank, init, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    dist.init_process_group("gloo", init_method="file://" + init, rank=rank, world_size=2)
    monitor = Monitor(20, warm_start=3, divergence_factor=None)
    guard = AdaptiveWarmup(20, monitor=monitor, cooldown=2, read_every=1)  # hold at once
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = rampup.torch.Scheduler(opt, "linear(20) >> cosine", total_steps=40, controller=guard)
    lrs = []
    for t in range(30):
        loss = 1.0 + 0.01 * rank + 0.001 * t
        if rank == 1 and t == 10:
            loss = 50.0  # only rank 1 sees the spike
        lrs.append(float(opt.param_groups[0]["lr"]))
        guard.observe(torch.tensor(loss))
        opt.step()
        sched.step()
    events = [e.kind for e in monitor.events]
    result = {"lrs": lrs, "holds": guard.holds, "clock": sched.clock, "events": events}
    with open(out, "w") as f:
        json.dump(result, f)
    # Tear down in step: gloo aborts a process ("terminate called without an active exception")
    # when its peer closes the connection while its own threads are still being destroyed.
    dist.barrier()
    dist.destroy_process_group()
    os._exit(0)
    """
)


def local_lrs(losses: list[float]) -> list[float]:
    """The lrs of a single process fed ``losses`` (no reduction)."""
    guard = AdaptiveWarmup(
        20, monitor=Monitor(20, warm_start=3, divergence_factor=None), cooldown=2
    )
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = rampup.torch.Scheduler(opt, "linear(20) >> cosine", total_steps=40, controller=guard)
    out = []
    for x in losses:
        out.append(float(opt.param_groups[0]["lr"]))
        guard.observe(x)
        opt.step()
        sched.step()
    return out


@pytest.mark.training  # the monitor/guard reads the losses of a real training run
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_only_rank_1_spikes_and_both_ranks_hold(tmp_path: Path) -> None:
    """Rank 1's spike reaches rank 0 through all_reduce: identical lrs, both hold the warmup."""
    init = tmp_path / "init"
    outs = [tmp_path / f"rank{r}.json" for r in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(r), str(init), str(outs[r])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    res: list[dict[str, Any]] = [json.loads(o.read_text(encoding="utf-8")) for o in outs]
    assert res[0]["lrs"] == res[1]["lrs"]
    assert res[0]["events"] == res[1]["events"] == ["spike"]
    assert res[0]["holds"] == res[1]["holds"] == 1
    lrs = res[0]["lrs"]
    assert lrs[11] == lrs[10]  # the update after the spike runs at the same lr: held
    assert lrs[:11] == [(t + 1) / 20 for t in range(11)]  # linear(20) before it
    assert res[0]["clock"] == 30 - 1 - 0.5 * 2  # one hold, two updates at half speed
    # rank 0 on its own would not have held: the decision came from the reduction
    own = [1.0 + 0.001 * t for t in range(30)]
    assert local_lrs(own) != lrs

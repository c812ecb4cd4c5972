"""``rampup lab probe`` and the lab's probe: a task's critical lr and the warmup it gives."""

from __future__ import annotations

import math

import pytest
import torch
from typer.testing import CliRunner

from rampup import RampupError, parse
from rampup.cli import app
from rampup.lab.probing import probe_task
from rampup.lab.strategies import DECAY, probed_spec

torch.set_num_threads(1)
runner = CliRunner()


def _run(*argv: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(argv))
    return result.exit_code, result.stdout, result.stderr


def test_lab_probe_prints_the_measurement_and_its_spec() -> None:
    """digits-largebatch, 100 updates: 2 trials (3 % of 100 / (4/3)), 2.67 updates.

    The spec binds; the start is half the critical lr over the peak (0 when none was stable).
    """
    code, out, _ = _run("lab", "probe", "--task", "digits-largebatch", "--lr", "3.2")
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.startswith("critical lr ")
    assert "peak 3.2 (given)" in first
    assert "cost: 2.67 updates of forward/backward, within the budget of 3 (3 % of 100)" in out
    spec = first.split(": ", 1)[1]
    parse(spec).bind(total_steps=100)
    r = probe_task("digits-largebatch", 3.2)
    assert spec == r.spec
    assert len(r.trials) == 2
    assert r.trials[0].lr == 6.4  # twice the peak first
    assert r.start == float(f"{min(1.0, 0.5 * r.critical_lr / 3.2):.4g}")


def test_lab_probe_on_adam_keeps_the_beta2_rule() -> None:
    """markov-postln (AdamW 0.999, 200 updates): the rule min(2000, 50) = 50 from 0."""
    r = probe_task("markov-postln", 1e-2)
    assert r.spec == "linear(50) >> cosine"
    assert r.beta2 == 0.999
    assert len(r.trials) <= math.floor(0.03 * 200 / (4 / 3))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "digits-largebatch"], "--task and --lr are required"),
        (["--lr", "1"], "--task and --lr are required"),
        (["--task", "nope", "--lr", "1"], "task='nope' is invalid"),
        (["--task", "shapes-bn", "--lr", "4.8", "--steps", "20"], "45 updates or more"),
        (["--task", "shapes-bn", "--lr", "-1"], "peak_lr=-1.0 is invalid"),
    ],
)
def test_lab_probe_bad_input_is_one_line(argv: list[str], message: str) -> None:
    """A bad input: one line on stderr, exit status 2, no traceback."""
    code, out, err = _run("lab", "probe", *argv)
    assert code == 2
    assert err.startswith("rampup lab probe: error: ")
    assert message in err
    assert "Traceback" not in err + out


def test_probed_spec_completes_auto_by_the_rule() -> None:
    """Start in (0, 1): auto(optimizer=sgd, start=s); 0: unmeasured auto; no warmup: the decay."""
    assert probed_spec(0.125, 22) == f"auto(optimizer=sgd, start=0.125) >> {DECAY}"
    assert probed_spec(0.0, 25) == f"auto(optimizer=sgd) >> {DECAY}"
    assert probed_spec(1.0, 0) == DECAY
    # the phase's length is the measured warmup's: ceil(25 x (1 - 0.125)) = 22
    assert parse(probed_spec(0.125, 22)).bind(total_steps=100).bounds[0] == 22


def test_probe_task_rejects_a_bad_lr() -> None:
    """The peak is checked before anything is built."""
    with pytest.raises(RampupError, match=r"lab probe\(\): peak_lr=nan"):
        probe_task("digits-largebatch", math.nan)

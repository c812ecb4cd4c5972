"""The batched engine: stacked members train as separate torch runs would, to rounding.

Agreement measured (torch 2.13, CPU, AVX512 and ATEN_CPU_CAPABILITY=default): over each member's
first 20 training losses, the batched engine and a plain loop (``nn.Module`` + ``torch.optim.X``
+ the same batches + the same learning rate per update) differ by at most 2.5e-7 relative (two
float32 ulps of a loss near 1), on the MLP and on the Transformer encoder, for AdamW, Adam, SGD
with momentum and RAdam (L2 and decoupled). The tests allow ``RTOL = 2e-6`` (8x the largest
deviation seen), not bit-identity: the batched kernels (``bmm`` for ``mm``) sum in another
order.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import rampup.torch
from rampup import RampupError, linear, parse
from rampup.lab.batched import Member, StackedModel, train_batched, unbatchable_reason
from rampup.lab.functional_optim import OptimizerSpec

#: The relative tolerance on a training loss (see the module docstring for what was measured).
RTOL = 2e-6
STEPS = 20
_VOCAB, _LEN = 16, 8


def _mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)
    )  # fmt: skip


class _LM(nn.Module):
    """A tiny causal Transformer LM with the lab's encoder layers (batch first, no dropout)."""

    def __init__(self) -> None:
        super().__init__()
        d = 32
        self.tok = nn.Embedding(_VOCAB, d)
        self.pos = nn.Parameter(torch.randn(_LEN, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(d, _VOCAB)
        self.register_buffer("mask", torch.triu(torch.full((_LEN, _LEN), -math.inf), 1))

    def forward(self, x: Tensor) -> Tensor:
        h = self.tok(x) + self.pos
        out: Tensor = self.head(self.body(h, mask=self.mask, is_causal=True))
        return out


def _lm(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return _LM()


def _mlp_batch(seed: int, step: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed * 1000 + step)
    x = torch.randn(16, 8, generator=g)
    return x, (x[:, :4].sum(1) > 0).long() + 2 * (x[:, 4:].sum(1) > 0).long()


def _lm_batch(seed: int, step: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed * 1000 + step)
    x = torch.randint(0, _VOCAB, (4, _LEN + 1), generator=g)
    return x[:, :-1], x[:, 1:]


_ce = nn.CrossEntropyLoss()


def _lm_loss(out: Tensor, y: Tensor) -> Tensor:
    loss: Tensor = _ce(out.reshape(-1, _VOCAB), y.reshape(-1))
    return loss


MODELS: dict[str, tuple[Any, Any, Any]] = {
    "mlp": (_mlp, _mlp_batch, _ce),
    "encoder": (_lm, _lm_batch, _lm_loss),
}
SPECS = {
    "adamw": OptimizerSpec("adamw", weight_decay=0.01),
    "adam": OptimizerSpec("adam", betas=(0.9, 0.98), weight_decay=0.01),
    "sgd": OptimizerSpec("sgd", momentum=0.9, weight_decay=0.01),
    "radam": OptimizerSpec("radam", weight_decay=0.01),
    "radam-decoupled": OptimizerSpec("radam", weight_decay=0.01, decoupled_weight_decay=True),
}


def _torch_optimizer(spec: OptimizerSpec, params: Any, lr: float) -> torch.optim.Optimizer:
    if spec.kind == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=spec.momentum, weight_decay=spec.weight_decay
        )  # fmt: skip
    kwargs: dict[str, Any] = {"lr": lr, "betas": spec.betas, "weight_decay": spec.weight_decay}
    if spec.kind == "radam":
        return torch.optim.RAdam(
            params, decoupled_weight_decay=spec.decoupled_weight_decay, **kwargs
        )  # fmt: skip
    cls = torch.optim.AdamW if spec.kind == "adamw" else torch.optim.Adam
    return cls(params, **kwargs)


def _reference(name: str, spec: OptimizerSpec, member: Member, steps: int = STEPS) -> list[float]:
    """The plain torch loop: one model, torch's optimiser, the lr set before each update."""
    build, batch, loss_fn = MODELS[name]
    model = build(member.seed)
    opt = _torch_optimizer(spec, model.parameters(), member.lrs[0])
    out = []
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = member.lrs[t]
        opt.zero_grad()
        x, y = batch(member.seed, t)
        loss = loss_fn(model(x), y)
        out.append(float(loss.detach()))
        if not math.isfinite(out[-1]):
            break
        loss.backward()
        opt.step()
    return out


def _members(spec: OptimizerSpec) -> list[Member]:
    """Three seeds, three peaks, three shapes: constant, a linear ramp, a rampup schedule."""
    peak = 0.05 if spec.kind == "sgd" else 3e-3
    return [
        Member(0, (peak,) * STEPS),
        Member(1, tuple(2 * peak * min(1.0, (t + 1) / 10) for t in range(STEPS))),
        Member.scheduled(2, peak / 2, parse("linear(5) >> cosine(15, to=0.1)"), STEPS),
    ]


@pytest.mark.training
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("kind", list(SPECS))
def test_first_losses_equal_torch_loop(model: str, kind: str) -> None:
    """Each member's first 20 losses equal a plain torch loop's to RTOL, for every optimiser."""
    spec = SPECS[kind]
    members = _members(spec)
    build, batch, loss_fn = MODELS[model]
    run = train_batched(build, batch, loss_fn, members, spec, STEPS)
    for member, result in zip(members, run.results, strict=True):
        assert result.stopped_at is None
        assert result.losses == pytest.approx(_reference(model, spec, member), rel=RTOL, abs=0)


def test_scheduled_member_takes_the_schedulers_rates() -> None:
    """Member.scheduled gives update t the rate rampup.torch.Scheduler sets: peak * s(t)."""
    sched_spec = parse("linear(5) >> cosine(15, to=0.1)")
    member = Member.scheduled(0, 0.02, sched_spec, STEPS)
    opt = torch.optim.SGD(_mlp(0).parameters(), lr=0.02)
    sched = rampup.torch.Scheduler(opt, sched_spec, total_steps=STEPS)
    seen = []
    for _ in range(STEPS):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert list(member.lrs) == pytest.approx(seen, rel=1e-12)


@pytest.mark.training
def test_nonfinite_member_stops_alone() -> None:
    """A member whose loss goes non-finite stops there; the others train on as before."""
    spec = SPECS["sgd"]
    good = _members(spec)
    bad = Member(3, (1e6,) * STEPS, label="too hot")
    run = train_batched(_mlp, _mlp_batch, _ce, [good[0], bad, good[1], good[2]], spec, STEPS)
    hot = run.results[1]
    assert hot.failed
    assert hot.stopped_at is not None
    assert hot.stopped_at < STEPS
    assert not math.isfinite(hot.losses[-1])
    assert len(hot.losses) == hot.stopped_at + 1
    want = _reference("mlp", spec, bad)[: len(hot.losses)]
    assert hot.losses == pytest.approx(want, rel=RTOL, nan_ok=True)
    for member, result in zip(good, [run.results[0], *run.results[2:]], strict=True):
        assert not result.failed
        assert len(result.losses) == STEPS
        assert result.losses == pytest.approx(_reference("mlp", spec, member), rel=RTOL)


def test_blowup_threshold_stops_before_the_update() -> None:
    """A loss above ``blowup`` stops the member at that step, with that loss recorded last."""
    member = Member(0, (0.01,) * STEPS)
    first = _reference("mlp", SPECS["adam"], member, steps=1)[0]
    run = train_batched(_mlp, _mlp_batch, _ce, [member], SPECS["adam"], STEPS, blowup=first / 2)
    assert run.results[0].stopped_at == 0
    assert run.results[0].losses == pytest.approx([first])


def test_members_sharing_a_seed_share_batches() -> None:
    """``batch`` is called once per distinct live seed and step, in step order."""
    calls: list[tuple[int, int]] = []

    def batch(seed: int, step: int) -> tuple[Tensor, Tensor]:
        calls.append((seed, step))
        return _mlp_batch(seed, step)

    members = [Member(0, (1e-3,) * 3), Member(0, (1e-2,) * 3), Member(1, (1e-3,) * 3)]
    train_batched(_mlp, batch, _ce, members, SPECS["adamw"], 3)
    assert calls == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


class _StopAt:
    """A controller: a constant rate, the gradient norms it saw, and a step to stop at."""

    def __init__(self, lr: float, stop: int) -> None:
        self.rate, self.stop, self.norms = lr, stop, []  # type: tuple[float, int, list[float]]

    def lr(self, step: int, loss: float, grad_norm: float) -> float | None:
        self.norms.append(grad_norm)
        return None if step == self.stop else self.rate


def test_controller_sets_rates_and_sees_the_gradient_norm() -> None:
    """A controller's rate is used; None stops its member; it sees clip_grad_norm_'s norm."""
    ctl = _StopAt(1e-3, stop=4)
    members = [Member(0, controller=ctl), Member(1, (1e-3,) * 6)]
    run = train_batched(_mlp, _mlp_batch, _ce, members, SPECS["adam"], 6)
    assert run.results[0].stopped_at == 4
    assert run.results[1].stopped_at is None
    assert run.results[0].losses == pytest.approx(
        _reference("mlp", SPECS["adam"], Member(0, (1e-3,) * 5), steps=5), rel=RTOL
    )
    model = _mlp(0)
    x, y = _mlp_batch(0, 0)
    _ce(model(x), y).backward()
    norm = float(nn.utils.clip_grad_norm_(model.parameters(), math.inf))
    assert ctl.norms[0] == pytest.approx(norm, rel=1e-5)


def test_evaluate_hook_sees_every_live_member() -> None:
    """The hook runs at 0, every eval_every and at the end; forward equals each member's module."""
    x_val = torch.randn(32, 8, generator=torch.Generator().manual_seed(7))

    def evaluate(stack: StackedModel) -> dict[str, list[float]]:
        out = stack.forward(x_val)
        for i in range(stack.size):
            with torch.no_grad():
                alone = stack.module(i)(x_val)
            torch.testing.assert_close(out[i], alone, rtol=1e-5, atol=1e-6)
        return {"mean": out.mean(dim=(1, 2)).tolist()}

    members = [Member(m.seed, m.lrs[:7]) for m in _members(SPECS["adamw"])]
    run = train_batched(
        _mlp, _mlp_batch, _ce, members, SPECS["adamw"], 7, evaluate=evaluate, eval_every=3
    )  # fmt: skip
    for result in run.results:
        assert [row["step"] for row in result.curve] == [0, 3, 6, 7]
        assert all(math.isfinite(row["mean"]) for row in result.curve)


def test_unbatchable_models_are_named() -> None:
    """Batch norm and dropout (p > 0) are reasons to use the process engine; p = 0 is not."""
    assert unbatchable_reason(_lm(0)) is None
    assert unbatchable_reason(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.0))) is None
    reason = unbatchable_reason(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1)))
    assert reason is not None
    assert "Dropout(p=0.1)" in reason
    reason = unbatchable_reason(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    assert reason is not None
    assert "BatchNorm1d" in reason
    mha = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    assert unbatchable_reason(mha) is not None


def _call(**over: Any) -> None:
    kwargs: dict[str, Any] = {
        "build_model": _mlp, "batch": _mlp_batch, "loss_fn": _ce,
        "members": [Member(0, (1e-3,) * 2)], "optimizer": SPECS["adam"], "steps": 2,
    }  # fmt: skip
    kwargs.update(over)
    train_batched(**kwargs)


def _bn(seed: int) -> nn.Module:
    return nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4))


BAD_CALLS: list[tuple[dict[str, Any], list[str]]] = [
    ({"steps": 0}, ["train_batched()", "steps=0", "an int >= 1"]),
    ({"steps": 2.0}, ["steps=2.0"]),
    ({"members": []}, ["members=[]", "non-empty sequence of Member"]),
    ({"members": [0.1]}, ["members[0]=0.1", "a Member"]),
    ({"members": [Member(0, (1e-3,))]}, ["members[0].lrs='1 values'", "2 (one per update)"]),
    ({"members": [Member(0, (1e-3, math.nan))]}, ["members[0].lrs=nan", "finite floats"]),
    ({"members": [Member(True, (1e-3,) * 2)]}, ["members[0].seed=True", "an int"]),
    ({"optimizer": "adam"}, ["optimizer='adam'", "an OptimizerSpec"]),
    ({"eval_every": 0}, ["eval_every=0"]),
    ({"blowup": -1.0}, ["blowup=-1.0", "a number > 0"]),
    ({"loss_fn": None}, ["loss_fn=None", "a callable"]),
    ({"build_model": _bn}, ["build_model='Sequential'", "BatchNorm1d", "process engine"]),
    ({"build_model": lambda s: 3}, ["models[0]=3", "an nn.Module"]),
]


@pytest.mark.parametrize(("over", "fragments"), BAD_CALLS)
def test_bad_arguments_are_rampup_errors(over: dict[str, Any], fragments: list[str]) -> None:
    """Each bad argument raises RampupError naming the function, parameter, value, expected."""
    with pytest.raises(RampupError) as err:
        _call(**over)
    for fragment in fragments:
        assert fragment in str(err.value)


BAD_SPECS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "lion"}, "kind='lion' is invalid: expected one of adamw, adam, sgd, radam"),
    ({"kind": "adam", "betas": (1.0, 0.9)}, "betas[0]=1.0 is invalid: expected a number in [0, 1)"),
    ({"kind": "adam", "betas": (0.9,)}, "betas=(0.9,) is invalid"),
    ({"kind": "sgd", "momentum": 1.5}, "momentum=1.5 is invalid: expected a number in [0, 1]"),
    ({"kind": "sgd", "weight_decay": -0.1}, "weight_decay=-0.1 is invalid"),
    ({"kind": "adam", "eps": math.inf}, "eps=inf is invalid"),
    ({"kind": "radam", "decoupled_weight_decay": 1}, "decoupled_weight_decay=1 is invalid"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_SPECS)
def test_bad_optimizer_specs_are_rampup_errors(kwargs: dict[str, Any], message: str) -> None:
    """OptimizerSpec checks its fields at construction, in the house wording."""
    with pytest.raises(RampupError, match=r"^OptimizerSpec\(\): ") as err:
        OptimizerSpec(**kwargs)
    assert message in str(err.value)


def test_bad_schedule_length_is_a_rampup_error() -> None:
    """Member.scheduled needs a positive int of steps."""
    with pytest.raises(RampupError, match=r"Member.scheduled\(\): steps=0 is invalid"):
        Member.scheduled(0, 1e-3, linear(5), 0)

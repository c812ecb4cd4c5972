r"""torch's optimisers as tensor operations over stacked parameters: one learning rate per member.

The batched engine (:mod:`rampup.lab.batched`) keeps ``N`` models of one architecture as stacked
tensors (leading dimension ``N``). This module updates them in one pass per parameter, with the
formulas of torch 2.13's single-tensor implementations (``torch/optim/adam.py``, ``sgd.py``,
``radam.py``: the CPU default), written again as tensor operations; only the learning rate
differs between members, a tensor of shape ``[N]`` broadcast over each parameter.

Every member takes the same number of updates (a member that stops leaves the stack), so the
update count ``t`` and the bias corrections are shared scalars. With :math:`g` the gradient,
:math:`\eta_n` member ``n``'s learning rate, :math:`\lambda` the weight decay:

- **Adam** (``adam``, L2: :math:`g \leftarrow g + \lambda p`) and **AdamW** (``adamw``,
  decoupled: :math:`p \leftarrow p (1 - \eta_n \lambda)` first):

  .. math::
      m \leftarrow \beta_1 m + (1 - \beta_1) g,\quad
      v \leftarrow \beta_2 v + (1 - \beta_2) g^2,\quad
      p \leftarrow p - \frac{\eta_n}{1 - \beta_1^t}
      \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}

- **SGD** with momentum :math:`\mu` (no dampening, no Nesterov; L2 weight decay): the buffer
  starts as the first gradient, then :math:`b \leftarrow \mu b + g`;
  :math:`p \leftarrow p - \eta_n b`.
- **RAdam** (Liu et al. 2020; L2 or decoupled weight decay): the Adam moments, then with
  :math:`\rho_\infty = 2 / (1 - \beta_2) - 1` and
  :math:`\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)`:
  if :math:`\rho_t > 5`,
  :math:`p \leftarrow p - \eta_n \hat m \, r_t \sqrt{1 - \beta_2^t} / (\sqrt{v} + \epsilon)`
  with :math:`\hat m = m / (1 - \beta_1^t)` and
  :math:`r_t = \sqrt{(\rho_t - 4)(\rho_t - 2)\rho_\infty /
  ((\rho_\infty - 4)(\rho_\infty - 2)\rho_t)}`; otherwise :math:`p \leftarrow p - \eta_n
  \hat m`.

The operations are torch's own, in torch's order (``lerp_``, ``mul_().addcmul_()``,
``addcdiv_``), so a member's update equals torch's up to the rounding of the batched kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rampup import RampupError

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["KINDS", "FunctionalOptimizer", "OptimizerSpec"]

#: The optimisers the batched engine implements.
KINDS = ("adamw", "adam", "sgd", "radam")
_FUNC = "OptimizerSpec"


def _number(value: object) -> float:
    """``value`` as a float if it is a real number (not a bool), else NaN (fails every check)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _check_unit(value: object, param: str, *, closed: bool = False) -> float:
    """A float in [0, 1) (or [0, 1] with ``closed``)."""
    x = _number(value)
    if not (x >= 0.0 and (x <= 1.0 if closed else x < 1.0)):
        span = "[0, 1]" if closed else "[0, 1)"
        raise RampupError.invalid(_FUNC, param, value, f"a number in {span}")
    return x


def _check_nonneg(value: object, param: str) -> float:
    """A finite float >= 0."""
    x = _number(value)
    if not (math.isfinite(x) and x >= 0):
        raise RampupError.invalid(_FUNC, param, value, "a finite number >= 0")
    return x


@dataclass(frozen=True)
class OptimizerSpec:
    """Which optimiser, and its hyper-parameters (the learning rate is per member, elsewhere).

    ``kind`` is ``adamw``, ``adam``, ``sgd`` (with ``momentum``) or ``radam``; ``betas`` and
    ``eps`` apply to the Adam family, ``momentum`` to SGD. ``weight_decay`` is decoupled for
    ``adamw``, L2 for ``adam`` and ``sgd``, and for ``radam`` decoupled exactly when
    ``decoupled_weight_decay`` is true (torch's flag of the same name). The defaults are torch's,
    except ``weight_decay`` (0 here; AdamW's own default is 0.01).
    """

    kind: Literal["adamw", "adam", "sgd", "radam"]
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    weight_decay: float = 0.0
    eps: float = 1e-8
    decoupled_weight_decay: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RampupError.invalid(_FUNC, "kind", self.kind, "one of " + ", ".join(KINDS))
        betas = self.betas
        if not isinstance(betas, tuple) or len(betas) != 2:
            raise RampupError.invalid(_FUNC, "betas", betas, "a pair (beta1, beta2)")
        _check_unit(betas[0], "betas[0]")
        _check_unit(betas[1], "betas[1]")
        _check_unit(self.momentum, "momentum", closed=True)
        _check_nonneg(self.weight_decay, "weight_decay")
        _check_nonneg(self.eps, "eps")
        if not isinstance(self.decoupled_weight_decay, bool):
            raise RampupError.invalid(
                _FUNC, "decoupled_weight_decay", self.decoupled_weight_decay, "True or False"
            )

    @property
    def decoupled(self) -> bool:
        """Whether the weight decay multiplies the parameters (AdamW) instead of adding to g."""
        if self.kind == "adamw":
            return True
        return self.kind == "radam" and self.decoupled_weight_decay


@dataclass
class FunctionalOptimizer:
    """The optimiser's state for stacked parameters, and the update of one step.

    ``state[name]`` holds the moment tensors of parameter ``name`` (``exp_avg`` and
    ``exp_avg_sq`` for the Adam family, ``momentum_buffer`` for SGD), each shaped like the
    stacked parameter; ``steps`` counts the updates taken (shared by every member).
    """

    spec: OptimizerSpec
    steps: int = 0
    state: dict[str, dict[str, Tensor]] = field(default_factory=dict)

    def keep(self, index: Tensor) -> None:
        """Keep only the members at ``index`` (a 1-d long tensor): the others left the stack."""
        for slot in self.state.values():
            for key, value in slot.items():
                slot[key] = value.index_select(0, index)

    def step(self, params: dict[str, Tensor], grads: dict[str, Tensor], lrs: Tensor) -> None:
        """Update ``params`` in place from ``grads``; ``lrs`` (float64, shape ``[N]``) per member.

        Call it under ``torch.no_grad()``. Scalars shared by the members (bias corrections, the
        RAdam rectification) are Python floats, as in torch; each member's learning rate enters
        as its own float32 factor, rounded once from float64 as torch rounds a Python scalar.
        """
        self.steps += 1
        kind = self.spec.kind
        for name, p in params.items():
            g = grads[name]
            slot = self.state.setdefault(name, {})
            shape = (p.shape[0],) + (1,) * (p.dim() - 1)
            if kind == "sgd":
                self._sgd(p, g, slot, lrs, shape)
            else:
                self._adam_family(p, g, slot, lrs, shape)

    def _sgd(
        self, p: Tensor, g: Tensor, slot: dict[str, Tensor], lrs: Tensor, shape: tuple[int, ...]
    ) -> None:
        spec = self.spec
        if spec.weight_decay != 0:
            g = g.add(p, alpha=spec.weight_decay)
        if spec.momentum != 0:
            buf = slot.get("momentum_buffer")
            if buf is None:
                buf = g.detach().clone()
                slot["momentum_buffer"] = buf
            else:
                buf.mul_(spec.momentum).add_(g)
            g = buf
        # torch: p.add_(g, alpha=-lr) = p + (-lr) * g
        p.add_(g * (-lrs).to(p.dtype).view(shape))

    def _adam_family(
        self, p: Tensor, g: Tensor, slot: dict[str, Tensor], lrs: Tensor, shape: tuple[int, ...]
    ) -> None:
        import torch  # noqa: PLC0415

        spec = self.spec
        beta1, beta2 = spec.betas
        if spec.weight_decay != 0:
            if spec.decoupled:
                p.mul_((1 - lrs * spec.weight_decay).to(p.dtype).view(shape))
            else:
                g = g.add(p, alpha=spec.weight_decay)
        if not slot:
            slot["exp_avg"] = torch.zeros_like(p)
            slot["exp_avg_sq"] = torch.zeros_like(p)
        exp_avg, exp_avg_sq = slot["exp_avg"], slot["exp_avg_sq"]
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        t = float(self.steps)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        if spec.kind == "radam":
            self._radam_update(p, exp_avg, exp_avg_sq, lrs, shape, bias_correction1, t)
            return
        neg_step = (-(lrs / bias_correction1)).to(p.dtype).view(shape)
        denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(spec.eps)
        # torch: p.addcdiv_(m, denom, value=-step) = p + (-step) * m / denom
        p.addcdiv_(exp_avg * neg_step, denom)

    def _radam_update(
        self,
        p: Tensor,
        exp_avg: Tensor,
        exp_avg_sq: Tensor,
        lrs: Tensor,
        shape: tuple[int, ...],
        bias_correction1: float,
        t: float,
    ) -> None:
        beta2 = self.spec.betas[1]
        bias_correction2 = 1 - beta2**t
        corrected = exp_avg / bias_correction1
        lr = lrs.to(p.dtype).view(shape)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            adaptive = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(self.spec.eps)
            p.add_(corrected * lr * adaptive * rect, alpha=-1.0)
        else:
            p.add_(corrected * lr, alpha=-1.0)

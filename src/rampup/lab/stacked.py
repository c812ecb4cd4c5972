"""N models of one architecture as one: stacked parameters and a vmapped forward pass.

:class:`StackedModel` holds every member's parameters and buffers as stacked tensors (leading
dimension ``N``, as ``torch.func.stack_module_state`` builds them) and one copy of the module on
the ``meta`` device as the architecture. Its forward pass is ``torch.vmap`` over
``torch.func.functional_call``: member ``n`` runs on its own inputs with its own weights, in one
call per layer. Members leave the stack with :meth:`StackedModel.keep`.

Not every model can be stacked exactly (:func:`unbatchable_reason`): dropout with ``p > 0``
draws its masks from the global generator (a stacked forward pass would draw other masks than a
separate run), and batch norm updates running statistics in place, which ``vmap`` does not
batch. Those models train with the process engine.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rampup import RampupError

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = ["StackedModel", "unbatchable_reason"]

#: vmap's warning for an operator it runs member by member (CPU flash attention): correct, and
#: the same kernel as a separate run, so the stack silences it.
_FALLBACK = "There is a performance drop because we have not yet implemented the batching rule"


def unbatchable_reason(model: nn.Module) -> str | None:
    """Why ``model`` cannot train stacked (batch norm, dropout with p > 0), or None if it can."""
    from torch import nn  # noqa: PLC0415

    dropouts = (
        nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
        nn.FeatureAlphaDropout,
    )  # fmt: skip
    for name, m in model.named_modules():
        where = name or type(model).__name__
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return f"{where} is {type(m).__name__}: batch norm updates running statistics in place"
        if isinstance(m, dropouts) and m.p > 0:
            return f"{where} is {type(m).__name__}(p={m.p}): its masks are random"
        if isinstance(m, nn.MultiheadAttention) and m.dropout > 0:
            return f"{where} is MultiheadAttention(dropout={m.dropout}): its masks are random"
    return None


def _seq_major(
    module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A pre-hook for ``nn.MultiheadAttention(batch_first=True)``: inputs laid out sequence-first.

    The module turns ``(B, T, E)`` into ``(T, B, E)`` by a transpose, a non-contiguous view;
    under ``vmap`` its in-projection on that view is batched by broadcasting the weight over
    ``T`` (a ``[N * T, B, E] x [N * T, E, 3E]`` product with the weight copied ``T`` times).
    Handing it a ``(B, T, E)`` view of a sequence-first copy makes its transpose contiguous, so
    the projection is one ``[N, T * B, E] x [N, E, 3E]`` product: the same values, the same
    products per member, about twice as fast for the whole step.
    """
    import torch  # noqa: PLC0415

    if not getattr(module, "batch_first", False):
        return args, kwargs
    done: dict[int, Any] = {}

    def relayout(x: Any) -> Any:
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            return x
        if id(x) not in done:  # keep `query is key is value`: it picks the packed projection
            done[id(x)] = x.transpose(0, 1).contiguous().transpose(0, 1)
        return done[id(x)]

    names = ("query", "key", "value")
    new_args = tuple(relayout(a) if i < 3 else a for i, a in enumerate(args))
    new_kwargs = {k: relayout(v) if k in names else v for k, v in kwargs.items()}
    return new_args, new_kwargs


class StackedModel:
    """The members' weights as stacked tensors, with a vmapped forward pass.

    ``params`` and ``buffers`` map each name of the module's ``named_parameters()`` /
    ``named_buffers()`` to a tensor of shape ``[size, *shape]``; ``members`` gives, for each
    slice, the member's index in the list the stack was built from.
    """

    def __init__(self, models: Sequence[nn.Module], *, func: str = "StackedModel") -> None:
        """Stack ``models`` (one per member, in order; the same object may repeat).

        Raises :class:`~rampup.RampupError` if a model is not an ``nn.Module``, cannot be
        stacked (:func:`unbatchable_reason`), or differs from the first in its names or shapes.
        """
        import torch  # noqa: PLC0415
        from torch import nn  # noqa: PLC0415

        for i, m in enumerate(models):
            if not isinstance(m, nn.Module):
                raise RampupError.invalid(func, f"models[{i}]", m, "an nn.Module")
            reason = unbatchable_reason(m)
            if reason is not None:
                raise RampupError.invalid(
                    func, "build_model", type(m).__name__,
                    f"a model without batch norm or dropout ({reason}): use the process engine",
                )  # fmt: skip
        first = models[0]
        shapes = {k: v.shape for k, v in first.state_dict().items()}
        for i, m in enumerate(models):
            if {k: v.shape for k, v in m.state_dict().items()} != shapes:
                raise RampupError.invalid(
                    func, "build_model", f"member {i}", "the same architecture for every member"
                )
        # torch.func.stack_module_state without its same-class check: a task that defines its
        # model class inside its build function makes a new class for every seed
        with torch.no_grad():
            named = [(dict(m.named_parameters()), dict(m.named_buffers())) for m in models]
            self.params: dict[str, Tensor] = {
                k: torch.stack([p[k] for p, _ in named]).requires_grad_(v.requires_grad)
                for k, v in first.named_parameters()
            }
            self.buffers: dict[str, Tensor] = {
                k: torch.stack([b[k] for _, b in named]) for k, _ in first.named_buffers()
            }
        self.members: list[int] = list(range(len(models)))
        self._template = copy.deepcopy(first)
        self._base = copy.deepcopy(first).to("meta")
        self._base.train()
        for m in self._base.modules():
            if isinstance(m, nn.MultiheadAttention):
                m.register_forward_pre_hook(_seq_major, with_kwargs=True)

    @property
    def size(self) -> int:
        """How many members the stack holds."""
        return len(self.members)

    def trainable(self) -> list[str]:
        """The names of the parameters that require a gradient."""
        return [k for k, v in self.params.items() if v.requires_grad]

    def losses(
        self,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        inputs: tuple[Tensor, ...],
        targets: Tensor,
    ) -> Tensor:
        """Every member's loss on its own batch: ``inputs[j]`` and ``targets`` lead with ``size``.

        Returns a tensor of shape ``[size]`` in the autograd graph of :attr:`params`.
        """
        import torch  # noqa: PLC0415
        from torch.func import functional_call  # noqa: PLC0415

        base = self._base

        def one(
            p: dict[str, Tensor], b: dict[str, Tensor], x: tuple[Tensor, ...], y: Tensor
        ) -> Tensor:
            return loss_fn(functional_call(base, (p, b), x), y)

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_FALLBACK, category=UserWarning)
            out: Tensor = torch.vmap(one)(self.params, self.buffers, inputs, targets)
        return out

    def forward(self, *inputs: Tensor) -> Tensor:
        """Every member on the same ``inputs`` (eval mode, no gradient): ``[size, ...]``."""
        import torch  # noqa: PLC0415
        from torch.func import functional_call  # noqa: PLC0415

        base = self._base

        def one(p: dict[str, Tensor], b: dict[str, Tensor]) -> Tensor:
            out: Tensor = functional_call(base, (p, b), inputs)
            return out

        base.eval()
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_FALLBACK, category=UserWarning)
                result: Tensor = torch.vmap(one)(self.params, self.buffers)
                return result
        finally:
            base.train()

    def module(self, i: int) -> nn.Module:
        """A plain copy of the model holding the weights of slice ``i`` (0 .. size - 1)."""
        import torch  # noqa: PLC0415

        model = copy.deepcopy(self._template)
        state = {k: v[i].detach() for k, v in {**self.params, **self.buffers}.items()}
        with torch.no_grad():
            model.load_state_dict(state)
        return model

    def keep(self, slices: Sequence[int]) -> None:
        """Keep only the given slices (positions 0 .. size - 1), in that order."""
        import torch  # noqa: PLC0415

        index = torch.tensor(list(slices), dtype=torch.long)
        for d in (self.params, self.buffers):
            for k, v in d.items():
                d[k] = v.detach().index_select(0, index).requires_grad_(v.requires_grad)
        self.members = [self.members[s] for s in slices]

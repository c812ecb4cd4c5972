"""The digits-words tasks: a toy seq2seq, numbers to digit words.

``digits-words`` / ``digits-words-preln``: a classic toy seq2seq (integers 0-999 to their digit
words) with a Post-LN ``nn.Transformer`` (and its Pre-LN control), Adam (0.9, 0.98).

The constant level is the per-position entropy of the validation targets (padding left out).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rampup.lab.tasks.base import (
    Evaluation,
    SeedStream,
    Task,
    _causal_mask,
    _positional_entropy,
    _token_loss,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["WORDS", "words_of"]


WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_W_PAD, _W_SOS, _W_EOS = 0, 1, 2  # target vocabulary: pad, sos, eos, then the ten words
_W_SRC_PAD = 10  # source vocabulary: the ten digits, then pad
_W_BATCH, _W_VAL = 32, 200


def words_of(n: int) -> list[str]:
    """The target for ``n``: its decimal digits as words (123 -> one two three)."""
    return [WORDS[int(c)] for c in str(n)]


@functools.cache
def _words_data() -> tuple[Any, Any, Any, Any]:
    """Source (digits, padded to 3) and target (sos, words, eos, padded to 5) for 0-999.

    A fixed permutation holds out 200 numbers for validation; the model must generalise.
    """
    import numpy as np  # noqa: PLC0415

    src = np.full((1000, 3), _W_SRC_PAD, dtype=np.int64)
    tgt = np.full((1000, 5), _W_PAD, dtype=np.int64)
    for n in range(1000):
        digits = [int(c) for c in str(n)]
        src[n, : len(digits)] = digits
        row = [_W_SOS, *(3 + WORDS.index(w) for w in words_of(n)), _W_EOS]
        tgt[n, : len(row)] = row
    perm = np.random.default_rng(0).permutation(1000)
    tr, va = perm[_W_VAL:], perm[:_W_VAL]
    return src[tr], tgt[tr], src[va], tgt[va]


def _words_constant() -> float:
    return _positional_entropy(_words_data()[3][:, 1:], 13, pad=_W_PAD)


def _words_model(seed: int, *, pre_ln: bool, layers: int = 3, d: int = 64) -> nn.Module:
    """The seq2seq Transformer, its parameters drawn after ``torch.manual_seed(seed)``."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(seed)

    class Seq2Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.src_emb = nn.Embedding(11, d)
            self.tgt_emb = nn.Embedding(13, d)
            self.pos = nn.Parameter(torch.randn(8, d) * 0.02)
            # the encoder nn.Transformer would build, without nested tensors (no warning)
            encoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(
                    d, 4, 4 * d, dropout=0.0, batch_first=True, norm_first=pre_ln
                ),
                layers,
                norm=nn.LayerNorm(d),
                enable_nested_tensor=False,
            )
            self.transformer = nn.Transformer(
                d_model=d, nhead=4, num_encoder_layers=layers, num_decoder_layers=layers,
                dim_feedforward=4 * d, dropout=0.0, batch_first=True, norm_first=pre_ln,
                custom_encoder=encoder,
            )  # fmt: skip
            self.fc = nn.Linear(d, 13)

        def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
            s = self.src_emb(src) + self.pos[: src.shape[1]]
            t = self.tgt_emb(tgt) + self.pos[: tgt.shape[1]]
            mask = _causal_mask(tgt.shape[1])
            # the source pad is an ordinary token (no key-padding mask, so no nested tensors)
            out = self.transformer(s, t, tgt_mask=mask, tgt_is_causal=True)
            return self.fc(out)  # type: ignore[no-any-return]

    return Seq2Seq()


@functools.cache
def _words_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    import torch  # noqa: PLC0415

    str_, ttr, sva, tva = (torch.from_numpy(a) for a in _words_data())
    return str_, ttr, sva, tva


#: Seed s's training batches, as indices into the 800 training numbers: from ``default_rng(s)``.
_STREAM: SeedStream[Any] = SeedStream(
    lambda rng: rng.integers(0, len(_words_data()[1]), size=_W_BATCH)
)


def _words_batch(seed: int, step: int) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Update ``step``'s pairs: inputs (source, target but its last token), the next tokens."""
    import torch  # noqa: PLC0415

    str_, ttr, _, _ = _words_tensors()
    idx = torch.from_numpy(_STREAM(seed, step))
    src, tgt = str_[idx], ttr[idx]
    return (src, tgt[:, :-1]), tgt[:, 1:]


def _words_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the target tokens, padding left out."""
    return _token_loss(logits, targets, 13, ignore_index=_W_PAD)


def _words_evaluate(model: nn.Module) -> Evaluation:
    """Validation loss (teacher forcing) and 1 - exact match of greedy decoding."""
    import torch  # noqa: PLC0415

    _, _, sva, tva = _words_tensors()
    loss = float(_words_loss(model(sva, tva[:, :-1]), tva[:, 1:]))
    # greedy decoding; exact match = every token up to and including eos
    out = torch.full((len(sva), 1), _W_SOS, dtype=torch.long)
    for _ in range(tva.shape[1] - 1):
        nxt = model(sva, out)[:, -1].argmax(-1, keepdim=True)
        out = torch.cat([out, nxt], dim=1)
    want = tva[:, 1:]
    ok = ((out[:, 1:] == want) | (want == _W_PAD)).all(dim=1)
    return Evaluation(loss, 1.0 - float(ok.float().mean()))


def _words_task(name: str, pre_ln: bool, control: str | None, steps: int = 400) -> Task:
    ln = "Pre-LN" if pre_ln else "Post-LN"
    return Task(
        name=name,
        summary=f"toy seq2seq (0-999 to digit words), 3+3-layer {ln} nn.Transformer, "
        f"Adam (0.9, 0.98), {steps} steps",
        steps=steps,
        eval_every=40,
        optimizer="adam",
        model=functools.partial(_words_model, pre_ln=pre_ln),
        batch=_words_batch,
        loss=_words_loss,
        evaluate=_words_evaluate,
        constant_loss=_words_constant,
        score_name="error",
        betas=(0.9, 0.98),
        weight_decay=0.0,
        control=control,
    )

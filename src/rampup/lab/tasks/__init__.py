"""The lab's built-in tasks: small, real training problems where warmup can decide the outcome.

Each is a :class:`rampup.lab.Task` (:mod:`rampup.lab.protocol`): a model built from a seed, the
seed's batches, a loss and an evaluation, all deterministic given the seed (one torch thread,
seeded generators, no download). A task also knows its *constant level*: the validation loss
of the best input-independent predictor (the unigram entropy for the Markov LM, the per-position
entropy for sorting, the seq2seq task and the cipher, the class entropy for the digits and the
shapes), so a run that collapsed to a constant predictor is caught as a failure even when its
loss is finite.

Tasks (``TASKS``), a module per family (:mod:`rampup.lab.tasks.base` holds what they share):

- ``markov-postln`` / ``markov-preln``: a 6-layer causal Transformer LM (d 64, 4 heads, ff 256),
  Post-LN and its Pre-LN control, on sequences (length 32, batch 16, 200 steps) of a random
  order-1 Markov chain over 32 states (rows from Dirichlet(0.1), fixed data seed), AdamW.
- ``postln-sort`` / ``preln-sort``: a 4-layer encoder (d 64, 4 heads, ff 256), Post-LN and its
  Pre-LN control, sorting 16 tokens over 32 values, batch 64, 400 steps, AdamW (0.9, 0.98).
- ``digits-largebatch`` / ``digits-largebatch-nobn``: scikit-learn's ``load_digits``, a residual
  MLP with batch norm (and its control without), SGD momentum 0.9, batch 1024, 100 steps.
- ``digits-plainmlp``: an 8-layer MLP without normalisation (the negative control).
- ``digits-words`` / ``digits-words-preln``: a classic toy seq2seq (integers 0-999 to their
  digit words) with a Post-LN ``nn.Transformer`` (and its Pre-LN control), Adam (0.9, 0.98).
- ``shapes-bn`` / ``shapes-bn-b64``: a 4-layer conv net with batch norm (channels 16-32-32-64,
  global average pooling) on synthetic 12x12 images of ten stroke patterns with noise, generated
  in-process; SGD momentum 0.9, 100 steps, batch 512 (and the control at batch 64).
- ``postln-cipher`` / ``preln-cipher``: a 4-layer encoder (d 64, 4 heads, ff 256), Post-LN and
  its Pre-LN control, deciphering 15 symbols (of 32) under one of 16 fixed random ciphers chosen
  by a key token; Adam (0.9, 0.999), batch 32, 300 steps (the untuned 2000-update warmup cannot
  fit).
"""

from __future__ import annotations

import math

from rampup import RampupError
from rampup.lab.protocol import best_level, constant_level
from rampup.lab.tasks.base import Evaluation, SeedStream, Task
from rampup.lab.tasks.cipher import _cipher_task
from rampup.lab.tasks.conv import _shapes_task
from rampup.lab.tasks.digits import _digits_task
from rampup.lab.tasks.markov import _markov_task, markov_levels
from rampup.lab.tasks.sort import _sort_task
from rampup.lab.tasks.words import WORDS, _words_task, words_of

__all__ = [
    "TASKS",
    "WORDS",
    "Evaluation",
    "SeedStream",
    "Task",
    "best_level",
    "constant_level",
    "get_task",
    "is_finite",
    "markov_levels",
    "words_of",
]


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        _markov_task("markov-postln", pre_ln=False, control="markov-preln"),
        _markov_task("markov-preln", pre_ln=True, control=None),
        _sort_task("postln-sort", pre_ln=False, control="preln-sort"),
        _sort_task("preln-sort", pre_ln=True, control=None),
        _digits_task(
            "digits-largebatch",
            "bn",
            "residual MLP with batch norm on load_digits, SGD momentum 0.9, batch 1024, 100 steps",
            "digits-largebatch-nobn",
        ),
        _digits_task(
            "digits-largebatch-nobn",
            "nobn",
            "the same residual MLP without batch norm (control), SGD, batch 1024, 100 steps",
            None,
        ),
        _digits_task(
            "digits-plainmlp",
            "plain",
            "8-layer ReLU MLP (He init), no normalisation (negative control), SGD, 100 steps",
            None,
        ),
        _words_task("digits-words", pre_ln=False, control="digits-words-preln"),
        _words_task("digits-words-preln", pre_ln=True, control=None),
        _shapes_task("shapes-bn", batch=512, control="shapes-bn-b64"),
        _shapes_task("shapes-bn-b64", batch=64, control=None),
        _cipher_task("postln-cipher", pre_ln=False, control="preln-cipher"),
        _cipher_task("preln-cipher", pre_ln=True, control=None),
    )
}


def get_task(name: object, *, func: str = "get_task") -> Task:
    """The built-in task called ``name``; a :class:`~rampup.RampupError` naming them otherwise.

    :func:`rampup.lab.loading.load_task` also loads a user's task (``module:name``,
    ``path/to/file.py:name``).
    """
    if not isinstance(name, str) or name not in TASKS:
        raise RampupError.invalid(func, "task", name, "one of " + ", ".join(TASKS))
    return TASKS[name]


def is_finite(x: float) -> bool:
    """True for a finite float."""
    return math.isfinite(x)

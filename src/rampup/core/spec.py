"""The spec language: schedules as short strings and as plain dicts. This is its public face.

Every schedule prints as a short spec string that parses back to an equal schedule, and the same
structure round-trips through plain data (JSON, YAML, Keras configs):

>>> import rampup
>>> s = parse("linear(5%) >> cosine(to=0.01)")
>>> to_spec(s)
'linear(5%) >> cosine(to=0.01)'
>>> from_dict(to_dict(s)) == s
True

The language lives in four modules of one concept each, lowest first:

- :mod:`~rampup.core.registry`: the vocabulary, the names a spec can call (phases, recipes,
  ``bind``) and the construction of a call, with its argument checks;
- :mod:`~rampup.core.printer`: :func:`to_spec`, a schedule as its spec string;
- :mod:`~rampup.core.grammar`: the grammar, the tokenizer and the parser behind :func:`parse`,
  and :class:`SpecError`; it never evaluates code;
- :mod:`~rampup.core.spec_dicts`: :func:`to_dict` and :func:`from_dict`, plain data.

Import these names from here (or from ``rampup``): the split is an implementation detail.
"""

from __future__ import annotations

from rampup.core.grammar import MAX_DEPTH, MAX_LENGTH, SpecError, parse
from rampup.core.printer import to_spec
from rampup.core.spec_dicts import from_dict, to_dict

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "SpecError", "from_dict", "parse", "to_dict", "to_spec"]

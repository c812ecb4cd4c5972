"""The core: schedules as pure, closed-form functions of the training clock.

Modules, lowest first:

- :mod:`~rampup.core.units`: lengths in steps, epochs and fractions of the run;
- :mod:`~rampup.core.kernel`: a compiled schedule: its formula over arrays, the segments that
  single steps read, the one per-step runner and the one hold of the final value;
- :mod:`~rampup.core.schedule`: the schedule itself: phases, composition (``>>``, ``*``) and
  ``bind``;
- :mod:`~rampup.core.shapes`: every warmup and decay (``rampup.cosine`` is
  :class:`rampup.core.shapes.Cosine`), each formula written once: the ramps in
  :mod:`~rampup.core.ramps` (``linear``, ``cosine``, ``poly``, ``sqrt``, ``log``, ``exp``), the
  holds, step decays and cycles in ``shapes`` itself, the rule-given warmups in
  :mod:`~rampup.core.warmups` (``noam``, ``untuned``, ``radam``);
- :mod:`~rampup.core.recipes`: named compositions (``warmup_cosine``, ``wsd``, ...);
- :mod:`~rampup.core.spec`: the spec language, its public face (the vocabulary in
  :mod:`~rampup.core.registry`, the parser in :mod:`~rampup.core.grammar`, the printer in
  :mod:`~rampup.core.printer`, plain data in :mod:`~rampup.core.spec_dicts`);
- :mod:`~rampup.core.compat`: the peers' conventions, reproduced exactly (a package, one module
  per peer);
- :mod:`~rampup.core.adapting`: what an array adapter (optax, Keras, your own) builds on;
- :mod:`~rampup.core.clock`: the protocol a controller implements;
- :mod:`~rampup.core.auto_warmup`: the ``auto`` phase;
- :mod:`~rampup.core.watch`: what the framework callbacks need from a monitor or a guard;
- :mod:`~rampup.core.checks`: the argument checks, public for code built on rampup;
- private helpers ``_checks``, ``_errors``, ``_fields`` and ``_ops``, used only inside the core.

Imports: the standard library, numpy and the core itself. Never torch or another framework,
never an adapter or a tool; the one exception is looked up lazily, on use (``auto`` builds its
guard from :mod:`rampup.guard`). ``tests/test_layers.py`` keeps this true.
"""

"""The lab: small, real training experiments that measure what warmup does.

A tool: it builds on the core (``rampup.parse``, schedules, ``rampup.RampupError``) and the
PyTorch adapter (``rampup.torch``, imported when a run trains) through their public API only,
never a ``rampup._*`` module; nothing outside the tools imports it.
"""

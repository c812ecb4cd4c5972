"""The ``rampup`` command (for now: ``rampup demo``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rampup`` console script."""
    from rampup._demo import run_demo  # noqa: PLC0415  # keep start-up light

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["demo"] or not args:
        return run_demo()
    print(f"rampup: unknown command {args[0]!r}: expected 'demo'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

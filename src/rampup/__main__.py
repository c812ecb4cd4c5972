"""``python -m rampup``: the ``rampup`` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rampup`` console script."""
    try:
        from rampup.cli import main as cli_main  # noqa: PLC0415  # `import rampup` stays light
    except ModuleNotFoundError as missing:
        if missing.name not in {"typer", "rich", "click"}:
            raise
        print(
            f"rampup: the command line needs {missing.name!r}: pip install 'rampup[cli]'",
            file=sys.stderr,
        )
        return 2
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())

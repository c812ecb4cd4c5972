"""``python -m rampup``: the ``rampup`` command."""

from __future__ import annotations

import sys

#: The packages of the ``cli`` extra (click comes with typer).
_CLI_PACKAGES = {"typer", "rich", "click"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rampup`` console script."""
    try:
        from rampup.cli import main as cli_main  # noqa: PLC0415  # `import rampup` stays light
    except ImportError as missing:
        if (missing.name or "").split(".")[0] not in _CLI_PACKAGES:
            raise
        print(
            "rampup: error: rampup.cli needs typer and rich: pip install 'rampup[cli]'"
            f" ({missing})",
            file=sys.stderr,
        )
        return 2
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())

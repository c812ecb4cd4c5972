"""click's error style for the ``rampup`` command: ``rampup <command>: error: <message>``.

:class:`Group` is the root Typer group: click's usage errors (a bad option value, an unknown
option, a missing argument) print as one line on stderr with exit status 2, and arguments show
as ``SPEC`` / ``SPEC...`` in the usage line and the help. Imports typer only.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup

__all__ = ["USAGE_ERROR", "Group"]

#: Exit status of every error the user can fix (bad spec, bad option), as click's usage errors.
USAGE_ERROR = 2
#: typer's click exceptions (recent typers vendor click, older ones use click itself): found
#: through a class typer exports, so the same code works with either.
_CLICK_ERRORS = {c.__name__: c for c in typer.BadParameter.__mro__}
_ClickException: type[Exception] = _CLICK_ERRORS["ClickException"]


def _command_path(ctx: Any) -> str:
    """``rampup``, ``rampup show`` or ``rampup lab run``: the command a click context belongs to."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(str(ctx.info_name))
        ctx = ctx.parent
    return " ".join(["rampup", *reversed(names)])


class _PlainArgument(TyperArgument):
    """An argument shown as ``SPEC`` / ``SPEC...`` in the usage line and the help.

    typer writes a required argument as ``{spec}`` in the usage line and adds its Python type
    (``<list[str]>``), which reads as if braces or a type had to be typed.
    """

    @property
    def display_name_raw(self) -> str:
        """The metavar, else the name in capitals (``FOLDER``), as click writes arguments."""
        return self.metavar or str(self.name).upper()

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:  # typer's signature
        return None


def _plain_arguments(command: Any) -> None:
    """Show every argument of ``command`` and its subcommands as :class:`_PlainArgument`."""
    for param in getattr(command, "params", ()):
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument  # same fields; only how it is displayed changes
    for sub in getattr(command, "commands", {}).values():
        _plain_arguments(sub)


class Group(TyperGroup):
    """The root group: click's usage errors print as ``rampup <command>: error: <message>``.

    typer would draw them in a box (or click print the usage, a hint and ``Error: ...``); here a
    bad option value, an unknown option or a missing argument reads like every other error of
    the command line: one line on stderr, exit status 2.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_arguments(self)  # the lab's commands too: they register on this group

    def main(  # click's Command.main, with our error style
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except _ClickException as err:
            ctx = getattr(err, "ctx", None)
            if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
                typer.echo(ctx.get_help())  # a bare `rampup` or `rampup lab`: the help, no error
                sys.exit(0)
            message = str(getattr(err, "format_message", err.__str__)()).rstrip(".")
            where = _command_path(ctx)
            hint = f" (see '{where} --help')" if ctx is not None else ""
            typer.echo(f"{where}: error: {message}{hint}", err=True)
            sys.exit(USAGE_ERROR)
        except typer.Abort:
            typer.echo("rampup: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

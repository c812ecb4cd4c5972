"""The grammar of the spec language: the tokenizer and the parser behind :func:`parse`.

Grammar (whitespace is ignored; ``>>`` binds looser than ``*``, as in Python)::

    spec    := chain
    chain   := product ( ">>" product )*
    product := factor ( "*" factor )*
    factor  := ["-"] NUMBER | call | "(" chain ")"
    call    := NAME [ "(" [ arg ( "," arg )* [","] ] ")" ]
    arg     := [ NAME "=" ] value           (positional arguments before keyword ones)
    value   := ["-"] NUMBER [ "ep" | "%" ] | "[" [ value ( "," value )* [","] ] "]"
             | "true" | "false" | "none" | 'quoted' | "quoted" | chain

A bare ``NAME`` is a schedule with its defaults (``linear(5%) >> cosine``) or, as an argument, a
word (``untuned(shape=exp)``). Examples: ``linear(5%) >> cosine(to=0.01)``,
``noam(d_model=512, warmup=4000)``, ``bind(linear(5%) >> cosine, total_steps=10000)``,
``0.001 * (linear(100) >> step(1000))``, ``multistep([100, 200], gamma=0.5)``.

The parser is a small recursive-descent reader over a handful of token kinds: it never evaluates
code, and it bounds the input (:data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of
nesting, numbers of at most 40 characters). Its errors are :class:`SpecError` (a
:class:`~rampup.RampupError`) naming the column (1-based, counted in characters over the whole
string) and what was expected, with the spec shown and a caret under that column.

The parser knows the syntax only: what a name means, and whether a call's arguments fit it, is
the vocabulary's (:mod:`rampup.core.registry`), which builds every call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from rampup.core._errors import RampupError, shown
from rampup.core.printer import fmt
from rampup.core.registry import construct, positional_names
from rampup.core.schedule import Chain, Phase, Schedule

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "SpecError", "parse"]

#: Longest spec accepted, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of parentheses, calls and lists in a spec (and of dicts in :func:`from_dict`).
MAX_DEPTH = 32
#: Longest number token, in characters (its int or float conversion stays cheap and finite).
_MAX_NUMBER = 40
#: Width of the excerpt of a long spec shown in an error message.
_WINDOW = 72


class SpecError(RampupError):
    """A spec that does not parse: ``column`` (1-based) points at the offending character.

    The message reads ``parse(): column <n>: <reason>``, then the spec (a window of it around the
    column when it is long) and a caret under the column.
    """

    def __init__(self, spec: str, column: int, reason: str) -> None:
        self.spec = spec
        self.column = column
        self.reason = reason
        excerpt, caret = _excerpt(spec, column)
        super().__init__(f"parse(): column {column}: {reason}\n  {excerpt}\n  {caret}")

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, int, str]]:
        # Rebuilt from its three fields: an error raised in a worker process (a lab run, a
        # process pool) crosses back to the parent intact instead of failing to unpickle.
        return (type(self), (self.spec, self.column, self.reason))


def _excerpt(spec: str, column: int) -> tuple[str, str]:
    """The line to show (a window of at most ``_WINDOW`` characters) and the caret line under it.

    Characters that would break the layout (newlines, tabs, NUL, other control characters) are
    shown as one space or ``?`` each, so the caret stays aligned with the column.
    """
    start = 0
    if len(spec) + 1 > _WINDOW:  # + 1: the column after the last character can be pointed at
        start = max(0, min(column - 1 - _WINDOW // 2, len(spec) + 1 - _WINDOW))
    end = start + _WINDOW
    part = "".join(c if c.isprintable() else (" " if c.isspace() else "?") for c in spec[start:end])
    before = "..." if start > 0 else ""
    after = "..." if end < len(spec) else ""
    return before + part + after, " " * (len(before) + column - 1 - start) + "^"


# -- tokens -----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?:ep|%)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'[^'\\\n]{0,200}'|"[^"\\\n]{0,200}")
  | (?P<op>>>|[(),=*\[\]-])
    """,
    re.VERBOSE,
)
_UNIT_TAIL = re.compile(r"[A-Za-z0-9_%]+")
_NUMBER_PART = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    col: int


def _tokenize(spec: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(spec):
        m = _TOKEN.match(spec, pos)
        if m is None:
            c = spec[pos]
            hint = ""
            if c in "'\"":
                hint = ": a quoted word ends on the same line, within 200 characters, no '\\'"
            elif c == ";":
                hint = ": a spec is one expression, e.g. linear(5%) >> cosine(to=0.01)"
            raise SpecError(spec, pos + 1, f"unexpected character {c!r}{hint}")
        kind = m.lastgroup or ""
        if kind == "number":
            tail = _UNIT_TAIL.match(spec, m.end())
            if tail is not None:
                num = _NUMBER_PART.match(spec, pos)
                digits = num.group() if num is not None else m.group()
                unit = spec[pos + len(digits) : tail.end()]
                raise SpecError(
                    spec,
                    pos + len(digits) + 1,
                    f"unknown unit {unit!r} after {digits}: expected 'ep' (epochs),"
                    " '%' (of the run) or no unit (steps)",
                )
            if len(m.group()) > _MAX_NUMBER:
                raise SpecError(
                    spec, pos + 1, f"number too long (at most {_MAX_NUMBER} characters)"
                )
        if kind != "space":
            toks.append(_Tok(kind, m.group(), pos + 1))
        pos = m.end()
    toks.append(_Tok("end", "", len(spec) + 1))
    return toks


@dataclass(frozen=True)
class _Word:
    """A bare or quoted word used as a value (``shape=exp``), kept until its use is known."""

    text: str


@dataclass(frozen=True)
class _Arg:
    """One argument of a call: its value and the column where it begins."""

    value: Any
    col: int


class _Parser:
    """Recursive descent over the tokens, one method per rule of the grammar; depth-bounded."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.toks = _tokenize(spec)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def peek(self) -> _Tok:
        return self.toks[min(self.i + 1, len(self.toks) - 1)]

    def error(self, expected: str, tok: _Tok | None = None) -> SpecError:
        t = tok or self.tok
        got = "end of the spec" if t.kind == "end" else repr(t.text)
        return SpecError(self.spec, t.col, f"unexpected {got}: expected {expected}")

    def take(self, text: str, expected: str) -> None:
        if self.tok.kind != "op" or self.tok.text != text:
            raise self.error(expected)
        self.i += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SpecError(self.spec, self.tok.col, f"nested deeper than {MAX_DEPTH} levels")

    # chain := product (">>" product)*
    def chain(self) -> Any:
        first = self.tok
        left = self.product()
        while self.tok.text == ">>":
            op = self.tok
            self.i += 1
            right_tok = self.tok
            right = self.product()
            left = self.join(self.schedule(left, first), self.schedule(right, right_tok), op)
        return left

    def join(self, a: Schedule, b: Schedule, op: _Tok) -> Schedule:
        if not isinstance(a, Phase | Chain) or not isinstance(b, Phase | Chain):
            raise SpecError(
                self.spec,
                op.col,
                "only phases can be joined with '>>': a product or bind(...) cannot be a phase;"
                " put the '>>' inside, e.g. 0.1 * (linear(5%) >> cosine)",
            )
        try:
            return a >> b
        except RampupError as exc:
            raise SpecError(self.spec, op.col, str(exc)) from None

    # product := factor ("*" factor)*
    def product(self) -> Any:
        tok = self.tok
        left = self.factor()
        while self.tok.text == "*":
            op = self.tok
            self.i += 1
            right_tok = self.tok
            right = self.factor()
            a, b = self.operand(left, tok), self.operand(right, right_tok)
            try:
                left = a * b
            except RampupError as exc:
                raise SpecError(self.spec, op.col, str(exc)) from None
            if isinstance(left, float) and not math.isfinite(left):
                raise SpecError(self.spec, op.col, "the product of the numbers is not finite")
        return left

    def operand(self, value: Any, tok: _Tok) -> Schedule | float:
        """A side of ``*``: a schedule (bare names included) or a number."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, _Word | Schedule):
            return self.schedule(value, tok)
        raise SpecError(
            self.spec, tok.col, f"expected a schedule or a number around '*', got {value!r}"
        )

    def factor(self) -> Any:
        tok = self.tok
        if tok.kind == "number" or tok.text == "-":
            return self.number()
        if tok.kind == "name":
            return self.call()
        if tok.text == "(":
            self.enter()
            self.i += 1
            inner = self.chain()
            self.take(")", f"')' to close the '(' at column {tok.col}")
            self.depth -= 1
            return inner
        raise self.error("a schedule such as linear(5%) or cosine(to=0.01)")

    def number(self) -> int | float | str:
        negative = self.tok.text == "-"
        if negative:
            self.i += 1
            if self.tok.kind != "number":
                raise self.error("a number after '-'")
        tok = self.tok
        self.i += 1
        text = tok.text
        if text.endswith(("ep", "%")):
            if negative:
                raise SpecError(self.spec, tok.col, f"a length cannot be negative: -{text}")
            return text
        if any(c in text for c in ".eE"):
            value: int | float = float(text)
            if not math.isfinite(value):
                raise SpecError(
                    self.spec, tok.col, f"{text} is out of range: expected a finite number"
                )
        else:
            value = int(text)
        return -value if negative else value

    def call(self) -> Any:
        tok = self.tok
        name = tok.text
        self.i += 1
        if self.tok.text != "(":
            low = name.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "none":
                return None
            return _Word(name)
        self.enter()
        self.i += 1
        args: list[_Arg] = []
        kwargs: dict[str, _Arg] = {}
        while self.tok.text != ")":
            if self.tok.kind == "name" and self.peek().text == "=":
                key = self.tok
                self.i += 2
                if key.text in kwargs:
                    raise SpecError(self.spec, key.col, f"argument {key.text}= given twice")
                kwargs[key.text] = _Arg(self.value(), key.col)
            else:
                if kwargs:
                    raise SpecError(
                        self.spec,
                        self.tok.col,
                        "positional argument after keyword arguments: put positional ones first"
                        " or name this one",
                    )
                col = self.tok.col
                args.append(_Arg(self.value(), col))
            if self.tok.text == ",":
                self.i += 1
            elif self.tok.text != ")":
                after_number = self.toks[self.i - 1].kind == "number"
                if self.tok.kind == "name" and after_number and self.peek().text != "=":
                    raise SpecError(
                        self.spec,
                        self.tok.col,
                        f"unknown unit {self.tok.text!r} after {self.toks[self.i - 1].text}:"
                        " expected 'ep' (epochs), '%' (of the run) or no unit (steps),"
                        " written without a space",
                    )
                raise self.error(f"',' or ')' to close {name}(")
        self.i += 1
        self.depth -= 1
        return self.build(tok, name, args, kwargs)

    def value(self) -> Any:
        start = self.tok
        if start.text == "[":
            self.enter()
            self.i += 1
            items: list[Any] = []
            while self.tok.text != "]":
                items.append(self.value())
                if self.tok.text == ",":
                    self.i += 1
                elif self.tok.text != "]":
                    raise self.error(f"',' or ']' to close the '[' at column {start.col}")
            self.i += 1
            self.depth -= 1
            return items
        if start.kind == "string":
            self.i += 1
            return _Word(start.text[1:-1])
        return self.chain()

    def schedule(self, value: Any, tok: _Tok) -> Schedule:
        if isinstance(value, _Word):
            return self.build(tok, value.text, [], {})
        if isinstance(value, Schedule):
            return value
        raise SpecError(
            self.spec, tok.col, f"expected a schedule such as linear(5%), got {_describe(value)}"
        )

    def build(self, tok: _Tok, name: str, args: list[_Arg], kwargs: dict[str, _Arg]) -> Schedule:
        try:
            return construct(
                name,
                [_plain(a.value) for a in args],
                {k: _plain(a.value) for k, a in kwargs.items()},
            )
        except SpecError:
            raise
        except RampupError as exc:
            col = _locate(str(exc), name, args, kwargs, tok.col)
            raise SpecError(self.spec, col, str(exc)) from None


def _plain(value: Any) -> Any:
    """A parsed value as the Python value a constructor takes (words become strings)."""
    if isinstance(value, _Word):
        return value.text
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool) or value is None:
        return fmt(value)
    return f"the number {value!r}" if isinstance(value, int | float) else repr(value)


_PARAM_IN_MESSAGE = re.compile(r"^\w+\(\): (?:argument )?(\w+)=")


def _locate(message: str, name: str, args: list[_Arg], kwargs: dict[str, _Arg], col: int) -> int:
    """The column of the argument a message names (``linear(): length=...``), else ``col``."""
    m = _PARAM_IN_MESSAGE.match(message)
    if m is None:
        return col
    param = m.group(1)
    if param in kwargs:
        return kwargs[param].col
    order = positional_names(name)
    if param in order and order.index(param) < len(args):
        return args[order.index(param)].col
    return col


def parse(spec: str) -> Schedule:
    """Read a spec string into a schedule. Never evaluates code.

    >>> import rampup
    >>> s = rampup.parse("linear(5%) >> cosine(to=0.01)")
    >>> s == rampup.linear("5%") >> rampup.cosine(to=0.01)
    True
    """
    if not isinstance(spec, str):
        raise RampupError(f"parse(): spec={shown(spec)} is invalid: expected a string")
    if len(spec) > MAX_LENGTH:
        raise RampupError(
            f"parse(): spec={shown(spec)} is invalid: expected at most {MAX_LENGTH} characters,"
            f" got {len(spec)}"
        )
    if not spec.strip():
        raise SpecError(spec, 1, "empty spec: expected a schedule such as linear(5%) >> cosine")
    p = _Parser(spec)
    first = p.tok
    result = p.chain()
    if p.tok.kind != "end":
        raise p.error("'>>', '*' or the end of the spec")
    return p.schedule(result, first)

"""The spec language: schedules as short strings and as plain dicts.

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

``str(schedule)`` prints a spec that :func:`parse` reads back to an equal schedule;
:func:`to_dict` / :func:`from_dict` do the same with plain data (JSON, YAML, Keras configs).
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from functools import cache
from typing import Any

from rampup.core import auto_warmup, compat, recipes, shapes
from rampup.core._errors import RampupError, shown
from rampup.core.schedule import Bound, Chain, Phase, Product, Schedule

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "SpecError", "from_dict", "parse", "to_dict", "to_spec"]

#: Longest spec accepted, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of parentheses, calls and lists in a spec (and of dicts in :func:`from_dict`).
MAX_DEPTH = 32
#: Longest number token, in characters (its int or float conversion stays cheap and finite).
_MAX_NUMBER = 40
#: Width of the excerpt of a long spec shown in an error message.
_WINDOW = 72

_PHASE_CLASSES: tuple[type[Phase], ...] = (
    shapes.Linear,
    shapes.Cosine,
    shapes.Poly,
    shapes.Sqrt,
    shapes.Log,
    shapes.Exp,
    shapes.Constant,
    shapes.Step,
    shapes.MultiStep,
    shapes.InvSqrt,
    shapes.Restarts,
    shapes.OneCycle,
    shapes.Noam,
    shapes.Untuned,
    shapes.RAdam,
    *compat.PHASES,
    auto_warmup.Auto,
)
_PHASES: dict[str, type[Phase]] = {cls.spec_name: cls for cls in _PHASE_CLASSES}
_RECIPES: dict[str, Callable[..., Schedule]] = {
    "warmup_cosine": recipes.warmup_cosine,
    "warmup_linear": recipes.warmup_linear,
    "wsd": recipes.wsd,
    "tri_stage": recipes.tri_stage,
    **compat.RECIPES,
}
_NAMES = sorted([*_PHASES, *_RECIPES, "bind"])
_BIND_PARAMS = ("total_steps", "steps_per_epoch")
#: Parameters printed even at their default: they define the schedule (Vaswani et al.'s noam).
_ALWAYS_SHOWN: dict[str, tuple[str, ...]] = {"noam": ("d_model", "warmup")}


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
        return self.construct(tok, name, args, kwargs)

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
            return self.construct(tok, value.text, [], {})
        if isinstance(value, Schedule):
            return value
        raise SpecError(
            self.spec, tok.col, f"expected a schedule such as linear(5%), got {_describe(value)}"
        )

    def construct(
        self, tok: _Tok, name: str, args: list[_Arg], kwargs: dict[str, _Arg]
    ) -> Schedule:
        try:
            return _construct(
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
        return _fmt(value)
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
    order = _positional_names(name)
    if param in order and order.index(param) < len(args):
        return args[order.index(param)].col
    return col


# -- construction (shared by parse and from_dict) ---------------------------------------------
@cache
def _signature(name: str) -> inspect.Signature | None:
    target = _PHASES.get(name) or _RECIPES.get(name)
    if target is None:
        return None
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # pragma: no cover - every registered name has a signature
        return None


def _positional_names(name: str) -> list[str]:
    if name == "bind":
        return ["schedule"]
    sig = _signature(name)
    if sig is None:
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


def _keyword_names(name: str) -> list[str]:
    if name == "bind":
        return ["schedule", *_BIND_PARAMS]
    sig = _signature(name)
    if sig is None:
        return []
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_arguments(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Check argument names and counts against the constructor's signature, with clear words."""
    positional, keywords = _positional_names(name), _keyword_names(name)
    sig = _signature(name)
    kinds = {p.kind for p in sig.parameters.values()} if sig is not None else set()
    open_keywords = inspect.Parameter.VAR_KEYWORD in kinds
    for key in kwargs:
        if key not in keywords and not open_keywords:
            valid = ", ".join(keywords) or "none"
            raise RampupError(
                f"{name}(): argument {key}= is unknown{_did_you_mean(key, keywords)}:"
                f" expected one of {valid}"
            )
    if len(args) > len(positional) and inspect.Parameter.VAR_POSITIONAL not in kinds:
        takes = ", ".join(positional) if positional else "no positional arguments"
        raise RampupError(
            f"{name}(): {len(args)} positional arguments given, but it takes {takes}:"
            " name the others, e.g. to=0.01"
        )
    for key in positional[: len(args)]:
        if key in kwargs:
            raise RampupError(f"{name}(): argument {key}= given twice (by position and by name)")
    if name == "bind" and not args and "schedule" not in kwargs:
        raise RampupError("bind(): argument schedule= is missing: expected bind(<schedule>, ...)")
    if sig is not None:
        given = set(positional[: len(args)]) | set(kwargs)
        var = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        for p in sig.parameters.values():
            if p.default is p.empty and p.kind not in var and p.name not in given:
                raise RampupError(f"{name}(): argument {p.name}= is missing: it has no default")


def _construct(name: str, args: list[Any], kwargs: dict[str, Any], kind: str = "name") -> Schedule:
    """Build the schedule ``name(*args, **kwargs)`` of the spec language; RampupError if invalid."""
    if name != "bind" and name not in _PHASES and name not in _RECIPES:
        raise RampupError(
            f"unknown schedule {kind}={shown(name)}{_did_you_mean(name, _NAMES)}: expected one of"
            f" {', '.join(_NAMES)}"
        )
    _check_arguments(name, args, kwargs)
    params = [*_positional_names(name)[: len(args)], *kwargs]
    for key, value in zip(params, [*args, *kwargs.values()], strict=False):
        if isinstance(value, Schedule) and not (name == "bind" and key == "schedule"):
            raise RampupError(
                f"{name}(): {key}={value} is invalid: expected a number, a length or a word, not a"
                " schedule"
            )
    if name == "bind":
        inner = args[0] if args else kwargs.pop("schedule")
        if isinstance(inner, str):
            inner = _construct(inner, [], {}, kind)
        if not isinstance(inner, Schedule) or isinstance(inner, Bound):
            raise RampupError(
                f"bind(): schedule={shown(inner)} is invalid: expected an unbound schedule"
            )
        return inner.bind(**kwargs)
    target: Callable[..., Schedule] = _PHASES.get(name) or _RECIPES[name]
    try:
        return target(*args, **kwargs)
    except TypeError as exc:  # only through a constructor's **kwargs: the rest is checked above
        raise RampupError(f"{name}(): invalid arguments: {exc}") from None


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


# -- printing ---------------------------------------------------------------------------------
_BARE_WORD = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?:ep|%)"
)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):
        if _BARE_WORD.fullmatch(value) and value.lower() not in ("true", "false", "none"):
            return value
        for quote in "'\"":
            if quote not in value and "\\" not in value and "\n" not in value:
                return quote + value + quote
    raise RampupError(f"to_spec(): value={shown(value)} is invalid: it has no spec form")


def _phase_args(p: Phase) -> list[str]:
    out: list[str] = []
    by_position = True
    positional = getattr(p, "positional", ())
    always = _ALWAYS_SHOWN.get(p.spec_name, ())
    for f in fields(p):
        value = getattr(p, f.name)
        at_default = f.default is not MISSING and _same(value, f.default)
        if f.name in positional and by_position:
            if at_default:
                by_position = False  # later positional parameters must be named
                continue
            out.append(_fmt(value))
            continue
        if at_default and f.name not in always:
            continue
        out.append(f"{f.name}={_fmt(value)}")
    return out


def _same(value: Any, default: Any) -> bool:
    """Equal, without True counting as 1 (a flag is never at a numeric default, or vice versa)."""
    return bool(value == default) and isinstance(value, bool) == isinstance(default, bool)


def to_spec(s: Schedule) -> str:
    """The spec string of a schedule; :func:`parse` reads it back to an equal schedule.

    >>> import rampup
    >>> to_spec(rampup.linear("5%") >> rampup.cosine(to=0.01))
    'linear(5%) >> cosine(to=0.01)'
    """
    if isinstance(s, Chain):
        return " >> ".join(to_spec(p) for p in s.phases)
    if isinstance(s, Product):
        parts = [_fmt(s.scale)] if s.scale != 1.0 or len(s.factors) < 2 else []
        parts += [
            f"({to_spec(f)})" if isinstance(f, Chain | Product) else to_spec(f) for f in s.factors
        ]
        return " * ".join(parts)
    if isinstance(s, Bound):
        extra = ""
        if s.total_steps is not None:
            extra += f", total_steps={_fmt(s.total_steps)}"
        if s.steps_per_epoch is not None:
            extra += f", steps_per_epoch={_fmt(s.steps_per_epoch)}"
        return f"bind({to_spec(s.schedule)}{extra})"
    if isinstance(s, Phase):
        args = _phase_args(s)
        return s.spec_name + (f"({', '.join(args)})" if args else "")
    raise RampupError(f"to_spec(): schedule={shown(s)} is invalid: expected a rampup schedule")


# -- plain data -------------------------------------------------------------------------------
def to_dict(s: Schedule) -> dict[str, Any]:
    """The schedule as plain data: ``{"type": name, ...parameters}``; JSON- and YAML-ready.

    Chains are ``{"type": "chain", "phases": [...]}``, products ``{"type": "product",
    "factors": [...], "scale": x}``, bound schedules ``{"type": "bind", "schedule": {...},
    "total_steps": n, "steps_per_epoch": m}``; a phase lists the parameters not at their default.
    """
    if isinstance(s, Chain):
        return {"type": "chain", "phases": [to_dict(p) for p in s.phases]}
    if isinstance(s, Product):
        return {"type": "product", "factors": [to_dict(f) for f in s.factors], "scale": s.scale}
    if isinstance(s, Bound):
        out: dict[str, Any] = {"type": "bind", "schedule": to_dict(s.schedule)}
        if s.total_steps is not None:
            out["total_steps"] = s.total_steps
        if s.steps_per_epoch is not None:
            out["steps_per_epoch"] = s.steps_per_epoch
        return out
    if isinstance(s, Phase):
        d: dict[str, Any] = {"type": s.spec_name}
        always = _ALWAYS_SHOWN.get(s.spec_name, ())
        for f in fields(s):
            value = getattr(s, f.name)
            if f.default is not MISSING and _same(value, f.default) and f.name not in always:
                continue
            d[f.name] = list(value) if isinstance(value, tuple) else value
        return d
    raise RampupError(f"to_dict(): schedule={shown(s)} is invalid: expected a rampup schedule")


def from_dict(data: Any) -> Schedule:
    """Build a schedule from :func:`to_dict`'s plain data (e.g. loaded from JSON or YAML).

    >>> import rampup
    >>> s = from_dict({"type": "chain", "phases": [{"type": "linear", "length": "5%"},
    ...                                            {"type": "cosine", "to": 0.01}]})
    >>> str(s)
    'linear(5%) >> cosine(to=0.01)'
    """
    try:
        return _from_dict(data, 0)
    except RampupError as exc:
        text = str(exc)
        raise RampupError(
            text if text.startswith("from_dict():") else f"from_dict(): {text}"
        ) from None


def _from_dict(data: Any, depth: int) -> Schedule:
    if depth > MAX_DEPTH:
        raise RampupError(f"from_dict(): nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise RampupError(
            f"from_dict(): data={shown(data)} is invalid: expected a dict with a 'type' key"
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        raise RampupError(
            f"from_dict(): type={shown(kind)} is invalid: expected a schedule name such as"
            " 'linear', or 'chain', 'product', 'bind'"
        )
    rest = {k: v for k, v in data.items() if k != "type"}
    for key in rest:
        if not isinstance(key, str):
            raise RampupError(
                f"from_dict(): key {shown(key)} of {kind!r} is invalid: expected a string"
            )
    if kind == "chain":
        _only(kind, rest, ("phases",))
        phases = rest.get("phases")
        if not isinstance(phases, list) or not phases:
            raise RampupError(
                f"from_dict(): phases={shown(phases)} is invalid: expected a non-empty list"
            )
        parts = [_from_dict(p, depth + 1) for p in phases]
        for part in parts:
            if not isinstance(part, Phase | Chain):
                raise RampupError(
                    f"from_dict(): phases item {to_spec(part)!r} is invalid: expected a phase"
                    " (a chain holds phases only; nest products inside a 'product')"
                )
        result: Schedule = parts[0]
        for part in parts[1:]:
            result = result >> part
        return result
    if kind == "product":
        _only(kind, rest, ("factors", "scale"))
        factors = rest.get("factors")
        if not isinstance(factors, list) or not factors:
            raise RampupError(
                f"from_dict(): factors={shown(factors)} is invalid: expected a non-empty list"
            )
        scale = rest.get("scale", 1.0)
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or not math.isfinite(scale)
        ):
            raise RampupError(
                f"from_dict(): scale={shown(scale)} is invalid: expected a finite number"
            )
        product: Schedule | float = float(scale)
        for f in factors:
            product = product * _from_dict(f, depth + 1)
        return product  # type: ignore[return-value]  # a float times a schedule is a Product
    if kind == "bind":
        _only(kind, rest, ("schedule", *_BIND_PARAMS))
        if "schedule" not in rest:
            raise RampupError("from_dict(): bind: key 'schedule' is missing: expected a schedule")
        inner = _from_dict(rest.pop("schedule"), depth + 1)
        return _construct("bind", [inner], rest)
    for key, value in rest.items():
        if not _is_plain(value):
            raise RampupError(
                f"from_dict(): {kind}: {key}={shown(value)} is invalid: expected a number,"
                " a string, a bool, null or a list of those"
            )
    return _construct(kind, [], rest, kind="type")


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, list | tuple):
        return depth < 2 and all(_is_plain(v, depth + 1) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def _only(kind: str, rest: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in rest:
        if key not in allowed:
            raise RampupError(
                f"from_dict(): {kind}: key {key!r} is unknown{_did_you_mean(key, list(allowed))}:"
                f" expected {', '.join(allowed)}"
            )

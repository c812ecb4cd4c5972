"""The spec language: schedules as short strings and as plain dicts.

Grammar (whitespace is ignored; ``>>`` binds looser than ``*``, as in Python)::

    spec    := chain
    chain   := product ( ">>" product )*
    product := factor ( "*" factor )*
    factor  := NUMBER | call | "(" chain ")"
    call    := NAME [ "(" [ arg ( "," arg )* [","] ] ")" ]
    arg     := [ NAME "=" ] value
    value   := ["-"] NUMBER [ "ep" | "%" ] | "[" [ value ( "," value )* ] "]"
             | "true" | "false" | "none" | WORD | 'quoted' | chain

``linear(5%) >> cosine(to=0.01)``, ``noam(d_model=512, warmup=4000)``,
``bind(linear(5%) >> cosine, total_steps=10000)``, ``0.001 * (linear(100) >> step(1000))``.

The parser is a small recursive-descent reader: it never evaluates code. Its errors are
:class:`SpecError` (a :class:`~rampup.RampupError`) naming the column and what was expected.
``str(schedule)`` prints a spec that :func:`parse` reads back to an equal schedule;
:func:`to_dict` / :func:`from_dict` do the same with plain data (JSON, YAML, Keras configs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any

from rampup import compat, recipes, shapes
from rampup._errors import RampupError
from rampup.schedule import Bound, Chain, Phase, Product, Schedule

__all__ = ["SpecError", "from_dict", "parse", "to_dict", "to_spec"]

#: Longest spec accepted, in characters, and deepest nesting of parentheses and brackets.
MAX_LENGTH = 10_000
MAX_DEPTH = 32

_PHASES: dict[str, type[Phase]] = {
    cls.spec_name: cls
    for cls in (
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
    )
}
_RECIPES: dict[str, Callable[..., Schedule]] = {
    "warmup_cosine": recipes.warmup_cosine,
    "warmup_linear": recipes.warmup_linear,
    "wsd": recipes.wsd,
    "tri_stage": recipes.tri_stage,
    **compat.RECIPES,
}
_NAMES = sorted([*_PHASES, *_RECIPES, "bind"])


class SpecError(RampupError):
    """A spec that does not parse: ``column`` (1-based) points at the offending character."""

    def __init__(self, spec: str, column: int, message: str) -> None:
        self.spec = spec
        self.column = column
        self.reason = message
        shown = spec if len(spec) <= 120 else spec[: max(0, column - 60)][:0] + spec[:120] + "..."
        caret = " " * (column - 1) + "^" if column <= 120 else ""
        super().__init__(f"parse(): {message} at column {column}\n  {shown}\n  {caret}")


# -- tokens -----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?:ep|%)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'[^'\\]{0,200}'|"[^"\\]{0,200}")
  | (?P<op>>>|[(),=*\[\]-])
    """,
    re.VERBOSE,
)


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
            raise SpecError(spec, pos + 1, f"unexpected character {spec[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "space":
            text = m.group()
            if kind == "number" and len(text) > 40:
                raise SpecError(spec, pos + 1, "number too long (at most 40 characters)")
            toks.append(_Tok(kind, text, pos + 1))
        pos = m.end()
    toks.append(_Tok("end", "", len(spec) + 1))
    return toks


@dataclass(frozen=True)
class _Word:
    """A bare identifier used as a value (``shape=cosine``), kept until its use is known."""

    text: str


class _Parser:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.toks = _tokenize(spec)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, expected: str, tok: _Tok | None = None) -> SpecError:
        t = tok or self.tok
        got = "the end of the spec" if t.kind == "end" else repr(t.text)
        return SpecError(self.spec, t.col, f"unexpected {got}: expected {expected}")

    def take(self, text: str, expected: str) -> _Tok:
        if self.tok.text != text or self.tok.kind not in ("op",):
            raise self.error(expected)
        tok = self.tok
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SpecError(self.spec, self.tok.col, f"nested deeper than {MAX_DEPTH} levels")

    # chain := product (">>" product)*
    def chain(self) -> Any:
        first_tok = self.tok
        left = self.product()
        while self.tok.text == ">>":
            op = self.tok
            self.i += 1
            right = self.product()
            left = self._join(left, right, op, first_tok)
        return left

    def _join(self, left: Any, right: Any, op: _Tok, first: _Tok) -> Schedule:
        a, b = self._schedule(left, first), self._schedule(right, self.toks[self.toks.index(op) + 1])
        if not isinstance(a, Phase | Chain) or not isinstance(b, Phase | Chain):
            raise SpecError(
                self.spec, op.col, "only phases can be joined with >>: multiply schedules with *"
            )
        return a >> b

    def product(self) -> Any:
        first_tok = self.tok
        left = self.factor()
        while self.tok.text == "*":
            op = self.tok
            self.i += 1
            right = self.factor()
            for side, tok in ((left, first_tok), (right, op)):
                if not isinstance(side, Schedule | float | int) or isinstance(side, bool):
                    raise SpecError(self.spec, tok.col, "expected a schedule or a number around *")
            if not isinstance(left, Schedule) and not isinstance(right, Schedule):
                left = float(left) * float(right)
            else:
                left = left * right
        return left

    def factor(self) -> Any:
        tok = self.tok
        if tok.kind == "number":
            return self.number()
        if tok.kind == "name":
            return self.call()
        if tok.text == "(":
            self.enter()
            self.i += 1
            inner = self.chain()
            self.take(")", "')' to close the '(' at column " + str(tok.col))
            self.depth -= 1
            return self._schedule(inner, tok) if isinstance(inner, _Word) else inner
        raise self.error("a schedule such as linear(5%) or cosine(to=0.01)")

    def number(self, negative: bool = False) -> int | float | str:
        tok = self.tok
        self.i += 1
        text = tok.text
        if text.endswith(("ep", "%")):
            if negative:
                raise SpecError(self.spec, tok.col, "a length cannot be negative")
            return text
        value = float(text) if any(c in text for c in ".eE") else int(text)
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
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        while self.tok.text != ")":
            if self.tok.kind == "name" and self.toks[self.i + 1].text == "=":
                key = self.tok
                self.i += 2
                if key.text in kwargs:
                    raise SpecError(self.spec, key.col, f"argument {key.text!r} given twice")
                kwargs[key.text] = self.value()
            else:
                if kwargs:
                    raise self.error("a keyword argument (positional ones come first)")
                args.append(self.value())
            if self.tok.text == ",":
                self.i += 1
            elif self.tok.text != ")":
                raise self.error("',' or ')'")
        self.i += 1
        self.depth -= 1
        return self.construct(tok, args, kwargs)

    def value(self) -> Any:
        tok = self.tok
        if tok.text == "-":
            self.i += 1
            if self.tok.kind != "number":
                raise self.error("a number after '-'")
            return self.number(negative=True)
        if tok.text == "[":
            self.enter()
            self.i += 1
            items: list[Any] = []
            while self.tok.text != "]":
                items.append(self.value())
                if self.tok.text == ",":
                    self.i += 1
                elif self.tok.text != "]":
                    raise self.error("',' or ']'")
            self.i += 1
            self.depth -= 1
            return items
        if tok.kind == "string":
            self.i += 1
            return _Word(tok.text[1:-1])
        return self.chain()

    def _schedule(self, value: Any, tok: _Tok) -> Schedule:
        if isinstance(value, _Word):
            return self.construct(tok, [], {}, name=value.text)
        if isinstance(value, Schedule):
            return value
        raise SpecError(self.spec, tok.col, f"expected a schedule, got {value!r}")

    def construct(
        self, tok: _Tok, args: list[Any], kwargs: dict[str, Any], name: str = ""
    ) -> Schedule:
        name = name or tok.text
        args = [a.text if isinstance(a, _Word) else a for a in args]
        kwargs = {k: (v.text if isinstance(v, _Word) else v) for k, v in kwargs.items()}
        try:
            return _construct(name, args, kwargs)
        except SpecError:
            raise
        except RampupError as exc:
            raise SpecError(self.spec, tok.col, str(exc)) from None


def _construct(name: str, args: list[Any], kwargs: dict[str, Any]) -> Schedule:
    if name == "bind":
        if len(args) != 1:
            raise RampupError("bind(): expected one schedule, then total_steps= / steps_per_epoch=")
        inner = args[0]
        if isinstance(inner, str):
            inner = _construct(inner, [], {})
        if not isinstance(inner, Schedule):
            raise RampupError(f"bind(): schedule={inner!r} is invalid: expected a schedule")
        extra = set(kwargs) - {"total_steps", "steps_per_epoch"}
        if extra:
            raise RampupError(f"bind(): unknown argument {sorted(extra)[0]!r}")
        return inner.bind(**kwargs)
    target: Callable[..., Schedule] | None = _PHASES.get(name) or _RECIPES.get(name)
    if target is None:
        close = [n for n in _NAMES if n.startswith(name[:3].lower())]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise RampupError(
            f"unknown schedule {name!r}{hint}: expected one of {', '.join(_NAMES)}"
        )
    for value in [*args, *kwargs.values()]:
        if isinstance(value, Schedule) and name != "bind":
            raise RampupError(f"{name}(): a schedule cannot be an argument of {name}")
    try:
        return target(*args, **kwargs)
    except TypeError as exc:
        raise RampupError(f"{name}(): {_explain_type_error(exc)}") from None


def _explain_type_error(exc: TypeError) -> str:
    text = str(exc)
    m = re.search(r"unexpected keyword argument '(\w+)'", text)
    if m:
        return f"unknown argument {m.group(1)!r}"
    if "positional argument" in text:
        return "too many positional arguments (name the others, e.g. to=0.01)"
    return "invalid arguments"


def parse(spec: str) -> Schedule:
    """Read a spec string into a schedule. Never evaluates code.

    >>> import rampup
    >>> rampup.parse("linear(5%) >> cosine(to=0.01)") == rampup.linear("5%") >> rampup.cosine(to=0.01)
    True
    """
    if not isinstance(spec, str):
        raise RampupError(f"parse(): spec={type(spec).__name__} is invalid: expected a string")
    if len(spec) > MAX_LENGTH:
        raise RampupError(
            f"parse(): spec of {len(spec)} characters is invalid: expected at most {MAX_LENGTH}"
        )
    if not spec.strip():
        raise SpecError(spec, 1, "empty spec: expected a schedule such as linear(5%) >> cosine")
    p = _Parser(spec)
    first = p.tok
    result = p.chain()
    if p.tok.kind != "end":
        raise p.error("'>>', '*' or the end of the spec")
    return p._schedule(result, first)


# -- printing ---------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return repr(value)
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if value is None:
        return "none"
    return str(value)


def _phase_args(p: Phase) -> list[str]:
    out: list[str] = []
    named = False
    positional = getattr(p, "positional", ())
    for f in fields(p):
        if f.name == "_":
            continue
        value = getattr(p, f.name)
        default = f.default if f.default is not MISSING else MISSING
        if f.name in positional and not named:
            if value == default:
                named = True
                continue
            out.append(_fmt(value))
            continue
        if value == default and type(value) is type(default):
            continue
        if isinstance(default, float) and isinstance(value, float) and value == default:
            continue
        out.append(f"{f.name}={_fmt(value)}")
    return out


def to_spec(s: Schedule) -> str:
    """The spec string of a schedule; :func:`parse` reads it back to an equal schedule."""
    if isinstance(s, Chain):
        return " >> ".join(to_spec(p) for p in s.phases)
    if isinstance(s, Product):
        parts = [repr(s.scale)] if s.scale != 1.0 or not s.factors else []
        parts += [f"({to_spec(f)})" if isinstance(f, Chain) else to_spec(f) for f in s.factors]
        return " * ".join(parts)
    if isinstance(s, Bound):
        extra = ""
        if s.total_steps is not None:
            extra += f", total_steps={s.total_steps}"
        if s.steps_per_epoch is not None:
            extra += f", steps_per_epoch={_fmt(s.steps_per_epoch)}"
        return f"bind({to_spec(s.schedule)}{extra})"
    if isinstance(s, Phase):
        args = _phase_args(s)
        return s.spec_name + (f"({', '.join(args)})" if args else "")
    raise RampupError(f"to_spec(): schedule={s!r} is invalid: expected a rampup schedule")


# -- plain data -------------------------------------------------------------------------------
def to_dict(s: Schedule) -> dict[str, Any]:
    """The schedule as plain data: ``{"type": name, ...parameters}``; JSON- and YAML-ready."""
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
        for f in fields(s):
            if f.name == "_":
                continue
            value = getattr(s, f.name)
            if f.default is not MISSING and value == f.default and value is not True:
                continue
            d[f.name] = list(value) if isinstance(value, tuple) else value
        return d
    raise RampupError(f"to_dict(): schedule={s!r} is invalid: expected a rampup schedule")


def from_dict(data: Any, _depth: int = 0) -> Schedule:
    """Build a schedule from :func:`to_dict`'s plain data (e.g. loaded from JSON or YAML)."""
    if _depth > MAX_DEPTH:
        raise RampupError(f"from_dict(): nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise RampupError(
            f"from_dict(): data={_short(data)} is invalid: expected a dict with a 'type' key"
        )
    kind = data["type"]
    rest = {k: v for k, v in data.items() if k != "type"}
    if not all(isinstance(k, str) for k in rest):
        raise RampupError(f"from_dict(): keys of {_short(data)} are invalid: expected strings")
    if kind == "chain":
        _only(kind, rest, {"phases"})
        phases = rest.get("phases")
        if not isinstance(phases, list) or not phases:
            raise RampupError(f"from_dict(): phases={_short(phases)} is invalid: expected a list")
        parts = [from_dict(p, _depth + 1) for p in phases]
        result = parts[0]
        for p in parts[1:]:
            if not isinstance(result, Phase | Chain) or not isinstance(p, Phase | Chain):
                raise RampupError("from_dict(): a chain holds phases only")
            result = result >> p
        return result if isinstance(result, Chain) else Chain((result,))  # type: ignore[arg-type]
    if kind == "product":
        _only(kind, rest, {"factors", "scale"})
        factors = rest.get("factors")
        if not isinstance(factors, list):
            raise RampupError(f"from_dict(): factors={_short(factors)} is invalid: expected a list")
        scale = rest.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
            raise RampupError(f"from_dict(): scale={scale!r} is invalid: expected a finite number")
        return Product(tuple(from_dict(f, _depth + 1) for f in factors), float(scale))
    if kind == "bind":
        _only(kind, rest, {"schedule", "total_steps", "steps_per_epoch"})
        inner = from_dict(rest.pop("schedule", None), _depth + 1)
        return inner.bind(**rest)
    for value in rest.values():
        if isinstance(value, dict):
            raise RampupError(f"from_dict(): {kind}: a parameter cannot be a dict")
    return _construct(kind, [], rest)


def _only(kind: str, rest: dict[str, Any], allowed: set[str]) -> None:
    extra = set(rest) - allowed
    if extra:
        raise RampupError(f"from_dict(): unknown key {sorted(extra)[0]!r} for type {kind!r}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

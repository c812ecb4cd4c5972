"""The spec language: parsing, printing, dict round-trips, syntax errors and hostile input."""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import re
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
from rampup import RampupError, Schedule, from_dict, parse
from rampup.core.schedule import Bound
from rampup.core.spec import MAX_DEPTH, MAX_LENGTH, SpecError, to_dict

SETTINGS = settings(max_examples=150, deadline=None)


# -- parsing the documented examples -------------------------------------------------------------
PARSED = [
    ("linear(5%) >> cosine(to=0.01)", rampup.linear("5%") >> rampup.cosine(to=0.01)),
    ("noam(d_model=512, warmup=4000)", rampup.noam(d_model=512, warmup=4000)),
    ("noam(d_model=128, warmup=4000, factor=2)", rampup.noam(d_model=128, warmup=4000, factor=2.0)),
    (
        "0.001 * (linear(100) >> step(1000))",
        0.001 * (rampup.linear(100) >> rampup.step(1000)),
    ),
    (
        "untuned(0.999, shape=exp) * (linear(5%) >> cosine)",
        rampup.untuned(0.999, shape="exp") * (rampup.linear("5%") >> rampup.cosine()),
    ),
    ("linear(10) * cosine(10)", rampup.linear(10) * rampup.cosine(10)),
    ("2 * linear(10) * 0.5", 2.0 * rampup.linear(10) * 0.5),
    ("0.5 * linear(4)", 0.5 * rampup.linear(4)),
    (
        "bind(linear(5%) >> cosine, total_steps=1000)",
        (rampup.linear("5%") >> rampup.cosine()).bind(total_steps=1000),
    ),
    (
        "bind(linear(2ep) >> cosine(3ep), steps_per_epoch=12.5)",
        (rampup.linear("2ep") >> rampup.cosine("3ep")).bind(steps_per_epoch=12.5),
    ),
    ("bind(cosine, total_steps=50)", rampup.cosine().bind(total_steps=50)),
    ("multistep([100, 200], gamma=0.5)", rampup.multistep((100, 200), gamma=0.5)),
    ("multistep([1ep, 2.5ep, 50%])", rampup.multistep(("1ep", "2.5ep", "50%"))),
    ("multistep([3, 7,],)", rampup.multistep((3, 7))),
    ("linear", rampup.linear()),
    ("linear(10) >> cosine", rampup.linear(10) >> rampup.cosine()),
    ("untuned(shape='exp')", rampup.untuned(shape="exp")),
    ('untuned(shape="exp")', rampup.untuned(shape="exp")),
    ("untuned(shape=exp)", rampup.untuned(shape="exp")),
    (
        "onecycle(100, three_phase=true, anneal=linear)",
        rampup.onecycle(100, three_phase=True, anneal="linear"),
    ),
    ("onecycle(100, three_phase=false)", rampup.onecycle(100, three_phase=False)),
    ("linear(10, endpoint=none)", rampup.linear(10, endpoint=None)),
    ("linear(10, endpoint=True)", rampup.linear(10, endpoint=True)),
    ("exp(10, start=1e-3)", rampup.exp(10, start=0.001)),
    ("exp(gamma=.95)", rampup.exp(gamma=0.95)),
    ("constant(5, 0.1) >> cosine(100)", rampup.constant(5, 0.1) >> rampup.cosine(100)),
    ("linear(10.0)", rampup.linear(10)),
    ("linear(1e3)", rampup.linear(1000)),
    ("restarts(period=100, mult=2.0, decay=0.5)", rampup.restarts(period=100, mult=2.0, decay=0.5)),
    ("warmup_cosine(5%, to=0.01)", rampup.linear("5%") >> rampup.cosine(to=0.01)),
    ("warmup_linear(100)", rampup.linear(100) >> rampup.linear(to=0.0)),
    (
        "wsd(10%, decay=20%, shape=linear)",
        rampup.linear("10%") >> rampup.constant() >> rampup.linear("20%", start=1.0, to=0.0),
    ),
    (
        "tri_stage(10, 20, 30)",
        rampup.linear(10, start=0.01) >> rampup.constant(20) >> rampup.exp(30, start=1.0, to=0.01),
    ),
    ("radam(0.99)", rampup.radam(0.99)),
    ("invsqrt(timescale=100, start=2)", rampup.invsqrt(timescale=100, start=2.0)),
]


@pytest.mark.parametrize(("spec", "expected"), PARSED, ids=[s for s, _ in PARSED])
def test_parse_reads_the_documented_forms(spec: str, expected: Schedule) -> None:
    """Each spec reads to the schedule the same Python calls build."""
    assert parse(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "linear(5%)>>cosine(to=0.01)",
        "  linear ( 5% ) >>\tcosine ( to = 0.01 )\n",
        "linear(5%)\n>>\ncosine(\n  to=0.01,\n)",
        "(linear(5%) >> cosine(to=0.01))",
        "((linear(5%)) >> (cosine(to=0.01)))",
        "\u00a0linear(5%)\u2003>>\u3000cosine(to=0.01)\r\n",
    ],
)
def test_whitespace_and_parentheses_do_not_change_the_schedule(spec: str) -> None:
    """Spaces, tabs, newlines, unicode spaces and grouping parentheses are insignificant."""
    assert parse(spec) == rampup.linear("5%") >> rampup.cosine(to=0.01)


def test_parsed_warmup_cosine_has_hand_derived_values() -> None:
    """bind(linear(4) >> cosine, total_steps=8): (t+1)/4 on 0..3, then cosine over 4 steps to 0."""
    s = parse("bind(linear(4) >> cosine, total_steps=8)")
    # warmup: update t uses (t + 1) / 4; decay: D = 8 - 4 = 4, value (1 + cos(pi * k / 4)) / 2
    expected = [0.25, 0.5, 0.75, 1.0]
    expected += [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    expected += [0.0, 0.0]  # the final value holds after the run
    assert [s(t) for t in range(10)] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_parsed_product_and_noam_have_hand_derived_values() -> None:
    """0.5 * linear(4) halves the warmup; noam's peak is factor / sqrt(d_model * warmup)."""
    assert parse("0.5 * linear(4)")(1) == 0.25  # 0.5 * (1 + 1) / 4
    noam = parse("noam(d_model=512, warmup=4000)")
    assert noam(3999) == pytest.approx(1 / math.sqrt(512 * 4000), rel=1e-14)
    assert noam(0) == pytest.approx(512**-0.5 * 4000**-1.5, rel=1e-14)  # n = 1: n * W**-1.5


def test_bare_words_are_booleans_none_or_names_case_insensitively() -> None:
    """true/false/none are values in any case; other bare words are names of schedules or words."""
    assert parse("onecycle(10, three_phase=TRUE)") == rampup.onecycle(10, three_phase=True)
    assert parse("linear(4, endpoint=False)") == rampup.linear(4, endpoint=False)
    assert parse("linear(4, to=None)") == rampup.linear(4)


# -- printing ------------------------------------------------------------------------------------
def test_issue_examples_print_as_written() -> None:
    """The issue's examples print back exactly as the issue writes them."""
    assert str(rampup.linear("5%") >> rampup.cosine(to=0.01)) == "linear(5%) >> cosine(to=0.01)"
    assert str(rampup.noam(d_model=512, warmup=4000)) == "noam(d_model=512, warmup=4000)"
    assert str(rampup.multistep((100, 200), gamma=0.5)) == "multistep([100, 200], gamma=0.5)"
    assert str(rampup.untuned(shape="exp")) == "untuned(shape=exp)"


EVERY_SHAPE: list[Schedule] = [
    rampup.linear(7, start=0.2, to=0.9, endpoint=False),
    rampup.cosine("10%", to=0.05),
    rampup.poly(50, power=2.5, start=1.0, to=0.0),
    rampup.sqrt("3ep", start=1.0, to=0.1),
    rampup.log(20),
    rampup.exp(30, start=0.001, to=1.0),
    rampup.exp(gamma=0.9, start=0.5),
    rampup.constant(5, 0.25),
    rampup.constant(value=0.5),
    rampup.step(100, gamma=0.5, length=1000, start=2.0),
    rampup.step("1ep"),
    rampup.multistep((10, "2ep", "50%"), gamma=0.3, start=0.9),
    rampup.invsqrt(timescale=50, start=0.7),
    rampup.invsqrt(40),
    rampup.restarts(1000, period=100, mult=2.0, decay=0.5, to=0.01, start=0.9),
    rampup.restarts(cycles=2.5),
    rampup.onecycle(
        200, peak_at=0.25, div=10.0, final_div=100.0, anneal="linear", three_phase=True
    ),
    rampup.noam(d_model=128, warmup="5%", factor=2.0),
    rampup.noam(d_model=0.5),
    rampup.untuned(0.99),
    rampup.untuned(0.9, shape="exp"),
    rampup.radam(0.95),
    rampup.warmup_cosine("5%", to=0.01, shape="poly"),
    rampup.warmup_linear(100, to=0.1),
    rampup.wsd("2ep", decay="10%", to=0.01, shape="cosine"),
    rampup.tri_stage("10%", "40%", "50%", start=0.05, to=0.02),
    rampup.linear(10)
    >> rampup.constant(5, 0.5)
    >> rampup.cosine(to=0.1)
    >> rampup.step(3, length=30),
    1e-3 * rampup.linear(10),
    rampup.linear(10) * 1.0,
    rampup.untuned(shape="exp") * (rampup.linear(4) >> rampup.cosine(to=0.01)) * 3.0,
    (rampup.linear("5%") >> rampup.cosine()).bind(total_steps=1000, steps_per_epoch=7.5),
    rampup.linear(4).bind(),
    0.5 * (rampup.linear(4) >> rampup.cosine()).bind(total_steps=10) * rampup.untuned(0.9),
]


def _via_json(s: Schedule) -> Schedule:
    return from_dict(json.loads(json.dumps(to_dict(s))))


def _via_yaml(s: Schedule) -> Schedule:
    return from_dict(yaml.safe_load(yaml.safe_dump(to_dict(s))))


@pytest.mark.parametrize("schedule", EVERY_SHAPE, ids=[str(s) for s in EVERY_SHAPE])
def test_every_shape_and_recipe_round_trips(schedule: Schedule) -> None:
    """str() parses back, and to_dict() survives JSON and YAML, to an equal schedule."""
    assert parse(str(schedule)) == schedule
    assert _via_json(schedule) == schedule
    assert _via_yaml(schedule) == schedule
    assert rampup.from_dict(schedule.to_dict()) == schedule


def test_to_dict_is_plain_data_naming_the_parameters() -> None:
    """A chain becomes nested dicts of plain values, parameters by name."""
    s = rampup.linear("5%") >> rampup.multistep((10, 20), gamma=0.5)
    assert to_dict(s) == {
        "type": "chain",
        "phases": [
            {"type": "linear", "length": "5%"},
            {"type": "multistep", "milestones": [10, 20], "gamma": 0.5},
        ],
    }


def test_from_dict_of_a_one_phase_chain_is_the_phase() -> None:
    """A chain of one phase in a config reads as that phase, which prints and parses back."""
    s = from_dict({"type": "chain", "phases": [{"type": "cosine", "length": 10}]})
    assert s == rampup.cosine(10)
    assert parse(str(s)) == s


def test_from_dict_flattens_nested_products() -> None:
    """A product inside a product multiplies out, as ``*`` does, so it prints and parses back."""
    inner = {"type": "product", "factors": [{"type": "linear", "length": 4}], "scale": 2.0}
    s = from_dict({"type": "product", "factors": [inner, {"type": "radam"}], "scale": 3})
    assert s == 6.0 * rampup.linear(4) * rampup.radam()
    assert parse(str(s)) == s


# -- random schedules ----------------------------------------------------------------------------
finite = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=10.0)
lengths: st.SearchStrategy[int | str] = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10_000).map(lambda n: f"{n / 100}%"),
    st.integers(min_value=1, max_value=10**5).map(lambda n: f"{n / 100}ep"),
)
#: Lengths that fit a run of RUN steps of EPOCH steps per epoch even four at a time.
RUN, EPOCH = 10**6, 100.0
short_lengths: st.SearchStrategy[int | str] = st.one_of(
    st.integers(min_value=1, max_value=10**4),
    st.integers(min_value=1, max_value=2000).map(lambda n: f"{n / 100}%"),
    st.integers(min_value=1, max_value=1000).map(lambda n: f"{n / 100}ep"),
)
RAMPS = (rampup.linear, rampup.cosine, rampup.poly, rampup.sqrt, rampup.log, rampup.exp)


@st.composite
def phases(
    draw: st.DrawFn, with_length: bool, lengths: st.SearchStrategy[int | str] = lengths
) -> Schedule:
    """A random phase with random valid parameters; ``with_length`` forces a length."""
    length = draw(lengths) if with_length else draw(st.one_of(st.none(), lengths))
    kind = draw(st.sampled_from(["ramp", "constant", "step", "multistep", "invsqrt", "restarts",
                                 "onecycle", "untuned", "noam", "radam"]))  # fmt: skip
    if kind == "untuned":
        if with_length:
            return rampup.untuned(draw(st.floats(0.5, 0.999)))
        return rampup.untuned(
            draw(st.floats(0.01, 0.999)), shape=draw(st.sampled_from(["linear", "exp"]))
        )
    if kind == "noam" and not with_length:
        d_model = draw(st.one_of(st.integers(1, 4096), positive))
        return rampup.noam(d_model=d_model, warmup=draw(lengths), factor=draw(positive))
    if kind == "radam" and not with_length:
        return rampup.radam(draw(st.floats(0.61, 0.9999)))
    if kind == "constant":
        return rampup.constant(length, draw(finite))
    if kind == "step":
        return rampup.step(draw(lengths), gamma=draw(finite), length=length, start=draw(finite))
    if kind == "multistep":
        ms = tuple(draw(st.lists(lengths, min_size=1, max_size=4)))
        return rampup.multistep(ms, gamma=draw(finite), length=length, start=draw(finite))
    if kind == "invsqrt":
        ts = draw(st.one_of(st.none(), lengths))
        return rampup.invsqrt(length, timescale=ts, start=draw(finite))
    if kind == "restarts":
        common: dict[str, Any] = {
            "decay": draw(st.floats(0.0, 1.0)),
            "to": draw(finite),
            "start": draw(finite),
        }
        if draw(st.booleans()):
            mult = draw(st.floats(1.0, 4.0))
            return rampup.restarts(length, period=draw(lengths), mult=mult, **common)
        return rampup.restarts(length, cycles=draw(positive), **common)
    if kind == "onecycle":
        return rampup.onecycle(
            length if length is not None else draw(lengths),
            peak_at=draw(st.floats(0.01, 1.0)),
            div=draw(positive),
            final_div=draw(positive),
            anneal=draw(st.sampled_from(["cos", "linear"])),
            three_phase=draw(st.booleans()),
        )
    ramp = draw(st.sampled_from(RAMPS))
    start = draw(st.one_of(st.none(), positive if ramp is rampup.exp else finite))
    if ramp is rampup.exp and draw(st.booleans()):
        return rampup.exp(length, start=start, gamma=draw(st.floats(0.01, 1.0)))
    to = draw(st.one_of(st.none(), positive if ramp is rampup.exp else finite))
    endpoint = draw(st.one_of(st.none(), st.booleans()))
    if ramp is rampup.poly:
        return rampup.poly(length, start=start, to=to, endpoint=endpoint, power=draw(positive))
    return ramp(length, start=start, to=to, endpoint=endpoint)


@st.composite
def chains(draw: st.DrawFn, lengths: st.SearchStrategy[int | str] = lengths) -> Schedule:
    """1 to 4 phases joined with >>, at most one of them without a length."""
    n = draw(st.integers(1, 4))
    free = draw(st.integers(0, n))  # index of the phase that may leave out its length (n: none)
    parts = [draw(phases(with_length=i != free, lengths=lengths)) for i in range(n)]
    return reduce(lambda a, b: a >> b, parts)


def _bound(draw: st.DrawFn, s: Schedule) -> Schedule:
    """``s`` bound to a random run when its lengths fit one, else ``s`` itself."""
    total = draw(st.one_of(st.none(), st.integers(1, 10**7)))
    per_epoch = draw(st.one_of(st.none(), st.floats(0.5, 1000.0)))
    try:
        return s.bind(total_steps=total, steps_per_epoch=per_epoch)
    except RampupError:
        return s


@st.composite
def schedules(draw: st.DrawFn, lengths: st.SearchStrategy[int | str] = lengths) -> Schedule:
    """A chain, a product of chains with a scale, or either bound to a run."""
    s = draw(chains(lengths))
    if draw(st.booleans()):
        factors = draw(st.lists(chains(lengths), min_size=0, max_size=2))
        scale = draw(st.floats(0.0, 10.0))
        product = scale * s
        for f in factors:
            product = product * f
        s = product
    if draw(st.booleans()):
        s = _bound(draw, s)
    return s


def _outcome(s: Schedule, steps: list[int]) -> list[float] | str:
    """The values at ``steps``, or "error" when the schedule cannot be evaluated there."""
    try:
        return [s(t) for t in steps]
    except RampupError:
        return "error"


@SETTINGS
@given(schedules())
def test_random_schedules_round_trip_through_spec_json_and_yaml(s: Schedule) -> None:
    """parse(str(s)), from_dict of JSON and of YAML all give back an equal schedule."""
    assert parse(str(s)) == s
    assert _via_json(s) == s
    assert _via_yaml(s) == s


@SETTINGS
@given(schedules(short_lengths), st.lists(st.integers(0, 2 * RUN), min_size=1, max_size=4))
def test_round_tripped_schedules_evaluate_equal(s: Schedule, steps: list[int]) -> None:
    """A schedule and its parsed copy, bound to the same run, give the same values or refusal."""
    copy = parse(str(s))
    if not isinstance(s, Bound):
        s, copy = _bind_or_self(s), _bind_or_self(copy)
    expected, got = _outcome(s, steps), _outcome(copy, steps)
    if isinstance(expected, str) or isinstance(got, str):
        assert expected == got
        return
    for a, b in zip(expected, got, strict=True):
        assert a == b or (math.isnan(a) and math.isnan(b))


def _bind_or_self(s: Schedule) -> Schedule:
    try:
        return s.bind(total_steps=RUN, steps_per_epoch=EPOCH)
    except RampupError:
        return s


# -- syntax errors -------------------------------------------------------------------------------
SYNTAX = [
    # (spec, column of the culprit, what the message says is expected)
    ("linear(5", 9, "expected ',' or ')'"),
    ("linear(5))", 10, "expected '>>', '*' or the end of the spec"),
    ("linear(5%) >>", 14, "expected a schedule"),
    (">> cosine", 1, "expected a schedule"),
    ("cosine(to=)", 11, "expected a schedule"),
    ("linear(5%); cosine", 11, "unexpected character ';'"),
    ("linear(5x)", 9, "unknown unit 'x'"),
    ("linear(5 days)", 10, "unknown unit 'days'"),
    ("linear(to=0.1, 5)", 16, "positional argument after keyword"),
    ("linear(lenght=5)", 8, "did you mean 'length'"),
    ("lineer(5) >> cosine", 1, "did you mean 'linear'"),
    ("multistep([1, 2)", 16, "expected ',' or ']'"),
    ("cosine(to=0.1 0.2)", 15, "expected ',' or ')'"),
    ("linear(-5%)", 9, "a length cannot be negative"),
    ("linear(to=0.1, to=0.2)", 16, "given twice"),
    ("linear(10) >> 0.5", 15, "expected a schedule"),
    ("linear(10, start=-1)", 12, "start=-1"),
    ("bind(linear(5%) >> cosine, total_steps=0)", 28, "total_steps=0"),
    ("linear(10) >> 2 * cosine", 12, "only phases can be joined"),
    ("untuned(shape='exp)", 15, "unexpected character"),
]


@pytest.mark.parametrize(("spec", "column", "expected"), SYNTAX, ids=[s for s, _, _ in SYNTAX])
def test_syntax_error_names_the_column_and_what_was_expected(
    spec: str, column: int, expected: str
) -> None:
    """The error gives the 1-based column, what was expected, the spec and a caret under it."""
    with pytest.raises(SpecError) as info:
        parse(spec)
    err = info.value
    assert err.column == column
    first, shown, caret = str(err).split("\n")
    assert first.startswith(f"parse(): column {column}: ")
    assert expected in first
    assert shown == "  " + spec
    assert caret == "  " + " " * (column - 1) + "^"


def test_long_spec_error_shows_a_window_with_the_caret_under_the_culprit() -> None:
    """In a long spec the message shows an excerpt around the column, caret still aligned."""
    spec = "linear(10) >> " + "constant(1) >> " * 40 + "cosine(tp=1)" + " >> step(5)" * 20
    column = spec.index("tp=") + 1
    with pytest.raises(SpecError) as info:
        parse(spec)
    _, shown, caret = str(info.value).split("\n")
    assert shown.startswith("  ...")
    assert shown.endswith("...")
    assert len(shown) <= 2 + 3 + 72 + 3
    pos = caret.index("^")
    assert caret == " " * pos + "^"
    assert shown[pos : pos + 3] == "tp="
    assert info.value.column == column


def test_error_at_the_end_of_a_long_spec_points_past_the_last_character() -> None:
    """An unfinished long spec gets the caret just after its last character."""
    spec = "linear(10) >> " + "constant(1) >> " * 40 + "cosine("
    with pytest.raises(SpecError) as info:
        parse(spec)
    _, shown, caret = str(info.value).split("\n")
    assert info.value.column == len(spec) + 1
    assert shown.endswith("cosine(")
    assert caret.index("^") == len(shown)


def test_control_characters_keep_the_caret_aligned() -> None:
    """Newlines, tabs and NUL in the spec are shown as one character each."""
    spec = "linear(5)\n>>\tcosine(\x00tp=1)"
    with pytest.raises(SpecError) as info:
        parse(spec)
    _, shown, caret = str(info.value).split("\n")
    assert info.value.column == spec.index("\x00") + 1
    assert shown[caret.index("^")] == "?"
    assert shown == "  linear(5) >> cosine(?tp=1)"


def test_unknown_argument_names_the_valid_ones() -> None:
    """An unknown argument lists the arguments the schedule takes."""
    with pytest.raises(SpecError, match="expected one of length, start, to, endpoint"):
        parse("cosine(10, stop=0.1)")


def test_too_many_positional_arguments_say_to_name_them() -> None:
    """Positional arguments beyond the positional parameters ask for names."""
    with pytest.raises(SpecError, match="2 positional arguments given, but it takes length"):
        parse("cosine(10, 0.1)")


def test_missing_argument_is_named() -> None:
    """A recipe called without a required argument names it."""
    with pytest.raises(SpecError, match=r"tri_stage\(\): argument warmup= is missing"):
        parse("tri_stage")


def test_spec_error_is_a_rampup_error_and_a_value_error() -> None:
    """SpecError belongs to the one exception family."""
    with pytest.raises(SpecError) as info:
        parse("linear(")
    assert isinstance(info.value, RampupError)
    assert isinstance(info.value, ValueError)


# -- hostile input -------------------------------------------------------------------------------
HOSTILE = {
    "import call": "__import__('os')",
    "import system": "__import__('os').system('true')",
    "eval": "eval(1)",
    "exec": "exec('import os')",
    "statement after spec": "linear(5%); import os",
    "attribute access": "linear(5%).__class__",
    "lambda": "lambda: 1",
    "dunder name": "__builtins__",
    "deep parentheses": "(" * 10_000,
    "deep parentheses closed": "(" * 4000 + "linear" + ")" * 4000,
    "deep lists": "multistep(" + "[" * 5000,
    "deep calls": "linear(" * 2000,
    "closing only": ")" * 10_000,
    "million characters": "x" * 10**6,
    "million spaces after a spec": "linear(5%)" + " " * 10**6,
    "float overflow": "1e999",
    "float overflow argument": "linear(1e999)",
    "huge length": "linear(" + "9" * 39 + "e999)",
    "10**5 digits": "1" + "0" * 10**5,
    "5000 digits": "linear(" + "9" * 5000 + ")",
    "product overflow": "linear(5) * 1e300 * 1e300",
    "numbers only": "2 * 3",
    "unicode letter": "linéar(5)",
    "cyrillic": "линейный(5)",
    "fullwidth digit": "linear(\uff15)",
    "unicode operator": "linear(5%) \u226b cosine",
    "emoji": "\U0001f525",
    "nul at end": "linear(5)\x00",
    "nul alone": "\x00",
    "nul inside": "linear(\x005)",
    "unterminated quote": "untuned(shape='exp",
    "long quoted word": "untuned(shape='" + "a" * 300 + "')",
    "backslash in quotes": "untuned(shape='\\x65xp')",
    "empty": "",
    "blank": " \t\n",
    "lone minus": "-",
    "schedule as argument": "linear(cosine(5))",
    "bind without schedule": "bind(total_steps=10)",
    "nested bind": "bind(bind(linear(5)))",
}


@pytest.mark.parametrize("spec", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_spec_gives_a_clear_rampup_error_and_nothing_else(spec: str) -> None:
    """Code, deep nesting, huge input and odd characters raise one RampupError from parse()."""
    with pytest.raises(RampupError) as info:
        parse(spec)
    message = str(info.value)
    assert message.startswith("parse(): ")
    assert len(message) < 1000  # the message quotes an excerpt, never the whole input


@pytest.mark.parametrize("spec", [b"linear(5)", None, 5, ["linear"]])
def test_parse_refuses_what_is_not_a_string(spec: Any) -> None:
    """A non-string spec is a RampupError naming parse() and spec=."""
    with pytest.raises(RampupError, match=r"^parse\(\): spec="):
        parse(spec)


def test_nesting_up_to_the_limit_parses() -> None:
    """MAX_DEPTH levels (parentheses, and the call's own) are accepted; one more is refused."""
    ok = "(" * (MAX_DEPTH - 1) + "linear(5)" + ")" * (MAX_DEPTH - 1)
    assert parse(ok) == rampup.linear(5)
    with pytest.raises(SpecError, match="nested deeper"):
        parse("(" + ok + ")")


def test_spec_at_the_length_limit_parses() -> None:
    """A spec of exactly MAX_LENGTH characters (padded with spaces) is read; one more is refused."""
    spec = "linear(5)".ljust(MAX_LENGTH)
    assert parse(spec) == rampup.linear(5)
    with pytest.raises(RampupError, match="at most"):
        parse(spec + " ")


@pytest.mark.parametrize("name", ["spec", "grammar", "registry", "printer", "spec_dicts"])
def test_parser_source_never_evaluates_code(name: str) -> None:
    """The spec language's modules call no eval, exec, compile-to-code or literal_eval."""
    module = importlib.import_module(f"rampup.core.{name}")  # the module's own file is the subject

    source = Path(module.__file__ or "").read_text()
    assert not re.search(r"\b(eval|exec|literal_eval|__import__)\s*\(", source)
    assert not re.search(r"(?<![.\w])compile\s*\(", source)


TOKENS = [
    "linear", "cosine", "bind", "noam", "multistep", "onecycle", "untuned", "radam", "exp",
    "step", "restarts", "wsd", "tri_stage", "true", "none", "total_steps", "to", "length",
    "gamma", "shape", "x", "5", "5%", "2ep", "0.5", "1e999", "1e308", "0", "-", "99999999999",
    "(", ")", ">>", "*", ",", "=", "[", "]", "'exp'", "'", '"', " ", ".", "%", "ep", "\x00",
]  # fmt: skip


@SETTINGS
@given(st.text(max_size=200))
def test_parse_of_arbitrary_text_raises_only_rampup_errors(text: str) -> None:
    """Any text parses to a schedule or raises a RampupError, never anything else."""
    with contextlib.suppress(RampupError):
        assert isinstance(parse(text), Schedule)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_parse_of_token_soup_raises_only_rampup_errors(tokens: list[str]) -> None:
    """Random sequences of the language's own tokens never escape as another exception."""
    with contextlib.suppress(RampupError):
        assert isinstance(parse("".join(tokens)), Schedule)

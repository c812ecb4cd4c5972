"""Errors: one family (RampupError, a ValueError) naming the function, parameter and value."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import rampup
from rampup import RampupError
from rampup._errors import fail, shown
from rampup.spec import SpecError

NAN, INF = float("nan"), float("inf")


def _any(value: object) -> Any:
    """``value`` typed as Any: the table passes wrong types on purpose."""
    return value


# (id, the call, substrings the message must contain: the function, the parameter, the value)
BAD: list[tuple[str, Callable[[], Any], tuple[str, ...]]] = [
    # lengths: negative, zero, NaN, inf, bool, unknown units, beyond the run
    ("negative length", lambda: rampup.linear(-5), ("linear()", "length=", "-5")),
    ("zero length", lambda: rampup.cosine(0), ("cosine()", "length=", "0")),
    ("nan length", lambda: rampup.poly(_any(NAN)), ("poly()", "length=", "nan")),
    ("inf length", lambda: rampup.sqrt(_any(INF)), ("sqrt()", "length=", "inf")),
    ("fractional step count", lambda: rampup.log(_any(2.5)), ("log()", "length=", "2.5")),
    ("bool length", lambda: rampup.linear(True), ("linear()", "length=", "True")),
    ("unit 5x", lambda: rampup.linear("5x"), ("linear()", "length=", "'5x'")),
    ("unit 5 days", lambda: rampup.cosine("5 days"), ("cosine()", "length=", "'5 days'")),
    ("percent above 100", lambda: rampup.sqrt("150%"), ("sqrt()", "length=", "'150%'", "100")),
    ("negative percent", lambda: rampup.linear("-5%"), ("linear()", "length=", "'-5%'")),
    ("zero epochs", lambda: rampup.constant("0ep"), ("constant()", "length=", "'0ep'")),
    ("list as length", lambda: rampup.linear(_any([5])), ("linear()", "length=", "[5]")),
    # values: negative, NaN, inf, bool
    ("negative to", lambda: rampup.cosine(10, to=-0.5), ("cosine()", "to=", "-0.5")),
    ("nan to", lambda: rampup.cosine(10, to=NAN), ("cosine()", "to=", "nan")),
    ("inf start", lambda: rampup.linear(10, start=INF), ("linear()", "start=", "inf")),
    ("bool to", lambda: rampup.log(10, to=True), ("log()", "to=", "True")),
    ("string start", lambda: rampup.linear(10, start=_any("0.1")), ("linear()", "start=", "'0.1'")),
    ("int endpoint", lambda: rampup.linear(10, endpoint=_any(1)), ("linear()", "endpoint=", "1")),
    ("zero power", lambda: rampup.poly(10, power=0), ("poly()", "power=", "0")),
    ("negative power", lambda: rampup.poly(10, power=-1.5), ("poly()", "power=", "-1.5")),
    ("zero gamma", lambda: rampup.exp(10, gamma=0), ("exp()", "gamma=", "0")),
    ("exp to zero", lambda: rampup.exp(10, start=1.0, to=0.0), ("exp()", "to=", "0.0")),
    ("exp from zero", lambda: rampup.exp(10, start=0.0), ("exp()", "start=", "0.0", "> 0")),
    ("exp below zero", lambda: rampup.exp(10, start=-1.0), ("exp()", "start=", "-1.0")),
    ("negative constant", lambda: rampup.constant(10, -1), ("constant()", "value=", "-1")),
    ("bool constant", lambda: rampup.constant(10, True), ("constant()", "value=", "True")),
    ("zero step every", lambda: rampup.step(0), ("step()", "every=", "0")),
    ("negative gamma", lambda: rampup.step(10, gamma=-0.1), ("step()", "gamma=", "-0.1")),
    ("growing open step", lambda: rampup.step(10, gamma=2.0)(0), ("step()", "gamma=", "2.0")),
    ("no milestones", lambda: rampup.multistep(()), ("multistep()", "milestones=", "()")),
    (
        "negative milestone",
        lambda: rampup.multistep((100, -5)),
        ("multistep()", "milestones=", "-5"),
    ),
    (
        "decreasing milestones",
        lambda: rampup.multistep((200, 100)).bind(),
        ("multistep()", "milestones=", "(200, 100)", "increasing"),
    ),
    ("zero timescale", lambda: rampup.invsqrt(timescale=0), ("invsqrt()", "timescale=", "0")),
    ("no period", lambda: rampup.restarts(100), ("restarts()", "period=", "None", "cycles")),
    (
        "mult below one",
        lambda: rampup.restarts(100, period=10, mult=0.5),
        ("restarts()", "mult=", "0.5"),
    ),
    ("zero peak_at", lambda: rampup.onecycle(100, peak_at=0), ("onecycle()", "peak_at=", "0")),
    (
        "unknown anneal",
        lambda: rampup.onecycle(100, anneal="cosine"),
        ("onecycle()", "anneal=", "'cosine'", "'cos'"),
    ),
    # noam and the Adam-derived warmups
    ("zero d_model", lambda: rampup.noam(d_model=0), ("noam()", "d_model=", "0")),
    ("negative d_model", lambda: rampup.noam(d_model=-512), ("noam()", "d_model=", "-512")),
    ("bool d_model", lambda: rampup.noam(d_model=True), ("noam()", "d_model=", "True")),
    ("zero noam warmup", lambda: rampup.noam(warmup=0), ("noam()", "warmup=", "0")),
    ("nan noam factor", lambda: rampup.noam(factor=NAN), ("noam()", "factor=", "nan")),
    ("beta2 one", lambda: rampup.untuned(1.0), ("untuned()", "beta2=", "1.0", "(0, 1)")),
    ("beta2 zero", lambda: rampup.untuned(0.0), ("untuned()", "beta2=", "0.0")),
    ("beta2 above one", lambda: rampup.untuned(1.5), ("untuned()", "beta2=", "1.5")),
    ("beta2 nan", lambda: rampup.untuned(NAN), ("untuned()", "beta2=", "nan")),
    (
        "unknown untuned shape",
        lambda: rampup.untuned(0.999, shape="cosine"),
        ("untuned()", "shape=", "'cosine'"),
    ),
    ("radam beta2 0.6", lambda: rampup.radam(0.6), ("radam()", "beta2=", "0.6")),
    ("radam beta2 0.5", lambda: rampup.radam(0.5), ("radam()", "beta2=", "0.5")),
    ("radam beta2 negative", lambda: rampup.radam(-0.1), ("radam()", "beta2=", "-0.1")),
    # recipes
    (
        "warmup_cosine negative to",
        lambda: rampup.warmup_cosine("5%", to=-1),
        ("warmup_cosine()", "to=", "-1"),
    ),
    (
        "warmup_cosine unknown shape",
        lambda: rampup.warmup_cosine(100, shape="exp"),
        ("warmup_cosine()", "shape=", "'exp'"),
    ),
    ("warmup_linear nan to", lambda: rampup.warmup_linear(100, to=NAN), ("warmup_linear()", "to=")),
    ("wsd unknown shape", lambda: rampup.wsd("10%", shape="exp"), ("wsd()", "shape=", "'exp'")),
    ("wsd inf to", lambda: rampup.wsd("10%", to=INF), ("wsd()", "to=", "inf")),
    ("tri_stage zero start", lambda: rampup.tri_stage(1, 1, 1, start=0), ("tri_stage()", "start=")),
    (
        "tri_stage negative to",
        lambda: rampup.tri_stage(1, 1, 1, to=-1),
        ("tri_stage()", "to=", "-1"),
    ),
    # composition and binding
    (
        "two length-less phases",
        lambda: rampup.linear() >> rampup.cosine(),
        (">>", "more than one phase leaves out its length", "linear", "cosine"),
    ),
    (
        "warmup longer than the run",
        lambda: (rampup.linear(2000) >> rampup.cosine()).bind(total_steps=1000),
        ("2000", "total_steps=1000"),
    ),
    (
        "fixed phases longer than the run",
        lambda: (rampup.linear(2000) >> rampup.cosine(100)).bind(total_steps=1000),
        ("2100", "total_steps=1000"),
    ),
    (
        "zero total_steps",
        lambda: rampup.linear(10).bind(total_steps=0),
        ("bind()", "total_steps=", "0"),
    ),
    (
        "bool total_steps",
        lambda: rampup.linear(10).bind(total_steps=True),
        ("bind()", "total_steps=", "True"),
    ),
    (
        "float total_steps",
        lambda: rampup.linear(10).bind(total_steps=_any(100.5)),
        ("bind()", "total_steps=", "100.5"),
    ),
    (
        "nan steps_per_epoch",
        lambda: rampup.linear("2ep").bind(steps_per_epoch=NAN),
        ("bind()", "steps_per_epoch=", "nan"),
    ),
    (
        "percent rounding to zero steps",
        lambda: rampup.linear("1%").bind(total_steps=10),
        ("linear()", "length=", "'1%'", "0"),
    ),
    (
        "percent without total_steps",
        lambda: (rampup.linear("5%") >> rampup.cosine(100))(3),
        ("linear()", "length=", "'5%'", "total_steps"),
    ),
    (
        "epochs without steps_per_epoch",
        lambda: rampup.linear("2ep").bind(total_steps=100),
        ("linear()", "length=", "'2ep'", "steps_per_epoch"),
    ),
    ("product with inf", lambda: rampup.linear(5) * INF, ("*", "scale=", "inf")),
    ("negative scale", lambda: -2 * rampup.linear(5), ("*", "scale=", "-2", ">= 0")),
    # evaluation
    ("negative step", lambda: rampup.linear(10)(-1), ("step=", "-1")),
    ("nan step", lambda: rampup.linear(10)(NAN), ("step=", "nan")),
    ("inf step", lambda: rampup.linear(10)(INF), ("step=", "inf")),
    ("string step", lambda: rampup.linear(10)(_any("3")), ("step=", "'3'")),
    ("negative step in values", lambda: rampup.linear(10).values([0, -2]), ("step=", "-2")),
    ("nan step in values", lambda: rampup.linear(10).values([NAN]), ("step=", "nan")),
    ("string step in values", lambda: rampup.linear(10).values(["a"]), ("step=", "'a'")),
    # parse
    (
        "parse negative length",
        lambda: rampup.parse("linear(-5)"),
        ("parse()", "linear()", "length=", "-5"),
    ),
    ("parse unknown name", lambda: rampup.parse("lineer(5)"), ("parse()", "'lineer'", "'linear'")),
    ("parse unknown unit", lambda: rampup.parse("linear(5x)"), ("parse()", "unit", "'x'")),
    (
        "parse zero d_model",
        lambda: rampup.parse("noam(d_model=0)"),
        ("parse()", "noam()", "d_model=0"),
    ),
    ("parse radam beta2", lambda: rampup.parse("radam(0.5)"), ("parse()", "radam()", "beta2=0.5")),
    ("parse not a string", lambda: rampup.parse(_any(42)), ("parse()", "spec=", "42")),
    (
        "parse bind warmup too long",
        lambda: rampup.parse("bind(linear(2000) >> cosine, total_steps=1000)"),
        ("parse()", "2000", "total_steps=1000"),
    ),
    (
        "parse unresolvable bind",
        lambda: rampup.parse("bind(linear(5%) >> cosine(10))"),
        ("parse()", "linear()", "length='5%'", "total_steps"),
    ),
    # from_dict
    (
        "from_dict not a dict",
        lambda: rampup.from_dict("linear"),
        ("from_dict()", "data=", "'linear'"),
    ),
    (
        "from_dict no type",
        lambda: rampup.from_dict({"length": 5}),
        ("from_dict()", "type=", "None"),
    ),
    (
        "from_dict unknown type",
        lambda: rampup.from_dict({"type": "lineer"}),
        ("from_dict()", "type=", "'lineer'", "'linear'"),
    ),
    (
        "from_dict unknown key",
        lambda: rampup.from_dict({"type": "linear", "lenght": 5}),
        ("from_dict()", "linear()", "lenght=", "'length'"),
    ),
    (
        "from_dict bad value",
        lambda: rampup.from_dict({"type": "linear", "length": -5}),
        ("from_dict()", "linear()", "length=", "-5"),
    ),
    (
        "from_dict unknown chain key",
        lambda: rampup.from_dict({"type": "chain", "phases": [{"type": "linear"}], "extra": 1}),
        ("from_dict()", "chain", "'extra'"),
    ),
    (
        "from_dict empty chain",
        lambda: rampup.from_dict({"type": "chain", "phases": []}),
        ("from_dict()", "phases=", "[]"),
    ),
    (
        "from_dict scale not a number",
        lambda: rampup.from_dict({"type": "product", "factors": [{"type": "radam"}], "scale": "x"}),
        ("from_dict()", "scale=", "'x'"),
    ),
    (
        "from_dict dict as parameter",
        lambda: rampup.from_dict({"type": "linear", "length": {"steps": 5}}),
        ("from_dict()", "length=", "{'steps': 5}"),
    ),
    (
        "from_dict bind total_steps",
        lambda: rampup.from_dict(
            {"type": "bind", "schedule": {"type": "linear", "length": 5}, "total_steps": -1}
        ),
        ("from_dict()", "bind()", "total_steps=", "-1"),
    ),
    (
        "from_dict deep nesting",
        lambda: rampup.from_dict(_nested_bind(1000)),
        ("from_dict()", "nested deeper"),
    ),
]


def _nested_bind(depth: int) -> dict[str, Any]:
    """``{"type": "bind", "schedule": {"type": "bind", ...}}`` nested ``depth`` times."""
    data: dict[str, Any] = {"type": "linear", "length": 5}
    for _ in range(depth):
        data = {"type": "bind", "schedule": data}
    return data


def test_the_table_has_at_least_45_bad_inputs() -> None:
    """The issue asks for a table of at least 40 bad inputs; the brief for 45."""
    assert len(BAD) >= 45


@pytest.mark.parametrize(("call", "parts"), [(c, p) for _, c, p in BAD], ids=[i for i, _, _ in BAD])
def test_bad_input_raises_a_rampup_error_naming_function_parameter_and_value(
    call: Callable[[], Any], parts: tuple[str, ...]
) -> None:
    """Each bad input raises a RampupError (a ValueError) whose message names what went wrong."""
    with pytest.raises(RampupError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    for part in parts:
        assert part in message


def test_recipe_errors_name_the_recipe() -> None:
    """warmup_linear(-3) names warmup_linear(), the function the user called."""
    with pytest.raises(RampupError, match=r"^warmup_linear\(\): warmup=-3"):
        rampup.warmup_linear(-3)


def test_warmup_longer_than_the_run_names_bind() -> None:
    """A bind() that the phases do not fit in names bind() and total_steps."""
    with pytest.raises(RampupError, match=r"^bind\(\): "):
        (rampup.linear(2000) >> rampup.cosine()).bind(total_steps=1000)


# -- nothing half-applied ------------------------------------------------------------------------
def test_failed_bind_returns_nothing_and_leaves_the_schedule_working() -> None:
    """After a refused bind the original schedule is unchanged and binds to a fitting run."""
    s = rampup.linear(2000) >> rampup.cosine()
    before = str(s)
    result = None
    with pytest.raises(RampupError):
        result = s.bind(total_steps=1000)
    assert result is None
    assert str(s) == before
    assert s == rampup.linear(2000) >> rampup.cosine()
    bound = s.bind(total_steps=4000)
    # warmup: update t uses (t + 1) / 2000; cosine decay over D = 2000 steps from 1 to 0
    assert bound(0) == 1 / 2000
    assert bound(1999) == 1.0
    assert bound(3000) == pytest.approx((1 + math.cos(math.pi * 1000 / 2000)) / 2, abs=1e-15)


def test_failed_evaluation_is_not_cached() -> None:
    """A schedule that cannot be evaluated unbound still refuses next time, and binds fine."""
    s = rampup.linear("5%")
    for _ in range(2):
        with pytest.raises(RampupError, match="total_steps"):
            s(0)
    assert s.bind(total_steps=100)(0) == 1 / 5  # 5% of 100 = 5 steps: update 0 uses 1/5


def test_refused_step_does_not_disturb_later_calls() -> None:
    """After s(-1) is refused, s(t) and s.values still give the hand-derived warmup values."""
    s = rampup.linear(4)
    with pytest.raises(RampupError):
        s(-1)
    with pytest.raises(RampupError):
        s.values([1, -1])
    assert [s(t) for t in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert s.values([0, 1, 2, 3, 4]).tolist() == [0.25, 0.5, 0.75, 1.0, 1.0]


def test_failed_parse_and_from_dict_leave_no_state_behind() -> None:
    """A refused spec or dict does not affect parsing a good one afterwards."""
    with pytest.raises(RampupError):
        rampup.parse("linear(5%) >> cosine(to=-1)")
    with pytest.raises(RampupError):
        rampup.from_dict({"type": "chain", "phases": [{"type": "linear"}, {"type": "cosine"}]})
    s = rampup.parse("bind(linear(5%) >> cosine(to=0.5), total_steps=100)")
    assert s(0) == 1 / 5
    assert s(100) == 0.5


def test_errors_pickle_with_their_message() -> None:
    """A RampupError crosses process boundaries (multiprocessing, Ray) with its message."""
    err = fail("linear", "length", -5, "a positive step count")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301  # our own object, just made
    assert isinstance(back, RampupError)
    assert str(back) == "linear(): length=-5 is invalid: expected a positive step count"


def test_spec_errors_pickle_with_column_and_caret() -> None:
    """A SpecError from a worker process (lab runs, process pools) unpickles whole.

    The bug this pins: SpecError takes (spec, column, reason), so the default reduction of an
    exception (its message as the only argument) failed to rebuild it in the parent process.
    """
    with pytest.raises(SpecError) as info:
        rampup.parse("linear(5%) >> cosine(to=")
    err = info.value
    back = pickle.loads(pickle.dumps(err))  # noqa: S301  # our own object, just made
    assert isinstance(back, SpecError)
    assert (back.spec, back.column, back.reason) == (err.spec, err.column, err.reason)
    assert str(back) == str(err)
    assert back.column == len("linear(5%) >> cosine(to=") + 1  # the end of the text


# -- the message helper --------------------------------------------------------------------------
def test_fail_words_the_message_in_the_house_style() -> None:
    """fail() reads '<func>(): <param>=<value> is invalid: expected <expectation>'."""
    err = fail("cosine", "to", -0.5, "a value >= 0")
    assert str(err) == "cosine(): to=-0.5 is invalid: expected a value >= 0"


def test_shown_cuts_long_strings_and_containers() -> None:
    """A long or deep value is shown in at most 80 characters."""
    assert len(shown("x" * 10_000)) <= 80
    assert len(shown(list(range(10_000)))) <= 80
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    assert len(shown(deep)) <= 80


def test_shown_describes_huge_ints_without_printing_them() -> None:
    """An int of 100000 digits is described by its size (no int-to-str limit error)."""
    assert shown(10**100_000) == "<an int of about 100001 digits>"
    assert shown(-5) == "-5"


def test_shown_survives_a_failing_repr() -> None:
    """A value whose __repr__ raises is described by its type."""

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError

    assert shown(Broken()).startswith("<Broken")


def test_huge_int_parameter_is_a_rampup_error() -> None:
    """An int beyond the float range for a number parameter is refused, not an OverflowError."""
    with pytest.raises(RampupError, match=r"cosine\(\): to=<an int of about 401 digits>"):
        rampup.cosine(10, to=10**400)


def test_huge_int_length_is_a_rampup_error() -> None:
    """An int length beyond the float range is refused with a RampupError."""
    with pytest.raises(RampupError, match="length="):
        rampup.linear(10**400)

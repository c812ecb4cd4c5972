"""Lengths: step counts, epochs and fractions of the run, and their rounding to whole steps."""

from __future__ import annotations

import math
from typing import Literal

import pytest

import rampup
from rampup.core.units import Span, parse_length


@pytest.mark.parametrize(
    ("given", "amount", "unit"),
    [
        (1, 1.0, "steps"),
        (1000, 1000.0, "steps"),
        (250.0, 250.0, "steps"),  # a whole float is a step count
        ("1000", 1000.0, "steps"),
        ("1e3", 1000.0, "steps"),  # 1 * 10**3
        ("2ep", 2.0, "epochs"),
        ("0.5ep", 0.5, "epochs"),
        (".25ep", 0.25, "epochs"),
        ("1.5e1ep", 15.0, "epochs"),
        ("5%", 5.0, "percent"),
        ("2.5%", 2.5, "percent"),
        ("100%", 100.0, "percent"),
        (" 7 % ", 7.0, "percent"),  # surrounding and inner spaces are allowed
    ],
)
def test_parse_length_reads_amount_and_unit(
    given: int | float | str, amount: float, unit: Literal["steps", "epochs", "percent"]
) -> None:
    """Ints, whole floats, 'Nep', 'N%' and scientific notation parse to an amount and a unit."""
    assert parse_length("f", "length", given) == Span(amount, unit)


@pytest.mark.parametrize(
    "given",
    [
        0,
        -5,
        0.0,
        2.5,
        "0",
        "0ep",
        "0%",
        "-2ep",
        "101%",
        "2 epochs",
        "5%%",
        "ep",
        "%",
        "1e400",
        "nan",
        "inf",
        "",
        "1.5",
        True,
        None,
        [5],
        1e400,
        float("nan"),
    ],
)
def test_parse_length_rejects_invalid_lengths(given: object) -> None:
    """Zero, negative, fractional step counts, unknown units and non-lengths are RampupErrors."""
    with pytest.raises(rampup.RampupError, match=r"f\(\): length="):
        parse_length("f", "length", given)


@pytest.mark.parametrize(
    ("span", "total", "per_epoch", "steps"),
    [
        (Span(10.0, "steps"), None, None, 10),
        (Span(2.0, "epochs"), None, 50, 100),  # 2 * 50
        (Span(0.5, "epochs"), None, 5, 3),  # 2.5 -> halves round up -> 3
        (Span(0.5, "epochs"), None, 7, 4),  # 3.5 -> 4
        (Span(1.0, "epochs"), None, 12.4, 12),  # 12.4 -> nearest 12
        (Span(1.0, "epochs"), None, 12.6, 13),  # 12.6 -> nearest 13
        (Span(2.5, "percent"), 100, None, 3),  # 2.5 -> 3 (halves up)
        (Span(5.0, "percent"), 1000, None, 50),  # 5/100 * 1000
        (Span(10.0, "percent"), 15, None, 2),  # 1.5 -> 2
        (Span(10.0, "percent"), 14, None, 1),  # 1.4 -> 1
        (Span(100.0, "percent"), 37, None, 37),
    ],
)
def test_resolve_rounds_to_nearest_step_halves_up(
    span: Span, total: int | None, per_epoch: float | None, steps: int
) -> None:
    """Fractional lengths round to the nearest whole step, with halves rounded up."""
    assert span.resolve("f", "length", total, per_epoch) == steps


def test_resolve_epochs_without_steps_per_epoch_is_an_error() -> None:
    """An epoch length with no steps_per_epoch known is an error, never a guess."""
    with pytest.raises(rampup.RampupError, match="steps_per_epoch"):
        Span(2.0, "epochs").resolve("f", "length", 1000, None)


def test_resolve_percent_without_total_steps_is_an_error() -> None:
    """A percentage with no total_steps known is an error, never a guess."""
    with pytest.raises(rampup.RampupError, match="total_steps"):
        Span(5.0, "percent").resolve("f", "length", None, 10)


@pytest.mark.parametrize(
    ("span", "total", "per_epoch"),
    [
        (Span(0.4, "percent"), 100, None),  # 0.4 steps -> 0
        (Span(1.0, "percent"), 49, None),  # 0.49 steps -> 0
        (Span(0.1, "epochs"), None, 4),  # 0.4 steps -> 0
    ],
)
def test_resolve_to_zero_steps_is_an_error(
    span: Span, total: int | None, per_epoch: float | None
) -> None:
    """A length that rounds to 0 steps is a RampupError naming the length."""
    with pytest.raises(rampup.RampupError, match="rounds to 0"):
        span.resolve("f", "length", total, per_epoch)


def test_resolve_just_above_a_half_step_gives_one_step() -> None:
    """1 % of 50 steps is exactly half a step, which rounds up to 1."""
    assert Span(1.0, "percent").resolve("f", "length", 50, None) == 1


def test_bind_resolves_every_length_of_a_chain() -> None:
    """bind() resolves epochs and percentages in a chain: each boundary lands where expected."""
    # 2 epochs of 10 steps = 20 warmup steps; a 25 % hold of 200 = 50 steps; cosine the rest (130).
    s = (rampup.linear("2ep") >> rampup.constant("25%") >> rampup.cosine()).bind(
        total_steps=200, steps_per_epoch=10
    )
    assert s.bounds == (20, 70, 200)
    assert s(0) == 1 / 20  # default warmup (t + 1) / W
    assert s(19) == 1.0
    assert s(69) == 1.0  # the hold
    assert s(70) == 1.0  # the cosine's first step is its start
    # cosine over D = 130 steps from 1 to 0: local step 65 = D / 2 gives (1 + cos(pi / 2)) / 2.
    assert s(135) == pytest.approx(0.5, abs=1e-15)
    assert s(199) == pytest.approx(0.5 * (1 + math.cos(math.pi * 129 / 130)), abs=1e-15)
    assert s(200) == 0.0  # the decay's end value holds after the run


def test_bind_resolves_fractional_epochs_with_rounding() -> None:
    """'0.5ep' with 5 steps per epoch is a 3-step warmup: values 1/3, 2/3, 1."""
    s = rampup.linear("0.5ep").bind(steps_per_epoch=5)
    assert [s(t) for t in range(4)] == [1 / 3, 2 / 3, 1.0, 1.0]


def test_unresolvable_length_is_an_error_at_bind() -> None:
    """bind() without the unit a length needs raises at the bind call."""
    with pytest.raises(rampup.RampupError, match="steps_per_epoch"):
        (rampup.linear("2ep") >> rampup.cosine()).bind(total_steps=100)
    with pytest.raises(rampup.RampupError, match="total_steps"):
        rampup.linear("5%").bind(steps_per_epoch=10)


def test_unbound_relative_length_is_an_error_when_evaluated() -> None:
    """Evaluating a schedule with a '%' length and no bind() is a RampupError, not a guess."""
    s = rampup.linear("5%")
    with pytest.raises(rampup.RampupError, match="total_steps"):
        s(0)
    with pytest.raises(rampup.RampupError, match="total_steps"):
        s.values([0, 1])


def test_length_rounding_to_zero_is_an_error_at_bind() -> None:
    """A warmup of '0.1%' of a 100-step run is 0.1 steps: bind() raises."""
    with pytest.raises(rampup.RampupError, match="rounds to 0"):
        (rampup.linear("0.1%") >> rampup.cosine()).bind(total_steps=100)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"total_steps": 0}, "total_steps"),
        ({"total_steps": -1}, "total_steps"),
        ({"total_steps": 10.5}, "total_steps"),
        ({"total_steps": True}, "total_steps"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
        ({"steps_per_epoch": float("nan")}, "steps_per_epoch"),
        ({"steps_per_epoch": float("inf")}, "steps_per_epoch"),
    ],
)
def test_bind_rejects_bad_run_sizes(kwargs: dict[str, object], param: str) -> None:
    """bind() names the bad parameter: total_steps a positive int, steps_per_epoch finite > 0."""
    with pytest.raises(rampup.RampupError, match=rf"bind\(\): {param}="):
        rampup.linear(5).bind(**kwargs)  # type: ignore[arg-type]  # bad types on purpose


def test_span_prints_its_canonical_form() -> None:
    """A span prints back as the length a user writes: 10, '2ep', '0.5ep', '5%', '2.5%'."""
    assert [str(Span(10.0, "steps")), str(Span(2.0, "epochs")), str(Span(0.5, "epochs"))] == [
        "10",
        "2ep",
        "0.5ep",
    ]
    assert [str(Span(5.0, "percent")), str(Span(2.5, "percent"))] == ["5%", "2.5%"]

"""The public path of :mod:`rampup.core.checks`: argument checks for code built on rampup."""

from __future__ import annotations

from rampup.core.checks import (
    check_choice,
    check_count,
    check_flag,
    check_number,
    check_optional_count,
    check_optional_flag,
    check_optional_number,
    check_optional_real,
    check_real,
    check_switch,
    check_writable,
    shown,
)

__all__ = [
    "check_choice",
    "check_count",
    "check_flag",
    "check_number",
    "check_optional_count",
    "check_optional_flag",
    "check_optional_number",
    "check_optional_real",
    "check_real",
    "check_switch",
    "check_writable",
    "shown",
]

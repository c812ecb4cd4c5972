"""rampup.advice.summary: the `show` table (summarize).

Every expected number is derived by hand in the test from the rule it checks (the formulas of
docs/conventions.md, the classic recipes' table, 2 / (1 - beta2), the linear scaling rule), never
read back from the code under test.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
from rampup.advice import summary
from rampup.advice.summary import Boundary, summarize
from rampup.core.spec import SpecError


# -- summarize ------------------------------------------------------------------------------------
def test_summary_of_warmup_cosine_matches_the_conventions_table() -> None:
    """linear(4) >> cosine over 8 steps: the row of docs/conventions.md, derived by hand."""
    s = summarize("linear(4) >> cosine", total_steps=8)
    assert s.spec == "linear(4) >> cosine"
    assert s.step_0 == 0.25  # (0 + 1) / 4
    assert s.step_1 == 0.5  # (1 + 1) / 4
    assert (s.peak_step, s.peak_value) == (3, 1.0)  # (3 + 1) / 4: the last warmup step
    assert s.boundaries == (Boundary(step=4, before=1.0, value=1.0),)
    assert s.last_step == 7
    assert s.last_value == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 4)))
    assert s.after_run == 0.0
    assert s.warmup_steps == 4
    assert s.effective_warmup == pytest.approx(0.75 + 0.5 + 0.25 + 0.0)
    assert (s.zero_steps, s.first_zero_step) == (0, None)


def test_long_warmup_is_warned_above_30_percent() -> None:
    """A warmup reaching the peak after 4 of 8 steps (50 %) is flagged; 5 % of the run is not."""
    (warning,) = summarize("linear(4) >> cosine", total_steps=8).warnings
    assert "long warmup" in warning
    assert "50%" in warning
    assert summarize("linear(5%) >> cosine", total_steps=1000).warnings == ()


def test_constant_warmup_shows_its_jump_at_the_boundary() -> None:
    """constant(10, 0.1) >> constant: 0.1 on steps 0-9, jump to 1 at step 10, the peak."""
    s = summarize("constant(10, 0.1) >> constant", total_steps=100)
    assert (s.step_0, s.step_1) == (0.1, 0.1)
    assert s.boundaries == (Boundary(10, 0.1, 1.0),)
    assert (s.peak_step, s.warmup_steps) == (10, 11)
    assert s.effective_warmup == pytest.approx(10 * (1 - 0.1))
    assert len(s.warnings) == 1  # the jump is said, as intended for a constant warmup
    assert s.warnings[0].startswith("jump at step 10: from 0.1 to 1; intended for a constant")


def test_hf_convention_warns_of_an_update_at_lr_zero() -> None:
    """HF's warmup t / W runs update 0 at 0 and peaks at t = W; effective length sum(1 - t/W)."""
    s = summarize("linear(10, start=0.0, endpoint=false) >> cosine", total_steps=100)
    assert s.step_0 == 0.0
    assert s.step_1 == pytest.approx(0.1)
    assert s.peak_step == 10
    assert s.effective_warmup == pytest.approx(sum(1 - t / 10 for t in range(11)))
    assert (s.zero_steps, s.first_zero_step) == (1, 0)
    assert any("exactly 0" in w and "step 0" in w for w in s.warnings)


def test_decay_reaching_zero_on_the_last_step_is_warned() -> None:
    """cosine(endpoint=true) to 0 reaches 0 on the last update, step 99: one wasted update."""
    s = summarize("linear(10) >> cosine(to=0, endpoint=true)", total_steps=100)
    assert s.last_value == 0.0
    assert (s.zero_steps, s.first_zero_step) == (1, 99)


def test_no_warmup_is_warned() -> None:
    """A decay from step 0 has its peak at step 0: a warning says there is no warmup."""
    s = summarize("cosine(to=0)", total_steps=50)
    assert (s.peak_step, s.warmup_steps, s.effective_warmup) == (0, 1, 0.0)
    assert any("no warmup" in w for w in s.warnings)


@pytest.mark.parametrize("total", [2, 3, 10])
def test_no_warmup_is_never_called_a_long_warmup(total: int) -> None:
    """A constant has its peak at update 0: 'no warmup' only, even when 1 update is > 30 %."""
    s = summarize("constant", total_steps=total)
    assert (s.peak_step, s.warmup_steps) == (0, 1)
    assert s.warnings == ("no warmup: update 0 already uses the peak value",)


def test_noam_peak_and_effective_warmup() -> None:
    """noam(d_model=512, warmup=100): peak (512 * 100)**-0.5 at step 99; w_t = (t + 1) / 100."""
    s = summarize("noam(d_model=512, warmup=100)", total_steps=1000)
    assert s.peak_step == 99
    assert s.peak_value == pytest.approx((512 * 100) ** -0.5)
    assert s.effective_warmup == pytest.approx(sum(1 - (t + 1) / 100 for t in range(100)))
    assert s.last_value == pytest.approx(512**-0.5 * 1000**-0.5)


def test_peak_scales_the_values_not_the_lengths() -> None:
    """peak=1e-3 multiplies every value; steps and the effective warmup are unchanged."""
    s = summarize("linear(4) >> cosine", total_steps=8, peak=1e-3)
    assert s.step_0 == pytest.approx(0.25e-3)
    assert s.peak_value == pytest.approx(1e-3)
    assert s.boundaries[0].value == pytest.approx(1e-3)
    assert s.peak_step == 3
    assert s.effective_warmup == pytest.approx(1.5)


def test_epoch_lengths_use_steps_per_epoch() -> None:
    """linear(2ep) with 50 steps per epoch is a 100-step warmup: boundary at step 100."""
    s = summarize("linear(2ep) >> cosine", total_steps=1000, steps_per_epoch=50)
    assert s.boundaries[0].step == 100
    assert s.peak_step == 99
    assert s.step_0 == pytest.approx(1 / 100)


def test_summarize_takes_a_schedule_object_and_rebinds_it() -> None:
    """A Schedule (even one bound to another run) is summarized over the run asked for."""
    bound = rampup.parse("linear(10%) >> cosine").bind(total_steps=50)
    s = summarize(bound, total_steps=1000)
    assert s.spec == "linear(10%) >> cosine"
    assert s.boundaries[0].step == 100


def test_one_step_run() -> None:
    """A run of one update has no step 1 and no boundary inside it."""
    s = summarize("linear(1)", total_steps=1)
    assert (s.step_0, s.step_1, s.peak_step, s.boundaries) == (1.0, None, 0, ())


def test_long_runs_are_scanned_in_chunks_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanning in chunks of 7 steps gives the same table as one pass (chunk edges are exact)."""
    spec = "linear(10, start=0.0, endpoint=false) >> constant(23) >> cosine(to=0, endpoint=true)"
    whole = summarize(spec, total_steps=100)
    monkeypatch.setattr(summary, "_CHUNK", 7)
    chunked = summarize(spec, total_steps=100)
    assert chunked.peak_step == whole.peak_step == 10
    assert chunked.effective_warmup == pytest.approx(whole.effective_warmup)
    assert (chunked.zero_steps, chunked.first_zero_step) == (2, 0)  # step 0 and step 99


def test_summary_to_dict_has_a_stable_schema() -> None:
    """to_dict() has exactly the documented keys and dumps to strict JSON."""
    data = summarize("linear(4) >> cosine", total_steps=8).to_dict()
    assert set(data) == {
        "spec", "total_steps", "steps_per_epoch", "peak", "step_0", "step_1", "peak_step",
        "peak_value", "boundaries", "last_step", "last_value", "after_run", "warmup_steps",
        "effective_warmup", "zero_steps", "first_zero_step", "warnings",
    }  # fmt: skip
    assert data["boundaries"] == [{"step": 4, "before": 1.0, "value": 1.0}]
    assert json.loads(json.dumps(data, allow_nan=False)) == data


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 400))
def test_linear_warmup_summary_invariants(warmup: int, extra: int) -> None:
    """linear(W) >> cosine: step 0 is 1/W, peak at W - 1, boundary at W, effective (W - 1)/2."""
    total = warmup + extra
    s = summarize(rampup.linear(warmup) >> rampup.cosine(), total_steps=total)
    assert s.step_0 == pytest.approx(1 / warmup)
    assert s.peak_step == warmup - 1
    assert s.boundaries[0].step == warmup
    assert s.effective_warmup == pytest.approx((warmup - 1) / 2, abs=1e-9)
    assert s.zero_steps == 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"total_steps": 0}, "total_steps"),
        ({"total_steps": 2.5}, "total_steps"),
        ({"total_steps": True}, "total_steps"),
        ({"total_steps": 10, "steps_per_epoch": 0}, "steps_per_epoch"),
        ({"total_steps": 10, "steps_per_epoch": math.nan}, "steps_per_epoch"),
        ({"total_steps": 10, "peak": -1.0}, "peak"),
        ({"total_steps": 10, "peak": "big"}, "peak"),
    ],
)
def test_summarize_rejects_bad_arguments(kwargs: dict[str, object], param: str) -> None:
    """Each bad argument is a RampupError naming summarize(), the parameter and the value."""
    with pytest.raises(rampup.RampupError, match=rf"^summarize\(\): {param}=.* expected"):
        summarize("linear(5)", **kwargs)  # type: ignore[arg-type]  # bad on purpose


def test_summarize_rejects_a_non_schedule() -> None:
    """An object that is neither a Schedule nor a spec string is named in the error."""
    with pytest.raises(rampup.RampupError, match=r"^summarize\(\): schedule=42 is invalid"):
        summarize(42, total_steps=10)  # type: ignore[arg-type]  # bad on purpose


def test_summarize_passes_spec_errors_with_their_column() -> None:
    """A bad spec string raises the parser's SpecError, column included."""
    with pytest.raises(SpecError) as info:
        summarize("linear(5%) >> cosin", total_steps=10)
    assert info.value.column == 15


def test_summarize_reports_a_run_shorter_than_the_warmup() -> None:
    """A warmup longer than the run is the core's binding error, not a silent clip."""
    with pytest.raises(rampup.RampupError, match=r"total_steps=10"):
        summarize("linear(20) >> cosine", total_steps=10)

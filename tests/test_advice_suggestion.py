"""rampup.advice.suggestion: the warmup advice (suggest, Suggestion).

Every expected number is derived by hand in the test from the rule it checks (the formulas of
docs/conventions.md, the classic recipes' table, 2 / (1 - beta2), the linear scaling rule), never
read back from the code under test.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rampup
from rampup.advice import suggestion
from rampup.advice.suggestion import Suggestion, suggest
from rampup.advice.summary import summarize


# -- suggest --------------------------------------------------------------------------------------
def _cites(reason: str) -> bool:
    return any(src in reason for src in ("classic recipes", "et al.", "Ma & Yarats", "Loshchilov"))


def test_adamw_small_transformer_takes_the_untuned_length() -> None:
    """T=100k, AdamW, small Transformer: untuned 2/(1-0.999)=2000 lies in the table's 1-2k."""
    s = suggest(100_000, 256, optimizer="adamw", model="transformer")
    assert s.guideline_steps == (5000, 10000)  # 5 % and 10 % of 100 000
    assert s.table_steps == (1000, 2000)
    assert s.untuned_steps == 2000
    assert s.warmup_steps == 2000
    assert s.spec == "linear(2000) >> cosine"
    assert (s.start, s.peak_lr, s.batch_scale) == (None, None, 1.0)
    assert any("do not overlap" in c for c in s.cautions)  # table 1-2k vs guideline 5-10k


def test_untuned_length_outside_the_guideline_moves_to_its_nearest_end() -> None:
    """beta2=0.99: round(2/0.01)=200 is below 5 % of 10 000 = 500, so 500 with a caution."""
    s = suggest(10_000, 32, optimizer="adam", beta2=0.99)
    assert s.untuned_steps == 200
    assert s.guideline_steps == (500, 1000)
    assert s.table_steps is None
    assert s.spec == "linear(500) >> cosine"
    assert any("outside" in c and "200" in c for c in s.cautions)


def test_untuned_length_inside_the_guideline_is_used_as_is() -> None:
    """beta2=0.9995: round(2/0.0005)=4000 lies within 2500-5000 (5-10 % of 50 000): no caution."""
    s = suggest(50_000, 256, optimizer="adamw", beta2=0.9995, model="mlp")
    assert s.untuned_steps == 4000
    assert s.guideline_steps == (2500, 5000)
    assert s.warmup_steps == 4000
    assert s.cautions == ()


@pytest.mark.parametrize(
    ("model", "size", "total", "table", "warmup"),
    [
        # AdamW's untuned 2000 steps moved into each row's range (the seeds' table)
        ("transformer", "small", 100_000, (1000, 2000), 2000),
        ("transformer", "large", 100_000, (4000, 10000), 4000),
        ("gpt-pretrain", "small", 100_000, (1000, 2000), 2000),
        ("bert-finetune", "small", 10_000, (600, 1000), 1000),  # 6-10 % of 10 000
        ("cnn", "large", 100_000, (2500, 5000), 2500),  # 5-10 epochs of 500 steps
        ("cnn", "small", 100_000, (0, 2500), 2000),  # 0-5 epochs of 500 steps
    ],
)
def test_each_row_of_the_seeds_table(
    model: str, size: str, total: int, table: tuple[int, int], warmup: int
) -> None:
    """Every row of the per-model table gives its range in steps; AdamW picks within it."""
    s = suggest(total, 256, model=model, size=size, steps_per_epoch=500)
    assert s.table_steps == table
    assert s.warmup_steps == warmup
    assert s.spec == f"linear({warmup}) >> cosine"


def test_sgd_large_batch_cnn_follows_goyal() -> None:
    """SGD, large CNN, batch 1024 = 4 x 256 at lr 0.1: peak 0.4, start 1/4, warmup capped."""
    # Table 5-10 epochs of 500 steps = 2500-5000; middle 3750; x 4 = 15000 > max(5000, 4500):
    # capped at 5000 steps (the table's upper end; the guideline's is 10 % of 45 000 = 4500).
    s = suggest(
        45_000, 1024, base_lr=0.1, optimizer="sgd", model="cnn", size="large", steps_per_epoch=500
    )
    assert s.table_steps == (2500, 5000)
    assert s.guideline_steps == (2250, 4500)
    assert s.untuned_steps is None
    assert s.batch_scale == 4.0
    assert s.peak_lr == pytest.approx(0.4)
    assert s.start == 0.25
    assert s.warmup_steps == 5000
    assert s.spec == "linear(5000, start=0.25) >> cosine"
    assert any("15000" in c and "caps it at 5000" in c for c in s.cautions)
    sched = s.schedule()
    assert sched(0) == 0.25  # the base-batch lr: 0.1 = 0.25 x 0.4
    assert sched(4999) == 1.0


def test_adam_large_batch_scales_the_warmup_and_cautions_about_sqrt_scaling() -> None:
    """AdamW, batch 1024 = 4 x 256, lr 1e-3: peak 4e-3, warmup 4 x 2000 = 8000 <= 10 % of 100k."""
    s = suggest(100_000, 1024, base_lr=1e-3, optimizer="adamw", model="transformer")
    assert s.peak_lr == pytest.approx(4e-3)
    assert s.warmup_steps == 8000
    assert s.start is None  # Adam's warmup still starts near 0
    assert s.spec == "linear(8000) >> cosine"
    sqrt_caution = next(c for c in s.cautions if "square-root" in c)
    assert "0.002" in sqrt_caution  # sqrt(4) x 1e-3
    # 8000 lies above the table's 1000-2000: the table and the batch scaling disagree
    (beyond,) = [c for c in s.cautions if "longer than the range" in c]
    assert "(8000 steps)" in beyond
    assert "(1000-2000 steps)" in beyond
    assert "(10000 steps)" in beyond  # max(2000, 10 % of 100 000)


def test_batch_scaled_warmup_within_the_range_has_no_range_caution() -> None:
    """AdamW, large Transformer (4-10k), batch 512 = 2 x 256: 2 x 4000 = 8000, inside 4-10k."""
    s = suggest(100_000, 512, base_lr=1e-3, optimizer="adamw", model="transformer", size="large")
    assert s.warmup_steps == 8000  # the untuned 2000 moved to the range's 4000, then x 2
    assert not any("longer than the range" in c for c in s.cautions)


def test_smaller_batch_scales_the_lr_down_and_keeps_the_warmup() -> None:
    """Batch 128 = 0.5 x 256 with SGD at lr 0.1: peak 0.05; the warmup stays the range's middle."""
    s = suggest(10_000, 128, base_lr=0.1, optimizer="sgd")
    assert s.peak_lr == pytest.approx(0.05)
    assert s.warmup_steps == 750  # middle of 500-1000 (5-10 % of 10 000)
    assert s.start is None


def test_missing_base_lr_is_a_caution_when_the_batch_changes() -> None:
    """Without base_lr no peak lr can be given; the advice says how to get one."""
    s = suggest(10_000, 512, optimizer="sgd")
    assert s.peak_lr is None
    assert any("base_lr" in c for c in s.cautions)


def test_cnn_without_steps_per_epoch_falls_back_to_the_guideline() -> None:
    """The CNN rows are in epochs: without steps_per_epoch the guideline's range is used."""
    s = suggest(1000, 256, optimizer="sgd", model="cnn")
    assert s.table_steps is None
    assert s.warmup_steps == 75  # middle of 50-100
    assert any("steps per epoch" in c for c in s.cautions)


def test_tiny_runs_keep_one_step_for_the_decay() -> None:
    """T=10 with a 1-2k-step table row: the warmup is cut to 9 steps and both limits cautioned."""
    s = suggest(10, 256, model="transformer")
    assert s.warmup_steps == 9
    assert any("does not fit" in c for c in s.cautions)
    assert any("90%" in c for c in s.cautions)
    assert suggest(2, 256).warmup_steps == 1


def test_every_reason_cites_its_source() -> None:
    """Each reason names where its rule comes from (the classic recipes or a paper)."""
    cases = [
        suggest(100_000, 4096, base_lr=0.1, optimizer="sgd", model="cnn", steps_per_epoch=300),
        suggest(100_000, 1024, base_lr=1e-3, model="transformer", size="large"),
        suggest(5000, 256, optimizer="adam", beta2=0.98, model="mlp"),
    ]
    for s in cases:
        assert s.reasons
        for reason in s.reasons:
            assert _cites(reason), reason


def test_suggestion_to_dict_has_a_stable_schema() -> None:
    """to_dict() has exactly the documented keys, lists for tuples, and dumps to strict JSON."""
    data = suggest(100_000, 256, model="transformer").to_dict()
    assert set(data) == {
        "spec", "warmup_steps", "start", "peak_lr", "batch_scale", "guideline_steps",
        "table_steps", "table_row", "untuned_steps", "total_steps", "batch_size",
        "base_batch_size", "base_lr", "optimizer", "beta2", "model", "size", "steps_per_epoch",
        "reasons", "cautions",
    }  # fmt: skip
    assert data["guideline_steps"] == [5000, 10000]
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_suggest_is_exported_lazily() -> None:
    """rampup.suggest and rampup.Suggestion are the advice package's objects."""
    assert rampup.suggest is suggest
    assert rampup.Suggestion is Suggestion


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(2, 2_000_000),
    batch=st.integers(1, 65536),
    optimizer=st.sampled_from(suggestion.OPTIMIZERS),
    model=st.sampled_from(suggestion.MODELS),
    size=st.sampled_from(suggestion.SIZES),
    spe=st.one_of(st.none(), st.floats(1, 5000)),
)
def test_suggestion_invariants(
    total: int, batch: int, optimizer: str, model: str, size: str, spe: float | None
) -> None:
    """Any run: 1 <= W <= T - 1, the spec binds, and its peak is used by update W - 1."""
    s = suggest(
        total, batch, base_lr=0.1, optimizer=optimizer, model=model, size=size, steps_per_epoch=spe
    )
    assert 1 <= s.warmup_steps <= total - 1
    assert s.peak_lr == pytest.approx(0.1 * batch / 256)
    sched = s.schedule()
    assert sched(s.warmup_steps - 1) == 1.0
    assert sched(0) > 0


@pytest.mark.parametrize(
    ("args", "kwargs", "param"),
    [
        ((1, 256), {}, "total_steps"),
        ((10.0, 256), {}, "total_steps"),
        ((100, 0), {}, "batch_size"),
        ((100, True), {}, "batch_size"),
        ((100, 32), {"base_batch_size": -1}, "base_batch_size"),
        ((100, 32), {"base_lr": 0.0}, "base_lr"),
        ((100, 32), {"base_lr": math.inf}, "base_lr"),
        ((100, 32), {"optimizer": "lion"}, "optimizer"),
        ((100, 32), {"model": "rnn"}, "model"),
        ((100, 32), {"size": "huge"}, "size"),
        ((100, 32), {"beta2": 1.0}, "beta2"),
        ((100, 32), {"beta2": "0.9"}, "beta2"),
        ((100, 32), {"optimizer": "sgd", "beta2": 0.99}, "beta2"),
        ((100, 32), {"steps_per_epoch": -3}, "steps_per_epoch"),
    ],
)
def test_suggest_rejects_bad_arguments(
    args: tuple[object, ...], kwargs: dict[str, object], param: str
) -> None:
    """Each bad argument is a RampupError naming suggest(), the parameter and what was expected."""
    with pytest.raises(rampup.RampupError, match=rf"^suggest\(\): {param}=.* expected"):
        suggest(*args, **kwargs)  # type: ignore[arg-type]  # bad on purpose


@pytest.mark.parametrize(
    ("spec", "jump"),
    [
        # constant defaults to the peak: the 0.9 the ramp reached is not held
        ("linear(20, start=0.5, to=0.9) >> constant", "jump at step 20: from 0.9 to 1;"),
        # the seeds' constant warmup: 0.1 for 10 updates, then the peak (intended, still said)
        ("constant(10, 0.1) >> constant", "jump at step 10: from 0.1 to 1;"),
        ("linear(10) >> cosine", None),  # continuous: the peak on both sides of the boundary
        ("linear(20, to=0.9) >> constant(value=0.9)", None),  # held as asked
    ],
)
def test_show_warns_of_a_rise_at_a_phase_boundary(spec: str, jump: str | None) -> None:
    """A rise of more than 5 % of the peak at a boundary is a warning naming step and values."""
    warnings = summarize(spec, total_steps=100).warnings
    found = [w for w in warnings if w.startswith("jump")]
    if jump is None:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].startswith(jump)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total_steps": 100_000, "batch_size": 4096, "base_lr": 0.1, "optimizer": "sgd",
         "model": "cnn", "size": "large"},
        {"total_steps": 100_000, "batch_size": 1024, "base_lr": 1e-3, "model": "transformer"},
        {"total_steps": 5000, "batch_size": 64, "optimizer": "adam", "model": "cnn"},
        {"total_steps": 2000, "batch_size": 256, "model": "bert-finetune"},
    ],
)  # fmt: skip
def test_advice_texts_name_their_sources_in_words_a_user_knows(kwargs: dict[str, Any]) -> None:
    """No reason or caution says "the seeds" (an in-house term) or cites an issue number."""
    s = suggest(**kwargs)
    summary = summarize(s.spec, kwargs["total_steps"])
    for text in (*s.reasons, *s.cautions, *summary.warnings):
        assert "seed" not in text.lower(), text
        assert "issue #" not in text.lower(), text


def test_show_says_a_warmup_times_a_lengthless_decay_decays_from_step_0() -> None:
    """linear(5%) * cosine: the values are min(1, (t+1)/50) * cos decay from 0; a note says >>."""
    s = summarize("linear(5%) * cosine", total_steps=1000)
    assert s.step_0 == pytest.approx(0.02 * 1.0)  # (0+1)/50 * (1+cos 0)/2
    assert s.last_value == pytest.approx(0.5 * (1 + math.cos(math.pi * 999 / 1000)))
    (note,) = [w for w in s.warnings if w.startswith("product:")]
    assert "cosine decays from step 0" in note
    assert note.endswith("write linear(5%) >> cosine")
    # a warmup factor onto a whole schedule, and a phased schedule, get no such note
    for spec in ("untuned(0.98) * (linear(5%) >> cosine)", "linear(5%) >> cosine"):
        assert not [w for w in summarize(spec, total_steps=1000).warnings if "product" in w]

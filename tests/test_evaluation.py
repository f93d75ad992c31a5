"""ALOE metric arithmetic on hand-made score tables, and the judge score readers."""

import math

import numpy as np
import pytest

from aloe.evaluation.metrics import aloe_metrics, turn_rows
from aloe.evaluation.scoring import expected_score, parse_score, read_score


def test_al_ir_and_r2_on_a_hand_made_table():
    scores = np.array([[1, 2, 3], [3, 4, 5]], dtype=float)
    m = aloe_metrics(scores, bootstrap=0)
    assert m["AL"] == [2.0, 3.0, 4.0]
    assert m["AL_mean"] == 3.0
    assert m["IR"] == pytest.approx(1.0) and m["R2"] == pytest.approx(1.0)
    assert m["N_IR"] == pytest.approx(0.5) and m["N_R2"] == pytest.approx(1.0)
    assert m["n_examples"] == 2 and m["turns"] == 3 and m["judge_missing"] == 0


def test_missing_scores_are_excluded_and_counted():
    scores = np.array([[2, np.nan, 4, 4], [4, 3, np.nan, 2]])
    m = aloe_metrics(scores, bootstrap=0)
    assert m["AL"] == [3.0, 3.0, 4.0, 3.0]
    assert m["judge_missing"] == 2
    # OLS slope of (3, 3, 4, 3) on (1, 2, 3, 4): sum((x-2.5)(y-3.25)) / sum((x-2.5)^2) = 0.5 / 5
    assert m["IR"] == pytest.approx(0.1)
    x = np.arange(1, 5)
    fit = 0.1 * x + (3.25 - 0.1 * 2.5)
    r2 = 1 - ((np.array([3, 3, 4, 3]) - fit) ** 2).sum() / ((np.array([3, 3, 4, 3]) - 3.25) ** 2).sum()
    assert m["R2"] == pytest.approx(r2, abs=1e-4)


def test_ir_is_the_least_squares_slope_of_al():
    rng = np.random.default_rng(1)
    scores = rng.integers(1, 6, size=(40, 10)).astype(float)
    m = aloe_metrics(scores, bootstrap=0)
    assert m["IR"] == pytest.approx(np.polyfit(np.arange(1, 11), m["AL"], 1)[0], abs=1e-5)
    assert all(1 <= a <= 5 for a in m["AL"])


def test_flat_curve_normalises_to_zero_slope():
    m = aloe_metrics(np.full((3, 4), 3.0), bootstrap=10)
    assert m["IR"] == pytest.approx(0.0, abs=1e-9) and m["N_IR"] == 0.0 and m["R2"] == 0.0


def test_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    scores = np.clip(np.arange(1, 6)[None, :] * 0.5 + rng.normal(0, 1, (50, 5)) + 1, 1, 5)
    m = aloe_metrics(scores, bootstrap=500, seed=3)
    lo, hi = m["AL_mean_ci95"]
    assert lo < m["AL_mean"] < hi
    assert m["IR_ci95"][0] < m["IR"] < m["IR_ci95"][1]
    assert m == aloe_metrics(scores, bootstrap=500, seed=3)  # seeded: reproducible


def test_turn_rows_for_plots():
    rows = turn_rows({"AL": [2.0, 4.0, 3.0]}, "sft")
    assert rows == [{"turn": 1, "AL": 2.0, "N_AL": 0.0, "variant": "sft"},
                    {"turn": 2, "AL": 4.0, "N_AL": 1.0, "variant": "sft"},
                    {"turn": 3, "AL": 3.0, "N_AL": 0.5, "variant": "sft"}]


def test_expected_score_from_logprobs():
    lp = {"4": math.log(0.5), " 5": math.log(0.25), "3": math.log(0.25), "The": math.log(0.1)}
    assert expected_score(lp) == pytest.approx(4.0)
    assert expected_score({"The": -0.01}) is None
    assert read_score("I'd say 2", {"The": -0.01}) == (2.0, "text")
    assert read_score("great reply", None) == (None, "missing")
    assert parse_score("Score: 4/5") == 4.0 and parse_score("10 out of 10") is None


def test_judge_expected_score_on_the_real_model(base_model_dir):
    """The local backend's first-token log-probabilities give a usable expected score."""
    from aloe.llm.base import ChatRequest
    from aloe.llm.local import TransformersBackend
    from aloe.params import TransformersBackendParams
    from aloe.prompts import render

    backend = TransformersBackend(TransformersBackendParams(type="transformers", model=str(base_model_dir)))
    prompt = render("judge_score", profile="I am a 30-year-old baker in Lyon.", personality="Warm, chatty.",
                    message="Long day at the bakery!", reply="Oh no, sourdough drama again? Put your feet up!")
    [res] = backend.generate([ChatRequest.from_messages([{"role": "user", "content": prompt}], max_tokens=2,
                                                        temperature=0.0, top_logprobs=20)])
    score, method = read_score(res.text, res.first_token_logprobs)
    assert method == "logprobs" and 1.0 <= score <= 5.0

"""Reading judges: verdicts and scores as judges write them (a table of real outputs),
probabilities read at the token where the answer was written, and the label rule."""

import json
from pathlib import Path

import pytest

from aloe.judging.labels import decide
from aloe.llm.base import ChatResult
from aloe.roles.scores import parse_score, read_score
from aloe.roles.slots import REASONS, answer_text
from aloe.roles.tokens import position_of
from aloe.roles.verdicts import OrderReading, parse_verdict, read_verdict, read_verdict_exact
from scripted import tokens_result

OUTPUTS = [json.loads(line) for line in (Path(__file__).parent / "data/judge_outputs.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("row", OUTPUTS, ids=lambda r: f"{r['kind']}:{r.get('prefill', '')}{r['text'][:30]}")
def test_judge_outputs_read_as_judges_write_them(row):
    """Each answer reads as expected, from the slot or as a whole; an unread one says why."""
    parse = parse_score if row["kind"] == "score" else parse_verdict
    value, _, reason = parse(answer_text(row["text"], row.get("prefill", "")))
    assert (value, reason) == (row["expected"], row.get("reason")), row


def test_the_table_covers_real_outputs_of_more_than_one_judge_and_every_reason():
    assert len({r["source"] for r in OUTPUTS}) >= 3
    assert {r["reason"] for r in OUTPUTS if "reason" in r} == set(REASONS) - {"cut", "error", "format"}
    for kind in ("score", "verdict"):  # both readers: lists, prefilled slots and whole answers
        rows = [r for r in OUTPUTS if r["kind"] == kind]
        assert any(r.get("reason") == "list" for r in rows) and any("prefill" in r for r in rows)


def test_score_is_read_at_the_digit_not_the_first_token():
    """'Score: 4' with probabilities only where the digit is written: expected value there."""
    result = tokens_result(
        ["Score", ":", " 4"], {0: {"Score": 0.6, "1": 0.3, "2": 0.1}, 2: {" 4": 0.5, "4": 0.2, " 5": 0.3}}
    )
    score, method, _ = read_score(result, min_mass=0.5)
    assert method == "logprobs" and score == pytest.approx(4 * 0.7 + 5 * 0.3)  # " 4" and "4" summed


def test_a_prefilled_answer_is_read_after_its_prefill():
    """The judge completed "Score:" with " 1. The reply ignores her": a labelled score of 1,
    its probabilities read at the digit's token of the continuation."""
    result = tokens_result([" ", "1", ".", " The", " reply"], {1: {"1": 0.6, "2": 0.4}})
    assert read_score(result, min_mass=0.5) == (None, "missing", "list")  # alone, a list opening
    score, method, _ = read_score(result, min_mass=0.5, prefill="Score:")
    assert method == "logprobs" and score == pytest.approx(1 * 0.6 + 2 * 0.4)


def test_a_one_cut_off_by_the_token_limit_is_missing():
    assert read_score(ChatResult(text="1.", finish_reason="length"), 0.5) == (None, "missing", "cut")
    assert read_score(ChatResult(text="1.", finish_reason="stop"), 0.5) == (1.0, "text", None)
    assert read_score(ChatResult(text="4.", finish_reason="length"), 0.5) == (4.0, "text", None)


def test_score_falls_back_to_text_when_digits_hold_too_little_mass():
    result = tokens_result(["4"], {0: {"4": 0.3, "The": 0.7}})
    assert read_score(result, min_mass=0.5) == (4.0, "text", None)
    assert read_score(ChatResult(text="great reply"), 0.5) == (None, "missing", "none")


def test_position_of_maps_characters_to_generated_tokens():
    result = tokens_result([" Response", " 1", "."])
    assert result.text == "Response 1."
    assert position_of(result, result.text.index("1")) == 1
    assert position_of(ChatResult(text="Response 1."), 9) is None  # no log-probabilities
    mismatch = ChatResult(text="other text", logprobs=result.logprobs)
    assert position_of(mismatch, 0) is None  # tokens do not spell the text: do not guess


def test_verdict_probabilities_at_the_verdict_token_win_over_a_sampled_text():
    result = tokens_result(["Message", " 2"], {1: {" 2": 0.3, " 1": 0.6, "1": 0.1}})
    reading = read_verdict(result, min_mass=0.5)
    assert reading.verdict == "first" and reading.p_first == pytest.approx(0.7)
    assert reading.text_verdict == "second" and reading.conflict and reading.method == "logprobs"


def test_verdict_mass_below_the_minimum_leaves_the_text_to_decide():
    result = tokens_result(["first"], {0: {"first": 0.2, "The": 0.8}})
    reading = read_verdict(result, min_mass=0.5)
    assert (reading.verdict, reading.p_first, reading.method) == ("first", None, "text")
    assert read_verdict(ChatResult(text="hmm"), 0.5).method == "missing"


def test_exactly_even_verdict_probabilities_stay_even():
    """P(first) = 0.5 at the verdict token is no preference: read 1 from the text's "first", it
    made the clean rule judge look position-biased (shift 0.09 on the README's card)."""
    reading = read_verdict(tokens_result(["first"], {0: {"first": 0.5, "second": 0.5}}), min_mass=0.5)
    assert (reading.verdict, reading.p_first, reading.method) == ("first", 0.5, "logprobs")
    assert not reading.conflict


def order(p_first=None, verdict=None) -> OrderReading:
    verdict = verdict or ("first" if p_first > 0.5 else "second")
    return OrderReading(verdict, p_first, "logprobs" if p_first is not None else "text", verdict)


@pytest.mark.parametrize("policy", ["average", "tie", "hinted"])
def test_agreeing_orders_label_under_every_policy(policy):
    label = decide(order(0.8), order(0.3), policy, 0.1)  # subject first: first; subject second: second
    assert label.subject_won is True and label.source == "agree" and label.margin == pytest.approx(0.25)


def test_pure_position_bias_is_a_tie_under_average():
    label = decide(order(0.9), order(0.9), "average", 0.1)
    assert label.subject_won is None and label.p_subject == pytest.approx(0.5)
    assert label.tie_reason == "within_margin"


def test_disagreement_beyond_the_margin_is_labelled_by_the_average():
    label = decide(order(0.9), order(0.6), "average", 0.1)  # (0.9 + 0.4) / 2 = 0.65
    assert label.subject_won is True and label.source == "average" and label.margin == pytest.approx(0.15)
    assert decide(order(0.6), order(0.9), "average", 0.1).subject_won is False  # (0.6 + 0.1) / 2 = 0.35


def test_disagreement_within_the_margin_is_a_tie():
    label = decide(order(0.85), order(0.7), "average", 0.1)  # 0.575
    assert label.subject_won is None and label.margin == pytest.approx(0.075)


def test_tie_and_hinted_policies_on_disagreement():
    assert decide(order(0.9), order(0.6), "tie", 0.1).tie_reason == "disagree"
    hinted = decide(order(0.9), order(0.9), "hinted", 0.1)
    assert hinted.subject_won is True and hinted.source == "hinted"


def test_text_only_orders_that_disagree_are_a_tie_and_a_missing_order_is_a_tie():
    text_first = order(verdict="first")
    assert decide(text_first, text_first, "average", 0.1).subject_won is None
    assert decide(text_first, order(verdict="second"), "average", 0.1).subject_won is True
    missing = OrderReading(None, None, "missing", None)
    assert decide(missing, order(0.1), "average", 0.1).tie_reason == "missing"


def test_a_refused_answer_is_not_brought_back_by_its_probabilities():
    """'10' is not a 1-5 score even if the first token is a likely '1'; 'first or second' names both."""
    assert read_score(tokens_result(["1", "0"], {0: {"1": 0.9, "2": 0.1}}), 0.5) == (None, "missing", "off_scale")
    both = tokens_result(["first", " or", " second"], {0: {"first": 0.9, "second": 0.1}})
    assert (read_verdict(both, 0.5).method, read_verdict(both, 0.5).reason) == ("missing", "ambiguous")


def test_a_prefilled_verdict_is_read_in_its_slot_at_its_token():
    """The judge completed "Verdict:" with " Message 1: My name is...": the slot names message 1,
    and its probabilities are read at the digit's token of the continuation. Unprefilled, the
    same words are no verdict."""
    result = tokens_result([" Message", " 1", ":", " My", " name"], {1: {" 1": 0.7, " 2": 0.3}})
    reading = read_verdict(result, 0.5, prefill="Verdict:")
    assert (reading.verdict, reading.method, reading.p_first) == ("first", "logprobs", pytest.approx(0.7))
    assert (read_verdict(result, 0.5).verdict, read_verdict(result, 0.5).reason) == (None, "unslotted")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("first", "first"), (" first\n", "first"), ("First", "second"), ("Message 1", "second"), ("**first**", "second")],
)
def test_the_released_verdict_read_is_exactly_first_or_else_second(text, verdict):
    reading = read_verdict_exact(ChatResult(text=text))
    assert reading.verdict == verdict and reading.method == "exact" and reading.p_first is None
    assert reading.text_verdict == "first"  # our reader's word, kept to count the artifact
    assert read_verdict_exact(ChatResult(text="", error="timeout")).verdict is None  # a failed call: missing

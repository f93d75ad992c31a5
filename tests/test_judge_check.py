"""The judge check on planted pairs (matched vs mismatched reply), through the real OpenAI
backend against scripted judges on the loopback server."""

import numpy as np
import pytest

from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.planted import PlantedPair
from aloe.judge_check.report import judge_metrics
from aloe.judge_check.selection import contrasts, neighbours
from aloe.params import Params
from aloe.personas.rows import Persona
from scripted import always_first, marker, persona_rules, prefers_persona, tokens_result

NAMES = [
    "Astrid from Oslo",
    "Bram from Ghent",
    "Chiara from Turin",
    "Dev from Pune",
    "Emeka from Lagos",
    "Fumiko from Sendai",
]
PERSONAS = [
    Persona(f"p{i}", f"prof-{i // 2}", f"{n} keeps bees and sails.", "calm", "Calm.") for i, n in enumerate(NAMES)
]
CONTRAST = [(i + 3) % len(PERSONAS) for i in range(len(PERSONAS))]
SIMILAR = [(i + 2) % len(PERSONAS) for i in range(len(PERSONAS))]  # another profile, not the contrast


def params(**pairwise) -> Params:
    return Params.model_validate(
        {"judge": {"pairwise": {"disagreement": "hinted", **pairwise}}, "judge_check": {"pairs": 6, "bootstrap": 200}}
    )


def scores_by_persona(req):
    text = req.messages[-1][1]
    profile = text.split("Profile: ", 1)[1].split("\n", 1)[0]
    reply = text.split("Chatbot's reply: ", 1)[1].split("\n", 1)[0]
    return tokens_result(["Score", ":", " 5" if marker(profile) in reply else " 2"])


def test_a_position_biased_judge_is_at_chance_and_labels_nothing(scripted_llm):
    """Must-show (a): 'first' with P 0.9 in every order: accuracy 0.5, position bias 1."""
    llm, _ = scripted_llm(persona_rules(judge=always_first))
    p = params()
    metrics = judge_metrics(planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p), p, "scripted")
    assert metrics["n"] == 6 and metrics["label_rate"] == 0.0
    assert metrics["accuracy"] == 0.5 and metrics["position_bias"] == 1.0 and metrics["consistency"] == 0.0
    assert metrics["above_chance"] is False  # whatever judge.pairwise.disagreement says (hinted here)


def test_a_judge_that_prefers_the_matched_reply_is_perfect(scripted_llm):
    """Must-show (b): every planted pair labelled for the reply written for the persona."""
    llm, _ = scripted_llm(persona_rules(judge=prefers_persona, score=scores_by_persona))
    p = params()
    records = planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p)
    metrics = judge_metrics(records, p, "scripted")
    assert metrics["accuracy"] == 1.0 and metrics["accuracy_ci95"] == [1.0, 1.0] and metrics["above_chance"]
    assert metrics["label_rate"] == 1.0 and metrics["position_bias"] == 0.5 and metrics["consistency"] == 1.0
    assert [PlantedPair.from_json(r.to_json()) for r in records] == records  # the file round-trips
    for r in records:
        assert marker(r.profile) in r.reply("matched") and marker(r.profile) not in r.reply("mismatched")
    assert metrics["score_gap"] == pytest.approx(3.0) and metrics["scoring"]["methods"] == {"logprobs": 42}
    assert metrics["scoring"]["persona_flip_gap"]["value"] == pytest.approx(3.0)  # told the contrast: low
    assert metrics["scoring"]["prefers_longer"]["value"] == 0.5  # padding adds no persona: ties
    assert metrics["scoring"]["brier"]["value"] < 0.1 and metrics["scoring"]["concerns"] == []
    assert metrics["clusters"] == 3


def test_accuracy_counts_ties_as_half_and_mistakes_as_zero(scripted_llm):
    def contrary(req, profile, first, second):  # prefers the wrong reply for half the personas
        wrong = any(n in profile for n in NAMES[:3])
        return prefers_persona(req, profile, second, first) if wrong else prefers_persona(req, profile, first, second)

    llm, _ = scripted_llm(persona_rules(judge=contrary))
    p = params()
    metrics = judge_metrics(planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p), p, "scripted")
    assert metrics["accuracy"] == 0.5 and metrics["label_rate"] == 1.0
    lo, hi = metrics["accuracy_ci95"]
    assert lo < 0.5 < hi and not metrics["above_chance"]


def test_contrast_is_the_least_similar_other_persona():
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.0]])
    assert contrasts(vectors) == [2, 2, 0]


def test_the_hard_pair_is_the_most_similar_persona_with_another_profile():
    vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.8, 0.6], [-1.0, 0.0]])
    far = contrasts(vectors)
    assert neighbours(vectors, ["a", "a", "b", "c"], far) == [2, 2, 1, 2]  # 0 and 1 share a profile
    assert neighbours(vectors[:2], ["a", "a"], [1, 0]) == [1, 0]  # no other profile: the most similar other
    line = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # 0's only other profile is its contrast, 2
    assert contrasts(line)[0] == 2 and neighbours(line, ["a", "a", "b"], contrasts(line))[0] == 1


def test_the_check_reads_verdicts_as_the_trees_do(scripted_llm):
    """judge.pairwise.read: exact_first: a judge that writes "First" for the persona's reply is read
    as preferring the other one in that order, as the trees would read it; the card shows it."""

    def capital_first(req, profile, first, second):
        return tokens_result(["First" if marker(profile) in first else "second"])

    llm, _ = scripted_llm(persona_rules(judge=capital_first))
    for read, accuracy in (("parsed", 1.0), ("exact_first", 0.5)):
        p = params(read=read)
        assert judge_metrics(planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p), p, "scripted")["accuracy"] == accuracy

"""A reduced known-answer experiment (bench/known_answer.py): a rule judge on the loopback
server labels real trees of the embedded model; every label is the rule's preference
and every DPO pair's chosen reply carries the rule's preferred feature."""

import pytest

from conftest import private_cache
from e2e import REPO  # noqa: F401  (puts bench/ on the path)
from known_answer import run
from rule_judge import RuleJudge, persona_words

# both directions run on one worker (conftest.WORKER_GROUPS), sharing one response cache: the
# reversed run replays every call of the planted run but the judge's instead of paying again
pytestmark = pytest.mark.slow

# six one-turn trees: the reversed run replays every call but the judge's from the shared
# cache (with two turns its second turns differ, since the judge picks the branch)
SETTINGS = {
    "trees": 6,
    "turns": 1,
    "eval_examples": 2,
    "sft_steps": 1,
    "dpo_epochs": 1,
    "lr": 5e-4,
    "beta": 0.1,
    "lora_r": 16,
    "params": {
        # the seeds as the persona pool (no generation round) and half the bench's planted pairs:
        # the test is about labels
        "personas": {"generate": {"max_rounds": 0}, "split": {"eval_profiles": 3, "eval_personalities": 2}},
        "judge_check": {"pairs": 4},
    },
}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """A response cache of this module's own (not the user's), with the session's model cache."""
    return private_cache(tmp_path_factory.mktemp("known_answer") / "cache")


@pytest.mark.parametrize("reverse", [False, True], ids=["planted", "reversed"])
def test_labels_follow_the_rule_through_trees_and_pairs(tmp_path, reverse, shared_cache, monkeypatch):
    monkeypatch.setenv("ALOE_CACHE_DIR", str(shared_cache))
    result = run("reversed" if reverse else "planted", reverse, tmp_path, SETTINGS, stop_after="pairs")
    labels, pairs = result["labels"], result["pairs"]
    assert labels["labelled"] >= 3 and labels["label_accuracy"] >= 0.95, labels
    assert pairs["dpo_pairs"] > 0 and pairs["chosen_carries_the_preferred_feature"] == pairs["dpo_pairs"], pairs
    # the judge check asks "is the reply written for this persona preferred?": the planted rule
    # says yes more often than chance, the reversed rule (fewer persona words) less often
    accuracy = result["judge_check"]["accuracy"]
    assert accuracy < 0.5 if reverse else accuracy > 0.5, result["judge_check"]


def test_the_rule_judge_answers_our_prompts_like_an_endpoint():
    from aloe.params import JudgeParams
    from aloe.roles.pairwise_judge import PairAsk, PairwiseJudge
    from aloe.roles.score_judge import ScoreAsk, ScoreJudge

    pairwise, scoring = PairwiseJudge(JudgeParams(), False), ScoreJudge(JudgeParams(), continues_prefill=False)
    judge = RuleJudge()
    profile = "I grow tomatoes in Leeds."
    pair = pairwise.messages(PairAsk(profile, "Calm.", "How are the tomatoes?", "Nice weather.", ()))[0]["content"]
    result = judge.answer(pair)
    assert result.text == "first" and result.logprobs[0]["top"][0][0] == "first"
    assert RuleJudge(reverse_pairs=True).answer(pair).text == "second"
    reply = "Tomatoes?\n\nAnd in Leeds! Lovely."  # a reply of two paragraphs is read whole
    assert judge.answer(scoring.messages(ScoreAsk(profile, "Calm.", "Hi", reply, ()))[0]["content"]).text == "5"
    assert persona_words(reply, profile, "") == 2

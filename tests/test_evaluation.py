"""ALOE metrics on tables with known answers, the fair sample, paired comparisons, and the
benchmark loop against a scripted simulator, model and judge on the loopback server."""

import json
from dataclasses import replace

import numpy as np
import pytest

from aloe.evaluation.benchmark import run_benchmark
from aloe.evaluation.examples import stratified_sample
from aloe.evaluation.metrics import aloe_metrics, compare, ols, turn_rows
from aloe.evaluation.records import DialogueRecord, dialogue_record, paired_tables, score_table
from aloe.llm.base import ChatResult
from aloe.params import EvalParams, JudgeParams, ScoreJudgeParams
from aloe.personas.rows import Persona
from aloe.roles.scores import read_score_int
from scripted import persona_rules, role_of, tokens_result


def table(rows) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(rows, dtype=float)
    return scores, np.ones_like(scores, dtype=bool)


def test_known_slope_r2_and_normalised_slope():
    # AL = (2, 4, 3): slope sum((x-2)(y-3)) / sum((x-2)^2) = 2/2 ... = 0.5; fit 2.5, 3, 3.5;
    # residuals -0.5, 1, -0.5 -> SSR 1.5, SST 2 -> R2 0.25; normalised AL (0, 1, 0.5) -> slope 0.25
    scores, asked = table([[1, 3, 2], [3, 5, 4]])
    m = aloe_metrics(scores, asked, ["a", "b"], bootstrap_n=0)
    assert m["AL"] == [2.0, 4.0, 3.0] and m["AL_n"] == [2, 2, 2] and m["AL_mean"] == 3.0
    assert m["IR"] == pytest.approx(0.5) and m["R2"] == pytest.approx(0.25)
    assert m["N_IR"] == pytest.approx(0.25) and m["N_R2"] == pytest.approx(0.25)


def test_ols_against_hand_values():
    assert ols(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx((1.0, 1.0))
    assert ols(np.array([3.0, 3.0, 4.0, 3.0])) == pytest.approx((0.1, 1 / 15))  # SSR 0.70, SST 0.75
    assert ols(np.array([5.0, 1.0]), np.array([2.0, 4.0])) == pytest.approx((-2.0, 1.0))


def test_cluster_bootstrap_interval_is_known_for_two_clusters():
    """Two profiles with constant means 2 and 4: a resample of two clusters has mean 2, 3 or 4
    with probabilities 1/4, 1/2, 1/4, so the 95% interval is [2, 4]; resampling the four
    examples one by one would put far less weight on the extremes (1/16 each)."""
    scores, asked = table([[2, 2], [2, 2], [4, 4], [4, 4]])
    m = aloe_metrics(scores, asked, ["p1", "p1", "p2", "p2"], bootstrap_n=2000, seed=1)
    assert m["AL_mean_ci95"] == [2.0, 4.0] and m["clusters"] == 2
    same = aloe_metrics(scores, asked, ["p1", "p1", "p2", "p2"], bootstrap_n=2000, seed=1)
    assert same == m  # seeded


def test_identical_examples_give_a_degenerate_interval():
    scores, asked = table([[1, 2, 3]] * 5)
    m = aloe_metrics(scores, asked, list("abcde"), bootstrap_n=300)
    assert m["AL_mean_ci95"] == [2.0, 2.0] and m["IR_ci95"] == [1.0, 1.0]


def test_resamples_missing_a_turn_are_kept_and_counted():
    scores = np.array([[3, 4, 5], [2, np.nan, np.nan], [3, np.nan, np.nan]])
    asked = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=bool)
    m = aloe_metrics(scores, asked, ["a", "b", "c"], bootstrap_n=500, seed=0)
    assert m["AL"] == [pytest.approx(8 / 3, abs=1e-4), 4.0, 5.0] and m["AL_n"] == [3, 1, 1]
    assert m["judge_missing"] == 1 and m["stopped_early"] == 3  # b stopped after turn 1, c after turn 2
    assert 0 < m["bootstrap_incomplete"] < 500 and m["IR_ci95"] is not None


def test_paired_bootstrap_sees_a_constant_gain_that_unpaired_intervals_hide():
    """Must-show: +0.5 on every example: the paired interval excludes 0, the unpaired overlap."""
    rng = np.random.default_rng(0)
    base = np.clip(rng.normal(3, 1.2, size=(12, 1)) + np.zeros((12, 3)), 1, 4.5)
    better = base + 0.5
    clusters = [f"p{i // 2}" for i in range(12)]
    asked = np.ones_like(base, dtype=bool)
    a = aloe_metrics(better, asked, clusters, 1000, 0)["AL_mean_ci95"]
    b = aloe_metrics(base, asked, clusters, 1000, 0)["AL_mean_ci95"]
    assert a[0] < b[1]  # the unpaired intervals overlap
    delta = compare(better, base, clusters, 1000, 0)
    assert delta["AL_mean"] == pytest.approx(0.5) and delta["AL_mean_ci95"] == [0.5, 0.5]
    assert delta["AL_mean_p"] == 0.0 and delta["n"] == 12 and delta["clusters"] == 6


def record(example_id, seed, scores, models=None):
    turns = [{"turn": k + 1, "score": s} for k, s in enumerate(scores)]
    return DialogueRecord.from_json(
        {
            "id": example_id,
            "profile_id": example_id[:2],
            "seed": seed,
            "turns": turns,
            "models": models or {"user": "u", "judge": "j", "model": "m"},
        }
    )


def test_paired_tables_align_rows_and_refuse_other_examples_or_judges():
    a = [record("p1-x", 1, [3, 4]), record("p2-y", 2, [2, 2])]
    b = [record("p2-y", 2, [1, 1]), record("p1-x", 1, [3, 3])]
    sa, sb, clusters = paired_tables(a, b, ("a", "b"))
    assert sb.tolist() == [[3, 3], [1, 1]] and clusters == ["p1", "p2"]
    from aloe.errors import AloeError

    with pytest.raises(AloeError, match="different examples or seeds"):
        paired_tables(a, [record("p1-x", 9, [3, 3]), b[0]], ("a", "b"))
    other_judge = [replace(r, models={"user": "u", "judge": "gpt", "model": "m"}) for r in b]
    with pytest.raises(AloeError, match="different judge models"):
        paired_tables(a, other_judge, ("a", "b"))


def paper_shaped(profiles=20, personalities=5) -> list[Persona]:
    return [
        Persona(f"paper-{i:03d}+{j}", f"paper-{i:03d}", f"P{i}", f"pers-{j}", f"Q{j}")
        for i in range(profiles)
        for j in range(personalities)
    ]


def test_stratified_sample_spreads_over_profiles_and_personalities():
    rows = paper_shaped()
    sample = stratified_sample(rows, 6, seed=0)
    assert len({r.profile_id for r in sample}) == 6  # the first 6 rows would be 2 profiles
    assert max(list(r.personality_id for r in sample).count(p) for p in {"pers-0", "pers-1"}) <= 2
    assert stratified_sample(rows, 6, seed=0) == sample and stratified_sample(rows, 6, seed=1) != sample
    many = stratified_sample(rows, 30, seed=0)
    assert len({r.profile_id for r in many}) == 20 and len(many) == 30
    assert stratified_sample(rows, None, 0) == rows


def test_turn_rows_skip_turns_without_a_value():
    rows = turn_rows([2.0, None, 3.0], [2, 0, 1], "sft")
    assert (
        json.loads(json.dumps(rows))
        == rows
        == [
            {"turn": 1, "AL": 2.0, "N_AL": 0.0, "n": 2, "variant": "sft"},
            {"turn": 3, "AL": 3.0, "N_AL": 1.0, "n": 1, "variant": "sft"},
        ]
    )


EXAMPLES = [Persona(f"e{i}", f"prof-{i}", f"Person {i} keeps bees.", "calm", "Calm.") for i in range(3)]


def bench(scripted_llm, generate, read: str = "parsed", **cfg):
    llm, srv = scripted_llm(generate)
    llm.add_role("model", llm.backend("user"))
    params = EvalParams(**{"turns": 3, "max_attempts": 2, "bootstrap": 0, **cfg})
    judge = JudgeParams(max_attempts=2, scoring=ScoreJudgeParams(read=read))
    dialogues = run_benchmark(llm, EXAMPLES, params, judge, seed=0)
    return dialogues, score_table([dialogue_record(d, {}) for d in dialogues], 3), srv


def test_a_judge_writing_score_colon_four_is_read_at_the_digit(scripted_llm):
    """Must-show: 'Score: 4' with log-probabilities only at the digit position reads as 4."""

    def judge(req):
        return tokens_result(
            ["Score", ":", " 4"], {0: {"Score": 0.7, "1": 0.3}, 1: {":": 1.0}, 2: {" 4": 0.9, " 3": 0.1}}
        )

    dialogues, (scores, _), _ = bench(scripted_llm, persona_rules(score=judge))
    assert scores == pytest.approx(np.full((3, 3), 3.9))
    assert {t.score_method for d in dialogues for t in d.turns} == {"logprobs"}


def test_a_dialogue_that_stops_is_stopped_early_not_judge_missing(scripted_llm):
    """Must-show: the simulator of e1 falls silent at turn 2 of 3; e2's judge never scores."""

    def judge(req):
        return tokens_result(["Hmm"]) if "Person 2" in req.messages[-1][1] else tokens_result(["4"])

    rules = persona_rules(score=judge)

    def generate(requests):
        out = rules(requests)
        for i, req in enumerate(requests):
            if role_of(req) == "user" and "Person 1" in req.messages[0][1] and len(req.messages) > 1:
                out[i] = tokens_result(["*nods*"])  # empty once stage directions are stripped
        return out

    dialogues, (scores, asked), _ = bench(scripted_llm, generate)
    e0, e1, e2 = dialogues
    assert e1.stopped == "turn 2: user simulator gave no usable output" and len(e1.turns) == 1
    assert e0.stopped is None and e2.stopped is None
    m = aloe_metrics(scores, asked, [d.profile_id for d in dialogues], bootstrap_n=50)
    assert m["stopped_early"] == 2 and m["judge_missing"] == 3 and m["AL_n"] == [2, 1, 1]
    assert m["AL"] == [4.0, 4.0, 4.0]


def test_judge_expected_score_on_the_real_model(base_model_dir):
    """The local backend's per-position log-probabilities give a usable reading of its score."""
    from aloe.llm.base import ChatRequest
    from aloe.llm.local import TransformersBackend
    from aloe.params import JudgeParams, TransformersBackendParams
    from aloe.roles.score_judge import ScoreAsk, ScoreJudge
    from aloe.roles.scores import PREFILL, read_score

    backend = TransformersBackend(TransformersBackendParams(type="transformers", model=str(base_model_dir)))
    judge = ScoreJudge(JudgeParams(), continues_prefill=False)
    messages = judge.messages(
        ScoreAsk(
            "I am a 30-year-old baker in Lyon.",
            "Warm, chatty.",
            "Long day at the bakery!",
            "Oh no, sourdough drama again? Put your feet up!",
            (),
        )
    )
    request = dict(max_tokens=8, temperature=0.0, top_logprobs=20)
    [res] = backend.generate([ChatRequest.from_messages(messages, **request)])
    assert res.logprobs and len(res.logprobs) == res.completion_tokens - (res.finish_reason == "stop")
    # Asked plainly, this judge opens a numbered list ("1. The user's..."): no score
    assert read_score(res, min_mass=0.5) == (None, "missing", "list"), res.text
    # Asked to complete "Score:", it writes a digit whose probabilities are read
    prefilled = [*messages, {"role": "assistant", "content": PREFILL}]
    [res] = backend.generate([ChatRequest.from_messages(prefilled, **request)])
    score, method, _ = read_score(res, min_mass=0.5, prefill=PREFILL)
    assert method == "logprobs" and 1.0 < score < 5.0, res.text


def test_the_released_score_read_is_int_of_the_whole_answer(scripted_llm):
    """judge.scoring.read: int (the faithful preset): "4" is 4 with no prefill and no probabilities;
    "Score: 4" is no score (re-asked, then missing), where our reader takes 4."""

    def judge(req):
        return tokens_result(["4"] if "Person 0" in req.messages[-1][1] else ["Score", ":", " 4"])

    dialogues, (scores, _), srv = bench(scripted_llm, persona_rules(score=judge), read="int")
    assert scores[0].tolist() == [4.0, 4.0, 4.0] and np.isnan(scores[1:]).all()
    assert {t.score_method for t in dialogues[0].turns} == {"int"}
    assert {t.score_method for d in dialogues[1:] for t in d.turns} == {"missing"}
    assert read_score_int(ChatResult(text=" 4")) == (4.0, "int", None)
    assert read_score_int(ChatResult(text="4.")) == (None, "missing", "format")  # our slot reading takes it
    assert read_score_int(ChatResult(text="1. The")) == (None, "missing", "list")


def styled_run(profiles: int, words: dict, score) -> list[DialogueRecord]:
    """One example per profile, 3 turns; turn k's reply has ``words[k]`` words (with a markdown
    list where ``k`` is odd), scored by ``score(words, k)``."""
    runs = []
    for p in range(profiles):
        turns = []
        for k in range(3):
            n = words[k] + p % 3  # lengths vary between turns and profiles
            reply = ("- " if k % 2 else "") + " ".join(["word"] * n)
            turns.append({"turn": k + 1, "score": score(n, k), "reply": reply})
        runs.append({"id": f"p{p:02d}-x", "profile_id": f"p{p:02d}", "seed": p, "turns": turns, "models": MODELS})
    return [DialogueRecord.from_json(r) for r in runs]


MODELS = {"user": "u", "judge": "j", "model": "m"}


def test_a_difference_made_of_length_vanishes_with_length_held_fixed():
    """The judge scores only length; A writes longer replies. Raw, A is ahead; with length held
    fixed, nothing is left. A difference that is not length survives the control."""
    from aloe.evaluation.comparison import paired_comparison

    by_length = lambda n, k: 1.0 + n / 10  # noqa: E731
    longer, shorter = styled_run(12, {0: 20, 1: 25, 2: 30}, by_length), styled_run(12, {0: 5, 1: 12, 2: 8}, by_length)
    r = paired_comparison(longer, shorter, ("a", "b"), 200, 0)
    assert r["AL_mean"] > 1.0 and r["AL_mean_ci95"][0] > 0 and r["underpowered"] is False
    held = r["style_controlled"]
    assert abs(held["AL_mean"]) < 0.05 and held["coef"]["length"] > 0 and held["turns"] == 36
    better = styled_run(12, {0: 20, 1: 25, 2: 30}, lambda n, k: 4.0 + (n % 2) * 0.1)
    worse = styled_run(12, {0: 5, 1: 12, 2: 8}, lambda n, k: 2.0 + (n % 2) * 0.1)
    r = paired_comparison(better, worse, ("a", "b"), 200, 0)
    assert r["style_controlled"]["AL_mean"] == pytest.approx(2.0, abs=0.05) and r["AL_mean"] == pytest.approx(2.0)


def test_a_comparison_on_few_profiles_says_underpowered_and_a_constant_style_gap_is_not_controlled():
    from aloe.evaluation.comparison import paired_comparison, summary

    same = lambda n, k: 3.0  # noqa: E731
    r = paired_comparison(
        styled_run(6, {0: 9, 1: 9, 2: 9}, same), styled_run(6, {0: 9, 1: 9, 2: 9}, same), ("a", "b"), 50, 0
    )
    assert r["underpowered"] is True and "underpowered" in summary("a-b", r)
    assert r["style_controlled"]["AL_mean"] == 0.0  # equal replies: no style difference to hold

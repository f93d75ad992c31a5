"""Report cards of both judges from the judge check's planted pairs, and the gates they feed:
scripted judges with a known fault behind the real OpenAI backend on loopback."""

import json
import subprocess
from dataclasses import asdict, replace

import numpy as np
import pytest

from aloe.errors import AloeError
from aloe.files import read_record
from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.planted import PROBES, SCORED
from aloe.judge_check.report import judge_metrics
from aloe.judge_check.selection import spread_over_profiles
from aloe.judging.card import MIN_CLUSTERS, blind_reason, retest_kappa
from aloe.judging.gate import enforce, enforce_pairwise, judge_gate
from aloe.judging.judge_card import JudgeCard
from aloe.params import Params
from aloe.personas.rows import Persona
from conftest import stage_argv
from e2e import REPO  # also puts bench/ on the path
from scripted import always_first, marker, persona_rules, prefers_persona, role_of, tokens_result, verdict

CITIES = ["Oslo", "Ghent", "Turin", "Pune", "Lagos", "Sendai", "Quito", "Hanoi", "Perth", "Cusco", "Tromso", "Dakar"]
WIDE = [  # one persona per profile: 12 clusters, enough to rate a judge
    Persona(f"p{i}", f"prof-{i}", f"{c} native keeps bees.", "calm", "Calm.") for i, c in enumerate(CITIES)
]
NARROW = [replace(p, profile_id=f"prof-{i // 4}") for i, p in enumerate(WIDE)]  # 3 clusters
CONTRAST = [(i + 6) % len(WIDE) for i in range(len(WIDE))]
SIMILAR = [(i + 1) % len(WIDE) for i in range(len(WIDE))]


def params() -> Params:
    return Params.model_validate({"judge_check": {"pairs": 12, "bootstrap": 300}})


def score_of(request) -> tuple[str, str]:
    text = request.messages[-1][1]
    profile = text.split("Profile: ", 1)[1].split("\n", 1)[0]
    reply = text.split("Chatbot's reply: ", 1)[1].split("\n", 1)[0]
    return profile, reply


def fair_scores(request):
    profile, reply = score_of(request)
    return tokens_result(["Score", ":", " 5" if marker(profile) in reply else " 2"])


def constant_scores(request):
    return tokens_result(["3"])


def coin_scores(request):
    """A score that ignores the persona: drawn from the reply's text alone."""
    _, reply = score_of(request)
    return tokens_result([str(1 + sum(map(ord, reply)) % 5)])


def card(scripted_llm, personas, judge=prefers_persona, score=fair_scores) -> dict:
    llm, _ = scripted_llm(persona_rules(judge=judge, score=score))
    p = params()
    return judge_metrics(planted_pairs(llm, personas, CONTRAST, SIMILAR, p), p, judge="scripted")


def test_a_judge_that_sees_passes_both_cards(scripted_llm):
    m = card(scripted_llm, WIDE)
    pair, score = m["pairwise"], m["scoring"]
    assert pair["clusters"] == MIN_CLUSTERS and pair["status"] == "sees"
    assert pair["accuracy"]["value"] == 1.0 and pair["consistency"]["value"] == 1.0
    assert pair["first_position_rate"]["value"] == 0.5 and pair["tie_rate"]["value"] == 0.0
    assert pair["position_shift"]["value"] == 0.0
    assert pair["brier"]["value"] == pytest.approx((1 - 0.95) ** 2)
    assert score["status"] == "sees" and score["gap"]["value"] == 3.0 and score["auroc"]["value"] == 1.0
    assert score["distribution"] == {"2": 12, "5": 12} and score["logprobs_share"] == 1.0
    assert m["judge"] == "scripted" and m["accuracy"] == 1.0 and m["score_gap"] == 3.0


def test_a_position_biased_pairwise_judge_is_weak(scripted_llm):
    pair = card(scripted_llm, WIDE, judge=always_first)["pairwise"]
    assert pair["status"] == "weak" and pair["first_position_rate"]["value"] == 1.0
    assert pair["position_shift"]["value"] == pytest.approx(0.4)  # P(first) 0.9 in both orders
    assert pair["accuracy"]["value"] == 0.5 and pair["tie_rate"]["value"] == 1.0


def test_a_constant_score_is_blind_whatever_the_power(scripted_llm):
    for personas in (WIDE, NARROW):
        score = card(scripted_llm, personas, score=constant_scores)["scoring"]
        assert score["status"] == "blind" and score["most_common_share"] == 1.0 and score["entropy_bits"] == 0.0
        assert score["gap"]["value"] == 0.0 and score["auroc"]["value"] == 0.5


def close_scores(request):
    """Expected scores 3.4 (matched) and 2.6: both round to 3, yet every pair is told apart."""
    profile, reply = score_of(request)
    top = {" 3": 0.6, " 4": 0.4} if marker(profile) in reply else {" 3": 0.6, " 2": 0.4}
    return tokens_result(["Score", ":", " 3"], {2: top})


def test_one_rounded_score_with_a_clear_gap_is_not_blind(scripted_llm):
    score = card(scripted_llm, WIDE, score=close_scores)["scoring"]
    assert score["most_common_share"] == 1.0 and score["gap"]["value"] == pytest.approx(0.8), score
    assert score["status"] == "sees"


def test_a_score_that_ignores_the_persona_is_blind(scripted_llm):
    score = card(scripted_llm, WIDE, score=coin_scores)["scoring"]
    assert score["most_common_share"] < 0.9 and score["gap"]["ci95"][0] <= 0 <= score["gap"]["ci95"][1]
    assert score["status"] == "blind"


def test_under_twelve_profiles_a_card_says_underpowered(scripted_llm):
    m = card(scripted_llm, NARROW)
    assert m["clusters"] == 3
    assert m["pairwise"]["status"] == "underpowered" and m["scoring"]["status"] == "underpowered"


def test_planted_pairs_are_spread_over_profiles():
    personas = [Persona(f"{p}{k}", p, "", "", "") for p in "abcd" for k in range(3)]
    assert [x.persona_id for x in spread_over_profiles(personas, 6)] == ["a0", "b0", "c0", "d0", "a1", "b1"]


BLIND_RECORD = {
    "judge": "j",
    "n": 12,
    "accuracy": 0.5,
    "accuracy_ci95": [0.4, 0.6],
    "above_chance": False,
    "pairwise": {"status": "weak"},
    "scoring": {"status": "blind", "n": 12, "most_common_share": 1.0, "distribution": {"1": 24}},
}
BLIND = JudgeCard(**BLIND_RECORD)


def test_the_benchmark_gate_applies_only_to_the_judge_that_was_measured(caplog):
    assert judge_gate(BLIND, "j") == {"judge_blind": True, "judge_card": BLIND.scoring}
    assert judge_gate(BLIND, "another judge") == {"judge_blind": None, "judge_card": None}
    assert judge_gate(None, "j") == {"judge_blind": None, "judge_card": None}
    enforce(judge_gate(BLIND, "j"), "warn", "aloe eval")
    assert "the 1-5 judge is blind (it gave 1 to 100% of planted replies" in caplog.text
    with pytest.raises(AloeError, match="cannot tell models apart"):
        enforce(judge_gate(BLIND, "j"), "fail", "aloe eval")
    enforce(judge_gate(BLIND, "another judge"), "fail", "aloe eval")  # unknown judge: no gate


def test_a_card_file_missing_a_field_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "judge.json"
    path.write_text(json.dumps({k: v for k, v in BLIND_RECORD.items() if k != "scoring"}))
    with pytest.raises(AloeError, match=r"judge.json: not written by the judge_check stage \(missing scoring\)"):
        JudgeCard.read(str(path))
    assert JudgeCard.read(str(tmp_path / "absent.json")) is None


def test_the_trees_gate_warns_or_fails_on_a_weak_pairwise_judge(caplog):
    weak = replace(BLIND, accuracy=0.5, accuracy_ci95=[0.5, 0.5], n=16)
    strong = replace(BLIND, above_chance=True, accuracy=0.9, accuracy_ci95=[0.8, 1.0], n=16)
    barely = replace(strong, accuracy=0.55)  # above chance, below judge.pairwise.min_accuracy
    trees = Params().judge.pairwise
    enforce_pairwise(strong, trees.model_copy(update={"on_weak": "fail"}), "metrics/judge.json")
    with pytest.raises(AloeError, match="the judge is weak: accuracy 0.55"):
        enforce_pairwise(barely, trees.model_copy(update={"on_weak": "fail"}), "metrics/judge.json")
    enforce_pairwise(weak, trees, "metrics/judge.json")
    assert "trees: the judge is weak: accuracy 0.5" in caplog.text and "too few profiles" not in caplog.text
    enforce_pairwise(replace(weak, pairwise={"status": "underpowered"}), trees, "metrics/judge.json")
    assert "too few profiles to rate it: raise judge_check.pairs" in caplog.text
    with pytest.raises(AloeError, match="the judge is weak"):
        enforce_pairwise(weak, trees.model_copy(update={"on_weak": "fail"}), "metrics/judge.json")
    with pytest.raises(AloeError, match="metrics/judge.json: no judge check found"):
        enforce_pairwise(None, trees, "metrics/judge.json")


def write_records(path, judge: str) -> None:
    """Two benchmark variants on the same 12 examples, as aloe_eval writes them."""
    rng = np.random.default_rng(0)
    for variant in ("base", "dpo"):
        lines = [
            {
                "id": f"e{i}",
                "profile_id": f"prof-{i}",
                "seed": i,
                "models": {"model": variant, "user": "u", "judge": judge},
                "turns": [{"turn": 1, "user": "hi", "reply": "hello", "score": float(rng.integers(1, 6))}],
            }
            for i in range(12)
        ]
        (path / f"{variant}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


@pytest.mark.parametrize("on_blind", ["warn", "fail"])
def test_aloe_compare_stage_marks_or_refuses_a_blind_judge(tmp_path, on_blind):
    (tmp_path / "data/eval").mkdir(parents=True)
    write_records(tmp_path / "data/eval", judge="j")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/judge.json").write_text(json.dumps(BLIND_RECORD))
    (tmp_path / "params.yaml").write_text(
        json.dumps(
            {
                "judge": {"scoring": {"on_blind": on_blind}},
                "eval": {
                    "bootstrap": 50,
                    "variants": {
                        "base": {"model": "models/base", "track": "models/base"},
                        "dpo": {"model": "models/dpo", "track": "models/dpo"},
                    },
                },
            }
        )
    )
    done = subprocess.run(stage_argv("aloe_compare"), cwd=tmp_path, capture_output=True, text=True)
    out = tmp_path / "metrics/aloe/compare.json"
    assert "these numbers cannot tell models apart" in done.stderr
    if on_blind == "fail":
        assert done.returncode != 0 and not out.exists()
    else:
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(out.read_text())
        assert report["judge_blind"] is True and report["judge_card"]["status"] == "blind"
        assert "dpo-base" in report


@pytest.mark.parametrize("on_blind", ["warn", "fail"])
def test_the_benchmark_refuses_or_marks_a_blind_judge(scripted_llm, tmp_path, monkeypatch, on_blind):
    """evaluate() (the aloe_eval stage, `aloe eval`): 'fail' stops before any call is made;
    'warn' runs and writes judge_blind with the card into the metrics."""
    import pandas as pd

    from aloe.evaluation.runner import evaluate

    monkeypatch.setenv("ALOE_CACHE_DIR", str(tmp_path / "cache"))

    llm, srv = scripted_llm(persona_rules(judge=prefers_persona, score=constant_scores))
    split = tmp_path / "eval.parquet"
    pd.DataFrame(
        [{**asdict(p), "personality_id": f"q{i}"} for i, p in enumerate(WIDE[:4])],
        columns=["persona_id", "profile_id", "profile", "personality_id", "personality"],
    ).to_parquet(split)
    params = Params.model_validate(
        {
            "llm": llm.params.model_dump(),
            "eval": {"examples": 4, "turns": 1, "bootstrap": 50},
            "judge": {"scoring": {"on_blind": on_blind}},
        }
    )
    check = replace(BLIND, judge=llm.model_id("judge"))
    before = srv.server.requests_seen
    if on_blind == "fail":
        with pytest.raises(AloeError, match="cannot tell models apart"):
            evaluate(params, params.eval, llm.backend("user"), str(split), check, "aloe eval")
        assert srv.server.requests_seen == before  # nothing paid for
        return
    _, records, metrics = evaluate(params, params.eval, llm.backend("user"), str(split), check, "aloe eval")
    assert metrics.judge_blind is True and metrics.judge_card == BLIND.scoring
    assert len(records) == 4 and srv.server.requests_seen > before


# Faults of known size (bench/rule_judge.py), found by the card
HOBBIES = ["sailing", "knitting", "chess", "surfing", "baking", "opera", "karate", "pottery", "rowing", "poetry"]
HOBBIES += ["falconry", "origami"]
DISTINCT = [  # profiles that share no content word: the rule scores the matched reply 5, the other 1
    replace(p, profile=f"{c} {h}.", personality="Calm.") for p, c, h in zip(WIDE, CITIES, HOBBIES, strict=True)
]
BLANK = [replace(p, profile=f"I am {c.lower()[:3]}.", personality="Calm.") for p, c in zip(WIDE, CITIES, strict=True)]


def rule_card(scripted_llm, personas, **faults) -> dict:
    from rule_judge import JudgeFaults, RuleJudge

    judge, others = RuleJudge(faults=JudgeFaults(**faults)), persona_rules()

    def generate(requests):
        return [judge.generate([r])[0] if "judge" in role_of(r) else others([r])[0] for r in requests]

    llm, _ = scripted_llm(generate)
    p = params()
    return judge_metrics(planted_pairs(llm, personas, CONTRAST, SIMILAR, p), p, judge="rule")


def within(figure: dict, value: float) -> bool:
    return figure["ci95"][0] <= value <= figure["ci95"][1]


def test_the_card_passes_the_clean_rule_judge(scripted_llm):
    m = rule_card(scripted_llm, DISTINCT)
    assert m["pairwise"]["status"] == "sees" and m["scoring"]["status"] == "sees"
    assert m["scoring"]["gap"]["value"] == pytest.approx(4.8 - 1.2) and within(m["pairwise"]["position_shift"], 0.0)


def test_both_judges_are_probed_for_length_persona_and_calibration(scripted_llm):
    """The rule reads persona words: padding with a neutral sentence changes no score (P(higher) a
    tie), told the contrast persona the same reply scores lower, and both reliability tables rise
    with the judge's confidence. A constant 1-5 judge is flagged persona-insensitive."""
    m = rule_card(scripted_llm, DISTINCT)
    score, pair = m["scoring"], m["pairwise"]
    assert score["prefers_longer"]["value"] == 0.5 and score["persona_flip_gap"]["ci95"][0] > 0
    assert score["brier"]["value"] < 0.1 and score["concerns"] == []
    observed = [row["observed"] for row in score["reliability"]]
    assert observed == sorted(observed) and observed[0] == 0.0 and observed[-1] == 1.0
    confident = [row for row in pair["reliability"] if row["bin"][0] >= 0.6 or row["bin"][1] <= 0.4]
    assert confident and all(row["observed"] == (row["mean_p"] > 0.5) for row in confident)
    constant = rule_card(scripted_llm, DISTINCT, constant_score=3)["scoring"]
    assert constant["persona_flip_gap"]["value"] == 0.0 and constant["concerns"][0].startswith("persona-insensitive")


def test_the_card_recovers_an_injected_position_bias(scripted_llm):
    """Replies with no persona word: the rule says 0.5, so P(first) is 0.5 + b in both orders."""
    for b in (0.3, -0.2):
        pair = rule_card(scripted_llm, BLANK, position_bias=b)["pairwise"]
        assert within(pair["position_shift"], b) and pair["position_shift"]["value"] == pytest.approx(b)
        assert pair["first_position_rate"]["value"] == (1.0 if b > 0 else 0.0) and pair["status"] == "weak"


def test_the_card_recovers_a_constant_score_and_verdict_noise(scripted_llm):
    m = rule_card(scripted_llm, DISTINCT, constant_score=3, noise=0.25)
    assert m["scoring"]["status"] == "blind" and m["scoring"]["distribution"] == {"3": 24}
    assert within(m["pairwise"]["accuracy"], 1 - 0.25) and m["pairwise"]["accuracy"]["value"] < 1.0


def test_the_card_reads_difficulty_length_persona_and_retest_of_the_clean_rule_judge(scripted_llm):
    pair = rule_card(scripted_llm, DISTINCT)["pairwise"]
    assert pair["accuracy_similar"]["value"] == 1.0  # the near neighbour's reply uses none of the words
    assert pair["prefers_longer"]["value"] == 0.5 and pair["prefers_longer"]["n"] == 12
    assert pair["persona_flip_rate"]["value"] == 1.0 and pair["retest_agreement"]["value"] == 1.0
    assert pair["concerns"] == []


def test_the_card_recovers_an_injected_length_bias(scripted_llm):
    """Reply against the same reply plus one neutral sentence: the rule ties, so P(prefer longer) is 0.5 + l."""
    pair = rule_card(scripted_llm, DISTINCT, length_bias=0.3)["pairwise"]
    assert pair["prefers_longer"]["value"] == pytest.approx(0.8) and within(pair["prefers_longer"], 0.8)
    assert pair["concerns"] == ["prefers the longer of two otherwise identical replies (0.8; AlpacaEval's bar < 0.7)"]


def prefers_earlier_text(req, profile, first, second):
    """A judge of 'quality' that never reads the persona: the alphabetically earlier reply wins."""
    return verdict(0.95 if first < second else 0.05)


def seed_coin(req, profile, first, second):
    """Right on one seed parity, wrong on the other: a judge whose verdicts do not repeat."""
    right = prefers_persona(req, profile, first, second)
    return right if req.seed % 2 else prefers_persona(req, profile, second, first)


def test_a_judge_blind_to_the_persona_flips_no_winner_and_an_unstable_one_does_not_repeat(scripted_llm):
    insensitive = card(scripted_llm, WIDE, judge=prefers_earlier_text)["pairwise"]
    assert insensitive["persona_flip_rate"]["value"] == 0.0 and insensitive["persona_flip_rate"]["n"] == 12
    assert "persona-insensitive: 0.0 of its winners flip when told another persona" in insensitive["concerns"]
    unstable = card(scripted_llm, WIDE, judge=seed_coin)["pairwise"]
    assert unstable["retest_agreement"]["value"] < 0.9 and any("unstable" in c for c in unstable["concerns"])


def seed_scores(request):
    """Fair on one seed parity, reversed on the other."""
    profile, reply = score_of(request)
    fits = (marker(profile) in reply) == bool(request.seed % 2)
    return tokens_result(["Score", ":", " 5" if fits else " 2"])


def test_the_1_5_card_gives_retest_kappa_and_the_hard_gap(scripted_llm):
    steady = card(scripted_llm, WIDE)["scoring"]
    assert steady["retest_kappa"] == {"value": 1.0, "n": 24}
    assert steady["gap_similar"]["value"] == 3.0  # the near neighbour's reply lacks the persona's words
    shaky = card(scripted_llm, WIDE, score=seed_scores)["scoring"]
    assert shaky["retest_kappa"]["value"] < 0.5


def test_retest_kappa_is_undefined_only_for_one_score_on_both_sides():
    assert retest_kappa(np.array([3.0, 3, 3, 3]), np.array([2.0, 3, 4, 5]))["value"] == 0.0  # constant once: 0
    assert retest_kappa(np.array([3.0, 3, 3]), np.array([3.0, 3, 3])) == {"value": None, "n": 3}
    assert retest_kappa(np.array([0.0, 10, 4]), np.array([0.0, 10, 4]))["value"] == 1.0  # int() off the scale


def test_a_list_formatted_judge_is_unreadable_for_both_judges_never_position_biased(scripted_llm):
    """A judge that answers "1. The user would say second." gives no verdict and no score where
    they were asked: both cards say unreadable, with the reason, and no position shift is read
    from the list's "1"."""
    card = rule_card(scripted_llm, DISTINCT, answer_format="list")
    pair, score = card["pairwise"], card["scoring"]
    assert pair["status"] == score["status"] == "unreadable"
    asked = pair["n"] * len(SCORED)
    assert pair["missing_reasons"] == {"list": 2 * pair["n"]} and score["missing_reasons"] == {"list": asked}
    assert pair["position_shift"]["value"] is None and pair["first_position_rate"]["n"] == 0
    assert score["n"] == 0 and score["methods"] == {"missing": asked}
    assert blind_reason(score) == f"{asked} of its {asked} answers on planted pairs gave no score (list {asked})"
    judges = read_record(JudgeCard, "metrics/judge.json", "judge_check", card)
    assert judges.blind and judges.weak(0.6)  # both gates stop it


def test_aloe_judge_card_puts_candidate_judges_side_by_side(serve, tmp_path, monkeypatch):
    """`aloe judge-card`: one planted-pair set, a card per candidate judge, as a table, markdown and JSON."""
    import pandas as pd
    import yaml
    from click.testing import CliRunner

    from aloe.cli import main
    from rule_judge import JudgeFaults, RuleJudge, rule_judge_server

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALOE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ALOE_SCRIPTED_KEY", "k")
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps no cell
    roles_server = serve(generate=persona_rules(), batch_window_s=0.0)
    clean = serve(generate=RuleJudge().generate, model_name="rule-judge")
    biased = rule_judge_server(RuleJudge(faults=JudgeFaults(position_bias=0.3)))
    biased_srv = serve(generate=biased.generate, model_name="rule-judge", root=biased.root)

    def api(url, model):
        return {"type": "openai", "model": model, "base_url": url, "api_key_env": "ALOE_SCRIPTED_KEY"}

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["llm"] = {
        "backends": {
            "api": api(roles_server.base_url, "aloe-local"),
            "rule": api(clean.base_url, "rule-judge"),
            "biased": api(biased_srv.base_url, "rule-judge"),
        },
        "roles": {r: "api" for r in ("persona_writer", "user", "inducer", "responder", "judge")},
    }
    params["judge_check"] = {"pairs": 12, "bootstrap": 100}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    pd.DataFrame(DISTINCT).to_parquet(tmp_path / "train.parquet")
    args = ["judge-card", "--judge", "rule", "--judge", "biased", "--personas", "train.parquet"]
    args += ["--price", "rule=1,2", "--markdown", "cards.md", "--out", "cards.json"]
    done = CliRunner().invoke(main, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    written = json.loads((tmp_path / "cards.json").read_text())
    rows, [agreement] = written["cards"], written["agreement"]
    assert [r["name"] for r in rows] == ["rule", "biased"] and rows[0]["clusters"] == 12
    assert rows[1]["served"].startswith("rule:more-persona-words:position_bias=0.3:")  # its faults in words
    assert agreement["judges"] == ["rule", "biased"] and agreement["score_kappa"]["value"] == 1.0  # same scores
    # its bias moves P(first), never past 0.5 on these distinct personas: the same words
    assert agreement["verdict_kappa"]["value"] == 1.0 and agreement["verdict_kappa"]["n"] == 12 * 2 * len(PROBES)
    assert rows[0]["per_1000"]["seconds"] > 0 and rows[0]["per_1000"]["judgments"] == 12 * (
        2 * len(PROBES) + len(SCORED)
    )
    assert not rows[0]["tokens"]["measured"] and "not measured" in done.output  # the rule judge counts none
    for kind in ("pairwise", "scoring"):  # the printed card has every figure of the JSON
        assert all(f" {name} " in done.output or f"│ {name}" in done.output for name in rows[0][kind])
    assert rows[0]["pairwise"]["status"] == "sees" and rows[0]["pairwise"]["position_shift"]["value"] == 0.0
    assert rows[1]["pairwise"]["position_shift"]["value"] > 0.1 and rows[0]["judge"] != rows[1]["judge"]
    assert rows[0]["cost"] is rows[1]["cost"] is None  # the rule judge counts no tokens: nothing to price
    table = (tmp_path / "cards.md").read_text().splitlines()
    assert len(table) == 4 and table[2].startswith("| rule | sees |") and "biased" in table[3]


def test_cost_and_seconds_per_thousand_judgments_count_only_what_was_asked():
    """Seconds per 1,000 from the calls the cache did not answer; cost from measured tokens at
    the price given, "local" for a local model without one."""
    from aloe.judge_check.candidates import costs

    work = {"calls": 200, "prompt_tokens": 100_000, "completion_tokens": 2_000}
    got = costs(work, {"cache_hits": 100, "seconds": 5.0}, (1.0, 2.0), local=False)
    assert got["cost"] == pytest.approx(0.104) and got["per_1000"] == {"judgments": 200, "seconds": 50.0, "cost": 0.52}
    assert costs(work, {"cache_hits": 200, "seconds": 0.0}, None, local=True)["per_1000"]["cost"] == "local"
    assert costs(work, {"cache_hits": 200, "seconds": 0.0}, None, local=True)["per_1000"]["seconds"] is None

"""The tree builder's label mapping, tie policies and re-asks, through the real OpenAI
backend against a scripted judge on the loopback server."""

from dataclasses import replace

import pytest

from aloe.conversations.builder import TreeBuilder
from aloe.conversations.pairs import flatten
from aloe.conversations.stats import tree_metrics
from aloe.params import JudgeParams, PairwiseJudgeParams, TreesParams
from aloe.personas.rows import Persona
from scripted import always_first, marker, persona_rules, prefers_persona, role_of, tokens_result, verdict

PERSONAS = [
    Persona(f"p{i}", f"a{i}", f"{name} keeps bees and sails on weekends.", "b", "Calm, dry humour.")
    for i, name in enumerate(["Astrid from Oslo", "Bram from Ghent"])
]


def judge(**pairwise) -> JudgeParams:
    """The pairwise judge asked at most twice, as the trees' roles here."""
    return JudgeParams(max_attempts=2, pairwise=PairwiseJudgeParams(**pairwise))


def build(llm, pairwise: dict | None = None, **cfg) -> list:
    params = TreesParams(**{"turns": 2, "max_attempts": 2, **cfg})
    builder = TreeBuilder(llm, params, judge(**(pairwise or {})), seed=0)
    return builder, builder.build(PERSONAS)


def test_a_judge_that_prefers_the_persona_labels_every_turn_hinted(scripted_llm):
    llm, _ = scripted_llm(persona_rules(judge=prefers_persona))
    builder, trees = build(llm, {"disagreement": "average"})
    turns = [t for tree in trees for t in tree.turns]
    assert len(turns) == 4 and all(not t.tie and t.judge.source == "agree" for t in turns)
    for t in turns:  # the preferred side is the hinted reply, which uses the persona's words
        assert t.hinted == "preferred" and t.judge.hinted_won is True
        assert t.judge.order_ab.reading.verdict == "first" and t.judge.order_ba.reading.verdict == "second"
        assert t.margin == pytest.approx(0.45)
    dpo, _, dropped = flatten(builder.record(trees[0]))
    assert len(dpo) == 2 and all(marker(PERSONAS[0].profile) in r.chosen[0]["content"] for r in dpo)
    assert {r.label_source for r in dpo} == {"agree"}


def test_a_judge_that_prefers_the_plain_reply_flips_preferred_and_rejected(scripted_llm):
    def prefers_plain(req, profile, first, second):
        return verdict(0.05 if marker(profile) in first else 0.95)

    llm, _ = scripted_llm(persona_rules(judge=prefers_plain))
    _, trees = build(llm)
    for t in (t for tree in trees for t in tree.turns):
        assert t.judge.hinted_won is False and t.hinted == "rejected"
        assert t.assistant.preferred == "That sounds nice."


def test_pure_position_bias_labels_nothing_under_average(scripted_llm):
    """Must-show (a) for trees: 'first' with probability 0.9 in both orders is never a label."""
    llm, _ = scripted_llm(persona_rules(judge=always_first))
    _, trees = build(llm, {"disagreement": "average"})
    metrics = tree_metrics(trees, trees, {})
    assert metrics.label_rate == 0.0 and metrics.tie_reasons == {"within_margin": 4}
    assert metrics.position_bias == 1.0 and metrics.judge_consistency == 0.0


def test_tie_and_hinted_policies_on_a_position_biased_judge(scripted_llm):
    llm, _ = scripted_llm(persona_rules(judge=always_first))
    _, ties = build(llm, {"disagreement": "tie"})
    assert all(t.tie and t.judge.tie_reason == "disagree" for tree in ties for t in tree.turns)
    _, hinted = build(llm, {"disagreement": "hinted"})
    metrics = tree_metrics(hinted, hinted, {})
    assert metrics.label_rate == 1.0 and metrics.label_sources == {"hinted": 4}


def test_averaged_probability_within_the_margin_is_a_tie(scripted_llm):
    """Must-show (c): orders whose averaged P(hinted) is within judge.pairwise.margin of 0.5."""

    def slight(req, profile, first, second):
        return verdict(0.62 if marker(profile) in first else 0.52)  # P(hinted) = (0.62 + 0.48) / 2 = 0.55

    llm, _ = scripted_llm(persona_rules(judge=slight))
    _, trees = build(llm, {"disagreement": "average", "margin": 0.1})
    judges = [t.judge for tree in trees for t in tree.turns]
    assert all(j.hinted_won is None and j.p_hinted == pytest.approx(0.55) for j in judges)
    _, looser = build(llm, {"disagreement": "average", "margin": 0.04})
    assert all(t.judge.hinted_won is True for tree in looser for t in tree.turns)


def test_a_greedy_unusable_judge_is_re_asked_by_sampling_and_succeeds(scripted_llm):
    """Must-show (d): the re-ask is a different request, and its good answer is used."""
    seen = []

    def judge(req, profile, first, second):
        seen.append((req.temperature, req.seed))
        return tokens_result(["Hmm"]) if req.temperature == 0 else prefers_persona(req, profile, first, second)

    llm, _ = scripted_llm(persona_rules(judge=judge))
    _, trees = build(llm, {"disagreement": "average"}, turns=1)
    turn = trees[0].turns[0]
    assert turn.attempts["judge_ab"] == 2 and turn.judge.hinted_won is True
    assert {t for t, _ in seen} == {0.0, 0.7} and len({s for _, s in seen}) == len(seen)


def test_unusable_user_output_is_re_asked_then_cuts_the_tree(scripted_llm):
    rules = persona_rules(judge=prefers_persona)
    user_asks = []

    def mute_user(requests):
        out = rules(requests)
        for i, req in enumerate(requests):
            if req.messages[0][1].startswith("You are role-playing") and "Astrid" in req.messages[0][1]:
                user_asks.append(req.seed)
                out[i] = tokens_result(["*smiles*"])  # nothing left once stage directions are stripped
        return out

    llm, _ = scripted_llm(mute_user)
    _, trees = build(llm, max_attempts=3)
    astrid, bram = trees
    assert astrid.failure == "turn 1: user output unusable after 3 attempts" and not astrid.turns
    assert len(set(user_asks)) == 3  # three different requests
    assert bram.failure is None and len(bram.turns) == 2


def test_an_order_that_stays_unreadable_is_a_missing_tie_and_the_tree_goes_on(scripted_llm):
    def mute_judge(req, profile, first, second):
        return tokens_result(["Hmm"])

    llm, _ = scripted_llm(persona_rules(judge=mute_judge))
    _, trees = build(llm)
    assert all(tree.failure is None and len(tree.turns) == 2 for tree in trees)
    assert all(t.judge.tie_reason == "missing" for tree in trees for t in tree.turns)


GREEDY_USER = {"temperature": {"user": 0.0}}


def mute_first_asks_of(name: str, rules):
    """``rules``, except that the simulator playing ``name`` is unusable whenever it is asked greedily
    (the first ask with ``GREEDY_USER``; the re-ask samples)."""

    def generate(requests):
        out = rules(requests)
        for i, req in enumerate(requests):
            if req.messages[0][1].startswith("You are role-playing") and name in req.messages[0][1]:
                if req.temperature == 0:
                    out[i] = tokens_result(["*smiles*"])
        return out

    return generate


def persona_of(request) -> str | None:
    """Which test persona a request is about, by name, if its text says."""
    text = " ".join(content for _, content in request.messages)
    return next((n for n in ("Astrid", "Bram", "Carla") if n in text), None)


class InProcessModel:
    """A model in this process, like the local transformers backend (batches formed by the
    caller), answering by a scripted rule; records the batches it is handed."""

    name = "inprocess"
    model_id = "scripted-in-process"
    chunk_size = 64
    continues_prefill = False

    def __init__(self, generate):
        self._generate = generate
        self.batches: list[list[str]] = []

    def generate(self, requests):
        self.batches.append([(persona_of(r), role_of(r)) for r in requests])
        return self._generate(requests)

    def close(self):
        pass


def test_a_local_model_gets_every_step_of_every_tree_as_one_batch_and_re_asks_apart(scripted_llm):
    llm, _ = scripted_llm(persona_rules(judge=prefers_persona))
    model = InProcessModel(mute_first_asks_of("Astrid", persona_rules(judge=prefers_persona)))
    for role in ("user", "inducer", "responder", "judge"):
        llm.add_role(role, model)
    personas = PERSONAS + [replace(PERSONAS[1], persona_id="p2", profile="Carla from Turin bakes bread.")]
    trees = TreeBuilder(llm, TreesParams(turns=2, max_attempts=2, **GREEDY_USER), judge(), seed=0).build(personas)
    assert all(t.failure is None and len(t.turns) == 2 for t in trees)
    first_turn = [  # a plain responder's prompt names no persona (turn 1: no history yet)
        [("Astrid", "user"), ("Bram", "user"), ("Carla", "user")],
        [("Astrid", "user")],
        [("Astrid", "inducer"), ("Bram", "inducer"), ("Carla", "inducer")],
        [x for n in ("Astrid", "Bram", "Carla") for x in ((n, "hinted"), (None, "plain"))],
        [(n, "judge_pair") for n in ("Astrid", "Bram", "Carla") for _ in range(2)],
    ]
    assert model.batches[:5] == first_turn  # Astrid's re-ask alone, then all three together again, in order
    assert [[role for _, role in b] for b in model.batches[5:]] == [[role for _, role in b] for b in first_turn]


def test_per_tree_pipelining_builds_the_same_trees_as_stepping_all_trees_together(scripted_llm, tmp_path):
    from aloe.llm.cache import ResponseCache
    from aloe.llm.client import LLM

    llm, _ = scripted_llm(mute_first_asks_of("Astrid", persona_rules(judge=prefers_persona)))
    params, rule = TreesParams(turns=3, max_attempts=2, **GREEDY_USER), judge(disagreement="average")
    pipelined = TreeBuilder(llm, params, rule, seed=0)
    lockstep = TreeBuilder(
        LLM(llm.params, cache=ResponseCache(tmp_path / "other.sqlite"), progress=False), params, rule, 0, lockstep=True
    )
    a = [pipelined.record(t) for t in pipelined.build(PERSONAS)]
    b = [lockstep.record(t) for t in lockstep.build(PERSONAS)]
    assert a == b and [len(r.conversations) for r in a] == [3, 3]
    assert a[0].conversations[0].attempts["user"] == 2  # a re-ask happened on the way
    assert lockstep.llm.stats["user"].cache_hits == 0  # built anew, not replayed


def test_against_an_endpoint_a_slow_tree_does_not_hold_up_the_others(scripted_llm):
    rules = persona_rules(judge=prefers_persona)
    arrivals = []

    def generate(requests):
        arrivals.extend((persona_of(r) == "Astrid", role_of(r)) for r in requests)
        return rules(requests)

    def latency(req) -> float:  # Astrid's first simulator call takes 4 s, every other call none
        first_call = len(req.messages) == 1 and req.messages[0][1].startswith("You are role-playing")
        return 4.0 if first_call and "Astrid" in req.messages[0][1] else 0.0

    llm, _ = scripted_llm(generate, latency=latency)
    _, trees = build(llm, turns=2)
    assert all(t.failure is None and len(t.turns) == 2 for t in trees)
    astrid_inducer = arrivals.index((True, "inducer"))
    before = sorted(role for astrid, role in arrivals[:astrid_inducer] if not astrid)
    bram_turn = ["user", "inducer", "hinted", "plain", "judge_pair", "judge_pair"]
    assert before == sorted(bram_turn * 2)  # Bram's two turns all went out while Astrid waited for her first answer


def test_retries_the_client_makes_are_counted_per_role_when_pipelined(scripted_llm):
    llm, srv = scripted_llm(persona_rules(judge=prefers_persona), faults={"rates": {"rate_limit": 0.2}, "seed": 3})
    _, trees = build(llm, turns=1)
    assert all(t.failure is None for t in trees)
    made = sum(s.calls - s.cache_hits for s in llm.stats.values())
    retries = sum(s.retries for s in llm.stats.values())
    assert retries > 0 and made + retries == srv.server.requests_seen


def test_the_released_judging_asks_one_order_and_reads_only_exactly_first(scripted_llm):
    """judge.pairwise.orders: hinted_first + read: exact_first (the faithful preset): one call
    per turn, the hinted reply always first, and "First" (capital F) read as "second", so a judge
    that prefers the hinted reply in every turn labels every turn for the plain one."""

    asked = []

    def capital_first(req, profile, first, second):
        asked.append(marker(profile) in first)  # the hinted reply is the one with the persona's words
        return tokens_result(["First" if marker(profile) in first else "second"])

    llm, _ = scripted_llm(persona_rules(judge=capital_first))
    _, trees = build(llm, {"orders": "hinted_first", "read": "exact_first"})
    turns = [t for tree in trees for t in tree.turns]
    assert len(turns) == 4 and all(t.judge.order_ba is None and t.judge.source == "one_order" for t in turns)
    assert all(t.judge.hinted_won is False and t.assistant.preferred == "That sounds nice." for t in turns)
    assert {t.judge.order_ab.reading.text_verdict for t in turns} == {"first"}  # what our reader would say
    assert asked == [True] * 4  # one call per turn, hinted first
    metrics = tree_metrics(trees, trees, {})  # no turn was asked both ways: no consistency, no position bias
    assert metrics.judge_consistency is None and metrics.position_bias is None
    assert metrics.label_sources == {"one_order": 4}
    _, parsed = build(llm, {"orders": "hinted_first"})  # our reader: "First" is first
    assert all(t.judge.hinted_won is True for tree in parsed for t in tree.turns)

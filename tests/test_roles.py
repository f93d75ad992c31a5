"""The roles (src/aloe/roles): each one the only place its prompt is rendered and its answer
read, and each asks with the seeds and decoding its call sites used to build by hand."""

from __future__ import annotations

import ast
from pathlib import Path

from aloe.llm.base import ChatResult
from aloe.params import Decoding, JudgeParams, Params, ScoreJudgeParams
from aloe.roles.pairwise_judge import PairAsk, PairwiseJudge
from aloe.roles.persona_writer import PersonaWriter
from aloe.roles.responder import Responder, ResponderAsk
from aloe.roles.score_judge import ScoreAsk, ScoreJudge
from aloe.seeds import derive_seed
from conftest import REPO

SRC = REPO / "src" / "aloe"
READERS = {  # what reads a role's answer; only roles/ may call these
    "parse_verdict",
    "read_verdict",
    "read_verdict_exact",
    "parse_score",
    "read_score",
    "read_score_int",
    "parse_inducer",
    "clean_message",
    "parse_candidates",
    "read_yes_no",
}


def calls_outside_roles(names: set[str]) -> list[str]:
    found = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "roles"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in names:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}")
    return found


def test_no_prompt_is_rendered_and_no_answer_read_outside_roles():
    assert calls_outside_roles({"render"}) == []
    assert calls_outside_roles(READERS) == []


def test_requests_are_built_only_by_the_llm_layer():
    """ChatRequest is made in llm/ (reask.build_request for every role), nowhere else in src."""
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in SRC.rglob("*.py")
        if not path.is_relative_to(SRC / "llm")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and "ChatRequest" in ast.unparse(node.func)
    ]
    assert found == []


def test_a_role_asks_with_its_items_key_and_re_asks_on_a_new_seed_by_sampling():
    judge = PairwiseJudge(Params().judge, continues_prefill=False)
    item = PairAsk("Baker in Lyon.", "Warm.", "Bread?", "Weather.", (11, 0, "judge_ab"))
    attempts = judge.attempts([item])
    [first] = attempts.next_batch()
    assert first.seed == derive_seed(11, 0, "judge_ab", 0) and first.temperature == 0.0 and first.top_logprobs == 20
    assert "Message 1: Bread?" in first.messages[0][1] and "Baker in Lyon." in first.messages[0][1]
    attempts.take([ChatResult(text="I cannot say.")])  # unreadable: asked again
    [again] = attempts.next_batch()
    assert again.seed == derive_seed(11, 0, "judge_ab", 1) and again.temperature == 0.7 and again.top_p == 0.95
    attempts.take([ChatResult(text="Second.")])
    assert attempts.next_batch() == [] and attempts.answers[0].value.verdict == "second"


def test_the_responder_hints_only_where_the_item_has_a_hint():
    responder = Responder(Decoding(0.7, 64, 3, 0.7))
    history = ({"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"})
    hinted = responder.messages(ResponderAsk(history, "Any tips?", ("Gardener.", "Calm."), ()))
    plain = responder.messages(ResponderAsk(history, "Any tips?", None, ()))
    assert tuple(hinted[:2]) == tuple(plain[:2]) == history
    assert "Profile: Gardener." in hinted[2]["content"] and "Profile:" not in plain[2]["content"]


def test_the_score_judge_completes_score_only_where_the_backend_continues_and_reads_as_asked():
    judge = JudgeParams()
    item = ScoreAsk("Baker.", "Warm.", "Hi", "Hello baker!", (1, 0, "judge"))
    prefilled, plain = ScoreJudge(judge, True), ScoreJudge(judge, False)
    assert prefilled.attempts([item]).next_batch()[0].messages[-1] == ("assistant", "Score:")
    assert plain.attempts([item]).next_batch()[0].messages[-1][0] == "user"
    released = judge.model_copy(update={"scoring": ScoreJudgeParams(read="int")})
    assert ScoreJudge(released, True).prefill == ""  # the released reading: no prefill
    assert prefilled.read(ChatResult(text="4")) == (4.0, "text")
    assert plain.read(ChatResult(text="1. The user's personality")) is None  # a list, not a score
    assert plain.reading(ChatResult(text="1. The user's personality")) == (None, "missing", "list")


class Says:
    """An LLM layer whose backend answers every request with one text."""

    def __init__(self, text: str):
        self.text = text

    def chat(self, role: str, requests: list) -> list[ChatResult]:
        return [ChatResult(text=self.text) for _ in requests]


def test_the_pairwise_judge_completes_verdict_only_where_the_backend_continues():
    """Prefilled, the judge's words after "Verdict:" are the slot, and the record shows them whole."""
    judge = JudgeParams()
    item = PairAsk("Baker.", "Warm.", "Bread?", "Weather.", (1, 0, "judge_ab"))
    prefilled, plain = PairwiseJudge(judge, True), PairwiseJudge(judge, False)
    assert prefilled.attempts([item]).next_batch()[0].messages[-1] == ("assistant", "Verdict:")
    assert plain.attempts([item]).next_batch()[0].messages[-1][0] == "user"
    released = judge.model_copy(update={"pairwise": judge.pairwise.model_copy(update={"read": "exact_first"})})
    assert PairwiseJudge(released, True).prefill == ""  # the released reading: no prefill
    [answer] = prefilled.ask(Says("Message 2: hi"), [item])
    recorded = prefilled.order_answer(answer)
    assert recorded.raw == "Verdict: Message 2: hi" and recorded.reading.verdict == "second"
    [answer] = plain.ask(Says("Message 2: hi"), [item])
    assert plain.order_answer(answer).reading.reason == "unslotted"


def test_the_persona_writer_samples_examples_and_seed_from_one_generator_per_call():
    writer = PersonaWriter(temperature=1.0, max_tokens=200, candidates_per_call=4, examples_per_prompt=2)
    pool = [f"text {i}" for i in range(10)]
    a, b = writer.item("profile", pool, "0/profile/1/0"), writer.item("profile", pool, "0/profile/1/1")
    assert a == writer.item("profile", pool, "0/profile/1/0") and a != b
    [request] = writer.attempts([a]).next_batch()
    assert request.seed == a.seed and request.top_p == 0.95 and request.temperature == 1.0
    assert writer.read(ChatResult(text="Here are four:\nI am a 40-year-old nurse in Leeds who swims.")) == [
        ("Here are four:", "preamble"),
        ("I am a 40-year-old nurse in Leeds who swims.", "ok"),
    ]


def test_the_roles_index_names_every_role_module():
    """roles/__init__ is the index a newcomer reads: every role module is in its table."""
    index = (SRC / "roles" / "__init__.py").read_text()
    modules = {p.stem for p in Path(SRC / "roles").glob("*.py")} - {
        "__init__",
        "base",
        "clean",
        "verdicts",
        "scores",
        "slots",
        "tokens",
    }
    missing = sorted(m for m in modules if f"aloe.roles.{m}." not in index)
    assert missing == []

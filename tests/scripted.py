"""A scripted model behind the loopback OpenAI-compatible server: it recognises which
role prompt it was sent (by the prompt files' own wording) and answers by a rule
the test chooses, with log-probabilities at every position like a real endpoint.
Every role of the pipeline can point at it through the real `openai` backend."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from aloe.llm.base import ChatRequest, ChatResult

ROLE_MARKERS = (  # (role, a phrase only that role's prompt contains)
    ("judge_pair", "Decide which message the user would prefer"),
    ("judge_score", "Rate how well the reply is tailored"),
    ("inducer", "Work out which parts of the profile"),
    ("hinted", "(Hint: this is what is known"),
    ("user", "You are role-playing a real person"),
    ("user", "(Reply as the person you are playing"),
    ("plain", "(We are role-playing: reply in very concise"),
)


def role_of(request: ChatRequest) -> str:
    last = request.messages[-1][1]
    if request.messages[0][1].startswith("You are role-playing a real person"):
        return "user"  # the simulator's own chat: its last message is the bot's reply + instruction
    return next((role for role, marker in ROLE_MARKERS if marker in last), "model")


def field(text: str, name: str) -> str:
    m = re.search(rf"^{name}: (.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def tokens_result(pieces: list[str], top: dict[int, dict[str, float]] | None = None) -> ChatResult:
    """A completion spelled by ``pieces``; ``top[i]`` = probabilities at position i
    (other positions: the piece itself with probability 1)."""
    top = top or {}
    logprobs = [
        {"token": p, "top": [[t, math.log(q)] for t, q in top.get(i, {p: 1.0}).items()]} for i, p in enumerate(pieces)
    ]
    return ChatResult(text="".join(pieces).strip(), prompt_tokens=10, completion_tokens=len(pieces), logprobs=logprobs)


def verdict(p_first: float) -> ChatResult:
    """A judge answering "first"/"second" with P(first) = p_first at its one token."""
    word = "first" if p_first >= 0.5 else "second"
    return tokens_result([word], {0: {"first": p_first, "second": 1 - p_first}})


def marker(text: str) -> str:
    """The first three words of a persona text: what a scripted reply 'uses'."""
    return " ".join(text.split()[:3])


def persona_rules(
    judge: Callable[[ChatRequest, str, str, str], ChatResult] | None = None,
    score: Callable[[ChatRequest], ChatResult] | None = None,
) -> Callable:
    """A generate function: the simulator talks, the inducer reveals the profile, the
    hinted responder uses its hint's first words, the plain one does not; ``judge(request,
    profile, first, second)`` and ``score(request)`` decide the judges."""

    def answer(req: ChatRequest) -> ChatResult:
        role, text = role_of(req), req.messages[-1][1]
        if role == "user":
            return tokens_result(["I", " love", " my", " garden", "."])
        if role == "inducer":
            profile = field(text, "True profile")
            return ChatResult(text=f"Profile: {profile}\nPersonality: None", prompt_tokens=10, completion_tokens=5)
        if role == "hinted":
            return ChatResult(
                text=f"Tell me more about {marker(field(text, 'Profile'))}!", prompt_tokens=10, completion_tokens=5
            )
        if role == "plain":
            return ChatResult(text="That sounds nice.", prompt_tokens=10, completion_tokens=3)
        if role == "judge_pair":
            first = text.split("Message 1: ", 1)[1].split("\n\nMessage 2: ", 1)[0]
            second = text.split("Message 2: ", 1)[1].split("\n\n", 1)[0]
            return judge(req, field(text, "Profile"), first, second)
        if role == "judge_score":
            return score(req) if score else tokens_result(["3"])
        return ChatResult(text="Nice to meet you!", prompt_tokens=10, completion_tokens=4)

    return lambda requests: [answer(r) for r in requests]


def prefers_persona(req: ChatRequest, profile: str, first: str, second: str) -> ChatResult:
    """Prefers the reply that uses the persona's own words, in either order."""
    in_first, in_second = marker(profile) in first, marker(profile) in second
    return verdict(0.5 if in_first == in_second else 0.95 if in_first else 0.05)


def always_first(req: ChatRequest, profile: str, first: str, second: str) -> ChatResult:
    return verdict(0.9)

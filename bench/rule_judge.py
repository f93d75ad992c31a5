"""The known-answer rule judge, with the faults real judges have as knobs.

The rule, fixed before any result was seen:

    persona words of a reply = distinct content words (4+ letters, not a stopword,
    a plural "s" dropped) of the persona's profile and personality that the reply uses.
    Pairwise: P(first) = sigmoid(3 * (words(first) - words(second))); an equal count
    gives 0.5, which the label rule makes a tie.
    Scoring (the benchmark): score = min(5, 1 + 2 * words), with 0.8 of the
    probability on that digit and the rest on its neighbours.

:class:`JudgeFaults` bends the rule the way real judges fail, so that a judge report
card (metrics/judge.json, ``aloe judge-card``) can be checked against faults of known
size: a position bias (P(first) shifted by b), a length bias (P(first) shifted by l
towards the longer reply), verdict noise (a share epsilon of verdicts flipped, chosen
by a hash of the prompt so a rerun flips the same ones), a constant score, and the
answer's form (a bare word, a sentence, or a numbered list). Every knob is part of
the served model's identity (:meth:`JudgeFaults.tag`), so cached answers never cross
settings.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.server import ChatServer

STOPWORDS = set(
    """about above after again against also because been before being below between both could
does doing down during each even every from further have having here hers herself himself into itself just
like love loves make more most much myself never only other ours ourselves over really same should some such
than that their theirs them themselves then there these they this those through under until very what when
where which while will with would your yours yourself yourselves always often usually sometimes enjoy enjoys
things thing people person years year old life time work works working""".split()
)
FORMATS = ("word", "sentence", "list")


def words(text: str) -> set[str]:
    return {w.removesuffix("s") for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOPWORDS}


def persona_words(reply: str, profile: str, personality: str) -> int:
    return len(words(reply) & (words(profile) | words(personality)))


def template(name: str) -> re.Pattern:
    """The inverse of ``aloe.prompts.render(name, ...)``: a regex that gives back every field."""
    text = resources.files("aloe.prompts").joinpath(f"{name}.txt").read_text()
    parts = re.split(r"\{(\w+)\}", text)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts)) + r"\Z", re.S
    )


PAIR, SCORE = template("judge_pair"), template("judge_score")


@dataclass(frozen=True)
class JudgeFaults:
    position_bias: float = 0.0  # added to P(first)
    length_bias: float = 0.0  # added to P(first) when the first reply is longer, taken when shorter
    noise: float = 0.0  # share of verdicts flipped
    constant_score: int | None = None  # every 1-5 score is this
    answer_format: str = "word"  # word | sentence | list

    def __post_init__(self) -> None:
        if self.answer_format not in FORMATS:
            raise ValueError(f"answer_format: one of {FORMATS}, not {self.answer_format!r}")
        if self.constant_score is not None and not 1 <= self.constant_score <= 5:
            raise ValueError(f"constant_score: 1-5, not {self.constant_score}")

    def tag(self) -> str:
        """The knobs as they go into the served identity ("clean" when none is set)."""
        changed = {k: v for k, v in asdict(self).items() if v != getattr(JudgeFaults, k)}
        return ",".join(f"{k}={v}" for k, v in sorted(changed.items())) or "clean"


class RuleJudge:
    """Answers our two judge prompts (src/aloe/prompts/judge_pair.txt, judge_score.txt) by the
    rule, bent by ``faults``. ``reverse_pairs``: the pairwise rule prefers fewer persona words."""

    def __init__(self, reverse_pairs: bool = False, faults: JudgeFaults | None = None):
        self.sign = -1 if reverse_pairs else 1
        self.faults = faults or JudgeFaults()

    def generate(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return [self.answer(next(c for r, c in reversed(r.messages) if r == "user")) for r in requests]

    def answer(self, prompt: str) -> ChatResult:
        f = self.faults
        if m := PAIR.match(prompt):
            profile, personality, first, second = m["profile"], m["personality"], m["first"], m["second"]
            delta = persona_words(first, profile, personality) - persona_words(second, profile, personality)
            p_first = 1 / (1 + math.exp(-3 * self.sign * delta))
            p_first += (
                f.position_bias
                + f.length_bias * (len(first) > len(second))
                - f.length_bias * (len(first) < len(second))
            )
            p_first = min(max(p_first, 0.0), 1.0)
            if flipped(prompt, f.noise):
                p_first = 1.0 - p_first
            word = "first" if p_first >= 0.5 else "second"
            return spoken(word, {"first": p_first, "second": 1 - p_first}, f.answer_format, "verdict")
        if m := SCORE.match(prompt):
            score = min(5, 1 + 2 * persona_words(m["reply"], m["profile"], m["personality"]))
            if f.constant_score is not None:
                score = f.constant_score
            near = [d for d in (score - 1, score + 1) if 1 <= d <= 5]
            probabilities = {str(score): 0.8, **{str(d): 0.2 / len(near) for d in near}}
            return spoken(str(score), probabilities, f.answer_format, "score")
        return ChatResult(text="", finish_reason="error", error="the rule judge answers only judge prompts")


def flipped(prompt: str, share: float) -> bool:
    """Whether this prompt's verdict is flipped: a fixed share of prompts, chosen by hash."""
    return share > 0 and int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 16**8 < share


def spoken(token: str, probabilities: dict[str, float], form: str, kind: str) -> ChatResult:
    """The answer in ``form``, with log-probabilities at the answer's token, like an endpoint."""
    top = [[t, math.log(max(p, 1e-9))] for t, p in sorted(probabilities.items(), key=lambda kv: -kv[1])]
    if form == "word":
        pieces, at = [token], 0
    elif form == "sentence":
        pieces = ["I", " prefer", " the", f" {token}", " message", "."] if kind == "verdict" else None
        pieces = pieces or ["I", " would", " rate", " it", f" {token}", "."]
        at = 3 if kind == "verdict" else 4
        top = [[f" {t}", lp] for t, lp in top]
    else:  # a numbered list, as small judges write: the answer comes after the list marker
        pieces = ["1", ".", " The", " user", " would", " say", f" {token}", "."]
        at = 6
        top = [[f" {t}", lp] for t, lp in top]
    logprobs = [{"token": p, "top": top if i == at else [[p, 0.0]]} for i, p in enumerate(pieces)]
    return ChatResult(text="".join(pieces), logprobs=logprobs)  # no tokenizer: no token counts


def rule_judge_server(judge: RuleJudge) -> ChatServer:
    """The judge behind the loopback OpenAI-compatible server. The served identity (what
    GET /models reports, hence every cache key) names the rule's direction, its faults and
    a digest of this file, so no cached verdict crosses a setting or an edit of the rule."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    direction = "fewer" if judge.sign < 0 else "more"
    return ChatServer(
        judge.generate,
        model_name="rule-judge",
        batch_window_s=0.0,
        root=f"rule:{direction}-persona-words:{judge.faults.tag()}:{code}",
    )

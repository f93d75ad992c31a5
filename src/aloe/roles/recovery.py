"""The persona-recovery probe (RLPA's reward): at an episode's end the simulated user asks the
policy what it has learned about them; the answer is scored against the hidden persona
(:func:`aloe.training.rewards.persona_recovery`). Only the question lives here: the policy,
not an LLM backend, answers it, inside the GRPO rollout."""

from __future__ import annotations

from aloe.prompts import render


def recovery_messages(history: list[dict]) -> list[dict]:
    """The policy's chat with the user's closing question appended."""
    return [*history, {"role": "user", "content": render("recovery_question")}]

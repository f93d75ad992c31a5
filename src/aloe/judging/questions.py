"""The two questions a judge is asked, as chat messages: which of two replies the
persona prefers (trees, judge check), and how well one reply fits it, 1-5 (the
benchmark, judge check). One place, so every caller asks exactly the same."""

from __future__ import annotations

from aloe.prompts import render


def pair_question(profile: str, personality: str, first: str, second: str) -> list[dict]:
    return [
        {
            "role": "user",
            "content": render("judge_pair", profile=profile, personality=personality, first=first, second=second),
        }
    ]


def score_question(profile: str, personality: str, message: str, reply: str) -> list[dict]:
    return [
        {
            "role": "user",
            "content": render("judge_score", profile=profile, personality=personality, message=message, reply=reply),
        }
    ]

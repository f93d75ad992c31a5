"""The persona filter: normalisation, exact duplicates and rule filters in DuckDB
SQL, then greedy embedding near-duplicates in generation order.

Rules (thresholds in ``personas.filter``):
- length: word count outside [min_words, max_words] for the kind;
- sentences: more sentences than max_sentences;
- off_kind: a profile that describes personality (trait vocabulary), or a
  personality that states facts (ages, jobs, family, places).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from aloe.personas.embeddings import Embedder
from aloe.personas.novelty import greedy_novel

TRAIT_WORDS = (
    "personality",
    "introvert",
    "extrovert",
    "outgoing",
    "shy",
    "optimistic",
    "pessimistic",
    "stubborn",
    "empathetic",
    "sarcastic",
    "impatient",
    "cheerful",
    "grumpy",
    "anxious",
    "confident",
    "personality traits",
)
FACT_PATTERNS = (
    r"\b\d{1,3}[- ]years?[- ]old\b",
    r"\bi am \d{1,3}\b",
    r"\bi work(ed)? (as|at|in)\b",
    r"\b(my|i have (a|two|three)) (wife|husband|son|daughter|kids|children)\b",
    r"\bi live in\b",
    r"\bi'?m a \d",
    r"\b(retired|engineer|teacher|nurse|doctor|student|farmer)\b",
)


def _any_regex(column: str, patterns: tuple[str, ...]) -> str:
    quoted = (p.replace("'", "''") for p in patterns)
    return " OR ".join(f"regexp_matches(lower({column}), '{p}')" for p in quoted)


def rule_sql(cfg) -> str:
    trait = _any_regex("text", tuple(rf"\b{w}\b" for w in TRAIT_WORDS))
    fact = _any_regex("text", FACT_PATTERNS)
    return f"""
    WITH base AS (
        SELECT *,
            trim(regexp_replace(lower(text), '[^a-z0-9]+', ' ', 'g')) AS norm,
            len(string_split(trim(text), ' ')) AS n_words,
            len(regexp_extract_all(text, '[.!?](\\s|$)')) AS n_sentences
        FROM candidates WHERE status = 'ok'
    ), ranked AS (
        SELECT *, row_number() OVER (PARTITION BY kind, norm ORDER BY position) AS dup_rank FROM base
    )
    SELECT *,
        CASE
            WHEN dup_rank > 1 THEN 'exact_duplicate'
            WHEN kind = 'profile' AND (n_words < {cfg.profile_words[0]} OR n_words > {cfg.profile_words[1]})
                THEN 'rule:length'
            WHEN kind = 'personality' AND (n_words < {cfg.personality_words[0]}
                                           OR n_words > {cfg.personality_words[1]}) THEN 'rule:length'
            WHEN n_sentences > {cfg.max_sentences} THEN 'rule:sentences'
            WHEN kind = 'profile' AND ({trait}) THEN 'rule:off_kind'
            WHEN kind = 'personality' AND ({fact}) THEN 'rule:off_kind'
            ELSE NULL
        END AS reason
    FROM ranked ORDER BY position
    """


def filter_candidates(candidates: pd.DataFrame, cfg, embedder: Embedder) -> pd.DataFrame:
    """Return the parsed candidates with ``reason`` (NULL = accepted), in position order.

    ``candidates`` needs columns kind, text, status, position.
    """
    con = duckdb.connect()
    con.register("candidates", candidates)
    ruled = con.execute(rule_sql(cfg)).df()
    ruled["reason"] = ruled["reason"].astype(object)
    for kind in ruled["kind"].unique():
        alive = ruled.index[(ruled["kind"] == kind) & ruled["reason"].isna()]
        emb = embedder.encode(ruled.loc[alive, "text"].tolist())
        keep = greedy_novel(emb, cfg.threshold)
        ruled.loc[alive[~keep], "reason"] = "near_duplicate"
    return ruled.drop(columns=["dup_rank"])


def rejection_counts(ruled: pd.DataFrame, kind: str, candidates: int) -> dict:
    reasons = ruled.loc[ruled["kind"] == kind, "reason"]
    rule = reasons.fillna("").str.startswith("rule:")
    return {
        "candidates": candidates,
        "accepted": int(reasons.isna().sum()),
        "rejected": {
            "exact_duplicate": int((reasons == "exact_duplicate").sum()),
            "near_duplicate": int((reasons == "near_duplicate").sum()),
            "rule": int(rule.sum()),
        },
        "rule_detail": {r.split(":", 1)[1]: int(n) for r, n in reasons[rule].value_counts().items()},
    }

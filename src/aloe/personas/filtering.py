"""The persona filter: normalisation, exact duplicates and rule filters in DuckDB
SQL, then greedy embedding near-duplicates in generation order.

Every candidate gets one reason (or none: accepted), so the counts add up:
- unparsed:<status>: what generation could not use (refusal, preamble, heading,
  fragment, llm_error, truncated: the last line of an answer cut by max_tokens);
- exact_duplicate: the same text after normalisation, earlier in the pool;
- rule:markup: table, markdown or HTML characters ("|Date |Occupation |...");
- rule:field_list: field labels ("Name: ... Age: ...") instead of a description;
- rule:little_text: less than 60% of its characters are letters;
- rule:length, rule:sentences: word count outside the kind's range, too many sentences;
- rule:no_person: a profile that says nothing about a person (no I, my, he, she,
  they, "a 30-year-old", ...);
- rule:not_a_description: a personality that talks about words ("X is not a
  character trait", "the word", "refers to") instead of describing someone;
- rule:off_kind: a profile in trait vocabulary, or a personality stating facts;
- near_duplicate: cosine above ``threshold`` to an earlier accepted text;
- llm_check: the optional LLM quality check said no (aloe.personas.llm_check).
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


PERSON = (r"\b(i|i'm|im|my|me|mine|we|our|he|she|his|her|him|they|their|them)\b", r"\d+[- ]years?[- ]old")
ABOUT_WORDS = (
    r"\bis not an? ",
    r"\bthe (word|term)\b",
    r"\brefers? to\b",
    r"\bis defined as\b",
    r"\bis an? (word|term|noun|adjective)\b",
)


def rule_sql(cfg) -> str:
    trait = _any_regex("text", tuple(rf"\b{w}\b" for w in TRAIT_WORDS))
    fact = _any_regex("text", FACT_PATTERNS)
    person = _any_regex("text", PERSON)
    about_words = _any_regex("text", ABOUT_WORDS)
    return f"""
    WITH base AS (
        SELECT *,
            trim(regexp_replace(lower(text), '[^a-z0-9]+', ' ', 'g')) AS norm,
            len(string_split(trim(text), ' ')) AS n_words,
            len(regexp_extract_all(text, '[.!?](\\s|$)')) AS n_sentences,
            length(regexp_replace(text, '[^A-Za-z]', '', 'g')) / greatest(length(text), 1) AS letters
        FROM candidates
    ), ranked AS (
        SELECT *, row_number() OVER (PARTITION BY kind, norm, status = 'ok' ORDER BY position) AS dup_rank
        FROM base
    )
    SELECT *,
        CASE
            WHEN status <> 'ok' THEN 'unparsed:' || status
            WHEN dup_rank > 1 THEN 'exact_duplicate'
            WHEN regexp_matches(text, '[|<>#*_{{}}\\[\\]]') THEN 'rule:markup'
            WHEN len(regexp_extract_all(text, '\\b[A-Z][A-Za-z]+\\s*:')) >= 2 THEN 'rule:field_list'
            WHEN letters < 0.6 THEN 'rule:little_text'
            WHEN kind = 'profile' AND (n_words < {cfg.profile_words[0]} OR n_words > {cfg.profile_words[1]})
                THEN 'rule:length'
            WHEN kind = 'personality' AND (n_words < {cfg.personality_words[0]}
                                           OR n_words > {cfg.personality_words[1]}) THEN 'rule:length'
            WHEN n_sentences > {cfg.max_sentences} THEN 'rule:sentences'
            WHEN kind = 'profile' AND NOT ({person}) THEN 'rule:no_person'
            WHEN kind = 'personality' AND ({about_words}) THEN 'rule:not_a_description'
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


def rejection_counts(ruled: pd.DataFrame, kind: str) -> dict:
    """candidates = accepted + every rejection, each counted once under its reason."""
    reasons = ruled.loc[ruled["kind"] == kind, "reason"]
    rule = reasons.fillna("").str.startswith("rule:")
    unparsed = reasons.fillna("").str.startswith("unparsed:")
    return {
        "candidates": int(len(reasons)),
        "accepted": int(reasons.isna().sum()),
        "rejected": {
            "exact_duplicate": int((reasons == "exact_duplicate").sum()),
            "near_duplicate": int((reasons == "near_duplicate").sum()),
            "rule": int(rule.sum()),
            "unparsed": int(unparsed.sum()),
            "llm_check": int((reasons == "llm_check").sum()),
        },
        "rule_detail": {r.split(":", 1)[1]: int(n) for r, n in sorted(reasons[rule].value_counts().items())},
        "unparsed_detail": {r.split(":", 1)[1]: int(n) for r, n in sorted(reasons[unparsed].value_counts().items())},
    }

"""The persona filter, a funnel that scales to 1M candidates on one machine:
normalisation, exact duplicates and rule filters in DuckDB SQL; then MinHash LSH
near-duplicates on word shingles (aloe.personas.minhash), cheap and before any text
is encoded; then greedy embedding near-duplicates in generation order
(aloe.personas.novelty), exact while the kept pool is small, through an HNSW index
past EXACT_UP_TO kept texts.

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
- minhash_duplicate: estimated Jaccard of word shingles at least ``minhash_threshold``
  to an earlier text that passed the rules and was not itself a MinHash duplicate;
- near_duplicate: cosine above ``cutoff`` (the encoder's threshold) to an earlier accepted text;
- llm_check: the optional LLM quality check said no (aloe.personas.llm_check).
"""

from __future__ import annotations

import time

import duckdb
import pandas as pd

from aloe.personas.embeddings import Embedder
from aloe.personas.minhash import minhash_novel
from aloe.personas.novelty import EXACT_UP_TO, greedy_novel

# The funnel's steps in order, each with the reasons it gives (llm_check: stage-side, optional).
FUNNEL = (
    ("parse", "unparsed:"),
    ("exact", "exact_duplicate"),
    ("rules", "rule:"),
    ("minhash", "minhash_duplicate"),
    ("embedding", "near_duplicate"),
    ("llm_check", "llm_check"),
)

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
    """Exact duplicates and rules in DuckDB: each candidate's first failed check as ``reason``.

    Shape rules (markup, field lists, length, sentences) hold for every text. Content rules
    (no person words, the other kind's words, a definition) catch the writer model's
    mistakes; imported pools (PersonaHub's "A chemistry teacher who ...") are curated, in
    the third person and one line, and skip them unless ``import_rules`` is ``all``."""
    content = "TRUE" if cfg.import_rules == "all" else "source IS DISTINCT FROM 'import'"
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
            WHEN NOT ({content}) THEN NULL
            WHEN kind = 'profile' AND NOT ({person}) THEN 'rule:no_person'
            WHEN kind = 'personality' AND ({about_words}) THEN 'rule:not_a_description'
            WHEN kind = 'profile' AND ({trait}) THEN 'rule:off_kind'
            WHEN kind = 'personality' AND ({fact}) THEN 'rule:off_kind'
            ELSE NULL
        END AS reason
    FROM ranked ORDER BY position
    """


def filter_candidates(
    candidates: pd.DataFrame, cfg, embedder: Embedder, seconds: dict[str, float] | None = None
) -> pd.DataFrame:
    """Return the parsed candidates with ``reason`` (NULL = accepted), in position order.

    ``candidates`` needs columns kind, text, status, position and source. ``seconds`` (if given)
    receives the wall time of each step, over both kinds: a run log's business, not a metric.
    """
    seconds = {} if seconds is None else seconds
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(seconds.get(step, 0.0) + now - clock, 3)
        clock = now

    con = duckdb.connect()
    con.register("candidates", candidates)
    ruled = con.execute(rule_sql(cfg)).df()
    ruled["reason"] = ruled["reason"].astype(object)
    lap("exact_and_rules")
    for kind in ruled["kind"].unique():
        alive = ruled.index[(ruled["kind"] == kind) & ruled["reason"].isna()]
        keep = minhash_novel(ruled.loc[alive, "text"].tolist(), cfg.minhash_threshold)
        ruled.loc[alive[~keep], "reason"] = "minhash_duplicate"
        alive = alive[keep]
        lap("minhash")
        emb = embedder.encode(ruled.loc[alive, "text"].tolist())
        lap("encode")
        keep = greedy_novel(emb, cfg.cutoff, exact_up_to=EXACT_UP_TO)
        ruled.loc[alive[~keep], "reason"] = "near_duplicate"
        lap("embedding")
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
            "minhash_duplicate": int((reasons == "minhash_duplicate").sum()),
            "near_duplicate": int((reasons == "near_duplicate").sum()),
            "rule": int(rule.sum()),
            "unparsed": int(unparsed.sum()),
            "llm_check": int((reasons == "llm_check").sum()),
        },
        "rule_detail": {r.split(":", 1)[1]: int(n) for r, n in sorted(reasons[rule].value_counts().items())},
        "unparsed_detail": {r.split(":", 1)[1]: int(n) for r, n in sorted(reasons[unparsed].value_counts().items())},
    }


def source_counts(ruled: pd.DataFrame, kind: str) -> dict:
    """Per source (seed, import, generated): candidates, accepted, and each rejection reason:
    an imported pool that the rules do not fit shows here, not as a silent shortfall."""
    out = {}
    for source, rows in ruled[ruled["kind"] == kind].groupby("source", sort=True):
        reasons = rows["reason"].dropna()
        out[source] = {
            "candidates": len(rows),
            "accepted": len(rows) - len(reasons),
            "rejected": {r: int(n) for r, n in sorted(reasons.value_counts().items())},
        }
    return out


def funnel_counts(ruled: pd.DataFrame, kind: str) -> dict:
    """For each funnel step in order: candidates in, dropped by it, out (the next step's in)."""
    reasons = ruled.loc[ruled["kind"] == kind, "reason"].fillna("")
    left, steps = len(reasons), {}
    for step, reason in FUNNEL:
        dropped = int(reasons.str.startswith(reason).sum())
        steps[step] = {"in": left, "dropped": dropped, "out": left - dropped}
        left -= dropped
    return steps

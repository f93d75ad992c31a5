"""Persona pool: loaders, parsing, the DuckDB/MinHash/embedding filter funnel and the splits."""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from aloe.errors import AloeError
from aloe.params import PersonaFilterParams, PersonaSplitParams
from aloe.personas.embeddings import Embedder
from aloe.personas.filtering import filter_candidates, funnel_counts, rejection_counts, rule_sql
from aloe.personas.minhash import minhash_novel
from aloe.personas.novelty import greedy_novel, mean_pairwise_similarity
from aloe.personas.splits import split
from aloe.personas.texts import load_texts
from aloe.roles.persona_writer import parse_candidates


def test_load_texts_accepts_both_formats_and_names_bad_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('"I am a baker in Lyon."\n{"text": "I am a nurse."}\n')
    assert load_texts(path) == ["I am a baker in Lyon.", "I am a nurse."]
    path.write_text('"ok"\n{"name": "no text field"}\n')
    with pytest.raises(AloeError, match=r"p\.jsonl:2: expected a JSON string"):
        load_texts(path)
    path.write_text("\n\n")
    with pytest.raises(AloeError, match="empty"):
        load_texts(path)


def test_parse_candidates_strips_numbering_and_records_rejects():
    out = parse_candidates(
        "Sure! Here are three profiles:\n"
        "1. I am a 40-year-old plumber in Leeds with two sons who loves darts.\n"
        "2) I am a retired nurse in Oslo who knits and walks her dog every morning.\n"
        "- too short\n\n"
        "Profile 4: I am a 31-year-old violinist in Vienna who teaches children on weekends.\n"
        "I'm sorry, but as an AI I cannot write more profiles."
    )
    ok = [t for t, s in out if s == "ok"]
    assert ok == [
        "I am a 40-year-old plumber in Leeds with two sons who loves darts.",
        "I am a retired nurse in Oslo who knits and walks her dog every morning.",
        "I am a 31-year-old violinist in Vienna who teaches children on weekends.",
    ]
    assert sorted(s for _, s in out if s != "ok") == ["fragment", "preamble", "refusal"]


def test_greedy_novel_is_order_dependent_like_the_paper():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    near_a = np.array([0.8, 0.6])  # cos(a, near_a) = 0.8
    emb = np.stack([a, near_a, b, a])
    assert greedy_novel(emb, 0.6).tolist() == [True, False, True, False]
    assert greedy_novel(emb[[1, 0, 2]], 0.6).tolist() == [True, False, True]
    assert greedy_novel(np.stack([b]), 0.6, kept=np.stack([a])).tolist() == [True]
    assert greedy_novel(emb, 0.6, block=1).tolist() == [True, False, True, False]


def test_mean_pairwise_similarity_matches_brute_force():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(30, 8))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sims = emb @ emb.T
    expected = (sims.sum() - np.trace(sims)) / (30 * 29)
    assert mean_pairwise_similarity(emb) == pytest.approx(expected, abs=1e-6)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:  # this module's own cache, not the later tests'
        env.setenv("ALOE_CACHE_DIR", str(tmp_path_factory.mktemp("emb-cache")))
        yield Embedder()


def test_filter_reasons(embedder):
    texts = [
        ("profile", "I am a 34-year-old carpenter in Cork. I build boats and coach hurling on Saturdays."),
        ("profile", "i am a 34-year-old carpenter in cork!  I build boats and coach hurling on saturdays"),
        ("profile", "I am a 34 year old carpenter living in Cork; I build boats and I coach hurling every Saturday."),
        ("profile", "I am a cheerful and optimistic person with a very outgoing personality and a kind heart."),
        ("profile", "Short one."),
        ("profile", "I am a 61-year-old tax adviser in Singapore who swims at dawn and keeps orchids."),
        ("personality", "Calm, patient, gentle, modest, thoughtful, quiet, loyal, reflective."),
        ("personality", "I am 45 years old and I work as a pilot in Dubai with my two daughters."),
    ]
    frame = pd.DataFrame(
        [dict(kind=k, text=t, status="ok", position=i, source="generated") for i, (k, t) in enumerate(texts)]
    )
    ruled = filter_candidates(frame, PersonaFilterParams(), embedder)
    reasons = ruled["reason"].where(ruled["reason"].notna(), None).tolist()
    assert reasons == [
        None,
        "exact_duplicate",
        "near_duplicate",
        "rule:off_kind",
        "rule:length",
        None,
        None,
        "rule:off_kind",
    ]
    counts = rejection_counts(ruled, "profile")
    assert counts["accepted"] == 2
    assert counts["rejected"] == {
        "exact_duplicate": 1,
        "minhash_duplicate": 0,
        "near_duplicate": 1,
        "rule": 2,
        "unparsed": 0,
        "llm_check": 0,
    }


JUNK = [  # seen in the persona pool of the embedded model
    (
        "profile",
        "|Date |Occupation |Location |Height |Interests |Yourname |Hobbies |Family |Pets |",
        "ok",
        "rule:markup",
    ),
    ("profile", "I am a five-year-old boy who loves his normal mother but no", "truncated", "unparsed:truncated"),
    (
        "personality",
        "Refacing is not a character trait, it is a home improvement project.",
        "ok",
        "rule:not_a_description",
    ),
    (
        "profile",
        "Name: Tom Berger. Age: 41. Occupation: carpenter in Graz, where he builds boats.",
        "ok",
        "rule:field_list",
    ),
    (
        "profile",
        "A sunny garden, a red bicycle, three cats and a lot of tomatoes growing by the shed door.",
        "ok",
        "rule:no_person",
    ),
    ("personality", "$$$ 1234 5678 9012 !!! ??? ### 2024/2025 ~~~ 42%", "ok", "rule:markup"),
    ("personality", "Calm, 12345, 67890, 24680, 13579, 11223, 44556, 77889", "ok", "rule:little_text"),
]


def test_junk_that_is_not_a_persona_is_rejected_with_its_reason(embedder):
    rows = [dict(kind=k, text=t, status=s, position=i, source="generated") for i, (k, t, s, _) in enumerate(JUNK)]
    ruled = filter_candidates(pd.DataFrame(rows), PersonaFilterParams(), embedder)
    assert ruled["reason"].tolist() == [reason for *_, reason in JUNK]
    for kind in ("profile", "personality"):
        counts = rejection_counts(ruled, kind)  # every candidate counted once: the counts add up
        assert counts["candidates"] == counts["accepted"] + sum(counts["rejected"].values())
        assert sum(counts["rule_detail"].values()) == counts["rejected"]["rule"]
    assert rejection_counts(ruled, "profile")["unparsed_detail"] == {"truncated": 1}


DEFAULT_CANDIDATES = Path(__file__).parent / "data/default_candidates.parquet"  # the default run's, see below


def exact_greedy_filter(frame: pd.DataFrame, cfg, embedder: Embedder) -> pd.DataFrame:
    """The filter before the funnel: DuckDB rules, then exact greedy embedding
    near-duplicates over every text that passed them."""
    con = duckdb.connect()
    con.register("candidates", frame)
    ruled = con.execute(rule_sql(cfg)).df()
    ruled["reason"] = ruled["reason"].astype(object)
    for kind in ruled["kind"].unique():
        alive = ruled.index[(ruled["kind"] == kind) & ruled["reason"].isna()]
        keep = greedy_novel(embedder.encode(ruled.loc[alive, "text"].tolist()), cfg.threshold)
        ruled.loc[alive[~keep], "reason"] = "near_duplicate"
    return ruled


def test_the_funnel_keeps_what_the_exact_filter_keeps_on_the_default_pool(embedder):
    """tests/data/default_candidates.parquet is data/personas/candidates.parquet of the
    default run (md5 2b35a6f2a846292dcfff7d8c596008dc in dvc.lock at f4f392a): 210 candidates."""
    frame = pd.read_parquet(DEFAULT_CANDIDATES)
    cfg = PersonaFilterParams()
    funnel = filter_candidates(frame, cfg, embedder)
    before = exact_greedy_filter(frame, cfg, embedder)
    assert funnel["text"][funnel["reason"].isna()].tolist() == before["text"][before["reason"].isna()].tolist()
    assert not (funnel["reason"] == "minhash_duplicate").any()  # at 0.9 MinHash removes nothing here
    for kind in ("profile", "personality"):
        steps = funnel_counts(funnel, kind)
        assert steps["parse"]["in"] == rejection_counts(funnel, kind)["candidates"]
        assert steps["llm_check"]["out"] == rejection_counts(funnel, kind)["accepted"]
        assert all(s["in"] - s["dropped"] == s["out"] for s in steps.values())
        assert [s["in"] for s in steps.values()][1:] == [s["out"] for s in steps.values()][:-1]
    assert funnel_counts(funnel, "profile")["embedding"]["dropped"] == 4  # metrics/personas.json: near_duplicate


def test_minhash_keeps_each_clusters_earliest_text():
    text = (
        "I am a 52-year-old ferry captain in Bergen who restores wooden boats, sings in a choir on "
        "Thursdays and cooks fish soup for my grandchildren every Sunday afternoon."
    )
    edited = text.replace("fish soup", "bean stew")  # an edit in the middle: Jaccard of 3-word shingles ~0.8
    texts = ["Something else entirely, about a teacher in Lima.", text, text.upper() + " Truly.", edited, text]
    assert minhash_novel(texts, 0.9).tolist() == [True, True, False, True, False]
    assert minhash_novel(texts[::-1], 0.9).tolist() == [True, True, False, False, True]  # the earliest stays
    assert minhash_novel(texts, 0.7).tolist() == [True, True, False, False, False]


def test_the_hnsw_pool_agrees_with_exact_search():
    """Past ``exact_up_to`` kept vectors the pool is an HNSW index: on 4k vectors in tight
    clusters (many near duplicates) its decisions match the exact rule's almost always."""
    from aloe.personas.novelty import KeptPool

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1500, 64))
    emb = centres[rng.integers(0, 1500, 4000)] + 0.35 * rng.standard_normal((4000, 64))
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    exact = np.zeros(len(emb), dtype=bool)  # the rule, one candidate at a time
    for i in range(len(emb)):
        exact[i] = not exact.any() or (emb[exact] @ emb[i]).max() <= 0.6
    assert 0.2 < exact.mean() < 0.8
    assert (greedy_novel(emb, 0.6, exact_up_to=4000) == exact).all()
    assert (greedy_novel(emb, 0.6, exact_up_to=0) != exact).sum() <= 4  # measured: 0
    # the index taking over part-way, then growing: with float32 codes (a pool under
    # SQ_MIN_TRAIN at the switch) and with 8-bit codes; measured: 0 and 0
    assert (greedy_novel(emb, 0.6, exact_up_to=300, block=64) != exact).sum() <= 4
    assert (greedy_novel(emb, 0.6, exact_up_to=700, block=64) != exact).sum() <= 4
    tiny = KeptPool(64, exact_up_to=0)
    tiny.add(emb[:1])
    tiny.add(emb[1:1000])
    assert (tiny.nearest(emb[:200]) > 0.999).mean() >= 0.95  # a pool started from one vector still finds its own
    pool = KeptPool(64, exact_up_to=0)
    pool.add(emb[:1000])
    # a text already in the pool finds itself, at its exact similarity (not the 8-bit codes')
    assert pool.index is not None and np.allclose(pool.nearest(emb[:50]), 1.0, atol=1e-5)


def test_the_last_line_of_a_cut_answer_is_marked_truncated():
    from aloe.llm.base import ChatResult
    from aloe.roles.persona_writer import PersonaWriter

    read = PersonaWriter(0.0, 10, 2, 2).read

    text = (
        "I am a 40-year-old plumber in Leeds who plays darts on Fridays.\n"
        "I am a five-year-old boy who loves his normal mother but no"
    )
    assert [s for _, s in read(ChatResult(text=text, finish_reason="length"))] == ["ok", "truncated"]
    assert [s for _, s in read(ChatResult(text=text, finish_reason="stop"))] == ["ok", "ok"]


def test_embeddings_are_cached_by_text(embedder):
    before = embedder.encoded
    embedder.encode(["a brand new sentence about kites", "another one about trains"])
    embedder.encode(["another one about trains", "a brand new sentence about kites"])
    assert embedder.encoded - before == 2


def _pool(n, prefix, dim, offset):
    emb = np.eye(dim)[offset : offset + n]
    ids = [f"{prefix}-{i}" for i in range(n)]
    return pd.DataFrame({"id": ids, "text": [f"{prefix} text {i}" for i in range(n)]}), dict(zip(ids, emb, strict=True))


def test_split_holds_out_whole_profiles_and_personalities():
    profiles, e1 = _pool(8, "prof", 20, 0)
    personalities, e2 = _pool(6, "pers", 20, 8)
    cfg = PersonaSplitParams(eval_profiles=3, eval_personalities=2, train_personas=10)
    train, evals, leak = split(profiles, personalities, {**e1, **e2}, cfg, seed=1, threshold=0.6)
    assert len(evals) == 6 and len(train) == 10
    assert not set(train["profile_id"]) & set(evals["profile_id"])
    assert not set(train["personality_id"]) & set(evals["personality_id"])
    assert leak == 0.0
    with pytest.raises(AloeError, match="only 6 personalities survived"):
        split(profiles, personalities, {**e1, **e2}, PersonaSplitParams(eval_profiles=3, eval_personalities=6), 1, 0.6)


def test_reveal_is_the_share_of_profile_words_stated_so_far():
    from aloe.personas.reveal import mean_by_turn, reveal_curve

    profile = "I am a nurse in Leeds who loves hiking."  # content words: nurse, leed(s), hiking
    messages = ["So tired after my shift today.", "Leeds is rainy again.", "Off hiking, the nurse in me needs air."]
    assert reveal_curve(profile, messages) == [0.0, pytest.approx(1 / 3, abs=1e-4), 1.0]
    assert mean_by_turn([[0.0, 0.5], [0.5], [1.0, 1.0, 1.0]]) == [0.5, 0.75, 1.0]


def test_the_optional_llm_check_rejects_what_the_checker_calls_implausible(scripted_llm):
    from aloe.llm.base import ChatResult
    from aloe.personas.llm_check import check_plausible

    def checker(requests):
        return [ChatResult(text="No." if "spreadsheet" in r.messages[-1][1] else "Yes") for r in requests]

    llm, _ = scripted_llm(checker)
    ruled = pd.DataFrame(
        {
            "kind": ["profile"] * 3,
            "reason": [None, None, "rule:length"],
            "text": ["I am a baker in Lyon.", "I am a spreadsheet of hobbies.", "Short."],
        }
    )
    verdicts = check_plausible(llm, ruled, seed=0)
    assert verdicts.to_dict() == {0: "yes", 1: "no"}  # the rejected row is never asked


def test_a_personas_file_without_a_column_is_an_error_naming_it(tmp_path):
    from aloe.personas.rows import read_personas

    path = tmp_path / "train.parquet"
    row = {"persona_id": ["a+b"], "profile_id": ["a"], "profile": ["I bake."], "personality": ["Calm."]}
    pd.DataFrame(row).to_parquet(path)
    with pytest.raises(AloeError, match=r"train.parquet: not a personas file \(missing column personality_id\)"):
        read_personas(str(path))

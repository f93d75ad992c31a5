"""Which training personas the judge check plants pairs for, and against whom: each
persona's contrast (the least similar other persona: the easy pair) and near
neighbour (the most similar with another profile: the hard pair)."""

from __future__ import annotations

import numpy as np

from aloe.errors import AloeError
from aloe.params import Params
from aloe.personas.embeddings import filter_embedder
from aloe.personas.rows import Persona, read_personas


def spread_over_profiles(personas: list[Persona], n: int) -> list[Persona]:
    """``n`` personas taken one profile at a time (the first persona of every profile, then
    the second, ...), in the split's order: intervals resample profiles, so pairs spread
    over many profiles say more than pairs piled on a few."""
    by_profile: dict[str, list[Persona]] = {}
    for p in personas:
        by_profile.setdefault(p.profile_id, []).append(p)
    rounds = max((len(v) for v in by_profile.values()), default=0)
    spread = [group[k] for k in range(rounds) for group in by_profile.values() if k < len(group)]
    return spread[:n]


def planted_personas(path: str, params: Params) -> tuple[list[Persona], list[int], list[int]]:
    """The check's training personas (spread over profiles) and, for each, its contrast (the
    least similar) and its near neighbour (the most similar with another profile)."""
    rows = spread_over_profiles(read_personas(path), params.judge_check.pairs)
    if len(rows) < 2:
        raise AloeError(f"{path}: the judge check needs at least 2 training personas, found {len(rows)}")
    vectors = filter_embedder(params.personas.filter).encode([f"{p.profile} {p.personality}" for p in rows])
    contrast = contrasts(vectors)
    return rows, contrast, neighbours(vectors, [p.profile_id for p in rows], contrast)


def contrasts(vectors: np.ndarray) -> list[int]:
    """For each persona (row of L2-normalised embeddings), the least similar other persona."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.inf)
    return [int(i) for i in sims.argmin(axis=1)]


def neighbours(vectors: np.ndarray, profiles: list[str], contrast: list[int]) -> list[int]:
    """For each persona, the most similar persona with another profile (the hard planted pair:
    a reply for someone much like them), or the most similar other persona where every one
    shares the profile; never its contrast while there is anyone else (with two personas
    there is not: a greedy responder then writes the same reply twice and the pair drops)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    if len(sims) > 2:
        sims[np.arange(len(sims)), contrast] = -np.inf
    same = np.array(profiles)[:, None] == np.array(profiles)[None, :]
    other = np.where(same, -np.inf, sims)
    return [int(o.argmax()) if np.isfinite(o.max()) else int(s.argmax()) for o, s in zip(other, sims, strict=True)]

"""Compose personas (profile x personality) and hold out an ALOE-shaped eval split.

The eval split takes ``eval_profiles`` profiles and ``eval_personalities``
personalities out of the pool and crosses them (20 x 5 = 100 examples by
default, as in the paper). Training personas are sampled from the remaining
profiles x remaining personalities, so no eval text is ever seen in training;
the near-duplicate filter already made every pair of kept texts less similar
than the threshold, which :func:`split` re-checks rather than trusts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aloe.errors import AloeError
from aloe.personas.novelty import max_similarity


def split(
    profiles: pd.DataFrame, personalities: pd.DataFrame, emb: dict[str, np.ndarray], cfg, seed: int, threshold: float
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Return (train personas, eval personas, eval-to-train max similarity).

    ``profiles``/``personalities`` have columns id, text; ``emb`` maps id to vector.
    """
    for name, pool, n_eval in (
        ("profiles", profiles, cfg.eval_profiles),
        ("personalities", personalities, cfg.eval_personalities),
    ):
        if len(pool) <= n_eval:
            raise AloeError(
                f"only {len(pool)} {name} survived filtering; personas.split needs more than {n_eval} "
                f"(eval) to leave any for training. Lower personas.split.eval_{name}, grow the pool "
                "(personas.generate.*) or import one (personas.import_files)"
            )
    rng = np.random.default_rng(seed)
    eval_prof = profiles.iloc[np.sort(rng.choice(len(profiles), cfg.eval_profiles, replace=False))]
    eval_pers = personalities.iloc[np.sort(rng.choice(len(personalities), cfg.eval_personalities, replace=False))]
    train_prof = profiles[~profiles["id"].isin(eval_prof["id"])]
    train_pers = personalities[~personalities["id"].isin(eval_pers["id"])]

    sims = [
        max_similarity(np.stack([emb[i] for i in e["id"]]), np.stack([emb[i] for i in t["id"]]))
        for e, t in ((eval_prof, train_prof), (eval_pers, train_pers))
    ]
    leak = max(sims)
    if leak > threshold:
        raise AloeError(f"eval split leaks: an eval text has similarity {leak:.3f} > {threshold} to a training text")

    evals = _cross(eval_prof, eval_pers)
    grid = _cross(train_prof, train_pers)
    n_train = min(cfg.train_personas, len(grid))
    train = grid.iloc[np.sort(rng.choice(len(grid), n_train, replace=False))].reset_index(drop=True)
    return train, evals, leak


def _cross(profiles: pd.DataFrame, personalities: pd.DataFrame) -> pd.DataFrame:
    pairs = profiles.rename(columns={"id": "profile_id", "text": "profile"})[["profile_id", "profile"]].merge(
        personalities.rename(columns={"id": "personality_id", "text": "personality"})[
            ["personality_id", "personality"]
        ],
        how="cross",
    )
    pairs.insert(0, "persona_id", pairs["profile_id"] + "+" + pairs["personality_id"])
    return pairs.reset_index(drop=True)

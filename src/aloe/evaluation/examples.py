"""Which personas the benchmark talks to: our eval split or the paper's files, and a
fair sample of them.

The paper crossed all eval profiles with the first 5 eval personalities (100
examples). A benchmark of N < 100 examples must not take the first N rows: with
the paper's files those are one person in five moods. :func:`stratified_sample`
spreads a seeded sample over as many profiles as N allows, balancing
personalities, and every variant gets the same sample.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from aloe.personas.rows import Persona, read_personas
from aloe.personas.texts import load_texts


def eval_personas(cfg, eval_split: str) -> list[Persona]:
    """Every eval example: our eval split, or the paper's files crossed."""
    if cfg.paper_files.profile and cfg.paper_files.personality:
        profiles = load_texts(cfg.paper_files.profile)
        personalities = load_texts(cfg.paper_files.personality)[:5]
        return [
            Persona(f"paper-{i:03d}+{j}", f"paper-{i:03d}", p, f"paper-pers-{j}", q)
            for i, p in enumerate(profiles)
            for j, q in enumerate(personalities)
        ]
    return read_personas(eval_split)


def stratified_sample(rows: list[Persona], n: int | None, seed: int) -> list[Persona]:
    """``n`` rows, round-robin over profiles in a seeded order, each time taking the
    personality used least so far; all rows when ``n`` is None or too large."""
    if n is None or n >= len(rows):
        return list(rows)
    rng = random.Random(f"{seed}/eval-sample")
    by_profile = defaultdict(list)
    for i, row in enumerate(rows):
        by_profile[row.profile_id].append(i)
    order = sorted(by_profile)
    rng.shuffle(order)
    used, chosen = Counter(), []
    while len(chosen) < n:
        for profile in order:
            options = [i for i in by_profile[profile] if i not in chosen]
            if not options or len(chosen) == n:
                continue
            least = min(used[rows[i].personality_id] for i in options)
            pick = rng.choice([i for i in options if used[rows[i].personality_id] == least])
            used[rows[pick].personality_id] += 1
            chosen.append(pick)
    return [rows[i] for i in sorted(chosen)]


def load_examples(cfg, eval_split: str, seed: int) -> list[Persona]:
    return stratified_sample(eval_personas(cfg, eval_split), cfg.examples, seed)

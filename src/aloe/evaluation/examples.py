"""Where the benchmark's personas come from: our eval split, or the paper's files."""

from __future__ import annotations

import pandas as pd

from aloe.personas.texts import load_texts


def load_examples(cfg, eval_split: str) -> list[dict]:
    """The paper crossed all eval profiles with the first 5 eval personalities."""
    if cfg.paper_files.profile and cfg.paper_files.personality:
        profiles = load_texts(cfg.paper_files.profile)
        personalities = load_texts(cfg.paper_files.personality)[:5]
        rows = [{"persona_id": f"paper-{i:03d}+{j}", "profile": p, "personality": q}
                for i, p in enumerate(profiles) for j, q in enumerate(personalities)]
    else:
        rows = pd.read_parquet(eval_split)[["persona_id", "profile", "personality"]].to_dict("records")
    return rows[: cfg.examples] if cfg.examples else rows

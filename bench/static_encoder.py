"""The static encoder (personas.filter.encoder: static) against MiniLM: its threshold,
calibrated on one set, its agreement with MiniLM's decisions reported on others, and
both encoders' speed.

- calibration: the greedy near-duplicate decisions (keep or drop, in order) of MiniLM at
  ``personas.filter.threshold`` on ``--calibrate`` synthetic candidates (bench/persona_filter.py's
  pool, seed 0); the static threshold is the one on a grid whose decisions agree best with
  them by Cohen's kappa;
- agreement at that threshold on sets it was not chosen on: another synthetic pool (seed 1)
  and the default run's candidates per kind (tests/data/default_candidates.parquet, real
  texts of the embedded writer), each with kappa, the share of equal decisions and both
  keep counts;
- texts per second of each encoder on ``--speed`` synthetic texts (fresh: no cache), and the
  minutes to encode 1M extrapolated from it.

    python bench/static_encoder.py --out bench/results/static_encoder.json
"""

import os
import tempfile
import time

import click
import numpy as np
import pandas as pd
from persona_filter import synthetic_pool

from aloe.params import PersonaFilterParams
from aloe.personas.embeddings import Embedder
from aloe.personas.novelty import greedy_novel
from common import REPO, git_describe, write_result

GRID = [round(float(t), 2) for t in np.arange(0.40, 0.96, 0.02)]


def kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa of two keep/drop decision vectors (None where chance agreement is 1)."""
    po = float((a == b).mean())
    pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return None if pe == 1 else round((po - pe) / (1 - pe), 3)


def agreement(texts: list[str], minilm: Embedder, static: Embedder, minilm_t: float, static_t: float) -> dict:
    a = greedy_novel(minilm.encode(texts), minilm_t)
    b = greedy_novel(static.encode(texts), static_t)
    return {
        "n": len(texts),
        "kappa": kappa(a, b),
        "equal_decisions": round(float((a == b).mean()), 3),
        "minilm_kept": int(a.sum()),
        "static_kept": int(b.sum()),
    }


def texts_per_s(embedder: Embedder, texts: list[str]) -> float:
    t0 = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - t0)


@click.command()
@click.option("--out", required=True)
@click.option("--calibrate", default=3000, show_default=True, help="synthetic candidates to calibrate on")
@click.option("--speed", default=2000, show_default=True, help="synthetic texts to time each encoder on")
def main(out: str, calibrate: int, speed: int) -> None:
    minilm_t = PersonaFilterParams().threshold
    with tempfile.TemporaryDirectory() as fresh:
        os.environ["ALOE_CACHE_DIR"] = fresh  # no embedding cached from earlier runs (models distilled here)
        minilm, static = Embedder(), Embedder(encoder="static")
        t0 = time.perf_counter()
        static.dimension()  # distils on first use
        distill_s = time.perf_counter() - t0
        cal = synthetic_pool(calibrate, seed=0)
        a = greedy_novel(minilm.encode(cal), minilm_t)
        static_cal = static.encode(cal)
        by_threshold = {t: kappa(a, greedy_novel(static_cal, t)) for t in GRID}
        best = max(by_threshold, key=lambda t: by_threshold[t] or -1)
        candidates = pd.read_parquet(REPO / "tests/data/default_candidates.parquet").query("status == 'ok'")
        held_out = {"synthetic_seed1": synthetic_pool(calibrate, seed=1)}
        held_out |= {
            f"default_{k}": candidates[candidates["kind"] == k]["text"].tolist() for k in ("profile", "personality")
        }
        agree = {name: agreement(texts, minilm, static, minilm_t, best) for name, texts in held_out.items()}
        rates = {
            name: texts_per_s(e, synthetic_pool(speed, seed=2)) for name, e in (("minilm", minilm), ("static", static))
        }
    write_result(
        out,
        {
            "commit": git_describe(),
            "machine_cpus": os.cpu_count(),
            "minilm_threshold": minilm_t,
            "distill_s": round(distill_s, 1),
            "calibration": {
                "set": f"synthetic_pool({calibrate}, seed=0)",
                "threshold": best,
                "kappa_by_threshold": by_threshold,
            },
            "agreement": agree,
            "texts_per_s": {k: round(v, 1) for k, v in rates.items()},
            "encode_1M_minutes": {k: round(1e6 / v / 60, 1) for k, v in rates.items()},
        },
    )


if __name__ == "__main__":
    main()

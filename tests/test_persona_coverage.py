"""Saturation per generation round and k-means coverage of the kept pool."""

import numpy as np
import pandas as pd
import pytest

from aloe.personas.coverage import COVERAGE_K, coverage, coverage_rows, saturation


def test_saturation_counts_candidates_and_kept_per_round_and_kind():
    ruled = pd.DataFrame(
        {
            "kind": ["profile"] * 5 + ["personality"] * 2,
            "round": [0, 0, 1, 1, 1, 0, 2],
            "reason": [None, "rule", None, "near_duplicate", "near_duplicate", None, None],
        }
    )
    rows = saturation(ruled, {"profile": "profiles", "personality": "personalities"})
    columns = ["round", "profiles_candidates", "profiles_kept", "personalities_candidates", "personalities_kept"]
    assert [[r[c] for c in columns] for r in rows] == [[0, 2, 1, 1, 1], [1, 3, 1, 0, 0], [2, 0, 0, 1, 1]]
    assert all(list(r) == columns for r in rows)


def grouped_pool(groups: int, per_group: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Texts in ``groups`` tight, mutually orthogonal groups of ``per_group``: 'g<group>-<i>'."""
    rng = np.random.default_rng(seed)
    ids, emb = [], {}
    for g in range(groups):
        for i in range(per_group):
            v = np.zeros(64)
            v[g] = 1.0
            v += rng.normal(scale=0.05, size=64)
            ids.append(f"g{g}-{i}")
            emb[ids[-1]] = (v / np.linalg.norm(v)).astype(np.float32)
    return pd.DataFrame({"id": ids, "split": "train"}), emb


def test_an_eval_split_in_a_corner_training_never_reaches_is_seen():
    pool, emb = grouped_pool(groups=4, per_group=15)
    pool.loc[pool["id"].str.startswith("g0-"), "split"] = "eval"  # eval: all of group 0
    train_ids = {i for i in pool["id"] if not i.startswith("g0-")}
    summary, counts = coverage(pool, emb, train_ids, seed=1)
    assert summary["k"] == COVERAGE_K == len(counts)
    assert summary["eval_clusters_reached_by_train"] == 0.0
    assert summary["eval_nearest_train_similarity"]["max"] < 0.5  # orthogonal groups
    assert summary["clusters_reached"]["eval"] + summary["clusters_reached"]["train_personas"] == pytest.approx(1.0)
    assert sum(c["kept"] for c in counts) == 60 and sum(c["eval"] for c in counts) == 15
    assert [c["kept"] for c in counts] == sorted((c["kept"] for c in counts), reverse=True)


def test_an_eval_split_spread_over_the_pool_is_reached_by_training():
    pool, emb = grouped_pool(groups=4, per_group=15)
    eval_ids = {f"g{g}-0" for g in range(4)}
    pool.loc[pool["id"].isin(eval_ids), "split"] = "eval"
    for g in range(4):  # each eval text has a twin among the training personas' texts
        emb[f"g{g}-1"] = emb[f"g{g}-0"]
    summary, _ = coverage(pool, emb, set(pool["id"]) - eval_ids, seed=1)
    assert summary["eval_clusters_reached_by_train"] == 1.0
    assert summary["eval_nearest_train_similarity"]["min"] > 0.99


def test_a_pool_smaller_than_k_gets_one_cluster_per_text_and_rows_line_up_by_rank():
    pool, emb = grouped_pool(groups=2, per_group=3)
    summary, counts = coverage(pool.assign(split=["eval"] + ["train"] * 5), emb, set(pool["id"][1:]), seed=1)
    assert summary["k"] == 6 and all(c["kept"] == 1 for c in counts)
    rows = coverage_rows({"profiles": counts, "personalities": counts[:2]})
    assert len(rows) == 6 and rows[5]["cluster"] == 5 and rows[5]["personalities_kept"] == 0
    assert rows[1]["personalities_kept"] == 1 and all(len(r) == 7 for r in rows)

import json
import shutil
from pathlib import Path

import yaml

from conftest import REPO, run_dvc_stage


def test_malformed_seed_line_fails_generate_with_file_and_line(tmp_path, aloe_env):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "data/seeds", seeds)
    n = len((seeds / "profiles.jsonl").read_text().splitlines())
    with open(seeds / "profiles.jsonl", "a") as f:
        f.write('{"text": "unterminated\n')
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["personas"]["seeds"] = {
        "profile": str(seeds / "profiles.jsonl"),
        "personality": str(seeds / "personalities.jsonl"),
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = tmp_path / "data/personas/candidates.parquet"
    proc = run_dvc_stage("personas_generate", cwd=tmp_path, env=aloe_env)
    assert proc.returncode != 0
    assert f"profiles.jsonl:{n + 1}: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not list(Path(tmp_path).rglob(".candidates*"))


def test_filter_stage_writes_funnel_counts_to_metrics_and_seconds_to_the_run_log(tmp_path, aloe_env):
    """On the default run's candidates (tests/data/default_candidates.parquet): every funnel
    step's counts chain in -> out in metrics/personas.json, and its seconds sit in the run log;
    the saturation and coverage plots add up to the same counts."""
    (tmp_path / "data/personas").mkdir(parents=True)
    shutil.copy(REPO / "tests/data/default_candidates.parquet", tmp_path / "data/personas/candidates.parquet")
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    proc = run_dvc_stage("personas_filter", cwd=tmp_path, env=aloe_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics/personas.json").read_text())
    for kind in ("profiles", "personalities"):
        steps = metrics["funnel"][kind]
        assert list(steps) == ["parse", "exact", "rules", "minhash", "embedding", "llm_check"]
        assert steps["parse"]["in"] == metrics[kind]["candidates"]
        assert steps["llm_check"]["out"] == metrics[kind]["accepted"]
        assert steps["embedding"]["dropped"] == metrics[kind]["rejected"]["near_duplicate"]
        assert steps["minhash"]["dropped"] == metrics[kind]["rejected"]["minhash_duplicate"]
    log = json.loads((tmp_path / "logs/personas_filter.json").read_text())
    assert set(log["funnel_s"]) == {"exact_and_rules", "minhash", "encode", "embedding"}
    assert not any(key.endswith("_s") for key in metrics)  # timings stay out of metrics
    rounds = json.loads((tmp_path / "metrics/personas_saturation.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1, 2]  # seeds, then two generation rounds
    for kind in ("profiles", "personalities"):
        assert sum(r[f"{kind}_candidates"] for r in rounds) == metrics[kind]["candidates"]
        assert sum(r[f"{kind}_kept"] for r in rounds) == metrics[kind]["accepted"]
        covered = metrics["coverage"][kind]
        clusters = json.loads((tmp_path / "metrics/personas_coverage.json").read_text())
        assert covered["k"] == len(clusters) == 20
        assert sum(c[f"{kind}_kept"] for c in clusters) == metrics[kind]["accepted"]
        held_out = yaml.safe_load((REPO / "params.yaml").read_text())["personas"]["split"][f"eval_{kind}"]
        assert sum(c[f"{kind}_eval"] for c in clusters) == held_out
    nearest = [metrics["coverage"][kind]["eval_nearest_train_similarity"]["max"] for kind in metrics["coverage"]]
    assert max(nearest) == metrics["eval_train_max_similarity"]  # the leak guard's number is its largest

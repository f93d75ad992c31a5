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


def test_generate_streams_imports_behind_the_seeds_and_the_filter_counts_them_by_source(
    tmp_path, aloe_env, base_model_dir
):
    """PersonaHub-style JSONL as profiles, FinePersonas-style Parquet as personalities, no
    generation round: each kind's candidates are its seeds, then its import in file order
    with lines and labels; the filter's metrics count candidates and rejections by source."""
    import pandas as pd

    shutil.copytree(REPO / "data/seeds", tmp_path / "data/seeds")
    imports = tmp_path / "data/imports"
    imports.mkdir(parents=True)
    (tmp_path / "models").mkdir()
    (tmp_path / "models/base").symlink_to(base_model_dir)
    hub = [
        "A retired merchant navy engineer who restores diesel engines and teaches apprentices in Gdansk.",
        "A Political Analyst specialized in El Salvador's political landscape and its post-war parties.",
        "A nurse.",  # too short for a profile: the shape rules hold for imports too
    ]
    (imports / "personahub.jsonl").write_text("".join(json.dumps({"persona": p}) + "\n" for p in hub))
    fine = pd.DataFrame(
        {
            "persona": ["Blunt, restless and funny; hates small talk.", "Gentle, methodical, slow to anger."],
            "labels": ['["Humor"]', '["Calm"]'],
            "embedding": [[0.1, 0.2]] * 2,
        }
    )
    fine.to_parquet(imports / "finepersonas.parquet")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["personas"]["import_files"] = {
        "profile": {"path": "data/imports/personahub.jsonl", "text": "persona"},
        "personality": {"path": "data/imports/finepersonas.parquet", "text": "persona", "labels": "labels"},
    }
    params["personas"]["generate"]["max_rounds"] = 0
    params["personas"]["split"] = {"eval_profiles": 2, "eval_personalities": 2, "train_personas": 4}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for stage in ("personas_generate", "personas_filter"):
        proc = run_dvc_stage(stage, cwd=tmp_path, env=aloe_env)
        assert proc.returncode == 0, proc.stderr[-3000:]
    candidates = pd.read_parquet(tmp_path / "data/personas/candidates.parquet")
    seeds = {k: len((REPO / f"data/seeds/{k}.jsonl").read_text().splitlines()) for k in ("profiles", "personalities")}
    profiles = candidates[candidates["kind"] == "profile"]
    assert profiles["source"].tolist() == ["seed"] * seeds["profiles"] + ["import"] * 3
    assert profiles["text"].tolist()[-3:] == hub and profiles["line"].tolist()[-3:] == [1, 2, 3]
    personalities = candidates[candidates["kind"] == "personality"]
    assert personalities["labels"].tolist()[-2:] == ['["Humor"]', '["Calm"]']
    assert candidates["position"].tolist() == list(range(len(candidates)))
    log = json.loads((tmp_path / "logs/personas_generate.json").read_text())
    assert log["start_texts"] == {"profile": seeds["profiles"] + 3, "personality": seeds["personalities"] + 2}
    metrics = json.loads((tmp_path / "metrics/personas.json").read_text())
    imported = metrics["profiles"]["by_source"]["import"]
    assert imported["candidates"] == 3 and imported["accepted"] == 2 and imported["rejected"] == {"rule:length": 1}
    for kind in ("profiles", "personalities"):
        by_source = metrics[kind]["by_source"]
        assert sum(s["candidates"] for s in by_source.values()) == metrics[kind]["candidates"]
        assert sum(s["accepted"] for s in by_source.values()) == metrics[kind]["accepted"]

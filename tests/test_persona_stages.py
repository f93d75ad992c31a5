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

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aloe.errors import AloeError
from aloe.params import load_params

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path, text: str) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def error_of(path) -> str:
    with pytest.raises(AloeError) as e:
        load_params(path)
    return e.value.format_message()


def test_repo_params_are_valid():
    params = load_params(REPO / "params.yaml")
    assert params.base_model.source == "embedded"


def test_unknown_key_is_named_with_allowed_keys(tmp_path):
    msg = error_of(write(tmp_path, "base_model:\n  sorce: embedded\n"))
    assert "base_model.sorce: unknown key" in msg
    assert "source" in msg


def test_unknown_key_inside_a_backend(tmp_path):
    msg = error_of(write(tmp_path, "llm:\n  backends:\n    local: {type: transformers, batchsize: 4}\n"))
    assert "llm.backends.local.batchsize: unknown key" in msg
    assert "batch_size" in msg


def test_out_of_range_and_wrong_type(tmp_path):
    msg = error_of(write(tmp_path, "seed: abc\nllm:\n  backends:\n    local: {type: transformers, batch_size: 0}\n"))
    assert "seed:" in msg and "llm.backends.local.batch_size: Input should be greater than 0" in msg


def test_role_must_name_a_defined_backend(tmp_path):
    roles = "{persona_writer: local, user: local, inducer: local, responder: local, judge: gpt}"
    msg = error_of(write(tmp_path, f"llm:\n  roles: {roles}\n"))
    assert "roles.judge" in msg and "'gpt'" in msg


def test_api_key_itself_is_refused_and_never_echoed(tmp_path):
    text = "llm:\n  backends:\n    gpt: {type: openai, model: m, api_key_env: 'sk-live abc/123'}\n"
    msg = error_of(write(tmp_path, text))
    assert "api_key_env" in msg and "sk-live" not in msg


def test_yaml_syntax_error_names_the_line(tmp_path):
    msg = error_of(write(tmp_path, "seed: 1\nbase_model:\n  source: [unclosed\n"))
    assert "params.yaml:" in msg and "not valid YAML" in msg


def test_validate_stage_exits_nonzero_without_traceback(tmp_path):
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    data["mystery_knob"] = 3
    path = write(tmp_path, yaml.safe_dump(data))
    marker = tmp_path / "logs/params_valid.txt"
    proc = subprocess.run([sys.executable, str(REPO / "stages/validate_params.py"), "--params", str(path),
                           "--out", str(marker)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "mystery_knob: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr and not marker.exists()


def test_paper_scale_config_validates():
    params = load_params(REPO / "configs/paper.yaml")
    assert params.trees.turns == 10 and params.trees.personas is None
    assert params.eval.turns == 10 and params.eval.examples is None
    assert params.personas.split.eval_profiles * params.personas.split.eval_personalities == 100
    assert params.llm.backends[params.llm.roles["judge"]].type == "openai"
    assert params.train.accelerate == "deepspeed_zero3"

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aloe.errors import AloeError
from aloe.params import OURS, load_params

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
    proc = subprocess.run(
        [sys.executable, str(REPO / "stages/validate_params.py"), "--params", str(path), "--out", str(marker)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "mystery_knob: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr and not marker.exists()


@pytest.mark.parametrize("preset", ["corrected", "paper_faithful"])
def test_paper_scale_config_validates(preset):
    params = load_params(REPO / f"configs/{preset}.yaml")
    assert params.trees.turns == 10 and params.trees.personas is None
    assert params.eval.turns == 10 and params.eval.examples is None
    assert params.personas.split.eval_profiles * params.personas.split.eval_personalities == 100
    assert params.llm.backends[params.llm.roles["judge"]].type == "openai"
    assert params.train.accelerate == "deepspeed_zero3"


@pytest.mark.parametrize("params_file", ["params.yaml", "configs/corrected.yaml", "configs/paper_faithful.yaml"])
def test_every_params_key_a_stage_declares_is_in_the_file(params_file):
    """DVC reads declared params from the file itself, not from our defaults: a key that
    dvc.yaml names and the file lacks stops `dvc repro` before the stage runs."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    values = yaml.safe_load((REPO / params_file).read_text())
    for name, stage in stages.items():
        for key in (stage.get("do") or stage).get("params", []):
            if isinstance(key, str):
                node = values
                for part in key.split("."):
                    assert isinstance(node, dict) and part in node, f"{name}: {key} is not in {params_file}"
                    node = node[part]


def test_the_docs_name_every_difference_between_the_presets_once():
    """The table of docs/presets-and-ablation.md ("The paper as released, and corrected") has one row
    per params key in which the two presets differ, and no other row."""
    faithful = load_params(REPO / "configs/paper_faithful.yaml").model_dump()
    corrected = load_params(REPO / "configs/corrected.yaml").model_dump()
    differ = sorted(leaf_differences(faithful, corrected))
    page = (REPO / "docs/presets-and-ablation.md").read_text().split("# The paper as released, and corrected", 1)[1]
    table = page.split("\n\n| ", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1].strip().strip("`") for line in ("| " + table).splitlines()[2:]]
    assert sorted(rows) == differ


def leaf_differences(a, b, path: str = ""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from leaf_differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
    elif a != b:
        yield path


def test_params_yaml_differs_from_the_code_defaults_only_where_it_says_so(tmp_path):
    """One source of truth: a file with only `seed` and params.yaml give the same params,
    except the overrides params.yaml lists in its header."""
    defaults = load_params(write(tmp_path, "seed: 0\n")).model_dump()
    ours = load_params(REPO / "params.yaml").model_dump()
    header = next(
        line
        for line in (REPO / "params.yaml").read_text().splitlines()
        if line.startswith("# Deliberate overrides of the code defaults:")
    )
    documented = {key.strip() for key in header.split(":", 1)[1].split(",") if key.strip()}
    assert set(leaf_differences(defaults, ours)) == documented


def test_docs_parameter_table_is_generated_from_the_models():
    sys.path.insert(0, str(REPO / "scripts"))
    from params_table import END, START, table

    page = (REPO / "docs/parameters.md").read_text()
    assert page.split(START, 1)[1].split(END, 1)[0].strip() == table().strip(), (
        "run `python scripts/params_table.py --write`"
    )


@pytest.mark.parametrize(
    "name",
    [
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "sk-proj-abc123",
        "AKIAIOSFODNN7EXAMPLE",
        "openai_api_key",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH",
    ],
)
def test_token_shaped_api_key_env_is_refused_and_never_echoed(tmp_path, name):
    msg = error_of(write(tmp_path, f"llm:\n  backends:\n    gpt: {{type: openai, model: m, api_key_env: '{name}'}}\n"))
    assert "api_key_env" in msg and name not in msg


@pytest.mark.parametrize(
    "text,needle",
    [
        ("judge:\n  pairwise: {temperature: -0.5}\n", "judge.pairwise.temperature"),
        ("eval:\n  temperature: {model: 3.0}\n", "eval.temperature.model"),
        ("dpo:\n  loss_type: [sigmoid, nonsense]\n", "not accepted by the installed trl"),
        ("sft:\n  learning_rat: 0.1\n", "learning_rat: not a field of trl.SFTConfig"),
    ],
)
def test_values_a_trainer_or_sampler_would_reject_are_refused_early(tmp_path, text, needle):
    assert needle in error_of(write(tmp_path, text))


def test_any_trl_field_passes_through_to_the_trainer(tmp_path):
    params = load_params(
        write(
            tmp_path,
            "dpo:\n  precompute_ref_log_probs: true\n  loss_type: [sigmoid, sft]\n  loss_weights: [1.0, 0.5]\n",
        )
    )
    args = params.dpo.trainer_args()
    assert args["precompute_ref_log_probs"] is True and args["loss_weights"] == [1.0, 0.5]
    assert "lora" not in args and "init" not in args


def test_our_training_keys_are_no_trainer_fields():
    """Our own keys under sft/dpo are kept from the trainer: one named like a trainer field
    (as `gradient_checkpointing: auto|on|off` was) hides that field and reads as it."""
    import dataclasses

    from transformers import TrainingArguments
    from trl import DPOConfig, SFTConfig

    trainer_fields = {
        f.name for config in (TrainingArguments, SFTConfig, DPOConfig) for f in dataclasses.fields(config)
    }
    assert "gradient_checkpointing" in trainer_fields  # the check would catch the old name
    assert not OURS & trainer_fields


@pytest.mark.parametrize("stage", ["sft", "dpo"])
@pytest.mark.parametrize("value", ["auto", "on", "true"])
def test_the_old_checkpointing_key_names_its_new_one(tmp_path, stage, value):
    msg = error_of(write(tmp_path, f"{stage}:\n  gradient_checkpointing: {value}\n"))
    assert f"{stage}.gradient_checkpointing: renamed to {stage}.recompute_activations: auto|on|off" in msg


def test_dpo_losses_are_the_ones_trl_computes(monkeypatch):
    """The loss names are those DPOTrainer's loss loop dispatches on: each one computes a loss in
    trl's own code, and a name outside them is the one trl refuses there (its own error message
    lists the same set). Read from the file or, where there is none, from the imported module."""
    from aloe.params import training as params

    losses = params.dpo_losses()
    assert {"sigmoid", "robust", "ipo", "hinge"} <= set(losses)
    trainer = Path(importlib.util.find_spec("trl").origin).parent / "trainer" / "dpo_trainer.py"
    messages = [
        "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        for node in ast.walk(ast.parse(trainer.read_text()))
        if isinstance(node, ast.JoinedStr) and "Unknown loss type" in ast.unparse(node)
    ]
    assert sorted(ast.literal_eval(re.search(r"\[.*\]", messages[0]).group())) == list(losses)
    monkeypatch.setattr(params.Path, "is_file", lambda self: False)  # no source file: the module's source
    assert params.dpo_losses() == losses


def test_validating_the_params_imports_no_trainer_stack():
    """Every stage validates the params first: checking dpo.loss_type must not import trl's
    trainers (and torch), which costs seconds."""
    code = "import sys; from aloe.params import load_params; load_params(sys.argv[1]); print(*sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code, str(REPO / "params.yaml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not {"torch", "trl.trainer.dpo_config"} & set(proc.stdout.split())

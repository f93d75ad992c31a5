"""The pairs stage: labels with their margins, and the eval-leak guard on the personas the
benchmark actually uses (our split or the paper's files), exact and near-duplicate."""

import json

import pandas as pd
import pytest
import yaml
from datasets import load_from_disk
from huggingface_hub import DatasetCard

from conftest import REPO, run_dvc_stage, write_judge_check

EVAL_PROFILE = "I am a nurse in Leeds who loves hiking in the Dales and baking bread."
TRAIN = [
    ("i am a NURSE, in Leeds who loves hiking in the dales and baking bread", "Warm."),  # exact after normalising
    ("I'm a nurse working in Leeds; I love hiking in the Dales and I bake bread.", "Warm."),  # near-duplicate
    ("I am a retired pilot in Perth who restores vintage motorbikes.", "Dry humour."),
    ("I keep bees on a farm near Porto and play the accordion.", "Shy."),
]


def turn(margin: float | None, tie: bool = False) -> dict:
    return {
        "user": "Hi!",
        "assistant": {"preferred": "Hello there, friend!", "rejected": "Hi."},
        "chosen": "preferred",
        "tie": tie,
        "margin": margin,
        "judge": {"source": "agree" if margin is not None else "tie", "hinted_won": None if tie else True},
    }


@pytest.fixture
def workdir(tmp_path, aloe_env):
    (tmp_path / "data/trees").mkdir(parents=True)
    with open(tmp_path / "data/trees/trees.jsonl", "w") as f:
        for i, (profile, personality) in enumerate(TRAIN):
            turns = [turn(0.4), turn(0.05), turn(None, tie=True)]
            f.write(
                json.dumps({"id": f"t{i}", "profile": profile, "personality": personality, "conversations": turns})
                + "\n"
            )
    (tmp_path / "data/personas").mkdir(parents=True)
    pd.DataFrame(
        {
            "persona_id": ["e0"],
            "profile_id": ["a"],
            "profile": [EVAL_PROFILE],
            "personality_id": ["b"],
            "personality": ["Curious, loud."],
        }
    ).to_parquet(tmp_path / "data/personas/eval.parquet")
    write_judge_check(tmp_path / "metrics/judge.json", accuracy=0.5)
    return tmp_path


def write_params(path, **pairs) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["pairs"].update(validation_fraction=0.0, **pairs)
    (path / "params.yaml").write_text(yaml.safe_dump(params))


def test_eval_personas_are_refused_exactly_and_as_near_duplicates(workdir, aloe_env):
    write_params(workdir)
    proc = run_dvc_stage("pairs", cwd=workdir, env=aloe_env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((workdir / "metrics/pairs.json").read_text())
    assert metrics["dropped"]["refused_eval_persona_exact"] == 1
    assert metrics["dropped"]["refused_eval_persona_near_duplicate"] == 1
    rows = load_from_disk(str(workdir / "data/pairs/dpo"))["train"]
    assert sorted(set(rows["conversation_id"])) == ["t2", "t3"]
    assert metrics["labels_above_chance"] is False and metrics["dropped"]["ties"] == 2
    card = DatasetCard.load(workdir / "data/pairs/README.md")  # the dataset says what it is and how weak
    assert "preference" in card.data.tags and "labels above chance (judge check): False" in card.text
    assert "refused_eval_persona_exact': 1" in card.text


def test_min_margin_drops_weak_labels_and_keeps_the_margin_in_the_data(workdir, aloe_env):
    write_params(workdir, min_margin=0.1)
    assert run_dvc_stage("pairs", cwd=workdir, env=aloe_env).returncode == 0
    metrics = json.loads((workdir / "metrics/pairs.json").read_text())
    assert metrics["dropped"]["below_min_margin"] == 2 and metrics["dpo_pairs"] == 2
    assert load_from_disk(str(workdir / "data/pairs/dpo"))["train"]["margin"] == [0.4, 0.4]


def test_the_guard_uses_the_papers_eval_files_when_they_are_set(workdir, aloe_env):
    (workdir / "profile_eval.jsonl").write_text(json.dumps(TRAIN[2][0]) + "\n")
    (workdir / "personality_eval.jsonl").write_text(json.dumps("Gloomy.") + "\n")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["pairs"]["validation_fraction"] = 0.0
    params["eval"]["paper_files"] = {"profile": "profile_eval.jsonl", "personality": "personality_eval.jsonl"}
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_dvc_stage("pairs", cwd=workdir, env=aloe_env).returncode == 0
    metrics = json.loads((workdir / "metrics/pairs.json").read_text())
    assert metrics["dropped"]["refused_eval_persona_exact"] == 1  # the pilot, now a benchmark persona
    assert metrics["dropped"]["refused_eval_persona_near_duplicate"] == 0  # the nurses are no longer held out

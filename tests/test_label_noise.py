"""rDPO: ``dpo.label_noise`` from params or from the judge check's flip rate under the trees'
label rule, turned into trl's robust loss; and a real DPO step that trains with it."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from datasets import Dataset, DatasetDict
from test_judge_check import CONTRAST, NAMES, PERSONAS, SIMILAR
from test_params import error_of, write

from aloe.errors import AloeError
from aloe.judge_check.asking import planted_pairs
from aloe.judge_check.report import judge_metrics
from aloe.params import DPOParams, Params
from aloe.training.label_noise import MAX_LABEL_NOISE, robust_dpo
from conftest import REPO
from scripted import always_first, persona_rules, prefers_persona


def measured(tmp_path, flip_rate, labelled=6) -> str:
    path = tmp_path / "label_noise.json"
    rule = {"orders": "both", "disagreement": "average", "margin": 0.1}
    estimate = {"flip_rate": flip_rate, "flip_rate_ci95": None, "labelled": labelled, "asked": 6, "rule": rule}
    path.write_text(json.dumps(estimate))
    return str(path)


def test_a_label_noise_file_without_its_fields_is_an_error_naming_it(tmp_path):
    path = tmp_path / "label_noise.json"
    path.write_text(json.dumps({"flip_rate": 0.1}))
    with pytest.raises(AloeError, match=r"label_noise.json: not written by the judge_check stage \(missing flip_rate"):
        robust_dpo(DPOParams(label_noise="measured"), str(path))
    with pytest.raises(AloeError, match=r"absent.json: file not found"):
        robust_dpo(DPOParams(label_noise="measured"), str(tmp_path / "absent.json"))


@pytest.mark.parametrize(
    "text,needle",
    [
        ("dpo:\n  label_noise: 0.5\n", "dpo.label_noise"),
        ("dpo:\n  label_noise: guessed\n", "dpo.label_noise"),
        ("dpo:\n  label_noise: 0.2\n  loss_type: [ipo]\n", "label_noise sets loss_type [robust]"),
        ("dpo:\n  label_noise: measured\n  label_smoothing: 0.1\n", "label_noise sets loss_type [robust]"),
    ],
)
def test_label_noise_out_of_range_or_beside_a_hand_set_loss_is_refused(tmp_path, text, needle):
    assert needle in error_of(write(tmp_path, text))


def test_a_number_becomes_the_robust_loss_and_zero_changes_nothing(tmp_path):
    plain = DPOParams()
    assert robust_dpo(plain, "absent.json") == (plain, {"label_noise": 0.0, "label_noise_source": "off"})
    cfg, report = robust_dpo(DPOParams(label_noise=0.2, beta=0.3), "absent.json")
    args = cfg.trainer_args()
    assert args["loss_type"] == ["robust"] and args["label_smoothing"] == 0.2 and args["beta"] == 0.3
    assert "label_noise" not in args and report == {"label_noise": 0.2, "label_noise_source": "params"}


def test_measured_reads_the_judge_checks_flip_rate_and_caps_it(tmp_path):
    cfg, report = robust_dpo(DPOParams(label_noise="measured"), measured(tmp_path, 0.25))
    assert cfg.trainer_args()["label_smoothing"] == 0.25 and "6 labelled planted pairs" in report["label_noise_source"]
    cfg, report = robust_dpo(DPOParams(label_noise=0.48), "absent.json")
    assert cfg.trainer_args()["label_smoothing"] == MAX_LABEL_NOISE == report["label_noise"]
    assert report["label_noise_source"] == f"params; 0.48 capped at {MAX_LABEL_NOISE}"
    for coin_or_worse in (0.5, 0.7):  # labels no better than a coin: nothing to learn, said so
        with pytest.raises(AloeError, match=rf"flip rate of {coin_or_worse} on 6 labelled .* than a coin"):
            robust_dpo(DPOParams(label_noise="measured"), measured(tmp_path, coin_or_worse))
    with pytest.raises(AloeError, match=r"dpo.label_noise: measured.*labelled none of its 6 planted pairs"):
        robust_dpo(DPOParams(label_noise="measured"), measured(tmp_path, None, 0))


def params(**pairwise) -> Params:
    return Params.model_validate({"judge": {"pairwise": pairwise}, "judge_check": {"pairs": 6, "bootstrap": 200}})


def test_the_flip_rate_is_the_trees_label_rule_on_planted_pairs(scripted_llm):
    """A judge wrong for one profile in three flips a third of the labels. A judge always saying
    "first" labels nothing under `tie`; where the rule settles its labels by position (one order
    with the hinted reply first, or disagreements given to the hinted reply), half of them are
    flips, as they would be on trees, where the hinted reply is not known to be the better one."""

    def contrary(req, profile, first, second):
        wrong = any(n in profile for n in NAMES[:2])  # the first of three profiles
        return prefers_persona(req, profile, second, first) if wrong else prefers_persona(req, profile, first, second)

    llm, _ = scripted_llm(persona_rules(judge=contrary))
    p = params(disagreement="tie")
    noise = judge_metrics(planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p), p, "scripted")["label_noise"]
    assert noise["flip_rate"] == pytest.approx(1 / 3, abs=1e-4) and noise["labelled"] == 6 == noise["asked"]
    lo, hi = noise["flip_rate_ci95"]
    assert lo < 1 / 3 < hi and noise["rule"]["disagreement"] == "tie"

    llm, _ = scripted_llm(persona_rules(judge=always_first))
    records = planted_pairs(llm, PERSONAS, CONTRAST, SIMILAR, p)
    assert judge_metrics(records, p, "scripted")["label_noise"]["flip_rate"] is None
    for by_position in (params(orders="hinted_first"), params(disagreement="hinted")):
        assert judge_metrics(records, by_position, "scripted")["label_noise"]["flip_rate"] == 0.5


@pytest.mark.slow
def test_dpo_stage_trains_with_the_measured_noise_and_the_card_says_so(tmp_path, base_model_dir):
    """The dpo stage as dvc.yaml runs it, two steps on tiny pairs: trl's robust loss with the
    measured smoothing reaches the trainer, the metrics and the model card."""
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Long shift number {i} at the hospital today."}],
            "chosen": [{"role": "assistant", "content": "Oof! Put your feet up, you earned it."}],
            "rejected": [{"role": "assistant", "content": "Okay."}],
            "conversation_id": str(i),
            "turn": 1,
            "margin": 0.3,
            "label_source": "agree",
        }
        for i in range(4)
    ]
    DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "dpo"))
    config = yaml.safe_load((REPO / "params.yaml").read_text())
    config["dpo"].update({"max_steps": 2, "per_device_train_batch_size": 2, "label_noise": "measured"})
    config["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(config))
    argv = [sys.executable, str(REPO / "stages/dpo.py"), "--data", "dpo", "--model", str(base_model_dir)]
    argv += ["--out", "out", "--metrics", "m.json", "--curve", "c.json", "--run-log", "log.json"]
    argv += ["--label-noise", measured(tmp_path, 0.2)]
    env = {**os.environ, "ALOE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["label_noise"] == 0.2 and "measured on 6" in metrics["label_noise_source"]
    card = dict(re.findall(r"^\| `(\w+)` \| `(.*)` \|$", (tmp_path / "out/README.md").read_text(), re.M))
    assert card["loss_type"] == "['robust']" and card["label_smoothing"] == "0.2"

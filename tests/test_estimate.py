"""`aloe estimate`: call counts that agree with what `dvc repro` reports, and a paper-scale bill."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloe.cli import main
from aloe.estimate import estimate
from aloe.stage import setup

ROOT = Path(__file__).resolve().parents[1]


def committed_calls() -> dict[str, dict]:
    """The calls per role in the committed metrics (the lock check ties them to this params.yaml)."""
    calls = {"judge_check": "metrics/judge.json", "trees": "metrics/trees.json", "grpo": "metrics/train_grpo.json"}
    calls |= {f"aloe_eval@{v}": f"metrics/aloe/{v}.json" for v in ("base", "sft", "dpo", "grpo")}
    return {stage: json.loads((ROOT / path).read_text())["calls"] for stage, path in calls.items()}


def test_estimated_calls_are_within_ten_percent_of_the_committed_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    measured = committed_calls()
    compared = 0
    for row in estimate(setup("params.yaml")):
        if row.stage in measured:
            done = measured[row.stage][row.role]["calls"]
            if row.role == "judge":  # plus the re-asks of answers not read, which the estimate leaves out
                assert row.calls <= done <= 1.15 * row.calls, (row, done)
            else:
                assert abs(row.calls - done) <= 0.1 * done, (row, done)
            compared += 1
    assert compared == 3 + 4 + 1 + 4 * 3  # judge_check: user, responder, judge; trees: 4; grpo: user; eval: 4 x 3


def test_paper_config_prints_calls_tokens_time_and_cost(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        main, ["estimate", "configs/corrected.yaml", "--price", "gpt=0.15,0.60", "--latency-s", "2"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    trees_user = next(line for line in result.output.splitlines() if "trees" in line and "user" in line)
    assert "33,000" in trees_user  # 3,300 training personas x 10 turns
    total = next(line for line in result.output.splitlines() if line.strip("│ ").startswith("total"))
    assert float(total.split("│")[-2].replace(",", "")) > 10  # dollars: every data role is priced
    assert " h " in total  # hours of endpoint time


def test_an_unpriced_backend_has_no_cost_and_a_bad_price_is_a_clear_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    rows = estimate(setup("configs/corrected.yaml"), prices={"gpt": (1.0, 2.0)})
    local = [r for r in rows if r.backend.startswith("local:")]
    assert local and all(r.cost is None for r in local)
    priced = next(r for r in rows if r.stage == "trees" and r.role == "judge")
    assert priced.cost == pytest.approx((priced.prompt_tokens + 2 * priced.completion_tokens) / 1e6)
    result = CliRunner().invoke(main, ["estimate", "configs/corrected.yaml", "--price", "gpt=cheap"])
    assert result.exit_code == 2 and "BACKEND=INPUT,OUTPUT" in result.output

"""The whole pipeline on tiny params in a throwaway clone (the session's shared run, see
tests/conftest.py): every declared output, an idempotent second repro, an experiment that
reruns only what depends on the changed knob, and a push/pull round trip through the
default local remote."""

import json
import re

import pytest

from e2e import REPO, sh

# the first test here usually sets up the session's shared run (tests/conftest.py tiny_run): 830 s on 2 cores
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # one worker: conftest.WORKER_GROUPS

OUTPUTS = [
    "models/base/model.safetensors",
    "models/sft/model.safetensors",
    "models/sft/adapter",
    "models/dpo/model.safetensors",
    "data/personas/candidates.parquet",
    "data/personas/profiles.parquet",
    "data/personas/personalities.parquet",
    "data/personas/train.parquet",
    "data/personas/eval.parquet",
    "data/trees/trees.jsonl",
    "data/pairs/sft",
    "data/pairs/dpo",
    "data/judge/planted.jsonl",
    "data/judge/label_noise.json",
    "metrics/personas.json",
    "metrics/judge.json",
    "metrics/trees.json",
    "metrics/pairs.json",
    "metrics/train_sft.json",
    "metrics/train_dpo.json",
    "metrics/train_sft_curve.json",
    "metrics/train_dpo_curve.json",
    "metrics/aloe/compare.json",
    "logs/trees.json",
    "logs/params_valid.txt",
]
ALOE_KEYS = {
    "AL",
    "AL_n",
    "AL_mean",
    "IR",
    "R2",
    "N_IR",
    "N_R2",
    "AL_mean_ci95",
    "IR_ci95",
    "n_examples",
    "turns",
    "judge_missing",
    "stopped_early",
    "score_methods",
}


def ran(log: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", log))


@pytest.fixture
def project(tiny_run):
    """The session's shared TINY run (tests/conftest.py): the project, its env, the repro log, its folder."""
    return tiny_run.proj, tiny_run.env, tiny_run.log, tiny_run.root


def test_repro_writes_every_declared_output(project):
    proj, env, log, _ = project
    for rel in (
        OUTPUTS
        + [f"metrics/aloe/{v}{s}.json" for v in ("base", "sft", "dpo") for s in ("", "_turns")]
        + [f"data/eval/{v}.jsonl" for v in ("base", "sft", "dpo")]
    ):
        assert (proj / rel).exists(), rel
    personas = json.loads((proj / "metrics/personas.json").read_text())
    assert personas["eval_examples"] == 6 and personas["eval_train_max_similarity"] <= personas["threshold"]
    for kind in ("profiles", "personalities"):
        assert set(personas[kind]) >= {"candidates", "accepted", "rejected"}
    trees = json.loads((proj / "metrics/trees.json").read_text())
    assert {
        "trees",
        "failed",
        "turns_mean",
        "judge_consistency",
        "calls",
        "label_rate",
        "ties",
        "position_bias",
        "mean_margin",
    } <= set(trees)
    judge = json.loads((proj / "metrics/judge.json").read_text())
    assert {"accuracy", "accuracy_ci95", "position_bias", "consistency", "n", "score_gap"} <= set(judge)
    pairs = json.loads((proj / "metrics/pairs.json").read_text())
    assert pairs["labels_above_chance"] is judge["above_chance"]
    compare = json.loads((proj / "metrics/aloe/compare.json").read_text())
    pairs_compared = ("sft-base", "dpo-base", "grpo-base", "dpo-sft", "grpo-sft", "grpo-dpo")
    assert set(compare) == {*pairs_compared, "judge_blind", "judge_card"}
    assert all({"AL_mean", "AL_mean_ci95", "IR", "IR_ci95", "n"} <= set(compare[k]) for k in pairs_compared)
    assert compare["judge_card"] == judge["scoring"]  # the same judge the check measured
    record = json.loads((proj / "data/trees/trees.jsonl").read_text().splitlines()[0])
    assert {"profile", "personality", "conversations"} <= set(record)
    assert {"user", "assistant", "chosen", "inferred_profile", "inferred_personality"} <= set(
        record["conversations"][0]
    )
    assert {"dpo_pairs", "sft_examples"} <= set(pairs)
    timings = {"runtime_s", "samples_per_s", "peak_memory_mb"}
    sft = json.loads((proj / "metrics/train_sft.json").read_text())
    dpo = json.loads((proj / "metrics/train_dpo.json").read_text())
    assert "train_loss" in sft and {"train_loss", "rewards_accuracy", "rewards_margin"} <= set(dpo)
    assert not timings & (set(sft) | set(dpo))  # what the machine did is a log, not a metric
    assert all(timings <= set(json.loads((proj / f"logs/{s}.json").read_text())) for s in ("sft", "dpo"))


def test_the_run_ends_with_what_it_found_in_one_screen(project):
    """The last stage prints every variant's figures (those of its metrics file), each paired
    difference with what limits it in words, and the judge card's verdicts."""
    from aloe.evaluation.findings import interval

    proj, _, log, _ = project
    screen = log[log.index("ALOE benchmark: ") : log.index("Plots: `dvc plots show`")].splitlines()
    assert len(screen) <= 24
    for variant in ("base", "sft", "dpo", "grpo"):
        m = json.loads((proj / f"metrics/aloe/{variant}.json").read_text())
        row = next(line for line in screen if line.split()[:1] == [variant])
        assert f"{interval(m['AL_mean'], m['AL_mean_ci95'])}" in row and f"{m['AL'][0]:.2f}" in row, row
        assert interval(m["IR"], m["IR_ci95"], "+.3f") in row, row
    judge = json.loads((proj / "metrics/judge.json").read_text())
    blind = judge["scoring"]["status"] in ("blind", "unreadable")
    for pair in ("sft-base", "dpo-base", "grpo-dpo"):
        line = next(line for line in screen if line.split()[:1] == [pair])
        assert ("the 1-5 judge is blind" in line) is blind and "profiles, under 12" in line, line
    assert any(line.strip().startswith(f"pairwise: {judge['pairwise']['status']}") for line in screen)


def test_every_registered_plot_renders_with_data(project):
    """DVC fills each plot of dvc.yaml with its data and vl-convert renders it offline
    (scripts/render_plots.py); a curve file whose rows differ in their keys (a last row with
    only the eval loss) came back empty, with an error, and stops the script."""
    import importlib.util
    import subprocess
    import sys

    proj, env, _, _ = project
    spec = importlib.util.spec_from_file_location("render_plots", REPO / "scripts/render_plots.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    specs = render.filled_specs(proj)
    assert {"training_loss", "grpo_rewards", "aloe_alignment_by_turn"} <= set(specs)
    assert all(s["data"]["values"] for s in specs.values())
    out = proj / "figures"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/render_plots.py"), "--out-dir", str(out), "--project", str(proj)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(specs)


def test_dpo_pairs_end_with_a_user_turn_and_differ(project):
    from datasets import load_from_disk

    proj = project[0]
    data = load_from_disk(str(proj / "data/pairs/dpo"))
    rows = [r for split in data.values() for r in split]
    assert rows
    for r in rows:
        assert r["prompt"][-1]["role"] == "user"
        assert r["chosen"][0]["content"] != r["rejected"][0]["content"]


def test_aloe_metrics_are_consistent(project):
    proj = project[0]
    for variant in ("base", "sft", "dpo"):
        m = json.loads((proj / f"metrics/aloe/{variant}.json").read_text())
        assert ALOE_KEYS <= set(m)
        assert len(m["AL"]) == m["turns"] == 2 and all(1 <= a <= 5 for a in m["AL"])
        assert m["IR"] == pytest.approx(m["AL"][1] - m["AL"][0], abs=1e-3)  # two turns: the slope is the step
        assert m["AL_mean"] == pytest.approx(sum(m["AL"]) / 2, abs=1e-3)


def test_trained_models_load_and_generate(project):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    proj = project[0]
    for name in ("sft", "dpo"):
        tok = AutoTokenizer.from_pretrained(proj / "models" / name)
        model = AutoModelForCausalLM.from_pretrained(proj / "models" / name)
        ids = tok.apply_chat_template(
            [{"role": "user", "content": "Hi!"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        out = model.generate(**ids, max_new_tokens=5, do_sample=False)
        assert out.shape[1] > ids["input_ids"].shape[1]


def test_second_repro_runs_nothing(project):
    proj, env, _, _ = project
    proc = sh("dvc repro", proj, env)
    assert not ran(proc.stdout) and "up to date" in proc.stdout


def test_unknown_params_key_fails_repro(project):
    proj, env, _, _ = project
    original = (proj / "params.yaml").read_text()
    try:
        (proj / "params.yaml").write_text(original + "\ntrees_typo: 3\n")
        proc = sh("dvc repro", proj, env, check=False)
        assert proc.returncode != 0 and "trees_typo: unknown key" in proc.stdout + proc.stderr
    finally:
        (proj / "params.yaml").write_text(original)


def test_forced_repro_with_an_invalid_params_file_deletes_nothing(project):
    """Validation runs before any stage removes its outputs, even for `dvc repro -f STAGE`."""
    proj, env, _, _ = project
    original = (proj / "params.yaml").read_text()
    weights = proj / "models/base/model.safetensors"
    before = weights.stat().st_mtime_ns
    try:
        (proj / "params.yaml").write_text(original + "\nbase_modle: {source: embedded}\n")
        proc = sh("dvc repro -f base_model", proj, env, check=False)
        assert proc.returncode != 0 and "base_modle: unknown key" in proc.stdout + proc.stderr
        assert "Running stage 'base_model'" not in proc.stdout
        assert weights.exists() and weights.stat().st_mtime_ns == before
    finally:
        (proj / "params.yaml").write_text(original)


def test_experiment_on_dpo_beta_reruns_only_downstream(project):
    proj, env, _, _ = project
    sh("git add -A && git commit -qm 'first run' --allow-empty", proj, env)
    proc = sh("dvc exp run -S dpo.beta=0.3", proj, env)
    # validate_params watches the whole file, but its output is unchanged: nothing upstream of dpo runs
    assert ran(proc.stdout) - {"validate_params"} == {"dpo", "aloe_eval@dpo", "aloe_compare"}, proc.stdout[-2000:]
    show = sh("dvc exp show --json", proj, env).stdout
    assert "AL_mean" in show and "rewards_accuracy" in show


def test_queued_sweep_runs_with_queue_start(project):
    """A sweep over values already run (the shared run's beta and the experiment above): the
    queue is the subject here, and DVC's run cache restores both points instead of training
    DPO twice more (when this test runs alone, it trains them)."""
    import time

    proj, env, _, _ = project
    sh("dvc exp run --queue -S 'dpo.beta=0.1,0.3'", proj, env)
    sh("dvc queue start", proj, env)
    deadline = time.time() + 1200
    while time.time() < deadline:
        status = sh("dvc queue status", proj, env).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    queued = [line.split()[1] for line in status.splitlines() if "Success" in line.split()]  # Task Name ... Status
    assert len(queued) == 2, status
    show = json.loads(sh("dvc exp show --json", proj, env).stdout)
    betas = {  # of the queued experiments, by the names the queue gave them
        exp.get("name"): str(
            exp.get("data", {}).get("params", {}).get("params.yaml", {}).get("data", {}).get("dpo", {}).get("beta")
        )
        for rev in show
        for exp in _experiments(rev)[1:]
    }
    assert sorted(betas.get(name) for name in queued) == ["0.1", "0.3"], (queued, betas)
    name = next(r["name"] for rev in show for r in _experiments(rev)[1:] if r.get("name"))
    diff = json.loads(sh(f"dvc metrics diff --all --json HEAD {name}", proj, env).stdout)
    assert "AL_mean" in diff.get("metrics/aloe/dpo.json", {}), diff.keys()
    assert "rewards_accuracy" in diff.get("metrics/train_dpo.json", {})
    sh(f"dvc plots diff HEAD {name} -o plots_out", proj, env)
    assert (proj / "plots_out" / "index.html").exists()


def _experiments(rev: dict) -> list[dict]:
    out = [rev]
    for exp in rev.get("experiments") or []:
        out += [r for r in exp.get("revs", [])]
    return out


def test_push_then_pull_into_a_fresh_clone(project):
    proj, env, _, root = project
    sh("dvc push", proj, env)
    sh("git add -A && git commit -qm 'results' --allow-empty", proj, env)
    clone = root / "clone"
    sh(f"git clone -q {proj} {clone}", root, env)
    sh(f"dvc remote modify localremote url {root / 'remote'}", clone, env)
    sh("dvc pull", clone, env)
    assert (clone / "models/dpo/model.safetensors").exists()
    status = sh("dvc status", clone, env).stdout
    assert "up to date" in status or "Data and pipelines are up to date" in status, status

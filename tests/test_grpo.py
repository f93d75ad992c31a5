"""Online training (stage grpo): episodes with the simulated user, rewards by name, the judge
gate, and a kill that resumes. The end-to-end runs train the embedded model against a
scripted simulator on a loopback server."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from aloe.errors import AloeError
from aloe.llm.base import ChatResult
from aloe.params import load_params
from aloe.personas.rows import Persona
from aloe.prompts import render
from aloe.training.episodes import episode_rows
from aloe.training.rewards import persona_copy, persona_recovery
from conftest import REPO
from scripted import role_of, tokens_result

PERSONAS = [
    {"persona_id": f"p{i}", "profile_id": f"a{i}", "profile": profile, "personality_id": f"b{i}", "personality": mood}
    for i, (profile, mood) in enumerate(
        [("I keep bees in Wales and sell honey at the market.", "Calm."), ("I race bicycles in Lyon.", "Blunt.")]
    )
]
PROFILE, MOOD = PERSONAS[0]["profile"], PERSONAS[0]["personality"]


def test_persona_recovery_pays_for_the_persona_not_for_the_question_or_a_list_of_everything():
    question = render("recovery_question")
    traits = "chess sailing opera cooking painting hiking poetry football jazz knitting pottery surfing cycling"
    everything = f"You like {traits.replace(' ', ', ')}, bees, honey, Wales and markets; you are shy and bold."
    right = "You keep bees in Wales, sell your honey at the market, and you are calm."
    got = persona_recovery([question, everything, right], ["recovery"] * 3, [PROFILE] * 3, [MOOD] * 3)
    assert got[0] < 0.1 and got[1] < 0.4 < 0.8 < got[2]  # the list names every persona word, and 13 more
    assert persona_recovery([right], ["reply"], [PROFILE], [MOOD]) == [None]  # only the closing question is paid
    copied = persona_copy(
        [PROFILE, "Hello there, how are you?", PROFILE], ["reply", "reply", "stopped"], [PROFILE] * 3, [MOOD] * 3
    )
    assert copied == [1.0, 0.0, None]


def test_a_weight_0_reward_is_a_monitor_logged_beside_the_rewards_never_summed_into_them():
    """trl sums every reward function's number: a weight-0 one would turn a completion no
    weighted reward read into a reward of 0. So it is logged, not returned."""
    from aloe.params import JudgeParams
    from aloe.training.rewards import reward_functions

    [recovery] = reward_functions({"persona_recovery": 1.0, "persona_copy": 0.0}, None, JudgeParams(), 0)
    logged = {}
    fields = dict(kind=["recovery", "reply"], profile=[PROFILE] * 2, personality=[MOOD] * 2)
    got = recovery(completions=[PROFILE, PROFILE], log_metric=logged.__setitem__, **fields)
    assert recovery.__name__ == "persona_recovery" and got[1] is None and logged == {"monitor/persona_copy": 1.0}


def test_every_sampled_reply_is_kept_with_each_of_its_rewards_in_the_episode_records():
    from aloe.params import JudgeParams
    from aloe.training.episodes import Episodes
    from aloe.training.rewards import reward_functions

    people = [Persona("p0", "a0", PROFILE, "b0", MOOD)]
    episodes = Episodes(None, people, turns=1, user=None, seed=0, reference=False)
    episodes.played = {"p0/0": [{"user": "Hi, I keep bees.", "reply": PROFILE}]}
    texts = [PROFILE, "Hello there, how are you?", "You keep bees in Wales.", "Nice weather."]
    rows = ["p0/0/0", "p0/0/0", "p0/0/1", "p0/0/1"]
    episodes.sampled = {
        key: [{"text": t, "rewards": {}} for t in texts[i : i + 2]] for i, key in ((0, rows[0]), (2, rows[2]))
    }
    [recovery] = reward_functions(
        {"persona_recovery": 1.0, "persona_copy": 0.0}, None, JudgeParams(), 0, note=episodes.note
    )
    fields = dict(kind=["reply", "reply", "recovery", "recovery"], profile=[PROFILE] * 4, personality=[MOOD] * 4)
    recovery(completions=texts, row=rows, sample=[0, 1, 0, 1], **fields)
    [record] = episodes.records()
    [turn] = record["turns"]
    assert [s["rewards"] for s in turn["samples"]] == [
        {"persona_copy": 1.0, "persona_recovery": None},
        {"persona_copy": 0.0, "persona_recovery": None},
    ]
    first, second = record["recovery_samples"]
    assert first["text"] == texts[2] and first["rewards"]["persona_recovery"] > 0
    assert second["rewards"]["persona_recovery"] == 0
    episodes.restore({"played": {}, "recovered": {}, "stopped": {}})  # a checkpoint from before samples were kept
    assert episodes.sampled == {}


def test_rows_come_in_the_order_the_conversations_need():
    people = [
        Persona(p["persona_id"], p["profile_id"], p["profile"], p["personality_id"], p["personality"]) for p in PERSONAS
    ]
    keys = [r["prompt"] for r in episode_rows(people, episodes=2, turns=2, reply_turns=True, recovery=True)]
    assert keys[:4] == ["p0/0/0", "p1/0/0", "p0/0/1", "p1/0/1"] and keys[4:6] == ["p0/0/2", "p1/0/2"]
    assert len(keys) == 12 and keys[6] == "p0/1/0"
    only_recovery = episode_rows(people, episodes=1, turns=3, reply_turns=False, recovery=True)
    assert [r["prompt"] for r in only_recovery] == ["p0/0/3", "p1/0/3"]


def test_an_unknown_reward_is_an_error_that_lists_the_known_ones(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["grpo"]["rewards"] = {"helpfulness": 1.0}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(AloeError, match="grpo.rewards: .*unknown reward helpfulness; known: judge_score, "):
        load_params(str(tmp_path / "params.yaml"))


class Simulator:
    """Opens with a line of its persona; later, quotes the start of the reply it got. Keeps
    every follow-up it was sent, to show which policy replies the user answered."""

    def __init__(self):
        self.follow_ups = []

    def __call__(self, requests):
        out = []
        for r in requests:
            assert role_of(r) == "user", r.messages[-1][1][:200]
            if len(r.messages) == 1:
                out.append(ChatResult(text="Hi there, I keep bees.", prompt_tokens=5, completion_tokens=5))
            else:
                reply = r.messages[-1][1].split("\n\n(Reply as the person", 1)[0]
                self.follow_ups.append(reply)
                out.append(
                    ChatResult(text=f"You said {len(reply.split())} words.", prompt_tokens=5, completion_tokens=5)
                )
        return out


def grpo_argv(tmp_path, base_model_dir, url: str, **grpo) -> list[str]:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    api = {"type": "openai", "model": "scripted", "base_url": url, "api_key_env": "ALOE_SCRIPTED_KEY"}
    params["llm"]["backends"]["api"] = api
    params["llm"]["roles"]["user"] = params["llm"]["roles"]["judge"] = "api"
    small = dict(personas=2, turns=2, num_generations=2, per_device_train_batch_size=2, max_completion_length=12)
    params["grpo"].update({**small, "save_steps": 1, **grpo})
    params["wandb"]["mode"] = "disabled"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    pd.DataFrame(PERSONAS).to_parquet(tmp_path / "train.parquet")
    argv = [sys.executable, str(REPO / "stages/grpo.py"), "--params", "params.yaml", "--personas", "train.parquet"]
    argv += ["--judge-metrics", str(REPO / "metrics/judge.json"), "--model", str(base_model_dir), "--out", "grpo"]
    return argv + ["--metrics", "m.json", "--curve", "c.json", "--episodes", "e.jsonl", "--run-log", "log.json"]


@pytest.mark.slow
def test_grpo_plays_episodes_logs_each_reward_and_resumes_after_a_kill(tmp_path, base_model_dir, serve, aloe_env):
    simulator = Simulator()
    srv = serve(generate=simulator, model_name="scripted")
    env = {**aloe_env, "ALOE_SCRIPTED_KEY": "k"}
    argv = grpo_argv(tmp_path, base_model_dir, srv.base_url)
    killed = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    checkpoints, deadline = Path(aloe_env["ALOE_CACHE_DIR"]) / "checkpoints", time.time() + 600
    while not any(checkpoints.glob("grpo-*/checkpoint-1/episodes.json")):
        assert killed.poll() is None and time.time() < deadline, killed.stderr.read()[-3000:]
        time.sleep(0.5)
    killed.kill()
    killed.wait()
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming from" in done.stderr and "training steps 2-2 of 2" in done.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["steps"] == 2 and metrics["episodes_stopped"] == 0
    assert set(metrics["last_step"]["rewards"]) == {"persona_recovery", "persona_copy"}
    curve = json.loads((tmp_path / "c.json").read_text())
    assert all({"reward", "reward_std", "kl", "rewards/persona_recovery/mean"} <= set(row) for row in curve)
    episodes = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [e["persona_id"] for e in episodes] == ["p0", "p1"]  # one from the checkpoint, one played after
    for e in episodes:  # the user's second message answered the policy's first reply
        first, second = e["turns"]
        assert first["reply"] in simulator.follow_ups
        assert second["user"] == f"You said {len(first['reply'].split())} words."
        assert e["recovery_answer"] == e["recovery_samples"][0]["text"]  # every sample kept, with its rewards
        assert [set(s["rewards"]) for s in e["recovery_samples"]] == [{"persona_recovery", "persona_copy"}] * 2
    assert (tmp_path / "grpo" / "config.json").exists() and (tmp_path / "grpo" / "adapter").is_dir()


def expected_score(value: float) -> ChatResult:
    """A 1-5 answer whose expected score (the digits' probabilities at its token) is ``value``."""
    low = min(int(value), 4)
    top = {str(low): 1 + low - value, str(low + 1): value - low}
    return tokens_result([str(round(value))], {0: {d: p for d, p in top.items() if p > 0}})


def brevity_judge(requests) -> list[ChatResult]:
    """A user who says one line, and a 1-5 judge that pays for short replies alone (5 for an
    empty one, 1 from 40 words on): a reward a policy can game without being any more
    tailored to the user."""
    out = []
    for r in requests:
        if role_of(r) == "judge_score":
            reply = r.messages[-1][1].split("Chatbot's reply: ", 1)[1].split("\n\nCriteria:", 1)[0]
            out.append(expected_score(5 - 4 * min(1.0, len(reply.split()) / 40)))
        else:
            out.append(ChatResult(text="Hi there, I keep bees.", prompt_tokens=5, completion_tokens=5))
    return out


@pytest.mark.slow
def test_a_reward_that_pays_for_brevity_is_caught_by_the_length_logged_beside_it(
    tmp_path, base_model_dir, serve, aloe_env
):
    """Reward hacking, measured: GRPO climbs a judge that pays for short replies, and the reply
    length logged every step (trl's completions/mean_length, in the curve) shows how."""
    srv = serve(generate=brevity_judge, model_name="scripted")
    rewards = {"judge_score": 1.0, "persona_copy": 0.0}
    sizes = dict(turns=1, episodes=4, num_generations=4, per_device_train_batch_size=4, max_completion_length=64)
    argv = grpo_argv(
        tmp_path, base_model_dir, srv.base_url, rewards=rewards, learning_rate=2e-3, save_steps=50, **sizes
    )
    done = subprocess.run(
        argv, cwd=tmp_path, env={**aloe_env, "ALOE_SCRIPTED_KEY": "k"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    curve = json.loads((tmp_path / "c.json").read_text())
    length = [row["completions/mean_length"] for row in curve]
    reward = [row["rewards/judge_score/mean"] for row in curve]
    assert len(curve) == 8 and sum(length[-3:]) < sum(length[:3]) - 3 * 8, length  # 8+ tokens shorter
    assert sum(reward[-3:]) > sum(reward[:3]), reward  # and the judge pays for it
    assert all(row["monitor/persona_copy"] is not None for row in curve)


@pytest.mark.slow
def test_a_judge_reward_from_a_blind_judge_refuses_to_train(tmp_path, base_model_dir, serve, aloe_env, monkeypatch):
    from aloe.llm.client import LLM

    srv = serve(generate=Simulator(), model_name="scripted")
    monkeypatch.setenv("ALOE_SCRIPTED_KEY", "k")
    argv = grpo_argv(tmp_path, base_model_dir, srv.base_url, rewards={"judge_score": 1.0})
    card = json.loads((REPO / "metrics/judge.json").read_text())  # the embedded judge's: blind
    card["judge"] = LLM(load_params(str(tmp_path / "params.yaml")).llm, roles=("judge",)).model_id("judge")
    (tmp_path / "judge.json").write_text(json.dumps(card))
    argv[argv.index("--judge-metrics") + 1] = "judge.json"
    done = subprocess.run(
        argv, cwd=tmp_path, env={**aloe_env, "ALOE_SCRIPTED_KEY": "k"}, capture_output=True, text=True
    )
    assert done.returncode != 0 and "the 1-5 judge is blind" in done.stderr and "grpo.on_blind_judge" in done.stderr
    assert not (tmp_path / "grpo").exists()

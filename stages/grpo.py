"""Stage grpo: online training against the simulated user.

The policy (``grpo.init``: models/sft or models/base, also the KL reference) talks with the
user simulator in episodes (aloe.training.episodes); trl's GRPOTrainer samples
``num_generations`` completions per trained turn and learns from the rewards ``grpo.rewards``
names (aloe.training.rewards). A judge reward from a judge the check calls blind or weak
refuses to train (``grpo.on_blind_judge``).
"""

import click
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from aloe.errors import AloeError
from aloe.files import write_jsonl
from aloe.judging.gate import enforce_reward_judges
from aloe.judging.judge_card import JudgeCard
from aloe.llm.client import LLM
from aloe.personas.rows import read_personas
from aloe.roles.simulator import UserSimulator
from aloe.stage import setup
from aloe.training.arguments import world_size
from aloe.training.episodes import EpisodeCheckpoint, Episodes, episode_rows
from aloe.training.fit import TrainingJob
from aloe.training.metrics import online_metrics
from aloe.training.rewards import JUDGED, ON_REPLIES, reward_functions


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", required=True, help="training personas (parquet)")
@click.option("--judge-metrics", required=True, help="the judge check's report cards (the gate of judge rewards)")
@click.option("--model", "model_dir", required=True, help="the starting (and reference) policy")
@click.option("--out", required=True)
@click.option("--metrics", required=True)
@click.option("--curve", required=True, help="per logged step: reward, each reward, spread, KL, length")
@click.option("--episodes", "episodes_out", required=True, help="the conversations played (jsonl)")
@click.option("--run-log", required=True, help="speed, peak memory and LLM calls (not metrics)")
def main(params_path, personas, judge_metrics, model_dir, out, metrics, curve, episodes_out, run_log) -> None:
    params = setup(params_path)
    if world_size() > 1:  # trl spreads a prompt's group over processes; the episodes are kept per process
        raise AloeError("grpo runs in one process for now: set train.accelerate: single")
    cfg = params.grpo
    weighted = {name for name, weight in cfg.rewards.items() if weight}  # the rest are monitors
    judges = [r for r in JUDGED if r in cfg.rewards]
    llm = LLM(params.llm, roles=("user", "judge") if judges else ("user",))
    card, judge_id = JudgeCard.read(judge_metrics), llm.model_id("judge") if judges else ""
    gated = [r for r in judges if r in weighted]
    enforce_reward_judges(card, judge_id, gated, cfg.on_blind_judge, params.judge.pairwise, judge_metrics)
    rows = read_personas(personas)[: cfg.personas]
    simulator = UserSimulator(params.trees.decoding("user"))
    episodes = Episodes(llm, rows, cfg.turns, simulator, params.seed, reference="judge_pairwise" in judges)
    replies = bool(weighted & set(ON_REPLIES))
    data = episode_rows(rows, cfg.episodes, cfg.turns, replies, "persona_recovery" in weighted)
    TrainingJob(
        stage="grpo",
        cfg=cfg,
        seed=params.seed,
        wandb=params.wandb,
        base_source=params.base_model.source,
        data=personas,
        model_dir=model_dir,
        out=out,
        metrics=metrics,
        curve=curve,
        run_log=run_log,
        config_class=GRPOConfig,
        trainer_class=GRPOTrainer,
        datasets=(Dataset.from_list(data), None),
        trainer_extra={
            "reward_funcs": reward_functions(cfg.rewards, llm, params.judge, params.seed, episodes.note),
            "rollout_func": episodes,
        },
        callbacks=[EpisodeCheckpoint(episodes)],
        curve_keys=("loss", "reward", "reward_std", "kl", "completions/mean_length")
        + tuple(f"rewards/{r}/mean" if r in weighted else f"monitor/{r}" for r in cfg.rewards),
        extra_metrics=lambda t: {
            **online_metrics(t, cfg.rewards),
            "episodes_stopped": len(episodes.stopped),
            "calls": llm.report(),  # the simulator's and judges' workload, cached or not
        },
        llm=llm,
        key_extra={  # what else the episodes depend on: a changed simulator or judge never resumes
            "seed": params.seed,
            "llm": params.llm.model_dump(),
            "judge": params.judge.model_dump(),
            "user": params.trees.decoding("user"),
        },
    ).run()
    write_jsonl(episodes_out, episodes.records())
    llm.close()


if __name__ == "__main__":
    main()

"""Stage trees: grow one conversation tree per training persona."""

import click
import pandas as pd

from aloe.conversations.builder import TreeBuilder, TreeConfig
from aloe.conversations.stats import tree_metrics
from aloe.files import write_json, write_jsonl
from aloe.llm.client import LLM
from aloe.stage import setup


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", default="data/personas/train.parquet", show_default=True)
@click.option("--out", default="data/trees/trees.jsonl", show_default=True)
@click.option("--metrics", default="metrics/trees.json", show_default=True)
def main(params_path: str, personas: str, out: str, metrics: str) -> None:
    params = setup(params_path)
    cfg = params.trees
    frame = pd.read_parquet(personas)
    if cfg.personas is not None:
        frame = frame.head(cfg.personas)
    llm = LLM(params.llm, roles=("user", "inducer", "responder", "judge"))
    builder = TreeBuilder(llm, TreeConfig(**cfg.model_dump(exclude={"personas"}), seed=params.seed))
    trees = builder.build(frame.to_dict("records"))
    kept = [t for t in trees if len(t.turns) >= cfg.min_turns]
    write_jsonl(out, (builder.record(t) for t in kept))
    report = tree_metrics(trees, kept, llm.report())
    write_json(metrics, report)
    click.echo(f"wrote {len(kept)} trees to {out}; {report['failed']} dropped; "
               f"judge consistency {report['judge_consistency']}")
    llm.close()


if __name__ == "__main__":
    main()

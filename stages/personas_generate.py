"""Stage personas_generate: grow profile and personality pools by LLM self-generation."""

import click
import pandas as pd

from aloe.files import atomic_path
from aloe.llm.client import LLM
from aloe.personas import KINDS
from aloe.personas.embeddings import Embedder
from aloe.personas.generation import grow
from aloe.personas.texts import load_texts
from aloe.stage import setup, write_run_log


def starting_pool(cfg, kind: str) -> list[tuple[str, str]]:
    """Seeds, plus an imported pool (the paper's released format) when params name one."""
    start = [(t, "seed") for t in load_texts(getattr(cfg.seeds, kind))]
    if getattr(cfg.import_files, kind):
        start += [(t, "import") for t in load_texts(getattr(cfg.import_files, kind))]
    return start


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--out", required=True)
@click.option("--run-log", required=True)
def main(params_path: str, out: str, run_log: str) -> None:
    params = setup(params_path)
    cfg = params.personas
    starts = {kind: starting_pool(cfg, kind) for kind in KINDS}  # bad seed files fail before any call
    llm = LLM(params.llm, roles=("persona_writer",))
    embedder = Embedder(cfg.filter.embedding_model)
    rows = [row for kind in KINDS for row in grow(kind, starts[kind], llm, embedder, cfg.generate, params.seed)]
    frame = pd.DataFrame(rows)
    frame.insert(0, "position", range(len(frame)))
    frame["model_id"] = llm.model_id("persona_writer")
    with atomic_path(out) as tmp:
        frame.to_parquet(tmp, index=False)
    ok = frame[frame["status"] == "ok"].groupby("kind").size().to_dict()
    write_run_log(run_log, llm, workload=llm.report())
    click.echo(f"wrote {out}: {len(frame)} fragments, usable by kind {ok}; llm {llm.report()}")
    llm.close()


if __name__ == "__main__":
    main()

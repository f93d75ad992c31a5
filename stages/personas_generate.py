"""Stage personas_generate: grow profile and personality pools by LLM self-generation.

The candidates file lists, per kind and in this order, the seeds, the imported pool
(read in chunks, never whole: aloe.personas.imports) and every generated fragment."""

from collections.abc import Iterator

import click
import pyarrow as pa
import pyarrow.parquet as pq

from aloe.files import atomic_path
from aloe.llm.client import LLM
from aloe.personas import KINDS
from aloe.personas.embeddings import filter_embedder
from aloe.personas.generation import grow, starting_pool
from aloe.personas.imports import ImportChunk, read_import
from aloe.personas.texts import load_texts
from aloe.stage import setup, write_run_log

SCHEMA = pa.schema(
    [
        ("position", pa.int64()),
        ("kind", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),  # seed | import | generated
        ("round", pa.int64()),
        ("call", pa.int64()),
        ("status", pa.string()),
        ("line", pa.int64()),  # an imported text's line (JSONL) or row (Parquet) in its file
        ("labels", pa.string()),  # an imported text's labels field (a list as JSON, a string as it is)
        ("model_id", pa.string()),
    ]
)


def start_chunks(cfg, kind: str) -> Iterator[tuple[str, ImportChunk]]:
    """(source, chunk) of the texts a kind starts from: the seeds, then its import file."""
    seeds = load_texts(getattr(cfg.seeds, kind))
    yield "seed", ImportChunk(seeds, [None] * len(seeds), [None] * len(seeds))
    if spec := getattr(cfg.import_files, kind):
        yield from (("import", chunk) for chunk in read_import(spec))


class CandidateWriter:
    """Rows appended to a Parquet file batch by batch, numbered in order (``position``);
    closed on leaving the ``with`` block, whether the stage finished or failed."""

    def __init__(self, path, model_id: str):
        self.writer = pq.ParquetWriter(path, SCHEMA)
        self.model_id = model_id
        self.position = 0  # the next row's
        self.usable: dict[str, int] = {}  # rows with status ok, by kind

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.writer.close()

    def write(self, rows: list[dict]) -> None:
        for row in rows:
            row.update(position=self.position, model_id=self.model_id)
            self.position += 1
            self.usable[row["kind"]] = self.usable.get(row["kind"], 0) + (row["status"] == "ok")
        if rows:
            self.writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--out", required=True)
@click.option("--run-log", required=True)
def main(params_path: str, out: str, run_log: str) -> None:
    params = setup(params_path)
    cfg = params.personas
    start_texts = {kind: sum(len(c.texts) for _, c in start_chunks(cfg, kind)) for kind in KINDS}  # bad files fail here
    llm = LLM(params.llm, roles=("persona_writer",))
    embedder = filter_embedder(cfg.filter)
    with atomic_path(out) as tmp, CandidateWriter(tmp, llm.model_id("persona_writer")) as writer:
        for kind in KINDS:
            chunks = (chunk.texts for _, chunk in start_chunks(cfg, kind))
            pool, pool_emb = starting_pool(chunks, embedder, cfg.generate.novelty_threshold, cfg.generate.target_size)
            generated = grow(kind, pool, pool_emb, llm, embedder, cfg.generate, params.seed)
            for source, chunk in start_chunks(cfg, kind):
                writer.write(
                    [
                        dict(kind=kind, text=t, source=source, round=0, call=-1, status="ok", line=n, labels=lab)
                        for t, n, lab in zip(chunk.texts, chunk.lines, chunk.labels, strict=True)
                    ]
                )
            writer.write(generated)
    write_run_log(run_log, llm, workload=llm.report(), start_texts=start_texts)
    click.echo(f"wrote {out}: {writer.position} fragments, usable by kind {writer.usable}; llm {llm.report()}")
    llm.close()


if __name__ == "__main__":
    main()

"""The ``aloe`` command: everything a person does by hand outside DVC."""

from __future__ import annotations

import click

from aloe.errors import AloeError
from aloe.stage import setup


@click.group()
@click.version_option(package_name="aloe-pipeline")
def main() -> None:
    """ALOE pipeline tools. The pipeline itself runs with `dvc repro`."""


@main.command("check-params")
@click.argument("path", default="params.yaml")
def check_params(path: str) -> None:
    """Validate a params file against the schema."""
    setup(path)
    click.echo(f"{path}: valid")


@main.group()
def tree() -> None:
    """Inspect conversation trees."""


@tree.command("show")
@click.argument("path", default="data/trees/trees.jsonl")
@click.option("--index", "-n", default=0, show_default=True, help="which tree (0-based line among trees)")
@click.option("--id", "tree_id", default=None, help="select by persona id instead")
def tree_show(path: str, index: int, tree_id: str | None) -> None:
    """Print one tree: persona, then every turn with both replies and the judge's verdicts."""
    from rich.console import Console

    from aloe.conversations.pairs import load_conversations
    from aloe.conversations.render import render_tree

    records = load_conversations(path)
    if tree_id is not None:
        matches = [r for r in records if r.get("id") == tree_id]
        if not matches:
            raise AloeError(f"{path}: no tree with id {tree_id!r}")
        record = matches[0]
    elif not 0 <= index < len(records):
        raise AloeError(f"{path}: has {len(records)} trees; --index {index} is out of range")
    else:
        record = records[index]
    Console().print(render_tree(record))


@main.command()
@click.option("--model", default="models/base", show_default=True, help="model dir served by the local backend")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--batch-size", default=16, show_default=True)
@click.option("--echo", is_flag=True, help="serve no model: repeat the last message (client benchmarks)")
@click.option("--latency", default=0.0, help="seconds added to every response (benchmarks)")
def serve(model: str, host: str, port: int, batch_size: int, echo: bool, latency: float) -> None:
    """Serve a local checkpoint over an OpenAI-compatible API (micro-batched)."""
    from aiohttp import web

    from aloe.llm.server import ChatServer, FaultPlan, echo_generate

    if echo:
        server = ChatServer(echo_generate, faults=FaultPlan(latency_s=latency), batch_window_s=0.0)
    else:
        from aloe.llm.local import TransformersBackend
        from aloe.params import TransformersBackendParams

        backend = TransformersBackend(TransformersBackendParams(type="transformers", model=model, batch_size=batch_size))
        server = ChatServer(backend.generate, model_name=model, faults=FaultPlan(latency_s=latency),
                            max_batch=batch_size)
    click.echo(f"serving {'echo' if echo else model} at http://{host}:{port}/v1")
    web.run_app(server.app(), host=host, port=port, print=None)


if __name__ == "__main__":
    main()

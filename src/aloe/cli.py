"""The ``aloe`` command: everything a person does by hand outside DVC."""

from __future__ import annotations

from pathlib import Path

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


JUDGE_CARDS = "metrics/judge.json"
JUDGE_CARDS_HELP = "the judge check's report cards: a blind 1-5 judge is flagged (ignored where absent)"


@main.command("eval")
@click.option("--model", required=True, help="a model dir, or openai:NAME for an OpenAI-compatible endpoint")
@click.option("--base-url", default=None, help="endpoint for openai:NAME (default api.openai.com)")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True, help="env var holding the key")
@click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    help="user simulator, judge and eval settings come from here",
)
@click.option("--eval-split", default="data/personas/eval.parquet", show_default=True)
@click.option("--examples", type=int, default=None, help="override eval.examples")
@click.option("--turns", type=int, default=None, help="override eval.turns")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="write the metrics JSON here, and the per-dialogue records beside it (OUT.records.jsonl) for `aloe compare`",
)
@click.option("--judge-metrics", default=JUDGE_CARDS, show_default=True, help=JUDGE_CARDS_HELP)
def eval_cmd(model, base_url, api_key_env, params_path, eval_split, examples, turns, out, judge_metrics) -> None:
    """Run the ALOE benchmark on any model and print AL by turn, IR and intervals."""
    from rich.console import Console
    from rich.table import Table

    from aloe.evaluation.runner import evaluate
    from aloe.evaluation.subject import local_subject
    from aloe.files import write_json, write_jsonl
    from aloe.judging.judge_card import JudgeCard
    from aloe.llm.client import make_backend
    from aloe.params import OpenAIBackendParams

    params = setup(params_path)
    cfg = params.eval.model_copy(update={k: v for k, v in (("examples", examples), ("turns", turns)) if v})
    if model.startswith("openai:"):
        backend = make_backend(
            "evaluated",
            OpenAIBackendParams(
                type="openai", model=model.split(":", 1)[1], base_url=base_url, api_key_env=api_key_env
            ),
        )
    else:
        backend = local_subject(model, params)
    check = JudgeCard.read(judge_metrics)
    llm, records, report = evaluate(params, cfg, backend, eval_split, check, "aloe eval")
    table = Table(title=f"ALOE: {model}")
    for column in ("turn", "AL", "n"):
        table.add_column(column, justify="right")
    for k, (al, n) in enumerate(zip(report.AL, report.AL_n, strict=True), start=1):
        table.add_row(str(k), "-" if al is None else f"{al:.3f}", str(n))
    console = Console()
    console.print(table)
    console.print(
        f"AL_mean {report.AL_mean} {report.AL_mean_ci95}  IR {report.IR} "
        f"{report.IR_ci95}  R2 {report.R2}  N_IR {report.N_IR}  "
        f"examples {report.n_examples} ({report.clusters} profiles{', underpowered' * report.underpowered})  "
        "judge_missing "
        f"{report.judge_missing}  stopped_early {report.stopped_early}  "
        f"scores read by {report.score_methods}  judge_blind {report.judge_blind}"
    )
    if out:
        write_json(out, report.to_json())
        write_jsonl(records_path(out), (r.to_json() for r in records))
    llm.close()


def records_path(out: str) -> str:
    return str(out).removesuffix(".json") + ".records.jsonl"


@main.command("compare")
@click.argument("a", type=click.Path(exists=True, dir_okay=False))
@click.argument("b", type=click.Path(exists=True, dir_okay=False))
@click.option("--bootstrap", default=1000, show_default=True, help="cluster-bootstrap resamples")
@click.option("--seed", default=0, show_default=True)
@click.option("--judge-metrics", default=JUDGE_CARDS, show_default=True, help=JUDGE_CARDS_HELP)
@click.option("--on-blind-judge", type=click.Choice(["warn", "fail"]), default="warn", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="write the comparison JSON here")
def compare_cmd(a: str, b: str, bootstrap: int, seed: int, judge_metrics: str, on_blind_judge: str, out) -> None:
    """Paired difference A - B of two `aloe eval --out` runs (or data/eval/<variant>.jsonl):
    AL_mean and IR with cluster-bootstrap intervals, on the same examples and seeds, AL_mean
    again with reply length and markdown held fixed, and `underpowered` below 12 profiles."""
    from aloe.evaluation.comparison import paired_comparison, summary
    from aloe.evaluation.records import load_records
    from aloe.files import write_json
    from aloe.judging.gate import enforce, judge_gate
    from aloe.judging.judge_card import JudgeCard

    def records(path: str) -> list[dict]:
        return load_records(records_path(path) if path.endswith(".json") else path)

    runs = records(a), records(b)
    gate = judge_gate(JudgeCard.read(judge_metrics), runs[0][0].models["judge"])
    enforce(gate, on_blind_judge, "aloe compare")
    r = paired_comparison(*runs, (a, b), bootstrap, seed)
    click.echo(summary("A - B", r) + f"; IR p {r['IR_p']}; judge_blind {gate['judge_blind']}")
    if out:
        write_json(out, {"A": a, "B": b, **r, **gate})


def parse_price(ctx, param, values) -> dict[str, tuple[float, float]]:
    prices = {}
    for value in values:
        try:
            name, rates = value.split("=", 1)
            prompt, completion = (float(x) for x in rates.split(","))
        except ValueError:
            raise click.BadParameter(f"{value!r}: expected BACKEND=INPUT,OUTPUT ($ per 1M tokens)") from None
        prices[name] = (prompt, completion)
    return prices


@main.command("judge-card")
@click.option(
    "--judge",
    "judges",
    multiple=True,
    required=True,
    help="a candidate judge: a backend of llm.backends, openai:MODEL (at --base-url), openai:MODEL@URL, "
    "or a model dir (repeatable)",
)
@click.option("--base-url", default=None, help="endpoint for openai:MODEL judges (default api.openai.com)")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True, help="env var holding that key")
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--personas", default="data/personas/train.parquet", show_default=True, help="training personas")
@click.option("--price", multiple=True, callback=parse_price, help="JUDGE=INPUT,OUTPUT in $ per 1M tokens (repeatable)")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False), default=None, help="write the table")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="write every card as JSON")
def judge_card_cmd(judges, base_url, api_key_env, params_path, personas, price, markdown_out, out) -> None:
    """Report cards of several candidate judges on the same planted pairs, side by side."""
    from rich.console import Console
    from rich.table import Table

    from aloe.files import write_json
    from aloe.judge_check.candidates import COLUMNS, candidate_backend, compare_judges, markdown
    from aloe.judging.card_text import card_rows, figure

    params = setup(params_path)
    backends = {spec: candidate_backend(spec, params, base_url, api_key_env) for spec in judges}
    rows, agreement = compare_judges(params, personas, backends, price)
    console = Console()
    table = Table(title=f"judge report cards: {rows[0]['n']} planted pairs in {rows[0]['clusters']} profiles")
    for column in ["", *(read(r) for r in rows for header, read in COLUMNS[:1])]:  # a column per judge
        table.add_column(column)
    for header, read in COLUMNS[1:]:
        table.add_row(header, *(read(r) for r in rows))
    console.print(table)
    for kind, title in (("pairwise", "pairwise judge"), ("scoring", "1-5 judge")):  # every figure of the JSON
        full = Table(title=f"{title}: every figure")
        full.add_column("figure")
        for r in rows:
            full.add_column(r["name"])
        cards = [dict(card_rows(r[kind])) for r in rows]
        for name in dict.fromkeys(k for card in cards for k in card):
            full.add_row(name, *(card.get(name, "-") for card in cards))
        console.print(full)
    for a in agreement:
        console.print(
            f"agreement {a['judges'][0]} ~ {a['judges'][1]}: verdicts kappa {figure(a['verdict_kappa'])} "
            f"(n {a['verdict_kappa']['n']}), 1-5 scores weighted kappa {figure(a['score_kappa'])} "
            f"(n {a['score_kappa']['n']})"
        )
    if markdown_out:
        Path(markdown_out).write_text(markdown(rows))
    if out:
        write_json(out, {"cards": rows, "agreement": agreement})


@main.command("estimate")
@click.argument("path", default="params.yaml")
@click.option("--latency-s", default=1.0, show_default=True, help="mean seconds per call of an endpoint")
@click.option(
    "--price",
    multiple=True,
    callback=parse_price,
    help="BACKEND=INPUT,OUTPUT in $ per 1M tokens, e.g. gpt=0.15,0.60 (repeatable)",
)
@click.option("--acceptance", default=0.5, show_default=True, help="share of generated persona candidates kept")
@click.option("--logs", default="logs", show_default=True, help="run logs of a previous run (local seconds per call)")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="also write the rows as JSON")
def estimate_cmd(path, latency_s, price, acceptance, logs, out) -> None:
    """LLM calls, tokens, time and cost per stage and role of a params file, before running it."""
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from aloe.estimate import estimate
    from aloe.files import write_json

    rows = estimate(setup(path), latency_s, price, acceptance, logs)
    table = Table(title=f"estimate: {path} (calls exact without retries; tokens at most; time ideal)")
    for column in ("stage", "role", "backend", "calls", "prompt tok", "completion tok", "time", "cost $"):
        table.add_column(column, justify="left" if column in ("stage", "role", "backend") else "right")

    def hours(s):
        return "-" if s is None else f"{s / 3600:.2f} h" if s >= 3600 else f"{s / 60:.1f} min"

    def dollars(c):
        return "-" if c is None else f"{c:,.2f}"

    for r in rows:
        table.add_row(
            r.stage, r.role, r.backend, f"{r.calls:,}", f"{r.prompt_tokens:,}", f"{r.completion_tokens:,}",
            hours(r.seconds), dollars(r.cost),
        )  # fmt: skip
    known = [r.cost for r in rows if r.cost is not None]
    table.add_row(
        "total", "", "", f"{sum(r.calls for r in rows):,}", f"{sum(r.prompt_tokens for r in rows):,}",
        f"{sum(r.completion_tokens for r in rows):,}", hours(sum(r.seconds or 0 for r in rows)),
        dollars(sum(known)) if known else "-",
    )  # fmt: skip
    Console(width=160).print(table)
    if out:
        write_json(out, [asdict(r) for r in rows])


@main.command()
@click.option("--model", default="models/dpo", show_default=True, help="a model dir")
@click.option("--max-tokens", default=200, show_default=True)
@click.option("--temperature", default=0.7, show_default=True)
def chat(model: str, max_tokens: int, temperature: float) -> None:
    """Talk to a checkpoint in the terminal (empty line or Ctrl-D to quit). Replies go through
    the response cache: the same conversation gets the same reply."""
    from aloe.llm.client import LLM
    from aloe.llm.local import TransformersBackend
    from aloe.params import Decoding, LLMParams, TransformersBackendParams
    from aloe.roles.chat import Chat, ChatAsk

    llm = LLM(LLMParams(), roles=(), progress=False)
    llm.add_role("model", TransformersBackend(TransformersBackendParams(type="transformers", model=model)))
    bot = Chat(Decoding(temperature, max_tokens, max_attempts=1, retry_temperature=temperature, top_p=1.0))
    history: list[dict] = []
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if not line:
            break
        history.append({"role": "user", "content": line})
        [answer] = bot.ask(llm, [ChatAsk(tuple(history), ("chat", len(history)))])
        if not answer.result.ok:  # the turn is dropped: the model never sees an error as its own words
            history.pop()
            click.echo(f"(error: {answer.result.error}; say it again, or an empty line to quit)")
            continue
        history.append({"role": "assistant", "content": answer.result.text})
        click.echo(f"bot> {answer.result.text}")
    llm.close()


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

    from aloe.conversations.display import render_tree
    from aloe.conversations.pairs import load_conversations

    records = load_conversations(path)
    if tree_id is not None:
        matches = [r for r in records if r.id == tree_id]
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
@click.option("--batch-size", default=32, show_default=True)
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

        backend = TransformersBackend(
            TransformersBackendParams(type="transformers", model=model, batch_size=batch_size)
        )
        server = ChatServer(
            backend.generate, model_name=model, faults=FaultPlan(latency_s=latency), max_batch=batch_size
        )
    click.echo(f"serving {'echo' if echo else model} at http://{host}:{port}/v1")
    web.run_app(server.app(), host=host, port=port, print=None, handler_cancellation=True)


if __name__ == "__main__":
    main()

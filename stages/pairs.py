"""Stage pairs: flatten trees (or the paper's conversations.jsonl) into DPO and SFT datasets."""

from collections import Counter

import click
from datasets import Dataset, DatasetDict

from aloe.cards import dataset_card
from aloe.conversations.pairs import Artifacts, conversation_id, flatten, load_conversations, validation_ids
from aloe.conversations.rows import DpoRow, SftRow
from aloe.errors import AloeError
from aloe.evaluation.examples import eval_personas
from aloe.files import atomic_path, write_json
from aloe.judging.judge_card import JudgeCard
from aloe.personas.embeddings import filter_embedder
from aloe.personas.leaks import LeakGuard
from aloe.stage import setup, write_run_log


def save(rows: dict[str, list[DpoRow] | list[SftRow]], path: str) -> None:
    """Empty splits are left out (a tiny run may hold out no conversation)."""
    with atomic_path(path) as tmp:
        splits = {split: Dataset.from_list([row.to_json() for row in r]) for split, r in rows.items() if r}
        DatasetDict(splits).save_to_disk(str(tmp))


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--trees", required=True)
@click.option("--eval-split", required=True, help="our eval personas (used unless eval.paper_files is set)")
@click.option("--judge-metrics", required=True, help="metrics of the judge check")
@click.option("--out-dir", required=True)
@click.option("--metrics", required=True)
@click.option("--run-log", required=True)
def main(params_path, trees, eval_split, judge_metrics, out_dir, metrics, run_log) -> None:
    params = setup(params_path)
    cfg = params.pairs
    source = cfg.conversations or trees
    records = load_conversations(source)
    guard = LeakGuard(
        eval_personas(params.eval, eval_split),
        filter_embedder(params.personas.filter),
        params.personas.filter.cutoff,
    )
    leaks = guard.reasons([(r.profile, r.personality) for r in records])
    dpo, sft = {"train": [], "validation": []}, {"train": [], "validation": []}
    counts = Counter()
    artifacts = Artifacts(cfg.repeat_first_user, cfg.rejected_one_character, params.seed)
    held_out_ids = validation_ids([conversation_id(r) for r in records], cfg.validation_fraction, params.seed)
    for rec, leak in zip(records, leaks, strict=True):
        if leak:
            counts[f"refused_eval_persona_{leak}"] += 1  # never train on a persona the benchmark holds out
            continue
        d, s, dropped = flatten(rec, cfg.min_margin, artifacts)
        counts.update(dropped)
        split = "validation" if conversation_id(rec) in held_out_ids else "train"
        dpo[split] += d
        sft[split] += s
    if not dpo["train"] or not sft["train"]:
        raise AloeError(
            f"{source}: no usable training pairs (dropped: {dict(counts)}); grow more trees, lower "
            "pairs.min_margin, or point llm.roles.judge at a model that labels more turns"
        )
    save(dpo, f"{out_dir}/dpo")
    save(sft, f"{out_dir}/sft")
    card = JudgeCard.read(judge_metrics)
    if card is None:
        raise AloeError(f"{judge_metrics}: no judge check found (run the judge_check stage first)")
    rows = dpo["train"] + dpo["validation"]
    report = {
        "dpo_pairs": len(rows),
        "sft_examples": len(sft["train"]) + len(sft["validation"]),
        "dpo": {k: len(v) for k, v in dpo.items()},
        "sft": {k: len(v) for k, v in sft.items()},
        "conversations": len(records),
        "source": source,
        # our judge's check says nothing about labels someone else made
        "labels_above_chance": None if cfg.conversations else card.above_chance,
        "label_sources": dict(Counter(r.label_source for r in rows)),
        "share_agreeing_orders": round(sum(r.label_source == "agree" for r in rows) / len(rows), 4),
        "dropped": {
            k: counts[k]
            for k in (
                "ties",
                "identical",
                "below_min_margin",
                "refused_eval_persona_exact",
                "refused_eval_persona_near_duplicate",
            )
        },
    }
    with atomic_path(f"{out_dir}/README.md") as tmp:
        dataset_card(source, report).save(tmp)
    write_json(metrics, report)
    write_run_log(run_log)
    click.echo(
        f"pairs: {report['dpo']} DPO, {report['sft']} SFT; dropped {report['dropped']}; labels above "
        f"chance: {report['labels_above_chance']}"
    )


if __name__ == "__main__":
    main()

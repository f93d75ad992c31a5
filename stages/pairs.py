"""Stage pairs: flatten trees (or the paper's conversations.jsonl) into DPO and SFT datasets."""

from collections import Counter

import click
import pandas as pd
from datasets import Dataset, DatasetDict

from aloe.conversations.pairs import conversation_id, flatten, load_conversations, validation_ids
from aloe.errors import AloeError
from aloe.files import atomic_path, write_json
from aloe.stage import setup



def save(rows: dict[str, list[dict]], path: str) -> None:
    """Empty splits are left out (a tiny run may hold out no conversation)."""
    with atomic_path(path) as tmp:
        DatasetDict({split: Dataset.from_list(r) for split, r in rows.items() if r}).save_to_disk(str(tmp))


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--trees", default="data/trees/trees.jsonl", show_default=True)
@click.option("--eval-personas", default="data/personas/eval.parquet", show_default=True)
@click.option("--out-dir", default="data/pairs", show_default=True)
@click.option("--metrics", default="metrics/pairs.json", show_default=True)
def main(params_path: str, trees: str, eval_personas: str, out_dir: str, metrics: str) -> None:
    params = setup(params_path)
    cfg = params.pairs
    source = cfg.conversations or trees
    records = load_conversations(source)
    held_out = pd.read_parquet(eval_personas)
    eval_texts = set(held_out["profile"].str.strip()) | set(held_out["personality"].str.strip())
    dpo, sft = {"train": [], "validation": []}, {"train": [], "validation": []}
    counts = Counter()
    held_out_ids = validation_ids([conversation_id(r) for r in records], cfg.validation_fraction, params.seed)
    for rec in records:
        if rec["profile"].strip() in eval_texts or rec["personality"].strip() in eval_texts:
            counts["refused_eval_persona"] += 1  # never train on a persona the benchmark holds out
            continue
        d, s, dropped = flatten(rec)
        counts.update(dropped)
        split = "validation" if conversation_id(rec) in held_out_ids else "train"
        dpo[split] += d
        sft[split] += s
    if not dpo["train"] or not sft["train"]:
        raise AloeError(f"{source}: no usable training pairs (dropped: {dict(counts)}); "
                        "grow more trees or check the judge")
    save(dpo, f"{out_dir}/dpo")
    save(sft, f"{out_dir}/sft")
    report = {"dpo_pairs": len(dpo["train"]) + len(dpo["validation"]),
              "sft_examples": len(sft["train"]) + len(sft["validation"]),
              "dpo": {k: len(v) for k, v in dpo.items()}, "sft": {k: len(v) for k, v in sft.items()},
              "conversations": len(records), "source": source,
              "dropped": {k: counts[k] for k in ("ties", "identical", "refused_eval_persona")}}
    write_json(metrics, report)
    click.echo(f"pairs: {report['dpo']} DPO, {report['sft']} SFT; dropped {report['dropped']}")


if __name__ == "__main__":
    main()

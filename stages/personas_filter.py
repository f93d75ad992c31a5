"""Stage personas_filter: dedupe and filter candidates, compose personas, hold out eval."""

from pathlib import Path

import click
import pandas as pd

from aloe.errors import AloeError
from aloe.files import atomic_path, write_json
from aloe.llm.client import LLM
from aloe.personas import KINDS
from aloe.personas.coverage import coverage, coverage_rows, saturation
from aloe.personas.embeddings import filter_embedder
from aloe.personas.filtering import filter_candidates, funnel_counts, rejection_counts, source_counts
from aloe.personas.llm_check import check_plausible
from aloe.personas.novelty import mean_pairwise_similarity
from aloe.personas.splits import split
from aloe.stage import setup, write_run_log

PLURAL = {"profile": "profiles", "personality": "personalities"}


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


@click.command()
@click.option("--params", "params_path", default="params.yaml", show_default=True)
@click.option("--candidates", required=True)
@click.option("--out-dir", required=True)
@click.option("--metrics", required=True)
@click.option("--run-log", required=True)
@click.option("--saturation-plot", required=True, help="kept texts per generation round (a DVC plot)")
@click.option("--coverage-plot", required=True, help="kept, train and eval texts per k-means cluster (a DVC plot)")
def main(
    params_path: str,
    candidates: str,
    out_dir: str,
    metrics: str,
    run_log: str,
    saturation_plot: str,
    coverage_plot: str,
) -> None:
    params = setup(params_path)
    cfg = params.personas
    frame = pd.read_parquet(candidates)
    embedder = filter_embedder(cfg.filter)
    seconds: dict[str, float] = {}
    ruled = filter_candidates(frame, cfg.filter, embedder, seconds)
    llm = None
    if cfg.filter.llm_check:
        llm = LLM(params.llm, roles=("persona_checker",))
        ruled["llm_check"] = check_plausible(llm, ruled, params.seed)
        ruled.loc[ruled["llm_check"] == "no", "reason"] = "llm_check"
    report, pools, emb = {}, {}, {}
    funnel = {PLURAL[kind]: funnel_counts(ruled, kind) for kind in KINDS}
    for kind in KINDS:
        kept = ruled[(ruled["kind"] == kind) & ruled["reason"].isna()].reset_index(drop=True)
        if kept.empty:
            raise AloeError(f"{candidates}: no {PLURAL[kind]} left after filtering; loosen personas.filter")
        kept.insert(0, "id", [f"{kind[:4]}-{i:05d}" for i in range(len(kept))])
        pools[kind] = kept[["id", "text", "source", "round", *(["llm_check"] if llm else [])]]
        report[PLURAL[kind]] = {**rejection_counts(ruled, kind), "by_source": source_counts(ruled, kind)}
        vectors = embedder.encode(kept["text"].tolist())
        report[PLURAL[kind]]["mean_pairwise_similarity"] = round(mean_pairwise_similarity(vectors), 4)
        emb.update(zip(kept["id"], vectors, strict=True))
    train, evals, leak = split(pools["profile"], pools["personality"], emb, cfg.split, params.seed, cfg.filter.cutoff)
    covered, per_cluster = {}, {}
    for kind in KINDS:
        held_out = pools[kind]["id"].isin(evals[f"{kind}_id"])
        pool = pools[kind].assign(split=held_out.map({True: "eval", False: "train"}))
        write_parquet(pool, Path(out_dir) / f"{PLURAL[kind]}.parquet")
        covered[PLURAL[kind]], per_cluster[PLURAL[kind]] = coverage(pool, emb, set(train[f"{kind}_id"]), params.seed)
    write_parquet(train, Path(out_dir) / "train.parquet")
    write_parquet(evals, Path(out_dir) / "eval.parquet")
    report.update(
        train_personas=len(train),
        eval_examples=len(evals),
        eval_train_max_similarity=round(leak, 4),
        threshold=cfg.filter.cutoff,
        encoder=cfg.filter.encoder,
        funnel=funnel,
        coverage=covered,
    )
    write_json(metrics, report)
    write_json(saturation_plot, saturation(ruled, PLURAL))
    write_json(coverage_plot, coverage_rows(per_cluster))
    write_run_log(run_log, llm, texts_encoded=embedder.encoded, funnel_s=seconds)
    click.echo(f"personas: {len(train)} train, {len(evals)} eval; max eval-train similarity {leak:.3f}")


if __name__ == "__main__":
    main()

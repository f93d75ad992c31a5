"""Model and dataset cards (Hugging Face conventions, through huggingface_hub's card
classes), written beside every checkpoint and the pair datasets, so a model pushed
anywhere says what it was made from, how, and what it is not for."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

PAPER = "Aligning LLMs with Individual Preferences via Interaction (Wu et al., 2024, arXiv:2410.03642)"
EMBEDDED = "HuggingFaceTB/SmolLM2-135M-Instruct"
LIMITS = """- Trained on preferences of *simulated* personas labelled by an LLM judge. Check `metrics/judge.json`
  (the judge check) and `labels_above_chance` in `metrics/pairs.json` before reading anything into it:
  with the embedded 135M judge the labels are not evidence of a preference.
- Not evaluated for safety, factuality or use with real people's data; a research artefact of the ALOE
  pipeline, not a product."""


def upstream(base_source: str) -> str:
    """The hub id the weights come from (the embedded model is SmolLM2-135M-Instruct)."""
    return EMBEDDED if base_source == "embedded" else base_source


TRAINING_DATA = {
    "sft": "`{data}` (trl conversational format): {train} training and {validation} validation examples, "
    "split by conversation.",
    "dpo": "`{data}` (trl conversational format): {train} training and {validation} validation examples, "
    "split by conversation.",
    "grpo": "episodes with the user simulator, playing the personas of `{data}`: {train} trained turns "
    "(the conversations in `data/grpo/episodes.jsonl`).",
}
METHOD = {
    "sft": "SFTTrainer (loss on completions only)",
    "dpo": "DPOTrainer",
    "grpo": "GRPOTrainer, its completions sampled in conversations with the simulated user (`rollout_func`)",
}


def model_card(
    stage: str, base_source: str, start: str, data: str, sizes: dict, trainer_args: dict, lora: dict, metrics: dict
) -> ModelCard:
    data_ = ModelCardData(
        base_model=upstream(base_source),
        datasets=[f"aloe/{Path(data).as_posix()}"],
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["aloe", stage, "trl", *(["peft", "lora"] if lora.get("enabled") else [])],
    )
    args = "\n".join(f"| `{k}` | `{v}` |" for k, v in sorted(trainer_args.items()))
    content = f"""---
{data_.to_yaml()}
---

# ALOE {stage.upper()} model

A {stage.upper()} checkpoint of the ALOE pipeline, reproducing {PAPER}: personalised alignment learned
from multi-turn conversations with simulated personas.

- **Base model:** `{upstream(base_source)}` (`base_model.source: {base_source}`); this run started from `{start}`.
- **Training data:** {
        TRAINING_DATA[stage].format(data=data, train=sizes.get("train", 0), validation=sizes.get("validation", 0))
    }
- **Method:** trl {METHOD[stage]}; LoRA
  {
        "r="
        + str(lora.get("r"))
        + ", alpha="
        + str(lora.get("alpha"))
        + ", merged into the weights (adapter in `adapter/`)"
        if lora.get("enabled")
        else "off (full fine-tuning)"
    }.
- **Final losses:** train {metrics.get("train_loss")}, validation {metrics.get("eval_loss")}.
- **ALOE benchmark:** `metrics/aloe/{stage}.json` and the paired comparisons in `metrics/aloe/compare.json`
  of the same DVC commit (`dvc metrics show`).

## Training parameters

Every argument of the trainer's config as the run used it (`*_token` values masked), less the
local checkpoint path, the W&B run name, the log destinations and the process rank.

| argument | value |
|---|---|
{args}

## Intended use and limits

Research on personalised alignment: reproduce, compare and extend the ALOE method.

{LIMITS}
"""
    return ModelCard(content)


def dataset_card(source: str, counts: dict) -> DatasetCard:
    data = DatasetCardData(
        task_categories=["text-generation"],
        language=["en"],
        tags=["aloe", "dpo", "sft", "preference", "synthetic"],
        pretty_name="ALOE preference pairs",
    )
    content = f"""---
{data.to_yaml()}
---

# ALOE preference pairs

Flattened from `{source}`, conversation trees in which an LLM user simulator played a persona and a judge
preferred one of two replies at every turn ({PAPER}).

- `dpo/`: trl conversational preference data (`prompt`, `chosen`, `rejected`, plus `conversation_id`, `turn`,
  `margin`, `label_source`): {counts["dpo"]}.
- `sft/`: prompt/completion data with the preferred reply: {counts["sft"]}.
- Label sources: {counts["label_sources"]}; share from agreeing judge orders {counts["share_agreeing_orders"]};
  labels above chance (judge check): {counts["labels_above_chance"]}.
- Dropped: {counts["dropped"]}.

Splits are by conversation; no conversation of a benchmark persona is included (eval-leak guard).

## Limits

{LIMITS}
"""
    return DatasetCard(content)

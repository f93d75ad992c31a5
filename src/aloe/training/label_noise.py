"""DPO that knows how noisy its labels are (rDPO, Chowdhury et al., 2024).

``dpo.label_noise`` is resolved here into the trainer arguments a user could have written by
hand: trl's ``robust`` loss with ``label_smoothing`` = the expected share of flipped labels. So
the checkpoint key, the W&B config and the model card hold the number the run trained with,
not the word ``measured``.
"""

from __future__ import annotations

from aloe.errors import AloeError
from aloe.judging.judge_card import LabelNoise
from aloe.params import DPOParams

# The robust loss divides by 1 - 2 x smoothing: at 0.45 a pair's loss is scaled tenfold, and
# towards 0.5 the labels carry no information the loss could recover.
MAX_LABEL_NOISE = 0.45


def robust_dpo(cfg: DPOParams, measured: str) -> tuple[DPOParams, dict]:
    """``cfg`` with ``label_noise`` turned into ``loss_type: [robust]`` and ``label_smoothing``
    (unchanged when it is 0), and what the metrics should say about it. ``measured``: the
    judge check's ``data/judge/label_noise.json``."""
    if cfg.label_noise == 0.0:
        return cfg, {"label_noise": 0.0, "label_noise_source": "off"}
    if cfg.label_noise == "measured":
        noise = LabelNoise.read(measured)
        if noise.flip_rate is None:
            raise AloeError(
                f"dpo.label_noise: measured, but {measured} has no flip rate: the judge check's label rule "
                f"labelled none of its {noise.asked} planted pairs; set dpo.label_noise to a number or 0"
            )
        rate, source = noise.flip_rate, f"measured on {noise.labelled} labelled planted pairs ({measured})"
        if rate >= 0.5:
            raise AloeError(
                f"dpo.label_noise: measured, but {measured} gives a flip rate of {rate} on {noise.labelled} "
                "labelled planted pairs: the trees' label rule prefers the reply written for the persona no more "
                "often than a coin, so no loss can learn the persona from its labels; use a judge the check "
                "passes, or set dpo.label_noise to a number or 0"
            )
    else:
        rate, source = cfg.label_noise, "params"
    smoothing = min(rate, MAX_LABEL_NOISE)
    if smoothing < rate:
        source += f"; {rate} capped at {MAX_LABEL_NOISE}"
    args = {**cfg.model_dump(), "label_noise": 0.0, "loss_type": ["robust"], "label_smoothing": smoothing}
    return DPOParams.model_validate(args), {"label_noise": smoothing, "label_noise_source": source}

"""A paired difference with reply style held fixed, as Arena-Hard's style control does.

A judge that likes long or heavily formatted replies rewards a model for its style, not
for fitting the user. Per turn of every example, the score difference A - B is regressed
on the two replies' style differences (Arena-Hard regresses its verdicts on them the same
way; its Bradley-Terry model wants them normalised, a difference of scores wants them
as they are, so a judge whose score grows linearly with length is corrected exactly):

    score_A - score_B = delta + b_len * d_length + b_md * d_markdown + e

``d_length`` is the difference in hundreds of words; ``d_markdown`` in markdown elements
(headers, list items, bold spans). ``delta`` is the difference expected between two
replies of the same length and markdown use; its interval resamples profiles (examples
that share one are not independent). A style feature that does not vary cannot be held fixed apart from the
intercept: where it is constant and non-zero (A always longer by the same amount), no
controlled difference is reported, and the reason says so; a resample in which that happens
is counted (``bootstrap_undefined``), never silently dropped. ``AL_mean_pooled`` is the
uncontrolled mean difference over the same turns, the figure ``delta`` is to be compared with
(``AL_mean`` of :func:`aloe.evaluation.metrics.compare` averages per turn first).
"""

from __future__ import annotations

import re

import numpy as np

from aloe.stats import bootstrap, percentile_ci, two_sided_p

MARKDOWN = re.compile(r"^\s{0,3}#{1,6}\s|^\s*(?:[-*+]|\d+[.)])\s|\*\*[^*\n]+\*\*|__[^_\n]+__", re.M)
FEATURES = ("length", "markdown")


def style(text: str) -> tuple[int, int]:
    """(words, markdown elements) of one reply."""
    return len(text.split()), len(MARKDOWN.findall(text))


SCALE = (100.0, 1.0)  # length in hundreds of words, markdown in elements


def style_controlled(
    scores_a: np.ndarray, scores_b: np.ndarray, replies_a: list, replies_b: list, clusters: list, n_boot: int, seed: int
) -> dict:
    """The controlled difference ``AL_mean`` (delta) with its interval and p, the style
    coefficients, and the turns it rests on (a turn needs both scores and both replies)."""
    rows, diffs, xs = [], [], []
    for i in range(len(scores_a)):
        for t in range(scores_a.shape[1]):
            ra, rb = replies_a[i][t], replies_b[i][t]
            if ra is None or rb is None or np.isnan(scores_a[i, t]) or np.isnan(scores_b[i, t]):
                continue
            rows.append(i)
            diffs.append(scores_a[i, t] - scores_b[i, t])
            xs.append([*style(ra), *style(rb)])
    rows, y = np.array(rows, dtype=int), np.array(diffs, dtype=float)
    raw = np.array(xs, dtype=float).reshape(-1, 4)
    x = np.column_stack([(raw[:, k] - raw[:, k + 2]) / SCALE[k] for k in range(2)])
    out = {"AL_mean": None, "AL_mean_ci95": None, "AL_mean_p": None, "coef": None, "turns": int(len(y))}
    out["AL_mean_pooled"] = round(float(y.mean()), 4) if len(y) else None  # the same turns, no control
    if not len(y):
        return {**out, "bootstrap_undefined": 0, "reason": "no turn"}
    fixed = [FEATURES[k] for k in range(2) if np.ptp(x[:, k]) == 0 and x[0, k] != 0]
    if fixed:
        return {
            **out,
            "bootstrap_undefined": 0,
            "reason": f"{', '.join(fixed)} differ by the same amount in every turn",
        }

    def fit(sample: np.ndarray) -> tuple[float, dict] | None:
        """(delta, coefficients) on these turns; a feature constant at 0 there is held fixed already."""
        varies = [k for k in range(2) if np.ptp(x[sample, k]) > 0]
        if any(np.ptp(x[sample, k]) == 0 and x[sample[0], k] != 0 for k in range(2)):
            return None  # a constant non-zero style gap: not separable from delta in this resample
        design = np.column_stack([np.ones(len(sample)), x[sample][:, varies]])
        solved = np.linalg.lstsq(design, y[sample], rcond=None)[0]
        return float(solved[0]), {FEATURES[k]: round(float(c), 4) for k, c in zip(varies, solved[1:], strict=True)}

    def delta(examples: np.ndarray) -> float | None:
        sample = np.concatenate([np.flatnonzero(rows == e) for e in examples]).astype(int)
        got = fit(sample) if len(sample) else None
        return None if got is None else got[0]

    point, coef = fit(np.arange(len(y)))
    boot = bootstrap(delta, clusters, n_boot, seed)
    kept = [d for d in boot if d is not None]
    return {
        **out,
        "AL_mean": round(point, 4),
        "AL_mean_ci95": percentile_ci(kept),
        "AL_mean_p": two_sided_p(kept),
        "coef": coef,
        "bootstrap_undefined": len(boot) - len(kept),  # resamples with no turn or an inseparable style gap
        "reason": None,
    }

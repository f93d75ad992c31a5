"""The judge check: planted pairs with a known answer, asked before any tree is grown.

For each of the first ``judge_check.pairs`` training personas P, the simulator
writes P's opening message and the responder answers it twice: once told P's
true profile and personality (the *matched* reply), once told those of the
training persona least like P (the *mismatched* reply). A judge that can tell
anything apart prefers the matched reply. The pairwise judge is asked in both
orders and read with the label rule's evidence (policy ``average`` at
``trees.judge_margin``, whatever ``trees.judge_disagreement`` says, so the
check measures the judge and not the policy); the 1-5 scoring judge of the
benchmark scores both replies.

accuracy = (pairs labelled matched + half the ties) / pairs: 0.5 is a coin, 1.0
a judge that always prefers the matched reply. Intervals resample profiles.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from aloe.conversations import simulator
from aloe.conversations.simulator import clean_message
from aloe.judging.labels import decide
from aloe.judging.questions import pair_question, score_question
from aloe.judging.scores import read_score
from aloe.judging.verdicts import OrderReading, read_verdict
from aloe.llm.client import LLM
from aloe.llm.reask import ask_until_usable
from aloe.params import Params
from aloe.prompts import render
from aloe.seeds import derive_seed
from aloe.stats import bootstrap, percentile_ci

ORDERS = {"matched_first": ("matched", "mismatched"), "matched_second": ("mismatched", "matched")}


def contrasts(vectors: np.ndarray) -> list[int]:
    """For each persona (row of L2-normalised embeddings), the least similar other persona."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.inf)
    return [int(i) for i in sims.argmin(axis=1)]


def planted_pairs(llm: LLM, personas: list[dict], contrast: list[int], params: Params) -> list[dict]:
    """One record per persona: the message, both replies, both verdicts, both scores."""
    trees, ev = params.trees, params.eval
    seed = derive_seed(params.seed, "judge_check")
    records = [
        {
            "persona_id": p["persona_id"],
            "profile_id": p["profile_id"],
            "profile": p["profile"],
            "personality": p["personality"],
            "contrast_id": personas[c]["persona_id"],
        }
        for p, c in zip(personas, contrast, strict=True)
    ]

    def ask(role: str, items: list, messages, parse, decoding) -> list:
        """Each item is (record, tag); seeds derive from (check seed, persona, tag, attempt)."""
        return ask_until_usable(
            llm,
            role,
            items,
            lambda item: messages(*item),
            lambda item: (seed, item[0]["persona_id"], item[1]),
            parse,
            decoding,
        )

    users = ask(
        "user",
        [(r, "user") for r in records],
        lambda r, _: simulator.opening(r["profile"], r["personality"]),
        lambda res: clean_message(res.text),
        trees.decoding("user"),
    )
    for rec, answer in zip(records, users, strict=True):
        rec["message"] = answer.value
    ready = [r for r in records if r["message"]]

    def reply_messages(rec: dict, tag: str) -> list[dict]:
        source = rec if tag == "matched" else next(p for p in personas if p["persona_id"] == rec["contrast_id"])
        return [
            {
                "role": "user",
                "content": render(
                    "responder_hint",
                    message=rec["message"],
                    inferred_profile=source["profile"],
                    inferred_personality=source["personality"],
                ),
            }
        ]

    items = [(r, tag) for r in ready for tag in ("matched", "mismatched")]
    for (rec, tag), answer in zip(
        items,
        ask(
            "responder",
            items,
            reply_messages,
            lambda res: clean_message(res.text),
            trees.decoding("responder"),
        ),
        strict=True,
    ):
        rec[tag] = answer.value
    ready = [r for r in ready if r["matched"] and r["mismatched"] and r["matched"] != r["mismatched"]]

    items = [(r, order) for r in ready for order in ORDERS]
    verdicts = ask(
        "judge",
        items,
        lambda r, o: pair_question(r["profile"], r["personality"], r[ORDERS[o][0]], r[ORDERS[o][1]]),
        lambda res: res if read_verdict(res, trees.judge_min_mass).verdict else None,
        trees.decoding("judge"),
    )
    for (rec, order), answer in zip(items, verdicts, strict=True):
        rec[order] = {"raw": answer.result.text, **read_verdict(answer.result, trees.judge_min_mass).to_json()}

    items = [(r, tag) for r in ready for tag in ("matched", "mismatched")]
    scores = ask(
        "judge",
        items,
        lambda r, tag: score_question(r["profile"], r["personality"], r["message"], r[tag]),
        lambda res: res if read_score(res, ev.judge_min_mass)[0] is not None else None,
        ev.decoding("judge"),
    )
    for (rec, tag), answer in zip(items, scores, strict=True):
        score, method = read_score(answer.result, ev.judge_min_mass)
        rec[f"{tag}_score"] = {"score": score, "method": method, "raw": answer.result.text}
    return records


def reading(order: dict) -> OrderReading:
    return OrderReading(order["verdict"], order["p_first"], order["method"], order["text_verdict"])


def judge_metrics(records: list[dict], params: Params) -> dict:
    asked = [r for r in records if "matched_first" in r]
    labels = [
        decide(
            reading(r["matched_first"]),
            reading(r["matched_second"]),
            policy="average",
            min_margin=params.trees.judge_margin,
        )
        for r in asked
    ]
    credit = np.array([0.5 if lab.subject_won is None else float(lab.subject_won) for lab in labels])
    clusters = [r["profile_id"] for r in asked]
    orders = [r[o] for r in asked for o in ORDERS]
    said = [o["verdict"] for o in orders if o["verdict"]]
    gaps = np.array(
        [
            r["matched_score"]["score"] - r["mismatched_score"]["score"]
            for r in asked
            if r["matched_score"]["score"] is not None and r["mismatched_score"]["score"] is not None
        ]
    )
    gap_clusters = [
        r["profile_id"]
        for r in asked
        if r["matched_score"]["score"] is not None and r["mismatched_score"]["score"] is not None
    ]
    n_boot, seed = params.judge_check.bootstrap, params.seed
    labelled = [lab for lab in labels if lab.subject_won is not None]
    accuracy_ci = percentile_ci(bootstrap(lambda rows: credit[rows].mean(), clusters, n_boot, seed)) if asked else None
    return {
        "n": len(asked),
        "dropped": len(records) - len(asked),
        "clusters": len(set(clusters)),
        "accuracy": round(float(credit.mean()), 4) if asked else None,
        "accuracy_ci95": accuracy_ci,
        "above_chance": bool(accuracy_ci and accuracy_ci[0] > 0.5),
        "label_rate": round(len(labelled) / len(asked), 4) if asked else None,
        "accuracy_labelled": round(float(np.mean([lab.subject_won for lab in labelled])), 4) if labelled else None,
        "position_bias": round(said.count("first") / len(said), 4) if said else None,
        "consistency": round(float(np.mean([lab.source == "agree" for lab in labels])), 4) if asked else None,
        "verdict_methods": dict(Counter(o["method"] for o in orders)),
        "score_gap": round(float(gaps.mean()), 4) if len(gaps) else None,
        "score_gap_ci95": percentile_ci(bootstrap(lambda rows: gaps[rows].mean(), gap_clusters, n_boot, seed))
        if len(gaps)
        else None,
        "score_n": int(len(gaps)),
        "score_methods": dict(Counter(r[f"{t}_score"]["method"] for r in asked for t in ("matched", "mismatched"))),
    }

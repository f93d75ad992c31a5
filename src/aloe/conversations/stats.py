"""metrics/trees.json: how many trees, how long, how consistent the judge was."""

from __future__ import annotations


def tree_metrics(trees: list, kept: list, calls: dict) -> dict:
    turns = [turn for t in kept for turn in t.turns]
    agreed = [turn for turn in turns if turn["judge"]["agree"]]
    decided = [turn for turn in turns if not turn["tie"]]
    return {
        "trees": len(kept),
        "failed": len(trees) - len(kept),
        "trees_cut": sum(t.failure is not None for t in kept),
        "turns": len(turns),
        "turns_mean": round(len(turns) / len(kept), 3) if kept else 0.0,
        "judge_consistency": round(len(agreed) / len(turns), 4) if turns else 0.0,
        "hinted_win_rate": round(sum(t["judge"]["hinted_won"] is True for t in decided) / len(decided), 4)
        if decided else None,
        "ties": sum(t["tie"] for t in turns),
        "resolved_by_average": sum(not t["judge"]["agree"] and not t["tie"] for t in turns),
        "retried_turns": sum(any(a > 1 for a in t["attempts"].values()) for t in turns),
        "calls": calls,
    }

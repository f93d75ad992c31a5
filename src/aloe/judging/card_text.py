"""A judge's report card in words: every figure of its JSON as one printed row, so the
printed card and the file never say different things (the judge_check stage and
``aloe judge-card`` print it)."""

from __future__ import annotations


def figure(f: dict | None) -> str:
    """A rate or mean with its interval: "0.62 [0.51, 0.74]" ("-" where there is no value)."""
    if not f or f.get("value") is None:
        return "-"
    ci = f.get("ci95")
    return f"{f['value']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def text(value) -> str:
    """One figure of a card as printed."""
    if isinstance(value, dict) and "value" in value:
        return figure(value) + (f" (n {value['n']})" if "n" in value else "")
    if isinstance(value, dict):
        return ", ".join(f"{k} {text(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list) and value and isinstance(value[0], dict):  # a table: one row per bin
        return "; ".join(" ".join(f"{k} {text(v)}" for k, v in row.items()) for row in value)
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return "[" + ", ".join(text(v) for v in value) + "]"
    if isinstance(value, list):
        return "; ".join(text(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def card_rows(card: dict) -> list[tuple[str, str]]:
    """(figure name, printed value) for every key of one judge's card, in the card's order."""
    return [(name, text(value)) for name, value in card.items()]

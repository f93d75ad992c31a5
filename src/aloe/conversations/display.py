"""Terminal display of one conversation tree (``aloe tree show``); prompts are rendered in aloe.prompts."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def render_tree(record: dict) -> Group:
    head = Table.grid(padding=(0, 1))
    head.add_row(Text("profile", style="bold"), record.get("profile", ""))
    head.add_row(Text("personality", style="bold"), record.get("personality", ""))
    if record.get("status"):
        head.add_row(Text("status", style="bold"), f"{record['status']} {record.get('failure') or ''}")
    parts = [Panel(head, title=f"tree {record.get('id', '')}", border_style="cyan")]
    for k, turn in enumerate(record["conversations"], start=1):
        body = Table.grid(padding=(0, 1))
        body.add_row(Text("user", style="bold green"), turn["user"])
        if "inferred_profile" in turn:
            body.add_row(
                Text("inferred", style="dim"),
                Text(f"{turn['inferred_profile']} | {turn.get('inferred_personality', '')}", style="dim"),
            )
        chosen = turn.get("chosen", "preferred")
        for side in ("preferred", "rejected"):
            reply = turn["assistant"][side]
            reply = " / ".join(reply) if isinstance(reply, list) else reply
            tag = f"{side}{' (hinted)' if turn.get('hinted') == side else ''}{' ->' if chosen == side else ''}"
            body.add_row(Text(tag, style="bold yellow" if side == "preferred" else "bold red"), reply)
        judge = turn.get("judge")
        if judge:
            verdicts = f"ab={judge['order_ab']['verdict']} ba={judge['order_ba']['verdict']}"
            body.add_row(
                Text("judge", style="bold"),
                f"{verdicts} agree={judge['agree']}{' (tie: no pair)' if turn.get('tie') else ''}",
            )
        parts.append(Panel(body, title=f"turn {k}", border_style="dim"))
    return Group(*parts)

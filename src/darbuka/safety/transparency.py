"""The transparency report of Regulation 2021/784 Art. 7(3)(a) to (g), for any period, as JSON
and as a small HTML page with bar charts (inline SVG, no script)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from darbuka.storage import Conn, Database, Stores

__all__ = ["TransparencyService", "render_html"]

MEASURES = (
    "User reports of messages, users and chats, reviewed by moderators in one queue.",
    "Removal orders from competent authorities, with content disabled on receipt and a "
    "one-hour clock.",
    "Hash matching of uploads (MD5, SHA-256, PDQ) against banks of known terrorist content, "
    "including every removed item's own hashes.",
)

# Extra counts other parts contribute (e.g. re-uploads refused by the hash matcher).
Counter = Callable[[Conn, int, int], Awaitable[int]]


class TransparencyService:
    def __init__(self, db: Database, stores: Stores, *, reuploads: Counter | None = None,
                 ) -> None:
        self._db = db
        self._stores = stores
        self._reuploads = reuploads

    async def report(self, start: date, end: date) -> dict[str, Any]:
        since, until = _ms(start), _ms(end) + 24 * 3600 * 1000
        count = self._stores.safety.count
        async with self._db.read() as conn:
            removed = await count(conn, "statements", "created_at", since, until, "decision")
            orders = await count(conn, "removal_orders", "received_at", since, until, "state")
            refused = await count(conn, "moderation_items", "decided_at", since, until,
                                  "decision", source="order")
            complaints = await count(conn, "appeals", "created_at", since, until, "status")
            by_source = await count(conn, "moderation_items", "created_at", since, until,
                                    "source")
            blocked = (await self._reuploads(conn, since, until)
                       if self._reuploads else by_source.get("hash_match", 0))
            took = await self._stores.safety.times_to_decision(conn, since, until)
        return {
            "period": {"from": start.isoformat(), "to": end.isoformat()},
            "a_measures": {"measures": list(MEASURES), "items_by_source": by_source},
            "b_reupload_prevention": {
                "measures": "Every removal adds the item's hashes, all eight rotations and "
                            "flips, to the local bank; uploads are matched as they are "
                            "processed.",
                "reuploads_blocked": blocked},
            # Seconds from receipt (of the order, report or match) to the decision on it.
            "time_to_action_s": {source: _spread(ms) for source, ms in sorted(took.items())},
            "c_removals": {"decisions": removed, "orders_received": sum(orders.values()),
                           "orders_by_state": orders,
                           "orders_not_executed": refused.get("order_not_executed", 0)},
            "d_complaints": {"received": sum(complaints.values()), "by_outcome": complaints},
            "e_legal_proceedings": "recorded by the operator outside this software",
            "f_reinstated_by_court_or_authority": orders.get("withdrawn", 0),
            "g_reinstated_after_complaint": complaints.get("reversed", 0),
        }


def _spread(ms: list[int]) -> dict[str, float]:
    """p50, p90 and max in seconds (nearest rank), and how many."""
    ordered = sorted(ms)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)] / 1000

    return {"count": len(ordered), "p50": rank(0.5), "p90": rank(0.9),
            "max": ordered[-1] / 1000}


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def render_html(report: dict[str, Any]) -> str:
    period = report["period"]
    charts = [
        ("Decisions taken", report["c_removals"]["decisions"]),
        ("Removal orders by state", report["c_removals"]["orders_by_state"]),
        ("Complaints by outcome", report["d_complaints"]["by_outcome"]),
        ("Items by how they were found", report["a_measures"]["items_by_source"]),
    ]
    figures = [
        ("Re-uploads blocked", report["b_reupload_prevention"]["reuploads_blocked"]),
        ("Orders received", report["c_removals"]["orders_received"]),
        ("Orders not executed", report["c_removals"]["orders_not_executed"]),
        ("Reinstated after a complaint", report["g_reinstated_after_complaint"]),
        ("Reinstated after an order was withdrawn",
         report["f_reinstated_by_court_or_authority"]),
    ]
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Transparency report {escape(period['from'])} to {escape(period['to'])}</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0}"
        "svg text{font:13px system-ui,sans-serif}</style>",
        f"<h1>Transparency report</h1><p>{escape(period['from'])} to "
        f"{escape(period['to'])} (Regulation (EU) 2021/784, Art. 7)</p>",
        "<h2>Measures</h2><ul>",
        *(f"<li>{escape(m)}</li>" for m in report["a_measures"]["measures"]),
        f"<li>{escape(report['b_reupload_prevention']['measures'])}</li></ul>",
        "<h2>Figures</h2><table>",
        *(f"<tr><td>{escape(name)}</td><td><b>{int(value)}</b></td></tr>"
          for name, value in figures),
        "</table>",
        "<h2>Time from receipt to action</h2><table><tr><td>kind</td><td>count</td>"
        "<td>p50 s</td><td>p90 s</td><td>max s</td></tr>",
        *(f"<tr><td>{escape(kind.replace('_', ' '))}</td><td>{int(t['count'])}</td>"
          f"<td>{t['p50']:g}</td><td>{t['p90']:g}</td><td>{t['max']:g}</td></tr>"
          for kind, t in report["time_to_action_s"].items()),
        "</table>",
        *(_bar_chart(title, values) for title, values in charts),
        f"<p>Legal proceedings: {escape(str(report['e_legal_proceedings']))}.</p>",
        "</html>",
    ]
    return "\n".join(parts)


def _bar_chart(title: str, values: dict[str, int]) -> str:
    if not values:
        return f"<h2>{escape(title)}</h2><p>None in this period.</p>"
    top = max(values.values()) or 1
    rows = []
    for i, (label, value) in enumerate(sorted(values.items())):
        width = max(2, int(300 * value / top))
        y = i * 26
        rows.append(f"<text x=0 y={y + 16}>{escape(label.replace('_', ' '))}</text>"
                    f"<rect x=190 y={y + 4} width={width} height=16 fill='#3b6ea5'/>"
                    f"<text x={196 + width} y={y + 16}>{int(value)}</text>")
    height = len(values) * 26 + 4
    return (f"<h2>{escape(title)}</h2><svg role=img aria-label='{escape(title)}' "
            f"width=560 height={height} viewBox='0 0 560 {height}'>{''.join(rows)}</svg>")

"""Print the figures the fault tests recorded (var/reliability-figures.jsonl) as a Markdown table.

    .venv/bin/python -m tests.reliability.figures [--since 2026-11-23T12:20:00Z] [path]

One row per (fault, database): how many runs were recorded, the worst loss, the range of
duplicates and of recovery times over those runs, and the details of the latest run.
docs/RELIABILITY.md is filled from this output.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "var" / "reliability-figures.jsonl"


def runs(path: Path, since: str = "") -> dict[tuple[str, str], list[dict]]:
    """Recorded runs grouped by (fault, database / broker); ``since`` (ISO, UTC) drops older ones."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            if row["at"] < since:  # same ISO format, so text order is time order
                continue
            grouped[(row["fault"], f"{row['database']} / {row['broker']}")].append(row)
    return dict(sorted(grouped.items()))


def _span(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def _detail(row: dict) -> str:
    skip = {"fault", "database", "broker", "lost", "duplicates", "recover_s", "at"}
    return "; ".join(f"{k}={json.dumps(v)}" for k, v in row.items() if k not in skip)


def table(grouped: dict[tuple[str, str], list[dict]]) -> str:
    out = [
        "| fault or attack | database / broker | runs | events lost (worst) | duplicates | time to recover (s) "
        "| latest run |",
        "|---|---|---|---|---|---|---|",
    ]
    for (fault, where), rows in grouped.items():
        latest = rows[-1]
        out.append(
            f"| {fault} | {where} | {len(rows)} | {max(r.get('lost', 0) for r in rows)} "
            f"| {_span(r.get('duplicates') for r in rows)} | {_span(r.get('recover_s') for r in rows)} "
            f"| {_detail(latest)} ({latest['at']}) |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    since = ""
    if args[:1] == ["--since"]:
        since, args = args[1], args[2:]
    print(table(runs(Path(args[0]) if args else DEFAULT, since)))

"""Print the figures the fault tests recorded (var/reliability-figures.jsonl) as a Markdown table.

    .venv/bin/python -m tests.reliability.figures [path]

Only the latest run of each (fault, database) is shown; docs/RELIABILITY.md is filled from this.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "var" / "reliability-figures.jsonl"


def latest(path: Path) -> list[dict]:
    rows: dict[tuple[str, str], dict] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[(row["fault"], row["database"])] = row
    return sorted(rows.values(), key=lambda r: (r["fault"], r["database"]))


def _detail(row: dict) -> str:
    skip = {"fault", "database", "broker", "lost", "duplicates", "recover_s", "at"}
    return "; ".join(f"{k}={json.dumps(v)}" for k, v in row.items() if k not in skip)


def table(rows: list[dict]) -> str:
    out = ["| fault or attack | database / broker | events lost | duplicates | time to recover (s) | measured |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['fault']} | {r['database']} / {r['broker']} | {r.get('lost', '-')} | {r.get('duplicates', '-')} "
            f"| {r.get('recover_s', '-')} | {_detail(r)} ({r['at']}) |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(table(latest(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)))

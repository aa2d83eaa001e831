"""`make bench`: every benchmark in bench/, one JSON line per figure, then a table.

make bench                      all of them (about 20 minutes)
make bench ARGS="guides_pages"  some of them
BENCH_SECONDS=5 BENCH_ROUNDS=1 make bench   a quick look (figures are noisier)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "common", "run", "hello_site", "esp_sink"}
TIME_LIMIT = 30 * 60  # per benchmark: every loop inside is bounded, this is the backstop


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def main(argv: list[str]) -> int:
    chosen = argv or discover()
    figures: list[dict] = []
    failed: list[str] = []
    for name in chosen:
        print(f"# bench.{name}", file=sys.stderr, flush=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}"],
            cwd=HERE.parent, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "name" in record and "ours" in record:
                figures.append(record)
        try:
            code = proc.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -1
        if code != 0:
            failed.append(name)
    print()
    header = ("figure", "ours", "peer", "ratio", "target", "met")
    rows = [
        (
            f["name"],
            f"{fmt(f['ours'])} {f.get('unit', '')}".strip(),
            f"{fmt(f.get('peer'))} ({f['peer_name']})"
            if f.get("peer_name")
            else fmt(f.get("peer")),
            f"{fmt(f.get('ratio'))}x" if f.get("ratio") else "-",
            f.get("target") or "-",
            {True: "yes", False: "NO", None: "-"}[f.get("met")],
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Run every benchmark of tools/benchmarks/ (``make bench``), each in its own process, showing its output as it
comes, then one summary table of every comparison they printed: work, ours, peer, ratio, identical.

Each benchmark prints its comparisons as
``<work>: ours <time> [unit] | <peer> <time> [unit] | ratio <peer/ours>x | identical: <yes/no/...>``;
the table gathers those lines (ratio > 1: ours is faster). A benchmark that fails is listed with its exit code and
the run ends with exit code 1.

    python tools/benchmarks/run_all.py [--only detection luss raw unprocess inference selfsup realtime seg-inference]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from plumbing.tables import format_table  # noqa: E402

HERE = Path(__file__).parent
BENCHMARKS = {"detection": "bench_detection.py", "luss": "bench_luss.py", "raw": "bench_raw.py",
              "unprocess": "bench_unprocess.py", "inference": "bench_infer.py", "selfsup": "bench_selfsup.py",
              "realtime": "bench_realtime.py", "seg-inference": "bench_seg_infer.py"}
COMPARISON = re.compile(r"^(?P<work>[^|]+?): ours(?: \([^)]*\))? (?P<ours>[\d.]+|n/a)(?: (?P<unit>[a-zA-Z/]+))? \| "
                        r"(?P<peer>.+?) (?P<theirs>[\d.]+|n/a)(?: [a-zA-Z/]+)? \| ratio (?P<ratio>\S+) \| "
                        r"identical: (?P<identical>.*)$")


def comparisons(lines: list[str]) -> list[dict]:
    """The comparison lines among ``lines``, parsed (work, ours, unit, peer, theirs, ratio, identical)."""
    found = []
    for line in lines:
        match = COMPARISON.match(line.strip())
        if match:
            found.append({k: (v or "").strip() for k, v in match.groupdict().items()})
    return found


def run(name: str, script: str) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its output; (exit code, output lines)."""
    print(f"\n=== {name}: {script}", flush=True)
    proc = subprocess.Popen([sys.executable, str(HERE / script)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    return proc.wait(), lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS),
                        help="run only these benchmarks")
    args = parser.parse_args()
    rows, failed = [], []
    for name in args.only:
        code, lines = run(name, BENCHMARKS[name])
        if code:
            failed.append(f"{name} (exit code {code})")
        for c in comparisons(lines):
            unit = f" {c['unit']}" if c["unit"] else " s"
            rows.append([name, c["work"], f"{c['ours']}{unit}", c["peer"][:40], f"{c['theirs']}{unit}", c["ratio"],
                         c["identical"][:60]])
    print()
    print(format_table(["benchmark", "work", "ours", "peer", "peer's", "ratio", "identical"], rows,
                       "Summary (ratio = peer's time / ours: above 1, ours is faster)", align_left=2))
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

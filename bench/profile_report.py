"""Summarise a py-spy ``--format raw`` profile: where the server's time goes.

    python -m bench.profile_report bench/results/profile_issue_http.txt [--top 25]

Prints inclusive time (the share of samples in which a function is on the stack) and self
time (the share in which it is the innermost frame), and writes both next to the input as
``<name>.summary.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter as Tally
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    """``func (pkg/module.py:123)`` -> ``pkg/module.py:func`` (line numbers merged)."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['file']}:{match['func']}"


def summarise(path: Path, top: int = 25) -> dict[str, Any]:
    inclusive: Tally[str] = Tally()
    own: Tally[str] = Tally()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";") if f]
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n

    def pct(tally: Tally[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in tally.most_common(top)] if total else []

    return {"samples": total, "inclusive_pct": pct(inclusive), "self_pct": pct(own)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_report")
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    report = summarise(args.profile, args.top)
    out = args.profile.with_suffix(".summary.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['samples']} samples")
    for title, key in (("inclusive", "inclusive_pct"), ("self", "self_pct")):
        print(f"-- {title} --")
        for name, share in report[key]:
            print(f"{share:6.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

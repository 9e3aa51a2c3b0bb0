#!/usr/bin/env python3
"""Summarise a py-spy profile in collapsed form (`py-spy record --format raw`).

    python3 scripts/benchlib/stacks.py PROFILE.txt [--top 25]

Prints the functions with the most samples: inclusive (the function or anything it
called was running) and self (the function itself was on top), as percentages of all
samples, then the self samples summed per source file. docs/bench.md quotes these.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

__all__ = ["read_stacks", "summarise"]

#: the repository root, cut from file names like site-packages is
REPO = str(Path(__file__).resolve().parents[2]) + "/"
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame(text: str) -> tuple[str, str]:
    """(function, short file) of one frame; 'file' keeps the package path only."""
    match = FRAME.match(text.strip())
    if match is None:
        return text.strip(), ""
    path = match["file"]
    for marker in ("site-packages/", "lib/python3", REPO):
        if marker in path:
            path = path.split(marker, 1)[1]
    return match["func"], path


def read_stacks(path: Path) -> Counter[tuple[tuple[str, str], ...]]:
    stacks: Counter[tuple[tuple[str, str], ...]] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = tuple(_frame(f) for f in stack.split(";") if not f.startswith("process "))
        stacks[frames] += int(count)
    return stacks


def summarise(stacks: Counter, top: int) -> str:
    total = sum(stacks.values()) or 1
    inclusive: Counter = Counter()
    own: Counter = Counter()
    files: Counter = Counter()
    for frames, count in stacks.items():
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
            files[frames[-1][1]] += count
    lines = [f"{total} samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"\n{title}:")
        for (func, file), count in counter.most_common(top):
            lines.append(f"  {100 * count / total:5.1f}%  {func}  ({file})")
    lines.append("\nself by file:")
    for file, count in files.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {file}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(read_stacks(args.profile), args.top))


if __name__ == "__main__":
    main()

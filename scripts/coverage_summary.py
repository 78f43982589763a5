#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarise gcovr's JSON for scripts/coverage.

Usage: coverage_summary.py ROOT REPORT_DIR

Reads REPORT_DIR/coverage.json (every -O0 build of core/ merged) and, if
present, REPORT_DIR/compact.json (the -Os core alone). Writes
REPORT_DIR/summary.txt (per file and total: lines and branches) and
REPORT_DIR/uncovered.txt (every uncovered line and branch with its source
line), and prints the summary, the uncovered list (up to 60 entries) and
FIGURE lines for scripts/verify.

A line counts if gcovr says it is code and not excluded; a branch counts
if gcovr kept it (excluded branches are dropped from the JSON). A branch is
covered if it was taken at least once.
"""

import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def file_figures(entry):
    """(lines, lines covered, branches, branches covered) of one file."""
    lines = covered = branches = taken = 0
    for line in entry["lines"]:
        if line.get("gcovr/noncode") or line.get("gcovr/excluded"):
            continue
        lines += 1
        if line["count"] > 0:
            covered += 1
        for branch in line["branches"]:
            branches += 1
            if branch["count"] > 0:
                taken += 1
    return lines, covered, branches, taken


def pct(part, whole):
    return 100.0 if whole == 0 else 100.0 * part / whole


def table(data, title):
    rows = []
    totals = [0, 0, 0, 0]
    for entry in sorted(data["files"], key=lambda e: e["file"]):
        figs = file_figures(entry)
        if figs[0] == 0 and figs[2] == 0:
            continue
        rows.append((entry["file"], figs))
        totals = [a + b for a, b in zip(totals, figs)]
    width = max([len("total")] + [len(name) for name, _ in rows])
    out = [title]
    out.append(f"{'file':<{width}}  {'lines':<18}  {'branches':<18}")
    for name, (l, lc, b, bt) in rows + [("total", tuple(totals))]:
        if name == "total":
            out.append("-" * (width + 38))
        out.append(
            f"{name:<{width}}  {lc:>5}/{l:<5} {pct(lc, l):5.1f}%"
            f"  {bt:>5}/{b:<5} {pct(bt, b):5.1f}%"
        )
    return out, totals


def source_lines(root, name, cache):
    if name not in cache:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as f:
                cache[name] = f.read().split("\n")
        except OSError:
            cache[name] = []
    return cache[name]


def uncovered(root, data):
    cache = {}
    out = []
    for entry in sorted(data["files"], key=lambda e: e["file"]):
        src = source_lines(root, entry["file"], cache)
        for line in entry["lines"]:
            if line.get("gcovr/noncode") or line.get("gcovr/excluded"):
                continue
            n = line["line_number"]
            text = src[n - 1].strip() if 0 < n <= len(src) else ""
            branches = line["branches"]
            missed = [i for i, b in enumerate(branches) if b["count"] == 0]
            if line["count"] == 0:
                out.append(f"{entry['file']}:{n}: line not run: {text}")
            elif missed:
                which = ",".join(str(i) for i in missed)
                out.append(
                    f"{entry['file']}:{n}: branch {which} of "
                    f"{len(branches)} never taken: {text}"
                )
    return out


def main():
    root, report = sys.argv[1], sys.argv[2]
    data = load(os.path.join(report, "coverage.json"))
    summary, totals = table(
        data, "core/ coverage, every -O0 build merged (scripts/coverage)"
    )
    missed = uncovered(root, data)
    compact_path = os.path.join(report, "compact.json")
    compact_totals = None
    if os.path.exists(compact_path):
        compact = load(compact_path)
        part, compact_totals = table(
            compact, "the -Os core alone (sys_heap-*-compact tests)"
        )
        summary += [""] + part
        compact_missed = uncovered(root, compact)
    else:
        compact_missed = []

    with open(os.path.join(report, "summary.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(summary) + "\n")
    with open(os.path.join(report, "uncovered.txt"), "w", encoding="utf-8") as f:
        f.write("# every -O0 build merged\n")
        f.write("\n".join(missed) + ("\n" if missed else ""))
        if compact_totals is not None:
            f.write("# the -Os core alone\n")
            f.write("\n".join(compact_missed) + ("\n" if compact_missed else ""))

    print("\n".join(summary))
    print()
    shown = missed[:60]
    print(f"uncovered in the merged -O0 builds: {len(missed)} entries"
          + (" (first 60)" if len(missed) > 60 else "")
          + (":" if missed else ""))
    for item in shown:
        print("  " + item)
    if compact_totals is not None:
        print(f"uncovered in the -Os core alone: {len(compact_missed)} entries "
              "(see uncovered.txt)")
    rel = os.path.relpath(report, root)
    print(f"report: {rel}/index.html, {rel}/summary.txt, {rel}/uncovered.txt")
    l, lc, b, bt = totals
    print(f"FIGURE coverage_lines {pct(lc, l):.1f}% ({lc}/{l})")
    print(f"FIGURE coverage_branches {pct(bt, b):.1f}% ({bt}/{b})")
    if compact_totals is not None:
        l, lc, b, bt = compact_totals
        print(f"FIGURE coverage_compact_lines {pct(lc, l):.1f}% ({lc}/{l})")
        print(f"FIGURE coverage_compact_branches {pct(bt, b):.1f}% ({bt}/{b})")


if __name__ == "__main__":
    main()

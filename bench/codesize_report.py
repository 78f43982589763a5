#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""scripts/codesize's tables and JSON from its rows (standard library only).

usage: codesize_report.py functions ROWS.tsv
       codesize_report.py write ROWS.tsv SECTION.md DOC.md JSON GCC-VERSION
       codesize_report.py json ROWS.tsv JSON GCC-VERSION

ROWS.tsv: one line per configuration, tab-separated: arch, CPU flags,
optimisation, listeners (on/off), hardening (none/basic), then "text data
bss" of the core archive, of the kernel archive and of what the heap
calls add to the linked probe, and the configuration's directory (its
with-nm.txt and without-nm.txt: nm -S of the probe linked with and
without the calls).

functions: prints the table of what the calls add, symbol by symbol, on
Cortex-M3 at -Os with listeners off (the targets' configuration), NONE
beside BASIC.
write: writes JSON (every row, and "headline": {"NONE": bytes, "BASIC":
bytes}, the linked text of that configuration) and puts SECTION.md into
DOC.md between its codesize markers (bench/docsection.py).
json: writes only the JSON (a run that leaves the docs alone, for the
headline of that run: bench/targets.py --codesize-json).
"""
import datetime
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docsection  # noqa: E402

# The configuration the targets are about (docs/performance.md, headline).
HEADLINE = {"arch": "m3", "opt": "-Os", "listeners": "off"}


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 9:
                continue
            sizes = [[int(x) for x in p[i].split()] for i in (5, 6, 7)]
            rows.append({"arch": p[0], "cpu_flags": p[1], "opt": p[2],
                         "listeners": p[3], "hardening": p[4].upper(),
                         "core": sizes[0], "kernel": sizes[1],
                         "linked": sizes[2], "dir": p[8]})
    return rows


def headline_rows(rows):
    return {r["hardening"]: r for r in rows
            if all(r[k] == v for k, v in HEADLINE.items())}


def nm_sizes(path):
    """{symbol: bytes} from nm -S (every sized symbol)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                out[p[3]] = out.get(p[3], 0) + int(p[1], 16)
    return out


def added_symbols(row):
    """{symbol: bytes} the heap calls add to the probe (in the linked
    program with the calls and not in the one without), and "main"'s
    growth (its call sites)."""
    with_ = nm_sizes(os.path.join(row["dir"], "with-nm.txt"))
    without = nm_sizes(os.path.join(row["dir"], "without-nm.txt"))
    out = {s: b for s, b in with_.items() if s not in without}
    out["main"] = with_.get("main", 0) - without.get("main", 0)
    return out


def text_of(syms, row):
    """Bytes of syms in the linked text: the symbols of the with-nm.txt
    listing whose type is code or read-only data."""
    types = {}
    with open(os.path.join(row["dir"], "with-nm.txt"), encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                types[p[3]] = p[2]
    return sum(b for s, b in syms.items()
               if s == "main" or types.get(s, "?") in "tTrRwW")


def cmd_functions(rows):
    h = headline_rows(rows)
    levels = [lv for lv in ("NONE", "BASIC") if lv in h]
    syms = {lv: added_symbols(h[lv]) for lv in levels}
    names = sorted({s for lv in levels for s in syms[lv]},
                   key=lambda s: (-max(syms[lv].get(s, 0) for lv in levels),
                                  s))
    print("What the heap calls add, symbol by symbol (`nm -S` of the probe "
          "with the calls, less the one without; `main`: its growth, the "
          "call sites), Cortex-M3, `-Os`, listeners off. Symbols include "
          "data and bss; *no symbol* is the rest of the linked text: "
          "read-only data without a symbol (string literals such as the "
          "fault messages) and alignment padding.")
    print()
    print("| symbol | %s |" % " | ".join(levels))
    print("|" + " --- |" * (len(levels) + 1))
    for s in names:
        print("| `%s` | %s |" % (s, " | ".join(
            str(syms[lv].get(s, "-")) for lv in levels)))
    print("| *no symbol* | %s |" % " | ".join(
        str(h[lv]["linked"][0] - text_of(syms[lv], h[lv])) for lv in levels))
    print("| **linked text** | %s |" % " | ".join(
        "**%d**" % h[lv]["linked"][0] for lv in levels))


def git_state(root):
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse",
                                 "--short=12", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--", "core", "target/codesize",
                                "scripts/codesize"], capture_output=True,
                               text=True).stdout.strip() != ""
        return commit, dirty
    except (OSError, subprocess.CalledProcessError):
        return "none", True


def cmd_json(rows, json_path, gcc):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit, dirty = git_state(root)
    h = headline_rows(rows)
    data = {
        "schema": 1,
        "generated": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit, "dirty": dirty, "gcc": gcc,
        "definition": "text (code and read-only data, size(1)) that "
        "init+alloc+aligned_alloc+realloc+free add to a program linked "
        "with --gc-sections (target/codesize/size_probe.c with and "
        "without the calls)",
        "headline_configuration": HEADLINE,
        "headline": {lv: r["linked"][0] for lv, r in h.items()},
        "headline_symbols": {lv: added_symbols(r) for lv, r in h.items()},
        "rows": [{k: v for k, v in r.items() if k != "dir"} for r in rows],
    }
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def cmd_write(rows, section_path, doc, json_path, gcc):
    cmd_json(rows, json_path, gcc)
    with open(section_path, encoding="utf-8") as f:
        docsection.write_section(doc, "codesize", f.read())


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "functions":
        cmd_functions(read_rows(sys.argv[2]))
    elif len(sys.argv) == 7 and sys.argv[1] == "write":
        cmd_write(read_rows(sys.argv[2]), *sys.argv[3:])
    elif len(sys.argv) == 5 and sys.argv[1] == "json":
        cmd_json(read_rows(sys.argv[2]), *sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The end of scripts/verify: the summary on the console (at most 100
columns), build/verify/summary.json and build/verify/summary.md, from the
step results verify recorded and the FIGURE lines its steps printed.

usage: verify_summary.py --steps FILE --out-dir DIR [--depth D]
                         [--presets "P ..."] [--figures LOG]...
                         [--plots DIR]... [--root DIR] [--width N]

Input, --steps: one line per step, tab-separated:
    step  configuration  result  wall_s  cpu_s  log  summary  [key=value]...
result is PASS, FAIL or SKIP; wall_s and cpu_s are seconds or "-"; log is
a path relative to --root or "-"; summary is the step's key figure as
text; each key=value is one figure of the step (numbers become numbers);
lines starting with "#" are comments.
--figures: a log whose "FIGURE <name> <value...>" lines are kept (the
benchmarks', scripts/codesize's, scripts/coverage's); "FIGURE
target_<id> <measured|none> <met|MISS|n/a>" lines (bench/targets.py) make
the targets block, with each target's text and limit from
bench/targets.py. --plots: directories whose *.png summary.md links.

summary.json (schema 1):
  schema        1
  generated     UTC time, "YYYY-MM-DD HH:MM UTC"
  commit        git short hash of HEAD ("none" outside git); dirty: bool
  depth         quick | default | full;  presets: [preset names]
  totals        passed, failed, skipped (step counts), wall_s, cpu_s (sums)
  steps         [{step, config, result, wall_s, cpu_s (null if not
                 measured), log (null if none), summary, figures: {k: v}}]
                wall_s: elapsed seconds; cpu_s: user+system seconds of
                the step's processes (both cores count: cpu_s can exceed
                wall_s)
  figures       {name: {value, text, log, invalid}}: every FIGURE line;
                value is a number when the text is one, else null; text
                is the line's value as printed; invalid explains a figure
                that is not a measurement (a peer allocator returned
                misaligned blocks), else null
  targets       {measured: bool (a target line was seen), met, missed,
                 not_measured, rows: [{id, what, measured, unit, op,
                 limit, verdict: met | missed | not measured}]}
                A missed target is a finding, not a failure.
  plots         [paths relative to --root]

Exit status 0 unless an input cannot be read. Standard library only.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.dirname(HERE)
MAX_WIDTH = 100
FIELDS = ("step", "config", "result", "wall_s", "cpu_s", "log", "summary")
# report.py writes a peer's figure for a workload where it returned a
# block not aligned as asked as "invalid(<N>-misaligned)".
INVALID_RE = re.compile(r"^invalid\((\d+)-misaligned\)$")
PEER_RE = re.compile(r"^(w\d+)_kheap_vs_(\w+)$")


def number(text):
    """int or float of text, else None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def seconds(text):
    return None if text in ("", "-") else number(text)


def read_steps(path):
    steps = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) < len(FIELDS):
                raise ValueError("%s:%d: %d fields, want at least %d" % (
                    path, lineno, len(cells), len(FIELDS)))
            row = dict(zip(FIELDS, cells))
            row["wall_s"] = seconds(row["wall_s"])
            row["cpu_s"] = seconds(row["cpu_s"])
            row["log"] = None if row["log"] == "-" else row["log"]
            figures = {}
            for kv in cells[len(FIELDS):]:
                key, sep, value = kv.partition("=")
                if sep:
                    num = number(value)
                    figures[key] = value if num is None else num
            row["figures"] = figures
            steps.append(row)
    return steps


def explain_invalid(name, text):
    m = INVALID_RE.match(text)
    if not m:
        return None
    p = PEER_RE.match(name)
    who = "%s, %s" % (p.group(2), p.group(1).upper()) if p else name
    return ("not a measurement: %s returned %s blocks not aligned as "
            "asked, so its time there is not comparable" % (who, m.group(1)))


def read_figures(paths, root):
    """{name: entry} and [(id, measured, verdict)] from FIGURE lines."""
    figures, target_lines, order = {}, {}, []
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(None, 2)
                if len(parts) < 3 or parts[0] != "FIGURE":
                    continue
                name, text = parts[1], parts[2].strip()
                if name.startswith("target_"):
                    words = text.split()
                    tid = name[len("target_"):]
                    # A benchmark may judge the targets more than once
                    # (each script ends with the headline); the last
                    # judgement, made with the most of this run's
                    # results, counts, in the order first seen.
                    if tid not in target_lines:
                        order.append(tid)
                    target_lines[tid] = (tid, words[0], words[1]
                                         if len(words) > 1 else "n/a")
                first = text.split()[0]
                figures[name] = {"value": number(first), "text": text,
                                 "log": os.path.relpath(path, root),
                                 "invalid": explain_invalid(name, text)}
    return figures, [target_lines[tid] for tid in order]


def target_definitions(root):
    """The targets bench/targets.py defines, in its order, as
    {id: Target} (no values: only what, limit, unit, op)."""
    path = os.path.join(root, "bench", "targets.py")
    if not os.path.exists(path):
        return {}
    spec = importlib.util.spec_from_file_location("kheap_targets", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {t.id: t for t in mod.measure(None, None, None, None)}


def targets_block(target_lines, definitions):
    rows = []
    for tid, measured, verdict in target_lines:
        d = definitions.get(tid)
        rows.append({
            "id": tid, "what": d.what if d else None,
            "measured": None if measured == "none" else number(measured),
            "unit": d.unit if d else None, "op": d.op if d else None,
            "limit": d.limit if d else None,
            "verdict": {"met": "met", "MISS": "missed"}.get(
                verdict, "not measured")})
    count = {v: sum(1 for r in rows if r["verdict"] == v)
             for v in ("met", "missed", "not measured")}
    return {"measured": bool(rows), "met": count["met"],
            "missed": count["missed"],
            "not_measured": count["not measured"], "rows": rows}


def git(root, *args):
    try:
        return subprocess.run(["git", "-C", root] + list(args),
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def find_plots(dirs, root):
    plots = []
    for d in dirs:
        if os.path.isdir(d):
            plots += [os.path.relpath(os.path.join(d, n), root)
                      for n in sorted(os.listdir(d)) if n.endswith(".png")]
    return plots


def fmt_secs(v):
    return "-" if v is None else "%.1f" % v


def fmt_value(v, unit):
    if v is None:
        return "-"
    text = "%g" % v if isinstance(v, float) else str(v)
    if unit == "%":
        return text + "%"
    if unit in (None, "ratio", "sizes"):
        return text
    return "%s %s" % (text, {"instructions": "insns",
                             "bytes": "B"}.get(unit, unit))


def fit(text, width):
    return text if len(text) <= width else text[:max(width - 3, 0)] + "..."


def console(summary, width):
    """The console summary as lines, none longer than width."""
    out = ["=== kheap verify summary (depth %s) ===" % summary["depth"]]
    head = ("step", "configuration", "result", "wall s", "cpu s",
            "key figure")
    rows = [(s["step"], s["config"], s["result"], fmt_secs(s["wall_s"]),
             fmt_secs(s["cpu_s"]), s["summary"]) for s in summary["steps"]]
    widths = [max([len(head[i])] + [len(r[i]) for r in rows])
              for i in range(5)]
    # The first two columns give way first, so that the figure keeps
    # some room on a narrow width.
    widths[0] = min(widths[0], 10)
    widths[1] = min(widths[1], 20)
    fixed = sum(widths) + 2 * 5
    fig_width = max(width - fixed, 10)

    def line(r):
        cells = [fit(r[0], widths[0]).ljust(widths[0]),
                 fit(r[1], widths[1]).ljust(widths[1]),
                 r[2].ljust(widths[2]), r[3].rjust(widths[3]),
                 r[4].rjust(widths[4]), fit(r[5], fig_width)]
        return "  ".join(cells).rstrip()

    out.append(line(head))
    out.append(line(tuple("-" * w for w in widths) + ("-" * 10,)))
    out += [line(r) for r in rows]
    t = summary["totals"]
    out.append("total wall %s s, cpu %s s (cpu: user+system of every "
               "step's processes)" % (fmt_secs(t["wall_s"]),
                                      fmt_secs(t["cpu_s"])))
    out.append("")
    tg = summary["targets"]
    if not tg["measured"]:
        out.append("targets: not measured in this run (no benchmark "
                   "step; committed figures: docs/performance.md)")
    else:
        out.append("targets (limits: bench/targets.py; a miss is a "
                   "finding, not a failure):")
        id_w = max(len(r["id"]) for r in tg["rows"])
        skipped = []
        for r in tg["rows"]:
            if r["verdict"] == "not measured":
                skipped.append(r["id"])
                continue
            limit = "%s %s" % (r["op"] or "?",
                               fmt_value(r["limit"], r["unit"]))
            out.append(fit("  %-6s %-*s  %-14s limit %s" % (
                r["verdict"], id_w, r["id"],
                fmt_value(r["measured"], r["unit"]), limit), width))
        if skipped:
            text = "  not measured at this depth: %d (%s)" % (
                len(skipped), ", ".join(skipped))
            if len(text) > width:
                text = ("  not measured at this depth: %d (listed in "
                        "summary.md; committed figures: "
                        "docs/performance.md)" % len(skipped))
            out.append(fit(text, width))
    out.append("details: build/verify/summary.md, summary.json; "
               "logs: build/verify/")
    verdict = "verify: %d passed, %d failed" % (t["passed"], t["failed"])
    if t["skipped"]:
        verdict += ", %d skipped" % t["skipped"]
    if tg["measured"]:
        verdict += "; targets: %d met, %d missed" % (tg["met"],
                                                     tg["missed"])
    else:
        verdict += "; targets: not measured"
    out.append(verdict)
    return out


def md_escape(text):
    return str(text).replace("|", "\\|")


def markdown(summary, md_dir, root):
    def link(path):
        return os.path.relpath(os.path.join(root, path), md_dir)

    t = summary["totals"]
    out = ["# kheap verify: depth %s" % summary["depth"], "",
           "%s, commit `%s`%s; presets: %s." % (
               summary["generated"], summary["commit"],
               " (uncommitted changes)" if summary["dirty"] else "",
               " ".join(summary["presets"]) or "none"), "",
           "**%d passed, %d failed, %d skipped**; wall %s s, cpu %s s "
           "(user+system of every step's processes)." % (
               t["passed"], t["failed"], t["skipped"],
               fmt_secs(t["wall_s"]), fmt_secs(t["cpu_s"])), "",
           "## Steps", "",
           "| step | configuration | result | wall s | cpu s | key figure "
           "| log |", "| --- | --- | --- | ---: | ---: | --- | --- |"]
    for s in summary["steps"]:
        log = "[%s](%s)" % (os.path.basename(s["log"]), link(s["log"])) \
            if s["log"] else "-"
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            s["step"], md_escape(s["config"]), s["result"],
            fmt_secs(s["wall_s"]), fmt_secs(s["cpu_s"]),
            md_escape(s["summary"]), log))
    tg = summary["targets"]
    out += ["", "## Targets", ""]
    if not tg["measured"]:
        out.append("Not measured in this run: no benchmark step ran.")
    else:
        out += ["**%d met, %d missed, %d not measured at this depth.** A "
                "missed target is a finding, not a failure; limits from "
                "`bench/targets.py`; the committed figures of every "
                "target: docs/performance.md." % (
                    tg["met"], tg["missed"], tg["not_measured"]), "",
                "| target | measured | limit | verdict |",
                "| --- | --- | --- | --- |"]
        for r in tg["rows"]:
            out.append("| %s (`%s`) | %s | %s %s | %s |" % (
                md_escape(r["what"] or r["id"]), r["id"],
                fmt_value(r["measured"], r["unit"]), r["op"] or "",
                fmt_value(r["limit"], r["unit"]), r["verdict"]))
    if summary["figures"]:
        out += ["", "## Figures", "",
                "Every `FIGURE` line the steps printed (what each means: "
                "docs/performance.md).", "",
                "| figure | value | from |", "| --- | --- | --- |"]
        for name, f in summary["figures"].items():
            text = f["text"]
            if f["invalid"]:
                text = "%s: %s" % (text, f["invalid"])
            out.append("| `%s` | %s | %s |" % (name, md_escape(text),
                                               f["log"]))
    if summary["plots"]:
        out += ["", "## Plots", ""]
        out += ["- [%s](%s)" % (os.path.basename(p), link(p))
                for p in summary["plots"]]
    return "\n".join(out) + "\n"


def build(args):
    root = os.path.abspath(args.root)
    steps = read_steps(args.steps)
    figures, target_lines = read_figures(args.figures, root)
    definitions = target_definitions(root) if target_lines else {}

    def total(key):
        vals = [s[key] for s in steps if s[key] is not None]
        return round(sum(vals), 1) if vals else None

    dirty = git(root, "status", "--porcelain")
    return {
        "schema": 1,
        "generated": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git(root, "rev-parse", "--short=12", "HEAD") or "none",
        "dirty": bool(dirty),
        "depth": args.depth,
        "presets": args.presets.split(),
        "totals": {"passed": sum(1 for s in steps if s["result"] == "PASS"),
                   "failed": sum(1 for s in steps if s["result"] == "FAIL"),
                   "skipped": sum(1 for s in steps
                                  if s["result"] == "SKIP"),
                   "wall_s": total("wall_s"), "cpu_s": total("cpu_s")},
        "steps": steps,
        "figures": figures,
        "targets": targets_block(target_lines, definitions),
        "plots": find_plots(args.plots, root),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--depth", default="default")
    p.add_argument("--presets", default="")
    p.add_argument("--figures", action="append", default=[])
    p.add_argument("--plots", action="append", default=[])
    p.add_argument("--root", default=DEFAULT_ROOT)
    p.add_argument("--width", type=int, default=MAX_WIDTH)
    args = p.parse_args()
    try:
        summary = build(args)
    except (OSError, ValueError) as e:
        print("verify_summary: %s" % e, file=sys.stderr)
        return 1
    out_dir = os.path.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "summary.json"), "w",
              encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "summary.md"), "w",
              encoding="utf-8") as f:
        f.write(markdown(summary, out_dir, os.path.abspath(args.root)))
    print("\n".join(console(summary, min(args.width, MAX_WIDTH))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of the scripts' own logic (ctest label "scripts"; see
CMakeLists.txt here). Nothing is timed and no build output is used.

usage: test_scripts.py verify-summary|scripts-usage --root DIR --work DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
CANNED = os.path.join(HERE, "canned")
failures = []


def check(cond, what):
    print("%s  %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run_summary(root, work, extra):
    out_dir = os.path.join(work, "out")
    cmd = [sys.executable, os.path.join(root, "scripts", "verify_summary.py"),
           "--root", root, "--out-dir", out_dir,
           "--steps", os.path.join(CANNED, "steps.tsv"),
           "--depth", "quick", "--presets", "default cortex-m3"] + extra
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    return r, out_dir


def verify_summary(root, work):
    plots = os.path.join(work, "img")
    os.makedirs(plots, exist_ok=True)
    # The writer only lists the plots; an empty file stands for one.
    open(os.path.join(plots, "worst_case.png"), "w").close()
    r, out_dir = run_summary(root, work, [
        "--figures", os.path.join(CANNED, "bench.log"),
        "--figures", os.path.join(work, "no-such.log"), "--plots", plots])
    check(r.returncode == 0, "the writer exits 0 on the canned steps")
    lines = r.stdout.splitlines()
    wide = [ln for ln in lines if len(ln) > 100]
    check(not wide, "every console line fits 100 columns (%d do not: %s)"
          % (len(wide), wide[:1]))
    check(lines[-1] == "verify: 6 passed, 2 failed, 1 skipped; "
          "targets: 3 met, 3 missed",
          "the last line counts steps and targets: %r" % lines[-1:])
    step_rows = [ln for ln in lines if ln.split()[:1] and ln.split()[0] in (
        "setup", "build", "ctest", "qemu", "matrix", "hardening", "bench")]
    check(len(step_rows) == 9, "one console row per step (%d)" %
          len(step_rows))
    check(any("missed" in ln and "w1_vs_glibc" in ln and "1.701" in ln
              for ln in lines),
          "a missed target is shown with its measured value")
    check(not any("1.999" in ln or "1.500" in ln for ln in lines),
          "a target judged twice is shown once, as last judged")
    check(any(ln.startswith("  not measured") and "m3_os_basic_alloc" in ln
              for ln in lines), "targets not measured are named")

    with open(os.path.join(out_dir, "summary.json"), encoding="utf-8") as f:
        doc = json.load(f)
    check(doc["schema"] == 1 and doc["depth"] == "quick",
          "summary.json: schema 1, depth")
    check(doc["presets"] == ["default", "cortex-m3"], "summary.json: presets")
    steps = doc["steps"]
    check(len(steps) == 9, "summary.json: every step (%d)" % len(steps))
    check(steps[2]["figures"] == {"tests": 68, "failed": 0},
          "summary.json: a step's key=value figures become numbers")
    check(steps[7]["result"] == "SKIP" and steps[7]["wall_s"] is None
          and steps[7]["log"] is None,
          "summary.json: a skipped step has no time and no log")
    # A value the console cuts short is whole in the JSON.
    check(steps[6]["summary"].endswith("cut it short"),
          "summary.json: a long figure text is kept whole")
    t = doc["totals"]
    check((t["passed"], t["failed"], t["skipped"]) == (6, 2, 1),
          "summary.json: totals count the results")
    check(abs(t["wall_s"] - 143.2) < 0.05 and abs(t["cpu_s"] - 147.6) < 0.05,
          "summary.json: wall and cpu totals are the sums of the steps")
    fig = doc["figures"]
    check(fig["w1_kheap_vs_glibc"]["value"] == 1.7,
          "summary.json: a numeric figure is a number")
    check(fig["qemu_worst_cortex_m3_alloc"]["value"] == 499 and
          fig["qemu_worst_cortex_m3_alloc"]["text"] == "499 bound=808",
          "summary.json: a figure keeps its text beside its value")
    bad = fig["w4_kheap_vs_mimalloc"]
    check(bad["value"] is None and bad["invalid"] and
          "mimalloc" in bad["invalid"] and "124" in bad["invalid"],
          "summary.json: an invalid(N-misaligned) figure is explained")
    check(fig["allocators_measured"]["invalid"] is None,
          "summary.json: a text figure is not called invalid")
    tg = doc["targets"]
    check((tg["met"], tg["missed"], tg["not_measured"]) == (3, 3, 1),
          "summary.json: targets counted")
    by_id = {row["id"]: row for row in tg["rows"]}
    w3 = by_id.get("w3_first", {})
    check(w3.get("verdict") == "missed" and w3.get("measured") == 89.99
          and w3.get("op") == ">=" and isinstance(w3.get("limit"), float)
          and w3.get("what"),
          "summary.json: a target row has its text and limit from "
          "bench/targets.py")
    check(by_id["m3_os_basic_alloc"]["measured"] is None and
          by_id["m3_os_basic_alloc"]["verdict"] == "not measured",
          "summary.json: a target not measured has no value")
    check(doc["plots"] and doc["plots"][0].endswith("worst_case.png"),
          "summary.json: the plots found")

    with open(os.path.join(out_dir, "summary.md"), encoding="utf-8") as f:
        md = f.read()
    check("## Targets" in md and "| 89.99% | >= 90% | missed |" in md,
          "summary.md: the targets table")
    check("(../img/worst_case.png)" in md, "summary.md: links the plots")
    check("124 blocks not aligned" in md,
          "summary.md: the invalid figure explained")

    # Without a benchmark the last line says the targets were not
    # measured rather than counting none as met.
    r, _ = run_summary(root, os.path.join(work, "nobench"), [])
    last = r.stdout.splitlines()[-1:]
    check(r.returncode == 0 and last == [
        "verify: 6 passed, 2 failed, 1 skipped; targets: not measured"],
        "without a benchmark: targets not measured (%r)" % last)


def scripts_usage(root, work):
    del work
    for script in ("verify", "test"):
        for args in (["--no-such-option"], ["no-such-preset"]):
            r = subprocess.run([os.path.join(root, "scripts", script)] + args,
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            check(r.returncode == 2 and "Usage:" in r.stderr and
                  not r.stdout,
                  "scripts/%s %s: usage on stderr, exit 2 (got %d)" % (
                      script, args[0], r.returncode))
        r = subprocess.run([os.path.join(root, "scripts", script), "--help"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "KHEAP_JOBS" in r.stdout,
              "scripts/%s --help: exit 0, documents KHEAP_JOBS" % script)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=("verify-summary", "scripts-usage"))
    p.add_argument("--root", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    {"verify-summary": verify_summary,
     "scripts-usage": scripts_usage}[args.case](os.path.abspath(args.root),
                                                args.work)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

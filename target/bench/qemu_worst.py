#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Exact instruction counts of every sys_heap call on Cortex-M3 and
Cortex-M0, under QEMU with the kheapcount plugin (target/bench/plugin/).

    qemu_worst.py run   --build Os=M3DIR:M0DIR [--build KEY=M3DIR:M0DIR ...]
                        [--m3-level-build LEVEL=DIR ...] [--quick]
                        [--json FILE] [--docs FILE] [--plot FILE] [--work DIR]
    qemu_worst.py render --json FILE [--docs FILE] [--plot FILE]
    qemu_worst.py check --qemu QEMU --machine BOARD --elf IMAGE
                        --plugin SO --nm NM --objdump OBJDUMP --work DIR

run: the full measurement that scripts/bench-cortexm makes. For each
build of the core (--build KEY=...: Os, the cortex-m presets as shipped;
O2, the same with KHEAP_CORE_OPT=-O2; Os-NONE and O2-NONE, the same at
KHEAP_HARDENING_LEVEL=0) it runs target_worst.elf (target/bench/
worst_image.c) of the cortex-m3 build on mps2-an385 and of the cortex-m0
build on the micro:bit, and the cortex-m0 build's target_worst_mps2.elf
on mps2-an385 (the same ARMv6-M code, with the RAM for large heaps);
checks that the plugin saw every call the image made, that each call's
translated blocks add up to its count, and that the micro:bit and
mps2-an385 runs of the Cortex-M0 code agree where both fit; adds the
analytical bound (wcet_bound.py). Each BASIC build is compared with its
NONE build call by call: the cost of BASIC's checks. The default build's
Cortex-M3 image also runs the bookkeeping sweep (control bytes, minimum
region). Each --m3-level-build LEVEL=DIR (a cortex-m3 -O2 build with
KHEAP_HARDENING_LEVEL set) adds a row of the hardening table, measured on
a 16 KiB heap (the O2 and O2-NONE builds are BASIC's and NONE's rows
unless given). It writes the JSON (the figures the report and the plots
need, no histograms), the sections of docs/performance.md between
<!-- BEGIN qemu-worst --> and <!-- END qemu-worst --> and between
<!-- BEGIN bookkeeping --> and <!-- END bookkeeping -->, and the plots
(Debian's /usr/bin/python3 has matplotlib). Exits non-zero if a check
fails. Targets are judged elsewhere, from the JSON (bench/targets.py).

render: the docs section and the plot again, from the JSON of a run.

check: the ctest target-worst-plugin: a short run of one image that must
count a sane, non-zero number of instructions for each op, starting at
the called function's first instruction, within the analytical bound,
and equal, call for call, to a count from QEMU's own execution trace.
"""
import argparse
import bisect
import collections
import concurrent.futures
import datetime
import json
import math
import os
import re
import shlex
import subprocess
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
import callcounts  # noqa: E402
import docsection  # noqa: E402
import wcet_bound  # noqa: E402

KINDS = ("alloc", "aligned_alloc", "free", "realloc")
# bench/workload_gen.c's workloads, the x86-64 benchmark's own: W1's small
# blocks, the mixed instruction-count workload, W4's aligned blocks.
WORKLOADS = ("W1", "mixed", "W4")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

FULL_OPS = 200000
QUICK_OPS = 20000
M3_SIZES = ["16K", "64K", "256K", "1M", "max"]
M0_MPS2_SIZES = ["16K", "64K", "256K", "1M", "max"]
MICROBIT_SIZES = ["4K", "max"]
# The builds, in the order of the report: the core at -Os (what the
# cortex-m presets ship) and at -O2 (KHEAP_CORE_OPT=-O2), each at the
# default hardening level BASIC and at NONE. The first is the default.
BUILD_KEYS = ("Os", "O2", "Os-NONE", "O2-NONE")
DEFAULT_BUILD = "Os"
# The BASIC build of each NONE build: the pairs whose per-call difference
# is the cost of BASIC's checks.
CHECKS_PAIRS = (("Os", "Os-NONE"), ("O2", "O2-NONE"))
# The bookkeeping sweep's largest region (bench/heap_bookkeeping.h).
BOOKKEEPING_MAX = "1M"
# Hardening rows: CONFIG_SYS_HEAP_HARDENING_LEVEL 0..4, the core's
# default, the heap size (as scripts/hardening-cost's x86-64 figures) and
# EXTREME's ops (each of its calls validates the whole heap twice).
HARDENING_NAMES = ("NONE", "BASIC", "MODERATE", "FULL", "EXTREME")
DEFAULT_LEVEL = 1
HARDENING_SIZES = ["16K"]
FULL_EXTREME_OPS = 20000
QUICK_EXTREME_OPS = 2000


class CheckError(Exception):
    pass


# ---- symbols and plugin arguments -------------------------------------------

def symbols(nm, elf):
    """{name: (address, size)} of the image's defined symbols (the Thumb
    bit cleared)."""
    out = subprocess.run([nm, "-S", "--defined-only", elf], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            addr, size, _, name = parts
            syms[name] = (int(addr, 16) & ~1, int(size, 16))
        elif len(parts) == 3:
            addr, _, name = parts
            syms.setdefault(name, (int(addr, 16) & ~1, 0))
    return syms


def probed_kinds(syms):
    """The kinds the image has a trampoline for (an allocator without
    aligned allocation or realloc has none for it)."""
    kinds = [k for k in KINDS if "kheap_probe_%s_call" % k in syms]
    if "alloc" not in kinds or "free" not in kinds:
        raise CheckError("the image has no kheap_probe_alloc/free labels")
    return kinds


def plugin_args(syms, copy):
    """The plugin's arguments: each trampoline's call and return labels,
    the segment marker, and the code of the copy (memcpy and what it
    calls) to count apart."""
    args = []
    for kind in probed_kinds(syms):
        call = syms["kheap_probe_%s_call" % kind][0]
        ret = syms["kheap_probe_%s_return" % kind][0]
        args.append("%s=%#x:%#x" % (kind, call, ret))
    args.append("segment=%#x" % syms["kheap_probe_segment"][0])
    for name in sorted(copy):
        if name in syms and syms[name][1]:
            addr, size = syms[name]
            args.append("exclude=%#x:%#x" % (addr, addr + size))
    return args


class FunctionMap:
    """Address -> function name, for attributing a path."""

    def __init__(self, syms):
        funcs = sorted((a, s, n) for n, (a, s) in syms.items() if s)
        self.starts = [f[0] for f in funcs]
        self.funcs = funcs

    def name(self, addr):
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr < self.funcs[i][0] + self.funcs[i][1]:
            return self.funcs[i][2]
        return "?%x" % addr


# ---- one QEMU run -----------------------------------------------------------

def run_image(qemu, machine, elf, plugin, syms, copy, guest_args, work,
              name, timeout):
    """Run the image under the plugin; returns (guest output, plugin
    report, command). The plugin also writes every call's count to
    WORK/NAME.calls (read_calls)."""
    os.makedirs(work, exist_ok=True)
    report = os.path.join(work, name + ".kheapcount")
    if os.path.exists(report):
        os.remove(report)
    plugin_opt = ",".join([plugin] + plugin_args(syms, copy) +
                          ["out=" + report,
                           "calls=" + os.path.join(work, name + ".calls")])
    semihosting = ",".join(["enable=on", "target=native",
                            "arg=target_worst"] +
                           ["arg=" + a for a in guest_args])
    cmd = [qemu, "-machine", machine, "-nographic", "-monitor", "none",
           "-serial", "null", "-semihosting-config", semihosting,
           "-kernel", elf, "-plugin", plugin_opt]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CheckError("%s: QEMU still running after %d s" % (name, timeout))
    with open(os.path.join(work, name + ".out"), "w") as f:
        f.write(p.stdout)
        f.write(p.stderr)
    if p.returncode != 0:
        raise CheckError("%s: QEMU exit status %d:\n%s%s"
                         % (name, p.returncode, p.stdout[-2000:],
                            p.stderr[-2000:]))
    if not os.path.exists(report):
        raise CheckError("%s: the plugin wrote no report" % name)
    guest = parse_guest(p.stdout, name)
    counted = parse_plugin(report)
    return guest, counted, cmd


def parse_kv(words):
    out = {}
    for w in words:
        k, _, v = w.partition("=")
        out[k] = v
    return out


def parse_guest(text, name):
    pool = None
    segs = collections.OrderedDict()
    done = None
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "POOL":
            pool = {k: (v if k == "alloc" else int(v))
                    for k, v in parse_kv(words[1:]).items()}
        elif words[0] == "SEG":
            kv = parse_kv(words[2:])
            segs[int(words[1])] = {
                "workload": kv["workload"],
                "heap_bytes": int(kv["heap"]),
                "header_bytes": int(kv["header"]),
            }
        elif words[0] == "END":
            kv = parse_kv(words[2:])
            segs[int(words[1])]["end"] = {k: int(v) for k, v in kv.items()}
        elif words[0] == "DONE":
            done = int(parse_kv(words[1:])["segments"])
        elif words[0] == "ERROR":
            raise CheckError("%s: the image reports: %s" % (name, line))
    if done is None or done != len(segs) or pool is None:
        raise CheckError("%s: incomplete image output" % name)
    for n, s in segs.items():
        if "end" not in s:
            raise CheckError("%s: segment %d has no END line" % (name, n))
    return {"pool": pool, "segments": segs}


def parse_hist(words):
    h = {}
    for w in words:
        v, _, c = w.partition(":")
        h[int(v)] = int(c)
    return h


def parse_plugin(path):
    segs = collections.defaultdict(dict)
    checks = None
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            tag = words[0]
            if tag == "stats":
                seg, kind = int(words[1]), words[2]
                segs[seg][kind] = {k: int(v) for k, v in
                                   parse_kv(words[3:]).items()}
            elif tag == "hist":
                seg, kind, what = int(words[1]), words[2], words[3]
                segs[seg][kind]["hist_" + what] = parse_hist(words[4:])
            elif tag == "path":
                seg, kind, what = int(words[1]), words[2], words[3]
                suffix = "" if what == "total" else "_excl"
                segs[seg][kind]["path_truncated" + suffix] = (
                    words[4] == "truncated=1")
                segs[seg][kind]["path" + suffix] = [
                    (int(a, 16), int(n)) for a, _, n in
                    (w.partition(":") for w in words[5:])]
            elif tag == "segment":
                segs[int(words[1])]
            elif tag == "checks":
                checks = {k: int(v) for k, v in parse_kv(words[1:]).items()}
    if checks is None:
        raise CheckError("%s: no checks line (QEMU ended early?)" % path)
    return {"segments": segs, "checks": checks}


# ---- statistics -------------------------------------------------------------

def percentile(hist, q):
    """Nearest rank: the smallest value at least q of the calls do not
    exceed."""
    n = sum(hist.values())
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for v in sorted(hist):
        seen += hist[v]
        if seen >= rank:
            return v
    return None


def kind_figures(k, fmap, copy):
    ht, he = k["hist_total"], k["hist_excl"]
    calls = k["calls"]

    def split_of(path, skip=()):
        split = collections.Counter()
        for addr, n in path:
            name = fmap.name(addr)
            if name not in skip:
                split[name] += n
        return dict(split.most_common())
    return {
        "calls": calls,
        "mean": round(k["sum"] / calls, 2),
        "median": percentile(ht, 0.5),
        "p99": percentile(ht, 0.99),
        "p9999": percentile(ht, 0.9999),
        "max": k["max"],
        "min": min(ht),
        "max_call": k["max_call"],
        "mean_excl_copy": round(k["sum_excl"] / calls, 2),
        "p9999_excl_copy": percentile(he, 0.9999),
        "max_excl_copy": k["max_excl"],
        "max_excl_copy_call": k["max_excl_call"],
        # Calls that ran no copy: for realloc, the in-place resizes.
        "in_place": k.get("in_place", 0),
        "max_in_place": k.get("max_in_place", 0),
        "worst_path_first_function": (fmap.name(k["path"][0][0])
                                      if k.get("path") else None),
        "worst_split": split_of(k.get("path", [])),
        "worst_split_excl_copy": split_of(k.get("path_excl", []), copy),
        # Every count that occurred, "instructions:calls" pairs.
        "hist": " ".join("%d:%d" % vc for vc in sorted(ht.items())),
    }


def verify(name, guest, counted):
    """Every call the image made was counted, once, and exactly."""
    errors = []
    for key, value in counted["checks"].items():
        if key != "segments" and value != 0:
            errors.append("%s: plugin check %s=%d" % (name, key, value))
    if counted["checks"]["segments"] != len(guest["segments"]):
        errors.append("%s: the plugin saw %d segments, the image ran %d"
                      % (name, counted["checks"]["segments"],
                         len(guest["segments"])))
    for n, seg in guest["segments"].items():
        for kind in KINDS:
            made = seg["end"][kind]
            seen = counted["segments"].get(n, {}).get(kind, {}).get("calls", 0)
            if made != seen:
                errors.append("%s: segment %d: the image made %d %s calls, "
                              "the plugin counted %d"
                              % (name, n, made, kind, seen))
    if errors:
        raise CheckError("\n".join(errors))


def run_config(cfg, args, work, timeout):
    """All workloads of one (image, board) configuration, one QEMU run per
    workload."""
    syms = symbols(args.nm, cfg["elf"])
    copy = wcet_bound.copy_functions(cfg["elf"], args.objdump)
    fmap = FunctionMap(syms)
    segments = []
    cmds = []
    calls_files = []
    for w in cfg["workloads"]:
        name = "%s-%s" % (cfg["id"], w)
        guest_args = ["ops=%d" % cfg["ops"], "sizes=" + "+".join(cfg["sizes"]),
                      "workloads=" + w]
        guest, counted, cmd = run_image(args.qemu, cfg["machine"], cfg["elf"],
                                        args.plugin_for(cfg), syms, copy,
                                        guest_args, work, name, timeout)
        verify(name, guest, counted)
        cmds.append(" ".join(cmd))
        calls_files.append({
            "path": os.path.join(work, name + ".calls"),
            "segments": [(seg["workload"], seg["heap_bytes"])
                         for seg in guest["segments"].values()]})
        for n, seg in guest["segments"].items():
            entry = dict(seg)
            entry["kinds"] = {
                kind: kind_figures(counted["segments"][n][kind], fmap, copy)
                for kind in KINDS if kind in counted["segments"].get(n, {})}
            segments.append(entry)
        pool = guest["pool"]
    return {"id": cfg["id"], "cpu": cfg["cpu"], "label": cfg["label"],
            "machine": cfg["machine"],
            # The build directory's name and the image in it.
            "image": "/".join(os.path.abspath(cfg["elf"]).split(os.sep)[-4:]),
            "pool_bytes": pool["bytes"], "max_heap_bytes": pool["max"],
            "ops_after_fill": cfg["ops"], "segments": segments,
            "commands": cmds, "calls_files": calls_files}


# ---- the cost of the hardening checks: two builds, call by call -------------

def checks_cost(basic_run, none_run, label):
    """Per kind, the most (and least, and mean) instructions a call of the
    BASIC build took beyond the same call of the NONE build, over every
    call of the two runs, copy excluded (bench/callcounts.py): what
    BASIC's checks cost on the paths the workloads took."""
    out = {}
    for fb, fn in zip(basic_run["calls_files"], none_run["calls_files"]):
        if fb["segments"] != fn["segments"]:
            raise CheckError("%s: the BASIC and NONE runs have different "
                             "segments" % label)
        try:
            sb, sn = (callcounts.read_calls(fb["path"]),
                      callcounts.read_calls(fn["path"]))
            if len(sb) != len(sn) or len(sb) != len(fb["segments"]):
                raise callcounts.CallsError(
                    "segment counts differ in %s and %s"
                    % (fb["path"], fn["path"]))
            for (workload, heap), b, n in zip(fb["segments"], sb, sn):
                callcounts.add_differences(
                    out, b, n, {"label": label, "workload": workload,
                                "heap_bytes": heap})
        except callcounts.CallsError as e:
            raise CheckError("%s: %s" % (label, e))
    return callcounts.finish(out)


# ---- bookkeeping: control bytes and the minimum region -----------------------

def run_bookkeeping(qemu, machine, elf, work, name, max_bytes):
    """The image's bookkeeping sweep (bench/heap_bookkeeping.h), no
    plugin: {"min_region", "ptr_bytes", "control": [[region, control],
    ...]}."""
    semihosting = ",".join(["enable=on", "target=native", "arg=target_worst",
                            "arg=bookkeeping", "arg=max=" + max_bytes])
    cmd = [qemu, "-machine", machine, "-nographic", "-monitor", "none",
           "-serial", "null", "-semihosting-config", semihosting,
           "-kernel", elf]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, name + ".out"), "w") as f:
        f.write(p.stdout)
        f.write(p.stderr)
    if p.returncode != 0:
        raise CheckError("%s: QEMU exit status %d" % (name, p.returncode))
    out = {"alloc": None, "min_region": None, "ptr_bytes": None,
           "control": []}
    for line in p.stdout.splitlines():
        words = line.split()
        if not words or words[0] not in ("MINREGION", "CONTROL"):
            continue
        kv = parse_kv(words[1:])
        out["alloc"] = kv["alloc"]
        out["ptr_bytes"] = int(kv["ptr_bytes"])
        if words[0] == "MINREGION":
            out["min_region"] = int(kv["bytes"])
        else:
            out["control"].append([int(kv["region"]), int(kv["control"])])
    if not out["min_region"] or not out["control"]:
        raise CheckError("%s: no bookkeeping figures in the output" % name)
    return out


# ---- an independent count: QEMU's own execution trace -----------------------------

def exec_trace_once(qemu, machine, elf, plugin, nm, objdump, work, name):
    """Count the same calls a second way, without the plugin's counting:
    with -singlestep every translated block is one instruction, and
    -d exec,nochain logs each block as it runs; the instructions between
    a trampoline's call label and its return label are the call's. The
    histograms must equal the plugin's. A short run: the log has a line
    per guest instruction."""
    syms = symbols(nm, elf)
    copy = wcet_bound.copy_functions(elf, objdump)
    report = os.path.join(work, name + ".kheapcount")
    os.makedirs(work, exist_ok=True)
    calls = {syms["kheap_probe_%s_call" % k][0]: k for k in KINDS}
    rets = {syms["kheap_probe_%s_return" % k][0]: k for k in KINDS}
    plugin_opt = ",".join([plugin] + plugin_args(syms, copy) +
                          ["out=" + report])
    cmd = [qemu, "-machine", machine, "-nographic", "-monitor", "none",
           "-serial", "null", "-semihosting-config",
           "enable=on,target=native,arg=target_worst,arg=ops=300,"
           "arg=sizes=4K,arg=workloads=mixed",
           "-kernel", elf, "-singlestep", "-d", "exec,nochain",
           "-plugin", plugin_opt]
    hist = {k: collections.Counter() for k in KINDS}
    pc_field = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    open_kind, n = None, 0
    for line in p.stderr:
        m = pc_field.match(line)
        if not m:
            continue
        pc = int(m.group(1), 16)
        if open_kind is not None:
            if pc in rets:
                hist[open_kind][n] += 1
                open_kind = None
            else:
                n += 1
        elif pc in calls:
            open_kind, n = calls[pc], 0
    if p.wait(timeout=300) != 0:
        raise CheckError("%s: QEMU exit status %d" % (name, p.returncode))
    counted = parse_plugin(report)
    out = {}
    for k in KINDS:
        plugin_hist = counted["segments"][0][k]["hist_total"]
        same = dict(hist[k]) == plugin_hist
        out[k] = {"calls": sum(hist[k].values()), "identical": same}
        if not same:
            diff = sorted(set(dict(hist[k]).items()) ^
                          set(plugin_hist.items()))
            raise CheckError("%s: %s: the plugin's counts differ from QEMU's "
                             "execution trace (instructions:calls, trace "
                             "and plugin: %s)" % (name, k, diff[:12]))
    return out


def exec_trace_check(qemu, machine, elf, plugin, nm, objdump, work, name):
    """exec_trace_once, tried a second time if the first disagrees: on a
    loaded machine we have seen one run in many disagree on a single call
    and the next agree (not understood yet; the error says which counts).
    A systematic counting error disagrees on every run and fails."""
    try:
        return exec_trace_once(qemu, machine, elf, plugin, nm, objdump, work,
                               name)
    except CheckError as e:
        print("qemu_worst: WARNING: %s; running the check again" % e,
              file=sys.stderr)
        return exec_trace_once(qemu, machine, elf, plugin, nm, objdump, work,
                               name)


# ---- the full measurement ---------------------------------------------------------

def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        return out.splitlines()[0].strip() if out else "unknown"
    except OSError:
        return "unknown"


def git_state():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12",
                                 "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--", "core", "target"], capture_output=True,
                               text=True).stdout.strip() != ""
    except OSError:
        commit, dirty = "", True
    return commit or "none", dirty


def core_flags(build_dir):
    """The flags the build compiled the product core (kheap_core) with,
    from its compile_commands.json: the CPU, the optimisation (the last -O
    wins) and the definitions; no include paths, warnings or files."""
    path = os.path.join(build_dir, "compile_commands.json")
    try:
        with open(path) as f:
            commands = json.load(f)
    except (OSError, ValueError) as e:
        raise CheckError("%s: %s" % (path, e))
    for c in commands:
        if (c.get("file", "").endswith(os.path.join("core", "src",
                                                    "sys_heap.c"))
                and "/kheap_core.dir/" in c.get("command", "")):
            words = shlex.split(c["command"])[1:]
            keep = []
            skip = False
            for w in words:
                if skip:
                    skip = False
                elif w in ("-o", "-c"):
                    skip = True
                elif not w.startswith(("-I", "-W", "-std=")):
                    keep.append(w)
            return " ".join(keep)
    raise CheckError("%s: no compile command of kheap_core's sys_heap.c"
                     % path)


def code_bytes(elf, nm, objdump):
    """Bytes of code the four measured calls reach in the image (the
    functions they call or jump to, memcpy and its helpers excluded):
    what the build costs in flash."""
    funcs, entries = wcet_bound.disassemble(elf, objdump)
    reach = wcet_bound.callees_of(
        funcs, entries, wcet_bound.roots(funcs, entries).values())
    reach -= wcet_bound.callees_of(funcs, entries, wcet_bound.COPY_FUNCTIONS)
    syms = symbols(nm, elf)
    return sum(syms[f][1] for f in reach if f in syms)


def opt_of(flags):
    """The optimisation level in effect: the last -O flag."""
    opts = [w for w in flags.split() if re.match(r"^-O", w)]
    return opts[-1] if opts else "-O0"


def level_of(flags):
    m = re.search(r"-DCONFIG_SYS_HEAP_HARDENING_LEVEL=(\d)", flags)
    return int(m.group(1)) if m else DEFAULT_LEVEL


def cross_check(microbit, m0_mps2):
    """The micro:bit and the mps2-an385 runs of the Cortex-M0 code must
    count the same instructions for every call where both ran."""
    other = {(s["workload"], s["heap_bytes"]): s for s in m0_mps2["segments"]}
    compared = []
    for s in microbit["segments"]:
        t = other.get((s["workload"], s["heap_bytes"]))
        if t is None:
            continue
        same = all(s["kinds"][k]["hist"] == t["kinds"][k]["hist"]
                   for k in s["kinds"]) and s["kinds"].keys() == t["kinds"].keys()
        compared.append({"workload": s["workload"],
                         "heap_bytes": s["heap_bytes"], "identical": same})
    return compared


def field_of(op):
    """realloc's figures are given without the copy."""
    return "max_excl_copy" if op == "realloc" else "max"


def worst_by(runs, op, field="max"):
    """{heap bytes: max over workloads}, the overall max, where it was,
    and the figures of the segment and op that reached it first."""
    per_heap = collections.OrderedDict()
    where = None
    overall = None
    worst = None
    for run in runs:
        for s in run["segments"]:
            k = s["kinds"].get(op)
            if k is None:
                continue
            v = k[field]
            h = s["heap_bytes"]
            per_heap[h] = max(per_heap.get(h, 0), v)
            if overall is None or v > overall:
                overall = v
                worst = k
                call = k["max_call" if field == "max" else
                         "max_excl_copy_call"]
                where = "%s, %s, %s heap, call #%d of the run" % (
                    run["label"], s["workload"], size_text(h), call)
    return dict(sorted(per_heap.items())), overall, where, worst


def size_text(b):
    if b >= 1 << 20 and b % (1 << 20) == 0:
        return "%d MiB" % (b >> 20)
    if b >= 1 << 20:
        return "%.2f MiB" % (b / (1 << 20))
    if b % 1024 == 0:
        return "%d KiB" % (b >> 10)
    return "%d B" % b


def slim_kind(op, k):
    """What the JSON keeps of one op in one segment: the report's and
    the plot's figures, no histogram."""
    out = {"calls": k["calls"], "max": k["max"], "p9999": k["p9999"],
           "mean": k["mean"]}
    if op == "realloc":
        out.update({"max_excl_copy": k["max_excl_copy"],
                    "p9999_excl_copy": k["p9999_excl_copy"],
                    "mean_excl_copy": k["mean_excl_copy"],
                    "in_place": k["in_place"],
                    "max_in_place": k["max_in_place"]})
    return out


def slim_run(run):
    out = {key: run[key] for key in ("id", "cpu", "label", "machine", "image",
                                      "pool_bytes", "max_heap_bytes",
                                      "ops_after_fill")}
    out["heap_bytes"] = sorted({s["heap_bytes"] for s in run["segments"]})
    if run["id"].endswith("-m0-microbit"):
        # Identical, call for call, to the mps2-an385 run's segments of
        # the same sizes (cross_check): not repeated.
        return out
    out["segments"] = [
        {"workload": s["workload"], "heap_bytes": s["heap_bytes"],
         "header_bytes": s["header_bytes"],
         "kinds": {op: slim_kind(op, k) for op, k in s["kinds"].items()}}
        for s in run["segments"]]
    return out


def image_configs(key, m3_dir, m0_dir):
    """The three runs of one build: the Cortex-M3 image on mps2-an385,
    the Cortex-M0 image on the micro:bit, and the Cortex-M0 code linked
    for mps2-an385's RAM."""
    return {
        "m3": {"id": key + "-m3", "cpu": "cortex-m3", "label": "Cortex-M3",
               "machine": "mps2-an385", "sizes": list(M3_SIZES),
               "dir": m3_dir,
               "elf": os.path.join(m3_dir, "target/bench/target_worst.elf")},
        "m0-microbit": {
            "id": key + "-m0-microbit", "cpu": "cortex-m0",
            "label": "Cortex-M0, micro:bit", "machine": "microbit",
            "sizes": list(MICROBIT_SIZES), "dir": m0_dir,
            "elf": os.path.join(m0_dir, "target/bench/target_worst.elf")},
        "m0-mps2": {
            "id": key + "-m0-mps2", "cpu": "cortex-m0",
            "label": "Cortex-M0 code, mps2-an385 RAM",
            "machine": "mps2-an385", "sizes": list(M0_MPS2_SIZES),
            "dir": m0_dir,
            "elf": os.path.join(m0_dir, "target/bench/target_worst_mps2.elf")},
    }


def parse_builds(specs):
    """--build KEY=M3DIR:M0DIR (KEY one of BUILD_KEYS; DEFAULT_BUILD
    required), in BUILD_KEYS order."""
    given = {}
    for spec in specs or []:
        key, sep, dirs = spec.partition("=")
        m3, sep2, m0 = dirs.partition(":")
        if not sep or not sep2 or key not in BUILD_KEYS or not m3 or not m0:
            sys.exit("qemu_worst: --build takes KEY=M3DIR:M0DIR with KEY "
                     "one of %s, not %r" % (", ".join(BUILD_KEYS), spec))
        given[key] = (m3, m0)
    if DEFAULT_BUILD not in given:
        sys.exit("qemu_worst: --build %s=M3DIR:M0DIR is required"
                 % DEFAULT_BUILD)
    return collections.OrderedDict((k, given[k]) for k in BUILD_KEYS
                                   if k in given)


def parse_level_builds(specs):
    levels = {}
    for spec in specs or []:
        level, sep, path = spec.partition("=")
        if not sep or level not in [str(n) for n in range(5)] or not path:
            sys.exit("qemu_worst: --m3-level-build takes LEVEL=DIR with "
                     "LEVEL 0..4, not %r" % spec)
        levels[int(level)] = path
    return levels


def cmd_run(args):
    ops = QUICK_OPS if args.quick else FULL_OPS
    extreme_ops = QUICK_EXTREME_OPS if args.quick else FULL_EXTREME_OPS
    work = args.work
    os.makedirs(work, exist_ok=True)
    builds = parse_builds(args.build)
    levels = parse_level_builds(args.m3_level_build)
    # The -O2 builds at BASIC and NONE are the hardening table's rows for
    # those levels, unless given apart.
    for level, key in ((DEFAULT_LEVEL, "O2"), (0, "O2-NONE")):
        if levels and key in builds and level not in levels:
            levels[level] = builds[key][0]

    configs = {key: image_configs(key, *dirs) for key, dirs in builds.items()}
    level_configs = {}
    for level, d in sorted(levels.items()):
        level_configs[level] = {
            "id": "m3-h%d" % level, "cpu": "cortex-m3",
            "label": "Cortex-M3, hardening %s" % HARDENING_NAMES[level],
            "machine": "mps2-an385", "sizes": list(HARDENING_SIZES),
            "dir": d, "ops": extreme_ops if level == 4 else ops,
            "workloads": WORKLOADS,
            "elf": os.path.join(d, "target/bench/target_worst.elf")}
    every = [c for cs in configs.values() for c in cs.values()] + \
        list(level_configs.values())
    for cfg in every:
        cfg["plugin"] = os.path.join(cfg["dir"], "target", "bench",
                                     "libkheapcount.so")
        for path in (cfg["plugin"], cfg["elf"]):
            if not os.path.exists(path):
                sys.exit("qemu_worst: %s not built" % path)
        cfg.setdefault("ops", ops)
        cfg.setdefault("workloads", WORKLOADS)
    args.plugin_for = lambda cfg: cfg["plugin"]

    t0 = datetime.datetime.now()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        # The micro:bit first: its largest heap also runs on mps2-an385,
        # for the cross-check.
        futures = {(key, "m0-microbit"): ex.submit(
            run_config, cs["m0-microbit"], args, work, args.timeout)
            for key, cs in configs.items()}
        for k, f in futures.items():
            results[k] = f.result()
        for key, cs in configs.items():
            mb_max = results[(key, "m0-microbit")]["max_heap_bytes"]
            cs["m0-mps2"]["sizes"] = ["4K", str(mb_max)] + cs["m0-mps2"]["sizes"]
        futures = {}
        for key, cs in configs.items():
            for name in ("m3", "m0-mps2"):
                futures[(key, name)] = ex.submit(run_config, cs[name], args,
                                                 work, args.timeout)
        for level, cfg in level_configs.items():
            futures[("level", level)] = ex.submit(run_config, cfg, args,
                                                  work, args.timeout)
        for k, f in futures.items():
            results[k] = f.result()

    data_builds = collections.OrderedDict()
    for key, cs in configs.items():
        cross = cross_check(results[(key, "m0-microbit")],
                            results[(key, "m0-mps2")])
        if not cross or not all(c["identical"] for c in cross):
            raise CheckError("%s: the micro:bit and mps2-an385 runs of the "
                             "Cortex-M0 code differ: %s" % (key, cross))
        trace_checks = {}
        # The plugin's counting does not depend on the build: checked
        # against QEMU's own trace on the BASIC builds only.
        for name in (("m3", "m0-microbit") if not key.endswith("-NONE")
                     else ()):
            cfg = cs[name]
            trace_checks[name] = exec_trace_check(
                args.qemu, cfg["machine"], cfg["elf"], cfg["plugin"],
                args.nm, args.objdump, work, cfg["id"] + "-exec-trace")
        bounds = {}
        for name in ("m3", "m0-microbit", "m0-mps2"):
            cfg = cs[name]
            try:
                b = wcet_bound.bounds(cfg["elf"], args.objdump)
            except wcet_bound.AnalysisError as e:
                raise CheckError("analytical bound of %s: %s"
                                 % (cfg["elf"], e))
            prev = bounds.get(cfg["cpu"])
            if prev is not None and any(prev[o]["bound"] != b[o]["bound"]
                                        for o in b):
                raise CheckError("%s: the two Cortex-M0 images have "
                                 "different bounds: %s vs %s" % (key, prev, b))
            bounds[cfg["cpu"]] = b
        flags = {"cortex-m3": core_flags(builds[key][0]),
                 "cortex-m0": core_flags(builds[key][1])}
        want_level = 0 if key.endswith("-NONE") else DEFAULT_LEVEL
        want_opt = key.split("-")[0]
        for cpu, f in flags.items():
            if level_of(f) != want_level or opt_of(f) != "-" + want_opt:
                raise CheckError("build %s: the %s core was built with %s "
                                 "(hardening level %d), not -%s at level %d"
                                 % (key, cpu, f, level_of(f), want_opt,
                                    want_level))
        code = {cs[n]["cpu"]: code_bytes(cs[n]["elf"], args.nm, args.objdump)
                for n in ("m3", "m0-microbit")}
        runs = [results[(key, n)] for n in ("m3", "m0-microbit", "m0-mps2")]
        summary = {}
        for cpu in ("cortex-m3", "cortex-m0"):
            cpu_runs = [r for r in runs if r["cpu"] == cpu]
            summary[cpu] = {}
            for op in KINDS:
                per_heap, overall, where, worst = worst_by(cpu_runs, op,
                                                           field_of(op))
                entry = {"max": overall, "bound": bounds[cpu][op]["bound"],
                         "where": where,
                         "max_by_heap": {str(h): v
                                         for h, v in per_heap.items()}}
                if op == "realloc":
                    entry["max_with_copy"] = worst_by(cpu_runs, op, "max")[1]
                    entry["max_in_place"] = worst_by(cpu_runs, op,
                                                     "max_in_place")[1]
                if cpu == "cortex-m3":
                    # The worst call's and the bound's instructions per
                    # function (the docs' "where they go" table).
                    entry["worst_split"] = worst[
                        "worst_split_excl_copy" if op == "realloc"
                        else "worst_split"]
                    entry["bound_split"] = bounds[cpu][op]["split"]
                    # What the bound assumed: the functions whose loops
                    # it capped, and the cold functions it left out.
                    entry["bound_loops"] = bounds[cpu][op]["loops"]
                    entry["bound_pruned"] = bounds[cpu][op]["pruned"]
                if overall > entry["bound"]:
                    raise CheckError("%s %s %s: measured %d above the bound "
                                     "%d" % (key, cpu, op, overall,
                                             entry["bound"]))
                summary[cpu][op] = entry
        data_builds[key] = {
            "opt": opt_of(flags["cortex-m3"]),
            "level": level_of(flags["cortex-m3"]),
            "level_name": HARDENING_NAMES[level_of(flags["cortex-m3"])],
            "default": key == DEFAULT_BUILD,
            "core_flags": flags,
            "code_bytes": code,
            "summary": summary,
            "runs": [slim_run(r) for r in runs],
            "cross_check_m0": cross,
            "exec_trace_check": trace_checks,
        }

    # What BASIC's checks cost: each BASIC build against its NONE build,
    # call by call, on every CPU's runs.
    checks = collections.OrderedDict()
    for basic, none in CHECKS_PAIRS:
        if basic not in configs or none not in configs:
            continue
        checks[basic] = {
            "opt": data_builds[basic]["opt"],
            "against": none,
            "cpus": {configs[basic][n]["cpu"]: checks_cost(
                results[(basic, n)], results[(none, n)],
                "%s vs %s, %s" % (basic, none, n))
                for n in ("m3", "m0-mps2")}}

    # Bookkeeping (32-bit), on the default build's Cortex-M3 image.
    m3_default = configs[DEFAULT_BUILD]["m3"]
    book = run_bookkeeping(args.qemu, m3_default["machine"],
                           m3_default["elf"], work, "bookkeeping",
                           BOOKKEEPING_MAX)
    book["cpu"] = m3_default["cpu"]
    book["machine"] = m3_default["machine"]

    hardening = None
    if level_configs:
        rows = []
        for level, cfg in level_configs.items():
            run = results[("level", level)]
            flags = core_flags(cfg["dir"])
            if level_of(flags) != level:
                raise CheckError("%s: the core was built at hardening level "
                                 "%d, not %d (%s)" % (cfg["dir"],
                                                      level_of(flags), level,
                                                      flags))
            bound, note = None, None
            if level == 4:
                # By definition, not by the analysis: EXTREME validates
                # the whole heap on every call.
                note = ("EXTREME validates the whole heap on every call: "
                        "O(blocks), no constant bound")
            else:
                try:
                    b = wcet_bound.bounds(cfg["elf"], args.objdump)
                    bound = {op: b[op]["bound"] for op in KINDS}
                except wcet_bound.AnalysisError as e:
                    note = str(e)
            row = {"level": level, "name": HARDENING_NAMES[level],
                   "opt": opt_of(flags), "core_flags": flags,
                   "ops_after_fill": cfg["ops"],
                   "heap_bytes": sorted({s["heap_bytes"]
                                         for s in run["segments"]}),
                   "calls": {}, "max": {}, "p9999": {}, "mean": {},
                   "bound": bound}
            if note:
                row["bound_note"] = note
            for op in KINDS:
                ks = [s["kinds"][op] for s in run["segments"]
                      if op in s["kinds"]]
                sfx = "_excl_copy" if op == "realloc" else ""
                calls = sum(k["calls"] for k in ks)
                row["calls"][op] = calls
                row["max"][op] = max(k["max" + sfx] for k in ks)
                row["p9999"][op] = max(k["p9999" + sfx] for k in ks)
                row["mean"][op] = round(sum(k["mean" + sfx] * k["calls"]
                                            for k in ks) / calls, 1)
                if op == "realloc":
                    row["max_with_copy"] = max(k["max"] for k in ks)
                if bound and row["max"][op] > bound[op]:
                    raise CheckError("hardening %s %s: measured %d above "
                                     "the bound %d" % (row["name"], op,
                                                       row["max"][op],
                                                       bound[op]))
            rows.append(row)
        hardening = {"cpu": "cortex-m3", "machine": "mps2-an385",
                     "workloads": list(WORKLOADS), "levels": rows}
    seconds = (datetime.datetime.now() - t0).total_seconds()

    commit, dirty = git_state()
    data = collections.OrderedDict([
        ("schema", 3),
        ("generated", datetime.datetime.now(datetime.timezone.utc)
         .strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", commit),
        ("dirty", dirty),
        ("mode", "quick" if args.quick else "full"),
        ("seconds", round(seconds, 1)),
        ("qemu", tool_version([args.qemu, "--version"])),
        ("gcc", tool_version([args.gcc, "--version"])),
        ("ops_after_fill", ops),
        ("workloads", list(WORKLOADS)),
        ("default_build", DEFAULT_BUILD),
        ("builds", data_builds),
        ("checks_cost", checks),
        ("bookkeeping", book),
        ("hardening", hardening),
    ])

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        f.write(dump_json(data))
        f.write("\n")
    print("qemu_worst: wrote %s" % args.json, file=sys.stderr)
    for key, b in data_builds.items():
        prefix = "qemu_worst" if key == DEFAULT_BUILD else \
            "qemu_worst_%s" % key.lower()
        for cpu, ops_ in b["summary"].items():
            for op, e in ops_.items():
                print("FIGURE %s_%s_%s %d bound=%d" % (
                    prefix, cpu.replace("-", "_"), op, e["max"], e["bound"]))
    for basic, c in checks.items():
        for cpu, ops_ in c["cpus"].items():
            for op, e in ops_.items():
                print("FIGURE qemu_checks_cost_%s_%s_%s %d" % (
                    basic.lower(), cpu.replace("-", "_"), op, e["max"]))
    print("FIGURE qemu_control_16k_32bit %d" % dict(
        book["control"]).get(16384, -1))
    print("FIGURE qemu_min_region_32bit %d" % book["min_region"])
    for row in (hardening or {}).get("levels", []):
        for op in KINDS:
            print("FIGURE qemu_worst_cortex_m3_%s_h%d_%s %d bound=%s" % (
                row["opt"].lstrip("-").lower(), row["level"], op,
                row["max"][op],
                row["bound"][op] if row["bound"] else "none"))
    if args.docs:
        write_docs(args.docs, render(data, args))
        write_docs(args.docs, render_bookkeeping(data), "bookkeeping")
        print("qemu_worst: updated %s" % args.docs, file=sys.stderr)
    if args.plot:
        plot(data, args.plot)
        plot_bookkeeping(data, os.path.join(os.path.dirname(args.plot),
                                            "control_bytes.png"))
    return 0


def dump_json(obj, indent=0):
    """JSON with one line for every object or list that fits in 400
    characters: a segment or a split is one line, so the file stays
    short (no histograms: about 35 KB) and still diffs line by line."""
    flat = json.dumps(obj, separators=(",", ":"))
    if len(flat) + indent <= 400 or not isinstance(obj, (dict, list)) \
            or not obj:
        return flat
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = ["%s%s: %s" % (pad, json.dumps(k), dump_json(v, indent + 1))
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dump_json(v, indent + 1) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


# ---- docs ---------------------------------------------------------------------

MARK_BEGIN = ("<!-- BEGIN qemu-worst (generated by scripts/bench-cortexm from "
              "target/bench/qemu_worst.py; do not edit by hand) -->")
MARK_END = "<!-- END qemu-worst -->"
BOOK_BEGIN = ("<!-- BEGIN bookkeeping (generated by scripts/bench-cortexm "
              "from target/bench/qemu_worst.py; do not edit by hand) -->")
BOOK_END = "<!-- END bookkeeping -->"

CPUS = (("cortex-m3", "Cortex-M3"), ("cortex-m0", "Cortex-M0"))
# The peers' figures, when scripts outside this tree have measured them
# (bench/targets.py and the bookkeeping table read them).
PEERS_JSON = os.path.join(ROOT, "bench", "results", "peers.json")


def cell(k, excl=False):
    if k is None:
        return "-"
    if excl:
        return "%d / %d / %.1f" % (k["max_excl_copy"], k["p9999_excl_copy"],
                                   k["mean_excl_copy"])
    return "%d / %d / %.1f" % (k["max"], k["p9999"], k["mean"])


def op_name(op):
    return op + (" (copy excluded)" if op == "realloc" else "")


def build_name(b):
    return "`%s` %s" % (b["opt"], b["level_name"])


def check_schema(data, args):
    if data.get("schema") != 3:
        raise SystemExit("qemu_worst: %s has an older layout; run "
                         "scripts/bench-cortexm to regenerate it"
                         % getattr(args, "json", "the JSON"))


REALLOC_DEFINITION = (
    "*realloc without the copy*: every instruction of the call except "
    "those executed inside memcpy and what memcpy calls (the plugin "
    "counts them apart), so a moving realloc keeps its own work (the "
    "new block's allocation, the free of the old one, the call into "
    "memcpy and its arguments) and drops the copy, whose length is the "
    "caller's; *in place*: the calls that ran no copy at all (shrinks, "
    "grows into a free right neighbour, no-op resizes), a subset of the "
    "first figure counted with nothing subtracted; *with the copy*: "
    "every instruction.")


def render(data, args):
    check_schema(data, args)
    out = []
    w = out.append
    builds = data["builds"]
    keys = list(builds)
    default = data["default_build"]
    first = builds[default]
    m3 = next(r for r in first["runs"] if r["id"].endswith("-m3"))
    mb = next(r for r in first["runs"] if r["id"].endswith("-m0-microbit"))
    w(MARK_BEGIN)
    w("## Worst case per call on Cortex-M: every call counted under QEMU")
    w("")
    w("Measured %s on commit `%s`%s, %s mode (%d ops per run after the fill), "
      "%.0f s. %s; %s. Reproduce with `./scripts/bench-cortexm` (add "
      "`--quick` for a short run that leaves this file alone); raw figures "
      "(max, p99.99 and mean of every run, the bounds, the build flags, "
      "the checks' cost, the bookkeeping): `bench/results/qemu_worst.json`."
      % (data["generated"], data["commit"],
         " (with uncommitted changes)" if data["dirty"] else "",
         data["mode"], data["ops_after_fill"], data["seconds"],
         data["qemu"], data["gcc"]))
    w("")
    w("**Four builds of the same core.** `-Os` is what the `cortex-m0` and "
      "`cortex-m3` presets build, and so what you get by default "
      "(`CMAKE_C_FLAGS_MINSIZEREL` is `-Os -DNDEBUG`); `-O2` is the "
      "speed-first core: configure with `-DKHEAP_CORE_OPT=-O2`, which "
      "compiles only the core libraries at -O2, with "
      "`-mno-unaligned-access` on Arm so that the core still makes no "
      "unaligned access (docs/porting.md, *Optimisation level of the "
      "core*). Each at the default hardening level BASIC and at NONE "
      "(`-DKHEAP_HARDENING_LEVEL=0`).")
    w("")
    w("| build | Cortex-M3 core flags | Cortex-M0 core flags | code bytes, "
      "M3 / M0 |")
    w("| --- | --- | --- | --- |")
    for k in keys:
        w("| %s%s | `%s` | `%s` | %d / %d |" % (
            build_name(builds[k]), " (default)" if k == default else "",
            builds[k]["core_flags"]["cortex-m3"],
            builds[k]["core_flags"]["cortex-m0"],
            builds[k]["code_bytes"]["cortex-m3"],
            builds[k]["code_bytes"]["cortex-m0"]))
    w("")
    w("Code bytes: the functions the measured calls reach in the bench "
      "image (memcpy excluded), from its symbol table; the figure the "
      "targets use is scripts/codesize's (*Code size*). The last `-O` flag "
      "is the one in effect.")
    w("")
    w("### Worst single call, every heap size")
    w("")
    w("Max over every workload and heap size; each cell: measured / "
      "analytical bound.")
    w("")
    w("| call | " + " | ".join(build_name(builds[k]) for k in keys) + " |")
    w("|" + " --- |" * (len(keys) + 1))
    for cpu, label in CPUS:
        for op in KINDS:
            es = [builds[k]["summary"][cpu][op] for k in keys]
            w("| %s, %s | %s |" % (label, op_name(op), " | ".join(
                "%d / %d" % (e["max"], e["bound"]) for e in es)))
            if op == "realloc":
                w("| %s, realloc in place | %s |" % (label, " | ".join(
                    "%d" % e["max_in_place"] for e in es)))
                w("| %s, realloc with the copy | %s |" % (label, " | ".join(
                    "%d" % e["max_with_copy"] for e in es)))
    w("")
    w("Heap sizes: %s on Cortex-M3 (mps2-an385; %s is the largest heap "
      "its 4 MiB of RAM holds beside the stack and the driver's tables); "
      "the Cortex-M0 code on the micro:bit at %s (its 16 KiB of RAM hold "
      "no more) and, for the larger heaps, the same ARMv6-M code on "
      "mps2-an385 (a Cortex-M3 core executes ARMv6-M instructions "
      "unchanged: the micro:bit and mps2-an385 runs count identical "
      "histograms at %s, every workload, every build). Method, and why "
      "these choices: docs/design.md, *Worst-case measurement on "
      "Cortex-M*."
      % (", ".join(size_text(h) for h in sorted(
          {x["heap_bytes"] for x in m3["segments"]})),
         size_text(m3["max_heap_bytes"]),
         " and ".join(size_text(h) for h in mb["heap_bytes"]),
         " and ".join(size_text(h) for h in sorted(
             {c["heap_bytes"] for c in first["cross_check_m0"]}))))
    w("")
    w("**What is counted.** Every alloc, aligned_alloc, free and realloc "
      "call of the runs, the fill included: the guest instructions from "
      "the called function's first instruction through its final return, "
      "callees included, as QEMU executes them (an instruction in an IT "
      "block counts whether or not its condition passes). %s The core is "
      "the product build (`NDEBUG`, listeners compiled in and none "
      "registered) at the optimisation and hardening level of the column."
      % REALLOC_DEFINITION)
    w("")
    w("**Workloads.** %s, generated by `bench/workload_gen.c`, the "
      "generator of the x86-64 benchmark: the same seeds give the same op "
      "sequence on both (the ops up to the fill and then %d more; on a "
      "heap too small for a request the allocation fails, its slot stays "
      "empty and a later free or resize of it is skipped, as on the host). "
      "W1: uniform 8..128 B; mixed: log-uniform 16 B..16 KiB, 25%% aligned "
      "to 16..512, 10%% of ops resizing a block of at most 2 KiB; W4: "
      "uniform 8..512 B, all aligned to 8..256; each keeps the live set "
      "near half the heap."
      % (", ".join(data["workloads"]), data["ops_after_fill"]))
    w("")
    w("**The bound** is the longest path through the linked code "
      "(`target/bench/wcet_bound.py` on the image's disassembly): a call "
      "costs its callee's bound; no instruction of a loop runs more than "
      "`SYS_HEAP_FIT_PROBES` times, at least twice (the probe of the "
      "request's own class list, whose count the image holds; `-O2` "
      "unrolls it); calls to the functions "
      "the core marks cold (misuse reports, listener calls: GCC places "
      "them in `.text.unlikely`, which the image's link map shows) are "
      "off the path; memcpy costs nothing (realloc's bound excludes the "
      "copy). It holds for every heap size because nothing on the path "
      "depends on it. It is safe, not tight: it charges each helper its "
      "worst path in any context. In the default build the loops it capped "
      "are in %s and the cold functions it left out are %s (JSON: "
      "`bound_loops`, `bound_pruned`)." % (
          ", ".join("`%s`" % f for f in sorted({
              f for e in first["summary"]["cortex-m3"].values()
              for f in e.get("bound_loops", [])})) or "no function",
          ", ".join("`%s`" % f for f in sorted({
              f for e in first["summary"]["cortex-m3"].values()
              for f in e.get("bound_pruned", [])})) or "none"))
    w("")
    checks = data.get("checks_cost") or {}
    if checks:
        w("### What BASIC's checks cost")
        w("")
        w("Each call of the BASIC build minus the same call of the NONE "
          "build (the two make the same calls in the same order: the checks "
          "change no decision on a sound heap), in instructions, realloc's "
          "copy excluded; max over every call of every run, with the min "
          "and mean. Where the max occurred is in the JSON.")
        w("")
        w("| CPU | build | %s |" % " | ".join(op_name(op) for op in KINDS))
        w("| --- | --- |" + " --- |" * len(KINDS))
        for cpu, label in CPUS:
            for basic, c in checks.items():
                e = c["cpus"].get(cpu, {})
                w("| %s | `%s` | %s |" % (label, c["opt"], " | ".join(
                    "%d (%d, %.1f)" % (e[op]["max"], e[op]["min"],
                                       e[op]["mean"]) if op in e else "-"
                    for op in KINDS)))
        w("")
    w("### Worst single call by heap size (max over the workloads)")
    w("")
    for cpu, label in CPUS:
        runs = [r for r in first["runs"] if r["cpu"] == cpu]
        hs = sorted({h for r in runs for h in r["heap_bytes"]})
        w("| %s | build | %s | bound |"
          % (label, " | ".join(size_text(h) for h in hs)))
        w("| --- | --- | %s | --- |" % " | ".join("---" for _ in hs))
        for op in KINDS:
            for k in keys:
                e = builds[k]["summary"][cpu][op]
                row = [str(e["max_by_heap"].get(str(h), "-")) for h in hs]
                w("| %s | %s | %s | %d |" % (op_name(op), build_name(
                    builds[k]), " | ".join(row), e["bound"]))
        w("")
    w("Header bytes: 4 up to 256 KiB, 8 above "
      "(`SYS_HEAP_SMALL_REGION_MAX_BYTES`).")
    w("")
    w("![Worst-case instructions per call vs heap size, Cortex-M3 and "
      "Cortex-M0, `-Os` and `-O2`, BASIC and NONE]"
      "(img/worst_case_cortex_m.png)")
    w("")
    hard = data.get("hardening")
    if hard:
        lv = hard["levels"]
        opts = sorted({r["opt"] for r in lv})
        w("### Hardening levels on Cortex-M3 (`%s`)" % "`, `".join(opts))
        w("")
        w("The worst single call per `CONFIG_SYS_HEAP_HARDENING_LEVEL` "
          "(`-DKHEAP_HARDENING_LEVEL=0..4`; docs/design.md, *Hardening "
          "levels*), the same workloads on a %s heap (the x86-64 "
          "figures are in *Hardening levels on x86-64*); BASIC is the "
          "default. Each cell: measured max / analytical bound."
          % " and ".join(size_text(h) for h in lv[0]["heap_bytes"]))
        w("")
        w("| level | alloc | aligned_alloc | free | realloc (copy excluded) "
          "| ops per run after the fill |")
        w("| --- | --- | --- | --- | --- | --- |")
        notes = []
        for r in lv:
            cells = []
            for op in KINDS:
                b = r["bound"][op] if r["bound"] else None
                cells.append("%d / %s" % (r["max"][op],
                                          b if b is not None else "none"))
            w("| %s (%d) | %s | %d |" % (r["name"], r["level"],
                                         " | ".join(cells),
                                         r["ops_after_fill"]))
            if r.get("bound_note"):
                notes.append(r)
        w("")
        for r in notes:
            w("%s: no bound (%s)%s." % (
                r["name"], r["bound_note"],
                "; fewer ops per run: each call is thousands of "
                "instructions" if r["level"] == 4 else ""))
            w("")
    for k in keys:
        if builds[k]["level"] != DEFAULT_LEVEL:
            continue
        for run in builds[k]["runs"]:
            if run["id"].endswith("-m0-microbit"):
                continue
            w("### %s (QEMU %s), %s: max / p99.99 / mean instructions" %
              (run["label"], run["machine"], build_name(builds[k])))
            w("")
            if run["id"].endswith("-m0-mps2"):
                kmb = next(r for r in builds[k]["runs"]
                           if r["id"].endswith("-m0-microbit"))
                sizes = " and ".join(size_text(h) for h in kmb["heap_bytes"])
                w("The micro:bit's own runs (QEMU microbit, %s) are identical "
                  "to the %s rows, call for call (checked on every run)."
                  % (sizes, sizes))
                w("")
            w("| workload | heap | header | calls | alloc | aligned_alloc | "
              "free | realloc | realloc, copy excluded |")
            w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for seg in run["segments"]:
                kk = seg["kinds"]
                calls = sum(x["calls"] for x in kk.values())
                w("| %s | %s | %d B | %d | %s | %s | %s | %s | %s |" % (
                    seg["workload"], size_text(seg["heap_bytes"]),
                    seg["header_bytes"], calls, cell(kk.get("alloc")),
                    cell(kk.get("aligned_alloc")), cell(kk.get("free")),
                    cell(kk.get("realloc")),
                    cell(kk.get("realloc"), excl=True)))
            w("")
    w("### Where the worst calls' instructions go (Cortex-M3)")
    w("")
    w("Per function, the worst call of each kind (the first that reached "
      "the maximum over all runs; realloc's without the copy) next to the "
      "bound's longest path. Helpers that `-Os` keeps out of line are "
      "calls, with their entry and return, every time; `-O2` inlines "
      "most of them into the called function.")
    w("")
    w("| op | build | measured worst | its split | bound | the bound's path |")
    w("| --- | --- | --- | --- | --- | --- |")
    for op in KINDS:
        for k in keys:
            e = builds[k]["summary"]["cortex-m3"][op]
            w("| %s | %s | %d | %s | %d | %s |" % (
                op + (", copy excluded" if op == "realloc" else ""),
                build_name(builds[k]), e["max"],
                ", ".join("%s %d" % kv for kv in e["worst_split"].items()),
                e["bound"], ", ".join("%s %d" % kv
                                      for kv in e["bound_split"].items())))
    w("")
    w(MARK_END)
    return "\n".join(out) + "\n"


def load_peers():
    """bench/results/peers.json (peers measured from checkouts outside
    this tree), or None."""
    try:
        with open(PEERS_JSON, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# Regions of the bookkeeping table (the full sweep is in the JSON and the
# plot).
BOOK_TABLE_SIZES = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
                    65536, 131072, 262144, 262152, 524288, 1048576]


def peer_curves(peers):
    """[(name, version, {region: control}, min_region)] of the peers with
    32-bit bookkeeping figures."""
    out = []
    for name, p in sorted(((peers or {}).get("peers") or {}).items()):
        b = p.get("bookkeeping_32")
        if b and b.get("control"):
            out.append((name, p.get("version", "?"), dict(
                (r, c) for r, c in b["control"]), b.get("min_region")))
    return out


def render_bookkeeping(data):
    book = data["bookkeeping"]
    control = dict((r, c) for r, c in book["control"])
    peers = peer_curves(load_peers())
    out = []
    w = out.append
    w(BOOK_BEGIN)
    w("## Bookkeeping, 32-bit (Cortex-M3)")
    w("")
    w("*Control* = region minus the largest single request a fresh heap "
      "over that region serves (`bench/heap_bookkeeping.c`, the same code "
      "for every allocator): everything the region loses before the first "
      "allocation, the in-region control block, alignment, end markers, "
      "the block's header and any rounding of the request. The *minimum "
      "region* is the smallest region over which the allocator serves a "
      "1-byte request. Measured on %s (%s), %d-bit pointers, region start "
      "512-byte aligned, by the bench image of the default build (%s, "
      "`target_worst bookkeeping`), at every size of a sweep: every 8 "
      "bytes up to 1 KiB, then each power of two 2^k, 2^k - 8, 2^k + 8 "
      "and 1.5 * 2^k, up to %s. The 64-bit figures are in *Metadata*."
      % (book["cpu"], book["machine"], 8 * book["ptr_bytes"],
         data["commit"], size_text(book["control"][-1][0])))
    w("")
    # The peers' versions are in their own section (*Peers side by side*).
    head = ["region", "kheap"] + [n for n, _, _, _ in peers]
    w("| " + " | ".join(head) + " |")
    w("|" + " --- |" * len(head))
    w("| minimum region | " + " | ".join(
        ["%d B" % book["min_region"]] +
        ["%s B" % m for _, _, _, m in peers]) + " |")
    for r in BOOK_TABLE_SIZES:
        if r not in control:
            continue
        cells = ["%d B" % control[r]] + [
            "%s B" % c[r] if r in c else "-" for _, _, c, _ in peers]
        if r < 1024 or r % 1024 == 0:
            name = size_text(r)
        else:
            name = "%s + %d B" % (size_text(r - r % 1024), r % 1024)
        w("| %s | %s |" % (name, " | ".join(cells)))
    worst = max(book["control"], key=lambda rc: rc[1])
    w("")
    w("Largest control over the whole sweep (%d sizes, %s to %s): %d B at "
      "%d B." % (len(book["control"]), size_text(book["control"][0][0]),
                 size_text(book["control"][-1][0]), worst[1], worst[0]))
    for name, _, c, _ in peers:
        common = [r for r in control if r in c]
        above = [r for r in common if control[r] > c[r]]
        w("Against %s at the %d sizes both measured: kheap's control is "
          "larger at %d of them%s." % (
              name, len(common), len(above),
              " (from %d B to %d B)" % (min(above), max(above))
              if above else ""))
    w("")
    w("![Control bytes vs region size, 32-bit](img/control_bytes.png)")
    w("")
    w(BOOK_END)
    return "\n".join(out) + "\n"


def write_docs(path, section, name="qemu-worst"):
    docsection.write_section(path, name, section)


def plot(data, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, NullLocator
    except ImportError:
        print("qemu_worst: no matplotlib (use Debian's /usr/bin/python3); "
              "plot skipped", file=sys.stderr)
        return
    colours = {"alloc": "tab:blue", "aligned_alloc": "tab:orange",
               "free": "tab:green", "realloc": "tab:red"}
    builds = data["builds"]
    # One row per optimisation level, one column per CPU; BASIC solid,
    # NONE dashed; a column shares its y scale.
    opts = []
    for b in builds.values():
        if b["opt"] not in opts:
            opts.append(b["opt"])
    fig, axes = plt.subplots(len(opts), 2, figsize=(12, 4.2 * len(opts)),
                             sharey="col", squeeze=False)
    for row, opt in enumerate(opts):
        panels = (("cortex-m3", "Cortex-M3 (mps2-an385)"),
                  ("cortex-m0", "Cortex-M0 code (micro:bit, mps2-an385)"))
        for ax, (cpu, label) in zip(axes[row], panels):
            xs_all = set()
            for b in builds.values():
                if b["opt"] != opt:
                    continue
                basic = b["level"] == DEFAULT_LEVEL
                for op in KINDS:
                    e = b["summary"][cpu][op]
                    xs = sorted(int(h) for h in e["max_by_heap"])
                    xs_all.update(xs)
                    ys = [e["max_by_heap"][str(h)] for h in xs]
                    ax.plot(xs, ys, "o-" if basic else "x--",
                            color=colours[op], alpha=1.0 if basic else 0.6,
                            label="%s, %s" % (op_name(op), b["level_name"]))
                    if basic:
                        ax.axhline(e["bound"], color=colours[op],
                                   linestyle=":", linewidth=1.2)
            if cpu == "cortex-m0":
                microbit = next(
                    r for b in builds.values() for r in b["runs"]
                    if r["id"].endswith("-m0-microbit"))
                ax.axvspan(min(xs_all) / 1.2,
                           microbit["max_heap_bytes"] * 1.2,
                           color="0.9", zorder=0)
                ax.text(min(xs_all), 20, "micro:bit", fontsize=8)
            ax.set_xscale("log", base=2)
            ticks = sorted(xs_all)
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticklabels([size_text(t).replace(" ", "\n")
                                for t in ticks], fontsize=8)
            ax.set_xlabel("heap size")
            ax.set_ylabel("instructions, worst single call")
            ax.set_ylim(bottom=0)
            ax.set_title("%s, core %s" % (label, opt), fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].plot([], [], "k:", label="analytical bound, BASIC")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle("kheap: worst single call by heap size, every call "
                 "counted under QEMU (%s, %s)"
                 % (data["commit"], data["generated"]), fontsize=11)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    print("qemu_worst: wrote %s" % path, file=sys.stderr)


def plot_bookkeeping(data, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("qemu_worst: no matplotlib; bookkeeping plot skipped",
              file=sys.stderr)
        return
    book = data["bookkeeping"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    xs = [r for r, _ in book["control"]]
    ax.plot(xs, [c for _, c in book["control"]], "-", drawstyle="steps-post",
            label="kheap (%s)" % data["commit"])
    # The peers' versions are in *Peers side by side*.
    for name, _, c, _ in peer_curves(load_peers()):
        rs = sorted(c)
        ax.plot(rs, [c[r] for r in rs], "-", drawstyle="steps-post",
                label=name + (" (rounds blocks to powers of two)"
                              if name == "o1heap" else ""))
    ax.set_xscale("log", base=2)
    # Log scale: the peers' figures span three orders of magnitude.
    ax.set_yscale("log", base=2)
    ax.set_xlabel("region bytes")
    ax.set_ylabel("control bytes (region - largest block), log scale")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Bookkeeping on a fresh heap, 32-bit (%s), minimum region "
                 "to %s" % (book["cpu"], size_text(xs[-1])), fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    print("qemu_worst: wrote %s" % path, file=sys.stderr)


# ---- any one image: the same driver for another allocator -------------------

def cmd_measure(args):
    """One image of any allocator under test (bench/heap_backend.h,
    cmake/bench-backend.cmake) through the same workloads, counts and
    checks as the full run, without the kheap-specific parts (bounds,
    the Cortex-M0 cross-check, the BASIC-NONE pairs): the worst single
    call per op and heap size, and the bookkeeping sweep."""
    ops = QUICK_OPS if args.quick else FULL_OPS
    cfg = {"id": "measure", "cpu": args.cpu, "label": args.cpu,
           "machine": args.machine, "elf": args.elf, "ops": ops,
           "sizes": args.sizes.split("+"), "workloads": WORKLOADS}
    args.plugin_for = lambda c: args.plugin
    run = run_config(cfg, args, args.work, args.timeout)
    summary = {}
    for op in KINDS:
        per_heap, overall, where, _ = worst_by([run], op, field_of(op))
        if overall is None:
            continue
        e = {"max": overall, "where": where,
             "max_by_heap": {str(h): v for h, v in per_heap.items()}}
        if op == "realloc":
            e["max_with_copy"] = worst_by([run], op, "max")[1]
            e["max_in_place"] = worst_by([run], op, "max_in_place")[1]
        summary[op] = e
    out = collections.OrderedDict([
        ("generated", datetime.datetime.now(datetime.timezone.utc)
         .strftime("%Y-%m-%d %H:%M UTC")),
        ("commit", git_state()[0]),
        ("mode", "quick" if args.quick else "full"),
        ("ops_after_fill", ops), ("workloads", list(WORKLOADS)),
        ("cpu", args.cpu), ("machine", args.machine),
        ("code_bytes", code_bytes(args.elf, args.nm, args.objdump)),
        ("summary", summary),
        ("unsupported", sum(s["end"].get("unsupported", 0)
                            for s in run["segments"])),
        ("runs", slim_run(run)["segments"]),
    ])
    if args.bookkeeping:
        out["bookkeeping"] = run_bookkeeping(
            args.qemu, args.machine, args.elf, args.work, "bookkeeping",
            BOOKKEEPING_MAX)
    with open(args.json, "w", encoding="utf-8") as f:
        f.write(dump_json(out))
        f.write("\n")
    for op, e in summary.items():
        print("FIGURE measure_%s %d" % (op, e["max"]))
    return 0


# ---- ctest: a short measurement that must make sense -------------------------------

# Per call, whatever the op: at least an entry, a check and a return; at
# most far more than any path the bound allows (the bound check below is
# the tight one, when the analysis succeeds).
SANE_MIN = 8
SANE_MAX = 20000


def cmd_check(args):
    syms = symbols(args.nm, args.elf)
    fmap = FunctionMap(syms)
    args.plugin_for = lambda cfg: args.plugin
    cfg = {"id": "check", "cpu": "?", "label": "check", "machine": args.machine,
           "elf": args.elf, "ops": 3000, "sizes": ["4K", "max"],
           "workloads": ["mixed"]}
    run = run_config(cfg, args, args.work, 90)
    try:
        bounds = wcet_bound.bounds(args.elf, args.objdump)
    except (wcet_bound.AnalysisError, OSError) as e:
        print("check: no analytical bound (%s); bound check skipped" % e)
        bounds = None
    problems = []
    for seg in run["segments"]:
        where = "%s %s" % (seg["workload"], size_text(seg["heap_bytes"]))
        for op in KINDS:
            k = seg["kinds"].get(op)
            if k is None or k["calls"] == 0:
                problems.append("%s: no %s calls counted" % (where, op))
                continue
            excl = k["max_excl_copy"]
            print("check: %-16s %-14s calls %6d  min %4d  mean %7.1f  "
                  "p99.99 %5d  max %5d  (copy excluded %d)%s"
                  % (where, op, k["calls"], k["min"], k["mean"], k["p9999"],
                     k["max"], excl,
                     "  bound %d" % bounds[op]["bound"] if bounds else ""))
            if k["min"] < SANE_MIN or excl > SANE_MAX:
                problems.append("%s %s: counts %d..%d are not plausible"
                                % (where, op, k["min"], excl))
            first = k["worst_path_first_function"]
            if first != "sys_heap_" + op:
                problems.append("%s %s: the worst call's first block is in "
                                "%s, not sys_heap_%s" % (where, op, first, op))
            if bounds and excl > bounds[op]["bound"]:
                problems.append("%s %s: %d instructions, above the "
                                "analytical bound %d" % (where, op, excl,
                                                         bounds[op]["bound"]))
    del fmap
    # The counts against QEMU's own execution trace (no plugin counting):
    # catches a count that is consistently off, which the checks above,
    # all made from the plugin's own figures, could miss.
    try:
        trace = exec_trace_check(args.qemu, args.machine, args.elf,
                                 args.plugin, args.nm, args.objdump,
                                 args.work, "check-exec-trace")
        print("check: QEMU's execution trace agrees, call for call (%s)"
              % ", ".join("%s %d" % (k, v["calls"]) for k, v in trace.items()))
    except CheckError as e:
        problems.append(str(e))
    if problems:
        for p in problems:
            print("check: FAIL: " + p)
        return 1
    print("check: PASSED")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--build", action="append", metavar="KEY=M3DIR:M0DIR",
                   help="the cortex-m3 and cortex-m0 build directories of "
                   "one build, KEY one of %s (%s required)"
                   % (", ".join(BUILD_KEYS), DEFAULT_BUILD))
    r.add_argument("--m3-level-build", action="append", metavar="LEVEL=DIR",
                   help="cortex-m3 build with KHEAP_HARDENING_LEVEL=LEVEL "
                   "(repeat; a row of the hardening table each)")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--json", default=os.path.join(ROOT, "bench", "results",
                                                  "qemu_worst.json"))
    r.add_argument("--docs", default=None)
    r.add_argument("--plot", default=None)
    r.add_argument("--work", default=os.path.join(ROOT, "build", "bench",
                                                  "qemu-worst"))
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--timeout", type=int, default=900)
    g = sub.add_parser("render", help="rewrite the docs section and the "
                       "plot from a JSON of an earlier run")
    g.add_argument("--json", required=True)
    g.add_argument("--docs", default=None)
    g.add_argument("--plot", default=None)
    m = sub.add_parser("measure", help="one image of any allocator under "
                       "test: worst call per op and heap, bookkeeping")
    m.add_argument("--elf", required=True)
    m.add_argument("--plugin", required=True)
    m.add_argument("--machine", default="mps2-an385")
    m.add_argument("--cpu", default="cortex-m3")
    m.add_argument("--sizes", default="+".join(M3_SIZES[:-1]))
    m.add_argument("--bookkeeping", action="store_true")
    m.add_argument("--quick", action="store_true")
    m.add_argument("--json", required=True)
    m.add_argument("--work", required=True)
    m.add_argument("--timeout", type=int, default=900)
    c = sub.add_parser("check")
    c.add_argument("--machine", required=True)
    c.add_argument("--elf", required=True)
    c.add_argument("--plugin", required=True)
    c.add_argument("--work", required=True)
    for q in (r, c, m):
        q.add_argument("--qemu", default="qemu-system-arm")
        q.add_argument("--nm", default="arm-none-eabi-nm")
        q.add_argument("--objdump", default="arm-none-eabi-objdump")
        q.add_argument("--gcc", default="arm-none-eabi-gcc")
    args = p.parse_args()
    if args.command == "render":
        with open(args.json) as f:
            data = json.load(f)
        if args.docs:
            write_docs(args.docs, render(data, args))
            write_docs(args.docs, render_bookkeeping(data), "bookkeeping")
        if args.plot:
            plot(data, args.plot)
            plot_bookkeeping(data, os.path.join(os.path.dirname(args.plot),
                                                "control_bytes.png"))
        return 0
    try:
        return {"run": cmd_run, "check": cmd_check,
                "measure": cmd_measure}[args.command](args)
    except CheckError as e:
        print("qemu_worst: FAILED: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turn the raw results of scripts/bench into FIGURE lines and, on request,
docs/performance.md and bench/results/x86.json.

usage: report.py RESULTS_DIR [--write-docs PATH] [--json PATH]
                 [--bin-dir DIR]

RESULTS_DIR holds what scripts/bench collected: kheap_bench output
(adapters.txt, meta.txt, util.txt, time.txt, control.txt, worst-*.txt of
the BASIC build and worst-none-*.txt of the NONE build, with their
per-call files calls-*.bin and calls-none-*.bin), callgrind summaries
(callgrind-*.txt for kheap's own calls, cgreplay-ALLOC-W.txt for every
allocator), machine.txt and plots.txt (the PNGs bench/plots.py made).
--bin-dir: where kheap_bench and its -g twin are (default
build/release/bench). --json: the x86-64 figures the headline uses
(bench/targets.py reads them). Prints "FIGURE <name> <value>" lines on
stdout. Python standard library only (runs on Debian's /usr/bin/python3);
the plots are bench/plots.py's job.

Sections other tools own (the headline of bench/targets.py, the Cortex-M
worst case and bookkeeping of target/bench/qemu_worst.py, the code size of
scripts/codesize) are marked in docs/performance.md and kept as they are
(bench/docsection.py).

The hand-written parts of docs/performance.md (method, definitions) live in
this file: edit them here, not in the generated document.
"""
import datetime
import glob
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callcounts  # noqa: E402
import docsection  # noqa: E402

HEAP_SIZES = [16 << 10, 256 << 10, 4 << 20, 64 << 20]
FUNCS = ["alloc", "aligned_alloc", "free", "realloc"]

# kheap against glibc in the same run, on these (the targets are in the
# headline, bench/targets.py).
VS_GLIBC = ["W1", "W2", "W6"]
# Regions of the 64-bit bookkeeping table (the full sweep is in the JSON).
CONTROL_SIZES = [128, 256, 512, 1024, 4096, 16384, 65536, 262144, 262152,
                 1048576]

# Order of the timed workloads in tables and plots.
TIME_ORDER = ["W1", "W2", "W4", "W6", "W5-16K", "W5-256K", "W5-4M",
              "W5-64M"]
# Workloads every allocator runs under callgrind (scripts/bench).
REPLAY_WORKLOADS = ["W1", "W2", "W4", "W6"]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def same_text_twin(measured, twin):
    """twin if its .text section has the address and the bytes of
    measured's (so its debug line tables describe the measured code),
    else None."""
    import subprocess
    import tempfile
    if not (os.path.exists(measured) and os.path.exists(twin)):
        return None
    try:
        heads = []
        for b in (measured, twin):
            out = subprocess.run(["objdump", "-h", b], capture_output=True,
                                 text=True, check=True).stdout
            heads.append([ln.split()[1:4] for ln in out.splitlines()
                          if len(ln.split()) > 3 and
                          ln.split()[1] == ".text"])
        if not heads[0] or heads[0] != heads[1]:
            return None
        blobs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, b in enumerate((measured, twin)):
                dst = os.path.join(tmp, "t%d" % i)
                subprocess.run(["objcopy", "-O", "binary",
                                "--only-section=.text", b, dst], check=True)
                with open(dst, "rb") as f:
                    blobs.append(f.read())
        return twin if blobs[0] == blobs[1] else None
    except (OSError, subprocess.CalledProcessError):
        return None


def human(n):
    n = int(n)
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return "%d GiB" % (n >> 30)
    if n > 1 << 10 and n % (1 << 10) != 0 and n % (1 << 10) < 64:
        return "%s + %d B" % (human(n - n % (1 << 10)), n % (1 << 10))
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return "%d MiB" % (n >> 20)
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return "%d KiB" % (n >> 10)
    return "%d B" % n


def short(n):
    n = int(n)
    if n % (1 << 20) == 0:
        return "%dM" % (n >> 20)
    return "%dK" % (n >> 10)


def records(path, kind):
    """Lines "KIND key=value ..." of a file as dicts. A "reason=" field
    is free text: it takes the rest of the line."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0] != kind:
                continue
            rec = {}
            for field in fields[1:]:
                if field.startswith("reason="):
                    rec["reason"] = line.split("reason=", 1)[1].strip()
                    break
                if "=" in field:
                    k, v = field.split("=", 1)
                    rec[k] = v
            out.append(rec)
    return out


def read_kv(path):
    kv = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    kv[k.strip()] = v.strip()
    return kv


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "%.*f" % (digits, v)
    return str(v)


class Results:
    def __init__(self, d, bin_dir=None):
        self.dir = d
        if bin_dir is None:
            bin_dir = os.path.join(ROOT, "build", "release", "bench")
        self.machine = read_kv(os.path.join(d, "machine.txt"))
        self.adapters = records(os.path.join(d, "adapters.txt"), "ADAPTER")
        self.unavailable = records(os.path.join(d, "adapters.txt"),
                                   "UNAVAILABLE")
        self.time = records(os.path.join(d, "time.txt"), "TIME")
        order = {w: i for i, w in enumerate(TIME_ORDER)}
        self.time.sort(key=lambda r: order.get(r["workload"], len(order)))
        self.allocmeta = records(os.path.join(d, "meta.txt"), "ALLOCMETA")
        self.w3trace = records(os.path.join(d, "util.txt"), "W3TRACE")
        # (alloc, workload) -> fn -> CALLGRIND record, fn without "call_"
        self.replay_calls = {}
        self.replay_lib = {}
        for path in sorted(glob.glob(os.path.join(d, "cgreplay-*.txt"))):
            base = os.path.basename(path)[len("cgreplay-"):-len(".txt")]
            alloc, wl = base.rsplit("-", 1)
            for r in records(path, "CALLGRIND"):
                fn = r["fn"].replace("call_", "", 1)
                self.replay_calls.setdefault((alloc, wl), {})[fn] = r
            # The allocator's own share (callgrind_summary.py --lib).
            for r in records(path, "LIB"):
                fn = r["fn"].replace("call_", "", 1)
                self.replay_lib.setdefault((alloc, wl), {})[fn] = r
        self.plots = []
        pf = os.path.join(d, "plots.txt")
        if os.path.exists(pf):
            with open(pf, encoding="utf-8") as f:
                self.plots = [l.strip() for l in f if l.strip()]
        self.min_region = records(os.path.join(d, "control.txt"),
                                  "MINREGION")
        self.control = [(int(r["region"]), int(r["control"])) for r in
                        records(os.path.join(d, "control.txt"), "CONTROL")]
        self.w3 = records(os.path.join(d, "util.txt"), "W3")
        self.w3sum = records(os.path.join(d, "util.txt"), "W3SUM")
        self.w3skip = records(os.path.join(d, "util.txt"), "W3SKIP")
        self.meta = records(os.path.join(d, "meta.txt"), "META")
        self.overhead = records(os.path.join(d, "meta.txt"), "OVERHEAD")
        self.worst = {}
        self.worst_none = {}
        self.worstpath = {}
        self.worstrun = {}
        self.symbols = self.read_symbols(os.path.join(d, "bench-nm.txt"))
        self.w3ramps = []
        # ramp -> allocator -> W3SUM record (kheap and the references)
        self.w3ramp_all = {}
        for path in sorted(glob.glob(os.path.join(d, "util-ramp-*.txt"))):
            for r in records(path, "W3SUM"):
                self.w3ramp_all.setdefault(int(r.get("ramp_ops", 0)),
                                           {})[r["alloc"]] = r
                if r["alloc"] == "kheap":
                    self.w3ramps.append(r)
        self.w3ramps.sort(key=lambda r: int(r.get("ramp_ops", 0)))
        self.calls = {}
        self.splits = {}
        for size in HEAP_SIZES:
            wf = os.path.join(d, "worst-%s.txt" % short(size))
            for r in records(wf, "WORST"):
                self.worst[(size, r["fn"])] = r
            for r in records(wf, "WORSTPATH"):
                self.worstpath[(size, r["fn"])] = [
                    int(a, 16) for a in r.get("addrs", "").split(",") if a]
            for r in records(wf, "WORSTRUN"):
                self.worstrun[size] = r
            for r in records(os.path.join(d, "worst-none-%s.txt" % short(
                    size)), "WORST"):
                self.worst_none[(size, r["fn"])] = r
            cf = os.path.join(d, "callgrind-%s.txt" % short(size))
            for r in records(cf, "CALLGRIND"):
                fn = r["fn"].replace("sys_heap_", "")
                self.calls[(size, fn)] = r
            for r in records(cf, "SPLIT"):
                self.splits.setdefault((size, r["fn"]), []).append(
                    (r["part"], r["per_call"]))
        # kheap_bench_lines, the -g twin of the measured kheap_bench
        # (bench/CMakeLists.txt): its line tables attribute the paths'
        # instructions, if its .text is the same bytes at the same address.
        self.line_binary = same_text_twin(
            os.path.join(bin_dir, "kheap_bench"),
            os.path.join(bin_dir, "kheap_bench_lines"))
        self.checks_cost = self.read_checks_cost(d)

    @staticmethod
    def read_checks_cost(d):
        """What BASIC's checks cost on x86-64 -O2: each measured call of
        the BASIC build minus the same call of the NONE build, over every
        heap size (bench/callcounts.py); None without both builds'
        per-call files."""
        out = {}
        for size in HEAP_SIZES:
            b = os.path.join(d, "calls-%s.bin" % short(size))
            n = os.path.join(d, "calls-none-%s.bin" % short(size))
            if not (os.path.exists(b) and os.path.exists(n)):
                return None
            sb, sn = callcounts.read_calls(b), callcounts.read_calls(n)
            if len(sb) != 1 or len(sn) != 1:
                raise callcounts.CallsError("%s, %s: one segment each "
                                            "expected" % (b, n))
            callcounts.add_differences(out, sb[0], sn[0],
                                       {"heap_bytes": size})
        return callcounts.finish(out)

    @staticmethod
    def read_symbols(path):
        """Sorted [(address, name)] of the functions of kheap_bench."""
        syms = []
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    p = line.split()
                    if len(p) == 3 and p[1] in "tTwW":
                        syms.append((int(p[0], 16), p[2]))
        syms.sort()
        return syms

    def path_split(self, size, fn):
        """Instructions of the worst call per function symbol."""
        import bisect
        path = self.worstpath.get((size, fn))
        if not path or not self.symbols:
            return None
        addrs = [a for a, n in self.symbols]
        counts = {}
        order = []
        for a in path:
            if a == 0:
                name = "libc (memcpy)"
            else:
                i = bisect.bisect_right(addrs, a) - 1
                name = self.symbols[i][1] if i >= 0 else "?"
            if name.startswith("mark_"):
                continue  # the bracketing wrapper
            if name == "_init":
                name = "PLT stub"  # .plt follows _init, has no symbol
            if name not in counts:
                order.append(name)
                counts[name] = 0
            counts[name] += 1
        return [(n, counts[n]) for n in order]

    # Parts of a path: the nearest function of an instruction's inline
    # chain (innermost first) that names one; the rest is the entry.
    PARTS = [
        ("check_live_block", "misuse checks"),
        ("size_class", "size class"),
        ("take_chunk", "probe + bitmap search"),
        ("list_push", "list push"),
        ("list_pop_head", "list unlink"),
        ("list_unlink", "list unlink"),
        ("list_unlink_after", "list unlink"),
        ("clear_class_bits", "list unlink"),
        ("split_used", "headers"),
        ("set_header", "headers"),
        ("carve_aligned", "headers"),
        ("resize_in", "headers"),
        ("free_block", "headers"),
        ("count_allocated", "counters"),
        ("decode_align", "request size"),
        ("search_chunks", "request size"),
        ("chunks_for_bytes", "request size"),
    ]

    def path_parts(self, size, fn):
        """Instructions of the worst call per part (see PARTS), from the
        inline chains that addr2line reports on the -g twin."""
        import subprocess
        path = self.worstpath.get((size, fn))
        if not path or not self.line_binary:
            return None
        addrs = [a for a in path if a != 0]
        try:
            text = subprocess.run(
                ["addr2line", "-a", "-f", "-i", "-e", self.line_binary] +
                ["0x%x" % a for a in addrs], capture_output=True,
                text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
        chains = {}
        cur = None
        lines = text.splitlines()
        k = 0
        while k < len(lines):
            line = lines[k]
            if line.startswith("0x"):
                cur = int(line, 16)
                chains[cur] = []
                k += 1
                continue
            if cur is not None:
                chains[cur].append(line.strip())
            k += 2  # function name, then file:line
        part_of = dict(self.PARTS)
        counts = {}
        for a in path:
            if a == 0:
                name = "memcpy (libc)"
            else:
                chain = chains.get(a, [])
                if chain and chain[0].startswith("mark_"):
                    continue  # the bracketing wrapper
                name = "entry and exit"
                for f in chain:
                    if f in part_of:
                        name = part_of[f]
                        break
            counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    # --- derived figures -------------------------------------------------
    def time_rec(self, workload, alloc):
        for r in self.time:
            if r["workload"] == workload and r["alloc"] == alloc:
                return r
        return None

    def kheap_vs(self, workload, other="glibc"):
        k = self.time_rec(workload, "kheap")
        o = self.time_rec(workload, other)
        if not k or not o:
            return None
        return float(k["ns_median"]) / float(o["ns_median"])

    def allocators(self):
        """Allocator names in the order kheap_bench measured them."""
        names = []
        for r in self.time:
            if r["alloc"] not in names:
                names.append(r["alloc"])
        return names

    def workloads(self):
        names = []
        for r in self.time:
            if r["workload"] not in names:
                names.append(r["workload"])
        return names

    def replay_misaligned(self, alloc, wl):
        recs = records(os.path.join(self.dir, "cgreplay-%s-%s.log" % (
            alloc, wl)), "REPLAY")
        return int(recs[0].get("misaligned", 0)) if recs else 0

    @staticmethod
    def invalid(rec):
        """Misaligned blocks an allocator returned in a workload (its
        figures there are then not valid), 0 if none."""
        return int(rec.get("misaligned", 0)) if rec else 0

    def vs_glibc(self):
        """[(workload, kheap rec, glibc rec, kheap/glibc, paired)]."""
        out = []
        for wl in VS_GLIBC:
            k = self.time_rec(wl, "kheap")
            g = self.time_rec(wl, "glibc")
            if not k or not g:
                out.append((wl, k, g, None, None))
                continue
            ratio = float(k["ns_median"]) / float(g["ns_median"])
            paired = 1.0 / float(g["paired_ratio"])
            out.append((wl, k, g, ratio, paired))
        return out

    def worst_max(self, fn, key="max", worst=None):
        vals = [int(r[key]) for (s, f), r in (
            self.worst if worst is None else worst).items()
                if f == fn and key in r]
        return max(vals) if vals else None

    def mean_max(self, fn):
        vals = [float(r["mean"]) for (s, f), r in self.calls.items()
                if f == fn]
        return max(vals) if vals else None

    def w3_kheap(self):
        for r in self.w3sum:
            if r["alloc"] == "kheap":
                return r
        return None

    def x86_json(self):
        """The figures the headline needs (bench/targets.py)."""
        def worst_of(table):
            out = {}
            for (size, fn), r in table.items():
                e = {"max": int(r["max"])}
                for k in ("max_excl_copy", "max_in_place"):
                    if k in r:
                        e[k] = int(r[k])
                if fn == "realloc" and "max_excl_copy" in r:
                    # The target's realloc figure is without the copy.
                    e["max"] = int(r["max_excl_copy"])
                    e["max_with_copy"] = int(r["max"])
                out.setdefault(str(size), {})[fn] = e
            return out
        m = self.machine
        w3 = self.w3_kheap()
        data = {
            "schema": 1,
            "generated": m.get("date"), "commit": m.get("commit"),
            "dirty": m.get("dirty") == "yes", "mode": m.get("mode"),
            "worst": {"BASIC": worst_of(self.worst),
                      "NONE": worst_of(self.worst_none)},
            "checks_cost": self.checks_cost,
            "speed": {wl: {"kheap_ns": float(k["ns_median"]),
                           "glibc_ns": float(g["ns_median"]),
                           "ratio": round(ratio, 4),
                           "paired": round(paired, 4)}
                      for wl, k, g, ratio, paired in self.vs_glibc()
                      if ratio is not None},
            "w3": {"first_mean_pct": float(w3["util_first_mean_pct"]),
                   "steady_mean_pct": float(w3["steady_util_mean_pct"]),
                   "seeds": int(w3["seeds"])} if w3 else None,
            "bookkeeping_64": {
                "min_region": int(self.min_region[0]["bytes"]),
                "ptr_bytes": int(self.min_region[0]["ptr_bytes"]),
                "control": [list(rc) for rc in self.control]}
            if self.min_region else None,
        }
        return data

    def figures(self):
        f = []
        for w in ["W1", "W2", "W4", "W6"]:
            v = self.kheap_vs(w)
            if v is not None:
                f.append(("%s_kheap_vs_glibc" % w.lower(), "%.2f" % v))
        for other in self.allocators():
            if other in ("kheap", "glibc"):
                continue
            for w in ["W1", "W2", "W4", "W6"]:
                v = self.kheap_vs(w, other)
                if v is None:
                    continue
                bad = self.invalid(self.time_rec(w, other))
                f.append(("%s_kheap_vs_%s" % (w.lower(), other),
                          "invalid(%d-misaligned)" % bad if bad
                          else "%.2f" % v))
        if self.adapters:
            f.append(("allocators_measured", ",".join(
                r["name"] for r in self.adapters
                if r.get("available") == "yes")))
        for r in self.unavailable:
            f.append(("allocator_unavailable_%s" % r["alloc"], "yes"))
        k16 = self.time_rec("W5-16K", "kheap")
        k64 = self.time_rec("W5-64M", "kheap")
        if k16 and k64:
            f.append(("w5_kheap_ns_64M_vs_16K", "%.2f" % (
                float(k64["ns_median"]) / float(k16["ns_median"]))))
        w3 = self.w3_kheap()
        if w3:
            f.append(("w3_util_first_failure_pct", w3["util_first_mean_pct"]))
            f.append(("w3_util_first_failure_min_pct",
                      w3["util_first_min_pct"]))
            f.append(("w3_util_steady_pct", w3["steady_util_mean_pct"]))
        for fn in FUNCS:
            v = self.worst_max(fn)
            if v is not None:
                f.append(("worst_%s_insns" % fn, str(v)))
        v = self.worst_max("realloc", "max_excl_copy")
        if v is not None:
            f.append(("worst_realloc_excl_copy_insns", str(v)))
        for fn in FUNCS:
            v = self.worst_max(fn, "max_excl_copy" if fn == "realloc"
                               else "max", self.worst_none)
            if v is not None:
                f.append(("worst_none_%s_insns" % fn, str(v)))
        for fn, e in (self.checks_cost or {}).items():
            f.append(("checks_cost_%s_insns" % fn, str(e["max"])))
        for r in self.min_region:
            f.append(("min_region_%dbit" % (8 * int(r["ptr_bytes"])),
                      r["bytes"]))
        for fn in ["alloc", "free"]:
            v = self.mean_max(fn)
            if v is not None:
                f.append(("mean_%s_insns" % fn, "%.1f" % v))
        for r in self.overhead:
            if r["workload"] == "W1":
                f.append(("w1_overhead_bytes_per_block", r["per_block"]))
        return f


METHOD = """\
## Method

**What is measured.** Every workload is an op list generated first from a
fixed seed by the benchmark's own PRNG (splitmix64), then replayed
identically against each allocator through a small adapter
(`bench/adapter.h`: init, alloc, aligned_alloc, free, realloc). An op names
a *slot*, not a pointer; when an allocation fails in one allocator its slot
stays empty and a later free or realloc of that slot is skipped, so every
allocator executes the same list. Each block gets an 8-byte token derived
from its slot, checked before it is freed or resized; every adapter checks
the alignment of every block it returns; kheap's heap is validated
(`sys_heap_validate`) after each run. Any failure of kheap aborts the run;
a peer's misaligned block is counted instead and that peer's figure for
the workload is reported as invalid (the others are still measured).

**Allocators compared.** kheap; glibc's malloc as the process uses it
(`malloc`, `posix_memalign`, `realloc`, `free`); jemalloc (Debian's
libjemalloc2: `malloc`, `posix_memalign`, `realloc`, `free` looked up in
the library itself); mimalloc (Debian's libmimalloc2.0: `mi_malloc`,
`mi_malloc_aligned`, `mi_realloc`, `mi_free`). jemalloc and mimalloc are
loaded with `dlopen(RTLD_LOCAL)` (jemalloc also `RTLD_DEEPBIND`), never
linked: Debian builds both with unprefixed `malloc`, and linked either
would become the whole process's malloc, glibc's figures included
(docs/design.md, *Benchmarks*). scripts/bench starts the benchmark with
`GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384`, without which glibc
cannot dlopen jemalloc (initial-exec TLS). A library that is missing or
fails to load is named in the report and the others are measured as usual.

**Workloads.** Every op list comes from `bench/workload_gen.c`, the
generator the Cortex-M bench images use too (so the x86-64 and Cortex-M
figures run the same op sequences): integer arithmetic only, log-uniform
sizes in 16.16 fixed point, the same ops on every machine. "Live near
half" means: while the live requested bytes are below half the region, 2
of 3 ops allocate, otherwise 2 of 3 ops free a random live block.

| workload | region | requests | ops |
| --- | --- | --- | --- |
| W1 small | 64 KiB | uniform 8..128 B, live near half | 2,000,000 |
| W2 mixed | 1 MiB | log-uniform 16 B..16 KiB, live near half | 1,000,000 |
| W3 fill-to-failure | 256 KiB | log-uniform 8 B..4 KiB, rising pressure (below) | to first failure, then 100,000 |
| W4 aligned | 256 KiB | uniform 8..512 B, every request aligned to 8..256 (powers of two, uniform), live near half | 1,000,000 |
| W5 scaling | 16 KiB, 256 KiB, 4 MiB, 64 MiB | W2's pattern; filled to the live target untimed, then timed | 1,000,000 per size |
| W6 realloc-heavy | 256 KiB | log-uniform 16 B..4 KiB; half of all ops resize a random live block to its size times 2^u, u uniform in [-2, 2] (a quarter to four times, clamped to 16 B..4 KiB): shrinks, small grows that can stay in place, large grows that move; the other half allocate and free, live near half | 1,000,000 |
| mixed (instruction counts) | 16 KiB..64 MiB | W2's sizes; 25% of allocations aligned to 16..512; 10% of ops resize a live block of at most 2 KiB to 16 B..2 KiB | fill, then measured ops |

**W3.** Op *i* allocates with probability p(i) = 0.5 + 0.1 * min(1, i/10000)
and otherwise frees a random live block (chosen from the allocator's own
live list with a random number from the op list), so the live set grows
slowly with lots of churn until the first allocation fails. Utilization at
that moment = live requested bytes / region bytes (headers, rounding and
the control block count as overhead). The same rule then runs 100,000 more
ops at p = 0.6: steady-state utilization is the mean over those ops, and
the success share is the fraction of allocation attempts that succeed (by
count and by requested bytes; by count it is largely fixed by p, since in
a steady state successful allocations balance frees). 20 seeds. Only
region-bounded allocators take part: glibc, jemalloc and mimalloc take
memory from the kernel as they need it and never fail here; section 3 says
for each why it has no fixed-region figure. Two O(n) reference
policies (address-ordered best fit and first fit, `bench/adapter_ref.c`)
run the same op lists to show what the workload itself allows.

**Time.** ns/op = CPU time of the benchmark thread during the replay
(`CLOCK_THREAD_CPUTIME_ID`: user and kernel time, page faults included) /
ops, including the replay loop itself (an indirect call through the
adapter, token store and check) which is the same for every allocator. CPU
time rather than wall time because the machines are shared: wall time also
counts the time the benchmark waits while other processes run on its CPU,
and that lands on whichever allocator's round it happens in (under load,
wall-clock medians were 2x the CPU-time ones while the CPU-time rounds of
one allocator stayed within a few percent). The wall-clock medians are in
the raw results (`ns_wall_median`). Each
workload runs one untimed warm-up round and then R rounds (11 at full
depth, 3 in quick mode) interleaved: kheap, glibc, jemalloc, mimalloc,
kheap, glibc, ... The tables give each allocator's median round and the
ratio of medians to kheap *in the same run*: absolute ns/op on these
machines move by 15-40% between runs, same-run ratios by under 10%.
kheap's region is pre-faulted; the peers keep freed memory mapped between
rounds (glibc: `M_TRIM_THRESHOLD` raised; jemalloc: `dirty_decay_ms` and
`muzzy_decay_ms` -1 through `mallctl`; mimalloc: `MIMALLOC_ALLOW_DECOMMIT=0`;
nothing else changed), so nobody pays page faults in timed rounds. The
peers are not region-bounded: they serve the same requests from their own
heaps, with thread caches and no size limit, so they never fail a request
that kheap's region cannot hold. The process is pinned to one CPU.

**Instructions per call** are counted, not timed, on x86-64 with kheap's
`release` preset build (`-O2 -DNDEBUG`, core asserts off; the benchmark
links the preset's `kheap_core`, with listeners compiled in and none
registered). A figure is the instructions executed from the called
function's first instruction through its final `ret`, callees included
(a moving realloc's memcpy included unless stated).

- *Mean*: `valgrind --tool=callgrind` over the whole mixed workload
  (fill phase included); inclusive cost of the calls the replay loop makes
  to each function divided by their number (`bench/callgrind_summary.py`).
- *Every allocator* (section 2, last table): callgrind over the first
  ops of W1, W2, W4 and W6 (`kheap_bench replay`; 200,000 ops at full
  depth, fill phase included), every call made through a trampoline of
  its own (`call_alloc`, ...) that calls the adapter. The figure is the
  inclusive cost of the calls the adapter makes to anything but its
  alignment check, per call (`callgrind_summary.py --lib`): what the
  allocator executed (glibc's through a PLT stub, one jump), a moving
  realloc's copy included. Library start-up happens before the replay.
- *Worst single call*: perf counters are not available on these machines,
  so `kheap_bench worst` forks the workload as a ptrace child. The ops up
  to the fill (the generator's live set first at its target, the rule the
  Cortex-M images use) run at full speed; every measured call is bracketed by two `int3`
  instructions, and the tracer single-steps from the first to the second,
  counting one step per instruction. The bracketing wrapper's own
  instructions are calibrated on an empty function with the same signature
  and a known 2-instruction body and subtracted (callgrind's means and the
  stepper's means agree to a fraction of an instruction). The max, the
  99.9th percentile and the mean are over every measured call; the op that
  produced the max is named so it can be replayed. memcpy runs in glibc,
  outside the executable, and is counted separately, so realloc is given
  with and without the copy; resized blocks are at most 2 KiB and
  scripts/bench raises glibc's `rep movsb` threshold to 64 KiB
  (`GLIBC_TUNABLES`), so the copy runs as a vector loop (a single-stepped
  `rep movsb` traps once per byte). Realloc calls that ran nothing
  outside the executable resized in place. Tracer and child are pinned to
  one CPU (on these VMs single-stepping is then about five times faster).
  The same runs of a build at hardening level NONE give BASIC's cost per
  call (`--calls FILE`: every call's count, compared call by call).
- The point of running at 16 KiB..64 MiB: the worst case must not grow with
  the heap. 16 KiB and 256 KiB heaps use 4-byte headers, 4 MiB and 64 MiB
  8-byte headers (`SYS_HEAP_SMALL_REGION_MAX_BYTES`), so compare within a
  format first.

**Metadata.** Header bytes per block from `sys_heap_header_bytes()`; the
minimum block as the distance between two 1-byte blocks split from a fresh
heap; the control block as region bytes minus `free_bytes` right after
`sys_heap_init()` (the control block, alignment slack and the end
sentinel); per-block overhead as allocated minus requested bytes over the
live blocks at the end of W1 and W2 (header plus rounding to 8 bytes).
For every allocator alike: the minimum block is the smallest distance
between 64 one-byte blocks allocated in a row; the in-band bytes are that
minimum minus the usable size of a one-byte block (the header between
blocks); overhead per block at the end of W1 and W2 is the usable size
(`malloc_usable_size`, `mi_usable_size`, `sys_heap_usable_size`) minus the
request, plus the in-band bytes. Metadata kept out of band (jemalloc's and
mimalloc's slab and page descriptors) is not in these figures.

**Code size** is scripts/codesize's (*Code size per architecture and
configuration*); the Cortex-M worst case, the cost of the checks there and
the 32-bit bookkeeping are scripts/bench-cortexm's (their sections below).
"""


def render(res):
    m = res.machine
    out = []
    w = out.append
    w("# kheap performance")
    w("")
    w("<!-- Generated by scripts/bench from bench/report.py. Do not edit by "
      "hand: edit the template in bench/report.py and re-run "
      "./scripts/bench. -->")
    w("")
    w("Measured %s on commit `%s`%s, %s mode. Reproduce with "
      "`./scripts/bench` (full, about 15 minutes on 2 cores, the Cortex-M "
      "counts and the code size included; rewrites this file, its plots and "
      "`bench/results/`) or `./scripts/bench --quick` (about 5 minutes, "
      "prints the figures only)." % (
          m.get("date", "?"), m.get("commit", "?"),
          " (with uncommitted changes)" if m.get("dirty") == "yes" else "",
          m.get("mode", "?")))
    w("")

    # --- headline: bench/targets.py's section, kept or filled in later --
    w("<!-- BEGIN targets (generated by bench/targets.py from "
      "bench/results/*.json; do not edit by hand) -->")
    w("## Headline: the targets")
    w("")
    w("Not generated yet: `python3 bench/targets.py --write-docs "
      "docs/performance.md`.")
    w("<!-- END targets -->")
    w("")

    # --- machine --------------------------------------------------------
    w("## Machine")
    w("")
    w("| | |")
    w("| --- | --- |")
    for k in ["cpu", "cpus", "kernel", "gcc", "glibc", "valgrind",
              "arm-none-eabi-gcc", "newlib", "libjemalloc2",
              "libmimalloc2.0", "python3-matplotlib"]:
        if k in m:
            w("| %s | %s |" % (k, m[k]))
    w("")
    w(METHOD)

    # --- time ----------------------------------------------------------
    w("## 1. Time per operation")
    w("")
    names = res.allocators()
    others = [n for n in names if n != "kheap"]
    if res.unavailable:
        for r in res.unavailable:
            w("**%s was not measured in this run**: %s." % (
                r["alloc"], r.get("reason", "no reason given")))
        w("")
    versions = []
    for pkg, name in [("libjemalloc2", "jemalloc"),
                      ("libmimalloc2.0", "mimalloc")]:
        if name in names and m.get(pkg) and m[pkg] != "not installed":
            versions.append("%s: Debian %s %s" % (name, pkg, m[pkg]))
    if versions:
        w("Peers: glibc as in *Machine*; " + "; ".join(versions) + ".")
        w("")
    w("### kheap against glibc (same run)")
    w("")
    w("| workload | kheap ns/op | glibc ns/op | kheap / glibc (median "
      "rounds) | kheap / glibc (paired) |")
    w("| --- | --- | --- | --- | --- |")
    for wl, k, g, ratio, paired in res.vs_glibc():
        if ratio is None:
            w("| %s | - | - | not measured | - |" % wl)
            continue
        w("| %s | %s | %s | %.3f | %.3f |" % (
            wl, k["ns_median"], g["ns_median"], ratio, paired))
    w("")
    w("The headline judges the median-round ratio against its limit. "
      "With same-run ratios moving by up to 10% between runs, a ratio "
      "within 0.10 of 1.00 can flip between runs.")
    w("")
    w("### ns/op")
    w("")
    hdr = "| workload | region | timed ops |"
    sep = "| --- | --- | --- |"
    for n in names:
        hdr += " %s |" % n
        sep += " --- |"
    w(hdr)
    w(sep)

    def time_cell(r, text):
        bad = res.invalid(r)
        if not r:
            return "-"
        if bad:
            return ("invalid (%d misaligned blocks over all rounds; "
                    "measured %s)" % (bad, text))
        return text

    for wl in res.workloads():
        k = res.time_rec(wl, "kheap")
        if not k:
            continue
        row = "| %s | %s | %s |" % (wl, human(k["region"]),
                                     "{:,}".format(int(k["ops"])))
        for n in names:
            r = res.time_rec(wl, n)
            row += " %s |" % time_cell(r, r["ns_median"] if r else "")
        w(row)
    w("")
    if "ns_per_op.png" in res.plots:
        w("![ns/op per allocator and workload](img/ns_per_op.png)")
        w("")
    if others:
        w("### Ratio to kheap (same run)")
        w("")
        w("Other allocator's ns/op over kheap's: below 1 the other "
          "allocator is faster. First the ratio of the median rounds, in "
          "brackets the median of the per-round ratios (*paired*).")
        w("")
        hdr = "| workload |"
        sep = "| --- |"
        for o in others:
            hdr += " %s / kheap |" % o
            sep += " --- |"
        w(hdr)
        w(sep)
        for wl in res.workloads():
            if not res.time_rec(wl, "kheap"):
                continue
            row = "| %s |" % wl
            for o in others:
                r = res.time_rec(wl, o)
                row += " %s |" % time_cell(r, "%s (%s)" % (
                    r["ratio"], r["paired_ratio"]) if r else "")
            w(row)
        w("")
    w("### Failed requests and reallocs")
    w("")
    w("kheap's failed allocations and reallocs are requests its region "
      "could not hold at that moment (the op list is the same for every "
      "allocator; the peers have no region limit and never fail):")
    w("")
    w("| workload | failed allocs | failed reallocs |")
    w("| --- | --- | --- |")
    for wl in res.workloads():
        k = res.time_rec(wl, "kheap")
        if k:
            w("| %s | %s | %s |" % (wl, k.get("failed_allocs", "?"),
                                     k.get("failed_reallocs", "?")))
    w("")
    for wl in res.workloads():
        recs = [res.time_rec(wl, n) for n in names]
        recs = [r for r in recs if r and int(r.get("reallocs", 0))]
        if not recs:
            continue
        w("%s, per allocator: successful reallocs (last round) and the "
          "share that returned a new address (moved and copied) rather "
          "than resizing in place:" % wl)
        w("")
        w("| allocator | reallocs | moved | in place |")
        w("| --- | --- | --- | --- |")
        for r in recs:
            n, moved = int(r["reallocs"]), int(r["realloc_moved"])
            w("| %s | %s | %.1f%% | %.1f%% |" % (
                r["alloc"], "{:,}".format(n), 100.0 * moved / n,
                100.0 * (n - moved) / n))
        w("")
    if res.time:
        w("Rounds per allocator: %s (median shown). W5's live set is "
          "spread over the whole region, so at the larger sizes ns/op also "
          "measures cache and TLB misses, for every allocator; the "
          "instruction counts in section 2 are the cache-independent "
          "measure of how kheap's work grows." %
          res.time[0].get("rounds", "?"))
    w("")

    # --- instructions ----------------------------------------------------
    w("## 2. Instructions per call (x86-64, -O2)")
    w("")
    w("Mixed workload. *mean (cg)*: callgrind over every call; *mean*, "
      "*p99.9*, *max*: the single-stepper over the measured calls after "
      "the fill.")
    w("")
    w("| heap | header | function | calls (cg) | mean (cg) | measured calls "
      "| mean | p99.9 | max | max at |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in HEAP_SIZES:
        hdr_b = "4 B" if size <= 262144 else "8 B"
        for fn in FUNCS:
            c = res.calls.get((size, fn))
            r = res.worst.get((size, fn))
            if not c and not r:
                continue
            row = "| %s | %s | %s | %s | %s |" % (
                human(size), hdr_b, fn, c["calls"] if c else "-",
                c["mean"] if c else "-")
            if r:
                row += " %s | %s | %s | %s | `%s` |" % (
                    r["calls"], r["mean"], r["p999"], r["max"],
                    r["max_at"])
            else:
                row += " - | - | - | - | - |"
            w(row)
            if fn == "realloc" and r and "max_excl_copy" in r:
                w("| %s | %s | realloc, memcpy excluded | | | %s | %s | | "
                  "%s | `%s` |" % (human(size), hdr_b, r["calls"],
                                   r["mean_excl_copy"], r["max_excl_copy"],
                                   r["max_excl_copy_at"]))
    w("")
    runs = []
    for size in HEAP_SIZES:
        r = res.worstrun.get(size)
        if r:
            runs.append("%s: %s fill ops, %s measured ops, %s s" % (
                human(size), r["warm_ops"], r["measured_ops"], r["seconds"]))
    if runs:
        w("Single-step runs: " + "; ".join(runs) + ". `max at` names the "
          "op of the mixed workload (`kheap_bench worst --heap SIZE` "
          "replays it).")
        w("")
    # realloc without the copy: the copy's length is the workload's.
    def key_of(fn):
        return "max_excl_copy" if fn == "realloc" else "max"
    growth = []
    for fn in FUNCS:
        vals = [int(res.worst[(s, fn)][key_of(fn)]) for s in HEAP_SIZES
                if (s, fn) in res.worst]
        if len(vals) == len(HEAP_SIZES):
            growth.append("%s %s" % (fn if fn != "realloc" else
                                     "realloc without the copy",
                                     " / ".join(str(v) for v in vals)))
    if growth:
        w("Worst case by heap size (16 KiB / 256 KiB / 4 MiB / 64 MiB): " +
          "; ".join(growth) + ".")
        w("")
        deltas = []
        for fn in FUNCS:
            m = {s: int(res.worst[(s, fn)][key_of(fn)]) for s in HEAP_SIZES
                 if (s, fn) in res.worst}
            if len(m) == len(HEAP_SIZES):
                deltas.append(m[HEAP_SIZES[1]] - m[HEAP_SIZES[0]])
                deltas.append(m[HEAP_SIZES[3]] - m[HEAP_SIZES[2]])
        if deltas:
            worst_growth = max(deltas)
            w("Growth within a header format (256 KiB over 16 KiB, 64 MiB "
              "over 4 MiB): at most %+d instructions, %s." % (
                  worst_growth,
                  "i.e. none beyond the differences between sampled ops"
                  if worst_growth <= 10 else
                  "**the worst case grows with the heap**"))
            w("")
    render_levels(res, w)
    w("### Where the instructions go")
    w("")
    if res.line_binary:
        w("The worst call of each function, split into the parts of the "
          "algorithm its instructions belong to. Each instruction is "
          "attributed through its inline chain (`addr2line -i` on "
          "`kheap_bench_lines`, a `-g` build whose `.text` report.py "
          "checked to be byte-identical to the measured binary) to the "
          "nearest helper that names a part: *misuse checks* "
          "(`check_live_block`), *size class*, *probe + bitmap search* "
          "(`take_chunk`), *list push* and *list unlink* (free lists and "
          "their bitmaps), *headers* (split, merge, header writes), "
          "*counters* (allocated bytes and watermark), *request size* "
          "(bytes to chunks, alignment decoding). *Entry and exit* is the "
          "rest: NULL and magic checks, format dispatch, register saves "
          "and restores, the listener test, return.")
    else:
        w("The worst call of each function, split by the function symbol "
          "its instructions belong to (static helpers that the compiler "
          "inlined count in their caller; wrapper instructions removed).")
    w("Read a path instruction by instruction with `kheap_bench worst "
      "--heap SIZE --trace OP` and objdump.")
    w("")
    w("| heap | function | worst | split |")
    w("| --- | --- | --- | --- |")
    for size in HEAP_SIZES:
        for fn in FUNCS:
            split = res.path_parts(size, fn) or res.path_split(size, fn)
            r = res.worst.get((size, fn))
            if split and r:
                w("| %s | %s | %s | %s |" % (
                    human(size), fn, r["max"],
                    ", ".join("%s %d" % (n, c) for n, c in split)))
    w("")
    w("Mean instructions per call by part (callgrind, all calls; *self* is "
      "the function's own code with everything inlined into it):")
    w("")
    w("| heap | function | parts |")
    w("| --- | --- | --- |")
    for size in HEAP_SIZES:
        for fn in FUNCS:
            parts = res.splits.get((size, "sys_heap_" + fn))
            if parts:
                w("| %s | %s | %s |" % (human(size), fn, ", ".join(
                    "%s %s" % ("self" if p == "SELF" else p, v)
                    for p, v in parts)))
    w("")

    render_replay_calls(res, w)

    # --- W3 --------------------------------------------------------------
    w("## 3. W3 utilization (256 KiB, 8 B..4 KiB, rising pressure)")
    w("")
    if res.w3sum:
        w("Steady state: %s ops after the first failure. `ref-bestfit` and "
          "`ref-firstfit` are not allocators to use but O(n) reference "
          "policies over the same region with kheap's small-heap block "
          "format (4-byte header, 8-byte granularity, immediate "
          "coalescing; `bench/adapter_ref.c`): address-ordered best fit "
          "(the smallest free block that fits, lowest address among equals) "
          "and first fit. They keep their free lists outside the region, "
          "so they have the whole region while kheap loses its control "
          "block (about 0.1%%). The distance from a reference to 100%% is "
          "what the workload costs any allocator with this block format; "
          "the distance from kheap to the best fit is what kheap's "
          "constant-time policy costs." % "{:,}".format(
              int(res.w3sum[0].get("steady_ops", 0))))
        w("")
        w("| allocator | seeds | first failure: mean | min | max | steady "
          "state: mean utilization | allocations succeeding (count) | "
          "(bytes) |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for s in res.w3sum:
            w("| %s | %s | %s%% | %s%% | %s%% | %s%% | %s%% | %s%% |" % (
                s["alloc"], s["seeds"], s["util_first_mean_pct"],
                s["util_first_min_pct"], s["util_first_max_pct"],
                s["steady_util_mean_pct"], s["steady_success_mean_pct"],
                s["steady_success_bytes_mean_pct"]))
        w("")
    if res.w3ramps:
        refs = []
        for ramp in sorted(res.w3ramp_all):
            for a in res.w3ramp_all[ramp]:
                if a != "kheap" and a not in refs:
                    refs.append(a)
        w("How the figure depends on the pressure ramp (the ramp length "
          "sets how often the heap turns over before it fills; 1 = p is "
          "0.6 from the first op; the headline uses 10,000). Mean "
          "utilization at first failure, and steady state:")
        w("")
        hdr = "| ramp (ops) | kheap: first failure | min | max | steady |"
        sep = "| --- | --- | --- | --- | --- |"
        for a in refs:
            hdr += " %s: first failure | steady |" % a
            sep += " --- | --- |"
        w(hdr)
        w(sep)
        for r in res.w3ramps:
            ramp = int(r["ramp_ops"])
            row = "| %s | %s%% | %s%% | %s%% | %s%% |" % (
                "{:,}".format(ramp), r["util_first_mean_pct"],
                r["util_first_min_pct"], r["util_first_max_pct"],
                r["steady_util_mean_pct"])
            for a in refs:
                x = res.w3ramp_all.get(ramp, {}).get(a)
                row += " %s | %s |" % (
                    (x["util_first_mean_pct"] + "%") if x else "-",
                    (x["steady_util_mean_pct"] + "%") if x else "-")
            w(row)
        w("")
        w("With 20 seeds the first-failure mean moves by about half a "
          "point between policies that are in fact equal (the per-seed "
          "spread is 80-97%); comparisons of policy variants in "
          "docs/design.md use 200 seeds (`kheap_bench util --seeds 200`).")
        w("")
    if "w3_utilization.png" in res.plots:
        seed = res.w3trace[0]["seed"] if res.w3trace else "?"
        w("Utilization over time, seed %s: live requested bytes / region "
          "bytes every 250 ops, up to the first failed allocation (marked) "
          "and through the steady state after it." % seed)
        w("")
        w("![W3 utilization over time](img/w3_utilization.png)")
        w("")
    if res.w3skip:
        w("No W3 figure for the allocators that are not region-bounded:")
        w("")
        for s in res.w3skip:
            w("- *%s*: %s." % (s["alloc"], s.get("reason", "").rstrip(".")))
        w("")
    kheap_seeds = [r for r in res.w3 if r["alloc"] == "kheap"]
    best = {r["seed"]: r for r in res.w3 if r["alloc"] == "ref-bestfit"}
    if kheap_seeds:
        w("<details><summary>Per seed</summary>")
        w("")
        w("| seed | utilization at first failure | ref-bestfit | ops to "
          "failure | failed request | live blocks | largest allocatable "
          "then | steady utilization |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in kheap_seeds:
            b = best.get(r["seed"])
            w("| %s | %s%% | %s | %s | %s B | %s | %s B | %s%% |" % (
                r["seed"], r["util_first_pct"],
                (b["util_first_pct"] + "%") if b else "-",
                r["ops_to_failure"], r["fail_size"], r["live_blocks"],
                r["largest_free"], r["steady_util_pct"]))
        w("")
        w("</details>")
        w("")

    # --- metadata ----------------------------------------------------------
    w("## 4. Metadata")
    w("")
    w("| region | header per block | minimum block (usable) | control block "
      "and slack | share of region | largest block after init |")
    w("| --- | --- | --- | --- | --- | --- |")
    for r in res.meta:
        w("| %s | %s B | %s B (%s B) | %s B | %s%% | %s B |" % (
            human(r["region"]), r["header_bytes"], r["min_block_bytes"],
            r["min_usable_bytes"], r["control_bytes"],
            "%.3f" % float(r["control_pct"]), r["max_alloc_after_init"]))
    w("")
    if res.overhead:
        w("Overhead per live block at the end of a run (header + rounding "
          "to 8 bytes):")
        w("")
        w("| workload | live blocks | requested | allocated | overhead per "
          "block |")
        w("| --- | --- | --- | --- | --- |")
        for r in res.overhead:
            w("| %s | %s | %s B | %s B | %s B |" % (
                r["workload"], r["live_blocks"], r["requested"],
                r["allocated"], r["per_block"]))
        w("")

    if res.allocmeta:
        w("Every allocator (method above; the same op lists). *In-band*: "
          "bytes between blocks (header); *rounding*: usable minus "
          "requested bytes; *per block*: the two together. Out-of-band "
          "metadata is not counted.")
        w("")
        w("| allocator | minimum block | usable in a 1-byte block | in-band "
          "bytes per block | W1: rounding per block | W1: per block | W2: "
          "rounding per block | W2: per block |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        by = {}
        for r in res.allocmeta:
            by.setdefault(r["alloc"], {})[r["workload"]] = r
        for alloc, d in by.items():
            w1 = d.get("W1", {})
            w2 = d.get("W2", {})
            mins = sorted({r["min_block"] for r in d.values()}, key=int)
            usable = sorted({r["usable_1"] for r in d.values()}, key=int)
            band = sorted({r["in_band"] for r in d.values()}, key=int)
            note = " (64 KiB / 1 MiB region)" if len(mins) > 1 else ""
            w("| %s | %s B%s | %s B | %s B | %s B | %s B | %s B | %s B |" % (
                alloc, " / ".join(mins), note, " / ".join(usable),
                " / ".join(band), w1.get("rounding_per_block", "-"),
                w1.get("per_block", "-"), w2.get("rounding_per_block", "-"),
                w2.get("per_block", "-")))
        w("")

    render_control(res, w)

    # --- reproduce -----------------------------------------------------------
    w("## Reproduce")
    w("")
    w("```")
    w("./scripts/bench            # everything, rewrites docs/performance.md")
    w("./scripts/bench --quick    # reduced counts, figures only "
      "(--write-docs to write)")
    w("cmake --preset release && cmake --build --preset release "
      "--target kheap_bench")
    w("build/release/bench/kheap_bench time --only W1     # one workload")
    w("GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 \\")
    w("  build/release/bench/kheap_bench time --only W6 --alloc "
      "kheap,jemalloc")
    w("valgrind --tool=callgrind build/release/bench/kheap_bench replay "
      "--alloc glibc --workload W6 --ops 200000")
    w("build/release/bench/kheap_bench worst --heap 64M --ops 5000")
    w("build/release/bench/kheap_bench control       # bookkeeping, 64-bit")
    w("./scripts/bench-cortexm     # Cortex-M worst case, checks' cost, "
      "bookkeeping (32-bit)")
    w("./scripts/codesize          # code size")
    w("./scripts/hardening-cost --write-docs docs/performance.md  "
      "# hardening levels, x86-64")
    w("./scripts/bench-tools       # the kheap tool on large traces")
    w("python3 bench/targets.py --write-docs docs/performance.md  # headline")
    w("valgrind --tool=callgrind build/release/bench/kheap_bench calls "
      "--heap 4M")
    w("```")
    w("")
    w("Raw results of the last run: `build/bench/<mode>/`.")
    w("")
    return "\n".join(out)


def render_replay_calls(res, w):
    """Section 2's last table: every allocator under callgrind."""
    if not res.replay_lib:
        return
    names = []
    for n in res.allocators() + sorted(a for a, _ in res.replay_lib):
        if n not in names and any(a == n for a, _ in res.replay_lib):
            names.append(n)
    w("### Every allocator (callgrind)")
    w("")
    alloc0, wl0 = next(iter(res.replay_lib))
    rec = records(os.path.join(res.dir, "cgreplay-%s-%s.log" % (
        alloc0, wl0)), "REPLAY")
    ops = " the first {:,} ops of".format(int(rec[0]["ops"])) if rec else ""
    wrap = []
    for key, fns in res.replay_lib.items():
        for fn, lib in fns.items():
            tot = res.replay_calls.get(key, {}).get(fn)
            if tot and int(lib["calls"]):
                wrap.append(float(tot["mean"]) - float(lib["mean"]))
    w("Mean instructions the allocator itself executes per call, "
      "over%s each workload (`kheap_bench replay` under callgrind, method "
      "above), the cost of the library call made by the adapter: a "
      "moving realloc's copy included; the benchmark's trampoline and "
      "adapter (indirect call, alignment check%s) excluded." % (
          ops, ": %.0f to %.0f instructions per call" % (
              min(wrap), max(wrap)) if wrap else ""))
    w("")
    hdr = "| workload | function |"
    sep = "| --- | --- |"
    for n in names:
        hdr += " %s |" % n
        sep += " --- |"
    w(hdr)
    w(sep)
    for wl in REPLAY_WORKLOADS:
        for fn in FUNCS:
            cells = []
            any_calls = False
            for n in names:
                r = res.replay_lib.get((n, wl), {}).get(fn)
                if r and int(r["calls"]):
                    any_calls = True
                    bad = res.replay_misaligned(n, wl)
                    cells.append("%s%s" % (
                        r["mean"], " (invalid: %d misaligned)" % bad
                        if bad else ""))
                else:
                    cells.append("-")
            if any_calls:
                w("| %s | %s | %s |" % (wl, fn, " | ".join(cells)))
    w("")


def render_levels(res, w):
    """Section 2: BASIC and NONE side by side, and what BASIC's checks
    cost call by call."""
    if not res.worst_none:
        return
    w("### Hardening: BASIC (default) and NONE")
    w("")
    w("The same single-step runs of a build at "
      "`-DKHEAP_HARDENING_LEVEL=0` (NONE; `build/release-h0`). Worst single "
      "call (realloc without the copy), and what BASIC's checks cost: each "
      "measured call of the BASIC build minus the same call of the NONE "
      "build (the two make the same calls in the same order), max (min, "
      "mean) over every call at every heap size.")
    w("")
    w("| function | BASIC worst | NONE worst | BASIC - NONE per call: max "
      "(min, mean) |")
    w("| --- | --- | --- | --- |")
    for fn in FUNCS:
        key = "max_excl_copy" if fn == "realloc" else "max"
        c = (res.checks_cost or {}).get(fn)
        w("| %s | %s | %s | %s |" % (
            fn, fmt(res.worst_max(fn, key)),
            fmt(res.worst_max(fn, key, res.worst_none)),
            "%d (%d, %.1f)" % (c["max"], c["min"], c["mean"]) if c
            else "-"))
    w("")


def render_control(res, w):
    """Section 4: bookkeeping on this host's pointer width."""
    if not res.min_region:
        return
    bits = 8 * int(res.min_region[0]["ptr_bytes"])
    control = dict(res.control)
    w("Bookkeeping, %d-bit (`kheap_bench control`, "
      "`bench/heap_bookkeeping.c`, defined in *Bookkeeping, 32-bit* "
      "below): the minimum region is %s B; control (region minus the "
      "largest single block on a fresh heap) at some of the %d sizes of "
      "the sweep (all in `bench/results/x86.json`):" % (
          bits, res.min_region[0]["bytes"], len(res.control)))
    w("")
    sizes = [r for r in CONTROL_SIZES if r in control]
    w("| region | " + " | ".join(human(r) for r in sizes) + " |")
    w("|" + " --- |" * (len(sizes) + 1))
    w("| control | " + " | ".join("%d B" % control[r] for r in sizes) +
      " |")
    w("")


def keep_marked_sections(path, text):
    """Sections of the existing file that other scripts own, between
    <!-- BEGIN name ... --> and <!-- END name -->, survive regeneration:
    in place of the placeholder of the same name in text, if it has one,
    else before "## Reproduce"."""
    if not os.path.exists(path):
        return text
    with open(path, encoding="utf-8") as f:
        old = f.read()
    for name, block in docsection.sections(old).items():
        text = docsection.replace_text(text, name, block)
    return text


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    args = sys.argv[2:]
    write = None
    json_path = None
    bin_dir = None
    while args:
        a = args.pop(0)
        if a == "--write-docs" and args:
            write = args.pop(0)
        elif a == "--json" and args:
            json_path = args.pop(0)
        elif a == "--bin-dir" and args:
            bin_dir = args.pop(0)
        else:
            sys.exit(__doc__)
    res = Results(sys.argv[1], bin_dir)
    for name, value in res.figures():
        print("FIGURE %s %s" % (name, value))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(res.x86_json(), f, indent=1)
            f.write("\n")
        print("bench: wrote %s" % json_path, file=sys.stderr)
    if write:
        text = keep_marked_sections(write, render(res))
        tmp = write + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, write)
        print("bench: wrote %s" % write, file=sys.stderr)


if __name__ == "__main__":
    main()

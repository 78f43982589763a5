#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The analytical worst case: the most instructions any path through the
compiled code of a sys_heap call can execute, from the linked image's
disassembly (arm-none-eabi-objdump), for Thumb-1 (ARMv6-M) and Thumb-2
(ARMv7-M) code.

    wcet_bound.py IMAGE.elf [--objdump arm-none-eabi-objdump] [--map MAP]

What is counted is what the kheapcount plugin counts: every instruction
executed from the function's first instruction through its final return,
callees included; an instruction inside an IT block counts whether or
not its condition passes (the core issues it either way, and QEMU counts
it either way).

What is analysed follows from the image, not from lists of the core's
function names kept here: the functions measured are those the bench
image's probe trampolines call (kheap_probe_<op>: bl <function>), and
everything they reach through direct calls and branches is analysed.

How: each function is a graph of instructions (edges: fall-through,
branches, conditional returns); a call costs the callee's own bound; the
bound of a function is its longest path from the entry to a return.
Paths are made finite by three rules:

- Loops. No instruction of a function with a loop runs more than
  loop_visits times per call: the one loop on a valid path of the core
  is the probe of the request's own class list, whose body runs
  SYS_HEAP_FIT_PROBES - 1 times and whose test at most
  SYS_HEAP_FIT_PROBES times; the image holds that count
  (kheap_bound_fit_probes, worst_image.c), and the rule is that count,
  at least LOOP_VISITS (2). Unrolled loops (-O2's) are straight code. A function with a loop is bounded by implicit path enumeration:
  the largest instruction count of a flow from the entry to a return
  with at most that many passes through each instruction, a linear
  program (solved with scipy; flow problems with capacities have
  integral optima, and any real path is such a flow, so the optimum is a
  bound). The functions with loops are listed with each bound ("loops"),
  and a measured call above its bound fails the measurement, so a loop
  that runs more often than the rule says does not go unnoticed.
  Loop-free functions take the exact longest path, without scipy.
- Calls to cold functions are off the path: the core marks the
  functions that valid calls never reach (misuse reports, listener
  notifications; no listener is registered in the measured image) cold,
  and GCC places a cold function in a .text.unlikely.<name> input
  section, which the image's link map shows (cold_functions()). A path
  through such a call is dropped. GCC's own hot/cold partitions
  (<name>.cold) are not pruned: they are analysed as code. GCC also puts
  a function it judges never executed there (at EXTREME, helpers only
  the validation walk calls); were one on a valid path, the bound would
  miss it, and the first measured call above the bound fails the run.
  Each bound lists the functions it left out ("pruned").
- Calls whose cost depends on the data (COPY_FUNCTIONS: the C library's
  memcpy and the memmove behind it) cost nothing here: realloc's bound is
  given without its copy, as the measured "realloc, copy excluded"
  figure is.

The bound is safe, not tight: a callee's bound is its worst path in any
context (split_used may merge with a free right neighbour in the
analysis even where its caller knows the neighbour is in use), and the
second pass of take_chunk's loop may take paths that only the first pass
can. Anything this parser does not understand (a table branch, an
indirect call or jump, a write to pc it cannot classify) on a path it
must follow is an error rather than a guess.
"""
import argparse
import collections
import math
import re
import subprocess
import sys

OPS = ("alloc", "aligned_alloc", "free", "realloc")

# The fewest passes the loop rule allows any instruction of a function
# with a loop per call (see the docstring); the image's probe count may
# raise it.
LOOP_VISITS = 2

COPY_FUNCTIONS = {"memcpy", "memmove"}

CONDITIONS = ("eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le")
RE_LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)(?:\s+(.*?))?\s*(?:@.*)?$")
RE_FUNC = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
RE_BRANCH = re.compile(r"^b(%s)?(\.n|\.w)?$" % CONDITIONS)
RE_CBZ = re.compile(r"^cbn?z$")
RE_TARGET = re.compile(r"\b([0-9a-f]+)\s+<([^>+]+)(\+0x[0-9a-f]+)?>")
RE_IT = re.compile(r"^it([te]{0,3})$")


class AnalysisError(Exception):
    pass


def base_name(name):
    """The source function of a GCC clone (foo.isra.0, foo.part.1, ...)."""
    return re.sub(r"(\.(isra|part|constprop|cold|lto_priv)(\.\d+)?)+$", "",
                  name)


class Insn:
    __slots__ = ("addr", "mnem", "ops", "next", "in_it")

    def __init__(self, addr, mnem, ops):
        self.addr = addr
        self.mnem = mnem
        self.ops = ops
        self.next = None
        self.in_it = False

    def __repr__(self):
        return "%x: %s %s" % (self.addr, self.mnem, self.ops)


def disassemble(elf, objdump="arm-none-eabi-objdump"):
    """{function name: [Insn, ...]} and {entry address: function name}."""
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", elf],
                          check=True, capture_output=True,
                          text=True).stdout
    funcs = collections.OrderedDict()
    entries = {}
    current = None
    for line in text.splitlines():
        m = RE_FUNC.match(line)
        if m:
            current = m.group(2)
            funcs[current] = []
            entries[int(m.group(1), 16)] = current
            continue
        if current is None:
            continue
        m = RE_LINE.match(line)
        if not m:
            continue
        mnem = m.group(2)
        # Literal pools and padding: data, never reached by a path.
        if mnem.startswith(".") or mnem == "...":
            continue
        funcs[current].append(Insn(int(m.group(1), 16), mnem,
                                   (m.group(3) or "").strip()))
    for insns in funcs.values():
        for a, b in zip(insns, insns[1:]):
            a.next = b.addr
        mark_it_blocks(insns)
    return funcs, entries


def mark_it_blocks(insns):
    """Flag the instructions an IT instruction makes conditional."""
    pending = 0
    for insn in insns:
        if pending:
            insn.in_it = True
            pending -= 1
            continue
        m = RE_IT.match(insn.mnem)
        if m:
            pending = 1 + len(m.group(1))


def strip_condition(mnem):
    """The mnemonic without an IT condition suffix or width qualifier."""
    base = mnem.split(".")[0]
    m = re.match(r"^(.*?)(%s)$" % CONDITIONS, base)
    if m and m.group(1) in ("pop", "bx", "ldmia", "ldm", "ldr", "b", "mov"):
        return m.group(1)
    return base


def is_return(insn):
    base = strip_condition(insn.mnem)
    ops = insn.ops.replace(" ", "")
    if base == "bx":
        if ops == "lr":
            return True
        raise AnalysisError("%r: bx to a register other than lr" % insn)
    if base == "pop" and "pc" in ops:
        return True
    if base in ("ldmia", "ldm") and ops.startswith("sp!") and "pc" in ops:
        return True
    if base == "ldr" and ops.startswith("pc,[sp]"):
        return True
    return False


def writes_pc(insn):
    first = insn.ops.split(",")[0].strip()
    return first == "pc" or first.startswith("pc!")


def cold_functions(map_path):
    """The functions the link map shows in .text.unlikely.<name> input
    sections, by source name: what the source marks cold (GCC's
    partitions <name>.cold excepted)."""
    cold = set()
    with open(map_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^\s*\.text\.unlikely\.(\S+)", line)
            if m and not re.search(r"\.cold(\.\d+)?$", m.group(1)):
                cold.add(base_name(m.group(1)))
    return cold


def roots(funcs, entries):
    """{op: function} that the bench image's probe trampolines call
    (target/bench/worst_image.c: the label kheap_probe_<op>_call is the
    bl)."""
    out = {}
    for op in OPS:
        probe = funcs.get("kheap_probe_%s_call" % op)
        if probe is None:
            continue
        m = (RE_TARGET.search(probe[0].ops)
             if probe and strip_condition(probe[0].mnem) == "bl" else None)
        if m is None or int(m.group(1), 16) not in entries:
            raise AnalysisError("kheap_probe_%s_call: expected a bl to a "
                                "function" % op)
        out[op] = entries[int(m.group(1), 16)]
    if not out:
        raise AnalysisError("the image has no kheap_probe_<op> trampolines")
    return out


class Analysis:
    def __init__(self, funcs, entries, pruned):
        self.funcs = funcs
        self.entries = entries
        self.pruned = pruned
        # The most passes through any instruction of a loop (docstring).
        self.loop_visits = LOOP_VISITS
        self.memo = {}
        self.active = set()
        # Functions whose graphs have a loop, bounded by LOOP_VISITS.
        self.loops = set()

    def callee(self, insn):
        m = RE_TARGET.search(insn.ops)
        if not m:
            raise AnalysisError("%r: no target" % insn)
        target = int(m.group(1), 16)
        return target, self.entries.get(target)

    def edges(self, fname, insn, addrs):
        """[(successor address or None for a return, extra cost,
        callee name or None)]. None as the whole result: the instruction
        starts a path that valid calls never take."""
        mnem = insn.mnem
        base = strip_condition(mnem)
        conditional_in_it = insn.in_it and base != mnem.split(".")[0]
        if RE_BRANCH.match(mnem) or (base == "b" and insn.in_it):
            target, name = self.callee(insn)
            unconditional = mnem.split(".")[0] == "b" and not insn.in_it
            if target in addrs:
                out = [(target, 0, None)]
            elif name is not None:
                # A tail call: the callee returns for us.
                if base_name(name) in self.pruned:
                    cost = None
                elif base_name(name) in COPY_FUNCTIONS:
                    cost = 0
                else:
                    cost = self.bound_of(name)
                out = [] if cost is None else [(None, cost, name)]
            else:
                raise AnalysisError("%s: %r jumps outside any function"
                                    % (fname, insn))
            if not unconditional:
                out.append((insn.next, 0, None))
            return out
        if RE_CBZ.match(mnem):
            target, _ = self.callee(insn)
            if target not in addrs:
                raise AnalysisError("%s: %r leaves the function"
                                    % (fname, insn))
            return [(target, 0, None), (insn.next, 0, None)]
        if base in ("bl", "blx"):
            if base == "blx" and not RE_TARGET.search(insn.ops):
                raise AnalysisError("%s: %r is an indirect call"
                                    % (fname, insn))
            target, name = self.callee(insn)
            if target in addrs and base == "bl":
                # A far jump: Thumb-1 (ARMv6-M) has no long unconditional
                # branch, so GCC jumps across a large function with bl
                # (the function saved lr on entry; -O2 does this).
                return [(target, 0, None)]
            if name is None:
                raise AnalysisError("%s: %r calls no function entry"
                                    % (fname, insn))
            if base_name(name) in self.pruned:
                return None
            cost = (0 if base_name(name) in COPY_FUNCTIONS
                    else self.bound_of(name))
            if cost is None:
                return None
            return [(insn.next, cost, name)]
        if base in ("tbb", "tbh"):
            raise AnalysisError("%s: %r: table branches are not supported"
                                % (fname, insn))
        if is_return(insn):
            out = [(None, 0, None)]
            if conditional_in_it:
                out.append((insn.next, 0, None))
            return out
        if writes_pc(insn) or base in ("svc", "bkpt", "udf"):
            raise AnalysisError("%s: %r: control flow not understood"
                                % (fname, insn))
        if insn.next is None:
            raise AnalysisError("%s: runs off its end at %r" % (fname, insn))
        return [(insn.next, 0, None)]

    def bound_of(self, fname):
        """The function's bound, or None if every path through it takes
        a pruned call."""
        if fname in self.memo:
            return self.memo[fname][0]
        if fname in self.active:
            raise AnalysisError("recursion through %s" % fname)
        if fname not in self.funcs:
            raise AnalysisError("no code for %s" % fname)
        self.active.add(fname)
        result = self.longest_path(fname)
        self.active.discard(fname)
        self.memo[fname] = result
        return result[0]

    def longest_path(self, fname):
        insns = self.funcs[fname]
        if not insns:
            raise AnalysisError("%s has no instructions" % fname)
        by_addr = {i.addr: i for i in insns}
        addrs = set(by_addr)
        # Edges of the instructions some path from the entry reaches.
        graph = {}
        stack = [insns[0].addr]
        while stack:
            a = stack.pop()
            if a in graph:
                continue
            e = self.edges(fname, by_addr[a], addrs)
            graph[a] = e
            for succ, _, _ in e or []:
                if succ is not None and succ not in graph:
                    stack.append(succ)
        entry = insns[0].addr
        back = back_edges(graph, entry)
        if not back:
            return self.longest_acyclic(fname, graph, entry)
        self.loops.add(fname)
        return self.longest_ipet(fname, graph, entry, self.loop_visits)

    def longest_acyclic(self, fname, graph, entry):
        """Longest path by dynamic programming over the instructions in
        reverse topological order."""
        best = {}
        choice = {}
        todo = [(entry, False)]
        while todo:
            node, expanded = todo.pop()
            if node in best:
                continue
            e = graph[node]
            if not expanded:
                todo.append((node, True))
                for succ, _, _ in e or []:
                    if succ is not None and succ not in best:
                        todo.append((succ, False))
                continue
            value = None
            pick = None
            for succ, extra, callee in e or []:
                rest = 0 if succ is None else best[succ]
                if rest is None:
                    continue
                v = 1 + extra + rest
                if value is None or v > value:
                    value, pick = v, (succ, callee, extra)
            best[node] = value
            choice[node] = pick
        total = best[entry]
        split = collections.Counter()
        node = entry
        while node is not None and total is not None:
            split[fname] += 1
            succ, callee, extra = choice[node]
            if callee is not None and extra:
                split.update(self.memo[callee][1])
            node = succ
        return total, split

    def longest_ipet(self, fname, graph, entry, visits):
        """Implicit path enumeration: the most instructions any flow from
        the entry to a return can carry when no instruction runs more
        than `visits` times; a linear program whose optimum is at least
        that of every real path (flow conservation with capacities: its
        optimum is integral), solved with scipy's HiGHS."""
        try:
            from scipy.optimize import linprog
        except ImportError:
            raise AnalysisError("%s has a loop: the analysis needs scipy "
                                "(Debian: python3-scipy)" % fname)
        nodes = [a for a, e in graph.items() if e is not None]
        index = {a: i for i, a in enumerate(nodes)}
        edges = []  # (from index, to index or None, cost, callee)
        for a in nodes:
            for succ, extra, callee in graph[a]:
                if succ is None or succ in index:
                    edges.append((index[a], None if succ is None
                                  else index[succ], 1 + extra, callee))
        n, m = len(nodes), len(edges)
        # Conservation at each instruction (in - out = -1 at the entry),
        # and one unit leaving through a return.
        a_eq = [[0.0] * m for _ in range(n + 1)]
        b_eq = [0.0] * n + [1.0]
        b_eq[index[entry]] = -1.0
        for j, (u, v, _, _) in enumerate(edges):
            a_eq[u][j] -= 1.0
            if v is None:
                a_eq[n][j] = 1.0
            else:
                a_eq[v][j] += 1.0
        # Executions of an instruction: the flow out of it.
        a_ub = [[0.0] * m for _ in range(n)]
        for j, (u, _, _, _) in enumerate(edges):
            a_ub[u][j] = 1.0
        b_ub = [float(visits)] * n
        res = linprog([-c for _, _, c, _ in edges], A_ub=a_ub, b_ub=b_ub,
                      A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                      method="highs")
        if res.status != 0:
            raise AnalysisError("%s: the path program failed: %s"
                                % (fname, res.message))
        total = int(math.ceil(-res.fun - 1e-6))
        split = collections.Counter()
        for j, (u, v, cost, callee) in enumerate(edges):
            x = int(round(res.x[j]))
            if x == 0:
                continue
            split[fname] += x
            if callee is not None and cost > 1:
                for k, c in self.memo[callee][1].items():
                    split[k] += x * c
        return total, split


def back_edges(graph, entry):
    """Edges to an instruction on the current depth-first search path."""
    back = set()
    colour = {}
    stack = [(entry, iter([s for s, _, _ in graph[entry] or []
                           if s is not None]))]
    colour[entry] = 1
    while stack:
        node, it = stack[-1]
        for succ in it:
            if colour.get(succ) == 1:
                back.add((node, succ))
            elif succ not in colour:
                colour[succ] = 1
                stack.append((succ, iter([s for s, _, _ in graph[succ] or []
                                          if s is not None])))
                break
        else:
            colour[node] = 2
            stack.pop()
    return back


def callees_of(funcs, entries, roots):
    """The functions roots reach through direct calls and jumps,
    themselves included (for memcpy: the helpers behind it, whose
    instructions are the copy too)."""
    seen = set()
    todo = [r for r in roots if r in funcs]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for insn in funcs[f]:
            base = strip_condition(insn.mnem)
            if base in ("bl", "blx", "b") or RE_BRANCH.match(insn.mnem):
                m = RE_TARGET.search(insn.ops)
                if m and int(m.group(1), 16) in entries:
                    todo.append(entries[int(m.group(1), 16)])
    return seen


def fit_probes(elf, objdump="arm-none-eabi-objdump"):
    """The word kheap_bound_fit_probes of the image (SYS_HEAP_FIT_PROBES,
    target/bench/worst_image.c), or None if it has none."""
    table = subprocess.run([objdump, "-t", elf], check=True,
                           capture_output=True, text=True).stdout
    for line in table.splitlines():
        words = line.split()
        if words and words[-1] == "kheap_bound_fit_probes":
            addr = int(words[0], 16)
            section = words[-3]
            break
    else:
        return None
    dump = subprocess.run([objdump, "-s", "-j", section,
                           "--start-address=0x%x" % addr,
                           "--stop-address=0x%x" % (addr + 4), elf],
                          check=True, capture_output=True, text=True).stdout
    for line in dump.splitlines():
        words = line.split()
        if len(words) >= 2 and re.fullmatch(r"[0-9a-f]+", words[0]) \
                and int(words[0], 16) == addr:
            return int.from_bytes(bytes.fromhex(words[1]), "little")
    raise AnalysisError("kheap_bound_fit_probes: no contents at 0x%x"
                        % addr)


def copy_functions(elf, objdump="arm-none-eabi-objdump"):
    """COPY_FUNCTIONS and everything they call, in this image."""
    funcs, entries = disassemble(elf, objdump)
    return callees_of(funcs, entries, COPY_FUNCTIONS)


def bounds(elf, objdump="arm-none-eabi-objdump", map_path=None):
    """{op: {"bound": instructions, "function": root, "split": {function:
    instructions on the longest path}, "loops": [functions with a loop
    the bound relied on LOOP_VISITS for], "pruned": [the cold functions
    whose calls were off the path]}}; raises AnalysisError. map_path:
    the image's link map (default IMAGE.map)."""
    funcs, entries = disassemble(elf, objdump)
    try:
        cold = cold_functions(map_path or elf + ".map")
    except OSError as e:
        raise AnalysisError("no link map for the cold functions: %s" % e)
    a = Analysis(funcs, entries, cold)
    a.loop_visits = max(LOOP_VISITS, fit_probes(elf, objdump) or 0)
    out = {}
    for op, root in roots(funcs, entries).items():
        value = a.bound_of(root)
        if value is None:
            raise AnalysisError("every path of %s is pruned" % root)
        reached = callees_of(funcs, entries, [root])
        out[op] = {
            "bound": value,
            "function": root,
            "split": dict(a.memo[root][1].most_common()),
            "loops": sorted(a.loops & reached),
            "pruned": sorted({base_name(f) for f in reached} & cold),
        }
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("elf")
    p.add_argument("--objdump", default="arm-none-eabi-objdump")
    p.add_argument("--map", help="the image's link map (default ELF.map)")
    args = p.parse_args()
    try:
        result = bounds(args.elf, args.objdump, args.map)
    except AnalysisError as e:
        sys.exit("wcet_bound: %s" % e)
    for op, r in result.items():
        split = ", ".join("%s %d" % kv for kv in r["split"].items())
        print("%-14s %5d  (%s)" % (op, r["bound"], split))
        print("%-14s        loops: %s; cold, off the path: %s" % (
            "", ", ".join(r["loops"]) or "none",
            ", ".join(r["pruned"]) or "none"))


if __name__ == "__main__":
    main()

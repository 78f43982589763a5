#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Mean instructions per call from a callgrind output file.

usage: callgrind_summary.py CALLGRIND_OUT CALLER FUNCTION... [--lib SKIP,...]

For each FUNCTION, sums the calls made to it from CALLER and the inclusive
cost (Ir) of those calls, as recorded in the file's "calls=" lines, and
prints one line per function:

    CALLGRIND fn=NAME calls=N ir=TOTAL mean=MEAN

and, for each FUNCTION, where its instructions go: its own (self) cost and
the inclusive cost of each function it calls, per call of FUNCTION (over
all its calls, wherever from):

    SPLIT fn=NAME part=SELF|CALLEE per_call=X

With --lib, FUNCTION is a trampoline that calls an adapter function, which
calls the allocator: for each FUNCTION also the inclusive cost of the
calls its callees make to anything but the functions named in SKIP (the
adapter's own helpers, e.g. its alignment check), per call of FUNCTION:
what the allocator itself executed, without trampoline and adapter:

    LIB fn=NAME calls=N ir=TOTAL mean=MEAN

Python standard library only.
"""
import sys


def parse(path, caller, targets):
    names = {}
    calls = {t: 0 for t in targets}
    cost = {t: 0 for t in targets}

    def name_of(value):
        # "(id) name" defines an id, "(id)" reuses it, else a plain name.
        value = value.strip()
        if value.startswith("("):
            close = value.index(")")
            ident = value[1:close]
            rest = value[close + 1:].strip()
            if rest:
                names[ident] = rest
            return names.get(ident, value)
        return value

    fn = None
    cfn = None
    pending = 0
    # self cost and callee costs of every target, over all its calls.
    self_ir = {t: 0 for t in targets}
    callee = {t: {} for t in targets}
    all_calls = {t: 0 for t in targets}
    # Inclusive cost of every caller -> callee pair (for --lib).
    edges = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if pending:
                # The cost line after calls=: position, then Ir.
                fields = line.split()
                ir = int(fields[1]) if len(fields) > 1 else 0
                if fn == caller and cfn in calls:
                    calls[cfn] += pending
                    cost[cfn] += ir
                if cfn in all_calls:
                    all_calls[cfn] += pending
                if fn in callee:
                    callee[fn][cfn] = callee[fn].get(cfn, 0) + ir
                edge = edges.setdefault(fn, {})
                edge[cfn] = edge.get(cfn, 0) + ir
                pending = 0
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if fn in self_ir:
                    fields = line.split()
                    if len(fields) > 1:
                        self_ir[fn] += int(fields[-1])
                continue
            if line.startswith("fn="):
                fn = name_of(line[3:])
                cfn = None
            elif line.startswith("cfn="):
                cfn = name_of(line[4:])
            elif line.startswith("calls="):
                pending = int(line[6:].split()[0])
    return calls, cost, self_ir, callee, all_calls, edges


def main():
    args = sys.argv[1:]
    skip = None
    if "--lib" in args:
        i = args.index("--lib")
        if i + 1 >= len(args):
            sys.exit(__doc__)
        skip = set(x for x in args[i + 1].split(",") if x)
        del args[i:i + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    path, caller, targets = args[0], args[1], args[2:]
    calls, cost, self_ir, callee, all_calls, edges = parse(
        path, caller, targets)
    for t in targets:
        mean = cost[t] / calls[t] if calls[t] else 0.0
        print("CALLGRIND fn=%s calls=%d ir=%d mean=%.1f" %
              (t, calls[t], cost[t], mean))
    for t in targets:
        n = all_calls[t]
        if not n:
            continue
        print("SPLIT fn=%s part=SELF per_call=%.1f" % (t, self_ir[t] / n))
        for c, ir in sorted(callee[t].items(), key=lambda kv: -kv[1]):
            print("SPLIT fn=%s part=%s per_call=%.1f" % (t, c, ir / n))
    if skip is not None:
        for t in targets:
            n = all_calls[t]
            ir = 0
            for adapter in callee[t]:
                for c, c_ir in edges.get(adapter, {}).items():
                    if c not in skip:
                        ir += c_ir
            print("LIB fn=%s calls=%d ir=%d mean=%.1f" %
                  (t, n, ir, ir / n if n else 0.0))


if __name__ == "__main__":
    main()

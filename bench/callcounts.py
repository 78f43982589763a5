# SPDX-License-Identifier: Apache-2.0
"""Per-call instruction counts of two builds, compared call by call.

The x86-64 counter (kheap_bench worst --calls FILE) and the QEMU plugin
(kheapcount.c, calls=FILE) write the same format: one little-endian
32-bit word per measured call, in execution order, the kind (0 alloc, 1
aligned_alloc, 2 free, 3 realloc) in the top 3 bits and the call's
instructions without the copy below; 0xffffffff starts each segment (a
run of one workload on one heap). Two builds of the same core at
different hardening levels make the same calls in the same order (the
checks change no decision on a sound heap), so the difference of two
counts is what the checks cost on that call's path. Standard library
only."""
import array
import sys

KINDS = ("alloc", "aligned_alloc", "free", "realloc")
KIND_SHIFT = 29
COUNT_MASK = (1 << KIND_SHIFT) - 1
SEGMENT = 0xffffffff


class CallsError(Exception):
    pass


def read_calls(path):
    """[(kinds, counts)] per segment, in execution order."""
    words = array.array("I")
    with open(path, "rb") as f:
        words.frombytes(f.read())
    if sys.byteorder != "little":
        words.byteswap()
    segs = []
    for w in words:
        if w == SEGMENT:
            segs.append((bytearray(), array.array("I")))
        elif not segs:
            raise CallsError("%s: a call before the first segment" % path)
        else:
            segs[-1][0].append(w >> KIND_SHIFT)
            segs[-1][1].append(w & COUNT_MASK)
    return segs


def add_differences(out, basic, none, where):
    """Fold the per-call differences basic - none of one segment into out
    ({kind: {"max", "min", "calls", "sum", "where"}}); where: what to
    record for the call that reached the max (a dict, the call's index
    and counts added)."""
    kb, cb = basic
    kn, cn = none
    if kb != kn:
        raise CallsError("%s: the two builds made different calls" % where)
    for i, (kind, b, n) in enumerate(zip(kb, cb, cn)):
        op = KINDS[kind]
        d = b - n
        e = out.get(op)
        if e is None:
            e = out[op] = {"max": d, "min": d, "calls": 0, "sum": 0,
                           "where": None}
        if e["where"] is None or d > e["max"]:
            e["max"] = d
            e["where"] = dict(where, call=i, basic=b, none=n)
        if d < e["min"]:
            e["min"] = d
        e["calls"] += 1
        e["sum"] += d


def finish(out):
    """The folded figures with the mean in place of the sum."""
    for e in out.values():
        e["mean"] = round(e.pop("sum") / e["calls"], 2) if e["calls"] else 0
    return {op: out[op] for op in KINDS if op in out}

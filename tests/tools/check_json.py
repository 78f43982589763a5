#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kheap --json (schema: docs/tools.md, "JSON output"), read by Python's
own JSON parser: replay, size and map on the hand-written traces of
traces/, whose numbers test_kheap_tool.c and docs/tools.md work out by
hand, and a trace whose site holds bytes JSON must escape.

Usage: check_json.py KHEAP_EXE TRACES_DIR OUT_DIR
"""
import json
import os
import re
import subprocess
import sys

KHEAP, TRACES, OUT = sys.argv[1:4]
checks = 0


def kheap(*args, status=0):
    """Run kheap with --json; return the parsed document."""
    run = subprocess.run([KHEAP, *args, "--json"], capture_output=True)
    if run.returncode != status:
        sys.exit(f"kheap {' '.join(args)}: exit {run.returncode}, expected "
                 f"{status}\n{run.stderr.decode(errors='replace')}")
    # The writer promises ASCII whatever the trace holds.
    text = run.stdout.decode("ascii")
    return json.loads(text)


def expect(what, got, want):
    global checks
    checks += 1
    if got != want:
        sys.exit(f"FAIL {what}: got {got!r}, expected {want!r}")
    print(f"ok   {what} = {want!r}")


def trace(name):
    return os.path.join(TRACES, name)


def heap_setup(doc, command, name, heap_bytes, ptr_bytes):
    expect(f"{command}: command", doc["command"], command)
    expect(f"{command}: heap name", doc["heap"]["name"], name)
    expect(f"{command}: heap bytes", doc["heap"]["bytes"], heap_bytes)
    expect(f"{command}: ptr_bytes", doc["heap"]["ptr_bytes"], ptr_bytes)


# replay, failure.trace on 512 bytes: two 150-byte blocks take 20 chunks
# each, the 100-byte block needs 13 and 8 are left: event 3 fails.
doc = kheap("replay", trace("failure.trace"), "--heap-bytes", "512", status=1)
heap_setup(doc, "replay", "h", 512, 4)
expect("replay failure: header_bytes", doc["heap"]["header_bytes"], 4)
expect("replay failure: failure_count", doc["failure_count"], 1)
fail = doc["failures"][0]
expect("replay failure: failed event", fail["event"], 3)
expect("replay failure: its line", fail["line"], 7)
expect("replay failure: its op", fail["op"], "k_heap_alloc")
expect("replay failure: its size", fail["size_bytes"], 100)
expect("replay failure: its align", fail["align"], None)
expect("replay failure: peak bytes", doc["peak"]["allocated_bytes"], 320)
expect("replay failure: peak event", doc["peak"]["event"], 2)
expect("replay failure: requested at the peak",
       doc["peak"]["requested_live_bytes"], 300)
expect("replay failure: samples (one per event)", len(doc["samples"]), 6)
expect("replay failure: last sample is the end", doc["samples"][-1]["event"],
       6)
for row in doc["samples"]:
    frag = 1 - row["max_alloc_bytes"] / row["free_bytes"]
    expect(f"replay failure: fragmentation after event {row['event']}",
           round(row["fragmentation"], 4), round(frag, 4))

# replay, ten_blocks.trace: ten 100-byte blocks of 13 chunks each.
doc = kheap("replay", trace("ten_blocks.trace"), "--samples", "4")
expect("replay ten_blocks: failures", (doc["failure_count"], doc["failures"]),
       (0, []))
expect("replay ten_blocks: peak", doc["peak"]["allocated_bytes"], 1040)
expect("replay ten_blocks: peak event", doc["peak"]["event"], 10)
expect("replay ten_blocks: --samples 4", [r["event"] for r in doc["samples"]],
       [5, 10, 15, 20])
expect("replay ten_blocks: nothing live at the end",
       doc["live_at_end"], {"blocks": 0, "requested_bytes": 0, "sites": []})

# replay, leak.trace: four blocks from three sites live at the end.
doc = kheap("replay", trace("leak.trace"))
expect("replay leak: recorded failures", doc["events"]["recorded_failed"], 1)
expect("replay leak: unknown frees", doc["events"]["unknown_frees"], 1)
expect("replay leak: events on the heap", doc["events"]["on_heap"], 9)
live = doc["live_at_end"]
expect("replay leak: live blocks", live["blocks"], 4)
expect("replay leak: live bytes", live["requested_bytes"], 428)
expect("replay leak: sites, largest first",
       [(g["site"], g["blocks"], g["requested_bytes"]) for g in live["sites"]],
       [("app.c:12", 1, 200), ("app.c:31", 1, 128), ("app.c:11", 2, 100)])
expect("replay leak: first block of app.c:11", live["sites"][2]["first"],
       {"id": 2, "event": 2, "line": 7})

# replay, kmalloc.trace: 100 + 8 (heap reference) + 4 (header) = 112.
doc = kheap("replay", trace("kmalloc.trace"))
expect("replay kmalloc: ptr_bytes from the trace", doc["heap"]["ptr_bytes"], 8)
expect("replay kmalloc: peak", doc["peak"]["allocated_bytes"], 1120)

# size: 1160 bytes for ten_blocks (the arithmetic: test_kheap_tool.c,
# test_ten_blocks_size), 520 for failure.
doc = kheap("size", trace("ten_blocks.trace"))
heap_setup(doc, "size", "h", None, 4)
expect("size ten_blocks: found", doc["found"], True)
expect("size ten_blocks: smallest", doc["smallest_bytes"], 1160)
expect("size ten_blocks: 1159 fails at", doc["below_fails_at"]["event"], 10)
expect("size ten_blocks: window end", doc["window_end_bytes"], 1160 + 512)
margin = doc["margin"]
expect("size ten_blocks: margin at least 20%",
       margin["bytes"] >= 1160 * 1.2, True)
expect("size ten_blocks: pool region holds the margin size",
       margin["pool_region_bytes"] >= margin["bytes"], True)
doc = kheap("size", trace("failure.trace"), "--margin", "0", "--window", "64")
expect("size failure: smallest", doc["smallest_bytes"], 520)
expect("size failure: search window", doc["search"]["window_bytes"], 64)
expect("size failure: margin 0", doc["margin"]["bytes"], 520)
doc = kheap("size", trace("ten_blocks.trace"), "--max-bytes", "1000",
            status=1)
expect("size --max-bytes 1000: found", doc["found"], False)
# 1000 bytes hold eight 104-byte blocks after a control block of more
# than 100 bytes: the ninth allocation fails.
expect("size --max-bytes 1000: first failure", doc["failure_at_max"]["event"],
       9)

# map, ten_blocks on 2048 bytes: the empty heap, event 10 (also the peak)
# and the end; the moments say why they were drawn.
svg = os.path.join(OUT, "json_map.svg")
doc = kheap("map", trace("ten_blocks.trace"), "-o", svg, "--at",
            "end,10,peak,0")
heap_setup(doc, "map", "h", 2048, 4)
expect("map: output path", doc["output"]["path"], svg)
expect("map: output format", doc["output"]["format"], "svg")
with open(svg, encoding="utf-8") as f:
    height = int(re.search(r'<svg [^>]*height="(\d+)"', f.read()).group(1))
expect("map: height as in the SVG", doc["output"]["height_px"], height)
moments = doc["moments"]
expect("map: moment events", [m["event"] for m in moments], [0, 10, 20])
expect("map: moment letters", [m["letter"] for m in moments],
       ["A", "B", "C"])
expect("map: moment reasons", [m["reasons"] for m in moments],
       [["at"], ["at", "peak"], ["end"]])
expect("map: label of B", moments[1]["label"],
       "--at 10, peak (most bytes allocated): after event 10")
expect("map: B is after event 10", moments[1]["after"]["event"], 10)
for m in moments:
    kinds = m["bytes_by_kind"]
    expect(f"map {m['letter']}: kinds cover the region",
           sum(kinds.values()), 2048)
    offset = kinds["control"]
    for b in m["blocks"]:
        if b["offset_bytes"] != offset:
            expect(f"map {m['letter']}: blocks tile the region",
                   b["offset_bytes"], offset)
        offset += b["bytes"]
    expect(f"map {m['letter']}: blocks end at the end marker", offset,
           2048 - 4)
used = [b for b in moments[1]["blocks"] if b["used"]]
expect("map B: used blocks (id, bytes, requested)",
       [(b["id"], b["bytes"], b["requested_bytes"]) for b in used],
       [(i, 104, 100) for i in range(1, 11)])
expect("map B: allocated bytes", moments[1]["allocated_bytes"], 1040)
expect("map A: one free block", [b["used"] for b in moments[0]["blocks"]],
       [False])
doc = kheap("map", trace("failure.trace"), "-o",
            os.path.join(OUT, "json_map.png"), "--heap-bytes", "512",
            "--at", "worst")
expect("map png: format", doc["output"]["format"], "png")
expect("map png: worst moment", [(m["event"], m["reasons"])
                                 for m in doc["moments"]],
       [(doc["worst_event"], ["worst"])])
expect("map png: worst is event 5", doc["worst_event"], 5)

# Hostile strings: a site with a quote, a backslash, a control byte and a
# byte above 0x7f still gives JSON, and the site reads back (as Latin-1).
site = b'a"b\\c\x01\xff'
hostile = os.path.join(OUT, "json_hostile.trace")
with open(hostile, "wb") as f:
    f.write(b"kheap-trace 1\n@heap h 1024\n0 t k_heap_alloc h 10 - 1 - " +
            site + b"\n")
doc = kheap("replay", hostile)
expect("hostile site reads back", doc["live_at_end"]["sites"][0]["site"],
       site.decode("latin-1"))

print(f"check_json: {checks} checks passed")

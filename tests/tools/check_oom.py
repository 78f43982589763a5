#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""kheap replay/map when the host cannot allocate the replayed region.

Runs kheap with its address space limited to 512 MiB (RLIMIT_AS) and a
region of 1 GiB: the allocation fails, which docs/tools.md ("Exit
status") makes an internal error, status 5 with "out of memory" on
stderr, not a usage error (2). A 64 KiB region under the same limit still
replays (the limit itself is not what fails).

Usage: check_oom.py KHEAP_EXE TRACE
Not for sanitizer builds: ASan and TSan reserve terabytes of address
space at start-up (tests/tools/CMakeLists.txt registers it without them).
"""
import resource
import os
import subprocess
import sys
import tempfile

LIMIT_BYTES = 512 << 20


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run(kheap, args):
    return subprocess.run([kheap] + args, capture_output=True, text=True,
                          preexec_fn=limit_address_space, timeout=60)


def main():
    kheap, trace = sys.argv[1], sys.argv[2]
    failures = 0
    ok = run(kheap, ["replay", trace, "--heap-bytes", "64K"])
    if ok.returncode not in (0, 1):
        print(f"FAIL: 64 KiB replay under the limit: status {ok.returncode}"
              f"\n{ok.stderr}")
        failures += 1
    out_svg = os.path.join(tempfile.mkdtemp(prefix="kheap-oom-"), "map.svg")
    for command in (["replay", trace], ["map", trace, "-o", out_svg]):
        got = run(kheap, command + ["--heap-bytes", "1G"])
        if got.returncode != 5 or "out of memory" not in got.stderr:
            print(f"FAIL: {' '.join(command)} --heap-bytes 1G: status "
                  f"{got.returncode}, stderr: {got.stderr.strip()}")
            failures += 1
        else:
            print(f"ok: {command[0]}: status 5, {got.stderr.strip()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

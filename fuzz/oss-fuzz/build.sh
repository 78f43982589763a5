#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build kheap's fuzz targets the way OSS-Fuzz and ClusterFuzzLite expect.
#
# Inputs (set by the OSS-Fuzz/ClusterFuzzLite builder, or by hand):
#   CC                   the compiler (clang)
#   CFLAGS               sanitizer and coverage flags, e.g.
#                        "-fsanitize=address,fuzzer-no-link"
#   LIB_FUZZING_ENGINE   what links the engine, e.g. "-fsanitize=fuzzer"
#   OUT                  where the binaries and their files go
#   WORK                 (optional) scratch space for objects
#   SRC                  (optional) holds the checkout as $SRC/kheap, for a
#                        copy of this script run as $SRC/build.sh
#
# Produces, for every fuzz/fuzz_*.c target T (found by name: a new target
# needs no change here):
#   $OUT/T                    the fuzzer
#   $OUT/T_seed_corpus.zip    corpus/T/ (seeds, grown inputs, regressions/)
#   $OUT/T.options, $OUT/T.dict
#
# No CMake: plain compiler calls over the same sources the CMake build
# uses (fuzz/CMakeLists.txt). The core's internal asserts are on
# (KHEAP_ASSERT_HANDLER), so a broken invariant is a crash. A target that
# includes <zephyr/kernel.h> (as fuzz/CMakeLists.txt decides) also needs
# the kernel layer and the pthread simulator's
# objects (sim/src/sim_*.c, as kheap_sim_objs in sim/CMakeLists.txt; not
# the memory-checker hooks san_*.c) and link with -Wl,--wrap=main.
#
# It fails loudly: any failed command stops it with a message naming the
# line (also under `sh build.sh`, which re-runs it with bash), and every
# fuzzer is checked to exist before it is reported as built. The ctest
# test fuzz-oss-fuzz-build (asan preset) runs it as the builder does and
# runs every fuzzer over its seed corpus.
#
# Local run (see docs/testing/fuzzing.md, "Fuzzing beyond one machine"):
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out \
#   bash -eux fuzz/oss-fuzz/build.sh

# Under another shell (sh build.sh), start again under bash: what follows
# is bash. POSIX syntax up to here.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -Eeuo pipefail
trap 'echo "fuzz/oss-fuzz/build.sh: FAILED (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

# The checkout: where this script lives (fuzz/oss-fuzz/ of it), or
# $SRC/kheap when the builder runs a copy of it as $SRC/build.sh (the
# OSS-Fuzz Dockerfile).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
marker=core/include/zephyr/sys/sys_heap.h
if [[ -f "$here/../../$marker" ]]; then
	root="$(cd "$here/../.." && pwd)"
elif [[ -n "${SRC:-}" && -f "$SRC/kheap/$marker" ]]; then
	root="$(cd "$SRC/kheap" && pwd)"
else
	echo "fuzz/oss-fuzz/build.sh: no kheap checkout next to $here or" \
		"in \$SRC/kheap" >&2
	exit 1
fi
: "${CC:?set CC}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CFLAGS="${CFLAGS:-}"
if [[ -n "${WORK:-}" ]]; then
	work="$WORK/kheap-objs"
else
	scratch="$(mktemp -d)"
	trap 'rm -rf "$scratch"' EXIT
	work="$scratch/kheap-objs"
fi
rm -rf "$work"
mkdir -p "$work" "$OUT"

common=(-std=c11 -g -Wall -Wextra -DKHEAP_ASSERT_HANDLER=kheap_assert_fail
	-I"$root/core/include" -I"$root/tests/support" -I"$root/fuzz")
# CFLAGS is a space-separated list of flags by OSS-Fuzz's convention.
read -r -a cflags <<<"$CFLAGS"

compile() { # compile OUTDIR SOURCE [FLAGS...]
	local dir="$1" src="$2"
	shift 2
	mkdir -p "$dir"
	"$CC" "${cflags[@]}" "${common[@]}" "$@" -c "$src" \
		-o "$dir/$(basename "$src" .c).o"
}

needs_sim() { # needs_sim TARGET: true if TARGET runs on the simulator
	grep -q '^#include <zephyr/kernel\.h>' "$root/fuzz/$1.c"
}

# The targets: every fuzz/fuzz_*.c but the shared support code.
targets=()
for src in "$root"/fuzz/fuzz_*.c; do
	t="$(basename "$src" .c)"
	[[ "$t" == "fuzz_support" ]] || targets+=("$t")
done
if ((${#targets[@]} == 0)); then
	echo "fuzz/oss-fuzz/build.sh: no fuzz/fuzz_*.c targets found" >&2
	exit 1
fi

for src in "$root"/core/src/*.c; do
	compile "$work/core" "$src"
done
for src in "$root"/core/kernel/*.c; do
	compile "$work/kernel" "$src"
done
for src in "$root"/sim/src/sim_*.c; do
	compile "$work/sim" "$src" -D_GNU_SOURCE -DKHEAP_SIM_INTERNAL \
		-DKHEAP_SIM_HAVE_KERNEL=1 -I"$root/sim/include"
done
for src in "$root/fuzz/fuzz_support.c" "$root/tests/support/test_rng.c" \
	"$root/tests/support/test_token.c" \
	"$root/tests/support/test_fault_names.c"; do
	compile "$work/support" "$src"
done

for t in "${targets[@]}"; do
	extra=()
	link=("$work"/support/*.o "$work"/core/*.o)
	if needs_sim "$t"; then
		extra=(-I"$root/sim/include")
		link=("$work"/support/*.o "$work"/sim/*.o "$work"/kernel/*.o
			"$work"/core/*.o -Wl,--wrap=main -pthread)
	fi
	compile "$work/$t" "$root/fuzz/$t.c" "${extra[@]}"
	rm -f "$OUT/$t"
	# LIB_FUZZING_ENGINE may be a flag or a library path: unquoted.
	# shellcheck disable=SC2086
	"$CC" "${cflags[@]}" "$work/$t/$t.o" "${link[@]}" \
		$LIB_FUZZING_ENGINE -o "$OUT/$t"
	if [[ ! -x "$OUT/$t" ]]; then
		echo "fuzz/oss-fuzz/build.sh: $OUT/$t was not produced" >&2
		exit 1
	fi

	rm -f "$OUT/${t}_seed_corpus.zip"
	if [[ -d "$root/corpus/$t" ]] &&
		[[ -n "$(find "$root/corpus/$t" -type f ! -name '.*' -print -quit)" ]]; then
		(cd "$root/corpus/$t" && find . -type f ! -name '.*' -print |
			zip -q -j "$OUT/${t}_seed_corpus.zip" -@)
		[[ -s "$OUT/${t}_seed_corpus.zip" ]]
	fi
	for ext in options dict; do
		if [[ -f "$root/fuzz/$t.$ext" ]]; then
			cp "$root/fuzz/$t.$ext" "$OUT/$t.$ext"
		fi
	done
	echo "built $OUT/$t"
done
echo "fuzz/oss-fuzz/build.sh: ${#targets[@]} fuzzers in $OUT: ${targets[*]}"

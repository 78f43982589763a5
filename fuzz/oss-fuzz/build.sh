#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Build kheap's fuzz targets the way OSS-Fuzz and ClusterFuzzLite expect.
#
# Inputs (set by the OSS-Fuzz/ClusterFuzzLite builder, or by hand):
#   CC                   the compiler (clang)
#   CFLAGS               sanitizer and coverage flags, e.g.
#                        "-fsanitize=address,fuzzer-no-link"
#   LIB_FUZZING_ENGINE   what links the engine, e.g. "-fsanitize=fuzzer"
#   OUT                  where the binaries and their files go
#   SRC                  (optional) the directory holding the kheap checkout
#   WORK                 (optional) scratch space for objects
#
# Produces, for every fuzz/fuzz_*.c target T:
#   $OUT/T                    the fuzzer
#   $OUT/T_seed_corpus.zip    corpus/T/ (seeds, grown inputs, regressions/)
#   $OUT/T.options, $OUT/T.dict
#
# No CMake: plain compiler calls over the same sources the CMake build
# uses. The core's internal asserts are on (KHEAP_ASSERT_HANDLER), so a
# broken invariant is a crash. fuzz_kernel_api also needs the pthread
# simulator (sim/) and links with -Wl,--wrap=main as sim/CMakeLists.txt
# does; keep the two in step.
#
# Local test (see docs/testing.md, "Fuzzing"):
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzz/oss-fuzz/build.sh

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${CC:?set CC}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CFLAGS="${CFLAGS:-}"
work="${WORK:-$(mktemp -d)}/kheap-objs"
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

for src in "$root"/core/src/*.c; do
	compile "$work/core" "$src"
done
for src in "$root"/core/kernel/*.c; do
	compile "$work/kernel" "$src"
done
for src in "$root"/sim/src/*.c; do
	compile "$work/sim" "$src" -D_GNU_SOURCE -DKHEAP_SIM_INTERNAL \
		-DKHEAP_SIM_HAVE_KERNEL=1 -I"$root/sim/include"
done
for src in "$root/fuzz/fuzz_support.c" "$root/tests/support/test_rng.c" \
	"$root/tests/support/test_token.c" \
	"$root/tests/support/test_fault_names.c"; do
	compile "$work/support" "$src"
done

for src in "$root"/fuzz/fuzz_*.c; do
	t="$(basename "$src" .c)"
	[[ "$t" == "fuzz_support" ]] && continue
	extra=()
	link=("$work"/support/*.o "$work"/core/*.o)
	if [[ "$t" == "fuzz_kernel_api" ]]; then
		extra=(-I"$root/sim/include")
		wrap_main="-Wl,--wrap=main"
		link=("$work"/support/*.o "$work"/sim/*.o "$work"/kernel/*.o
			"$work"/core/*.o "$wrap_main" -pthread)
	fi
	compile "$work/$t" "$src" "${extra[@]}"
	# LIB_FUZZING_ENGINE may be a flag or a library path: unquoted.
	# shellcheck disable=SC2086
	"$CC" "${cflags[@]}" "$work/$t/$t.o" "${link[@]}" \
		$LIB_FUZZING_ENGINE -o "$OUT/$t"

	rm -f "$OUT/${t}_seed_corpus.zip"
	if [[ -d "$root/corpus/$t" ]]; then
		(cd "$root/corpus/$t" && find . -type f ! -name '.*' -print |
			zip -q -j "$OUT/${t}_seed_corpus.zip" -@)
	fi
	for ext in options dict; do
		if [[ -f "$root/fuzz/$t.$ext" ]]; then
			cp "$root/fuzz/$t.$ext" "$OUT/$t.$ext"
		fi
	done
	echo "built $OUT/$t"
done

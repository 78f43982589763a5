#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ctest test fuzz-oss-fuzz-build (label fuzz, asan preset): the
# OSS-Fuzz / ClusterFuzzLite build (fuzz/oss-fuzz/build.sh) run the way
# their builder runs it, then every fuzzer it produced run once over its
# seed corpus.
#
# Usage: fuzz/oss-fuzz/test_build.sh SCRATCH [CC]
#   SCRATCH  a directory it may wipe and fill (OUT, WORK, corpora, logs)
#   CC       the compiler (default clang)
#
# 1. Failures are loud: with a compiler that always fails, build.sh run
#    as `bash build.sh` (no -e) and as `sh build.sh` must exit non-zero,
#    name the failing line and report nothing as built.
# 2. `bash -eux $SRC/build.sh` with CFLAGS="-fsanitize=address,
#    fuzzer-no-link" and LIB_FUZZING_ENGINE=-fsanitize=fuzzer, laid out as
#    the builder does (the checkout at $SRC/kheap, the project's script
#    copied to $SRC/build.sh, run from the checkout), for OSS-Fuzz
#    (fuzz/oss-fuzz/build.sh) into SCRATCH/out and for ClusterFuzzLite
#    (.clusterfuzzlite/build.sh) into SCRATCH/cflite-out, must succeed and
#    produce a fuzzer for every fuzz/fuzz_*.c target, and in SCRATCH/out
#    its options file and seed corpus zip.
# 3. Each fuzzer, with the options of its .options file ([libfuzzer]
#    section) and -runs=0, runs every input of its unzipped seed corpus
#    and exits 0, as OSS-Fuzz's first run on the corpus would. Without
#    KHEAP_SIM_* variables: the builder sets none.
set -euo pipefail

if (($# < 1)); then
	echo "usage: $0 SCRATCH [CC]" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scratch="$1"
cc="${2:-clang}"
build_sh="$root/fuzz/oss-fuzz/build.sh"
for tool in zip unzip; do
	command -v "$tool" >/dev/null || {
		echo "test_build: $tool is missing (scripts/setup installs it)" >&2
		exit 1
	}
done
rm -rf "$scratch"
mkdir -p "$scratch"
unset "${!KHEAP_SIM_@}"
start=$SECONDS

fail() {
	echo "test_build: FAIL: $*" >&2
	exit 1
}

# --- 1. a failing compiler stops the build, under any shell ---------------
for shell in bash sh; do
	log="$scratch/failing-$shell.log"
	if CC=false OUT="$scratch/failing-out" WORK="$scratch/failing-work" \
		LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
		"$shell" "$build_sh" >"$log" 2>&1; then
		cat "$log" >&2
		fail "build.sh under '$shell' exited 0 with CC=false"
	fi
	grep -q "build.sh: FAILED (status 1) at line" "$log" ||
		{ cat "$log" >&2; fail "no failure message under '$shell'"; }
	if grep -q '^built ' "$log"; then
		cat "$log" >&2
		fail "build.sh under '$shell' reported a fuzzer built with CC=false"
	fi
done
echo "test_build: a failing compiler stops build.sh under bash and sh"

# --- 2. the builder's build -----------------------------------------------
# As the builder lays it out: the checkout at $SRC/kheap (here a link),
# the project's build script copied to $SRC/build.sh, run from the
# checkout. OSS-Fuzz's is fuzz/oss-fuzz/build.sh itself; ClusterFuzzLite's
# is .clusterfuzzlite/build.sh, which runs the same script.
# builder_build ROUTE SCRIPT OUT: one build; the log is SCRATCH/ROUTE.log.
builder_build() {
	local route="$1" script="$2" route_out="$3" src="$scratch/$1-src"
	mkdir -p "$src" "$route_out" "$scratch/$route-work"
	ln -s "$root" "$src/kheap"
	cp "$script" "$src/build.sh"
	if ! (cd "$src/kheap" && SRC="$src" CC="$cc" \
		CFLAGS="-fsanitize=address,fuzzer-no-link" \
		LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$route_out" \
		WORK="$scratch/$route-work" bash -eux "$src/build.sh") \
		>"$scratch/$route.log" 2>&1; then
		tail -n 40 "$scratch/$route.log" >&2
		fail "$route: bash -eux build.sh failed (log: $scratch/$route.log)"
	fi
}
out="$scratch/out"
builder_build oss-fuzz "$root/fuzz/oss-fuzz/build.sh" "$out"
builder_build clusterfuzzlite "$root/.clusterfuzzlite/build.sh" \
	"$scratch/cflite-out"
targets=()
for src in "$root"/fuzz/fuzz_*.c; do
	t="$(basename "$src" .c)"
	[[ "$t" == fuzz_support ]] || targets+=("$t")
done
for t in "${targets[@]}"; do
	[[ -x "$scratch/cflite-out/$t" ]] ||
		fail "the ClusterFuzzLite build produced no $t"
	[[ -x "$out/$t" ]] || fail "build.sh produced no $out/$t"
	[[ -f "$out/$t.options" ]] || fail "no $out/$t.options (fuzz/$t.options)"
	[[ -s "$out/${t}_seed_corpus.zip" ]] ||
		fail "no $out/${t}_seed_corpus.zip (corpus/$t/)"
done
echo "test_build: the OSS-Fuzz and ClusterFuzzLite builds made ${#targets[@]} fuzzers each in $((SECONDS - start)) s: ${targets[*]}"

# --- 3. every fuzzer over its seed corpus ---------------------------------
# The [libfuzzer] section of an options file as -key=value flags; dict
# names a file in OUT.
libfuzzer_flags() {
	local file="$1" line key value in_section=0
	while IFS= read -r line || [[ -n "$line" ]]; do
		line="${line%%#*}"
		[[ "$line" =~ ^[[:space:]]*$ ]] && continue
		if [[ "$line" =~ ^\[(.*)\]$ ]]; then
			[[ "${BASH_REMATCH[1]}" == libfuzzer ]] && in_section=1 || in_section=0
			continue
		fi
		((in_section)) || continue
		[[ "$line" =~ ^[[:space:]]*([A-Za-z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]] ||
			fail "$file: cannot read '$line'"
		key="${BASH_REMATCH[1]}"
		value="${BASH_REMATCH[2]}"
		[[ "$key" == dict ]] && value="$out/$value"
		echo "-$key=$value"
	done <"$file"
}

for t in "${targets[@]}"; do
	corpus="$scratch/corpus/$t"
	mkdir -p "$corpus"
	unzip -q "$out/${t}_seed_corpus.zip" -d "$corpus"
	inputs="$(find "$corpus" -type f | wc -l)"
	mapfile -t flags < <(libfuzzer_flags "$out/$t.options")
	log="$scratch/run-$t.log"
	t0=$SECONDS
	if ! (cd "$scratch" && "$out/$t" -runs=0 "${flags[@]}" "$corpus") \
		>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		fail "$t failed on its seed corpus (log: $log)"
	fi
	grep -q "DONE" "$log" || { tail -n 20 "$log" >&2; fail "$t did not finish"; }
	echo "test_build: $t ran its $inputs seed inputs (${flags[*]}) in $((SECONDS - t0)) s"
done
echo "test_build: PASS in $((SECONDS - start)) s"

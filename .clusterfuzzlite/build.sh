#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ClusterFuzzLite's build step: the OSS-Fuzz build of every fuzz/fuzz_*.c
# target (fuzz/oss-fuzz/build.sh reads CC, CFLAGS, LIB_FUZZING_ENGINE and
# OUT from the builder and fails loudly). The builder copies this file to
# $SRC/build.sh and the checkout to $SRC/kheap (Dockerfile).
set -euo pipefail
exec bash "${SRC:?the builder sets SRC}/kheap/fuzz/oss-fuzz/build.sh"

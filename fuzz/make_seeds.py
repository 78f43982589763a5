#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the hand-made seed inputs and dictionaries of kheap's fuzz targets.

    fuzz/make_seeds.py [--corpus DIR] [--dicts DIR]

Each seed is a short, readable program in the input language of its target
(see the comment at the top of fuzz/<target>.c), encoded by the helpers
below exactly as the target's decoder reads it (fuzz_support.c). Seeds go
to corpus/<target>/seed-<name>; dictionaries to fuzz/<target>.dict. The
campaign runner (scripts/fuzz) keeps every seed-* file when it merges the
grown corpus back, so the seeds stay as documentation of the format.
"""
import argparse
import os
import struct

# --- operands, as fuzz_support.c decodes them -------------------------------


# SYS_HEAP_MIN_REGION_BYTES (Z_HEAP_MIN_SIZE + 7) at the default level.
MIN_REGION = 87


def region(shape, v=0, offset=0):
    """fuzz_region_decode: shape 0-3 small MIN_REGION..8192 (MIN_REGION +
    v % (8193 - MIN_REGION)), 4 just below the cutover (262144 - v % 1024),
    5-6 big (262145 + v % 8192), 7 around the minimum (v % MIN_REGION,
    refused below Z_HEAP_MIN_SIZE plus what the offset loses);
    offset 0..7."""
    return bytes([(shape << 3) | offset]) + struct.pack("<H", v)


def small_region(nbytes, offset=0):
    assert MIN_REGION <= nbytes <= 8192
    return region(0, nbytes - MIN_REGION, offset)


def big_region(extra=0, offset=0):
    return region(5, extra, offset)


def size_tiny(n):
    assert 0 <= n < 64
    return bytes([n])


def size_mod(v):
    """u16 % (limit + 64)."""
    return bytes([0x40]) + struct.pack("<H", v)


def size_pow(e, d=0):
    """(1 << (e % 20)) + d, d in -128..127."""
    return bytes([0x80 | e, d & 0xFF])


def size_special(k, d=0, raw=None):
    """0: SIZE_MAX - d, 1: PTRDIFF_MAX + d - 128, 2: limit +/- d,
    3: SIZE_MAX / 2 + d, 4: 2^32 + d - 128, 5: raw u64."""
    out = bytes([0xC0 | k, d])
    if k == 5:
        out += struct.pack("<Q", raw or 0)
    return out


def align_pow(e):
    """1 << e for e <= 12; e 13..15 means 0."""
    return bytes([e << 2])


def align_zero():
    return align_pow(13)


def align_rewind(a_exp, r_exp):
    """A | R with A = 1 << a_exp (1..12), R = 1 << r_exp (r_exp < a_exp)."""
    assert 1 <= a_exp <= 12 and 0 <= r_exp < a_exp
    b = ((a_exp - 1) << 2) | 1
    if a_exp > 2:
        return bytes([b, r_exp])
    return bytes([b | (r_exp << 6)])


def align_raw(v):
    return bytes([2]) + struct.pack("<H", v)


def align_huge(e):
    """1 << (13 + e), e 0..15."""
    return bytes([(e << 2) | 3])


def block(i):
    return struct.pack("<H", i)


NULL = b"\xff\xff"


def u8(v):
    return bytes([v & 0xFF])


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


# --- fuzz_sys_heap -----------------------------------------------------------


class SysHeap:
    ALLOC, ALIGNED, NOALIGN, REALLOC, AREALLOC = 0, 2, 4, 5, 7
    FREE, USABLE, MAX, BURST, RESET, READONLY, ALTERNATE = 8, 10, 11, 12, 13, 14, 15

    @staticmethod
    def alloc(size):
        return u8(SysHeap.ALLOC) + size

    @staticmethod
    def aligned(align, size):
        return u8(SysHeap.ALIGNED) + align + size

    @staticmethod
    def noalign(align, size):
        return u8(SysHeap.NOALIGN) + align + size

    @staticmethod
    def realloc(blk, size):
        return u8(SysHeap.REALLOC) + blk + size

    @staticmethod
    def arealloc(blk, align, size):
        return u8(SysHeap.AREALLOC) + blk + align + size

    @staticmethod
    def free(blk):
        return u8(SysHeap.FREE) + blk

    @staticmethod
    def usable(blk):
        return u8(SysHeap.USABLE) + blk

    @staticmethod
    def burst(steps, alloc_percent, divisor, seed):
        return u8(SysHeap.BURST) + u8(steps - 1) + u8(alloc_percent - 20) + \
            u8(divisor - 2) + u32(seed)

    @staticmethod
    def read_only(dump, align, size):
        return u8(SysHeap.READONLY) + u8(dump) + align + size


def sys_heap_every_op():
    S = SysHeap
    return b"".join([
        S.alloc(size_tiny(1)), S.alloc(size_tiny(24)), S.alloc(size_mod(300)),
        S.aligned(align_pow(6), size_tiny(40)),
        S.aligned(align_rewind(6, 3), size_tiny(17)),
        S.aligned(align_pow(12), size_pow(7)),
        S.noalign(align_pow(9), size_tiny(33)),
        S.usable(block(0)), S.usable(NULL),
        S.realloc(block(1), size_tiny(60)), S.realloc(block(2), size_tiny(8)),
        S.realloc(NULL, size_tiny(12)), S.realloc(block(3), size_tiny(0)),
        S.arealloc(block(0), align_pow(8), size_tiny(50)),
        S.arealloc(block(1), align_rewind(5, 2), size_pow(6, 3)),
        S.free(block(2)), S.free(NULL),
        u8(S.MAX), u8(S.RESET), S.read_only(1, align_pow(4), size_tiny(9)),
        S.burst(40, 70, 16, 0x1234), u8(S.ALTERNATE) + u8(0),
        S.alloc(size_special(0)), S.alloc(size_special(1)),
        S.alloc(size_special(2, 0x80)), S.aligned(align_raw(0x7777),
                                                  size_tiny(8)),
        S.aligned(align_huge(5), size_tiny(8)),
        S.aligned(align_pow(3), size_special(0, 3)),
        S.free(block(0)),
    ])


def sys_heap_seeds():
    S = SysHeap
    seeds = {
        "every-op-small-2k": small_region(2048) + sys_heap_every_op(),
        "every-op-small-2k-offset5": small_region(2048, 5) + sys_heap_every_op(),
        "every-op-big": big_region(100, 3) + sys_heap_every_op(),
        "every-op-small-max": region(4, 0, 1) + sys_heap_every_op(),
        "minimum-heap": small_region(MIN_REGION, 1) + S.alloc(size_tiny(1)) +
        S.alloc(size_tiny(1)) + S.free(block(0)) + S.alloc(size_tiny(4)),
        "refused-init": region(7, 50) + S.alloc(size_tiny(1)) +
        S.aligned(align_pow(3), size_tiny(1)),
        "fill-and-drain-8k": small_region(8192) +
        S.burst(64, 90, 32, 7) + S.burst(64, 90, 32, 8) +
        u8(S.ALTERNATE) + u8(1) + S.burst(64, 30, 8, 9) + u8(S.MAX),
        "fill-and-drain-big": big_region(4000) +
        S.burst(64, 85, 40, 11) + S.burst(64, 85, 40, 12) +
        u8(S.ALTERNATE) + u8(0) + S.burst(64, 40, 6, 13) + u8(S.MAX),
        "aligned-sweep": small_region(8192, 2) + b"".join(
            S.aligned(align_pow(e), size_tiny(8 + e)) for e in range(13)) +
        b"".join(S.aligned(align_rewind(a, r), size_tiny(5))
                 for a in range(1, 13, 3) for r in range(0, a, 2)),
        "realloc-grow-shrink": small_region(4096) + S.alloc(size_tiny(16)) +
        S.alloc(size_tiny(16)) + S.free(block(1)) +
        S.realloc(block(0), size_pow(8)) + S.realloc(block(0), size_tiny(8)) +
        S.alloc(size_tiny(40)) + S.realloc(block(0), size_pow(10)) +
        S.arealloc(block(1), align_pow(10), size_pow(9)),
    }
    return seeds


def sys_heap_dict():
    S = SysHeap
    return {
        "alloc_tiny": S.alloc(size_tiny(8)),
        "alloc_mod": S.alloc(size_mod(1000)),
        "aligned_4096": S.aligned(align_pow(12), size_tiny(16)),
        "aligned_rewind": S.aligned(align_rewind(8, 2), size_tiny(16)),
        "realloc_grow": S.realloc(block(0), size_pow(9)),
        "burst": S.burst(32, 60, 8, 1),
        "size_max": size_special(0),
        "size_limit": size_special(2, 0x80),
        "big_region": big_region(0),
        "max_alloc": u8(S.MAX),
    }


# --- fuzz_kernel_api -----------------------------------------------------------


class Kernel:
    MALLOC, CALLOC, ALIGNED, REALLOC, FREE = 0, 2, 3, 4, 5
    HALLOC, HALIGNED, HCALLOC, HREALLOC, HFREE = 6, 7, 8, 9, 10
    POOL, THREAD, BURST, TIMED, FAMILY = 11, 12, 13, 14, 15

    @staticmethod
    def burst(steps, alloc_percent, max_size, seed):
        return u8(Kernel.BURST) + u8(steps - 1) + u8(alloc_percent - 20) + \
            u16(max_size - 1) + u32(seed)


def kernel_every_op():
    K = Kernel
    return b"".join([
        u8(K.MALLOC) + size_tiny(0), u8(K.MALLOC) + size_tiny(20),
        u8(K.CALLOC) + size_tiny(3) + size_tiny(10),
        u8(K.CALLOC) + size_special(3) + size_tiny(4),
        u8(K.ALIGNED) + align_pow(6) + size_tiny(30),
        u8(K.ALIGNED) + align_rewind(4, 1) + size_tiny(30),
        u8(K.REALLOC) + block(0) + size_pow(7),
        u8(K.REALLOC) + block(1) + size_tiny(4),
        u8(K.REALLOC) + NULL + size_tiny(9),
        u8(K.HALLOC) + size_tiny(50), u8(K.HALLOC) + size_mod(700),
        u8(K.HALIGNED) + align_pow(9) + size_tiny(20),
        u8(K.HALIGNED) + align_rewind(7, 3) + size_tiny(20),
        u8(K.HCALLOC) + size_tiny(5) + size_tiny(7),
        u8(K.HREALLOC) + block(0) + size_pow(8),
        u8(K.HREALLOC) + block(1) + size_tiny(0),
        u8(K.HFREE) + block(0), u8(K.HFREE) + NULL,
        u8(K.POOL) + u8(2), u8(K.THREAD) + u8(0) + align_pow(3) + size_tiny(12),
        u8(K.THREAD) + u8(1) + align_pow(7) + size_tiny(12),
        u8(K.THREAD) + u8(2) + align_pow(3) + size_tiny(24),
        u8(K.THREAD) + u8(3) + align_pow(6) + size_tiny(24),
        u8(K.POOL) + u8(6), u8(K.THREAD) + u8(1) + align_pow(5) + size_tiny(40),
        u8(K.REALLOC) + block(2) + size_tiny(60),
        u8(K.POOL) + u8(1), u8(K.THREAD) + u8(0) + align_pow(3) + size_tiny(12),
        u8(K.POOL) + u8(0),
        u8(K.TIMED) + u8(3) + align_pow(3) + size_tiny(16),
        u8(K.TIMED) + u8(0x85) + align_raw(0x505) + size_tiny(16),
        u8(K.TIMED) + u8(2) + align_pow(3) + size_special(2, 0x7f),
        K.burst(48, 70, 600, 99),
        u8(K.FREE) + block(0), u8(K.FREE) + NULL,
        u8(K.FAMILY) + u8(1), u8(K.FAMILY) + u8(0),
    ])


def kernel_seeds():
    K = Kernel
    return {
        "every-op-small": small_region(3000, 1) + kernel_every_op(),
        "every-op-big": big_region(64, 4) + kernel_every_op(),
        "refused-kheap": region(7, 10) + kernel_every_op(),
        "system-heap-full": small_region(512) +
        b"".join(u8(K.MALLOC) + size_mod(1500) for _ in range(12)) +
        b"".join(u8(K.MALLOC) + size_tiny(0) for _ in range(8)) +
        u8(K.REALLOC) + block(0) + size_tiny(1) +
        u8(K.TIMED) + u8(7) + align_pow(3) + size_tiny(60),
        "timeouts": small_region(200) + u8(K.HALLOC) + size_tiny(60) +
        u8(K.TIMED) + u8(4) + align_pow(3) + size_tiny(60) +
        u8(K.TIMED) + u8(0x80) + align_pow(3) + size_pow(12),
    }


def kernel_dict():
    K = Kernel
    return {
        "k_malloc": u8(K.MALLOC) + size_tiny(16),
        "k_heap_alloc": u8(K.HALLOC) + size_mod(100),
        "pool_kheap_autofree": u8(K.POOL) + u8(6),
        "timed": u8(K.TIMED) + u8(3) + align_pow(3) + size_tiny(16),
        "isr_alloc": u8(K.THREAD) + u8(2) + align_pow(3) + size_tiny(24),
        "burst": K.burst(32, 60, 256, 1),
    }


# --- fuzz_misuse -------------------------------------------------------------


class Misuse:
    ALLOC, ALIGNED, FREE, REALLOC, DOUBLE, STALE = 0, 2, 3, 4, 5, 6
    INTERIOR, OUTSIDE, FOREIGN, OVERFLOW, BURST, CORRUPT = 7, 8, 9, 10, 11, 12

    @staticmethod
    def call(kind, size=b"\x10", align_exp=0):
        """kind: 0 free, 1 realloc, 2 aligned_realloc, 3 realloc(p, 0),
        4 usable_size; then the realloc's size and align (8 << e)."""
        return u8(kind) + size + u8(align_exp)

    @staticmethod
    def burst(steps, divisor, seed):
        return u8(Misuse.BURST) + u8(steps - 1) + u8(divisor - 4) + u32(seed)


def misuse_every_op():
    M = Misuse
    out = [M.burst(20, 16, 5), u8(M.ALLOC) + size_tiny(40),
           u8(M.ALIGNED) + align_rewind(6, 2) + size_tiny(40)]
    for kind in range(5):
        out += [
            u8(M.DOUBLE) + block(kind) + M.call(kind),
            u8(M.STALE) + u8(kind) + M.call(kind, size_tiny(20), 2),
            u8(M.INTERIOR) + block(kind) + u16(9 + 8 * kind) + M.call(kind),
            u8(M.OUTSIDE) + u8(kind) + u8(3) + M.call(kind),
            u8(M.OUTSIDE) + u8(kind + 5) + u8(7) + M.call(kind),
            u8(M.FOREIGN) + u8(kind) + block(kind) + M.call(kind),
            u8(M.OVERFLOW) + block(kind) + u8(kind) + u8(1) +
            bytes([0x11 * (kind + 1)] * 8) + M.call(kind) + M.call(4 - kind),
            u8(M.ALLOC) + size_tiny(8 * kind + 4),
        ]
    out += [u8(M.FREE) + block(0), u8(M.REALLOC) + block(0) + size_pow(9)]
    # Damage: 3 random bytes, then 2.
    out += [u8(M.CORRUPT) + u8(2) + u32(0x1234) + u8(0x40) + u32(0x777) +
            u8(0x01) + u32(0x99) + u8(0xff),
            u8(M.CORRUPT) + u8(1) + u32(0x10) + u8(0x08) + u32(0x5555) +
            u8(0x20)]
    return b"".join(out)


def misuse_seeds():
    M = Misuse
    return {
        "every-op-small": small_region(4096, 3) + misuse_every_op(),
        "every-op-big": big_region(512, 6) + misuse_every_op(),
        "stale-after-coalesce": small_region(1024) +
        b"".join(u8(M.ALLOC) + size_tiny(24) for _ in range(4)) +
        u8(M.FREE) + block(1) + u8(M.FREE) + block(1) + u8(M.FREE) + block(0) +
        b"".join(u8(M.STALE) + u8(k) + M.call(k % 5) for k in range(3)),
        "overflow-every-width": small_region(600) +
        b"".join(u8(M.ALLOC) + size_tiny(12 + k) for k in range(4)) +
        b"".join(u8(M.OVERFLOW) + block(k % 4) + u8(k) + u8(0) +
                 bytes([0xff] * 8) + M.call(k % 5) for k in range(8)),
    }


def misuse_dict():
    M = Misuse
    return {
        "double_free": u8(M.DOUBLE) + block(0) + M.call(0),
        "stale_realloc": u8(M.STALE) + u8(0) + M.call(1),
        "overflow": u8(M.OVERFLOW) + block(0) + u8(3) + u8(1),
        "interior": u8(M.INTERIOR) + block(0) + u16(20),
        "corrupt": u8(M.CORRUPT) + u8(0) + u32(0x100) + u8(0x80),
        "burst": M.burst(16, 16, 3),
    }

# --- fuzz_corrupt ------------------------------------------------------------


class Corrupt:
    ALLOC, ALIGNED, FREE, REALLOC, AREALLOC, USABLE, READONLY = 0, 2, 3, 4, 5, 6, 7
    NEAR, WORD, ANYWHERE, BURST, COPY, CONTROL, DOUBLE, MAX = range(8, 16)

    @staticmethod
    def header(big=False, shape=1, v=16000, offset=0, low=False, ctrl=False,
               fill=0):
        """Byte 0: offset, big, abut the low guard, control-block writes,
        small shape; then the u16 size and the fill byte."""
        flags = offset | (8 if big else 0) | (16 if low else 0) | \
            (32 if ctrl else 0) | (shape << 6)
        return u8(flags) + u16(v) + u8(fill)

    @staticmethod
    def near(pick, offset, values, xor=False):
        """values: 1..8 bytes written at pick's pointer + offset
        (|offset| < 128, or any s16 with bit 8 set)."""
        assert 1 <= len(values) <= 8
        return (u8(Corrupt.NEAR) + u8(pick) + struct.pack("<h", offset) +
                u8((len(values) - 1) | (8 if xor else 0)) + bytes(values))

    @staticmethod
    def word(pick, offset, kind, d=0, wide=False, raw=None):
        """kind 0 the block's chunk id + d, 1 end_chunk + d, 2 a head mark
        | d, 3 d, 4 a size-and-used word, 5 ~0 - d, 6-7 raw u32."""
        out = (u8(Corrupt.WORD) + u8(pick) + struct.pack("<b", offset) +
               u8(kind | (0x80 if wide else 0)) + struct.pack("<b", d))
        if kind % 8 >= 6:
            out += u32(raw or 0)
        return out

    @staticmethod
    def control(at, values):
        """Control-block mode (FULL and up): values at region + at."""
        return (u8(Corrupt.CONTROL) + u16(at) + u8(len(values) - 1) +
                bytes(values))

    @staticmethod
    def burst(steps, max_bytes, seed):
        return (u8(Corrupt.BURST) + u8(steps - 1) + u16(max_bytes - 1) +
                u16(seed))


def corrupt_seeds():
    C = Corrupt
    abc = b"".join(u8(C.ALLOC) + size_tiny(40) for _ in range(3))
    # live [a, b, c]; free(b): live [a, c], freed [b] (pick 2).
    free_b = u8(C.FREE) + u8(1)
    uaf = abc + free_b + C.near(2, 0, [0x41] * 8) + u8(C.ALLOC) + size_tiny(40)
    return {
        "uaf-links-then-alloc-small": C.header() + uaf,
        "uaf-links-then-alloc-big": C.header(big=True, v=100) + uaf,
        "uaf-links-09-small": C.header() + abc + free_b +
        C.near(2, 0, [0x09] * 8) + u8(C.ALLOC) + size_tiny(40),
        "own-size-byte": C.header(shape=0, v=900) + abc +
        C.near(1, -2, [0x41]) + u8(C.FREE) + u8(1),
        "overflow-into-free": C.header(low=True) + abc + free_b +
        C.near(0, 40, [0x5a] * 8, xor=True) + u8(C.ALLOC) + size_tiny(40),
        "link-words": C.header(v=3000, offset=5) + abc + free_b +
        C.word(2, 0, 1, 3, wide=True) + C.word(2, 4, 0, -1) +
        u8(C.ALIGNED) + align_pow(6) + size_tiny(40) +
        u8(C.READONLY) + align_zero() + size_tiny(1),
        "burst-and-damage": C.header(big=True, v=4000, fill=0xcd) +
        C.burst(24, 300, 7) + u8(C.ANYWHERE) + u32(0x1000) + u8(0x07) +
        bytes(range(8)) + C.burst(12, 300, 9) + u8(C.MAX) +
        u8(C.REALLOC) + u8(3) + size_pow(9),
        "control-heads": C.header(shape=1, v=2000, ctrl=True) + abc +
        free_b + C.control(64, [0xff] * 8) + u8(C.FREE) + u8(0) +
        u8(C.DOUBLE) + u8(0) + u8(C.ALLOC) + size_tiny(40),
        "control-layout": C.header(shape=0, v=300, ctrl=True) + abc +
        C.control(4, [0x5a] * 8) + u8(C.ALLOC) + size_tiny(8) +
        u8(C.FREE) + u8(0) + u8(C.USABLE) + u8(1) +
        u8(C.READONLY) + align_zero() + size_tiny(3),
        "copy-header": C.header(v=1200) + abc + u8(C.COPY) + u8(0) + u8(2) +
        u8(C.FREE) + u8(2) + u8(C.AREALLOC) + u8(1) + align_rewind(5, 2) +
        size_tiny(60),
    }


def corrupt_dict():
    C = Corrupt
    return {
        "abc": b"".join(u8(C.ALLOC) + size_tiny(40) for _ in range(3)),
        "uaf": u8(C.FREE) + u8(1) + C.near(2, 0, [0x41] * 4),
        "underflow": C.near(0, -4, [0xff] * 4),
        "link_end": C.word(0, 0, 1, 0, wide=True),
        "head_mark": C.word(0, 0, 2, 3),
        "control": C.control(8, [0x00] * 4),
        "burst": C.burst(16, 256, 1),
    }


# --- fuzz_multi_heap ---------------------------------------------------------


class MultiHeap:
    ALLOC, ALIGNED, REALLOC, AREALLOC, FREE = 0, 3, 5, 7, 8
    GET_HEAP, FOREIGN, ADD_AGAIN, DEFAULT, ALTERNATE, FILL = \
        10, 11, 12, 13, 14, 15
    ANY = 0xFF  # cfg NULL: the default chooser

    @staticmethod
    def heaps(*regions):
        """The heap count, then each heap's region."""
        return u8(len(regions) - 1) + b"".join(regions)

    @staticmethod
    def alloc(cfg, size):
        return u8(MultiHeap.ALLOC) + u8(cfg) + size

    @staticmethod
    def aligned(cfg, align, size):
        return u8(MultiHeap.ALIGNED) + u8(cfg) + align + size

    @staticmethod
    def realloc(blk, cfg, size):
        return u8(MultiHeap.REALLOC) + blk + u8(cfg) + size

    @staticmethod
    def arealloc(blk, cfg, align, size):
        return u8(MultiHeap.AREALLOC) + blk + u8(cfg) + align + size

    @staticmethod
    def free(blk):
        return u8(MultiHeap.FREE) + blk

    @staticmethod
    def get_heap(in_block, v):
        return u8(MultiHeap.GET_HEAP) + u8(in_block) + u16(v)

    @staticmethod
    def foreign(b):
        return u8(MultiHeap.FOREIGN) + u8(b)


def multi_heap_every_op():
    M = MultiHeap
    return b"".join([
        M.alloc(0, size_tiny(20)), M.alloc(1, size_mod(200)),
        M.alloc(M.ANY, size_tiny(40)), M.aligned(2, align_pow(7), size_tiny(9)),
        M.aligned(M.ANY, align_rewind(6, 3), size_tiny(30)),
        M.aligned(3, align_raw(0x7777), size_tiny(8)),
        M.realloc(block(0), 0, size_tiny(60)),
        M.realloc(block(1), 3, size_pow(11)),
        M.realloc(NULL, 2, size_tiny(12)),
        M.arealloc(block(2), M.ANY, align_pow(9), size_pow(8)),
        M.realloc(block(3), 0, size_tiny(0)),
        M.get_heap(1, 5), M.get_heap(0, 40), M.get_heap(2, 3000),
        M.foreign(0x83), M.foreign(2),
        u8(M.ADD_AGAIN) + u8(1),
        u8(M.DEFAULT) + align_pow(4) + size_tiny(33),
        M.free(block(0)), M.free(NULL),
        u8(M.ALTERNATE), u8(M.FILL) + u8(5), u8(M.ALTERNATE),
        M.alloc(0, size_special(0)), M.alloc(M.ANY, size_special(2, 0x80)),
    ])


def multi_heap_seeds():
    M = MultiHeap
    return {
        "every-op-four-heaps": M.heaps(small_region(2048), small_region(600, 3),
                                       small_region(MIN_REGION, 1),
                                       small_region(4096, 5)) +
        multi_heap_every_op(),
        "every-op-big-first": M.heaps(big_region(100, 2),
                                      small_region(1000)) +
        multi_heap_every_op(),
        "refused-heap": M.heaps(small_region(3000), region(7, 10),
                                small_region(800)) + multi_heap_every_op(),
        "realloc-across-heaps": M.heaps(small_region(400), small_region(4000)) +
        M.alloc(0, size_tiny(60)) + M.alloc(0, size_tiny(8)) +
        M.realloc(block(0), 1, size_mod(1500)) +
        M.realloc(block(1), M.ANY, size_mod(2000)) + u8(M.FILL) + u8(1),
    }


def multi_heap_dict():
    M = MultiHeap
    return {
        "alloc_any": M.alloc(M.ANY, size_tiny(24)),
        "alloc_heap1": M.alloc(1, size_mod(500)),
        "aligned_256": M.aligned(M.ANY, align_pow(8), size_tiny(16)),
        "realloc_grow": M.realloc(block(0), M.ANY, size_pow(10)),
        "free": M.free(block(0)),
        "get_heap": M.get_heap(1, 0),
        "foreign": M.foreign(0x81),
        "fill": u8(M.FILL) + u8(2),
        "four_heaps": u8(3),
    }


# --- output ------------------------------------------------------------------

TARGETS = {
    "fuzz_sys_heap": (sys_heap_seeds, sys_heap_dict),
    "fuzz_kernel_api": (kernel_seeds, kernel_dict),
    "fuzz_misuse": (misuse_seeds, misuse_dict),
    "fuzz_corrupt": (corrupt_seeds, corrupt_dict),
    "fuzz_multi_heap": (multi_heap_seeds, multi_heap_dict),
}


def dict_line(name, data):
    return '%s="%s"\n' % (name, "".join("\\x%02x" % b for b in data))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=os.path.join(here, "..", "corpus"))
    parser.add_argument("--dicts", default=here)
    args = parser.parse_args()
    for target, (seeds, words) in TARGETS.items():
        cdir = os.path.join(args.corpus, target)
        os.makedirs(cdir, exist_ok=True)
        for name, data in seeds().items():
            with open(os.path.join(cdir, "seed-" + name), "wb") as f:
                f.write(data)
        with open(os.path.join(args.dicts, target + ".dict"), "w") as f:
            f.write("# SPDX-License-Identifier: Apache-2.0\n")
            f.write("# libFuzzer dictionary for %s, written by "
                    "fuzz/make_seeds.py:\n# whole operations with typical "
                    "operands.\n" % target)
            for name, data in words().items():
                f.write(dict_line(name, data))
        print("%s: %d seeds, %d dictionary words" %
              (target, len(seeds()), len(words())))


if __name__ == "__main__":
    main()

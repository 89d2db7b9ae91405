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
#: Two ASCII digits per number 0-99, as one little-endian uint16 ("07" -> b"07").
PAIRS = np.array([ord(f"{i:02d}"[0]) | ord(f"{i:02d}"[1]) << 8 for i in range(100)], dtype="<u2")


def round_keys(seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 2]).integers(0, 1 << 32, size=ROUNDS, dtype=np.uint32)


def permute(index: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The Feistel bijection on [0, 2**36) applied to ``index`` (uint64); 32-bit arithmetic."""
    left = (index >> np.uint64(HALF)).astype(np.uint32)
    right = (index & np.uint64(HALF_MASK)).astype(np.uint32)
    for key in keys:
        mixed = right * np.uint32(0x9E3779B1) + key  # wraps modulo 2**32
        mixed ^= mixed >> np.uint32(13)
        mixed *= np.uint32(0x85EBCA6B)
        mixed ^= mixed >> np.uint32(16)
        left, right = right, left ^ (mixed & HALF_MASK)
    return (left.astype(np.uint64) << np.uint64(HALF)) | right


def client_ids(start: int, n: int, keys: np.ndarray) -> pa.Array:
    """Ids of rows ``start .. start+n-1`` as an Arrow string array."""
    value = permute(np.arange(start, start + n, dtype=np.uint64), keys)
    high = (value // np.uint64(1_000_000)).astype(np.uint32)  # 5 digits
    low = (value % np.uint64(1_000_000)).astype(np.uint32)  # 6 digits
    text = np.empty((n, WIDTH // 2), dtype="<u2")
    text[:, 0] = ord("K") | ((high // 10_000 + ord("0")) << 8).astype("<u2")
    rest = high % 10_000
    text[:, 1] = PAIRS[rest // 100]
    text[:, 2] = PAIRS[rest % 100]
    text[:, 3] = PAIRS[low // 10_000]
    text[:, 4] = PAIRS[(low // 100) % 100]
    text[:, 5] = PAIRS[low % 100]
    offsets = np.arange(0, (n + 1) * WIDTH, WIDTH, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))

"""Hashed n-gram features for the injection model, positioned so any span of a text is scored cheaply.

Each feature (a word, a word pair, a 3- or 5-character gram of the lower-cased text) is hashed into
`N_BUCKETS` buckets and remembers the character offset where it starts. A linear model's score for a span
is then the sum of its features' weights over that offset range divided by sqrt(feature count): with a
cumulative sum over the text's features, every sentence, line or window costs O(1) after one pass.
Training uses exactly the same definition (`count / sqrt(total)` per bucket), so scores agree.
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

HASH_BITS = 18
N_BUCKETS = 1 << HASH_BITS
CHAR_GRAMS = (3, 5)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PositionedFeatures:
    """Bucket ids and start offsets (into `text`) of every feature occurrence, sorted by offset."""

    text: str
    buckets: IntArray
    starts: IntArray

    @cached_property
    def whole(self) -> tuple[IntArray, npt.NDArray[np.float32]]:
        """`bag` of these features, computed once (the main model and the suffix detector both read it)."""
        return bag(self)


def _char_gram_buckets(codes: npt.NDArray[np.uint64], n: int) -> IntArray:
    """Multiplicative hash of each n-gram of code points (21 bits each, packed; n <= 5 fits 64 bits)."""
    if len(codes) < n:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(len(codes) - n + 1, dtype=np.uint64)
    for k in range(n):
        packed = (packed << np.uint64(12)) ^ codes[k : len(codes) - n + 1 + k]
    packed = packed * _GOLDEN + np.uint64(n)
    packed = packed * _GOLDEN
    buckets: IntArray = (packed >> np.uint64(64 - HASH_BITS)).astype(np.int64)
    return buckets


def _word_bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (N_BUCKETS - 1)


def normalise_for_features(text: str) -> str:
    """Lower-case, runs of spaces made one, blank lines dropped (offsets then refer to this string)."""
    return _BLANK_LINES.sub("\n", _SPACES.sub(" ", text.lower())).strip()


def positioned_features(text: str) -> PositionedFeatures:
    """All features of an already normalised text with their start offsets."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    bucket_parts: list[IntArray] = []
    start_parts: list[IntArray] = []
    for n in CHAR_GRAMS:
        grams = _char_gram_buckets(codes, n)
        bucket_parts.append(grams)
        start_parts.append(np.arange(len(grams), dtype=np.int64))
    words = [(m.group(0), m.start()) for m in _WORD.finditer(text)]
    word_buckets = [_word_bucket("w " + w) for w, _ in words]
    word_buckets += [_word_bucket(f"b {a} {b}") for (a, _), (b, _) in itertools.pairwise(words)]
    word_starts = [s for _, s in words] + [s for _, s in words[:-1]]
    bucket_parts.append(np.array(word_buckets, dtype=np.int64))
    start_parts.append(np.array(word_starts, dtype=np.int64))
    buckets = np.concatenate(bucket_parts)
    starts = np.concatenate(start_parts)
    order = np.argsort(starts, kind="stable")
    return PositionedFeatures(text=text, buckets=buckets[order], starts=starts[order])


def bag(features: PositionedFeatures) -> tuple[IntArray, npt.NDArray[np.float32]]:
    """The whole text as sparse (bucket, value) pairs: count / sqrt(total occurrences)."""
    if len(features.buckets) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    buckets, counts = np.unique(features.buckets, return_counts=True)
    values = (counts / np.sqrt(len(features.buckets))).astype(np.float32)
    return buckets.astype(np.int64), values

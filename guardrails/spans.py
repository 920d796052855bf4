"""Cutting a ticket into the spans the injection model scores one by one (sentences, lines, quoted lines).

One injected sentence inside a long, friendly email is diluted in the whole-text score; scored on its
own it stands out. Spans are sentences and lines (quote markers dropped), very short ones merged with the
next, plus every pair of neighbours, so an instruction split over two sentences is still seen together.
"""

from __future__ import annotations

import itertools
import re

# A sentence ends at . ! ? (plus closing quotes or brackets) followed by a space, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n")
_LEADING_NOISE = re.compile(r"[\s>|*\-]+")
MIN_SPAN_CHARS = 40
MAX_SPANS = 80


def _segments(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        noise = _LEADING_NOISE.match(text, begin, end)
        if noise:
            begin = noise.end()
        if end > begin:
            trimmed.append((begin, end))
    return trimmed


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences / lines of `text`, short ones merged into the next."""
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for begin, end in _segments(text):
        if pending is not None:
            begin = pending[0]
        if end - begin < MIN_SPAN_CHARS:
            pending = (begin, end)
            continue
        pending = None
        merged.append((begin, end))
    if pending is not None:
        if merged:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged[:MAX_SPANS]


def split_spans(text: str) -> list[tuple[int, int]]:
    """The sentences / lines of `text` and each pair of neighbours.

    Returns nothing for a text of one sentence: the whole-text check already covers it.
    """
    sentences = sentence_spans(text)
    if len(sentences) < 2:
        return []
    pairs = [(a[0], b[1]) for a, b in itertools.pairwise(sentences)]
    return sentences + pairs
